//! Teachers' office hours, in the school's time zone. A message sent
//! outside them is delivered at once, but the teacher is notified only
//! when the hours open, and the sender is told when to expect an answer.

use chrono::{DateTime, Datelike, Duration, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

use crate::{DomainError, DomainResult};

/// One weekly opening: `weekday` from `start` until `end`, local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub weekday: Weekday,
    pub start: NaiveTime,
    pub end: NaiveTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficeHours {
    pub slots: Vec<Slot>,
}

impl Default for OfficeHours {
    /// School days, 07:00 to 15:00.
    fn default() -> Self {
        let at = |h| NaiveTime::from_hms_opt(h, 0, 0).unwrap_or_default();
        let days = [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
        ];
        OfficeHours {
            slots: days
                .into_iter()
                .map(|weekday| Slot {
                    weekday,
                    start: at(7),
                    end: at(15),
                })
                .collect(),
        }
    }
}

impl OfficeHours {
    pub fn new(slots: Vec<Slot>) -> DomainResult<OfficeHours> {
        if let Some(bad) = slots.iter().find(|s| s.start >= s.end) {
            return Err(DomainError::invalid(
                "hours",
                format!("on {} the hours must end after they start", bad.weekday),
            ));
        }
        Ok(OfficeHours { slots })
    }

    pub fn is_open(&self, at: DateTime<Utc>, tz: Tz) -> bool {
        let local = at.with_timezone(&tz);
        let time = local.time();
        self.slots
            .iter()
            .any(|s| s.weekday == local.weekday() && s.start <= time && time < s.end)
    }

    /// `at` itself when open; otherwise the next opening within a week.
    pub fn next_open(&self, at: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
        if self.is_open(at, tz) {
            return Some(at);
        }
        let local = at.with_timezone(&tz);
        (0..=7)
            .flat_map(|days| {
                let date = local.date_naive() + Duration::days(days);
                self.slots
                    .iter()
                    .filter(move |s| s.weekday == date.weekday())
                    .map(move |s| date.and_time(s.start))
            })
            .filter_map(|naive| tz.from_local_datetime(&naive).earliest())
            .map(|t| t.with_timezone(&Utc))
            .filter(|t| *t > at)
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().expect("instant")
    }

    const JAKARTA: Tz = chrono_tz::Asia::Jakarta;

    #[test]
    fn friday_evening_in_batam_waits_for_monday_seven_oclock() {
        let hours = OfficeHours::default();
        // Friday 4 December 2026, 19:00 WIB.
        let friday_evening = utc("2026-12-04T12:00:00Z");
        assert!(!hours.is_open(friday_evening, JAKARTA));
        assert_eq!(
            hours.next_open(friday_evening, JAKARTA),
            Some(utc("2026-12-07T00:00:00Z"))
        );
    }

    #[test]
    fn a_message_during_the_hours_needs_no_waiting() {
        let hours = OfficeHours::default();
        let tuesday_nine = utc("2026-12-08T02:00:00Z");
        assert_eq!(hours.next_open(tuesday_nine, JAKARTA), Some(tuesday_nine));
    }

    #[test]
    fn hours_that_end_before_they_start_are_refused() {
        let at = |h| NaiveTime::from_hms_opt(h, 0, 0).expect("time");
        let slot = Slot {
            weekday: Weekday::Sat,
            start: at(12),
            end: at(9),
        };
        assert!(OfficeHours::new(vec![slot]).is_err());
    }

    #[test]
    fn no_hours_at_all_means_no_opening() {
        let none = OfficeHours { slots: vec![] };
        assert_eq!(none.next_open(utc("2026-12-08T02:00:00Z"), JAKARTA), None);
    }
}

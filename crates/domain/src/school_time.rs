//! School time: instants are kept in UTC, but days, months, due dates and
//! office hours belong to the school's time zone (Asia/Jakarta in Batam).

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

/// The school's clock. Everything that asks "which day is it" goes
/// through here, so the server's own time zone never matters.
#[derive(Debug, Clone, Copy)]
pub struct SchoolClock {
    pub tz: Tz,
}

impl SchoolClock {
    pub fn new(tz: Tz) -> Self {
        Self { tz }
    }

    /// The school's calendar date at an instant.
    pub fn date_of(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.tz).date_naive()
    }

    /// The first instant of a school day, in UTC.
    pub fn start_of_day(&self, date: NaiveDate) -> DateTime<Utc> {
        let midnight = date.and_hms_opt(0, 0, 0).unwrap_or_default();
        self.tz
            .from_local_datetime(&midnight)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| Utc.from_utc_datetime(&midnight))
    }

    /// `[from, to]` as school dates, turned into a half-open UTC range.
    pub fn range_of_days(&self, from: NaiveDate, to: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
        let end = to.succ_opt().unwrap_or(to);
        (self.start_of_day(from), self.start_of_day(end))
    }

    /// The academic year that a date falls in: July to June, as "2026/2027".
    pub fn academic_year(&self, date: NaiveDate) -> String {
        let start = if date.month() >= 7 {
            date.year()
        } else {
            date.year() - 1
        };
        format!("{start}/{}", start + 1)
    }
}

/// Drops sub-microsecond precision so that an instant reads back equal
/// from PostgreSQL (microseconds) and SQLite (text).
pub fn truncate_to_micros(at: DateTime<Utc>) -> DateTime<Utc> {
    let micros = at.timestamp_micros();
    DateTime::from_timestamp_micros(micros).unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jakarta() -> SchoolClock {
        SchoolClock::new(chrono_tz::Asia::Jakarta)
    }

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().expect("test instant parses")
    }

    #[test]
    fn half_past_six_in_the_morning_in_jakarta_is_the_same_day() {
        let date = jakarta().date_of(utc("2026-03-09T23:30:00Z"));
        assert_eq!(date, NaiveDate::from_ymd_opt(2026, 3, 10).expect("date"));
    }

    #[test]
    fn a_jakarta_day_starts_at_five_pm_utc_the_day_before() {
        let day = NaiveDate::from_ymd_opt(2026, 4, 2).expect("date");
        assert_eq!(jakarta().start_of_day(day), utc("2026-04-01T17:00:00Z"));
    }

    #[test]
    fn the_academic_year_turns_in_july() {
        let clock = jakarta();
        let june = NaiveDate::from_ymd_opt(2026, 6, 30).expect("date");
        let july = NaiveDate::from_ymd_opt(2026, 7, 1).expect("date");
        assert_eq!(clock.academic_year(june), "2025/2026");
        assert_eq!(clock.academic_year(july), "2026/2027");
    }
}

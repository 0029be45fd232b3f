//! When the seeded year's events happen: instants in school time
//! (Asia/Jakarta) over the twelve months before the run, all of them
//! already past, and a small seeded generator that decides them, so
//! every run seeds a year of the same shape.

use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, Utc};
use scrm_domain::school_time::SchoolClock;

/// "Now" when seeding started, and the school's clock.
#[derive(Debug, Clone, Copy)]
pub struct Calendar {
    pub now: DateTime<Utc>,
    pub today: NaiveDate,
    clock: SchoolClock,
}

impl Calendar {
    pub fn new(clock: SchoolClock, now: DateTime<Utc>) -> Calendar {
        Calendar {
            now,
            today: clock.date_of(now),
            clock,
        }
    }

    /// The first day the year's report covers: today, a year ago.
    pub fn year_ago(&self) -> NaiveDate {
        self.today
            .checked_sub_months(Months::new(12))
            .unwrap_or(self.today)
    }

    /// The first day of the month `back` months before this one.
    pub fn month_start(&self, back: u32) -> NaiveDate {
        let first = self.today.with_day(1).unwrap_or(self.today);
        first.checked_sub_months(Months::new(back)).unwrap_or(first)
    }

    /// The last whole month: its first and last day.
    pub fn last_month(&self) -> (NaiveDate, NaiveDate) {
        let first = self.month_start(1);
        let last = self.month_start(0).pred_opt().unwrap_or(first);
        (first, last)
    }

    /// School time `minutes` after midnight of `date`.
    pub fn at(&self, date: NaiveDate, minutes: i64) -> DateTime<Utc> {
        self.clock.start_of_day(date) + Duration::minutes(minutes)
    }

    /// An instant between `hours.0` and `hours.1` o'clock on one of the
    /// 364 days before today, to the second.
    pub fn some_day(&self, dice: &mut Dice, hours: (i64, i64)) -> DateTime<Utc> {
        let date = self.today - Duration::days(dice.range(1, 364));
        self.some_time(dice, date, hours)
    }

    /// An instant between `hours.0` and `hours.1` o'clock of `date`.
    pub fn some_time(&self, dice: &mut Dice, date: NaiveDate, hours: (i64, i64)) -> DateTime<Utc> {
        let second = dice.range(hours.0 * 3_600, hours.1 * 3_600 - 1);
        self.clock.start_of_day(date) + Duration::seconds(second)
    }

    /// `at`, if it had already happened when seeding started.
    pub fn past(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        (at < self.now).then_some(at)
    }

    /// The academic year of today, which the roster was imported into.
    pub fn academic_year(&self) -> String {
        self.clock.academic_year(self.today)
    }

    pub fn date_of(&self, at: DateTime<Utc>) -> NaiveDate {
        self.clock.date_of(at)
    }

    /// The school month of an instant, "YYYY-MM" as ratings name it.
    pub fn month_of(&self, at: DateTime<Utc>) -> String {
        month_name(self.date_of(at))
    }
}

pub fn month_name(date: NaiveDate) -> String {
    date.format("%Y-%m").to_string()
}

/// A seeded generator (SplitMix64). Each planned item draws from a
/// stream of its own, so the order in which concurrent writes finish
/// cannot change the plan.
#[derive(Debug, Clone)]
pub struct Dice(u64);

impl Dice {
    /// The stream of item `n` of the part of the year named `part`.
    pub fn new(part: u64, n: usize) -> Dice {
        let mut dice = Dice(part.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ n as u64);
        dice.next();
        dice
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A whole number in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        let span = (hi - lo).max(0) as u64 + 1;
        lo + (self.next() % span) as i64
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.next() as usize % items.len()]
    }

    /// A copy of one of `items`.
    pub fn one_of<T: Copy>(&mut self, items: &[T]) -> T {
        *self.pick(items)
    }

    /// A value from `(weight, value)` pairs, by weight.
    pub fn weighted<T: Copy>(&mut self, table: &[(u32, T)]) -> T {
        let total: u32 = table.iter().map(|(w, _)| w).sum();
        let mut roll = (self.next() % u64::from(total.max(1))) as u32;
        for (weight, value) in table {
            if roll < *weight {
                return *value;
            }
            roll -= weight;
        }
        table[table.len() - 1].1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_stream_draws_the_same_numbers() {
        let (mut a, mut b) = (Dice::new(3, 7), Dice::new(3, 7));
        let drawn: Vec<i64> = (0..5).map(|_| a.range(1, 6)).collect();
        assert_eq!(drawn, (0..5).map(|_| b.range(1, 6)).collect::<Vec<_>>());
        assert!(drawn.iter().all(|d| (1..=6).contains(d)));
        assert_ne!(Dice::new(3, 8).next(), Dice::new(3, 7).next());
    }

    #[test]
    fn every_planned_day_falls_inside_the_year() {
        // The configured zone, Asia/Jakarta.
        let zone = scrm_api::config::Config::for_tests("sqlite::memory:", None).school_timezone;
        let clock = SchoolClock::new(zone);
        let now: DateTime<Utc> = "2028-03-01T02:00:00Z".parse().expect("instant");
        let cal = Calendar::new(clock, now);
        let mut dice = Dice::new(1, 0);
        for _ in 0..1_000 {
            let at = cal.some_day(&mut dice, (6, 21));
            assert!(cal.date_of(at) >= cal.year_ago() && at < now);
        }
        assert_eq!(cal.last_month().0.to_string(), "2028-02-01");
        assert_eq!(cal.last_month().1.to_string(), "2028-02-29");
    }
}

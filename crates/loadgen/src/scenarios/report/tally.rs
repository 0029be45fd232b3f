//! What the seeded year must add to the report, kept while it is
//! written: for each school month, the numerator and denominator every
//! figure gains, by the figure's own rule (an announcement's reads count
//! in the month it was published, a rating in its period, a support
//! request's answer in the month it was opened).

use std::collections::{BTreeMap, HashMap, HashSet};

use uuid::Uuid;

use super::flags::Raised;

/// (numerator, denominator) of one figure.
pub type Pair = (i64, i64);

#[derive(Debug, Default)]
pub struct Tally {
    /// What each figure gains, by month ("YYYY-MM") and figure key.
    figures: BTreeMap<String, BTreeMap<&'static str, Pair>>,
    /// Minutes to the first answer of each answered support request, by
    /// the month it was opened.
    minutes: BTreeMap<String, Vec<i64>>,
    /// (ratings, sum of scores) of each service over the year.
    pub services: HashMap<Uuid, Pair>,
    /// People who sent a message or read an announcement.
    pub active: HashSet<Uuid>,
    /// Accounts the seeding created.
    pub users_added: i64,
    /// What was written, for the note: ("invoices", 1008), …
    pub written: BTreeMap<&'static str, i64>,
    /// Complaint flags raised, to be resolved once all are written.
    pub raised: Vec<Raised>,
}

impl Tally {
    pub fn add(&mut self, month: String, key: &'static str, numerator: i64, denominator: i64) {
        let pair = self
            .figures
            .entry(month)
            .or_default()
            .entry(key)
            .or_default();
        pair.0 += numerator;
        pair.1 += denominator;
    }

    pub fn answered(&mut self, month: String, minutes: i64) {
        self.minutes.entry(month).or_default().push(minutes);
    }

    pub fn count(&mut self, what: &'static str, n: i64) {
        *self.written.entry(what).or_default() += n;
    }

    pub fn merge(&mut self, other: Tally) {
        for (month, figures) in other.figures {
            for (key, (n, d)) in figures {
                self.add(month.clone(), key, n, d);
            }
        }
        for (month, minutes) in other.minutes {
            self.minutes.entry(month).or_default().extend(minutes);
        }
        for (service, (n, sum)) in other.services {
            let mine = self.services.entry(service).or_default();
            mine.0 += n;
            mine.1 += sum;
        }
        self.active.extend(other.active);
        self.users_added += other.users_added;
        for (what, n) in other.written {
            self.count(what, n);
        }
        self.raised.extend(other.raised);
    }

    /// One figure over the months `first..=last` ("YYYY-MM").
    pub fn figure(&self, key: &str, first: &str, last: &str) -> Pair {
        self.months(first, last)
            .filter_map(|(_, figures)| figures.get(key))
            .fold((0, 0), |acc, p| (acc.0 + p.0, acc.1 + p.1))
    }

    /// The median first answer over the months (the lower middle value,
    /// as the report takes it), with how many requests were answered.
    pub fn median_minutes(&self, first: &str, last: &str) -> (Option<i64>, i64) {
        let mut all: Vec<i64> = self
            .minutes
            .range(first.to_owned()..=last.to_owned())
            .flat_map(|(_, m)| m.iter().copied())
            .collect();
        all.sort_unstable();
        let median = (!all.is_empty()).then(|| all[(all.len() - 1) / 2]);
        (median, all.len() as i64)
    }

    fn months<'a>(
        &'a self,
        first: &str,
        last: &str,
    ) -> impl Iterator<Item = (&'a String, &'a BTreeMap<&'static str, Pair>)> {
        self.figures.range(first.to_owned()..=last.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_add_up_over_the_months_asked() {
        let mut a = Tally::default();
        a.add("2027-01".into(), "averageRating", 4, 1);
        let mut b = Tally::default();
        b.add("2027-02".into(), "averageRating", 2, 1);
        b.answered("2027-02".into(), 30);
        b.answered("2027-02".into(), 10);
        a.merge(b);
        assert_eq!(a.figure("averageRating", "2027-01", "2027-12"), (6, 2));
        assert_eq!(a.figure("averageRating", "2027-02", "2027-02"), (2, 1));
        assert_eq!(a.median_minutes("2027-01", "2027-02"), (Some(10), 2));
    }
}

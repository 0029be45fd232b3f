//! The service performance report: the founding study's five
//! indicators, computed from facts the product already holds. The
//! figures are pure functions of those facts, so the test can work them
//! out by hand.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::rating::RecommendCounts;

/// A support request answered within this many minutes counts as on time.
pub const RESPONSE_TARGET_MINUTES: i64 = 4 * 60;
/// A support request resolved within this many hours counts as on time.
pub const RESOLUTION_TARGET_HOURS: i64 = 72;

/// Everything the report reads, for one date range.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// Family: when it was created and, if so, activated.
    pub families: Vec<(DateTime<Utc>, Option<DateTime<Utc>>)>,
    pub guardians: i64,
    pub guardians_with_contact: i64,
    pub users: i64,
    pub announcements: Vec<AnnouncementFact>,
    /// (thread kind, sent at, sender) of every message in the range.
    pub messages: Vec<(String, DateTime<Utc>, Uuid)>,
    /// (reader, read at) of announcement reads in the range.
    pub reads: Vec<(Uuid, DateTime<Utc>)>,
    pub support: Vec<SupportFact>,
    /// (provider, settled at).
    pub payments: Vec<(String, DateTime<Utc>)>,
    /// (service, month "YYYY-MM", score).
    pub ratings: Vec<(Uuid, String, u8)>,
    /// (rated at, score) of satisfaction with support requests.
    pub satisfaction: Vec<(DateTime<Utc>, u8)>,
    /// (flagged at, resolved at).
    pub complaints: Vec<(DateTime<Utc>, Option<DateTime<Utc>>)>,
    /// (answered at, 0–10).
    pub recommend: Vec<(DateTime<Utc>, u8)>,
}

#[derive(Debug, Clone)]
pub struct AnnouncementFact {
    pub published_at: DateTime<Utc>,
    pub targeted: bool,
    pub addressed: i64,
    pub read: i64,
}

#[derive(Debug, Clone)]
pub struct SupportFact {
    pub opened_at: DateTime<Utc>,
    pub first_response_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
}

/// One figure: `value` is `numerator / denominator` unless the
/// definition says otherwise; `None` when there is nothing to measure.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub key: &'static str,
    pub definition: &'static str,
    pub numerator: i64,
    pub denominator: i64,
    pub value: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Indicator {
    pub key: &'static str,
    pub figures: Vec<Figure>,
}

/// A half-open slice of time: [from, to).
#[derive(Debug, Clone, Copy)]
pub struct Slice {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// The rating months ("YYYY-MM") the slice covers.
    pub first_month: (i32, u32),
    pub last_month: (i32, u32),
}

impl Slice {
    fn holds(&self, at: DateTime<Utc>) -> bool {
        self.from <= at && at < self.to
    }

    fn holds_month(&self, month: &str) -> bool {
        let Some((y, m)) = month.split_once('-') else {
            return false;
        };
        let (Ok(y), Ok(m)) = (y.parse::<i32>(), m.parse::<u32>()) else {
            return false;
        };
        self.first_month <= (y, m) && (y, m) <= self.last_month
    }
}

fn ratio(key: &'static str, definition: &'static str, numerator: i64, denominator: i64) -> Figure {
    let value = (denominator > 0).then(|| numerator as f64 / denominator as f64);
    Figure {
        key,
        definition,
        numerator,
        denominator,
        value,
    }
}

/// The five indicators over one slice.
pub fn indicators(f: &Facts, s: &Slice) -> Vec<Indicator> {
    vec![
        Indicator {
            key: "IDENTIFICATION",
            figures: identification(f, s),
        },
        Indicator {
            key: "INDIVIDUALIZATION",
            figures: individualization(f, s),
        },
        Indicator {
            key: "INTERACTION",
            figures: interaction(f, s),
        },
        Indicator {
            key: "INTEGRATION",
            figures: integration(f, s),
        },
        Indicator {
            key: "INTEGRITY",
            figures: integrity(f, s),
        },
    ]
}

fn identification(f: &Facts, s: &Slice) -> Vec<Figure> {
    let existing: Vec<_> = f
        .families
        .iter()
        .filter(|(created, _)| *created < s.to)
        .collect();
    let activated = existing
        .iter()
        .filter(|(_, a)| a.is_some_and(|a| a < s.to))
        .count() as i64;
    vec![
        ratio(
            "familiesActivated",
            "Families with an activated account, of all families, at the end of the range.",
            activated,
            existing.len() as i64,
        ),
        ratio(
            "guardiansWithContact",
            "Guardians with a phone or e-mail on file, of all guardians (today).",
            f.guardians_with_contact,
            f.guardians,
        ),
    ]
}

fn individualization(f: &Facts, s: &Slice) -> Vec<Figure> {
    let published: Vec<_> = f
        .announcements
        .iter()
        .filter(|a| s.holds(a.published_at))
        .collect();
    let targeted = published.iter().filter(|a| a.targeted).count() as i64;
    let messages: Vec<_> = f.messages.iter().filter(|m| s.holds(m.1)).collect();
    let personal = messages
        .iter()
        .filter(|m| matches!(m.0.as_str(), "DIRECT" | "GROUP" | "SUPPORT"))
        .count() as i64;
    vec![
        ratio(
            "targetedAnnouncements",
            "Announcements sent to an audience narrower than the whole school, of all published.",
            targeted,
            published.len() as i64,
        ),
        ratio(
            "personalMessages",
            "Messages in direct, group and support threads, of all messages.",
            personal,
            messages.len() as i64,
        ),
    ]
}

fn interaction(f: &Facts, s: &Slice) -> Vec<Figure> {
    let opened: Vec<_> = f.support.iter().filter(|r| s.holds(r.opened_at)).collect();
    let mut minutes: Vec<i64> = opened
        .iter()
        .filter_map(|r| {
            r.first_response_at
                .map(|at| (at - r.opened_at).num_minutes())
        })
        .collect();
    minutes.sort_unstable();
    let on_time = minutes
        .iter()
        .filter(|m| **m <= RESPONSE_TARGET_MINUTES)
        .count() as i64;
    let median = median(&minutes);
    let announced: Vec<_> = f
        .announcements
        .iter()
        .filter(|a| s.holds(a.published_at))
        .collect();
    let addressed: i64 = announced.iter().map(|a| a.addressed).sum();
    let read: i64 = announced.iter().map(|a| a.read).sum();
    let mut active: Vec<Uuid> = f
        .messages
        .iter()
        .filter(|m| s.holds(m.1))
        .map(|m| m.2)
        .collect();
    active.extend(f.reads.iter().filter(|r| s.holds(r.1)).map(|r| r.0));
    active.sort();
    active.dedup();
    vec![
        Figure {
            key: "messages",
            definition: "Messages sent in all threads (a count: the numerator).",
            numerator: f.messages.iter().filter(|m| s.holds(m.1)).count() as i64,
            denominator: 1,
            value: Some(f.messages.iter().filter(|m| s.holds(m.1)).count() as f64),
        },
        Figure {
            key: "medianFirstResponseMinutes",
            definition: "Median minutes from a support request to the school's first answer (numerator), over the answered requests (denominator).",
            numerator: median.unwrap_or(0),
            denominator: minutes.len() as i64,
            value: median.map(|m| m as f64),
        },
        ratio(
            "answeredWithinTarget",
            "Support requests answered within 4 hours, of requests opened.",
            on_time,
            opened.len() as i64,
        ),
        ratio(
            "announcementReadRate",
            "Reads of announcements published in the range, of people addressed.",
            read,
            addressed,
        ),
        ratio(
            "activeUsers",
            "People who sent a message or read an announcement, of all users.",
            active.len() as i64,
            f.users,
        ),
    ]
}

fn integration(f: &Facts, s: &Slice) -> Vec<Figure> {
    let settled: Vec<_> = f.payments.iter().filter(|p| s.holds(p.1)).collect();
    let digital = settled.iter().filter(|p| p.0 != "BANK_TRANSFER").count() as i64;
    let requests = f.support.iter().filter(|r| s.holds(r.opened_at)).count() as i64;
    vec![
        ratio(
            "digitalPayments",
            "Payments settled through an online provider, of all settled payments.",
            digital,
            settled.len() as i64,
        ),
        Figure {
            key: "requestsInApp",
            definition: "Support requests opened in the app (a count: the numerator).",
            numerator: requests,
            denominator: 1,
            value: Some(requests as f64),
        },
    ]
}

fn integrity(f: &Facts, s: &Slice) -> Vec<Figure> {
    let opened: Vec<_> = f.support.iter().filter(|r| s.holds(r.opened_at)).collect();
    let target = chrono::Duration::hours(RESOLUTION_TARGET_HOURS);
    let resolved_on_time = opened
        .iter()
        .filter(|r| r.resolved_at.is_some_and(|at| at - r.opened_at <= target))
        .count() as i64;
    let scores: Vec<i64> = f
        .ratings
        .iter()
        .filter(|r| s.holds_month(&r.1))
        .map(|r| i64::from(r.2))
        .collect();
    let satisfaction: Vec<i64> = f
        .satisfaction
        .iter()
        .filter(|r| s.holds(r.0))
        .map(|r| i64::from(r.1))
        .collect();
    let flagged: Vec<_> = f.complaints.iter().filter(|c| s.holds(c.0)).collect();
    let resolved = flagged.iter().filter(|c| c.1.is_some()).count() as i64;
    let recommend = RecommendCounts::of(f.recommend.iter().filter(|r| s.holds(r.0)).map(|r| r.1));
    vec![
        ratio(
            "resolvedWithinTarget",
            "Support requests resolved within 72 hours, of requests opened.",
            resolved_on_time,
            opened.len() as i64,
        ),
        ratio(
            "averageRating",
            "Sum of service ratings (1–5) over their number: the average.",
            scores.iter().sum(),
            scores.len() as i64,
        ),
        ratio(
            "averageSatisfaction",
            "Sum of satisfaction ratings (1–5) of resolved requests over their number.",
            satisfaction.iter().sum(),
            satisfaction.len() as i64,
        ),
        ratio(
            "complaintsResolved",
            "Complaints flagged in the range that staff resolved, of all flagged.",
            resolved,
            flagged.len() as i64,
        ),
        Figure {
            key: "recommendScore",
            definition: "Promoters (9–10) minus detractors (0–6) (numerator), in percent of all answers (denominator).",
            numerator: recommend.promoters - recommend.detractors,
            denominator: recommend.total(),
            value: recommend.score(),
        },
    ]
}

/// The average rating of each service over a slice: (service, sum, count).
pub fn ratings_by_service(f: &Facts, s: &Slice) -> Vec<(Uuid, i64, i64)> {
    let mut out: Vec<(Uuid, i64, i64)> = vec![];
    for (service, month, score) in f.ratings.iter().filter(|r| s.holds_month(&r.1)) {
        match out.iter_mut().find(|o| o.0 == *service) {
            Some(o) => {
                o.1 += i64::from(*score);
                o.2 += 1;
            }
            None => out.push((*service, i64::from(*score), 1)),
        }
        let _ = month;
    }
    out
}

/// The middle value; the lower of the two middle ones for an even count.
fn median(sorted: &[i64]) -> Option<i64> {
    (!sorted.is_empty()).then(|| sorted[(sorted.len() - 1) / 2])
}

#[cfg(test)]
mod tests;

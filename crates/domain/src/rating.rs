//! Ratings of the school's services, satisfaction with requests, and
//! the would-you-recommend score.

use crate::role::Role;
use crate::{DomainError, DomainResult};

/// Aggregates are shown to non-staff only from this many raters, so that
/// nobody's rating can be singled out.
pub const MIN_RATERS_FOR_AGGREGATE: i64 = 5;
pub const MAX_COMMENT_CHARS: usize = 1_000;

/// Stakeholders rate; the school's own staff, who run the services, do not.
pub fn may_rate(roles: &[Role]) -> bool {
    roles
        .iter()
        .any(|r| matches!(r, Role::Parent | Role::Student | Role::Teacher))
}

pub fn check_score(score: i32) -> DomainResult<u8> {
    u8::try_from(score)
        .ok()
        .filter(|s| (1..=5).contains(s))
        .ok_or_else(|| DomainError::invalid("score", "a rating is a whole number from 1 to 5"))
}

pub fn check_recommend_score(score: i32) -> DomainResult<u8> {
    u8::try_from(score)
        .ok()
        .filter(|s| *s <= 10)
        .ok_or_else(|| {
            DomainError::invalid("score", "a recommend score is a whole number from 0 to 10")
        })
}

pub fn check_comment(comment: Option<&str>) -> DomainResult<()> {
    if comment.is_some_and(|c| c.chars().count() > MAX_COMMENT_CHARS) {
        return Err(DomainError::invalid(
            "comment",
            format!("a comment has at most {MAX_COMMENT_CHARS} characters"),
        ));
    }
    Ok(())
}

/// Promoters (9–10), passives (7–8) and detractors (0–6).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecommendCounts {
    pub promoters: i64,
    pub passives: i64,
    pub detractors: i64,
}

impl RecommendCounts {
    pub fn of(scores: impl IntoIterator<Item = u8>) -> RecommendCounts {
        let mut c = RecommendCounts::default();
        for s in scores {
            match s {
                9..=10 => c.promoters += 1,
                7..=8 => c.passives += 1,
                _ => c.detractors += 1,
            }
        }
        c
    }

    pub fn total(&self) -> i64 {
        self.promoters + self.passives + self.detractors
    }

    /// Promoters minus detractors, in percent of all answers; `None`
    /// without answers.
    pub fn score(&self) -> Option<f64> {
        let n = self.total();
        (n > 0).then(|| (self.promoters - self.detractors) as f64 * 100.0 / n as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_recommend_score_is_promoters_minus_detractors_in_percent() {
        let c = RecommendCounts::of([10, 9, 9, 8, 7, 6, 3, 0, 10, 10]);
        assert_eq!((c.promoters, c.passives, c.detractors), (5, 2, 3));
        assert_eq!(c.score(), Some(20.0));
        assert_eq!(RecommendCounts::default().score(), None);
    }

    #[test]
    fn scores_out_of_range_are_refused() {
        assert!(check_score(0).is_err());
        assert!(check_score(6).is_err());
        assert_eq!(check_score(4).ok(), Some(4));
        assert!(check_recommend_score(11).is_err());
        assert!(check_recommend_score(0).is_ok());
    }

    #[test]
    fn staff_do_not_rate_the_services_they_run() {
        assert!(may_rate(&[Role::Parent]));
        assert!(may_rate(&[Role::Teacher, Role::Parent]));
        assert!(!may_rate(&[Role::Staff]));
        assert!(!may_rate(&[Role::Admin]));
    }
}

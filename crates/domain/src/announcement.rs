//! Announcements: what makes one valid before it is stored.

use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};

use crate::audience::Audience;
use crate::{DomainError, DomainResult};

pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_BODY_CHARS: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Category {
    General,
    Academic,
    Event,
    Finance,
    Health,
    Safety,
    Holiday,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Urgency {
    Normal,
    Important,
    /// Overrides quiet hours once push notifications exist.
    Urgent,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::General => "GENERAL",
            Category::Academic => "ACADEMIC",
            Category::Event => "EVENT",
            Category::Finance => "FINANCE",
            Category::Health => "HEALTH",
            Category::Safety => "SAFETY",
            Category::Holiday => "HOLIDAY",
        }
    }
}

impl Urgency {
    pub fn as_str(self) -> &'static str {
        match self {
            Urgency::Normal => "NORMAL",
            Urgency::Important => "IMPORTANT",
            Urgency::Urgent => "URGENT",
        }
    }
}

/// A draft as the author wrote it, before it has an id.
#[derive(Debug, Clone)]
pub struct Draft {
    pub title: String,
    pub body: String,
    pub category: Category,
    pub urgency: Urgency,
    pub audience: Audience,
    /// When readers first see it; `None` means now.
    pub publish_at: Option<DateTime<Utc>>,
    /// After this instant it leaves the feeds.
    pub expires_at: Option<DateTime<Utc>>,
    pub requires_ack: bool,
}

impl Draft {
    /// Checks the draft and trims its text. `now` is passed in so the
    /// rule can be tested without a clock.
    pub fn validate(mut self, now: DateTime<Utc>) -> DomainResult<Draft> {
        self.title = self.title.trim().to_owned();
        self.body = self.body.trim().to_owned();
        check_length("title", &self.title, MAX_TITLE_CHARS)?;
        check_length("body", &self.body, MAX_BODY_CHARS)?;
        self.audience.validate()?;
        let sane = |at: &DateTime<Utc>| (2000..=2100).contains(&at.year());
        if !self
            .publish_at
            .iter()
            .chain(self.expires_at.iter())
            .all(sane)
        {
            return Err(DomainError::invalid(
                "publishAt",
                "times must fall between the years 2000 and 2100",
            ));
        }
        let publish_at = self.publish_at.unwrap_or(now);
        if self
            .expires_at
            .is_some_and(|expires_at| expires_at <= publish_at)
        {
            return Err(DomainError::invalid(
                "expiresAt",
                "the expiry must come after the publication time",
            ));
        }
        Ok(self)
    }
}

fn check_length(field: &str, text: &str, max: usize) -> DomainResult<()> {
    let chars = text.chars().count();
    if chars == 0 {
        return Err(DomainError::invalid(
            field,
            format!("{field} must not be empty"),
        ));
    }
    if chars > max {
        return Err(DomainError::invalid(
            field,
            format!("{field} is {chars} characters long; the limit is {max}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> Draft {
        Draft {
            title: "  Libur Nasional ".into(),
            body: "Sekolah libur pada hari Senin.".into(),
            category: Category::Holiday,
            urgency: Urgency::Normal,
            audience: Audience {
                everyone: true,
                ..Audience::default()
            },
            publish_at: None,
            expires_at: None,
            requires_ack: false,
        }
    }

    #[test]
    fn a_valid_draft_has_its_title_trimmed() {
        let ok = draft().validate(Utc::now()).expect("valid");
        assert_eq!(ok.title, "Libur Nasional");
    }

    #[test]
    fn an_expiry_before_publication_is_refused() {
        let now = Utc::now();
        let mut d = draft();
        d.expires_at = Some(now - chrono::Duration::hours(1));
        let err = d.validate(now).unwrap_err();
        assert!(matches!(err, DomainError::Invalid { field, .. } if field == "expiresAt"));
    }

    #[test]
    fn a_time_in_the_year_ten_thousand_is_refused() {
        let mut d = draft();
        d.publish_at = "+10000-01-01T00:00:00Z".parse().ok();
        assert!(d.publish_at.is_some());
        assert!(d.validate(Utc::now()).is_err());
    }

    #[test]
    fn an_overlong_title_is_refused_with_its_length() {
        let mut d = draft();
        d.title = "a".repeat(MAX_TITLE_CHARS + 1);
        let err = d.validate(Utc::now()).unwrap_err();
        assert!(err.to_string().contains("201"));
    }
}

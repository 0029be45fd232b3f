//! Who an announcement is addressed to. An audience is a union of
//! selectors; the persistence layer resolves it to people when the
//! announcement is published.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::role::Role;
use crate::{DomainError, DomainResult};

/// A union: a person is addressed when any selector matches them.
///
/// Grades and classes reach the students of those classes, their
/// guardians and the classes' teachers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Audience {
    pub everyone: bool,
    pub roles: Vec<Role>,
    pub grades: Vec<u8>,
    pub class_ids: Vec<Uuid>,
    pub group_ids: Vec<Uuid>,
    pub user_ids: Vec<Uuid>,
}

impl Audience {
    pub fn is_empty(&self) -> bool {
        !self.everyone
            && self.roles.is_empty()
            && self.grades.is_empty()
            && self.class_ids.is_empty()
            && self.group_ids.is_empty()
            && self.user_ids.is_empty()
    }

    /// True when the audience names nothing but classes: the only kind a
    /// teacher may address.
    pub fn is_only_classes(&self) -> bool {
        !self.class_ids.is_empty()
            && !self.everyone
            && self.roles.is_empty()
            && self.grades.is_empty()
            && self.group_ids.is_empty()
            && self.user_ids.is_empty()
    }

    /// A targeted audience is anything narrower than the whole school.
    pub fn is_targeted(&self) -> bool {
        !self.everyone
    }

    pub fn validate(&self) -> DomainResult<()> {
        if self.is_empty() {
            return Err(DomainError::invalid(
                "audience",
                "choose at least one audience: everyone, roles, grades, classes, groups or people",
            ));
        }
        if let Some(g) = self.grades.iter().find(|g| !(1..=12).contains(*g)) {
            return Err(DomainError::invalid(
                "audience.grades",
                format!("grade {g} does not exist; grades run from 1 to 12"),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_audience_is_refused() {
        let err = Audience::default().validate().unwrap_err();
        assert!(matches!(err, DomainError::Invalid { field, .. } if field == "audience"));
    }

    #[test]
    fn grade_thirteen_is_refused() {
        let audience = Audience {
            grades: vec![13],
            ..Audience::default()
        };
        assert!(audience.validate().is_err());
    }

    #[test]
    fn only_a_class_list_counts_as_only_classes() {
        let mut audience = Audience {
            class_ids: vec![Uuid::nil()],
            ..Audience::default()
        };
        assert!(audience.is_only_classes());
        audience.grades.push(7);
        assert!(!audience.is_only_classes());
    }
}

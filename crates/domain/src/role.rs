//! Roles and staff departments. A person holds a set of roles: a teacher
//! whose child attends the school is both `Teacher` and `Parent`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Role {
    Admin,
    Staff,
    Teacher,
    Parent,
    Student,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Staff,
        Role::Teacher,
        Role::Parent,
        Role::Student,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "ADMIN",
            Role::Staff => "STAFF",
            Role::Teacher => "TEACHER",
            Role::Parent => "PARENT",
            Role::Student => "STUDENT",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| format!("unknown role {s:?}"))
    }
}

/// Departments gate the tools of staff members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Department {
    Finance,
    Admissions,
    Support,
    PublicRelations,
}

impl Department {
    pub const ALL: [Department; 4] = [
        Department::Finance,
        Department::Admissions,
        Department::Support,
        Department::PublicRelations,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Department::Finance => "FINANCE",
            Department::Admissions => "ADMISSIONS",
            Department::Support => "SUPPORT",
            Department::PublicRelations => "PUBLIC_RELATIONS",
        }
    }
}

impl FromStr for Department {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Department::ALL
            .into_iter()
            .find(|d| d.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| format!("unknown department {s:?}"))
    }
}

/// Stores a set of roles (or departments) as one comma-separated column.
pub fn join_set<T: Copy>(items: &[T], name: impl Fn(T) -> &'static str) -> String {
    items.iter().map(|i| name(*i)).collect::<Vec<_>>().join(",")
}

/// Reads back what [`join_set`] wrote; unknown names are dropped.
pub fn split_set<T: FromStr>(stored: &str) -> Vec<T> {
    stored
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .filter_map(|s| s.parse().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_set_survives_a_round_trip_through_its_column() {
        let stored = join_set(&[Role::Teacher, Role::Parent], Role::as_str);
        assert_eq!(stored, "TEACHER,PARENT");
        assert_eq!(
            split_set::<Role>(&stored),
            vec![Role::Teacher, Role::Parent]
        );
    }

    #[test]
    fn department_names_parse_in_any_case() {
        assert_eq!("finance".parse(), Ok(Department::Finance));
        assert!("kantin".parse::<Department>().is_err());
    }
}

//! Conversations: thread kinds, who may start a thread with whom (school
//! policy), what a valid message is, and teachers' office hours.

mod office_hours;

pub use office_hours::{OfficeHours, Slot};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::role::Role;
use crate::{DomainError, DomainResult};

pub const MAX_MESSAGE_CHARS: usize = 4_000;
pub const MAX_CLIENT_ID_CHARS: usize = 100;
pub const MAX_GROUP_MEMBERS: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ThreadKind {
    Direct,
    Group,
    Class,
    Support,
    Announcement,
}

impl ThreadKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ThreadKind::Direct => "DIRECT",
            ThreadKind::Group => "GROUP",
            ThreadKind::Class => "CLASS",
            ThreadKind::Support => "SUPPORT",
            ThreadKind::Announcement => "ANNOUNCEMENT",
        }
    }

    pub fn parse(s: &str) -> Option<ThreadKind> {
        [
            Self::Direct,
            Self::Group,
            Self::Class,
            Self::Support,
            Self::Announcement,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SupportStatus {
    Open,
    Pending,
    Resolved,
}

impl SupportStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SupportStatus::Open => "OPEN",
            SupportStatus::Pending => "PENDING",
            SupportStatus::Resolved => "RESOLVED",
        }
    }

    pub fn parse(s: &str) -> Option<SupportStatus> {
        [Self::Open, Self::Pending, Self::Resolved]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// A member's standing in a thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberRole {
    Owner,
    Moderator,
    Member,
    /// Taken out by a moderator: stays out, whatever the directory says,
    /// until a moderator lets them back in.
    Removed,
}

impl MemberRole {
    pub fn as_str(self) -> &'static str {
        match self {
            MemberRole::Owner => "OWNER",
            MemberRole::Moderator => "MODERATOR",
            MemberRole::Member => "MEMBER",
            MemberRole::Removed => "REMOVED",
        }
    }

    pub fn parse(s: &str) -> MemberRole {
        match s {
            "OWNER" => MemberRole::Owner,
            "MODERATOR" => MemberRole::Moderator,
            "REMOVED" => MemberRole::Removed,
            _ => MemberRole::Member,
        }
    }

    pub fn moderates(self) -> bool {
        matches!(self, MemberRole::Owner | MemberRole::Moderator)
    }
}

/// The school's rules for private threads, held in one place and set by
/// configuration.
#[derive(Debug, Clone, Copy)]
pub struct ConversationRules {
    pub students_may_message_students: bool,
    pub parents_may_message_parents: bool,
}

impl Default for ConversationRules {
    fn default() -> Self {
        ConversationRules {
            students_may_message_students: false,
            parents_may_message_parents: true,
        }
    }
}

/// What the rule needs to know about two people.
#[derive(Debug, Clone)]
pub struct Pair<'a> {
    pub from_id: Uuid,
    pub from_roles: &'a [Role],
    pub to_id: Uuid,
    pub to_roles: &'a [Role],
    /// The recipient teaches a class of the initiator (as a student) or
    /// of the initiator's child (as a parent), or the other way round.
    pub teacher_link: bool,
    /// One is a guardian of the other.
    pub family_link: bool,
}

impl ConversationRules {
    /// May `pair.from` open a private thread with `pair.to`?
    pub fn may_message(&self, pair: &Pair<'_>) -> DomainResult<()> {
        if pair.from_id == pair.to_id {
            return Err(DomainError::invalid(
                "userId",
                "a thread needs someone else",
            ));
        }
        if self.allows(pair) {
            Ok(())
        } else {
            Err(DomainError::forbidden(
                "school policy does not allow this conversation",
            ))
        }
    }

    fn allows(&self, pair: &Pair<'_>) -> bool {
        let school = |roles: &[Role]| roles.contains(&Role::Admin) || roles.contains(&Role::Staff);
        let has = |roles: &[Role], r: Role| roles.contains(&r);
        let (from, to) = (pair.from_roles, pair.to_roles);
        if school(from) || school(to) || pair.family_link {
            return true;
        }
        if has(from, Role::Teacher) && has(to, Role::Teacher) {
            return true;
        }
        if has(from, Role::Teacher) || has(to, Role::Teacher) {
            return pair.teacher_link;
        }
        if has(from, Role::Student) || has(to, Role::Student) {
            return has(from, Role::Student)
                && has(to, Role::Student)
                && self.students_may_message_students;
        }
        self.parents_may_message_parents && has(from, Role::Parent) && has(to, Role::Parent)
    }
}

/// Checks a message body: any text is kept exactly as written (emoji,
/// right-to-left scripts, spacing), but it may not be blank or too long.
pub fn check_body(body: &str) -> DomainResult<()> {
    if body.trim().is_empty() {
        return Err(DomainError::invalid("body", "a message needs some text"));
    }
    let chars = body.chars().count();
    if chars > MAX_MESSAGE_CHARS {
        return Err(DomainError::invalid(
            "body",
            format!("the message is {chars} characters long; the limit is {MAX_MESSAGE_CHARS}"),
        ));
    }
    Ok(())
}

pub fn check_client_id(client_id: &str) -> DomainResult<()> {
    let n = client_id.chars().count();
    if n == 0 || n > MAX_CLIENT_ID_CHARS {
        return Err(DomainError::invalid(
            "clientId",
            format!("a client id has 1 to {MAX_CLIENT_ID_CHARS} characters"),
        ));
    }
    Ok(())
}

/// Reactions are a single emoji or a short word.
pub fn check_reaction(emoji: &str) -> DomainResult<()> {
    let n = emoji.chars().count();
    if n == 0 || n > 16 || emoji.chars().any(char::is_whitespace) {
        return Err(DomainError::invalid("emoji", "a reaction is one emoji"));
    }
    Ok(())
}

#[cfg(test)]
mod tests;

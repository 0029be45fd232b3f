//! The rules of scrm, free of I/O: who may do what, what a valid
//! announcement or roster row is, and how school time is reckoned.
//!
//! Every other crate speaks in these types; nothing here knows about
//! GraphQL, SQL or HTTP.

pub mod announcement;
pub mod audience;
pub mod complaint;
pub mod conversation;
pub mod error;
pub mod payments;
pub mod phone;
pub mod policy;
pub mod rating;
pub mod report;
pub mod role;
pub mod roster;
pub mod school_time;

pub use error::{DomainError, DomainResult};

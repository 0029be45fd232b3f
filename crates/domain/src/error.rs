//! The one error type of the domain. The API maps it to GraphQL error
//! codes in a single place; storage errors are folded into it by the
//! persistence crate.

use std::error::Error as StdError;

/// What went wrong, in terms a client can act on.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    #[error("sign in first")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{message}")]
    Invalid { field: String, message: String },
    #[error("{message}")]
    Conflict {
        field: Option<String>,
        message: String,
    },
    #[error("too many attempts, try again later")]
    RateLimited,
    /// Something the client cannot fix; the cause is logged, never shown.
    #[error("internal error")]
    Internal(#[source] Box<dyn StdError + Send + Sync>),
}

pub type DomainResult<T> = Result<T, DomainError>;

impl DomainError {
    pub fn forbidden(reason: impl Into<String>) -> Self {
        Self::Forbidden(reason.into())
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn conflict(field: Option<&str>, message: impl Into<String>) -> Self {
        Self::Conflict {
            field: field.map(str::to_owned),
            message: message.into(),
        }
    }

    pub fn internal(cause: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self::Internal(cause.into())
    }
}

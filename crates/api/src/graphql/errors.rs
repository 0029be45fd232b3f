//! Domain errors become GraphQL errors here and nowhere else: each gets
//! its `extensions.code`, and an internal error is logged with its whole
//! cause chain while the client sees only a generic message.

use async_graphql::{Error, ErrorExtensions};
use scrm_domain::DomainError;

pub fn code_of(err: &DomainError) -> &'static str {
    match err {
        DomainError::Unauthenticated => "UNAUTHENTICATED",
        DomainError::Forbidden(_) => "FORBIDDEN",
        DomainError::NotFound(_) => "NOT_FOUND",
        DomainError::Invalid { .. } => "BAD_USER_INPUT",
        DomainError::Conflict { .. } => "CONFLICT",
        DomainError::RateLimited => "RATE_LIMITED",
        DomainError::Internal(_) => "INTERNAL",
    }
}

pub fn to_gql(err: DomainError) -> Error {
    if let DomainError::Internal(cause) = &err {
        tracing::error!(error = ?cause, "internal error");
    }
    let code = code_of(&err);
    let field = match &err {
        DomainError::Invalid { field, .. } => Some(field.clone()),
        DomainError::Conflict { field, .. } => field.clone(),
        _ => None,
    };
    Error::new(err.to_string()).extend_with(|_, ext| {
        ext.set("code", code);
        if let Some(field) = &field {
            ext.set("field", field.as_str());
        }
    })
}

/// An unexpected failure outside the domain (hashing, signing).
pub fn internal(err: anyhow::Error) -> Error {
    to_gql(DomainError::internal(err.into_boxed_dyn_error()))
}

/// `.gql()?` turns a domain result into a GraphQL one.
pub trait Gql<T> {
    fn gql(self) -> async_graphql::Result<T>;
}

impl<T> Gql<T> for Result<T, DomainError> {
    fn gql(self) -> async_graphql::Result<T> {
        self.map_err(to_gql)
    }
}

impl<T> Gql<T> for anyhow::Result<T> {
    fn gql(self) -> async_graphql::Result<T> {
        self.map_err(internal)
    }
}

/// `.found("user")?` turns a lookup that may find nothing into the
/// thing itself or NOT_FOUND.
pub trait Found<T> {
    fn found(self, what: &'static str) -> async_graphql::Result<T>;
}

impl<T> Found<T> for Result<Option<T>, DomainError> {
    fn found(self, what: &'static str) -> async_graphql::Result<T> {
        self.gql()?
            .ok_or_else(|| to_gql(DomainError::NotFound(what)))
    }
}

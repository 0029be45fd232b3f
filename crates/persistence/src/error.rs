//! Turns storage errors into domain errors in one place: a unique
//! violation is a conflict, a broken reference is a missing thing, and
//! anything else is internal (its text never reaches a client).

use scrm_domain::DomainError;
use sea_orm::{DbErr, SqlErr};

/// A storage failure as the domain sees it.
pub type StoreError = DomainError;

/// The fallback mapping, for calls where no field can be named.
pub(crate) fn db_err(err: DbErr) -> DomainError {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => {
            DomainError::conflict(None, "this already exists")
        }
        Some(SqlErr::ForeignKeyConstraintViolation(_)) => DomainError::NotFound("referenced item"),
        _ => DomainError::internal(err),
    }
}

/// Maps a unique violation to a conflict naming `field`.
pub(crate) fn unique_as(
    field: &'static str,
    message: &'static str,
) -> impl Fn(DbErr) -> DomainError {
    move |err| match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => DomainError::conflict(Some(field), message),
        _ => db_err(err),
    }
}

//! Opaque keyset cursors and page-size checks for Relay connections.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use scrm_domain::DomainError;
use uuid::Uuid;

use super::errors::to_gql;

/// A position in a list ordered by (instant, id).
pub fn encode_cursor(at: DateTime<Utc>, id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}|{id}", at.timestamp_micros()))
}

pub fn decode_cursor(cursor: &str) -> async_graphql::Result<(DateTime<Utc>, Uuid)> {
    let bad = || to_gql(DomainError::invalid("after", "that cursor is not valid"));
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (micros, id) = text.split_once('|').ok_or_else(bad)?;
    let at = micros
        .parse::<i64>()
        .ok()
        .and_then(DateTime::from_timestamp_micros)
        .ok_or_else(bad)?;
    Ok((at, id.parse().map_err(|_| bad())?))
}

/// `first` within 1..=max, 20 when absent.
pub fn page_size(first: Option<i32>, max: usize) -> async_graphql::Result<u64> {
    match first {
        None => Ok(20),
        Some(n) if n >= 1 && (n as usize) <= max => Ok(n as u64),
        Some(_) => Err(to_gql(DomainError::invalid(
            "first",
            format!("first must be between 1 and {max}"),
        ))),
    }
}

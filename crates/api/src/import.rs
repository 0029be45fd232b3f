//! Roster import, shared by the GraphQL mutation and `scrm import-roster`.

use chrono::{DateTime, Utc};
use scrm_domain::roster::parse_roster;
use scrm_domain::{DomainError, DomainResult};
use scrm_persistence::Store;
use scrm_persistence::roster_import::ImportOutcome;

use crate::auth;

/// What the file looked like, beside what the import did.
pub struct ImportReport {
    pub outcome: ImportOutcome,
    pub encoding: &'static str,
    pub delimiter: char,
}

/// Reads `bytes` as a roster and applies it. A file that cannot be read
/// at all is refused whole and changes nothing.
pub async fn import_roster(
    store: &Store,
    bytes: &[u8],
    academic_year: &str,
    dry_run: bool,
    now: DateTime<Utc>,
) -> DomainResult<ImportReport> {
    let parsed = parse_roster(bytes).map_err(|e| DomainError::invalid("file", e.to_string()))?;
    let mut new_code = auth::new_activation_code;
    let outcome = store
        .import_roster(&parsed, academic_year, dry_run, now, &mut new_code)
        .await?;
    if !dry_run {
        // Moves between classes and new guardians reach the class threads.
        store.sync_class_threads(now).await?;
    }
    tracing::info!(
        rows = outcome.rows.len(),
        families_created = outcome.families_created,
        dry_run,
        "roster imported"
    );
    Ok(ImportReport {
        outcome,
        encoding: parsed.encoding,
        delimiter: char::from(parsed.delimiter),
    })
}

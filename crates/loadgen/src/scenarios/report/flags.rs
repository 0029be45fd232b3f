//! Complaint flags, raised by the product's own rule
//! (`complaint::assess`) on what the seeded year writes, and resolved
//! by staff days later, most of them.

use std::collections::HashMap;

use anyhow::{Context, Result, ensure};
use chrono::{DateTime, Duration, Utc};
use futures_util::{StreamExt, TryStreamExt};
use scrm_domain::complaint;
use scrm_persistence::Store;
use scrm_persistence::ratings::NewFlag;
use uuid::Uuid;

use super::AT_ONCE;
use super::calendar::{Calendar, Dice};
use super::tally::Tally;

/// A flag raised while seeding, and when staff will resolve it.
#[derive(Debug, Clone)]
pub struct Raised {
    kind: &'static str,
    source: Uuid,
    resolve_at: Option<DateTime<Utc>>,
}

/// What a flag is about: its kind, source, author and service, and
/// when the source was written.
pub struct Source {
    pub kind: &'static str,
    pub id: Uuid,
    pub author: Uuid,
    pub service: Option<Uuid>,
    pub at: DateTime<Utc>,
}

/// Raises a flag when `text` (or `score`) reads as a complaint, as the
/// API does after a rating or a support message, and plans its
/// resolution; counts it in `tally`.
pub async fn raise_if_complaint(
    store: &Store,
    cal: &Calendar,
    dice: &mut Dice,
    source: Source,
    (text, score): (&str, Option<u8>),
    tally: &mut Tally,
) -> Result<()> {
    let reasons = complaint::assess(text, score);
    if reasons.is_empty() {
        return Ok(());
    }
    let at = source.at;
    let flag = NewFlag {
        kind: source.kind,
        source_id: source.id,
        author_id: source.author,
        service_id: source.service,
        excerpt: text,
        reasons: &reasons,
    };
    store
        .flag(&flag, at)
        .await
        .context("failed to raise a complaint flag")?;
    let resolve_at = if dice.chance(0.8) {
        let after = Duration::minutes(dice.range(60, 7 * 24 * 60));
        cal.past(at + after)
    } else {
        None
    };
    tally.add(
        cal.month_of(at),
        "complaintsResolved",
        i64::from(resolve_at.is_some()),
        1,
    );
    tally.count("complaint flags", 1);
    tally.raised.push(Raised {
        kind: source.kind,
        source: source.id,
        resolve_at,
    });
    Ok(())
}

/// Resolves the flags planned to be resolved, each at its time.
pub async fn resolve_all(store: &Store, raised: &[Raised]) -> Result<()> {
    let limit = raised.len() as u64 * 2 + 1_000;
    let ids: HashMap<(String, Uuid), Uuid> = store
        .flags(None, limit)
        .await
        .context("failed to list the flags")?
        .into_iter()
        .map(|f| ((f.source_kind, f.source_id), f.id))
        .collect();
    let due = raised
        .iter()
        .filter_map(|r| Some((r, r.resolve_at?)))
        .map(|(r, at)| {
            let id = ids.get(&(r.kind.to_owned(), r.source)).copied();
            (id, at)
        });
    futures_util::stream::iter(due)
        .map(|(id, at)| async move {
            let id = id.context("a raised flag is not in the list")?;
            let flag = store
                .resolve_flag(id, "Sudah ditindaklanjuti dengan orang tua.", at)
                .await
                .context("failed to resolve a flag")?;
            ensure!(
                flag.resolved_at == Some(at),
                "a flag resolved at another time"
            );
            Ok(())
        })
        .buffer_unordered(AT_ONCE)
        .try_collect::<()>()
        .await
}

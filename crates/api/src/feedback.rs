//! Feedback that needs the clock or the store: the rating month, and
//! raising complaint flags on ratings and support messages.

use scrm_domain::complaint;
use scrm_persistence::ratings::NewFlag;
use uuid::Uuid;

use crate::state::AppState;

/// The school month a rating made now counts for: "2026-12".
pub fn current_period(state: &AppState) -> String {
    state.clock.date_of(state.now()).format("%Y-%m").to_string()
}

/// Flags `text` (and `score`) for staff when it reads as a complaint.
/// A failure to flag is logged, never shown to the person writing.
pub async fn flag_if_complaint(
    state: &AppState,
    kind: &str,
    source_id: Uuid,
    author: Uuid,
    service: Option<Uuid>,
    text: &str,
    score: Option<u8>,
) {
    let reasons = complaint::assess(text, score);
    if reasons.is_empty() {
        // A rating changed for the better takes its complaint back.
        if let Err(err) = state.store.withdraw_flag(kind, source_id).await {
            tracing::error!(error = ?err, "failed to withdraw a complaint flag");
        }
        return;
    }
    let flag = NewFlag {
        kind,
        source_id,
        author_id: author,
        service_id: service,
        excerpt: text,
        reasons: &reasons,
    };
    if let Err(err) = state.store.flag(&flag, state.now()).await {
        tracing::error!(error = ?err, "failed to raise a complaint flag");
    }
}

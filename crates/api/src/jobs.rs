//! Background work: pushing announcements whose time has come.

use std::time::Duration;

use uuid::Uuid;

use crate::state::AppState;

/// The bus topic of one person's live events.
pub fn user_topic(user_id: Uuid) -> String {
    format!("user:{user_id}")
}

/// Pushes every announcement that is due and not yet pushed to the
/// people it addresses. Claiming is atomic, so with several instances
/// each announcement is pushed once.
pub async fn push_due_announcements(state: &AppState) {
    let due = match state.store.claim_due_announcements(state.now()).await {
        Ok(due) => due,
        Err(err) => {
            tracing::error!(error = ?err, "failed to claim due announcements");
            return;
        }
    };
    for id in due {
        let recipients = match state.store.recipient_ids(id).await {
            Ok(r) => r,
            Err(err) => {
                tracing::error!(error = ?err, announcement_id = %id, "failed to load recipients");
                continue;
            }
        };
        let topics: Vec<String> = recipients.into_iter().map(user_topic).collect();
        let event = serde_json::json!({ "kind": "announcement.published", "id": id });
        if let Err(err) = state.bus.publish_many(&topics, &event).await {
            tracing::warn!(error = %err, announcement_id = %id, "live push failed; feeds still show it");
        }
    }
}

/// Checks for due scheduled announcements every `every` until the
/// process ends.
pub fn spawn_scheduler(state: AppState, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            push_due_announcements(&state).await;
            crate::conversations::push_due_notices(&state).await;
        }
    })
}

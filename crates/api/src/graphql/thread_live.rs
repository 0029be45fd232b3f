//! Live conversation updates. `threadEvents` subscribes to the bus first,
//! then replays from the database everything after `afterSeq`, then
//! streams; a message is only ever emitted when its seq is the next one,
//! read from the database, so a reconnecting client gets every message
//! once and in order, and a gap (a lagging receiver, a Redis reconnect)
//! is filled from the database rather than lost.

use async_graphql::{Context, Enum, SimpleObject, Subscription};
use futures_util::Stream;
use scrm_persistence::messages::Message;
use serde_json::Value;
use uuid::Uuid;

use super::threads::{MessageNode, ThreadNode};
use super::{ContextExt, Gql, Viewer};
use crate::bus::Delivery;
use crate::conversations::{membership, thread_topic};
use crate::jobs::user_topic;
use crate::live::{Emitter, spawn_stream};
use crate::state::AppState;

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ThreadEventKind {
    MessagePosted,
    MessageEdited,
    MessageDeleted,
    MessageHidden,
    Reaction,
    Read,
    Typing,
    MemberRemoved,
    SupportStatus,
}

#[derive(SimpleObject)]
pub struct ThreadEvent {
    pub kind: ThreadEventKind,
    pub thread_id: Uuid,
    /// The message's seq, or the reader's new marker for READ.
    pub seq: Option<i64>,
    pub message: Option<MessageNode>,
    /// Who read, typed or was removed.
    pub user_id: Option<Uuid>,
    /// The new support status, for SUPPORT_STATUS.
    pub status: Option<String>,
}

#[derive(SimpleObject)]
pub struct InboxEvent {
    /// The thread that changed; null when the app should refetch its
    /// whole inbox (updates may have been missed).
    pub thread: Option<ThreadNode>,
    pub unread_count: i64,
    pub total_unread: i64,
}

#[derive(Default)]
pub struct ConversationSubscription;

#[Subscription]
impl ConversationSubscription {
    /// Events of one thread. With `afterSeq`, every message after it is
    /// replayed first; without, the stream starts at the newest message.
    async fn thread_events(
        &self,
        ctx: &Context<'_>,
        thread_id: Uuid,
        after_seq: Option<i64>,
    ) -> async_graphql::Result<impl Stream<Item = ThreadEvent> + use<>> {
        let viewer: Viewer = ctx.viewer()?.clone();
        let state = ctx.state().clone();
        let (thread, _) = membership(&state, &viewer, thread_id).await.gql()?;
        let mut sub = state.bus.subscribe(&thread_topic(thread_id));
        sub.ready().await;
        // A seq from the future (a stale client, a restored database)
        // counts as "now", so the stream does not wait for it.
        let last = after_seq
            .unwrap_or(thread.last_seq)
            .clamp(0, thread.last_seq);
        let mut seen = Seen {
            last,
            members_version: thread.members_version,
        };
        Ok(spawn_stream(move |tx| async move {
            if !catch_up(&state, &viewer, thread_id, &mut seen.last, &tx).await {
                return;
            }
            while let Some(delivery) = sub.recv().await {
                let keep_going = match delivery {
                    Delivery::Resync => {
                        catch_up(&state, &viewer, thread_id, &mut seen.last, &tx).await
                    }
                    Delivery::Event(event) => {
                        on_event(&state, &viewer, thread_id, &event, &mut seen, &tx).await
                    }
                };
                if !keep_going {
                    break;
                }
            }
        }))
    }

    /// The viewer's inbox: a thread's new activity and unread counts.
    async fn inbox_events(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = InboxEvent> + use<>> {
        let viewer: Viewer = ctx.viewer()?.clone();
        let state = ctx.state().clone();
        let mut sub = state.bus.subscribe(&user_topic(viewer.id()));
        sub.ready().await;
        Ok(spawn_stream(move |tx| async move {
            while let Some(delivery) = sub.recv().await {
                let thread_id = match &delivery {
                    Delivery::Event(e) if e["kind"] == "inbox" => {
                        e["threadId"].as_str().and_then(|s| s.parse::<Uuid>().ok())
                    }
                    Delivery::Event(_) => continue,
                    Delivery::Resync => None,
                };
                let Some(event) = inbox_event(&state, viewer.id(), thread_id).await else {
                    continue;
                };
                if tx.send(event).await.is_err() {
                    break;
                }
            }
        }))
    }
}

async fn inbox_event(state: &AppState, user: Uuid, thread_id: Option<Uuid>) -> Option<InboxEvent> {
    let total_unread = state.store.total_unread(user).await.ok()?;
    let Some(thread_id) = thread_id else {
        return Some(InboxEvent {
            thread: None,
            unread_count: 0,
            total_unread,
        });
    };
    let entry = state.store.inbox_entry(user, thread_id).await.ok()??;
    let unread_count = entry.unread;
    let node = ThreadNode {
        last_read_seq: Some(entry.last_read_seq),
        unread: Some(entry.unread),
        muted: Some(entry.muted),
        thread: entry.thread,
    };
    Some(InboxEvent {
        thread: Some(node),
        unread_count,
        total_unread,
    })
}

/// Emits, from the database, every message after `last`; false when the
/// subscriber has gone or is no longer a member.
async fn catch_up(
    state: &AppState,
    viewer: &Viewer,
    thread_id: Uuid,
    last: &mut i64,
    tx: &Emitter<ThreadEvent>,
) -> bool {
    loop {
        let Ok(batch) = state
            .store
            .history_for_member(thread_id, viewer.id(), *last, 200)
            .await
        else {
            // The database is unreachable: the next event or resync retries.
            return true;
        };
        if batch.is_empty() {
            return still_member(state, viewer, thread_id, tx).await;
        }
        let full = batch.len() == 200;
        for message in batch {
            *last = message.seq;
            if tx.send(posted(message)).await.is_err() {
                return false;
            }
        }
        if !full {
            return true;
        }
    }
}

/// Membership was checked when the subscription began, but a removal's
/// own event can be lost (a Redis reconnect, a lagging receiver), and a
/// resync would then replay the thread to someone no longer in it. So
/// whatever carries the thread's content is read only while the viewer
/// is a member, and a stream that finds them gone ends with
/// MEMBER_REMOVED. (READ and TYPING, which carry no content, are not
/// checked; the next message ends such a stream.)
async fn still_member(
    state: &AppState,
    viewer: &Viewer,
    thread_id: Uuid,
    tx: &Emitter<ThreadEvent>,
) -> bool {
    match state.store.member(thread_id, viewer.id()).await {
        Ok(Some(member)) if member.is_active() => true,
        // The database cannot say: the next event asks again.
        Err(_) => true,
        Ok(_) => {
            let _ = tx.send(removed(thread_id, viewer.id())).await;
            false
        }
    }
}

/// The event that ends a removed member's stream.
fn removed(thread_id: Uuid, user_id: Uuid) -> ThreadEvent {
    ThreadEvent {
        kind: ThreadEventKind::MemberRemoved,
        thread_id,
        seq: None,
        message: None,
        user_id: Some(user_id),
        status: None,
    }
}

/// Where a subscriber of a thread stands.
struct Seen {
    /// The last seq it was sent.
    last: i64,
    /// The thread's `members_version` when membership was last checked.
    members_version: i64,
}

async fn on_event(
    state: &AppState,
    viewer: &Viewer,
    thread_id: Uuid,
    event: &Value,
    seen: &mut Seen,
    tx: &Emitter<ThreadEvent>,
) -> bool {
    let last = &mut seen.last;
    let kind = event["kind"].as_str().unwrap_or_default();
    let user_id = event["userId"]
        .as_str()
        .and_then(|s| s.parse::<Uuid>().ok());
    let plain = |kind| ThreadEvent {
        kind,
        thread_id,
        seq: event["seq"].as_i64(),
        message: None,
        user_id,
        status: None,
    };
    let out = match kind {
        "message.posted" => {
            let seq = event["seq"].as_i64().unwrap_or(i64::MAX);
            if seq <= *last {
                return true;
            }
            // The next message, carried by its event: shown without a
            // read unless a member was removed since the last check.
            let carried = serde_json::from_value::<Message>(event["message"].clone()).ok();
            let version = event["membersVersion"].as_i64();
            let (Some(message), Some(version), true) = (carried, version, seq == *last + 1) else {
                return catch_up(state, viewer, thread_id, last, tx).await;
            };
            if version != seen.members_version {
                if !still_member(state, viewer, thread_id, tx).await {
                    return false;
                }
                seen.members_version = seen.members_version.max(version);
            }
            seen.last = seq;
            posted(message)
        }
        "message.edited" | "message.deleted" | "message.hidden" | "reaction" => {
            let Some(message) = load(state, viewer, event).await else {
                return still_member(state, viewer, thread_id, tx).await;
            };
            let kind = match kind {
                "message.edited" => ThreadEventKind::MessageEdited,
                "message.deleted" => ThreadEventKind::MessageDeleted,
                "message.hidden" => ThreadEventKind::MessageHidden,
                _ => ThreadEventKind::Reaction,
            };
            ThreadEvent {
                message: Some(MessageNode::new(message)),
                ..plain(kind)
            }
        }
        "read" => plain(ThreadEventKind::Read),
        "typing" if user_id != Some(viewer.id()) => plain(ThreadEventKind::Typing),
        "support.status" if !still_member(state, viewer, thread_id, tx).await => return false,
        "support.status" => ThreadEvent {
            status: event["status"].as_str().map(str::to_owned),
            ..plain(ThreadEventKind::SupportStatus)
        },
        "member.removed" => {
            let me = user_id == Some(viewer.id());
            let sent = tx.send(plain(ThreadEventKind::MemberRemoved)).await.is_ok();
            // A removed member's stream ends with that event.
            return sent && !me;
        }
        _ => return true,
    };
    tx.send(out).await.is_ok()
}

/// The event's message, while the viewer is a member of its thread.
async fn load(state: &AppState, viewer: &Viewer, event: &Value) -> Option<Message> {
    let id = event["id"].as_str()?.parse::<Uuid>().ok()?;
    state.store.message_for_member(id, viewer.id()).await.ok()?
}

fn posted(message: Message) -> ThreadEvent {
    ThreadEvent {
        kind: ThreadEventKind::MessagePosted,
        thread_id: message.thread_id,
        seq: Some(message.seq),
        user_id: Some(message.sender_id),
        status: None,
        message: Some(MessageNode::new(message)),
    }
}

//! Conversation queries and mutations: the inbox, threads, sending and
//! changing messages, read markers, moderation, support and office hours.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Enum, InputObject, Object, SimpleObject};
use chrono::{NaiveTime, Weekday};
use scrm_domain::DomainError;
use scrm_domain::conversation::{self, MemberRole, OfficeHours, Slot, SupportStatus};
use scrm_domain::policy::{Action, authorize};
use scrm_domain::role::Role;
use scrm_persistence::messages::{NewMessage, Sent};
use serde_json::json;
use uuid::Uuid;

use super::errors::{Found, to_gql};
use super::pagination::{decode_cursor, encode_cursor, page_size};
use super::threads::{MessageNode, ThreadNode};
use super::{ContextExt, Gql, Viewer};
use crate::conversations::{self as conv, membership, publish, thread_topic};
use crate::jobs::user_topic;
use crate::state::AppState;

#[derive(SimpleObject)]
pub struct InboxExtra {
    /// Unread messages across all the viewer's threads.
    pub total_unread: i64,
}

pub type ThreadConnection =
    Connection<String, ThreadNode, InboxExtra, async_graphql::connection::EmptyFields>;

#[derive(Default)]
pub struct ConversationQuery;

#[Object]
impl ConversationQuery {
    /// The viewer's threads by latest activity, with unread counts.
    async fn inbox(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<ThreadConnection> {
        let viewer = ctx.viewer()?;
        let state = ctx.state();
        let limit = page_size(first, state.config.limits.max_page_size)?;
        let cursor = after.as_deref().map(decode_cursor).transpose()?;
        let mut entries = state
            .store
            .inbox(viewer.id(), cursor, limit + 1)
            .await
            .gql()?;
        let more = entries.len() as u64 > limit;
        entries.truncate(limit as usize);
        let total_unread = state.store.total_unread(viewer.id()).await.gql()?;
        let mut connection =
            Connection::with_additional_fields(cursor.is_some(), more, InboxExtra { total_unread });
        connection.edges.extend(entries.into_iter().map(|e| {
            let cursor = encode_cursor(e.thread.last_activity_at, e.thread.id);
            let node = ThreadNode {
                last_read_seq: Some(e.last_read_seq),
                unread: Some(e.unread),
                muted: Some(e.muted),
                thread: e.thread,
            };
            Edge::new(cursor, node)
        }));
        Ok(connection)
    }

    /// A thread the viewer is a member of (staff: any support thread).
    async fn thread(&self, ctx: &Context<'_>, id: Uuid) -> async_graphql::Result<ThreadNode> {
        let viewer = ctx.viewer()?;
        let (thread, _) = membership(ctx.state(), viewer, id).await.gql()?;
        Ok(ThreadNode::new(thread))
    }

    /// The class's thread: its teachers and the parents of its students.
    async fn class_thread(
        &self,
        ctx: &Context<'_>,
        class_id: Uuid,
    ) -> async_graphql::Result<ThreadNode> {
        let viewer = ctx.viewer()?;
        let state = ctx.state();
        let class = state.store.classes_by_ids(&[class_id]).await.gql()?.pop();
        let class = class.ok_or_else(|| to_gql(DomainError::NotFound("class")))?;
        let thread = state
            .store
            .class_thread(class.id, &class.name, state.now())
            .await
            .gql()?;
        let (thread, _) = membership(state, viewer, thread.id).await.gql()?;
        Ok(ThreadNode::new(thread))
    }

    /// The discussion under an announcement, for those it addresses.
    async fn announcement_thread(
        &self,
        ctx: &Context<'_>,
        announcement_id: Uuid,
    ) -> async_graphql::Result<ThreadNode> {
        let viewer = ctx.viewer()?;
        let state = ctx.state();
        let announcement = state.store.announcement(announcement_id).await.gql()?;
        let announcement =
            announcement.ok_or_else(|| to_gql(DomainError::NotFound("announcement")))?;
        let allowed = announcement.author_id == viewer.id()
            || state
                .store
                .may_discuss(announcement.id, viewer.id(), state.now())
                .await
                .gql()?;
        if !allowed {
            return Err(to_gql(DomainError::NotFound("announcement")));
        }
        let new = scrm_persistence::threads::NewThread {
            kind: conversation::ThreadKind::Announcement,
            title: Some(announcement.title.clone()),
            direct_key: None,
            class_id: None,
            announcement_id: Some(announcement.id),
            requester_id: None,
            members: &[(announcement.author_id, MemberRole::Moderator)],
        };
        let thread = state.store.create_thread(new, state.now()).await.gql()?;
        let (thread, _) = membership(state, viewer, thread.id).await.gql()?;
        Ok(ThreadNode::new(thread))
    }

    /// The staff's shared queue of support requests.
    async fn support_queue(
        &self,
        ctx: &Context<'_>,
        status: Option<SupportStatusName>,
        first: Option<i32>,
    ) -> async_graphql::Result<Vec<ThreadNode>> {
        let viewer = ctx.viewer()?;
        authorize(&viewer.actor, &Action::WorkSupportQueue).gql()?;
        let state = ctx.state();
        let limit = page_size(first, state.config.limits.max_page_size)?;
        let threads = state
            .store
            .support_queue(status.map(|s| s.domain().as_str()), limit)
            .await
            .gql()?;
        Ok(threads.into_iter().map(ThreadNode::new).collect())
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "StartThreadKind")]
pub enum StartKind {
    Direct,
    Group,
    Support,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "SupportStatus")]
pub enum SupportStatusName {
    Open,
    Pending,
    Resolved,
}

impl SupportStatusName {
    fn domain(self) -> SupportStatus {
        match self {
            SupportStatusName::Open => SupportStatus::Open,
            SupportStatusName::Pending => SupportStatus::Pending,
            SupportStatusName::Resolved => SupportStatus::Resolved,
        }
    }
}

#[derive(InputObject)]
pub struct StartThreadInput {
    pub kind: StartKind,
    /// DIRECT: the other person.
    pub user_id: Option<Uuid>,
    /// GROUP: the other members.
    #[graphql(default)]
    pub member_ids: Vec<Uuid>,
    /// GROUP: its name; SUPPORT: the request's subject.
    pub title: Option<String>,
}

#[derive(InputObject)]
pub struct OfficeHoursInput {
    /// 1 = Monday … 7 = Sunday.
    pub weekday: i32,
    /// "07:30", school time.
    pub start: String,
    pub end: String,
}

#[derive(Default)]
pub struct ConversationMutation;

#[Object]
impl ConversationMutation {
    /// Starts (or finds) a direct thread, a group, or a support request,
    /// as school policy allows.
    async fn start_thread(
        &self,
        ctx: &Context<'_>,
        input: StartThreadInput,
    ) -> async_graphql::Result<ThreadNode> {
        let viewer = ctx.viewer()?;
        let state = ctx.state();
        let title = input.title.unwrap_or_default();
        let thread = match input.kind {
            StartKind::Direct => {
                let other = input.user_id.ok_or_else(|| {
                    to_gql(DomainError::invalid("userId", "choose whom to message"))
                })?;
                conv::start_direct(state, viewer, other).await
            }
            StartKind::Group => conv::start_group(state, viewer, &title, &input.member_ids).await,
            StartKind::Support => conv::open_support(state, viewer, &title).await,
        }
        .gql()?;
        Ok(ThreadNode::new(thread))
    }

    /// Sends a message. `clientId` is chosen by the app: a retry with the
    /// same id and text returns the stored message and sends nothing new.
    async fn send_message(
        &self,
        ctx: &Context<'_>,
        thread_id: Uuid,
        client_id: String,
        body: String,
        reply_to_id: Option<Uuid>,
        #[graphql(default)] mut mention_ids: Vec<Uuid>,
    ) -> async_graphql::Result<MessageNode> {
        let viewer = ctx.viewer()?;
        let state = ctx.state();
        // Each person is mentioned once, in the order first named.
        let mut seen = std::collections::HashSet::new();
        mention_ids.retain(|id| seen.insert(*id));
        conversation::check_body(&body).gql()?;
        conversation::check_client_id(&client_id).gql()?;
        let (thread, _) = membership(state, viewer, thread_id).await.gql()?;
        check_references(state, thread_id, reply_to_id, &mention_ids).await?;
        let new = NewMessage {
            thread_id,
            sender_id: viewer.id(),
            client_id,
            body,
            reply_to: reply_to_id,
            mentions: mention_ids,
        };
        match state.store.send_message(new, state.now()).await.gql()? {
            Sent::New(message, members_version) => {
                let expected = conv::after_send(state, viewer, &thread, &message, members_version)
                    .await
                    .gql()?;
                Ok(MessageNode {
                    message,
                    expected_reply_at: expected,
                })
            }
            Sent::Repeated(message) => {
                // A retry is told what the first try was.
                let expected = conv::expected_reply(state, viewer, &message).await.gql()?;
                Ok(MessageNode {
                    message,
                    expected_reply_at: expected,
                })
            }
        }
    }

    /// Changes the text of one's own message.
    async fn edit_message(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
        body: String,
    ) -> async_graphql::Result<MessageNode> {
        let viewer = ctx.viewer()?;
        let state = ctx.state();
        conversation::check_body(&body).gql()?;
        let message = own_message(state, viewer, id).await?;
        let edited = state
            .store
            .edit_message(message.id, &body, state.now())
            .await
            .gql()?;
        message_event(state, &edited, "message.edited");
        Ok(MessageNode::new(edited))
    }

    /// Deletes one's own message (moderators: anyone's): the text is gone
    /// for everyone and a placeholder stays.
    async fn delete_message(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
    ) -> async_graphql::Result<MessageNode> {
        let viewer = ctx.viewer()?;
        let state = ctx.state();
        let message = state.store.message(id).await.found("message")?;
        let (_, member) = membership(state, viewer, message.thread_id).await.gql()?;
        if message.sender_id != viewer.id() && !conv::may_moderate(viewer, &member) {
            return Err(to_gql(DomainError::forbidden(
                "only the sender or a moderator may delete a message",
            )));
        }
        let deleted = state.store.delete_message(id, state.now()).await.gql()?;
        message_event(state, &deleted, "message.deleted");
        inbox_event(state, deleted.thread_id).await?;
        Ok(MessageNode::new(deleted))
    }

    /// Adds (or with `add: false` takes back) a reaction.
    async fn react(
        &self,
        ctx: &Context<'_>,
        message_id: Uuid,
        emoji: String,
        #[graphql(default = true)] add: bool,
    ) -> async_graphql::Result<MessageNode> {
        let viewer = ctx.viewer()?;
        let state = ctx.state();
        conversation::check_reaction(&emoji).gql()?;
        let message = state.store.message(message_id).await.found("message")?;
        membership(state, viewer, message.thread_id).await.gql()?;
        state
            .store
            .react(message.id, viewer.id(), &emoji, add, state.now())
            .await
            .gql()?;
        message_event(state, &message, "reaction");
        Ok(MessageNode::new(message))
    }

    /// Moves the viewer's read marker forward to `seq`.
    async fn mark_thread_read(
        &self,
        ctx: &Context<'_>,
        thread_id: Uuid,
        seq: i64,
    ) -> async_graphql::Result<ThreadNode> {
        let viewer = ctx.viewer()?;
        let state = ctx.state();
        let (thread, _) = membership(state, viewer, thread_id).await.gql()?;
        let marker = state
            .store
            .mark_thread_read(thread_id, viewer.id(), seq)
            .await
            .gql()?;
        publish(
            state,
            vec![thread_topic(thread_id)],
            json!({ "kind": "read", "userId": viewer.id(), "seq": marker }),
        );
        publish(
            state,
            vec![user_topic(viewer.id())],
            json!({ "kind": "inbox", "threadId": thread_id }),
        );
        Ok(ThreadNode {
            last_read_seq: Some(marker),
            ..ThreadNode::new(thread)
        })
    }

    /// Tells the thread the viewer is typing (not stored).
    async fn typing(&self, ctx: &Context<'_>, thread_id: Uuid) -> async_graphql::Result<bool> {
        let viewer = ctx.viewer()?;
        let state = ctx.state();
        membership(state, viewer, thread_id).await.gql()?;
        publish(
            state,
            vec![thread_topic(thread_id)],
            json!({ "kind": "typing", "userId": viewer.id() }),
        );
        Ok(true)
    }

    async fn mute_thread(
        &self,
        ctx: &Context<'_>,
        thread_id: Uuid,
        muted: bool,
    ) -> async_graphql::Result<ThreadNode> {
        let viewer = ctx.viewer()?;
        let state = ctx.state();
        let (thread, _) = membership(state, viewer, thread_id).await.gql()?;
        state
            .store
            .set_muted(thread_id, viewer.id(), muted)
            .await
            .gql()?;
        Ok(ThreadNode {
            muted: Some(muted),
            ..ThreadNode::new(thread)
        })
    }

    /// Reports a message to the thread's moderators.
    async fn report_message(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
        reason: String,
    ) -> async_graphql::Result<bool> {
        let viewer = ctx.viewer()?;
        let state = ctx.state();
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 500 {
            return Err(to_gql(DomainError::invalid(
                "reason",
                "say why, in up to 500 characters",
            )));
        }
        let message = state.store.message(id).await.found("message")?;
        membership(state, viewer, message.thread_id).await.gql()?;
        state
            .store
            .report_message(id, viewer.id(), reason, state.now())
            .await
            .gql()?;
        Ok(true)
    }

    /// Hides a message from the thread (moderators and staff).
    async fn hide_message(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
    ) -> async_graphql::Result<MessageNode> {
        let viewer = ctx.viewer()?;
        let state = ctx.state();
        let message = state.store.message(id).await.found("message")?;
        let (_, member) = membership(state, viewer, message.thread_id).await.gql()?;
        if !conv::may_moderate(viewer, &member) {
            return Err(to_gql(DomainError::forbidden(
                "only moderators may hide messages",
            )));
        }
        let hidden = state.store.hide_message(id, state.now()).await.gql()?;
        message_event(state, &hidden, "message.hidden");
        inbox_event(state, hidden.thread_id).await?;
        Ok(MessageNode::new(hidden))
    }

    /// Removes a member from a group, class or discussion thread
    /// (moderators); anyone may remove themself.
    async fn remove_member(
        &self,
        ctx: &Context<'_>,
        thread_id: Uuid,
        user_id: Uuid,
    ) -> async_graphql::Result<bool> {
        let viewer = ctx.viewer()?;
        let state = ctx.state();
        let (thread, member) = membership(state, viewer, thread_id).await.gql()?;
        if matches!(thread.kind.as_str(), "DIRECT" | "SUPPORT") {
            return Err(to_gql(DomainError::forbidden(
                "direct threads and support requests keep their members",
            )));
        }
        if user_id != viewer.id() && !conv::may_moderate(viewer, &member) {
            return Err(to_gql(DomainError::forbidden(
                "only moderators may remove members",
            )));
        }
        let by_moderator = user_id != viewer.id();
        let removed = state
            .store
            .remove_member(thread_id, user_id, by_moderator, state.now())
            .await
            .gql()?;
        if removed {
            publish(
                state,
                vec![thread_topic(thread_id)],
                json!({ "kind": "member.removed", "userId": user_id }),
            );
        }
        Ok(removed)
    }

    /// Adds people to a group (its owner and moderators), as policy
    /// allows; lets people a moderator removed back into a class thread.
    async fn add_members(
        &self,
        ctx: &Context<'_>,
        thread_id: Uuid,
        user_ids: Vec<Uuid>,
    ) -> async_graphql::Result<ThreadNode> {
        let viewer = ctx.viewer()?;
        let state = ctx.state();
        let (thread, member) = membership(state, viewer, thread_id).await.gql()?;
        conv::add_members(state, viewer, &thread, &member, user_ids)
            .await
            .gql()?;
        Ok(ThreadNode::new(thread))
    }

    /// Staff take or give a support request.
    async fn assign_support_thread(
        &self,
        ctx: &Context<'_>,
        thread_id: Uuid,
        assignee_id: Uuid,
    ) -> async_graphql::Result<ThreadNode> {
        let viewer = ctx.viewer()?;
        authorize(&viewer.actor, &Action::WorkSupportQueue).gql()?;
        let state = ctx.state();
        let assignee = state.store.user(assignee_id).await.found("user")?;
        if !assignee.is_staff() {
            return Err(to_gql(DomainError::invalid(
                "assigneeId",
                "support requests go to staff",
            )));
        }
        let thread = state
            .store
            .update_support(thread_id, None, Some(assignee_id), state.now())
            .await
            .gql()?;
        state
            .store
            .add_member(thread_id, assignee_id, MemberRole::Moderator, state.now())
            .await
            .gql()?;
        Ok(ThreadNode::new(thread))
    }

    /// Staff move a support request between open, pending and resolved.
    async fn set_support_status(
        &self,
        ctx: &Context<'_>,
        thread_id: Uuid,
        status: SupportStatusName,
    ) -> async_graphql::Result<ThreadNode> {
        let viewer = ctx.viewer()?;
        authorize(&viewer.actor, &Action::WorkSupportQueue).gql()?;
        let state = ctx.state();
        let thread = state
            .store
            .update_support(thread_id, Some(status.domain().as_str()), None, state.now())
            .await
            .gql()?;
        publish(
            state,
            vec![thread_topic(thread_id)],
            json!({ "kind": "support.status", "status": status.domain().as_str() }),
        );
        Ok(ThreadNode::new(thread))
    }

    /// A teacher's weekly office hours, in school time.
    async fn set_office_hours(
        &self,
        ctx: &Context<'_>,
        hours: Vec<OfficeHoursInput>,
    ) -> async_graphql::Result<bool> {
        let viewer = ctx.viewer()?;
        if !viewer.actor.has(Role::Teacher) {
            return Err(to_gql(DomainError::forbidden(
                "office hours are for teachers",
            )));
        }
        let slots = hours
            .iter()
            .map(slot)
            .collect::<async_graphql::Result<Vec<Slot>>>()?;
        let hours = OfficeHours::new(slots).gql()?;
        ctx.state()
            .store
            .set_office_hours(viewer.id(), &hours)
            .await
            .gql()?;
        Ok(true)
    }
}

fn slot(input: &OfficeHoursInput) -> async_graphql::Result<Slot> {
    let bad = |field: &str, msg: &str| to_gql(DomainError::invalid(field, msg));
    let weekday = u8::try_from(input.weekday - 1)
        .ok()
        .and_then(|d| Weekday::try_from(d).ok())
        .ok_or_else(|| bad("weekday", "weekdays run from 1 (Monday) to 7 (Sunday)"))?;
    let time = |s: &str, field: &str| {
        NaiveTime::parse_from_str(s, "%H:%M").map_err(|_| bad(field, "times are written HH:MM"))
    };
    Ok(Slot {
        weekday,
        start: time(&input.start, "start")?,
        end: time(&input.end, "end")?,
    })
}

/// A reply must be in the same thread; mentions must be members.
async fn check_references(
    state: &AppState,
    thread_id: Uuid,
    reply_to: Option<Uuid>,
    mentions: &[Uuid],
) -> async_graphql::Result<()> {
    if let Some(id) = reply_to {
        let original = state.store.message(id).await.gql()?;
        if original.is_none_or(|m| m.thread_id != thread_id) {
            return Err(to_gql(DomainError::invalid(
                "replyToId",
                "that message is not in this thread",
            )));
        }
    }
    if !mentions.is_empty() {
        let members = state.store.members_of(&[thread_id]).await.gql()?;
        if mentions
            .iter()
            .any(|m| !members.iter().any(|x| x.user_id == *m))
        {
            return Err(to_gql(DomainError::invalid(
                "mentionIds",
                "only members of the thread can be mentioned",
            )));
        }
    }
    Ok(())
}

async fn own_message(
    state: &AppState,
    viewer: &Viewer,
    id: Uuid,
) -> async_graphql::Result<scrm_persistence::messages::Message> {
    let message = state.store.message(id).await.found("message")?;
    membership(state, viewer, message.thread_id).await.gql()?;
    if message.sender_id != viewer.id() {
        return Err(to_gql(DomainError::forbidden(
            "only the sender may edit a message",
        )));
    }
    if message.deleted_at.is_some() {
        return Err(to_gql(DomainError::invalid(
            "id",
            "a deleted message cannot be edited",
        )));
    }
    Ok(message)
}

fn message_event(state: &AppState, message: &scrm_persistence::messages::Message, kind: &str) {
    let event = json!({ "kind": kind, "id": message.id, "seq": message.seq });
    publish(state, vec![thread_topic(message.thread_id)], event);
}

/// Members' unread counts may have changed.
async fn inbox_event(state: &AppState, thread_id: Uuid) -> async_graphql::Result<()> {
    let members = state.store.members_of(&[thread_id]).await.gql()?;
    let topics = members.iter().map(|m| user_topic(m.user_id)).collect();
    publish(
        state,
        topics,
        json!({ "kind": "inbox", "threadId": thread_id }),
    );
    Ok(())
}

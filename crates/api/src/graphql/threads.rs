//! The GraphQL types of conversations: threads, members, messages.

use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{Context, Enum, Object, SimpleObject};
use chrono::{DateTime, Utc};
use scrm_domain::DomainError;
use scrm_persistence::messages::Message;
use scrm_persistence::threads::{Member, Thread};
use uuid::Uuid;

use super::directory::UserNode;
use super::errors::to_gql;
use super::loaders::{Loaders, load_err};
use super::{ContextExt, Gql};

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ThreadKindName {
    Direct,
    Group,
    Class,
    Support,
    Announcement,
}

/// A thread as one member sees it.
pub struct ThreadNode {
    pub thread: Thread,
    /// The viewer's read marker, when known already.
    pub last_read_seq: Option<i64>,
    pub unread: Option<i64>,
    pub muted: Option<bool>,
}

impl ThreadNode {
    pub fn new(thread: Thread) -> ThreadNode {
        ThreadNode {
            thread,
            last_read_seq: None,
            unread: None,
            muted: None,
        }
    }

    async fn own_member(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Member>> {
        let viewer = ctx.viewer()?;
        ctx.state()
            .store
            .member(self.thread.id, viewer.id())
            .await
            .gql()
    }
}

#[Object(name = "Thread")]
impl ThreadNode {
    async fn id(&self) -> Uuid {
        self.thread.id
    }

    async fn kind(&self) -> ThreadKindName {
        match self.thread.kind.as_str() {
            "GROUP" => ThreadKindName::Group,
            "CLASS" => ThreadKindName::Class,
            "SUPPORT" => ThreadKindName::Support,
            "ANNOUNCEMENT" => ThreadKindName::Announcement,
            _ => ThreadKindName::Direct,
        }
    }

    async fn title(&self) -> Option<&str> {
        self.thread.title.as_deref()
    }

    /// The seq of the newest message; 0 for an empty thread.
    async fn last_seq(&self) -> i64 {
        self.thread.last_seq
    }

    async fn last_activity_at(&self) -> DateTime<Utc> {
        self.thread.last_activity_at
    }

    async fn last_read_seq(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        match self.last_read_seq {
            Some(seq) => Ok(seq),
            None => Ok(self.own_member(ctx).await?.map_or(0, |m| m.last_read_seq)),
        }
    }

    /// Messages from others after the viewer's read marker, not deleted.
    async fn unread_count(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        if let Some(n) = self.unread {
            return Ok(n);
        }
        let viewer = ctx.viewer()?;
        let entry = ctx
            .state()
            .store
            .inbox_entry(viewer.id(), self.thread.id)
            .await
            .gql()?;
        Ok(entry.map_or(0, |e| e.unread))
    }

    async fn muted(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        match self.muted {
            Some(m) => Ok(m),
            None => Ok(self.own_member(ctx).await?.is_some_and(|m| m.muted)),
        }
    }

    async fn members(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<MemberNode>> {
        let loaders = ctx.data_unchecked::<Loaders>();
        let members = loaders
            .members
            .load_one(self.thread.id)
            .await
            .map_err(load_err)?;
        Ok(members
            .unwrap_or_default()
            .into_iter()
            .map(MemberNode)
            .collect())
    }

    async fn last_message(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<MessageNode>> {
        let loaders = ctx.data_unchecked::<Loaders>();
        let last = loaders
            .last_messages
            .load_one(self.thread.id)
            .await
            .map_err(load_err)?;
        Ok(last.map(MessageNode::new))
    }

    /// Messages in seq order, oldest first. `first`/`after` read forward;
    /// `last`/`before` read back from the newest (the default: the last
    /// 20). A cursor is the message's seq.
    async fn messages(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<MessageConnection> {
        let seq = |c: Option<String>, field: &str| {
            c.map(|c| {
                c.parse::<i64>()
                    .map_err(|_| to_gql(DomainError::invalid(field, "that cursor is not valid")))
            })
            .transpose()
        };
        let (after, before) = (seq(after, "after")?, seq(before, "before")?);
        let max = ctx.state().config.limits.max_page_size;
        let forward = first.is_some() || (after.is_some() && last.is_none());
        let limit = super::pagination::page_size(Some(first.or(last).unwrap_or(20)), max)?;
        let store = &ctx.state().store;
        let mut rows = store
            .history(self.thread.id, after, before, limit + 1, !forward)
            .await
            .gql()?;
        let more = rows.len() as u64 > limit;
        if more && forward {
            rows.pop();
        } else if more {
            rows.remove(0);
        }
        let (has_previous, has_next) = if forward {
            (after.is_some(), more)
        } else {
            (more, before.is_some())
        };
        let mut connection = Connection::new(has_previous, has_next);
        connection.edges.extend(
            rows.into_iter()
                .map(|m| Edge::new(m.seq.to_string(), MessageNode::new(m))),
        );
        Ok(connection)
    }

    /// For support threads: status, assignee and response times.
    async fn support(&self) -> Option<SupportInfo> {
        let t = &self.thread;
        t.support_status.as_ref().map(|status| SupportInfo {
            status: status.clone(),
            requester_id: t.requester_id,
            assignee_id: t.assignee_id,
            opened_at: t.created_at,
            first_response_at: t.first_response_at,
            resolved_at: t.resolved_at,
        })
    }
}

#[derive(SimpleObject)]
pub struct SupportInfo {
    /// OPEN, PENDING or RESOLVED.
    pub status: String,
    pub requester_id: Option<Uuid>,
    pub assignee_id: Option<Uuid>,
    pub opened_at: DateTime<Utc>,
    pub first_response_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
}

pub type MessageConnection = Connection<String, MessageNode, EmptyFields, EmptyFields>;

pub struct MemberNode(pub Member);

#[Object(name = "ThreadMember")]
impl MemberNode {
    async fn user(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<UserNode>> {
        let loaders = ctx.data_unchecked::<Loaders>();
        Ok(loaders
            .users
            .load_one(self.0.user_id)
            .await
            .map_err(load_err)?
            .map(UserNode))
    }

    /// OWNER, MODERATOR or MEMBER.
    async fn role(&self) -> &str {
        &self.0.role
    }

    async fn last_read_seq(&self) -> i64 {
        self.0.last_read_seq
    }
}

pub struct MessageNode {
    pub message: Message,
    /// Set on the answer to `sendMessage` when a teacher in the thread is
    /// outside office hours: when the reply can be expected.
    pub expected_reply_at: Option<DateTime<Utc>>,
}

impl MessageNode {
    pub fn new(message: Message) -> MessageNode {
        MessageNode {
            message,
            expected_reply_at: None,
        }
    }

    /// Whether the viewer sees what the message says: everyone until it
    /// is hidden, then only its sender and the thread's moderators.
    async fn content_visible(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        if self.message.hidden_at.is_none() || ctx.viewer()?.id() == self.message.sender_id {
            return Ok(true);
        }
        self.viewer_moderates(ctx).await
    }

    async fn viewer_moderates(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        let viewer = ctx.viewer()?;
        let member = ctx
            .state()
            .store
            .member(self.message.thread_id, viewer.id())
            .await
            .gql()?;
        Ok(member.is_some_and(|m| m.is_active() && crate::conversations::may_moderate(viewer, &m)))
    }
}

#[derive(SimpleObject)]
pub struct ReactionCount {
    pub emoji: String,
    pub count: i32,
    /// The viewer is among those who reacted.
    pub mine: bool,
}

#[Object(name = "Message")]
impl MessageNode {
    async fn id(&self) -> Uuid {
        self.message.id
    }

    async fn thread_id(&self) -> Uuid {
        self.message.thread_id
    }

    /// The message's place in its thread, from 1, in commit order.
    async fn seq(&self) -> i64 {
        self.message.seq
    }

    async fn client_id(&self) -> &str {
        &self.message.client_id
    }

    /// The text exactly as sent; empty once deleted, and empty for all
    /// but the sender and moderators once hidden.
    async fn body(&self, ctx: &Context<'_>) -> async_graphql::Result<&str> {
        if !self.content_visible(ctx).await? {
            return Ok("");
        }
        Ok(&self.message.body)
    }

    async fn deleted(&self) -> bool {
        self.message.deleted_at.is_some()
    }

    async fn hidden(&self) -> bool {
        self.message.hidden_at.is_some()
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.message.created_at
    }

    async fn edited_at(&self) -> Option<DateTime<Utc>> {
        self.message.edited_at
    }

    async fn reply_to_id(&self) -> Option<Uuid> {
        self.message.reply_to
    }

    async fn expected_reply_at(&self) -> Option<DateTime<Utc>> {
        self.expected_reply_at
    }

    async fn sender(&self, ctx: &Context<'_>) -> async_graphql::Result<UserNode> {
        let loaders = ctx.data_unchecked::<Loaders>();
        let user = loaders
            .users
            .load_one(self.message.sender_id)
            .await
            .map_err(load_err)?;
        user.map(UserNode)
            .ok_or_else(|| to_gql(DomainError::NotFound("user")))
    }

    /// The members named in the text; like the text, gone once deleted
    /// and withheld from other members once hidden.
    async fn mentions(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<UserNode>> {
        if self.message.deleted_at.is_some() || !self.content_visible(ctx).await? {
            return Ok(vec![]);
        }
        let loaders = ctx.data_unchecked::<Loaders>();
        let ids = self.message.mention_ids();
        let users = loaders
            .users
            .load_many(ids.iter().copied())
            .await
            .map_err(load_err)?;
        Ok(ids
            .iter()
            .filter_map(|id| users.get(id).cloned())
            .map(UserNode)
            .collect())
    }

    async fn reactions(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<ReactionCount>> {
        let viewer = ctx.viewer()?;
        let loaders = ctx.data_unchecked::<Loaders>();
        let all = loaders
            .reactions
            .load_one(self.message.id)
            .await
            .map_err(load_err)?
            .unwrap_or_default();
        let mut counts: Vec<ReactionCount> = vec![];
        for r in all {
            match counts.iter_mut().find(|c| c.emoji == r.emoji) {
                Some(c) => {
                    c.count += 1;
                    c.mine |= r.user_id == viewer.id();
                }
                None => counts.push(ReactionCount {
                    emoji: r.emoji,
                    count: 1,
                    mine: r.user_id == viewer.id(),
                }),
            }
        }
        Ok(counts)
    }

    /// How many members reported the message; shown to the thread's
    /// moderators only (null for everyone else).
    async fn report_count(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<i64>> {
        if !self.viewer_moderates(ctx).await? {
            return Ok(None);
        }
        let store = &ctx.state().store;
        store.report_count(self.message.id).await.gql().map(Some)
    }

    /// Who has read the message; shown to its sender only.
    async fn read_by(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<UserNode>> {
        let viewer = ctx.viewer()?;
        if viewer.id() != self.message.sender_id {
            return Ok(vec![]);
        }
        let store = &ctx.state().store;
        let readers: Vec<Uuid> = store
            .readers(self.message.thread_id, self.message.seq)
            .await
            .gql()?
            .into_iter()
            .filter(|u| *u != viewer.id())
            .collect();
        Ok(store
            .users(&readers)
            .await
            .gql()?
            .into_iter()
            .map(UserNode)
            .collect())
    }
}

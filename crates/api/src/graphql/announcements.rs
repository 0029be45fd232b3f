//! Announcements: publishing to an audience, each person's feed with its
//! read state, delivery figures for authors, and live delivery.

use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{Context, Enum, InputObject, Object, SimpleObject, Subscription};
use chrono::{DateTime, Utc};
use futures_util::Stream;
use scrm_domain::DomainError;
use scrm_domain::announcement::{Category, Draft, Urgency};
use scrm_domain::audience::Audience;
use scrm_domain::policy::{Action, authorize};
use scrm_persistence::announcements::{Announcement, Delivery, FeedItem};
use uuid::Uuid;

use super::directory::{FamilyNode, RoleName, StudentNode, UserNode};
use super::errors::{Found, to_gql};
use super::pagination::{decode_cursor, encode_cursor, page_size};
use super::{ContextExt, Gql, Viewer};
use crate::jobs::push_due_announcements;
use crate::live::{id_in, user_events};

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "AnnouncementCategory")]
pub enum CategoryName {
    General,
    Academic,
    Event,
    Finance,
    Health,
    Safety,
    Holiday,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "Urgency")]
pub enum UrgencyName {
    Normal,
    Important,
    Urgent,
}

impl CategoryName {
    fn domain(self) -> Category {
        match self {
            CategoryName::General => Category::General,
            CategoryName::Academic => Category::Academic,
            CategoryName::Event => Category::Event,
            CategoryName::Finance => Category::Finance,
            CategoryName::Health => Category::Health,
            CategoryName::Safety => Category::Safety,
            CategoryName::Holiday => Category::Holiday,
        }
    }
}

impl UrgencyName {
    fn domain(self) -> Urgency {
        match self {
            UrgencyName::Normal => Urgency::Normal,
            UrgencyName::Important => Urgency::Important,
            UrgencyName::Urgent => Urgency::Urgent,
        }
    }
}

/// Who to address: a union of the selectors given.
#[derive(InputObject, Default)]
pub struct AudienceInput {
    #[graphql(default)]
    pub everyone: bool,
    #[graphql(default)]
    pub roles: Vec<RoleName>,
    /// Grades 1 to 12 of the current academic year.
    #[graphql(default)]
    pub grades: Vec<i32>,
    #[graphql(default)]
    pub class_ids: Vec<Uuid>,
    #[graphql(default)]
    pub group_ids: Vec<Uuid>,
    #[graphql(default)]
    pub user_ids: Vec<Uuid>,
}

impl AudienceInput {
    pub fn into_domain(self) -> async_graphql::Result<Audience> {
        let grades = self
            .grades
            .into_iter()
            .map(|g| {
                u8::try_from(g)
                    .map_err(|_| DomainError::invalid("audience.grades", "grades run from 1 to 12"))
            })
            .collect::<Result<Vec<u8>, _>>()
            .gql()?;
        Ok(Audience {
            everyone: self.everyone,
            roles: self.roles.into_iter().map(Into::into).collect(),
            grades,
            class_ids: self.class_ids,
            group_ids: self.group_ids,
            user_ids: self.user_ids,
        })
    }
}

#[derive(InputObject)]
pub struct PublishAnnouncementInput {
    pub title: String,
    pub body: String,
    #[graphql(default_with = "CategoryName::General")]
    pub category: CategoryName,
    #[graphql(default_with = "UrgencyName::Normal")]
    pub urgency: UrgencyName,
    pub audience: AudienceInput,
    /// When readers first see it; now when absent. Any offset is taken;
    /// instants come back in UTC.
    pub publish_at: Option<DateTime<Utc>>,
    /// When it leaves the feeds.
    pub expires_at: Option<DateTime<Utc>>,
    #[graphql(default)]
    pub requires_ack: bool,
}

/// An announcement; `readAt` and `acknowledgedAt` are the viewer's own.
pub struct AnnouncementNode {
    item: Announcement,
    read_at: Option<DateTime<Utc>>,
    acknowledged_at: Option<DateTime<Utc>>,
}

impl From<FeedItem> for AnnouncementNode {
    fn from(f: FeedItem) -> Self {
        AnnouncementNode {
            item: f.announcement,
            read_at: f.read_at,
            acknowledged_at: f.acknowledged_at,
        }
    }
}

#[Object(name = "Announcement")]
impl AnnouncementNode {
    async fn id(&self) -> Uuid {
        self.item.id
    }

    async fn title(&self) -> &str {
        &self.item.title
    }

    async fn body(&self) -> &str {
        &self.item.body
    }

    async fn category(&self) -> &str {
        &self.item.category
    }

    async fn urgency(&self) -> &str {
        &self.item.urgency
    }

    async fn publish_at(&self) -> DateTime<Utc> {
        self.item.publish_at
    }

    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.item.expires_at
    }

    async fn requires_ack(&self) -> bool {
        self.item.requires_ack
    }

    async fn read_at(&self) -> Option<DateTime<Utc>> {
        self.read_at
    }

    async fn acknowledged_at(&self) -> Option<DateTime<Utc>> {
        self.acknowledged_at
    }

    async fn author(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<UserNode>> {
        let loaders = ctx.data_unchecked::<super::loaders::Loaders>();
        let author = loaders.users.load_one(self.item.author_id).await;
        Ok(author.map_err(super::loaders::load_err)?.map(UserNode))
    }

    /// Who it reached; only for its author and admins.
    async fn delivery(&self, ctx: &Context<'_>) -> async_graphql::Result<DeliveryNode> {
        let viewer = ctx.viewer()?;
        let rule = Action::ViewAnnouncementDelivery {
            author_id: self.item.author_id,
        };
        authorize(&viewer.actor, &rule).gql()?;
        let figures = ctx.state().store.delivery(self.item.id).await.gql()?;
        Ok(DeliveryNode(figures))
    }
}

pub struct DeliveryNode(Delivery);

#[Object(name = "AnnouncementDelivery")]
impl DeliveryNode {
    /// People it is addressed to.
    async fn addressed(&self) -> i64 {
        self.0.addressed
    }

    async fn read(&self) -> i64 {
        self.0.read
    }

    async fn acknowledged(&self) -> i64 {
        self.0.acknowledged
    }

    /// Families with at least one addressed guardian or student.
    async fn families_addressed(&self) -> i64 {
        self.0.families_addressed
    }

    /// Families where any guardian (or student) has read it.
    async fn families_reached(&self) -> i64 {
        self.0.families_addressed - self.0.unreached_family_ids.len() as i64
    }

    /// Addressed people who have not read it yet.
    async fn not_read(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<UserNode>> {
        let users = ctx
            .state()
            .store
            .users(&self.0.unread_user_ids)
            .await
            .gql()?;
        let mut users: Vec<UserNode> = users.into_iter().map(UserNode).collect();
        users.sort_by(|a, b| a.0.name.cmp(&b.0.name));
        Ok(users)
    }

    /// Families nobody has read it in, with their children and the
    /// children's homeroom teachers, for follow-up.
    async fn unreached_families(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<UnreachedFamily>> {
        let store = &ctx.state().store;
        let students = store
            .students_of_families(&self.0.unreached_family_ids)
            .await
            .gql()?;
        let class_ids: Vec<Uuid> = students.iter().filter_map(|s| s.class_id).collect();
        let homerooms = store.homeroom_teachers(&class_ids).await.gql()?;
        let mut out = vec![];
        for family_id in &self.0.unreached_family_ids {
            let Some(family) = store.family(*family_id).await.gql()? else {
                continue;
            };
            let children: Vec<_> = students
                .iter()
                .filter(|s| s.family_id == Some(*family_id))
                .cloned()
                .collect();
            let mut teachers: Vec<Uuid> = homerooms
                .iter()
                .filter(|(class, _)| children.iter().any(|c| c.class_id == Some(*class)))
                .map(|(_, t)| *t)
                .collect();
            teachers.dedup();
            let teachers = store.users(&teachers).await.gql()?;
            out.push(UnreachedFamily {
                family: FamilyNode(family),
                students: children.into_iter().map(StudentNode).collect(),
                homeroom_teachers: teachers.into_iter().map(UserNode).collect(),
            });
        }
        Ok(out)
    }
}

#[derive(SimpleObject)]
pub struct UnreachedFamily {
    pub family: FamilyNode,
    pub students: Vec<StudentNode>,
    pub homeroom_teachers: Vec<UserNode>,
}

#[derive(SimpleObject)]
pub struct FeedExtra {
    /// Published, unexpired announcements the viewer has not read.
    pub unread_count: i64,
}

pub type AnnouncementConnection = Connection<String, AnnouncementNode, FeedExtra, EmptyFields>;

#[derive(Default)]
pub struct AnnouncementQuery;

#[Object]
impl AnnouncementQuery {
    /// The viewer's announcements, newest first.
    async fn feed(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<AnnouncementConnection> {
        let viewer = ctx.viewer()?;
        let state = ctx.state();
        let limit = page_size(first, state.config.limits.max_page_size)?;
        let cursor = after.as_deref().map(decode_cursor).transpose()?;
        let now = state.now();
        let page = state
            .store
            .feed(viewer.id(), now, cursor, limit + 1)
            .await
            .gql()?;
        let mut items = page.items;
        let more = items.len() as u64 > limit;
        items.truncate(limit as usize);
        let unread_count = match page.unread {
            Some(n) => n,
            None => state
                .store
                .unread_announcements(viewer.id(), now)
                .await
                .gql()?,
        };
        let mut connection =
            Connection::with_additional_fields(cursor.is_some(), more, FeedExtra { unread_count });
        connection.edges.extend(items.into_iter().map(|item| {
            let cursor = encode_cursor(item.announcement.publish_at, item.announcement.id);
            Edge::new(cursor, AnnouncementNode::from(item))
        }));
        Ok(connection)
    }

    /// One announcement, for a person it is addressed to (once published),
    /// its author, or an admin.
    async fn announcement(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
    ) -> async_graphql::Result<Option<AnnouncementNode>> {
        let viewer = ctx.viewer()?;
        let state = ctx.state();
        if let Some(item) = state
            .store
            .feed_item(viewer.id(), id, state.now())
            .await
            .gql()?
        {
            return Ok(Some(item.into()));
        }
        let Some(found) = state.store.announcement(id).await.gql()? else {
            return Ok(None);
        };
        let rule = Action::ViewAnnouncementDelivery {
            author_id: found.author_id,
        };
        Ok(authorize(&viewer.actor, &rule)
            .is_ok()
            .then_some(AnnouncementNode {
                item: found,
                read_at: None,
                acknowledged_at: None,
            }))
    }

    /// Announcements the viewer wrote (admins: everyone's) whose
    /// publication time falls in `[from, to)`, oldest first.
    async fn authored_announcements(
        &self,
        ctx: &Context<'_>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> async_graphql::Result<Vec<AnnouncementNode>> {
        let viewer = ctx.viewer()?;
        let everyone = viewer.actor.has(scrm_domain::role::Role::Admin);
        let author = (!everyone).then(|| viewer.id());
        let items = ctx
            .state()
            .store
            .announcements_between(author, from, to)
            .await
            .gql()?;
        Ok(items
            .into_iter()
            .map(|item| AnnouncementNode {
                item,
                read_at: None,
                acknowledged_at: None,
            })
            .collect())
    }
}

#[derive(Default)]
pub struct AnnouncementMutation;

#[Object]
impl AnnouncementMutation {
    /// Publishes now or at `publishAt`. Teachers may address only the
    /// classes they teach.
    async fn publish_announcement(
        &self,
        ctx: &Context<'_>,
        input: PublishAnnouncementInput,
    ) -> async_graphql::Result<AnnouncementNode> {
        let viewer = ctx.viewer()?;
        let state = ctx.state();
        let now = state.now();
        let draft = Draft {
            title: input.title,
            body: input.body,
            category: input.category.domain(),
            urgency: input.urgency.domain(),
            audience: input.audience.into_domain()?,
            publish_at: input.publish_at,
            expires_at: input.expires_at,
            requires_ack: input.requires_ack,
        }
        .validate(now)
        .gql()?;
        let taught: Vec<Uuid> = state
            .store
            .classes_taught(viewer.id())
            .await
            .gql()?
            .iter()
            .map(|c| c.id)
            .collect();
        let rule = Action::PublishAnnouncement {
            audience: &draft.audience,
            taught_class_ids: &taught,
        };
        authorize(&viewer.actor, &rule).gql()?;
        let (announcement, addressed) = state
            .store
            .publish_announcement(viewer.id(), &draft, &state.academic_year(), now)
            .await
            .gql()?;
        tracing::info!(announcement_id = %announcement.id, addressed, "announcement published");
        push_due_announcements(state).await;
        Ok(AnnouncementNode {
            item: announcement,
            read_at: None,
            acknowledged_at: None,
        })
    }

    async fn mark_announcement_read(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
    ) -> async_graphql::Result<AnnouncementNode> {
        mark(ctx, id, false).await
    }

    /// Confirms the announcement (and marks it read), where the school
    /// asked for a confirmation.
    async fn acknowledge_announcement(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
    ) -> async_graphql::Result<AnnouncementNode> {
        mark(ctx, id, true).await
    }
}

async fn mark(
    ctx: &Context<'_>,
    id: Uuid,
    acknowledge: bool,
) -> async_graphql::Result<AnnouncementNode> {
    let viewer = ctx.viewer()?;
    let state = ctx.state();
    let now = state.now();
    // A refused confirmation must leave the read state as it was, so the
    // rule is checked before anything is written.
    let item = state
        .store
        .feed_item(viewer.id(), id, now)
        .await
        .found("announcement")?;
    if acknowledge && !item.announcement.requires_ack {
        return Err(to_gql(DomainError::invalid(
            "id",
            "this announcement asks for no confirmation",
        )));
    }
    let item = state
        .store
        .mark_announcement(viewer.id(), id, acknowledge, now)
        .await
        .gql()?;
    Ok(item.into())
}

#[derive(Default)]
pub struct AnnouncementSubscription;

#[Subscription]
impl AnnouncementSubscription {
    /// Announcements as they are published to the viewer.
    async fn announcement_published(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = AnnouncementNode> + use<>> {
        let viewer: Viewer = ctx.viewer()?.clone();
        let user = viewer.id();
        let stream = user_events(
            ctx.state().clone(),
            user,
            "announcement.published",
            move |state, event| async move {
                let id = id_in(&event, "id")?;
                let item = state.store.feed_item(user, id, state.now()).await.ok()??;
                Some(AnnouncementNode::from(item))
            },
        );
        Ok(stream.await)
    }
}

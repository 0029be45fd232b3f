//! Services and their ratings, satisfaction with support requests,
//! recommend surveys, and the staff's complaint queue.

use async_graphql::{Context, InputObject, Object, SimpleObject, Subscription};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use futures_util::Stream;
use scrm_domain::DomainError;
use scrm_domain::policy::{Action, authorize};
use scrm_domain::rating::{self, MIN_RATERS_FOR_AGGREGATE, RecommendCounts};
use scrm_persistence::ratings::{Flag, Rating, Reply, Service, Summary};
use serde_json::json;
use uuid::Uuid;

use super::announcements::AudienceInput;
use super::directory::UserNode;
use super::errors::{Found, to_gql};
use super::scalars::Date;
use super::threads::ThreadNode;
use super::{ContextExt, Gql, Viewer};
use crate::feedback::{current_period, flag_if_complaint};
use crate::jobs::user_topic;
use crate::live::{id_in, user_events};

fn works_feedback(viewer: &Viewer) -> bool {
    authorize(&viewer.actor, &Action::WorkFeedback).is_ok()
}

fn check_period(period: &str) -> async_graphql::Result<()> {
    let digits = period.len() == 7
        && period
            .char_indices()
            .all(|(i, c)| if i == 4 { c == '-' } else { c.is_ascii_digit() });
    let ok = digits && NaiveDate::parse_from_str(&format!("{period}-01"), "%Y-%m-%d").is_ok();
    if ok {
        Ok(())
    } else {
        Err(to_gql(DomainError::invalid(
            "period",
            "a period is a month, written YYYY-MM",
        )))
    }
}

pub struct ServiceNode(pub Service);

#[Object(name = "Service")]
impl ServiceNode {
    async fn id(&self) -> Uuid {
        self.0.id
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn description(&self) -> &str {
        &self.0.description
    }

    async fn active(&self) -> bool {
        self.0.active
    }

    /// Count, average and distribution for a month (default: this one).
    /// Null for all but staff while fewer than five people rated it, so
    /// that nobody's rating can be singled out.
    async fn rating_summary(
        &self,
        ctx: &Context<'_>,
        period: Option<String>,
    ) -> async_graphql::Result<Option<RatingSummary>> {
        let viewer = ctx.viewer()?;
        let state = ctx.state();
        let period = period.unwrap_or_else(|| current_period(state));
        check_period(&period)?;
        let summary = state.store.rating_summary(self.0.id, &period).await.gql()?;
        // The viewer's own rating does not count towards the five: else
        // they could subtract it and read the others'.
        let own = state
            .store
            .my_rating(self.0.id, viewer.id(), &period)
            .await
            .gql()?;
        let others = summary.count - i64::from(own.is_some());
        if others < MIN_RATERS_FOR_AGGREGATE && !works_feedback(viewer) {
            return Ok(None);
        }
        Ok(Some(RatingSummary::new(period, &summary)))
    }

    /// The viewer's own rating this month.
    async fn my_rating(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<RatingNode>> {
        let viewer = ctx.viewer()?;
        let state = ctx.state();
        let mine = state
            .store
            .my_rating(self.0.id, viewer.id(), &current_period(state))
            .await
            .gql()?;
        Ok(mine.map(RatingNode))
    }

    /// Individual ratings of a month, newest first: staff only.
    async fn ratings(
        &self,
        ctx: &Context<'_>,
        period: Option<String>,
        first: Option<i32>,
    ) -> async_graphql::Result<Vec<RatingNode>> {
        let viewer = ctx.viewer()?;
        authorize(&viewer.actor, &Action::WorkFeedback).gql()?;
        let state = ctx.state();
        let period = period.unwrap_or_else(|| current_period(state));
        check_period(&period)?;
        let limit = super::pagination::page_size(first, state.config.limits.max_page_size)?;
        Ok(state
            .store
            .ratings_of(self.0.id, &period, limit)
            .await
            .gql()?
            .into_iter()
            .map(RatingNode)
            .collect())
    }
}

#[derive(SimpleObject)]
pub struct RatingSummary {
    pub period: String,
    pub count: i64,
    pub average: Option<f64>,
    /// How many gave 1, 2, 3, 4 and 5.
    pub distribution: Vec<i64>,
}

impl RatingSummary {
    fn new(period: String, s: &Summary) -> RatingSummary {
        RatingSummary {
            period,
            count: s.count,
            average: (s.count > 0).then(|| s.total as f64 / s.count as f64),
            distribution: vec![s.ones, s.twos, s.threes, s.fours, s.fives],
        }
    }
}

pub struct RatingNode(pub Rating);

#[Object(name = "Rating")]
impl RatingNode {
    async fn id(&self) -> Uuid {
        self.0.id
    }

    async fn service_id(&self) -> Uuid {
        self.0.service_id
    }

    /// The month it counts for, "YYYY-MM".
    async fn period(&self) -> &str {
        &self.0.period
    }

    async fn score(&self) -> i32 {
        self.0.score
    }

    async fn comment(&self) -> Option<&str> {
        self.0.comment.as_deref()
    }

    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }

    /// Who rated: shown to the rater and to staff only.
    async fn rater(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<UserNode>> {
        let viewer = ctx.viewer()?;
        if viewer.id() != self.0.user_id && !works_feedback(viewer) {
            return Ok(None);
        }
        Ok(ctx
            .state()
            .store
            .user(self.0.user_id)
            .await
            .gql()?
            .map(UserNode))
    }

    async fn replies(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<ReplyNode>> {
        Ok(ctx
            .state()
            .store
            .replies(&[self.0.id])
            .await
            .gql()?
            .into_iter()
            .map(ReplyNode)
            .collect())
    }
}

pub struct ReplyNode(pub Reply);

#[Object(name = "RatingReply")]
impl ReplyNode {
    async fn id(&self) -> Uuid {
        self.0.id
    }

    async fn rating_id(&self) -> Uuid {
        self.0.rating_id
    }

    async fn body(&self) -> &str {
        &self.0.body
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    async fn author(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<UserNode>> {
        Ok(ctx
            .state()
            .store
            .user(self.0.author_id)
            .await
            .gql()?
            .map(UserNode))
    }
}

#[derive(SimpleObject)]
pub struct ComplaintFlag {
    pub id: Uuid,
    /// RATING or SUPPORT_MESSAGE.
    pub source_kind: String,
    pub source_id: Uuid,
    pub author_id: Uuid,
    pub service_id: Option<Uuid>,
    pub excerpt: String,
    /// Why it was raised.
    pub reasons: Vec<String>,
    /// OPEN or RESOLVED.
    pub status: String,
    pub assignee_id: Option<Uuid>,
    pub resolution_note: Option<String>,
    pub created_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// Minutes from flag to resolution.
    pub minutes_to_resolve: Option<i64>,
}

impl From<Flag> for ComplaintFlag {
    fn from(f: Flag) -> Self {
        ComplaintFlag {
            minutes_to_resolve: f.resolved_at.map(|r| (r - f.created_at).num_minutes()),
            id: f.id,
            source_kind: f.source_kind,
            source_id: f.source_id,
            author_id: f.author_id,
            service_id: f.service_id,
            excerpt: f.excerpt,
            reasons: f.reasons.lines().map(str::to_owned).collect(),
            status: f.status,
            assignee_id: f.assignee_id,
            resolution_note: f.resolution_note,
            created_at: f.created_at,
            resolved_at: f.resolved_at,
        }
    }
}

#[derive(SimpleObject)]
pub struct SurveyNode {
    pub id: Uuid,
    pub title: String,
    pub opens_on: Date,
    pub closes_on: Date,
}

#[derive(SimpleObject)]
pub struct SurveyResult {
    pub survey: SurveyNode,
    pub answers: i64,
    pub promoters: i64,
    pub passives: i64,
    pub detractors: i64,
    /// Promoters minus detractors, in percent of answers.
    pub recommend_score: Option<f64>,
}

#[derive(InputObject)]
pub struct OpenSurveyInput {
    pub title: String,
    pub opens_on: Date,
    pub closes_on: Date,
    pub audience: AudienceInput,
}

#[derive(Default)]
pub struct RatingQuery;

#[Object]
impl RatingQuery {
    /// The catalogue (staff also see inactive services).
    async fn services(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<ServiceNode>> {
        let viewer = ctx.viewer()?;
        let all = works_feedback(viewer);
        Ok(ctx
            .state()
            .store
            .services(!all)
            .await
            .gql()?
            .into_iter()
            .map(ServiceNode)
            .collect())
    }

    async fn service(&self, ctx: &Context<'_>, id: Uuid) -> async_graphql::Result<ServiceNode> {
        ctx.viewer()?;
        let found = ctx.state().store.service(id).await.gql()?;
        found
            .map(ServiceNode)
            .ok_or_else(|| to_gql(DomainError::NotFound("service")))
    }

    /// Staff: the complaint queue, newest first.
    async fn complaint_flags(
        &self,
        ctx: &Context<'_>,
        status: Option<String>,
        first: Option<i32>,
    ) -> async_graphql::Result<Vec<ComplaintFlag>> {
        let viewer = ctx.viewer()?;
        authorize(&viewer.actor, &Action::WorkFeedback).gql()?;
        let state = ctx.state();
        let limit = super::pagination::page_size(first, state.config.limits.max_page_size)?;
        let flags = state.store.flags(status.as_deref(), limit).await.gql()?;
        Ok(flags.into_iter().map(ComplaintFlag::from).collect())
    }

    /// Surveys open today that ask the viewer and await their answer.
    async fn open_surveys(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<SurveyNode>> {
        let viewer = ctx.viewer()?;
        let state = ctx.state();
        let today = state.clock.date_of(state.now());
        let surveys = state.store.open_surveys(viewer.id(), today).await.gql()?;
        Ok(surveys
            .into_iter()
            .map(|s| SurveyNode {
                id: s.id,
                title: s.title,
                opens_on: Date(s.opens_on),
                closes_on: Date(s.closes_on),
            })
            .collect())
    }

    /// Staff: a survey's recommend score.
    async fn survey_result(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
    ) -> async_graphql::Result<SurveyResult> {
        let viewer = ctx.viewer()?;
        authorize(&viewer.actor, &Action::WorkFeedback).gql()?;
        let store = &ctx.state().store;
        let s = store.survey(id).await.found("survey")?;
        let counts = RecommendCounts::of(store.survey_scores(id).await.gql()?);
        Ok(SurveyResult {
            survey: SurveyNode {
                id: s.id,
                title: s.title,
                opens_on: Date(s.opens_on),
                closes_on: Date(s.closes_on),
            },
            answers: counts.total(),
            promoters: counts.promoters,
            passives: counts.passives,
            detractors: counts.detractors,
            recommend_score: counts.score(),
        })
    }

    /// Resolved support requests waiting for the viewer's satisfaction rating.
    async fn satisfaction_requests(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<ThreadNode>> {
        let viewer = ctx.viewer()?;
        let store = &ctx.state().store;
        let mut out = vec![];
        for id in store.satisfaction_pending(viewer.id()).await.gql()? {
            out.extend(store.thread(id).await.gql()?.map(ThreadNode::new));
        }
        Ok(out)
    }
}

#[derive(Default)]
pub struct RatingMutation;

#[Object]
impl RatingMutation {
    /// Admins keep the catalogue.
    async fn create_service(
        &self,
        ctx: &Context<'_>,
        name: String,
        description: String,
    ) -> async_graphql::Result<ServiceNode> {
        authorize(&ctx.viewer()?.actor, &Action::ManageServices).gql()?;
        let name = checked_name(&name)?;
        let state = ctx.state();
        Ok(ServiceNode(
            state
                .store
                .create_service(&name, description.trim(), state.now())
                .await
                .gql()?,
        ))
    }

    async fn update_service(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
        name: String,
        description: String,
        active: bool,
    ) -> async_graphql::Result<ServiceNode> {
        authorize(&ctx.viewer()?.actor, &Action::ManageServices).gql()?;
        let name = checked_name(&name)?;
        Ok(ServiceNode(
            ctx.state()
                .store
                .update_service(id, &name, description.trim(), active)
                .await
                .gql()?,
        ))
    }

    /// Rates a service 1–5 for this month; rating again replaces it.
    async fn rate_service(
        &self,
        ctx: &Context<'_>,
        service_id: Uuid,
        score: i32,
        comment: Option<String>,
    ) -> async_graphql::Result<RatingNode> {
        let viewer = ctx.viewer()?;
        if !rating::may_rate(&viewer.actor.roles) {
            return Err(to_gql(DomainError::forbidden(
                "the school's staff do not rate its services",
            )));
        }
        let score = rating::check_score(score).gql()?;
        let comment = comment
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty());
        rating::check_comment(comment.as_deref()).gql()?;
        let state = ctx.state();
        let service = state
            .store
            .service(service_id)
            .await
            .gql()?
            .filter(|s| s.active);
        let service = service.ok_or_else(|| to_gql(DomainError::NotFound("service")))?;
        let rated = state
            .store
            .rate(
                service.id,
                viewer.id(),
                &current_period(state),
                score,
                comment.as_deref(),
                state.now(),
            )
            .await
            .gql()?;
        let text = comment.as_deref().unwrap_or_default();
        flag_if_complaint(
            state,
            "RATING",
            rated.id,
            viewer.id(),
            Some(service.id),
            text,
            Some(score),
        )
        .await;
        Ok(RatingNode(rated))
    }

    /// Takes back the viewer's rating of this month.
    async fn delete_rating(
        &self,
        ctx: &Context<'_>,
        service_id: Uuid,
    ) -> async_graphql::Result<bool> {
        let viewer = ctx.viewer()?;
        let state = ctx.state();
        let period = current_period(state);
        if let Some(rating) = state
            .store
            .my_rating(service_id, viewer.id(), &period)
            .await
            .gql()?
        {
            state.store.withdraw_flag("RATING", rating.id).await.gql()?;
        }
        state
            .store
            .delete_rating(service_id, viewer.id(), &period)
            .await
            .gql()
    }

    /// Staff answer a rating; the rater sees it live.
    async fn reply_to_rating(
        &self,
        ctx: &Context<'_>,
        rating_id: Uuid,
        body: String,
    ) -> async_graphql::Result<ReplyNode> {
        let viewer = ctx.viewer()?;
        authorize(&viewer.actor, &Action::WorkFeedback).gql()?;
        let body = body.trim();
        if body.is_empty() || body.chars().count() > 2_000 {
            return Err(to_gql(DomainError::invalid(
                "body",
                "a reply has 1 to 2,000 characters",
            )));
        }
        let state = ctx.state();
        let rated = state.store.rating(rating_id).await.found("rating")?;
        let reply = state
            .store
            .reply_to_rating(rated.id, viewer.id(), body, state.now())
            .await
            .gql()?;
        let event = json!({ "kind": "rating.reply", "ratingId": rated.id, "replyId": reply.id });
        crate::conversations::publish(state, vec![user_topic(rated.user_id)], event);
        Ok(ReplyNode(reply))
    }

    /// The requester rates a resolved support request 1–5.
    async fn rate_support(
        &self,
        ctx: &Context<'_>,
        thread_id: Uuid,
        score: i32,
        comment: Option<String>,
    ) -> async_graphql::Result<bool> {
        let viewer = ctx.viewer()?;
        let score = rating::check_score(score).gql()?;
        rating::check_comment(comment.as_deref()).gql()?;
        let state = ctx.state();
        let thread = state.store.thread(thread_id).await.gql()?;
        let thread = thread
            .filter(|t| t.requester_id == Some(viewer.id()))
            .ok_or_else(|| to_gql(DomainError::NotFound("support request")))?;
        if thread.support_status.as_deref() != Some("RESOLVED") {
            return Err(to_gql(DomainError::invalid(
                "threadId",
                "a request is rated once it is resolved",
            )));
        }
        state
            .store
            .rate_support(
                thread.id,
                viewer.id(),
                score,
                comment.as_deref(),
                state.now(),
            )
            .await
            .gql()?;
        let text = comment.unwrap_or_default();
        flag_if_complaint(
            state,
            "SATISFACTION",
            thread.id,
            viewer.id(),
            None,
            &text,
            Some(score),
        )
        .await;
        Ok(true)
    }

    /// Staff open a would-you-recommend survey for a period and audience.
    async fn open_survey(
        &self,
        ctx: &Context<'_>,
        input: OpenSurveyInput,
    ) -> async_graphql::Result<SurveyNode> {
        let viewer = ctx.viewer()?;
        authorize(&viewer.actor, &Action::WorkFeedback).gql()?;
        let title = checked_name(&input.title)?;
        if input.closes_on < input.opens_on {
            return Err(to_gql(DomainError::invalid(
                "closesOn",
                "a survey closes after it opens",
            )));
        }
        let audience = input.audience.into_domain()?;
        audience.validate().gql()?;
        let state = ctx.state();
        let (s, asked) = state
            .store
            .create_survey(
                &title,
                (input.opens_on.0, input.closes_on.0),
                &audience,
                &state.academic_year(),
                viewer.id(),
                state.now(),
            )
            .await
            .gql()?;
        tracing::info!(survey_id = %s.id, asked, "survey opened");
        Ok(SurveyNode {
            id: s.id,
            title: s.title,
            opens_on: Date(s.opens_on),
            closes_on: Date(s.closes_on),
        })
    }

    /// Answers an open survey 0–10; answering again replaces it.
    async fn answer_survey(
        &self,
        ctx: &Context<'_>,
        survey_id: Uuid,
        score: i32,
        comment: Option<String>,
    ) -> async_graphql::Result<bool> {
        let viewer = ctx.viewer()?;
        let score = rating::check_recommend_score(score).gql()?;
        rating::check_comment(comment.as_deref()).gql()?;
        let state = ctx.state();
        let today = state.clock.date_of(state.now());
        state
            .store
            .answer_survey(
                survey_id,
                viewer.id(),
                score,
                comment.as_deref(),
                today,
                state.now(),
            )
            .await
            .gql()?;
        Ok(true)
    }

    async fn assign_flag(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
        assignee_id: Uuid,
    ) -> async_graphql::Result<ComplaintFlag> {
        authorize(&ctx.viewer()?.actor, &Action::WorkFeedback).gql()?;
        let assignee = ctx.state().store.user(assignee_id).await.gql()?;
        let staff = assignee.is_some_and(|u| u.is_staff());
        if !staff {
            return Err(to_gql(DomainError::invalid(
                "assigneeId",
                "complaints go to staff",
            )));
        }
        Ok(ctx
            .state()
            .store
            .assign_flag(id, assignee_id)
            .await
            .gql()?
            .into())
    }

    /// Resolves a flag with a note; the time to resolve is kept.
    async fn resolve_flag(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
        note: String,
    ) -> async_graphql::Result<ComplaintFlag> {
        authorize(&ctx.viewer()?.actor, &Action::WorkFeedback).gql()?;
        let note = note.trim();
        if note.is_empty() || note.chars().count() > 2_000 {
            return Err(to_gql(DomainError::invalid(
                "note",
                "say how it was resolved, in up to 2,000 characters",
            )));
        }
        let state = ctx.state();
        Ok(state
            .store
            .resolve_flag(id, note, state.now())
            .await
            .gql()?
            .into())
    }
}

fn checked_name(name: &str) -> async_graphql::Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(to_gql(DomainError::invalid(
            "name",
            "a name has 1 to 100 characters",
        )));
    }
    Ok(name.to_owned())
}

/// The months from `from` to `to`, as (year, month).
pub fn months_between(from: NaiveDate, to: NaiveDate) -> Vec<(i32, u32)> {
    let mut out = vec![];
    let (mut y, mut m) = (from.year(), from.month());
    while (y, m) <= (to.year(), to.month()) {
        out.push((y, m));
        (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    }
    out
}

#[derive(Default)]
pub struct RatingSubscription;

#[Subscription]
impl RatingSubscription {
    /// Staff replies to the viewer's ratings, as they are written.
    async fn rating_replied(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = ReplyNode> + use<>> {
        let user = ctx.viewer()?.id();
        let stream = user_events(
            ctx.state().clone(),
            user,
            "rating.reply",
            |state, event| async move {
                let (rating, reply) = (id_in(&event, "ratingId")?, id_in(&event, "replyId")?);
                let replies = state.store.replies(&[rating]).await.ok()?;
                replies.into_iter().find(|r| r.id == reply).map(ReplyNode)
            },
        );
        Ok(stream.await)
    }
}

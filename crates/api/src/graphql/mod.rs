//! The GraphQL schema, split by area and merged here. The web glue
//! (HTTP and WebSocket) lives apart, in `http` and `ws`.

mod announcements;
mod conversations;
mod directory;
mod errors;
mod invoices;
mod loaders;
mod pagination;
mod payments;
mod ratings;
mod report;
mod roster;
pub mod scalars;
pub mod session;
mod thread_live;
mod threads;

use async_graphql::{MergedObject, MergedSubscription, Schema};
use scrm_domain::policy::Actor;
use uuid::Uuid;

use crate::state::AppState;

pub use errors::{Gql, code_of};

#[derive(MergedObject, Default)]
pub struct Query(
    session::SessionQuery,
    directory::DirectoryQuery,
    announcements::AnnouncementQuery,
    conversations::ConversationQuery,
    payments::PaymentQuery,
    ratings::RatingQuery,
    report::ReportQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(
    session::SessionMutation,
    directory::DirectoryMutation,
    roster::RosterMutation,
    announcements::AnnouncementMutation,
    conversations::ConversationMutation,
    payments::PaymentMutation,
    ratings::RatingMutation,
);

#[derive(MergedSubscription, Default)]
pub struct Subscription(
    announcements::AnnouncementSubscription,
    thread_live::ConversationSubscription,
    payments::PaymentSubscription,
    ratings::RatingSubscription,
);

pub type ScrmSchema = Schema<Query, Mutation, Subscription>;

/// The signed-in person a request runs for.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub actor: Actor,
    pub session_id: Uuid,
}

impl Viewer {
    pub fn id(&self) -> Uuid {
        self.actor.user_id
    }
}

pub fn build_schema(state: AppState) -> ScrmSchema {
    let limits = &state.config.limits;
    let mut builder = Schema::build(
        Query::default(),
        Mutation::default(),
        Subscription::default(),
    )
    .limit_depth(limits.max_depth)
    .limit_complexity(limits.max_complexity)
    .limit_directives(10)
    .limit_recursive_depth(64);
    if !state.config.dev {
        builder = builder.disable_introspection().disable_suggestions();
    }
    builder
        .data(loaders::Loaders::new(&state.store))
        .data(state)
        .finish()
}

/// The SDL of the schema as the code defines it.
pub fn sdl() -> String {
    Schema::build(
        Query::default(),
        Mutation::default(),
        Subscription::default(),
    )
    .finish()
    .sdl()
}

/// Shortcuts every resolver uses.
pub(crate) trait ContextExt {
    fn state(&self) -> &AppState;
    /// The viewer, or UNAUTHENTICATED.
    fn viewer(&self) -> async_graphql::Result<&Viewer>;
}

impl ContextExt for async_graphql::Context<'_> {
    fn state(&self) -> &AppState {
        self.data_unchecked::<AppState>()
    }

    fn viewer(&self) -> async_graphql::Result<&Viewer> {
        self.data_opt::<Viewer>()
            .ok_or_else(|| errors::to_gql(scrm_domain::DomainError::Unauthenticated))
    }
}

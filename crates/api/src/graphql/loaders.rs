//! Batch loaders, so that a list of threads with their last messages,
//! senders and members costs a fixed number of queries (BC-14).

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use scrm_domain::DomainError;
use scrm_persistence::Store;
use scrm_persistence::messages::{Message, Reaction};
use scrm_persistence::threads::Member;
use scrm_persistence::users::User;
use uuid::Uuid;

pub type LoadError = Arc<DomainError>;

pub struct Users(pub Store);
pub struct LastMessages(pub Store);
pub struct Members(pub Store);
pub struct Reactions(pub Store);

impl Loader<Uuid> for Users {
    type Value = User;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, User>, LoadError> {
        let users = self.0.users(keys).await.map_err(Arc::new)?;
        Ok(users.into_iter().map(|u| (u.id, u)).collect())
    }
}

impl Loader<Uuid> for LastMessages {
    type Value = Message;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Message>, LoadError> {
        let messages = self.0.last_messages(keys).await.map_err(Arc::new)?;
        Ok(messages.into_iter().map(|m| (m.thread_id, m)).collect())
    }
}

impl Loader<Uuid> for Members {
    type Value = Vec<Member>;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Vec<Member>>, LoadError> {
        let mut out: HashMap<Uuid, Vec<Member>> = HashMap::new();
        for m in self.0.members_of(keys).await.map_err(Arc::new)? {
            out.entry(m.thread_id).or_default().push(m);
        }
        Ok(out)
    }
}

impl Loader<Uuid> for Reactions {
    type Value = Vec<Reaction>;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Vec<Reaction>>, LoadError> {
        let mut out: HashMap<Uuid, Vec<Reaction>> = HashMap::new();
        for r in self.0.reactions(keys).await.map_err(Arc::new)? {
            out.entry(r.message_id).or_default().push(r);
        }
        Ok(out)
    }
}

/// All loaders, shared by every request; they batch within a request and
/// keep no cache, so nothing stale outlives a response.
pub struct Loaders {
    pub users: DataLoader<Users>,
    pub last_messages: DataLoader<LastMessages>,
    pub members: DataLoader<Members>,
    pub reactions: DataLoader<Reactions>,
}

impl Loaders {
    pub fn new(store: &Store) -> Loaders {
        Loaders {
            users: DataLoader::new(Users(store.clone()), tokio::spawn),
            last_messages: DataLoader::new(LastMessages(store.clone()), tokio::spawn),
            members: DataLoader::new(Members(store.clone()), tokio::spawn),
            reactions: DataLoader::new(Reactions(store.clone()), tokio::spawn),
        }
    }
}

/// Turns a loader's shared error into a GraphQL one.
pub fn load_err(err: LoadError) -> async_graphql::Error {
    match Arc::try_unwrap(err) {
        Ok(e) => super::errors::to_gql(e),
        Err(shared) => super::errors::to_gql(DomainError::internal(shared.to_string())),
    }
}

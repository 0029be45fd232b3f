//! Activation, sign-in, token refresh and sign-out, and `me`.

use async_graphql::{Context, InputObject, Object, SimpleObject};
use chrono::{DateTime, Duration, Utc};
use scrm_domain::DomainError;
use scrm_domain::phone::normalize_phone;
use scrm_persistence::users::{Refresh, User};

use super::directory::UserNode;
use super::errors::to_gql;
use super::{ContextExt, Gql};
use crate::auth::{self, MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS};
use crate::state::AppState;

/// A signed-in session: a short-lived access token for requests and a
/// refresh token that is traded for the next pair.
#[derive(SimpleObject)]
pub struct Session {
    pub access_token: String,
    pub refresh_token: String,
    /// When the access token stops working.
    pub expires_at: DateTime<Utc>,
    pub user: UserNode,
}

/// The client's address, set by the HTTP layer for rate limiting.
#[derive(Clone, Debug)]
pub struct ClientIp(pub String);

#[derive(Default)]
pub struct SessionQuery;

#[Object]
impl SessionQuery {
    /// The signed-in person, with roles, children, classes and groups.
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<UserNode> {
        let viewer = ctx.viewer()?;
        let user = ctx.state().store.user(viewer.id()).await.gql()?;
        user.map(UserNode)
            .ok_or_else(|| to_gql(DomainError::Unauthenticated))
    }
}

#[derive(InputObject)]
pub struct ActivateInput {
    pub code: String,
    pub password: String,
    /// A login to add when the school had none on file.
    pub email: Option<String>,
    pub phone: Option<String>,
}

#[derive(Default)]
pub struct SessionMutation;

#[Object]
impl SessionMutation {
    /// Uses a family's one-time activation code: the family's first
    /// guardian sets a password and is signed in.
    async fn activate(
        &self,
        ctx: &Context<'_>,
        code: String,
        password: String,
        email: Option<String>,
        phone: Option<String>,
    ) -> async_graphql::Result<Session> {
        let state = ctx.state();
        limit(ctx, "activate")?;
        check_password(&password)?;
        let email = email.map(|e| normalize_email(&e)).transpose()?;
        let phone = phone
            .map(|p| normalize_phone(&p).map_err(|e| DomainError::invalid("phone", e.to_string())))
            .transpose()
            .gql()?;
        let hash = auth::hash_password_blocking(password).await.gql()?;
        let code = auth::normalize_code(&code);
        let user = state
            .store
            .activate(&code, &hash, email, phone, state.now())
            .await
            .gql()?
            .ok_or_else(|| {
                to_gql(DomainError::invalid(
                    "code",
                    "that activation code is not valid or was already used",
                ))
            })?;
        start_session(state, user).await
    }

    /// Signs in with an e-mail or phone number and a password. A wrong
    /// password and an unknown account get the same answer.
    async fn sign_in(
        &self,
        ctx: &Context<'_>,
        login: String,
        password: String,
    ) -> async_graphql::Result<Session> {
        let state = ctx.state();
        let login = normalize_login(&login);
        limit(ctx, &format!("sign-in:{login}"))?;
        let user = state.store.user_by_login(&login).await.gql()?;
        let hash = user.as_ref().and_then(|u| u.password_hash.clone());
        let ok =
            tokio::task::spawn_blocking(move || auth::verify_password(&password, hash.as_deref()))
                .await
                .unwrap_or(false);
        match user {
            Some(user) if ok => start_session(state, user).await,
            _ => Err(to_gql(DomainError::Unauthenticated)),
        }
    }

    /// Trades a refresh token for a new pair. A token used twice revokes
    /// its whole session.
    async fn refresh_session(
        &self,
        ctx: &Context<'_>,
        refresh_token: String,
    ) -> async_graphql::Result<Session> {
        let state = ctx.state();
        let next = auth::new_refresh_token();
        let now = state.now();
        let outcome = state
            .store
            .rotate_refresh(
                &auth::token_hash(&refresh_token),
                &auth::token_hash(&next),
                refresh_expiry(state, now),
                Duration::seconds(state.config.limits.refresh_reuse_grace_seconds),
                now,
            )
            .await
            .gql()?;
        let Refresh::Rotated {
            user_id,
            session_id,
        } = outcome
        else {
            if outcome == Refresh::Reused {
                tracing::warn!("a used refresh token came back; its session is revoked");
            }
            return Err(to_gql(DomainError::Unauthenticated));
        };
        let user = state
            .store
            .user(user_id)
            .await
            .gql()?
            .ok_or_else(|| to_gql(DomainError::Unauthenticated))?;
        let (access_token, expires_at) = state.keys.issue(user_id, session_id, now).gql()?;
        Ok(Session {
            access_token,
            refresh_token: next,
            expires_at,
            user: UserNode(user),
        })
    }

    /// Ends the session of this refresh token, with its access tokens.
    async fn sign_out(
        &self,
        ctx: &Context<'_>,
        refresh_token: String,
    ) -> async_graphql::Result<bool> {
        let state = ctx.state();
        state
            .store
            .sign_out(&auth::token_hash(&refresh_token), state.now())
            .await
            .gql()
    }
}

async fn start_session(state: &AppState, user: User) -> async_graphql::Result<Session> {
    let now = state.now();
    let refresh_token = auth::new_refresh_token();
    let session_id = state
        .store
        .start_session(
            user.id,
            &auth::token_hash(&refresh_token),
            refresh_expiry(state, now),
            now,
        )
        .await
        .gql()?;
    let (access_token, expires_at) = state.keys.issue(user.id, session_id, now).gql()?;
    Ok(Session {
        access_token,
        refresh_token,
        expires_at,
        user: UserNode(user),
    })
}

fn refresh_expiry(state: &AppState, now: DateTime<Utc>) -> DateTime<Utc> {
    now + Duration::days(state.config.limits.refresh_token_days)
}

fn limit(ctx: &Context<'_>, key: &str) -> async_graphql::Result<()> {
    let ip = ctx.data_opt::<ClientIp>().map_or("-", |c| c.0.as_str());
    let state = ctx.state();
    if state.limiter.allow(&format!("{key}@{ip}")) {
        Ok(())
    } else {
        Err(to_gql(DomainError::RateLimited))
    }
}

pub fn check_password(password: &str) -> async_graphql::Result<()> {
    let n = password.chars().count();
    if (MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&n) {
        Ok(())
    } else {
        Err(to_gql(DomainError::invalid(
            "password",
            format!("a password has {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters"),
        )))
    }
}

/// E-mails compare in lower case; anything else is read as a phone.
pub fn normalize_login(login: &str) -> String {
    let login = login.trim();
    if login.contains('@') {
        login.to_lowercase()
    } else {
        normalize_phone(login).unwrap_or_else(|_| login.to_owned())
    }
}

fn normalize_email(raw: &str) -> async_graphql::Result<String> {
    let email = raw.trim().to_lowercase();
    let valid = email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && domain.contains('.') && !domain.contains('@')
    });
    if valid {
        Ok(email)
    } else {
        Err(to_gql(DomainError::invalid(
            "email",
            "that e-mail address is not valid",
        )))
    }
}

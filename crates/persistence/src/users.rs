//! Users, activation and sign-in sessions.
//!
//! A session is one chain of refresh tokens. Each refresh uses a token up
//! and issues the next; presenting a used token again means it leaked, so
//! the whole session is revoked.

use chrono::{DateTime, Utc};
use scrm_domain::role::{Department, Role, join_set, split_set};
use scrm_domain::{DomainError, DomainResult};
use sea_orm::{FromQueryResult, TransactionTrait};
use uuid::Uuid;

use crate::Store;
use crate::error::{db_err, unique_as};
use crate::sql::{all, exec, one};

/// A person who can sign in (or will, once activated).
#[derive(Debug, Clone)]
pub struct User {
    pub id: Uuid,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub password_hash: Option<String>,
    pub roles: Vec<Role>,
    pub departments: Vec<Department>,
    pub family_id: Option<Uuid>,
    pub activated_at: Option<DateTime<Utc>>,
}

impl User {
    /// Admins and staff: the people who run the school's services.
    pub fn is_staff(&self) -> bool {
        self.roles
            .iter()
            .any(|r| matches!(r, Role::Staff | Role::Admin))
    }
}

#[derive(FromQueryResult)]
struct UserRow {
    id: Uuid,
    name: String,
    email: Option<String>,
    phone: Option<String>,
    password_hash: Option<String>,
    roles: String,
    departments: String,
    family_id: Option<Uuid>,
    activated_at: Option<DateTime<Utc>>,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> Self {
        User {
            id: r.id,
            name: r.name,
            email: r.email,
            phone: r.phone,
            password_hash: r.password_hash,
            roles: split_set(&r.roles),
            departments: split_set(&r.departments),
            family_id: r.family_id,
            activated_at: r.activated_at,
        }
    }
}

pub(crate) const USER_COLUMNS: &str = "id, name, email, phone, password_hash, roles, \
     departments, family_id, activated_at";

/// What it takes to create a user directly (staff accounts, the demo).
#[derive(Debug, Clone)]
pub struct NewUser {
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub password_hash: Option<String>,
    pub roles: Vec<Role>,
    pub departments: Vec<Department>,
    pub family_id: Option<Uuid>,
}

/// How a refresh attempt ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Refresh {
    Rotated {
        user_id: Uuid,
        session_id: Uuid,
    },
    /// Unknown, expired or revoked: sign in again.
    Refused,
    /// A used token came back: the session is now revoked.
    Reused,
}

impl Store {
    pub async fn user(&self, id: Uuid) -> DomainResult<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let row: Option<UserRow> = one(&self.db, &sql, vec![id.into()]).await?;
        Ok(row.map(User::from))
    }

    /// The user of a live (unrevoked) session of theirs, in one read:
    /// what every authenticated request needs.
    pub async fn session_user(
        &self,
        session_id: Uuid,
        user_id: Uuid,
    ) -> DomainResult<Option<User>> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE id = $2 AND EXISTS \
             (SELECT 1 FROM sessions s WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL)"
        );
        let row: Option<UserRow> =
            one(&self.db, &sql, vec![session_id.into(), user_id.into()]).await?;
        Ok(row.map(User::from))
    }

    pub async fn users(&self, ids: &[Uuid]) -> DomainResult<Vec<User>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE id IN ({})",
            crate::sql::placeholders(1, ids.len())
        );
        let values = ids.iter().map(|id| (*id).into()).collect();
        let rows: Vec<UserRow> = all(&self.db, &sql, values).await?;
        Ok(rows.into_iter().map(User::from).collect())
    }

    /// Finds a user by a normalised e-mail (lower case) or phone (+62…).
    pub async fn user_by_login(&self, login: &str) -> DomainResult<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1 OR phone = $1");
        let row: Option<UserRow> = one(&self.db, &sql, vec![login.into()]).await?;
        Ok(row.map(User::from))
    }

    pub async fn create_user(&self, new: NewUser, now: DateTime<Utc>) -> DomainResult<User> {
        let id = Uuid::now_v7();
        let activated = new.password_hash.as_ref().map(|_| now);
        exec(
            &self.db,
            "INSERT INTO users (id, name, email, phone, password_hash, roles, departments, \
             family_id, activated_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            vec![
                id.into(),
                new.name.into(),
                new.email.into(),
                new.phone.into(),
                new.password_hash.into(),
                join_set(&new.roles, Role::as_str).into(),
                join_set(&new.departments, Department::as_str).into(),
                new.family_id.into(),
                activated.into(),
                now.into(),
            ],
        )
        .await
        .map_err(unique_as("login", "that e-mail or phone is already in use"))?;
        self.user(id).await?.ok_or(DomainError::NotFound("user"))
    }

    /// Uses up a family's activation code: the family's primary guardian
    /// gets `password_hash` (and the given logins, if any). The code works
    /// once; a second use finds nothing.
    pub async fn activate(
        &self,
        code: &str,
        password_hash: &str,
        email: Option<String>,
        phone: Option<String>,
        now: DateTime<Utc>,
    ) -> DomainResult<Option<User>> {
        #[derive(FromQueryResult)]
        struct Claimed {
            primary_guardian_id: Option<Uuid>,
        }
        let tx = self.db.begin().await.map_err(db_err)?;
        let claimed: Option<Claimed> = one(
            &tx,
            "UPDATE families SET activation_code = NULL, activated_at = $2 \
             WHERE activation_code = $1 RETURNING primary_guardian_id",
            vec![code.into(), now.into()],
        )
        .await?;
        let Some(guardian) = claimed.and_then(|c| c.primary_guardian_id) else {
            return Ok(None);
        };
        let field = if email.is_some() { "email" } else { "phone" };
        exec(
            &tx,
            "UPDATE users SET password_hash = $2, activated_at = $3, \
             email = COALESCE(email, $4), phone = COALESCE(phone, $5) WHERE id = $1",
            vec![
                guardian.into(),
                password_hash.into(),
                now.into(),
                email.into(),
                phone.into(),
            ],
        )
        .await
        .map_err(unique_as(field, "that e-mail or phone is already in use"))?;
        tx.commit().await.map_err(db_err)?;
        self.user(guardian).await
    }

    /// Starts a session with its first refresh token.
    pub async fn start_session(
        &self,
        user_id: Uuid,
        token_hash: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> DomainResult<Uuid> {
        let session_id = Uuid::now_v7();
        let tx = self.db.begin().await.map_err(db_err)?;
        exec(
            &tx,
            "INSERT INTO sessions (id, user_id, created_at) VALUES ($1, $2, $3)",
            vec![session_id.into(), user_id.into(), now.into()],
        )
        .await
        .map_err(db_err)?;
        insert_refresh(&tx, session_id, token_hash, expires_at, now).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(session_id)
    }

    /// Trades a refresh token for the next one of its session. A token
    /// used a second time revokes the session, unless the second use
    /// comes within a few seconds of the first: that is two requests of
    /// one app racing, which is refused without signing anyone out.
    pub async fn rotate_refresh(
        &self,
        token_hash: &str,
        next_hash: &str,
        next_expires_at: DateTime<Utc>,
        grace: chrono::Duration,
        now: DateTime<Utc>,
    ) -> DomainResult<Refresh> {
        #[derive(FromQueryResult)]
        struct Token {
            session_id: Uuid,
            user_id: Uuid,
            expires_at: DateTime<Utc>,
            used_at: Option<DateTime<Utc>>,
            revoked_at: Option<DateTime<Utc>>,
        }
        let tx = self.db.begin().await.map_err(db_err)?;
        // The conditional update comes first: it makes one winner among
        // racing refreshes, and on SQLite it takes the write lock at once.
        let won = exec(
            &tx,
            "UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL",
            vec![token_hash.into(), now.into()],
        )
        .await
        .map_err(db_err)?
            == 1;
        let token: Option<Token> = one(
            &tx,
            "SELECT t.session_id, s.user_id, t.expires_at, t.used_at, s.revoked_at \
             FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id \
             WHERE t.token_hash = $1",
            vec![token_hash.into()],
        )
        .await?;
        let Some(token) = token else {
            return Ok(Refresh::Refused);
        };
        if token.revoked_at.is_some() || token.expires_at <= now {
            return Ok(Refresh::Refused);
        }
        if !won {
            let racing = token.used_at.is_some_and(|at| now - at < grace);
            if racing {
                return Ok(Refresh::Refused);
            }
            revoke(&tx, token.session_id, now).await?;
            tx.commit().await.map_err(db_err)?;
            return Ok(Refresh::Reused);
        }
        insert_refresh(&tx, token.session_id, next_hash, next_expires_at, now).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(Refresh::Rotated {
            user_id: token.user_id,
            session_id: token.session_id,
        })
    }

    /// Ends the session that `token_hash` belongs to. False when the
    /// token is unknown.
    pub async fn sign_out(&self, token_hash: &str, now: DateTime<Utc>) -> DomainResult<bool> {
        let affected = exec(
            &self.db,
            "UPDATE sessions SET revoked_at = $2 WHERE revoked_at IS NULL AND id IN \
             (SELECT session_id FROM refresh_tokens WHERE token_hash = $1)",
            vec![token_hash.into(), now.into()],
        )
        .await
        .map_err(db_err)?;
        Ok(affected > 0)
    }

    /// True while the session has not been revoked.
    pub async fn session_is_live(&self, session_id: Uuid) -> DomainResult<bool> {
        let n = crate::sql::count(
            &self.db,
            "SELECT COUNT(*) AS n FROM sessions WHERE id = $1 AND revoked_at IS NULL",
            vec![session_id.into()],
        )
        .await?;
        Ok(n == 1)
    }
}

async fn insert_refresh<C: sea_orm::ConnectionTrait>(
    db: &C,
    session_id: Uuid,
    token_hash: &str,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    exec(
        db,
        "INSERT INTO refresh_tokens (id, session_id, token_hash, expires_at, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
        vec![
            Uuid::now_v7().into(),
            session_id.into(),
            token_hash.into(),
            expires_at.into(),
            now.into(),
        ],
    )
    .await
    .map_err(db_err)?;
    Ok(())
}

async fn revoke<C: sea_orm::ConnectionTrait>(
    db: &C,
    session_id: Uuid,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    exec(
        db,
        "UPDATE sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
        vec![session_id.into(), now.into()],
    )
    .await
    .map_err(db_err)?;
    Ok(())
}

impl Store {
    /// Ids of people holding `role`, oldest accounts first.
    pub async fn user_ids_with_role(&self, role: Role, limit: u64) -> DomainResult<Vec<Uuid>> {
        #[derive(FromQueryResult)]
        struct Id {
            id: Uuid,
        }
        let rows: Vec<Id> = all(
            &self.db,
            "SELECT id FROM users WHERE (',' || roles || ',') LIKE $1 ORDER BY created_at, id LIMIT $2",
            vec![format!("%,{},%", role.as_str()).into(), (limit as i64).into()],
        )
        .await?;
        Ok(rows.into_iter().map(|r| r.id).collect())
    }
}

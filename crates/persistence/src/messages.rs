//! Messages: idempotent sending with per-thread sequence numbers,
//! history in both directions, edits, deletions, reactions, reports.

use chrono::{DateTime, Utc};
use scrm_domain::{DomainError, DomainResult};
use sea_orm::{ConnectionTrait, FromQueryResult, SqlErr, TransactionTrait, Value};
use uuid::Uuid;

use crate::Store;
use crate::error::db_err;
use crate::sql::{all, exec, one, placeholders};

#[derive(Debug, Clone, FromQueryResult, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    pub id: Uuid,
    pub thread_id: Uuid,
    /// The message's place in its thread: 1, 2, 3, … in commit order.
    pub seq: i64,
    pub sender_id: Uuid,
    pub client_id: String,
    pub body: String,
    pub reply_to: Option<Uuid>,
    /// Comma-separated ids of the members mentioned.
    pub mentions: String,
    pub created_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub hidden_at: Option<DateTime<Utc>>,
}

impl Message {
    pub fn mention_ids(&self) -> Vec<Uuid> {
        self.mentions
            .split(',')
            .filter_map(|s| s.parse().ok())
            .collect()
    }
}

const COLUMNS: &str = "id, thread_id, seq, sender_id, client_id, body, reply_to, mentions, \
     created_at, edited_at, deleted_at, hidden_at";

pub struct NewMessage {
    pub thread_id: Uuid,
    pub sender_id: Uuid,
    pub client_id: String,
    pub body: String,
    pub reply_to: Option<Uuid>,
    pub mentions: Vec<Uuid>,
}

/// How a send ended: stored now, or stored by an earlier try.
#[derive(Debug)]
pub enum Sent {
    /// With the thread's `members_version` as the message was stored:
    /// whoever was a member at that version was one when it was sent.
    New(Message, i64),
    Repeated(Message),
}

#[derive(Debug, Clone, FromQueryResult)]
pub struct Reaction {
    pub message_id: Uuid,
    pub user_id: Uuid,
    pub emoji: String,
}

impl Store {
    /// Stores a message once per (sender, client id). A retry with the
    /// same text gives the stored message back; the same client id with
    /// different text is a conflict.
    pub async fn send_message(&self, new: NewMessage, now: DateTime<Utc>) -> DomainResult<Sent> {
        // Most sends are new: the unique (sender, client id) index finds
        // the retries, whose transaction is then rolled back.
        match self.insert_message(&new, now).await {
            Ok((message, members_version)) => Ok(Sent::New(message, members_version)),
            Err(err) if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                let earlier = self
                    .message_by_client_id(new.sender_id, &new.client_id)
                    .await?;
                repeat_of(earlier.ok_or_else(|| db_err(err))?, &new)
            }
            Err(err) => Err(db_err(err)),
        }
    }

    /// Takes the next seq from the thread's counter and inserts, in one
    /// transaction: the counter row's lock orders concurrent senders.
    async fn insert_message(
        &self,
        new: &NewMessage,
        now: DateTime<Utc>,
    ) -> Result<(Message, i64), sea_orm::DbErr> {
        #[derive(FromQueryResult)]
        struct Seq {
            last_seq: i64,
            members_version: i64,
        }
        let tx = self.db.begin().await?;
        let seq = Seq::find_by_statement(crate::sql::stmt(
            tx.get_database_backend(),
            "UPDATE threads SET last_seq = last_seq + 1, last_activity_at = $2 WHERE id = $1 \
             RETURNING last_seq, members_version",
            vec![new.thread_id.into(), now.into()],
        ))
        .one(&tx)
        .await?
        .ok_or_else(|| sea_orm::DbErr::RecordNotFound("thread".into()))?;
        let id = Uuid::now_v7();
        let mentions = new
            .mentions
            .iter()
            .map(Uuid::to_string)
            .collect::<Vec<_>>()
            .join(",");
        crate::sql::exec(
            &tx,
            "INSERT INTO messages (id, thread_id, seq, sender_id, client_id, body, reply_to, mentions, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            vec![
                id.into(),
                new.thread_id.into(),
                seq.last_seq.into(),
                new.sender_id.into(),
                new.client_id.clone().into(),
                new.body.clone().into(),
                new.reply_to.into(),
                mentions.clone().into(),
                now.into(),
            ],
        )
        .await?;
        // The sender has read their own message.
        crate::sql::exec(
            &tx,
            "UPDATE thread_members SET last_read_seq = $3 WHERE thread_id = $1 AND user_id = $2 AND last_read_seq < $3",
            vec![new.thread_id.into(), new.sender_id.into(), seq.last_seq.into()],
        )
        .await?;
        tx.commit().await?;
        let message = Message {
            id,
            thread_id: new.thread_id,
            seq: seq.last_seq,
            sender_id: new.sender_id,
            client_id: new.client_id.clone(),
            body: new.body.clone(),
            reply_to: new.reply_to,
            mentions,
            created_at: now,
            edited_at: None,
            deleted_at: None,
            hidden_at: None,
        };
        Ok((message, seq.members_version))
    }

    async fn message_by_client_id(
        &self,
        sender: Uuid,
        client_id: &str,
    ) -> DomainResult<Option<Message>> {
        let sql = format!("SELECT {COLUMNS} FROM messages WHERE sender_id = $1 AND client_id = $2");
        one(&self.db, &sql, vec![sender.into(), client_id.into()]).await
    }

    pub async fn message(&self, id: Uuid) -> DomainResult<Option<Message>> {
        let sql = format!("SELECT {COLUMNS} FROM messages WHERE id = $1");
        one(&self.db, &sql, vec![id.into()]).await
    }

    /// Messages of a thread in seq order: those after `after_seq`
    /// (oldest first) or, with `newest`, the last ones before
    /// `before_seq` (still returned oldest first).
    pub async fn history(
        &self,
        thread_id: Uuid,
        after_seq: Option<i64>,
        before_seq: Option<i64>,
        limit: u64,
        newest: bool,
    ) -> DomainResult<Vec<Message>> {
        let order = if newest { "DESC" } else { "ASC" };
        let sql = format!(
            "SELECT {COLUMNS} FROM messages WHERE thread_id = $1 AND seq > $2 AND seq < $3 \
             ORDER BY seq {order} LIMIT $4"
        );
        let values: Vec<Value> = vec![
            thread_id.into(),
            after_seq.unwrap_or(0).into(),
            before_seq.unwrap_or(i64::MAX).into(),
            (limit as i64).into(),
        ];
        let mut rows: Vec<Message> = all(&self.db, &sql, values).await?;
        if newest {
            rows.reverse();
        }
        Ok(rows)
    }

    /// The messages after `after_seq`, oldest first, as long as `user_id`
    /// is still an active member (else none): what a live subscriber may
    /// be sent, checked in the same statement that reads it.
    pub async fn history_for_member(
        &self,
        thread_id: Uuid,
        user_id: Uuid,
        after_seq: i64,
        limit: u64,
    ) -> DomainResult<Vec<Message>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM messages WHERE thread_id = $1 AND seq > $2 AND EXISTS \
             (SELECT 1 FROM thread_members m WHERE m.thread_id = $1 AND m.user_id = $3 \
             AND m.removed_at IS NULL) ORDER BY seq LIMIT $4"
        );
        let values: Vec<Value> = vec![
            thread_id.into(),
            after_seq.into(),
            user_id.into(),
            (limit as i64).into(),
        ];
        all(&self.db, &sql, values).await
    }

    /// One message, if `user_id` is still an active member of its thread.
    pub async fn message_for_member(
        &self,
        id: Uuid,
        user_id: Uuid,
    ) -> DomainResult<Option<Message>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM messages x WHERE x.id = $1 AND EXISTS \
             (SELECT 1 FROM thread_members m WHERE m.thread_id = x.thread_id \
             AND m.user_id = $2 AND m.removed_at IS NULL)"
        );
        one(&self.db, &sql, vec![id.into(), user_id.into()]).await
    }

    /// The latest message of each thread, for inbox previews.
    pub async fn last_messages(&self, thread_ids: &[Uuid]) -> DomainResult<Vec<Message>> {
        if thread_ids.is_empty() {
            return Ok(vec![]);
        }
        let sql = format!(
            "SELECT {COLUMNS} FROM messages m WHERE m.thread_id IN ({}) AND m.seq = \
             (SELECT MAX(seq) FROM messages x WHERE x.thread_id = m.thread_id)",
            placeholders(1, thread_ids.len())
        );
        all(
            &self.db,
            &sql,
            thread_ids.iter().map(|i| (*i).into()).collect(),
        )
        .await
    }

    pub async fn edit_message(
        &self,
        id: Uuid,
        body: &str,
        now: DateTime<Utc>,
    ) -> DomainResult<Message> {
        self.change_message(
            id,
            "body = $2, edited_at = $3",
            vec![body.into(), now.into()],
        )
        .await
    }

    /// The text, and the mentions in it, are gone for everyone; the
    /// message stays as a placeholder.
    pub async fn delete_message(&self, id: Uuid, now: DateTime<Utc>) -> DomainResult<Message> {
        self.change_message(
            id,
            "body = '', mentions = '', deleted_at = COALESCE(deleted_at, $2)",
            vec![now.into()],
        )
        .await
    }

    pub async fn hide_message(&self, id: Uuid, now: DateTime<Utc>) -> DomainResult<Message> {
        self.change_message(id, "hidden_at = COALESCE(hidden_at, $2)", vec![now.into()])
            .await
    }

    async fn change_message(
        &self,
        id: Uuid,
        set: &str,
        mut values: Vec<Value>,
    ) -> DomainResult<Message> {
        values.insert(0, id.into());
        let sql = format!("UPDATE messages SET {set} WHERE id = $1");
        let hit = exec(&self.db, &sql, values).await.map_err(db_err)?;
        if hit == 0 {
            return Err(DomainError::NotFound("message"));
        }
        self.message(id)
            .await?
            .ok_or(DomainError::NotFound("message"))
    }

    pub async fn react(
        &self,
        message_id: Uuid,
        user_id: Uuid,
        emoji: &str,
        add: bool,
        now: DateTime<Utc>,
    ) -> DomainResult<()> {
        let (sql, values): (&str, Vec<Value>) = if add {
            (
                "INSERT INTO message_reactions (message_id, user_id, emoji, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (message_id, user_id, emoji) DO NOTHING",
                vec![message_id.into(), user_id.into(), emoji.into(), now.into()],
            )
        } else {
            (
                "DELETE FROM message_reactions WHERE message_id = $1 AND user_id = $2 AND emoji = $3",
                vec![message_id.into(), user_id.into(), emoji.into()],
            )
        };
        exec(&self.db, sql, values).await.map_err(db_err)?;
        Ok(())
    }

    pub async fn reactions(&self, message_ids: &[Uuid]) -> DomainResult<Vec<Reaction>> {
        if message_ids.is_empty() {
            return Ok(vec![]);
        }
        let sql = format!(
            "SELECT message_id, user_id, emoji FROM message_reactions WHERE message_id IN ({}) \
             ORDER BY created_at, user_id",
            placeholders(1, message_ids.len())
        );
        all(
            &self.db,
            &sql,
            message_ids.iter().map(|i| (*i).into()).collect(),
        )
        .await
    }

    /// Records a member's report; reporting twice keeps the first.
    pub async fn report_message(
        &self,
        message_id: Uuid,
        reporter: Uuid,
        reason: &str,
        now: DateTime<Utc>,
    ) -> DomainResult<()> {
        exec(
            &self.db,
            "INSERT INTO message_reports (message_id, reporter_id, reason, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (message_id, reporter_id) DO NOTHING",
            vec![message_id.into(), reporter.into(), reason.into(), now.into()],
        )
        .await
        .map_err(db_err)?;
        Ok(())
    }

    pub async fn report_count(&self, message_id: Uuid) -> DomainResult<i64> {
        crate::sql::count(
            &self.db,
            "SELECT COUNT(*) AS n FROM message_reports WHERE message_id = $1",
            vec![message_id.into()],
        )
        .await
    }

    /// Records the first staff answer of a support thread.
    pub async fn record_first_response(
        &self,
        thread_id: Uuid,
        now: DateTime<Utc>,
    ) -> DomainResult<()> {
        exec(
            &self.db,
            "UPDATE threads SET first_response_at = $2 WHERE id = $1 AND first_response_at IS NULL",
            vec![thread_id.into(), now.into()],
        )
        .await
        .map_err(db_err)?;
        Ok(())
    }
}

fn repeat_of(earlier: Message, new: &NewMessage) -> DomainResult<Sent> {
    if earlier.thread_id == new.thread_id && earlier.body == new.body {
        Ok(Sent::Repeated(earlier))
    } else {
        Err(DomainError::conflict(
            Some("clientId"),
            "this client id was already used for a different message",
        ))
    }
}

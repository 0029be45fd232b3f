//! Threads and their members: creation, membership, the inbox with
//! unread counts derived from read markers, support fields, class
//! threads kept in step with the directory.

use chrono::{DateTime, Utc};
use scrm_domain::conversation::{MemberRole, ThreadKind};
use scrm_domain::role::{Role, split_set};
use scrm_domain::{DomainError, DomainResult};
use sea_orm::{FromQueryResult, TransactionTrait, Value};
use uuid::Uuid;

use crate::Store;
use crate::error::db_err;
use crate::sql::{all, count, exec, insert_many, one, placeholders};

#[derive(Debug, Clone, FromQueryResult)]
pub struct Thread {
    pub id: Uuid,
    pub kind: String,
    pub title: Option<String>,
    pub class_id: Option<Uuid>,
    pub announcement_id: Option<Uuid>,
    pub last_seq: i64,
    pub last_activity_at: DateTime<Utc>,
    pub support_status: Option<String>,
    pub requester_id: Option<Uuid>,
    pub assignee_id: Option<Uuid>,
    pub first_response_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// Grows with every removal of a member: see `Sent::New`.
    pub members_version: i64,
}

pub(crate) const THREAD_COLUMNS: &str = "t.id, t.kind, t.title, t.class_id, t.announcement_id, \
     t.last_seq, t.last_activity_at, t.support_status, t.requester_id, t.assignee_id, \
     t.first_response_at, t.resolved_at, t.created_at, t.members_version";

#[derive(Debug, Clone, FromQueryResult)]
pub struct Member {
    pub thread_id: Uuid,
    pub user_id: Uuid,
    pub role: String,
    pub last_read_seq: i64,
    pub muted: bool,
    pub removed_at: Option<DateTime<Utc>>,
}

impl Member {
    pub fn role(&self) -> MemberRole {
        MemberRole::parse(&self.role)
    }

    pub fn is_active(&self) -> bool {
        self.removed_at.is_none()
    }
}

/// A thread as one member sees it in the inbox.
#[derive(Debug, Clone, FromQueryResult)]
pub struct InboxEntry {
    #[sea_orm(nested)]
    pub thread: Thread,
    pub last_read_seq: i64,
    pub muted: bool,
    /// Messages after the read marker, from others, not deleted or hidden.
    pub unread: i64,
}

/// What a new thread starts with.
pub struct NewThread<'a> {
    pub kind: ThreadKind,
    pub title: Option<String>,
    pub direct_key: Option<String>,
    pub class_id: Option<Uuid>,
    pub announcement_id: Option<Uuid>,
    pub requester_id: Option<Uuid>,
    pub members: &'a [(Uuid, MemberRole)],
}

/// The key that makes a direct thread between two people unique.
pub fn direct_key(a: Uuid, b: Uuid) -> String {
    let (lo, hi) = if a < b { (a, b) } else { (b, a) };
    format!("{lo}|{hi}")
}

const UNREAD: &str = "(SELECT COUNT(*) FROM messages x WHERE x.thread_id = t.id \
     AND x.seq > m.last_read_seq AND x.sender_id <> m.user_id \
     AND x.deleted_at IS NULL AND x.hidden_at IS NULL)";

impl Store {
    /// Creates a thread with its members. A direct thread between the same
    /// two people, or a second class or discussion thread, is the one
    /// that already exists.
    pub async fn create_thread(
        &self,
        new: NewThread<'_>,
        now: DateTime<Utc>,
    ) -> DomainResult<Thread> {
        let id = Uuid::now_v7();
        let support_status = (new.kind == ThreadKind::Support).then_some("OPEN");
        let tx = self.db.begin().await.map_err(db_err)?;
        let inserted = exec(
            &tx,
            "INSERT INTO threads (id, kind, title, direct_key, class_id, announcement_id, \
             last_seq, last_activity_at, support_status, requester_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8, $9, $7) ON CONFLICT DO NOTHING",
            vec![
                id.into(),
                new.kind.as_str().into(),
                new.title.into(),
                new.direct_key.clone().into(),
                new.class_id.into(),
                new.announcement_id.into(),
                now.into(),
                support_status.into(),
                new.requester_id.into(),
            ],
        )
        .await
        .map_err(db_err)?;
        if inserted == 1 {
            let rows = new
                .members
                .iter()
                .map(|(user, role)| {
                    vec![id.into(), (*user).into(), role.as_str().into(), now.into()]
                })
                .collect();
            insert_many(
                &tx,
                "thread_members",
                &["thread_id", "user_id", "role", "joined_at"],
                rows,
            )
            .await
            .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)?;
        let found = if inserted == 1 {
            self.thread(id).await?
        } else {
            self.thread_by_unique(&new.direct_key, new.class_id, new.announcement_id)
                .await?
        };
        found.ok_or(DomainError::NotFound("thread"))
    }

    async fn thread_by_unique(
        &self,
        direct_key: &Option<String>,
        class_id: Option<Uuid>,
        announcement_id: Option<Uuid>,
    ) -> DomainResult<Option<Thread>> {
        let sql = format!(
            "SELECT {THREAD_COLUMNS} FROM threads t WHERE t.direct_key = $1 OR t.class_id = $2 \
             OR t.announcement_id = $3"
        );
        one(
            &self.db,
            &sql,
            vec![
                direct_key.clone().into(),
                class_id.into(),
                announcement_id.into(),
            ],
        )
        .await
    }

    pub async fn thread(&self, id: Uuid) -> DomainResult<Option<Thread>> {
        let sql = format!("SELECT {THREAD_COLUMNS} FROM threads t WHERE t.id = $1");
        one(&self.db, &sql, vec![id.into()]).await
    }

    /// A thread and the user's membership of it (present or past), in
    /// one read.
    pub async fn thread_and_member(
        &self,
        thread_id: Uuid,
        user_id: Uuid,
    ) -> DomainResult<Option<(Thread, Option<Member>)>> {
        #[derive(FromQueryResult)]
        struct Row {
            #[sea_orm(nested)]
            thread: Thread,
            member_role: Option<String>,
            member_last_read_seq: Option<i64>,
            member_muted: Option<bool>,
            member_removed_at: Option<DateTime<Utc>>,
        }
        let sql = format!(
            "SELECT {THREAD_COLUMNS}, m.role AS member_role, m.last_read_seq AS member_last_read_seq, \
             m.muted AS member_muted, m.removed_at AS member_removed_at \
             FROM threads t LEFT JOIN thread_members m ON m.thread_id = t.id AND m.user_id = $2 \
             WHERE t.id = $1"
        );
        let row: Option<Row> = one(&self.db, &sql, vec![thread_id.into(), user_id.into()]).await?;
        Ok(row.map(|row| {
            let member = match (row.member_role, row.member_last_read_seq, row.member_muted) {
                (Some(role), Some(last_read_seq), Some(muted)) => Some(Member {
                    thread_id,
                    user_id,
                    role,
                    last_read_seq,
                    muted,
                    removed_at: row.member_removed_at,
                }),
                _ => None,
            };
            (row.thread, member)
        }))
    }

    pub async fn member(&self, thread_id: Uuid, user_id: Uuid) -> DomainResult<Option<Member>> {
        one(
            &self.db,
            "SELECT thread_id, user_id, role, last_read_seq, muted, removed_at FROM thread_members \
             WHERE thread_id = $1 AND user_id = $2",
            vec![thread_id.into(), user_id.into()],
        )
        .await
    }

    /// The active members of many threads at once.
    pub async fn members_of(&self, thread_ids: &[Uuid]) -> DomainResult<Vec<Member>> {
        if thread_ids.is_empty() {
            return Ok(vec![]);
        }
        let sql = format!(
            "SELECT thread_id, user_id, role, last_read_seq, muted, removed_at FROM thread_members \
             WHERE removed_at IS NULL AND thread_id IN ({}) ORDER BY joined_at, user_id",
            placeholders(1, thread_ids.len())
        );
        all(
            &self.db,
            &sql,
            thread_ids.iter().map(|i| (*i).into()).collect(),
        )
        .await
    }

    /// The thread's present members with their roles in the school, in
    /// one read.
    pub async fn members_with_roles(
        &self,
        thread_id: Uuid,
    ) -> DomainResult<Vec<(Uuid, Vec<Role>)>> {
        #[derive(FromQueryResult)]
        struct Row {
            user_id: Uuid,
            roles: String,
        }
        let rows: Vec<Row> = all(
            &self.db,
            "SELECT m.user_id, u.roles FROM thread_members m JOIN users u ON u.id = m.user_id \
             WHERE m.thread_id = $1 AND m.removed_at IS NULL ORDER BY m.joined_at, m.user_id",
            vec![thread_id.into()],
        )
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| (r.user_id, split_set(&r.roles)))
            .collect())
    }

    /// Adds someone, or brings a removed member back (in their old role,
    /// unless a moderator had taken them out).
    pub async fn add_member(
        &self,
        thread_id: Uuid,
        user_id: Uuid,
        role: MemberRole,
        now: DateTime<Utc>,
    ) -> DomainResult<()> {
        exec(
            &self.db,
            "INSERT INTO thread_members (thread_id, user_id, role, joined_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (thread_id, user_id) DO UPDATE SET removed_at = NULL, \
             role = CASE WHEN thread_members.role = 'REMOVED' THEN excluded.role \
             ELSE thread_members.role END",
            vec![thread_id.into(), user_id.into(), role.as_str().into(), now.into()],
        )
        .await
        .map_err(db_err)?;
        Ok(())
    }

    /// Takes someone out of a thread. One who leaves may come back the
    /// way they came; one a moderator removes stays out of a class
    /// thread even when the directory would bring them back.
    pub async fn remove_member(
        &self,
        thread_id: Uuid,
        user_id: Uuid,
        by_moderator: bool,
        now: DateTime<Utc>,
    ) -> DomainResult<bool> {
        let tx = self.db.begin().await.map_err(db_err)?;
        let hit = exec(
            &tx,
            "UPDATE thread_members SET removed_at = $3, \
             role = CASE WHEN $4 THEN 'REMOVED' ELSE role END \
             WHERE thread_id = $1 AND user_id = $2 AND removed_at IS NULL",
            vec![
                thread_id.into(),
                user_id.into(),
                now.into(),
                by_moderator.into(),
            ],
        )
        .await
        .map_err(db_err)?;
        if hit > 0 {
            members_changed(&tx, thread_id).await?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(hit == 1)
    }

    /// The viewer's threads by latest activity, after the cursor
    /// `(last_activity_at, id)`.
    pub async fn inbox(
        &self,
        user_id: Uuid,
        after: Option<(DateTime<Utc>, Uuid)>,
        limit: u64,
    ) -> DomainResult<Vec<InboxEntry>> {
        let mut values: Vec<Value> = vec![user_id.into(), (limit as i64).into()];
        let cursor = match after {
            Some((at, id)) => {
                values.extend([at.into(), id.into()]);
                "AND (t.last_activity_at, t.id) < ($3, $4)"
            }
            None => "",
        };
        let sql = format!(
            "SELECT {THREAD_COLUMNS}, m.last_read_seq, m.muted, {UNREAD} AS unread \
             FROM thread_members m JOIN threads t ON t.id = m.thread_id \
             WHERE m.user_id = $1 AND m.removed_at IS NULL {cursor} \
             ORDER BY t.last_activity_at DESC, t.id DESC LIMIT $2"
        );
        all(&self.db, &sql, values).await
    }

    /// One thread's entry for one member (for live inbox updates).
    pub async fn inbox_entry(
        &self,
        user_id: Uuid,
        thread_id: Uuid,
    ) -> DomainResult<Option<InboxEntry>> {
        let sql = format!(
            "SELECT {THREAD_COLUMNS}, m.last_read_seq, m.muted, {UNREAD} AS unread \
             FROM thread_members m JOIN threads t ON t.id = m.thread_id \
             WHERE m.user_id = $1 AND m.thread_id = $2 AND m.removed_at IS NULL"
        );
        one(&self.db, &sql, vec![user_id.into(), thread_id.into()]).await
    }

    pub async fn total_unread(&self, user_id: Uuid) -> DomainResult<i64> {
        let sql = format!(
            "SELECT CAST(COALESCE(SUM({UNREAD}), 0) AS BIGINT) AS n FROM thread_members m \
             JOIN threads t ON t.id = m.thread_id WHERE m.user_id = $1 AND m.removed_at IS NULL"
        );
        count(&self.db, &sql, vec![user_id.into()]).await
    }

    /// Moves the read marker forward to `seq` (never back, never past
    /// the last message). Gives the marker now in force.
    pub async fn mark_thread_read(
        &self,
        thread_id: Uuid,
        user_id: Uuid,
        seq: i64,
    ) -> DomainResult<i64> {
        exec(
            &self.db,
            "UPDATE thread_members SET last_read_seq = \
             (SELECT MIN(v) FROM (SELECT $3 AS v UNION ALL SELECT last_seq FROM threads WHERE id = $1) s) \
             WHERE thread_id = $1 AND user_id = $2 AND last_read_seq < $3",
            vec![thread_id.into(), user_id.into(), seq.into()],
        )
        .await
        .map_err(db_err)?;
        let member = self
            .member(thread_id, user_id)
            .await?
            .ok_or(DomainError::NotFound("thread"))?;
        Ok(member.last_read_seq)
    }

    pub async fn set_muted(&self, thread_id: Uuid, user_id: Uuid, muted: bool) -> DomainResult<()> {
        exec(
            &self.db,
            "UPDATE thread_members SET muted = $3 WHERE thread_id = $1 AND user_id = $2",
            vec![thread_id.into(), user_id.into(), muted.into()],
        )
        .await
        .map_err(db_err)?;
        Ok(())
    }

    /// Members whose read marker has reached `seq`.
    pub async fn readers(&self, thread_id: Uuid, seq: i64) -> DomainResult<Vec<Uuid>> {
        #[derive(FromQueryResult)]
        struct Id {
            user_id: Uuid,
        }
        let rows: Vec<Id> = all(
            &self.db,
            "SELECT user_id FROM thread_members WHERE thread_id = $1 AND last_read_seq >= $2 \
             AND removed_at IS NULL ORDER BY user_id",
            vec![thread_id.into(), seq.into()],
        )
        .await?;
        Ok(rows.into_iter().map(|r| r.user_id).collect())
    }

    /// The class's thread, created when missing, with its members brought
    /// in step with the directory: the class's teachers moderate, the
    /// guardians of its students are members, and those a moderator
    /// removed stay out.
    pub async fn class_thread(
        &self,
        class_id: Uuid,
        title: &str,
        now: DateTime<Utc>,
    ) -> DomainResult<Thread> {
        let thread = self
            .create_thread(
                NewThread {
                    kind: ThreadKind::Class,
                    title: Some(title.to_owned()),
                    direct_key: None,
                    class_id: Some(class_id),
                    announcement_id: None,
                    requester_id: None,
                    members: &[],
                },
                now,
            )
            .await?;
        self.sync_class_members(Some(thread.id), now).await?;
        Ok(thread)
    }

    /// Brings every class thread in step with the directory, after the
    /// roster or a class's teachers changed: a parent whose child left the
    /// class is out of its thread at once, not when it is next opened.
    pub async fn sync_class_threads(&self, now: DateTime<Utc>) -> DomainResult<()> {
        self.sync_class_members(None, now).await
    }

    /// The class's teachers moderate, the guardians of its students are
    /// members, anyone else is taken out (and counted in the thread's
    /// `members_version`); those a moderator removed stay out. For one
    /// class thread, or all of them.
    async fn sync_class_members(&self, only: Option<Uuid>, now: DateTime<Utc>) -> DomainResult<()> {
        let mut values: Vec<Value> = vec![now.into()];
        let which = match only {
            Some(id) => {
                values.push(id.into());
                "t.kind = 'CLASS' AND t.id = $2"
            }
            None => "t.kind = 'CLASS'",
        };
        let tx = self.db.begin().await.map_err(db_err)?;
        exec(
            &tx,
            &format!(
                "INSERT INTO thread_members (thread_id, user_id, role, joined_at) \
                 SELECT t.id, ct.teacher_id, 'MODERATOR', $1 FROM threads t \
                 JOIN class_teachers ct ON ct.class_id = t.class_id WHERE {which} \
                 UNION SELECT t.id, g.guardian_id, 'MEMBER', $1 FROM threads t \
                 JOIN students s ON s.class_id = t.class_id \
                 JOIN guardianships g ON g.student_id = s.id WHERE {which} \
                 ON CONFLICT (thread_id, user_id) DO UPDATE SET removed_at = NULL \
                 WHERE thread_members.role <> 'REMOVED'"
            ),
            values.clone(),
        )
        .await
        .map_err(db_err)?;
        let removed = exec(
            &tx,
            &format!(
                "UPDATE thread_members SET removed_at = $1 WHERE removed_at IS NULL \
                 AND thread_id IN (SELECT t.id FROM threads t WHERE {which}) \
                 AND user_id NOT IN (SELECT ct.teacher_id FROM class_teachers ct \
                   JOIN threads c ON c.class_id = ct.class_id WHERE c.id = thread_members.thread_id) \
                 AND user_id NOT IN (SELECT g.guardian_id FROM guardianships g \
                   JOIN students s ON s.id = g.student_id \
                   JOIN threads c ON c.class_id = s.class_id WHERE c.id = thread_members.thread_id)"
            ),
            values.clone(),
        )
        .await
        .map_err(db_err)?;
        if removed > 0 {
            exec(
                &tx,
                &format!(
                    "UPDATE threads SET members_version = members_version + 1 WHERE id IN \
                     (SELECT t.id FROM threads t JOIN thread_members m ON m.thread_id = t.id \
                      WHERE {which} AND m.removed_at = $1)"
                ),
                values,
            )
            .await
            .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(())
    }

    /// Support threads for the staff queue, by latest activity.
    pub async fn support_queue(
        &self,
        status: Option<&str>,
        limit: u64,
    ) -> DomainResult<Vec<Thread>> {
        let (filter, mut values): (&str, Vec<Value>) = match status {
            Some(s) => ("AND t.support_status = $2", vec![s.into()]),
            None => ("", vec![]),
        };
        values.insert(0, (limit as i64).into());
        let sql = format!(
            "SELECT {THREAD_COLUMNS} FROM threads t WHERE t.kind = 'SUPPORT' {filter} \
             ORDER BY t.last_activity_at DESC, t.id DESC LIMIT $1"
        );
        all(&self.db, &sql, values).await
    }

    /// Sets a support thread's status and assignee. Resolving records the
    /// resolution time once; reopening clears it.
    pub async fn update_support(
        &self,
        thread_id: Uuid,
        status: Option<&str>,
        assignee: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> DomainResult<Thread> {
        let hit = exec(
            &self.db,
            "UPDATE threads SET support_status = COALESCE($2, support_status), \
             assignee_id = COALESCE($3, assignee_id), \
             resolved_at = CASE WHEN COALESCE($2, support_status) = 'RESOLVED' \
               THEN COALESCE(resolved_at, $4) ELSE NULL END \
             WHERE id = $1 AND kind = 'SUPPORT'",
            vec![thread_id.into(), status.into(), assignee.into(), now.into()],
        )
        .await
        .map_err(db_err)?;
        if hit == 0 {
            return Err(DomainError::NotFound("support thread"));
        }
        self.thread(thread_id)
            .await?
            .ok_or(DomainError::NotFound("support thread"))
    }
}

impl Store {
    /// True when `teacher` teaches a class of `person` (a student) or of
    /// one of `person`'s children.
    pub async fn teaches_family_of(&self, teacher: Uuid, person: Uuid) -> DomainResult<bool> {
        let n = count(
            &self.db,
            "SELECT COUNT(*) AS n FROM class_teachers ct JOIN students s ON s.class_id = ct.class_id \
             WHERE ct.teacher_id = $1 AND (s.user_id = $2 OR s.id IN \
             (SELECT student_id FROM guardianships WHERE guardian_id = $2))",
            vec![teacher.into(), person.into()],
        )
        .await?;
        Ok(n > 0)
    }

    /// True when one of the two is a guardian of the other.
    pub async fn family_linked(&self, a: Uuid, b: Uuid) -> DomainResult<bool> {
        let n = count(
            &self.db,
            "SELECT COUNT(*) AS n FROM guardianships g JOIN students s ON s.id = g.student_id \
             WHERE (g.guardian_id = $1 AND s.user_id = $2) OR (g.guardian_id = $2 AND s.user_id = $1)",
            vec![a.into(), b.into()],
        )
        .await?;
        Ok(n > 0)
    }

    /// Whether the announcement has reached `user_id` by `now`: not
    /// before its publication time.
    pub async fn may_discuss(
        &self,
        announcement_id: Uuid,
        user_id: Uuid,
        now: DateTime<Utc>,
    ) -> DomainResult<bool> {
        let n = count(
            &self.db,
            "SELECT COUNT(*) AS n FROM announcement_recipients \
             WHERE announcement_id = $1 AND user_id = $2 AND publish_at <= $3",
            vec![announcement_id.into(), user_id.into(), now.into()],
        )
        .await?;
        Ok(n > 0)
    }
}

/// Counts a removal, in the transaction that made it.
async fn members_changed(tx: &sea_orm::DatabaseTransaction, thread_id: Uuid) -> DomainResult<()> {
    exec(
        tx,
        "UPDATE threads SET members_version = members_version + 1 WHERE id = $1",
        vec![thread_id.into()],
    )
    .await
    .map_err(db_err)?;
    Ok(())
}

//! Announcements: publication with recipients resolved from the
//! audience, each person's feed and read state, and delivery figures.

use chrono::{DateTime, Utc};
use scrm_domain::announcement::Draft;
use scrm_domain::audience::Audience;
use scrm_domain::{DomainError, DomainResult};
use sea_orm::{FromQueryResult, TransactionTrait, Value};
use uuid::Uuid;

use crate::Store;
use crate::error::db_err;
use crate::sql::{all, count, exec, one, placeholders};

#[derive(Debug, Clone, FromQueryResult)]
pub struct Announcement {
    pub id: Uuid,
    pub author_id: Uuid,
    pub title: String,
    pub body: String,
    pub category: String,
    pub urgency: String,
    /// The audience as JSON ([`Audience`]).
    pub audience: String,
    pub publish_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub requires_ack: bool,
    pub created_at: DateTime<Utc>,
}

impl Announcement {
    pub fn audience(&self) -> Audience {
        serde_json::from_str(&self.audience).unwrap_or_default()
    }
}

/// An announcement as one reader sees it.
#[derive(Debug, Clone)]
pub struct FeedItem {
    pub announcement: Announcement,
    pub read_at: Option<DateTime<Utc>>,
    pub acknowledged_at: Option<DateTime<Utc>>,
}

#[derive(FromQueryResult)]
struct FeedRow {
    #[sea_orm(nested)]
    announcement: Announcement,
    read_at: Option<DateTime<Utc>>,
    acknowledged_at: Option<DateTime<Utc>>,
}

/// A feed row with the count of all the user's unread announcements.
#[derive(FromQueryResult)]
struct PageRow {
    #[sea_orm(nested)]
    row: FeedRow,
    unread_total: i64,
}

/// A page of the feed, and how many of all the user's announcements are
/// unread (`None` when the page is empty and the count was not taken).
pub struct FeedPage {
    pub items: Vec<FeedItem>,
    pub unread: Option<i64>,
}

/// The unread, published, unexpired announcements of user `$1` at `$2`.
const UNREAD: &str = "SELECT COUNT(*) FROM announcement_recipients u WHERE u.user_id = $1 \
     AND u.read_at IS NULL AND u.publish_at <= $2 AND (u.expires_at IS NULL OR u.expires_at > $2)";

/// Who an announcement reached.
#[derive(Debug, Clone, Default)]
pub struct Delivery {
    pub addressed: i64,
    pub read: i64,
    pub acknowledged: i64,
    pub families_addressed: i64,
    pub families_reached: i64,
    pub unread_user_ids: Vec<Uuid>,
    pub unreached_family_ids: Vec<Uuid>,
}

const COLUMNS: &str = "a.id, a.author_id, a.title, a.body, a.category, a.urgency, a.audience, \
     a.publish_at, a.expires_at, a.requires_ack, a.created_at";

impl Store {
    /// Stores the announcement and its recipients in one transaction.
    pub async fn publish_announcement(
        &self,
        author_id: Uuid,
        draft: &Draft,
        academic_year: &str,
        now: DateTime<Utc>,
    ) -> DomainResult<(Announcement, i64)> {
        self.check_audience_exists(&draft.audience).await?;
        let id = Uuid::now_v7();
        let publish_at = draft.publish_at.unwrap_or(now).max(now);
        let audience_json =
            serde_json::to_string(&draft.audience).map_err(DomainError::internal)?;
        let tx = self.db.begin().await.map_err(db_err)?;
        exec(
            &tx,
            "INSERT INTO announcements (id, author_id, title, body, category, urgency, audience, \
             targeted, publish_at, expires_at, requires_ack, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            vec![
                id.into(),
                author_id.into(),
                draft.title.clone().into(),
                draft.body.clone().into(),
                draft.category.as_str().into(),
                draft.urgency.as_str().into(),
                audience_json.into(),
                draft.audience.is_targeted().into(),
                publish_at.into(),
                draft.expires_at.into(),
                draft.requires_ack.into(),
                now.into(),
            ],
        )
        .await
        .map_err(db_err)?;
        let (recipients, mut values) = recipients_sql(&draft.audience, academic_year, 4);
        values.splice(
            0..0,
            [id.into(), publish_at.into(), draft.expires_at.into()],
        );
        let sql = format!(
            "INSERT INTO announcement_recipients \
             (announcement_id, user_id, family_id, publish_at, expires_at) \
             SELECT $1, u.id, u.family_id, $2, $3 FROM users u WHERE u.id IN ({recipients})"
        );
        let addressed = exec(&tx, &sql, values).await.map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        let announcement = self
            .announcement(id)
            .await?
            .ok_or(DomainError::NotFound("announcement"))?;
        Ok((announcement, addressed as i64))
    }

    async fn check_audience_exists(&self, audience: &Audience) -> DomainResult<()> {
        let checks = [
            ("classes", &audience.class_ids, "audience.classIds", "class"),
            ("groups", &audience.group_ids, "audience.groupIds", "group"),
            ("users", &audience.user_ids, "audience.userIds", "person"),
        ];
        for (table, ids, field, what) in checks {
            // An id named twice is found once, so count distinct ids.
            let ids: std::collections::BTreeSet<Uuid> = ids.iter().copied().collect();
            if ids.is_empty() {
                continue;
            }
            let sql = format!(
                "SELECT COUNT(*) AS n FROM {table} WHERE id IN ({})",
                placeholders(1, ids.len())
            );
            let found = count(&self.db, &sql, ids.iter().map(|i| (*i).into()).collect()).await?;
            if found != ids.len() as i64 {
                return Err(DomainError::invalid(
                    field,
                    format!("a {what} in the audience does not exist"),
                ));
            }
        }
        Ok(())
    }

    pub async fn announcement(&self, id: Uuid) -> DomainResult<Option<Announcement>> {
        let sql = format!("SELECT {COLUMNS} FROM announcements a WHERE a.id = $1");
        one(&self.db, &sql, vec![id.into()]).await
    }

    /// What `user_id` sees of one announcement, once it is published to
    /// them; `None` for anyone else.
    pub async fn feed_item(
        &self,
        user_id: Uuid,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> DomainResult<Option<FeedItem>> {
        let sql = format!(
            "SELECT {COLUMNS}, r.read_at, r.acknowledged_at FROM announcement_recipients r \
             JOIN announcements a ON a.id = r.announcement_id \
             WHERE r.user_id = $1 AND r.announcement_id = $2 AND r.publish_at <= $3"
        );
        let row: Option<FeedRow> =
            one(&self.db, &sql, vec![user_id.into(), id.into(), now.into()]).await?;
        Ok(row.map(FeedRow::into_item))
    }

    /// A page of the feed, newest first, after the cursor
    /// `(publish_at, id)` of the last item seen.
    pub async fn feed(
        &self,
        user_id: Uuid,
        now: DateTime<Utc>,
        after: Option<(DateTime<Utc>, Uuid)>,
        limit: u64,
    ) -> DomainResult<FeedPage> {
        let mut values: Vec<Value> = vec![user_id.into(), now.into(), (limit as i64).into()];
        let cursor = match after {
            Some((at, id)) => {
                values.extend([at.into(), id.into()]);
                "AND (r.publish_at, r.announcement_id) < ($4, $5)"
            }
            None => "",
        };
        // The unread count rides along, computed once for the page.
        let sql = format!(
            "SELECT {COLUMNS}, r.read_at, r.acknowledged_at, ({UNREAD}) AS unread_total \
             FROM announcement_recipients r JOIN announcements a ON a.id = r.announcement_id \
             WHERE r.user_id = $1 AND r.publish_at <= $2 \
             AND (r.expires_at IS NULL OR r.expires_at > $2) {cursor} \
             ORDER BY r.publish_at DESC, r.announcement_id DESC LIMIT $3"
        );
        let rows: Vec<PageRow> = all(&self.db, &sql, values).await?;
        Ok(FeedPage {
            unread: rows.first().map(|r| r.unread_total),
            items: rows.into_iter().map(|r| r.row.into_item()).collect(),
        })
    }

    pub async fn unread_announcements(
        &self,
        user_id: Uuid,
        now: DateTime<Utc>,
    ) -> DomainResult<i64> {
        let sql = UNREAD.replacen("COUNT(*)", "COUNT(*) AS n", 1);
        count(&self.db, &sql, vec![user_id.into(), now.into()]).await
    }

    /// Marks read (and, with `acknowledge`, acknowledged). The first time
    /// counts; a repeat changes nothing.
    pub async fn mark_announcement(
        &self,
        user_id: Uuid,
        id: Uuid,
        acknowledge: bool,
        now: DateTime<Utc>,
    ) -> DomainResult<FeedItem> {
        let ack = if acknowledge {
            ", acknowledged_at = COALESCE(acknowledged_at, $3)"
        } else {
            ""
        };
        let sql = format!(
            "UPDATE announcement_recipients SET read_at = COALESCE(read_at, $3) {ack} \
             WHERE user_id = $1 AND announcement_id = $2 AND publish_at <= $3"
        );
        let hit = exec(&self.db, &sql, vec![user_id.into(), id.into(), now.into()])
            .await
            .map_err(db_err)?;
        if hit == 0 {
            return Err(DomainError::NotFound("announcement"));
        }
        self.feed_item(user_id, id, now)
            .await?
            .ok_or(DomainError::NotFound("announcement"))
    }

    pub async fn delivery(&self, id: Uuid) -> DomainResult<Delivery> {
        #[derive(FromQueryResult)]
        struct Totals {
            addressed: i64,
            read: i64,
            acknowledged: i64,
            families_addressed: i64,
            families_reached: i64,
        }
        #[derive(FromQueryResult)]
        struct Id {
            id: Uuid,
        }
        let totals: Option<Totals> = one(
            &self.db,
            "SELECT COUNT(*) AS addressed, COUNT(read_at) AS read, \
             COUNT(acknowledged_at) AS acknowledged, \
             COUNT(DISTINCT family_id) AS families_addressed, \
             COUNT(DISTINCT CASE WHEN read_at IS NOT NULL THEN family_id END) AS families_reached \
             FROM announcement_recipients WHERE announcement_id = $1",
            vec![id.into()],
        )
        .await?;
        let unread: Vec<Id> = all(
            &self.db,
            "SELECT r.user_id AS id FROM announcement_recipients r JOIN users u ON u.id = r.user_id \
             WHERE r.announcement_id = $1 AND r.read_at IS NULL ORDER BY u.name, u.id",
            vec![id.into()],
        )
        .await?;
        let unreached: Vec<Id> = all(
            &self.db,
            "SELECT f.id FROM families f WHERE f.id IN \
             (SELECT family_id FROM announcement_recipients WHERE announcement_id = $1) \
             AND f.id NOT IN (SELECT family_id FROM announcement_recipients \
             WHERE announcement_id = $1 AND read_at IS NOT NULL AND family_id IS NOT NULL) \
             ORDER BY f.name, f.id",
            vec![id.into()],
        )
        .await?;
        let t = totals.ok_or(DomainError::NotFound("announcement"))?;
        Ok(Delivery {
            addressed: t.addressed,
            read: t.read,
            acknowledged: t.acknowledged,
            families_addressed: t.families_addressed,
            families_reached: t.families_reached,
            unread_user_ids: unread.into_iter().map(|r| r.id).collect(),
            unreached_family_ids: unreached.into_iter().map(|r| r.id).collect(),
        })
    }

    /// Claims announcements whose time has come and that nobody has
    /// pushed yet. Each is claimed once across all server instances.
    pub async fn claim_due_announcements(&self, now: DateTime<Utc>) -> DomainResult<Vec<Uuid>> {
        #[derive(FromQueryResult)]
        struct Id {
            id: Uuid,
        }
        let rows: Vec<Id> = all(
            &self.db,
            "UPDATE announcements SET pushed_at = $1 \
             WHERE pushed_at IS NULL AND publish_at <= $1 RETURNING id",
            vec![now.into()],
        )
        .await?;
        Ok(rows.into_iter().map(|r| r.id).collect())
    }

    pub async fn recipient_ids(&self, id: Uuid) -> DomainResult<Vec<Uuid>> {
        #[derive(FromQueryResult)]
        struct Id {
            user_id: Uuid,
        }
        let rows: Vec<Id> = all(
            &self.db,
            "SELECT user_id FROM announcement_recipients WHERE announcement_id = $1",
            vec![id.into()],
        )
        .await?;
        Ok(rows.into_iter().map(|r| r.user_id).collect())
    }
}

impl FeedRow {
    fn into_item(self) -> FeedItem {
        FeedItem {
            announcement: self.announcement,
            read_at: self.read_at,
            acknowledged_at: self.acknowledged_at,
        }
    }
}

/// A subquery of the user ids an audience reaches, with its values
/// numbered from `$first`.
pub(crate) fn recipients_sql(
    audience: &Audience,
    academic_year: &str,
    first: usize,
) -> (String, Vec<Value>) {
    let mut parts: Vec<String> = vec![];
    let mut values: Vec<Value> = vec![];
    let next = |values: &mut Vec<Value>, v: Value| {
        values.push(v);
        format!("${}", first + values.len() - 1)
    };
    if audience.everyone {
        parts.push("SELECT id FROM users".to_owned());
    }
    for role in &audience.roles {
        let p = next(&mut values, format!("%,{},%", role.as_str()).into());
        parts.push(format!(
            "SELECT id FROM users WHERE (',' || roles || ',') LIKE {p}"
        ));
    }
    let mut class_terms = vec![];
    if !audience.class_ids.is_empty() {
        let ids: Vec<String> = audience
            .class_ids
            .iter()
            .map(|c| next(&mut values, (*c).into()))
            .collect();
        class_terms.push(format!("id IN ({})", ids.join(", ")));
    }
    if !audience.grades.is_empty() {
        let year = next(&mut values, academic_year.into());
        let grades: Vec<String> = audience
            .grades
            .iter()
            .map(|g| next(&mut values, i32::from(*g).into()))
            .collect();
        class_terms.push(format!(
            "(academic_year = {year} AND grade IN ({}))",
            grades.join(", ")
        ));
    }
    if !class_terms.is_empty() {
        let classes = format!("SELECT id FROM classes WHERE {}", class_terms.join(" OR "));
        parts.push(format!(
            "SELECT user_id FROM students WHERE user_id IS NOT NULL AND class_id IN ({classes})"
        ));
        parts.push(format!(
            "SELECT g.guardian_id FROM guardianships g JOIN students s ON s.id = g.student_id \
             WHERE s.class_id IN ({classes})"
        ));
        parts.push(format!(
            "SELECT teacher_id FROM class_teachers WHERE class_id IN ({classes})"
        ));
    }
    if !audience.group_ids.is_empty() {
        let ids: Vec<String> = audience
            .group_ids
            .iter()
            .map(|g| next(&mut values, (*g).into()))
            .collect();
        parts.push(format!(
            "SELECT user_id FROM group_members WHERE group_id IN ({})",
            ids.join(", ")
        ));
    }
    if !audience.user_ids.is_empty() {
        let ids: Vec<String> = audience
            .user_ids
            .iter()
            .map(|u| next(&mut values, (*u).into()))
            .collect();
        parts.push(format!(
            "SELECT id FROM users WHERE id IN ({})",
            ids.join(", ")
        ));
    }
    (parts.join(" UNION "), values)
}

impl Store {
    /// Announcements published in `[from, to)`, by one author or all.
    pub async fn announcements_between(
        &self,
        author_id: Option<Uuid>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> DomainResult<Vec<Announcement>> {
        let (filter, mut values): (&str, Vec<Value>) = match author_id {
            Some(a) => ("AND a.author_id = $3", vec![a.into()]),
            None => ("", vec![]),
        };
        values.splice(0..0, [from.into(), to.into()]);
        let sql = format!(
            "SELECT {COLUMNS} FROM announcements a WHERE a.publish_at >= $1 AND a.publish_at < $2 \
             {filter} ORDER BY a.publish_at, a.id LIMIT 500"
        );
        all(&self.db, &sql, values).await
    }
}

//! Services, ratings (one live rating per person, service and month),
//! replies, satisfaction with support requests, recommend surveys and
//! complaint flags.

use chrono::{DateTime, NaiveDate, Utc};
use scrm_domain::audience::Audience;
use scrm_domain::{DomainError, DomainResult};
use sea_orm::{FromQueryResult, TransactionTrait};
use uuid::Uuid;

use crate::Store;
use crate::error::{db_err, unique_as};
use crate::sql::{all, count, exec, one, placeholders};

#[derive(Debug, Clone, FromQueryResult)]
pub struct Service {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub active: bool,
}

#[derive(Debug, Clone, FromQueryResult)]
pub struct Rating {
    pub id: Uuid,
    pub service_id: Uuid,
    pub user_id: Uuid,
    /// The school month it counts for, "YYYY-MM".
    pub period: String,
    pub score: i32,
    pub comment: Option<String>,
    pub updated_at: DateTime<Utc>,
}

const RATING_COLUMNS: &str = "id, service_id, user_id, period, score, comment, updated_at";

#[derive(Debug, Clone, FromQueryResult)]
pub struct Reply {
    pub id: Uuid,
    pub rating_id: Uuid,
    pub author_id: Uuid,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// Count and distribution of one service's ratings in one month.
#[derive(Debug, Clone, Default, FromQueryResult)]
pub struct Summary {
    pub count: i64,
    pub total: i64,
    pub ones: i64,
    pub twos: i64,
    pub threes: i64,
    pub fours: i64,
    pub fives: i64,
}

#[derive(Debug, Clone, FromQueryResult)]
pub struct Flag {
    pub id: Uuid,
    /// RATING or SUPPORT_MESSAGE.
    pub source_kind: String,
    pub source_id: Uuid,
    pub author_id: Uuid,
    pub service_id: Option<Uuid>,
    pub excerpt: String,
    /// Why it was raised, one reason a line.
    pub reasons: String,
    pub status: String,
    pub assignee_id: Option<Uuid>,
    pub resolution_note: Option<String>,
    pub created_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
}

const FLAG_COLUMNS: &str = "id, source_kind, source_id, author_id, service_id, excerpt, reasons, status, \
     assignee_id, resolution_note, created_at, resolved_at";

/// A complaint found in a rating or a message.
pub struct NewFlag<'a> {
    /// RATING, SATISFACTION or SUPPORT_MESSAGE.
    pub kind: &'a str,
    pub source_id: Uuid,
    pub author_id: Uuid,
    pub service_id: Option<Uuid>,
    pub excerpt: &'a str,
    pub reasons: &'a [String],
}

#[derive(Debug, Clone, FromQueryResult)]
pub struct Survey {
    pub id: Uuid,
    pub title: String,
    pub opens_on: NaiveDate,
    pub closes_on: NaiveDate,
}

impl Store {
    pub async fn services(&self, only_active: bool) -> DomainResult<Vec<Service>> {
        let filter = if only_active {
            "WHERE active = TRUE"
        } else {
            ""
        };
        all(
            &self.db,
            &format!("SELECT id, name, description, active FROM services {filter} ORDER BY name"),
            vec![],
        )
        .await
    }

    pub async fn service(&self, id: Uuid) -> DomainResult<Option<Service>> {
        one(
            &self.db,
            "SELECT id, name, description, active FROM services WHERE id = $1",
            vec![id.into()],
        )
        .await
    }

    pub async fn create_service(
        &self,
        name: &str,
        description: &str,
        now: DateTime<Utc>,
    ) -> DomainResult<Service> {
        let id = Uuid::now_v7();
        exec(
            &self.db,
            "INSERT INTO services (id, name, description, active, created_at) VALUES ($1, $2, $3, TRUE, $4)",
            vec![id.into(), name.into(), description.into(), now.into()],
        )
        .await
        .map_err(unique_as("name", "a service with this name exists"))?;
        self.service(id)
            .await?
            .ok_or(DomainError::NotFound("service"))
    }

    pub async fn update_service(
        &self,
        id: Uuid,
        name: &str,
        description: &str,
        active: bool,
    ) -> DomainResult<Service> {
        let hit = exec(
            &self.db,
            "UPDATE services SET name = $2, description = $3, active = $4 WHERE id = $1",
            vec![id.into(), name.into(), description.into(), active.into()],
        )
        .await
        .map_err(unique_as("name", "a service with this name exists"))?;
        if hit == 0 {
            return Err(DomainError::NotFound("service"));
        }
        self.service(id)
            .await?
            .ok_or(DomainError::NotFound("service"))
    }

    /// Records a rating: a second one in the same month replaces the
    /// first (the unique key makes parallel tries one row).
    pub async fn rate(
        &self,
        service_id: Uuid,
        user_id: Uuid,
        period: &str,
        score: u8,
        comment: Option<&str>,
        now: DateTime<Utc>,
    ) -> DomainResult<Rating> {
        exec(
            &self.db,
            "INSERT INTO ratings (id, service_id, user_id, period, score, comment, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT (service_id, user_id, period) \
             DO UPDATE SET score = excluded.score, comment = excluded.comment, updated_at = excluded.updated_at",
            vec![Uuid::now_v7().into(), service_id.into(), user_id.into(), period.into(), i32::from(score).into(), comment.into(), now.into()],
        )
        .await
        .map_err(db_err)?;
        self.my_rating(service_id, user_id, period)
            .await?
            .ok_or(DomainError::NotFound("rating"))
    }

    pub async fn my_rating(
        &self,
        service_id: Uuid,
        user_id: Uuid,
        period: &str,
    ) -> DomainResult<Option<Rating>> {
        let sql = format!(
            "SELECT {RATING_COLUMNS} FROM ratings WHERE service_id = $1 AND user_id = $2 AND period = $3"
        );
        one(
            &self.db,
            &sql,
            vec![service_id.into(), user_id.into(), period.into()],
        )
        .await
    }

    pub async fn rating(&self, id: Uuid) -> DomainResult<Option<Rating>> {
        one(
            &self.db,
            &format!("SELECT {RATING_COLUMNS} FROM ratings WHERE id = $1"),
            vec![id.into()],
        )
        .await
    }

    /// Takes back one's rating of the month, with the replies to it.
    pub async fn delete_rating(
        &self,
        service_id: Uuid,
        user_id: Uuid,
        period: &str,
    ) -> DomainResult<bool> {
        let tx = self.db.begin().await.map_err(db_err)?;
        let target =
            "SELECT id FROM ratings WHERE service_id = $1 AND user_id = $2 AND period = $3";
        let values = || vec![service_id.into(), user_id.into(), period.into()];
        exec(
            &tx,
            &format!("DELETE FROM rating_replies WHERE rating_id IN ({target})"),
            values(),
        )
        .await
        .map_err(db_err)?;
        let hit = exec(
            &tx,
            "DELETE FROM ratings WHERE service_id = $1 AND user_id = $2 AND period = $3",
            values(),
        )
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(hit > 0)
    }

    pub async fn rating_summary(&self, service_id: Uuid, period: &str) -> DomainResult<Summary> {
        let found: Option<Summary> = one(
            &self.db,
            "SELECT COUNT(*) AS count, CAST(COALESCE(SUM(score), 0) AS BIGINT) AS total, \
             COUNT(CASE WHEN score = 1 THEN 1 END) AS ones, COUNT(CASE WHEN score = 2 THEN 1 END) AS twos, \
             COUNT(CASE WHEN score = 3 THEN 1 END) AS threes, COUNT(CASE WHEN score = 4 THEN 1 END) AS fours, \
             COUNT(CASE WHEN score = 5 THEN 1 END) AS fives FROM ratings WHERE service_id = $1 AND period = $2",
            vec![service_id.into(), period.into()],
        )
        .await?;
        Ok(found.unwrap_or_default())
    }

    /// One service's ratings of a month, newest first (staff only).
    pub async fn ratings_of(
        &self,
        service_id: Uuid,
        period: &str,
        limit: u64,
    ) -> DomainResult<Vec<Rating>> {
        let sql = format!(
            "SELECT {RATING_COLUMNS} FROM ratings WHERE service_id = $1 AND period = $2 ORDER BY updated_at DESC, id DESC LIMIT $3"
        );
        all(
            &self.db,
            &sql,
            vec![service_id.into(), period.into(), (limit as i64).into()],
        )
        .await
    }

    pub async fn reply_to_rating(
        &self,
        rating_id: Uuid,
        author_id: Uuid,
        body: &str,
        now: DateTime<Utc>,
    ) -> DomainResult<Reply> {
        let id = Uuid::now_v7();
        exec(
            &self.db,
            "INSERT INTO rating_replies (id, rating_id, author_id, body, created_at) VALUES ($1, $2, $3, $4, $5)",
            vec![id.into(), rating_id.into(), author_id.into(), body.into(), now.into()],
        )
        .await
        .map_err(db_err)?;
        Ok(Reply {
            id,
            rating_id,
            author_id,
            body: body.to_owned(),
            created_at: now,
        })
    }

    pub async fn replies(&self, rating_ids: &[Uuid]) -> DomainResult<Vec<Reply>> {
        if rating_ids.is_empty() {
            return Ok(vec![]);
        }
        let sql = format!(
            "SELECT id, rating_id, author_id, body, created_at FROM rating_replies WHERE rating_id IN ({}) ORDER BY created_at, id",
            placeholders(1, rating_ids.len())
        );
        all(
            &self.db,
            &sql,
            rating_ids.iter().map(|i| (*i).into()).collect(),
        )
        .await
    }

    /// The requester's satisfaction with a resolved request; asking again
    /// replaces it.
    pub async fn rate_support(
        &self,
        thread_id: Uuid,
        user_id: Uuid,
        score: u8,
        comment: Option<&str>,
        now: DateTime<Utc>,
    ) -> DomainResult<()> {
        exec(
            &self.db,
            "INSERT INTO support_satisfaction (thread_id, user_id, score, comment, created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (thread_id) DO UPDATE SET score = excluded.score, comment = excluded.comment, created_at = excluded.created_at",
            vec![thread_id.into(), user_id.into(), i32::from(score).into(), comment.into(), now.into()],
        )
        .await
        .map_err(db_err)?;
        Ok(())
    }

    /// Resolved support requests of the viewer still waiting for a rating.
    pub async fn satisfaction_pending(&self, user_id: Uuid) -> DomainResult<Vec<Uuid>> {
        #[derive(FromQueryResult)]
        struct Id {
            id: Uuid,
        }
        let rows: Vec<Id> = all(
            &self.db,
            "SELECT t.id FROM threads t WHERE t.kind = 'SUPPORT' AND t.support_status = 'RESOLVED' \
             AND t.requester_id = $1 AND t.id NOT IN (SELECT thread_id FROM support_satisfaction) \
             ORDER BY t.resolved_at DESC",
            vec![user_id.into()],
        )
        .await?;
        Ok(rows.into_iter().map(|r| r.id).collect())
    }

    pub async fn support_satisfaction(&self, thread_id: Uuid) -> DomainResult<Option<i64>> {
        #[derive(FromQueryResult)]
        struct Score {
            score: i32,
        }
        let found: Option<Score> = one(
            &self.db,
            "SELECT score FROM support_satisfaction WHERE thread_id = $1",
            vec![thread_id.into()],
        )
        .await?;
        Ok(found.map(|s| i64::from(s.score)))
    }

    /// Opens a recommend survey for an audience between two school dates.
    pub async fn create_survey(
        &self,
        title: &str,
        window: (NaiveDate, NaiveDate),
        audience: &Audience,
        academic_year: &str,
        by: Uuid,
        now: DateTime<Utc>,
    ) -> DomainResult<(Survey, i64)> {
        let id = Uuid::now_v7();
        let tx = self.db.begin().await.map_err(db_err)?;
        exec(
            &tx,
            "INSERT INTO surveys (id, title, opens_on, closes_on, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            vec![id.into(), title.into(), window.0.into(), window.1.into(), by.into(), now.into()],
        )
        .await
        .map_err(db_err)?;
        let (people, mut values) = crate::announcements::recipients_sql(audience, academic_year, 2);
        values.insert(0, id.into());
        let addressed = exec(&tx, &format!("INSERT INTO survey_recipients (survey_id, user_id) SELECT $1, id FROM users WHERE id IN ({people})"), values)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok((
            Survey {
                id,
                title: title.to_owned(),
                opens_on: window.0,
                closes_on: window.1,
            },
            addressed as i64,
        ))
    }

    /// Surveys open today that the person was asked and has not answered.
    pub async fn open_surveys(&self, user_id: Uuid, today: NaiveDate) -> DomainResult<Vec<Survey>> {
        all(
            &self.db,
            "SELECT s.id, s.title, s.opens_on, s.closes_on FROM surveys s JOIN survey_recipients r ON r.survey_id = s.id \
             WHERE r.user_id = $1 AND s.opens_on <= $2 AND s.closes_on >= $2 \
             AND s.id NOT IN (SELECT survey_id FROM survey_responses WHERE user_id = $1) ORDER BY s.closes_on",
            vec![user_id.into(), today.into()],
        )
        .await
    }

    pub async fn survey(&self, id: Uuid) -> DomainResult<Option<Survey>> {
        one(
            &self.db,
            "SELECT id, title, opens_on, closes_on FROM surveys WHERE id = $1",
            vec![id.into()],
        )
        .await
    }

    /// Records an answer from someone asked, while the survey is open;
    /// answering again replaces the answer.
    pub async fn answer_survey(
        &self,
        survey_id: Uuid,
        user_id: Uuid,
        score: u8,
        comment: Option<&str>,
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> DomainResult<()> {
        let asked = count(
            &self.db,
            "SELECT COUNT(*) AS n FROM survey_recipients r JOIN surveys s ON s.id = r.survey_id \
             WHERE r.survey_id = $1 AND r.user_id = $2 AND s.opens_on <= $3 AND s.closes_on >= $3",
            vec![survey_id.into(), user_id.into(), today.into()],
        )
        .await?;
        if asked == 0 {
            return Err(DomainError::NotFound("open survey"));
        }
        exec(
            &self.db,
            "INSERT INTO survey_responses (survey_id, user_id, score, comment, created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (survey_id, user_id) DO UPDATE SET score = excluded.score, comment = excluded.comment",
            vec![survey_id.into(), user_id.into(), i32::from(score).into(), comment.into(), now.into()],
        )
        .await
        .map_err(db_err)?;
        Ok(())
    }

    pub async fn survey_scores(&self, survey_id: Uuid) -> DomainResult<Vec<u8>> {
        #[derive(FromQueryResult)]
        struct Score {
            score: i32,
        }
        let rows: Vec<Score> = all(
            &self.db,
            "SELECT score FROM survey_responses WHERE survey_id = $1",
            vec![survey_id.into()],
        )
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| u8::try_from(r.score).ok())
            .collect())
    }

    /// Raises (or refreshes) the flag on a rating or message.
    pub async fn flag(&self, new: &NewFlag<'_>, now: DateTime<Utc>) -> DomainResult<()> {
        exec(
            &self.db,
            "INSERT INTO complaint_flags (id, source_kind, source_id, author_id, service_id, excerpt, reasons, status, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'OPEN', $8) ON CONFLICT (source_kind, source_id) \
             DO UPDATE SET excerpt = excluded.excerpt, reasons = excluded.reasons, \
             status = 'OPEN', resolution_note = NULL, resolved_at = NULL",
            vec![
                Uuid::now_v7().into(),
                new.kind.into(),
                new.source_id.into(),
                new.author_id.into(),
                new.service_id.into(),
                new.excerpt.chars().take(300).collect::<String>().into(),
                new.reasons.join("\n").into(),
                now.into(),
            ],
        )
        .await
        .map_err(db_err)?;
        Ok(())
    }

    /// Withdraws an open flag whose source no longer reads as a complaint
    /// (re-rated, or the rating taken back).
    pub async fn withdraw_flag(&self, kind: &str, source_id: Uuid) -> DomainResult<()> {
        exec(
            &self.db,
            "UPDATE complaint_flags SET status = 'WITHDRAWN' \
             WHERE source_kind = $1 AND source_id = $2 AND status = 'OPEN'",
            vec![kind.into(), source_id.into()],
        )
        .await
        .map_err(db_err)?;
        Ok(())
    }

    pub async fn flags(&self, status: Option<&str>, limit: u64) -> DomainResult<Vec<Flag>> {
        let (filter, mut values): (&str, Vec<sea_orm::Value>) = match status {
            Some(s) => ("WHERE status = $2", vec![s.into()]),
            None => ("", vec![]),
        };
        values.insert(0, (limit as i64).into());
        all(&self.db, &format!("SELECT {FLAG_COLUMNS} FROM complaint_flags {filter} ORDER BY created_at DESC, id DESC LIMIT $1"), values).await
    }

    pub async fn assign_flag(&self, id: Uuid, assignee: Uuid) -> DomainResult<Flag> {
        self.change_flag(id, "assignee_id = $2", vec![assignee.into()])
            .await
    }

    /// Resolves a flag with a note; resolving again keeps the first time.
    pub async fn resolve_flag(
        &self,
        id: Uuid,
        note: &str,
        now: DateTime<Utc>,
    ) -> DomainResult<Flag> {
        self.change_flag(
            id,
            "status = 'RESOLVED', resolution_note = $2, resolved_at = COALESCE(resolved_at, $3)",
            vec![note.into(), now.into()],
        )
        .await
    }

    async fn change_flag(
        &self,
        id: Uuid,
        set: &str,
        mut values: Vec<sea_orm::Value>,
    ) -> DomainResult<Flag> {
        values.insert(0, id.into());
        let hit = exec(
            &self.db,
            &format!("UPDATE complaint_flags SET {set} WHERE id = $1"),
            values,
        )
        .await
        .map_err(db_err)?;
        if hit == 0 {
            return Err(DomainError::NotFound("flag"));
        }
        let found: Option<Flag> = one(
            &self.db,
            &format!("SELECT {FLAG_COLUMNS} FROM complaint_flags WHERE id = $1"),
            vec![id.into()],
        )
        .await?;
        found.ok_or(DomainError::NotFound("flag"))
    }
}

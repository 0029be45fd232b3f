//! Office hours and the notices that wait for them.

use std::collections::HashMap;

use chrono::{DateTime, NaiveTime, Utc, Weekday};
use scrm_domain::DomainResult;
use scrm_domain::conversation::{OfficeHours, Slot};
use sea_orm::{FromQueryResult, TransactionTrait};
use uuid::Uuid;

use crate::Store;
use crate::error::db_err;
use crate::sql::{all, exec, placeholders};

impl Store {
    /// A person's office hours; `None` when they never set any.
    pub async fn office_hours(&self, user_id: Uuid) -> DomainResult<Option<OfficeHours>> {
        Ok(self.office_hours_of(&[user_id]).await?.remove(&user_id))
    }

    /// The office hours of each of `users` who has set any, in one read.
    pub async fn office_hours_of(
        &self,
        users: &[Uuid],
    ) -> DomainResult<HashMap<Uuid, OfficeHours>> {
        #[derive(FromQueryResult)]
        struct Row {
            user_id: Uuid,
            weekday: i32,
            starts: String,
            ends: String,
        }
        if users.is_empty() {
            return Ok(HashMap::new());
        }
        let sql = format!(
            "SELECT user_id, weekday, starts, ends FROM office_hours WHERE user_id IN ({}) \
             ORDER BY user_id, weekday, starts",
            placeholders(1, users.len())
        );
        let rows: Vec<Row> =
            all(&self.db, &sql, users.iter().map(|u| (*u).into()).collect()).await?;
        let mut found: HashMap<Uuid, OfficeHours> = HashMap::new();
        for r in rows {
            let hours = found
                .entry(r.user_id)
                .or_insert_with(|| OfficeHours { slots: vec![] });
            let slot = (|| {
                Some(Slot {
                    weekday: Weekday::try_from(u8::try_from(r.weekday).ok()?).ok()?,
                    start: NaiveTime::parse_from_str(&r.starts, "%H:%M").ok()?,
                    end: NaiveTime::parse_from_str(&r.ends, "%H:%M").ok()?,
                })
            })();
            hours.slots.extend(slot);
        }
        Ok(found)
    }

    pub async fn set_office_hours(&self, user_id: Uuid, hours: &OfficeHours) -> DomainResult<()> {
        let tx = self.db.begin().await.map_err(db_err)?;
        exec(
            &tx,
            "DELETE FROM office_hours WHERE user_id = $1",
            vec![user_id.into()],
        )
        .await
        .map_err(db_err)?;
        for slot in &hours.slots {
            exec(
                &tx,
                "INSERT INTO office_hours (user_id, weekday, starts, ends) VALUES ($1, $2, $3, $4)",
                vec![
                    user_id.into(),
                    i32::from(slot.weekday.num_days_from_monday() as u8).into(),
                    slot.start.format("%H:%M").to_string().into(),
                    slot.end.format("%H:%M").to_string().into(),
                ],
            )
            .await
            .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }

    /// Remembers to tell `user_id` about activity in a thread at `notify_at`.
    pub async fn defer_notice(
        &self,
        user_id: Uuid,
        thread_id: Uuid,
        notify_at: DateTime<Utc>,
    ) -> DomainResult<()> {
        exec(
            &self.db,
            "INSERT INTO pending_notices (id, user_id, thread_id, notify_at) VALUES ($1, $2, $3, $4)",
            vec![Uuid::now_v7().into(), user_id.into(), thread_id.into(), notify_at.into()],
        )
        .await
        .map_err(db_err)?;
        Ok(())
    }

    /// Claims the notices that are due, once across all instances.
    pub async fn claim_due_notices(&self, now: DateTime<Utc>) -> DomainResult<Vec<(Uuid, Uuid)>> {
        #[derive(FromQueryResult)]
        struct Row {
            user_id: Uuid,
            thread_id: Uuid,
        }
        let rows: Vec<Row> = all(
            &self.db,
            "UPDATE pending_notices SET sent_at = $1 WHERE sent_at IS NULL AND notify_at <= $1 \
             RETURNING user_id, thread_id",
            vec![now.into()],
        )
        .await?;
        Ok(rows.into_iter().map(|r| (r.user_id, r.thread_id)).collect())
    }
}

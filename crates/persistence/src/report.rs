//! Reads the facts the service performance report is computed from.

use chrono::{DateTime, Utc};
use scrm_domain::DomainResult;
use scrm_domain::report::{AnnouncementFact, Facts, SupportFact};
use sea_orm::FromQueryResult;
use uuid::Uuid;

use crate::Store;
use crate::sql::{all, count};

impl Store {
    /// Every fact of `[from, to)`; ratings by their months `first..=last`
    /// ("YYYY-MM").
    pub async fn report_facts(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        months: (&str, &str),
    ) -> DomainResult<Facts> {
        let range = || vec![from.into(), to.into()];
        let db = &self.db;
        #[derive(FromQueryResult)]
        struct Family {
            created_at: DateTime<Utc>,
            activated_at: Option<DateTime<Utc>>,
        }
        #[derive(FromQueryResult)]
        struct Announced {
            publish_at: DateTime<Utc>,
            targeted: bool,
            addressed: i64,
            read: i64,
        }
        #[derive(FromQueryResult)]
        struct Sent {
            kind: String,
            created_at: DateTime<Utc>,
            sender_id: Uuid,
        }
        #[derive(FromQueryResult)]
        struct Read {
            user_id: Uuid,
            read_at: DateTime<Utc>,
        }
        #[derive(FromQueryResult)]
        struct Support {
            created_at: DateTime<Utc>,
            first_response_at: Option<DateTime<Utc>>,
            resolved_at: Option<DateTime<Utc>>,
        }
        #[derive(FromQueryResult)]
        struct Settled {
            provider: String,
            settled_at: DateTime<Utc>,
        }
        #[derive(FromQueryResult)]
        struct Rated {
            service_id: Uuid,
            period: String,
            score: i32,
        }
        #[derive(FromQueryResult)]
        struct Scored {
            created_at: DateTime<Utc>,
            score: i32,
        }
        #[derive(FromQueryResult)]
        struct Flagged {
            created_at: DateTime<Utc>,
            resolved_at: Option<DateTime<Utc>>,
        }
        let families: Vec<Family> =
            all(db, "SELECT created_at, activated_at FROM families", vec![]).await?;
        let announced: Vec<Announced> = all(
            db,
            "SELECT a.publish_at, a.targeted, COUNT(r.user_id) AS addressed, COUNT(r.read_at) AS read \
             FROM announcements a LEFT JOIN announcement_recipients r ON r.announcement_id = a.id \
             WHERE a.publish_at >= $1 AND a.publish_at < $2 GROUP BY a.id, a.publish_at, a.targeted",
            range(),
        )
        .await?;
        let sent: Vec<Sent> = all(
            db,
            "SELECT t.kind, m.created_at, m.sender_id FROM messages m JOIN threads t ON t.id = m.thread_id \
             WHERE m.created_at >= $1 AND m.created_at < $2",
            range(),
        )
        .await?;
        let reads: Vec<Read> = all(db, "SELECT user_id, read_at FROM announcement_recipients WHERE read_at >= $1 AND read_at < $2", range()).await?;
        let support: Vec<Support> = all(
            db,
            "SELECT created_at, first_response_at, resolved_at FROM threads WHERE kind = 'SUPPORT' AND created_at >= $1 AND created_at < $2",
            range(),
        )
        .await?;
        let settled: Vec<Settled> = all(db, "SELECT provider, settled_at FROM payments WHERE state = 'SETTLED' AND settled_at >= $1 AND settled_at < $2", range()).await?;
        let rated: Vec<Rated> = all(
            db,
            "SELECT service_id, period, score FROM ratings WHERE period >= $1 AND period <= $2",
            vec![months.0.into(), months.1.into()],
        )
        .await?;
        let satisfied: Vec<Scored> = all(db, "SELECT created_at, score FROM support_satisfaction WHERE created_at >= $1 AND created_at < $2", range()).await?;
        let flagged: Vec<Flagged> = all(db, "SELECT created_at, resolved_at FROM complaint_flags WHERE created_at >= $1 AND created_at < $2", range()).await?;
        let recommended: Vec<Scored> = all(db, "SELECT created_at, score FROM survey_responses WHERE created_at >= $1 AND created_at < $2", range()).await?;
        let guardians = count(
            db,
            "SELECT COUNT(*) AS n FROM users WHERE (',' || roles || ',') LIKE '%,PARENT,%'",
            vec![],
        )
        .await?;
        let with_contact = count(
            db,
            "SELECT COUNT(*) AS n FROM users WHERE (',' || roles || ',') LIKE '%,PARENT,%' AND (phone IS NOT NULL OR email IS NOT NULL)",
            vec![],
        )
        .await?;
        let users = count(db, "SELECT COUNT(*) AS n FROM users", vec![]).await?;
        let score = |s: i32| u8::try_from(s).unwrap_or(0);
        Ok(Facts {
            families: families
                .into_iter()
                .map(|f| (f.created_at, f.activated_at))
                .collect(),
            guardians,
            guardians_with_contact: with_contact,
            users,
            announcements: announced
                .into_iter()
                .map(|a| AnnouncementFact {
                    published_at: a.publish_at,
                    targeted: a.targeted,
                    addressed: a.addressed,
                    read: a.read,
                })
                .collect(),
            messages: sent
                .into_iter()
                .map(|m| (m.kind, m.created_at, m.sender_id))
                .collect(),
            reads: reads.into_iter().map(|r| (r.user_id, r.read_at)).collect(),
            support: support
                .into_iter()
                .map(|s| SupportFact {
                    opened_at: s.created_at,
                    first_response_at: s.first_response_at,
                    resolved_at: s.resolved_at,
                })
                .collect(),
            payments: settled
                .into_iter()
                .map(|p| (p.provider, p.settled_at))
                .collect(),
            ratings: rated
                .into_iter()
                .map(|r| (r.service_id, r.period, score(r.score)))
                .collect(),
            satisfaction: satisfied
                .into_iter()
                .map(|s| (s.created_at, score(s.score)))
                .collect(),
            complaints: flagged
                .into_iter()
                .map(|f| (f.created_at, f.resolved_at))
                .collect(),
            recommend: recommended
                .into_iter()
                .map(|r| (r.created_at, score(r.score)))
                .collect(),
        })
    }
}

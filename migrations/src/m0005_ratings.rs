//! Services and their ratings, satisfaction with support requests,
//! recommend surveys, and complaint flags.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0005_ratings"
    }
}

const UP: &str = r#"
CREATE TABLE services (
    id {uuid} PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL,
    active {bool} NOT NULL,
    created_at {ts} NOT NULL
);
CREATE TABLE ratings (
    id {uuid} PRIMARY KEY,
    service_id {uuid} NOT NULL REFERENCES services (id),
    user_id {uuid} NOT NULL REFERENCES users (id),
    period TEXT NOT NULL,
    score INTEGER NOT NULL,
    comment TEXT,
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL,
    UNIQUE (service_id, user_id, period)
);
CREATE INDEX ratings_period ON ratings (service_id, period);
CREATE TABLE rating_replies (
    id {uuid} PRIMARY KEY,
    rating_id {uuid} NOT NULL REFERENCES ratings (id),
    author_id {uuid} NOT NULL REFERENCES users (id),
    body TEXT NOT NULL,
    created_at {ts} NOT NULL
);
CREATE INDEX rating_replies_rating ON rating_replies (rating_id);
CREATE TABLE support_satisfaction (
    thread_id {uuid} PRIMARY KEY REFERENCES threads (id),
    user_id {uuid} NOT NULL REFERENCES users (id),
    score INTEGER NOT NULL,
    comment TEXT,
    created_at {ts} NOT NULL
);
CREATE TABLE surveys (
    id {uuid} PRIMARY KEY,
    title TEXT NOT NULL,
    opens_on {date} NOT NULL,
    closes_on {date} NOT NULL,
    created_by {uuid} NOT NULL REFERENCES users (id),
    created_at {ts} NOT NULL
);
CREATE TABLE survey_recipients (
    survey_id {uuid} NOT NULL REFERENCES surveys (id),
    user_id {uuid} NOT NULL REFERENCES users (id),
    PRIMARY KEY (survey_id, user_id)
);
CREATE TABLE survey_responses (
    survey_id {uuid} NOT NULL REFERENCES surveys (id),
    user_id {uuid} NOT NULL REFERENCES users (id),
    score INTEGER NOT NULL,
    comment TEXT,
    created_at {ts} NOT NULL,
    PRIMARY KEY (survey_id, user_id)
);
CREATE TABLE complaint_flags (
    id {uuid} PRIMARY KEY,
    source_kind TEXT NOT NULL,
    source_id {uuid} NOT NULL,
    author_id {uuid} NOT NULL REFERENCES users (id),
    service_id {uuid} REFERENCES services (id),
    excerpt TEXT NOT NULL,
    reasons TEXT NOT NULL,
    status TEXT NOT NULL,
    assignee_id {uuid} REFERENCES users (id),
    resolution_note TEXT,
    created_at {ts} NOT NULL,
    resolved_at {ts},
    UNIQUE (source_kind, source_id)
);
CREATE INDEX complaint_flags_status ON complaint_flags (status, created_at)
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run(manager, UP).await
    }
}

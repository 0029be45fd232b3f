//! Announcements and their recipients. Recipients are resolved from the
//! audience when the announcement is published, so a feed is one indexed
//! read per person.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0002_announcements"
    }
}

const UP: &str = r#"
CREATE TABLE announcements (
    id {uuid} PRIMARY KEY,
    author_id {uuid} NOT NULL REFERENCES users (id),
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    category TEXT NOT NULL,
    urgency TEXT NOT NULL,
    audience TEXT NOT NULL,
    targeted {bool} NOT NULL,
    publish_at {ts} NOT NULL,
    expires_at {ts},
    requires_ack {bool} NOT NULL,
    pushed_at {ts},
    created_at {ts} NOT NULL
);
CREATE INDEX announcements_unpushed ON announcements (pushed_at, publish_at);
CREATE INDEX announcements_author ON announcements (author_id);
CREATE TABLE announcement_recipients (
    announcement_id {uuid} NOT NULL REFERENCES announcements (id),
    user_id {uuid} NOT NULL REFERENCES users (id),
    family_id {uuid},
    publish_at {ts} NOT NULL,
    expires_at {ts},
    read_at {ts},
    acknowledged_at {ts},
    PRIMARY KEY (announcement_id, user_id)
);
CREATE INDEX announcement_recipients_feed
    ON announcement_recipients (user_id, publish_at, announcement_id)
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run(manager, UP).await
    }
}

//! Threads, their members and messages. Each thread numbers its messages
//! with `seq`, taken from `threads.last_seq` inside the inserting
//! transaction, so commit order is seq order.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0003_conversations"
    }
}

const UP: &str = r#"
CREATE TABLE threads (
    id {uuid} PRIMARY KEY,
    kind TEXT NOT NULL,
    title TEXT,
    direct_key TEXT UNIQUE,
    class_id {uuid} UNIQUE REFERENCES classes (id),
    announcement_id {uuid} UNIQUE REFERENCES announcements (id),
    last_seq BIGINT NOT NULL DEFAULT 0,
    last_activity_at {ts} NOT NULL,
    support_status TEXT,
    requester_id {uuid} REFERENCES users (id),
    assignee_id {uuid} REFERENCES users (id),
    first_response_at {ts},
    resolved_at {ts},
    created_at {ts} NOT NULL
);
CREATE INDEX threads_support ON threads (support_status, last_activity_at);
CREATE TABLE thread_members (
    thread_id {uuid} NOT NULL REFERENCES threads (id),
    user_id {uuid} NOT NULL REFERENCES users (id),
    role TEXT NOT NULL,
    last_read_seq BIGINT NOT NULL DEFAULT 0,
    muted {bool} NOT NULL DEFAULT FALSE,
    joined_at {ts} NOT NULL,
    removed_at {ts},
    PRIMARY KEY (thread_id, user_id)
);
CREATE INDEX thread_members_user ON thread_members (user_id, removed_at);
CREATE TABLE messages (
    id {uuid} PRIMARY KEY,
    thread_id {uuid} NOT NULL REFERENCES threads (id),
    seq BIGINT NOT NULL,
    sender_id {uuid} NOT NULL REFERENCES users (id),
    client_id TEXT NOT NULL,
    body TEXT NOT NULL,
    reply_to {uuid} REFERENCES messages (id),
    mentions TEXT NOT NULL DEFAULT '',
    created_at {ts} NOT NULL,
    edited_at {ts},
    deleted_at {ts},
    hidden_at {ts},
    UNIQUE (thread_id, seq),
    UNIQUE (sender_id, client_id)
);
CREATE TABLE message_reactions (
    message_id {uuid} NOT NULL REFERENCES messages (id),
    user_id {uuid} NOT NULL REFERENCES users (id),
    emoji TEXT NOT NULL,
    created_at {ts} NOT NULL,
    PRIMARY KEY (message_id, user_id, emoji)
);
CREATE TABLE message_reports (
    message_id {uuid} NOT NULL REFERENCES messages (id),
    reporter_id {uuid} NOT NULL REFERENCES users (id),
    reason TEXT NOT NULL,
    created_at {ts} NOT NULL,
    PRIMARY KEY (message_id, reporter_id)
);
CREATE TABLE office_hours (
    user_id {uuid} NOT NULL REFERENCES users (id),
    weekday INTEGER NOT NULL,
    starts TEXT NOT NULL,
    ends TEXT NOT NULL
);
CREATE INDEX office_hours_user ON office_hours (user_id);
CREATE TABLE pending_notices (
    id {uuid} PRIMARY KEY,
    user_id {uuid} NOT NULL REFERENCES users (id),
    thread_id {uuid} NOT NULL REFERENCES threads (id),
    notify_at {ts} NOT NULL,
    sent_at {ts}
);
CREATE INDEX pending_notices_due ON pending_notices (sent_at, notify_at)
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run(manager, UP).await
    }
}

//! Counts the removals from each thread, so a live subscriber can tell
//! from a message's event alone whether its membership needs checking
//! again before it is shown the message.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0007_members_version"
    }
}

const UP: &str = "ALTER TABLE threads ADD COLUMN members_version BIGINT NOT NULL DEFAULT 0";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run(manager, UP).await
    }
}

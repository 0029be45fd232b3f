//! Marks payments that were started for the early-payment price: the
//! discount is granted only when such a payment settles.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0006_early_payment"
    }
}

const UP: &str = "ALTER TABLE payments ADD COLUMN early {bool} NOT NULL DEFAULT FALSE";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run(manager, UP).await
    }
}

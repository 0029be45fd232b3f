//! Schema migrations. Each is plain SQL written once for both stores;
//! the few column types that differ between SQLite and PostgreSQL are
//! written as `{uuid}`, `{ts}`, `{date}` and `{bool}` and filled in by
//! [`ddl`]. Migrations never change once released: a schema change is a
//! new file.

pub use sea_orm_migration::MigratorTrait;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

mod m0001_directory;
mod m0002_announcements;
mod m0003_conversations;
mod m0004_payments;
mod m0005_ratings;
mod m0006_early_payment;
mod m0007_members_version;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_directory::Migration),
            Box::new(m0002_announcements::Migration),
            Box::new(m0003_conversations::Migration),
            Box::new(m0004_payments::Migration),
            Box::new(m0005_ratings::Migration),
            Box::new(m0006_early_payment::Migration),
            Box::new(m0007_members_version::Migration),
        ]
    }
}

/// Fills the type placeholders of `sql` for `backend`.
pub fn ddl(sql: &str, backend: DbBackend) -> String {
    let pg = matches!(backend, DbBackend::Postgres);
    sql.replace("{uuid}", if pg { "uuid" } else { "blob" })
        .replace("{ts}", if pg { "timestamptz" } else { "text" })
        .replace("{date}", if pg { "date" } else { "text" })
        .replace("{bool}", if pg { "boolean" } else { "integer" })
}

/// Runs each `;`-separated statement of `sql` in order.
pub(crate) async fn run(manager: &SchemaManager<'_>, sql: &str) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let sql = ddl(sql, db.get_database_backend());
    for statement in sql.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        db.execute_unprepared(statement).await?;
    }
    Ok(())
}

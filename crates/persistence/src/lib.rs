//! Storage of scrm on SQLite (the embedded default) or PostgreSQL.
//!
//! Repositories take and return domain types. SQL is written once for
//! both stores: placeholders are `$1`, `$2`, … (SQLite accepts them too),
//! instants are bound from Rust (never the database's own clock), and
//! booleans are literal `TRUE`/`FALSE`.

pub mod announcements;
pub mod directory;
mod error;
pub mod invoices;
pub mod messages;
mod office;
pub mod payments;
pub mod ratings;
mod report;
pub mod roster_import;
mod sql;
pub mod threads;
pub mod users;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;
use scrm_migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbBackend};

pub use error::StoreError;
pub use sea_orm::DatabaseConnection as Connection;

/// A handle to the database, cheap to clone (a pool inside).
#[derive(Clone, Debug)]
pub struct Store {
    db: DatabaseConnection,
    statements: Arc<AtomicU64>,
}

impl Store {
    /// Opens the pool. SQLite files are created when missing and run in
    /// WAL mode with a busy timeout, so readers never block the writer.
    pub async fn connect(url: &str) -> anyhow::Result<Store> {
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .max_connections(if url.starts_with("sqlite") { 8 } else { 20 })
            .acquire_timeout(Duration::from_secs(10))
            .sqlx_logging(false)
            .map_sqlx_sqlite_opts(|o| {
                o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true)
                    .create_if_missing(true)
            });
        let mut db = Database::connect(options)
            .await
            .context("failed to connect to the database")?;
        let statements = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&statements);
        db.set_metric_callback(move |_| {
            counter.fetch_add(1, Ordering::Relaxed);
        });
        Ok(Store { db, statements })
    }

    /// Applies every migration not yet applied.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        Migrator::up(&self.db, None)
            .await
            .context("failed to apply the migrations")
    }

    /// How many statements this store has run: tests use it to prove
    /// that a query costs a fixed number of statements.
    pub fn statements_run(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// True when the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        self.db.ping().await.is_ok()
    }

    /// Runs SQL as is; for tools and tests (creating a database).
    pub async fn execute_unprepared(&self, sql: &str) -> anyhow::Result<()> {
        use sea_orm::ConnectionTrait;
        self.db
            .execute_unprepared(sql)
            .await
            .context("statement failed")?;
        Ok(())
    }

    pub fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }
}

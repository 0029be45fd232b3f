//! Small helpers for writing SQL once for both stores.

use sea_orm::{ConnectionTrait, DbBackend, DbErr, FromQueryResult, Statement, Value};

use crate::error::db_err;
use scrm_domain::DomainResult;

pub(crate) fn stmt(backend: DbBackend, sql: &str, values: Vec<Value>) -> Statement {
    Statement::from_sql_and_values(backend, sql, values)
}

/// Runs a statement that returns no rows; gives the number of rows hit.
pub(crate) async fn exec<C: ConnectionTrait>(
    db: &C,
    sql: &str,
    values: Vec<Value>,
) -> Result<u64, DbErr> {
    let result = db
        .execute_raw(stmt(db.get_database_backend(), sql, values))
        .await?;
    Ok(result.rows_affected())
}

pub(crate) async fn all<T: FromQueryResult, C: ConnectionTrait>(
    db: &C,
    sql: &str,
    values: Vec<Value>,
) -> DomainResult<Vec<T>> {
    T::find_by_statement(stmt(db.get_database_backend(), sql, values))
        .all(db)
        .await
        .map_err(db_err)
}

pub(crate) async fn one<T: FromQueryResult, C: ConnectionTrait>(
    db: &C,
    sql: &str,
    values: Vec<Value>,
) -> DomainResult<Option<T>> {
    T::find_by_statement(stmt(db.get_database_backend(), sql, values))
        .one(db)
        .await
        .map_err(db_err)
}

/// A single integer from a `SELECT COUNT(*)`-like query.
pub(crate) async fn count<C: ConnectionTrait>(
    db: &C,
    sql: &str,
    values: Vec<Value>,
) -> DomainResult<i64> {
    #[derive(FromQueryResult)]
    struct Count {
        n: i64,
    }
    Ok(one::<Count, _>(db, sql, values).await?.map_or(0, |c| c.n))
}

/// `$first, $first+1, …` for `n` values, for an `IN (…)` list.
pub(crate) fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Inserts many rows with as few statements as the stores allow.
pub(crate) async fn insert_many<C: ConnectionTrait>(
    db: &C,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<Value>>,
) -> Result<(), DbErr> {
    // Both stores accept at least 32,766 bound values in one statement.
    let per_statement = (30_000 / columns.len().max(1)).max(1);
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<Vec<Value>> = rows.by_ref().take(per_statement).collect();
        let tuples: Vec<String> = (0..chunk.len())
            .map(|i| format!("({})", placeholders(i * columns.len() + 1, columns.len())))
            .collect();
        let sql = format!(
            "INSERT INTO {table} ({}) VALUES {}",
            columns.join(", "),
            tuples.join(", ")
        );
        exec(db, &sql, chunk.into_iter().flatten().collect()).await?;
    }
    Ok(())
}

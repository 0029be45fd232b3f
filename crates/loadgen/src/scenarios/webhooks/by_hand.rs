//! The webhook baseline: the same signature check, then the payment
//! settled and its invoice credited by hand in one transaction. The
//! conditional update makes a repeat a no-op, as scrm's does.

use std::sync::Arc;

use anyhow::Result;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use scrm_domain::payments::{Notification, signature_matches, signature_of};
use scrm_domain::school_time::truncate_to_micros;
use scrm_persistence::Store;
use sea_orm::{ConnectionTrait, Statement, TransactionTrait, Value as Sql};
use serde_json::{Value, json};
use uuid::Uuid;

#[derive(Clone)]
struct Hook {
    store: Store,
    key: Arc<str>,
}

pub fn router(store: Store, key: String) -> Router {
    Router::new()
        .route("/hook", post(notified))
        .with_state(Hook {
            store,
            key: key.into(),
        })
}

async fn notified(State(hook): State<Hook>, body: Bytes) -> (StatusCode, axum::Json<Value>) {
    let reply = |status, outcome: &str| (status, axum::Json(json!({ "status": outcome })));
    let n = match verified(&body, &hook.key) {
        Ok(n) => n,
        Err((status, outcome)) => return reply(status, outcome),
    };
    let Ok((gross, fee)) = n.amounts() else {
        return reply(StatusCode::OK, "AMOUNT_MISMATCH");
    };
    match settle(&hook.store, &n.order_id, gross - fee).await {
        Ok(true) => reply(StatusCode::OK, "APPLIED"),
        Ok(false) => reply(StatusCode::OK, "DUPLICATE"),
        Err(_) => reply(StatusCode::SERVICE_UNAVAILABLE, "ERROR"),
    }
}

/// Reads the body and checks its shape and signature.
fn verified(body: &Bytes, key: &str) -> Result<Notification, (StatusCode, &'static str)> {
    let malformed = (StatusCode::BAD_REQUEST, "MALFORMED");
    let n: Notification = serde_json::from_slice(body).map_err(|_| malformed)?;
    n.check_shape().map_err(|_| malformed)?;
    let expected = signature_of(&n.order_id, &n.status_code, &n.gross_amount, key);
    if !signature_matches(&expected, &n.signature_key) {
        return Err((StatusCode::FORBIDDEN, "BAD_SIGNATURE"));
    }
    Ok(n)
}

/// Settles a pending payment of `amount` and credits its invoice; false
/// when there was nothing pending to settle.
async fn settle(store: &Store, order_id: &str, amount: i64) -> Result<bool> {
    let db = store.connection();
    let backend = db.get_database_backend();
    let now = truncate_to_micros(chrono::Utc::now());
    let tx = db.begin().await?;
    let moved = Statement::from_sql_and_values(
        backend,
        "UPDATE payments SET state = 'SETTLED', settled_at = $2 \
         WHERE order_id = $1 AND state = 'PENDING' AND amount_idr = $3 RETURNING invoice_id",
        [order_id.into(), now.into(), amount.into()],
    );
    let Some(row) = tx.query_one_raw(moved).await? else {
        return Ok(false);
    };
    let invoice: Uuid = row.try_get("", "invoice_id")?;
    let values: [Sql; 2] = [invoice.into(), amount.into()];
    let credit = Statement::from_sql_and_values(
        backend,
        "UPDATE invoices SET paid_idr = paid_idr + $2, \
         state = CASE WHEN paid_idr + $2 >= total_idr THEN 'PAID' ELSE 'PARTIALLY_PAID' END \
         WHERE id = $1",
        values,
    );
    tx.execute_raw(credit).await?;
    tx.commit().await?;
    Ok(true)
}

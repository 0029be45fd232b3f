//! `POST /webhooks/midtrans`: the provider's payment notifications.
//! The body is read with a small limit, verified, applied once, and
//! recorded whatever its outcome.

use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::state::AppState;

const MAX_NOTIFICATION_BYTES: usize = 64 * 1024;

pub async fn midtrans(State(state): State<AppState>, body: Body) -> Response {
    let Ok(bytes) = axum::body::to_bytes(body, MAX_NOTIFICATION_BYTES).await else {
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            axum::Json(json!({ "status": "TOO_LARGE" })),
        )
            .into_response();
    };
    match crate::payments::handle_notification(&state, &bytes).await {
        Ok(outcome) => {
            let status = StatusCode::from_u16(outcome.http_status()).unwrap_or(StatusCode::OK);
            (status, axum::Json(json!({ "status": outcome.as_str() }))).into_response()
        }
        Err(err) => {
            tracing::error!(error = ?err, "a payment notification could not be handled");
            let body = axum::Json(json!({ "status": "ERROR" }));
            (StatusCode::SERVICE_UNAVAILABLE, body).into_response()
        }
    }
}

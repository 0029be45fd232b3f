//! Assembles the application from configuration and serves it on a
//! listener the caller has bound, until a shutdown future resolves; tests
//! bind port 0 and run exactly this.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderName, Method, Request, StatusCode, header};
use axum::routing::{get, post};
use scrm_persistence::Store;
use tokio::net::TcpListener;
use tower_http::cors::{Any, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::auth::TokenKeys;
use crate::bus::{Bus, InProcessBus, RedisBus};
use crate::config::Config;
use crate::graphql::build_schema;
use crate::http::{CLIENT_HEADER, Http};
use crate::state::AppState;

/// Connects the store (applying migrations) and the bus.
pub async fn build_state(config: Config) -> anyhow::Result<AppState> {
    let store = Store::connect(&config.database_url).await?;
    store.migrate().await?;
    let bus: Arc<dyn Bus> = match &config.redis_url {
        Some(url) => Arc::new(
            RedisBus::connect(url)
                .await
                .context("failed to connect to Redis")?,
        ),
        None => Arc::new(InProcessBus::default()),
    };
    let secret = config
        .jwt_secret
        .clone()
        .context("JWT_SECRET is required outside demo mode")?;
    let keys = TokenKeys::new(&secret, &config.limits)?;
    Ok(AppState::new(store, bus, keys, config))
}

pub fn build_router(state: AppState) -> Router {
    let schema = build_schema(state.clone());
    let http = Http {
        state: state.clone(),
        schema,
    };
    let request_id = HeaderName::from_static("x-request-id");
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            HeaderName::from_static(CLIENT_HEADER),
        ]);
    let trace = TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
        let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
        tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path())
    });
    Router::new()
        .route("/graphql", get(crate::http::get).post(crate::http::post))
        .with_state(http)
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready).with_state(state.clone()))
        .route(
            "/webhooks/midtrans",
            post(crate::webhooks::midtrans).with_state(state),
        )
        .route("/metrics", get(|| async { crate::metrics::render() }))
        .layer(cors)
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(trace)
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
}

async fn ready(State(state): State<AppState>) -> (StatusCode, &'static str) {
    if state.store.ping().await {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
    }
}

/// Serves until `shutdown` resolves, with the scheduler running beside.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let every = Duration::from_millis(state.config.scheduler_interval_ms.max(10));
    let scheduler = crate::jobs::spawn_scheduler(state.clone(), every);
    let router = build_router(state);
    tracing::info!(addr = %listener.local_addr()?, "listening");
    let result = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .context("the server stopped with an error");
    scheduler.abort();
    result
}

//! A few counters in the Prometheus text format, at `/metrics`.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

static REQUESTS: AtomicU64 = AtomicU64::new(0);
static CLIENT_ERRORS: AtomicU64 = AtomicU64::new(0);
static SERVER_ERRORS: AtomicU64 = AtomicU64::new(0);
static WS_OPEN: AtomicI64 = AtomicI64::new(0);

pub fn request_done(status: u16) {
    REQUESTS.fetch_add(1, Ordering::Relaxed);
    match status {
        400..=499 => CLIENT_ERRORS.fetch_add(1, Ordering::Relaxed),
        500..=599 => SERVER_ERRORS.fetch_add(1, Ordering::Relaxed),
        _ => 0,
    };
}

pub fn ws_opened() {
    WS_OPEN.fetch_add(1, Ordering::Relaxed);
}

pub fn ws_closed() {
    WS_OPEN.fetch_sub(1, Ordering::Relaxed);
}

pub fn render() -> String {
    let line = |name: &str, kind: &str, help: &str, value: String| {
        format!("# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n")
    };
    [
        line(
            "scrm_graphql_requests_total",
            "counter",
            "GraphQL HTTP requests answered.",
            REQUESTS.load(Ordering::Relaxed).to_string(),
        ),
        line(
            "scrm_graphql_client_errors_total",
            "counter",
            "Requests refused with a 4xx status.",
            CLIENT_ERRORS.load(Ordering::Relaxed).to_string(),
        ),
        line(
            "scrm_graphql_server_errors_total",
            "counter",
            "Requests that failed with a 5xx status.",
            SERVER_ERRORS.load(Ordering::Relaxed).to_string(),
        ),
        line(
            "scrm_websockets_open",
            "gauge",
            "WebSocket connections open now.",
            WS_OPEN.load(Ordering::Relaxed).to_string(),
        ),
    ]
    .concat()
}

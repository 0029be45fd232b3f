//! End-to-end tests: each starts a real server on port 0 over a fresh
//! database and talks to it over HTTP and WebSocket as the apps do.

mod announcements;
mod auth;
mod conversation_rules;
mod conversations;
mod directory;
mod http_errors;
mod http_guards;
mod live;
mod live_faults;
mod office_hours;
mod payments;
mod ratings;
mod report;
mod roster;
mod schema;
mod support_threads;
mod thread_features;
mod ws_protocol;

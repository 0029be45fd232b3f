//! The scrm server: GraphQL over HTTP and WebSocket, the live-update bus,
//! background jobs and the command line.

pub mod app;
pub mod auth;
pub mod bus;
pub mod config;
pub mod conversations;
pub mod demo;
pub mod feedback;
pub mod graphql;
pub mod http;
pub mod import;
pub mod jobs;
pub mod live;
pub mod metrics;
pub mod payments;
pub mod rate_limit;
pub mod state;
pub mod webhooks;
pub mod ws;

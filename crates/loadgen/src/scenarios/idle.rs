//! Scenario 5: what an open app costs the server while nothing happens.
//! `scrm serve` runs as a child process, so that its resident memory is
//! its own; N sockets connect, initialise and subscribe to
//! `announcementPublished`, then stay idle. The memory they add, per
//! socket, is set beside a bare axum WebSocket echo server holding as
//! many idle sockets. One announcement at the end proves that every
//! subscription was alive: each must receive it exactly once.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use futures_util::{StreamExt, TryStreamExt};
use serde_json::json;
use tokio::process::Command;

use super::{Bench, DELIVERY_LIMIT, PUBLISH};
use crate::listen::{Listener, gather};
use crate::process::{ChildServer, open_files_limit, scrm_bin};
use crate::report::{Figure, Report, Row};
use crate::ws::{Frame, Socket};

const SUBSCRIPTION: &str = "subscription { announcementPublished { id } }";

const CONNECTING_AT_ONCE: usize = 64;

/// Lets allocations and lazily made state settle before reading RSS.
const SETTLE: Duration = Duration::from_secs(2);

/// Resident memory before and after the idle sockets, in KiB.
struct Held {
    before: u64,
    after: u64,
    sockets: usize,
}

impl Held {
    fn per_socket(&self) -> f64 {
        self.after.saturating_sub(self.before) as f64 / self.sockets.max(1) as f64
    }
}

pub async fn run(bench: &Bench<'_>, report: &mut Report) -> Result<()> {
    let n = bench.sizes.idle_sockets;
    let limit = open_files_limit()?;
    ensure!(
        limit >= n as u64 + 1_000,
        "{n} sockets need more open files than the limit of {limit}; \
         raise it first, e.g. `ulimit -n {}`",
        n + 2_000
    );
    let scrm = scrm_side(bench, n).await?;
    let echo = echo_side(n).await?;

    let mut row = Row::new(
        "5",
        "idle subscription, server memory per socket",
        Figure::kib(scrm.per_socket()),
        Figure::kib(echo.per_socket()),
        "≤ 2× and ≤ 16 KiB".to_owned(),
    );
    row.met = row.ratio() <= 2.0 && scrm.per_socket() <= 16.0;
    report.row(row);
    report.note(
        "5",
        format!(
            "{n} sockets; VmRSS of scrm serve {} → {} KiB, of the echo server {} → {} KiB; \
             every subscription received the closing announcement once",
            scrm.before, scrm.after, echo.before, echo.after
        ),
    );
    Ok(())
}

async fn scrm_side(bench: &Bench<'_>, n: usize) -> Result<Held> {
    let school = bench.school()?;
    let tokens: Vec<String> = school
        .parents
        .iter()
        .map(|p| p.session.token.clone())
        .collect();
    let first = tokens.first().context("no parents to connect")?;
    let mut command = Command::new(scrm_bin(bench.opts)?);
    command.arg("serve").envs(bench.stack.child_env());
    let server = ChildServer::start(command).await?;

    subscribed(server.addr, first).await?.close().await;
    tokio::time::sleep(SETTLE).await;
    let before = server.rss_kib()?;
    let listeners: Vec<Listener> = futures_util::stream::iter(0..n)
        .map(|k| {
            let token = &tokens[k % tokens.len()];
            async move { anyhow::Ok(Listener::start(subscribed(server.addr, token).await?, "a")) }
        })
        .buffer_unordered(CONNECTING_AT_ONCE)
        .try_collect()
        .await?;
    tokio::time::sleep(SETTLE).await;
    let after = server.rss_kib()?;

    let api = bench.api_at(server.addr);
    let input = json!({ "title": "Libur", "body": "Sekolah libur besok.", "audience": { "everyone": true } });
    let data = api
        .run(
            Some(&school.admin.token),
            PUBLISH,
            json!({ "input": input }),
        )
        .await?;
    let id = data["publishAnnouncement"]["id"].clone();
    for (k, got) in gather(listeners, 1, DELIVERY_LIMIT)
        .await?
        .iter()
        .enumerate()
    {
        ensure!(
            got.len() == 1 && got[0].data["announcementPublished"]["id"] == id,
            "idle socket {k} received {} events instead of the announcement once",
            got.len()
        );
    }
    server.stop().await;
    Ok(Held {
        before,
        after,
        sockets: n,
    })
}

/// Subscribes, then runs a query on the same socket and waits for its
/// end: the server takes a socket's messages in order, so by then it has
/// taken the subscription too. (A fixed pause alone raced a busy server:
/// a subscription taken after the closing announcement rightly misses it.)
async fn subscribed(addr: SocketAddr, token: &str) -> Result<Socket> {
    let mut socket = Socket::open(addr, token).await?;
    socket.subscribe("a", SUBSCRIPTION, json!({})).await?;
    socket
        .subscribe("probe", "{ __typename }", json!({}))
        .await?;
    loop {
        match socket.next(DELIVERY_LIMIT).await? {
            Some(Frame::Next { id, .. }) if id == "probe" => continue,
            Some(Frame::Other(m)) if m["type"] == "complete" && m["id"] == "probe" => {
                return Ok(socket);
            }
            other => anyhow::bail!("the probe on a new socket did not complete: {other:?}"),
        }
    }
}

async fn echo_side(n: usize) -> Result<Held> {
    let mut command = Command::new(std::env::current_exe()?);
    command.arg("echo-server");
    let server = ChildServer::start(command).await?;

    echoed(server.addr).await?.close().await;
    tokio::time::sleep(SETTLE).await;
    let before = server.rss_kib()?;
    let listeners: Vec<Listener> = futures_util::stream::iter(0..n)
        .map(|_| async { anyhow::Ok(Listener::start(echoed(server.addr).await?, "echo")) })
        .buffer_unordered(CONNECTING_AT_ONCE)
        .try_collect()
        .await?;
    tokio::time::sleep(SETTLE).await;
    let after = server.rss_kib()?;
    for got in gather(listeners, 0, DELIVERY_LIMIT).await? {
        ensure!(
            got.is_empty(),
            "the echo server sent {} stray frames",
            got.len()
        );
    }
    server.stop().await;
    Ok(Held {
        before,
        after,
        sockets: n,
    })
}

/// A plain socket that has had one message echoed.
async fn echoed(addr: SocketAddr) -> Result<Socket> {
    let mut socket = Socket::open_plain(addr, "/ws").await?;
    socket.send_text("halo").await?;
    match socket.next(Duration::from_secs(30)).await? {
        Some(Frame::Text(text)) if text == "halo" => Ok(socket),
        other => anyhow::bail!("expected the echo, got {other:?}"),
    }
}

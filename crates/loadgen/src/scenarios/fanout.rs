//! Scenario 4: how long a message takes to reach everyone watching a
//! thread. A school-wide announcement opens a discussion; N parents'
//! apps subscribe to it, spread over the server instances, and one
//! parent posts at a constant rate. Latency runs from the moment a send
//! was due to the moment each subscriber read its event, and every
//! subscriber must get every message once, in seq order. The baseline
//! is Redis alone: PUBLISH at the same rate to one subscription
//! connection that hands each message to N local receivers.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use futures_util::{StreamExt, TryStreamExt};
use serde_json::json;
use tokio::sync::broadcast;

use super::send::{EVENTS, SEND};
use super::{Bench, DELIVERY_LIMIT, PUBLISH, posted_once_in_order};
use crate::client::Session;
use crate::drive::open_loop;
use crate::listen::{Listener, gather};
use crate::options::Fanout;
use crate::report::{Figure, Report, Row};
use crate::stack::Server;
use crate::stats::Latencies;
use crate::ws::Socket;

const DISCUSSION: &str =
    "query($a: UUID!) { announcementThread(announcementId: $a) { id lastSeq } }";

/// Sockets opened at once while subscribers connect.
const CONNECTING_AT_ONCE: usize = 50;

pub async fn run(bench: &Bench<'_>, report: &mut Report) -> Result<()> {
    for (n, fanout) in bench.sizes.fanouts.clone().into_iter().enumerate() {
        let id = format!("4{}", char::from(b'a' + n as u8));
        measure(bench, report, &id, fanout).await?;
    }
    Ok(())
}

async fn measure(bench: &Bench<'_>, report: &mut Report, id: &str, f: Fanout) -> Result<()> {
    let mut extra = vec![];
    for _ in 1..f.instances {
        extra.push(bench.stack.spawn_scrm().await?);
    }
    let servers: Vec<&Server> = std::iter::once(&bench.main).chain(&extra).collect();
    let (thread, first, people) = discussion(bench, f.subscribers).await?;
    let listeners = subscribe_all(&servers, &people, f.subscribers, &thread, first).await?;
    // Every subscription has subscribed to the bus before its stream
    // starts; the pause only keeps the first sends off the connect storm.
    tokio::time::sleep(Duration::from_secs(1)).await;

    let statements = || servers.iter().map(|s| s.statements()).sum::<u64>();
    let before = statements();
    let due = Arc::new(Mutex::new(vec![None; f.messages as usize]));
    let mut sends = send_all(bench, &people[0], (&thread, id), f, &due).await?;
    let heard = gather(listeners, f.messages as usize, DELIVERY_LIMIT).await?;
    let mut scrm = Latencies::default();
    let due = due.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.clone();
    for (k, got) in heard.into_iter().enumerate() {
        let posted = posted_once_in_order(got, first, f.messages)
            .with_context(|| format!("subscriber {k}"))?;
        for p in posted {
            let i: usize = p.client_id.trim_start_matches(&format!("{id}-")).parse()?;
            let sent_at = due.get(i).copied().flatten().context("unknown client id")?;
            scrm.push(p.at.saturating_duration_since(sent_at));
        }
    }
    let per_message = (statements() - before) as f64 / f.messages as f64;
    for server in extra {
        server.running.stop().await;
    }
    let mut base = redis_baseline(&bench.stack.redis_url, f).await?;

    let what = format!(
        "send→receive p99, {} subscribers, {} instance{}",
        f.subscribers,
        f.instances,
        if f.instances > 1 { "s" } else { "" }
    );
    report.row(Row::at_most(
        id,
        &what,
        Figure::ms(scrm.percentile(99.0)),
        Figure::ms(base.percentile(99.0)),
        2.0,
    ));
    report.note(
        id,
        format!(
            "{} messages at {}/s: scrm {}; Redis alone {}; the send mutation {}; \
             {per_message:.0} statements per message (its send and its deliveries)",
            f.messages,
            f.rate,
            scrm.summary(),
            base.summary(),
            sends.summary()
        ),
    );
    Ok(())
}

/// A new school-wide announcement's discussion, joined by enough
/// parents; gives the thread, its newest seq and who joined.
async fn discussion(bench: &Bench<'_>, wanted: usize) -> Result<(String, i64, Vec<Session>)> {
    let school = bench.school()?;
    let input = json!({
        "title": "Diskusi pentas seni",
        "body": "Silakan bertanya di sini.",
        "audience": { "everyone": true },
    });
    let data = bench
        .api
        .run(
            Some(&school.admin.token),
            PUBLISH,
            json!({ "input": input }),
        )
        .await?;
    let announcement = data["publishAnnouncement"]["id"].clone();
    let people: Vec<Session> = school
        .parents
        .iter()
        .take(wanted)
        .map(|p| p.session.clone())
        .collect();
    ensure!(!people.is_empty(), "no parents to subscribe");
    let api = &bench.api;
    let joined: Vec<(String, i64)> = futures_util::stream::iter(&people)
        .map(|p| async {
            let data = api
                .run(Some(&p.token), DISCUSSION, json!({ "a": announcement }))
                .await?;
            let t = &data["announcementThread"];
            anyhow::Ok((
                t["id"].as_str().context("no thread")?.to_owned(),
                t["lastSeq"].as_i64().context("no lastSeq")?,
            ))
        })
        .buffer_unordered(CONNECTING_AT_ONCE)
        .try_collect()
        .await?;
    let (thread, first) = joined.first().cloned().context("nobody joined")?;
    ensure!(
        joined.iter().all(|j| j.0 == thread),
        "one discussion per announcement"
    );
    Ok((thread, first, people))
}

/// Opens `count` subscriptions, socket k as person k mod n on server k
/// mod instances (a person with several devices when n < count).
async fn subscribe_all(
    servers: &[&Server],
    people: &[Session],
    count: usize,
    thread: &str,
    first: i64,
) -> Result<Vec<Listener>> {
    let addrs: Vec<_> = servers.iter().map(|s| s.addr()).collect();
    futures_util::stream::iter(0..count)
        .map(|k| {
            let (addr, token) = (addrs[k % addrs.len()], &people[k % people.len()].token);
            let variables = json!({ "t": thread, "after": first });
            async move {
                let mut socket = Socket::open(addr, token).await?;
                socket.subscribe("f", EVENTS, variables).await?;
                anyhow::Ok(Listener::start(socket, "f"))
            }
        })
        .buffer_unordered(CONNECTING_AT_ONCE)
        .try_collect()
        .await
}

/// Posts `f.messages` messages at `f.rate` through the first instance,
/// with client ids `TAG-i`, noting when each was due; gives the
/// mutations' own latencies.
async fn send_all(
    bench: &Bench<'_>,
    sender: &Session,
    (thread, tag): (&str, &str),
    f: Fanout,
    due: &Arc<Mutex<Vec<Option<Instant>>>>,
) -> Result<Latencies> {
    let api = bench.api.clone();
    open_loop(f.rate, f.messages, |i, at| {
        if let Ok(mut due) = due.lock() {
            due[i as usize] = Some(at);
        }
        let (api, token) = (api.clone(), sender.token.clone());
        let variables =
            json!({ "t": thread, "c": format!("{tag}-{i}"), "b": format!("Pesan {i}") });
        async move {
            api.run(Some(&token), SEND, variables).await?;
            Ok(())
        }
    })
    .await
}

/// Redis alone: PUBLISH at the same rate to one subscription connection
/// that hands each message to N local receivers, as scrm's bus does.
async fn redis_baseline(url: &str, f: Fanout) -> Result<Latencies> {
    let client = redis::Client::open(url)?;
    let channel = format!("scrm-bench:fanout:{}", uuid::Uuid::new_v4().simple());
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.subscribe(&channel).await?;
    let (local, _) = broadcast::channel::<u64>(4_096);
    let receivers: Vec<_> = (0..f.subscribers)
        .map(|_| tokio::spawn(receive(local.subscribe(), f.messages)))
        .collect();
    let forward = tokio::spawn(async move {
        let mut messages = pubsub.into_on_message();
        while let Some(message) = messages.next().await {
            let i: u64 = message.get_payload::<String>()?.parse()?;
            let _ = local.send(i);
        }
        anyhow::Ok(())
    });
    let publisher = client.get_multiplexed_async_connection().await?;
    let due = Arc::new(Mutex::new(vec![None; f.messages as usize]));
    open_loop(f.rate, f.messages, |i, at| {
        if let Ok(mut due) = due.lock() {
            due[i as usize] = Some(at);
        }
        let (mut conn, channel) = (publisher.clone(), channel.clone());
        async move {
            let heard: i64 = redis::cmd("PUBLISH")
                .arg(&channel)
                .arg(i.to_string())
                .query_async(&mut conn)
                .await?;
            ensure!(heard == 1, "{heard} subscription connections heard it");
            Ok(())
        }
    })
    .await?;
    let mut latencies = Latencies::default();
    let due = due.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.clone();
    for receiver in receivers {
        for (i, at) in receiver.await?? {
            let sent_at = due[i as usize].context("a message never sent")?;
            latencies.push(at.saturating_duration_since(sent_at));
        }
    }
    forward.abort();
    Ok(latencies)
}

/// One local receiver: every message once, in order.
async fn receive(mut rx: broadcast::Receiver<u64>, count: u64) -> Result<Vec<(u64, Instant)>> {
    let mut got = Vec::with_capacity(count as usize);
    while (got.len() as u64) < count {
        let next = tokio::time::timeout(DELIVERY_LIMIT, rx.recv()).await;
        let i = next
            .context("a baseline receiver waited a minute")?
            .context("a baseline receiver fell behind")?;
        ensure!(i == got.len() as u64, "baseline message {i} out of order");
        got.push((i, Instant::now()));
    }
    Ok(got)
}

//! Live conversation updates over real WebSockets: nothing lost, nothing
//! doubled, across reconnects, server instances and a Redis restart.

use std::time::Duration;

use anyhow::{Context, Result};
use scrm_e2e::{Frame, OwnRedis, School, TestApp, WsClient};
use serde_json::{Value, json};

use crate::conversations::{direct, send};

const EVENTS: &str = "subscription($t: ID!, $after: Int) {
  threadEvents(threadId: $t, afterSeq: $after) { kind seq message { body sender { name } } }
}";

pub(crate) async fn subscribe(
    ws: &mut WsClient,
    id: &str,
    thread: &str,
    after: Option<i64>,
) -> Result<()> {
    ws.subscribe(id, EVENTS, json!({ "t": thread, "after": after }))
        .await?;
    // The subscription is live once the server has subscribed to the bus;
    // a short pause keeps the test from racing its own setup.
    tokio::time::sleep(Duration::from_millis(200)).await;
    Ok(())
}

/// The next posted message on subscription `id`: (seq, body).
pub(crate) async fn next_posted(ws: &mut WsClient, id: &str) -> Result<(i64, String)> {
    loop {
        let data = ws.next_data(id).await?;
        let event = &data["threadEvents"];
        if event["kind"] == "MESSAGE_POSTED" {
            return Ok((
                event["seq"].as_i64().context("seq")?,
                event["message"]["body"]
                    .as_str()
                    .context("body")?
                    .to_owned(),
            ));
        }
    }
}

async fn nothing_more(ws: &mut WsClient) -> Result<bool> {
    Ok(
        !matches!(ws.next_within(Duration::from_millis(700)).await?, Some(Frame::Message(m)) if m["type"] == "next"),
    )
}

#[tokio::test]
async fn a_parent_and_a_teacher_see_each_others_messages_live() -> Result<()> {
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;
    let thread = direct(&app, &school.ayu_parent, &school.teacher).await?;
    let mut parent_ws = app.ws(school.ayu_parent.token()).await?;
    let mut teacher_ws = app.ws(school.teacher.token()).await?;
    subscribe(&mut parent_ws, "p", &thread, None).await?;
    subscribe(&mut teacher_ws, "t", &thread, None).await?;

    send(&app, &school.ayu_parent, &thread, "p-1", "Selamat pagi, Bu").await?;
    let at_teacher = next_posted(&mut teacher_ws, "t").await?;
    send(&app, &school.teacher, &thread, "t-1", "Pagi, Pak").await?;
    let at_parent = next_posted(&mut parent_ws, "p").await?;

    assert_eq!(at_teacher, (1, "Selamat pagi, Bu".to_owned()));
    assert_eq!(
        next_posted(&mut parent_ws, "p").await?,
        (2, "Pagi, Pak".to_owned()),
        "the sender sees their own message too, first"
    );
    assert_eq!(at_parent, (1, "Selamat pagi, Bu".to_owned()));
    Ok(())
}

#[tokio::test]
async fn a_class_thread_fans_out_to_the_classes_teacher_and_parents() -> Result<()> {
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;
    let data = app
        .ok(
            school.teacher.token(),
            "query($c: ID!) { classThread(classId: $c) { id members { user { name } } } }",
            json!({ "c": school.class_7a }),
        )
        .await?;
    let thread = data["classThread"]["id"].as_str().context("id")?.to_owned();
    let outsider = app
        .error_code(
            school.citra_parent.token(),
            "query($t: ID!) { thread(id: $t) { id } }",
            json!({ "t": thread }),
        )
        .await?;
    let mut listeners = vec![];
    for (i, who) in [&school.teacher, &school.bima_parent]
        .into_iter()
        .enumerate()
    {
        let mut ws = app.ws(who.token()).await?;
        subscribe(&mut ws, &i.to_string(), &thread, None).await?;
        listeners.push(ws);
    }

    send(
        &app,
        &school.ayu_parent,
        &thread,
        "k-1",
        "Besok bawa buku gambar",
    )
    .await?;

    assert_eq!(
        data["classThread"]["members"].as_array().map(Vec::len),
        Some(3)
    );
    assert_eq!(outsider, "NOT_FOUND");
    for (i, ws) in listeners.iter_mut().enumerate() {
        assert_eq!(
            next_posted(ws, &i.to_string()).await?.1,
            "Besok bawa buku gambar"
        );
    }
    Ok(())
}

#[tokio::test]
async fn a_subscriber_that_reconnects_with_its_last_seq_gets_exactly_what_it_missed() -> Result<()>
{
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;
    let thread = direct(&app, &school.ayu_parent, &school.teacher).await?;
    let mut ws = app.ws(school.teacher.token()).await?;
    subscribe(&mut ws, "1", &thread, None).await?;
    send(&app, &school.ayu_parent, &thread, "r-0", "sebelum").await?;
    let (last_seen, _) = next_posted(&mut ws, "1").await?;
    drop(ws);

    for i in 1..=5 {
        send(
            &app,
            &school.ayu_parent,
            &thread,
            &format!("r-{i}"),
            &format!("terlewat {i}"),
        )
        .await?;
    }
    let mut again = app.ws(school.teacher.token()).await?;
    subscribe(&mut again, "1", &thread, Some(last_seen)).await?;
    let mut got = vec![];
    for _ in 0..5 {
        got.push(next_posted(&mut again, "1").await?);
    }

    let expected: Vec<(i64, String)> = (1..=5)
        .map(|i| (last_seen + i, format!("terlewat {i}")))
        .collect();
    assert_eq!(got, expected);
    assert!(
        nothing_more(&mut again).await?,
        "nothing is delivered twice"
    );
    Ok(())
}

#[tokio::test]
async fn messages_sent_during_a_reconnect_arrive_once_and_in_order() -> Result<()> {
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;
    let thread = direct(&app, &school.ayu_parent, &school.bima_parent).await?;
    send(&app, &school.ayu_parent, &thread, "s-0", "awal").await?;
    for i in 1..=3 {
        send(
            &app,
            &school.ayu_parent,
            &thread,
            &format!("s-{i}"),
            &format!("pesan {i}"),
        )
        .await?;
    }

    let mut ws = app.ws(school.bima_parent.token()).await?;
    let resubscribe = async {
        ws.subscribe("1", EVENTS, json!({ "t": thread, "after": 1 }))
            .await?;
        anyhow::Ok(())
    };
    let during = send(&app, &school.ayu_parent, &thread, "s-4", "pesan 4");
    let (subscribed, fourth) = tokio::join!(resubscribe, during);
    subscribed?;
    fourth?;
    let mut got = vec![];
    for _ in 0..4 {
        got.push(next_posted(&mut ws, "1").await?.1);
    }

    assert_eq!(got, vec!["pesan 1", "pesan 2", "pesan 3", "pesan 4"]);
    assert!(nothing_more(&mut ws).await?);
    Ok(())
}

#[tokio::test]
async fn completing_a_subscription_stops_its_stream_and_frees_its_bus_topic() -> Result<()> {
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;
    let thread = direct(&app, &school.ayu_parent, &school.teacher).await?;
    let topic = format!("thread:{thread}");
    let mut ws = app.ws(school.teacher.token()).await?;
    subscribe(&mut ws, "1", &thread, None).await?;
    let while_open = app.state.bus.local_subscribers(&topic);

    ws.complete("1").await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    for i in 0..3 {
        send(
            &app,
            &school.ayu_parent,
            &thread,
            &format!("x-{i}"),
            "setelah selesai",
        )
        .await?;
    }

    assert_eq!(while_open, 1);
    assert!(
        nothing_more(&mut ws).await?,
        "no next frames after complete"
    );
    assert_eq!(app.state.bus.local_subscribers(&topic), 0);
    subscribe(&mut ws, "1", &thread, None).await?;
    send(&app, &school.ayu_parent, &thread, "x-9", "lagi").await?;
    assert_eq!(
        next_posted(&mut ws, "1").await?.1,
        "lagi",
        "the id can be used again"
    );
    Ok(())
}

#[tokio::test]
async fn the_inbox_subscription_reports_new_unread_messages() -> Result<()> {
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;
    let thread = direct(&app, &school.ayu_parent, &school.bima_parent).await?;
    let mut ws = app.ws(school.bima_parent.token()).await?;
    ws.subscribe(
        "i",
        "subscription { inboxEvents { unreadCount totalUnread thread { id } } }",
        json!({}),
    )
    .await?;
    tokio::time::sleep(Duration::from_millis(200)).await;

    send(&app, &school.ayu_parent, &thread, "i-1", "Halo").await?;
    let event = ws.next_data("i").await?;

    assert_eq!(event["inboxEvents"]["thread"]["id"], Value::from(thread));
    assert_eq!(event["inboxEvents"]["unreadCount"], 1);
    assert_eq!(event["inboxEvents"]["totalUnread"], 1);
    Ok(())
}

#[tokio::test]
#[ignore = "needs redis-server; .ci/run runs it"]
async fn a_message_sent_through_one_instance_reaches_a_subscriber_on_another() -> Result<()> {
    let redis = OwnRedis::start()?;
    let first = TestApp::spawn_with(|c| c.redis_url = Some(redis.url())).await?;
    let second =
        TestApp::spawn_on(&first.database_url, |c| c.redis_url = Some(redis.url())).await?;
    let school = School::new(&first).await?;
    let thread = direct(&first, &school.ayu_parent, &school.teacher).await?;
    let mut ws = second.ws(school.teacher.token()).await?;
    subscribe(&mut ws, "1", &thread, None).await?;

    send(
        &first,
        &school.ayu_parent,
        &thread,
        "two-1",
        "lewat instans pertama",
    )
    .await?;

    assert_eq!(next_posted(&mut ws, "1").await?.1, "lewat instans pertama");
    Ok(())
}

#[tokio::test]
#[ignore = "needs redis-server; .ci/run runs it"]
async fn no_message_is_lost_when_redis_stops_and_comes_back() -> Result<()> {
    let mut redis = OwnRedis::start()?;
    let app = TestApp::spawn_with(|c| c.redis_url = Some(redis.url())).await?;
    let school = School::new(&app).await?;
    let thread = direct(&app, &school.ayu_parent, &school.teacher).await?;
    let mut ws = app.ws(school.teacher.token()).await?;
    subscribe(&mut ws, "1", &thread, None).await?;
    send(&app, &school.ayu_parent, &thread, "d-0", "sebelum").await?;
    assert_eq!(next_posted(&mut ws, "1").await?.1, "sebelum");

    redis.stop();
    let mut stored = vec![];
    for i in 1..=3 {
        stored.push(
            send(
                &app,
                &school.ayu_parent,
                &thread,
                &format!("d-{i}"),
                &format!("saat mati {i}"),
            )
            .await?,
        );
    }
    redis.restart()?;
    let mut got = vec![];
    for _ in 0..3 {
        got.push(next_posted(&mut ws, "1").await?.1);
    }
    send(&app, &school.ayu_parent, &thread, "d-4", "sesudah").await?;

    assert_eq!(stored.len(), 3, "sending works while Redis is down");
    assert_eq!(got, vec!["saat mati 1", "saat mati 2", "saat mati 3"]);
    assert_eq!(next_posted(&mut ws, "1").await?.1, "sesudah");
    Ok(())
}

#[tokio::test]
async fn subscribers_are_given_a_new_message_without_reading_it_back() -> Result<()> {
    const LISTENERS: usize = 20;
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;
    let thread = direct(&app, &school.ayu_parent, &school.teacher).await?;
    let store = &app.state.store;
    let before = store.statements_run();
    send(&app, &school.ayu_parent, &thread, "r-0", "tanpa pendengar").await?;
    let alone = store.statements_run() - before;
    let mut ws = app.ws(school.teacher.token()).await?;
    let query =
        "subscription($t: ID!) { threadEvents(threadId: $t) { kind seq message { body } } }";
    for i in 0..LISTENERS {
        ws.subscribe(&i.to_string(), query, json!({ "t": thread }))
            .await?;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    let before = store.statements_run();
    send(
        &app,
        &school.ayu_parent,
        &thread,
        "r-1",
        "dua puluh pendengar",
    )
    .await?;
    // Frames of the twenty subscriptions come in any order.
    let mut bodies = std::collections::BTreeMap::new();
    while bodies.len() < LISTENERS {
        match ws.next_within(Duration::from_secs(10)).await? {
            Some(Frame::Message(m)) if m["type"] == "next" => {
                let body = m["payload"]["data"]["threadEvents"]["message"]["body"].clone();
                bodies.insert(m["id"].as_str().unwrap_or_default().to_owned(), body);
            }
            other => anyhow::bail!("{} of {LISTENERS} heard, then {other:?}", bodies.len()),
        }
    }
    let heard = store.statements_run() - before;

    assert!(
        bodies.values().all(|b| b == "dua puluh pendengar"),
        "{bodies:?}"
    );
    assert!(
        heard < alone + LISTENERS as u64 / 2,
        "a send heard by {LISTENERS} subscriptions ran {heard} statements, alone {alone}"
    );
    Ok(())
}

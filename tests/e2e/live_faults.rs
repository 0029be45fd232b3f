//! Live updates under faults: an event is never ahead of the database
//! (BC-27), the Redis bus survives losing its pub/sub connection
//! (BC-05), a completed subscription leaves Redis (BC-01), and a member
//! removed while events were lost hears nothing more of the thread, nor
//! one whose removal's own event never went out.

use std::time::Duration;

use anyhow::{Context, Result};
use scrm_e2e::{Frame, OwnRedis, School, TestApp, WsClient};
use serde_json::{Value, json};

use crate::conversations::{direct, send};
use crate::live::{next_posted, subscribe};
use crate::thread_features::groups::group;

const READ_BACK: &str = "query($t: UUID!, $a: String!) {
  thread(id: $t) { messages(first: 1, after: $a) { edges { node { seq body } } } }
}";

/// Runs `redis-cli` against the test's own Redis.
fn redis_cli(redis: &OwnRedis, args: &[&str]) -> Result<String> {
    let out = std::process::Command::new("redis-cli")
        .args(["-p", &redis.port.to_string()])
        .args(args)
        .output()
        .context("redis-cli is needed for this test")?;
    anyhow::ensure!(out.status.success(), "redis-cli {args:?} failed");
    Ok(String::from_utf8(out.stdout)?)
}

/// Ayu's group with Bima and Citra, Citra following it as subscription
/// "1" and past its first message.
async fn citra_listening_in_a_group(app: &TestApp) -> Result<(School, String, WsClient)> {
    let school = School::new(app).await?;
    let (ayu, bima, citra) = (
        &school.ayu_parent,
        &school.bima_parent,
        &school.citra_parent,
    );
    let thread = group(app, ayu, &[bima, citra]).await?;
    let mut ws = app.ws(citra.token()).await?;
    subscribe(&mut ws, "1", &thread, None).await?;
    send(app, ayu, &thread, "g-0", "sebelum").await?;
    anyhow::ensure!(next_posted(&mut ws, "1").await?.1 == "sebelum");
    Ok((school, thread, ws))
}

/// Every event of subscription "1" until it completes.
async fn heard_until_complete(ws: &mut WsClient) -> Result<Vec<Value>> {
    let mut heard = vec![];
    loop {
        match ws.next_within(Duration::from_secs(10)).await? {
            Some(Frame::Message(m)) if m["type"] == "next" => {
                heard.push(m["payload"]["data"].clone())
            }
            Some(Frame::Message(m)) if m == json!({ "type": "complete", "id": "1" }) => {
                return Ok(heard);
            }
            other => anyhow::bail!("the stream did not end ({other:?}) after {heard:?}"),
        }
    }
}

/// How many connections Redis has subscribed to `channel`.
fn numsub(redis: &OwnRedis, channel: &str) -> Result<i64> {
    let out = redis_cli(redis, &["PUBSUB", "NUMSUB", channel])?;
    let count = out.lines().nth(1).context("no count in the answer")?;
    Ok(count.trim().parse()?)
}

#[tokio::test]
async fn every_posted_event_can_be_read_back_at_once() -> Result<()> {
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;
    let (ayu, bima) = (&school.ayu_parent, &school.bima_parent);
    let thread = direct(&app, ayu, bima).await?;
    let mut ws = app.ws(bima.token()).await?;
    subscribe(&mut ws, "1", &thread, None).await?;

    let sender = async {
        for i in 1..=100 {
            send(&app, ayu, &thread, &format!("c-{i}"), &format!("Pesan {i}")).await?;
        }
        anyhow::Ok(())
    };
    let reader = async {
        let (mut seen, mut missing) = (vec![], vec![]);
        for _ in 0..100 {
            let (seq, body) = next_posted(&mut ws, "1").await?;
            let vars = json!({ "t": thread, "a": (seq - 1).to_string() });
            let data = app.ok(bima.token(), READ_BACK, vars).await?;
            let node = &data["thread"]["messages"]["edges"][0]["node"];
            if node["seq"] != seq || node["body"] != body.as_str() {
                missing.push(seq);
            }
            seen.push(seq);
        }
        anyhow::Ok((seen, missing))
    };
    let (sent, read) = tokio::join!(sender, reader);
    sent?;
    let (seen, missing) = read?;

    assert_eq!(seen, (1..=100).collect::<Vec<i64>>());
    assert_eq!(missing, Vec::<i64>::new(), "events ahead of the database");
    Ok(())
}

#[tokio::test]
#[ignore = "needs redis-server; .ci/run runs it"]
async fn a_subscriber_hears_again_after_redis_drops_the_pubsub_connections() -> Result<()> {
    let redis = OwnRedis::start()?;
    let app = TestApp::spawn_with(|c| c.redis_url = Some(redis.url())).await?;
    let school = School::new(&app).await?;
    let (parent, teacher) = (&school.ayu_parent, &school.teacher);
    let thread = direct(&app, parent, teacher).await?;
    let mut ws = app.ws(teacher.token()).await?;
    subscribe(&mut ws, "1", &thread, None).await?;
    send(&app, parent, &thread, "k-0", "sebelum").await?;
    assert_eq!(next_posted(&mut ws, "1").await?.1, "sebelum");

    let killed = redis_cli(&redis, &["CLIENT", "KILL", "TYPE", "pubsub"])?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    for i in 1..=3 {
        send(
            &app,
            parent,
            &thread,
            &format!("k-{i}"),
            &format!("sesudah {i}"),
        )
        .await?;
    }
    let mut got = vec![];
    for _ in 0..3 {
        got.push(next_posted(&mut ws, "1").await?);
    }

    assert!(
        killed.trim().parse::<i64>()? >= 1,
        "the server's listener was killed"
    );
    let expected: Vec<(i64, String)> = (1..=3).map(|i| (i + 1, format!("sesudah {i}"))).collect();
    assert_eq!(got, expected);
    assert_eq!(
        numsub(&redis, &format!("thread:{thread}"))?,
        1,
        "subscribed again"
    );
    Ok(())
}

#[tokio::test]
#[ignore = "needs redis-server; .ci/run runs it"]
async fn a_completed_subscription_leaves_its_redis_channel_within_a_second() -> Result<()> {
    let redis = OwnRedis::start()?;
    let app = TestApp::spawn_with(|c| c.redis_url = Some(redis.url())).await?;
    let school = School::new(&app).await?;
    let thread = direct(&app, &school.ayu_parent, &school.teacher).await?;
    let channel = format!("thread:{thread}");
    let mut ws = app.ws(school.teacher.token()).await?;
    subscribe(&mut ws, "1", &thread, None).await?;
    let while_open = numsub(&redis, &channel)?;

    ws.complete("1").await?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
    let mut after = numsub(&redis, &channel)?;
    while after != 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        after = numsub(&redis, &channel)?;
    }

    assert_eq!(while_open, 1);
    assert_eq!(
        after, 0,
        "the channel is still subscribed a second after complete"
    );
    Ok(())
}

#[tokio::test]
#[ignore = "needs redis-server; .ci/run runs it"]
async fn a_member_removed_while_events_are_lost_hears_nothing_more_of_the_thread() -> Result<()> {
    let mut redis = OwnRedis::start()?;
    let app = TestApp::spawn_with(|c| c.redis_url = Some(redis.url())).await?;
    let (school, thread, mut ws) = citra_listening_in_a_group(&app).await?;
    let (ayu, citra) = (&school.ayu_parent, &school.citra_parent);

    redis.stop();
    let remove = "mutation($t: UUID!, $u: UUID!) { removeMember(threadId: $t, userId: $u) }";
    app.ok(
        ayu.token(),
        remove,
        json!({ "t": thread, "u": citra.user_id }),
    )
    .await?;
    send(&app, ayu, &thread, "g-1", "rahasia sesudah dikeluarkan").await?;
    redis.restart()?;
    let heard = heard_until_complete(&mut ws).await?;

    let kinds: Vec<&Value> = heard.iter().map(|d| &d["threadEvents"]["kind"]).collect();
    assert_eq!(kinds, vec!["MEMBER_REMOVED"], "heard {heard:?}");
    Ok(())
}

#[tokio::test]
async fn a_member_whose_removal_was_never_announced_is_shown_no_later_message() -> Result<()> {
    let app = TestApp::spawn().await?;
    let (school, thread, mut ws) = citra_listening_in_a_group(&app).await?;
    let (ayu, citra) = (&school.ayu_parent, &school.citra_parent);

    // Taken out in the store alone: no MEMBER_REMOVED event is published,
    // as when the bus drops it. The next message's event carries the
    // thread's members_version, which tells the stream to look again.
    let removed = app
        .state
        .store
        .remove_member(
            thread.parse()?,
            citra.user_id.parse()?,
            true,
            chrono::Utc::now(),
        )
        .await?;
    send(&app, ayu, &thread, "g-1", "rahasia sesudah dikeluarkan").await?;
    let heard = heard_until_complete(&mut ws).await?;

    assert!(removed);
    let kinds: Vec<&Value> = heard.iter().map(|d| &d["threadEvents"]["kind"]).collect();
    assert_eq!(kinds, vec!["MEMBER_REMOVED"], "heard {heard:?}");
    Ok(())
}

#[tokio::test]
async fn a_parent_whose_child_moves_class_leaves_its_thread_with_the_import() -> Result<()> {
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;
    let (teacher, bima) = (&school.teacher, &school.bima_parent);
    let data = app
        .ok(
            teacher.token(),
            "query($c: ID!) { classThread(classId: $c) { id } }",
            json!({ "c": school.class_7a }),
        )
        .await?;
    let thread = data["classThread"]["id"].as_str().context("id")?.to_owned();
    let mut ws = app.ws(bima.token()).await?;
    subscribe(&mut ws, "1", &thread, None).await?;

    // The next export has Bima in VIII-A; nobody opens the class thread.
    let moved = "nisn;nama;kelas;nama_ortu;no_hp_ortu\r\n\
        0012345671;Ayu;VII-A;Bapak Ayu;081234567801\r\n\
        0012345672;Bima;VIII-A;Ibu Bima;081234567802\r\n\
        0012345673;Citra;VIII-A;Bapak Citra;081234567803\r\n";
    let (status, report) = app
        .upload_roster(&school.admin.access, moved.as_bytes().to_vec(), false)
        .await?;
    send(&app, teacher, &thread, "k-1", "Hanya untuk kelas VII-A").await?;
    let heard = heard_until_complete(&mut ws).await?;
    let reopened = app
        .error_code(
            bima.token(),
            "query($t: ID!) { thread(id: $t) { id } }",
            json!({ "t": thread }),
        )
        .await?;

    assert_eq!(status, 200);
    assert_eq!(report["data"]["importRoster"]["updated"], 1, "{report}");
    let kinds: Vec<&Value> = heard.iter().map(|d| &d["threadEvents"]["kind"]).collect();
    assert_eq!(kinds, vec!["MEMBER_REMOVED"], "heard {heard:?}");
    assert_eq!(reopened, "NOT_FOUND");
    Ok(())
}

//! Threads and messages through the API: who may talk to whom, retries
//! stored once, unread counts that follow read markers and deletions.

use anyhow::{Context, Result};
use scrm_e2e::{School, Session, TestApp};
use serde_json::{Value, json};

pub const START_DIRECT: &str =
    "mutation($u: ID!) { startThread(input: { kind: DIRECT, userId: $u }) { id kind } }";
pub const SEND: &str = "mutation($t: ID!, $c: ID!, $b: String!) {
  sendMessage(threadId: $t, clientId: $c, body: $b) { id seq body expectedReplyAt }
}";
const INBOX: &str =
    "{ inbox(first: 20) { totalUnread edges { node { id unreadCount lastMessage { body } } } } }";

pub async fn direct(app: &TestApp, from: &Session, to: &Session) -> Result<String> {
    let data = app
        .ok(from.token(), START_DIRECT, json!({ "u": to.user_id }))
        .await?;
    Ok(data["startThread"]["id"]
        .as_str()
        .context("thread id")?
        .to_owned())
}

pub async fn send(
    app: &TestApp,
    from: &Session,
    thread: &str,
    client_id: &str,
    body: &str,
) -> Result<Value> {
    let data = app
        .ok(
            from.token(),
            SEND,
            json!({ "t": thread, "c": client_id, "b": body }),
        )
        .await?;
    Ok(data["sendMessage"].clone())
}

#[tokio::test]
async fn a_student_cannot_open_a_private_thread_with_another_student() -> Result<()> {
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;
    let [one, two] = &school.students;

    let code = app
        .error_code(one.token(), START_DIRECT, json!({ "u": two.user_id }))
        .await?;

    assert_eq!(code, "FORBIDDEN");
    Ok(())
}

#[tokio::test]
async fn a_parent_may_message_their_childs_teacher_but_not_another_classes_teacher() -> Result<()> {
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;

    let allowed = app
        .post(
            school.ayu_parent.token(),
            START_DIRECT,
            json!({ "u": school.teacher.user_id }),
        )
        .await?;
    let refused = app
        .error_code(
            school.citra_parent.token(),
            START_DIRECT,
            json!({ "u": school.teacher.user_id }),
        )
        .await?;

    assert!(allowed.1["errors"].is_null(), "{}", allowed.1);
    assert_eq!(refused, "FORBIDDEN");
    Ok(())
}

#[tokio::test]
async fn starting_a_direct_thread_twice_gives_the_same_thread() -> Result<()> {
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;

    let first = direct(&app, &school.ayu_parent, &school.teacher).await?;
    let again = direct(&app, &school.teacher, &school.ayu_parent).await?;

    assert_eq!(first, again);
    Ok(())
}

#[tokio::test]
async fn a_retried_send_is_stored_once_and_a_reused_client_id_with_new_text_is_refused()
-> Result<()> {
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;
    let thread = direct(&app, &school.ayu_parent, &school.bima_parent).await?;

    let a = send(&app, &school.ayu_parent, &thread, "c-123", "Besok libur").await?;
    let b = send(&app, &school.ayu_parent, &thread, "c-123", "Besok libur").await?;
    let (c, d) = tokio::join!(
        send(&app, &school.ayu_parent, &thread, "c-456", "Bersamaan"),
        send(&app, &school.ayu_parent, &thread, "c-456", "Bersamaan"),
    );
    let changed = app
        .error_code(
            school.ayu_parent.token(),
            SEND,
            json!({ "t": thread, "c": "c-123", "b": "Besok masuk" }),
        )
        .await?;
    let other_sender = send(&app, &school.bima_parent, &thread, "c-123", "ok").await?;
    let twice_ok = send(&app, &school.bima_parent, &thread, "c-789", "ok").await?;

    assert_eq!(a["id"], b["id"]);
    assert_eq!(c?["id"], d?["id"]);
    assert_eq!(changed, "CONFLICT");
    assert_ne!(other_sender["id"], twice_ok["id"]);
    let history = app
        .ok(school.bima_parent.token(), "query($t: ID!) { thread(id: $t) { lastSeq messages(first: 50) { edges { node { seq body } } } } }", json!({ "t": thread }))
        .await?;
    let seqs: Vec<i64> = history["thread"]["messages"]["edges"]
        .as_array()
        .context("edges")?
        .iter()
        .filter_map(|e| e["node"]["seq"].as_i64())
        .collect();
    assert_eq!(seqs, vec![1, 2, 3, 4], "seq numbers have no holes");
    Ok(())
}

#[tokio::test]
async fn text_is_kept_exactly_with_emoji_and_right_to_left_script() -> Result<()> {
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;
    let thread = direct(&app, &school.ayu_parent, &school.bima_parent).await?;
    let text = "  Terima kasih 🙏🏽\nشكرا  ";

    let sent = send(&app, &school.ayu_parent, &thread, "u-1", text).await?;
    let blank = app
        .error_code(
            school.ayu_parent.token(),
            SEND,
            json!({ "t": thread, "c": "u-2", "b": " \n " }),
        )
        .await?;
    let long = app
        .error_code(
            school.ayu_parent.token(),
            SEND,
            json!({ "t": thread, "c": "u-3", "b": "a".repeat(4001) }),
        )
        .await?;

    assert_eq!(sent["body"], text);
    assert_eq!(
        (blank.as_str(), long.as_str()),
        ("BAD_USER_INPUT", "BAD_USER_INPUT")
    );
    Ok(())
}

#[tokio::test]
async fn a_non_member_can_neither_read_nor_write_nor_subscribe() -> Result<()> {
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;
    let thread = direct(&app, &school.ayu_parent, &school.teacher).await?;
    send(&app, &school.ayu_parent, &thread, "m-1", "Rahasia").await?;

    let read = app
        .error_code(
            school.bima_parent.token(),
            "query($t: ID!) { thread(id: $t) { id } }",
            json!({ "t": thread }),
        )
        .await?;
    let write = app
        .error_code(
            school.bima_parent.token(),
            SEND,
            json!({ "t": thread, "c": "x", "b": "halo" }),
        )
        .await?;
    let missing = app
        .error_code(
            school.bima_parent.token(),
            SEND,
            json!({ "t": uuid::Uuid::now_v7(), "c": "y", "b": "halo" }),
        )
        .await?;
    let mut ws = app.ws(school.bima_parent.token()).await?;
    ws.subscribe("1", "subscription($t: ID!) { threadEvents(threadId: $t, afterSeq: 0) { kind message { body } } }", json!({ "t": thread })).await?;
    let frame = ws.next().await?;

    assert_eq!(
        (read.as_str(), write.as_str(), missing.as_str()),
        ("NOT_FOUND", "NOT_FOUND", "NOT_FOUND")
    );
    let scrm_e2e::Frame::Message(m) = frame else {
        anyhow::bail!("expected an error frame, got {frame:?}")
    };
    assert_eq!(m["type"], "error");
    assert_eq!(m["payload"][0]["extensions"]["code"], "NOT_FOUND");
    Ok(())
}

#[tokio::test]
async fn unread_counts_follow_read_markers_and_deletions() -> Result<()> {
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;
    let thread = direct(&app, &school.ayu_parent, &school.bima_parent).await?;
    for i in 1..=3 {
        send(
            &app,
            &school.ayu_parent,
            &thread,
            &format!("n-{i}"),
            &format!("Pesan {i}"),
        )
        .await?;
    }
    let unread = |v: &Value| v["inbox"]["edges"][0]["node"]["unreadCount"].as_i64();

    let before = app.ok(school.bima_parent.token(), INBOX, json!({})).await?;
    app.ok(
        school.bima_parent.token(),
        "mutation($t: ID!) { markThreadRead(threadId: $t, seq: 1) { lastReadSeq } }",
        json!({ "t": thread }),
    )
    .await?;
    let after_read = app.ok(school.bima_parent.token(), INBOX, json!({})).await?;
    let third = app
        .ok(
            school.ayu_parent.token(),
            "query($t: ID!) { thread(id: $t) { messages(last: 1) { edges { node { id } } } } }",
            json!({ "t": thread }),
        )
        .await?;
    let third_id = third["thread"]["messages"]["edges"][0]["node"]["id"].clone();
    app.ok(
        school.ayu_parent.token(),
        "mutation($id: ID!) { deleteMessage(id: $id) { deleted body } }",
        json!({ "id": third_id }),
    )
    .await?;
    let after_delete = app.ok(school.bima_parent.token(), INBOX, json!({})).await?;
    let sender_view = app.ok(school.ayu_parent.token(), INBOX, json!({})).await?;

    assert_eq!(
        (unread(&before), before["inbox"]["totalUnread"].as_i64()),
        (Some(3), Some(3))
    );
    assert_eq!(unread(&after_read), Some(2));
    assert_eq!(unread(&after_delete), Some(1));
    assert_eq!(
        unread(&sender_view),
        Some(0),
        "one's own messages are never unread"
    );
    assert_eq!(
        after_delete["inbox"]["edges"][0]["node"]["lastMessage"]["body"],
        ""
    );
    Ok(())
}

#[tokio::test]
async fn the_inbox_of_fifty_threads_costs_a_fixed_number_of_statements() -> Result<()> {
    // No scheduler ticks inside the measured window.
    let app = TestApp::spawn_with(|c| c.scheduler_interval_ms = 3_600_000).await?;
    let school = School::new(&app).await?;
    let store = &app.state.store;
    let me: uuid::Uuid = school.admin.user_id.parse()?;
    for t in 0..50 {
        let other: uuid::Uuid = if t % 2 == 0 {
            school.ayu_parent.user_id.parse()?
        } else {
            school.teacher.user_id.parse()?
        };
        let members = [
            (me, scrm_domain::conversation::MemberRole::Owner),
            (other, scrm_domain::conversation::MemberRole::Member),
        ];
        let new = scrm_persistence::threads::NewThread {
            kind: scrm_domain::conversation::ThreadKind::Group,
            title: Some(format!("Grup {t}")),
            direct_key: None,
            class_id: None,
            announcement_id: None,
            requester_id: None,
            members: &members,
        };
        let thread = store.create_thread(new, app.state.now()).await?;
        for m in 0..20 {
            let msg = scrm_persistence::messages::NewMessage {
                thread_id: thread.id,
                sender_id: if m % 2 == 0 { me } else { other },
                client_id: format!("{t}-{m}"),
                body: format!("pesan {m}"),
                reply_to: None,
                mentions: vec![],
            };
            store.send_message(msg, app.state.now()).await?;
        }
    }
    let query =
        "{ inbox(first: 50) { edges { node { id unreadCount lastMessage { body sender { name } }
                   members { user { name } } } } } }";
    let aliased =
        "{ inbox(first: 50) { edges { node { id unreadCount a: lastMessage { body sender { name } }
                     b: lastMessage { body } members { user { name } } } } } }";

    let start = store.statements_run();
    let plain = app.ok(school.admin.token(), query, json!({})).await?;
    let used = store.statements_run() - start;
    let start = store.statements_run();
    app.ok(school.admin.token(), aliased, json!({})).await?;
    let used_aliased = store.statements_run() - start;

    assert_eq!(plain["inbox"]["edges"].as_array().map(Vec::len), Some(50));
    assert!(used <= 10, "the inbox took {used} statements");
    // The loaders batch within a moment, so an alias may cost one more
    // batch; what must never happen is a statement per thread (+50).
    assert!(
        used_aliased <= used + 4,
        "aliases took {used_aliased} statements against {used}"
    );
    Ok(())
}

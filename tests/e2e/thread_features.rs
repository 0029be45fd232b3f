//! What a message can be besides sent: a reply, edited, deleted,
//! reacted to, mentioning members. Reading a thread (receipts, markers,
//! typing, muting, history) is in `reading`; groups and moderation are
//! in `groups`.

pub(crate) mod groups;
mod reading;

use std::time::Duration;

use anyhow::{Context, Result};
use scrm_e2e::{School, Session, TestApp, WsClient};
use serde_json::{Value, json};

use crate::conversations::{direct, send};

const EVENTS: &str = "subscription($t: UUID!) {
  threadEvents(threadId: $t) {
    kind seq userId message { id body deleted hidden editedAt reactions { emoji count } }
  }
}";
const SEND: &str = "mutation($t: UUID!, $c: String!, $b: String!, $r: UUID, $m: [UUID!]! = []) {
  sendMessage(threadId: $t, clientId: $c, body: $b, replyToId: $r, mentionIds: $m) {
    id seq replyToId mentions { id }
  }
}";
const VIEW: &str = "query($t: UUID!) { thread(id: $t) { messages(first: 100) { edges { node {
  id seq body deleted hidden editedAt replyToId mentions { id } reactions { emoji count mine }
  readBy { id } reportCount } } } } }";
const EDIT: &str =
    "mutation($id: UUID!, $b: String!) { editMessage(id: $id, body: $b) { body editedAt } }";
const DELETE: &str = "mutation($id: UUID!) { deleteMessage(id: $id) { body deleted } }";
const REACT: &str = "mutation($id: UUID!, $e: String!, $add: Boolean!) {
  react(messageId: $id, emoji: $e, add: $add) { id }
}";

/// Opens a socket for `who` and follows the thread's events as "e".
async fn watch(app: &TestApp, who: &Session, thread: &str) -> Result<WsClient> {
    let mut ws = app.ws(who.token()).await?;
    ws.subscribe("e", EVENTS, json!({ "t": thread })).await?;
    // As in `live`: the subscription is live once the server has joined
    // the bus topic; a short pause keeps the test from racing its setup.
    tokio::time::sleep(Duration::from_millis(200)).await;
    Ok(ws)
}

/// The next thread event of `kind`, skipping others.
async fn next_event(ws: &mut WsClient, kind: &str) -> Result<Value> {
    loop {
        let event = ws.next_data("e").await?["threadEvents"].clone();
        if event["kind"] == kind {
            return Ok(event);
        }
    }
}

/// The thread's messages as `who` sees them, oldest first.
async fn view(app: &TestApp, who: &Session, thread: &str) -> Result<Vec<Value>> {
    let data = app.ok(who.token(), VIEW, json!({ "t": thread })).await?;
    let edges = data["thread"]["messages"]["edges"]
        .as_array()
        .context("edges")?;
    Ok(edges.iter().map(|e| e["node"].clone()).collect())
}

/// The refusal's code and the field it names.
async fn refusal(
    app: &TestApp,
    who: &Session,
    query: &str,
    vars: Value,
) -> Result<(String, Value)> {
    let (_, body) = app.post(who.token(), query, vars).await?;
    let ext = &body["errors"][0]["extensions"];
    let code = ext["code"]
        .as_str()
        .with_context(|| format!("expected an error: {body}"));
    Ok((code?.to_owned(), ext["field"].clone()))
}

/// The ids of a list of users, sorted.
fn ids(users: &Value) -> Vec<String> {
    let mut ids: Vec<String> = users
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|u| u["id"].as_str().map(str::to_owned))
        .collect();
    ids.sort();
    ids
}

async fn react(app: &TestApp, who: &Session, id: &Value, emoji: &str, add: bool) -> Result<Value> {
    let vars = json!({ "id": id, "e": emoji, "add": add });
    app.ok(who.token(), REACT, vars).await
}

/// (count, mine) of one emoji on a message.
fn reaction(message: &Value, emoji: &str) -> Option<(i64, bool)> {
    let all = message["reactions"].as_array()?;
    let r = all.iter().find(|r| r["emoji"] == emoji)?;
    Some((r["count"].as_i64()?, r["mine"].as_bool()?))
}

#[tokio::test]
async fn a_reply_names_its_message_and_must_stay_in_the_same_thread() -> Result<()> {
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;
    let ayu = &school.ayu_parent;
    let parents = direct(&app, ayu, &school.bima_parent).await?;
    let with_teacher = direct(&app, ayu, &school.teacher).await?;
    let question = send(&app, ayu, &parents, "q-1", "Besok pakai batik?").await?;

    let reply = app
        .ok(
            school.bima_parent.token(),
            SEND,
            json!({ "t": parents, "c": "a-1", "b": "Ya", "r": question["id"] }),
        )
        .await?;
    let elsewhere = refusal(
        &app,
        ayu,
        SEND,
        json!({ "t": with_teacher, "c": "a-2", "b": "Ya", "r": question["id"] }),
    )
    .await?;
    let unknown = refusal(
        &app,
        ayu,
        SEND,
        json!({ "t": parents, "c": "a-3", "b": "Ya", "r": uuid::Uuid::now_v7() }),
    )
    .await?;

    assert_eq!(reply["sendMessage"]["replyToId"], question["id"]);
    assert_eq!(
        view(&app, ayu, &parents).await?[1]["replyToId"],
        question["id"]
    );
    assert_eq!(elsewhere, ("BAD_USER_INPUT".into(), json!("replyToId")));
    assert_eq!(unknown, ("BAD_USER_INPUT".into(), json!("replyToId")));
    Ok(())
}

#[tokio::test]
async fn only_the_sender_edits_a_message_and_subscribers_see_the_new_text() -> Result<()> {
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;
    let (ayu, bima) = (&school.ayu_parent, &school.bima_parent);
    let thread = direct(&app, ayu, bima).await?;
    let sent = send(&app, ayu, &thread, "e-1", "Rapat jam 9").await?;
    let mut ws = watch(&app, bima, &thread).await?;

    let edited = app
        .ok(
            ayu.token(),
            EDIT,
            json!({ "id": sent["id"], "b": "Rapat jam 10" }),
        )
        .await?;
    let by_other = refusal(&app, bima, EDIT, json!({ "id": sent["id"], "b": "Batal" })).await?;
    let event = next_event(&mut ws, "MESSAGE_EDITED").await?;

    assert_eq!(edited["editMessage"]["body"], "Rapat jam 10");
    assert!(edited["editMessage"]["editedAt"].is_string());
    assert_eq!(by_other.0, "FORBIDDEN");
    assert_eq!(event["message"]["id"], sent["id"]);
    assert_eq!(event["message"]["body"], "Rapat jam 10");
    let seen = &view(&app, bima, &thread).await?[0];
    assert_eq!(
        (&seen["body"], seen["editedAt"].is_string()),
        (&json!("Rapat jam 10"), true)
    );
    Ok(())
}

#[tokio::test]
async fn a_deleted_message_stays_as_an_empty_placeholder_for_everyone() -> Result<()> {
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;
    let (ayu, bima) = (&school.ayu_parent, &school.bima_parent);
    let thread = direct(&app, ayu, bima).await?;
    let vars = json!({ "t": thread, "c": "d-1", "b": "Rekening saya 123", "m": [bima.user_id] });
    let secret = app.ok(ayu.token(), SEND, vars).await?["sendMessage"].clone();
    let other = send(&app, ayu, &thread, "d-2", "Terima kasih").await?;
    let mut ws = watch(&app, bima, &thread).await?;

    let deleted = app
        .ok(ayu.token(), DELETE, json!({ "id": secret["id"] }))
        .await?;
    let event = next_event(&mut ws, "MESSAGE_DELETED").await?;
    let by_member = refusal(&app, bima, DELETE, json!({ "id": other["id"] })).await?;
    let edit_after = refusal(&app, ayu, EDIT, json!({ "id": secret["id"], "b": "lagi" })).await?;

    assert_eq!(
        deleted["deleteMessage"],
        json!({ "body": "", "deleted": true })
    );
    assert_eq!(
        (&event["message"]["body"], &event["message"]["deleted"]),
        (&json!(""), &json!(true))
    );
    for who in [ayu, bima] {
        let placeholder = &view(&app, who, &thread).await?[0];
        assert_eq!(
            (&placeholder["body"], &placeholder["deleted"]),
            (&json!(""), &json!(true))
        );
        assert_eq!(
            placeholder["mentions"],
            json!([]),
            "mentions go with the text"
        );
    }
    assert_eq!(by_member.0, "FORBIDDEN");
    assert_eq!(edit_after.0, "BAD_USER_INPUT");
    Ok(())
}

#[tokio::test]
async fn reactions_are_counted_with_the_viewers_own_marked_and_can_be_taken_back() -> Result<()> {
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;
    let (ayu, bima) = (&school.ayu_parent, &school.bima_parent);
    let thread = direct(&app, ayu, bima).await?;
    let sent = send(&app, ayu, &thread, "r-1", "Lomba 17 Agustus!").await?;
    let mut ws = watch(&app, ayu, &thread).await?;
    let id = &sent["id"];

    react(&app, bima, id, "👍", true).await?;
    let event = next_event(&mut ws, "REACTION").await?;
    react(&app, ayu, id, "👍", true).await?;
    react(&app, bima, id, "🎉", true).await?;
    react(&app, bima, id, "🎉", true).await?;
    let before = (
        view(&app, ayu, &thread).await?,
        view(&app, bima, &thread).await?,
    );
    react(&app, bima, id, "👍", false).await?;
    let after = view(&app, bima, &thread).await?;
    let not_one = refusal(
        &app,
        bima,
        REACT,
        json!({ "id": sent["id"], "e": "dua kata", "add": true }),
    )
    .await?;

    assert_eq!(event["message"]["id"], sent["id"]);
    assert_eq!(reaction(&before.0[0], "👍"), Some((2, true)));
    assert_eq!(reaction(&before.0[0], "🎉"), Some((1, false)));
    assert_eq!(
        reaction(&before.1[0], "🎉"),
        Some((1, true)),
        "reacting twice counts once"
    );
    assert_eq!(reaction(&after[0], "👍"), Some((1, false)));
    assert_eq!(not_one.0, "BAD_USER_INPUT");
    Ok(())
}

#[tokio::test]
async fn only_members_can_be_mentioned_and_mentions_are_listed_on_the_message() -> Result<()> {
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;
    let (ayu, bima) = (&school.ayu_parent, &school.bima_parent);
    let thread = direct(&app, ayu, bima).await?;

    let twice = [&bima.user_id, &bima.user_id];
    let vars = json!({ "t": thread, "c": "m-1", "b": "@Ibu Bima cek ya @Ibu Bima", "m": twice });
    let sent = app.ok(ayu.token(), SEND, vars).await?;
    let vars =
        json!({ "t": thread, "c": "m-2", "b": "@Citra", "m": [school.citra_parent.user_id] });
    let outsider = refusal(&app, ayu, SEND, vars).await?;

    assert_eq!(
        ids(&sent["sendMessage"]["mentions"]),
        vec![bima.user_id.clone()]
    );
    assert_eq!(
        ids(&view(&app, bima, &thread).await?[0]["mentions"]),
        vec![bima.user_id.clone()]
    );
    assert_eq!(outsider, ("BAD_USER_INPUT".into(), json!("mentionIds")));
    assert_eq!(
        view(&app, bima, &thread).await?.len(),
        1,
        "nothing was stored"
    );
    Ok(())
}

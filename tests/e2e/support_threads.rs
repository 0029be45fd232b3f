//! Service requests: a parent opens a support thread, the staff work a
//! shared queue, answer, assign and resolve, and the thread keeps its
//! first-response and resolution times.

use anyhow::{Context, Result};
use scrm_domain::role::Role;
use scrm_e2e::{School, Session, TestApp, WsClient};
use serde_json::{Value, json};

use crate::conversations::send;

const OPEN: &str = "mutation($s: String!) {
  startThread(input: { kind: SUPPORT, title: $s }) { id kind support { status requesterId } }
}";
const SUPPORT: &str = "query($t: UUID!) {
  thread(id: $t) { support { status assigneeId firstResponseAt resolvedAt } }
}";
const QUEUE: &str = "query($s: SupportStatus) { supportQueue(status: $s) { id title } }";
const ASSIGN: &str = "mutation($t: UUID!, $u: UUID!) {
  assignSupportThread(threadId: $t, assigneeId: $u) { support { assigneeId } }
}";
const SET_STATUS: &str = "mutation($t: UUID!, $s: SupportStatus!) {
  setSupportStatus(threadId: $t, status: $s) { support { status resolvedAt } }
}";
const STATUS_EVENTS: &str =
    "subscription($t: UUID!) { threadEvents(threadId: $t) { kind status } }";
const MESSAGES: &str =
    "query($t: UUID!) { thread(id: $t) { messages(first: 20) { edges { node { body } } } } }";

/// Opens a request as `who`; gives the thread id.
async fn open_request(app: &TestApp, who: &Session, subject: &str) -> Result<String> {
    let data = app.ok(who.token(), OPEN, json!({ "s": subject })).await?;
    let id = data["startThread"]["id"].as_str().context("thread id")?;
    Ok(id.to_owned())
}

async fn support_of(app: &TestApp, who: &Session, thread: &str) -> Result<Value> {
    let data = app.ok(who.token(), SUPPORT, json!({ "t": thread })).await?;
    Ok(data["thread"]["support"].clone())
}

/// The ids of the queue's threads with `status` (all when null).
async fn queue(app: &TestApp, who: &Session, status: Value) -> Result<Vec<String>> {
    let data = app.ok(who.token(), QUEUE, json!({ "s": status })).await?;
    let threads = data["supportQueue"].as_array().context("queue")?;
    Ok(threads
        .iter()
        .filter_map(|t| t["id"].as_str().map(str::to_owned))
        .collect())
}

async fn code(app: &TestApp, who: &Session, query: &str, vars: Value) -> Result<String> {
    app.error_code(who.token(), query, vars).await
}

#[tokio::test]
async fn a_parents_request_reaches_the_staff_queue_and_no_other_parent() -> Result<()> {
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;
    let ayu = &school.ayu_parent;

    let data = app
        .ok(ayu.token(), OPEN, json!({ "s": "Seragam belum diterima" }))
        .await?;
    let thread = data["startThread"]["id"].as_str().context("id")?.to_owned();
    send(
        &app,
        ayu,
        &thread,
        "s-1",
        "Sudah bayar tapi belum dapat seragam",
    )
    .await?;
    let open = queue(&app, &school.admin, json!("OPEN")).await?;
    let resolved = queue(&app, &school.admin, json!("RESOLVED")).await?;
    let parent_queue = code(&app, ayu, QUEUE, json!({ "s": "OPEN" })).await?;
    let other_parent = code(&app, &school.bima_parent, MESSAGES, json!({ "t": thread })).await?;
    let teacher = code(&app, &school.teacher, MESSAGES, json!({ "t": thread })).await?;

    let opened = &data["startThread"];
    assert_eq!(
        (&opened["kind"], &opened["support"]["status"]),
        (&json!("SUPPORT"), &json!("OPEN"))
    );
    assert_eq!(opened["support"]["requesterId"], json!(ayu.user_id));
    assert_eq!(open, vec![thread.clone()]);
    assert!(resolved.is_empty());
    assert_eq!(parent_queue, "FORBIDDEN");
    assert_eq!(
        (other_parent.as_str(), teacher.as_str()),
        ("NOT_FOUND", "NOT_FOUND")
    );
    Ok(())
}

#[tokio::test]
async fn staff_answer_without_joining_first_and_only_the_first_answer_is_the_response() -> Result<()>
{
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;
    let (ayu, admin) = (&school.ayu_parent, &school.admin);
    let thread = open_request(&app, ayu, "Jadwal ujian").await?;
    send(&app, ayu, &thread, "j-1", "Kapan ujian semester?").await?;
    let unanswered = support_of(&app, ayu, &thread).await?;

    let read = app
        .ok(admin.token(), MESSAGES, json!({ "t": thread }))
        .await?;
    send(&app, admin, &thread, "j-2", "Mulai 1 Desember").await?;
    let answered = support_of(&app, ayu, &thread).await?;
    send(&app, ayu, &thread, "j-3", "Terima kasih").await?;
    send(&app, admin, &thread, "j-4", "Sama-sama").await?;
    let later = support_of(&app, admin, &thread).await?;

    let first_body = &read["thread"]["messages"]["edges"][0]["node"]["body"];
    assert_eq!(first_body, "Kapan ujian semester?");
    assert_eq!(unanswered["firstResponseAt"], Value::Null);
    assert!(answered["firstResponseAt"].is_string(), "{answered}");
    assert_eq!(later["firstResponseAt"], answered["firstResponseAt"]);
    Ok(())
}

#[tokio::test]
async fn a_request_is_assigned_to_staff_and_never_to_anyone_else() -> Result<()> {
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;
    let ayu = &school.ayu_parent;
    let clerk = app.user("Staf Tata Usaha", &[Role::Staff]).await?;
    let thread = open_request(&app, ayu, "Surat keterangan aktif").await?;
    let to = |who: &Session| json!({ "t": thread, "u": who.user_id });

    let to_teacher = app
        .post(school.admin.token(), ASSIGN, to(&school.teacher))
        .await?
        .1;
    let by_parent = code(&app, ayu, ASSIGN, to(&clerk)).await?;
    let assigned = app.ok(school.admin.token(), ASSIGN, to(&clerk)).await?;
    let clerk_reads = app
        .ok(clerk.token(), MESSAGES, json!({ "t": thread }))
        .await;

    let refusal = &to_teacher["errors"][0]["extensions"];
    assert_eq!(
        (&refusal["code"], &refusal["field"]),
        (&json!("BAD_USER_INPUT"), &json!("assigneeId"))
    );
    assert_eq!(by_parent, "FORBIDDEN");
    let assignee = &assigned["assignSupportThread"]["support"]["assigneeId"];
    assert_eq!(assignee, &json!(clerk.user_id));
    assert!(clerk_reads.is_ok(), "{clerk_reads:?}");
    assert_eq!(
        support_of(&app, ayu, &thread).await?["assigneeId"],
        json!(clerk.user_id)
    );
    Ok(())
}

#[tokio::test]
async fn resolving_records_when_and_reopening_clears_it() -> Result<()> {
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;
    let (ayu, admin) = (&school.ayu_parent, &school.admin);
    let thread = open_request(&app, ayu, "Antar jemput").await?;
    send(&app, ayu, &thread, "a-1", "Bus tidak datang").await?;
    let mut ws = watch_status(&app, ayu, &thread).await?;
    let set = |status: &str| json!({ "t": thread, "s": status });

    let by_parent = code(&app, ayu, SET_STATUS, set("RESOLVED")).await?;
    let pending = app.ok(admin.token(), SET_STATUS, set("PENDING")).await?;
    let resolved = app.ok(admin.token(), SET_STATUS, set("RESOLVED")).await?;
    let in_resolved = queue(&app, admin, json!("RESOLVED")).await?;
    let in_open = queue(&app, admin, json!("OPEN")).await?;
    let reopened = app.ok(admin.token(), SET_STATUS, set("OPEN")).await?;
    let statuses = [
        next_status(&mut ws).await?,
        next_status(&mut ws).await?,
        next_status(&mut ws).await?,
    ];

    let support = |v: &Value| v["setSupportStatus"]["support"].clone();
    assert_eq!(by_parent, "FORBIDDEN");
    assert_eq!(
        support(&pending),
        json!({ "status": "PENDING", "resolvedAt": null })
    );
    assert_eq!(support(&resolved)["status"], "RESOLVED");
    assert!(support(&resolved)["resolvedAt"].is_string());
    assert_eq!((in_resolved, in_open), (vec![thread.clone()], vec![]));
    assert_eq!(
        support(&reopened),
        json!({ "status": "OPEN", "resolvedAt": null })
    );
    assert_eq!(
        statuses,
        ["PENDING", "RESOLVED", "OPEN"],
        "the requester hears each change"
    );
    Ok(())
}

/// Follows the thread's status changes as subscription "s".
async fn watch_status(app: &TestApp, who: &Session, thread: &str) -> Result<WsClient> {
    let mut ws = app.ws(who.token()).await?;
    ws.subscribe("s", STATUS_EVENTS, json!({ "t": thread }))
        .await?;
    // The subscription is live once the server has joined the bus topic.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    Ok(ws)
}

/// The next SUPPORT_STATUS event's status.
async fn next_status(ws: &mut WsClient) -> Result<String> {
    loop {
        let event = ws.next_data("s").await?["threadEvents"].clone();
        if event["kind"] == "SUPPORT_STATUS" {
            return event["status"]
                .as_str()
                .map(str::to_owned)
                .context("status");
        }
    }
}

#[tokio::test]
async fn a_staff_members_own_request_is_answered_only_by_someone_else() -> Result<()> {
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;
    let clerk = app.user("Staf Tata Usaha", &[Role::Staff]).await?;
    let thread = open_request(&app, &clerk, "Printer kantor rusak").await?;

    send(&app, &clerk, &thread, "p-1", "Tidak bisa mencetak rapor").await?;
    let own_words = support_of(&app, &clerk, &thread).await?;
    send(&app, &school.admin, &thread, "p-2", "Teknisi datang jam 1").await?;
    let answered = support_of(&app, &clerk, &thread).await?;

    assert_eq!(own_words["firstResponseAt"], Value::Null);
    assert!(answered["firstResponseAt"].is_string(), "{answered}");
    Ok(())
}

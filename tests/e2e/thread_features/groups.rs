//! Groups and moderation: who may be put in a group, who adds and
//! removes members, and how reported messages are deleted or hidden.

use anyhow::{Context, Result};
use scrm_e2e::{Frame, School, Session, TestApp};
use serde_json::{Value, json};

use super::{DELETE, next_event, refusal, view, watch};
use crate::conversations::send;

const START_GROUP: &str = "mutation($title: String!, $m: [UUID!]!) {
  startThread(input: { kind: GROUP, title: $title, memberIds: $m }) { id kind }
}";
const ADD: &str = "mutation($t: UUID!, $u: [UUID!]!) {
  addMembers(threadId: $t, userIds: $u) { members { user { id } } }
}";
const REMOVE: &str = "mutation($t: UUID!, $u: UUID!) { removeMember(threadId: $t, userId: $u) }";
const HIDE: &str = "mutation($id: UUID!) { hideMessage(id: $id) { hidden } }";
const REPORT: &str = "mutation($id: UUID!, $r: String!) { reportMessage(id: $id, reason: $r) }";

fn start_vars(others: &[&Session]) -> Value {
    let ids: Vec<&str> = others.iter().map(|s| s.user_id.as_str()).collect();
    json!({ "title": "Paguyuban 7A", "m": ids })
}

/// A group owned by `owner` with `others` in it.
pub(crate) async fn group(app: &TestApp, owner: &Session, others: &[&Session]) -> Result<String> {
    let data = app
        .ok(owner.token(), START_GROUP, start_vars(others))
        .await?;
    let id = data["startThread"]["id"].as_str().context("thread id")?;
    Ok(id.to_owned())
}

#[tokio::test]
async fn a_student_cannot_put_another_student_in_a_group() -> Result<()> {
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;
    let [one, two] = &school.students;

    let with_student = refusal(&app, one, START_GROUP, start_vars(&[two])).await?;
    let mixed = refusal(&app, one, START_GROUP, start_vars(&[&school.admin, two])).await?;
    let with_staff = app
        .ok(one.token(), START_GROUP, start_vars(&[&school.admin]))
        .await?;

    assert_eq!(with_student.0, "FORBIDDEN");
    assert_eq!(mixed.0, "FORBIDDEN", "one refused member refuses the group");
    assert_eq!(with_staff["startThread"]["kind"], "GROUP");
    Ok(())
}

#[tokio::test]
async fn only_the_owner_adds_members_and_only_as_policy_allows() -> Result<()> {
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;
    let (ayu, bima, citra) = (
        &school.ayu_parent,
        &school.bima_parent,
        &school.citra_parent,
    );
    let thread = group(&app, ayu, &[bima]).await?;
    let add = |who: &Session| json!({ "t": thread, "u": [who.user_id] });
    let before = refusal(
        &app,
        citra,
        "query($t: UUID!) { thread(id: $t) { id } }",
        json!({ "t": thread }),
    )
    .await?;

    let by_member = refusal(&app, bima, ADD, add(citra)).await?;
    let a_student = refusal(&app, ayu, ADD, add(&school.students[0])).await?;
    let added = app.ok(ayu.token(), ADD, add(citra)).await?;
    let citra_reads = view(&app, citra, &thread).await;

    assert_eq!(before.0, "NOT_FOUND");
    assert_eq!(by_member.0, "FORBIDDEN");
    assert_eq!(
        a_student.0, "FORBIDDEN",
        "a parent may not message a stranger's child"
    );
    assert_eq!(
        added["addMembers"]["members"].as_array().map(Vec::len),
        Some(3)
    );
    assert!(citra_reads.is_ok(), "{citra_reads:?}");
    Ok(())
}

#[tokio::test]
async fn a_removed_member_loses_the_thread_and_their_live_stream_ends() -> Result<()> {
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;
    let (ayu, bima, citra) = (
        &school.ayu_parent,
        &school.bima_parent,
        &school.citra_parent,
    );
    let thread = group(&app, ayu, &[bima, citra]).await?;
    let mut ws = watch(&app, citra, &thread).await?;
    let remove = json!({ "t": thread, "u": citra.user_id });

    let by_member = refusal(&app, bima, REMOVE, remove.clone()).await?;
    let removed = app.ok(ayu.token(), REMOVE, remove).await?;
    let event = next_event(&mut ws, "MEMBER_REMOVED").await?;
    let after = ws.next().await?;
    let read = refusal(
        &app,
        citra,
        "query($t: UUID!) { thread(id: $t) { id } }",
        json!({ "t": thread }),
    )
    .await?;
    let write = refusal(
        &app,
        citra,
        crate::conversations::SEND,
        json!({ "t": thread, "c": "x", "b": "halo?" }),
    )
    .await?;

    assert_eq!(by_member.0, "FORBIDDEN");
    assert_eq!(removed["removeMember"], true);
    assert_eq!(event["userId"], json!(citra.user_id));
    assert_eq!(
        after,
        Frame::Message(json!({ "type": "complete", "id": "e" }))
    );
    assert_eq!(
        (read.0.as_str(), write.0.as_str()),
        ("NOT_FOUND", "NOT_FOUND")
    );
    Ok(())
}

#[tokio::test]
async fn a_moderator_may_delete_another_members_message_and_a_member_may_not() -> Result<()> {
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;
    let (ayu, bima, citra) = (
        &school.ayu_parent,
        &school.bima_parent,
        &school.citra_parent,
    );
    let thread = group(&app, ayu, &[bima, citra]).await?;
    let rude = send(&app, bima, &thread, "x-1", "Kata-kata kasar").await?;

    let by_member = refusal(&app, citra, DELETE, json!({ "id": rude["id"] })).await?;
    let by_owner = app
        .ok(ayu.token(), DELETE, json!({ "id": rude["id"] }))
        .await?;

    assert_eq!(by_member.0, "FORBIDDEN");
    assert_eq!(
        by_owner["deleteMessage"],
        json!({ "body": "", "deleted": true })
    );
    let seen = &view(&app, citra, &thread).await?[0];
    assert_eq!(
        (&seen["body"], &seen["deleted"]),
        (&json!(""), &json!(true))
    );
    Ok(())
}

#[tokio::test]
async fn a_reported_message_is_hidden_by_a_moderator_from_all_but_its_sender_and_moderators()
-> Result<()> {
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;
    let (ayu, bima, citra) = (
        &school.ayu_parent,
        &school.bima_parent,
        &school.citra_parent,
    );
    let thread = group(&app, ayu, &[bima, citra]).await?;
    let ad = send(&app, bima, &thread, "ad-1", "Jual pulsa murah").await?;
    let id = json!({ "id": ad["id"] });
    let mut ws = watch(&app, citra, &thread).await?;

    let reported = app
        .ok(
            citra.token(),
            REPORT,
            json!({ "id": ad["id"], "r": "iklan" }),
        )
        .await?;
    let again = app
        .ok(
            citra.token(),
            REPORT,
            json!({ "id": ad["id"], "r": "spam" }),
        )
        .await?;
    let no_reason = refusal(&app, citra, REPORT, json!({ "id": ad["id"], "r": "  " })).await?;
    let by_member = refusal(&app, citra, HIDE, id.clone()).await?;
    let seen_by_moderator = view(&app, ayu, &thread).await?;
    let hidden = app.ok(ayu.token(), HIDE, id).await?;
    let event = next_event(&mut ws, "MESSAGE_HIDDEN").await?;

    assert_eq!(
        (&reported["reportMessage"], &again["reportMessage"]),
        (&json!(true), &json!(true))
    );
    assert_eq!(no_reason.0, "BAD_USER_INPUT");
    assert_eq!(by_member.0, "FORBIDDEN");
    assert_eq!(
        seen_by_moderator[0]["reportCount"], 1,
        "a second report by one member counts once"
    );
    assert_eq!(
        view(&app, citra, &thread).await?[0]["reportCount"],
        Value::Null
    );
    assert_eq!(hidden["hideMessage"]["hidden"], true);
    assert_eq!(
        (&event["message"]["body"], &event["message"]["hidden"]),
        (&json!(""), &json!(true))
    );
    let body = |v: Vec<Value>| v[0]["body"].clone();
    assert_eq!(body(view(&app, citra, &thread).await?), "");
    assert_eq!(body(view(&app, bima, &thread).await?), "Jual pulsa murah");
    assert_eq!(body(view(&app, ayu, &thread).await?), "Jual pulsa murah");
    Ok(())
}

const CLASS_THREAD: &str =
    "query($c: UUID!) { classThread(classId: $c) { id members { user { id } } } }";

/// The ids of the class thread's members, as `who` opens it.
async fn class_members(app: &TestApp, who: &Session, class: &str) -> Result<Vec<String>> {
    let data = app
        .ok(who.token(), CLASS_THREAD, json!({ "c": class }))
        .await?;
    let members = data["classThread"]["members"]
        .as_array()
        .context("members")?;
    Ok(members
        .iter()
        .filter_map(|m| m["user"]["id"].as_str().map(str::to_owned))
        .collect())
}

#[tokio::test]
async fn a_parent_removed_from_the_class_thread_stays_out_until_let_back_in() -> Result<()> {
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;
    let (teacher, bima, class) = (&school.teacher, &school.bima_parent, &school.class_7a);
    let opened = app
        .ok(teacher.token(), CLASS_THREAD, json!({ "c": class }))
        .await?;
    let thread = opened["classThread"]["id"]
        .as_str()
        .context("id")?
        .to_owned();
    let let_in = |who: &Session| json!({ "t": thread, "u": [who.user_id] });

    app.ok(
        teacher.token(),
        REMOVE,
        json!({ "t": thread, "u": bima.user_id }),
    )
    .await?;
    let reopened = refusal(&app, bima, CLASS_THREAD, json!({ "c": class })).await?;
    let after_sync = class_members(&app, &school.ayu_parent, class).await?;
    let outsider = refusal(&app, teacher, ADD, let_in(&school.citra_parent)).await?;
    app.ok(teacher.token(), ADD, let_in(bima)).await?;
    let back = class_members(&app, bima, class).await;

    assert_eq!(
        reopened.0, "NOT_FOUND",
        "opening the class thread again lets no one back"
    );
    assert!(
        !after_sync.contains(&bima.user_id),
        "the directory's sync brought them back"
    );
    assert_eq!(
        outsider.0, "FORBIDDEN",
        "a class thread's members follow the directory"
    );
    assert!(back?.contains(&bima.user_id));
    Ok(())
}

#[tokio::test]
async fn a_group_cannot_be_grown_past_its_size_limit() -> Result<()> {
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;
    let thread = group(&app, &school.ayu_parent, &[&school.bima_parent]).await?;
    let strangers: Vec<String> = (0..501).map(|_| uuid::Uuid::now_v7().to_string()).collect();

    let vars = json!({ "t": thread, "u": strangers });
    let refused = refusal(&app, &school.ayu_parent, ADD, vars).await?;

    assert_eq!(refused, ("BAD_USER_INPUT".into(), json!("userIds")));
    Ok(())
}

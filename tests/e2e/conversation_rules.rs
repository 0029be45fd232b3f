//! Rules a first round of attacks found wanting: signed-out sockets,
//! seqs from the future, groups around the policy, members who cannot be
//! removed, discussions before publication, and NUL characters.

use anyhow::{Context, Result};
use scrm_e2e::{Frame, School, TestApp};
use serde_json::json;

use crate::conversations::{direct, send};
use crate::live::{next_posted, subscribe};

#[tokio::test]
async fn a_signed_out_session_runs_nothing_more_on_an_open_socket() -> Result<()> {
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;
    let mut ws = app.ws(school.ayu_parent.token()).await?;
    app.ok(
        None,
        "mutation($r: String!) { signOut(refreshToken: $r) }",
        json!({ "r": school.ayu_parent.refresh }),
    )
    .await?;

    ws.subscribe("1", "{ me { id } }", json!({})).await?;

    assert_eq!(ws.close_code().await?, Some(4403));
    Ok(())
}

#[tokio::test]
async fn a_seq_from_the_future_streams_from_now_on() -> Result<()> {
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;
    let thread = direct(&app, &school.ayu_parent, &school.teacher).await?;
    send(&app, &school.ayu_parent, &thread, "f-1", "lama").await?;
    let mut ws = app.ws(school.teacher.token()).await?;
    subscribe(&mut ws, "1", &thread, Some(1_000_000_000)).await?;

    send(&app, &school.ayu_parent, &thread, "f-2", "baru").await?;

    assert_eq!(next_posted(&mut ws, "1").await?, (2, "baru".to_owned()));
    Ok(())
}

#[tokio::test]
async fn a_group_is_no_way_for_a_stranger_to_reach_a_student() -> Result<()> {
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;
    let student: uuid::Uuid = school.students[0].user_id.parse()?;
    let citra_parent: uuid::Uuid = school.citra_parent.user_id.parse()?;
    let bima_parent: uuid::Uuid = school.bima_parent.user_id.parse()?;
    // Bima's parent is this student's guardian; Citra's parent is not.
    let bima = app.state.store.children_of(bima_parent).await?;
    let bima_id = bima.first().context("Bima")?.1.id;
    app.state
        .store
        .link_guardian(bima_parent, bima_id, "FATHER", 1)
        .await?;
    app.state
        .store
        .link_student_user(
            bima.first().context("Bima")?.1.class_id.context("class")?,
            "Bima",
            student,
        )
        .await?;
    let group = "mutation($m: [UUID!]!) { startThread(input: { kind: GROUP, title: \"Campur\", memberIds: $m }) { id } }";

    let own = app
        .post(school.bima_parent.token(), group, json!({ "m": [student] }))
        .await?;
    let with_stranger = app
        .error_code(
            school.bima_parent.token(),
            group,
            json!({ "m": [student, citra_parent] }),
        )
        .await?;

    assert!(own.1["errors"].is_null(), "{}", own.1);
    assert_eq!(with_stranger, "FORBIDDEN");
    Ok(())
}

#[tokio::test]
async fn nobody_is_removed_from_a_direct_thread_or_a_support_request() -> Result<()> {
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;
    let thread = direct(&app, &school.ayu_parent, &school.admin).await?;
    let support = app
        .ok(
            school.ayu_parent.token(),
            "mutation { startThread(input: { kind: SUPPORT, title: \"Seragam\" }) { id } }",
            json!({}),
        )
        .await?;
    let remove = "mutation($t: ID!, $u: ID!) { removeMember(threadId: $t, userId: $u) }";

    let from_direct = app
        .error_code(
            school.admin.token(),
            remove,
            json!({ "t": thread, "u": school.ayu_parent.user_id }),
        )
        .await?;
    let from_support = app
        .error_code(
            school.admin.token(),
            remove,
            json!({ "t": support["startThread"]["id"], "u": school.ayu_parent.user_id }),
        )
        .await?;

    assert_eq!(
        (from_direct.as_str(), from_support.as_str()),
        ("FORBIDDEN", "FORBIDDEN")
    );
    Ok(())
}

#[tokio::test]
async fn a_scheduled_announcements_discussion_opens_with_it() -> Result<()> {
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;
    let later = (chrono::Utc::now() + chrono::Duration::days(5)).to_rfc3339();
    let input = json!({ "title": "Rahasia", "body": "Nanti.", "audience": { "classIds": [school.class_7a] }, "publishAt": later });
    let published = app
        .ok(
            school.admin.token(),
            "mutation($i: PublishAnnouncementInput!) { publishAnnouncement(input: $i) { id } }",
            json!({ "i": input }),
        )
        .await?;

    let early = app
        .error_code(
            school.ayu_parent.token(),
            "query($a: ID!) { announcementThread(announcementId: $a) { title } }",
            json!({ "a": published["publishAnnouncement"]["id"] }),
        )
        .await?;

    assert_eq!(early, "NOT_FOUND");
    Ok(())
}

#[tokio::test]
async fn nul_characters_are_refused_on_both_stores_over_http_and_websocket() -> Result<()> {
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;
    let thread = direct(&app, &school.ayu_parent, &school.bima_parent).await?;
    let sendq = "mutation($t: ID!, $b: String!) { sendMessage(threadId: $t, clientId: \"n\", body: $b) { id } }";

    let http = app
        .post(
            school.ayu_parent.token(),
            sendq,
            json!({ "t": thread, "b": "nul\u{0}byte" }),
        )
        .await?;
    let mut ws = app.ws(school.ayu_parent.token()).await?;
    ws.subscribe("1", sendq, json!({ "t": thread, "b": "nul\u{0}byte" }))
        .await?;
    let frame = ws.next().await?;

    assert_eq!(http.0, 400);
    assert_eq!(http.1["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    let Frame::Message(m) = frame else {
        anyhow::bail!("expected an error frame, got {frame:?}")
    };
    assert_eq!(
        (
            m["type"].as_str(),
            m["payload"][0]["extensions"]["code"].as_str()
        ),
        (Some("error"), Some("BAD_USER_INPUT"))
    );
    Ok(())
}

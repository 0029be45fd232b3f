//! Announcements reach exactly the people they address, on the sample
//! roster, with read state and the author's delivery figures following.

use anyhow::{Context, Result};
use scrm_e2e::{Frame, TestApp, fixture};
use serde_json::{Value, json};

const FAMILIES: &str = "query($after: String) {
  families(first: 100, after: $after) {
    families { id activationCode students { id name class { id grade name } } }
    nextCursor
  }
}";

const PUBLISH: &str = "mutation($input: PublishAnnouncementInput!) {
  publishAnnouncement(input: $input) { id title publishAt }
}";

const FEED: &str =
    "{ feed(first: 20) { unreadCount edges { node { id title readAt author { name email } } } } }";

const DELIVERY: &str = "query($id: ID!) {
  announcement(id: $id) { delivery { addressed read familiesAddressed familiesReached
    notRead { id } unreachedFamilies { family { id } } } }
}";

/// Every family on the roster, page by page, as the admin panel lists them.
async fn all_families(app: &TestApp, admin: &str) -> Result<Vec<Value>> {
    let mut out = vec![];
    let mut after = Value::Null;
    loop {
        let data = app
            .ok(Some(admin), FAMILIES, json!({ "after": after }))
            .await?;
        out.extend(
            data["families"]["families"]
                .as_array()
                .cloned()
                .unwrap_or_default(),
        );
        after = data["families"]["nextCursor"].clone();
        if after.is_null() {
            return Ok(out);
        }
    }
}

fn grades_of(family: &Value) -> Vec<i64> {
    let mut grades: Vec<i64> = family["students"]
        .as_array()
        .map(|s| {
            s.iter()
                .filter_map(|s| s["class"]["grade"].as_i64())
                .collect()
        })
        .unwrap_or_default();
    grades.sort();
    grades.dedup();
    grades
}

async fn publish(app: &TestApp, token: &str, title: &str, audience: Value) -> Result<String> {
    let input = json!({ "title": title, "body": "Mohon diperhatikan.", "audience": audience });
    let data = app
        .ok(Some(token), PUBLISH, json!({ "input": input }))
        .await?;
    Ok(data["publishAnnouncement"]["id"]
        .as_str()
        .context("no id")?
        .to_owned())
}

async fn activate(app: &TestApp, code: &str) -> Result<scrm_e2e::Session> {
    let data = app
        .ok(
            None,
            "mutation($code: String!) { activate(code: $code, password: \"rahasia-123\") {
               accessToken refreshToken expiresAt user { id name } } }",
            json!({ "code": code }),
        )
        .await?;
    scrm_e2e::Session::from_value(&data["activate"])
}

#[tokio::test]
async fn a_parent_of_children_in_two_grades_sees_exactly_what_is_meant_for_them() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let roster = std::fs::read(fixture("roster-sample.csv"))?;

    let (status, report) = app
        .upload_roster(&admin.access, roster.clone(), false)
        .await?;
    assert_eq!(status, 200, "{report}");
    let report = &report["data"]["importRoster"];
    assert_eq!(report["created"], 1008, "{report}");
    assert_eq!(report["refused"], 0);
    assert_eq!(report["classesCreated"], 36);
    let families = all_families(&app, &admin.access).await?;
    let family = families
        .iter()
        .find(|f| grades_of(f).len() == 2)
        .context("no family spans two grades")?;
    let children = family["students"].as_array().context("students")?;
    let class_of_first = children[0]["class"]["id"].as_str().context("class")?;
    let grade_of_other = children
        .iter()
        .map(|c| c["class"]["grade"].as_i64().unwrap_or_default())
        .find(|g| *g != children[0]["class"]["grade"].as_i64().unwrap_or_default())
        .context("second grade")?;
    let elsewhere = families
        .iter()
        .flat_map(|f| f["students"].as_array().cloned().unwrap_or_default())
        .find(|s| !grades_of(family).contains(&s["class"]["grade"].as_i64().unwrap_or_default()))
        .context("a class the family has no child in")?;

    let to_class = publish(
        &app,
        &admin.access,
        "Rapat kelas",
        json!({ "classIds": [class_of_first] }),
    )
    .await?;
    let to_grade = publish(
        &app,
        &admin.access,
        "Ujian kelas",
        json!({ "grades": [grade_of_other] }),
    )
    .await?;
    publish(
        &app,
        &admin.access,
        "Bukan untukmu",
        json!({ "classIds": [elsewhere["class"]["id"]] }),
    )
    .await?;
    let later = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    let input = json!({ "title": "Besok", "body": "Nanti.", "audience": { "everyone": true }, "publishAt": later });
    app.ok(Some(&admin.access), PUBLISH, json!({ "input": input }))
        .await?;

    let parent = activate(&app, family["activationCode"].as_str().context("code")?).await?;
    let feed = app.ok(parent.token(), FEED, json!({})).await?;
    let titles: Vec<&str> = feed["feed"]["edges"]
        .as_array()
        .context("edges")?
        .iter()
        .filter_map(|e| e["node"]["title"].as_str())
        .collect();
    assert_eq!(titles, vec!["Ujian kelas", "Rapat kelas"]);
    assert_eq!(feed["feed"]["unreadCount"], 2);
    assert!(
        feed["feed"]["edges"][0]["node"]["author"]["email"].is_null(),
        "a parent sees no staff e-mail"
    );

    app.ok(
        parent.token(),
        "mutation($id: ID!) { markAnnouncementRead(id: $id) { readAt } }",
        json!({ "id": to_class }),
    )
    .await?;
    let feed = app.ok(parent.token(), FEED, json!({})).await?;
    assert_eq!(feed["feed"]["unreadCount"], 1);
    let figures = app
        .ok(Some(&admin.access), DELIVERY, json!({ "id": to_class }))
        .await?;
    let d = &figures["announcement"]["delivery"];
    assert_eq!(d["read"], 1);
    assert_eq!(d["familiesReached"], 1);
    assert_eq!(
        d["unreachedFamilies"].as_array().map(Vec::len),
        d["familiesAddressed"].as_i64().map(|n| n as usize - 1)
    );
    let grade_figures = app
        .ok(Some(&admin.access), DELIVERY, json!({ "id": to_grade }))
        .await?;
    assert_eq!(grade_figures["announcement"]["delivery"]["read"], 0);

    let (_, again) = app.upload_roster(&admin.access, roster, false).await?;
    let again = &again["data"]["importRoster"];
    assert_eq!(
        (again["created"].as_i64(), again["unchanged"].as_i64()),
        (Some(0), Some(1008)),
        "{again}"
    );
    Ok(())
}

#[tokio::test]
async fn a_published_announcement_is_pushed_live_only_to_those_it_addresses() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let csv = "nisn;nama;kelas;nama_ortu;no_hp_ortu\r\n\
               0012345671;Ayu;VII-A;Bapak Ayu;081234567801\r\n\
               0012345672;Bima;VIII-A;Bapak Bima;081234567802\r\n";
    app.upload_roster(&admin.access, csv.as_bytes().to_vec(), false)
        .await?;
    let families = all_families(&app, &admin.access).await?;
    let code_of = |name: &str| {
        families
            .iter()
            .find(|f| f["students"][0]["name"] == name)
            .and_then(|f| f["activationCode"].as_str().map(str::to_owned))
    };
    let ayu_parent = activate(&app, &code_of("Ayu").context("Ayu's code")?).await?;
    let bima_parent = activate(&app, &code_of("Bima").context("Bima's code")?).await?;
    let mut ayu_ws = app.ws(ayu_parent.token()).await?;
    let mut bima_ws = app.ws(bima_parent.token()).await?;
    let sub = "subscription { announcementPublished { title } }";
    ayu_ws.subscribe("1", sub, json!({})).await?;
    bima_ws.subscribe("1", sub, json!({})).await?;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    publish(&app, &admin.access, "Kelas tujuh", json!({ "grades": [7] })).await?;

    let got = ayu_ws.next_data("1").await?;
    assert_eq!(got["announcementPublished"]["title"], "Kelas tujuh");
    let other = bima_ws
        .next_within(std::time::Duration::from_millis(800))
        .await?;
    assert!(other.is_none(), "Bima's parent got {other:?}");
    ayu_ws.complete("1").await?;
    let after_complete = ayu_ws
        .next_within(std::time::Duration::from_millis(300))
        .await?;
    assert!(!matches!(after_complete, Some(Frame::Message(_))));
    Ok(())
}

#[tokio::test]
async fn a_feed_page_costs_the_same_few_statements_however_long_it_is() -> Result<()> {
    let app = TestApp::spawn().await?;
    let school = scrm_e2e::School::new(&app).await?;
    let (admin, teacher) = (
        school.admin.token().context("admin")?,
        school.teacher.token().context("teacher")?,
    );
    // Two authors: the admin to everyone, the homeroom teacher to 7A.
    for i in 0..22 {
        let (author, audience) = if i % 2 == 0 {
            (admin, json!({ "everyone": true }))
        } else {
            (teacher, json!({ "classIds": [school.class_7a] }))
        };
        publish(&app, author, &format!("Pengumuman {i}"), audience).await?;
    }
    let parent = school.ayu_parent.token();
    let store = &app.state.store;
    let page = "query($after: String) { feed(first: 20, after: $after) {
      unreadCount edges { cursor node { id author { name } } } } }";

    let before = store.statements_run();
    let first = app.ok(parent, page, json!({ "after": null })).await?;
    let spent = store.statements_run() - before;
    let edges = first["feed"]["edges"].as_array().context("edges")?;
    let last = edges.last().context("no edges")?["cursor"].clone();
    let second = app.ok(parent, page, json!({ "after": last })).await?;
    let last = second["feed"]["edges"][1]["cursor"].clone();
    let beyond = app.ok(parent, page, json!({ "after": last })).await?;

    assert_eq!(edges.len(), 20);
    // Signing in the request, the page with its unread count, the authors.
    assert!(spent <= 3, "a page of 20 ran {spent} statements");
    assert_eq!(first["feed"]["unreadCount"], 22);
    assert_eq!(second["feed"]["edges"].as_array().map(Vec::len), Some(2));
    assert_eq!(second["feed"]["unreadCount"], 22);
    // Past the end the page is empty and the count still right.
    assert_eq!(beyond["feed"]["edges"], json!([]));
    assert_eq!(beyond["feed"]["unreadCount"], 22);
    Ok(())
}

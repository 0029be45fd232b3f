//! Ratings, complaints and the service performance report, driven as
//! the apps and the admin panel drive them.

use anyhow::{Context, Result};
use scrm_e2e::{School, Session, TestApp};
use serde_json::{Value, json};

const RATE: &str = "mutation($s: ID!, $score: Int!, $c: String) {
  rateService(serviceId: $s, score: $score, comment: $c) { id score }
}";
const SUMMARY: &str =
    "query($s: ID!) { service(id: $s) { ratingSummary { count average distribution } } }";

async fn service(app: &TestApp, admin: &Session, name: &str) -> Result<String> {
    let data = app
        .ok(admin.token(), "mutation($n: String!) { createService(name: $n, description: \"Layanan sekolah\") { id } }", json!({ "n": name }))
        .await?;
    Ok(data["createService"]["id"]
        .as_str()
        .context("id")?
        .to_owned())
}

async fn rate(
    app: &TestApp,
    who: &Session,
    service: &str,
    score: i64,
    comment: Option<&str>,
) -> Result<Value> {
    app.ok(
        who.token(),
        RATE,
        json!({ "s": service, "score": score, "c": comment }),
    )
    .await
}

fn raters(school: &School) -> Vec<&Session> {
    vec![
        &school.ayu_parent,
        &school.bima_parent,
        &school.citra_parent,
        &school.students[0],
        &school.students[1],
    ]
}

#[tokio::test]
async fn the_fifth_rater_makes_the_aggregate_visible_and_the_fourth_does_not() -> Result<()> {
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;
    let kantin = service(&app, &school.admin, "Kantin").await?;
    let people = raters(&school);
    for (who, score) in people.iter().take(4).zip([5, 4, 4, 3]) {
        rate(&app, who, &kantin, score, None).await?;
    }

    let at_four = app
        .ok(school.teacher.token(), SUMMARY, json!({ "s": kantin }))
        .await?;
    let staff_at_four = app
        .ok(school.admin.token(), SUMMARY, json!({ "s": kantin }))
        .await?;
    rate(&app, people[4], &kantin, 2, None).await?;
    let at_five = app
        .ok(school.teacher.token(), SUMMARY, json!({ "s": kantin }))
        .await?;
    let a_rater_at_five = app
        .ok(school.ayu_parent.token(), SUMMARY, json!({ "s": kantin }))
        .await?;

    assert!(at_four["service"]["ratingSummary"].is_null());
    assert!(
        a_rater_at_five["service"]["ratingSummary"].is_null(),
        "a rater needs five others, or they could subtract their own"
    );
    assert_eq!(
        staff_at_four["service"]["ratingSummary"]["count"], 4,
        "staff always see figures"
    );
    assert_eq!(
        at_five["service"]["ratingSummary"],
        json!({ "count": 5, "average": 3.6, "distribution": [0, 1, 1, 2, 1] })
    );
    Ok(())
}

#[tokio::test]
async fn a_parent_cannot_see_who_gave_which_rating() -> Result<()> {
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;
    let kantin = service(&app, &school.admin, "Kantin").await?;
    for who in raters(&school) {
        rate(&app, who, &kantin, 4, Some("Enak")).await?;
    }

    let list = app
        .error_code(
            school.ayu_parent.token(),
            "query($s: ID!) { service(id: $s) { ratings { score } } }",
            json!({ "s": kantin }),
        )
        .await?;
    let own = app
        .ok(
            school.ayu_parent.token(),
            "query($s: ID!) { service(id: $s) { myRating { score rater { name } } } }",
            json!({ "s": kantin }),
        )
        .await?;
    let staff = app
        .ok(
            school.admin.token(),
            "query($s: ID!) { service(id: $s) { ratings { score rater { name } } } }",
            json!({ "s": kantin }),
        )
        .await?;

    assert_eq!(list, "FORBIDDEN");
    assert_eq!(
        own["service"]["myRating"]["rater"]["name"], "Bapak Ayu",
        "one's own rating is one's own"
    );
    let named = staff["service"]["ratings"]
        .as_array()
        .context("ratings")?
        .iter()
        .filter(|r| r["rater"]["name"].is_string())
        .count();
    assert_eq!(named, 5);
    Ok(())
}

#[tokio::test]
async fn one_live_rating_per_person_and_month_and_the_average_counts_only_live_ones() -> Result<()>
{
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;
    let bus = service(&app, &school.admin, "Bus Sekolah").await?;
    let (p, q, r) = (
        &school.ayu_parent,
        &school.bima_parent,
        &school.citra_parent,
    );

    let parallel: Vec<_> = (0..10).map(|_| rate(&app, p, &bus, 5, None)).collect();
    for result in futures_util::future::join_all(parallel).await {
        result?;
    }
    rate(&app, p, &bus, 3, None).await?;
    rate(&app, q, &bus, 5, None).await?;
    rate(&app, r, &bus, 4, Some("Cukup")).await?;
    app.ok(
        r.token(),
        "mutation($s: ID!) { deleteRating(serviceId: $s) }",
        json!({ "s": bus }),
    )
    .await?;
    let zero = app
        .error_code(p.token(), RATE, json!({ "s": bus, "score": 0 }))
        .await?;
    let six = app
        .error_code(p.token(), RATE, json!({ "s": bus, "score": 6 }))
        .await?;
    let half = app
        .error_code(p.token(), RATE, json!({ "s": bus, "score": 4.5 }))
        .await?;
    let staff = app
        .error_code(school.admin.token(), RATE, json!({ "s": bus, "score": 5 }))
        .await?;

    let summary = app
        .ok(school.admin.token(), SUMMARY, json!({ "s": bus }))
        .await?;
    assert_eq!(summary["service"]["ratingSummary"]["count"], 2);
    assert_eq!(summary["service"]["ratingSummary"]["average"], 4.0);
    assert_eq!(
        (zero.as_str(), six.as_str()),
        ("BAD_USER_INPUT", "BAD_USER_INPUT")
    );
    assert_eq!(half, "GRAPHQL_VALIDATION_FAILED");
    assert_eq!(staff, "FORBIDDEN");
    Ok(())
}

#[tokio::test]
async fn tidak_puas_is_flagged_for_staff_and_tidak_buruk_is_not() -> Result<()> {
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;
    let kantin = service(&app, &school.admin, "Kantin").await?;

    rate(
        &app,
        &school.ayu_parent,
        &kantin,
        4,
        Some("Makanannya tidak buruk"),
    )
    .await?;
    rate(
        &app,
        &school.bima_parent,
        &kantin,
        3,
        Some("Saya tidak puas dengan porsinya"),
    )
    .await?;
    let queue = app
        .ok(
            school.admin.token(),
            "{ complaintFlags { id excerpt reasons status } }",
            json!({}),
        )
        .await?;
    let flags = queue["complaintFlags"].as_array().context("flags")?.clone();
    let resolved = app
        .ok(school.admin.token(), "mutation($id: ID!) { resolveFlag(id: $id, note: \"Porsi ditambah\") { status minutesToResolve } }", json!({ "id": flags[0]["id"] }))
        .await?;
    let parent = app
        .error_code(
            school.ayu_parent.token(),
            "{ complaintFlags { id } }",
            json!({}),
        )
        .await?;

    assert_eq!(flags.len(), 1);
    assert_eq!(flags[0]["excerpt"], "Saya tidak puas dengan porsinya");
    assert_eq!(
        flags[0]["reasons"],
        json!(["negated praise \"tidak puas\" (puas)"])
    );
    assert_eq!(resolved["resolveFlag"]["status"], "RESOLVED");
    assert_eq!(resolved["resolveFlag"]["minutesToResolve"], 0);
    assert_eq!(parent, "FORBIDDEN");
    Ok(())
}

#[tokio::test]
async fn the_rater_sees_a_staff_reply_live() -> Result<()> {
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;
    let kantin = service(&app, &school.admin, "Kantin").await?;
    let rated = rate(&app, &school.ayu_parent, &kantin, 2, Some("Antri lama")).await?;
    let mut ws = app.ws(school.ayu_parent.token()).await?;
    ws.subscribe(
        "r",
        "subscription { ratingReplied { body ratingId } }",
        json!({}),
    )
    .await?;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    app.ok(
        school.admin.token(),
        "mutation($r: ID!) { replyToRating(ratingId: $r, body: \"Kasir kedua dibuka mulai besok\") { id } }",
        json!({ "r": rated["rateService"]["id"] }),
    )
    .await?;

    let event = ws.next_data("r").await?;
    assert_eq!(
        event["ratingReplied"]["body"],
        "Kasir kedua dibuka mulai besok"
    );
    assert_eq!(
        event["ratingReplied"]["ratingId"],
        rated["rateService"]["id"]
    );
    Ok(())
}

#[tokio::test]
async fn a_complaint_taken_back_leaves_the_open_queue_and_a_new_one_reopens_it() -> Result<()> {
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;
    let kantin = service(&app, &school.admin, "Kantin").await?;
    let open = "{ complaintFlags(status: \"OPEN\") { id } }";

    rate(&app, &school.ayu_parent, &kantin, 1, Some("kantin kotor")).await?;
    rate(
        &app,
        &school.ayu_parent,
        &kantin,
        5,
        Some("maaf salah pencet"),
    )
    .await?;
    let after_retraction = app.ok(school.admin.token(), open, json!({})).await?;
    rate(&app, &school.bima_parent, &kantin, 1, Some("kotor")).await?;
    let flags = app.ok(school.admin.token(), open, json!({})).await?;
    app.ok(
        school.admin.token(),
        "mutation($id: ID!) { resolveFlag(id: $id, note: \"Dibersihkan\") { id } }",
        json!({ "id": flags["complaintFlags"][0]["id"] }),
    )
    .await?;
    rate(
        &app,
        &school.bima_parent,
        &kantin,
        1,
        Some("masih kotor, tambah parah"),
    )
    .await?;
    let reopened = app.ok(school.admin.token(), open, json!({})).await?;

    assert_eq!(
        after_retraction["complaintFlags"].as_array().map(Vec::len),
        Some(0)
    );
    assert_eq!(
        reopened["complaintFlags"].as_array().map(Vec::len),
        Some(1),
        "a new complaint reopens the resolved flag"
    );
    Ok(())
}

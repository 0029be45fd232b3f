//! The service performance report over a small school whose activity is
//! known, against figures worked out by hand.

use anyhow::{Context, Result};
use scrm_e2e::{School, Session, TestApp};
use serde_json::{Value, json};

use crate::conversations::{direct, send};

const PUBLISH: &str =
    "mutation($input: PublishAnnouncementInput!) { publishAnnouncement(input: $input) { id } }";

async fn publish(app: &TestApp, admin: &Session, audience: Value) -> Result<String> {
    let input = json!({ "title": "Info", "body": "Mohon dibaca.", "audience": audience });
    let data = app
        .ok(admin.token(), PUBLISH, json!({ "input": input }))
        .await?;
    Ok(data["publishAnnouncement"]["id"]
        .as_str()
        .context("id")?
        .to_owned())
}

async fn read(app: &TestApp, who: &Session, id: &str) -> Result<()> {
    app.ok(
        who.token(),
        "mutation($id: ID!) { markAnnouncementRead(id: $id) { readAt } }",
        json!({ "id": id }),
    )
    .await?;
    Ok(())
}

/// Two announcements (one to everyone, one to 7A), five messages (a
/// direct pair, one in the class thread, a support request and its
/// answer), two payments (sandbox and bank transfer), two ratings (one
/// a complaint, resolved), a satisfaction rating and three recommend
/// answers.
async fn known_activity(app: &TestApp, s: &School) -> Result<()> {
    let everyone = publish(app, &s.admin, json!({ "everyone": true })).await?;
    let class = publish(app, &s.admin, json!({ "classIds": [s.class_7a] })).await?;
    read(app, &s.ayu_parent, &everyone).await?;
    read(app, &s.ayu_parent, &class).await?;
    read(app, &s.bima_parent, &class).await?;

    let thread = direct(app, &s.ayu_parent, &s.teacher).await?;
    send(app, &s.ayu_parent, &thread, "a-1", "Selamat pagi").await?;
    send(app, &s.teacher, &thread, "t-1", "Pagi juga").await?;
    let class_thread = app
        .ok(
            s.bima_parent.token(),
            "query($c: ID!) { classThread(classId: $c) { id } }",
            json!({ "c": s.class_7a }),
        )
        .await?;
    send(
        app,
        &s.bima_parent,
        class_thread["classThread"]["id"]
            .as_str()
            .context("class thread")?,
        "b-1",
        "Halo semua",
    )
    .await?;
    let support = app
        .ok(
            s.citra_parent.token(),
            "mutation { startThread(input: { kind: SUPPORT, title: \"Jadwal ujian\" }) { id } }",
            json!({}),
        )
        .await?;
    let support = support["startThread"]["id"]
        .as_str()
        .context("support")?
        .to_owned();
    send(
        app,
        &s.citra_parent,
        &support,
        "c-1",
        "Mohon info jadwal ujian",
    )
    .await?;
    send(app, &s.admin, &support, "s-1", "Jadwal terlampir").await?;
    app.ok(
        s.admin.token(),
        "mutation($t: ID!) { setSupportStatus(threadId: $t, status: RESOLVED) { id } }",
        json!({ "t": support }),
    )
    .await?;
    app.ok(
        s.citra_parent.token(),
        "mutation($t: ID!) { rateSupport(threadId: $t, score: 4) }",
        json!({ "t": support }),
    )
    .await?;

    pay(app, s).await?;
    rate_and_complain(app, s).await?;
    recommend(app, s).await
}

async fn pay(app: &TestApp, s: &School) -> Result<()> {
    let input = json!({ "target": { "everyone": true }, "title": "SPP", "dueDate": "2099-12-31",
                        "lines": [{ "description": "SPP", "amountIdr": 100000 }] });
    let issued = app.ok(s.admin.token(), "mutation($i: IssueInvoicesInput!) { issueInvoices(input: $i) { id student { name } } }", json!({ "i": input })).await?;
    let id_of = |name: &str| {
        issued["issueInvoices"]
            .as_array()
            .and_then(|a| a.iter().find(|i| i["student"]["name"] == name))
            .map(|i| i["id"].clone())
    };
    let start = "mutation($i: ID!, $p: PaymentProvider!) { startPayment(invoiceId: $i, provider: $p, idempotencyKey: \"k\") { id } }";
    let sandbox = app
        .ok(
            s.ayu_parent.token(),
            start,
            json!({ "i": id_of("Ayu"), "p": "SANDBOX" }),
        )
        .await?;
    app.ok(
        s.ayu_parent.token(),
        "mutation($p: ID!) { sandboxPay(paymentId: $p, outcome: SETTLE) { status } }",
        json!({ "p": sandbox["startPayment"]["id"] }),
    )
    .await?;
    let transfer = app
        .ok(
            s.bima_parent.token(),
            start,
            json!({ "i": id_of("Bima"), "p": "BANK_TRANSFER" }),
        )
        .await?;
    app.ok(s.admin.token(), "mutation($p: ID!) { confirmBankTransfer(paymentId: $p, receivedAmountIdr: 100000) { status } }", json!({ "p": transfer["startPayment"]["id"] })).await?;
    Ok(())
}

async fn rate_and_complain(app: &TestApp, s: &School) -> Result<()> {
    let kantin = app
        .ok(
            s.admin.token(),
            "mutation { createService(name: \"Kantin\", description: \"Makan siang\") { id } }",
            json!({}),
        )
        .await?;
    let rate = "mutation($s: ID!, $v: Int!, $c: String) { rateService(serviceId: $s, score: $v, comment: $c) { id } }";
    app.ok(
        s.ayu_parent.token(),
        rate,
        json!({ "s": kantin["createService"]["id"], "v": 5, "c": "Enak" }),
    )
    .await?;
    app.ok(
        s.bima_parent.token(),
        rate,
        json!({ "s": kantin["createService"]["id"], "v": 2, "c": "Saya tidak puas" }),
    )
    .await?;
    let flags = app
        .ok(s.admin.token(), "{ complaintFlags { id } }", json!({}))
        .await?;
    app.ok(
        s.admin.token(),
        "mutation($id: ID!) { resolveFlag(id: $id, note: \"Ditindaklanjuti\") { id } }",
        json!({ "id": flags["complaintFlags"][0]["id"] }),
    )
    .await?;
    Ok(())
}

async fn recommend(app: &TestApp, s: &School) -> Result<()> {
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Jakarta)
        .date_naive();
    let input = json!({ "title": "Rekomendasi", "opensOn": today, "closesOn": today + chrono::Duration::days(7), "audience": { "roles": ["PARENT"] } });
    let survey = app
        .ok(
            s.admin.token(),
            "mutation($i: OpenSurveyInput!) { openSurvey(input: $i) { id } }",
            json!({ "i": input }),
        )
        .await?;
    let answer = "mutation($s: ID!, $v: Int!) { answerSurvey(surveyId: $s, score: $v) }";
    for (who, score) in [
        (&s.ayu_parent, 10),
        (&s.bima_parent, 6),
        (&s.citra_parent, 9),
    ] {
        app.ok(
            who.token(),
            answer,
            json!({ "s": survey["openSurvey"]["id"], "v": score }),
        )
        .await?;
    }
    Ok(())
}

/// (numerator, denominator) of every figure, by key.
fn figures(indicators: &Value) -> Vec<(String, i64, i64)> {
    indicators
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|i| i["figures"].as_array().cloned().unwrap_or_default())
        .map(|f| {
            (
                f["key"].as_str().unwrap_or("").to_owned(),
                f["numerator"].as_i64().unwrap_or(-1),
                f["denominator"].as_i64().unwrap_or(-1),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_report_of_a_school_with_known_activity_has_the_figures_worked_out_by_hand()
-> Result<()> {
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;
    known_activity(&app, &school).await?;
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Jakarta)
        .date_naive();

    let data = app
        .ok(
            school.admin.token(),
            "query($d: Date!) { serviceReport(from: $d, to: $d) {
               indicators { key figures { key numerator denominator value definition } }
               months { month } services { service { name } ratings averageRating } } }",
            json!({ "d": today }),
        )
        .await?;
    let parent = app
        .error_code(
            school.ayu_parent.token(),
            "query($d: Date!) { serviceReport(from: $d, to: $d) { from } }",
            json!({ "d": today }),
        )
        .await?;

    let report = &data["serviceReport"];
    let expected: Vec<(&str, i64, i64)> = vec![
        ("familiesActivated", 3, 3),
        ("guardiansWithContact", 3, 3),
        ("targetedAnnouncements", 1, 2),
        ("personalMessages", 4, 5),
        ("messages", 5, 1),
        ("medianFirstResponseMinutes", 0, 1),
        ("answeredWithinTarget", 1, 1),
        ("announcementReadRate", 3, 10),
        ("activeUsers", 5, 7),
        ("digitalPayments", 1, 2),
        ("requestsInApp", 1, 1),
        ("resolvedWithinTarget", 1, 1),
        ("averageRating", 7, 2),
        ("averageSatisfaction", 4, 1),
        ("complaintsResolved", 1, 1),
        ("recommendScore", 1, 3),
    ];
    let got = figures(&report["indicators"]);
    let got: Vec<(&str, i64, i64)> = got.iter().map(|(k, n, d)| (k.as_str(), *n, *d)).collect();
    assert_eq!(got, expected);
    let keys: Vec<&str> = report["indicators"]
        .as_array()
        .context("indicators")?
        .iter()
        .filter_map(|i| i["key"].as_str())
        .collect();
    assert_eq!(
        keys,
        vec![
            "IDENTIFICATION",
            "INDIVIDUALIZATION",
            "INTERACTION",
            "INTEGRATION",
            "INTEGRITY"
        ]
    );
    assert!(
        report["indicators"][0]["figures"][0]["definition"]
            .as_str()
            .is_some_and(|d| !d.is_empty())
    );
    assert_eq!(report["months"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        report["services"],
        json!([{ "service": { "name": "Kantin" }, "ratings": 2, "averageRating": 3.5 }])
    );
    assert_eq!(parent, "FORBIDDEN");
    Ok(())
}

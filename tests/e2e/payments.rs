//! Billing end to end: bulk tuition with sibling discounts, paying by
//! sandbox, bank transfer and signed provider notifications, and money
//! that is never lost, created or taken twice.

use anyhow::{Context, Result};
use scrm_domain::payments::signature_of;
use scrm_e2e::{School, Session, TestApp, fixture};
use serde_json::{Value, json};

const ISSUE: &str = "mutation($input: IssueInvoicesInput!) {
  issueInvoices(input: $input) { id number totalIdr discountIdr student { id name } lines { kind amountIdr } }
}";
const START: &str = "mutation($i: ID!, $p: PaymentProvider!, $k: String!, $a: Int) {
  startPayment(invoiceId: $i, provider: $p, idempotencyKey: $k, amountIdr: $a) { id orderId amountIdr status }
}";
const INVOICE: &str = "query($id: ID!) { invoice(id: $id) { status paidIdr dueIdr totalIdr
  receipt { number paidAtLocal totalIdr } payments { status amountIdr gatewayAmountIdr feeIdr } } }";
const SERVER_KEY: &str = "test-server-key";

fn tuition(target: Value, sibling: Option<i32>) -> Value {
    json!({ "input": {
        "target": target,
        "title": "SPP Desember 2026",
        "dueDate": "2026-12-31",
        "lines": [{ "description": "SPP Desember", "amountIdr": 1_500_000 }],
        "siblingDiscountPercent": sibling,
    }})
}

/// Posts a notification signed as the provider signs it.
async fn notify(
    app: &TestApp,
    order_id: &str,
    status: &str,
    gross: &str,
    fee: Option<&str>,
    key: &str,
) -> Result<(u16, Value)> {
    let code = if status == "settlement" { "200" } else { "201" };
    let body = json!({
        "order_id": order_id,
        "status_code": code,
        "gross_amount": gross,
        "transaction_status": status,
        "transaction_id": format!("tx-{order_id}"),
        "fee_amount": fee,
        "signature_key": signature_of(order_id, code, gross, key),
    });
    let response = app
        .http
        .post(app.url("/webhooks/midtrans"))
        .json(&body)
        .send()
        .await?;
    Ok((response.status().as_u16(), response.json().await?))
}

async fn issue_to_children(app: &TestApp, school: &School) -> Result<Vec<Value>> {
    let data = app
        .ok(
            school.admin.token(),
            ISSUE,
            tuition(json!({ "everyone": true }), None),
        )
        .await?;
    Ok(data["issueInvoices"]
        .as_array()
        .cloned()
        .unwrap_or_default())
}

/// A school whose children have their invoices, and the id of Ayu's.
async fn ayu_with_an_invoice() -> Result<(TestApp, School, String)> {
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;
    issue_to_children(&app, &school).await?;
    let id = invoice_of(&app, &school.ayu_parent).await?;
    Ok((app, school, id))
}

async fn invoice_of(app: &TestApp, parent: &Session) -> Result<String> {
    let data = app
        .ok(
            parent.token(),
            "{ invoices(first: 10) { edges { node { id } } } }",
            json!({}),
        )
        .await?;
    Ok(data["invoices"]["edges"][0]["node"]["id"]
        .as_str()
        .context("an invoice")?
        .to_owned())
}

async fn start(
    app: &TestApp,
    who: &Session,
    invoice: &str,
    provider: &str,
    key: &str,
    amount: Option<i64>,
) -> Result<Value> {
    let data = app
        .ok(
            who.token(),
            START,
            json!({ "i": invoice, "p": provider, "k": key, "a": amount }),
        )
        .await?;
    Ok(data["startPayment"].clone())
}

async fn invoice(app: &TestApp, who: &Session, id: &str) -> Result<Value> {
    Ok(app.ok(who.token(), INVOICE, json!({ "id": id })).await?["invoice"].clone())
}

#[tokio::test]
async fn monthly_tuition_for_a_grade_gives_younger_siblings_their_discount() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    app.upload_roster(
        &admin.access,
        std::fs::read(fixture("roster-sample.csv"))?,
        false,
    )
    .await?;

    let first = app
        .ok(
            admin.token(),
            ISSUE,
            tuition(json!({ "grades": [7] }), Some(10)),
        )
        .await?;
    let again = app
        .ok(
            admin.token(),
            ISSUE,
            tuition(json!({ "grades": [7] }), Some(10)),
        )
        .await?;

    let invoices = first["issueInvoices"].as_array().context("invoices")?;
    assert_eq!(invoices.len(), 84, "three classes of grade 7");
    assert_eq!(
        again["issueInvoices"]
            .as_array()
            .map(|a| a.iter().map(|i| i["id"].clone()).collect::<Vec<_>>()),
        Some(invoices.iter().map(|i| i["id"].clone()).collect()),
        "issuing again changes nothing"
    );
    let discounted: Vec<&Value> = invoices
        .iter()
        .filter(|i| i["discountIdr"] == 150_000)
        .collect();
    assert!(
        !discounted.is_empty(),
        "some grade-7 children have older siblings"
    );
    for inv in &discounted {
        assert_eq!(inv["totalIdr"], 1_350_000);
        assert_eq!(
            inv["lines"][1],
            json!({ "kind": "SIBLING", "amountIdr": -150_000 })
        );
    }
    assert!(
        invoices
            .iter()
            .all(|i| i["discountIdr"] == 0 || i["discountIdr"] == 150_000)
    );
    Ok(())
}

#[tokio::test]
async fn a_parent_pays_one_child_by_sandbox_and_the_other_by_bank_transfer() -> Result<()> {
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;
    let data = app
        .ok(
            school.admin.token(),
            ISSUE,
            tuition(json!({ "everyone": true }), None),
        )
        .await?;
    let ids: Vec<String> = data["issueInvoices"]
        .as_array()
        .context("list")?
        .iter()
        .filter_map(|i| i["id"].as_str().map(str::to_owned))
        .collect();
    let parent = &school.ayu_parent;
    let mine = invoice_of(&app, parent).await?;
    let (second_id, _) = second_invoice_for(&app, &school, &ids, &mine).await?;

    let sandbox = start(&app, parent, &mine, "SANDBOX", "k-1", None).await?;
    app.ok(
        parent.token(),
        "mutation($p: ID!) { sandboxPay(paymentId: $p, outcome: SETTLE) { status } }",
        json!({ "p": sandbox["id"] }),
    )
    .await?;
    let transfer = start(&app, parent, &second_id, "BANK_TRANSFER", "k-2", None).await?;
    let pending = invoice(&app, parent, &second_id).await?;
    app.ok(school.admin.token(), "mutation($p: ID!) { confirmBankTransfer(paymentId: $p, receivedAmountIdr: 1500000) { status } }", json!({ "p": transfer["id"] })).await?;

    let paid_by_sandbox = invoice(&app, parent, &mine).await?;
    let paid_by_transfer = invoice(&app, parent, &second_id).await?;
    assert_eq!(paid_by_sandbox["status"], "PAID");
    assert_eq!(paid_by_sandbox["paidIdr"], 1_500_000);
    assert!(
        paid_by_sandbox["receipt"]["number"]
            .as_str()
            .is_some_and(|n| n.starts_with("KW/"))
    );
    assert!(
        paid_by_sandbox["receipt"]["paidAtLocal"]
            .as_str()
            .is_some_and(|t| t.ends_with("WIB"))
    );
    assert_eq!(pending["status"], "OPEN");
    assert_eq!(paid_by_transfer["status"], "PAID");
    let again = app
        .error_code(
            parent.token(),
            START,
            json!({ "i": mine, "p": "SANDBOX", "k": "k-3" }),
        )
        .await?;
    assert_eq!(again, "CONFLICT", "a paid invoice cannot be paid again");
    Ok(())
}

/// Gives the parent a second child's invoice: links Ayu's parent to Bima
/// the way a family with two children is linked.
async fn second_invoice_for(
    app: &TestApp,
    school: &School,
    ids: &[String],
    mine: &str,
) -> Result<(String, String)> {
    let parent_id: uuid::Uuid = school.ayu_parent.user_id.parse()?;
    for id in ids.iter().filter(|i| i.as_str() != mine) {
        let inv = invoice_detail(app, &school.admin, id).await?;
        let student: uuid::Uuid = inv["student"]["id"].as_str().context("student")?.parse()?;
        if inv["student"]["name"] == "Bima" {
            app.state
                .store
                .link_guardian(parent_id, student, "FATHER", 1)
                .await?;
            return Ok((id.clone(), student.to_string()));
        }
    }
    anyhow::bail!("Bima's invoice is missing")
}

async fn invoice_detail(app: &TestApp, who: &Session, id: &str) -> Result<Value> {
    let data = app
        .ok(
            who.token(),
            "query($id: ID!) { invoice(id: $id) { id student { id name } } }",
            json!({ "id": id }),
        )
        .await?;
    Ok(data["invoice"].clone())
}

#[tokio::test]
async fn the_same_notification_three_times_at_once_pays_once() -> Result<()> {
    let (app, school, id) = ayu_with_an_invoice().await?;
    let payment = start(&app, &school.ayu_parent, &id, "MIDTRANS", "m-1", None).await?;
    let order = payment["orderId"].as_str().context("order")?;

    let (a, b, c) = tokio::join!(
        notify(&app, order, "settlement", "1500000.00", None, SERVER_KEY),
        notify(&app, order, "settlement", "1500000.00", None, SERVER_KEY),
        notify(&app, order, "settlement", "1500000.00", None, SERVER_KEY),
    );
    let mut outcomes: Vec<String> = [a?, b?, c?]
        .iter()
        .map(|(s, body)| format!("{s} {}", body["status"].as_str().unwrap_or("?")))
        .collect();
    outcomes.sort();

    assert_eq!(
        outcomes,
        vec!["200 APPLIED", "200 DUPLICATE", "200 DUPLICATE"]
    );
    let after = invoice(&app, &school.ayu_parent, &id).await?;
    assert_eq!(
        (after["status"].as_str(), after["paidIdr"].as_i64()),
        (Some("PAID"), Some(1_500_000))
    );
    let log = app
        .ok(
            school.admin.token(),
            "{ paymentNotifications(first: 10) { outcome } }",
            json!({}),
        )
        .await?;
    assert_eq!(
        log["paymentNotifications"].as_array().map(Vec::len),
        Some(3),
        "every delivery is kept for audit"
    );
    Ok(())
}

#[tokio::test]
async fn a_wrong_signature_or_a_wrong_amount_changes_nothing_and_is_logged() -> Result<()> {
    let (app, school, id) = ayu_with_an_invoice().await?;
    let payment = start(&app, &school.ayu_parent, &id, "MIDTRANS", "m-2", None).await?;
    let order = payment["orderId"].as_str().context("order")?;

    let forged = notify(&app, order, "settlement", "1500000.00", None, "not-the-key").await?;
    let short = notify(&app, order, "settlement", "1000.00", None, SERVER_KEY).await?;
    let unknown = notify(
        &app,
        "SCRM-unknown-order",
        "settlement",
        "1000.00",
        None,
        SERVER_KEY,
    )
    .await?;
    let junk = app
        .http
        .post(app.url("/webhooks/midtrans"))
        .json(&json!({ "order_id": "x".repeat(10_000) }))
        .send()
        .await?;
    // NUL, which PostgreSQL text cannot hold, in a raw body and in a
    // field: both are refused and still recorded.
    let raw_nul = app
        .http
        .post(app.url("/webhooks/midtrans"))
        .body("{\"order_id\":\"\u{0}\"}")
        .send()
        .await?;
    let nul_order = format!("{order}\u{0}x");
    let nul_field = notify(
        &app,
        &nul_order,
        "settlement",
        "1500000.00",
        None,
        "not-the-key",
    )
    .await?;

    assert_eq!(
        (forged.0, forged.1["status"].as_str()),
        (403, Some("BAD_SIGNATURE"))
    );
    assert_eq!(
        (short.0, short.1["status"].as_str()),
        (200, Some("AMOUNT_MISMATCH"))
    );
    assert_eq!(
        (unknown.0, unknown.1["status"].as_str()),
        (200, Some("UNMATCHED"))
    );
    assert_eq!(junk.status().as_u16(), 400);
    assert_eq!(raw_nul.status().as_u16(), 400);
    assert_eq!(
        (nul_field.0, nul_field.1["status"].as_str()),
        (403, Some("BAD_SIGNATURE"))
    );
    let after = invoice(&app, &school.ayu_parent, &id).await?;
    assert_eq!(
        (after["status"].as_str(), after["paidIdr"].as_i64()),
        (Some("OPEN"), Some(0))
    );
    let problems = app
        .ok(
            school.admin.token(),
            "{ paymentNotifications(problemsOnly: true) { outcome } }",
            json!({}),
        )
        .await?;
    let mut seen: Vec<&str> = problems["paymentNotifications"]
        .as_array()
        .context("list")?
        .iter()
        .filter_map(|n| n["outcome"].as_str())
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        vec![
            "AMOUNT_MISMATCH",
            "BAD_SIGNATURE",
            "BAD_SIGNATURE",
            "MALFORMED",
            "MALFORMED",
            "UNMATCHED"
        ]
    );
    Ok(())
}

#[tokio::test]
async fn an_expiry_after_settlement_does_not_unpay_and_a_fee_is_kept_apart() -> Result<()> {
    let (app, school, id) = ayu_with_an_invoice().await?;
    let payment = start(&app, &school.ayu_parent, &id, "MIDTRANS", "m-3", None).await?;
    let order = payment["orderId"].as_str().context("order")?;

    let settled = notify(
        &app,
        order,
        "settlement",
        "1500071.00",
        Some("71.00"),
        SERVER_KEY,
    )
    .await?;
    let expired = notify(
        &app,
        order,
        "expire",
        "1500071.00",
        Some("71.00"),
        SERVER_KEY,
    )
    .await?;
    let pending = notify(
        &app,
        order,
        "pending",
        "1500071.00",
        Some("71.00"),
        SERVER_KEY,
    )
    .await?;

    assert_eq!(settled.1["status"], "APPLIED");
    assert_eq!(
        (expired.1["status"].as_str(), pending.1["status"].as_str()),
        (Some("NO_CHANGE"), Some("NO_CHANGE"))
    );
    let after = invoice(&app, &school.ayu_parent, &id).await?;
    assert_eq!(after["status"], "PAID");
    assert_eq!(after["paidIdr"], 1_500_000, "the fee is no credit");
    assert_eq!(
        after["payments"][0],
        json!({ "status": "SETTLED", "amountIdr": 1_500_000, "gatewayAmountIdr": 1_500_071, "feeIdr": 71 })
    );
    Ok(())
}

#[tokio::test]
async fn an_idempotency_key_stands_for_one_request() -> Result<()> {
    let (app, school, id) = ayu_with_an_invoice().await?;

    let first = start(
        &app,
        &school.ayu_parent,
        &id,
        "SANDBOX",
        "same-key",
        Some(500_000),
    )
    .await?;
    let repeat = start(
        &app,
        &school.ayu_parent,
        &id,
        "SANDBOX",
        "same-key",
        Some(500_000),
    )
    .await?;
    let changed = app
        .error_code(
            school.ayu_parent.token(),
            START,
            json!({ "i": id, "p": "SANDBOX", "k": "same-key", "a": 600_000 }),
        )
        .await?;
    let too_much = app
        .error_code(
            school.ayu_parent.token(),
            START,
            json!({ "i": id, "p": "SANDBOX", "k": "other", "a": 2_000_000 }),
        )
        .await?;
    let overlapping = app
        .error_code(
            school.ayu_parent.token(),
            START,
            json!({ "i": id, "p": "SANDBOX", "k": "third", "a": 1_200_000 }),
        )
        .await?;

    assert_eq!(first["id"], repeat["id"]);
    assert_eq!(changed, "CONFLICT");
    assert_eq!(too_much, "BAD_USER_INPUT");
    assert_eq!(
        overlapping, "CONFLICT",
        "payments under way count against what is due"
    );
    Ok(())
}

#[tokio::test]
async fn a_parent_can_neither_see_nor_pay_another_familys_invoice() -> Result<()> {
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;
    issue_to_children(&app, &school).await?;
    let ayus = invoice_of(&app, &school.ayu_parent).await?;

    let listed = app
        .ok(
            school.bima_parent.token(),
            "{ invoices(first: 50) { edges { node { id } } } }",
            json!({}),
        )
        .await?;
    let read = app
        .error_code(school.bima_parent.token(), INVOICE, json!({ "id": ayus }))
        .await?;
    let pay = app
        .error_code(
            school.bima_parent.token(),
            START,
            json!({ "i": ayus, "p": "SANDBOX", "k": "steal" }),
        )
        .await?;
    let teacher = app
        .ok(
            school.teacher.token(),
            "{ invoices(first: 50) { edges { node { id } } } }",
            json!({}),
        )
        .await?;
    let report = app
        .error_code(
            school.bima_parent.token(),
            "{ outstandingByClass { outstandingIdr } }",
            json!({}),
        )
        .await?;

    let ids: Vec<&Value> = listed["invoices"]["edges"]
        .as_array()
        .context("edges")?
        .iter()
        .map(|e| &e["node"]["id"])
        .collect();
    assert_eq!(ids.len(), 1);
    assert_ne!(ids[0], &Value::from(ayus.clone()));
    assert_eq!((read.as_str(), pay.as_str()), ("NOT_FOUND", "NOT_FOUND"));
    assert_eq!(
        teacher["invoices"]["edges"].as_array().map(Vec::len),
        Some(0),
        "teachers see no invoices"
    );
    assert_eq!(report, "FORBIDDEN");
    Ok(())
}

#[tokio::test]
async fn a_coupon_is_used_no_more_often_than_its_limit() -> Result<()> {
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;
    let invoices = issue_to_children(&app, &school).await?;
    app.ok(
        school.admin.token(),
        "mutation { createCoupon(input: { code: \"HEMAT10\", description: \"Promo\", percent: 10,
           validFrom: \"2026-01-01\", validUntil: \"2099-12-31\", maxUses: 2 }) }",
        json!({}),
    )
    .await?;
    let apply = "mutation($i: ID!) { applyCoupon(invoiceId: $i, code: \"hemat10\") { totalIdr } }";

    let mut results = vec![];
    for inv in &invoices {
        results.push(
            app.post(school.admin.token(), apply, json!({ "i": inv["id"] }))
                .await?
                .1,
        );
    }

    let ok: Vec<&Value> = results.iter().filter(|r| r["errors"].is_null()).collect();
    assert_eq!(ok.len(), 2, "{results:?}");
    assert!(
        ok.iter()
            .all(|r| r["data"]["applyCoupon"]["totalIdr"] == 1_350_000)
    );
    assert_eq!(
        results[2]["errors"][0]["extensions"]["code"],
        "BAD_USER_INPUT"
    );
    Ok(())
}

#[tokio::test]
async fn the_paid_invoice_reaches_the_parents_app_live() -> Result<()> {
    let (app, school, id) = ayu_with_an_invoice().await?;
    let mut ws = app.ws(school.ayu_parent.token()).await?;
    ws.subscribe(
        "inv",
        "subscription { invoiceUpdated { id status } }",
        json!({}),
    )
    .await?;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    let payment = start(&app, &school.ayu_parent, &id, "SANDBOX", "live-1", None).await?;
    app.ok(
        school.ayu_parent.token(),
        "mutation($p: ID!) { sandboxPay(paymentId: $p, outcome: SETTLE) { status } }",
        json!({ "p": payment["id"] }),
    )
    .await?;

    let event = ws.next_data("inv").await?;
    assert_eq!(
        event["invoiceUpdated"],
        json!({ "id": id, "status": "PAID" })
    );
    Ok(())
}

async fn sandbox(
    app: &TestApp,
    who: &Session,
    payment: &Value,
    outcome: &str,
) -> Result<(u16, Value)> {
    let op = format!(
        "mutation($p: ID!) {{ sandboxPay(paymentId: $p, outcome: {outcome}) {{ status }} }}"
    );
    app.post(who.token(), &op, json!({ "p": payment["id"] }))
        .await
}

#[tokio::test]
async fn no_coupon_or_void_while_a_payment_is_under_way() -> Result<()> {
    let (app, school, id) = ayu_with_an_invoice().await?;
    app.ok(
        school.admin.token(),
        "mutation { createCoupon(input: { code: \"SEMUA\", description: \"Promo\", amountIdr: 300000,
           validFrom: \"2026-01-01\", validUntil: \"2099-12-31\", maxUses: 5 }) }",
        json!({}),
    )
    .await?;
    start(&app, &school.ayu_parent, &id, "SANDBOX", "p-1", None).await?;

    let coupon = app
        .error_code(
            school.ayu_parent.token(),
            "mutation($i: ID!) { applyCoupon(invoiceId: $i, code: \"SEMUA\") { totalIdr } }",
            json!({ "i": id }),
        )
        .await?;
    let void = app
        .error_code(
            school.admin.token(),
            "mutation($i: ID!) { voidInvoice(id: $i, reason: \"Salah\") { status } }",
            json!({ "i": id }),
        )
        .await?;

    assert_eq!((coupon.as_str(), void.as_str()), ("CONFLICT", "CONFLICT"));
    Ok(())
}

#[tokio::test]
async fn money_that_arrives_for_a_paid_invoice_is_listed_for_refund_not_lost() -> Result<()> {
    let (app, school, id) = ayu_with_an_invoice().await?;
    let first = start(&app, &school.ayu_parent, &id, "MIDTRANS", "o-1", None).await?;
    notify(
        &app,
        first["orderId"].as_str().context("order")?,
        "expire",
        "1500000.00",
        None,
        SERVER_KEY,
    )
    .await?;
    let second = start(&app, &school.ayu_parent, &id, "SANDBOX", "o-2", None).await?;
    sandbox(&app, &school.ayu_parent, &second, "SETTLE").await?;

    let late = notify(
        &app,
        first["orderId"].as_str().context("order")?,
        "settlement",
        "1500000.00",
        None,
        SERVER_KEY,
    )
    .await?;
    let resettle = sandbox(&app, &school.ayu_parent, &second, "SETTLE").await?;

    assert_eq!(late.1["status"], "OVERPAID");
    assert_eq!(
        resettle.1["errors"][0]["extensions"]["code"], "CONFLICT",
        "the sandbox decides pending payments only"
    );
    let problems = app
        .ok(
            school.admin.token(),
            "{ paymentNotifications(problemsOnly: true) { outcome } }",
            json!({}),
        )
        .await?;
    assert!(
        problems["paymentNotifications"]
            .as_array()
            .context("list")?
            .iter()
            .any(|n| n["outcome"] == "OVERPAID")
    );
    Ok(())
}

#[tokio::test]
async fn the_early_payment_discount_is_earned_by_paying_in_full_in_time() -> Result<()> {
    let app = TestApp::spawn().await?;
    let school = School::new(&app).await?;
    let input = json!({ "input": {
        "target": { "everyone": true }, "title": "SPP", "dueDate": "2099-12-31",
        "lines": [{ "description": "SPP", "amountIdr": 1_000_000 }],
        "earlyPayment": { "until": "2099-12-01", "percent": 10 },
    }});
    app.ok(school.admin.token(), ISSUE, input).await?;
    let id = invoice_of(&app, &school.ayu_parent).await?;

    let token = start(&app, &school.ayu_parent, &id, "SANDBOX", "e-1", Some(1)).await?;
    sandbox(&app, &school.ayu_parent, &token, "EXPIRE").await?;
    let after_token = invoice(&app, &school.ayu_parent, &id).await?;
    let full = start(&app, &school.ayu_parent, &id, "SANDBOX", "e-2", None).await?;
    let retry = start(&app, &school.ayu_parent, &id, "SANDBOX", "e-2", None).await?;
    sandbox(&app, &school.ayu_parent, &full, "SETTLE").await?;
    let paid = invoice(&app, &school.ayu_parent, &id).await?;

    assert_eq!(
        after_token["totalIdr"], 1_000_000,
        "a token payment earns no discount"
    );
    assert_eq!(full["amountIdr"], 900_000);
    assert_eq!(retry["id"], full["id"], "a retry is the same payment");
    assert_eq!(
        (
            paid["status"].as_str(),
            paid["paidIdr"].as_i64(),
            paid["totalIdr"].as_i64()
        ),
        (Some("PAID"), Some(900_000), Some(900_000))
    );
    Ok(())
}

#[tokio::test]
async fn two_clerks_confirming_one_transfer_at_once_credit_it_once() -> Result<()> {
    let (app, school, id) = ayu_with_an_invoice().await?;
    let transfer = start(&app, &school.ayu_parent, &id, "BANK_TRANSFER", "b-1", None).await?;
    let confirm = "mutation($p: ID!, $a: Int!) { confirmBankTransfer(paymentId: $p, receivedAmountIdr: $a) { amountIdr } }";

    let (a, b) = tokio::join!(
        app.post(
            school.admin.token(),
            confirm,
            json!({ "p": transfer["id"], "a": 1_500_000 })
        ),
        app.post(
            school.admin.token(),
            confirm,
            json!({ "p": transfer["id"], "a": 300_000 })
        ),
    );
    let (a, b) = (a?.1, b?.1);

    let succeeded: Vec<&Value> = [&a, &b]
        .into_iter()
        .filter(|r| r["errors"].is_null())
        .collect();
    assert_eq!(succeeded.len(), 1, "{a} {b}");
    let credited = succeeded[0]["data"]["confirmBankTransfer"]["amountIdr"].clone();
    let after = invoice(&app, &school.ayu_parent, &id).await?;
    assert_eq!(
        after["paidIdr"], credited,
        "the invoice holds what the successful clerk confirmed"
    );
    Ok(())
}

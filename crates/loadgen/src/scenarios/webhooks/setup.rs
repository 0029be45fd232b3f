//! Invoices and pending payments for the webhook scenario, made through
//! the API as the admin panel and the parents' app make them, and the
//! closing check of every invoice's paid amount.

use std::collections::HashMap;

use anyhow::{Context, Result, ensure};
use futures_util::StreamExt;
use serde_json::{Value, json};

use super::{AMOUNT, PER_INVOICE, Payment};
use crate::client::{Api, clip};
use crate::school::School;

/// An invoice and the token of a guardian who may pay it.
pub struct Invoice {
    pub id: String,
    payer: String,
}

const ISSUE: &str = "mutation($input: IssueInvoicesInput!) {
  issueInvoices(input: $input) { id totalIdr student { id } } }";

const START: &str = "mutation($i: UUID!, $k: String!, $a: Int) {
  startPayment(invoiceId: $i, provider: MIDTRANS, idempotencyKey: $k, amountIdr: $a) {
    orderId amountIdr status } }";

const INVOICES: &str = "query($after: String) { invoices(first: 100, after: $after) {
  edges { node { id paidIdr } } pageInfo { hasNextPage endCursor } } }";

/// One invoice for every child of an activated family.
pub async fn issue(api: &Api, school: &School) -> Result<Vec<Invoice>> {
    let mut payer_of: HashMap<&str, &str> = HashMap::new();
    for parent in &school.parents {
        for (student, _) in &parent.children {
            payer_of.entry(student).or_insert(&parent.session.token);
        }
    }
    let total = AMOUNT * PER_INVOICE as i64;
    let input = json!({
        "target": { "studentIds": payer_of.keys().collect::<Vec<_>>() },
        "title": format!("SPP bench {}", &uuid::Uuid::new_v4().simple().to_string()[..8]),
        "dueDate": "2099-12-31",
        "lines": [{ "description": "SPP", "amountIdr": total }],
    });
    let data = api
        .run(Some(&school.admin.token), ISSUE, json!({ "input": input }))
        .await?;
    let issued = data["issueInvoices"].as_array().context("no invoices")?;
    issued
        .iter()
        .map(|inv| {
            ensure!(inv["totalIdr"] == total, "an invoice of {}", clip(inv));
            let student = inv["student"]["id"].as_str().context("no student")?;
            Ok(Invoice {
                id: inv["id"].as_str().context("no id")?.to_owned(),
                payer: payer_of.get(student).context("no payer")?.to_string(),
            })
        })
        .collect()
}

/// Starts `count` payments of `AMOUNT`, invoice after invoice, so that
/// neighbours in the list never share an invoice's row.
pub async fn start_all(api: &Api, invoices: &[Invoice], count: usize) -> Result<Vec<Payment>> {
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let plan = (0..PER_INVOICE).flat_map(|_| invoices).take(count);
    futures_util::stream::iter(plan.enumerate())
        .map(|(k, invoice)| start(api, invoice, format!("bench-{}-{k}", &tag[..8])))
        .buffered(16)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect()
}

async fn start(api: &Api, invoice: &Invoice, key: String) -> Result<Payment> {
    let variables = json!({ "i": invoice.id, "k": key, "a": AMOUNT });
    let data = api.run(Some(&invoice.payer), START, variables).await?;
    let p = &data["startPayment"];
    ensure!(
        p["amountIdr"] == AMOUNT && p["status"] == "PENDING",
        "a payment started as {}",
        clip(p)
    );
    Ok(Payment {
        invoice: invoice.id.clone(),
        order_id: p["orderId"].as_str().context("no orderId")?.to_owned(),
    })
}

/// Checks, as the admin panel reads them, that each invoice was paid
/// exactly the `amount` of every payment applied to it.
pub async fn check_paid<'a>(
    api: &Api,
    admin: &str,
    invoices: &[Invoice],
    applied: impl Iterator<Item = &'a Payment>,
    amount: i64,
) -> Result<()> {
    let mut expected: HashMap<&str, i64> = invoices.iter().map(|i| (i.id.as_str(), 0)).collect();
    for payment in applied {
        *expected.entry(&payment.invoice).or_default() += amount;
    }
    let paid = all_paid(api, admin).await?;
    for (invoice, want) in expected {
        let got = paid.get(invoice).copied();
        ensure!(
            got == Some(want),
            "invoice {invoice} shows paidIdr {got:?}, its applied payments sum to {want}"
        );
    }
    Ok(())
}

/// Every invoice's `paidIdr`, page by page.
async fn all_paid(api: &Api, admin: &str) -> Result<HashMap<String, i64>> {
    let mut paid = HashMap::new();
    let mut after = Value::Null;
    // Pages of 100; the bound only guards against a cursor loop.
    for _ in 0..10_000 {
        let data = api
            .run(Some(admin), INVOICES, json!({ "after": after }))
            .await?;
        let page = &data["invoices"];
        for edge in page["edges"].as_array().context("no edges")? {
            let node = &edge["node"];
            paid.insert(
                node["id"].as_str().context("no id")?.to_owned(),
                node["paidIdr"].as_i64().context("no paidIdr")?,
            );
        }
        if page["pageInfo"]["hasNextPage"] != true {
            return Ok(paid);
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    anyhow::bail!("the invoice list does not end")
}

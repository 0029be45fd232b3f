//! A year of tuition: on the first of each month an invoice for every
//! child of a family with an account, by the grade's fee; most families
//! pay within the month, seven in ten online (Midtrans, settled within
//! minutes) and the rest by bank transfer (confirmed by finance within
//! two days). A payment that would settle after the start of seeding
//! stays pending, one that would start after it is not made.

use std::collections::HashMap;

use anyhow::{Context, Result, ensure};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use futures_util::{StreamExt, TryStreamExt};
use scrm_api::payments::{number_prefix, request_hash};
use scrm_domain::payments::{Line, PaymentState};
use scrm_persistence::Store;
use scrm_persistence::invoices::{Invoice, NewInvoice};
use scrm_persistence::payments::{Applied, Change, NewPayment, PaymentKey};
use uuid::Uuid;

use super::AT_ONCE;
use super::calendar::{Calendar, Dice};
use super::people::People;
use super::tally::Tally;

const PART: u64 = 4;

/// A planned payment: its provider and when it starts and settles.
struct Plan {
    invoice: Invoice,
    payer: Uuid,
    provider: &'static str,
    started: DateTime<Utc>,
    settled: Option<DateTime<Utc>>,
}

/// Bills the last `months` months, oldest first.
pub async fn bill_year(
    store: &Store,
    cal: &Calendar,
    people: &People,
    months: u32,
) -> Result<Tally> {
    let mut tally = Tally::default();
    let payer_of: HashMap<Uuid, Uuid> = people
        .households
        .iter()
        .flat_map(|h| h.children.iter().map(|c| (c.id, h.guardian)))
        .collect();
    for back in (0..months).rev() {
        let first = cal.month_start(back);
        let Some(issued_at) = cal.past(cal.at(first, 7 * 60 + 30)) else {
            continue;
        };
        let invoices = issue(store, people, first, issued_at).await?;
        tally.count("invoices", invoices.len() as i64);
        let plans: Vec<Plan> = invoices
            .into_iter()
            .enumerate()
            .filter_map(|(n, invoice)| {
                let payer = *payer_of.get(&invoice.student_id)?;
                plan(cal, (back, n), invoice, payer, issued_at)
            })
            .collect();
        let paid: Vec<Tally> = futures_util::stream::iter(plans)
            .map(|p| pay(store, cal, p))
            .buffer_unordered(AT_ONCE)
            .try_collect()
            .await?;
        paid.into_iter().for_each(|t| tally.merge(t));
    }
    Ok(tally)
}

/// The month's invoices in one batch, as finance issues them.
async fn issue(
    store: &Store,
    people: &People,
    first: NaiveDate,
    at: DateTime<Utc>,
) -> Result<Vec<Invoice>> {
    let grades = people.grades();
    let month = first.format("%m/%Y");
    let batch: Vec<NewInvoice> = people
        .households
        .iter()
        .flat_map(|h| &h.children)
        .map(|child| NewInvoice {
            student_id: child.id,
            family_id: child.family_id,
            class_id: child.class_id,
            title: format!("SPP {month}"),
            issue_key: Some(format!("year-spp:{month}:{}", child.id)),
            due_date: first + Duration::days(9),
            early_until: None,
            early_discount_idr: 0,
            lines: vec![Line {
                description: "SPP bulanan".to_owned(),
                amount_idr: fee(child.class_id.and_then(|c| grades.get(&c).copied())),
            }],
            discounts: vec![],
        })
        .collect();
    let finance = people.finance.first().context("no finance staff")?;
    let issued = store
        .issue_invoices(*finance, batch, &number_prefix(first), at)
        .await
        .context("failed to issue the month's invoices")?;
    Ok(issued)
}

/// The monthly fee of a grade: primary, lower and upper secondary.
fn fee(grade: Option<i32>) -> i64 {
    match grade.unwrap_or(1) {
        ..=6 => 1_150_000,
        7..=9 => 1_450_000,
        _ => 1_750_000,
    }
}

fn plan(
    cal: &Calendar,
    (back, n): (u32, usize),
    invoice: Invoice,
    payer: Uuid,
    issued: DateTime<Utc>,
) -> Option<Plan> {
    let mut dice = Dice::new(PART + u64::from(back) * 1_000, n);
    if !dice.chance(0.93) {
        return None;
    }
    let online = dice.chance(0.7);
    let days = Duration::days(dice.range(0, 24));
    let started = cal.past(issued + days + Duration::minutes(dice.range(30, 13 * 60)))?;
    let settling = if online {
        Duration::seconds(dice.range(60, 20 * 60))
    } else {
        Duration::minutes(dice.range(2 * 60, 48 * 60))
    };
    Some(Plan {
        invoice,
        payer,
        provider: if online { "MIDTRANS" } else { "BANK_TRANSFER" },
        started,
        settled: cal.past(started + settling),
    })
}

/// Starts the payment and, when it settles, applies the settlement; the
/// invoice must then be paid.
async fn pay(store: &Store, cal: &Calendar, p: Plan) -> Result<Tally> {
    let amount = p.invoice.total_idr;
    let new = NewPayment {
        invoice_id: p.invoice.id,
        provider: p.provider.to_owned(),
        amount_idr: amount,
        payer_id: p.payer,
        idempotency_key: format!("year-{}", p.invoice.id),
        request_hash: request_hash(p.invoice.id, p.provider, amount),
    };
    let (payment, created) = store
        .start_payment(new, cal.date_of(p.started), p.started)
        .await
        .context("failed to start a payment")?;
    ensure!(created, "a new payment was taken for a repeat");
    let mut tally = Tally::default();
    tally.count("payments", 1);
    let Some(at) = p.settled else {
        return Ok(tally);
    };
    let change = Change {
        gateway: Some((amount, 0)),
        provider_ref: Some("year"),
        amount: None,
    };
    let applied = store
        .apply_payment_state(
            PaymentKey::Id(payment.id),
            PaymentState::Settled,
            change,
            None,
            at,
        )
        .await
        .context("failed to settle a payment")?;
    ensure!(
        matches!(
            applied,
            Applied::Moved {
                invoice_paid: true,
                ..
            }
        ),
        "a settled payment left its invoice unpaid: {applied:?}"
    );
    let digital = p.provider != "BANK_TRANSFER";
    tally.add(cal.month_of(at), "digitalPayments", i64::from(digital), 1);
    tally.count(
        if digital {
            "settled online"
        } else {
            "settled by bank transfer"
        },
        1,
    );
    Ok(tally)
}

//! Scenario 6: the payment provider reporting settlements. Invoices are
//! issued by the admin and payments started by parents through the API;
//! then each payment's signed notification is posted to
//! `/webhooks/midtrans`, once, and must be applied. The baseline verifies
//! the same SHA-512 signature and moves the payment and its invoice by
//! hand in one transaction, behind a bare axum route on the same store.
//! At the end every invoice's `paidIdr` must equal the payments applied
//! to it, and a notification delivered again must change nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, Result, ensure};
use futures_util::future::BoxFuture;
use scrm_domain::payments::signature_of;
use serde_json::{Value, json};

use super::{Bench, Side, comparison_note};
use crate::drive::{closed_loop, open_loop};
use crate::options::{Sizes, StoreKind};
use crate::report::{Figure, Report, Row};
use crate::stats::Latencies;

mod by_hand;
mod setup;

/// Every payment pays this much of an invoice of `PER_INVOICE` times it.
const AMOUNT: i64 = 100_000;
const PER_INVOICE: usize = 12;

/// A pending payment, as the provider knows it.
#[derive(Debug, Clone)]
pub struct Payment {
    pub invoice: String,
    pub order_id: String,
}

/// One side's payments and how many of them were used.
struct Notifier {
    http: reqwest::Client,
    url: String,
    key: String,
    payments: Arc<Vec<Payment>>,
    used: Arc<AtomicUsize>,
}

type Op = BoxFuture<'static, Result<()>>;

pub async fn run(bench: &Bench<'_>, report: &mut Report) -> Result<()> {
    let school = bench.school()?;
    let invoices = setup::issue(&bench.api, school).await?;
    let per_side = bench.sizes.payments.min(invoices.len() * PER_INVOICE / 2);
    let payments = setup::start_all(&bench.api, &invoices, 2 * per_side).await?;
    let (scrm_set, bare_set): (Vec<_>, Vec<_>) = payments
        .iter()
        .cloned()
        .enumerate()
        .partition(|(i, _)| i % 2 == 0);
    let key = bench.stack.server_key.clone();

    let store = bench.main.state.store.clone();
    let counter = || store.statements_run();
    let scrm = Notifier::new(
        bench,
        format!("{}/webhooks/midtrans", bench.api.base),
        scrm_set,
    );
    let (scrm_side, mut scrm_lat, rate) = deliver(&bench.sizes, &scrm, counter, None).await?;
    let bare_server = bench
        .stack
        .serve_router(by_hand::router(store.clone(), key))
        .await?;
    let bare = Notifier::new(bench, format!("http://{}/hook", bare_server.addr), bare_set);
    let (bare_side, mut bare_lat, _) = deliver(&bench.sizes, &bare, counter, Some(rate)).await?;
    bare_server.stop().await;

    scrm.again_changes_nothing(10).await?;
    let used = scrm.used_payments().chain(bare.used_payments());
    setup::check_paid(&bench.api, &school.admin.token, &invoices, used, AMOUNT).await?;

    let mut row = Row::new(
        "6",
        "signed payment notifications applied",
        Figure::per_second(scrm_side.throughput.per_second()),
        Figure::per_second(bare_side.throughput.per_second()),
        "≥ 0.3× (and ≥ 2000/s on PostgreSQL)".to_owned(),
    );
    let floor = if bench.opts.store == StoreKind::Postgres {
        2_000.0
    } else {
        0.0
    };
    row.met = row.ratio() >= 0.3 && scrm_side.throughput.per_second() >= floor;
    report.row(row);
    let note = comparison_note(
        rate,
        (&scrm_side, &mut scrm_lat),
        (&bare_side, &mut bare_lat),
    );
    report.note(
        "6",
        format!(
            "{} + {} payments, each applied once, paidIdr checked on every invoice; {note}",
            scrm.used.load(Ordering::SeqCst),
            bare.used.load(Ordering::SeqCst)
        ),
    );
    Ok(())
}

/// Delivers one side's notifications: a tenth as warm-up, seven tenths
/// as fast as they go, the rest at a constant rate (half of scrm's).
async fn deliver(
    sizes: &Sizes,
    side: &Notifier,
    statements: impl Fn() -> u64,
    rate: Option<f64>,
) -> Result<(Side, Latencies, f64)> {
    let n = side.payments.len() as u64;
    closed_loop(sizes.workers, sizes.phase, n / 10, side.op()).await?;
    let before = statements();
    let throughput = closed_loop(sizes.workers, sizes.phase, n * 7 / 10, side.op()).await?;
    let spent = statements().saturating_sub(before);
    let rate = rate.unwrap_or(throughput.per_second() / 2.0);
    let left = n.saturating_sub(side.used.load(Ordering::SeqCst) as u64);
    let wanted = (rate * sizes.latency_phase.as_secs_f64()) as u64;
    let op = side.op();
    let latencies = open_loop(rate, left.min(wanted), |i, _| op(i)).await?;
    let side = Side {
        statements: spent as f64 / throughput.ops.max(1) as f64,
        throughput,
    };
    Ok((side, latencies, rate))
}

impl Notifier {
    fn new(bench: &Bench<'_>, url: String, payments: Vec<(usize, Payment)>) -> Notifier {
        Notifier {
            http: bench.http.clone(),
            url,
            key: bench.stack.server_key.clone(),
            payments: Arc::new(payments.into_iter().map(|(_, p)| p).collect()),
            used: Arc::default(),
        }
    }

    /// Posts the next unused payment's settlement; it must be applied.
    fn op(&self) -> impl Fn(u64) -> Op + Clone + use<> {
        let (http, url, key) = (self.http.clone(), self.url.clone(), self.key.clone());
        let (payments, used) = (Arc::clone(&self.payments), Arc::clone(&self.used));
        move |_| {
            let (http, url, key) = (http.clone(), url.clone(), key.clone());
            let (payments, used) = (Arc::clone(&payments), Arc::clone(&used));
            Box::pin(async move {
                let k = used.fetch_add(1, Ordering::SeqCst);
                let payment = payments.get(k).context("no payments left")?;
                let outcome = post(&http, &url, &notification(payment, &key)).await?;
                ensure!(outcome == "APPLIED", "{} was {outcome}", payment.order_id);
                Ok(())
            })
        }
    }

    /// Posts the first `n` notifications again: each must be a duplicate.
    async fn again_changes_nothing(&self, n: usize) -> Result<()> {
        for payment in self.payments.iter().take(n) {
            let outcome = post(&self.http, &self.url, &notification(payment, &self.key)).await?;
            ensure!(
                outcome == "DUPLICATE",
                "a repeat of {} was {outcome}",
                payment.order_id
            );
        }
        Ok(())
    }

    fn used_payments(&self) -> impl Iterator<Item = &Payment> {
        let used = self.used.load(Ordering::SeqCst).min(self.payments.len());
        self.payments[..used].iter()
    }
}

/// A settlement notification, signed as the provider signs it.
fn notification(p: &Payment, key: &str) -> Value {
    let gross = format!("{AMOUNT}.00");
    json!({
        "order_id": p.order_id,
        "status_code": "200",
        "gross_amount": gross,
        "transaction_status": "settlement",
        "transaction_id": format!("tx-{}", p.order_id),
        "signature_key": signature_of(&p.order_id, "200", &gross, key),
    })
}

/// Posts a notification; gives the outcome the server reports.
async fn post(http: &reqwest::Client, url: &str, body: &Value) -> Result<String> {
    let response = http.post(url).json(body).send().await?;
    let status = response.status();
    let answer: Value = response.json().await.context("the answer is not JSON")?;
    ensure!(status == 200, "{status}: {answer}");
    Ok(answer["status"].as_str().unwrap_or_default().to_owned())
}

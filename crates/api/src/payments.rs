//! Payments: the providers behind one trait, the webhook's handling of
//! signed payment notifications, and what follows a state change.

use chrono::NaiveDate;
use scrm_domain::DomainResult;
pub use scrm_domain::payments::Outcome;
use scrm_domain::payments::{Notification, PaymentState, signature_matches, signature_of};
use scrm_persistence::payments::{Applied, Audit, Change, Payment, PaymentKey};
use serde_json::json;
use uuid::Uuid;

use crate::jobs::user_topic;
use crate::state::AppState;

/// How a payer completes a payment with one provider.
#[derive(Debug, Clone)]
pub struct Instructions {
    pub text: String,
    pub redirect_url: Option<String>,
}

pub trait PaymentProvider: Send + Sync {
    fn code(&self) -> &'static str;
    fn instructions(&self, payment: &Payment) -> Instructions;
}

/// The parent transfers to the school's account; finance confirms.
pub struct BankTransfer {
    pub account: String,
}

/// Settles, fails or expires when told to: for demos and tests.
pub struct Sandbox;

/// In the style of Midtrans: the provider reports through signed
/// notifications posted to `/webhooks/midtrans`.
pub struct Midtrans;

impl PaymentProvider for BankTransfer {
    fn code(&self) -> &'static str {
        "BANK_TRANSFER"
    }

    fn instructions(&self, p: &Payment) -> Instructions {
        Instructions {
            text: format!(
                "Transfer Rp {} ke {}. Tulis {} di berita transfer; bagian keuangan akan mengonfirmasi.",
                scrm_domain::payments::format_idr(p.amount_idr),
                self.account,
                p.order_id
            ),
            redirect_url: None,
        }
    }
}

impl PaymentProvider for Sandbox {
    fn code(&self) -> &'static str {
        "SANDBOX"
    }

    fn instructions(&self, p: &Payment) -> Instructions {
        Instructions {
            text: format!(
                "Sandbox: call sandboxPay for {} to settle, fail or expire it.",
                p.order_id
            ),
            redirect_url: None,
        }
    }
}

impl PaymentProvider for Midtrans {
    fn code(&self) -> &'static str {
        "MIDTRANS"
    }

    // TODO: request a Snap token from the provider's API for a real redirect.
    fn instructions(&self, p: &Payment) -> Instructions {
        Instructions {
            text: format!(
                "Pay Rp {} with order {} at the payment page.",
                scrm_domain::payments::format_idr(p.amount_idr),
                p.order_id
            ),
            redirect_url: None,
        }
    }
}

pub fn provider(state: &AppState, code: &str) -> Box<dyn PaymentProvider> {
    match code {
        "BANK_TRANSFER" => Box::new(BankTransfer {
            account: state.config.school_bank_account.clone(),
        }),
        "MIDTRANS" => Box::new(Midtrans),
        _ => Box::new(Sandbox),
    }
}

/// Verifies, matches and applies one notification, and records it.
pub async fn handle_notification(state: &AppState, body: &[u8]) -> DomainResult<Outcome> {
    let text = String::from_utf8_lossy(body);
    let parsed: Option<Notification> = serde_json::from_slice(body)
        .ok()
        .filter(|n: &Notification| n.check_shape().is_ok());
    let Some(n) = parsed else {
        let audit = Audit {
            provider: "MIDTRANS",
            fields: (None, None, None),
            body: &text,
        };
        return record(state, &audit, Outcome::Malformed, None).await;
    };
    let audit = Audit {
        provider: "MIDTRANS",
        fields: (
            Some(n.order_id.as_str()),
            Some(n.transaction_status.as_str()),
            Some(n.gross_amount.as_str()),
        ),
        body: &text,
    };
    let key = state
        .config
        .midtrans_server_key
        .as_deref()
        .unwrap_or_default();
    let expected = signature_of(&n.order_id, &n.status_code, &n.gross_amount, key);
    if key.is_empty() || !signature_matches(&expected, &n.signature_key) {
        tracing::warn!(order_id = %n.order_id, "payment notification with a wrong signature refused");
        return record(state, &audit, Outcome::BadSignature, None).await;
    }
    let (Some(next), Ok((gross, fee))) = (n.target_state(), n.amounts()) else {
        // Nothing to apply; say whether it was for one of our payments.
        let payment = state.store.payment_by_order(&n.order_id).await?;
        let outcome = match (&payment, n.target_state()) {
            (None, _) => Outcome::Unmatched,
            (Some(_), None) => Outcome::Ignored,
            (Some(_), Some(_)) => Outcome::AmountMismatch,
        };
        return record(state, &audit, outcome, payment.map(|p| p.id)).await;
    };
    let change = Change {
        gateway: Some((gross, fee)),
        provider_ref: n.transaction_id.as_deref(),
        amount: None,
    };
    let target = PaymentKey::Order {
        order_id: &n.order_id,
        net_idr: gross - fee,
    };
    apply(state, target, next, change, audit).await
}

async fn record(
    state: &AppState,
    audit: &Audit<'_>,
    outcome: Outcome,
    payment_id: Option<Uuid>,
) -> DomainResult<Outcome> {
    state
        .store
        .record_notification(audit, outcome.as_str(), payment_id, state.now())
        .await?;
    Ok(outcome)
}

/// Moves a payment (the audit record goes in the same transaction),
/// tells the family's apps when it moved, and otherwise says why not.
pub async fn apply(
    state: &AppState,
    key: PaymentKey<'_>,
    next: PaymentState,
    change: Change<'_>,
    audit: Audit<'_>,
) -> DomainResult<Outcome> {
    let applied = state
        .store
        .apply_payment_state(key, next, change, Some(audit), state.now())
        .await?;
    if let Applied::Moved {
        payment_id,
        invoice_id,
        student_id,
        invoice_paid,
        invoice_void,
        overpaid,
    } = applied
    {
        notify_family(state, invoice_id, student_id, invoice_paid).await;
        if invoice_void || overpaid {
            tracing::warn!(%payment_id, "money arrived for a void or covered invoice; see reconciliation");
        }
        return Ok(Outcome::of_move(invoice_void, overpaid));
    }
    let payment = match key {
        PaymentKey::Id(id) => state.store.payment(id).await?,
        PaymentKey::Order { order_id, .. } => state.store.payment_by_order(order_id).await?,
    };
    let outcome = match (&payment, key) {
        (None, _) => Outcome::Unmatched,
        (Some(p), PaymentKey::Order { net_idr, .. }) if p.amount_idr != net_idr => {
            Outcome::AmountMismatch
        }
        (Some(p), _) if p.state == next.as_str() => Outcome::Duplicate,
        _ => Outcome::NoChange,
    };
    record(state, &audit, outcome, payment.map(|p| p.id)).await
}

/// Pushes an invoice update to the student and their guardians.
async fn notify_family(state: &AppState, invoice_id: Uuid, student_id: Uuid, paid: bool) {
    let people = match state.store.family_accounts(student_id).await {
        Ok(people) => people,
        Err(err) => {
            tracing::warn!(error = ?err, %invoice_id, "the family of a paid invoice could not be told");
            return;
        }
    };
    let topics = people.into_iter().map(user_topic).collect();
    let event = json!({ "kind": "invoice", "invoiceId": invoice_id, "paid": paid });
    crate::conversations::publish(state, topics, event);
}

/// The request a payment key stands for.
pub fn request_hash(invoice_id: Uuid, provider: &str, amount: i64) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(
        format!("{invoice_id}|{provider}|{amount}").as_bytes(),
    ))
}

/// "INV/2026/12" for invoices issued in December 2026, school time.
pub fn number_prefix(today: NaiveDate) -> String {
    today.format("%Y/%m").to_string()
}

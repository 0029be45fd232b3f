//! Payments: the providers behind one trait, the webhook's handling of
//! signed payment notifications, and what follows a state change.

use chrono::NaiveDate;
use scrm_domain::payments::{Notification, PaymentState, signature_matches, signature_of};
use scrm_domain::{DomainError, DomainResult};
use scrm_persistence::payments::{Applied, Change, Payment};
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

/// What became of a notification, kept with it for audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Applied,
    /// Money arrived for an invoice that was void or already covered:
    /// applied, and listed for reconciliation (a refund is due).
    AppliedToVoid,
    Overpaid,
    Duplicate,
    /// Valid, but it would move the payment backwards (an expiry after
    /// a settlement): recorded and ignored.
    NoChange,
    Ignored,
    Unmatched,
    AmountMismatch,
    BadSignature,
    Malformed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Applied => "APPLIED",
            Outcome::AppliedToVoid => "APPLIED_TO_VOID",
            Outcome::Overpaid => "OVERPAID",
            Outcome::Duplicate => "DUPLICATE",
            Outcome::NoChange => "NO_CHANGE",
            Outcome::Ignored => "IGNORED",
            Outcome::Unmatched => "UNMATCHED",
            Outcome::AmountMismatch => "AMOUNT_MISMATCH",
            Outcome::BadSignature => "BAD_SIGNATURE",
            Outcome::Malformed => "MALFORMED",
        }
    }

    /// The HTTP status the provider gets: only a bad signature or a
    /// malformed body is refused; everything else is acknowledged so the
    /// provider stops retrying (it is in the reconciliation view).
    pub fn http_status(self) -> u16 {
        match self {
            Outcome::BadSignature => 403,
            Outcome::Malformed => 400,
            _ => 200,
        }
    }
}

/// Verifies, matches and applies one notification, and records it.
pub async fn handle_notification(state: &AppState, body: &[u8]) -> DomainResult<Outcome> {
    let now = state.now();
    let text = String::from_utf8_lossy(body);
    let parsed: Option<Notification> = serde_json::from_slice(body)
        .ok()
        .filter(|n: &Notification| n.check_shape().is_ok());
    let Some(n) = parsed else {
        state
            .store
            .record_notification(
                "MIDTRANS",
                (None, None, None),
                Outcome::Malformed.as_str(),
                None,
                &text,
                now,
            )
            .await?;
        return Ok(Outcome::Malformed);
    };
    let (outcome, payment_id) = judge(state, &n).await?;
    let fields = (
        Some(n.order_id.as_str()),
        Some(n.transaction_status.as_str()),
        Some(n.gross_amount.as_str()),
    );
    state
        .store
        .record_notification("MIDTRANS", fields, outcome.as_str(), payment_id, &text, now)
        .await?;
    if outcome == Outcome::BadSignature {
        tracing::warn!(order_id = %n.order_id, "payment notification with a wrong signature refused");
    }
    Ok(outcome)
}

async fn judge(state: &AppState, n: &Notification) -> DomainResult<(Outcome, Option<Uuid>)> {
    let key = state
        .config
        .midtrans_server_key
        .as_deref()
        .unwrap_or_default();
    let expected = signature_of(&n.order_id, &n.status_code, &n.gross_amount, key);
    if key.is_empty() || !signature_matches(&expected, &n.signature_key) {
        return Ok((Outcome::BadSignature, None));
    }
    let Some(payment) = state.store.payment_by_order(&n.order_id).await? else {
        return Ok((Outcome::Unmatched, None));
    };
    let Some(next) = n.target_state() else {
        return Ok((Outcome::Ignored, Some(payment.id)));
    };
    let Ok((gross, fee)) = n.amounts() else {
        return Ok((Outcome::AmountMismatch, Some(payment.id)));
    };
    if gross - fee != payment.amount_idr {
        return Ok((Outcome::AmountMismatch, Some(payment.id)));
    }
    let change = Change {
        gateway: Some((gross, fee)),
        provider_ref: n.transaction_id.as_deref(),
        amount: None,
    };
    let outcome = apply(state, &payment, next, change).await?;
    Ok((outcome, Some(payment.id)))
}

/// Moves a payment and tells the family's apps when it did.
pub async fn apply(
    state: &AppState,
    payment: &Payment,
    next: PaymentState,
    change: Change<'_>,
) -> DomainResult<Outcome> {
    let applied = state
        .store
        .apply_payment_state(payment.id, next, change, state.now())
        .await?;
    match applied {
        Applied::Moved {
            invoice_paid,
            invoice_void,
            overpaid,
        } => {
            notify_family(state, payment.invoice_id, invoice_paid).await;
            if invoice_void || overpaid {
                tracing::warn!(payment_id = %payment.id, "money arrived for a void or covered invoice; see reconciliation");
            }
            Ok(match (invoice_void, overpaid) {
                (true, _) => Outcome::AppliedToVoid,
                (_, true) => Outcome::Overpaid,
                _ => Outcome::Applied,
            })
        }
        Applied::Unchanged => {
            let now = state
                .store
                .payment(payment.id)
                .await?
                .ok_or(DomainError::NotFound("payment"))?;
            Ok(if now.state == next.as_str() {
                Outcome::Duplicate
            } else {
                Outcome::NoChange
            })
        }
    }
}

/// Pushes an invoice update to the student and their guardians.
async fn notify_family(state: &AppState, invoice_id: Uuid, paid: bool) {
    let Ok(Some(invoice)) = state.store.invoice(invoice_id).await else {
        return;
    };
    let mut people: Vec<Uuid> = match state.store.guardians_of(invoice.student_id).await {
        Ok(links) => links.into_iter().map(|g| g.guardian_id).collect(),
        Err(_) => vec![],
    };
    if let Ok(Some(student)) = state.store.student(invoice.student_id).await {
        people.extend(student.user_id);
    }
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

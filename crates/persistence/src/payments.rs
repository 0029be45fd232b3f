//! Payments and the notifications that move them. Every state change
//! goes through [`Store::apply_payment_state`]: a conditional update that
//! only moves a payment forward, with the invoice's paid amount changed
//! in the same transaction, so a notification delivered many times, at
//! once or out of order, has its effect once.

use chrono::{DateTime, NaiveDate, Utc};
use scrm_domain::payments::{InvoiceState, Outcome, PaymentState, check_payment_amount};
use scrm_domain::{DomainError, DomainResult};
use sea_orm::{ConnectionTrait, FromQueryResult, SqlErr, TransactionTrait};
use uuid::Uuid;

use crate::Store;
use crate::error::db_err;
use crate::invoices::{
    INVOICE_COLUMNS, Invoice, insert_line, lines_in, next_number, recompute_totals,
};
use crate::sql::{all, count, exec, one};

#[derive(Debug, Clone, FromQueryResult)]
pub struct Payment {
    pub id: Uuid,
    pub invoice_id: Uuid,
    /// The reference the provider knows the payment by.
    pub order_id: String,
    pub provider: String,
    pub amount_idr: i64,
    /// What the provider reported, fee included, and the fee.
    pub gateway_amount_idr: Option<i64>,
    pub fee_idr: Option<i64>,
    pub state: String,
    pub payer_id: Uuid,
    pub idempotency_key: String,
    pub request_hash: String,
    pub provider_ref: Option<String>,
    pub created_at: DateTime<Utc>,
    pub settled_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, invoice_id, order_id, provider, amount_idr, gateway_amount_idr, fee_idr, \
     state, payer_id, idempotency_key, request_hash, provider_ref, created_at, settled_at";

pub struct NewPayment {
    pub invoice_id: Uuid,
    pub provider: String,
    pub amount_idr: i64,
    pub payer_id: Uuid,
    pub idempotency_key: String,
    /// Identifies the request: the same key with another hash conflicts.
    pub request_hash: String,
}

/// What a notification or command changes on a payment besides its state.
#[derive(Debug, Clone, Copy, Default)]
pub struct Change<'a> {
    /// What the provider reported, fee included, and the fee.
    pub gateway: Option<(i64, i64)>,
    pub provider_ref: Option<&'a str>,
    /// A lower amount than asked, when finance confirms what arrived; the
    /// change applies only while the payment still asks for at least it.
    pub amount: Option<i64>,
}

/// Which payment a state change is for.
#[derive(Debug, Clone, Copy)]
pub enum PaymentKey<'a> {
    Id(Uuid),
    /// A provider's notification: the payment with this order id, when
    /// it asks for exactly `net_idr` (what arrived less the fee).
    Order {
        order_id: &'a str,
        net_idr: i64,
    },
}

/// A notification or command to keep with what became of it; written
/// in the transaction that moves the payment, so the record and the
/// effect stand or fall together.
#[derive(Debug, Clone, Copy)]
pub struct Audit<'a> {
    pub provider: &'a str,
    /// Order id, transaction status and gross amount as received.
    pub fields: (Option<&'a str>, Option<&'a str>, Option<&'a str>),
    pub body: &'a str,
}

/// What a state change did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// The payment moved. `invoice_paid` when this settled the invoice;
    /// `invoice_void` and `overpaid` when money arrived for an invoice
    /// that was void or already covered (both go to reconciliation).
    Moved {
        payment_id: Uuid,
        invoice_id: Uuid,
        student_id: Uuid,
        invoice_paid: bool,
        invoice_void: bool,
        overpaid: bool,
    },
    /// No payment matched, or it was already there or further along:
    /// nothing changed.
    Unchanged,
}

impl Applied {
    pub fn outcome(&self) -> Option<Outcome> {
        match *self {
            Applied::Moved {
                invoice_void,
                overpaid,
                ..
            } => Some(Outcome::of_move(invoice_void, overpaid)),
            Applied::Unchanged => None,
        }
    }
}

/// The payment row a state change moved.
#[derive(FromQueryResult)]
struct MovedPayment {
    id: Uuid,
    invoice_id: Uuid,
    amount_idr: i64,
    early: bool,
}

#[derive(Debug, Clone, FromQueryResult)]
pub struct NotificationRecord {
    pub id: Uuid,
    pub received_at: DateTime<Utc>,
    pub provider: String,
    pub order_id: Option<String>,
    pub transaction_status: Option<String>,
    pub gross_amount: Option<String>,
    pub outcome: String,
    pub payment_id: Option<Uuid>,
}

impl Store {
    /// Starts a payment once per (payer, idempotency key). The same key
    /// with the same request gives the same payment; with another
    /// request it is a conflict. Payments under way count against what
    /// is due, so two cannot together pay more than the invoice.
    pub async fn start_payment(
        &self,
        new: NewPayment,
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> DomainResult<(Payment, bool)> {
        if let Some(existing) = self
            .payment_by_key(new.payer_id, &new.idempotency_key)
            .await?
        {
            return same_request(existing, &new).map(|p| (p, false));
        }
        let tx = self.db.begin().await.map_err(db_err)?;
        // Writing first makes the transaction hold the invoice's row (and
        // on SQLite the write lock) before it reads what is due.
        let touched = exec(
            &tx,
            "UPDATE invoices SET paid_idr = paid_idr WHERE id = $1",
            vec![new.invoice_id.into()],
        )
        .await
        .map_err(db_err)?;
        if touched == 0 {
            return Err(DomainError::NotFound("invoice"));
        }
        let invoice = invoice_in(&tx, new.invoice_id).await?;
        // The early price is for paying the rest in full by the date; the
        // discount itself is granted when such a payment settles.
        let early = early_discount_applies(&invoice, today)
            && new.amount_idr == invoice.total_idr - invoice.early_discount_idr;
        match InvoiceState::parse(&invoice.state) {
            InvoiceState::Paid => {
                return Err(DomainError::conflict(
                    Some("invoiceId"),
                    "this invoice is already paid",
                ));
            }
            InvoiceState::Void => {
                return Err(DomainError::conflict(
                    Some("invoiceId"),
                    "this invoice was voided",
                ));
            }
            _ => {}
        }
        let pending = count(
            &tx,
            "SELECT CAST(COALESCE(SUM(amount_idr), 0) AS BIGINT) AS n FROM payments \
             WHERE invoice_id = $1 AND state = 'PENDING'",
            vec![new.invoice_id.into()],
        )
        .await?;
        let due = invoice.total_idr - invoice.paid_idr;
        check_payment_amount(new.amount_idr, due)?;
        if new.amount_idr > due - pending {
            return Err(DomainError::conflict(
                Some("invoiceId"),
                "a payment for this invoice is already under way",
            ));
        }
        let id = Uuid::now_v7();
        let inserted = exec(
            &tx,
            "INSERT INTO payments (id, invoice_id, order_id, provider, amount_idr, state, payer_id, \
             idempotency_key, request_hash, created_at, early) \
             VALUES ($1, $2, $3, $4, $5, 'PENDING', $6, $7, $8, $9, $10)",
            vec![
                id.into(),
                new.invoice_id.into(),
                format!("SCRM-{}", id.simple()).into(),
                new.provider.clone().into(),
                new.amount_idr.into(),
                new.payer_id.into(),
                new.idempotency_key.clone().into(),
                new.request_hash.clone().into(),
                now.into(),
                early.into(),
            ],
        )
        .await;
        match inserted {
            Ok(_) => {}
            Err(err) if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                drop(tx);
                let existing = self
                    .payment_by_key(new.payer_id, &new.idempotency_key)
                    .await?;
                return same_request(existing.ok_or_else(|| db_err(err))?, &new)
                    .map(|p| (p, false));
            }
            Err(err) => return Err(db_err(err)),
        }
        tx.commit().await.map_err(db_err)?;
        Ok((
            self.payment(id)
                .await?
                .ok_or(DomainError::NotFound("payment"))?,
            true,
        ))
    }

    pub async fn payment_by_key(&self, payer: Uuid, key: &str) -> DomainResult<Option<Payment>> {
        let sql =
            format!("SELECT {COLUMNS} FROM payments WHERE payer_id = $1 AND idempotency_key = $2");
        one(&self.db, &sql, vec![payer.into(), key.into()]).await
    }

    pub async fn payment(&self, id: Uuid) -> DomainResult<Option<Payment>> {
        let sql = format!("SELECT {COLUMNS} FROM payments WHERE id = $1");
        one(&self.db, &sql, vec![id.into()]).await
    }

    pub async fn payment_by_order(&self, order_id: &str) -> DomainResult<Option<Payment>> {
        let sql = format!("SELECT {COLUMNS} FROM payments WHERE order_id = $1");
        one(&self.db, &sql, vec![order_id.into()]).await
    }

    pub async fn payments_of(&self, invoice_id: Uuid) -> DomainResult<Vec<Payment>> {
        let sql =
            format!("SELECT {COLUMNS} FROM payments WHERE invoice_id = $1 ORDER BY created_at, id");
        all(&self.db, &sql, vec![invoice_id.into()]).await
    }

    /// Settled payments in `[from, to)`, for the daily report.
    pub async fn settled_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> DomainResult<Vec<Payment>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM payments WHERE state = 'SETTLED' AND settled_at >= $1 AND settled_at < $2 \
             ORDER BY settled_at, id"
        );
        all(&self.db, &sql, vec![from.into(), to.into()]).await
    }

    /// Moves a payment to `next` if that is forward; settling adds the
    /// payment to its invoice, marks it paid when covered and gives it a
    /// receipt number, all in one transaction, with `audit` written in it
    /// when the payment moved.
    pub async fn apply_payment_state(
        &self,
        key: PaymentKey<'_>,
        next: PaymentState,
        change: Change<'_>,
        audit: Option<Audit<'_>>,
        now: DateTime<Utc>,
    ) -> DomainResult<Applied> {
        if PaymentState::predecessors(next).is_empty() {
            return Ok(Applied::Unchanged);
        }
        let tx = self.db.begin().await.map_err(db_err)?;
        let Some(payment) = move_payment(&tx, key, next, change, now).await? else {
            return Ok(Applied::Unchanged);
        };
        let applied = if next == PaymentState::Settled {
            settle_invoice(&tx, &payment, audit, now).await?
        } else {
            let student_id = student_of(&tx, payment.invoice_id).await?;
            let applied = Applied::Moved {
                payment_id: payment.id,
                invoice_id: payment.invoice_id,
                student_id,
                invoice_paid: false,
                invoice_void: false,
                overpaid: false,
            };
            keep_audit(&tx, audit, &applied, now).await?;
            applied
        };
        tx.commit().await.map_err(db_err)?;
        Ok(applied)
    }

    /// Keeps a notification with what became of it, when it moved no
    /// payment (those are kept by [`Store::apply_payment_state`]).
    pub async fn record_notification(
        &self,
        audit: &Audit<'_>,
        outcome: &str,
        payment_id: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> DomainResult<()> {
        insert_notification(&self.db, audit, outcome, payment_id, now).await
    }

    /// Notifications, newest first; `problems_only` keeps those that
    /// matched nothing or were refused.
    pub async fn notifications(
        &self,
        problems_only: bool,
        limit: u64,
    ) -> DomainResult<Vec<NotificationRecord>> {
        let filter = if problems_only {
            "WHERE outcome NOT IN ('APPLIED', 'DUPLICATE', 'NO_CHANGE')"
        } else {
            ""
        };
        let sql = format!(
            "SELECT id, received_at, provider, order_id, transaction_status, gross_amount, outcome, payment_id \
             FROM payment_notifications {filter} ORDER BY received_at DESC, id DESC LIMIT $1"
        );
        all(&self.db, &sql, vec![(limit as i64).into()]).await
    }
}

/// Moves the payment `key` names forward to `next`, if it may go there.
async fn move_payment(
    tx: &sea_orm::DatabaseTransaction,
    key: PaymentKey<'_>,
    next: PaymentState,
    change: Change<'_>,
    now: DateTime<Utc>,
) -> DomainResult<Option<MovedPayment>> {
    let from: Vec<String> = PaymentState::predecessors(next)
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect();
    let (which, key_values): (&str, Vec<sea_orm::Value>) = match key {
        PaymentKey::Id(id) => ("id = $8", vec![id.into()]),
        PaymentKey::Order { order_id, net_idr } => (
            "order_id = $8 AND amount_idr = $9",
            vec![order_id.into(), net_idr.into()],
        ),
    };
    let Change {
        gateway,
        provider_ref,
        amount,
    } = change;
    let mut values: Vec<sea_orm::Value> = vec![
        next.as_str().into(),
        (next == PaymentState::Settled).into(),
        now.into(),
        gateway.map(|g| g.0).into(),
        gateway.map(|g| g.1).into(),
        provider_ref.into(),
        amount.into(),
    ];
    values.extend(key_values);
    let sql = format!(
        "UPDATE payments SET state = $1, settled_at = CASE WHEN $2 THEN $3 ELSE settled_at END, \
         gateway_amount_idr = COALESCE($4, gateway_amount_idr), fee_idr = COALESCE($5, fee_idr), \
         provider_ref = COALESCE($6, provider_ref), amount_idr = COALESCE($7, amount_idr) \
         WHERE {which} AND state IN ({}) AND ($7 IS NULL OR amount_idr >= $7) \
         RETURNING id, invoice_id, amount_idr, early",
        from.join(", ")
    );
    one(tx, &sql, values).await
}

/// Adds a settled payment to its invoice: one update that gives back
/// the invoice, and one more when its state changes.
///
/// The receipt counter is one row every settling transaction takes, held
/// until commit; so it is taken last, after the audit row.
async fn settle_invoice(
    tx: &sea_orm::DatabaseTransaction,
    payment: &MovedPayment,
    audit: Option<Audit<'_>>,
    now: DateTime<Utc>,
) -> DomainResult<Applied> {
    let mut invoice: Invoice = one(
        tx,
        &format!(
            "UPDATE invoices SET paid_idr = paid_idr + $2 WHERE id = $1 RETURNING {}",
            INVOICE_COLUMNS.replace("i.", "")
        ),
        vec![payment.invoice_id.into(), payment.amount_idr.into()],
    )
    .await?
    .ok_or(DomainError::NotFound("invoice"))?;
    let moved = |invoice: &Invoice, invoice_paid, invoice_void, overpaid| Applied::Moved {
        payment_id: payment.id,
        invoice_id: invoice.id,
        student_id: invoice.student_id,
        invoice_paid,
        invoice_void,
        overpaid,
    };
    let was_paid = invoice.state == InvoiceState::Paid.as_str();
    if invoice.state == InvoiceState::Void.as_str() {
        let applied = moved(&invoice, false, true, false);
        keep_audit(tx, audit, &applied, now).await?;
        return Ok(applied);
    }
    if payment.early
        && invoice.paid_idr == payment.amount_idr
        && grant_early_discount(tx, &invoice).await?
    {
        invoice = invoice_in(tx, invoice.id).await?;
    }
    let overpaid = invoice.paid_idr > invoice.total_idr;
    let state = InvoiceState::from_amounts(invoice.paid_idr, invoice.total_idr);
    let paid = state == InvoiceState::Paid;
    let applied = moved(&invoice, paid && !was_paid, false, overpaid);
    keep_audit(tx, audit, &applied, now).await?;
    // TODO: a lock-free receipt number on PostgreSQL; this counter row
    // makes settlements that complete an invoice commit one at a time.
    let receipt = if paid && invoice.receipt_number.is_none() {
        let prefix = now.format("%Y").to_string();
        Some(format!(
            "KW/{prefix}/{:05}",
            next_number(tx, &format!("receipt:{prefix}")).await?
        ))
    } else {
        None
    };
    if state.as_str() != invoice.state || receipt.is_some() {
        exec(
            tx,
            "UPDATE invoices SET state = $2, paid_at = CASE WHEN $3 THEN COALESCE(paid_at, $4) ELSE paid_at END, \
             receipt_number = COALESCE(receipt_number, $5) WHERE id = $1",
            vec![invoice.id.into(), state.as_str().into(), paid.into(), now.into(), receipt.into()],
        )
        .await
        .map_err(db_err)?;
    }
    Ok(applied)
}

/// Writes the audit row of a payment that moved.
async fn keep_audit(
    tx: &sea_orm::DatabaseTransaction,
    audit: Option<Audit<'_>>,
    applied: &Applied,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    match (audit, applied) {
        (Some(audit), Applied::Moved { payment_id, .. }) => {
            let outcome = applied.outcome().unwrap_or(Outcome::Applied);
            insert_notification(tx, &audit, outcome.as_str(), Some(*payment_id), now).await
        }
        _ => Ok(()),
    }
}

async fn student_of(tx: &sea_orm::DatabaseTransaction, invoice_id: Uuid) -> DomainResult<Uuid> {
    #[derive(FromQueryResult)]
    struct Row {
        student_id: Uuid,
    }
    one::<Row, _>(
        tx,
        "SELECT student_id FROM invoices WHERE id = $1",
        vec![invoice_id.into()],
    )
    .await?
    .map(|row| row.student_id)
    .ok_or(DomainError::NotFound("invoice"))
}

async fn insert_notification<C: ConnectionTrait>(
    db: &C,
    audit: &Audit<'_>,
    outcome: &str,
    payment_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let (order_id, status, gross) = audit.fields;
    // Whatever arrived is kept, but PostgreSQL text holds no NUL: it is
    // kept as U+FFFD, so even a hostile body leaves its record.
    let keep = |s: &str, max: usize| -> String {
        s.chars()
            .take(max)
            .map(|c| if c == '\0' { '\u{FFFD}' } else { c })
            .collect()
    };
    let clip = |s: Option<&str>| s.map(|s| keep(s, 128));
    exec(
        db,
        "INSERT INTO payment_notifications (id, received_at, provider, order_id, transaction_status, \
         gross_amount, outcome, payment_id, body) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        vec![
            Uuid::now_v7().into(),
            now.into(),
            audit.provider.into(),
            clip(order_id).into(),
            clip(status).into(),
            clip(gross).into(),
            outcome.into(),
            payment_id.into(),
            keep(audit.body, 8_192).into(),
        ],
    )
    .await
    .map_err(db_err)?;
    Ok(())
}

async fn invoice_in(tx: &sea_orm::DatabaseTransaction, id: Uuid) -> DomainResult<Invoice> {
    one(
        tx,
        &format!("SELECT {INVOICE_COLUMNS} FROM invoices i WHERE i.id = $1"),
        vec![id.into()],
    )
    .await?
    .ok_or(DomainError::NotFound("invoice"))
}

/// An invoice paid in full by its early-payment date earns its discount.
fn early_discount_applies(invoice: &Invoice, today: NaiveDate) -> bool {
    invoice.early_discount_idr > 0
        && invoice.paid_idr == 0
        && invoice.state == InvoiceState::Open.as_str()
        && invoice.early_until.is_some_and(|until| today <= until)
}

/// Adds the early-payment discount line once; false if it was there.
async fn grant_early_discount(
    tx: &sea_orm::DatabaseTransaction,
    invoice: &Invoice,
) -> DomainResult<bool> {
    let lines = lines_in(tx, invoice.id).await?;
    if lines.iter().any(|l| l.kind == "EARLY_PAYMENT") {
        return Ok(false);
    }
    let position = lines.iter().map(|l| l.position).max().unwrap_or(0) + 1;
    let until = invoice
        .early_until
        .map(|d| d.format("%d/%m/%Y").to_string())
        .unwrap_or_default();
    let text = format!("Potongan bayar sebelum {until}");
    insert_line(
        tx,
        invoice.id,
        position,
        "EARLY_PAYMENT",
        &text,
        -invoice.early_discount_idr,
    )
    .await?;
    recompute_totals(tx, invoice.id).await?;
    Ok(true)
}

fn same_request(existing: Payment, new: &NewPayment) -> DomainResult<Payment> {
    if existing.request_hash == new.request_hash {
        Ok(existing)
    } else {
        Err(DomainError::conflict(
            Some("idempotencyKey"),
            "this idempotency key was used for a different payment",
        ))
    }
}

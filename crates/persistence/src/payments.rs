//! Payments and the notifications that move them. Every state change
//! goes through [`Store::apply_payment_state`]: a conditional update that
//! only moves a payment forward, with the invoice's paid amount changed
//! in the same transaction, so a notification delivered many times, at
//! once or out of order, has its effect once.

use chrono::{DateTime, NaiveDate, Utc};
use scrm_domain::payments::{InvoiceState, PaymentState, check_payment_amount};
use scrm_domain::{DomainError, DomainResult};
use sea_orm::{FromQueryResult, SqlErr, TransactionTrait};
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

/// What a state change did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// The payment moved. `invoice_paid` when this settled the invoice;
    /// `invoice_void` and `overpaid` when money arrived for an invoice
    /// that was void or already covered (both go to reconciliation).
    Moved {
        invoice_paid: bool,
        invoice_void: bool,
        overpaid: bool,
    },
    /// The payment was already there or further along: nothing changed.
    Unchanged,
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
    /// receipt number, all in one transaction.
    pub async fn apply_payment_state(
        &self,
        payment_id: Uuid,
        next: PaymentState,
        change: Change<'_>,
        now: DateTime<Utc>,
    ) -> DomainResult<Applied> {
        let Change {
            gateway,
            provider_ref,
            amount,
        } = change;
        let from: Vec<String> = PaymentState::predecessors(next)
            .iter()
            .map(|s| format!("'{}'", s.as_str()))
            .collect();
        if from.is_empty() {
            return Ok(Applied::Unchanged);
        }
        let settled = next == PaymentState::Settled;
        let tx = self.db.begin().await.map_err(db_err)?;
        let moved = exec(
            &tx,
            &format!(
                "UPDATE payments SET state = $2, settled_at = CASE WHEN $3 THEN $4 ELSE settled_at END, \
                 gateway_amount_idr = COALESCE($5, gateway_amount_idr), fee_idr = COALESCE($6, fee_idr), \
                 provider_ref = COALESCE($7, provider_ref), amount_idr = COALESCE($8, amount_idr) \
                 WHERE id = $1 AND state IN ({}) AND ($8 IS NULL OR amount_idr >= $8)",
                from.join(", ")
            ),
            vec![
                payment_id.into(),
                next.as_str().into(),
                settled.into(),
                now.into(),
                gateway.map(|g| g.0).into(),
                gateway.map(|g| g.1).into(),
                provider_ref.into(),
                amount.into(),
            ],
        )
        .await
        .map_err(db_err)?;
        if moved == 0 {
            return Ok(Applied::Unchanged);
        }
        let outcome = if settled {
            settle_invoice(&tx, payment_id, now).await?
        } else {
            Applied::Moved {
                invoice_paid: false,
                invoice_void: false,
                overpaid: false,
            }
        };
        tx.commit().await.map_err(db_err)?;
        Ok(outcome)
    }

    /// Keeps every notification received, with what became of it.
    pub async fn record_notification(
        &self,
        provider: &str,
        fields: (Option<&str>, Option<&str>, Option<&str>),
        outcome: &str,
        payment_id: Option<Uuid>,
        body: &str,
        now: DateTime<Utc>,
    ) -> DomainResult<()> {
        let (order_id, status, gross) = fields;
        let clip = |s: Option<&str>| s.map(|s| s.chars().take(128).collect::<String>());
        exec(
            &self.db,
            "INSERT INTO payment_notifications (id, received_at, provider, order_id, transaction_status, \
             gross_amount, outcome, payment_id, body) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            vec![
                Uuid::now_v7().into(),
                now.into(),
                provider.into(),
                clip(order_id).into(),
                clip(status).into(),
                clip(gross).into(),
                outcome.into(),
                payment_id.into(),
                body.chars().take(8_192).collect::<String>().into(),
            ],
        )
        .await
        .map_err(db_err)?;
        Ok(())
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

/// Adds a settled payment to its invoice.
async fn settle_invoice(
    tx: &sea_orm::DatabaseTransaction,
    payment_id: Uuid,
    now: DateTime<Utc>,
) -> DomainResult<Applied> {
    #[derive(FromQueryResult)]
    struct Row {
        invoice_id: Uuid,
        amount_idr: i64,
        early: bool,
    }
    let payment: Row = one(
        tx,
        "SELECT invoice_id, amount_idr, early FROM payments WHERE id = $1",
        vec![payment_id.into()],
    )
    .await?
    .ok_or(DomainError::NotFound("payment"))?;
    let before = invoice_in(tx, payment.invoice_id).await?;
    if payment.early && before.paid_idr == 0 {
        grant_early_discount(tx, &before).await?;
    }
    exec(
        tx,
        "UPDATE invoices SET paid_idr = paid_idr + $2 WHERE id = $1",
        vec![payment.invoice_id.into(), payment.amount_idr.into()],
    )
    .await
    .map_err(db_err)?;
    let invoice = invoice_in(tx, payment.invoice_id).await?;
    if invoice.state == InvoiceState::Void.as_str() {
        return Ok(Applied::Moved {
            invoice_paid: false,
            invoice_void: true,
            overpaid: false,
        });
    }
    let overpaid = invoice.paid_idr > invoice.total_idr;
    let state = InvoiceState::from_amounts(invoice.paid_idr, invoice.total_idr);
    let paid = state == InvoiceState::Paid;
    let receipt = if paid && invoice.receipt_number.is_none() {
        let prefix = now.format("%Y").to_string();
        Some(format!(
            "KW/{prefix}/{:05}",
            next_number(tx, &format!("receipt:{prefix}")).await?
        ))
    } else {
        None
    };
    exec(
        tx,
        "UPDATE invoices SET state = $2, paid_at = CASE WHEN $3 THEN COALESCE(paid_at, $4) ELSE paid_at END, \
         receipt_number = COALESCE(receipt_number, $5) WHERE id = $1",
        vec![invoice.id.into(), state.as_str().into(), paid.into(), now.into(), receipt.into()],
    )
    .await
    .map_err(db_err)?;
    Ok(Applied::Moved {
        invoice_paid: paid && before.state != InvoiceState::Paid.as_str(),
        invoice_void: false,
        overpaid,
    })
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

//! Billing over GraphQL: issuing invoices, coupons, paying, the
//! providers' commands, finance reports, and live invoice updates.

use std::collections::BTreeMap;

use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{Context, Enum, InputObject, Object, SimpleObject, Subscription};
use chrono::NaiveDate;
use futures_util::Stream;
use scrm_domain::DomainError;
use scrm_domain::payments::{
    self, Discount, DiscountKind, Line, PaymentState, check_lines, check_percent, percent_of,
};
use scrm_domain::policy::{Action, authorize};
use scrm_persistence::invoices::{BillingTarget, Invoice, InvoiceFilter, NewCoupon, NewInvoice};
use scrm_persistence::payments::{Audit, Change, NewPayment, Payment, PaymentKey};
use uuid::Uuid;

use super::directory::ClassNode;
use super::errors::{Found, to_gql};
use super::invoices::{InvoiceNode, InvoiceStatus, PaymentNode};
use super::pagination::{decode_cursor, encode_cursor, page_size};
use super::scalars::Date;
use super::{ContextExt, Gql, Viewer};
use crate::live::{id_in, user_events};
use crate::payments::{Outcome, apply, number_prefix, request_hash};
use crate::state::AppState;

/// The students whose invoices the viewer may see: `None` for finance
/// (everyone's).
async fn visible_students(
    state: &AppState,
    viewer: &Viewer,
) -> async_graphql::Result<Option<Vec<Uuid>>> {
    if authorize(&viewer.actor, &Action::ManageInvoices).is_ok() {
        return Ok(None);
    }
    let mut ids: Vec<Uuid> = state
        .store
        .children_of(viewer.id())
        .await
        .gql()?
        .into_iter()
        .filter(|(link, _)| link.can_see_records)
        .map(|(_, s)| s.id)
        .collect();
    if let Some(own) = state.store.student_of_user(viewer.id()).await.gql()? {
        ids.push(own.id);
    }
    Ok(Some(ids))
}

/// The invoice, if the viewer may see it; otherwise not found, so that
/// nobody learns of another family's invoices.
async fn visible_invoice(
    state: &AppState,
    viewer: &Viewer,
    id: Uuid,
) -> async_graphql::Result<Invoice> {
    let invoice = state.store.invoice(id).await.gql()?;
    let visible = visible_students(state, viewer).await?;
    match invoice {
        Some(inv)
            if visible
                .as_ref()
                .is_none_or(|ids| ids.contains(&inv.student_id)) =>
        {
            Ok(inv)
        }
        _ => Err(to_gql(DomainError::NotFound("invoice"))),
    }
}

/// True when the viewer is a guardian of the invoice's student with the
/// right to see their records.
async fn may_pay(
    state: &AppState,
    viewer: &Viewer,
    invoice: &Invoice,
) -> async_graphql::Result<bool> {
    let links = state.store.guardians_of(invoice.student_id).await.gql()?;
    Ok(links
        .iter()
        .any(|g| g.guardian_id == viewer.id() && g.can_see_records))
}

fn require_finance(viewer: &Viewer) -> async_graphql::Result<()> {
    authorize(&viewer.actor, &Action::ManageInvoices).gql()
}

#[derive(InputObject)]
pub struct BillingTargetInput {
    #[graphql(default)]
    pub everyone: bool,
    #[graphql(default)]
    pub grades: Vec<i32>,
    #[graphql(default)]
    pub class_ids: Vec<Uuid>,
    #[graphql(default)]
    pub student_ids: Vec<Uuid>,
}

#[derive(InputObject)]
pub struct LineInput {
    pub description: String,
    pub amount_idr: i64,
}

#[derive(InputObject)]
pub struct EarlyPaymentInput {
    /// Paid in full by this date (school time)…
    pub until: Date,
    /// …takes this percentage off the items.
    pub percent: i32,
}

#[derive(InputObject)]
pub struct IssueInvoicesInput {
    pub target: BillingTargetInput,
    pub title: String,
    pub due_date: Date,
    pub lines: Vec<LineInput>,
    /// Off the items for each child after the eldest of a family.
    pub sibling_discount_percent: Option<i32>,
    pub early_payment: Option<EarlyPaymentInput>,
    /// Issuing again with the same key (default: the title) gives each
    /// student the invoice issued the first time.
    pub issue_key: Option<String>,
}

#[derive(InputObject)]
pub struct CreateCouponInput {
    pub code: String,
    pub description: String,
    /// Either a percentage off the items…
    pub percent: Option<i32>,
    /// …or an amount off.
    pub amount_idr: Option<i64>,
    /// School dates, both included.
    pub valid_from: Date,
    pub valid_until: Date,
    pub max_uses: i32,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "PaymentProvider")]
pub enum PaymentProviderName {
    BankTransfer,
    Sandbox,
    Midtrans,
}

impl PaymentProviderName {
    fn code(self) -> &'static str {
        match self {
            PaymentProviderName::BankTransfer => "BANK_TRANSFER",
            PaymentProviderName::Sandbox => "SANDBOX",
            PaymentProviderName::Midtrans => "MIDTRANS",
        }
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum SandboxOutcome {
    Settle,
    Fail,
    Expire,
}

#[derive(SimpleObject)]
pub struct ClassOutstandingNode {
    pub class: Option<ClassNode>,
    pub invoices: i64,
    pub outstanding_idr: i64,
}

#[derive(SimpleObject)]
pub struct DailyPayments {
    /// The school's calendar day.
    pub date: Date,
    pub provider: String,
    pub count: i64,
    pub total_idr: i64,
}

#[derive(SimpleObject)]
pub struct PaymentNotificationNode {
    pub id: Uuid,
    pub received_at: chrono::DateTime<chrono::Utc>,
    pub order_id: Option<String>,
    pub transaction_status: Option<String>,
    pub gross_amount: Option<String>,
    /// APPLIED, APPLIED_TO_VOID, OVERPAID, DUPLICATE, NO_CHANGE, IGNORED,
    /// UNMATCHED, AMOUNT_MISMATCH, BAD_SIGNATURE or MALFORMED.
    pub outcome: String,
    pub payment_id: Option<Uuid>,
}

pub type InvoiceConnection = Connection<String, InvoiceNode, EmptyFields, EmptyFields>;

#[derive(Default)]
pub struct PaymentQuery;

#[Object]
impl PaymentQuery {
    /// Invoices the viewer may see, newest first: their children's (with
    /// the right to see records), their own as a student, or, for
    /// finance, everyone's.
    async fn invoices(
        &self,
        ctx: &Context<'_>,
        student_id: Option<Uuid>,
        status: Option<InvoiceStatus>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<InvoiceConnection> {
        let viewer = ctx.viewer()?;
        let state = ctx.state();
        let limit = page_size(first, state.config.limits.max_page_size)?;
        let cursor = after.as_deref().map(decode_cursor).transpose()?;
        let mut students = visible_students(state, viewer).await?;
        if let Some(id) = student_id {
            students = Some(match students {
                Some(ids) => ids.into_iter().filter(|s| *s == id).collect(),
                None => vec![id],
            });
        }
        let today = state.clock.date_of(state.now());
        let filter = InvoiceFilter {
            student_ids: students,
            state: status.and_then(stored_state),
            due_before: (status == Some(InvoiceStatus::Overdue)).then_some(today),
            due_from: matches!(
                status,
                Some(InvoiceStatus::Open | InvoiceStatus::PartiallyPaid)
            )
            .then_some(today),
        };
        let mut rows = state
            .store
            .invoices_page(&filter, cursor, limit + 1)
            .await
            .gql()?;
        let more = rows.len() as u64 > limit;
        rows.truncate(limit as usize);
        let mut connection = Connection::new(cursor.is_some(), more);
        connection.edges.extend(
            rows.into_iter()
                .map(|i| Edge::new(encode_cursor(i.created_at, i.id), InvoiceNode(i))),
        );
        Ok(connection)
    }

    async fn invoice(&self, ctx: &Context<'_>, id: Uuid) -> async_graphql::Result<InvoiceNode> {
        let viewer = ctx.viewer()?;
        Ok(InvoiceNode(visible_invoice(ctx.state(), viewer, id).await?))
    }

    /// Finance: what is still owed, per class.
    async fn outstanding_by_class(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<ClassOutstandingNode>> {
        require_finance(ctx.viewer()?)?;
        let store = &ctx.state().store;
        let rows = store.outstanding_by_class().await.gql()?;
        let ids: Vec<Uuid> = rows.iter().filter_map(|r| r.class_id).collect();
        let classes = store.classes_by_ids(&ids).await.gql()?;
        Ok(rows
            .into_iter()
            .map(|r| ClassOutstandingNode {
                class: classes
                    .iter()
                    .find(|c| Some(c.id) == r.class_id)
                    .cloned()
                    .map(ClassNode),
                invoices: r.invoices,
                outstanding_idr: r.outstanding_idr,
            })
            .collect())
    }

    /// Finance: settled payments per school day and provider.
    async fn payments_by_day(
        &self,
        ctx: &Context<'_>,
        from: Date,
        to: Date,
    ) -> async_graphql::Result<Vec<DailyPayments>> {
        require_finance(ctx.viewer()?)?;
        let state = ctx.state();
        let (from, to) = (from.0, to.0);
        if to < from || (to - from).num_days() > 366 {
            return Err(to_gql(DomainError::invalid(
                "to",
                "choose a range of up to a year, ending after it starts",
            )));
        }
        let (start, end) = state.clock.range_of_days(from, to);
        let payments = state.store.settled_between(start, end).await.gql()?;
        let mut days: BTreeMap<(NaiveDate, String), (i64, i64)> = BTreeMap::new();
        for p in payments {
            let Some(at) = p.settled_at else { continue };
            let entry = days
                .entry((state.clock.date_of(at), p.provider))
                .or_default();
            entry.0 += 1;
            entry.1 += p.amount_idr;
        }
        Ok(days
            .into_iter()
            .map(|((date, provider), (count, total_idr))| DailyPayments {
                date: Date(date),
                provider,
                count,
                total_idr,
            })
            .collect())
    }

    /// Finance: payment notifications, newest first; with `problemsOnly`
    /// those that matched nothing or were refused (reconciliation).
    async fn payment_notifications(
        &self,
        ctx: &Context<'_>,
        problems_only: Option<bool>,
        first: Option<i32>,
    ) -> async_graphql::Result<Vec<PaymentNotificationNode>> {
        require_finance(ctx.viewer()?)?;
        let state = ctx.state();
        let limit = page_size(first, state.config.limits.max_page_size)?;
        let rows = state
            .store
            .notifications(problems_only.unwrap_or(false), limit)
            .await
            .gql()?;
        Ok(rows
            .into_iter()
            .map(|r| PaymentNotificationNode {
                id: r.id,
                received_at: r.received_at,
                order_id: r.order_id,
                transaction_status: r.transaction_status,
                gross_amount: r.gross_amount,
                outcome: r.outcome,
                payment_id: r.payment_id,
            })
            .collect())
    }
}

fn stored_state(status: InvoiceStatus) -> Option<String> {
    match status {
        InvoiceStatus::Open => Some("OPEN".into()),
        InvoiceStatus::PartiallyPaid => Some("PARTIALLY_PAID".into()),
        InvoiceStatus::Paid => Some("PAID".into()),
        InvoiceStatus::Void => Some("VOID".into()),
        InvoiceStatus::Overdue => None,
    }
}

#[derive(Default)]
pub struct PaymentMutation;

#[Object]
impl PaymentMutation {
    /// Finance: issues an invoice to each student of the target, with a
    /// sibling discount for younger siblings and an early-payment
    /// discount if asked. Issuing the same again changes nothing.
    async fn issue_invoices(
        &self,
        ctx: &Context<'_>,
        input: IssueInvoicesInput,
    ) -> async_graphql::Result<Vec<InvoiceNode>> {
        let viewer = ctx.viewer()?;
        require_finance(viewer)?;
        let state = ctx.state();
        let plan = plan_invoices(state, input).await?;
        let prefix = number_prefix(state.clock.date_of(state.now()));
        let invoices = state
            .store
            .issue_invoices(viewer.id(), plan, &prefix, state.now())
            .await
            .gql()?;
        tracing::info!(count = invoices.len(), "invoices issued");
        Ok(invoices.into_iter().map(InvoiceNode).collect())
    }

    /// Finance: voids an invoice nothing was paid on, with a reason.
    async fn void_invoice(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
        reason: String,
    ) -> async_graphql::Result<InvoiceNode> {
        require_finance(ctx.viewer()?)?;
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 500 {
            return Err(to_gql(DomainError::invalid(
                "reason",
                "say why, in up to 500 characters",
            )));
        }
        let state = ctx.state();
        Ok(InvoiceNode(
            state
                .store
                .void_invoice(id, reason, state.now())
                .await
                .gql()?,
        ))
    }

    /// Finance: a coupon code, valid between two school dates, usable
    /// `maxUses` times; either a percentage or an amount off.
    async fn create_coupon(
        &self,
        ctx: &Context<'_>,
        input: CreateCouponInput,
    ) -> async_graphql::Result<bool> {
        let CreateCouponInput {
            code,
            description,
            percent,
            amount_idr,
            valid_from,
            valid_until,
            max_uses,
        } = input;
        let (valid_from, valid_until) = (valid_from.0, valid_until.0);
        require_finance(ctx.viewer()?)?;
        let code = code.trim().to_uppercase();
        let bad = |f: &str, m: &str| to_gql(DomainError::invalid(f, m));
        if code.is_empty()
            || code.len() > 32
            || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(bad("code", "a code has 1 to 32 letters, digits or dashes"));
        }
        match (percent, amount_idr) {
            (Some(p), None) => check_percent("percent", i64::from(p)).gql()?,
            (None, Some(a)) if a > 0 && a <= payments::MAX_LINE_IDR => {}
            _ => return Err(bad("percent", "give either a percentage or an amount")),
        }
        if valid_until < valid_from || max_uses < 1 {
            return Err(bad(
                "validUntil",
                "the window must end after it starts, and allow at least one use",
            ));
        }
        let state = ctx.state();
        let coupon = NewCoupon {
            code,
            description: description.trim().to_owned(),
            percent,
            amount_idr,
            valid_from,
            valid_until,
            max_uses,
        };
        state
            .store
            .create_coupon(&coupon, state.now())
            .await
            .gql()?;
        Ok(true)
    }

    /// A guardian applies a coupon to an unpaid invoice.
    async fn apply_coupon(
        &self,
        ctx: &Context<'_>,
        invoice_id: Uuid,
        code: String,
    ) -> async_graphql::Result<InvoiceNode> {
        let viewer = ctx.viewer()?;
        let state = ctx.state();
        let invoice = visible_invoice(state, viewer, invoice_id).await?;
        let guardian_may_see = may_pay(state, viewer, &invoice).await?;
        if !guardian_may_see && authorize(&viewer.actor, &Action::ManageInvoices).is_err() {
            return Err(to_gql(DomainError::forbidden(
                "coupons are applied by a guardian or finance",
            )));
        }
        let today = state.clock.date_of(state.now());
        let applied = state
            .store
            .apply_coupon(invoice.id, &code.trim().to_uppercase(), today, state.now())
            .await
            .gql()?;
        Ok(InvoiceNode(applied))
    }

    /// A guardian starts paying an invoice. The same idempotency key with
    /// the same request gives the same payment; with a different one it
    /// is a conflict.
    async fn start_payment(
        &self,
        ctx: &Context<'_>,
        invoice_id: Uuid,
        provider: PaymentProviderName,
        idempotency_key: String,
        amount_idr: Option<i64>,
    ) -> async_graphql::Result<PaymentNode> {
        let viewer = ctx.viewer()?;
        let state = ctx.state();
        if idempotency_key.trim().is_empty() || idempotency_key.len() > 100 {
            return Err(to_gql(DomainError::invalid(
                "idempotencyKey",
                "a key has 1 to 100 characters",
            )));
        }
        let invoice = visible_invoice(state, viewer, invoice_id).await?;
        let guardian_may_see = may_pay(state, viewer, &invoice).await?;
        authorize(&viewer.actor, &Action::PayInvoice { guardian_may_see }).gql()?;
        if let Some(existing) = state
            .store
            .payment_by_key(viewer.id(), &idempotency_key)
            .await
            .gql()?
            && existing.invoice_id == invoice_id
            && amount_idr.is_none()
        {
            // A retry that names no amount is the same request, whatever
            // is due by now.
            return Ok(PaymentNode(existing));
        }
        let today = state.clock.date_of(state.now());
        let amount = amount_idr.unwrap_or_else(|| expected_due(&invoice, today));
        let new = NewPayment {
            invoice_id,
            provider: provider.code().to_owned(),
            amount_idr: amount,
            payer_id: viewer.id(),
            request_hash: request_hash(invoice_id, provider.code(), amount),
            idempotency_key,
        };
        let (payment, created) = state
            .store
            .start_payment(new, today, state.now())
            .await
            .gql()?;
        if created {
            tracing::info!(payment_id = %payment.id, provider = provider.code(), "payment started");
        }
        Ok(PaymentNode(payment))
    }

    /// The sandbox provider settles, fails or expires a payment on
    /// command (the payer or finance may ask).
    async fn sandbox_pay(
        &self,
        ctx: &Context<'_>,
        payment_id: Uuid,
        outcome: SandboxOutcome,
    ) -> async_graphql::Result<PaymentNode> {
        let viewer = ctx.viewer()?;
        let state = ctx.state();
        let payment = state.store.payment(payment_id).await.found("payment")?;
        let mine = payment.payer_id == viewer.id()
            || authorize(&viewer.actor, &Action::ManageInvoices).is_ok();
        if !mine || payment.provider != "SANDBOX" {
            return Err(to_gql(DomainError::NotFound("payment")));
        }
        let next = match outcome {
            SandboxOutcome::Settle => PaymentState::Settled,
            SandboxOutcome::Fail => PaymentState::Failed,
            SandboxOutcome::Expire => PaymentState::Expired,
        };
        // Like a real provider, the sandbox decides only pending payments.
        if payment.state != PaymentState::Pending.as_str() {
            return Err(to_gql(DomainError::conflict(
                Some("paymentId"),
                "this payment is no longer pending",
            )));
        }
        let change = Change {
            gateway: Some((payment.amount_idr, 0)),
            provider_ref: Some("sandbox"),
            amount: None,
        };
        let body = command_body(&payment, next);
        apply(
            state,
            PaymentKey::Id(payment.id),
            next,
            change,
            command_audit(&payment, next, &body),
        )
        .await
        .gql()?;
        let now = state.store.payment(payment_id).await.found("payment")?;
        Ok(PaymentNode(now))
    }

    /// Finance confirms a bank transfer with the amount that arrived; less
    /// than asked pays that much of the invoice.
    async fn confirm_bank_transfer(
        &self,
        ctx: &Context<'_>,
        payment_id: Uuid,
        received_amount_idr: i64,
    ) -> async_graphql::Result<PaymentNode> {
        require_finance(ctx.viewer()?)?;
        let state = ctx.state();
        let payment = state.store.payment(payment_id).await.found("payment")?;
        if payment.provider != "BANK_TRANSFER" {
            return Err(to_gql(DomainError::invalid(
                "paymentId",
                "that payment is not a bank transfer",
            )));
        }
        if received_amount_idr <= 0 || received_amount_idr > payment.amount_idr {
            return Err(to_gql(DomainError::invalid(
                "receivedAmountIdr",
                "the amount received must be more than zero and at most the payment's amount",
            )));
        }
        // One conditional update lowers the amount to what arrived and
        // settles, so two clerks confirming at once cannot both succeed.
        let change = Change {
            gateway: Some((received_amount_idr, 0)),
            provider_ref: None,
            amount: Some(received_amount_idr),
        };
        let next = PaymentState::Settled;
        let body = command_body(&payment, next);
        let audit = command_audit(&payment, next, &body);
        let result = apply(state, PaymentKey::Id(payment.id), next, change, audit)
            .await
            .gql()?;
        if matches!(result, Outcome::Duplicate | Outcome::NoChange) {
            return Err(to_gql(DomainError::conflict(
                Some("paymentId"),
                "this payment was already confirmed or closed",
            )));
        }
        let now = state.store.payment(payment_id).await.found("payment")?;
        Ok(PaymentNode(now))
    }
}

/// What a payer owes today: the total, less what is paid, less the
/// early-payment discount when it still applies.
fn expected_due(invoice: &Invoice, today: NaiveDate) -> i64 {
    let early = invoice.early_until.is_some_and(|u| today <= u)
        && invoice.paid_idr == 0
        && invoice.state == "OPEN";
    let discount = if early { invoice.early_discount_idr } else { 0 };
    (invoice.total_idr - invoice.paid_idr - discount).max(0)
}

/// Commands from the sandbox and from finance are kept beside the
/// providers' notifications, so the audit trail is complete.
fn command_body(payment: &Payment, next: PaymentState) -> String {
    serde_json::json!({ "command": next.as_str(), "orderId": payment.order_id }).to_string()
}

fn command_audit<'a>(payment: &'a Payment, next: PaymentState, body: &'a str) -> Audit<'a> {
    Audit {
        provider: &payment.provider,
        fields: (Some(payment.order_id.as_str()), Some(next.as_str()), None),
        body,
    }
}

/// Turns the issue request into invoices, one per student.
async fn plan_invoices(
    state: &AppState,
    input: IssueInvoicesInput,
) -> async_graphql::Result<Vec<NewInvoice>> {
    let lines: Vec<Line> = input
        .lines
        .into_iter()
        .map(|l| Line {
            description: l.description.trim().to_owned(),
            amount_idr: l.amount_idr,
        })
        .collect();
    check_lines(&lines).gql()?;
    let title = input.title.trim().to_owned();
    if title.is_empty() || title.chars().count() > 200 {
        return Err(to_gql(DomainError::invalid(
            "title",
            "an invoice needs a title of up to 200 characters",
        )));
    }
    if let Some(p) = input.sibling_discount_percent {
        check_percent("siblingDiscountPercent", i64::from(p)).gql()?;
    }
    if let Some(e) = &input.early_payment {
        check_percent("earlyPayment.percent", i64::from(e.percent)).gql()?;
        if e.until > input.due_date {
            return Err(to_gql(DomainError::invalid(
                "earlyPayment.until",
                "the early date must come before the due date",
            )));
        }
    }
    let year = state.academic_year();
    let t = input.target;
    let target = BillingTarget {
        everyone: t.everyone,
        grades: t.grades,
        class_ids: t.class_ids,
        student_ids: t.student_ids,
    };
    let students = state.store.students_to_bill(&target, &year).await.gql()?;
    if students.is_empty() {
        return Err(to_gql(DomainError::invalid(
            "target",
            "no student matches the target",
        )));
    }
    let families: Vec<Uuid> = students.iter().filter_map(|s| s.family_id).collect();
    let siblings = state.store.children_by_age(&families, &year).await.gql()?;
    let subtotal: i64 = lines.iter().map(|l| l.amount_idr).sum();
    let key = input.issue_key.unwrap_or_else(|| title.clone());
    Ok(students
        .into_iter()
        .map(|s| {
            let younger = s.family_id.is_some()
                && siblings
                    .iter()
                    .filter(|x| x.family_id == s.family_id)
                    .position(|x| x.id == s.id)
                    .is_some_and(|rank| rank > 0);
            let discounts = match input.sibling_discount_percent {
                Some(p) if younger => vec![Discount {
                    kind: DiscountKind::Sibling,
                    description: format!("Potongan saudara kandung {p}%"),
                    amount_idr: percent_of(subtotal, i64::from(p)),
                }],
                _ => vec![],
            };
            let early = input.early_payment.as_ref();
            NewInvoice {
                student_id: s.id,
                family_id: s.family_id,
                class_id: s.class_id,
                title: title.clone(),
                issue_key: Some(format!("{key}:{}", s.id)),
                due_date: input.due_date.0,
                early_until: early.map(|e| e.until.0),
                early_discount_idr: early.map_or(0, |e| percent_of(subtotal, i64::from(e.percent))),
                lines: lines.clone(),
                discounts,
            }
        })
        .collect())
}

#[derive(Default)]
pub struct PaymentSubscription;

#[Subscription]
impl PaymentSubscription {
    /// The viewer's invoices as payments change them (an invoice paid).
    async fn invoice_updated(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = InvoiceNode> + use<>> {
        let viewer: Viewer = ctx.viewer()?.clone();
        let user = viewer.id();
        let stream = user_events(ctx.state().clone(), user, "invoice", move |state, event| {
            let viewer = viewer.clone();
            async move {
                let id = id_in(&event, "invoiceId")?;
                visible_invoice(&state, &viewer, id)
                    .await
                    .ok()
                    .map(InvoiceNode)
            }
        });
        Ok(stream.await)
    }
}

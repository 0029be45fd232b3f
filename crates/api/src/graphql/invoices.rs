//! The GraphQL types of billing: invoices, their lines, payments and
//! receipts.

use async_graphql::{Context, Enum, Object, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use scrm_persistence::invoices::{Invoice, InvoiceLine};
use scrm_persistence::payments::Payment;
use uuid::Uuid;

use super::directory::StudentNode;
use super::scalars::Date;
use super::{ContextExt, Gql};

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum InvoiceStatus {
    Open,
    PartiallyPaid,
    Paid,
    /// Not fully paid after its due date, in the school's time zone.
    Overdue,
    Void,
}

pub struct InvoiceNode(pub Invoice);

impl InvoiceNode {
    pub fn status_on(&self, today: NaiveDate) -> InvoiceStatus {
        match self.0.state.as_str() {
            "PAID" => InvoiceStatus::Paid,
            "VOID" => InvoiceStatus::Void,
            _ if today > self.0.due_date => InvoiceStatus::Overdue,
            "PARTIALLY_PAID" => InvoiceStatus::PartiallyPaid,
            _ => InvoiceStatus::Open,
        }
    }
}

#[Object(name = "Invoice")]
impl InvoiceNode {
    async fn id(&self) -> Uuid {
        self.0.id
    }

    /// "INV/2026/12/00042".
    async fn number(&self) -> &str {
        &self.0.number
    }

    async fn title(&self) -> &str {
        &self.0.title
    }

    async fn student(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<StudentNode>> {
        Ok(ctx
            .state()
            .store
            .student(self.0.student_id)
            .await
            .gql()?
            .map(StudentNode))
    }

    /// Payable until the end of this day, school time.
    async fn due_date(&self) -> Date {
        Date(self.0.due_date)
    }

    async fn status(&self, ctx: &Context<'_>) -> InvoiceStatus {
        let state = ctx.state();
        self.status_on(state.clock.date_of(state.now()))
    }

    async fn subtotal_idr(&self) -> i64 {
        self.0.subtotal_idr
    }

    async fn discount_idr(&self) -> i64 {
        self.0.discount_idr
    }

    async fn total_idr(&self) -> i64 {
        self.0.total_idr
    }

    async fn paid_idr(&self) -> i64 {
        self.0.paid_idr
    }

    /// What is still to pay.
    async fn due_idr(&self) -> i64 {
        (self.0.total_idr - self.0.paid_idr).max(0)
    }

    /// Paying in full by this date earns `earlyPaymentDiscountIdr`.
    async fn early_payment_until(&self) -> Option<Date> {
        self.0.early_until.map(Date)
    }

    async fn early_payment_discount_idr(&self) -> i64 {
        self.0.early_discount_idr
    }

    /// How the total arose: items, then discounts (negative amounts).
    async fn lines(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<LineNode>> {
        let lines = ctx.state().store.invoice_lines(&[self.0.id]).await.gql()?;
        Ok(lines.into_iter().map(LineNode::from).collect())
    }

    async fn payments(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<PaymentNode>> {
        let payments = ctx.state().store.payments_of(self.0.id).await.gql()?;
        Ok(payments.into_iter().map(PaymentNode).collect())
    }

    async fn void_reason(&self) -> Option<&str> {
        self.0.void_reason.as_deref()
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// The receipt, once the invoice is paid.
    async fn receipt(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Receipt>> {
        let (Some(number), Some(paid_at)) = (&self.0.receipt_number, self.0.paid_at) else {
            return Ok(None);
        };
        let state = ctx.state();
        let local = paid_at.with_timezone(&state.clock.tz);
        let student = state.store.student(self.0.student_id).await.gql()?;
        let lines = state.store.invoice_lines(&[self.0.id]).await.gql()?;
        let payments = state.store.payments_of(self.0.id).await.gql()?;
        Ok(Some(Receipt {
            number: number.clone(),
            invoice_number: self.0.number.clone(),
            student_name: student.map(|s| s.name).unwrap_or_default(),
            paid_at,
            paid_at_local: format!("{} {}", local.format("%d/%m/%Y %H:%M"), local.format("%Z")),
            lines: lines.into_iter().map(LineNode::from).collect(),
            total_idr: self.0.total_idr,
            paid_idr: self.0.paid_idr,
            payments: payments
                .into_iter()
                .filter(|p| p.state == "SETTLED")
                .map(PaymentNode)
                .collect(),
        }))
    }
}

#[derive(SimpleObject)]
#[graphql(name = "InvoiceLine")]
pub struct LineNode {
    /// ITEM, SIBLING, EARLY_PAYMENT or COUPON.
    pub kind: String,
    pub description: String,
    pub amount_idr: i64,
}

impl From<InvoiceLine> for LineNode {
    fn from(l: InvoiceLine) -> Self {
        LineNode {
            kind: l.kind,
            description: l.description,
            amount_idr: l.amount_idr,
        }
    }
}

#[derive(SimpleObject)]
pub struct Receipt {
    /// "KW/2026/00017".
    pub number: String,
    pub invoice_number: String,
    pub student_name: String,
    pub paid_at: DateTime<Utc>,
    /// The paid time as the school reads it: "04/12/2026 14:05 WIB".
    pub paid_at_local: String,
    pub lines: Vec<LineNode>,
    pub total_idr: i64,
    pub paid_idr: i64,
    pub payments: Vec<PaymentNode>,
}

pub struct PaymentNode(pub Payment);

#[Object(name = "Payment")]
impl PaymentNode {
    async fn id(&self) -> Uuid {
        self.0.id
    }

    async fn invoice_id(&self) -> Uuid {
        self.0.invoice_id
    }

    /// The reference the provider knows this payment by.
    async fn order_id(&self) -> &str {
        &self.0.order_id
    }

    /// BANK_TRANSFER, SANDBOX or MIDTRANS.
    async fn provider(&self) -> &str {
        &self.0.provider
    }

    /// PENDING, SETTLED, FAILED or EXPIRED.
    async fn status(&self) -> &str {
        &self.0.state
    }

    /// What goes to the invoice.
    async fn amount_idr(&self) -> i64 {
        self.0.amount_idr
    }

    /// What the provider collected, its fee included.
    async fn gateway_amount_idr(&self) -> Option<i64> {
        self.0.gateway_amount_idr
    }

    async fn fee_idr(&self) -> Option<i64> {
        self.0.fee_idr
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    async fn settled_at(&self) -> Option<DateTime<Utc>> {
        self.0.settled_at
    }

    /// How to complete the payment.
    async fn instructions(&self, ctx: &Context<'_>) -> String {
        crate::payments::provider(ctx.state(), &self.0.provider)
            .instructions(&self.0)
            .text
    }

    async fn redirect_url(&self, ctx: &Context<'_>) -> Option<String> {
        crate::payments::provider(ctx.state(), &self.0.provider)
            .instructions(&self.0)
            .redirect_url
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use scrm_domain::school_time::SchoolClock;

    use super::*;

    fn due_on_first_of_april() -> InvoiceNode {
        InvoiceNode(Invoice {
            id: Uuid::nil(),
            number: "INV/2026/04/00001".into(),
            student_id: Uuid::nil(),
            family_id: None,
            class_id: None,
            title: "SPP April".into(),
            due_date: NaiveDate::from_ymd_opt(2026, 4, 1).expect("date"),
            early_until: None,
            early_discount_idr: 0,
            subtotal_idr: 100,
            discount_idr: 0,
            total_idr: 100,
            paid_idr: 0,
            state: "OPEN".into(),
            void_reason: None,
            paid_at: None,
            receipt_number: None,
            created_at: Utc::now(),
        })
    }

    #[test]
    fn an_invoice_due_on_the_first_is_overdue_from_midnight_jakarta_time_whatever_the_servers_zone()
    {
        let clock = SchoolClock::new(chrono_tz::Asia::Jakarta);
        let invoice = due_on_first_of_april();
        // 1 April 20:00 WIB is 13:00 UTC; 2 April 00:01 WIB is 1 April 17:01 UTC.
        let evening = Utc
            .with_ymd_and_hms(2026, 4, 1, 13, 0, 0)
            .single()
            .expect("instant");
        let after_midnight = Utc
            .with_ymd_and_hms(2026, 4, 1, 17, 1, 0)
            .single()
            .expect("instant");
        assert_eq!(
            invoice.status_on(clock.date_of(evening)),
            InvoiceStatus::Open
        );
        assert_eq!(
            invoice.status_on(clock.date_of(after_midnight)),
            InvoiceStatus::Overdue
        );
    }
}

//! Invoices: issuing (one at a time or in bulk, idempotent per issue
//! key), lines and discounts, coupons with a use limit, voiding, and the
//! finance reports.

use chrono::{DateTime, NaiveDate, Utc};
use scrm_domain::payments::{Discount, Line, Totals};
use scrm_domain::{DomainError, DomainResult};
use sea_orm::{ConnectionTrait, FromQueryResult, TransactionTrait, Value};
use uuid::Uuid;

use crate::Store;
use crate::error::{db_err, unique_as};
use crate::sql::{all, exec, one, placeholders};

#[derive(Debug, Clone, FromQueryResult)]
pub struct Invoice {
    pub id: Uuid,
    pub number: String,
    pub student_id: Uuid,
    pub family_id: Option<Uuid>,
    pub class_id: Option<Uuid>,
    pub title: String,
    pub due_date: NaiveDate,
    pub early_until: Option<NaiveDate>,
    pub early_discount_idr: i64,
    pub subtotal_idr: i64,
    pub discount_idr: i64,
    pub total_idr: i64,
    pub paid_idr: i64,
    /// OPEN, PARTIALLY_PAID, PAID or VOID; overdue is derived.
    pub state: String,
    pub void_reason: Option<String>,
    pub paid_at: Option<DateTime<Utc>>,
    pub receipt_number: Option<String>,
    pub created_at: DateTime<Utc>,
}

pub(crate) const INVOICE_COLUMNS: &str = "i.id, i.number, i.student_id, i.family_id, i.class_id, \
     i.title, i.due_date, i.early_until, i.early_discount_idr, i.subtotal_idr, i.discount_idr, \
     i.total_idr, i.paid_idr, i.state, i.void_reason, i.paid_at, i.receipt_number, i.created_at";

#[derive(Debug, Clone, FromQueryResult)]
pub struct InvoiceLine {
    pub invoice_id: Uuid,
    pub position: i32,
    /// ITEM, or the discount's kind (SIBLING, EARLY_PAYMENT, COUPON).
    pub kind: String,
    pub description: String,
    /// Negative for discounts.
    pub amount_idr: i64,
}

pub struct NewInvoice {
    pub student_id: Uuid,
    pub family_id: Option<Uuid>,
    pub class_id: Option<Uuid>,
    pub title: String,
    /// Issuing the same key twice gives the first invoice back.
    pub issue_key: Option<String>,
    pub due_date: NaiveDate,
    pub early_until: Option<NaiveDate>,
    pub early_discount_idr: i64,
    pub lines: Vec<Line>,
    pub discounts: Vec<Discount>,
}

/// A coupon code: a percentage or an amount off, usable `max_uses`
/// times between two school dates.
pub struct NewCoupon {
    pub code: String,
    pub description: String,
    pub percent: Option<i32>,
    pub amount_idr: Option<i64>,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
    pub max_uses: i32,
}

/// Which invoices a list shows.
#[derive(Default)]
pub struct InvoiceFilter {
    /// Only these students' invoices (`None`: everyone's).
    pub student_ids: Option<Vec<Uuid>>,
    pub state: Option<String>,
    /// Only unpaid invoices due before this date.
    pub due_before: Option<NaiveDate>,
    /// Only invoices due on or after this date (not yet overdue).
    pub due_from: Option<NaiveDate>,
}

impl Store {
    /// Issues invoices in one transaction, numbered `INV/<prefix>/00001`.
    pub async fn issue_invoices(
        &self,
        issued_by: Uuid,
        new: Vec<NewInvoice>,
        prefix: &str,
        now: DateTime<Utc>,
    ) -> DomainResult<Vec<Invoice>> {
        let tx = self.db.begin().await.map_err(db_err)?;
        // A write first: on SQLite the transaction then holds the write
        // lock from the start, so concurrent issues wait instead of failing.
        let counter = format!("invoice:{prefix}");
        let seed =
            "INSERT INTO counters (name, value) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING";
        exec(&tx, seed, vec![counter.into()])
            .await
            .map_err(db_err)?;
        let mut ids = Vec::with_capacity(new.len());
        for invoice in new {
            if let Some(key) = &invoice.issue_key
                && let Some(existing) = id_by_issue_key(&tx, key).await?
            {
                ids.push(existing);
                continue;
            }
            let number = next_number(&tx, &format!("invoice:{prefix}")).await?;
            let id = insert_invoice(
                &tx,
                issued_by,
                &invoice,
                &format!("INV/{prefix}/{number:05}"),
                now,
            )
            .await?;
            ids.push(id);
        }
        tx.commit().await.map_err(db_err)?;
        self.invoices_by_ids(&ids).await
    }

    pub async fn invoices_by_ids(&self, ids: &[Uuid]) -> DomainResult<Vec<Invoice>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let sql = format!(
            "SELECT {INVOICE_COLUMNS} FROM invoices i WHERE i.id IN ({})",
            placeholders(1, ids.len())
        );
        let mut found: Vec<Invoice> =
            all(&self.db, &sql, ids.iter().map(|i| (*i).into()).collect()).await?;
        found.sort_by_key(|inv| ids.iter().position(|i| *i == inv.id));
        Ok(found)
    }

    pub async fn invoice(&self, id: Uuid) -> DomainResult<Option<Invoice>> {
        Ok(self.invoices_by_ids(&[id]).await?.pop())
    }

    pub async fn invoice_lines(&self, invoice_ids: &[Uuid]) -> DomainResult<Vec<InvoiceLine>> {
        if invoice_ids.is_empty() {
            return Ok(vec![]);
        }
        let sql = format!(
            "SELECT invoice_id, position, kind, description, amount_idr FROM invoice_lines \
             WHERE invoice_id IN ({}) ORDER BY invoice_id, position",
            placeholders(1, invoice_ids.len())
        );
        all(
            &self.db,
            &sql,
            invoice_ids.iter().map(|i| (*i).into()).collect(),
        )
        .await
    }

    /// Newest first, keyset-paginated on (created_at, id).
    pub async fn invoices_page(
        &self,
        filter: &InvoiceFilter,
        after: Option<(DateTime<Utc>, Uuid)>,
        limit: u64,
    ) -> DomainResult<Vec<Invoice>> {
        let mut values: Vec<Value> = vec![(limit as i64).into()];
        let mut terms = vec!["1 = 1".to_owned()];
        let push = |values: &mut Vec<Value>, v: Value| {
            values.push(v);
            format!("${}", values.len())
        };
        if let Some(ids) = &filter.student_ids {
            if ids.is_empty() {
                return Ok(vec![]);
            }
            let list: Vec<String> = ids.iter().map(|i| push(&mut values, (*i).into())).collect();
            terms.push(format!("i.student_id IN ({})", list.join(", ")));
        }
        if let Some(state) = &filter.state {
            let p = push(&mut values, state.clone().into());
            terms.push(format!("i.state = {p}"));
        }
        if let Some(date) = filter.due_before {
            let p = push(&mut values, date.into());
            terms.push(format!(
                "i.state IN ('OPEN', 'PARTIALLY_PAID') AND i.due_date < {p}"
            ));
        }
        if let Some(date) = filter.due_from {
            let p = push(&mut values, date.into());
            terms.push(format!("i.due_date >= {p}"));
        }
        if let Some((at, id)) = after {
            let (a, b) = (push(&mut values, at.into()), push(&mut values, id.into()));
            terms.push(format!("(i.created_at, i.id) < ({a}, {b})"));
        }
        let sql = format!(
            "SELECT {INVOICE_COLUMNS} FROM invoices i WHERE {} ORDER BY i.created_at DESC, i.id DESC LIMIT $1",
            terms.join(" AND ")
        );
        all(&self.db, &sql, values).await
    }

    pub async fn create_coupon(&self, coupon: &NewCoupon, now: DateTime<Utc>) -> DomainResult<()> {
        exec(
            &self.db,
            "INSERT INTO coupons (code, description, percent, amount_idr, valid_from, valid_until, max_uses, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            vec![
                coupon.code.clone().into(),
                coupon.description.clone().into(),
                coupon.percent.into(),
                coupon.amount_idr.into(),
                coupon.valid_from.into(),
                coupon.valid_until.into(),
                coupon.max_uses.into(),
                now.into(),
            ],
        )
        .await
        .map_err(unique_as("code", "a coupon with this code exists"))?;
        Ok(())
    }

    /// Takes one use of a coupon for an unpaid invoice and adds its
    /// discount. The use limit holds under concurrency: the counter only
    /// moves while uses remain.
    pub async fn apply_coupon(
        &self,
        invoice_id: Uuid,
        code: &str,
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> DomainResult<Invoice> {
        #[derive(FromQueryResult)]
        struct Coupon {
            description: String,
            percent: Option<i32>,
            amount_idr: Option<i64>,
        }
        let tx = self.db.begin().await.map_err(db_err)?;
        let touched = exec(
            &tx,
            "UPDATE invoices SET paid_idr = paid_idr WHERE id = $1 AND state = 'OPEN' AND paid_idr = 0 \
             AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.invoice_id = $1 AND p.state = 'PENDING')",
            vec![invoice_id.into()],
        )
        .await
        .map_err(db_err)?;
        if touched == 0 {
            return Err(DomainError::conflict(
                Some("invoiceId"),
                "coupons apply only to open invoices with nothing paid or under way",
            ));
        }
        let coupon: Option<Coupon> = one(
            &tx,
            "UPDATE coupons SET used = used + 1 WHERE code = $1 AND used < max_uses \
             AND valid_from <= $2 AND valid_until >= $2 RETURNING description, percent, amount_idr",
            vec![code.into(), today.into()],
        )
        .await?;
        let coupon = coupon.ok_or_else(|| {
            DomainError::invalid("code", "this coupon is not valid now or has been used up")
        })?;
        exec(
            &tx,
            "INSERT INTO coupon_uses (code, invoice_id, used_at) VALUES ($1, $2, $3)",
            vec![code.into(), invoice_id.into(), now.into()],
        )
        .await
        .map_err(unique_as("invoiceId", "this invoice already has a coupon"))?;
        let lines = lines_in(&tx, invoice_id).await?;
        let subtotal: i64 = lines
            .iter()
            .filter(|l| l.kind == "ITEM")
            .map(|l| l.amount_idr)
            .sum();
        let amount = match (coupon.percent, coupon.amount_idr) {
            (Some(p), _) => scrm_domain::payments::percent_of(subtotal, i64::from(p)),
            (None, Some(a)) => a,
            (None, None) => 0,
        };
        // A discount never takes more than what is left of the total.
        let left: i64 = lines.iter().map(|l| l.amount_idr).sum();
        let amount = amount.min(left.max(0));
        let position = lines.iter().map(|l| l.position).max().unwrap_or(0) + 1;
        insert_line(
            &tx,
            invoice_id,
            position,
            "COUPON",
            &format!("Kupon {code}: {}", coupon.description),
            -amount,
        )
        .await?;
        recompute_totals(&tx, invoice_id).await?;
        tx.commit().await.map_err(db_err)?;
        self.invoice(invoice_id)
            .await?
            .ok_or(DomainError::NotFound("invoice"))
    }

    /// Voids an invoice nobody has paid anything on.
    pub async fn void_invoice(
        &self,
        id: Uuid,
        reason: &str,
        now: DateTime<Utc>,
    ) -> DomainResult<Invoice> {
        let hit = exec(
            &self.db,
            "UPDATE invoices SET state = 'VOID', void_reason = $2, voided_at = $3 \
             WHERE id = $1 AND state = 'OPEN' AND paid_idr = 0 \
             AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.invoice_id = $1 AND p.state = 'PENDING')",
            vec![id.into(), reason.into(), now.into()],
        )
        .await
        .map_err(db_err)?;
        let invoice = self
            .invoice(id)
            .await?
            .ok_or(DomainError::NotFound("invoice"))?;
        if hit == 0 {
            return Err(DomainError::conflict(
                Some("id"),
                "only an open invoice with nothing paid or under way can be voided",
            ));
        }
        Ok(invoice)
    }
}

async fn id_by_issue_key<C: ConnectionTrait>(db: &C, key: &str) -> DomainResult<Option<Uuid>> {
    #[derive(FromQueryResult)]
    struct Id {
        id: Uuid,
    }
    let found: Option<Id> = one(
        db,
        "SELECT id FROM invoices WHERE issue_key = $1",
        vec![key.into()],
    )
    .await?;
    Ok(found.map(|f| f.id))
}

/// The next value of a named counter, inside the caller's transaction.
pub(crate) async fn next_number<C: ConnectionTrait>(db: &C, name: &str) -> DomainResult<i64> {
    #[derive(FromQueryResult)]
    struct Value {
        value: i64,
    }
    let next: Option<Value> = one(
        db,
        "INSERT INTO counters (name, value) VALUES ($1, 1) \
         ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value",
        vec![name.into()],
    )
    .await?;
    next.map(|v| v.value)
        .ok_or(DomainError::NotFound("counter"))
}

async fn insert_invoice<C: ConnectionTrait>(
    db: &C,
    issued_by: Uuid,
    invoice: &NewInvoice,
    number: &str,
    now: DateTime<Utc>,
) -> DomainResult<Uuid> {
    let id = Uuid::now_v7();
    let totals = Totals::of(&invoice.lines, &invoice.discounts);
    exec(
        db,
        "INSERT INTO invoices (id, number, student_id, family_id, class_id, issued_by, title, issue_key, \
         due_date, early_until, early_discount_idr, subtotal_idr, discount_idr, total_idr, state, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, \
         CASE WHEN $14 = 0 THEN 'PAID' ELSE 'OPEN' END, $15)",
        vec![
            id.into(),
            number.into(),
            invoice.student_id.into(),
            invoice.family_id.into(),
            invoice.class_id.into(),
            issued_by.into(),
            invoice.title.clone().into(),
            invoice.issue_key.clone().into(),
            invoice.due_date.into(),
            invoice.early_until.into(),
            invoice.early_discount_idr.into(),
            totals.subtotal_idr.into(),
            totals.discount_idr.into(),
            totals.total_idr.into(),
            now.into(),
        ],
    )
    .await
    .map_err(db_err)?;
    let items = invoice
        .lines
        .iter()
        .map(|l| ("ITEM", l.description.as_str(), l.amount_idr));
    let discounts = invoice
        .discounts
        .iter()
        .map(|d| (d.kind.as_str(), d.description.as_str(), -d.amount_idr));
    for (position, (kind, description, amount)) in items.chain(discounts).enumerate() {
        insert_line(db, id, position as i32 + 1, kind, description, amount).await?;
    }
    Ok(id)
}

pub(crate) async fn insert_line<C: ConnectionTrait>(
    db: &C,
    invoice_id: Uuid,
    position: i32,
    kind: &str,
    description: &str,
    amount: i64,
) -> DomainResult<()> {
    exec(
        db,
        "INSERT INTO invoice_lines (invoice_id, position, kind, description, amount_idr) VALUES ($1, $2, $3, $4, $5)",
        vec![invoice_id.into(), position.into(), kind.into(), description.into(), amount.into()],
    )
    .await
    .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn lines_in<C: ConnectionTrait>(
    db: &C,
    invoice_id: Uuid,
) -> DomainResult<Vec<InvoiceLine>> {
    all(
        db,
        "SELECT invoice_id, position, kind, description, amount_idr FROM invoice_lines WHERE invoice_id = $1 ORDER BY position",
        vec![invoice_id.into()],
    )
    .await
}

/// Sets an invoice's figures from its lines again.
pub(crate) async fn recompute_totals<C: ConnectionTrait>(
    db: &C,
    invoice_id: Uuid,
) -> DomainResult<()> {
    let lines = lines_in(db, invoice_id).await?;
    let items: Vec<Line> = lines
        .iter()
        .filter(|l| l.kind == "ITEM")
        .map(|l| Line {
            description: l.description.clone(),
            amount_idr: l.amount_idr,
        })
        .collect();
    let discounts: Vec<Discount> = lines
        .iter()
        .filter(|l| l.kind != "ITEM")
        .map(|l| Discount {
            kind: scrm_domain::payments::DiscountKind::Coupon,
            description: l.description.clone(),
            amount_idr: -l.amount_idr,
        })
        .collect();
    let t = Totals::of(&items, &discounts);
    exec(
        db,
        "UPDATE invoices SET subtotal_idr = $2, discount_idr = $3, total_idr = $4, \
         state = CASE WHEN $4 <= paid_idr AND state <> 'VOID' THEN 'PAID' ELSE state END WHERE id = $1",
        vec![
            invoice_id.into(),
            t.subtotal_idr.into(),
            t.discount_idr.into(),
            t.total_idr.into(),
        ],
    )
    .await
    .map_err(db_err)?;
    Ok(())
}

/// Who a bulk issue reaches: students of these classes, of these grades
/// in the academic year, these students, or everyone in the year.
pub struct BillingTarget {
    pub everyone: bool,
    pub grades: Vec<i32>,
    pub class_ids: Vec<Uuid>,
    pub student_ids: Vec<Uuid>,
}

impl Store {
    /// The students a bulk issue reaches, in class and name order.
    pub async fn students_to_bill(
        &self,
        target: &BillingTarget,
        academic_year: &str,
    ) -> DomainResult<Vec<crate::directory::Student>> {
        let mut values: Vec<Value> = vec![academic_year.into()];
        let mut terms = vec![];
        let push = |values: &mut Vec<Value>, v: Value| {
            values.push(v);
            format!("${}", values.len())
        };
        if target.everyone {
            terms.push("c.academic_year = $1".to_owned());
        }
        if !target.grades.is_empty() {
            let list: Vec<String> = target
                .grades
                .iter()
                .map(|g| push(&mut values, (*g).into()))
                .collect();
            terms.push(format!(
                "(c.academic_year = $1 AND c.grade IN ({}))",
                list.join(", ")
            ));
        }
        if !target.class_ids.is_empty() {
            let list: Vec<String> = target
                .class_ids
                .iter()
                .map(|c| push(&mut values, (*c).into()))
                .collect();
            terms.push(format!("s.class_id IN ({})", list.join(", ")));
        }
        if !target.student_ids.is_empty() {
            let list: Vec<String> = target
                .student_ids
                .iter()
                .map(|c| push(&mut values, (*c).into()))
                .collect();
            terms.push(format!("s.id IN ({})", list.join(", ")));
        }
        if terms.is_empty() {
            return Ok(vec![]);
        }
        let cols = crate::directory::STUDENT_COLUMNS
            .split(", ")
            .map(|c| format!("s.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {cols} FROM students s LEFT JOIN classes c ON c.id = s.class_id WHERE {} \
             ORDER BY c.grade, c.section, s.name, s.id",
            terms.join(" OR ")
        );
        all(&self.db, &sql, values).await
    }

    /// Every child of these families who is in a class this year, eldest
    /// first: the order in which sibling discounts are given.
    pub async fn children_by_age(
        &self,
        family_ids: &[Uuid],
        academic_year: &str,
    ) -> DomainResult<Vec<crate::directory::Student>> {
        if family_ids.is_empty() {
            return Ok(vec![]);
        }
        let cols = crate::directory::STUDENT_COLUMNS
            .split(", ")
            .map(|c| format!("s.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {cols} FROM students s JOIN classes c ON c.id = s.class_id \
             WHERE c.academic_year = $1 AND s.family_id IN ({}) \
             ORDER BY s.family_id, s.birth_date IS NULL, s.birth_date, c.grade DESC, s.name, s.id",
            placeholders(2, family_ids.len())
        );
        let mut values: Vec<Value> = vec![academic_year.into()];
        values.extend(family_ids.iter().map(|f| Value::from(*f)));
        all(&self.db, &sql, values).await
    }
}

/// What is still owed in one class.
#[derive(Debug, Clone, FromQueryResult)]
pub struct ClassOutstanding {
    pub class_id: Option<Uuid>,
    pub invoices: i64,
    pub outstanding_idr: i64,
}

impl Store {
    /// Unpaid amounts per class, largest first.
    pub async fn outstanding_by_class(&self) -> DomainResult<Vec<ClassOutstanding>> {
        all(
            &self.db,
            "SELECT class_id, COUNT(*) AS invoices, CAST(SUM(total_idr - paid_idr) AS BIGINT) AS outstanding_idr \
             FROM invoices WHERE state IN ('OPEN', 'PARTIALLY_PAID') GROUP BY class_id \
             ORDER BY outstanding_idr DESC",
            vec![],
        )
        .await
    }
}

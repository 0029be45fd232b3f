//! Invoices with their lines, coupons, payments, and every payment
//! notification received, kept with its outcome for audit.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0004_payments"
    }
}

const UP: &str = r#"
CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
CREATE TABLE invoices (
    id {uuid} PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    student_id {uuid} NOT NULL REFERENCES students (id),
    family_id {uuid} REFERENCES families (id),
    class_id {uuid} REFERENCES classes (id),
    issued_by {uuid} NOT NULL REFERENCES users (id),
    title TEXT NOT NULL,
    issue_key TEXT UNIQUE,
    due_date {date} NOT NULL,
    early_until {date},
    early_discount_idr BIGINT NOT NULL DEFAULT 0,
    subtotal_idr BIGINT NOT NULL,
    discount_idr BIGINT NOT NULL,
    total_idr BIGINT NOT NULL,
    paid_idr BIGINT NOT NULL DEFAULT 0,
    state TEXT NOT NULL,
    void_reason TEXT,
    voided_at {ts},
    paid_at {ts},
    receipt_number TEXT UNIQUE,
    created_at {ts} NOT NULL
);
CREATE INDEX invoices_student ON invoices (student_id, created_at);
CREATE INDEX invoices_family ON invoices (family_id);
CREATE INDEX invoices_class ON invoices (class_id, state);
CREATE TABLE invoice_lines (
    invoice_id {uuid} NOT NULL REFERENCES invoices (id),
    position INTEGER NOT NULL,
    kind TEXT NOT NULL,
    description TEXT NOT NULL,
    amount_idr BIGINT NOT NULL,
    PRIMARY KEY (invoice_id, position)
);
CREATE TABLE coupons (
    code TEXT PRIMARY KEY,
    description TEXT NOT NULL,
    percent INTEGER,
    amount_idr BIGINT,
    valid_from {date} NOT NULL,
    valid_until {date} NOT NULL,
    max_uses INTEGER NOT NULL,
    used INTEGER NOT NULL DEFAULT 0,
    created_at {ts} NOT NULL
);
CREATE TABLE coupon_uses (
    code TEXT NOT NULL REFERENCES coupons (code),
    invoice_id {uuid} NOT NULL UNIQUE REFERENCES invoices (id),
    used_at {ts} NOT NULL,
    PRIMARY KEY (code, invoice_id)
);
CREATE TABLE payments (
    id {uuid} PRIMARY KEY,
    invoice_id {uuid} NOT NULL REFERENCES invoices (id),
    order_id TEXT NOT NULL UNIQUE,
    provider TEXT NOT NULL,
    amount_idr BIGINT NOT NULL,
    gateway_amount_idr BIGINT,
    fee_idr BIGINT,
    state TEXT NOT NULL,
    payer_id {uuid} NOT NULL REFERENCES users (id),
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    provider_ref TEXT,
    created_at {ts} NOT NULL,
    settled_at {ts},
    UNIQUE (payer_id, idempotency_key)
);
CREATE INDEX payments_invoice ON payments (invoice_id, state);
CREATE INDEX payments_settled ON payments (state, settled_at);
CREATE TABLE payment_notifications (
    id {uuid} PRIMARY KEY,
    received_at {ts} NOT NULL,
    provider TEXT NOT NULL,
    order_id TEXT,
    transaction_status TEXT,
    gross_amount TEXT,
    outcome TEXT NOT NULL,
    payment_id {uuid} REFERENCES payments (id),
    body TEXT NOT NULL
);
CREATE INDEX payment_notifications_outcome ON payment_notifications (outcome, received_at)
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run(manager, UP).await
    }
}

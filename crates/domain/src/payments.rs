//! Money rules: invoice totals with their discounts, the states of
//! invoices and payments, and payment notifications from a provider.
//! Amounts are whole rupiah in `i64`; nothing here uses floats.

mod notification;
mod totals;

pub use notification::{
    Notification, NotificationError, parse_gross_amount, signature_matches, signature_of,
};
pub use totals::{Discount, DiscountKind, Line, Totals, check_lines, check_percent, percent_of};

use crate::{DomainError, DomainResult};

/// The largest amount one invoice line may carry: one billion rupiah.
pub const MAX_LINE_IDR: i64 = 1_000_000_000;

/// An invoice's stored state; OVERDUE is derived from the due date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvoiceState {
    Open,
    PartiallyPaid,
    Paid,
    Void,
}

impl InvoiceState {
    pub fn as_str(self) -> &'static str {
        match self {
            InvoiceState::Open => "OPEN",
            InvoiceState::PartiallyPaid => "PARTIALLY_PAID",
            InvoiceState::Paid => "PAID",
            InvoiceState::Void => "VOID",
        }
    }

    pub fn parse(s: &str) -> InvoiceState {
        match s {
            "PARTIALLY_PAID" => InvoiceState::PartiallyPaid,
            "PAID" => InvoiceState::Paid,
            "VOID" => InvoiceState::Void,
            _ => InvoiceState::Open,
        }
    }

    /// The state that `paid` of `total` puts an unvoided invoice in.
    pub fn from_amounts(paid: i64, total: i64) -> InvoiceState {
        if paid >= total {
            InvoiceState::Paid
        } else if paid > 0 {
            InvoiceState::PartiallyPaid
        } else {
            InvoiceState::Open
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PaymentState {
    Pending,
    Failed,
    Expired,
    Settled,
}

impl PaymentState {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentState::Pending => "PENDING",
            PaymentState::Failed => "FAILED",
            PaymentState::Expired => "EXPIRED",
            PaymentState::Settled => "SETTLED",
        }
    }

    pub fn parse(s: &str) -> Option<PaymentState> {
        [Self::Pending, Self::Failed, Self::Expired, Self::Settled]
            .into_iter()
            .find(|p| p.as_str() == s)
    }

    /// How far along its life a payment is. A payment only moves to a
    /// higher rank: money that arrived after an expiry still counts, and
    /// nothing undoes a settlement.
    pub fn rank(self) -> u8 {
        match self {
            PaymentState::Pending => 0,
            PaymentState::Failed | PaymentState::Expired => 1,
            PaymentState::Settled => 2,
        }
    }

    pub fn may_become(self, next: PaymentState) -> bool {
        next.rank() > self.rank()
    }

    /// The states a payment may be in for `next` to apply.
    pub fn predecessors(next: PaymentState) -> Vec<PaymentState> {
        [Self::Pending, Self::Failed, Self::Expired]
            .into_iter()
            .filter(|s| s.may_become(next))
            .collect()
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
    /// What a payment that moved comes to: money for a void or already
    /// covered invoice is applied and goes to reconciliation.
    pub fn of_move(invoice_void: bool, overpaid: bool) -> Outcome {
        match (invoice_void, overpaid) {
            (true, _) => Outcome::AppliedToVoid,
            (_, true) => Outcome::Overpaid,
            _ => Outcome::Applied,
        }
    }

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

/// Checks the amount a payment asks for against what is still due.
pub fn check_payment_amount(amount: i64, due: i64) -> DomainResult<()> {
    if amount <= 0 {
        return Err(DomainError::invalid(
            "amountIdr",
            "a payment must be more than zero",
        ));
    }
    if amount > due {
        return Err(DomainError::invalid(
            "amountIdr",
            format!(
                "only Rp {} is due; a payment cannot be more",
                format_idr(due)
            ),
        ));
    }
    Ok(())
}

/// `1500000` → `1.500.000`, as rupiah are written in Indonesia.
pub fn format_idr(amount: i64) -> String {
    let digits = amount.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    if amount < 0 { format!("-{out}") } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_settled_payment_never_moves_again() {
        use PaymentState::*;
        assert!(Pending.may_become(Settled));
        assert!(
            Expired.may_become(Settled),
            "money after an expiry still counts"
        );
        assert!(!Settled.may_become(Expired));
        assert!(!Settled.may_become(Pending));
        assert!(!Expired.may_become(Failed));
        assert_eq!(
            PaymentState::predecessors(Settled),
            vec![Pending, Failed, Expired]
        );
        assert_eq!(PaymentState::predecessors(Expired), vec![Pending]);
    }

    #[test]
    fn an_amount_above_what_is_due_is_refused() {
        assert!(check_payment_amount(500_000, 500_000).is_ok());
        assert!(check_payment_amount(500_001, 500_000).is_err());
        assert!(check_payment_amount(0, 500_000).is_err());
    }

    #[test]
    fn rupiah_are_grouped_with_dots() {
        assert_eq!(format_idr(1_500_000), "1.500.000");
        assert_eq!(format_idr(999), "999");
        assert_eq!(format_idr(-12_000), "-12.000");
    }

    #[test]
    fn the_invoice_state_follows_the_amount_paid() {
        assert_eq!(InvoiceState::from_amounts(0, 100), InvoiceState::Open);
        assert_eq!(
            InvoiceState::from_amounts(40, 100),
            InvoiceState::PartiallyPaid
        );
        assert_eq!(InvoiceState::from_amounts(100, 100), InvoiceState::Paid);
    }
}

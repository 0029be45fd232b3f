//! How an invoice's total arises: its lines, less its discounts.

use serde::{Deserialize, Serialize};

use crate::{DomainError, DomainResult};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    pub description: String,
    pub amount_idr: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DiscountKind {
    Sibling,
    EarlyPayment,
    Coupon,
}

impl DiscountKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DiscountKind::Sibling => "SIBLING",
            DiscountKind::EarlyPayment => "EARLY_PAYMENT",
            DiscountKind::Coupon => "COUPON",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discount {
    pub kind: DiscountKind,
    pub description: String,
    pub amount_idr: i64,
}

/// An invoice's figures, each derived from the lines and discounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Totals {
    pub subtotal_idr: i64,
    pub discount_idr: i64,
    pub total_idr: i64,
}

impl Totals {
    /// Discounts never take a total below zero.
    pub fn of(lines: &[Line], discounts: &[Discount]) -> Totals {
        let subtotal_idr: i64 = lines.iter().map(|l| l.amount_idr).sum();
        let asked: i64 = discounts.iter().map(|d| d.amount_idr).sum();
        let discount_idr = asked.min(subtotal_idr);
        Totals {
            subtotal_idr,
            discount_idr,
            total_idr: subtotal_idr - discount_idr,
        }
    }
}

/// `percent` of `amount`, rounded down to whole rupiah.
pub fn percent_of(amount: i64, percent: i64) -> i64 {
    amount.saturating_mul(percent) / 100
}

/// Checks invoice lines before they are stored.
pub fn check_lines(lines: &[Line]) -> DomainResult<()> {
    if lines.is_empty() || lines.len() > 50 {
        return Err(DomainError::invalid(
            "lines",
            "an invoice has 1 to 50 lines",
        ));
    }
    let sum: i64 = lines
        .iter()
        .map(|l| l.amount_idr.clamp(0, super::MAX_LINE_IDR))
        .sum();
    if sum > super::MAX_LINE_IDR {
        return Err(DomainError::invalid(
            "lines",
            "an invoice totals at most Rp 1.000.000.000",
        ));
    }
    for line in lines {
        if line.description.trim().is_empty() || line.description.chars().count() > 200 {
            return Err(DomainError::invalid(
                "lines.description",
                "each line needs a description of up to 200 characters",
            ));
        }
        if line.amount_idr <= 0 || line.amount_idr > super::MAX_LINE_IDR {
            return Err(DomainError::invalid(
                "lines.amountIdr",
                "each line is between Rp 1 and Rp 1.000.000.000",
            ));
        }
    }
    Ok(())
}

pub fn check_percent(field: &str, percent: i64) -> DomainResult<()> {
    if (1..=100).contains(&percent) {
        Ok(())
    } else {
        Err(DomainError::invalid(
            field,
            "a percentage runs from 1 to 100",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(amount: i64) -> Line {
        Line {
            description: "SPP Desember".into(),
            amount_idr: amount,
        }
    }

    fn discount(amount: i64) -> Discount {
        Discount {
            kind: DiscountKind::Sibling,
            description: "Adik".into(),
            amount_idr: amount,
        }
    }

    #[test]
    fn a_total_is_the_lines_less_the_discounts() {
        let t = Totals::of(&[line(1_500_000), line(250_000)], &[discount(150_000)]);
        assert_eq!(
            (t.subtotal_idr, t.discount_idr, t.total_idr),
            (1_750_000, 150_000, 1_600_000)
        );
    }

    #[test]
    fn discounts_never_make_a_total_negative() {
        let t = Totals::of(&[line(100_000)], &[discount(80_000), discount(80_000)]);
        assert_eq!((t.discount_idr, t.total_idr), (100_000, 0));
    }

    #[test]
    fn a_percentage_rounds_down_to_whole_rupiah() {
        assert_eq!(percent_of(1_234_567, 10), 123_456);
    }

    #[test]
    fn lines_must_be_positive_and_described() {
        assert!(check_lines(&[line(0)]).is_err());
        assert!(check_lines(&[line(-5)]).is_err());
        assert!(check_lines(&[]).is_err());
        assert!(check_lines(&[line(1)]).is_ok());
    }
}

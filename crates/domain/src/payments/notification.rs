//! Payment notifications in the style of Midtrans: the provider posts
//! the transaction's state, signed with SHA-512 over the order id, the
//! status code, the gross amount exactly as sent, and the server key.

use serde::Deserialize;
use sha2::{Digest, Sha512};

use super::PaymentState;

/// A notification as the provider posts it. Unknown fields are ignored.
#[derive(Debug, Clone, Deserialize)]
pub struct Notification {
    pub order_id: String,
    pub status_code: String,
    /// Kept as the provider wrote it ("10071.00"): the signature covers
    /// these characters, not the number.
    pub gross_amount: String,
    pub signature_key: String,
    pub transaction_status: String,
    pub transaction_id: Option<String>,
    pub fraud_status: Option<String>,
    /// The provider's fee inside `gross_amount`, when it adds one.
    pub fee_amount: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotificationError {
    #[error("a field is missing or too long")]
    Malformed,
    #[error("the amount is not whole rupiah")]
    BadAmount,
}

impl Notification {
    /// Refuses notifications whose fields are empty or oversized before
    /// anything else looks at them.
    pub fn check_shape(&self) -> Result<(), NotificationError> {
        let fits = |s: &str, max: usize| !s.is_empty() && s.len() <= max;
        let ok = fits(&self.order_id, 64)
            && fits(&self.status_code, 3)
            && fits(&self.gross_amount, 24)
            && fits(&self.signature_key, 128)
            && fits(&self.transaction_status, 32)
            && self.transaction_id.as_ref().is_none_or(|t| fits(t, 64));
        if ok {
            Ok(())
        } else {
            Err(NotificationError::Malformed)
        }
    }

    /// The state the notification asks for; `None` for states that do
    /// not move a payment (a capture under fraud review, a refund).
    pub fn target_state(&self) -> Option<PaymentState> {
        match self.transaction_status.as_str() {
            "settlement" => Some(PaymentState::Settled),
            "capture" if self.fraud_status.as_deref().is_none_or(|f| f == "accept") => {
                Some(PaymentState::Settled)
            }
            "pending" => Some(PaymentState::Pending),
            "deny" | "cancel" | "failure" => Some(PaymentState::Failed),
            "expire" => Some(PaymentState::Expired),
            _ => None,
        }
    }

    /// Gross amount and fee in whole rupiah.
    pub fn amounts(&self) -> Result<(i64, i64), NotificationError> {
        let gross = parse_gross_amount(&self.gross_amount)?;
        let fee = match &self.fee_amount {
            Some(f) => parse_gross_amount(f)?,
            None => 0,
        };
        if fee > gross {
            return Err(NotificationError::BadAmount);
        }
        Ok((gross, fee))
    }
}

/// Reads "10071", "10071.0" or "10071.00" as 10071 rupiah. Rupiah have
/// no smaller unit, so any non-zero fraction is refused.
pub fn parse_gross_amount(raw: &str) -> Result<i64, NotificationError> {
    let (whole, fraction) = raw.split_once('.').unwrap_or((raw, ""));
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if whole.is_empty()
        || whole.len() > 15
        || !digits(whole)
        || !digits(fraction)
        || fraction.chars().any(|c| c != '0')
    {
        return Err(NotificationError::BadAmount);
    }
    whole.parse().map_err(|_| NotificationError::BadAmount)
}

/// The signature the provider computes: lower-case hex SHA-512.
pub fn signature_of(
    order_id: &str,
    status_code: &str,
    gross_amount: &str,
    server_key: &str,
) -> String {
    let mut hasher = Sha512::new();
    for part in [order_id, status_code, gross_amount, server_key] {
        hasher.update(part.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// Compares in time that does not depend on where the strings differ.
pub fn signature_matches(expected: &str, given: &str) -> bool {
    let (a, b) = (expected.as_bytes(), given.to_ascii_lowercase().into_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_covers_the_amount_exactly_as_written() {
        let with_cents = signature_of("SCRM-1", "200", "10071.00", "key");
        let without = signature_of("SCRM-1", "200", "10071", "key");
        assert_ne!(with_cents, without);
        assert!(signature_matches(&with_cents, &with_cents.to_uppercase()));
        assert!(!signature_matches(&with_cents, &without));
        assert_eq!(with_cents.len(), 128);
    }

    #[test]
    fn a_gross_amount_with_cents_is_whole_rupiah_or_refused() {
        assert_eq!(parse_gross_amount("10071.00"), Ok(10071));
        assert_eq!(parse_gross_amount("10071"), Ok(10071));
        assert!(parse_gross_amount("10071.50").is_err());
        assert!(parse_gross_amount("-5").is_err());
        assert!(parse_gross_amount("1e9").is_err());
        assert!(parse_gross_amount("").is_err());
    }

    #[test]
    fn provider_states_map_onto_payment_states() {
        let mut n = Notification {
            order_id: "o".into(),
            status_code: "200".into(),
            gross_amount: "1".into(),
            signature_key: "s".into(),
            transaction_status: "settlement".into(),
            transaction_id: None,
            fraud_status: None,
            fee_amount: None,
        };
        assert_eq!(n.target_state(), Some(PaymentState::Settled));
        n.transaction_status = "capture".into();
        n.fraud_status = Some("challenge".into());
        assert_eq!(n.target_state(), None);
        n.transaction_status = "expire".into();
        assert_eq!(n.target_state(), Some(PaymentState::Expired));
        n.order_id = "x".repeat(65);
        assert_eq!(n.check_shape(), Err(NotificationError::Malformed));
    }
}

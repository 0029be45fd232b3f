//! Phone numbers as families write them (`0812-3456-7890`, `+62 812…`,
//! `(0812) 3456 7890`, `812…`), brought to one E.164 form so that the same
//! parent is recognised whichever way the number was typed, and so that a
//! message gateway receives a number it can dial.
//!
//! Indonesian numbers are checked against the national numbering plan;
//! numbers of other countries are only checked for a plausible length and
//! are never rewritten into `+62…`.

/// Why a phone number was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("no phone number given")]
    Empty,
    #[error("contains letters or symbols that are not part of a phone number")]
    InvalidCharacter,
    #[error("does not start with +, 62, 0 or 8")]
    UnknownPrefix,
    #[error("too short for an Indonesian number")]
    TooShort,
    #[error("too long for an Indonesian number")]
    TooLong,
    #[error("an Indonesian number cannot continue with 0 or 1 after 62")]
    InvalidAfterCountryCode,
    #[error("the country code 62 is written twice")]
    RepeatedCountryCode,
    #[error("an international number must have 8 to 15 digits")]
    InternationalLength,
}

/// Normalises an Indonesian (or other international) phone number to E.164
/// form: "+62…".
///
/// Spaces, dashes, dots and parentheses are ignored. `0…`, `62…` and a bare
/// mobile `8…` are read as Indonesian; `+` followed by another country code
/// is kept as written. Normalising an output again returns it unchanged.
pub fn normalize_phone(raw: &str) -> Result<String, PhoneError> {
    let compact = strip_separators(raw)?;
    // `00` is how an international number is dialled from Indonesia.
    match compact
        .strip_prefix('+')
        .or_else(|| compact.strip_prefix("00"))
    {
        Some(international) => with_country_code(international),
        None => indonesian(national_number(&compact)?),
    }
}

const INDONESIA: &str = "62";

/// Leaves only the digits and an optional leading `+`, or says why the
/// input is not a phone number at all.
fn strip_separators(raw: &str) -> Result<String, PhoneError> {
    let compact: String = raw
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '.' | '(' | ')'))
        .collect();

    let digits = compact.strip_prefix('+').unwrap_or(&compact);
    if digits.is_empty() {
        return Err(PhoneError::Empty);
    }
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(PhoneError::InvalidCharacter);
    }
    Ok(compact)
}

/// Handles a number written after `+`: Indonesian ones get the full check,
/// others only a length check, since we do not know their numbering plans.
fn with_country_code(digits: &str) -> Result<String, PhoneError> {
    if let Some(national) = digits.strip_prefix(INDONESIA) {
        return indonesian(without_trunk_zero(national));
    }
    if digits.starts_with('0') {
        return Err(PhoneError::UnknownPrefix);
    }
    if !(8..=15).contains(&digits.len()) {
        return Err(PhoneError::InternationalLength);
    }
    Ok(format!("+{digits}"))
}

/// `+62 (0) 812…`: the trunk 0 written after the country code. No
/// Indonesian number starts with 0, so it can only be that.
fn without_trunk_zero(national: &str) -> &str {
    match national.strip_prefix('0') {
        Some(rest) if !rest.starts_with(['0', '1']) => rest,
        _ => national,
    }
}

/// Finds the national significant number in a number written without `+`.
fn national_number(digits: &str) -> Result<&str, PhoneError> {
    if let Some(national) = digits.strip_prefix(INDONESIA) {
        Ok(without_trunk_zero(national))
    } else if let Some(national) = digits.strip_prefix('0') {
        Ok(national)
    } else if digits.starts_with('8') {
        // Mobile numbers are often typed without the trunk 0.
        Ok(digits)
    } else {
        Err(PhoneError::UnknownPrefix)
    }
}

/// Checks a national significant number (what follows +62) and returns the
/// E.164 form.
fn indonesian(national: &str) -> Result<String, PhoneError> {
    if national.len() < 8 {
        return Err(PhoneError::TooShort);
    }
    // `6262…` is almost always a country code typed twice; refusing it
    // costs a few Aceh landlines (area codes 0620–0629), which is the
    // safer mistake.
    if national.starts_with(INDONESIA) {
        return Err(PhoneError::RepeatedCountryCode);
    }
    let allowed = match national.as_bytes()[0] {
        b'0' | b'1' => return Err(PhoneError::InvalidAfterCountryCode),
        b'8' => 9..=12,
        _ => 8..=11,
    };
    if national.len() > *allowed.end() {
        return Err(PhoneError::TooLong);
    }
    if national.len() < *allowed.start() {
        return Err(PhoneError::TooShort);
    }
    Ok(format!("+{INDONESIA}{national}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(raw: &str) -> String {
        normalize_phone(raw).unwrap_or_else(|e| panic!("{raw:?} refused: {e}"))
    }

    #[test]
    fn a_trunk_zero_written_after_the_country_code_is_dropped() {
        assert_eq!(ok("+62 (0) 812-3456-7890"), "+6281234567890");
        assert_eq!(ok("+62 021 345 6789"), "+62213456789");
        assert_eq!(ok("62 0812 3456 7890"), "+6281234567890");
        assert_eq!(
            normalize_phone("+62 01 2345 6789"),
            Err(PhoneError::InvalidAfterCountryCode)
        );
    }

    #[test]
    fn the_international_prefix_00_reads_as_a_plus() {
        assert_eq!(ok("0062 812 3456 7890"), "+6281234567890");
        assert_eq!(ok("0060 12 345 6789"), "+60123456789");
        assert_eq!(ok("0062 (0) 812 3456 7890"), "+6281234567890");
    }

    #[test]
    fn number_with_country_code_but_no_plus_gets_a_plus() {
        assert_eq!(ok("6281181234567"), "+6281181234567");
    }

    #[test]
    fn jakarta_landline_with_country_code_is_kept() {
        assert_eq!(ok("62213456789"), "+62213456789");
    }

    #[test]
    fn jakarta_landline_with_trunk_zero_gets_the_country_code() {
        assert_eq!(ok("0213456789"), "+62213456789");
    }

    #[test]
    fn spaces_and_dashes_are_removed() {
        assert_eq!(ok("+62 812-3456-7890"), "+6281234567890");
    }

    #[test]
    fn parentheses_and_spaces_are_removed() {
        assert_eq!(ok("(0812) 3456 7890"), "+6281234567890");
    }

    #[test]
    fn dots_are_removed() {
        assert_eq!(ok("0812.3456.7890"), "+6281234567890");
    }

    #[test]
    fn mobile_number_without_prefix_gets_the_country_code() {
        assert_eq!(ok("812345678"), "+62812345678");
    }

    #[test]
    fn country_code_with_a_single_digit_is_too_short() {
        assert_eq!(normalize_phone("+621"), Err(PhoneError::TooShort));
    }

    #[test]
    fn four_digit_mobile_prefix_is_too_short() {
        assert_eq!(normalize_phone("0812"), Err(PhoneError::TooShort));
    }

    #[test]
    fn short_number_after_country_code_is_refused() {
        assert!(normalize_phone("+6212345").is_err());
    }

    #[test]
    fn national_number_starting_with_one_is_refused() {
        assert_eq!(
            normalize_phone("+6212345678"),
            Err(PhoneError::InvalidAfterCountryCode)
        );
    }

    #[test]
    fn seventeen_digit_number_is_too_long() {
        assert_eq!(
            normalize_phone("08123456789012345"),
            Err(PhoneError::TooLong)
        );
    }

    #[test]
    fn letters_are_refused() {
        assert_eq!(
            normalize_phone("0812abc4567"),
            Err(PhoneError::InvalidCharacter)
        );
        assert_eq!(
            normalize_phone("tidak ada"),
            Err(PhoneError::InvalidCharacter)
        );
    }

    #[test]
    fn empty_input_is_refused() {
        assert_eq!(normalize_phone("  "), Err(PhoneError::Empty));
        assert_eq!(normalize_phone("+"), Err(PhoneError::Empty));
    }

    #[test]
    fn plus_in_the_middle_is_refused() {
        assert_eq!(
            normalize_phone("0812+34567890"),
            Err(PhoneError::InvalidCharacter)
        );
    }

    #[test]
    fn malaysian_number_is_kept_as_it_is() {
        assert_eq!(ok("+60123456789"), "+60123456789");
        assert_eq!(ok("+60 12-345 6789"), "+60123456789");
    }

    #[test]
    fn foreign_number_with_too_few_digits_is_refused() {
        assert_eq!(
            normalize_phone("+601234"),
            Err(PhoneError::InternationalLength)
        );
    }

    #[test]
    fn country_code_typed_twice_is_refused_not_doubled() {
        assert_eq!(
            normalize_phone("+6262812345678"),
            Err(PhoneError::RepeatedCountryCode)
        );
        assert_eq!(
            normalize_phone("6262812345678"),
            Err(PhoneError::RepeatedCountryCode)
        );
    }

    #[test]
    fn unknown_leading_digit_is_refused() {
        assert_eq!(
            normalize_phone("7123456789"),
            Err(PhoneError::UnknownPrefix)
        );
        assert_eq!(
            normalize_phone("+0123456789"),
            Err(PhoneError::UnknownPrefix)
        );
    }

    #[test]
    fn normalising_twice_gives_the_same_number() {
        let inputs = [
            "6281181234567",
            "62213456789",
            "0213456789",
            "+62 812-3456-7890",
            "(0812) 3456 7890",
            "812345678",
            "+60123456789",
        ];
        for raw in inputs {
            let once = ok(raw);
            assert_eq!(ok(&once), once, "for {raw:?}");
            assert!(!once.starts_with("+6262"), "for {raw:?}");
        }
    }

    #[test]
    fn errors_read_as_short_english_reasons() {
        assert_eq!(
            PhoneError::TooShort.to_string(),
            "too short for an Indonesian number"
        );
    }
}

//! Birth dates as Indonesian spreadsheets write them. The day always comes
//! first (`03/04/2012` is 3 April): reading it month-first would silently
//! swap day and month whenever the day is 12 or less. ISO dates and Excel
//! date numbers are accepted too; anything ambiguous is refused.

use chrono::{Days, NaiveDate, Utc};

/// Excel counts days from 1899-12-30 (for every date after its phantom
/// 29 February 1900, which is all we accept).
const EXCEL_EPOCH: Option<NaiveDate> = NaiveDate::from_ymd_opt(1899, 12, 30);

/// Excel numbers we take as dates: 10000 is 1927-05-18, 80000 is in 2119.
const EXCEL_SERIALS: std::ops::RangeInclusive<u64> = 10000..=80000;

/// Parses a birth date written day first (`dd/mm/yyyy`, `dd-mm-yyyy`,
/// `dd.mm.yyyy`), as ISO `yyyy-mm-dd`, or as an Excel date number.
///
/// An empty cell gives `Ok(None)`. The error is a short English reason.
/// Dates after today (in Indonesian western time) are refused.
pub fn parse_birth_date(raw: &str) -> Result<Option<NaiveDate>, String> {
    parse_birth_date_as_of(raw, today_in_indonesia())
}

/// Like [`parse_birth_date`], with "today" given, so callers and tests
/// decide what counts as the future.
pub fn parse_birth_date_as_of(raw: &str, today: NaiveDate) -> Result<Option<NaiveDate>, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }

    let date = if raw.bytes().all(|b| b.is_ascii_digit()) {
        from_excel_serial(raw)?
    } else {
        from_day_month_year(raw)?
    };
    if date > today {
        return Err(format!("'{raw}' is in the future"));
    }
    Ok(Some(date))
}

/// Today's date for the school: Batam keeps Jakarta time (UTC+7).
pub(crate) fn today_in_indonesia() -> NaiveDate {
    Utc::now()
        .with_timezone(&chrono_tz::Asia::Jakarta)
        .date_naive()
}

fn from_excel_serial(raw: &str) -> Result<NaiveDate, String> {
    let serial = raw
        .parse::<u64>()
        .ok()
        .filter(|serial| EXCEL_SERIALS.contains(serial))
        .ok_or_else(|| format!("'{raw}' is neither a date nor an Excel date number"))?;
    EXCEL_EPOCH
        .and_then(|epoch| epoch.checked_add_days(Days::new(serial)))
        .ok_or_else(|| format!("'{raw}' is not a date"))
}

fn from_day_month_year(raw: &str) -> Result<NaiveDate, String> {
    let [first, month, last] = split_in_three(raw)
        .ok_or_else(|| format!("'{raw}' is not a date; write it as dd/mm/yyyy"))?;
    let (year, day) = if first.len() == 4 {
        (first, last)
    } else {
        (last, first)
    };

    if year.len() == 2 {
        return Err(format!(
            "'{raw}' has a two-digit year, which is ambiguous; write the year in full"
        ));
    }
    if year.len() != 4 || day.len() > 2 || month.len() > 2 {
        return Err(format!("'{raw}' is not a date; write it as dd/mm/yyyy"));
    }
    calendar_date(year, month, day).ok_or_else(|| format!("'{raw}' is not a real calendar date"))
}

/// Splits `a/b/c` (or with `-` or `.`, the same separator twice) into three
/// non-empty runs of digits.
fn split_in_three(raw: &str) -> Option<[&str; 3]> {
    let separator = raw.chars().find(|c| !c.is_ascii_digit())?;
    if !matches!(separator, '/' | '-' | '.') {
        return None;
    }
    let mut parts = raw.split(separator);
    let three = [parts.next()?, parts.next()?, parts.next()?];
    let all_digits = |part: &&str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    (parts.next().is_none() && three.iter().all(all_digits)).then_some(three)
}

fn calendar_date(year: &str, month: &str, day: &str) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year.parse().ok()?, month.parse().ok()?, day.parse().ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        date(2026, 3, 10)
    }

    fn date(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).expect("valid test date")
    }

    fn parsed(raw: &str) -> Option<NaiveDate> {
        parse_birth_date_as_of(raw, today()).unwrap_or_else(|e| panic!("{raw:?}: {e}"))
    }

    fn refused(raw: &str) -> String {
        parse_birth_date_as_of(raw, today()).expect_err(raw)
    }

    #[test]
    fn day_comes_first_when_both_parts_could_be_a_month() {
        assert_eq!(parsed("03/04/2012"), Some(date(2012, 4, 3)));
    }

    #[test]
    fn day_above_twelve_is_read_as_a_day() {
        assert_eq!(parsed("15/04/2012"), Some(date(2012, 4, 15)));
    }

    #[test]
    fn single_digit_day_and_month_are_accepted() {
        assert_eq!(parsed("1/2/2012"), Some(date(2012, 2, 1)));
    }

    #[test]
    fn last_day_of_the_year_is_accepted() {
        assert_eq!(parsed("31/12/2011"), Some(date(2011, 12, 31)));
    }

    #[test]
    fn leap_day_in_a_leap_year_is_accepted() {
        assert_eq!(parsed("29/02/2012"), Some(date(2012, 2, 29)));
    }

    #[test]
    fn leap_day_in_a_common_year_is_refused() {
        assert_eq!(
            refused("29/02/2013"),
            "'29/02/2013' is not a real calendar date"
        );
    }

    #[test]
    fn thirty_first_of_april_is_refused() {
        assert_eq!(
            refused("31/04/2012"),
            "'31/04/2012' is not a real calendar date"
        );
    }

    #[test]
    fn iso_date_is_accepted() {
        assert_eq!(parsed("2012-04-03"), Some(date(2012, 4, 3)));
    }

    #[test]
    fn dashed_date_is_also_day_first() {
        assert_eq!(parsed("03-04-2012"), Some(date(2012, 4, 3)));
    }

    #[test]
    fn dotted_date_is_also_day_first() {
        assert_eq!(parsed("03.04.2012"), Some(date(2012, 4, 3)));
    }

    #[test]
    fn excel_date_number_is_converted() {
        assert_eq!(parsed("44927"), Some(date(2023, 1, 1)));
    }

    #[test]
    fn excel_date_numbers_outside_the_accepted_range_are_refused() {
        assert!(refused("999").contains("Excel date number"));
        assert!(refused("80001").contains("Excel date number"));
        assert!(refused("20120403").contains("Excel date number"));
    }

    #[test]
    fn empty_cell_gives_no_date() {
        assert_eq!(parsed(""), None);
        assert_eq!(parsed("   "), None);
    }

    #[test]
    fn two_digit_year_is_refused() {
        assert!(refused("03/04/12").contains("two-digit year"));
    }

    #[test]
    fn date_in_the_future_is_refused() {
        assert_eq!(refused("11/03/2026"), "'11/03/2026' is in the future");
    }

    #[test]
    fn today_is_not_in_the_future() {
        assert_eq!(parsed("10/03/2026"), Some(today()));
    }

    #[test]
    fn mixed_separators_and_words_are_refused() {
        assert!(refused("03/04-2012").contains("dd/mm/yyyy"));
        assert!(refused("3 April 2012").contains("dd/mm/yyyy"));
        assert!(refused("03/04/2012/1").contains("dd/mm/yyyy"));
        assert!(refused("003/04/2012").contains("dd/mm/yyyy"));
    }

    #[test]
    fn public_parser_uses_the_real_clock() {
        assert_eq!(parse_birth_date("03/04/2012"), Ok(Some(date(2012, 4, 3))));
        assert!(parse_birth_date("01/01/2999").is_err());
    }
}

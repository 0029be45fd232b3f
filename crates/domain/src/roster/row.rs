//! Reads one data row into a [`RosterRow`]. A row is taken whole or refused
//! with every reason found, so the school can fix the file in one pass and
//! no student is imported half-filled.

use chrono::NaiveDate;
use csv::StringRecord;

use super::dates::parse_birth_date_as_of;
use super::headers::{Column, ColumnMap};
use super::{ClassName, RosterRow, RowError, Sex};
use crate::phone::normalize_phone;

/// Parses the record found at `line`, with `today` bounding birth dates.
pub(super) fn parse_row(
    record: &StringRecord,
    line: usize,
    columns: &ColumnMap,
    today: NaiveDate,
) -> Result<RosterRow, Vec<RowError>> {
    if record.len() != columns.width() {
        return Err(vec![RowError {
            line,
            field: None,
            message: format!(
                "has {} fields but the header has {}",
                record.len(),
                columns.width()
            ),
        }]);
    }
    RowReader {
        record,
        line,
        columns,
        errors: Vec::new(),
    }
    .read(today)
}

/// Reads cells of one record, collecting the reasons it cannot be taken.
struct RowReader<'a> {
    record: &'a StringRecord,
    line: usize,
    columns: &'a ColumnMap,
    errors: Vec<RowError>,
}

impl RowReader<'_> {
    fn read(mut self, today: NaiveDate) -> Result<RosterRow, Vec<RowError>> {
        let student_name = self.required_name();
        let (nisn, nipd) = self.student_numbers();
        let sex = self.checked(Column::Sex, parse_sex);
        let birth_date = self.checked(Column::BirthDate, |raw| parse_birth_date_as_of(raw, today));
        let phone = self.checked(Column::Phone, |raw| {
            normalize_phone(raw).map(Some).map_err(|e| e.to_string())
        });
        let email = self.checked(Column::Email, parse_email);
        let class = self.class();

        // A refused field reads as `None`, so a row with any reason
        // recorded is refused as a whole.
        let (Some(student_name), Some(class)) = (student_name, class) else {
            return Err(self.errors);
        };
        if !self.errors.is_empty() {
            return Err(self.errors);
        }
        Ok(RosterRow {
            line: self.line,
            student_name,
            nisn,
            nipd,
            sex,
            birth_place: self.text(Column::BirthPlace),
            birth_date,
            religion: self.text(Column::Religion),
            address: self.text(Column::Address),
            phone,
            email,
            father_name: self.text(Column::Father),
            mother_name: self.text(Column::Mother),
            guardian_name: self.text(Column::Guardian),
            class,
        })
    }

    fn required_name(&mut self) -> Option<String> {
        let name = self.text(Column::Name);
        if name.is_none() {
            self.refuse(Column::Name, "the student's name is empty".to_string());
        }
        name
    }

    /// At least one of NISN and NIPD identifies the student on re-import.
    fn student_numbers(&mut self) -> (Option<String>, Option<String>) {
        let nisn = self.checked(Column::Nisn, parse_nisn);
        let nipd = self.text(Column::Nipd);
        let cell_empty = |c: Column| self.cell(c).trim().is_empty();
        if cell_empty(Column::Nisn) && cell_empty(Column::Nipd) {
            self.refuse(
                Column::Nisn,
                "neither NISN nor NIPD is filled in".to_string(),
            );
        }
        (nisn, nipd)
    }

    fn class(&mut self) -> Option<ClassName> {
        let raw = self.cell(Column::Class);
        let class = ClassName::parse(raw);
        if class.is_none() {
            let message = format!(
                "cannot read the class '{}'; write it like Kelas 7A or VII-A",
                raw.trim()
            );
            self.refuse(Column::Class, message);
        }
        class
    }

    /// Parses an optional cell; `None` when it is empty, or when it is
    /// wrong, in which case the reason is recorded.
    fn checked<T>(
        &mut self,
        column: Column,
        parse: impl FnOnce(&str) -> Result<Option<T>, String>,
    ) -> Option<T> {
        let raw = self.cell(column).trim();
        if raw.is_empty() {
            return None;
        }
        parse(raw).unwrap_or_else(|message| {
            self.refuse(column, message);
            None
        })
    }

    /// A free-text cell with whitespace tidied, `None` when empty.
    fn text(&self, column: Column) -> Option<String> {
        let tidy = self
            .cell(column)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        (!tidy.is_empty()).then_some(tidy)
    }

    fn cell(&self, column: Column) -> &str {
        self.columns.cell(self.record, column)
    }

    fn refuse(&mut self, column: Column, message: String) {
        self.errors.push(RowError {
            line: self.line,
            field: Some(column.label()),
            message,
        });
    }
}

fn parse_nisn(raw: &str) -> Result<Option<String>, String> {
    if raw.len() == 10 && raw.bytes().all(|b| b.is_ascii_digit()) {
        Ok(Some(raw.to_string()))
    } else {
        Err("NISN must be exactly 10 digits".to_string())
    }
}

fn parse_sex(raw: &str) -> Result<Option<Sex>, String> {
    match raw.to_uppercase().as_str() {
        "L" | "LAKI-LAKI" | "LAKI LAKI" => Ok(Some(Sex::Male)),
        "P" | "PEREMPUAN" => Ok(Some(Sex::Female)),
        _ => Err("must be L or P".to_string()),
    }
}

/// A loose check that catches typing slips, not a full address grammar:
/// one `@`, something before it, and a dotted domain after it.
fn parse_email(raw: &str) -> Result<Option<String>, String> {
    let email = raw.to_lowercase();
    let invalid = || Err("not a valid e-mail address".to_string());
    if email.chars().any(char::is_whitespace) {
        return invalid();
    }
    let Some((local, domain)) = email.split_once('@') else {
        return invalid();
    };
    let dotted = domain.split('.').count() >= 2 && domain.split('.').all(|part| !part.is_empty());
    if local.is_empty() || domain.contains('@') || !dotted {
        return invalid();
    }
    Ok(Some(email))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: [&str; 15] = [
        "No",
        "Nama",
        "NIPD",
        "JK",
        "NISN",
        "Tempat Lahir",
        "Tanggal Lahir",
        "Agama",
        "Alamat",
        "HP",
        "E-Mail",
        "Nama Ayah",
        "Nama Ibu",
        "Nama Wali",
        "Rombel Saat Ini",
    ];

    /// A complete, valid row; tests change one cell at a time.
    fn good_row() -> [&'static str; 15] {
        [
            "1",
            " Vania   Gunawan ",
            "2026001",
            "P",
            "1093931676",
            "Palembang",
            "05/08/2010",
            "Kristen",
            "Komp. Nagoya Hill No. 210, Batam",
            "0879-7973-0911",
            " Farhan.Gunawan2@Example.com ",
            "Farhan Gunawan",
            "Grace D’Costa",
            "",
            "VII-A",
        ]
    }

    fn parse(cells: &[&str]) -> Result<RosterRow, Vec<RowError>> {
        let columns =
            ColumnMap::from_header(&StringRecord::from(HEADER.to_vec())).expect("header accepted");
        let today = NaiveDate::from_ymd_opt(2026, 3, 10).expect("valid date");
        parse_row(&StringRecord::from(cells.to_vec()), 7, &columns, today)
    }

    fn with(index: usize, value: &'static str) -> [&'static str; 15] {
        let mut row = good_row();
        row[index] = value;
        row
    }

    fn refused_fields(cells: &[&str]) -> Vec<Option<&'static str>> {
        let errors = parse(cells).expect_err("refused");
        errors.iter().map(|e| e.field).collect()
    }

    #[test]
    fn complete_row_is_read_and_tidied() {
        let row = parse(&good_row()).expect("accepted");

        assert_eq!(row.line, 7);
        assert_eq!(row.student_name, "Vania Gunawan");
        assert_eq!(row.nisn.as_deref(), Some("1093931676"));
        assert_eq!(row.nipd.as_deref(), Some("2026001"));
        assert_eq!(row.sex, Some(Sex::Female));
        assert_eq!(row.birth_date, NaiveDate::from_ymd_opt(2010, 8, 5));
        assert_eq!(row.phone.as_deref(), Some("+6287979730911"));
        assert_eq!(row.email.as_deref(), Some("farhan.gunawan2@example.com"));
        assert_eq!(row.mother_name.as_deref(), Some("Grace D’Costa"));
        assert_eq!(row.guardian_name, None);
        assert_eq!(row.class.display(), "Kelas 7A");
    }

    #[test]
    fn optional_cells_may_all_be_empty() {
        let mut cells = [""; 15];
        cells[1] = "Budi";
        cells[4] = "1093931676";
        cells[14] = "7A";

        let row = parse(&cells).expect("accepted");

        assert_eq!(
            (row.nipd, row.sex, row.phone, row.email),
            (None, None, None, None)
        );
    }

    #[test]
    fn empty_name_refuses_the_row() {
        assert_eq!(refused_fields(&with(1, "  ")), [Some("Nama")]);
    }

    #[test]
    fn unreadable_class_refuses_the_row() {
        let errors = parse(&with(14, "Kelas 13A")).expect_err("refused");

        assert_eq!(errors[0].field, Some("Kelas"));
        assert!(errors[0].message.contains("Kelas 13A"));
    }

    #[test]
    fn row_without_nisn_and_nipd_is_refused() {
        let mut cells = good_row();
        cells[2] = "";
        cells[4] = " ";

        assert_eq!(refused_fields(&cells), [Some("NISN")]);
    }

    #[test]
    fn nipd_alone_identifies_the_student() {
        let row = parse(&with(4, "")).expect("accepted");

        assert_eq!((row.nisn, row.nipd.as_deref()), (None, Some("2026001")));
    }

    #[test]
    fn nisn_that_is_not_ten_digits_refuses_the_row() {
        assert_eq!(refused_fields(&with(4, "93931676")), [Some("NISN")]);
        assert_eq!(refused_fields(&with(4, "1.09394E+09")), [Some("NISN")]);
    }

    #[test]
    fn invalid_phone_refuses_the_row_naming_the_hp_field() {
        let errors = parse(&with(9, "0812")).expect_err("refused");

        assert_eq!(errors[0].field, Some("HP"));
        assert_eq!(errors[0].message, "too short for an Indonesian number");
    }

    #[test]
    fn invalid_email_refuses_the_row() {
        for email in [
            "farhan@",
            "farhan.example.com",
            "a@b@c.com",
            "a@b",
            "a b@c.com",
            "a@.com",
        ] {
            assert_eq!(
                refused_fields(&with(10, email)),
                [Some("E-Mail")],
                "{email}"
            );
        }
    }

    #[test]
    fn invalid_birth_date_refuses_the_row() {
        assert_eq!(
            refused_fields(&with(6, "31/04/2012")),
            [Some("Tanggal Lahir")]
        );
    }

    #[test]
    fn unknown_sex_refuses_the_row() {
        assert_eq!(refused_fields(&with(3, "X")), [Some("JK")]);
    }

    #[test]
    fn sex_may_be_written_in_full() {
        assert_eq!(
            parse(&with(3, "laki-laki")).map(|r| r.sex),
            Ok(Some(Sex::Male))
        );
    }

    #[test]
    fn every_problem_in_a_row_is_reported() {
        let mut cells = good_row();
        cells[9] = "abc";
        cells[10] = "nope";
        cells[14] = "?";

        assert_eq!(
            refused_fields(&cells),
            [Some("HP"), Some("E-Mail"), Some("Kelas")]
        );
    }

    #[test]
    fn row_with_the_wrong_number_of_fields_is_refused() {
        let errors = parse(&good_row()[..14]).expect_err("refused");

        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, None);
        assert_eq!(errors[0].message, "has 14 fields but the header has 15");
    }
}

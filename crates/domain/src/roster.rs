//! Reads a student roster exported as CSV (from Dapodik, Excel or by hand)
//! into checked rows, without touching a database. Whole-file problems
//! (a workbook instead of CSV, an unknown encoding, a missing column) refuse
//! the file; problems in a row refuse that row with its line and field, so
//! an import never stores blanks or guessed text and never skips silently.

mod classes;
mod dates;
mod encoding;
mod headers;
mod row;

use chrono::NaiveDate;
use csv::{ReaderBuilder, StringRecord};
use serde::Serialize;

pub use classes::ClassName;
pub use dates::{parse_birth_date, parse_birth_date_as_of};

use headers::ColumnMap;

/// The readable rows of a roster file and the reasons for refusing others.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParsedRoster {
    pub rows: Vec<RosterRow>,
    /// Every problem found, ordered by line. A row with several problems
    /// appears once per problem; see [`ParsedRoster::refused_row_count`].
    pub refused: Vec<RowError>,
    /// The delimiter found in the header: `b','`, `b';'` or `b'\t'`.
    pub delimiter: u8,
    /// The encoding the file was read as, e.g. `UTF-8` or `windows-1252`.
    pub encoding: &'static str,
}

impl ParsedRoster {
    /// How many rows were refused (each counted once).
    pub fn refused_row_count(&self) -> usize {
        let mut lines: Vec<usize> = self.refused.iter().map(|e| e.line).collect();
        lines.dedup();
        lines.len()
    }
}

/// One student as read from the file, every field checked and tidied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RosterRow {
    /// 1-based line in the file; the header is line 1.
    pub line: usize,
    pub student_name: String,
    /// National student number: 10 digits.
    pub nisn: Option<String>,
    /// The school's own student number.
    pub nipd: Option<String>,
    pub sex: Option<Sex>,
    pub birth_place: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub religion: Option<String>,
    pub address: Option<String>,
    /// E.164, e.g. `+6281234567890`.
    pub phone: Option<String>,
    /// Lower-case.
    pub email: Option<String>,
    pub father_name: Option<String>,
    pub mother_name: Option<String>,
    /// The guardian, or the single parent column of simple files
    /// (`nama_ortu`).
    pub guardian_name: Option<String>,
    pub class: ClassName,
}

/// Sex as Dapodik records it: `L` (laki-laki) or `P` (perempuan).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Sex {
    Male,
    Female,
}

/// Why a row was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// 1-based line in the file; the header is line 1.
    pub line: usize,
    /// The column at fault, named as Dapodik does (`HP`, `NISN`, `Kelas`),
    /// or `None` when the row as a whole is malformed.
    pub field: Option<&'static str>,
    pub message: String,
}

/// Why a whole file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RosterFileError {
    #[error("this looks like an Excel workbook (.xlsx); please save it as CSV")]
    ExcelWorkbook,
    #[error("this looks like an old Excel workbook (.xls); please save it as CSV")]
    LegacyExcelWorkbook,
    #[error(
        "line {line} contains NUL bytes, so this is not a CSV text file; \
         please save it as CSV UTF-8"
    )]
    NotText { line: usize },
    #[error(
        "the text encoding of the file could not be recognised (unexpected \
         control character on line {line}); please save it as CSV UTF-8"
    )]
    UnknownEncoding { line: usize },
    #[error(
        "the file is marked as {encoding} but is not valid {encoding}; \
         please save it as CSV UTF-8"
    )]
    InvalidForEncoding { encoding: &'static str },
    #[error(
        "line {line} contains the replacement character �, so the text was \
         damaged before upload; please export the roster again"
    )]
    DamagedText { line: usize },
    #[error("the file is empty: there is no header line")]
    Empty,
    #[error(
        "the first line is not a header: none of its columns is a known \
         roster column such as Nama, NISN or Kelas"
    )]
    NoHeader,
    #[error("the header has no {column} column")]
    MissingColumn { column: &'static str },
    #[error("the header has neither a NISN nor a NIPD column; one of them is required")]
    MissingStudentNumber,
    #[error("line {line} could not be read as CSV: {reason}")]
    Malformed { line: usize, reason: String },
}

/// Parses a roster file, with birth dates after today (Jakarta time)
/// refused.
pub fn parse_roster(bytes: &[u8]) -> Result<ParsedRoster, RosterFileError> {
    parse_roster_as_of(bytes, dates::today_in_indonesia())
}

/// Like [`parse_roster`], with "today" given for the birth-date check.
pub fn parse_roster_as_of(bytes: &[u8], today: NaiveDate) -> Result<ParsedRoster, RosterFileError> {
    let decoded = encoding::decode(bytes)?;
    let text = decoded.text.trim_start_matches('\u{FEFF}');
    let delimiter = headers::detect_delimiter(text);

    let mut records = non_blank_records(text, delimiter);
    let (_, header) = records.next().ok_or(RosterFileError::Empty)??;
    let columns = ColumnMap::from_header(&header)?;

    let mut parsed = ParsedRoster {
        rows: Vec::new(),
        refused: Vec::new(),
        delimiter,
        encoding: decoded.encoding,
    };
    for record in records {
        let (line, record) = record?;
        match row::parse_row(&record, line, &columns, today) {
            Ok(row) => parsed.rows.push(row),
            Err(errors) => parsed.refused.extend(errors),
        }
    }
    Ok(parsed)
}

/// CSV records with their line numbers, skipping lines that hold nothing
/// but whitespace or empty fields (Excel writes `;;;;` for blank rows).
fn non_blank_records(
    text: &str,
    delimiter: u8,
) -> impl Iterator<Item = Result<(usize, StringRecord), RosterFileError>> + '_ {
    let reader = ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut lines = LineCounter::new(text);
    reader
        .into_records()
        .map(move |record| {
            let record = record.map_err(|e| RosterFileError::Malformed {
                line: e.position().map_or(0, |p| lines.line_of(p.byte())),
                reason: e.to_string(),
            })?;
            let line = record.position().map_or(0, |p| lines.line_of(p.byte()));
            Ok((line, record))
        })
        .filter(|record| !matches!(record, Ok((_, r)) if r.iter().all(|f| f.trim().is_empty())))
}

/// Turns the byte offsets of records into 1-based line numbers. The csv
/// crate's own line count lags by one after CRLF line ends (it counts the
/// `\n` with the next record), so we count ourselves.
struct LineCounter<'t> {
    text: &'t [u8],
    offset: usize,
    line: usize,
}

impl<'t> LineCounter<'t> {
    fn new(text: &'t str) -> Self {
        LineCounter {
            text: text.as_bytes(),
            offset: 0,
            line: 1,
        }
    }

    /// The line of the record read from `byte` on; records arrive in
    /// order, so counting resumes where the previous one stopped.
    fn line_of(&mut self, byte: u64) -> usize {
        let mut start = usize::try_from(byte).map_or(self.text.len(), |b| b.min(self.text.len()));
        // A record's offset may point at the line end before it, or at
        // blank lines the reader skipped.
        while matches!(self.text.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        let start = start.max(self.offset);
        let newlines = self.text[self.offset..start]
            .iter()
            .filter(|&&b| b == b'\n');
        self.line += newlines.count();
        self.offset = start;
        self.line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &[u8] = include_bytes!("../../../../shared/fixtures/roster-sample.csv");

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, 10).expect("valid date")
    }

    fn parse(bytes: &[u8]) -> ParsedRoster {
        parse_roster_as_of(bytes, today()).expect("file accepted")
    }

    #[test]
    fn sample_roster_is_read_completely() {
        let parsed = parse_roster(FIXTURE).expect("file accepted");

        assert_eq!(parsed.refused, []);
        assert_eq!(parsed.rows.len(), 1008);
        assert_eq!((parsed.delimiter, parsed.encoding), (b',', "UTF-8"));
        assert_eq!(parsed.rows[0].line, 2);
        assert_eq!(parsed.rows[0].mother_name.as_deref(), Some("Grace D'Costa"));
        assert_eq!(parsed.rows[1007].line, 1009);
    }

    #[test]
    fn sample_roster_phones_are_all_normalised() {
        let parsed = parse(FIXTURE);

        let phones = parsed.rows.iter().filter_map(|r| r.phone.as_deref());

        assert!(phones.clone().count() > 900);
        assert!(phones.clone().all(|p| p.starts_with("+628")));
    }
}

#[cfg(test)]
mod excel_exports;

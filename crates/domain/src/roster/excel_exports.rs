//! Whole files laid out as spreadsheets really save them (cases BC-09,
//! BC-19, BC-20 and BC-30): byte-order marks, `;` and tabs, Windows-1252,
//! CRLF, stray blank lines, and workbooks renamed to `.csv`.

use chrono::NaiveDate;

use super::*;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 10).expect("valid date")
}

fn parse(bytes: &[u8]) -> ParsedRoster {
    parse_roster_as_of(bytes, today()).expect("file accepted")
}

fn refuse(bytes: &[u8]) -> RosterFileError {
    parse_roster_as_of(bytes, today()).expect_err("file refused")
}

fn with_bom(text: &str) -> Vec<u8> {
    [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat()
}

const BC09_SEMICOLON: &str = "nisn;nama;kelas;nama_ortu;no_hp_ortu\r\n\
    0012345678;Budi Santoso;VII-A;Siti Aminah;0812-3456-7890\r\n\
    0012345679;Ani Santoso;Kelas 7A;Siti Aminah;0812-3456-7890\r\n\
    0012345680;Rudi Hartono;8B;Hartono;+62 813 1111 2222\r\n";

const BC09_COMMA: &str = "nisn,nama,kelas,nama_ortu,no_hp_ortu\n\
    0012345678,Budi Santoso,VII-A,Siti Aminah,0812-3456-7890\n\
    0012345679,Ani Santoso,Kelas 7A,Siti Aminah,0812-3456-7890\n\
    0012345680,Rudi Hartono,8B,Hartono,+62 813 1111 2222\n";

#[test]
fn excel_utf8_export_with_bom_and_semicolons_keeps_the_first_column() {
    let parsed = parse(&with_bom(BC09_SEMICOLON));

    assert_eq!(parsed.refused, []);
    assert_eq!(parsed.rows.len(), 3);
    assert!(parsed.rows.iter().all(|r| r.nisn.is_some()));
    assert_eq!(parsed.rows[0].nisn.as_deref(), Some("0012345678"));
    assert_eq!(parsed.rows[0].guardian_name.as_deref(), Some("Siti Aminah"));
    assert_eq!(parsed.rows[2].phone.as_deref(), Some("+6281311112222"));
    assert_eq!((parsed.delimiter, parsed.encoding), (b';', "UTF-8"));
}

#[test]
fn excel_utf8_export_reads_the_same_as_a_plain_comma_file() {
    let excel = parse(&with_bom(BC09_SEMICOLON));
    let plain = parse(BC09_COMMA.as_bytes());

    assert_eq!(excel.rows, plain.rows);
    assert_eq!(excel.rows[0].class, excel.rows[1].class);
}

const BC30_HEADER: &str = "NISN;Nama;Kelas;Alamat;Nama Ibu";
const BC30_ROWS: [&str; 2] = [
    "1234567890;Andr\u{e9} O\u{2019}Neil;X-A;\"Jl. Merdeka No. 5; RT 02/RW 03\";Ren\u{e9}e",
    "1234567891;Dewi;10 B;Batam;Sari",
];

/// File A of BC-30: Windows-1252, `;`, CRLF, no byte-order mark.
fn windows_1252_file() -> Vec<u8> {
    let mut bytes = Vec::new();
    for line in std::iter::once(BC30_HEADER).chain(BC30_ROWS) {
        let (encoded, _, unmappable) = encoding_rs::WINDOWS_1252.encode(line);
        assert!(!unmappable);
        bytes.extend_from_slice(&encoded);
        bytes.extend_from_slice(b"\r\n");
    }
    bytes
}

/// The BC-30 content with another delimiter, as UTF-8 text.
fn text_with(delimiter: &str) -> String {
    std::iter::once(BC30_HEADER)
        .chain(BC30_ROWS)
        .map(|line| swap_delimiter(line, delimiter))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Replaces `;` outside quotes only, so the address keeps its own `;`.
fn swap_delimiter(line: &str, delimiter: &str) -> String {
    let mut quoted = false;
    let mut out = String::new();
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                out.push(c);
            }
            ';' if !quoted => out.push_str(delimiter),
            _ => out.push(c),
        }
    }
    out
}

#[test]
fn windows_1252_file_keeps_accents_apostrophe_and_quoted_semicolon() {
    let bytes = windows_1252_file();
    assert!(bytes.contains(&0x92));

    let parsed = parse(&bytes);

    assert_eq!(parsed.refused, []);
    assert_eq!(parsed.encoding, "windows-1252");
    let row = &parsed.rows[0];
    assert_eq!(row.student_name, "André O’Neil");
    assert_eq!(
        row.address.as_deref(),
        Some("Jl. Merdeka No. 5; RT 02/RW 03")
    );
    assert_eq!(row.mother_name.as_deref(), Some("Renée"));
}

#[test]
fn windows_1252_utf8_and_tab_files_give_identical_rows() {
    let a = parse(&windows_1252_file());
    let b = parse(&with_bom(&text_with(",")));
    let c = parse(text_with("\t").as_bytes());

    assert_eq!(a.rows.len(), 2);
    assert_eq!(a.rows, b.rows);
    assert_eq!(a.rows, c.rows);
    assert_eq!([a.delimiter, b.delimiter, c.delimiter], [b';', b',', b'\t']);
}

#[test]
fn utf16_unicode_text_export_gives_the_same_rows() {
    let mut bytes = vec![0xFF, 0xFE];
    for unit in text_with("\t").encode_utf16() {
        bytes.extend_from_slice(&unit.to_le_bytes());
    }

    let parsed = parse(&bytes);

    assert_eq!(parsed.encoding, "UTF-16LE");
    assert_eq!(parsed.rows, parse(&windows_1252_file()).rows);
}

#[test]
fn xlsx_workbook_renamed_to_csv_is_refused() {
    let refused = refuse(b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00");

    assert_eq!(
        refused.to_string(),
        "this looks like an Excel workbook (.xlsx); please save it as CSV"
    );
}

#[test]
fn last_line_without_a_newline_is_read() {
    let text = "nisn,nama,kelas\n1234567890,Budi,7A\n1234567891,Ani,7B";

    let parsed = parse(text.as_bytes());

    assert_eq!(parsed.rows.len(), 2);
    assert_eq!(parsed.rows[1].student_name, "Ani");
}

#[test]
fn blank_lines_anywhere_are_ignored_and_line_numbers_stay_true() {
    let text = "\r\nnisn;nama;kelas\r\n1234567890;Budi;7A\r\n\r\n;;\r\n  \r\n\
                1234567891;Ani;7B\r\n\r\n\r\n";

    let parsed = parse(text.as_bytes());

    assert_eq!(parsed.refused, []);
    let lines: Vec<usize> = parsed.rows.iter().map(|r| r.line).collect();
    assert_eq!(lines, [3, 7]);
}

#[test]
fn quoted_cell_spanning_lines_keeps_later_line_numbers_true() {
    let text = "nisn,nama,kelas,alamat\r\n\
                1234567890,Budi,7A,\"Jl. Merdeka No. 5\r\nRT 02/RW 03\"\r\n\
                1234567891,Ani,7B,Batam\r\n";

    let parsed = parse(text.as_bytes());

    let lines: Vec<usize> = parsed.rows.iter().map(|r| r.line).collect();
    assert_eq!(lines, [2, 4]);
    assert_eq!(
        parsed.rows[0].address.as_deref(),
        Some("Jl. Merdeka No. 5 RT 02/RW 03")
    );
}

#[test]
fn birth_dates_are_read_day_first_and_bad_ones_refuse_their_rows() {
    let dates = [
        ("03/04/2012", NaiveDate::from_ymd_opt(2012, 4, 3)),
        ("15/04/2012", NaiveDate::from_ymd_opt(2012, 4, 15)),
        ("1/2/2012", NaiveDate::from_ymd_opt(2012, 2, 1)),
        ("31/12/2011", NaiveDate::from_ymd_opt(2011, 12, 31)),
        ("29/02/2012", NaiveDate::from_ymd_opt(2012, 2, 29)),
        ("2012-04-03", NaiveDate::from_ymd_opt(2012, 4, 3)),
        ("03-04-2012", NaiveDate::from_ymd_opt(2012, 4, 3)),
        ("44927", NaiveDate::from_ymd_opt(2023, 1, 1)),
        ("", None),
    ];
    let mut text = String::from("NISN,Nama,Kelas,Tanggal Lahir\n");
    for (i, (date, _)) in dates.iter().enumerate() {
        text.push_str(&format!("{},Anak {i},7A,{date}\n", 1_000_000_000 + i));
    }
    text.push_str("1000000100,Salah,7A,29/02/2013\n1000000101,Salah,7A,31/04/2012\n");

    let parsed = parse(text.as_bytes());

    let read: Vec<_> = parsed.rows.iter().map(|r| r.birth_date).collect();
    let expected: Vec<_> = dates.iter().map(|(_, date)| *date).collect();
    assert_eq!(read, expected);
    let refused: Vec<_> = parsed.refused.iter().map(|e| (e.line, e.field)).collect();
    assert_eq!(
        refused,
        [(11, Some("Tanggal Lahir")), (12, Some("Tanggal Lahir"))]
    );
}

#[test]
fn phones_are_normalised_and_bad_ones_refuse_their_rows_on_the_hp_field() {
    let text = "NISN,Nama,Kelas,HP\n\
                1000000001,A,7A,6281181234567\n\
                1000000002,B,7A,(0812) 3456 7890\n\
                1000000003,C,7A,+60123456789\n\
                1000000004,D,7A,+621\n\
                1000000005,E,7A,08123456789012345\n";

    let parsed = parse(text.as_bytes());

    let phones: Vec<_> = parsed.rows.iter().map(|r| r.phone.as_deref()).collect();
    assert_eq!(
        phones,
        [
            Some("+6281181234567"),
            Some("+6281234567890"),
            Some("+60123456789")
        ]
    );
    let refused: Vec<_> = parsed.refused.iter().map(|e| (e.line, e.field)).collect();
    assert_eq!(refused, [(5, Some("HP")), (6, Some("HP"))]);
}

#[test]
fn row_with_an_unquoted_extra_delimiter_is_refused_not_shifted() {
    let text = "nisn;nama;kelas;alamat\n\
                1234567890;Budi;7A;Jl. Merdeka; RT 02\n\
                1234567891;Ani;7B;Batam\n";

    let parsed = parse(text.as_bytes());

    assert_eq!(parsed.rows.len(), 1);
    assert_eq!(parsed.refused[0].line, 2);
    assert_eq!(
        parsed.refused[0].message,
        "has 5 fields but the header has 4"
    );
}

#[test]
fn each_refused_row_is_counted_once() {
    let text = "nisn,nama,kelas,HP\n,,?,abc\n1234567890,Ani,7B,\n";

    let parsed = parse(text.as_bytes());

    assert_eq!(parsed.refused.len(), 4);
    assert_eq!(parsed.refused_row_count(), 1);
}

#[test]
fn header_only_file_has_no_rows() {
    let parsed = parse(b"nisn;nama;kelas\r\n");

    assert_eq!((parsed.rows.len(), parsed.refused.len()), (0, 0));
}

#[test]
fn empty_file_is_refused() {
    assert_eq!(refuse(b""), RosterFileError::Empty);
    assert_eq!(refuse(b"\xEF\xBB\xBF\r\n \r\n"), RosterFileError::Empty);
}

#[test]
fn missing_class_column_refuses_the_file_naming_it() {
    let refused = refuse(b"nisn;nama;alamat\r\n1234567890;Budi;Batam\r\n");

    assert_eq!(refused.to_string(), "the header has no Kelas column");
}

#[test]
fn file_without_a_header_is_refused() {
    let refused = refuse(b"1234567890;Budi;7A\r\n1234567891;Ani;7B\r\n");

    assert_eq!(refused, RosterFileError::NoHeader);
}

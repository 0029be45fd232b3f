//! Roster files as spreadsheets really save them (BC-09, BC-30) and the
//! phones and dates schools type into them (BC-19, BC-20), checked
//! through what the API gives back after the import.

use anyhow::{Context, Result};
use scrm_e2e::TestApp;
use serde_json::{Value, json};

use super::{counts, families, import, student, students};

const BC09_ROWS: [[&str; 5]; 3] = [
    [
        "0012345678",
        "Budi Santoso",
        "VII-A",
        "Siti Aminah",
        "0812-3456-7890",
    ],
    [
        "0012345679",
        "Ani Santoso",
        "Kelas 7A",
        "Siti Aminah",
        "0812-3456-7890",
    ],
    [
        "0012345680",
        "Rudi Hartono",
        "8B",
        "Hartono",
        "+62 813 1111 2222",
    ],
];

fn bc09_file(delimiter: &str, line_end: &str) -> String {
    let header = ["nisn", "nama", "kelas", "nama_ortu", "no_hp_ortu"];
    std::iter::once(header)
        .chain(BC09_ROWS)
        .map(|row| format!("{}{line_end}", row.join(delimiter)))
        .collect()
}

/// What staff can see of the imported students: (nisn, name, class).
fn imported(families: &[Value]) -> Vec<(String, String, String)> {
    let mut out: Vec<_> = students(families)
        .iter()
        .map(|s| {
            let text = |v: &Value| v.as_str().unwrap_or("<none>").to_owned();
            (
                text(&s["nisn"]),
                text(&s["name"]),
                text(&s["class"]["name"]),
            )
        })
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn an_excel_semicolon_export_with_bom_imports_like_a_plain_comma_file() -> Result<()> {
    let excel_app = TestApp::spawn().await?;
    let plain_app = TestApp::spawn().await?;
    let excel_admin = excel_app.admin().await?;
    let plain_admin = plain_app.admin().await?;
    let excel = [
        b"\xEF\xBB\xBF".as_slice(),
        bc09_file(";", "\r\n").as_bytes(),
    ]
    .concat();
    let plain = bc09_file(",", "\n");

    let excel_report = import(&excel_app, &excel_admin, &excel).await?;
    let plain_report = import(&plain_app, &plain_admin, plain.as_bytes()).await?;

    assert_eq!(counts(&excel_report), [3, 0, 0, 0], "{excel_report}");
    assert_eq!(excel_report["delimiter"], ";");
    assert_eq!(excel_report["rows"], plain_report["rows"]);
    let excel_students = imported(&families(&excel_app, &excel_admin).await?);
    let plain_students = imported(&families(&plain_app, &plain_admin).await?);
    assert_eq!(excel_students[0].0, "0012345678");
    assert!(
        excel_students.iter().all(|s| s.0.len() == 10),
        "{excel_students:?}"
    );
    assert_eq!(excel_students, plain_students);
    Ok(())
}

/// File A of BC-30: `;`, CRLF, Windows-1252, no byte-order mark; the
/// name has an apostrophe typed in Excel (byte 0x92), the address a `;`
/// inside quotes.
fn windows_1252_file() -> Vec<u8> {
    [
        b"NISN;Nama;Kelas;Alamat;Nama Ibu\r\n".as_slice(),
        b"1234567890;Andr\xE9 O\x92Neil;X-A;\"Jl. Merdeka No. 5; RT 02/RW 03\";Ren\xE9e\r\n",
        b"1234567891;Dewi Sartika;10 B;Batam;Sari\r\n",
    ]
    .concat()
}

#[tokio::test]
async fn a_windows_1252_export_keeps_the_apostrophe_and_the_quoted_semicolon() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;

    let report = import(&app, &admin, &windows_1252_file()).await?;

    assert_eq!(counts(&report), [2, 0, 0, 0], "{report}");
    assert_eq!(report["encoding"], "windows-1252");
    assert_eq!(report["delimiter"], ";");
    let families = families(&app, &admin).await?;
    let andre = student(&families, "Andr\u{e9} O\u{2019}Neil")?;
    assert_eq!(andre["class"]["name"], "Kelas 10A");
    let mother = &super::family_of(&families, "Andr\u{e9} O\u{2019}Neil")?["primaryGuardian"];
    assert_eq!(mother["name"], "Ren\u{e9}e");
    Ok(())
}

#[tokio::test]
async fn an_xlsx_workbook_is_refused_whole_naming_the_file() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let mut workbook = b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00".to_vec();
    workbook.extend_from_slice(b"[Content_Types].xml NISN,Nama,Kelas\n1234567890,Budi,7A\n");

    let (status, body) = app.upload_roster(&admin.access, workbook, false).await?;

    assert_eq!(status, 200);
    let error = &body["errors"][0];
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{body}");
    assert_eq!(error["extensions"]["field"], "file");
    assert!(
        error["message"].as_str().is_some_and(|m| m.contains("CSV")),
        "{error}"
    );
    assert_eq!(families(&app, &admin).await?, Vec::<Value>::new());
    Ok(())
}

#[tokio::test]
async fn a_last_line_without_newline_and_trailing_blank_lines_import_every_row() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let rows = "nisn;nama;kelas\r\n1234567890;Budi;7A\r\n1234567891;Ani Terakhir;7B";
    let with_blank_lines = format!("{rows}\r\n\r\n;;\r\n  \r\n\r\n");

    let unterminated = import(&app, &admin, rows.as_bytes()).await?;
    let padded = import(&app, &admin, with_blank_lines.as_bytes()).await?;

    assert_eq!(counts(&unterminated), [2, 0, 0, 0], "{unterminated}");
    assert_eq!(unterminated["rows"][1]["line"], 3);
    assert_eq!(counts(&padded), [0, 0, 2, 0], "{padded}");
    assert_eq!(padded["rows"].as_array().map(Vec::len), Some(2));
    let last = student(&families(&app, &admin).await?, "Ani Terakhir")?;
    assert_eq!(last["class"]["name"], "Kelas 7B");
    Ok(())
}

/// One row per phone or date; every row is its own family.
fn roster_of(column: &str, values: &[&str]) -> String {
    let mut csv = format!("NISN,Nama,Kelas,Nama Ibu,{column}\n");
    for (i, value) in values.iter().enumerate() {
        csv.push_str(&format!(
            "{},Anak {i},7A,Ibu {i},{value}\n",
            1_000_000_000 + i
        ));
    }
    csv
}

/// (line, field) of every refused row of a report.
fn refused(report: &Value) -> Vec<(i64, String)> {
    report["rows"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["status"] == "REFUSED")
        .map(|r| {
            let field = r["field"].as_str().unwrap_or("<none>").to_owned();
            (r["line"].as_i64().unwrap_or(0), field)
        })
        .collect()
}

#[tokio::test]
async fn bad_phones_refuse_only_their_rows_naming_the_field_and_line() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let phones = [
        "6281181234567",
        "+621",
        "62213456789",
        "0812",
        "tidak ada",
        "+6212345",
        "08123456789012345",
        "(0812) 3456 7890",
        "812345678",
        "+60123456789",
    ];

    let report = import(&app, &admin, roster_of("HP", &phones).as_bytes()).await?;

    assert_eq!(counts(&report), [5, 0, 0, 5], "{report}");
    let hp = |line: i64| (line, "HP".to_owned());
    assert_eq!(refused(&report), [hp(3), hp(5), hp(6), hp(7), hp(8)]);
    let families = families(&app, &admin).await?;
    let mut stored: Vec<&str> = families
        .iter()
        .filter_map(|f| f["primaryGuardian"]["phone"].as_str())
        .collect();
    stored.sort();
    assert_eq!(
        stored,
        [
            "+60123456789",
            "+62213456789",
            "+6281181234567",
            "+62812345678",
            "+6281234567890"
        ]
    );
    Ok(())
}

#[tokio::test]
async fn birth_dates_are_read_day_first_and_impossible_ones_refuse_their_rows() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let dates = [
        ("03/04/2012", json!("2012-04-03")),
        ("15/04/2012", json!("2012-04-15")),
        ("31/04/2012", Value::Null),
        ("1/2/2012", json!("2012-02-01")),
        ("29/02/2013", Value::Null),
        ("29/02/2012", json!("2012-02-29")),
        ("2012-04-03", json!("2012-04-03")),
        ("03-04-2012", json!("2012-04-03")),
        ("44927", json!("2023-01-01")),
        ("", Value::Null),
    ];
    let cells: Vec<&str> = dates.iter().map(|(raw, _)| *raw).collect();

    let report = import(&app, &admin, roster_of("Tanggal Lahir", &cells).as_bytes()).await?;

    assert_eq!(counts(&report), [8, 0, 0, 2], "{report}");
    let field = "Tanggal Lahir".to_owned();
    assert_eq!(refused(&report), [(4, field.clone()), (6, field)]);
    let families = families(&app, &admin).await?;
    for (i, (raw, expected)) in dates.iter().enumerate() {
        if [2, 4].contains(&i) {
            continue;
        }
        let child = student(&families, &format!("Anak {i}"))
            .with_context(|| format!("the row with {raw:?}"))?;
        assert_eq!(&child["birthDate"], expected, "for {raw:?}");
    }
    Ok(())
}

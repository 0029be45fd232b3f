//! Turns the uploaded bytes into text. Schools send whatever their
//! spreadsheet wrote: "CSV UTF-8" with a byte-order mark, UTF-16 "Unicode
//! text", or plain Windows-1252 from an older Excel. When we cannot tell
//! what the bytes mean we refuse the file rather than store guessed names.

use std::borrow::Cow;

use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};

use super::RosterFileError;

/// The text of the file and the name of the encoding it was read as.
#[derive(Debug)]
pub(super) struct Decoded<'a> {
    pub text: Cow<'a, str>,
    pub encoding: &'static str,
}

/// Decodes the file, or refuses it when it is a workbook, binary, or text
/// in an encoding we cannot recognise.
pub(super) fn decode(bytes: &[u8]) -> Result<Decoded<'_>, RosterFileError> {
    refuse_workbooks(bytes)?;

    let decoded = match Encoding::for_bom(bytes) {
        Some((encoding, bom_len)) => with_bom(encoding, &bytes[bom_len..])?,
        None => without_bom(bytes)?,
    };
    check_characters(&decoded.text)?;
    Ok(decoded)
}

fn refuse_workbooks(bytes: &[u8]) -> Result<(), RosterFileError> {
    if bytes.starts_with(b"PK\x03\x04") {
        return Err(RosterFileError::ExcelWorkbook);
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Err(RosterFileError::LegacyExcelWorkbook);
    }
    Ok(())
}

/// A byte-order mark names the encoding; bytes that then fail to decode
/// mean the file is damaged, not that we should guess another encoding.
fn with_bom<'a>(
    encoding: &'static Encoding,
    body: &'a [u8],
) -> Result<Decoded<'a>, RosterFileError> {
    let text = encoding
        .decode_without_bom_handling_and_without_replacement(body)
        .ok_or(RosterFileError::InvalidForEncoding {
            encoding: encoding.name(),
        })?;
    Ok(Decoded {
        text,
        encoding: encoding.name(),
    })
}

/// Without a byte-order mark, valid UTF-8 is taken as UTF-8 and anything
/// else as Windows-1252, the encoding of Excel in an Indonesian locale.
fn without_bom(bytes: &[u8]) -> Result<Decoded<'_>, RosterFileError> {
    if let Some(index) = bytes.iter().position(|&b| b == 0) {
        // UTF-16 without a mark, or not text at all.
        return Err(RosterFileError::NotText {
            line: line_at(bytes, index),
        });
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(Decoded {
            text: Cow::Borrowed(text),
            encoding: UTF_8.name(),
        });
    }
    let (text, _) = WINDOWS_1252.decode_without_bom_handling(bytes);
    Ok(Decoded {
        text,
        encoding: WINDOWS_1252.name(),
    })
}

/// Control characters (other than tab and line ends) never belong in a
/// roster; they show that the bytes were not the text we decoded them as.
/// A replacement character shows the text was damaged before it reached us.
fn check_characters(text: &str) -> Result<(), RosterFileError> {
    let suspicious = |c: char| c.is_control() && !matches!(c, '\t' | '\r' | '\n');
    if let Some(index) = text.find('\0') {
        let line = line_at(text.as_bytes(), index);
        return Err(RosterFileError::NotText { line });
    }
    if let Some(index) = text.find(suspicious) {
        let line = line_at(text.as_bytes(), index);
        return Err(RosterFileError::UnknownEncoding { line });
    }
    if let Some(index) = text.find('\u{FFFD}') {
        let line = line_at(text.as_bytes(), index);
        return Err(RosterFileError::DamagedText { line });
    }
    Ok(())
}

/// 1-based line number of the byte at `index`.
fn line_at(bytes: &[u8], index: usize) -> usize {
    1 + bytes[..index].iter().filter(|&&b| b == b'\n').count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
        let mut bytes = if big_endian {
            vec![0xFE, 0xFF]
        } else {
            vec![0xFF, 0xFE]
        };
        for unit in text.encode_utf16() {
            let pair = if big_endian {
                unit.to_be_bytes()
            } else {
                unit.to_le_bytes()
            };
            bytes.extend_from_slice(&pair);
        }
        bytes
    }

    #[test]
    fn utf8_byte_order_mark_is_stripped() {
        let decoded = decode(b"\xEF\xBB\xBFnisn;nama").expect("decodes");

        assert_eq!(decoded.text, "nisn;nama");
        assert_eq!(decoded.encoding, "UTF-8");
    }

    #[test]
    fn plain_utf8_is_used_as_it_is() {
        let decoded = decode("Nama,Kelas\nJosé,7A".as_bytes()).expect("decodes");

        assert_eq!(decoded.text, "Nama,Kelas\nJosé,7A");
        assert_eq!(decoded.encoding, "UTF-8");
    }

    #[test]
    fn utf16_little_endian_with_mark_is_decoded() {
        let bytes = utf16("Nama\tKelas\r\nJosé\t7A", false);

        let decoded = decode(&bytes).expect("decodes");

        assert_eq!(decoded.text, "Nama\tKelas\r\nJosé\t7A");
        assert_eq!(decoded.encoding, "UTF-16LE");
    }

    #[test]
    fn utf16_big_endian_with_mark_is_decoded() {
        let bytes = utf16("Nama\tKelas", true);

        let decoded = decode(&bytes).expect("decodes");

        assert_eq!(decoded.text, "Nama\tKelas");
        assert_eq!(decoded.encoding, "UTF-16BE");
    }

    #[test]
    fn windows_1252_apostrophe_becomes_a_right_single_quote() {
        let decoded = decode(b"Nama\nD\x92Costa Jos\xE9").expect("decodes");

        assert_eq!(decoded.text, "Nama\nD\u{2019}Costa José");
        assert_eq!(decoded.encoding, "windows-1252");
    }

    #[test]
    fn zip_file_is_refused_as_an_excel_workbook() {
        let refused = decode(b"PK\x03\x04\x14\x00\x06\x00").expect_err("refused");

        assert_eq!(refused, RosterFileError::ExcelWorkbook);
        assert_eq!(
            refused.to_string(),
            "this looks like an Excel workbook (.xlsx); please save it as CSV"
        );
    }

    #[test]
    fn old_excel_file_is_refused_as_a_workbook() {
        let refused = decode(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1]).expect_err("refused");

        assert_eq!(refused, RosterFileError::LegacyExcelWorkbook);
    }

    #[test]
    fn nul_bytes_refuse_the_file() {
        let refused = decode(b"Nama\nA\x00B").expect_err("refused");

        assert_eq!(refused, RosterFileError::NotText { line: 2 });
    }

    #[test]
    fn control_characters_refuse_the_file() {
        let refused = decode(b"Nama\nA\x07B").expect_err("refused");

        assert_eq!(refused, RosterFileError::UnknownEncoding { line: 2 });
    }

    #[test]
    fn bytes_undefined_in_windows_1252_refuse_the_file() {
        let refused = decode(b"Nama\n\nA\x81B").expect_err("refused");

        assert_eq!(refused, RosterFileError::UnknownEncoding { line: 3 });
    }

    #[test]
    fn replacement_character_in_utf8_refuses_the_file() {
        let refused = decode("Nama\nD\u{FFFD}Costa".as_bytes()).expect_err("refused");

        assert_eq!(refused, RosterFileError::DamagedText { line: 2 });
    }

    #[test]
    fn invalid_utf8_after_a_utf8_mark_refuses_the_file() {
        let refused = decode(b"\xEF\xBB\xBFNama\nJos\xE9").expect_err("refused");

        assert_eq!(
            refused,
            RosterFileError::InvalidForEncoding { encoding: "UTF-8" }
        );
    }
}

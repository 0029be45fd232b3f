//! Finds the delimiter and the meaning of each column. Exports from Dapodik,
//! Excel in an Indonesian locale and hand-made sheets name the same column
//! in many ways (`Nama`, `nama_siswa`, `NAMA PESERTA DIDIK`); a column we
//! fail to recognise must refuse the file, never import blanks.

use csv::StringRecord;

use super::RosterFileError;

/// The columns a roster can have that we read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Column {
    Name,
    Nisn,
    Nipd,
    Sex,
    BirthPlace,
    BirthDate,
    Religion,
    Address,
    Phone,
    Email,
    Father,
    Mother,
    Guardian,
    Class,
}

impl Column {
    const ALL: [Column; 14] = [
        Column::Name,
        Column::Nisn,
        Column::Nipd,
        Column::Sex,
        Column::BirthPlace,
        Column::BirthDate,
        Column::Religion,
        Column::Address,
        Column::Phone,
        Column::Email,
        Column::Father,
        Column::Mother,
        Column::Guardian,
        Column::Class,
    ];

    /// The name used in messages to the school, as Dapodik spells it.
    pub fn label(self) -> &'static str {
        match self {
            Column::Name => "Nama",
            Column::Nisn => "NISN",
            Column::Nipd => "NIPD",
            Column::Sex => "JK",
            Column::BirthPlace => "Tempat Lahir",
            Column::BirthDate => "Tanggal Lahir",
            Column::Religion => "Agama",
            Column::Address => "Alamat",
            Column::Phone => "HP",
            Column::Email => "E-Mail",
            Column::Father => "Nama Ayah",
            Column::Mother => "Nama Ibu",
            Column::Guardian => "Nama Wali",
            Column::Class => "Kelas",
        }
    }

    /// Accepted header names in their [`header_key`] form. When a file has
    /// several of them, the one listed first is read.
    fn aliases(self) -> &'static [&'static str] {
        match self {
            Column::Name => &["nama", "namasiswa", "namapesertadidik", "namalengkap"],
            Column::Nisn => &["nisn"],
            Column::Nipd => &["nipd", "nis"],
            Column::Sex => &["jk", "jeniskelamin"],
            Column::BirthPlace => &["tempatlahir"],
            Column::BirthDate => &["tanggallahir", "tgllahir"],
            Column::Religion => &["agama"],
            Column::Address => &["alamat"],
            Column::Phone => &["hp", "nohp", "nohportu", "telepon", "phone"],
            Column::Email => &["email"],
            Column::Father => &["namaayah"],
            Column::Mother => &["namaibu"],
            Column::Guardian => &["namawali", "namaortu"],
            Column::Class => &["rombelsaatini", "rombel", "kelas", "class"],
        }
    }
}

/// Where each known column sits in the header, and how many fields every
/// row must have.
#[derive(Debug)]
pub(super) struct ColumnMap {
    positions: [Option<usize>; Column::ALL.len()],
    width: usize,
}

impl ColumnMap {
    /// Maps a header row, refusing it when it is not a header at all or
    /// lacks a required column.
    pub fn from_header(header: &StringRecord) -> Result<ColumnMap, RosterFileError> {
        let keys: Vec<String> = header.iter().map(header_key).collect();
        let mut positions = [None; Column::ALL.len()];
        for column in Column::ALL {
            positions[column as usize] = find_column(&keys, column);
        }
        let map = ColumnMap {
            positions,
            width: header.len(),
        };
        map.check_required()?;
        Ok(map)
    }

    pub fn width(&self) -> usize {
        self.width
    }

    pub fn has(&self, column: Column) -> bool {
        self.positions[column as usize].is_some()
    }

    /// The cell of `column` in `record`, or `""` when the file has no such
    /// column.
    pub fn cell<'r>(&self, record: &'r StringRecord, column: Column) -> &'r str {
        self.positions[column as usize]
            .and_then(|index| record.get(index))
            .unwrap_or("")
    }

    fn check_required(&self) -> Result<(), RosterFileError> {
        if self.positions.iter().all(Option::is_none) {
            return Err(RosterFileError::NoHeader);
        }
        for column in [Column::Name, Column::Class] {
            if !self.has(column) {
                return Err(RosterFileError::MissingColumn {
                    column: column.label(),
                });
            }
        }
        if !self.has(Column::Nisn) && !self.has(Column::Nipd) {
            return Err(RosterFileError::MissingStudentNumber);
        }
        Ok(())
    }
}

fn find_column(keys: &[String], column: Column) -> Option<usize> {
    column
        .aliases()
        .iter()
        .find_map(|alias| keys.iter().position(|key| key == alias))
}

/// Header names compare case-insensitively with spaces, `_`, `-` and `.`
/// ignored, so `No. HP`, `no_hp` and `NOHP` are the same column.
fn header_key(name: &str) -> String {
    name.chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '_' | '-' | '.'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Picks the delimiter that occurs most often outside quotes in the first
/// non-blank line. Ties go to the comma, then the semicolon.
pub(super) fn detect_delimiter(text: &str) -> u8 {
    let header = text.lines().find(|line| !line.trim().is_empty());
    let Some(header) = header else {
        return b',';
    };
    let counts = count_outside_quotes(header);
    let mut best = (b',', counts[0]);
    for (delimiter, count) in [(b';', counts[1]), (b'\t', counts[2])] {
        if count > best.1 {
            best = (delimiter, count);
        }
    }
    best.0
}

/// Counts `,`, `;` and tab, skipping quoted text.
fn count_outside_quotes(line: &str) -> [usize; 3] {
    let mut counts = [0; 3];
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => counts[0] += 1,
            ';' if !quoted => counts[1] += 1,
            '\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(names: &[&str]) -> StringRecord {
        StringRecord::from(names.to_vec())
    }

    fn map(names: &[&str]) -> Result<ColumnMap, RosterFileError> {
        ColumnMap::from_header(&header(names))
    }

    fn cell_of(names: &[&str], column: Column) -> String {
        let row: Vec<String> = names.iter().map(|n| format!("<{n}>")).collect();
        let mapped = map(names).expect("header accepted");
        mapped
            .cell(&StringRecord::from(row.clone()), column)
            .to_string()
    }

    #[test]
    fn headers_match_whatever_their_case_and_separators() {
        let names = ["NAMA_SISWA", " Kelas ", "N.I.S.N", "Tgl. Lahir", "no-hp"];

        assert_eq!(cell_of(&names, Column::Name), "<NAMA_SISWA>");
        assert_eq!(cell_of(&names, Column::Class), "< Kelas >");
        assert_eq!(cell_of(&names, Column::Nisn), "<N.I.S.N>");
        assert_eq!(cell_of(&names, Column::BirthDate), "<Tgl. Lahir>");
        assert_eq!(cell_of(&names, Column::Phone), "<no-hp>");
    }

    #[test]
    fn dapodik_headers_are_all_recognised() {
        let names = [
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

        let mapped = map(&names).expect("header accepted");

        assert!(Column::ALL.iter().all(|&column| mapped.has(column)));
    }

    #[test]
    fn parent_column_of_a_simple_file_is_the_guardian() {
        let names = ["nisn", "nama", "kelas", "nama_ortu", "no_hp_ortu"];

        assert_eq!(cell_of(&names, Column::Guardian), "<nama_ortu>");
        assert_eq!(cell_of(&names, Column::Phone), "<no_hp_ortu>");
    }

    #[test]
    fn first_listed_alias_wins_when_two_columns_mean_the_same() {
        let names = ["Nama", "Kelas", "NIS", "Telepon", "HP", "NIPD"];

        assert_eq!(cell_of(&names, Column::Phone), "<HP>");
        assert_eq!(cell_of(&names, Column::Nipd), "<NIPD>");
    }

    #[test]
    fn unknown_columns_are_ignored() {
        let mapped = map(&["No", "Nama", "Kelas", "NIS", "Hobi"]).expect("accepted");

        assert_eq!(mapped.width(), 5);
        assert!(!mapped.has(Column::Nisn));
    }

    #[test]
    fn missing_name_column_refuses_the_file() {
        let refused = map(&["NISN", "Kelas"]).expect_err("refused");

        assert_eq!(refused, RosterFileError::MissingColumn { column: "Nama" });
    }

    #[test]
    fn missing_class_column_refuses_the_file() {
        let refused = map(&["NISN", "Nama"]).expect_err("refused");

        assert_eq!(refused, RosterFileError::MissingColumn { column: "Kelas" });
    }

    #[test]
    fn missing_both_student_numbers_refuses_the_file() {
        let refused = map(&["Nama", "Kelas", "HP"]).expect_err("refused");

        assert_eq!(refused, RosterFileError::MissingStudentNumber);
    }

    #[test]
    fn first_line_of_data_is_not_taken_as_a_header() {
        let refused = map(&["1234567890", "Budi", "7A"]).expect_err("refused");

        assert_eq!(refused, RosterFileError::NoHeader);
    }

    #[test]
    fn semicolon_is_detected() {
        assert_eq!(detect_delimiter("nisn;nama;kelas\r\n1;2;3"), b';');
    }

    #[test]
    fn tab_is_detected() {
        assert_eq!(detect_delimiter("nisn\tnama\tkelas, rombel\n"), b'\t');
    }

    #[test]
    fn delimiters_inside_quotes_are_not_counted() {
        assert_eq!(detect_delimiter("\"a;b;c;d\",nama,kelas"), b',');
    }

    #[test]
    fn blank_lines_before_the_header_are_skipped() {
        assert_eq!(detect_delimiter("\n  \nnisn;nama;kelas"), b';');
    }
}

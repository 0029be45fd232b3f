//! Class (rombel) names. Schools write the same class as `Kelas 7A`, `7A`,
//! `7-A` or `VII-A`; all of them must land in one class, or a re-import
//! would create duplicates and split a class's families.

use std::fmt;

use serde::Serialize;

/// A class: its grade (1 to 12) and its section within the grade.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct ClassName {
    pub grade: u8,
    /// Upper-case letters and digits, e.g. `A`.
    pub section: String,
}

/// Roman grades, longest first so that `VIII` is not read as `V` + `III`.
const ROMAN_GRADES: [(&str, u8); 12] = [
    ("VIII", 8),
    ("XII", 12),
    ("VII", 7),
    ("III", 3),
    ("XI", 11),
    ("IX", 9),
    ("VI", 6),
    ("IV", 4),
    ("II", 2),
    ("X", 10),
    ("V", 5),
    ("I", 1),
];

impl ClassName {
    /// Reads a class written as `Kelas 10A`, `10A`, `10 A`, `10-A`,
    /// `VII-A`, `kelas vii a` and the like. Returns `None` when the grade is
    /// not 1 to 12 or there is no section.
    pub fn parse(raw: &str) -> Option<ClassName> {
        let upper = raw.trim().to_uppercase();
        let rest = strip_class_word(&upper);
        let (grade, rest) = arabic_grade(rest).or_else(|| roman_grade(rest))?;
        let section = section(rest)?;
        (1..=12)
            .contains(&grade)
            .then_some(ClassName { grade, section })
    }

    /// The name as the school writes it: `Kelas 7A`.
    pub fn display(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for ClassName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Kelas {}{}", self.grade, self.section)
    }
}

fn strip_class_word(upper: &str) -> &str {
    ["KELAS", "KLS"]
        .iter()
        .find_map(|word| upper.strip_prefix(word))
        .map_or(upper, |rest| rest.trim_start_matches(is_separator))
}

fn arabic_grade(text: &str) -> Option<(u8, &str)> {
    let end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let grade = text[..end].parse().ok()?;
    Some((grade, &text[end..]))
}

/// A roman grade must be followed by a separator or by the section; the
/// longest numeral that fits wins (`VIIA` is 7A, not 6 + `IA`).
fn roman_grade(text: &str) -> Option<(u8, &str)> {
    ROMAN_GRADES
        .iter()
        .find_map(|(numeral, grade)| Some((*grade, text.strip_prefix(numeral)?)))
}

fn section(text: &str) -> Option<String> {
    let section = text.trim_start_matches(is_separator).trim_end();
    let valid = !section.is_empty() && section.chars().all(|c| c.is_ascii_alphanumeric());
    valid.then(|| section.to_string())
}

fn is_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, '-' | '.' | '/' | '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(grade: u8, section: &str) -> Option<ClassName> {
        Some(ClassName {
            grade,
            section: section.to_string(),
        })
    }

    #[test]
    fn kelas_prefix_with_grade_and_section_is_read() {
        assert_eq!(ClassName::parse("Kelas 10A"), class(10, "A"));
        assert_eq!(ClassName::parse("Kelas 10-A"), class(10, "A"));
    }

    #[test]
    fn grade_and_section_without_prefix_are_read() {
        assert_eq!(ClassName::parse("10A"), class(10, "A"));
        assert_eq!(ClassName::parse("10 A"), class(10, "A"));
        assert_eq!(ClassName::parse("10-A"), class(10, "A"));
    }

    #[test]
    fn roman_grades_are_read() {
        assert_eq!(ClassName::parse("VII-A"), class(7, "A"));
        assert_eq!(ClassName::parse("VII A"), class(7, "A"));
        assert_eq!(ClassName::parse("XII-B"), class(12, "B"));
        assert_eq!(ClassName::parse("X-A"), class(10, "A"));
        assert_eq!(ClassName::parse("VIII-C"), class(8, "C"));
        assert_eq!(ClassName::parse("IX.B"), class(9, "B"));
    }

    #[test]
    fn lower_case_roman_with_prefix_is_read() {
        assert_eq!(ClassName::parse("kelas vii a"), class(7, "A"));
    }

    #[test]
    fn roman_and_arabic_forms_give_the_same_class() {
        assert_eq!(ClassName::parse("VII-A"), ClassName::parse("Kelas 7A"));
    }

    #[test]
    fn roman_grade_directly_followed_by_section_takes_the_longest_numeral() {
        assert_eq!(ClassName::parse("VIIA"), class(7, "A"));
    }

    #[test]
    fn section_is_upper_cased_and_may_hold_digits() {
        assert_eq!(ClassName::parse("7b"), class(7, "B"));
        assert_eq!(ClassName::parse("Kelas 11 IPA1"), class(11, "IPA1"));
    }

    #[test]
    fn grade_outside_one_to_twelve_is_refused() {
        assert_eq!(ClassName::parse("13A"), None);
        assert_eq!(ClassName::parse("0A"), None);
        assert_eq!(ClassName::parse("Kelas 300A"), None);
    }

    #[test]
    fn class_without_section_is_refused() {
        assert_eq!(ClassName::parse("Kelas 7"), None);
        assert_eq!(ClassName::parse("VII"), None);
    }

    #[test]
    fn unreadable_class_is_refused() {
        assert_eq!(ClassName::parse(""), None);
        assert_eq!(ClassName::parse("Kelas"), None);
        assert_eq!(ClassName::parse("A7"), None);
        assert_eq!(ClassName::parse("7A B"), None);
        assert_eq!(ClassName::parse("Kelas 7A (pagi)"), None);
    }

    #[test]
    fn display_writes_kelas_grade_and_section() {
        let class = ClassName::parse("VII-A").expect("readable");

        assert_eq!(class.display(), "Kelas 7A");
    }
}

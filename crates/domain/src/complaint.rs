//! Reading complaints: a low score, or wording from an Indonesian and
//! English lexicon, with Indonesian affixes stripped and negation read,
//! so that "tidak puas" (not satisfied) flags and "tidak buruk" (not
//! bad) does not. Every flag says why it was raised.

mod stem;

pub use stem::candidates;

/// Indonesian roots that read as dissatisfaction; matched after affixes
/// are taken off.
const NEGATIVE_ID: &[&str] = &[
    "kecewa",
    "buruk",
    "jelek",
    "lambat",
    "lelet",
    "kotor",
    "mahal",
    "parah",
    "marah",
    "rusak",
    "basi",
    "telat",
    "terlambat",
    "kasar",
    "bau",
    "keluh",
    "komplain",
    "bohong",
    "tipu",
    "sedih",
    "kesal",
    "jorok",
];

/// English words that read as dissatisfaction; matched with simple
/// inflections only ("bad" must not match "badan", body).
const NEGATIVE_EN: &[&str] = &[
    "bad",
    "poor",
    "slow",
    "dirty",
    "disappointed",
    "disappointing",
    "terrible",
    "awful",
    "rude",
    "late",
    "broken",
    "complaint",
    "complain",
    "unhappy",
    "worst",
    "horrible",
    "expensive",
    "angry",
    "useless",
];

/// Roots that read as satisfaction; negated, they read as complaints.
const POSITIVE_ID: &[&str] = &[
    "puas", "baik", "bagus", "ramah", "bersih", "cepat", "enak", "senang", "mantap", "sopan",
    "jelas",
];

const POSITIVE_EN: &[&str] = &[
    "good",
    "happy",
    "satisfied",
    "clean",
    "friendly",
    "fast",
    "helpful",
    "great",
    "nice",
    "polite",
];

/// Words that turn one of the next three words around.
const NEGATORS: &[&str] = &[
    "tidak", "tdk", "tak", "nggak", "ngga", "gak", "ga", "gk", "enggak", "ndak", "bukan", "kurang",
    "belum", "not", "never", "nothing", "isn't", "wasn't", "don't", "didn't", "doesn't", "aren't",
    "weren't",
];

/// After a negator these make an idiom, not a negation: "tidak hanya"
/// (not only), "bukan main" (very), "kurang lebih" (more or less).
const IDIOMS: &[&str] = &["hanya", "cuma", "saja", "main", "lebih", "only", "just"];

/// A score at or below this reads as a complaint.
pub const LOW_SCORE: u8 = 2;

/// Why a text or score reads as a complaint; empty when it does not.
pub fn assess(text: &str, score: Option<u8>) -> Vec<String> {
    let mut reasons = vec![];
    if let Some(s) = score.filter(|s| *s <= LOW_SCORE) {
        reasons.push(format!("low score ({s}/5)"));
    }
    let words = tokens(text);
    for (i, word) in words.iter().enumerate() {
        let negator = negator_before(&words, i);
        if let Some(root) = root_in(word, NEGATIVE_ID, NEGATIVE_EN) {
            if negator.is_none() {
                reasons.push(format!("complaint word \"{word}\" ({root})"));
            }
        } else if let Some(root) = root_in(word, POSITIVE_ID, POSITIVE_EN)
            && let Some(negator) = negator
        {
            reasons.push(format!("negated praise \"{negator} {word}\" ({root})"));
        }
    }
    reasons
}

/// The negator among the three words before `i`, unless it opens an idiom.
fn negator_before(words: &[String], i: usize) -> Option<&str> {
    let start = i.saturating_sub(3);
    (start..i).rev().find_map(|k| {
        let is_negator = NEGATORS.contains(&words[k].as_str());
        let idiom = words
            .get(k + 1)
            .is_some_and(|next| IDIOMS.contains(&next.as_str()));
        (is_negator && !idiom).then_some(words[k].as_str())
    })
}

fn root_in(
    word: &str,
    indonesian: &[&'static str],
    english: &[&'static str],
) -> Option<&'static str> {
    if NEGATORS.contains(&word) {
        return None;
    }
    let inflected = |root: &&&str| {
        word == **root
            || ["s", "ed", "ing", "ly"]
                .iter()
                .any(|end| word.strip_suffix(end) == Some(**root))
    };
    english.iter().find(inflected).copied().or_else(|| {
        candidates(word)
            .into_iter()
            .find_map(|c| indonesian.iter().find(|r| **r == c).copied())
    })
}

/// Lower-case words, keeping apostrophes inside them ("didn't").
fn tokens(text: &str) -> Vec<String> {
    text.to_lowercase()
        .replace('’', "'")
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .map(|w| w.trim_matches('\'').to_owned())
        .filter(|w| !w.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tidak_puas_flags_and_tidak_buruk_does_not() {
        assert_eq!(
            assess("Saya tidak puas dengan kantin", None),
            vec!["negated praise \"tidak puas\" (puas)"]
        );
        assert!(assess("Makanannya tidak buruk", None).is_empty());
    }

    #[test]
    fn affixed_forms_are_read_by_their_roots() {
        assert!(!assess("Pelayanannya sangat mengecewakan", None).is_empty());
        assert!(!assess("Kekecewaan orang tua besar", None).is_empty());
        assert!(!assess("Bus sering terlambat", None).is_empty());
        assert!(!assess("kurang bersih", None).is_empty());
    }

    #[test]
    fn english_wording_and_its_negation_are_read_too() {
        assert!(!assess("The canteen food was terrible", None).is_empty());
        assert!(!assess("I am not satisfied", None).is_empty());
        assert!(assess("Not bad at all, quite good", None).is_empty());
    }

    #[test]
    fn idioms_and_look_alikes_are_not_complaints() {
        for text in [
            "berat badan anak naik",
            "tidak ada yang buruk",
            "nothing bad to say",
            "tidak hanya cepat tapi juga ramah",
            "bukan main bagusnya",
            "kurang lebih baik",
            "Kelas no 2 bersih",
        ] {
            assert!(
                assess(text, None).is_empty(),
                "{text}: {:?}",
                assess(text, None)
            );
        }
    }

    #[test]
    fn common_abbreviations_and_slang_are_read() {
        assert!(!assess("tdk puas", None).is_empty());
        assert!(!assess("wifi perpustakaan lelet", None).is_empty());
    }

    #[test]
    fn praise_is_no_complaint() {
        assert!(assess("Gurunya ramah dan bersih sekali, terima kasih!", Some(5)).is_empty());
    }

    #[test]
    fn a_low_score_flags_even_without_words() {
        assert_eq!(assess("", Some(1)), vec!["low score (1/5)"]);
        assert!(assess("", Some(3)).is_empty());
    }
}

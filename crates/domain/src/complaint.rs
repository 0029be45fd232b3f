//! Reading complaints: a low score, or wording from an Indonesian and
//! English lexicon, with Indonesian affixes stripped and negation read,
//! so that "tidak puas" (not satisfied) flags and "tidak buruk" (not
//! bad) does not. Every flag says why it was raised.

mod stem;

pub use stem::candidates;

/// Roots that read as dissatisfaction on their own.
const NEGATIVE: &[&str] = &[
    "kecewa",
    "buruk",
    "jelek",
    "lambat",
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
const POSITIVE: &[&str] = &[
    "puas",
    "baik",
    "bagus",
    "ramah",
    "bersih",
    "cepat",
    "enak",
    "senang",
    "mantap",
    "sopan",
    "jelas",
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

/// Words that turn the next word or two around.
const NEGATORS: &[&str] = &[
    "tidak", "tak", "nggak", "ngga", "gak", "ga", "enggak", "bukan", "kurang", "belum", "not",
    "no", "never", "isn't", "wasn't", "don't", "didn't", "doesn't", "aren't", "weren't",
];

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
        let negated = words[i.saturating_sub(2)..i]
            .iter()
            .any(|w| NEGATORS.contains(&w.as_str()));
        if let Some(root) = root_in(word, NEGATIVE) {
            if !negated {
                reasons.push(format!("complaint word \"{word}\" ({root})"));
            }
        } else if let Some(root) = root_in(word, POSITIVE)
            && negated
        {
            reasons.push(format!(
                "negated praise \"{} {word}\" ({root})",
                negator_before(&words, i)
            ));
        }
    }
    reasons
}

fn negator_before(words: &[String], i: usize) -> &str {
    words[i.saturating_sub(2)..i]
        .iter()
        .rev()
        .find(|w| NEGATORS.contains(&w.as_str()))
        .map_or("", String::as_str)
}

fn root_in(word: &str, lexicon: &[&'static str]) -> Option<&'static str> {
    if NEGATORS.contains(&word) {
        return None;
    }
    candidates(word)
        .into_iter()
        .find_map(|c| lexicon.iter().find(|r| **r == c).copied())
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
    fn praise_is_no_complaint() {
        assert!(assess("Gurunya ramah dan bersih sekali, terima kasih!", Some(5)).is_empty());
    }

    #[test]
    fn a_low_score_flags_even_without_words() {
        assert_eq!(assess("", Some(1)), vec!["low score (1/5)"]);
        assert!(assess("", Some(3)).is_empty());
    }
}

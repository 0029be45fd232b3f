//! A small Indonesian stemmer: the candidate roots of a word, found by
//! taking off particles, suffixes and prefixes (with the sound changes
//! that prefixes make: meng-ecewa → kecewa, me-nipu → tipu).

const PARTICLES: &[&str] = &["lah", "kah", "pun", "nya"];
const SUFFIXES: &[&str] = &["kan", "an", "i"];

/// The word itself and every root it may have come from.
pub fn candidates(word: &str) -> Vec<String> {
    let mut out = vec![word.to_owned()];
    let mut bases = vec![word.to_owned()];
    for particle in PARTICLES {
        if let Some(rest) = word.strip_suffix(particle).filter(|r| r.len() >= 3) {
            bases.push(rest.to_owned());
        }
    }
    let mut stripped = vec![];
    for base in &bases {
        stripped.push(base.clone());
        for suffix in SUFFIXES {
            if let Some(rest) = base.strip_suffix(suffix).filter(|r| r.len() >= 3) {
                stripped.push(rest.to_owned());
            }
        }
    }
    for s in stripped {
        out.extend(without_prefixes(&s));
        out.push(s);
    }
    out.sort();
    out.dedup();
    out
}

/// Roots left after one or two prefixes (ke-, di-, ter-, ber-, se-,
/// me-/pe- with their nasal forms).
fn without_prefixes(word: &str) -> Vec<String> {
    let mut out = vec![];
    for first in one_prefix(word) {
        out.extend(one_prefix(&first));
        out.push(first);
    }
    out
}

fn one_prefix(word: &str) -> Vec<String> {
    let mut out = vec![];
    for plain in ["ke", "di", "ter", "ber", "be", "se", "per"] {
        if let Some(rest) = word.strip_prefix(plain).filter(|r| r.len() >= 3) {
            out.push(rest.to_owned());
        }
    }
    // me- and pe- with the nasal that replaces the root's first sound.
    for (nasal, restored) in [
        ("meng", "k"),
        ("meny", "s"),
        ("mem", "p"),
        ("men", "t"),
        ("peng", "k"),
        ("peny", "s"),
        ("pem", "p"),
        ("pen", "t"),
    ] {
        if let Some(rest) = word.strip_prefix(nasal).filter(|r| r.len() >= 2) {
            out.push(rest.to_owned());
            if rest.starts_with(|c: char| "aiueo".contains(c)) {
                out.push(format!("{restored}{rest}"));
            }
        }
    }
    for short in ["me", "pe"] {
        if let Some(rest) = word.strip_prefix(short).filter(|r| r.len() >= 3) {
            out.push(rest.to_owned());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nasal_prefix_gives_back_the_roots_first_sound() {
        assert!(candidates("mengecewakan").contains(&"kecewa".to_owned()));
        assert!(candidates("menipu").contains(&"tipu".to_owned()));
        assert!(candidates("pelayanannya").contains(&"layan".to_owned()));
        assert!(candidates("kekecewaan").contains(&"kecewa".to_owned()));
        assert!(candidates("keluhan").contains(&"keluh".to_owned()));
    }
}

//! How a text search is spelled in SQL, shared by the ticket query language and the wiki:
//! the LIKE pattern of a substring, the range of index terms that begin with a prefix, and
//! PostgreSQL's two-character pair codes (migration 0021).

/// `%s%` for LIKE and ILIKE with `\` as the escape: the text's own `%`, `_` and `\` match
/// themselves.
pub fn like_contains(s: &str) -> String {
    let escaped = s
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// The range `[lo, hi)` of terms that begin with the ASCII `prefix` in an FTS5 trigram index,
/// which folds case: the prefix in lower case, and the first string past every term that
/// begins with it (its last character moved on by one).
pub fn ascii_prefix_range(prefix: &str) -> (String, String) {
    let lo = prefix.to_ascii_lowercase();
    let mut hi: Vec<char> = lo.chars().collect();
    if let Some(last) = hi.last_mut() {
        // ASCII, so the next code point exists; U+0080 sorts after U+007F in UTF-8 too.
        *last = char::from_u32(*last as u32 + 1).unwrap_or(char::MAX);
    }
    (lo, hi.into_iter().collect())
}

/// A character as a pair code counts it: ASCII in lower case, or `None` when it takes no part
/// in a pair (whitespace, or not ASCII). A non-ASCII letter whose lower case begins with an
/// ASCII letter (the Kelvin sign, dotted capital I) counts as that letter, because
/// PostgreSQL's `lower()`, which ILIKE folds both sides with, may turn it into it: the pairs
/// must hold every pair the folded text can have (a pair too many only costs a recheck).
fn pair_char(c: char) -> Option<u8> {
    let c = if c.is_ascii() {
        c.to_ascii_lowercase()
    } else {
        c.to_lowercase().next().filter(char::is_ascii)?
    };
    (!c.is_ascii_whitespace()).then_some(c as u8)
}

/// The code of two folded ASCII characters: `a * 128 + b`, at most 16,383 (a `smallint`).
fn code_of(a: u8, b: u8) -> i16 {
    i16::from(a) * 128 + i16::from(b)
}

/// The two-character pair code PostgreSQL's pair index (migration 0021) files `s` under, or
/// `None` when `s` is not two characters that both count ([`pair_char`]): such a text is
/// searched without the index.
pub fn pair_code(s: &str) -> Option<i16> {
    let mut chars = s.chars();
    let (a, b) = (chars.next()?, chars.next()?);
    if chars.next().is_some() {
        return None;
    }
    Some(code_of(pair_char(a)?, pair_char(b)?))
}

/// Every pair code of `text`, once each, in ascending order: the codes of its adjacent
/// characters that both count. What the pair index holds for a text (src/search/pairs.rs).
pub fn pair_codes(text: &str) -> Vec<i16> {
    let mut seen = vec![false; 128 * 128];
    let mut prev = None;
    for c in text.chars() {
        let cur = pair_char(c);
        if let (Some(a), Some(b)) = (prev, cur) {
            seen[usize::from(a) * 128 + usize::from(b)] = true;
        }
        prev = cur;
    }
    seen.iter()
        .enumerate()
        .filter(|(_, s)| **s)
        .filter_map(|(i, _)| i16::try_from(i).ok())
        .collect()
}

/// `codes` as a PostgreSQL array literal (`{1,2,3}`), which casts to `smallint[]`.
pub fn pair_array(codes: &[i16]) -> String {
    let inner: Vec<String> = codes.iter().map(i16::to_string).collect();
    format!("{{{}}}", inner.join(","))
}

#[cfg(test)]
mod tests {
    use super::{ascii_prefix_range, like_contains, pair_array, pair_code, pair_codes};

    #[test]
    fn a_text_holds_the_code_of_every_two_characters_it_contains_in_any_case() {
        let text = "Core L2 switch,\nVLAN-10 (Kelvin \u{212a}9) \u{130}X é2";
        let codes = pair_codes(text);
        assert!(
            codes.windows(2).all(|w| w[0] < w[1]),
            "ascending, once each"
        );
        for s in [
            "co", "l2", "L2", "h,", "n-", "-1", "10", "(k", "9)", "k9", "K9", "ix", "IX",
        ] {
            let c = pair_code(s).unwrap_or_else(|| panic!("{s} has a code"));
            assert!(codes.contains(&c), "{s}");
        }
        // Not across whitespace (",\nV"), not through a non-ASCII letter ("é2" is no "e2").
        for s in [",v", "e2", "zq"] {
            let c = pair_code(s).unwrap_or_else(|| panic!("{s} has a code"));
            assert!(!codes.contains(&c), "{s}");
        }
    }

    #[test]
    fn only_two_counting_characters_have_a_code() {
        assert_eq!(pair_code("L2"), pair_code("l2"));
        assert_eq!(pair_code("\u{212a}2"), pair_code("k2"));
        for s in ["", "a", "abc", "a ", "\t2", "é2", "2é"] {
            assert_eq!(pair_code(s), None, "{s:?}");
        }
        assert_eq!(pair_code("\u{7f}\u{7f}"), Some(16383));
    }

    #[test]
    fn codes_spell_a_postgresql_array() {
        assert_eq!(pair_array(&[]), "{}");
        assert_eq!(pair_array(&[1, 300]), "{1,300}");
    }

    #[test]
    fn wildcards_in_the_text_match_themselves() {
        assert_eq!(like_contains(r"50%_a\b"), r"%50\%\_a\\b%");
    }

    #[test]
    fn the_range_covers_every_term_beginning_with_the_prefix_and_no_other() {
        let (lo, hi) = ascii_prefix_range("L2");
        assert_eq!((lo.as_str(), hi.as_str()), ("l2", "l3"));
        for t in ["l2", "l2 ", "l2x", "l2\u{7f}", "l2é"] {
            assert!(lo.as_str() <= t && t < hi.as_str(), "{t}");
        }
        for t in ["l1z", "l3", "l"] {
            assert!(!(lo.as_str() <= t && t < hi.as_str()), "{t}");
        }
        assert_eq!(ascii_prefix_range("a~").1, "a\u{7f}");
    }
}

//! How a text search is spelled in SQL, shared by the ticket query language and the wiki:
//! the LIKE pattern of a substring, and the range of index terms that begin with a prefix.

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

#[cfg(test)]
mod tests {
    use super::{ascii_prefix_range, like_contains};

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

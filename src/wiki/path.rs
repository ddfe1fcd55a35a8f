//! Page paths: what users type (`Runbooks/BGP Session Down`) made canonical
//! (`runbooks/bgp-session-down`). The same rule names a runbook after an alert (CONTRACT §7):
//! lower case, every run of non-alphanumerics one `-`. Canonical paths hold only lower-case
//! letters and digits (any script), `-` and `/`, so they are safe in URLs and HTML as they are,
//! and `..` or `./` can never survive as a segment.

/// Most segments a page path may have.
pub const MAX_SEGMENTS: usize = 10;
/// Longest page path, in bytes of its canonical form.
pub const MAX_BYTES: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("a page path needs at least one letter or digit")]
    Empty,
    #[error("a page path has at most {MAX_SEGMENTS} segments; this one has {0}")]
    TooDeep(usize),
    #[error("a page path is at most {MAX_BYTES} bytes; this one is {0}")]
    TooLong(usize),
}

/// The canonical path for what a user typed: trimmed, split on `/`, each segment lower-cased
/// with every run of non-alphanumerics turned into one `-` (none at either end), empty
/// segments dropped.
pub fn normalize(input: &str) -> Result<String, PathError> {
    let mut out = String::with_capacity(input.len().min(MAX_BYTES + 1));
    let mut segments = 0;
    for raw in input.trim().split('/') {
        let start = out.len();
        if segments > 0 {
            out.push('/');
        }
        if push_slug(&mut out, raw) {
            segments += 1;
        } else {
            out.truncate(start);
        }
    }
    if segments == 0 {
        Err(PathError::Empty)
    } else if segments > MAX_SEGMENTS {
        Err(PathError::TooDeep(segments))
    } else if out.len() > MAX_BYTES {
        Err(PathError::TooLong(out.len()))
    } else {
        Ok(out)
    }
}

/// The wiki page that is the runbook for an alert or Nagios service (CONTRACT §7):
/// `runbooks/<name>`, the whole name one segment (a `/` in it becomes `-` like any other
/// non-alphanumeric). `None` when the name has no letter or digit, or is too long.
pub fn runbook_path(alert_name: &str) -> Option<String> {
    let name = slug(alert_name);
    if name.is_empty() {
        return None;
    }
    normalize(&format!("runbooks/{name}")).ok()
}

/// The path one level up, if there is one (`runbooks/bgp` → `runbooks`).
pub fn parent(path: &str) -> Option<&str> {
    path.rsplit_once('/')
        .map(|(p, _)| p)
        .filter(|p| !p.is_empty())
}

/// A title for a page created from a link to a missing path: the last segment, `-` as
/// spaces, the first letter upper case (`runbooks/bgp-session-down` → `Bgp session down`).
pub fn title_from_path(path: &str) -> String {
    let last = path.rsplit('/').next().unwrap_or(path);
    let words = last.replace('-', " ");
    let words = words.trim();
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// One segment's canonical form (no `/` handling): the rule of [`normalize`] for one segment.
pub(crate) fn slug(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    push_slug(&mut out, s);
    out
}

/// Appends the slug of `s` to `out`; whether it added anything.
fn push_slug(out: &mut String, s: &str) -> bool {
    let start = out.len();
    let mut dash = false;
    // Lower-case first, then keep alphanumerics: a capital whose lower case is several
    // characters (`İ` → `i̇`) then comes out the same as its lower case typed directly, so
    // normalising twice changes nothing.
    for c in s.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            if dash && out.len() > start {
                out.push('-');
            }
            dash = false;
            out.push(c);
        } else {
            dash = true;
        }
    }
    out.len() > start
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_typed_path_becomes_lower_case_with_dashes() {
        assert_eq!(
            normalize("Runbooks/BGP Session Down").as_deref(),
            Ok("runbooks/bgp-session-down")
        );
        assert_eq!(
            normalize("  Network / Core::Routers (Juniper)!  ").as_deref(),
            Ok("network/core-routers-juniper")
        );
        assert_eq!(normalize("a__b--c").as_deref(), Ok("a-b-c"));
    }

    #[test]
    fn unicode_letters_are_kept_in_lower_case() {
        assert_eq!(
            normalize("Guide/Überwachung Ärger").as_deref(),
            Ok("guide/überwachung-ärger")
        );
        assert_eq!(
            normalize("Сеть/Маршрутизатор").as_deref(),
            Ok("сеть/маршрутизатор")
        );
        assert_eq!(normalize("日本語 ページ").as_deref(), Ok("日本語-ページ"));
        assert_eq!(normalize("Ünïcode 42").as_deref(), Ok("ünïcode-42"));
    }

    #[test]
    fn dot_segments_and_repeated_slashes_vanish() {
        assert_eq!(normalize("a/../b").as_deref(), Ok("a/b"));
        assert_eq!(normalize("../../etc/passwd").as_deref(), Ok("etc/passwd"));
        assert_eq!(normalize("./x/./y/").as_deref(), Ok("x/y"));
        assert_eq!(normalize("//a///b//").as_deref(), Ok("a/b"));
        assert_eq!(normalize("a/.hidden").as_deref(), Ok("a/hidden"));
        assert_eq!(normalize("a\\..\\b").as_deref(), Ok("a-b"));
    }

    #[test]
    fn a_path_without_letters_or_digits_is_refused() {
        for input in ["", "   ", "/", "//", "../..", "---", "!!!/???"] {
            assert_eq!(normalize(input), Err(PathError::Empty), "{input:?}");
        }
        assert_eq!(
            PathError::Empty.to_string(),
            "a page path needs at least one letter or digit"
        );
    }

    #[test]
    fn more_than_ten_segments_are_refused() {
        assert!(normalize(&["s"; 10].join("/")).is_ok());
        let deep = normalize(&["s"; 11].join("/"));
        assert_eq!(deep, Err(PathError::TooDeep(11)));
        assert!(
            deep.unwrap_err()
                .to_string()
                .contains("at most 10 segments")
        );
    }

    #[test]
    fn more_than_two_hundred_bytes_are_refused() {
        assert_eq!(normalize(&"a".repeat(200)).map(|p| p.len()), Ok(200));
        assert_eq!(normalize(&"a".repeat(201)), Err(PathError::TooLong(201)));
        // Counted on the canonical form, in bytes: 101 two-byte letters are too long.
        assert_eq!(normalize(&"é".repeat(101)), Err(PathError::TooLong(202)));
        assert!(normalize(&format!("{}!!!!", "a".repeat(200))).is_ok());
        assert!(
            PathError::TooLong(201)
                .to_string()
                .contains("at most 200 bytes")
        );
    }

    #[test]
    fn runbook_paths_follow_the_alert_name() {
        assert_eq!(
            runbook_path("BGPSessionDown").as_deref(),
            Some("runbooks/bgpsessiondown")
        );
        assert_eq!(
            runbook_path("Disk usage / root").as_deref(),
            Some("runbooks/disk-usage-root")
        );
        assert_eq!(
            runbook_path("node_filesystem_avail").as_deref(),
            Some("runbooks/node-filesystem-avail")
        );
        assert_eq!(runbook_path("  ::  "), None);
        assert_eq!(runbook_path(&"x".repeat(300)), None);
    }

    #[test]
    fn parent_is_the_path_one_level_up() {
        assert_eq!(parent("runbooks/bgp/session"), Some("runbooks/bgp"));
        assert_eq!(parent("runbooks/bgp"), Some("runbooks"));
        assert_eq!(parent("runbooks"), None);
    }

    #[test]
    fn a_missing_page_gets_a_title_from_its_last_segment() {
        assert_eq!(
            title_from_path("runbooks/bgp-session-down"),
            "Bgp session down"
        );
        assert_eq!(title_from_path("überwachung"), "Überwachung");
        assert_eq!(title_from_path("a/42-things"), "42 things");
        assert_eq!(title_from_path(""), "");
    }

    proptest! {
        #[test]
        fn normalising_twice_changes_nothing(s in "\\PC{0,80}") {
            if let Ok(p) = normalize(&s) {
                prop_assert_eq!(normalize(&p), Ok(p.clone()));
                prop_assert!(p.split('/').all(|seg| !seg.is_empty()
                    && !seg.starts_with('-') && !seg.ends_with('-')
                    && seg.chars().all(|c| c == '-' || c.is_alphanumeric())));
            }
        }
    }
}

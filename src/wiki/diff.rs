//! Differences between two revisions of a page (issue 7): a line diff for the browser, where
//! a replaced line marks the words that changed, and a unified diff for the API. Both are
//! bounded in time: on texts too different to diff quickly, the result is still correct but
//! coarser (whole blocks replaced).

use std::time::{Duration, Instant};

use serde::Serialize;
use similar::{ChangeTag, TextDiff};
use utoipa::ToSchema;

/// Longest a line diff may search before settling for a coarser (still correct) answer.
const LINE_DIFF_BUDGET: Duration = Duration::from_millis(500);
/// Longest the word-level marking of all replaced lines may take together.
const WORD_DIFF_BUDGET: Duration = Duration::from_millis(200);

/// What happened to one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    Same,
    Added,
    Removed,
}

impl Change {
    /// `same`, `added` or `removed` (a CSS class suffix in the diff table).
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Same => "same",
            Change::Added => "added",
            Change::Removed => "removed",
        }
    }

    /// The unified-diff sign: ` `, `+` or `-`.
    pub fn sign(self) -> &'static str {
        match self {
            Change::Same => " ",
            Change::Added => "+",
            Change::Removed => "-",
        }
    }
}

/// A run of a line's text; `changed` marks the words that differ from the line it replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Segment {
    pub changed: bool,
    pub text: String,
}

/// One line of the diff, with its number in the old and/or new text (from 1), without its
/// line ending.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct DiffLine {
    pub change: Change,
    pub old_no: Option<usize>,
    pub new_no: Option<usize>,
    pub segments: Vec<Segment>,
}

impl DiffLine {
    /// The line's whole text.
    pub fn text(&self) -> String {
        self.segments.iter().map(|s| s.text.as_str()).collect()
    }
}

fn line_diff<'a>(old: &'a str, new: &'a str) -> TextDiff<'a, 'a, str> {
    TextDiff::configure()
        .timeout(LINE_DIFF_BUDGET)
        .diff_lines(old, new)
}

/// Every line of both texts in order: unchanged ones once, removed ones before the ones that
/// replaced them. Where lines were replaced, the words that changed are marked (when the
/// lines are alike enough for that to help; otherwise the whole line stands as changed).
pub fn diff(old: &str, new: &str) -> Vec<DiffLine> {
    let d = line_diff(old, new);
    let deadline = Instant::now() + WORD_DIFF_BUDGET;
    let mut out = Vec::with_capacity(d.old_len().max(d.new_len()));
    for op in d.ops() {
        for c in d.iter_inline_changes_deadline(op, Some(deadline)) {
            let change = match c.tag() {
                ChangeTag::Equal => Change::Same,
                ChangeTag::Insert => Change::Added,
                ChangeTag::Delete => Change::Removed,
            };
            let mut segments: Vec<Segment> = Vec::with_capacity(c.values().len());
            for (emphasized, value) in c.iter_strings_lossy() {
                let text = value.trim_end_matches(['\n', '\r']);
                if text.is_empty() {
                    continue;
                }
                match segments.last_mut() {
                    Some(last) if last.changed == emphasized => last.text.push_str(text),
                    _ => segments.push(Segment {
                        changed: emphasized,
                        text: text.to_owned(),
                    }),
                }
            }
            out.push(DiffLine {
                change,
                old_no: c.old_index().map(|n| n + 1),
                new_no: c.new_index().map(|n| n + 1),
                segments,
            });
        }
    }
    out
}

/// A unified diff (`---`/`+++` headers, `@@` hunks, 3 lines of context) of `old` to `new`;
/// empty when the texts are equal.
pub fn unified(old: &str, new: &str, old_name: &str, new_name: &str) -> String {
    let d = line_diff(old, new);
    let mut u = d.unified_diff();
    u.context_radius(3).header(old_name, new_name);
    u.to_string()
}

/// The number of lines added and removed.
pub fn stats(lines: &[DiffLine]) -> (usize, usize) {
    lines.iter().fold((0, 0), |(a, r), l| match l.change {
        Change::Same => (a, r),
        Change::Added => (a + 1, r),
        Change::Removed => (a, r + 1),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(changed: bool, text: &str) -> Segment {
        Segment {
            changed,
            text: text.to_owned(),
        }
    }

    #[test]
    fn identical_texts_are_all_the_same_and_numbered_on_both_sides() {
        let text = "one\ntwo\nthree\n";
        let lines = diff(text, text);
        assert_eq!(lines.len(), 3);
        for (i, l) in lines.iter().enumerate() {
            assert_eq!(l.change, Change::Same);
            assert_eq!((l.old_no, l.new_no), (Some(i + 1), Some(i + 1)));
            assert!(l.segments.iter().all(|s| !s.changed));
        }
        assert_eq!(lines[1].text(), "two");
        assert_eq!(stats(&lines), (0, 0));
        assert_eq!(unified(text, text, "a", "b"), "");
    }

    #[test]
    fn added_lines_have_only_a_new_number() {
        let lines = diff("a\nc\n", "a\nb\nc\nd\n");
        let shape: Vec<_> = lines
            .iter()
            .map(|l| (l.change, l.old_no, l.new_no, l.text()))
            .collect();
        assert_eq!(
            shape,
            vec![
                (Change::Same, Some(1), Some(1), "a".to_owned()),
                (Change::Added, None, Some(2), "b".to_owned()),
                (Change::Same, Some(2), Some(3), "c".to_owned()),
                (Change::Added, None, Some(4), "d".to_owned()),
            ]
        );
        assert_eq!(stats(&lines), (2, 0));
        // A pure addition marks no words: the whole line is new.
        assert!(lines[1].segments.iter().all(|s| !s.changed));
    }

    #[test]
    fn removed_lines_have_only_an_old_number() {
        let lines = diff("a\nb\nc\n", "a\nc\n");
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[1].change, Change::Removed);
        assert_eq!((lines[1].old_no, lines[1].new_no), (Some(2), None));
        assert_eq!(lines[1].text(), "b");
        assert_eq!((lines[2].old_no, lines[2].new_no), (Some(3), Some(2)));
        assert_eq!(stats(&lines), (0, 1));
    }

    #[test]
    fn everything_from_and_to_nothing() {
        let added = diff("", "x\ny");
        assert_eq!(stats(&added), (2, 0));
        assert_eq!(added[1].new_no, Some(2));
        let removed = diff("x\ny\n", "");
        assert_eq!(stats(&removed), (0, 2));
        assert!(diff("", "").is_empty());
    }

    #[test]
    fn a_changed_word_marks_only_that_word() {
        let old = "intro\nRestart the BGP session on core1 now\nend\n";
        let new = "intro\nRestart the BGP session on core2 now\nend\n";
        let lines = diff(old, new);
        assert_eq!(lines.len(), 4);
        let removed = &lines[1];
        let added = &lines[2];
        assert_eq!(removed.change, Change::Removed);
        assert_eq!(added.change, Change::Added);
        assert_eq!((removed.old_no, removed.new_no), (Some(2), None));
        assert_eq!((added.old_no, added.new_no), (None, Some(2)));
        assert_eq!(
            removed.segments,
            vec![
                seg(false, "Restart the BGP session on "),
                seg(true, "core1"),
                seg(false, " now"),
            ]
        );
        assert_eq!(
            added.segments,
            vec![
                seg(false, "Restart the BGP session on "),
                seg(true, "core2"),
                seg(false, " now"),
            ]
        );
        assert_eq!(stats(&lines), (1, 1));
    }

    #[test]
    fn crlf_line_endings_are_not_part_of_the_text() {
        let lines = diff("a\r\nb\r\n", "a\r\nc\r\n");
        assert_eq!(lines[0].text(), "a");
        assert!(lines.iter().all(|l| !l.text().ends_with('\r')));
    }

    #[test]
    fn the_unified_diff_has_headers_hunks_and_three_lines_of_context() {
        let old: String = (1..=20).map(|n| format!("line {n}\n")).collect();
        let new = old.replace("line 10\n", "line ten\n");
        let u = unified(&old, &new, "runbooks/x@1", "runbooks/x@2");
        let expected = "--- runbooks/x@1\n+++ runbooks/x@2\n@@ -7,7 +7,7 @@\n line 7\n line 8\n \
                        line 9\n-line 10\n+line ten\n line 11\n line 12\n line 13\n";
        assert_eq!(u, expected);
    }

    #[test]
    fn lines_serialize_for_the_api() {
        let lines = diff("a\n", "b\n");
        let json = serde_json::to_value(&lines).unwrap();
        assert_eq!(json[0]["change"], "removed");
        assert_eq!(json[0]["old_no"], 1);
        assert_eq!(json[0]["new_no"], serde_json::Value::Null);
        assert_eq!(json[1]["change"], "added");
        assert_eq!(json[1]["segments"][0]["text"], "b");
        assert_eq!(Change::Added.sign(), "+");
        assert_eq!(Change::Same.as_str(), "same");
    }
}

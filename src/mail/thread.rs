//! Which ticket a message belongs to: the subject tag first (`[tag #123]`, CONTRACT §6), then
//! the Message-IDs it answers. Pure parts here; the lookup of Message-IDs is in intake.

/// The ticket named by a subject tag `[<tag> #<id>]` (case and spacing forgiven, the first
/// tag of ours wins; tags of other helpdesks are ignored).
pub fn tagged_ticket(subject: &str, tag: &str) -> Option<i64> {
    tag_span(subject, tag).map(|(_, _, id)| id)
}

/// Byte range of our tag in `subject` and the id it names.
fn tag_span(subject: &str, tag: &str) -> Option<(usize, usize, i64)> {
    let tag = tag.trim().to_lowercase();
    let mut from = 0;
    while let Some(open) = subject[from..].find('[').map(|o| o + from) {
        let close = subject[open..].find(']').map(|c| c + open)?;
        let body = subject[open + 1..close].trim().to_lowercase();
        if let Some(after_tag) = body.strip_prefix(tag.as_str()) {
            let num = after_tag.trim_start().strip_prefix('#').map(str::trim);
            if let Some(id) = num.and_then(|n| n.parse::<i64>().ok()).filter(|id| *id > 0) {
                return Some((open, close + 1, id));
            }
        }
        from = open + 1;
    }
    None
}

/// The subject with our tag removed (others' tags stay), spaces tidied, for a new ticket
/// opened from a message that named another one.
pub fn strip_tag(subject: &str, tag: &str) -> String {
    let mut out = subject.to_owned();
    if let Some((a, b, _)) = tag_span(subject, tag) {
        out.replace_range(a..b, "");
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The subject tag for ticket `id`.
pub fn tag_for(tag: &str, id: i64) -> String {
    format!("[{} #{}]", tag.trim(), id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_found_anywhere_in_the_subject() {
        assert_eq!(
            tagged_ticket("Re: [example.net #42] BGP down", "example.net"),
            Some(42)
        );
        assert_eq!(
            tagged_ticket("RE: [EXAMPLE.NET   #7 ] x", "example.net"),
            Some(7)
        );
        assert_eq!(
            tagged_ticket("Fwd: [other #9] [example.net #10]", "example.net"),
            Some(10)
        );
    }

    #[test]
    fn lookalikes_are_not_tags() {
        assert_eq!(tagged_ticket("[example.net] no id", "example.net"), None);
        assert_eq!(tagged_ticket("[example.net #abc]", "example.net"), None);
        assert_eq!(tagged_ticket("[example.net #-3]", "example.net"), None);
        assert_eq!(tagged_ticket("[example.netx #3]", "example.net"), None);
        assert_eq!(
            tagged_ticket("[example.net #99999999999999999999]", "example.net"),
            None
        );
        assert_eq!(
            tagged_ticket("unclosed [example.net #5", "example.net"),
            None
        );
        assert_eq!(tagged_ticket("", "example.net"), None);
    }

    #[test]
    fn the_tag_comes_out_of_a_subject() {
        assert_eq!(
            strip_tag("Re: [example.net #42]  BGP down", "example.net"),
            "Re: BGP down"
        );
        assert_eq!(tag_for("example.net", 5), "[example.net #5]");
    }
}

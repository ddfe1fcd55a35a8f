//! Everything intake does with a message before it touches the database: MIME parsing
//! (mail-parser), the facts we read from it, the RFC 3834 guard, the subject tag, the HTML to
//! text conversion. No input may panic, and the synthetic Message-ID must be stable.
#![no_main]

use libfuzzer_sys::fuzz_target;
use opsdesk::mail::{guard, parse, thread};

fuzz_target!(|data: &[u8]| {
    if let Some(m) = parse::parse(data) {
        assert!(!m.message_id.is_empty());
        let _ = guard::automatic(&m);
        let _ = thread::tagged_ticket(&m.subject, "example.net");
        let _ = thread::strip_tag(&m.subject, "example.net");
        if let Some(d) = &m.dsn {
            let _ = d
                .original_subject
                .as_deref()
                .map(|s| thread::tagged_ticket(s, "example.net"));
        }
        let again = parse::parse(data).map(|m| m.message_id);
        assert_eq!(again.as_deref(), Some(m.message_id.as_str()));
    }
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = parse::html_to_text(s);
    }
});

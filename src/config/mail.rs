//! The `[mail]` section: the relay, the sender, the subject tag and the IMAP pollers.

use std::collections::BTreeSet;

use super::check::Ck;
use super::raw::*;

pub(super) fn check_mail(ck: &mut Ck<'_>, m: &RawMail, queues: &BTreeSet<String>) {
    if let Some(u) = &m.smtp_url {
        ck.url("mail.smtp_url", u, &["smtp", "smtps"]);
    }
    ck.email("mail.from", &m.from);
    if m.subject_tag.trim().is_empty() || m.subject_tag.contains(['[', ']', '#']) {
        ck.bad(
            "mail.subject_tag",
            "must be non-empty text without [, ] or #",
        );
    }
    if m.max_message_bytes == 0 {
        ck.bad("mail.max_message_bytes", "must be larger than zero");
    }
    for (i, imap) in m.imap.iter().enumerate() {
        let k = format!("mail.imap[{i}]");
        if let Some(u) = ck.url(&format!("{k}.url"), &imap.url, &["imap", "imaps"])
            && u.host_str().is_none_or(str::is_empty)
        {
            ck.bad(format!("{k}.url"), "names no host");
        }
        ck.duration(&format!("{k}.interval"), &imap.interval);
        match (imap.after.as_str(), &imap.move_to) {
            ("seen" | "delete", None) => {}
            ("seen" | "delete", Some(_)) => {
                ck.bad(format!("{k}.move_to"), "is only used with after = \"move\"")
            }
            ("move", Some(m)) if !m.trim().is_empty() => {}
            ("move", _) => ck.bad(
                format!("{k}.move_to"),
                "names the mailbox to move processed messages to (after = \"move\")",
            ),
            (other, _) => ck.bad(
                format!("{k}.after"),
                format!("\"{other}\" is not seen, delete or move"),
            ),
        }
        if let Some(ca) = &imap.ca_file
            && !std::path::Path::new(ca).is_file()
        {
            ck.bad(
                format!("{k}.ca_file"),
                format!("{ca} is not a readable file"),
            );
        }
        if !queues.contains(&imap.queue) {
            ck.bad(
                format!("{k}.queue"),
                format!("no [[queue]] is named \"{}\"", imap.queue),
            );
        }
    }
}

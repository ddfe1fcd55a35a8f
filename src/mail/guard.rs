//! Loop and flood guards (RFC 3834, CONTRACT §6): what marks a message as sent by a machine,
//! so that nothing automatic is ever answered automatically, and what marks it as our own.

use super::parse::Inbound;

/// Why a message must not get an automatic answer; `None` when a person wrote it.
pub fn automatic(m: &Inbound) -> Option<&'static str> {
    if m.loop_guard {
        return Some("it carries our loop-guard header");
    }
    if m.dsn.is_some() {
        return Some("it is a delivery status notification (bounce)");
    }
    if m.auto_submitted
        .as_deref()
        .is_some_and(|v| !v.starts_with("no"))
    {
        return Some("Auto-Submitted says a machine sent it");
    }
    if m.precedence
        .as_deref()
        .is_some_and(|p| ["bulk", "junk", "list", "auto_reply"].contains(&p))
    {
        return Some("Precedence marks it bulk, junk or list mail");
    }
    if m.list_id {
        return Some("it came through a mailing list (List-Id)");
    }
    if m.return_path.as_deref() == Some("") {
        return Some("its return path is empty (<>)");
    }
    let from = m.from.as_ref().map(|f| f.address.as_str()).unwrap_or("");
    let local = from.split('@').next().unwrap_or("");
    if [
        "mailer-daemon",
        "postmaster",
        "noreply",
        "no-reply",
        "donotreply",
    ]
    .contains(&local)
    {
        return Some("it comes from a system mailbox");
    }
    None
}

/// Whether `address` is one of ours (the sender address or a queue's address): mail from us
/// to us is a loop, and our own addresses are never added as watchers.
pub fn is_own(address: &str, config: &crate::config::Config) -> bool {
    let a = address.trim().to_lowercase();
    if a.is_empty() {
        return false;
    }
    a == config.mail.from.to_lowercase()
        || config.queues.iter().any(|q| {
            [&q.correspond_address, &q.comment_address]
                .into_iter()
                .flatten()
                .any(|o| o.to_lowercase() == a)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::parse::{Dsn, Mailbox};

    fn person() -> Inbound {
        Inbound {
            from: Some(Mailbox {
                address: "ann@acme.example".into(),
                name: None,
            }),
            ..Inbound::default()
        }
    }

    #[test]
    fn a_person_may_be_answered() {
        assert_eq!(automatic(&person()), None);
        let mut m = person();
        m.auto_submitted = Some("no".into());
        m.precedence = Some("first-class".into());
        assert_eq!(automatic(&m), None);
    }

    #[test]
    fn every_machine_mark_is_recognised() {
        type Mark = Box<dyn Fn(&mut Inbound)>;
        let cases: Vec<Mark> = vec![
            Box::new(|m| m.auto_submitted = Some("auto-replied".into())),
            Box::new(|m| m.auto_submitted = Some("auto-generated".into())),
            Box::new(|m| m.precedence = Some("bulk".into())),
            Box::new(|m| m.precedence = Some("junk".into())),
            Box::new(|m| m.precedence = Some("list".into())),
            Box::new(|m| m.list_id = true),
            Box::new(|m| m.return_path = Some(String::new())),
            Box::new(|m| m.loop_guard = true),
            Box::new(|m| m.dsn = Some(Dsn::default())),
            Box::new(|m| {
                m.from = Some(Mailbox {
                    address: "mailer-daemon@mx.example".into(),
                    name: None,
                })
            }),
        ];
        for (i, set) in cases.iter().enumerate() {
            let mut m = person();
            set(&mut m);
            assert!(automatic(&m).is_some(), "case {i}");
        }
    }
}

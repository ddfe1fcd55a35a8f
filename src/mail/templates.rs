//! The texts of outgoing mail. Built-in defaults (templates/email/*.txt) that an admin can
//! replace in `/admin/mail/templates`; placeholders are `{{ name }}` and nothing else (no
//! logic, so an edited template can never fail to render or reach into anything).

use jiff::Timestamp;

use super::store;
use crate::db::{StoreError, Tx};

/// A template: its name, what it is for, its built-in text, the placeholders it may use.
#[derive(Debug, Clone, Copy)]
pub struct Kind {
    pub name: &'static str,
    pub purpose: &'static str,
    pub default: &'static str,
    pub placeholders: &'static [&'static str],
}

pub const KINDS: [Kind; 6] = [
    Kind {
        name: "autoreply",
        purpose: "to the requestor of a ticket opened by mail",
        default: include_str!("../../templates/email/autoreply.txt"),
        placeholders: &["ticket_id", "subject", "queue"],
    },
    Kind {
        name: "correspond",
        purpose: "correspondence, to requestors and Cc",
        default: include_str!("../../templates/email/correspond.txt"),
        placeholders: &["ticket_id", "subject", "queue", "body", "actor"],
    },
    Kind {
        name: "comment",
        purpose: "internal comments, to AdminCc",
        default: include_str!("../../templates/email/comment.txt"),
        placeholders: &["ticket_id", "subject", "queue", "body", "actor"],
    },
    Kind {
        name: "resolved",
        purpose: "to requestors when the ticket is resolved",
        default: include_str!("../../templates/email/resolved.txt"),
        placeholders: &["ticket_id", "subject", "queue"],
    },
    Kind {
        name: "escalation",
        purpose: "SLA escalation notices, to the people a policy's escalate step names",
        default: include_str!("../../templates/email/escalation.txt"),
        placeholders: &["ticket_id", "subject", "queue", "body"],
    },
    FOOTER,
];

/// The text under every message.
const FOOTER: Kind = Kind {
    name: "footer",
    purpose: "after every message",
    default: include_str!("../../templates/email/footer.txt"),
    placeholders: &["ticket_id", "url", "tag"],
};

pub fn kind(name: &str) -> Option<Kind> {
    KINDS.iter().copied().find(|k| k.name == name)
}

/// The placeholders of `text`, or what is wrong with them (an unclosed `{{`, a name the
/// template does not offer), with the line.
pub fn check(text: &str, k: &Kind) -> Result<(), String> {
    for (n, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(open) = rest.find("{{") {
            let after = &rest[open + 2..];
            let Some(close) = after.find("}}") else {
                return Err(format!("line {}: a {{{{ without its }}}}", n + 1));
            };
            let name = after[..close].trim();
            if !k.placeholders.contains(&name) {
                return Err(format!(
                    "line {}: {{{{ {name} }}}} is not a placeholder of this template; it offers {}",
                    n + 1,
                    k.placeholders
                        .iter()
                        .map(|p| format!("{{{{ {p} }}}}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            rest = &after[close + 2..];
        }
    }
    Ok(())
}

/// `text` with each `{{ name }}` replaced by its value; anything else stays as written.
pub fn render(text: &str, vars: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(text.len() + 256);
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        match after.find("}}") {
            Some(close) => {
                let name = after[..close].trim();
                match vars.iter().find(|(k, _)| *k == name) {
                    Some((_, v)) => out.push_str(v),
                    None => out.push_str(&rest[open..open + 2 + close + 2]),
                }
                rest = &after[close + 2..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The text in force for `name`: the admin's, else the built-in one.
pub async fn text(tx: &mut Tx, k: &Kind) -> Result<String, StoreError> {
    Ok(store::template(tx, k.name)
        .await?
        .unwrap_or_else(|| k.default.to_owned()))
}

/// The texts in force for a message of kind `k` and the footer under it, read together.
pub async fn with_footer(tx: &mut Tx, k: &Kind) -> Result<[String; 2], StoreError> {
    let saved = store::templates(tx, [k.name, FOOTER.name]).await?;
    let pick = |k: &Kind| {
        saved
            .iter()
            .find(|(n, _)| n == k.name)
            .map(|(_, b)| b.clone())
            .unwrap_or_else(|| k.default.to_owned())
    };
    Ok([pick(k), pick(&FOOTER)])
}

/// Saves an admin's text (checked first); an empty text goes back to the built-in one.
pub async fn save(
    tx: &mut Tx,
    k: &Kind,
    body: &str,
    by: &str,
    now: Timestamp,
) -> Result<Result<(), String>, StoreError> {
    let body = body.replace("\r\n", "\n");
    if body.trim().is_empty() || body == k.default {
        store::drop_template(tx, k.name).await?;
        return Ok(Ok(()));
    }
    if let Err(e) = check(&body, k) {
        return Ok(Err(e));
    }
    store::save_template(tx, k.name, &body, by, now).await?;
    Ok(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_and_nothing_else_changes() {
        let t = "Ticket #{{ ticket_id }} {{subject}} {{ unknown }} {{ open";
        assert_eq!(
            render(t, &[("ticket_id", "7"), ("subject", "x {{ y }}")]),
            "Ticket #7 x {{ y }} {{ unknown }} {{ open"
        );
    }

    #[test]
    fn the_built_in_texts_pass_their_own_check() {
        for k in KINDS {
            assert_eq!(check(k.default, &k), Ok(()), "{}", k.name);
        }
    }

    #[test]
    fn a_bad_placeholder_is_named_with_its_line() {
        let k = kind("autoreply").unwrap();
        let e = check("Hello\n{{ body }}", &k).unwrap_err();
        assert!(
            e.starts_with("line 2: {{ body }} is not a placeholder"),
            "{e}"
        );
        assert!(
            check("{{ ticket_id", &k)
                .unwrap_err()
                .contains("without its")
        );
    }
}

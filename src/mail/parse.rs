//! One raw RFC 5322 message → the facts intake needs, through mail-parser. Pure: no database,
//! no clock; whatever the bytes hold, this answers a value (a message mail-parser cannot read
//! at all comes back as `None`, and intake keeps it raw and flagged).

use mail_parser::{Address, HeaderValue, MessageParser, MimeHeaders, PartType};
use sha2::{Digest, Sha256};

pub use super::html::html_to_text;

/// How much of a text body is kept on the ticket; the raw message keeps the rest.
pub const MAX_BODY_CHARS: usize = 200_000;

/// A mailbox from a header: lower-cased address, and the display name when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    pub address: String,
    pub name: Option<String>,
}

/// A file carried by the message (attachment, inline image, nested message, TNEF), hashed as
/// it is read.
pub type Part = crate::tickets::attachments::Upload;

/// What intake reads from a message.
#[derive(Debug, Clone, Default)]
pub struct Inbound {
    /// Without angle brackets; a stable synthetic id when the message has none.
    pub message_id: String,
    pub synthetic_id: bool,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    pub subject: String,
    pub from: Option<Mailbox>,
    pub reply_to: Vec<Mailbox>,
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    /// The text to put on the ticket: text/plain, or the text of an HTML-only message.
    pub body: String,
    /// Whether `body` was extracted from HTML (the message had no text/plain part).
    pub from_html: bool,
    pub parts: Vec<Part>,
    /// RFC 3834 and friends: headers that mark the message as sent by a machine.
    pub auto_submitted: Option<String>,
    pub precedence: Option<String>,
    pub list_id: bool,
    /// The envelope sender as the MTA recorded it (`Return-Path`); `Some("")` for `<>`.
    pub return_path: Option<String>,
    pub loop_guard: bool,
    /// A delivery status notification (multipart/report; report-type=delivery-status).
    pub dsn: Option<Dsn>,
}

/// What a bounce says about the message it returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dsn {
    /// Message-ID and subject of the returned message, when the report carries its headers.
    pub original_message_id: Option<String>,
    pub original_subject: Option<String>,
    /// Final-Recipient / Status / Diagnostic-Code lines of the machine-readable part.
    pub summary: String,
}

/// The header we put on everything we send, and refuse to answer.
pub const LOOP_HEADER: &str = "X-Opsdesk-Loop";

pub fn parse(raw: &[u8]) -> Option<Inbound> {
    // mail-parser 0.11 can panic on hostile input (the fuzzer found a debug assertion in its
    // multipart walk): a panic there means "unreadable", never a lost message (DESIGN.md §6).
    std::panic::catch_unwind(|| parse_unguarded(raw))
        .ok()
        .flatten()
}

fn parse_unguarded(raw: &[u8]) -> Option<Inbound> {
    let msg = MessageParser::default().parse(raw)?;
    let (message_id, synthetic_id) = match msg.message_id().map(clean_id) {
        Some(id) if !id.is_empty() => (id, false),
        _ => (synthetic_id(raw), true),
    };
    let (body, from_html) = body_of(&msg);
    let mut inbound = Inbound {
        message_id,
        synthetic_id,
        in_reply_to: ids(msg.in_reply_to()),
        references: ids(msg.references()),
        subject: msg.subject().map(one_line).unwrap_or_default(),
        from: msg
            .from()
            .and_then(|a| mailboxes(a).into_iter().next())
            .or_else(|| msg.sender().and_then(|a| mailboxes(a).into_iter().next())),
        reply_to: msg.reply_to().map(mailboxes).unwrap_or_default(),
        to: msg.to().map(mailboxes).unwrap_or_default(),
        cc: msg.cc().map(mailboxes).unwrap_or_default(),
        body,
        from_html,
        parts: Vec::new(),
        auto_submitted: text_header(&msg, "Auto-Submitted"),
        precedence: text_header(&msg, "Precedence"),
        list_id: !msg.list_id().is_empty(),
        return_path: return_path(&msg),
        loop_guard: msg.header_raw(LOOP_HEADER).is_some(),
        dsn: None,
    };
    inbound.dsn = dsn_of(&msg);
    inbound.parts = parts_of(&msg);
    Some(inbound)
}

/// `<id@host>` → `id@host`, trimmed; what References and In-Reply-To hold too.
pub fn clean_id(s: &str) -> String {
    s.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim()
        .chars()
        .take(250)
        .collect()
}

/// A message without a Message-ID gets one from its bytes: the same message delivered twice
/// is recognised as such, two different ones never collide.
pub fn synthetic_id(raw: &[u8]) -> String {
    format!(
        "sha256-{}@opsdesk.invalid",
        hex::encode(Sha256::digest(raw))
    )
}

fn ids(v: &HeaderValue<'_>) -> Vec<String> {
    let list: Vec<String> = match v {
        HeaderValue::Text(t) => vec![clean_id(t)],
        HeaderValue::TextList(l) => l.iter().map(|t| clean_id(t)).collect(),
        _ => Vec::new(),
    };
    list.into_iter()
        .filter(|s| !s.is_empty())
        .take(50)
        .collect()
}

fn one_line(s: &str) -> String {
    let joined: String = s
        .split(['\r', '\n'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    joined
        .chars()
        .filter(|c| !c.is_control())
        .take(500)
        .collect()
}

fn mailboxes(a: &Address<'_>) -> Vec<Mailbox> {
    a.iter()
        .filter_map(|m| {
            let address = m.address()?.trim().to_lowercase();
            (address.contains('@')
                && address.len() <= 254
                && !address.contains(char::is_whitespace))
            .then(|| Mailbox {
                address,
                name: m.name().map(one_line).filter(|n| !n.is_empty()),
            })
        })
        .take(100)
        .collect()
}

fn text_header(msg: &mail_parser::Message<'_>, name: &str) -> Option<String> {
    msg.header_raw(name)
        .map(|v| one_line(v).to_lowercase())
        .filter(|v| !v.is_empty())
}

fn return_path(msg: &mail_parser::Message<'_>) -> Option<String> {
    let raw = msg.header_raw("Return-Path")?;
    Some(clean_id(&one_line(raw)).to_lowercase())
}

/// The first text/plain body; else the first HTML body as text; else nothing.
fn body_of(msg: &mail_parser::Message<'_>) -> (String, bool) {
    let plain = msg
        .text_bodies()
        .find(|p| matches!(p.body, PartType::Text(_)))
        .and_then(|p| p.text_contents().map(str::to_owned));
    if let Some(t) = plain {
        return (clip(&t), false);
    }
    match msg.body_html(0) {
        Some(html) => (clip(&html_to_text(&html)), true),
        None => (String::new(), false),
    }
}

fn clip(s: &str) -> String {
    let s = s.replace("\r\n", "\n").replace('\0', "");
    let s = s.trim_end();
    if s.chars().count() > MAX_BODY_CHARS {
        let mut out: String = s.chars().take(MAX_BODY_CHARS).collect();
        out.push_str("\n\n[… cut here; the whole message is kept with the ticket]");
        out
    } else {
        s.to_owned()
    }
}

/// Every part that is not the body shown on the ticket: attachments, inline images, nested
/// messages (kept whole, as .eml), calendar invites, TNEF (winmail.dat, kept as it came).
fn parts_of(msg: &mail_parser::Message<'_>) -> Vec<Part> {
    let mut out = Vec::new();
    for (i, p) in msg.attachments().enumerate().take(200) {
        let ct = p
            .content_type()
            .map(|c| match c.subtype() {
                Some(sub) => format!("{}/{}", c.ctype(), sub),
                None => c.ctype().to_owned(),
            })
            .unwrap_or_else(|| "application/octet-stream".into())
            .to_ascii_lowercase();
        let data = p.contents().to_vec();
        let default_name = if p.is_message() {
            format!("message-{}.eml", i + 1)
        } else if ct == "text/calendar" {
            format!("invite-{}.ics", i + 1)
        } else if ct == "application/ms-tnef" || ct == "application/vnd.ms-tnef" {
            "winmail.dat".to_owned()
        } else {
            format!("part-{}", i + 1)
        };
        out.push(Part::new(
            p.attachment_name()
                .map(one_line)
                .filter(|n| !n.is_empty())
                .unwrap_or(default_name),
            if p.is_message() {
                "message/rfc822".into()
            } else {
                ct
            },
            data,
        ));
    }
    // An HTML body kept as a file too: the ticket shows its text, staff can open the original.
    if let Some(html) = msg
        .html_bodies()
        .find(|p| matches!(p.body, PartType::Html(_)))
        .and_then(|p| p.text_contents())
        && msg
            .text_bodies()
            .all(|p| !matches!(p.body, PartType::Text(_)))
    {
        out.push(Part::new(
            "message.html".into(),
            "text/html".into(),
            html.as_bytes().to_vec(),
        ));
    }
    out
}

fn dsn_of(msg: &mail_parser::Message<'_>) -> Option<Dsn> {
    let ct = msg.content_type()?;
    let is_report = ct.ctype().eq_ignore_ascii_case("multipart")
        && ct
            .subtype()
            .is_some_and(|s| s.eq_ignore_ascii_case("report"))
        && ct
            .attribute("report-type")
            .is_some_and(|r| r.eq_ignore_ascii_case("delivery-status"));
    if !is_report {
        return None;
    }
    let mut dsn = Dsn::default();
    for p in msg.parts.iter() {
        let Some(pct) = p.content_type() else {
            continue;
        };
        let sub = pct.subtype().unwrap_or("").to_ascii_lowercase();
        let ctype = pct.ctype().to_ascii_lowercase();
        if ctype == "message" && sub == "delivery-status" {
            let text = String::from_utf8_lossy(p.contents());
            let lines: Vec<&str> = text
                .lines()
                .map(str::trim)
                .filter(|l| {
                    let l = l.to_ascii_lowercase();
                    l.starts_with("final-recipient")
                        || l.starts_with("status")
                        || l.starts_with("action")
                        || l.starts_with("diagnostic-code")
                })
                .take(20)
                .collect();
            dsn.summary = lines.join("\n");
        } else if (ctype == "message" && sub == "rfc822")
            || (ctype == "text" && sub == "rfc822-headers")
        {
            // A header block cut at the end of the part may lack its final line break,
            // and the parser drops an unterminated last field.
            let mut block = match p.message() {
                Some(m) => m.raw_message().to_vec(),
                None => p.contents().to_vec(),
            };
            block.extend_from_slice(b"\r\n\r\n");
            let inner = MessageParser::default().parse_headers(&block);
            if let Some(m) = inner {
                dsn.original_message_id = m.message_id().map(clean_id);
                dsn.original_subject = m.subject().map(one_line);
            }
        }
    }
    Some(dsn)
}

#[cfg(test)]
mod tests;

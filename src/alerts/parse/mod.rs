//! One parser per source kind, each turning the source's native payload into [`AlertEvent`]s
//! or saying exactly what is wrong and where. They are pure: bytes in, events out, no I/O,
//! so they are fuzzed directly (fuzz/) and a payload is parsed whole before anything is
//! written ("nothing stored half").

pub mod alertmanager;
pub mod events;
pub mod nagios;

use super::AlertEvent;

/// Longest text kept from a payload field; longer ones are cut (monitoring output can be
/// huge, and a cut summary is better than a lost alert).
pub const MAX_TEXT: usize = 4000;
/// Longest name, identity or label key kept.
pub const MAX_NAME: usize = 200;
/// Most alerts one delivery may carry.
pub const MAX_ALERTS: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error("the body is empty")]
    Empty,
    #[error("the body is not JSON: {message} at line {line}, column {column}")]
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("the body is not UTF-8 form data or JSON")]
    Encoding,
    #[error("{path}: {message}")]
    Field { path: String, message: String },
}

impl PayloadError {
    pub fn field(path: impl Into<String>, message: impl Into<String>) -> PayloadError {
        PayloadError::Field {
            path: path.into(),
            message: message.into(),
        }
    }

    fn json(e: &serde_json::Error) -> PayloadError {
        // serde_json's message ends with " at line L column C"; the position is given apart.
        let full = e.to_string();
        let message = match full.rfind(" at line ") {
            Some(i) => full[..i].to_owned(),
            None => full,
        };
        PayloadError::Json {
            line: e.line(),
            column: e.column(),
            message,
        }
    }
}

/// What a payload carried.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Parsed {
    pub events: Vec<AlertEvent>,
    /// The Events API's `routing_key`, which is the source's token there.
    pub routing_key: Option<String>,
    /// The key each event was deduplicated by, in order (Events API answers it).
    pub dedup_keys: Vec<String>,
}

/// Parses `body` as JSON, with the error's position.
pub(crate) fn json(body: &[u8]) -> Result<serde_json::Value, PayloadError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(PayloadError::Empty);
    }
    serde_json::from_slice(body).map_err(|e| PayloadError::json(&e))
}

/// `s` cut to at most `max` characters, on a character boundary, control characters as spaces
/// except line breaks and tabs.
pub fn clip(s: &str, max: usize) -> String {
    s.chars()
        .take(max)
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// A one-line name: control characters as spaces, trimmed, at most [`MAX_NAME`] characters.
pub fn one_line(s: &str) -> String {
    let line: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    line.trim().chars().take(MAX_NAME).collect()
}

/// The host of `instance`-style text: the port stripped (`web1:9100` → `web1`,
/// `[2001:db8::1]:9100` → `2001:db8::1`; a bare IPv6 address stays whole), a URL's host taken,
/// a trailing dot dropped, lower case. None when nothing is left.
pub fn host_of(text: &str) -> Option<String> {
    let t = text.trim();
    let t = match t.split_once("://") {
        Some((_, rest)) => rest.split(['/', '?', '#']).next().unwrap_or(rest),
        None => t,
    };
    let t = t.rsplit_once('@').map_or(t, |(_, h)| h);
    let host = if t.parse::<std::net::IpAddr>().is_ok() {
        t
    } else if let Some(rest) = t.strip_prefix('[') {
        rest.split_once(']').map_or(rest, |(h, _)| h)
    } else {
        match t.rsplit_once(':') {
            Some((h, port)) if !h.contains(':') && port.chars().all(|c| c.is_ascii_digit()) => h,
            _ => t,
        }
    };
    let host = one_line(host.trim_end_matches('.')).to_ascii_lowercase();
    (!host.is_empty()).then_some(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_lose_ports_and_keep_ipv6() {
        assert_eq!(host_of("web1:9100").as_deref(), Some("web1"));
        assert_eq!(
            host_of("Web1.Example.NET.").as_deref(),
            Some("web1.example.net")
        );
        assert_eq!(host_of("10.0.0.1:9100").as_deref(), Some("10.0.0.1"));
        assert_eq!(
            host_of("[2001:db8::1]:9100").as_deref(),
            Some("2001:db8::1")
        );
        assert_eq!(host_of("2001:db8::1").as_deref(), Some("2001:db8::1"));
        assert_eq!(
            host_of("https://router1.example.net:8443/metrics").as_deref(),
            Some("router1.example.net")
        );
        assert_eq!(host_of("  "), None);
        assert_eq!(host_of(":9100"), None);
    }

    #[test]
    fn json_errors_say_where() {
        let e = json(b"{\n  \"alerts\": [,]\n}").unwrap_err();
        match e {
            PayloadError::Json { line, column, .. } => assert_eq!((line, column), (2, 14)),
            other => panic!("{other:?}"),
        }
        assert_eq!(json(b"  \n"), Err(PayloadError::Empty));
    }

    #[test]
    fn clipping_keeps_characters_whole() {
        assert_eq!(clip("äöü", 2), "äö");
        assert_eq!(one_line(" a\u{0}b\r\nc "), "a b  c");
    }

    /// What every parser promises apply(): an identity, a one-line name, a lower-case host.
    fn sound(p: &Parsed) {
        assert_eq!(p.events.len(), p.dedup_keys.len());
        for e in &p.events {
            assert!(!e.identity.is_empty());
            assert!(!e.name.trim().is_empty() && !e.name.contains('\n'));
            assert!(e.name.chars().count() <= MAX_NAME);
            if let Some(h) = &e.host {
                assert!(!h.is_empty() && *h == h.to_ascii_lowercase());
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn no_bytes_make_a_parser_panic(body in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
            for p in [
                alertmanager::parse(&body),
                nagios::parse(&body, None),
                nagios::parse(&body, Some("application/json")),
                events::parse(&body),
            ].into_iter().flatten() {
                sound(&p);
            }
        }

        #[test]
        fn any_label_text_makes_a_sound_alert(
            name in "\\PC{0,300}",
            instance in "\\PC{0,80}",
            status in proptest::sample::select(vec!["firing", "resolved"]),
        ) {
            let body = serde_json::json!({"alerts": [{"status": status,
                "labels": {"alertname": name, "instance": instance}}]});
            let p = alertmanager::parse(body.to_string().as_bytes()).unwrap();
            sound(&p);
            let form = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs([("NOTIFICATIONTYPE", "PROBLEM"), ("HOSTNAME", instance.as_str()),
                               ("SERVICEDESC", name.as_str())])
                .finish();
            if let Ok(p) = nagios::parse(form.as_bytes(), None) {
                sound(&p);
            }
        }
    }
}

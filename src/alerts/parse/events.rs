//! The PagerDuty Events API v2 shape: `routing_key` (the source's token), `event_action`
//! trigger / acknowledge / resolve, `dedup_key`, and for a trigger
//! `payload{summary, source, severity}` with optional `component`, `group`, `class`,
//! `custom_details`, and `links`, `client_url` beside it. Validated as PagerDuty does, so a
//! client that works there gets the same answers here.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::{MAX_NAME, MAX_TEXT, Parsed, PayloadError, clip, host_of, json, one_line};
use crate::alerts::{Action, AlertEvent};

const SEVERITIES: [&str; 4] = ["critical", "error", "warning", "info"];

pub fn parse(body: &[u8]) -> Result<Parsed, PayloadError> {
    let v = json(body)?;
    let o = v
        .as_object()
        .ok_or_else(|| PayloadError::field("$", "must be an object"))?;
    let routing_key = text(o, "routing_key", "routing_key")?
        .ok_or_else(|| PayloadError::field("routing_key", "is missing"))?;
    let action = match text(o, "event_action", "event_action")?.as_deref() {
        Some("trigger") => Action::Fire,
        Some("acknowledge") => Action::Acknowledge,
        Some("resolve") => Action::Resolve,
        Some(other) => {
            return Err(PayloadError::field(
                "event_action",
                format!(
                    "\"{}\" is not trigger, acknowledge or resolve",
                    one_line(other)
                ),
            ));
        }
        None => return Err(PayloadError::field("event_action", "is missing")),
    };
    let dedup = text(o, "dedup_key", "dedup_key")?.map(|k| one_line(&k));
    let dedup = match (dedup.filter(|k| !k.is_empty()), action) {
        (Some(k), _) => k,
        // PagerDuty makes a key for a trigger without one; ours is the body's hash, so the
        // same delivery twice is the same alert.
        (None, Action::Fire) => hex::encode(&Sha256::digest(body)[..16]),
        (None, _) => {
            return Err(PayloadError::field(
                "dedup_key",
                "is required to acknowledge or resolve",
            ));
        }
    };
    let mut e = match (action, o.get("payload")) {
        (Action::Fire, Some(Value::Object(p))) => trigger(&dedup, p)?,
        (Action::Fire, Some(_)) => return Err(PayloadError::field("payload", "must be an object")),
        (Action::Fire, None) => return Err(PayloadError::field("payload", "is missing")),
        _ => AlertEvent::new(dedup.clone(), action, dedup.clone(), dedup.clone()),
    };
    e.action = action;
    if let Some(u) = text(o, "client_url", "client_url")?
        && (u.starts_with("https://") || u.starts_with("http://"))
    {
        e.generator_url = Some(one_line(&u));
    }
    if let Some(Value::Array(links)) = o.get("links") {
        for (i, l) in links.iter().take(20).enumerate() {
            if let Some(href) = l.get("href").and_then(Value::as_str) {
                let key = if i == 0 {
                    "link".to_owned()
                } else {
                    format!("link_{i}")
                };
                e.annotations.insert(key, clip(href, MAX_TEXT));
            }
        }
    }
    Ok(Parsed {
        dedup_keys: vec![dedup],
        events: vec![e],
        routing_key: Some(routing_key),
    })
}

fn trigger(dedup: &str, p: &Map<String, Value>) -> Result<AlertEvent, PayloadError> {
    let summary = text(p, "summary", "payload.summary")?
        .map(|s| one_line(&s))
        .filter(|s| !s.is_empty())
        .ok_or_else(|| PayloadError::field("payload.summary", "is missing"))?;
    let source = text(p, "source", "payload.source")?
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| PayloadError::field("payload.source", "is missing"))?;
    let severity = text(p, "severity", "payload.severity")?
        .ok_or_else(|| PayloadError::field("payload.severity", "is missing"))?;
    if !SEVERITIES.contains(&severity.as_str()) {
        return Err(PayloadError::field(
            "payload.severity",
            format!(
                "\"{}\" is not critical, error, warning or info",
                one_line(&severity)
            ),
        ));
    }
    let class = text(p, "class", "payload.class")?;
    let component = text(p, "component", "payload.component")?;
    let name = class
        .as_deref()
        .or(component.as_deref())
        .map(one_line)
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| summary.chars().take(MAX_NAME).collect());
    let mut e = AlertEvent::new(dedup.to_owned(), Action::Fire, name, summary);
    e.host = host_of(&source);
    e.severity = Some(severity);
    e.labels.insert("source".into(), one_line(&source));
    for key in ["component", "group", "class"] {
        if let Some(v) = text(p, key, &format!("payload.{key}"))? {
            e.labels.insert(key.into(), one_line(&v));
        }
    }
    match p.get("custom_details") {
        Some(Value::Object(d)) => {
            for (k, v) in d.iter().take(100) {
                let v = match v {
                    Value::String(s) => clip(s, MAX_TEXT),
                    other => clip(&other.to_string(), MAX_TEXT),
                };
                e.annotations.insert(clip(k, MAX_NAME), v);
            }
        }
        Some(Value::Null) | None => {}
        // PagerDuty takes any JSON here; a non-object is kept whole.
        Some(other) => {
            e.annotations
                .insert("details".into(), clip(&other.to_string(), MAX_TEXT));
        }
    }
    e.description = e.annotations.get("description").cloned();
    Ok(e)
}

fn text(o: &Map<String, Value>, key: &str, path: &str) -> Result<Option<String>, PayloadError> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(PayloadError::field(path, "must be a string")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trigger_names_its_host_severity_and_details() {
        let p = parse(
            br#"{"routing_key":"events-token-1","event_action":"trigger","dedup_key":"db1/replication",
                "payload":{"summary":"Replication lag 900s","source":"db1.example.net:5432","severity":"warning",
                           "class":"ReplicationLag","custom_details":{"lag":900,"runbook_url":"https://runbooks.example/lag"}},
                "client_url":"https://mon.example/db1"}"#,
        )
        .unwrap();
        assert_eq!(p.routing_key.as_deref(), Some("events-token-1"));
        let e = &p.events[0];
        assert_eq!(e.identity, "db1/replication");
        assert_eq!(e.name, "ReplicationLag");
        assert_eq!(e.host.as_deref(), Some("db1.example.net"));
        assert_eq!(e.severity.as_deref(), Some("warning"));
        assert_eq!(e.annotations.get("lag").map(String::as_str), Some("900"));
        assert_eq!(e.runbook_url(), Some("https://runbooks.example/lag"));
        assert_eq!(e.generator_url.as_deref(), Some("https://mon.example/db1"));
    }

    #[test]
    fn acknowledge_and_resolve_need_only_the_key() {
        let p = parse(br#"{"routing_key":"k","event_action":"resolve","dedup_key":"x"}"#).unwrap();
        assert_eq!(
            (p.events[0].identity.as_str(), p.events[0].action),
            ("x", Action::Resolve)
        );
        let e = parse(br#"{"routing_key":"k","event_action":"acknowledge"}"#).unwrap_err();
        assert_eq!(
            e.to_string(),
            "dedup_key: is required to acknowledge or resolve"
        );
    }

    #[test]
    fn a_trigger_without_a_key_gets_the_same_one_for_the_same_body() {
        let body = br#"{"routing_key":"k","event_action":"trigger","payload":{"summary":"s","source":"h","severity":"info"}}"#;
        assert_eq!(
            parse(body).unwrap().dedup_keys,
            parse(body).unwrap().dedup_keys
        );
    }

    #[test]
    fn malformed_events_say_what_is_wrong() {
        let cases: [(&[u8], &str); 6] = [
            (br#"{"event_action":"trigger"}"#, "routing_key: is missing"),
            (br#"{"routing_key":"k","event_action":"fire"}"#, "event_action: \"fire\" is not"),
            (br#"{"routing_key":"k","event_action":"trigger"}"#, "payload: is missing"),
            (
                br#"{"routing_key":"k","event_action":"trigger","payload":{"summary":"s","source":"h","severity":"bad"}}"#,
                "payload.severity: \"bad\" is not",
            ),
            (
                br#"{"routing_key":"k","event_action":"trigger","payload":{"source":"h","severity":"info"}}"#,
                "payload.summary: is missing",
            ),
            (br#"{"routing_key":5}"#, "routing_key: must be a string"),
        ];
        for (body, want) in cases {
            let e = parse(body).unwrap_err().to_string();
            assert!(e.starts_with(want), "{e}");
        }
    }
}

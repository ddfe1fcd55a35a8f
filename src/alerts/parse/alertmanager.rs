//! Alertmanager's webhook payload, version 4: `alerts[]` with `status`, `labels`,
//! `annotations`, `startsAt`, `endsAt`, `generatorURL` and `fingerprint`.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::{MAX_ALERTS, MAX_NAME, MAX_TEXT, Parsed, PayloadError, clip, host_of, json, one_line};
use crate::alerts::{Action, AlertEvent};

/// Labels that name the machine an alert is about, in the order they are tried.
const HOST_LABELS: [&str; 5] = ["instance", "host", "hostname", "node", "nodename"];

pub fn parse(body: &[u8]) -> Result<Parsed, PayloadError> {
    let v = json(body)?;
    let top = v
        .as_object()
        .ok_or_else(|| PayloadError::field("$", "must be an object with an \"alerts\" array"))?;
    let external_url = opt_str(top, "externalURL", "externalURL")?;
    let alerts = match top.get("alerts") {
        Some(Value::Array(a)) => a,
        Some(_) => return Err(PayloadError::field("alerts", "must be an array")),
        None => return Err(PayloadError::field("alerts", "is missing")),
    };
    if alerts.len() > MAX_ALERTS {
        return Err(PayloadError::field(
            "alerts",
            format!("{} alerts; at most {MAX_ALERTS} per delivery", alerts.len()),
        ));
    }
    let mut out = Parsed::default();
    for (i, a) in alerts.iter().enumerate() {
        let mut e = alert(&format!("alerts[{i}]"), a)?;
        e.external_url.clone_from(&external_url);
        out.dedup_keys.push(e.identity.clone());
        out.events.push(e);
    }
    Ok(out)
}

fn alert(path: &str, a: &Value) -> Result<AlertEvent, PayloadError> {
    let a = a
        .as_object()
        .ok_or_else(|| PayloadError::field(path, "must be an object"))?;
    let action = match a.get("status").and_then(Value::as_str) {
        Some("firing") => Action::Fire,
        Some("resolved") => Action::Resolve,
        Some(other) => {
            return Err(PayloadError::field(
                format!("{path}.status"),
                format!("\"{}\" is neither firing nor resolved", one_line(other)),
            ));
        }
        None => {
            return Err(PayloadError::field(
                format!("{path}.status"),
                "is missing (firing or resolved)",
            ));
        }
    };
    let labels = strings(&format!("{path}.labels"), a.get("labels"), true)?;
    let annotations = strings(&format!("{path}.annotations"), a.get("annotations"), false)?;
    let identity = match opt_str(a, "fingerprint", &format!("{path}.fingerprint"))? {
        Some(f) if !f.trim().is_empty() => one_line(&f),
        // Alertmanager fingerprints the label set; without one, so do we.
        _ => fingerprint(&labels),
    };
    let name = labels
        .get("alertname")
        .map(|n| one_line(n))
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "alert".to_owned());
    let host = HOST_LABELS
        .iter()
        .find_map(|k| labels.get(*k).and_then(|v| host_of(v)));
    let description = annotations
        .get("description")
        .map(|d| clip(d.trim(), MAX_TEXT));
    let summary = ["summary", "message", "description"]
        .iter()
        .find_map(|k| annotations.get(*k))
        .map(|s| one_line(s.lines().next().unwrap_or("")))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| match &host {
            Some(h) => format!("{name} on {h}"),
            None => name.clone(),
        });
    let mut e = AlertEvent::new(identity, action, name, summary);
    e.severity = labels.get("severity").map(|s| one_line(s));
    e.host = host;
    e.description = description;
    e.occurrence = opt_str(a, "startsAt", &format!("{path}.startsAt"))?.map(|s| one_line(&s));
    e.generator_url = opt_str(a, "generatorURL", &format!("{path}.generatorURL"))?
        .map(|u| one_line(&u))
        .filter(|u| u.starts_with("http://") || u.starts_with("https://"));
    e.labels = labels;
    e.annotations = annotations;
    Ok(e)
}

fn opt_str(o: &Map<String, Value>, key: &str, path: &str) -> Result<Option<String>, PayloadError> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(PayloadError::field(path, "must be a string")),
    }
}

/// An object of string values; `required` refuses it missing.
fn strings(
    path: &str,
    v: Option<&Value>,
    required: bool,
) -> Result<BTreeMap<String, String>, PayloadError> {
    let o = match v {
        Some(Value::Object(o)) => o,
        None | Some(Value::Null) if !required => return Ok(BTreeMap::new()),
        None => return Err(PayloadError::field(path, "is missing")),
        Some(_) => return Err(PayloadError::field(path, "must be an object of strings")),
    };
    if o.len() > 200 {
        return Err(PayloadError::field(path, "more than 200 entries"));
    }
    o.iter()
        .map(|(k, v)| match v {
            Value::String(s) => Ok((clip(k, MAX_NAME), clip(s, MAX_TEXT))),
            _ => Err(PayloadError::field(
                format!("{path}.{}", one_line(k)),
                "must be a string",
            )),
        })
        .collect()
}

/// A stable identity for a label set: the SHA-256 of the sorted `name=value` lines, 16 hex digits.
fn fingerprint(labels: &BTreeMap<String, String>) -> String {
    let mut h = Sha256::new();
    for (k, v) in labels {
        h.update(k.as_bytes());
        h.update([0xff]);
        h.update(v.as_bytes());
        h.update([0xfe]);
    }
    hex::encode(&h.finalize()[..8])
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIRING: &str = r#"{
      "version": "4", "groupKey": "{}:{alertname=\"HostDown\"}", "truncatedAlerts": 0,
      "status": "firing", "receiver": "opsdesk", "groupLabels": {}, "commonLabels": {},
      "commonAnnotations": {}, "externalURL": "http://127.0.0.1:9093",
      "alerts": [{
        "status": "firing",
        "labels": {"alertname": "HostDown", "instance": "Web1.example.net:9100", "severity": "critical"},
        "annotations": {"summary": "web1 is down", "description": "no scrape for 5m\nsecond line",
                        "runbook_url": "https://wiki.example.net/hostdown"},
        "startsAt": "2026-11-24T10:00:00.000Z", "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph?g0.expr=up", "fingerprint": "c0ffee00c0ffee00"
      }]
    }"#;

    #[test]
    fn a_firing_alert_has_its_identity_host_severity_and_texts() {
        let p = parse(FIRING.as_bytes()).unwrap();
        let e = &p.events[0];
        assert_eq!(e.identity, "c0ffee00c0ffee00");
        assert_eq!(e.action, Action::Fire);
        assert_eq!(e.name, "HostDown");
        assert_eq!(e.host.as_deref(), Some("web1.example.net"));
        assert_eq!(e.severity.as_deref(), Some("critical"));
        assert_eq!(e.summary, "web1 is down");
        assert_eq!(e.occurrence.as_deref(), Some("2026-11-24T10:00:00.000Z"));
        assert_eq!(e.external_url.as_deref(), Some("http://127.0.0.1:9093"));
        assert_eq!(e.runbook_url(), Some("https://wiki.example.net/hostdown"));
        assert_eq!(p.dedup_keys, vec!["c0ffee00c0ffee00".to_owned()]);
    }

    #[test]
    fn without_a_fingerprint_the_label_set_is_the_identity() {
        let a = r#"{"alerts":[{"status":"resolved","labels":{"alertname":"X","job":"a"}}]}"#;
        let b = r#"{"alerts":[{"status":"firing","labels":{"job":"a","alertname":"X"}}]}"#;
        let (a, b) = (parse(a.as_bytes()).unwrap(), parse(b.as_bytes()).unwrap());
        assert_eq!(a.events[0].identity, b.events[0].identity);
        assert_eq!(a.events[0].action, Action::Resolve);
        assert_eq!(b.events[0].summary, "X");
    }

    #[test]
    fn malformed_payloads_say_what_and_where() {
        let cases = [
            ("[]", "$: must be an object"),
            ("{}", "alerts: is missing"),
            (r#"{"alerts":{}}"#, "alerts: must be an array"),
            (r#"{"alerts":[1]}"#, "alerts[0]: must be an object"),
            (
                r#"{"alerts":[{"labels":{}}]}"#,
                "alerts[0].status: is missing",
            ),
            (
                r#"{"alerts":[{"status":"bogus","labels":{}}]}"#,
                "alerts[0].status: \"bogus\" is neither",
            ),
            (
                r#"{"alerts":[{"status":"firing"}]}"#,
                "alerts[0].labels: is missing",
            ),
            (
                r#"{"alerts":[{"status":"firing","labels":{"a":1}}]}"#,
                "alerts[0].labels.a: must be a string",
            ),
            (
                r#"{"alerts":[{"status":"firing","labels":{},"fingerprint":7}]}"#,
                "alerts[0].fingerprint: must be a string",
            ),
        ];
        for (body, want) in cases {
            let e = parse(body.as_bytes()).unwrap_err().to_string();
            assert!(e.starts_with(want), "{body}: {e}");
        }
        assert!(matches!(
            parse(b"{\"alerts\": [").unwrap_err(),
            PayloadError::Json { .. }
        ));
    }
}

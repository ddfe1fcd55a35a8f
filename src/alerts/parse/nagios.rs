//! Nagios notifications: form fields or a JSON object named after the notification macros
//! without the dollar signs, in any letter case. Nagios never retries a failed notification,
//! so a field this does not know is kept as a label, never refused; only a notification
//! without NOTIFICATIONTYPE or HOSTNAME cannot be placed and is refused.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{MAX_TEXT, Parsed, PayloadError, clip, host_of, json, one_line};
use crate::alerts::{Action, AlertEvent};

/// Most fields kept from one notification (a command line names a dozen or two).
const MAX_FIELDS: usize = 100;

/// Fields that are not labels of the alert: its texts (summary and description) and what
/// belongs to one notification only (its type, time and author).
const NOT_LABELS: [&str; 8] = [
    "SERVICEOUTPUT",
    "LONGSERVICEOUTPUT",
    "HOSTOUTPUT",
    "LONGHOSTOUTPUT",
    "NOTIFICATIONCOMMENT",
    "NOTIFICATIONTYPE",
    "NOTIFICATIONAUTHOR",
    "LONGDATETIME",
];

pub fn parse(body: &[u8], content_type: Option<&str>) -> Result<Parsed, PayloadError> {
    let fields = fields(body, content_type)?;
    let get = |k: &str| {
        fields
            .get(k)
            .map(|v| v.trim())
            // An unresolved macro (`$SERVICEPROBLEMID$`) is as good as absent.
            .filter(|v| !(v.is_empty() || v.starts_with('$') && v.ends_with('$')))
    };
    let kind = get("NOTIFICATIONTYPE")
        .map(str::to_ascii_uppercase)
        .ok_or_else(|| PayloadError::field("NOTIFICATIONTYPE", "is missing"))?;
    let host = get("HOSTNAME")
        .and_then(host_of)
        .ok_or_else(|| PayloadError::field("HOSTNAME", "is missing"))?;
    let service = get("SERVICEDESC").map(one_line);
    let (state, problem, last_problem, output, long) = match &service {
        Some(_) => (
            get("SERVICESTATE"),
            get("SERVICEPROBLEMID"),
            get("LASTSERVICEPROBLEMID"),
            get("SERVICEOUTPUT"),
            get("LONGSERVICEOUTPUT"),
        ),
        None => (
            get("HOSTSTATE"),
            get("HOSTPROBLEMID"),
            get("LASTHOSTPROBLEMID"),
            get("HOSTOUTPUT"),
            get("LONGHOSTOUTPUT"),
        ),
    };
    let state = state.map(str::to_ascii_uppercase);
    let recovered = matches!(state.as_deref(), Some("OK" | "UP"));
    let action = match kind.as_str() {
        "PROBLEM" if recovered => Action::Resolve,
        "PROBLEM" => Action::Fire,
        "RECOVERY" => Action::Resolve,
        "ACKNOWLEDGEMENT" => Action::Acknowledge,
        _ => Action::Note,
    };
    // A problem notification carries the problem's id in *PROBLEMID (LAST* is the one
    // before). A recovery names the problem it ends: Nagios 4.4 still in *PROBLEMID (LAST* 0,
    // seen from the real daemon in tests/integration/nagios.rs), the macro documentation and
    // older versions in LAST* with *PROBLEMID 0. Both are read.
    fn id(v: Option<&str>) -> Option<&str> {
        v.filter(|s| s.parse::<u64>().is_ok_and(|n| n > 0))
    }
    let problem_id = match action {
        Action::Resolve => id(problem).or(id(last_problem)),
        _ => id(problem),
    };
    let name = service.clone().unwrap_or_else(|| "Host down".to_owned());
    let identity = match (problem_id, &service) {
        (Some(p), _) => p.to_owned(),
        (None, Some(s)) => format!("{host}/{}", s.to_ascii_lowercase()),
        (None, None) => host.clone(),
    };
    let summary = output
        .and_then(|o| o.lines().next())
        .map(one_line)
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| match &state {
            Some(s) => format!("{name} is {s} on {host}"),
            None => format!("{name} on {host}"),
        });
    let mut e = AlertEvent::new(identity, action, name, summary);
    e.severity = (!recovered).then(|| state.clone()).flatten();
    e.address = get("HOSTADDRESS").and_then(host_of);
    e.host = Some(host);
    e.occurrence = problem_id.map(str::to_owned);
    // Nagios flattens multi-line output to a literal `\n`.
    e.description = long.map(|l| clip(&l.replace("\\n", "\n"), MAX_TEXT));
    e.author = get("NOTIFICATIONAUTHOR").map(one_line);
    e.comment = get("NOTIFICATIONCOMMENT").map(|c| clip(c, MAX_TEXT));
    e.note = (action == Action::Note).then(|| kind.clone());
    e.labels = fields
        .iter()
        .filter(|(k, v)| !NOT_LABELS.contains(&k.as_str()) && !v.trim().is_empty())
        .map(|(k, v)| (k.to_ascii_lowercase(), one_line(v)))
        .collect();
    Ok(Parsed {
        dedup_keys: vec![e.identity.clone()],
        events: vec![e],
        routing_key: None,
    })
}

/// The notification's fields, keys in upper case without `$`: JSON when the body is a JSON
/// object (or says so), form data otherwise.
fn fields(
    body: &[u8],
    content_type: Option<&str>,
) -> Result<BTreeMap<String, String>, PayloadError> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    let is_json = content_type.is_some_and(|c| c.to_ascii_lowercase().contains("json"))
        || first == Some(&b'{');
    let pairs: Vec<(String, String)> = if first.is_none() {
        return Err(PayloadError::Empty);
    } else if is_json {
        let v = json(body)?;
        let o = v
            .as_object()
            .ok_or_else(|| PayloadError::field("$", "must be an object of Nagios macro fields"))?;
        o.iter()
            .filter_map(|(k, v)| {
                let s = match v {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    // Nested values are no Nagios macro: left out, never refused.
                    _ => return None,
                };
                Some((k.clone(), s))
            })
            .collect()
    } else {
        if std::str::from_utf8(body).is_err() {
            return Err(PayloadError::Encoding);
        }
        url::form_urlencoded::parse(body).into_owned().collect()
    };
    Ok(pairs
        .into_iter()
        .map(|(k, v)| (k.trim().trim_matches('$').to_ascii_uppercase(), v))
        .filter(|(k, _)| !k.is_empty() && k.len() <= 64)
        .take(MAX_FIELDS)
        .map(|(k, v)| (k, clip(&v, MAX_TEXT)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish()
            .into_bytes()
    }

    #[test]
    fn a_service_problem_and_its_recovery_share_the_problem_id() {
        let problem = parse(
            &form(&[
                ("NOTIFICATIONTYPE", "PROBLEM"),
                ("HOSTNAME", "web1"),
                ("HOSTADDRESS", "192.0.2.10"),
                ("SERVICEDESC", "HTTP"),
                ("SERVICESTATE", "CRITICAL"),
                ("SERVICEOUTPUT", "HTTP CRITICAL - connection refused"),
                ("SERVICEPROBLEMID", "4711"),
                ("LASTSERVICEPROBLEMID", "4100"),
                ("LONGDATETIME", "Tue Nov 24 10:00:00 UTC 2026"),
                ("X-UNKNOWN-FIELD", "kept"),
            ]),
            None,
        )
        .unwrap();
        let e = &problem.events[0];
        assert_eq!((e.identity.as_str(), e.action), ("4711", Action::Fire));
        assert_eq!(e.name, "HTTP");
        assert_eq!(e.severity.as_deref(), Some("CRITICAL"));
        assert_eq!(e.summary, "HTTP CRITICAL - connection refused");
        assert_eq!(e.address.as_deref(), Some("192.0.2.10"));
        assert_eq!(
            e.labels.get("x-unknown-field").map(String::as_str),
            Some("kept")
        );

        let recovery = parse(
            &form(&[
                ("notificationtype", "RECOVERY"),
                ("hostname", "web1"),
                ("servicedesc", "HTTP"),
                ("servicestate", "OK"),
                ("serviceproblemid", "0"),
                ("lastserviceproblemid", "4711"),
            ]),
            None,
        )
        .unwrap();
        let r = &recovery.events[0];
        assert_eq!((r.identity.as_str(), r.action), ("4711", Action::Resolve));
        assert_eq!(r.severity, None);
        // As Nagios 4.4 sends it: the id still in SERVICEPROBLEMID.
        let recovery = parse(
            &form(&[
                ("NOTIFICATIONTYPE", "RECOVERY"),
                ("HOSTNAME", "web1"),
                ("SERVICEDESC", "HTTP"),
                ("SERVICESTATE", "OK"),
                ("SERVICEPROBLEMID", "4711"),
                ("LASTSERVICEPROBLEMID", "0"),
                ("LONGSERVICEOUTPUT", "line one\\nline two"),
            ]),
            None,
        )
        .unwrap();
        let r = &recovery.events[0];
        assert_eq!(r.identity, "4711");
        assert_eq!(r.description.as_deref(), Some("line one\nline two"));
        assert!(!r.labels.contains_key("notificationtype"));
    }

    #[test]
    fn without_problem_ids_host_and_service_are_the_identity() {
        let p = parse(
            br#"{"NotificationType":"PROBLEM","HostName":"Core1.example.net","HostState":"DOWN","HOSTPROBLEMID":"$HOSTPROBLEMID$"}"#,
            Some("application/json"),
        )
        .unwrap();
        let e = &p.events[0];
        assert_eq!(e.identity, "core1.example.net");
        assert_eq!(e.name, "Host down");
        assert_eq!(e.summary, "Host down is DOWN on core1.example.net");
        let s = parse(
            &form(&[
                ("NOTIFICATIONTYPE", "ACKNOWLEDGEMENT"),
                ("HOSTNAME", "web1"),
                ("SERVICEDESC", "Disk /var"),
                ("NOTIFICATIONAUTHOR", "alice"),
                ("NOTIFICATIONCOMMENT", "on it"),
            ]),
            None,
        )
        .unwrap();
        let e = &s.events[0];
        assert_eq!(e.identity, "web1/disk /var");
        assert_eq!(e.action, Action::Acknowledge);
        assert_eq!(
            (e.author.as_deref(), e.comment.as_deref()),
            (Some("alice"), Some("on it"))
        );
    }

    #[test]
    fn unknown_types_become_notes_and_missing_essentials_are_refused() {
        let n = parse(
            &form(&[("NOTIFICATIONTYPE", "FLAPPINGSTART"), ("HOSTNAME", "h")]),
            None,
        )
        .unwrap();
        assert_eq!(n.events[0].action, Action::Note);
        assert_eq!(n.events[0].note.as_deref(), Some("FLAPPINGSTART"));
        let e = parse(&form(&[("HOSTNAME", "h")]), None).unwrap_err();
        assert_eq!(e.to_string(), "NOTIFICATIONTYPE: is missing");
        let e = parse(&form(&[("NOTIFICATIONTYPE", "PROBLEM")]), None).unwrap_err();
        assert_eq!(e.to_string(), "HOSTNAME: is missing");
        assert_eq!(parse(b"", None).unwrap_err(), PayloadError::Empty);
        assert_eq!(
            parse(b"[1]", Some("application/json"))
                .unwrap_err()
                .to_string(),
            "$: must be an object of Nagios macro fields"
        );
        assert_eq!(parse(b"a=\xff", None).unwrap_err(), PayloadError::Encoding);
    }
}

//! Checks of the sections whose features arrive later (calendars, SLA policies, on-call,
//! directories, alert sources): each problem is pushed with its key, none stops the others.

use std::collections::BTreeSet;
use std::net::SocketAddr;

use super::check::{Ck, PRIORITIES, ROLES, STATUSES};
use super::raw::*;

pub(super) fn check_calendar(ck: &mut Ck<'_>, k: &str, c: &RawCalendar) {
    if c.name == "24x7" {
        ck.bad(
            format!("{k}.name"),
            "\"24x7\" is built in; choose another name",
        );
    }
    ck.timezone(&format!("{k}.timezone"), &c.timezone);
    for (day, spans) in &c.hours {
        if parse_day(day).is_none() {
            ck.bad(
                format!("{k}.hours.{day}"),
                "day must be one of mon, tue, wed, thu, fri, sat, sun",
            );
        }
        for span in spans.split(',') {
            if parse_span(span.trim()).is_none() {
                ck.bad(
                    format!("{k}.hours.{day}"),
                    format!(
                        "\"{}\" is not HH:MM-HH:MM (one past midnight, as 22:00-06:00, ends the next day)",
                        span.trim()
                    ),
                );
            }
        }
    }
    for (i, h) in c.holidays.iter().enumerate() {
        if h.parse::<jiff::civil::Date>().is_err() {
            ck.bad(
                format!("{k}.holidays[{i}]"),
                format!("\"{h}\" is not a date (YYYY-MM-DD)"),
            );
        }
    }
}

/// The days as the config writes them, Monday first.
pub(crate) const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// "mon" … "sun" → Monday 0 … Sunday 6.
pub(crate) fn parse_day(s: &str) -> Option<usize> {
    DAYS.iter().position(|d| *d == s)
}

/// "09:00-18:00" → minutes from midnight; "24:00" may end a span. A span that ends at or
/// before its start runs past midnight and ends the next day: "22:00-06:00" → (1320, 1800),
/// as a night shift's hours are written. Start and end never coincide.
pub(crate) fn parse_span(s: &str) -> Option<(u32, u32)> {
    let (a, b) = s.split_once('-')?;
    let minutes = |t: &str| -> Option<u32> {
        let (h, m) = t.trim().split_once(':')?;
        let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
        (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 60 + m)
    };
    let (a, b) = (minutes(a)?, minutes(b)?);
    match (a, b) {
        (a, b) if a == b || a >= 24 * 60 => None,
        (a, b) if a < b => Some((a, b)),
        (a, b) => Some((a, b + 24 * 60)),
    }
}

pub(super) fn check_sla(
    ck: &mut Ck<'_>,
    k: &str,
    p: &RawSla,
    calendars: &BTreeSet<String>,
    oncall: &BTreeSet<String>,
) {
    if p.calendar != "24x7" && !calendars.contains(&p.calendar) {
        ck.bad(
            format!("{k}.calendar"),
            format!(
                "no [[calendar]] is named \"{}\" (nor is it 24x7)",
                p.calendar
            ),
        );
    }
    for (i, s) in p.pause_on.iter().enumerate() {
        if !STATUSES.contains(&s.as_str()) {
            ck.bad(
                format!("{k}.pause_on[{i}]"),
                format!("\"{s}\" is not a status ({})", STATUSES.join(", ")),
            );
        }
    }
    for (prio, t) in &p.targets {
        let tk = format!("{k}.targets.{prio}");
        if !PRIORITIES.contains(&prio.as_str()) {
            ck.bad(&tk, "priority must be P1, P2, P3 or P4");
        }
        for (field, v) in [("response", &t.response), ("resolve", &t.resolve)] {
            if let Some(v) = v {
                ck.duration(&format!("{tk}.{field}"), v);
            }
        }
    }
    for (i, e) in p.escalate.iter().enumerate() {
        let ek = format!("{k}.escalate[{i}]");
        let pct =
            e.at.strip_suffix('%')
                .and_then(|n| n.trim().parse::<u32>().ok());
        if !pct.is_some_and(|n| (1..=1000).contains(&n)) {
            ck.bad(
                format!("{ek}.at"),
                format!("\"{}\" is not a percentage such as 75%", e.at),
            );
        }
        for (j, n) in e.notify.iter().enumerate() {
            let ok = match n.split_once(':') {
                None => ["owner", "queue", "requestors"].contains(&n.as_str()) || n.contains('@'),
                Some(("oncall", name)) => oncall.contains(name),
                Some(("user", name)) => !name.is_empty(),
                Some(_) => false,
            };
            if !ok {
                ck.bad(
                    format!("{ek}.notify[{j}]"),
                    format!("\"{n}\" is not owner, queue, an email address, user:NAME or oncall:NAME of an [[oncall]]"),
                );
            }
        }
    }
}

pub(super) fn check_oncall(ck: &mut Ck<'_>, k: &str, o: &RawOncall) {
    ck.timezone(&format!("{k}.timezone"), &o.timezone);
    if o.start.parse::<jiff::civil::Date>().is_err() {
        ck.bad(
            format!("{k}.start"),
            format!("\"{}\" is not a date (YYYY-MM-DD)", o.start),
        );
    }
    let handoff_ok = o.handoff.split_once(' ').is_some_and(|(d, t)| {
        parse_day(d).is_some() && parse_span(&format!("{t}-24:00")).is_some()
    });
    if !handoff_ok {
        ck.bad(
            format!("{k}.handoff"),
            format!("\"{}\" is not \"DAY HH:MM\" (e.g. mon 09:00)", o.handoff),
        );
    }
    if o.rotation.len() < 2 {
        ck.bad(
            format!("{k}.rotation"),
            "needs at least two people (a primary and a backup)",
        );
    }
}

pub(super) fn check_ldap(ck: &mut Ck<'_>, l: &RawLdap) {
    let url = ck.url("ldap.url", &l.url, &["ldap", "ldaps"]);
    if l.starttls && url.as_ref().is_some_and(|u| u.scheme() == "ldaps") {
        ck.bad(
            "ldap.starttls",
            "is for ldap:// URLs; an ldaps:// connection is TLS from the start",
        );
    }
    if let Some(ca) = &l.ca_file {
        if !std::path::Path::new(ca).is_file() {
            ck.bad("ldap.ca_file", format!("{ca} is not a readable file"));
        } else if !l.starttls && url.as_ref().is_some_and(|u| u.scheme() == "ldap") {
            ck.bad(
                "ldap.ca_file",
                "is never used: the connection is plain; use ldaps:// or starttls = true",
            );
        }
    }
    if l.user_base.trim().is_empty() {
        ck.bad(
            "ldap.user_base",
            "must name the subtree that holds the users",
        );
    }
    if !l.user_filter.contains("{username}") {
        ck.bad("ldap.user_filter", "must contain {username}");
    }
    if l.bind_dn.is_some() != l.bind_password.is_some() {
        ck.bad(
            "ldap.bind_password",
            "bind_dn and bind_password go together",
        );
    }
    if l.bind_password.as_deref() == Some("") {
        ck.bad(
            "ldap.bind_password",
            "must not be empty: an empty password binds anonymously",
        );
    }
    for (dn, role) in &l.roles {
        if !ROLES.contains(&role.as_str()) {
            ck.bad(
                format!("ldap.roles.\"{dn}\""),
                format!("\"{role}\" is not admin, agent or customer"),
            );
        }
    }
    if l.default_role != "none" && !ROLES.contains(&l.default_role.as_str()) {
        ck.bad(
            "ldap.default_role",
            format!(
                "\"{}\" is not admin, agent, customer or none",
                l.default_role
            ),
        );
    }
    let attributes = [
        ("ldap.name_attribute", Some(&l.name_attribute)),
        ("ldap.email_attribute", Some(&l.email_attribute)),
        ("ldap.customer_attribute", l.customer_attribute.as_ref()),
    ];
    for (key, attr) in attributes {
        if let Some(a) = attr
            && !is_attribute_name(a)
        {
            ck.bad(
                key,
                format!("\"{a}\" is not an attribute name (letters, digits and -, or an OID)"),
            );
        }
    }
    ck.duration("ldap.timeout", &l.timeout);
}

/// An LDAP attribute description as RFC 4512 §1.4 spells one: a name (a letter, then letters,
/// digits and hyphens) or a numeric OID.
fn is_attribute_name(a: &str) -> bool {
    let name = a.starts_with(|c: char| c.is_ascii_alphabetic())
        && a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    let oid = !a.is_empty()
        && a.split('.')
            .all(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
    name || oid
}

pub(super) fn check_radius(ck: &mut Ck<'_>, r: &RawRadius) {
    if r.servers.is_empty() {
        ck.bad("radius.servers", "must name at least one host:port");
    }
    for (i, s) in r.servers.iter().enumerate() {
        let ok = s.parse::<SocketAddr>().is_ok()
            || s.rsplit_once(':')
                .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok_and(|p| p > 0));
        if !ok {
            ck.bad(
                format!("radius.servers[{i}]"),
                format!("\"{s}\" is not host:port"),
            );
        }
    }
    if r.secret.is_empty() {
        ck.bad("radius.secret", "must not be empty");
    }
    if r.method != "pap" && r.method != "chap" {
        ck.bad(
            "radius.method",
            format!("\"{}\" is not pap or chap", r.method),
        );
    }
    ck.duration("radius.timeout", &r.timeout);
}

pub(super) fn check_alert_source(
    ck: &mut Ck<'_>,
    k: &str,
    a: &RawAlertSource,
    queues: &BTreeSet<String>,
) {
    if !["alertmanager", "nagios", "events"].contains(&a.kind.as_str()) {
        ck.bad(
            format!("{k}.kind"),
            format!("\"{}\" is not alertmanager, nagios or events", a.kind),
        );
    }
    if a.token.len() < 8 {
        ck.bad(format!("{k}.token"), "must be at least 8 characters");
    }
    if !queues.contains(&a.queue) {
        ck.bad(
            format!("{k}.queue"),
            format!("no [[queue]] is named \"{}\"", a.queue),
        );
    }
    for (sev, p) in &a.priority {
        if !(1..=4).contains(p) {
            ck.bad(
                format!("{k}.priority.{sev}"),
                format!("{p} is not a priority from 1 to 4"),
            );
        }
    }
    if let Some(s) = &a.storm {
        if s.threshold == 0 {
            ck.bad(format!("{k}.storm.threshold"), "must be at least 1");
        }
        ck.duration(&format!("{k}.storm.window"), &s.window);
    }
    ck.duration(&format!("{k}.flap_window"), &a.flap_window);
    ck.duration(&format!("{k}.retention"), &a.retention);
    ck.duration(&format!("{k}.redelivery_window"), &a.redelivery_window);
    if let Some(u) = &a.api_url {
        match url::Url::parse(u) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => {}
            _ => ck.bad(
                format!("{k}.api_url"),
                format!("\"{u}\" is not an http(s) URL"),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_are_two_times_and_may_run_past_midnight() {
        assert_eq!(parse_span("09:00-18:00"), Some((540, 1080)));
        assert_eq!(parse_span("00:00-24:00"), Some((0, 1440)));
        assert_eq!(parse_span("22:00-06:00"), Some((1320, 1800)));
        assert_eq!(parse_span("18:00-00:00"), Some((1080, 1440)));
        assert_eq!(parse_span("09:00-09:00"), None);
        assert_eq!(parse_span("24:00-06:00"), None);
        assert_eq!(parse_span("9-18"), None);
    }
}

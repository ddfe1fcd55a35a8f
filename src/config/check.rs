//! Turning raw sections into a `Config`, collecting every problem with its key.

use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use serde::Serialize;

use super::auth::check_auth;
use super::duration::parse_duration;
use super::load::Sections;
use super::mail::check_mail;
use super::raw::*;
use super::sections::{
    check_alert_source, check_calendar, check_ldap, check_oncall, check_radius, check_sla,
};
use super::{AuthSource, Config, JobsConfig, LogConfig, Problem, WebConfig};
use crate::db::{DatabaseUrl, PoolOptions};

/// The core keys' defaults (CONTRACT §2).
#[derive(Debug, Serialize)]
pub(super) struct CoreDefaults {
    listen: &'static str,
    database_url: &'static str,
    base_url: &'static str,
}

pub(super) fn default_core() -> CoreDefaults {
    CoreDefaults {
        listen: "127.0.0.1:8080",
        database_url: "sqlite://data/opsdesk.db",
        base_url: "http://127.0.0.1:8080",
    }
}

/// A `Config` of built-in defaults only.
pub(super) fn defaults() -> Config {
    let core = default_core();
    let mut problems = Vec::new();
    let sections = Sections {
        core: Some(RawCore {
            listen: core.listen.into(),
            database_url: core.database_url.into(),
            base_url: core.base_url.into(),
        }),
        web: Some(RawWeb::default()),
        db: Some(RawDb::default()),
        jobs: Some(RawJobs::default()),
        log: Some(RawLog::default()),
        auth: Some(RawAuth::default()),
        mail: Some(RawMail::default()),
        queues: Some(Vec::new()),
        calendars: Some(Vec::new()),
        slas: Some(Vec::new()),
        oncall: Some(Vec::new()),
        ldap: Some(None),
        radius: Some(None),
        alert_sources: Some(Vec::new()),
    };
    // The built-in defaults are valid by construction; a test below keeps them so.
    check(sections, &mut problems).unwrap_or_else(|| unreachable_defaults(&problems))
}

#[allow(clippy::panic)] // reason: only reachable if the built-in defaults themselves are broken
fn unreachable_defaults(problems: &[Problem]) -> Config {
    panic!("built-in config defaults are invalid: {problems:?}")
}

pub(super) struct Ck<'a> {
    pub(super) problems: &'a mut Vec<Problem>,
}

impl Ck<'_> {
    pub(super) fn bad(&mut self, key: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            key: key.into(),
            message: message.into(),
        });
    }

    pub(super) fn duration(&mut self, key: &str, text: &str) -> Duration {
        match parse_duration(text) {
            Ok(d) if d.is_zero() => {
                self.bad(key, "must be longer than zero");
                d
            }
            Ok(d) => d,
            Err(m) => {
                self.bad(key, m);
                Duration::ZERO
            }
        }
    }

    pub(super) fn email(&mut self, key: &str, text: &str) {
        let ok = text
            .split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') || d == "localhost")
            && !text.contains(char::is_whitespace);
        if !ok {
            self.bad(key, format!("\"{text}\" is not an email address"));
        }
    }

    pub(super) fn url(&mut self, key: &str, text: &str, schemes: &[&str]) -> Option<url::Url> {
        match url::Url::parse(text) {
            Ok(u) if schemes.contains(&u.scheme()) => Some(u),
            Ok(u) => {
                self.bad(
                    key,
                    format!(
                        "scheme {}:// is not one of {}",
                        u.scheme(),
                        schemes.join(", ")
                    ),
                );
                None
            }
            Err(e) => {
                self.bad(key, format!("\"{text}\" is not a URL: {e}"));
                None
            }
        }
    }

    pub(super) fn timezone(&mut self, key: &str, name: &str) {
        if jiff::tz::TimeZone::get(name).is_err() {
            self.bad(
                key,
                format!("\"{name}\" is not an IANA time zone (e.g. Europe/Rome)"),
            );
        }
    }

    fn unique<'n>(&mut self, key: &str, names: impl Iterator<Item = &'n str>) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        for (i, n) in names.enumerate() {
            if n.trim().is_empty() {
                self.bad(format!("{key}[{i}].name"), "must not be empty");
            } else if !seen.insert(n.to_owned()) {
                self.bad(
                    format!("{key}[{i}].name"),
                    format!("\"{n}\" is defined twice"),
                );
            }
        }
        seen
    }
}

pub(super) const ROLES: &[&str] = &["admin", "agent", "customer"];
pub(super) const STATUSES: &[&str] = &["new", "open", "stalled", "resolved", "rejected", "deleted"];
pub(super) const PRIORITIES: &[&str] = &["P1", "P2", "P3", "P4"];

/// Validates every section; `None` when any was unreadable or a problem was found.
pub(super) fn check(s: Sections, problems: &mut Vec<Problem>) -> Option<Config> {
    let mut ck = Ck { problems };
    let core = s.core?;
    let listen = core.listen.parse::<SocketAddr>().unwrap_or_else(|e| {
        ck.bad(
            "listen",
            format!("\"{}\" is not host:port ({e})", core.listen),
        );
        SocketAddr::from(([127, 0, 0, 1], 8080))
    });
    let database_url = DatabaseUrl::parse(&core.database_url).unwrap_or_else(|m| {
        ck.bad("database_url", m);
        DatabaseUrl::parse("sqlite://invalid.db").unwrap_or_else(|_| unreachable_url())
    });
    let base_url = ck
        .url("base_url", &core.base_url, &["http", "https"])
        .unwrap_or_else(|| {
            url::Url::parse("http://127.0.0.1:8080").unwrap_or_else(|_| unreachable_url())
        });

    let web = s.web.map(|w| WebConfig {
        request_timeout: ck.duration("web.request_timeout", &w.request_timeout),
        max_body_bytes: usize::try_from(w.max_body_bytes).unwrap_or(usize::MAX),
        max_attachment_bytes: usize::try_from(w.max_attachment_bytes).unwrap_or(usize::MAX),
        trusted_proxies: w
            .trusted_proxies
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                p.parse::<IpAddr>()
                    .map_err(|_| {
                        ck.bad(
                            format!("web.trusted_proxies[{i}]"),
                            format!("\"{p}\" is not an IP address"),
                        )
                    })
                    .ok()
            })
            .collect(),
    });
    let db = s.db.map(|d| {
        if d.max_connections == 0 {
            ck.bad("db.max_connections", "must be at least 1");
        }
        PoolOptions {
            max_connections: d.max_connections.max(1),
            acquire_timeout: ck.duration("db.acquire_timeout", &d.acquire_timeout),
        }
    });
    let jobs = s.jobs.map(|j| {
        if j.max_attempts == 0 {
            ck.bad("jobs.max_attempts", "must be at least 1");
        }
        JobsConfig {
            workers: j.workers,
            max_attempts: j.max_attempts.max(1),
            lease: ck.duration("jobs.lease", &j.lease),
        }
    });
    let log = s.log.map(|l| {
        if tracing_subscriber::EnvFilter::try_new(&l.level).is_err() {
            ck.bad(
                "log.level",
                format!(
                    "\"{}\" is not a level or filter (e.g. info, opsdesk=debug)",
                    l.level
                ),
            );
        }
        if l.format != "text" && l.format != "json" {
            ck.bad(
                "log.format",
                format!("\"{}\" must be text or json", l.format),
            );
        }
        LogConfig {
            json: l.format == "json",
            level: l.level,
        }
    });
    let auth = s.auth.map(|a| check_auth(&mut ck, a));

    let queues = s.queues.unwrap_or_default();
    let queue_names = ck.unique("queue", queues.iter().map(|q| q.name.as_str()));
    let calendars = s.calendars.unwrap_or_default();
    let calendar_names = ck.unique("calendar", calendars.iter().map(|c| c.name.as_str()));
    let slas = s.slas.unwrap_or_default();
    let sla_names = ck.unique("sla", slas.iter().map(|p| p.name.as_str()));
    let oncall = s.oncall.unwrap_or_default();
    let oncall_names = ck.unique("oncall", oncall.iter().map(|o| o.name.as_str()));

    if let Some(m) = &s.mail {
        check_mail(&mut ck, m, &queue_names);
    }
    for (i, q) in queues.iter().enumerate() {
        let k = format!("queue[{i}]");
        for (field, addr) in [
            ("correspond_address", &q.correspond_address),
            ("comment_address", &q.comment_address),
        ] {
            if let Some(a) = addr {
                ck.email(&format!("{k}.{field}"), a);
            }
        }
        if let Some(p) = &q.sla
            && !sla_names.contains(p)
        {
            ck.bad(format!("{k}.sla"), format!("no [[sla]] is named \"{p}\""));
        }
    }
    for (i, c) in calendars.iter().enumerate() {
        check_calendar(&mut ck, &format!("calendar[{i}]"), c);
    }
    for (i, p) in slas.iter().enumerate() {
        check_sla(
            &mut ck,
            &format!("sla[{i}]"),
            p,
            &calendar_names,
            &oncall_names,
        );
    }
    for (i, o) in oncall.iter().enumerate() {
        check_oncall(&mut ck, &format!("oncall[{i}]"), o);
    }
    let ldap = s.ldap.unwrap_or_default();
    let radius = s.radius.unwrap_or_default();
    if let Some(l) = &ldap {
        check_ldap(&mut ck, l);
    }
    if let Some(r) = &radius {
        check_radius(&mut ck, r);
    }
    if let Some(a) = &auth {
        for (source, present, table) in [
            (AuthSource::Ldap, ldap.is_some(), "[ldap]"),
            (AuthSource::Radius, radius.is_some(), "[radius]"),
        ] {
            if a.sources.contains(&source) && !present {
                ck.bad(
                    "auth.sources",
                    format!("names {source:?} but there is no {table} table").to_lowercase(),
                );
            }
        }
    }
    let alert_sources = s.alert_sources.unwrap_or_default();
    ck.unique(
        "alert_source",
        alert_sources.iter().map(|a| a.name.as_str()),
    );
    for (i, a) in alert_sources.iter().enumerate() {
        check_alert_source(&mut ck, &format!("alert_source[{i}]"), a, &queue_names);
    }

    // Built only from sections that passed their checks, so an error here is one the checks
    // above did not foresee, and it is still reported at its key rather than at startup.
    let policies = if ck.problems.is_empty() {
        crate::sla::Policies::from_config(&calendars, &slas).unwrap_or_else(|e| {
            ck.bad("sla", e.to_string());
            crate::sla::Policies::default()
        })
    } else {
        crate::sla::Policies::default()
    };

    Some(Config {
        listen,
        database_url,
        base_url,
        web: web?,
        db: db?,
        jobs: jobs?,
        log: log?,
        auth: auth?,
        mail: s.mail?,
        queues,
        calendars,
        slas,
        policies,
        oncall,
        ldap,
        radius,
        alert_sources,
    })
}

#[allow(clippy::panic)] // reason: parsing a constant URL literal cannot fail
fn unreachable_url<T>() -> T {
    panic!("constant URL failed to parse")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_defaults_are_valid() {
        let c = defaults();
        assert_eq!(c.listen.port(), 8080);
        assert!(!c.secure_cookies());
    }
}

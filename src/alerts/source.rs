//! An `[[alert_source]]` as the alert code uses it: durations parsed, the token checked in
//! constant time.

use std::collections::BTreeMap;

use jiff::SignedDuration;
use subtle::ConstantTimeEq;

use crate::config::{Config, RawAlertSource, parse_duration};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Alertmanager,
    Nagios,
    Events,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Alertmanager => "alertmanager",
            Kind::Nagios => "nagios",
            Kind::Events => "events",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("alert_source {name}: {key}: {message}")]
    Invalid {
        name: String,
        key: &'static str,
        message: String,
    },
}

#[derive(Debug, Clone)]
pub struct Source {
    pub name: String,
    pub kind: Kind,
    token: String,
    pub queue: String,
    /// Severity in lower case → priority 1..4.
    pub priority: BTreeMap<String, i64>,
    pub auto_resolve: bool,
    /// More new incidents than `threshold` within `window`: the rest join one storm parent.
    pub storm: Option<(u32, SignedDuration)>,
    pub flap_window: SignedDuration,
    /// The same bytes again within this are a retry, not news.
    pub redelivery_window: SignedDuration,
    pub retention: SignedDuration,
    pub api_url: Option<String>,
}

fn duration(name: &str, key: &'static str, text: &str) -> Result<SignedDuration, SourceError> {
    parse_duration(text)
        .ok()
        .and_then(|d| SignedDuration::try_from(d).ok())
        .ok_or_else(|| SourceError::Invalid {
            name: name.to_owned(),
            key,
            message: format!("\"{text}\" is not a duration"),
        })
}

/// `a == b` in time that depends on the length only.
pub(super) fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

impl Source {
    /// The checked configuration made usable; `config::check` has refused anything this
    /// would reject, so an error here means a config built around the checker.
    pub fn from_raw(r: &RawAlertSource) -> Result<Source, SourceError> {
        let kind = match r.kind.as_str() {
            "alertmanager" => Kind::Alertmanager,
            "nagios" => Kind::Nagios,
            "events" => Kind::Events,
            other => {
                return Err(SourceError::Invalid {
                    name: r.name.clone(),
                    key: "kind",
                    message: format!("\"{other}\" is not alertmanager, nagios or events"),
                });
            }
        };
        let storm = match &r.storm {
            Some(s) => Some((
                s.threshold.max(1),
                duration(&r.name, "storm.window", &s.window)?,
            )),
            None => None,
        };
        Ok(Source {
            name: r.name.clone(),
            kind,
            token: r.token.clone(),
            queue: r.queue.clone(),
            priority: r
                .priority
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), *v))
                .collect(),
            auto_resolve: r.auto_resolve,
            storm,
            flap_window: duration(&r.name, "flap_window", &r.flap_window)?,
            redelivery_window: duration(&r.name, "redelivery_window", &r.redelivery_window)?,
            retention: duration(&r.name, "retention", &r.retention)?,
            api_url: r.api_url.clone(),
        })
    }

    /// The source called `name` in `config`.
    pub fn named(config: &Config, name: &str) -> Option<Result<Source, SourceError>> {
        config
            .alert_sources
            .iter()
            .find(|s| s.name == name)
            .map(Source::from_raw)
    }

    /// Whether `presented` is this source's token (constant time in the token's bytes).
    pub fn token_matches(&self, presented: &str) -> bool {
        same_token(&self.token, presented)
    }

    /// The priority for a severity, by the source's map (any letter case); None when unmapped.
    pub fn priority_of(&self, severity: Option<&str>) -> Option<i64> {
        severity.and_then(|s| self.priority.get(&s.trim().to_ascii_lowercase()).copied())
    }
}

//! The config tree (CONTRACT §2): built-in defaults, then `opsdesk.toml`, then `OPSDESK_*`
//! environment variables (`__` between levels). `load` answers either a whole valid `Config`
//! or every problem found, each naming its key, so an operator fixes them in one pass.

mod auth;
mod check;
mod duration;
mod load;
mod mail;
mod raw;
mod sections;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

pub use duration::parse_duration;
pub use load::{Loaded, load, load_str};
pub use raw::{
    RawAlertSource, RawCalendar, RawImap, RawLdap, RawMail, RawOncall, RawQueue, RawRadius, RawSla,
};
#[cfg(test)]
pub(crate) use sections::DAYS;
pub(crate) use sections::{parse_day, parse_span};

use crate::db::{DatabaseUrl, PoolOptions};

/// One thing wrong with the configuration, at one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub key: String,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

/// The validated configuration. Sections whose features are not built yet keep their checked
/// raw form; each feature turns its section into domain types when it arrives.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub database_url: DatabaseUrl,
    pub base_url: url::Url,
    pub web: WebConfig,
    pub db: PoolOptions,
    pub jobs: JobsConfig,
    pub log: LogConfig,
    pub auth: AuthConfig,
    pub mail: RawMail,
    pub queues: Vec<RawQueue>,
    pub calendars: Vec<RawCalendar>,
    pub slas: Vec<RawSla>,
    /// `slas` with calendars resolved and durations parsed.
    pub policies: crate::sla::Policies,
    pub oncall: Vec<RawOncall>,
    pub ldap: Option<RawLdap>,
    pub radius: Option<RawRadius>,
    pub alert_sources: Vec<RawAlertSource>,
}

impl Config {
    /// Cookies get `Secure` when users reach us over https.
    pub fn secure_cookies(&self) -> bool {
        self.base_url.scheme() == "https"
    }

    /// Defaults only, with the given listen address and database; for tests and tools.
    pub fn for_database(database_url: DatabaseUrl) -> Config {
        let mut cfg = check::defaults();
        cfg.database_url = database_url;
        cfg
    }
}

#[derive(Debug, Clone)]
pub struct WebConfig {
    pub request_timeout: Duration,
    pub max_body_bytes: usize,
    /// Largest single file attached to a reply from the browser.
    pub max_attachment_bytes: usize,
    /// Peers whose `X-Forwarded-For` we believe (load balancers); empty = believe nobody.
    pub trusted_proxies: Vec<IpAddr>,
}

#[derive(Debug, Clone)]
pub struct JobsConfig {
    pub workers: u32,
    pub max_attempts: u32,
    pub lease: Duration,
}

#[derive(Debug, Clone)]
pub struct LogConfig {
    pub level: String,
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthSource {
    Local,
    Ldap,
    Radius,
}

#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub sources: Vec<AuthSource>,
    pub session_idle: Duration,
    pub session_lifetime: Duration,
    pub login_window: Duration,
    pub max_failures_per_user: u32,
    pub max_failures_per_address: u32,
}

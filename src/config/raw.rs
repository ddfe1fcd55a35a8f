//! The config file's shape as serde sees it. Unknown keys are found afterwards by comparing
//! what was written with what these structs read back (`load::unknown_keys`), because serde's
//! `flatten` would lose the key path of every type error.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct RawCore {
    pub listen: String,
    pub database_url: String,
    pub base_url: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct RawWeb {
    pub request_timeout: String,
    pub max_body_bytes: u64,
    pub max_attachment_bytes: u64,
    pub trusted_proxies: Vec<String>,
}

impl Default for RawWeb {
    fn default() -> Self {
        Self {
            request_timeout: "30s".into(),
            max_body_bytes: 32 * 1024 * 1024,
            max_attachment_bytes: 25 * 1024 * 1024,
            trusted_proxies: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct RawDb {
    pub max_connections: u32,
    pub acquire_timeout: String,
}

impl Default for RawDb {
    fn default() -> Self {
        Self {
            max_connections: 16,
            acquire_timeout: "5s".into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct RawJobs {
    pub workers: u32,
    pub max_attempts: u32,
    pub lease: String,
}

impl Default for RawJobs {
    fn default() -> Self {
        Self {
            workers: 2,
            max_attempts: 8,
            lease: "5m".into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct RawLog {
    pub level: String,
    pub format: String,
}

impl Default for RawLog {
    fn default() -> Self {
        Self {
            level: "info".into(),
            format: "text".into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct RawAuth {
    pub sources: Vec<String>,
    pub session_idle: String,
    pub session_lifetime: String,
    pub login_window: String,
    pub max_failures_per_user: u32,
    pub max_failures_per_address: u32,
}

impl Default for RawAuth {
    fn default() -> Self {
        Self {
            sources: vec!["local".into()],
            session_idle: "2h".into(),
            session_lifetime: "12h".into(),
            login_window: "15m".into(),
            max_failures_per_user: 5,
            max_failures_per_address: 30,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct RawMail {
    pub smtp_url: Option<String>,
    pub from: String,
    pub subject_tag: String,
    pub max_message_bytes: u64,
    pub imap: Vec<RawImap>,
}

impl Default for RawMail {
    fn default() -> Self {
        Self {
            smtp_url: None,
            from: "support@localhost".into(),
            subject_tag: "opsdesk".into(),
            max_message_bytes: 26_214_400,
            imap: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct RawImap {
    pub url: String,
    pub username: String,
    pub password: String,
    #[serde(default = "default_mailbox")]
    pub mailbox: String,
    pub queue: String,
    #[serde(default = "default_interval")]
    pub interval: String,
    /// What happens to a message on the server once its ticket change is committed: `seen`
    /// (flag it \Seen and leave it), `delete` (expunge it) or `move` (to `move_to`).
    #[serde(default = "default_after")]
    pub after: String,
    pub move_to: Option<String>,
    /// PEM file of the CA that signed the server's certificate, trusted besides the public
    /// roots (a private CA, a self-signed server).
    pub ca_file: Option<String>,
}

fn default_after() -> String {
    "seen".into()
}

fn default_mailbox() -> String {
    "INBOX".into()
}

fn default_interval() -> String {
    "30s".into()
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct RawQueue {
    pub name: String,
    pub correspond_address: Option<String>,
    pub comment_address: Option<String>,
    pub sla: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct RawCalendar {
    pub name: String,
    pub timezone: String,
    #[serde(default)]
    pub hours: BTreeMap<String, String>,
    #[serde(default)]
    pub holidays: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct RawTarget {
    pub response: Option<String>,
    pub resolve: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct RawEscalation {
    pub at: String,
    pub notify: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct RawSla {
    pub name: String,
    #[serde(default = "default_calendar")]
    pub calendar: String,
    #[serde(default)]
    pub pause_on: Vec<String>,
    #[serde(default)]
    pub targets: BTreeMap<String, RawTarget>,
    #[serde(default)]
    pub escalate: Vec<RawEscalation>,
}

fn default_calendar() -> String {
    "24x7".into()
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct RawOncall {
    pub name: String,
    pub timezone: String,
    pub start: String,
    pub handoff: String,
    pub rotation: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct RawLdap {
    /// `ldap://host:port` or `ldaps://host:port`.
    pub url: String,
    /// Upgrade an `ldap://` connection with StartTLS before anything else is sent.
    #[serde(default)]
    pub starttls: bool,
    /// PEM file of the CA that signed the server's certificate (ldaps:// or StartTLS), trusted
    /// besides the public roots: directories mostly carry a private CA's certificate.
    pub ca_file: Option<String>,
    /// Service account that searches for the user; without it the user's DN is built as
    /// `uid=<username>,<user_base>` and bound directly.
    pub bind_dn: Option<String>,
    pub bind_password: Option<String>,
    pub user_base: String,
    #[serde(default = "default_user_filter")]
    pub user_filter: String,
    #[serde(default)]
    pub roles: BTreeMap<String, String>,
    /// Role of a user in none of `roles`' groups; `"none"` refuses them.
    #[serde(default = "default_role")]
    pub default_role: String,
    pub customer_attribute: Option<String>,
    /// Attribute holding the display name.
    #[serde(default = "default_name_attribute")]
    pub name_attribute: String,
    /// Attribute holding the mail address.
    #[serde(default = "default_email_attribute")]
    pub email_attribute: String,
    /// Limit on each network step (connect, TLS, bind, search): a hung directory must not
    /// hold the login form.
    #[serde(default = "default_ldap_timeout")]
    pub timeout: String,
}

fn default_user_filter() -> String {
    "(uid={username})".into()
}

fn default_role() -> String {
    "customer".into()
}

fn default_name_attribute() -> String {
    "cn".into()
}

fn default_email_attribute() -> String {
    "mail".into()
}

fn default_ldap_timeout() -> String {
    "5s".into()
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct RawRadius {
    pub servers: Vec<String>,
    pub secret: String,
    #[serde(default = "default_method")]
    pub method: String,
    #[serde(default = "default_radius_timeout")]
    pub timeout: String,
    #[serde(default = "default_retries")]
    pub retries: u32,
    pub customer_attribute: Option<String>,
}

fn default_method() -> String {
    "pap".into()
}

fn default_radius_timeout() -> String {
    "2s".into()
}

fn default_retries() -> u32 {
    2
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct RawStorm {
    pub threshold: u32,
    pub window: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct RawAlertSource {
    pub name: String,
    pub kind: String,
    pub token: String,
    pub queue: String,
    #[serde(default)]
    pub priority: BTreeMap<String, i64>,
    #[serde(default)]
    pub auto_resolve: bool,
    pub storm: Option<RawStorm>,
    /// A re-fire this soon after a resolve reopens the same ticket and marks the alert flapping.
    #[serde(default = "default_flap_window")]
    pub flap_window: String,
    /// The same bytes from the source again within this are a webhook retry: they change
    /// nothing. Keep it below the source's repeat interval, so reminders still count.
    #[serde(default = "default_redelivery_window")]
    pub redelivery_window: String,
    /// How long raw deliveries are kept for audit.
    #[serde(default = "default_payload_retention")]
    pub retention: String,
    /// Alertmanager's API for silences; by default the `externalURL` its webhooks carry.
    pub api_url: Option<String>,
}

fn default_flap_window() -> String {
    "15m".into()
}

fn default_redelivery_window() -> String {
    "5m".into()
}

fn default_payload_retention() -> String {
    "30d".into()
}

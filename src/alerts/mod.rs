//! Monitoring alerts become incident tickets (CONTRACT §7). Each source kind has a parser in
//! `parse/` that turns its native payload into [`AlertEvent`]s; `apply` dedups them by
//! identity, reopens flapping incidents, gathers storms under one parent ticket and enriches
//! new tickets with customer, SLA, priority and runbook.

pub mod api;
mod apply;
mod deliver;
mod incident;
mod intake;
pub mod parse;
pub mod routes;
pub mod silence;
mod source;
pub(crate) mod store;

use std::collections::BTreeMap;

use jiff::Timestamp;

pub use apply::Outcome;
pub use deliver::{Delivery, Receipt, purge_payloads, receive};
pub use incident::subject as incident_subject;
pub use intake::{Intake, IntakeStats};

pub use source::{Kind, Source, SourceError};
pub use store::PayloadRow;

use crate::db::{StoreError, Tx};
use crate::tickets::TicketError;

/// The name of the `[[alert_source]]` whose token `presented` is. Every source is compared
/// (in constant time each), so the time taken does not tell which one matched.
pub fn source_of_token(config: &crate::config::Config, presented: &str) -> Option<String> {
    let mut found = None;
    for raw in &config.alert_sources {
        if source::same_token(&raw.token, presented) && found.is_none() {
            found = Some(raw.name.clone());
        }
    }
    found
}

/// What an alert says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// A problem is (still) there: opens an incident, or counts a repeat.
    Fire,
    /// The problem is gone.
    Resolve,
    /// Someone at the source took it (Nagios acknowledgement, Events API acknowledge).
    Acknowledge,
    /// Anything else worth a line on the ticket (Nagios flapping, downtime, custom).
    Note,
}

/// One alert out of a payload, in the terms Opsdesk works with.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertEvent {
    /// Dedup key within the source: fingerprint, problem id, host/service or dedup_key.
    pub identity: String,
    pub action: Action,
    /// Alert name or service description: the subject and the runbook's name.
    pub name: String,
    /// The host it is about, port stripped, lower case.
    pub host: Option<String>,
    /// Another name of the host (Nagios HOSTADDRESS) to find its customer by.
    pub address: Option<String>,
    /// As the source says it (`critical`, `WARNING`, `DOWN`); the priority map is looked up
    /// in lower case.
    pub severity: Option<String>,
    pub summary: String,
    pub description: Option<String>,
    /// Which firing this is (Alertmanager startsAt, Nagios problem id); see `alerts.occurrence`.
    pub occurrence: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub generator_url: Option<String>,
    /// Where the source's own API is (Alertmanager's externalURL), for silences.
    pub external_url: Option<String>,
    /// Who acted at the source and what they said (Nagios acknowledgement, comments).
    pub author: Option<String>,
    pub comment: Option<String>,
    /// What a `Note` is about (`FLAPPINGSTART`, `DOWNTIMESTART` ...).
    pub note: Option<String>,
}

impl AlertEvent {
    /// A bare event; parsers fill in the rest.
    pub fn new(identity: String, action: Action, name: String, summary: String) -> AlertEvent {
        AlertEvent {
            identity,
            action,
            name,
            host: None,
            address: None,
            severity: None,
            summary,
            description: None,
            occurrence: None,
            labels: BTreeMap::new(),
            annotations: BTreeMap::new(),
            generator_url: None,
            external_url: None,
            author: None,
            comment: None,
            note: None,
        }
    }

    /// The runbook per CONTRACT §7: the `runbook_url` annotation when given.
    pub fn runbook_url(&self) -> Option<&str> {
        self.annotations
            .get("runbook_url")
            .map(|s| s.trim())
            .filter(|s| s.starts_with("https://") || s.starts_with("http://"))
    }
}

/// The state an alert is in, as `GET /api/v1/alerts` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Firing,
    Acknowledged,
    Resolved,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Firing => "firing",
            State::Acknowledged => "acknowledged",
            State::Resolved => "resolved",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        match s {
            "firing" => Some(State::Firing),
            "acknowledged" => Some(State::Acknowledged),
            "resolved" => Some(State::Resolved),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    #[error("no alert source is named \"{0}\"")]
    NoSuchSource(String),
    #[error("this source needs its token (Authorization: Bearer) or an API token of scope alerts")]
    Unauthorized,
    #[error(transparent)]
    Config(#[from] SourceError),
    #[error("{0}")]
    Payload(#[from] parse::PayloadError),
    #[error("alert #{0} does not exist")]
    NoSuchAlert(i64),
    #[error("runbook lookup: {0}")]
    Runbook(String),
    #[error(transparent)]
    Ticket(#[from] TicketError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The worker applying the delivery stopped before it answered: whether it was stored is
    /// unknown, so the sender should retry (a stored one is then taken as a redelivery).
    #[error("the alert intake stopped before answering; send the delivery again")]
    Interrupted,
}

impl From<AlertError> for crate::error::AppError {
    fn from(e: AlertError) -> Self {
        use crate::error::AppError;
        match e {
            AlertError::NoSuchSource(_) | AlertError::NoSuchAlert(_) => AppError::NotFound,
            AlertError::Payload(p) => AppError::BadRequest(p.to_string()),
            AlertError::Unauthorized => AppError::Unauthorized,
            e @ AlertError::Config(_) => AppError::internal(e),
            AlertError::Ticket(t) => t.into(),
            e @ AlertError::Runbook(_) => AppError::internal(e),
            AlertError::Store(s) => s.into(),
            e @ AlertError::Interrupted => AppError::internal(e),
        }
    }
}

/// One alert as lists and the API show it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct AlertView {
    #[serde(skip)]
    pub id: i64,
    pub identity: String,
    pub source: String,
    pub state: State,
    pub name: String,
    pub host: Option<String>,
    pub severity: Option<String>,
    pub summary: String,
    pub count: i64,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub resolved_at: Option<Timestamp>,
    pub ticket: Option<i64>,
    pub customer: Option<String>,
    /// Re-fired within the flap window after a resolve.
    pub flapping: bool,
    /// Part of a storm: its ticket is the storm's parent.
    pub storm: bool,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub generator_url: Option<String>,
    pub silence: Option<SilenceView>,
    /// Its source has an API Opsdesk can silence it through (Alertmanager).
    #[serde(skip)]
    pub silenceable: bool,
}

/// An Alertmanager silence made from Opsdesk.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct SilenceView {
    pub id: String,
    pub until: Timestamp,
    pub by: String,
}

/// Filters of the alert list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub source: Option<String>,
    pub customer: Option<String>,
    /// None: the current ones (firing and acknowledged).
    pub states: Vec<State>,
    pub ticket: Option<i64>,
    pub limit: i64,
    pub offset: i64,
}

/// Alerts matching `f`, most recently seen first, and how many match in all.
pub async fn list(tx: &mut Tx, f: &Filter) -> Result<(i64, Vec<AlertView>), StoreError> {
    store::list(tx, f).await
}

/// The latest kept deliveries (newest first), only those with `outcome` when given: what
/// monitoring sent, and why a refused one was refused.
pub async fn deliveries(
    tx: &mut Tx,
    outcome: Option<&str>,
    limit: i64,
) -> Result<Vec<store::PayloadRow>, StoreError> {
    store::payloads(tx, outcome, limit).await
}

/// The bytes of kept delivery `id`.
pub async fn delivery_body(tx: &mut Tx, id: i64) -> Result<Option<Vec<u8>>, StoreError> {
    store::payload_body(tx, id).await
}

/// The alerts on ticket `id` (its own, or a storm's members; the 200 seen last) and how
/// many there are, for the ticket page.
pub async fn on_ticket(
    tx: &mut Tx,
    config: &crate::config::Config,
    id: i64,
) -> Result<(i64, Vec<AlertView>), StoreError> {
    let f = Filter {
        ticket: Some(id),
        limit: 200,
        ..Filter::default()
    };
    let (total, mut alerts) = store::list(tx, &f).await?;
    let alertmanagers: Vec<&str> = config
        .alert_sources
        .iter()
        .filter(|s| s.kind == Kind::Alertmanager.as_str())
        .map(|s| s.name.as_str())
        .collect();
    for a in &mut alerts {
        a.silenceable = alertmanagers.contains(&a.source.as_str());
    }
    Ok((total, alerts))
}

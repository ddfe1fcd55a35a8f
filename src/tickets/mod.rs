//! Tickets: RT's model (CONTRACT §3–§4). Every change is a transaction in the ticket's history,
//! written in the same database transaction as the change itself.

pub mod api;
pub mod attachments;
mod change;
mod create;
mod external;
mod links;
pub mod model;
pub(crate) mod pages;
mod plan;
mod render;
mod reply;
pub mod routes;
pub mod saved;
pub mod search;
pub(crate) mod sla;
pub(crate) mod store;
pub(crate) mod ticket_page;
mod view;

use jiff::Timestamp;

pub use change::{Patch, update};
pub use create::{NewTicket, TicketCustomer, create};
pub use external::{Brief, brief, person_involved, record_alert};
pub use links::{link, merge, unlink};
pub use model::{LinkKind, Priority, Source, Status, WatcherRole};
pub use render::markdown as render_markdown;
pub use reply::{Reply, ReplyKind, record_bounce, reply};
pub use view::{HistoryEntry, SlaView, Ticket, history, load, public_history};

use crate::config::Config;
use crate::db::StoreError;
use crate::error::AppError;

/// Who does a change, when, under which configuration.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    pub config: &'a Config,
    pub actor: &'a str,
    pub now: Timestamp,
}

#[derive(Debug, thiserror::Error)]
pub enum TicketError {
    #[error("ticket #{0} does not exist")]
    NotFound(i64),
    #[error("no queue is named {0}")]
    NoSuchQueue(String),
    #[error("no customer has the code {0}")]
    NoSuchCustomer(String),
    #[error("{0} is not a staff user who can own tickets")]
    NoSuchOwner(String),
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("a {from} ticket cannot become {to}", from = from.as_str(), to = to.as_str())]
    InvalidTransition { from: Status, to: Status },
    #[error("ticket #{id} cannot be resolved while it depends on open ticket(s) {}", list(.open))]
    OpenDependencies { id: i64, open: Vec<i64> },
    #[error("a ticket cannot be merged into itself")]
    MergeIntoSelf,
    #[error("a ticket cannot link to itself")]
    LinkToSelf,
    #[error("SLA clock: {0}")]
    Clock(crate::sla::CalendarError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn list(ids: &[i64]) -> String {
    ids.iter()
        .map(|i| format!("#{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl From<TicketError> for AppError {
    fn from(e: TicketError) -> AppError {
        match e {
            TicketError::NotFound(_) => AppError::NotFound,
            TicketError::Store(s) => s.into(),
            TicketError::Clock(c) => AppError::internal(c),
            TicketError::Invalid { field, message } => AppError::invalid(field, message),
            TicketError::NoSuchQueue(_) => AppError::invalid("queue", e.to_string()),
            TicketError::NoSuchCustomer(_) => AppError::invalid("customer", e.to_string()),
            TicketError::NoSuchOwner(_) => AppError::invalid("owner", e.to_string()),
            TicketError::InvalidTransition { .. } | TicketError::OpenDependencies { .. } => {
                AppError::Conflict(e.to_string())
            }
            TicketError::MergeIntoSelf | TicketError::LinkToSelf => {
                AppError::BadRequest(e.to_string())
            }
        }
    }
}

/// The queue names tickets may use: the configured ones, or RT's "General" when none are.
pub fn queue_exists(config: &Config, name: &str) -> bool {
    if config.queues.is_empty() {
        return name == "General";
    }
    config.queues.iter().any(|q| q.name == name)
}

/// The SLA policy of a queue, when it names one.
pub fn queue_sla<'c>(config: &'c Config, queue: &str) -> Option<&'c str> {
    config
        .queues
        .iter()
        .find(|q| q.name == queue)
        .and_then(|q| q.sla.as_deref())
}

/// A subject as RT keeps it: one line, trimmed, at most 200 characters.
pub fn clean_subject(s: &str) -> Result<String, TicketError> {
    let one_line: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let t = one_line.trim();
    if t.is_empty() {
        return Err(TicketError::Invalid {
            field: "subject",
            message: "must not be empty".into(),
        });
    }
    Ok(t.chars().take(200).collect())
}

/// A lower-cased email address with one `@` and a dot in the domain.
pub fn clean_email(s: &str) -> Result<String, TicketError> {
    let e = s.trim().to_ascii_lowercase();
    let ok = e.len() <= 254
        && !e.contains(char::is_whitespace)
        && e.split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.contains('@'));
    if ok {
        Ok(e)
    } else {
        Err(TicketError::Invalid {
            field: "requestors",
            message: format!("\"{s}\" is not an email address"),
        })
    }
}

/// A ticket that used a runbook, for the runbook's page.
#[derive(Debug, Clone)]
pub struct RunbookUse {
    pub id: i64,
    pub subject: String,
    pub status: String,
    pub created_at: jiff::Timestamp,
}

/// The latest tickets whose runbook is the wiki page `path`.
pub async fn using_runbook(
    tx: &mut crate::db::Tx,
    path: &str,
    limit: i64,
) -> Result<Vec<RunbookUse>, crate::db::StoreError> {
    Ok(store::rows::with_runbook(tx, path, limit)
        .await?
        .into_iter()
        .map(|(id, subject, status, at)| RunbookUse {
            id,
            subject,
            status,
            created_at: at.0,
        })
        .collect())
}

//! Email (CONTRACT §1 mailgate, §3 inbound route, §6): every way in ends in [`receive`], which
//! stores the raw message before anything else and then makes a ticket change of it. A message
//! that cannot be processed stays stored and flagged (`/admin/mail`), never dropped.

pub mod api;
pub mod gate;
pub mod guard;
mod html;
pub mod imap;
pub mod intake;
pub mod outbox;
pub mod parse;
pub mod routes;
mod rules;
pub mod send;
mod store;
pub mod templates;
pub mod thread;

use serde::Serialize;

pub use intake::{MailHandler, PROCESS, process, receive, receive_addressed, recover, retry};
pub(crate) use store::threads_of_many;
pub use store::{MailMessage, by_state};

use crate::db::StoreError;
use crate::error::AppError;

/// What the queue does with a message: correspondence (public) or an internal comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Correspond,
    Comment,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Correspond => "correspond",
            Action::Comment => "comment",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        match s {
            "correspond" => Some(Action::Correspond),
            "comment" => Some(Action::Comment),
            _ => None,
        }
    }
}

/// Which door a message came through (kept for the admin view and the metrics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Mailgate,
    Api,
    Imap,
}

impl Via {
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Mailgate => "mailgate",
            Via::Api => "api",
            Via::Imap => "imap",
        }
    }

    pub fn parse(s: &str) -> Option<Via> {
        match s {
            "mailgate" => Some(Via::Mailgate),
            "api" => Some(Via::Api),
            "imap" => Some(Via::Imap),
            _ => None,
        }
    }
}

/// Where a message was delivered: the queue of the address and what that address does.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub queue: String,
    pub action: Action,
    pub via: Via,
}

/// What became of a message, as the inbound route answers it. Named apart from the alert
/// intake's `Receipt`: one name for both made the document describe one with the other's fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = MailReceipt)]
pub struct Receipt {
    /// The ticket the message went to (none when it was ignored or could not be processed).
    pub ticket_id: Option<i64>,
    /// Whether the message opened that ticket.
    pub created: bool,
    /// `processed`, `ignored` (a loop, a bounce we cannot place), `failed` (kept and flagged
    /// for an admin; nothing is lost), or `received` (stored; applying it failed for now and a
    /// job will do it: the sender need not send it again).
    pub state: String,
    /// The same Message-ID was delivered before: this delivery changed nothing.
    pub duplicate: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("the message is {size} bytes; the limit is {limit} (mail.max_message_bytes)")]
    TooLarge { size: usize, limit: u64 },
    #[error("the message is empty")]
    Empty,
    #[error("no queue is named {0}")]
    NoSuchQueue(String),
    #[error("no stored message has id {0}")]
    NotFound(i64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<MailError> for AppError {
    fn from(e: MailError) -> AppError {
        match e {
            MailError::TooLarge { .. } => AppError::TooLarge(e.to_string()),
            MailError::Empty => AppError::invalid("message", "is empty"),
            MailError::NoSuchQueue(q) => {
                AppError::invalid("queue", format!("no queue is named {q}"))
            }
            MailError::NotFound(_) => AppError::NotFound,
            MailError::Store(s) => AppError::from(s),
        }
    }
}

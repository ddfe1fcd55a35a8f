//! IMAP pollers (`[[mail.imap]]`, CONTRACT §2): each mailbox is read by UID into the one
//! intake pipeline. A message is flagged, moved or deleted on the server only after intake has
//! committed it, and the cursor (`mail_imap_cursors`) moves only over messages intake has
//! answered for, so a crash at any point re-reads at most one batch — and the stored
//! Message-IDs make the re-read change nothing. A database lease lets one node at a time poll a
//! mailbox; the others take over when its lease runs out.

mod batch;
pub mod conn;
mod mailbox;
mod poller;
mod store;

pub use conn::{ImapError, ImapSession};
pub use poller::Poller;
pub use store::Cursor;

use super::MailError;
use crate::config::RawImap;
use crate::db::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error(transparent)]
    Imap(#[from] ImapError),
    #[error("database: {0}")]
    Store(#[from] StoreError),
    #[error("intake: {0}")]
    Mail(#[from] MailError),
}

/// What one round found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Round {
    /// Everything new is in; wait for the interval.
    Drained,
    /// A full batch was taken and more waits: go again at once.
    More,
    /// Another node holds the lease on this mailbox.
    NotOurs,
}

/// The lease and cursor key of a mailbox: the server, the user and the mailbox (never the
/// password, so changing it keeps the cursor).
pub fn source_key(cfg: &RawImap) -> String {
    let (scheme, host, port) = match url::Url::parse(&cfg.url) {
        Ok(u) => (
            u.scheme().to_owned(),
            u.host_str().unwrap_or_default().to_owned(),
            format!(
                ":{}",
                u.port()
                    .unwrap_or(if u.scheme() == "imaps" { 993 } else { 143 })
            ),
        ),
        Err(_) => (String::new(), cfg.url.clone(), String::new()),
    };
    format!("{scheme}://{}@{host}{port}/{}", cfg.username, cfg.mailbox)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_source_key_names_server_user_and_mailbox_but_not_the_password() {
        let cfg = RawImap {
            url: "imaps://mail.example.net:993".into(),
            username: "support".into(),
            password: "hunter2".into(),
            mailbox: "INBOX".into(),
            queue: "Support".into(),
            interval: "30s".into(),
            after: "seen".into(),
            move_to: None,
            ca_file: None,
        };
        let k = source_key(&cfg);
        assert_eq!(k, "imaps://support@mail.example.net:993/INBOX");
        assert!(!k.contains("hunter2"));
        let implicit = RawImap {
            url: "imaps://mail.example.net".into(),
            ..cfg
        };
        assert_eq!(
            source_key(&implicit),
            k,
            "the default port is the same mailbox"
        );
    }
}

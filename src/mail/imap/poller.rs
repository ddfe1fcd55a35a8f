//! One poller per `[[mail.imap]]` mailbox: rounds of lease → list → intake → cursor → report,
//! on the interval, again at once while a backlog remains, with backoff after failures.

use std::sync::Arc;
use std::time::Duration;

use jiff::SignedDuration;
use tokio::sync::watch;

use super::batch::{Waiting, take_batch};
use super::mailbox::{Mailbox, REFUSED_KEYWORD};
use super::store::{self, Cursor};
use super::{PollError, Round, source_key};
use crate::clock::SharedClock;
use crate::config::{Config, RawImap, parse_duration};
use crate::db::Db;
use crate::mail::{Action, Delivery, MailError, Via};

/// Longest wait between reconnect attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// Polls one `[[mail.imap]]` mailbox until shutdown.
pub struct Poller {
    db: Db,
    config: Arc<Config>,
    clock: SharedClock,
    index: usize,
    holder: String,
    source: String,
    open: Option<Mailbox>,
}

/// What intake made of one batch.
#[derive(Debug, Default)]
struct Ingested {
    processed: Vec<u32>,
    refused: Vec<u32>,
    /// The highest UID of the unbroken run of messages intake answered for.
    handled_up_to: Option<u32>,
    error: Option<PollError>,
}

impl Poller {
    /// The poller of `config.mail.imap[index]`; `holder` names this node in the lease.
    pub fn new(
        db: Db,
        config: Arc<Config>,
        clock: SharedClock,
        index: usize,
        holder: String,
    ) -> Option<Poller> {
        let source = source_key(config.mail.imap.get(index)?);
        Some(Poller {
            db,
            config,
            clock,
            index,
            holder,
            source,
            open: None,
        })
    }

    fn cfg(&self) -> &RawImap {
        &self.config.mail.imap[self.index]
    }

    fn interval(&self) -> Duration {
        parse_duration(&self.cfg().interval).unwrap_or(Duration::from_secs(30))
    }

    /// Polls every `interval`, at once again while a batch leaves more behind, and after a
    /// failure with a backoff that doubles up to [`MAX_BACKOFF`].
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        let mut failures: u32 = 0;
        tracing::info!(source = %self.source, "IMAP poller started");
        loop {
            if *shutdown.borrow() {
                break;
            }
            let wait = match self.round().await {
                Ok(Round::More) => {
                    failures = 0;
                    continue;
                }
                Ok(Round::Drained) => {
                    failures = 0;
                    self.interval()
                }
                Ok(Round::NotOurs) => {
                    self.close().await;
                    self.interval()
                }
                Err(e) => {
                    failures = failures.saturating_add(1);
                    self.open = None;
                    let wait = backoff(failures);
                    tracing::warn!(
                        source = %self.source, error = %e, attempt = failures,
                        retry_in_s = wait.as_secs(), "IMAP poll failed"
                    );
                    wait
                }
            };
            tokio::select! {
                _ = shutdown.changed() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
        self.close().await;
        if let Ok(mut tx) = self.db.begin().await
            && store::release(&mut tx, &self.source, &self.holder)
                .await
                .is_ok()
        {
            let _ = tx.commit().await;
        }
    }

    async fn close(&mut self) {
        if let Some(m) = self.open.take() {
            m.logout().await;
        }
    }

    /// The open session, connecting first when there is none.
    async fn mailbox(&mut self) -> Result<&mut Mailbox, PollError> {
        let m = match self.open.take() {
            Some(m) => m,
            None => Mailbox::open(self.cfg(), &self.source).await?,
        };
        Ok(self.open.insert(m))
    }

    /// Takes the lease, reads up to one batch of new messages into intake, then tells the
    /// server what became of them.
    pub async fn round(&mut self) -> Result<Round, PollError> {
        let now = self.clock.now();
        let lease = SignedDuration::try_from(self.interval().saturating_mul(3))
            .unwrap_or(SignedDuration::ZERO)
            .max(SignedDuration::from_secs(120));
        let mut tx = self.db.begin().await?;
        let cursor = store::lease(
            &mut tx,
            &self.source,
            &self.holder,
            now.saturating_add(lease).unwrap_or(now),
            now,
        )
        .await?;
        tx.commit().await?;
        let Some(cursor) = cursor else {
            return Ok(Round::NotOurs);
        };
        let name = self.cfg().mailbox.clone();
        let m = self.mailbox().await?;
        let selected = m.select(&name).await?;
        let validity = selected.validity;
        let start = if validity == cursor.uid_validity {
            cursor.last_uid
        } else {
            0
        };
        let (mut waiting, listed_more) = if selected.exists == 0 {
            (Vec::new(), false)
        } else {
            m.list_after(start).await?
        };
        if cursor.uid_validity != 0 && validity != cursor.uid_validity {
            tracing::warn!(source = %self.source, "UIDVALIDITY changed: reading the mailbox again; stored Message-IDs keep it from counting twice");
        }
        if waiting.is_empty() {
            if validity != cursor.uid_validity {
                self.advance(Cursor {
                    uid_validity: validity,
                    last_uid: 0,
                })
                .await?;
            }
            return Ok(Round::Drained);
        }
        let more = take_batch(&mut waiting, self.config.mail.max_message_bytes) || listed_more;
        let outcome = self.ingest(&waiting).await;
        tracing::info!(
            source = %self.source, read = waiting.len(), processed = outcome.processed.len(),
            refused = outcome.refused.len(), more, "IMAP batch"
        );
        // The cursor moves over the messages intake answered for, in UID order, and only then
        // does the server hear about them.
        let Some(last) = outcome.handled_up_to else {
            return match outcome.error {
                Some(e) => Err(e),
                None => Ok(Round::Drained),
            };
        };
        if !self
            .advance(Cursor {
                uid_validity: validity,
                last_uid: i64::from(last),
            })
            .await?
        {
            return Ok(Round::NotOurs);
        }
        let cfg = self.config.clone();
        let cfg = &cfg.mail.imap[self.index];
        self.mailbox()
            .await?
            .report(cfg, &outcome.processed, &outcome.refused)
            .await?;
        match outcome.error {
            Some(e) => Err(e),
            None if more => Ok(Round::More),
            None => Ok(Round::Drained),
        }
    }

    /// Moves the cursor, if this node still holds the lease; answers whether it did.
    async fn advance(&self, to: Cursor) -> Result<bool, PollError> {
        let mut tx = self.db.begin().await?;
        let held = store::advance(&mut tx, &self.source, &self.holder, to).await?;
        tx.commit().await?;
        Ok(held)
    }

    /// Fetches the batch and hands each message to intake, in UID order, stopping at the first
    /// failure that is not the message's own (the database, the connection).
    async fn ingest(&mut self, batch: &[Waiting]) -> Ingested {
        let mut out = Ingested::default();
        let wanted: Vec<u32> = batch
            .iter()
            .filter(|w| !w.oversize)
            .map(|w| w.uid)
            .collect();
        let mut bodies = if wanted.is_empty() {
            Default::default()
        } else {
            let fetched = match self.mailbox().await {
                Ok(m) => m.bodies(&wanted).await,
                Err(e) => Err(e),
            };
            match fetched {
                Ok(b) => b,
                Err(e) => {
                    out.error = Some(e);
                    return out;
                }
            }
        };
        let fallback = Delivery {
            queue: self.cfg().queue.clone(),
            action: Action::Correspond,
            via: Via::Imap,
        };
        for w in batch {
            if w.oversize {
                tracing::warn!(
                    source = %self.source, uid = w.uid, size = w.size,
                    limit = self.config.mail.max_message_bytes,
                    "message over mail.max_message_bytes left on the server, flagged {REFUSED_KEYWORD}"
                );
                out.refused.push(w.uid);
            } else if let Some(raw) = bodies.remove(&w.uid) {
                match crate::mail::receive_addressed(
                    &self.db,
                    &self.config,
                    raw.into(),
                    &fallback,
                    self.clock.now(),
                )
                .await
                {
                    Ok(_) => out.processed.push(w.uid),
                    Err(e @ (MailError::Empty | MailError::TooLarge { .. })) => {
                        tracing::warn!(source = %self.source, uid = w.uid, reason = %e,
                            "message refused by intake left on the server, flagged {REFUSED_KEYWORD}");
                        out.refused.push(w.uid);
                    }
                    Err(e) => {
                        out.error = Some(e.into());
                        break;
                    }
                }
            }
            // Not fetched and not oversize: expunged by someone else meanwhile; nothing to do.
            out.handled_up_to = Some(w.uid);
        }
        out
    }
}

/// 1 s, 2 s, 4 s … up to [`MAX_BACKOFF`].
fn backoff(failures: u32) -> Duration {
    Duration::from_secs(1u64 << failures.saturating_sub(1).min(16)).min(MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_five_minutes() {
        assert_eq!(backoff(1), Duration::from_secs(1));
        assert_eq!(backoff(2), Duration::from_secs(2));
        assert_eq!(backoff(5), Duration::from_secs(16));
        assert_eq!(backoff(30), MAX_BACKOFF);
    }
}

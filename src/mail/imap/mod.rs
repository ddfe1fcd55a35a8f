//! IMAP pollers (`[[mail.imap]]`, CONTRACT §2): each mailbox is read by UID into the one
//! intake pipeline. A message is flagged, moved or deleted on the server only after intake has
//! committed it, and the cursor (`mail_imap_cursors`) moves only over messages intake has
//! answered for, so a crash at any point re-reads at most one batch — and the stored
//! Message-IDs make the re-read change nothing. A database lease lets one node at a time poll a
//! mailbox; the others take over when its lease runs out.

pub mod conn;
mod store;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::TryStreamExt;
use jiff::SignedDuration;
use tokio::sync::watch;

pub use conn::{ImapError, ImapSession};
pub use store::Cursor;

use super::{Action, Delivery, MailError, Via};
use crate::clock::SharedClock;
use crate::config::{Config, RawImap, parse_duration};
use crate::db::{Db, StoreError};

/// Messages fetched per round, and their total size: bound the memory a round holds and the
/// work done under one lease renewal.
const BATCH: usize = 50;
const BATCH_BYTES: u64 = 64 * 1024 * 1024;
/// Longest wait between reconnect attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// The keyword set on a message intake refused (over the size limit, empty), so an operator
/// searching the mailbox finds it; it stays on the server, and the cursor moves past it.
const REFUSED_KEYWORD: &str = "$OpsdeskRefused";

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

/// An open session and what its server can do.
struct Open {
    session: ImapSession,
    can_move: bool,
    uidplus: bool,
}

/// Polls one `[[mail.imap]]` mailbox until shutdown.
pub struct Poller {
    db: Db,
    config: Arc<Config>,
    clock: SharedClock,
    index: usize,
    holder: String,
    source: String,
    open: Option<Open>,
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
        if let Some(mut o) = self.open.take() {
            let _ = conn::command("LOGOUT", o.session.logout()).await;
        }
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
        let mailbox = self.cfg().mailbox.clone();
        let source = self.source.clone();
        let o = self.ensure_open().await?;
        let selected = conn::command("SELECT", o.session.select(&mailbox)).await?;
        drain_unsolicited(&o.session);
        let validity = i64::from(selected.uid_validity.unwrap_or(0));
        let start = if validity == cursor.uid_validity {
            cursor.last_uid
        } else {
            if cursor.uid_validity != 0 {
                tracing::warn!(source = %source, "UIDVALIDITY changed: reading the mailbox again; stored Message-IDs keep it from counting twice");
            }
            0
        };
        let (mut waiting, listed_more) = if selected.exists == 0 {
            (Vec::new(), false)
        } else {
            list_after(&mut o.session, start).await?
        };
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
        self.after(&outcome.processed, &outcome.refused).await?;
        match outcome.error {
            Some(e) => Err(e),
            None if more => Ok(Round::More),
            None => Ok(Round::Drained),
        }
    }

    async fn ensure_open(&mut self) -> Result<&mut Open, PollError> {
        if self.open.is_none() {
            let mut session = conn::open(self.cfg()).await?;
            let caps = conn::command("CAPABILITY", session.capabilities()).await?;
            let (can_move, uidplus) = (caps.has_str("MOVE"), caps.has_str("UIDPLUS"));
            if let Some(to) = self.cfg().move_to.as_deref() {
                // Created on first use; "already exists" is the usual answer and harmless.
                let _ = conn::command("CREATE", session.create(to)).await;
            }
            tracing::info!(source = %self.source, can_move, uidplus, "IMAP session open");
            self.open = Some(Open {
                session,
                can_move,
                uidplus,
            });
        }
        match self.open.as_mut() {
            Some(o) => Ok(o),
            None => Err(PollError::Imap(ImapError::Timeout { what: "connect" })),
        }
    }

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
            HashMap::new()
        } else {
            match self.fetch(&wanted).await {
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
                match super::receive_addressed(
                    &self.db,
                    &self.config,
                    &raw,
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

    async fn fetch(&mut self, uids: &[u32]) -> Result<HashMap<u32, Vec<u8>>, PollError> {
        let o = self.ensure_open().await?;
        let fetches: Vec<_> = conn::command("UID FETCH", async {
            o.session
                .uid_fetch(uid_set(uids), "(UID BODY.PEEK[])")
                .await?
                .try_collect()
                .await
        })
        .await?;
        drain_unsolicited(&o.session);
        Ok(fetches
            .iter()
            .filter_map(|f| Some((f.uid?, f.body()?.to_vec())))
            .collect())
    }

    /// Tells the server: processed messages are flagged seen, deleted or moved as configured;
    /// refused ones get [`REFUSED_KEYWORD`] and stay.
    async fn after(&mut self, processed: &[u32], refused: &[u32]) -> Result<(), PollError> {
        let after = self.cfg().after.clone();
        let move_to = self.cfg().move_to.clone();
        let o = self.ensure_open().await?;
        if !refused.is_empty() {
            let flagged = conn::command("UID STORE", async {
                o.session
                    .uid_store(
                        uid_set(refused),
                        format!("+FLAGS.SILENT ({REFUSED_KEYWORD})"),
                    )
                    .await?
                    .try_collect::<Vec<_>>()
                    .await
            })
            .await;
            if let Err(e) = flagged {
                tracing::warn!(error = %e, "the server did not take the refused keyword");
            }
        }
        if processed.is_empty() {
            return Ok(());
        }
        let set = uid_set(processed);
        match (after.as_str(), move_to) {
            ("move", Some(to)) if o.can_move => {
                conn::command("UID MOVE", o.session.uid_mv(&set, &to)).await?;
            }
            ("move", Some(to)) => {
                conn::command("UID COPY", o.session.uid_copy(&set, &to)).await?;
                delete(o, &set).await?;
            }
            ("delete", _) => delete(o, &set).await?,
            _ => {
                conn::command("UID STORE", async {
                    o.session
                        .uid_store(&set, "+FLAGS.SILENT (\\Seen)")
                        .await?
                        .try_collect::<Vec<_>>()
                        .await
                })
                .await?;
            }
        }
        drain_unsolicited(&o.session);
        Ok(())
    }
}

/// Flags `set` deleted and expunges it: only it where the server has UIDPLUS, else the whole
/// mailbox's deleted messages (what any client's "compact" does).
async fn delete(o: &mut Open, set: &str) -> Result<(), PollError> {
    conn::command("UID STORE", async {
        o.session
            .uid_store(set, "+FLAGS.SILENT (\\Deleted)")
            .await?
            .try_collect::<Vec<_>>()
            .await
    })
    .await?;
    if o.uidplus {
        conn::command("UID EXPUNGE", async {
            o.session
                .uid_expunge(set)
                .await?
                .try_collect::<Vec<_>>()
                .await
        })
        .await?;
    } else {
        conn::command("EXPUNGE", async {
            o.session.expunge().await?.try_collect::<Vec<_>>().await
        })
        .await?;
    }
    Ok(())
}

#[derive(Debug, Default)]
struct Ingested {
    processed: Vec<u32>,
    refused: Vec<u32>,
    /// The highest UID of the unbroken run of messages intake answered for.
    handled_up_to: Option<u32>,
    error: Option<PollError>,
}

/// A message on the server not read yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Waiting {
    uid: u32,
    size: u64,
    oversize: bool,
}

/// UIDs and sizes of the next [`BATCH`] messages after `start`, oldest first, and whether
/// more wait. The UIDs come from a SEARCH (a list of numbers, cheap even for a large backlog);
/// sizes are fetched for one batch only, so a round costs the same however much waits.
async fn list_after(
    session: &mut ImapSession,
    start: i64,
) -> Result<(Vec<Waiting>, bool), PollError> {
    let first = u32::try_from(start.saturating_add(1)).unwrap_or(u32::MAX);
    let found = conn::command("UID SEARCH", session.uid_search(format!("UID {first}:*"))).await?;
    drain_unsolicited(session);
    // "N:*" matches the last message even when its UID is below N (RFC 3501 §6.4.8).
    let mut uids: Vec<u32> = found
        .into_iter()
        .filter(|u| i64::from(*u) > start)
        .collect();
    uids.sort_unstable();
    let more = uids.len() > BATCH;
    uids.truncate(BATCH);
    if uids.is_empty() {
        return Ok((Vec::new(), false));
    }
    let fetches: Vec<_> = conn::command("UID FETCH", async {
        session
            .uid_fetch(uid_set(&uids), "(UID RFC822.SIZE)")
            .await?
            .try_collect()
            .await
    })
    .await?;
    drain_unsolicited(session);
    let mut out: Vec<Waiting> = fetches
        .iter()
        .filter_map(|f| {
            Some(Waiting {
                uid: f.uid?,
                size: u64::from(f.size.unwrap_or(0)),
                oversize: false,
            })
        })
        .filter(|w| i64::from(w.uid) > start)
        .collect();
    out.sort_by_key(|w| w.uid);
    out.dedup_by_key(|w| w.uid);
    Ok((out, more))
}

/// Cuts `waiting` down to one batch (at least one message); marks those over `limit`.
/// Answers whether more were left behind.
fn take_batch(waiting: &mut Vec<Waiting>, limit: u64) -> bool {
    let mut bytes = 0u64;
    let mut n = 0;
    for w in waiting.iter_mut() {
        w.oversize = w.size > limit;
        let cost = if w.oversize { 0 } else { w.size };
        if n > 0 && (n == BATCH || bytes.saturating_add(cost) > BATCH_BYTES) {
            break;
        }
        bytes = bytes.saturating_add(cost);
        n += 1;
    }
    let more = n < waiting.len();
    waiting.truncate(n);
    more
}

fn uid_set(uids: &[u32]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < uids.len() {
        let mut j = i;
        while j + 1 < uids.len() && uids[j + 1] == uids[j].saturating_add(1) {
            j += 1;
        }
        if !out.is_empty() {
            out.push(',');
        }
        if j > i {
            out.push_str(&format!("{}:{}", uids[i], uids[j]));
        } else {
            out.push_str(&uids[i].to_string());
        }
        i = j + 1;
    }
    out
}

/// EXISTS/EXPUNGE notices we do not use; the channel is bounded, so it is emptied.
fn drain_unsolicited(session: &ImapSession) {
    while session.unsolicited_responses.try_recv().is_ok() {}
}

/// 1 s, 2 s, 4 s … up to [`MAX_BACKOFF`].
fn backoff(failures: u32) -> Duration {
    Duration::from_secs(1u64 << failures.saturating_sub(1).min(16)).min(MAX_BACKOFF)
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

    fn w(uid: u32, size: u64) -> Waiting {
        Waiting {
            uid,
            size,
            oversize: false,
        }
    }

    #[test]
    fn uid_sets_collapse_runs() {
        assert_eq!(uid_set(&[1, 2, 3, 5, 7, 8]), "1:3,5,7:8");
        assert_eq!(uid_set(&[4]), "4");
        assert_eq!(uid_set(&[]), "");
        assert_eq!(
            uid_set(&[u32::MAX - 1, u32::MAX]),
            format!("{}:{}", u32::MAX - 1, u32::MAX)
        );
    }

    #[test]
    fn a_batch_stops_at_its_count_or_its_bytes_but_takes_at_least_one() {
        let mut many: Vec<_> = (1..=120).map(|u| w(u, 10)).collect();
        assert!(take_batch(&mut many, 1000));
        assert_eq!(many.len(), BATCH);

        let mut big = vec![w(1, BATCH_BYTES), w(2, 10)];
        assert!(take_batch(&mut big, u64::MAX));
        assert_eq!(big.len(), 1, "the first message alone fills the batch");

        let mut huge = vec![w(1, BATCH_BYTES * 4)];
        assert!(!take_batch(&mut huge, u64::MAX));
        assert_eq!(huge.len(), 1, "one message larger than a batch still goes");
    }

    #[test]
    fn oversize_messages_are_marked_and_cost_nothing() {
        let mut ws = vec![w(1, 500), w(2, 100), w(3, 2000)];
        assert!(!take_batch(&mut ws, 1000));
        assert_eq!(
            ws.iter().map(|w| w.oversize).collect::<Vec<_>>(),
            [false, false, true]
        );
    }

    #[test]
    fn backoff_doubles_up_to_five_minutes() {
        assert_eq!(backoff(1), Duration::from_secs(1));
        assert_eq!(backoff(2), Duration::from_secs(2));
        assert_eq!(backoff(5), Duration::from_secs(16));
        assert_eq!(backoff(30), MAX_BACKOFF);
    }

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

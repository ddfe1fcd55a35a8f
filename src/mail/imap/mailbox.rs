//! The server side of a poll: one logged-in session, what its server can do, and the commands a
//! round needs — select, list what waits, fetch bodies, and tell the server what became of them.

use std::collections::HashMap;

use futures_util::TryStreamExt;

use super::PollError;
use super::batch::{BATCH, Waiting, uid_set};
use super::conn::{self, ImapSession};
use crate::config::RawImap;

/// The keyword set on a message intake refused (over the size limit, empty), so an operator
/// searching the mailbox finds it; it stays on the server, and the cursor moves past it.
pub(super) const REFUSED_KEYWORD: &str = "$OpsdeskRefused";

/// A selected mailbox's UIDVALIDITY and message count.
pub(super) struct Selected {
    pub validity: i64,
    pub exists: u32,
}

/// An open session and what its server can do.
pub(super) struct Mailbox {
    session: ImapSession,
    can_move: bool,
    uidplus: bool,
}

impl Mailbox {
    /// Connects, logs in, asks what the server can do, and creates `move_to` on first use.
    pub(super) async fn open(cfg: &RawImap, source: &str) -> Result<Mailbox, PollError> {
        let mut session = conn::open(cfg).await?;
        let caps = conn::command("CAPABILITY", session.capabilities()).await?;
        let (can_move, uidplus) = (caps.has_str("MOVE"), caps.has_str("UIDPLUS"));
        if let Some(to) = cfg.move_to.as_deref() {
            // "Already exists" is the usual answer and harmless.
            let _ = conn::command("CREATE", session.create(to)).await;
        }
        tracing::info!(source, can_move, uidplus, "IMAP session open");
        Ok(Mailbox {
            session,
            can_move,
            uidplus,
        })
    }

    pub(super) async fn logout(mut self) {
        let _ = conn::command("LOGOUT", self.session.logout()).await;
    }

    pub(super) async fn select(&mut self, name: &str) -> Result<Selected, PollError> {
        let m = conn::command("SELECT", self.session.select(name)).await?;
        self.drain_unsolicited();
        Ok(Selected {
            validity: i64::from(m.uid_validity.unwrap_or(0)),
            exists: m.exists,
        })
    }

    /// UIDs and sizes of the next [`BATCH`] messages after `start`, oldest first, and whether
    /// more wait. The UIDs come from a SEARCH (a list of numbers, cheap even for a large
    /// backlog); sizes are fetched for one batch only, so a round costs the same however much
    /// waits.
    pub(super) async fn list_after(
        &mut self,
        start: i64,
    ) -> Result<(Vec<Waiting>, bool), PollError> {
        let first = u32::try_from(start.saturating_add(1)).unwrap_or(u32::MAX);
        let found = conn::command(
            "UID SEARCH",
            self.session.uid_search(format!("UID {first}:*")),
        )
        .await?;
        self.drain_unsolicited();
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
        let session = &mut self.session;
        let fetches: Vec<_> = conn::command("UID FETCH", async {
            session
                .uid_fetch(uid_set(&uids), "(UID RFC822.SIZE)")
                .await?
                .try_collect()
                .await
        })
        .await?;
        self.drain_unsolicited();
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

    /// The raw bytes of `uids`, without setting `\Seen` (that waits until intake has them).
    pub(super) async fn bodies(
        &mut self,
        uids: &[u32],
    ) -> Result<HashMap<u32, Vec<u8>>, PollError> {
        let session = &mut self.session;
        let fetches: Vec<_> = conn::command("UID FETCH", async {
            session
                .uid_fetch(uid_set(uids), "(UID BODY.PEEK[])")
                .await?
                .try_collect()
                .await
        })
        .await?;
        self.drain_unsolicited();
        Ok(fetches
            .iter()
            .filter_map(|f| Some((f.uid?, f.body()?.to_vec())))
            .collect())
    }

    /// Tells the server what became of a batch: processed messages are flagged seen, deleted
    /// or moved as `cfg` says; refused ones get [`REFUSED_KEYWORD`] and stay.
    pub(super) async fn report(
        &mut self,
        cfg: &RawImap,
        processed: &[u32],
        refused: &[u32],
    ) -> Result<(), PollError> {
        if !refused.is_empty()
            && let Err(e) = self
                .store(
                    &uid_set(refused),
                    &format!("+FLAGS.SILENT ({REFUSED_KEYWORD})"),
                )
                .await
        {
            tracing::warn!(error = %e, "the server did not take the refused keyword");
        }
        if processed.is_empty() {
            return Ok(());
        }
        let set = uid_set(processed);
        match (cfg.after.as_str(), cfg.move_to.as_deref()) {
            ("move", Some(to)) if self.can_move => {
                conn::command("UID MOVE", self.session.uid_mv(&set, to)).await?;
            }
            ("move", Some(to)) => {
                conn::command("UID COPY", self.session.uid_copy(&set, to)).await?;
                self.delete(&set).await?;
            }
            ("delete", _) => self.delete(&set).await?,
            _ => self.store(&set, "+FLAGS.SILENT (\\Seen)").await?,
        }
        self.drain_unsolicited();
        Ok(())
    }

    async fn store(&mut self, set: &str, flags: &str) -> Result<(), PollError> {
        let session = &mut self.session;
        conn::command("UID STORE", async {
            session
                .uid_store(set, flags)
                .await?
                .try_collect::<Vec<_>>()
                .await
        })
        .await?;
        Ok(())
    }

    /// Flags `set` deleted and expunges it: only it where the server has UIDPLUS, else the
    /// whole mailbox's deleted messages (what any client's "compact" does).
    async fn delete(&mut self, set: &str) -> Result<(), PollError> {
        self.store(set, "+FLAGS.SILENT (\\Deleted)").await?;
        let session = &mut self.session;
        if self.uidplus {
            conn::command("UID EXPUNGE", async {
                session
                    .uid_expunge(set)
                    .await?
                    .try_collect::<Vec<_>>()
                    .await
            })
            .await?;
        } else {
            conn::command("EXPUNGE", async {
                session.expunge().await?.try_collect::<Vec<_>>().await
            })
            .await?;
        }
        Ok(())
    }

    /// EXISTS/EXPUNGE notices we do not use; the channel is bounded, so it is emptied.
    fn drain_unsolicited(&self) {
        while self.session.unsolicited_responses.try_recv().is_ok() {}
    }
}

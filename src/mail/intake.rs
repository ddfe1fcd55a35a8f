//! The one intake pipeline. [`receive`] stores the raw message and applies it to a ticket in
//! one transaction, the rules behind a savepoint so a message they refuse still commits,
//! flagged; only after the commit is the sender told "stored". When that transaction fails
//! for anything but the message's own fault, the message is stored on its own first, with a
//! backstop job that applies it later if applying it now fails (a crash, a database outage,
//! a value the database refuses). A message already processed is left alone, so nothing is
//! ever applied twice.

use axum::body::Bytes;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::parse::{self, Inbound};
use super::rules::{Outcome, apply};
use super::{Action, Delivery, MailError, Receipt, Via, store};
use crate::config::Config;
use crate::db::{Db, Savepoint, StoreError, Tx};
use crate::jobs::{JobCtx, JobFailure, JobFuture, JobHandler, JobRow, NewJob, enqueue};
use crate::tickets;
use crate::tickets::attachments::sha256_hex;

/// The job kind that processes a stored message.
pub const PROCESS: &str = "mail.process";

/// How long the job waits before doing what the request normally does itself.
const BACKSTOP: SignedDuration = SignedDuration::from_secs(30);

#[derive(Debug, Serialize, Deserialize)]
struct Payload {
    id: i64,
}

/// Stores `raw` and processes it. Refuses (stores nothing) only what may never be kept: an
/// empty message, one over `mail.max_message_bytes`, one for a queue that does not exist.
pub async fn receive(
    db: &Db,
    config: &Config,
    raw: Bytes,
    to: &Delivery,
    now: Timestamp,
) -> Result<Receipt, MailError> {
    acceptable(config, &raw, to)?;
    let (parsed, sha) = read(raw.clone()).await;
    store_and_apply(
        db,
        config,
        Raw {
            sha: &sha,
            bytes: &raw,
        },
        parsed,
        to,
        now,
    )
    .await
}

/// [`receive`] for a mailbox that gathers mail for several addresses (an IMAP poller): the
/// message goes to the queue whose correspond or comment address it was sent to (To, then Cc),
/// else to `fallback`.
pub async fn receive_addressed(
    db: &Db,
    config: &Config,
    raw: Bytes,
    fallback: &Delivery,
    now: Timestamp,
) -> Result<Receipt, MailError> {
    acceptable(config, &raw, fallback)?;
    let (parsed, sha) = read(raw.clone()).await;
    let to = parsed
        .as_ref()
        .and_then(|m| addressed(config, m, fallback.via))
        .unwrap_or_else(|| fallback.clone());
    let raw = Raw {
        sha: &sha,
        bytes: &raw,
    };
    store_and_apply(db, config, raw, parsed, &to, now).await
}

/// Parses and hashes the message on a blocking thread: a large message is milliseconds of CPU,
/// and on an async worker those would also delay whichever task holds SQLite's writer turn
/// (every other message's transaction waits on that one).
async fn read(raw: Bytes) -> (Option<Inbound>, String) {
    let bytes = raw.clone();
    match tokio::task::spawn_blocking(move || (parse::parse(&bytes), sha256_hex(&bytes))).await {
        Ok(read) => read,
        // Only at shutdown (parse itself catches panics): read it here, still stored.
        Err(_) => (parse::parse(&raw), sha256_hex(&raw)),
    }
}

/// What may never be stored: an empty message, one over `mail.max_message_bytes`, one for a
/// queue that does not exist.
fn acceptable(config: &Config, raw: &[u8], to: &Delivery) -> Result<(), MailError> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err(MailError::Empty);
    }
    if raw.len() as u64 > config.mail.max_message_bytes {
        return Err(MailError::TooLarge {
            size: raw.len(),
            limit: config.mail.max_message_bytes,
        });
    }
    if !tickets::queue_exists(config, &to.queue) {
        return Err(MailError::NoSuchQueue(to.queue.clone()));
    }
    Ok(())
}

/// The queue and action of the first recipient that is one of our queues' addresses.
fn addressed(config: &Config, m: &Inbound, via: Via) -> Option<Delivery> {
    m.to.iter().chain(&m.cc).find_map(|rcpt| {
        config.queues.iter().find_map(|q| {
            let is = |a: &Option<String>| {
                a.as_deref()
                    .is_some_and(|a| a.eq_ignore_ascii_case(&rcpt.address))
            };
            let action = if is(&q.comment_address) {
                Action::Comment
            } else if is(&q.correspond_address) {
                Action::Correspond
            } else {
                return None;
            };
            Some(Delivery {
                queue: q.name.clone(),
                action,
                via,
            })
        })
    })
}

/// Stores the message and applies it in one transaction: one commit per message, and the
/// sender hears "stored" only once both are durable. A rule that refuses the message is rolled
/// back to the savepoint after the raw message, which commits flagged. If the database refuses
/// the change itself (a value one backend cannot hold), the message is stored on its own first
/// and applied after, so the raw message is kept whatever its content does to the rules.
async fn store_and_apply(
    db: &Db,
    config: &Config,
    raw: Raw<'_>,
    parsed: Option<Inbound>,
    to: &Delivery,
    now: Timestamp,
) -> Result<Receipt, MailError> {
    let message_id = parsed
        .as_ref()
        .map(|p| p.message_id.clone())
        .unwrap_or_else(|| parse::synthetic_id(raw.bytes));
    match at_once(db, config, raw, parsed.as_ref(), &message_id, to, now).await {
        Ok(r) => Ok(r),
        Err(e) => {
            tracing::warn!(error = %e, message_id = %message_id,
                "storing and applying in one transaction failed; storing the message first");
            store_first(db, config, raw, parsed, &message_id, to, now).await
        }
    }
}

const RULES: Savepoint = Savepoint("mail_rules");

/// The raw bytes of a message and their digest, hashed before any transaction begins.
#[derive(Clone, Copy)]
struct Raw<'a> {
    sha: &'a str,
    bytes: &'a [u8],
}

async fn at_once(
    db: &Db,
    config: &Config,
    raw: Raw<'_>,
    parsed: Option<&Inbound>,
    message_id: &str,
    to: &Delivery,
    now: Timestamp,
) -> Result<Receipt, MailError> {
    let mut tx = db.begin().await?;
    let Some(id) = insert_raw(&mut tx, raw, parsed, message_id, to, now).await? else {
        return duplicate(db, config, tx, message_id, now).await;
    };
    tx.savepoint(RULES).await?;
    let outcome = match parsed {
        None => Outcome::Failed(UNREADABLE.into()),
        Some(m) => apply(&mut tx, config, m, to, now).await?,
    };
    let receipt = finish(&mut tx, id, outcome, now).await?;
    tx.commit().await?;
    tracing::info!(mail_id = id, message_id = %message_id, queue = %to.queue, state = %receipt.state, "mail stored");
    Ok(receipt)
}

/// The two-step way: the raw message and a backstop job commit first, then the rules run in a
/// transaction of their own (and the job runs them again if that one fails).
async fn store_first(
    db: &Db,
    config: &Config,
    raw: Raw<'_>,
    parsed: Option<Inbound>,
    message_id: &str,
    to: &Delivery,
    now: Timestamp,
) -> Result<Receipt, MailError> {
    let mut tx = db.begin().await?;
    let Some(id) = insert_raw(&mut tx, raw, parsed.as_ref(), message_id, to, now).await? else {
        return duplicate(db, config, tx, message_id, now).await;
    };
    let job = NewJob {
        run_at: now.saturating_add(BACKSTOP).unwrap_or(now),
        ..NewJob::now(PROCESS, Payload { id }, now)
    }
    .dedup(format!("message-{id}"));
    enqueue(&mut tx, &job, config.jobs.max_attempts, now).await?;
    tx.commit().await?;
    tracing::info!(mail_id = id, message_id = %message_id, queue = %to.queue, "mail stored");
    Ok(applied_later(
        id,
        apply_stored(db, config, id, Some(parsed), now).await,
    ))
}

/// The answer for a message that is stored: applying it may have failed, but the backstop
/// job will do it, so the sender must not send it again.
fn applied_later(id: i64, r: Result<Receipt, MailError>) -> Receipt {
    r.unwrap_or_else(|e| {
        tracing::warn!(mail_id = id, error = %e, "mail stored; applying it failed, the job will try again");
        Receipt {
            ticket_id: None,
            created: false,
            state: "received".into(),
            duplicate: false,
        }
    })
}

/// Stores the raw bytes and their row; `None` when the Message-ID is stored already.
async fn insert_raw(
    tx: &mut Tx,
    raw: Raw<'_>,
    parsed: Option<&Inbound>,
    message_id: &str,
    to: &Delivery,
    now: Timestamp,
) -> Result<Option<i64>, StoreError> {
    tickets::attachments::put_blob_as(tx, raw.sha, raw.bytes).await?;
    let new = store::NewMessage {
        message_id,
        sha256: raw.sha,
        size: i64::try_from(raw.bytes.len()).unwrap_or(i64::MAX),
        via: to.via.as_str(),
        queue: &to.queue,
        action: to.action.as_str(),
        sender: parsed
            .and_then(|p| p.from.as_ref())
            .map(|f| f.address.as_str()),
        subject: parsed.map(|p| p.subject.as_str()),
    };
    store::insert(tx, &new, now).await
}

/// The same Message-ID again: answers what the first delivery became, finishing it first if
/// it was stored but never processed (the MTA retries after a lost answer).
async fn duplicate(
    db: &Db,
    config: &Config,
    mut tx: Tx,
    message_id: &str,
    now: Timestamp,
) -> Result<Receipt, MailError> {
    let first = store::by_message_id(&mut tx, message_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    tx.commit().await?;
    let done = if first.state == "received" {
        applied_later(first.id, process(db, config, first.id, now).await)
    } else {
        Receipt {
            ticket_id: first.ticket_id,
            created: false,
            state: first.state,
            duplicate: true,
        }
    };
    Ok(Receipt {
        duplicate: true,
        created: false,
        ..done
    })
}

/// Records what the rules made of message `id`. A message they refused keeps nothing of what
/// they did: the transaction goes back to [`RULES`] first.
async fn finish(
    tx: &mut Tx,
    id: i64,
    outcome: Outcome,
    now: Timestamp,
) -> Result<Receipt, MailError> {
    let (state, reason) = match outcome {
        Outcome::Ticket { id: t, created } => {
            store::finish(tx, id, "processed", None, Some((t, created)), now).await?;
            return Ok(Receipt {
                ticket_id: Some(t),
                created,
                state: "processed".into(),
                duplicate: false,
            });
        }
        Outcome::Ignored(r) => ("ignored", r),
        Outcome::Failed(r) => ("failed", r),
    };
    tx.rollback_to(RULES).await?;
    store::finish(tx, id, state, Some(&reason), None, now).await?;
    tracing::warn!(mail_id = id, state, reason = %reason, "mail not applied to a ticket");
    Ok(Receipt {
        ticket_id: None,
        created: false,
        state: state.into(),
        duplicate: false,
    })
}

const UNREADABLE: &str = "mail-parser could not read a message in these bytes";

/// Processes stored message `id` if it still waits; answers what became of it. A failure of
/// the message itself (unreadable, no sender, a rule refusing it) is recorded as `failed` with
/// the reason; a failure of the database is returned, and the job will try again.
pub async fn process(
    db: &Db,
    config: &Config,
    id: i64,
    now: Timestamp,
) -> Result<Receipt, MailError> {
    apply_stored(db, config, id, None, now).await
}

/// [`process`], given the parse of the stored bytes when the caller already has it (intake
/// parsed the message to find its Message-ID): no second read of the blob, no second parse.
async fn apply_stored(
    db: &Db,
    config: &Config,
    id: i64,
    parsed: Option<Option<Inbound>>,
    now: Timestamp,
) -> Result<Receipt, MailError> {
    let mut tx = db.begin().await?;
    let row = store::get_for_update(&mut tx, id)
        .await?
        .ok_or(MailError::NotFound(id))?;
    if row.state != "received" {
        tx.commit().await?;
        return Ok(Receipt {
            ticket_id: row.ticket_id,
            created: row.created_ticket,
            state: row.state,
            duplicate: false,
        });
    }
    let parsed = match parsed {
        Some(p) => p,
        None => parse::parse(
            &tickets::attachments::blob(&mut tx, &row.sha256)
                .await?
                .ok_or(StoreError::NotFound)?,
        ),
    };
    let to = Delivery {
        queue: row.queue.clone(),
        action: Action::parse(&row.action).unwrap_or(Action::Correspond),
        via: Via::parse(&row.via).unwrap_or(Via::Api),
    };
    tx.savepoint(RULES).await?;
    let outcome = match parsed {
        None => Outcome::Failed(UNREADABLE.into()),
        Some(m) => apply(&mut tx, config, &m, &to, now).await?,
    };
    let receipt = finish(&mut tx, id, outcome, now).await?;
    tx.commit().await?;
    Ok(receipt)
}

/// Processes every message stored but not processed: after a crash between storing and
/// processing, at start-up, before the backstop jobs come due. Answers how many it finished.
pub async fn recover(db: &Db, config: &Config, now: Timestamp) -> Result<usize, MailError> {
    let mut done = 0;
    loop {
        let ids = store::waiting(db, 200).await?;
        if ids.is_empty() {
            return Ok(done);
        }
        let before = done;
        for id in ids {
            let r = process(db, config, id, now).await?;
            if r.state != "received" {
                done += 1;
            }
        }
        if done == before {
            return Ok(done);
        }
    }
}

/// Puts a failed or ignored message back in line and processes it now (the admin's Retry).
pub async fn retry(
    db: &Db,
    config: &Config,
    id: i64,
    now: Timestamp,
) -> Result<Receipt, MailError> {
    let mut tx = db.begin().await?;
    let found = store::requeue(&mut tx, id).await?;
    tx.commit().await?;
    if !found && store::get(db, id).await?.is_none() {
        return Err(MailError::NotFound(id));
    }
    process(db, config, id, now).await
}

/// Runs [`process`] for the backstop job.
pub struct MailHandler {
    pub config: std::sync::Arc<Config>,
}

impl JobHandler for MailHandler {
    fn kind(&self) -> &'static str {
        PROCESS
    }

    fn run<'a>(&'a self, ctx: &'a JobCtx, job: &'a JobRow) -> JobFuture<'a> {
        Box::pin(async move {
            let p: Payload = serde_json::from_str(&job.payload)
                .map_err(|e| JobFailure::Permanent(format!("bad payload: {e}")))?;
            match process(&ctx.db, &self.config, p.id, ctx.clock.now()).await {
                Ok(_) => Ok(()),
                Err(MailError::NotFound(_)) => Ok(()),
                Err(e) => Err(JobFailure::Retry(e.to_string())),
            }
        })
    }
}

//! The one intake pipeline. Step 1 ([`receive`]) commits the raw message and a job that will
//! process it; only then is the sender told "stored". Step 2 ([`process`]) turns it into a
//! ticket change in one transaction with its new state; it runs right away in the request, and
//! the job runs it again later if the request died half-way (a crash, a database outage). A
//! message already processed is left alone, so the two never apply it twice.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::parse::{self, Inbound};
use super::{Action, Delivery, MailError, Receipt, guard, store, thread};
use crate::config::Config;
use crate::db::{Db, StoreError, Tx};
use crate::jobs::{JobCtx, JobFailure, JobFuture, JobHandler, JobRow, NewJob, enqueue};
use crate::tickets::{self, Ctx, NewTicket, Reply, ReplyKind, Source, TicketError};

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
    raw: &[u8],
    to: &Delivery,
    now: Timestamp,
) -> Result<Receipt, MailError> {
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
    let parsed = parse::parse(raw);
    let message_id = parsed
        .as_ref()
        .map(|p| p.message_id.clone())
        .unwrap_or_else(|| parse::synthetic_id(raw));
    let mut tx = db.begin().await?;
    let sha = tickets::attachments::put_blob(&mut tx, raw).await?;
    let new = store::NewMessage {
        message_id: &message_id,
        sha256: &sha,
        size: i64::try_from(raw.len()).unwrap_or(i64::MAX),
        via: to.via.as_str(),
        queue: &to.queue,
        action: to.action.as_str(),
        sender: parsed
            .as_ref()
            .and_then(|p| p.from.as_ref())
            .map(|f| f.address.as_str()),
        subject: parsed.as_ref().map(|p| p.subject.as_str()),
    };
    let Some(id) = store::insert(&mut tx, &new, now).await? else {
        // The same Message-ID again: answer what the first delivery became, finishing it
        // first if it was stored but never processed (the MTA retries after a lost answer).
        let first = store::by_message_id(&mut tx, &message_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        tx.commit().await?;
        let done = if first.state == "received" {
            process(db, config, first.id, now).await?
        } else {
            Receipt {
                ticket_id: first.ticket_id,
                created: false,
                state: first.state,
                duplicate: true,
            }
        };
        return Ok(Receipt {
            duplicate: true,
            created: false,
            ..done
        });
    };
    let job = NewJob {
        run_at: now.saturating_add(BACKSTOP).unwrap_or(now),
        ..NewJob::now(PROCESS, Payload { id }, now)
    }
    .dedup(format!("message-{id}"));
    enqueue(&mut tx, &job, config.jobs.max_attempts, now).await?;
    tx.commit().await?;
    tracing::info!(mail_id = id, message_id = %message_id, queue = %to.queue, "mail stored");
    process(db, config, id, now).await
}

/// Processes stored message `id` if it still waits; answers what became of it. A failure of
/// the message itself (unreadable, no sender, a rule refusing it) is recorded as `failed` with
/// the reason; a failure of the database is returned, and the job will try again.
pub async fn process(
    db: &Db,
    config: &Config,
    id: i64,
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
    let raw = tickets::attachments::blob(&mut tx, &row.sha256)
        .await?
        .ok_or(StoreError::NotFound)?;
    let to = Delivery {
        queue: row.queue.clone(),
        action: Action::parse(&row.action).unwrap_or(Action::Correspond),
        via: super::Via::Api,
    };
    let outcome = match parse::parse(&raw) {
        None => Outcome::Failed("mail-parser could not read a message in these bytes".into()),
        Some(m) => apply(&mut tx, config, &m, &to, now).await?,
    };
    let (state, reason, ticket) = match outcome {
        Outcome::Ticket { id: t, created } => {
            store::finish(&mut tx, id, "processed", None, Some((t, created)), now).await?;
            tx.commit().await?;
            return Ok(Receipt {
                ticket_id: Some(t),
                created,
                state: "processed".into(),
                duplicate: false,
            });
        }
        Outcome::Ignored(r) => ("ignored", r, None),
        Outcome::Failed(r) => ("failed", r, None),
    };
    // Nothing of a half-applied message stays: roll its changes back, then flag it.
    drop(tx);
    let mut tx = db.begin().await?;
    store::finish(&mut tx, id, state, Some(&reason), ticket, now).await?;
    tx.commit().await?;
    tracing::warn!(mail_id = id, state, reason = %reason, "mail not applied to a ticket");
    Ok(Receipt {
        ticket_id: None,
        created: false,
        state: state.into(),
        duplicate: false,
    })
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

enum Outcome {
    Ticket { id: i64, created: bool },
    Ignored(String),
    Failed(String),
}

/// A ticket rule refusing the message flags it; a database failure is passed up to retry.
fn refused(e: TicketError) -> Result<Outcome, StoreError> {
    match e {
        TicketError::Store(s) => Err(s),
        e => Ok(Outcome::Failed(e.to_string())),
    }
}

/// The rules of CONTRACT §6 on one parsed message, inside the caller's transaction.
async fn apply(
    tx: &mut Tx,
    config: &Config,
    m: &Inbound,
    to: &Delivery,
    now: Timestamp,
) -> Result<Outcome, StoreError> {
    let Some(from) = m.from.as_ref() else {
        return Ok(Outcome::Failed(
            "the message has no sender (From) to make a requestor of".into(),
        ));
    };
    if guard::is_own(&from.address, config) || m.loop_guard {
        return Ok(Outcome::Ignored(format!(
            "mail from our own address {} (a loop)",
            from.address
        )));
    }
    let tag = &config.mail.subject_tag;
    if let Some(dsn) = &m.dsn {
        return bounce(tx, config, m, dsn, now).await;
    }

    let staff = crate::auth::staff_by_email(tx, &from.address).await?;
    let actor = staff
        .as_ref()
        .map(|u| u.username.as_str().to_owned())
        .unwrap_or_else(|| from.address.clone());
    let ctx = Ctx {
        config,
        actor: &actor,
        now,
    };

    let mut answered: Vec<String> = m.in_reply_to.clone();
    answered.extend(m.references.iter().rev().cloned());
    let named = match thread::tagged_ticket(&m.subject, tag) {
        Some(id) => Some(id),
        None => store::ticket_of(tx, &answered).await?,
    };
    let existing = match named {
        Some(id) => match tickets::load(tx, id).await {
            Ok(t) => Some(t),
            Err(TicketError::NotFound(_)) => None,
            Err(e) => return refused(e),
        },
        None => None,
    };

    if let Some(t) = existing {
        if related(tx, &t, &from.address, staff.is_some()).await? {
            let kind = match to.action {
                Action::Correspond => ReplyKind::Correspond,
                Action::Comment => ReplyKind::Comment,
            };
            let body = body_or_note(m);
            let reply = Reply {
                kind,
                body,
                body_format: "text",
                from_requestor: staff.is_none(),
                time_taken: 0,
            };
            let (id, txn) = match tickets::reply(tx, ctx, t.id, reply).await {
                Ok(r) => r,
                Err(e) => return refused(e),
            };
            if let Err(e) = attach(tx, config, id, txn, m, now).await {
                return refused(e);
            }
            if staff.is_none() && to.action == Action::Correspond {
                add_cc(tx, ctx, config, id, m, &t.requestors, &t.cc).await?;
            }
            store::remember(tx, &m.message_id, id, false, now).await?;
            return Ok(Outcome::Ticket { id, created: false });
        }
        // A stranger naming someone else's ticket: a new ticket of their own, linked.
        return open(tx, ctx, config, m, to, Some(t.id), now).await;
    }
    open(tx, ctx, config, m, to, None, now).await
}

/// Whether the sender may add to ticket `t`: its requestors and Cc, staff, or someone of the
/// ticket's customer (their mail domain).
async fn related(
    tx: &mut Tx,
    t: &tickets::Ticket,
    sender: &str,
    is_staff: bool,
) -> Result<bool, StoreError> {
    if is_staff
        || t.requestors
            .iter()
            .chain(&t.cc)
            .chain(&t.admincc)
            .any(|w| w.eq_ignore_ascii_case(sender))
    {
        return Ok(true);
    }
    let Some(code) = &t.customer else {
        return Ok(false);
    };
    let Some((their, _)) = crate::customers::by_email_domain(tx, sender).await? else {
        return Ok(false);
    };
    Ok(crate::customers::id_by_code(tx, code).await? == Some(their))
}

async fn open(
    tx: &mut Tx,
    ctx: Ctx<'_>,
    config: &Config,
    m: &Inbound,
    to: &Delivery,
    refers_to: Option<i64>,
    now: Timestamp,
) -> Result<Outcome, StoreError> {
    let Some(from) = m.from.as_ref() else {
        return Ok(Outcome::Failed("no sender".into()));
    };
    let subject = match thread::strip_tag(&m.subject, &config.mail.subject_tag) {
        s if s.trim().is_empty() => "(no subject)".to_owned(),
        s => s,
    };
    let new = NewTicket {
        queue: to.queue.clone(),
        subject,
        body: body_or_note(m),
        body_format: "text",
        requestors: vec![from.address.clone()],
        priority: None,
        customer: None,
        source: Source::Email,
        host: None,
        runbook: None,
    };
    let (id, txn) = match tickets::create(tx, ctx, new).await {
        Ok(r) => r,
        Err(e) => return refused(e),
    };
    if let Err(e) = attach(tx, config, id, txn, m, now).await {
        return refused(e);
    }
    add_cc(
        tx,
        ctx,
        config,
        id,
        m,
        std::slice::from_ref(&from.address),
        &[],
    )
    .await?;
    if let Some(other) = refers_to
        && let Err(e) = tickets::link(tx, ctx, id, "RefersTo", other).await
    {
        return refused(e);
    }
    store::remember(tx, &m.message_id, id, false, now).await?;
    match guard::automatic(m) {
        None => {
            let t = match tickets::load(tx, id).await {
                Ok(t) => t,
                Err(e) => return refused(e),
            };
            super::outbox::notify(tx, config, &t, super::outbox::Event::Opened, now).await?;
        }
        Some(why) => tracing::info!(ticket_id = id, why, "no auto-reply"),
    }
    Ok(Outcome::Ticket { id, created: true })
}

/// A bounce goes on the ticket of the message it returns, and nowhere else.
async fn bounce(
    tx: &mut Tx,
    config: &Config,
    m: &Inbound,
    dsn: &parse::Dsn,
    now: Timestamp,
) -> Result<Outcome, StoreError> {
    let mut ticket = match &dsn.original_message_id {
        Some(id) => store::ticket_of(tx, std::slice::from_ref(id)).await?,
        None => None,
    };
    if ticket.is_none() {
        ticket = dsn
            .original_subject
            .as_deref()
            .and_then(|s| thread::tagged_ticket(s, &config.mail.subject_tag))
            .or_else(|| thread::tagged_ticket(&m.subject, &config.mail.subject_tag));
    }
    let Some(t) = ticket else {
        return Ok(Outcome::Ignored(
            "a bounce of a message that is not about any ticket we know".into(),
        ));
    };
    let ctx = Ctx {
        config,
        actor: "MAILER-DAEMON",
        now,
    };
    let summary = format!("Delivery failed.\n{}", dsn.summary);
    match tickets::record_bounce(tx, ctx, t, &summary).await {
        Ok((id, _)) => {
            store::remember(tx, &m.message_id, id, false, now).await?;
            Ok(Outcome::Ticket { id, created: false })
        }
        Err(TicketError::NotFound(_)) => Ok(Outcome::Ignored(format!(
            "a bounce about ticket #{t}, which does not exist"
        ))),
        Err(e) => refused(e),
    }
}

fn body_or_note(m: &Inbound) -> String {
    if m.body.trim().is_empty() {
        if m.parts.is_empty() {
            "(the message has no text)".into()
        } else {
            format!(
                "(the message has no text; {} file(s) attached)",
                m.parts.len()
            )
        }
    } else {
        m.body.clone()
    }
}

async fn attach(
    tx: &mut Tx,
    config: &Config,
    ticket: i64,
    txn: i64,
    m: &Inbound,
    now: Timestamp,
) -> Result<(), TicketError> {
    if m.parts.is_empty() {
        return Ok(());
    }
    let uploads: Vec<tickets::attachments::Upload> = m
        .parts
        .iter()
        .map(|p| tickets::attachments::Upload {
            filename: p.filename.clone(),
            content_type: p.content_type.clone(),
            data: p.data.clone(),
        })
        .collect();
    let max = usize::try_from(config.mail.max_message_bytes).unwrap_or(usize::MAX);
    tickets::attachments::attach(tx, ticket, txn, &uploads, max, now).await?;
    Ok(())
}

/// Cc recipients become Cc watchers: not our own addresses, not someone already watching.
async fn add_cc(
    tx: &mut Tx,
    ctx: Ctx<'_>,
    config: &Config,
    ticket: i64,
    m: &Inbound,
    requestors: &[String],
    cc: &[String],
) -> Result<(), StoreError> {
    let mut new: Vec<String> =
        m.cc.iter()
            .map(|c| c.address.clone())
            .filter(|a| !guard::is_own(a, config))
            .filter(|a| {
                !requestors
                    .iter()
                    .chain(cc)
                    .any(|w| w.eq_ignore_ascii_case(a))
            })
            .collect();
    new.sort();
    new.dedup();
    if new.is_empty() {
        return Ok(());
    }
    let mut patch = tickets::Patch::default();
    patch.add_watchers.insert("cc".into(), new);
    match tickets::update(tx, ctx, ticket, patch).await {
        Ok(_) => Ok(()),
        Err(TicketError::Store(e)) => Err(e),
        // A malformed Cc address is not worth losing the message over.
        Err(e) => {
            tracing::warn!(ticket_id = ticket, error = %e, "Cc watchers not added");
            Ok(())
        }
    }
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

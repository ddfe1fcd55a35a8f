//! Mail out (CONTRACT §6): who is told what about a ticket change, composed inside the
//! change's own transaction and put in the outbox (a `mail.send` job), so the change and its
//! mail commit together and an SMTP outage only delays it.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::{guard, store, templates, thread};
use crate::config::Config;
use crate::db::{StoreError, Tx};
use crate::jobs::{NewJob, enqueue_many};
use crate::tickets::Ticket;

/// The job kind that hands one message to the relay.
pub const SEND: &str = "mail.send";

/// Auto-replies to one address per hour, at most (RFC 3834 §2: be conservative).
pub const AUTOREPLIES_PER_HOUR: i64 = 3;

/// A composed message, as its job carries it until the relay takes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outgoing {
    pub ticket_id: i64,
    pub kind: String,
    pub from: String,
    pub reply_to: String,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub subject: String,
    pub body: String,
    /// Without angle brackets.
    pub message_id: String,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    /// `Thread-Index` for Outlook: the same root for every message of a ticket.
    pub thread_index: String,
    pub thread_topic: String,
    /// `Auto-Submitted: auto-replied` (auto-replies) or `auto-generated` (notices).
    pub auto_submitted: Option<String>,
}

/// What happened to a ticket that people hear about by mail.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// A ticket opened by a message a person wrote (the caller checked RFC 3834).
    Opened,
    Correspond {
        txn: i64,
        body: &'a str,
        actor: &'a str,
    },
    Comment {
        txn: i64,
        body: &'a str,
        actor: &'a str,
    },
    Resolved {
        txn: i64,
    },
    /// An SLA escalation step (`tickets::sla`): to whom the step names, never to requestors
    /// unless it names them.
    Escalation {
        txn: i64,
        body: &'a str,
        to: &'a [String],
    },
}

/// Composes the mail `event` causes on `t` and puts it in the outbox, in the caller's
/// transaction. Nobody to tell, or only ourselves, means no mail.
pub async fn notify(
    tx: &mut Tx,
    config: &Config,
    t: &Ticket,
    event: Event<'_>,
    now: Timestamp,
) -> Result<(), StoreError> {
    notify_with(tx, config, t, event, now, None).await
}

/// The template and footer texts of mail `kind`, as `notify` would read them: for callers
/// that send many of one kind at once (the escalation pass) and read them once.
pub async fn texts(tx: &mut Tx, kind: &str) -> Result<Option<[String; 2]>, StoreError> {
    match templates::kind(kind) {
        Some(k) => templates::with_footer(tx, &k).await.map(Some),
        None => Ok(None),
    }
}

/// `notify` with the texts already read (`texts`), when given.
pub async fn notify_with(
    tx: &mut Tx,
    config: &Config,
    t: &Ticket,
    event: Event<'_>,
    now: Timestamp,
    texts_read: Option<&[String; 2]>,
) -> Result<(), StoreError> {
    match compose(tx, config, t, event, now, texts_read, None).await? {
        Some(p) => write_all(tx, config, &[p], now).await,
        None => Ok(()),
    }
}

/// A composed message not yet in the outbox: `write_all` puts many in at once.
#[derive(Debug, Clone)]
pub struct Pending {
    out: Outgoing,
    recipients: String,
}

/// Puts composed messages in the outbox (their rows, their thread entries, their send jobs),
/// a few statements for any number of them.
pub async fn write_all(
    tx: &mut Tx,
    config: &Config,
    pending: &[Pending],
    now: Timestamp,
) -> Result<(), StoreError> {
    let rows: Vec<(String, i64, String, String)> = pending
        .iter()
        .map(|p| {
            (
                p.out.message_id.clone(),
                p.out.ticket_id,
                p.out.kind.clone(),
                p.recipients.clone(),
            )
        })
        .collect();
    store::outbound_many(tx, &rows, now).await?;
    let jobs: Vec<NewJob> = pending
        .iter()
        .map(|p| NewJob::now(SEND, &p.out, now).dedup(p.out.message_id.clone()))
        .collect();
    enqueue_many(tx, &jobs, config.jobs.max_attempts, now).await
}

/// The message `event` causes on `t`, composed (reading what it needs, unless the caller
/// read the texts or the thread's ends for many tickets at once) but not yet written; `None`
/// when nobody is to be told.
pub async fn compose(
    tx: &mut Tx,
    config: &Config,
    t: &Ticket,
    event: Event<'_>,
    now: Timestamp,
    texts_read: Option<&[String; 2]>,
    thread_read: Option<Vec<String>>,
) -> Result<Option<Pending>, StoreError> {
    let tag = thread::tag_for(&config.mail.subject_tag, t.id);
    let url = format!(
        "{}/tickets/{}",
        config.base_url.as_str().trim_end_matches('/'),
        t.id
    );
    let people = |list: &[String], actor: &str| -> Vec<String> {
        let mut v: Vec<String> = list
            .iter()
            .filter(|a| !guard::is_own(a, config) && !a.eq_ignore_ascii_case(actor))
            .cloned()
            .collect();
        v.sort();
        v.dedup();
        v
    };
    let (kind, to, cc, text, actor, seq, auto) = match event {
        Event::Opened => {
            let to = people(&t.requestors, "");
            let Some(first) = to.first().cloned() else {
                return Ok(None);
            };
            let since = now
                .checked_sub(SignedDuration::from_hours(1))
                .unwrap_or(now);
            if store::autoreplies_since(tx, &first, since).await? >= AUTOREPLIES_PER_HOUR {
                tracing::info!(ticket_id = t.id, to = %first, "auto-reply held back: flood guard");
                return Ok(None);
            }
            (
                "autoreply",
                vec![first],
                Vec::new(),
                "",
                "",
                0,
                Some("auto-replied"),
            )
        }
        Event::Correspond { txn, body, actor } => {
            let to = people(&t.requestors, actor);
            let cc = people(&t.cc, actor);
            ("correspond", to, cc, body, actor, txn, None)
        }
        Event::Comment { txn, body, actor } => {
            let to = people(&t.admincc, actor);
            ("comment", to, Vec::new(), body, actor, txn, None)
        }
        Event::Resolved { txn } => {
            let to = people(&t.requestors, "");
            (
                "resolved",
                to,
                Vec::new(),
                "",
                "",
                txn,
                Some("auto-generated"),
            )
        }
        Event::Escalation { txn, body, to } => (
            "escalation",
            people(to, ""),
            Vec::new(),
            body,
            "",
            txn,
            Some("auto-generated"),
        ),
    };
    if to.is_empty() && cc.is_empty() {
        return Ok(None);
    }
    let (to, cc) = if kind == "comment" || kind == "escalation" {
        (to, cc)
    } else {
        let redirect = store::reply_to_of(tx, t.id).await?;
        (answer_at(to, &redirect), answer_at(cc, &redirect))
    };
    let id = t.id.to_string();
    let vars = [
        ("ticket_id", id.as_str()),
        ("subject", t.subject.as_str()),
        ("queue", t.queue.as_str()),
        ("body", text),
        ("actor", actor),
        ("url", url.as_str()),
        ("tag", tag.as_str()),
    ];
    let mut body = String::new();
    let read = match texts_read {
        Some(t) => Some(t.clone()),
        None => texts(tx, kind).await?,
    };
    for text in read.iter().flatten() {
        body.push_str(&templates::render(text, &vars));
    }
    let from = from_address(config, &t.queue);
    let domain = from
        .rsplit('@')
        .next()
        .unwrap_or("opsdesk.invalid")
        .to_owned();
    let message_id = format!("opsdesk.{}.{}.{}@{}", t.id, seq, kind, domain);
    let thread = match thread_read {
        Some(t) => t,
        None => store::thread_of(tx, t.id).await?,
    };
    let out = Outgoing {
        ticket_id: t.id,
        kind: kind.into(),
        reply_to: from.clone(),
        from,
        to: to.clone(),
        cc: cc.clone(),
        subject: format!(
            "{} {}",
            tag,
            thread::strip_tag(&t.subject, &config.mail.subject_tag)
        ),
        body,
        in_reply_to: thread.last().cloned(),
        references: thread,
        thread_index: thread_index(t),
        thread_topic: t.subject.clone(),
        auto_submitted: auto.map(str::to_owned),
        message_id: message_id.clone(),
    };
    let recipients = to.iter().chain(&cc).cloned().collect::<Vec<_>>().join(",");
    Ok(Some(Pending { out, recipients }))
}

/// `people` with each one whose mail said Reply-To replaced by that address.
fn answer_at(people: Vec<String>, redirect: &[(String, String)]) -> Vec<String> {
    let mut v: Vec<String> = people
        .into_iter()
        .map(|p| {
            redirect
                .iter()
                .find(|(a, _)| a.eq_ignore_ascii_case(&p))
                .map_or(p, |(_, r)| r.clone())
        })
        .collect();
    v.sort();
    v.dedup();
    v
}

/// The queue's correspondence address, else the global sender.
fn from_address(config: &Config, queue: &str) -> String {
    config
        .queues
        .iter()
        .find(|q| q.name == queue)
        .and_then(|q| q.correspond_address.clone())
        .unwrap_or_else(|| config.mail.from.clone())
}

/// Outlook's `Thread-Index`: 6 bytes of time and a 16-byte GUID, base64; one root per ticket
/// (from its id and creation time), so every message about it lands in one conversation.
fn thread_index(t: &Ticket) -> String {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    // FILETIME (100 ns since 1601) of the creation, its 6 most significant bytes.
    let filetime = (t.created_at.as_microsecond() + 11_644_473_600_000_000).max(0) as u64 * 10;
    let mut bytes = filetime.to_be_bytes()[..6].to_vec();
    let guid = Sha256::digest(format!("opsdesk-ticket-{}", t.id).as_bytes());
    bytes.extend_from_slice(&guid[..16]);
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

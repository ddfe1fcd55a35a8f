//! The outbox's sender: one `mail.send` job hands one composed message to the relay
//! (`mail.smtp_url`, lettre: smtp:// with STARTTLS when offered, smtps://, credentials in the
//! URL). A relay that is down or answers 4xx means "later" (the job backs off and retries); a
//! 5xx refusal is permanent and the message becomes a dead letter an admin can see and retry.
//! The Message-ID is fixed when the message is composed, so a send repeated after a lost
//! answer is recognisable downstream as the same message.

use std::sync::Arc;

use futures_util::StreamExt;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Message};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use tokio::sync::OnceCell;

use super::outbox::{Outgoing, SEND};
use super::parse::LOOP_HEADER;
use crate::config::Config;
use crate::jobs::{BatchFuture, JobCtx, JobFailure, JobFuture, JobHandler, JobRow};

pub struct SendHandler {
    pub config: Arc<Config>,
    relay: OnceCell<AsyncSmtpTransport<Tokio1Executor>>,
}

impl SendHandler {
    pub fn new(config: Arc<Config>) -> SendHandler {
        SendHandler {
            config,
            relay: OnceCell::new(),
        }
    }
}

/// Builds the wire message of `o`.
pub fn build(o: &Outgoing, loop_tag: &str) -> Result<Message, String> {
    let mbox = |a: &str| -> Result<Mailbox, String> {
        a.parse::<Mailbox>()
            .map_err(|e| format!("\"{a}\" is not an address: {e}"))
    };
    let mut b = Message::builder()
        .from(mbox(&o.from)?)
        .reply_to(mbox(&o.reply_to)?)
        .subject(o.subject.clone())
        .message_id(Some(format!("<{}>", o.message_id)));
    for t in &o.to {
        b = b.to(mbox(t)?);
    }
    for c in &o.cc {
        b = b.cc(mbox(c)?);
    }
    if let Some(r) = &o.in_reply_to {
        b = b.in_reply_to(format!("<{r}>"));
    }
    for r in &o.references {
        b = b.references(format!("<{r}>"));
    }
    let raw = |name: &'static str, value: &str| {
        HeaderValue::new(HeaderName::new_from_ascii_str(name), value.to_owned())
    };
    b = b
        .raw_header(raw(LOOP_HEADER, loop_tag))
        .raw_header(raw("Thread-Index", &o.thread_index))
        .raw_header(raw("Thread-Topic", &o.thread_topic))
        .raw_header(raw("X-Opsdesk-Ticket", &o.ticket_id.to_string()));
    if let Some(a) = &o.auto_submitted {
        b = b.raw_header(raw("Auto-Submitted", a));
    }
    b.header(ContentType::TEXT_PLAIN)
        .body(o.body.clone())
        .map_err(|e| format!("cannot build the message: {e}"))
}

/// Messages one claim takes: the claim and its bookkeeping are two write transactions, which
/// would otherwise cost more than handing a message to a local relay.
const BATCH: usize = 50;
/// Messages handed to the relay at once (lettre's pool keeps up to 10 connections).
const IN_FLIGHT: usize = 8;

impl SendHandler {
    /// The relay's transport, built on first use; `None` while `mail.smtp_url` is unset.
    async fn relay(&self) -> Result<&AsyncSmtpTransport<Tokio1Executor>, JobFailure> {
        let Some(url) = self.config.mail.smtp_url.as_deref() else {
            return Err(JobFailure::Retry(
                "mail.smtp_url is not set: the message waits in the outbox".into(),
            ));
        };
        self.relay
            .get_or_try_init(|| async {
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url).map(|b| b.build())
            })
            .await
            .map_err(|e| JobFailure::Permanent(format!("mail.smtp_url: {e}")))
    }

    /// [`SendHandler::send`], unless the relay was found down by another send of the batch.
    async fn send_unless(
        &self,
        job: &JobRow,
        down: &std::sync::Mutex<Option<String>>,
    ) -> Result<(), JobFailure> {
        let known = down.lock().ok().and_then(|d| d.clone());
        if let Some(why) = known {
            return Err(JobFailure::Retry(why));
        }
        let r = self.send(job).await;
        if let Err(JobFailure::Retry(why)) = &r
            && let Ok(mut d) = down.lock()
        {
            d.get_or_insert_with(|| why.clone());
        }
        r
    }

    async fn send(&self, job: &JobRow) -> Result<(), JobFailure> {
        let o: Outgoing = serde_json::from_str(&job.payload)
            .map_err(|e| JobFailure::Permanent(format!("bad payload: {e}")))?;
        let relay = self.relay().await?;
        let msg = build(&o, &self.config.mail.subject_tag).map_err(JobFailure::Permanent)?;
        match relay.send(msg).await {
            Ok(_) => {
                tracing::info!(ticket_id = o.ticket_id, kind = %o.kind, message_id = %o.message_id, "mail sent");
                Ok(())
            }
            Err(e) if e.is_permanent() => {
                Err(JobFailure::Permanent(format!("the relay refused it: {e}")))
            }
            Err(e) => Err(JobFailure::Retry(format!("the relay is unavailable: {e}"))),
        }
    }
}

impl JobHandler for SendHandler {
    fn kind(&self) -> &'static str {
        SEND
    }

    fn run<'a>(&'a self, _ctx: &'a JobCtx, job: &'a JobRow) -> JobFuture<'a> {
        Box::pin(self.send(job))
    }

    fn batch(&self) -> usize {
        BATCH
    }

    /// Sends up to [`IN_FLIGHT`] at once over the relay's pooled connections: each message is
    /// a handful of round trips, and a relay answers many sessions at once. Once the relay is
    /// unavailable the rest of the batch waits too, instead of each timing out in turn.
    fn run_batch<'a>(&'a self, _ctx: &'a JobCtx, jobs: &'a [JobRow]) -> BatchFuture<'a> {
        Box::pin(async move {
            let down: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);
            let sends: Vec<_> = jobs
                .iter()
                .map(|job| self.send_unless(job, &down))
                .collect();
            futures_util::stream::iter(sends)
                .buffered(IN_FLIGHT)
                .collect()
                .await
        })
    }
}

//! The rules of CONTRACT §6 applied to one parsed message inside the caller's transaction:
//! which ticket it belongs to, whether its sender may add to it, what it changes, and the
//! auto-reply it earns. Intake (intake.rs) decides when; this decides what.

use jiff::Timestamp;

use super::parse::{self, Inbound};
use super::{Action, Delivery, guard, store, thread};
use crate::config::Config;
use crate::customers::CustomerRef;
use crate::db::{StoreError, Tx};
use crate::tickets::{self, Ctx, NewTicket, Reply, ReplyKind, Source, TicketCustomer, TicketError};

pub(super) enum Outcome {
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
pub(super) async fn apply(
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

    let sender = crate::auth::mail_sender(
        tx,
        &from.address,
        from.name.as_deref(),
        guard::automatic(m).is_none(),
        now,
    )
    .await?;
    let staff = sender.staff;
    let customer = sender.customer;
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
        if related(
            &t,
            &from.address,
            staff.is_some(),
            customer.as_ref().map(|c| c.code.as_str()),
        ) {
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
                note_reply_to(tx, config, id, m).await?;
            }
            store::remember(tx, &m.message_id, id, false, now).await?;
            return Ok(Outcome::Ticket { id, created: false });
        }
        // A stranger naming someone else's ticket: a new ticket of their own, linked.
        let opening = Opening {
            customer,
            refers_to: Some(t.id),
        };
        return open(tx, ctx, config, m, to, opening, now).await;
    }
    let opening = Opening {
        customer,
        refers_to: None,
    };
    open(tx, ctx, config, m, to, opening, now).await
}

/// Whether the sender may add to ticket `t`: its requestors and Cc, staff, or someone of the
/// ticket's customer (a contact of it, or an address at its mail domain).
fn related(t: &tickets::Ticket, sender: &str, is_staff: bool, customer: Option<&str>) -> bool {
    is_staff
        || t.requestors
            .iter()
            .chain(&t.cc)
            .chain(&t.admincc)
            .any(|w| w.eq_ignore_ascii_case(sender))
        || (customer.is_some() && t.customer.as_deref() == customer)
}

/// What a new ticket opened by mail starts with besides the message.
struct Opening {
    /// The sender's customer (their contact's, or their mail domain's).
    customer: Option<CustomerRef>,
    /// The ticket the message named but may not add to.
    refers_to: Option<i64>,
}

async fn open(
    tx: &mut Tx,
    ctx: Ctx<'_>,
    config: &Config,
    m: &Inbound,
    to: &Delivery,
    Opening {
        customer,
        refers_to,
    }: Opening,
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
        customer: TicketCustomer::Known(customer),
        source: Source::Email,
        host: None,
        runbook: None,
    };
    let (t, txn) = match tickets::create(tx, ctx, new).await {
        Ok(r) => r,
        Err(e) => return refused(e),
    };
    let id = t.id;
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
    if !m.reply_to.is_empty() {
        // A new ticket has no Reply-To of the sender's to forget when this one names none.
        note_reply_to(tx, config, id, m).await?;
    }
    if let Some(other) = refers_to
        && let Err(e) = tickets::link(tx, ctx, id, "RefersTo", other).await
    {
        return refused(e);
    }
    store::remember(tx, &m.message_id, id, false, now).await?;
    match guard::automatic(m) {
        // The ticket as created: the auto-reply goes to its requestor only, so the Cc
        // watchers added since do not matter to it.
        None => super::outbox::notify(tx, config, &t, super::outbox::Event::Opened, now).await?,
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
    let max = usize::try_from(config.mail.max_message_bytes).unwrap_or(usize::MAX);
    tickets::attachments::attach(tx, ticket, txn, &m.parts, max, now).await?;
    Ok(())
}

/// Answers to the sender go where their latest message's Reply-To says (not to one of our
/// own addresses), or back to From when it says nothing.
async fn note_reply_to(
    tx: &mut Tx,
    config: &Config,
    ticket_id: i64,
    m: &Inbound,
) -> Result<(), StoreError> {
    let Some(from) = &m.from else {
        return Ok(());
    };
    let reply_to = m
        .reply_to
        .iter()
        .map(|r| r.address.as_str())
        .find(|r| !guard::is_own(r, config))
        .filter(|r| !r.eq_ignore_ascii_case(&from.address));
    store::set_reply_to(tx, ticket_id, &from.address, reply_to).await
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

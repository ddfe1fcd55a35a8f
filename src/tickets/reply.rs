//! Correspondence (public: mailed to requestors and Cc) and comments (internal: AdminCc only).

use super::change::set_status;
use super::store::history::NewTxn;
use super::store::{history, rows};
use super::{Ctx, Status, TicketError};
use crate::db::Tx;
use crate::mail::outbox::Event;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyKind {
    Correspond,
    Comment,
}

#[derive(Debug, Clone)]
pub struct Reply {
    pub kind: ReplyKind,
    pub body: String,
    /// "text" or "markdown".
    pub body_format: &'static str,
    /// Written by a requestor (mail, portal) rather than staff: it reopens stalled/resolved.
    pub from_requestor: bool,
    pub time_taken: i32,
}

/// Adds a reply; answers (ticket id, transaction id).
#[tracing::instrument(skip_all, fields(ticket_id = id))]
pub async fn reply(
    tx: &mut Tx,
    ctx: Ctx<'_>,
    id: i64,
    r: Reply,
) -> Result<(i64, i64), TicketError> {
    let body = r.body.trim_end();
    if body.trim().is_empty() {
        return Err(TicketError::Invalid {
            field: "body",
            message: "must not be empty".into(),
        });
    }
    if !(0..=24 * 60).contains(&r.time_taken) {
        return Err(TicketError::Invalid {
            field: "time_taken",
            message: "must be 0 to 1440 minutes".into(),
        });
    }
    let id = rows::lock(tx, id).await?.ok_or(TicketError::NotFound(id))?;
    let cur = rows::get(tx, id).await?.ok_or(TicketError::NotFound(id))?;
    let kind = match r.kind {
        ReplyKind::Correspond => "correspond",
        ReplyKind::Comment => "comment",
    };
    // Who wrote correspondence decides whether it answers the SLA's first response.
    let author = match (r.kind, r.from_requestor) {
        (ReplyKind::Correspond, true) => Some("requestor"),
        (ReplyKind::Correspond, false) => Some("staff"),
        (ReplyKind::Comment, _) => None,
    };
    let txn = NewTxn {
        kind,
        actor: ctx.actor,
        field: author,
        body: Some(body),
        body_format: Some(r.body_format),
        time_taken: r.time_taken,
        ..NewTxn::default()
    };
    let txn_id = history::insert(tx, id, &txn, ctx.now).await?;
    if r.time_taken > 0 {
        rows::add_time(tx, id, r.time_taken, ctx.now).await?;
    } else {
        rows::touch(tx, id, ctx.now).await?;
    }
    let status: Status = cur.status.parse().map_err(|m| TicketError::Invalid {
        field: "status",
        message: m,
    })?;
    let next = match (r.kind, r.from_requestor) {
        (ReplyKind::Correspond, true) => status.after_requestor_reply(),
        (ReplyKind::Correspond, false) => status.after_staff_correspondence(),
        (ReplyKind::Comment, _) => status,
    };
    if next != status {
        set_status(tx, ctx, id, status, next).await?;
    }
    if next != status || author == Some("staff") {
        super::sla::refresh(tx, ctx.config, id, ctx.now).await?;
    }
    let t = super::load(tx, id).await?;
    let event = match r.kind {
        ReplyKind::Correspond => Event::Correspond {
            txn: txn_id,
            body,
            actor: ctx.actor,
        },
        ReplyKind::Comment => Event::Comment {
            txn: txn_id,
            body,
            actor: ctx.actor,
        },
    };
    crate::mail::outbox::notify(tx, ctx.config, &t, event, ctx.now).await?;
    Ok((id, txn_id))
}

/// Records a delivery failure (a bounce of mail we sent about ticket `id`) in its history.
/// Internal like a comment, and never mailed to anyone: answering a bounce is how mail loops
/// start.
pub async fn record_bounce(
    tx: &mut Tx,
    ctx: Ctx<'_>,
    id: i64,
    summary: &str,
) -> Result<(i64, i64), TicketError> {
    let id = rows::lock(tx, id).await?.ok_or(TicketError::NotFound(id))?;
    let body = if summary.trim().is_empty() {
        "A message about this ticket could not be delivered."
    } else {
        summary.trim()
    };
    let txn = NewTxn {
        kind: "bounce",
        actor: ctx.actor,
        body: Some(body),
        body_format: Some("text"),
        ..NewTxn::default()
    };
    let txn_id = history::insert(tx, id, &txn, ctx.now).await?;
    rows::touch(tx, id, ctx.now).await?;
    Ok((id, txn_id))
}

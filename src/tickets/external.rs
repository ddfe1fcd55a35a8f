//! What other features need of a ticket without loading all of it: monitoring alerts ask
//! whether a person is on a ticket before they resolve it, and write their state changes
//! into its history.

use super::store::history::{self, NewTxn};
use super::store::rows;
use super::{Ctx, Status, TicketError};
use crate::db::Tx;

/// A ticket's state in brief.
#[derive(Debug, Clone)]
pub struct Brief {
    /// The ticket itself, or the one it was merged into.
    pub id: i64,
    pub status: Status,
    pub priority: i64,
    pub owner: Option<String>,
}

/// The brief of ticket `id` (following a merge); None when it does not exist.
pub async fn brief(tx: &mut Tx, id: i64) -> Result<Option<Brief>, TicketError> {
    let Some(id) = rows::lock(tx, id).await? else {
        return Ok(None);
    };
    let Some(r) = rows::get(tx, id).await? else {
        return Ok(None);
    };
    let status = r
        .status
        .parse::<Status>()
        .map_err(|message| TicketError::Invalid {
            field: "status",
            message,
        })?;
    Ok(Some(Brief {
        id,
        status,
        priority: i64::from(r.priority),
        owner: r.owner,
    }))
}

/// Whether a person has taken ticket `id` or written to its requestors: then monitoring no
/// longer resolves it on its own.
pub async fn person_involved(tx: &mut Tx, b: &Brief) -> Result<bool, TicketError> {
    Ok(b.owner.is_some() || history::answered_by_staff(tx, b.id).await?)
}

/// An entry of kind `alert` in ticket `id`'s history: a monitoring state change, internal
/// like a comment and never mailed.
pub async fn record_alert(
    tx: &mut Tx,
    ctx: Ctx<'_>,
    id: i64,
    field: &str,
    change: (Option<&str>, Option<&str>),
    body: Option<&str>,
) -> Result<(), TicketError> {
    let txn = NewTxn {
        kind: "alert",
        actor: ctx.actor,
        field: Some(field),
        old_value: change.0,
        new_value: change.1,
        body,
        body_format: body.map(|_| "text"),
        ..NewTxn::default()
    };
    history::insert(tx, id, &txn, ctx.now).await?;
    rows::touch(tx, id, ctx.now).await?;
    Ok(())
}

//! Links between tickets (RT's DependsOn, RefersTo, MemberOf and their reverses) and merging.

use super::store::history::NewTxn;
use super::store::{history, links, rows, watchers};
use super::{Ctx, LinkKind, TicketError};
use crate::db::Tx;

async fn live(tx: &mut Tx, id: i64) -> Result<i64, TicketError> {
    rows::lock(tx, id).await?.ok_or(TicketError::NotFound(id))
}

/// Stored direction of a link named from `id`'s side.
async fn resolve(
    tx: &mut Tx,
    id: i64,
    kind: &str,
    other: i64,
) -> Result<(i64, i64, LinkKind), TicketError> {
    let (kind, reverse) = LinkKind::parse(kind).ok_or_else(|| TicketError::Invalid {
        field: "type",
        message: format!(
            "\"{kind}\" is not DependsOn, DependedOnBy, RefersTo, ReferredToBy, MemberOf or Members"
        ),
    })?;
    let (a, b) = (live(tx, id).await?, live(tx, other).await?);
    if a == b {
        return Err(TicketError::LinkToSelf);
    }
    Ok(if reverse { (b, a, kind) } else { (a, b, kind) })
}

fn txn<'a>(kind: &'a str, actor: &'a str, field: &'a str, value: &'a str) -> NewTxn<'a> {
    NewTxn {
        kind,
        actor,
        field: Some(field),
        new_value: Some(value),
        ..NewTxn::default()
    }
}

/// Adds a link named from `id`'s side (`DependsOn`, `Members`, …); recorded on both tickets.
pub async fn link(
    tx: &mut Tx,
    ctx: Ctx<'_>,
    id: i64,
    kind: &str,
    other: i64,
) -> Result<(), TicketError> {
    change(tx, ctx, id, kind, other, true).await
}

/// Removes a link named from either side; recorded on both tickets.
pub async fn unlink(
    tx: &mut Tx,
    ctx: Ctx<'_>,
    id: i64,
    kind: &str,
    other: i64,
) -> Result<(), TicketError> {
    change(tx, ctx, id, kind, other, false).await
}

async fn change(
    tx: &mut Tx,
    ctx: Ctx<'_>,
    id: i64,
    kind: &str,
    other: i64,
    add: bool,
) -> Result<(), TicketError> {
    let (base, target, k) = resolve(tx, id, kind, other).await?;
    let changed = if add {
        links::add(tx, base, target, k.as_str(), ctx.now).await?
    } else {
        links::remove(tx, base, target, k.as_str()).await?
    };
    if changed {
        let what = if add { "link_add" } else { "link_del" };
        let (t, b) = (target.to_string(), base.to_string());
        history::insert(tx, base, &txn(what, ctx.actor, k.as_str(), &t), ctx.now).await?;
        history::insert(
            tx,
            target,
            &txn(what, ctx.actor, k.reverse_name(), &b),
            ctx.now,
        )
        .await?;
        rows::touch(tx, base, ctx.now).await?;
        rows::touch(tx, target, ctx.now).await?;
    }
    Ok(())
}

/// Merges `from` into `into` as RT does: history, watchers, attachments and links move to the
/// survivor, and `from` answers with the survivor from now on. Answers the survivor's id.
#[tracing::instrument(skip_all, fields(from, into))]
pub async fn merge(tx: &mut Tx, ctx: Ctx<'_>, from: i64, into: i64) -> Result<i64, TicketError> {
    // Lock in id order so two crossing merges cannot deadlock.
    let (first, second) = if from < into {
        (from, into)
    } else {
        (into, from)
    };
    let a = live(tx, first).await?;
    let b = live(tx, second).await?;
    let (from, into) = if first == from { (a, b) } else { (b, a) };
    if from == into {
        return Err(TicketError::MergeIntoSelf);
    }
    history::move_all(tx, from, into).await?;
    watchers::move_all(tx, from, into).await?;
    links::move_all(tx, from, into).await?;
    rows::mark_merged(tx, from, into, ctx.now).await?;
    let f = from.to_string();
    let t = NewTxn {
        kind: "merge",
        actor: ctx.actor,
        field: Some("merged"),
        new_value: Some(&f),
        ..NewTxn::default()
    };
    history::insert(tx, into, &t, ctx.now).await?;
    rows::touch(tx, into, ctx.now).await?;
    // The merged ticket's clocks stop with its history gone; the survivor's run on its own.
    super::sla::refresh(tx, ctx.config, from, ctx.now).await?;
    super::sla::refresh(tx, ctx.config, into, ctx.now).await?;
    tracing::info!(from, into, "tickets merged");
    Ok(into)
}

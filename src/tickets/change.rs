//! Changing a ticket's fields (CONTRACT §3 PATCH): one history entry per field that changes.

use serde::Deserialize;

use super::store::history::NewTxn;
use super::store::{history, links, rows, watchers};
use super::{
    Ctx, Priority, Status, TicketError, WatcherRole, clean_email, clean_subject, queue_exists,
};
use crate::auth::Role;
use crate::db::Tx;

/// What to change; absent fields stay. `owner`/`customer` set to null clear them.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Patch {
    pub status: Option<String>,
    #[serde(default, deserialize_with = "some_or_null")]
    pub owner: Option<Option<String>>,
    /// 1 (most urgent) to 4.
    #[schema(minimum = 1, maximum = 4)]
    pub priority: Option<i64>,
    pub queue: Option<String>,
    pub subject: Option<String>,
    #[serde(default, deserialize_with = "some_or_null")]
    pub customer: Option<Option<String>>,
    /// Watchers to add: {"requestor": [..], "cc": [..], "admincc": [..]}.
    #[serde(default)]
    pub add_watchers: std::collections::BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub remove_watchers: std::collections::BTreeMap<String, Vec<String>>,
    /// Minutes of work to add to the ticket's time worked.
    pub time_worked: Option<i32>,
}

/// Tells "field absent" (outer None) from "field: null" (Some(None)).
fn some_or_null<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

fn record<'a>(
    actor: &'a str,
    field: &'a str,
    old: Option<&'a str>,
    new: Option<&'a str>,
) -> NewTxn<'a> {
    NewTxn {
        kind: "set",
        actor,
        field: Some(field),
        old_value: old,
        new_value: new,
        ..NewTxn::default()
    }
}

/// Applies `patch` to ticket `id` (or the ticket it was merged into); answers the id changed.
#[tracing::instrument(skip_all, fields(ticket_id = id))]
pub async fn update(tx: &mut Tx, ctx: Ctx<'_>, id: i64, patch: Patch) -> Result<i64, TicketError> {
    let id = rows::lock(tx, id).await?.ok_or(TicketError::NotFound(id))?;
    let cur = rows::get(tx, id).await?.ok_or(TicketError::NotFound(id))?;
    let now = ctx.now;
    // Set when a change moves the SLA clocks or changes the policy.
    let mut clocks_moved = false;

    if let Some(s) = &patch.subject {
        let s = clean_subject(s)?;
        if s != cur.subject {
            rows::set_subject(tx, id, &s, now).await?;
            history::insert(
                tx,
                id,
                &record(ctx.actor, "subject", Some(&cur.subject), Some(&s)),
                now,
            )
            .await?;
        }
    }
    if let Some(q) = &patch.queue
        && *q != cur.queue
    {
        if !queue_exists(ctx.config, q) {
            return Err(TicketError::NoSuchQueue(q.clone()));
        }
        rows::set_queue(tx, id, q, now).await?;
        history::insert(
            tx,
            id,
            &record(ctx.actor, "queue", Some(&cur.queue), Some(q)),
            now,
        )
        .await?;
    }
    if let Some(p) = patch.priority {
        let p = Priority::new(p).map_err(|m| TicketError::Invalid {
            field: "priority",
            message: m,
        })?;
        if p.get() != cur.priority {
            clocks_moved = true;
            rows::set_priority(tx, id, p.get(), now).await?;
            let (old, new) = (cur.priority.to_string(), p.get().to_string());
            history::insert(
                tx,
                id,
                &record(ctx.actor, "priority", Some(&old), Some(&new)),
                now,
            )
            .await?;
        }
    }
    if let Some(owner) = &patch.owner {
        let owner = owner
            .as_deref()
            .filter(|o| !o.eq_ignore_ascii_case("nobody") && !o.is_empty());
        if owner != cur.owner.as_deref() {
            let owner_id = match owner {
                Some(name) => match crate::auth::find_user_in(tx, name).await? {
                    Some(u) if u.role != Role::Customer && !u.disabled => Some(u.id),
                    _ => return Err(TicketError::NoSuchOwner(name.to_owned())),
                },
                None => None,
            };
            rows::set_owner(tx, id, owner_id, now).await?;
            history::insert(
                tx,
                id,
                &record(ctx.actor, "owner", cur.owner.as_deref(), owner),
                now,
            )
            .await?;
        }
    }
    if let Some(customer) = &patch.customer
        && customer.as_deref() != cur.customer.as_deref()
    {
        let found = match customer {
            Some(code) => Some(
                crate::customers::by_code(tx, code)
                    .await?
                    .ok_or_else(|| TicketError::NoSuchCustomer(code.clone()))?,
            ),
            None => None,
        };
        let sla = found
            .as_ref()
            .and_then(|(_, s)| s.clone())
            .or_else(|| super::queue_sla(ctx.config, &cur.queue).map(str::to_owned));
        clocks_moved |= sla != cur.sla_policy;
        rows::set_customer(tx, id, found.map(|(cid, _)| cid), sla.as_deref(), now).await?;
        history::insert(
            tx,
            id,
            &record(
                ctx.actor,
                "customer",
                cur.customer.as_deref(),
                customer.as_deref(),
            ),
            now,
        )
        .await?;
    }
    for (role, emails) in &patch.add_watchers {
        let r = WatcherRole::parse(role).ok_or_else(|| TicketError::Invalid {
            field: "add_watchers",
            message: format!("\"{role}\" is not requestor, cc or admincc"),
        })?;
        for e in emails {
            let e = clean_email(e)?;
            if watchers::add(tx, id, r.as_str(), &e).await? {
                let t = NewTxn {
                    kind: "watcher_add",
                    actor: ctx.actor,
                    field: Some(r.as_str()),
                    new_value: Some(&e),
                    ..NewTxn::default()
                };
                history::insert(tx, id, &t, now).await?;
            }
        }
    }
    for (role, emails) in &patch.remove_watchers {
        let r = WatcherRole::parse(role).ok_or_else(|| TicketError::Invalid {
            field: "remove_watchers",
            message: format!("\"{role}\" is not requestor, cc or admincc"),
        })?;
        for e in emails {
            let e = e.trim().to_ascii_lowercase();
            if watchers::remove(tx, id, r.as_str(), &e).await? {
                let t = NewTxn {
                    kind: "watcher_del",
                    actor: ctx.actor,
                    field: Some(r.as_str()),
                    old_value: Some(&e),
                    ..NewTxn::default()
                };
                history::insert(tx, id, &t, now).await?;
            }
        }
    }
    if let Some(minutes) = patch.time_worked {
        if !(1..=24 * 60).contains(&minutes) {
            return Err(TicketError::Invalid {
                field: "time_worked",
                message: "must be 1 to 1440 minutes".into(),
            });
        }
        rows::add_time(tx, id, minutes, now).await?;
        let t = NewTxn {
            kind: "time",
            actor: ctx.actor,
            time_taken: minutes,
            ..NewTxn::default()
        };
        history::insert(tx, id, &t, now).await?;
    }
    if let Some(s) = &patch.status {
        let to: Status = s.parse().map_err(|m| TicketError::Invalid {
            field: "status",
            message: m,
        })?;
        let from: Status = cur.status.parse().map_err(|m| TicketError::Invalid {
            field: "status",
            message: m,
        })?;
        if to != from {
            clocks_moved = true;
            set_status(tx, ctx, id, from, to).await?;
        }
    }
    if clocks_moved {
        super::sla::refresh(tx, ctx.config, id, now).await?;
    }
    Ok(id)
}

/// Moves a ticket along RT's lifecycle, refusing to resolve it while a dependency is open.
pub(crate) async fn set_status(
    tx: &mut Tx,
    ctx: Ctx<'_>,
    id: i64,
    from: Status,
    to: Status,
) -> Result<(), TicketError> {
    if !from.can_become(to) {
        return Err(TicketError::InvalidTransition { from, to });
    }
    if to == Status::Resolved {
        let open = links::open_dependencies(tx, id).await?;
        if !open.is_empty() {
            return Err(TicketError::OpenDependencies { id, open });
        }
    }
    let resolved_at = (!to.is_active()).then_some(ctx.now);
    rows::set_status(tx, id, to.as_str(), resolved_at, ctx.now).await?;
    let txn = history::insert(
        tx,
        id,
        &record(ctx.actor, "status", Some(from.as_str()), Some(to.as_str())),
        ctx.now,
    )
    .await?;
    if to == Status::Resolved {
        // Only requestors hear of a resolve. A ticket without one (most monitoring incidents,
        // resolved by their alerts) is not loaded for it: two statements fewer on its path.
        let w = watchers::list(tx, id).await?;
        if w.iter()
            .any(|(role, _)| role == WatcherRole::Requestor.as_str())
        {
            let t = super::view::load_watched(tx, id, w).await?;
            let event = crate::mail::outbox::Event::Resolved { txn };
            crate::mail::outbox::notify(tx, ctx.config, &t, event, ctx.now).await?;
        }
    }
    Ok(())
}

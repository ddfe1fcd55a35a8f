//! The escalation side of a ticket's SLA: the steps due in a batch of tickets fired once each
//! (ledger row, history entry, notice), for `sla::worker`'s pass.

use std::collections::HashMap;

use jiff::Timestamp;

use super::{Computed, compute, events_of};
use crate::config::Config;
use crate::db::{StoreError, Ts, Tx};
use crate::sla::store::Fired;
use crate::sla::{Event, Point, Policy};
use crate::tickets::store::history::{self, NewTxn};
use crate::tickets::store::rows::{self, SlaCols, TicketRow};

/// Tickets whose next escalation step is due by `now`, soonest first.
pub(crate) async fn escalation_due(
    tx: &mut Tx,
    now: Timestamp,
    limit: i64,
) -> Result<Vec<i64>, StoreError> {
    rows::escalation_due(tx, now, limit).await
}

/// What one escalation pass remembers between tickets: the addresses of users and the
/// on-duty pairs at its `now`, so a burst of due tickets does not look them up each time.
#[derive(Debug, Default)]
pub(crate) struct PassCache {
    emails: HashMap<String, Option<String>>,
    duty: HashMap<String, Option<(String, String)>>,
    /// The escalation template and footer, read at the first notice.
    texts: Option<Option<[String; 2]>>,
}

/// What happened to one ticket of an escalation batch.
#[derive(Debug)]
pub(crate) enum Escalated {
    /// Another node holds it (PostgreSQL) and is escalating it.
    Skipped,
    /// Steps fired (possibly none: they were fired already, or none is due any more).
    Fired(usize),
    /// Its clocks could not be computed (logged); its next step is cleared so it stops
    /// coming back.
    Failed,
}

/// Fires the escalation steps of tickets `ids` due by `now` and not fired yet. The reads and
/// the ledger and row updates are a few statements per batch; what is left per step fired is
/// its history entry and its notice.
pub(crate) async fn escalate_batch(
    tx: &mut Tx,
    config: &Config,
    ids: &[i64],
    now: Timestamp,
    cache: &mut PassCache,
) -> Result<Vec<(i64, Escalated)>, StoreError> {
    let locked = rows::lock_many_or_skip(tx, ids).await?;
    let mut out: Vec<(i64, Escalated)> = ids
        .iter()
        .filter(|i| !locked.contains(i))
        .map(|&i| (i, Escalated::Skipped))
        .collect();
    let found = rows::get_many(tx, &locked).await?;
    let history = group(history::clock_events_many(tx, &locked).await?);
    let mut fired = group(crate::sla::store::fired_many(tx, &locked).await?);

    // What each ticket would fire, computed first so the ledger takes them in one statement.
    let mut plans = Vec::with_capacity(found.len());
    for row in found {
        let id = row.id;
        let Some(policy) = row
            .sla_policy
            .as_deref()
            .and_then(|n| config.policies.get(n))
        else {
            // The policy went away from the config: nothing can fire; stop looking.
            rows::set_sla(tx, id, None, &SlaCols::default()).await?;
            out.push((id, Escalated::Fired(0)));
            continue;
        };
        let events = events_of(
            history.get(&id).map_or(&[][..], Vec::as_slice),
            row.priority,
        );
        let done = fired.remove(&id).unwrap_or_default();
        match compute(policy, &events, &done, now) {
            Ok(c) => {
                let due: Vec<Point> = c
                    .points
                    .iter()
                    .filter(|p| p.at <= now && !done.contains(&(p.watch, p.step, p.cycle)))
                    .copied()
                    .collect();
                plans.push(Plan {
                    row,
                    policy,
                    events,
                    fired: done,
                    c,
                    due,
                });
            }
            Err(e) => {
                tracing::error!(ticket_id = id, error = %e, "SLA escalation failed for this ticket");
                rows::clear_next(tx, id).await?;
                out.push((id, Escalated::Failed));
            }
        }
    }
    let wanted: Vec<(i64, Fired, Timestamp)> = plans
        .iter()
        .flat_map(|p| {
            p.due
                .iter()
                .map(|d| (p.row.id, (d.watch, d.step, d.cycle), d.due_at))
        })
        .collect();
    let taken = crate::sla::store::fire_many(tx, &wanted, now).await?;
    if !taken.is_empty() && cache.texts.is_none() {
        cache.texts = Some(crate::mail::outbox::texts(tx, "escalation").await?);
    }

    // The steps each ticket got in the ledger, their history entries in one statement, and
    // their notices composed and put in the outbox together.
    let mut notices: Vec<(usize, Point, Vec<String>, String, String)> = Vec::new();
    for (i, plan) in plans.iter_mut().enumerate() {
        let id = plan.row.id;
        let mine: Vec<Point> = plan
            .due
            .iter()
            .filter(|d| taken.contains(&(id, (d.watch, d.step, d.cycle))))
            .copied()
            .collect();
        for p in &mine {
            let notify = plan
                .policy
                .escalate
                .get(p.step)
                .map(|s| s.notify.as_slice())
                .unwrap_or_default();
            let owner = plan.row.owner.clone();
            let watchers = if notify.iter().any(|n| n == "queue" || n == "requestors") {
                crate::tickets::store::watchers::list(tx, id).await?
            } else {
                Vec::new()
            };
            let to = recipients(tx, config, owner, &watchers, notify, now, cache).await?;
            let body = notice(plan.policy, p, &to);
            notices.push((i, *p, to, body, format!("{}%", p.percent)));
        }
        plan.fired
            .extend(mine.iter().map(|d| (d.watch, d.step, d.cycle)));
        plan.due = mine;
    }
    let txns: Vec<(i64, NewTxn<'_>)> = notices
        .iter()
        .map(|(i, p, _, body, percent)| {
            (
                plans[*i].row.id,
                NewTxn {
                    kind: "escalate",
                    actor: "sla",
                    field: Some(p.watch.as_str()),
                    new_value: Some(percent),
                    body: Some(body),
                    body_format: Some("text"),
                    ..NewTxn::default()
                },
            )
        })
        .collect();
    let txn_ids = history::insert_many(tx, &txns, now).await?;
    let texts = cache.texts.as_ref().and_then(Option::as_ref);
    let noticed: Vec<i64> = {
        let mut v: Vec<i64> = notices.iter().map(|(i, ..)| plans[*i].row.id).collect();
        v.dedup();
        v
    };
    let threads = crate::mail::threads_of_many(tx, &noticed).await?;
    let mut pending = Vec::with_capacity(notices.len());
    let mut ticket: Option<(usize, crate::tickets::Ticket)> = None;
    for ((i, _, to, body, _), txn) in notices.iter().zip(txn_ids) {
        if ticket.as_ref().is_none_or(|(at, _)| at != i) {
            ticket = Some((
                *i,
                crate::tickets::view::assemble(plans[*i].row.clone(), Vec::new(), Vec::new()),
            ));
        }
        let Some((_, t)) = ticket.as_ref() else {
            continue;
        };
        let event = crate::mail::outbox::Event::Escalation { txn, body, to };
        // A ticket with two notices in one pass: both answer the same thread.
        let thread = threads.get(&t.id).cloned().unwrap_or_default();
        pending.extend(
            crate::mail::outbox::compose(tx, config, t, event, now, texts, Some(thread)).await?,
        );
    }
    crate::mail::outbox::write_all(tx, config, &pending, now).await?;

    let mut updates = Vec::with_capacity(plans.len());
    for plan in plans {
        let id = plan.row.id;
        // Fired steps are not clock events: the same history, computed again for the next step.
        let c = if plan.due.is_empty() {
            Ok(plan.c)
        } else {
            compute(plan.policy, &plan.events, &plan.fired, now)
        };
        match c {
            Ok(c) => {
                if c.cols != plan.row.sla || c.due_at.map(Ts) != plan.row.due_at {
                    updates.push((id, c.due_at, c.cols));
                }
                out.push((id, Escalated::Fired(plan.due.len())));
            }
            Err(e) => {
                tracing::error!(ticket_id = id, error = %e, "SLA escalation failed for this ticket");
                rows::clear_next(tx, id).await?;
                out.push((id, Escalated::Failed));
            }
        }
    }
    rows::set_sla_many(tx, &updates).await?;
    Ok(out)
}

/// One ticket of a batch: its row, policy, clock events, steps fired, what they compute to,
/// and the steps due now.
struct Plan<'a> {
    row: TicketRow,
    policy: &'a Policy,
    events: Vec<Event<'a>>,
    fired: Vec<Fired>,
    c: Computed,
    due: Vec<Point>,
}

fn group<T>(rows: Vec<(i64, T)>) -> HashMap<i64, Vec<T>> {
    let mut m: HashMap<i64, Vec<T>> = HashMap::new();
    for (id, r) in rows {
        m.entry(id).or_default().push(r);
    }
    m
}

/// The text of a notice and its history entry.
fn notice(policy: &Policy, p: &Point, to: &[String]) -> String {
    let what = match p.watch {
        crate::sla::Watch::Response => "First response",
        crate::sla::Watch::Resolve => "Resolution",
    };
    let state = if p.percent >= 100 {
        "is overdue".to_owned()
    } else {
        format!("has used {}% of its time", p.percent)
    };
    let told = if to.is_empty() {
        "nobody could be notified (no address for the people this step names)".to_owned()
    } else {
        format!("notified {}", to.join(", "))
    };
    format!(
        "{what} {state} under SLA policy {}: due {}. Step reached {}; {told}.",
        policy.name, p.due_at, p.at
    )
}

/// The addresses an `escalate` step's `notify` names for this ticket, deduplicated.
async fn recipients(
    tx: &mut Tx,
    config: &Config,
    owner: Option<String>,
    watchers: &[(String, String)],
    notify: &[String],
    now: Timestamp,
    cache: &mut PassCache,
) -> Result<Vec<String>, StoreError> {
    let role = |r: &str| -> Vec<String> {
        watchers
            .iter()
            .filter(|(w, _)| w == r)
            .map(|(_, e)| e.clone())
            .collect()
    };
    let mut users: Vec<String> = Vec::new();
    let mut out: Vec<String> = Vec::new();
    for n in notify {
        match n.split_once(':') {
            None if n == "owner" => users.extend(owner.clone()),
            None if n == "queue" => out.extend(role("admincc")),
            None if n == "requestors" => out.extend(role("requestor")),
            None => out.push(n.clone()),
            Some(("user", name)) => users.push(name.to_owned()),
            Some(("oncall", name)) => {
                if !cache.duty.contains_key(name) {
                    let pair = match crate::oncall::duty(tx, config, name, now).await {
                        Ok(d) => Some((d.primary, d.backup)),
                        Err(crate::oncall::OncallError::Store(e)) => return Err(e),
                        Err(e) => {
                            tracing::warn!(rotation = name, error = %e, "on-call pair unknown; escalation goes to the others");
                            None
                        }
                    };
                    cache.duty.insert(name.to_owned(), pair);
                }
                if let Some(Some((p, b))) = cache.duty.get(name) {
                    users.extend([p.clone(), b.clone()]);
                }
            }
            Some(_) => {}
        }
    }
    for u in users {
        if !cache.emails.contains_key(&u) {
            let email = match crate::auth::find_user_in(tx, &u).await? {
                Some(user) if !user.disabled && !user.email.is_empty() => Some(user.email),
                _ => {
                    tracing::warn!(user = %u, "escalation names a user without an address");
                    None
                }
            };
            cache.emails.insert(u.clone(), email);
        }
        out.extend(cache.emails.get(&u).cloned().flatten());
    }
    out.sort();
    out.dedup();
    Ok(out)
}

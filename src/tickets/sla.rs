//! A ticket's SLA (issue 5): its deadlines recomputed from its history inside the transaction
//! of every change that moves a clock, kept on the row; and its escalation steps, each fired
//! once — the ledger row, the history entry and the notice commit together or not at all.

use jiff::Timestamp;

use super::TicketError;
use super::store::history::{self, ClockRow};
mod escalate;

pub use super::store::rows::ReportRow;
use super::store::rows::{self, SlaCols, TicketRow};
use crate::config::Config;
use crate::db::{Ts, Tx};
use crate::sla::store::Fired;
use crate::sla::{CalendarError, Clocks, Event, Point, Policy};

/// The clock events of a ticket's own history. The first priority comes from the first
/// priority change's old value (creation does not record it), else the current priority.
pub(crate) fn events_of(rows: &[ClockRow], priority: i32) -> Vec<Event<'_>> {
    let first_priority = rows
        .iter()
        .find(|r| r.kind == "set" && r.field.as_deref() == Some("priority"))
        .and_then(|r| r.old_value.as_deref()?.parse::<u8>().ok())
        .unwrap_or_else(|| u8::try_from(priority).unwrap_or(3));
    rows.iter()
        .filter_map(|r| {
            let at = r.created_at.0;
            Some(match (r.kind.as_str(), r.field.as_deref()) {
                ("create", _) => Event::Created {
                    at,
                    priority: first_priority,
                },
                ("set", Some("priority")) => Event::Priority {
                    at,
                    priority: r.new_value.as_deref()?.parse().ok()?,
                },
                ("set", Some("status")) => Event::Status {
                    at,
                    status: r.new_value.as_deref()?,
                },
                ("correspond", Some("staff")) => Event::StaffResponse { at },
                _ => return None,
            })
        })
        .collect()
}

/// A ticket's SLA as computed: what goes on the row, and the escalation points.
#[derive(Debug, Clone)]
pub(crate) struct Computed {
    pub clocks: Clocks,
    pub cols: SlaCols,
    /// The nearest promise not yet kept: the ticket's `Due`.
    pub due_at: Option<Timestamp>,
    pub points: Vec<Point>,
}

/// Pure: the row's SLA columns under `policy` after `events`, given the steps already fired.
pub(crate) fn compute(
    policy: &Policy,
    events: &[Event<'_>],
    fired: &[Fired],
    now: Timestamp,
) -> Result<Computed, CalendarError> {
    let clocks = crate::sla::clocks(events, &policy.pause_on);
    let sla = crate::sla::sla_of(policy, &clocks, now)?;
    let points = crate::sla::points(policy, &clocks)?;
    let unkept = [
        sla.response_due_at
            .filter(|_| clocks.response.met_at.is_none()),
        sla.resolve_due_at
            .filter(|_| clocks.resolve.met_at.is_none()),
    ];
    let due_at = unkept.into_iter().flatten().min();
    // The warning starts at the first (smallest) step of the policy.
    let first_step = policy
        .escalate
        .iter()
        .enumerate()
        .min_by_key(|(_, s)| s.percent)
        .map(|(i, _)| i);
    let warn_at = points
        .iter()
        .filter(|p| Some(p.step) == first_step)
        .map(|p| p.at)
        .min();
    let next_at = points
        .iter()
        .filter(|p| !fired.contains(&(p.watch, p.step, p.cycle)))
        .map(|p| p.at)
        .min();
    let cols = SlaCols {
        response_due_at: sla.response_due_at.map(Ts),
        resolve_due_at: sla.resolve_due_at.map(Ts),
        first_response_at: sla.first_response_at.map(Ts),
        sla_resolved_at: clocks.resolve.met_at.map(Ts),
        sla_paused: sla.paused,
        sla_warn_at: warn_at.map(Ts),
        sla_next_at: next_at.map(Ts),
    };
    Ok(Computed {
        clocks,
        cols,
        due_at,
        points,
    })
}

/// A ticket's SLA as loaded: its policy, the history that moves its clocks, the steps fired,
/// and what they compute to.
struct Loaded<'c> {
    policy: &'c Policy,
    history: Vec<ClockRow>,
    fired: Vec<Fired>,
    c: Computed,
}

/// The ticket's policy, its clock history and fired steps, computed as of `now`; `None` when
/// the ticket has no policy (or one no longer configured).
async fn load<'c>(
    tx: &mut Tx,
    config: &'c Config,
    row: &TicketRow,
    now: Timestamp,
) -> Result<Option<Loaded<'c>>, TicketError> {
    let Some(policy) = row
        .sla_policy
        .as_deref()
        .and_then(|n| config.policies.get(n))
    else {
        return Ok(None);
    };
    let history = history::clock_events(tx, row.id).await?;
    let events = events_of(&history, row.priority);
    let fired = crate::sla::store::fired(tx, row.id).await?;
    let c = compute(policy, &events, &fired, now).map_err(TicketError::Clock)?;
    Ok(Some(Loaded {
        policy,
        history,
        fired,
        c,
    }))
}

/// "Why is this due then" for ticket `id` (or the ticket it was merged into); `None` without
/// a policy.
pub async fn explain(
    tx: &mut Tx,
    config: &Config,
    id: i64,
    now: Timestamp,
) -> Result<Option<crate::sla::explain::Explain>, TicketError> {
    let mut row = rows::get(tx, id).await?.ok_or(TicketError::NotFound(id))?;
    if let Some(into) = row.merged_into {
        row = rows::get(tx, into)
            .await?
            .ok_or(TicketError::NotFound(id))?;
    }
    let Some(l) = load(tx, config, &row, now).await? else {
        return Ok(None);
    };
    let events = events_of(&l.history, row.priority);
    crate::sla::explain::explain(l.policy, &events, &l.c.clocks, &l.c.points, &l.fired, now)
        .map(Some)
        .map_err(TicketError::Clock)
}

/// Recomputes and stores ticket `id`'s SLA after a change; writes only what moved.
pub(crate) async fn refresh(
    tx: &mut Tx,
    config: &Config,
    id: i64,
    now: Timestamp,
) -> Result<(), TicketError> {
    let row = rows::get(tx, id).await?.ok_or(TicketError::NotFound(id))?;
    let (cols, due_at) = match load(tx, config, &row, now).await? {
        Some(l) => (l.c.cols, l.c.due_at),
        None => (SlaCols::default(), None),
    };
    if cols != row.sla || due_at.map(Ts) != row.due_at {
        rows::set_sla(tx, id, due_at, &cols).await?;
    }
    Ok(())
}

pub(crate) use escalate::{Escalated, PassCache, escalate_batch, escalation_due};

/// The tickets the SLA report counts: created in `[from, to)` under a policy.
pub async fn report_rows(
    tx: &mut Tx,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<rows::ReportRow>, crate::db::StoreError> {
    rows::report_rows(tx, from, to).await
}

#[cfg(test)]
mod tests;

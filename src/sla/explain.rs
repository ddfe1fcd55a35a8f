//! "Why is this due then" (issue 5): the same clocks that give the deadlines, laid out — the
//! policy and calendar, each clock's stretches with the calendar time each counted, the
//! events that started, paused and stopped them, and the escalation steps.

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use utoipa::ToSchema;

use super::calendar::CalendarError;
use super::clock::{Clocks, Event, Policy, Run};
use super::escalation::Point;
use super::store::Fired;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Explain {
    pub policy: String,
    pub calendar: String,
    /// The priority whose targets apply (the latest; a change re-measures from the start).
    pub priority: u8,
    /// The statuses that pause the clocks.
    pub pause_on: Vec<String>,
    pub response: ClockExplain,
    pub resolve: ClockExplain,
    /// The history entries that moved the clocks, oldest first.
    pub events: Vec<EventExplain>,
    pub escalations: Vec<StepExplain>,
    #[schema(value_type = String)]
    pub now: Timestamp,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClockExplain {
    /// The target in calendar minutes; absent when the policy promises nothing here.
    pub target_minutes: Option<i64>,
    /// Calendar minutes counted so far (up to now for a running clock).
    pub used_minutes: i64,
    #[schema(value_type = Option<String>)]
    pub due_at: Option<Timestamp>,
    /// When the promise was kept.
    #[schema(value_type = Option<String>)]
    pub met_at: Option<Timestamp>,
    /// Running now, since this instant.
    #[schema(value_type = Option<String>)]
    pub running_since: Option<Timestamp>,
    /// Closed stretches the clock ran, with the calendar minutes each counted.
    pub stretches: Vec<Stretch>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Stretch {
    #[schema(value_type = String)]
    pub from: Timestamp,
    #[schema(value_type = String)]
    pub to: Timestamp,
    pub counted_minutes: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventExplain {
    #[schema(value_type = String)]
    pub at: Timestamp,
    pub what: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StepExplain {
    pub clock: &'static str,
    pub percent: u32,
    #[schema(value_type = String)]
    pub at: Timestamp,
    pub notify: Vec<String>,
    pub fired: bool,
}

/// Lays out `clocks` (from `events`) under `policy` as of `now`.
pub fn explain(
    policy: &Policy,
    events: &[Event<'_>],
    clocks: &Clocks,
    points: &[Point],
    fired: &[Fired],
    now: Timestamp,
) -> Result<Explain, CalendarError> {
    let targets = policy.targets(clocks.priority);
    let cal = &policy.calendar;
    let clock =
        |run: &Run, target: Option<SignedDuration>| -> Result<ClockExplain, CalendarError> {
            let stretches = run
                .ran
                .iter()
                .map(|&(from, to)| {
                    Ok(Stretch {
                        from,
                        to,
                        counted_minutes: cal.between(from, to)?.as_secs() / 60,
                    })
                })
                .collect::<Result<Vec<_>, CalendarError>>()?;
            Ok(ClockExplain {
                target_minutes: target.map(|t| t.as_secs() / 60),
                used_minutes: run.used(cal, now)?.as_secs() / 60,
                due_at: match target {
                    Some(t) => run.reaches(cal, t)?,
                    None => None,
                },
                met_at: run.met_at,
                running_since: run.running_since,
                stretches,
            })
        };
    let pauses = |s: &str| policy.pause_on.iter().any(|p| p == s);
    let mut sorted = events.to_vec();
    sorted.sort_by_key(|e| match *e {
        Event::Created { at, .. }
        | Event::Priority { at, .. }
        | Event::Status { at, .. }
        | Event::StaffResponse { at } => at,
    });
    let events = sorted
        .iter()
        .map(|e| match *e {
            Event::Created { at, priority } => EventExplain {
                at,
                what: format!("created as P{priority}: both clocks start"),
            },
            Event::Priority { at, priority } => EventExplain {
                at,
                what: format!("priority set to P{priority}: deadlines measured again from the start under its targets"),
            },
            Event::Status { at, status } => EventExplain {
                at,
                what: match status {
                    s if pauses(s) => format!("status {s}: clocks paused"),
                    "resolved" | "rejected" | "deleted" => format!("status {status}: clocks stop"),
                    s => format!("status {s}: clocks run"),
                },
            },
            Event::StaffResponse { at } => EventExplain {
                at,
                what: "correspondence from staff: the first one keeps the response promise".into(),
            },
        })
        .collect();
    let escalations = points
        .iter()
        .map(|p| StepExplain {
            clock: p.watch.as_str(),
            percent: p.percent,
            at: p.at,
            notify: policy
                .escalate
                .get(p.step)
                .map(|s| s.notify.clone())
                .unwrap_or_default(),
            fired: fired.contains(&(p.watch, p.step, p.cycle)),
        })
        .collect();
    Ok(Explain {
        policy: policy.name.clone(),
        calendar: cal.name().to_owned(),
        priority: clocks.priority,
        pause_on: policy.pause_on.clone(),
        response: clock(&clocks.response, targets.response)?,
        resolve: clock(&clocks.resolve, targets.resolve)?,
        events,
        escalations,
        now,
    })
}

//! A ticket's SLA clocks from its history (CONTRACT §3 `sla` object): pure, so that "why is
//! this due then" is the same computation as the deadline itself. Events in, deadlines out.
//!
//! The rules (issue 5): the response clock runs from creation until the first correspondence
//! from staff (a comment or an auto-reply does not count); both clocks stop in the policy's
//! `pause_on` statuses and go on with the time they had left; a priority change measures the
//! time already run against the new priority's target, from the start; a ticket that leaves
//! resolved/rejected/deleted starts its resolution clock over. Time counts inside the policy's
//! calendar.

use jiff::{SignedDuration, Timestamp};

use super::calendar::{Calendar, CalendarError};
use crate::config::{RawSla, parse_duration};

/// The statuses in which a ticket is finished: no clock runs.
const INACTIVE: [&str; 3] = ["resolved", "rejected", "deleted"];

/// A policy's targets for one priority; `None` means no promise.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Targets {
    pub response: Option<SignedDuration>,
    pub resolve: Option<SignedDuration>,
}

/// An SLA policy (CONTRACT §2 `[[sla]]`) with its calendar resolved.
#[derive(Debug, Clone)]
pub struct Policy {
    pub name: String,
    pub calendar: Calendar,
    pub pause_on: Vec<String>,
    /// P1 first.
    pub targets: [Targets; 4],
    /// In the order configured.
    pub escalate: Vec<Step>,
}

/// An `escalate` entry: at `percent` of a clock's target, tell `notify`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub percent: u32,
    /// `owner`, `queue` (the ticket's AdminCc), `requestors`, `user:NAME`, `oncall:NAME` or an
    /// email address, as checked by `check-config`.
    pub notify: Vec<String>,
}

impl Policy {
    /// An `[[sla]]` table with its calendar found among `calendars` (or the built-in `24x7`).
    /// Its keys were checked by `check-config`; a policy is never built half-understood.
    pub fn from_config(raw: &RawSla, calendars: &[Calendar]) -> Result<Policy, CalendarError> {
        let invalid = |what: String| CalendarError::Policy {
            name: raw.name.clone(),
            what,
        };
        let calendar = match raw.calendar.as_str() {
            "24x7" => Calendar::always(),
            name => calendars
                .iter()
                .find(|c| c.name() == name)
                .cloned()
                .ok_or_else(|| invalid(format!("no [[calendar]] is named \"{name}\"")))?,
        };
        let duration = |key: &str,
                        text: &Option<String>|
         -> Result<Option<SignedDuration>, CalendarError> {
            text.as_deref()
                .map(|t| {
                    parse_duration(t)
                        .ok()
                        .and_then(|d| SignedDuration::try_from(d).ok())
                        .ok_or_else(|| invalid(format!("targets.{key}: \"{t}\" is not a duration")))
                })
                .transpose()
        };
        let mut targets = [Targets::default(); 4];
        for (key, t) in &raw.targets {
            let i = ["P1", "P2", "P3", "P4"]
                .iter()
                .position(|p| p == key)
                .ok_or_else(|| invalid(format!("targets.{key} is not P1 … P4")))?;
            targets[i] = Targets {
                response: duration(&format!("{key}.response"), &t.response)?,
                resolve: duration(&format!("{key}.resolve"), &t.resolve)?,
            };
        }
        let escalate = raw
            .escalate
            .iter()
            .enumerate()
            .map(|(i, e)| {
                e.at.strip_suffix('%')
                    .and_then(|n| n.trim().parse::<u32>().ok())
                    .filter(|n| (1..=1000).contains(n))
                    .map(|percent| Step {
                        percent,
                        notify: e.notify.clone(),
                    })
                    .ok_or_else(|| {
                        invalid(format!(
                            "escalate[{i}].at: \"{}\" is not a percentage",
                            e.at
                        ))
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Policy {
            name: raw.name.clone(),
            calendar,
            pause_on: raw.pause_on.clone(),
            targets,
            escalate,
        })
    }

    pub fn targets(&self, priority: u8) -> Targets {
        let i = usize::from(priority.clamp(1, 4)) - 1;
        self.targets[i]
    }
}

/// What happened to a ticket that moves its clocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event<'a> {
    Created {
        at: Timestamp,
        priority: u8,
    },
    Priority {
        at: Timestamp,
        priority: u8,
    },
    Status {
        at: Timestamp,
        status: &'a str,
    },
    /// Correspondence written by staff (never a comment, an auto-reply or a requestor's mail).
    StaffResponse {
        at: Timestamp,
    },
}

impl Event<'_> {
    fn at(&self) -> Timestamp {
        match *self {
            Event::Created { at, .. }
            | Event::Priority { at, .. }
            | Event::Status { at, .. }
            | Event::StaffResponse { at } => at,
        }
    }
}

/// One clock's state: the stretches it ran, whether it runs now, and when it stopped for good.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Run {
    /// Closed stretches in time order.
    pub ran: Vec<(Timestamp, Timestamp)>,
    /// The start of the stretch running now.
    pub running_since: Option<Timestamp>,
    /// When the promise was kept (first response, resolution).
    pub met_at: Option<Timestamp>,
}

impl Run {
    fn start(&mut self, at: Timestamp) {
        if self.running_since.is_none() {
            self.running_since = Some(at);
        }
    }

    fn stop(&mut self, at: Timestamp) {
        if let Some(since) = self.running_since.take()
            && at > since
        {
            self.ran.push((since, at));
        }
    }

    /// The instant at which `target` of calendar time is (or was) reached: in a stretch
    /// already run, in the one running now, or, for a promise kept in time, where its last
    /// stretch would have reached it (the deadline it was kept against). `None` while paused
    /// short of it.
    pub fn reaches(
        &self,
        calendar: &Calendar,
        target: SignedDuration,
    ) -> Result<Option<Timestamp>, CalendarError> {
        Ok(self.reaches_in(calendar, target)?.map(|(at, _)| at))
    }

    /// As `reaches`, with the start of the stretch the instant falls in: the "cycle" an
    /// escalation step belongs to.
    pub fn reaches_in(
        &self,
        calendar: &Calendar,
        target: SignedDuration,
    ) -> Result<Option<(Timestamp, Timestamp)>, CalendarError> {
        let mut used = SignedDuration::ZERO;
        let mut last = None;
        for &(from, to) in &self.ran {
            let here = calendar.between(from, to)?;
            if used + here >= target {
                return Ok(Some((calendar.add(from, target - used)?, from)));
            }
            last = Some((from, used));
            used += here;
        }
        match (self.running_since, self.met_at, last) {
            (Some(since), _, _) => Ok(Some((calendar.add(since, target - used)?, since))),
            (None, Some(_), Some((from, before))) => {
                Ok(Some((calendar.add(from, target - before)?, from)))
            }
            _ => Ok(None),
        }
    }

    /// Calendar time run so far, counting the running stretch up to `now`.
    pub fn used(
        &self,
        calendar: &Calendar,
        now: Timestamp,
    ) -> Result<SignedDuration, CalendarError> {
        let mut used = SignedDuration::ZERO;
        for &(from, to) in &self.ran {
            used += calendar.between(from, to)?;
        }
        if let Some(since) = self.running_since
            && now > since
        {
            used += calendar.between(since, now)?;
        }
        Ok(used)
    }
}

/// The `sla` object of CONTRACT §3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sla {
    pub policy: String,
    pub response_due_at: Option<Timestamp>,
    pub resolve_due_at: Option<Timestamp>,
    pub first_response_at: Option<Timestamp>,
    /// A clock would run but the status pauses it.
    pub paused: bool,
    /// "response" and/or "resolve", for each promise missed by `now`.
    pub breached: Vec<&'static str>,
}

/// Both clocks of a ticket, the stretches each ran being what explains its deadline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clocks {
    pub response: Run,
    pub resolve: Run,
    /// The priority whose targets apply: the latest.
    pub priority: u8,
    /// The latest status is one of the policy's `pause_on`.
    pub paused: bool,
}

/// Both clocks after `events` (any order; ties keep their order).
pub fn clocks(events: &[Event<'_>], pause_on: &[String]) -> Clocks {
    let mut events = events.to_vec();
    events.sort_by_key(Event::at);
    let (mut response, mut resolve) = (Run::default(), Run::default());
    let (mut priority, mut status) = (3u8, "new");
    let pauses = |s: &str| pause_on.iter().any(|p| p == s);
    let runs = |s: &str| !pauses(s) && !INACTIVE.contains(&s);
    for e in events {
        match e {
            Event::Created { at, priority: p } => {
                priority = p;
                response.start(at);
                resolve.start(at);
            }
            Event::Priority { priority: p, .. } => priority = p,
            Event::StaffResponse { at } => {
                if response.met_at.is_none() {
                    response.stop(at);
                    response.met_at = Some(at);
                }
            }
            Event::Status { at, status: s } => {
                let (was, now) = (status, s);
                status = s;
                if INACTIVE.contains(&was) && !INACTIVE.contains(&now) {
                    // Reopened: resolution starts over, its old stretches forgotten.
                    resolve = Run::default();
                }
                if runs(now) {
                    if response.met_at.is_none() {
                        response.start(at);
                    }
                    resolve.start(at);
                } else {
                    response.stop(at);
                    resolve.stop(at);
                    if INACTIVE.contains(&now) && resolve.met_at.is_none() {
                        resolve.met_at = Some(at);
                    }
                }
            }
        }
    }
    Clocks {
        response,
        resolve,
        priority,
        paused: pauses(status),
    }
}

/// A promise missed as of `now`: kept after its deadline, or not kept and the deadline has
/// come. The one rule for the API, the pages and the report (TQL says it in SQL).
pub fn missed(due: Option<Timestamp>, met: Option<Timestamp>, now: Timestamp) -> bool {
    due.is_some_and(|d| met.map_or(d <= now, |m| m > d))
}

/// The ticket's `sla` object under `policy`, as of `now`.
pub fn evaluate(
    policy: &Policy,
    events: &[Event<'_>],
    now: Timestamp,
) -> Result<Sla, CalendarError> {
    sla_of(policy, &clocks(events, &policy.pause_on), now)
}

/// The `sla` object of clocks already run (see `clocks`), as of `now`.
pub fn sla_of(policy: &Policy, c: &Clocks, now: Timestamp) -> Result<Sla, CalendarError> {
    let Clocks {
        response,
        resolve,
        priority,
        paused,
    } = c;
    let (priority, paused) = (*priority, *paused);
    let targets = policy.targets(priority);
    let due =
        |run: &Run, target: Option<SignedDuration>| -> Result<Option<Timestamp>, CalendarError> {
            match target {
                Some(t) => run.reaches(&policy.calendar, t),
                None => Ok(None),
            }
        };
    let response_due_at = due(response, targets.response)?;
    let resolve_due_at = due(resolve, targets.resolve)?;
    let mut breached = Vec::new();
    if missed(response_due_at, response.met_at, now) {
        breached.push("response");
    }
    if missed(resolve_due_at, resolve.met_at, now) {
        breached.push("resolve");
    }
    Ok(Sla {
        policy: policy.name.clone(),
        response_due_at,
        resolve_due_at,
        first_response_at: response.met_at,
        paused,
        breached,
    })
}

#[cfg(test)]
pub(crate) mod tests;

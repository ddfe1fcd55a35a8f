//! Where a ticket's escalation steps fall (CONTRACT §2 `escalate`): pure, from its clocks. The
//! firing itself (once, in the database) is `tickets::sla`'s; this says when and in which cycle.

use jiff::{SignedDuration, Timestamp};

use super::calendar::CalendarError;
use super::clock::{Clocks, Policy, Run};

/// Which promise a step watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Watch {
    Response,
    Resolve,
}

impl Watch {
    pub fn as_str(self) -> &'static str {
        match self {
            Watch::Response => "response",
            Watch::Resolve => "resolve",
        }
    }

    pub fn parse(s: &str) -> Option<Watch> {
        match s {
            "response" => Some(Watch::Response),
            "resolve" => Some(Watch::Resolve),
            _ => None,
        }
    }
}

/// One escalation step of one clock of a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Point {
    pub watch: Watch,
    /// Index into the policy's `escalate`.
    pub step: usize,
    pub percent: u32,
    /// When the clock reaches `percent` of its target.
    pub at: Timestamp,
    /// The start of the stretch in which it does: a step fires once per cycle, so a clock
    /// that was paused before reaching it, or a resolution started over, escalates again,
    /// while a point already passed before a pause does not fire twice.
    pub cycle: Timestamp,
    /// The promise's deadline, for the notice.
    pub due_at: Timestamp,
}

/// Every step point of the clocks still running or paused short of their promise; a kept
/// promise escalates no more. Points a paused clock has not reached yet are not known (the
/// clock may never resume) and are left out.
pub fn points(policy: &Policy, clocks: &Clocks) -> Result<Vec<Point>, CalendarError> {
    let targets = policy.targets(clocks.priority);
    let mut out = Vec::new();
    for (watch, run, target) in [
        (Watch::Response, &clocks.response, targets.response),
        (Watch::Resolve, &clocks.resolve, targets.resolve),
    ] {
        let Some(target) = target else { continue };
        if run.met_at.is_some() {
            continue;
        }
        let Some(due_at) = run.reaches(&policy.calendar, target)? else {
            continue;
        };
        for (step, s) in policy.escalate.iter().enumerate() {
            if let Some((at, cycle)) = reach(run, policy, target, s.percent)? {
                out.push(Point {
                    watch,
                    step,
                    percent: s.percent,
                    at,
                    cycle,
                    due_at,
                });
            }
        }
    }
    out.sort_by_key(|p| (p.at, p.watch, p.step));
    Ok(out)
}

fn reach(
    run: &Run,
    policy: &Policy,
    target: SignedDuration,
    percent: u32,
) -> Result<Option<(Timestamp, Timestamp)>, CalendarError> {
    // Whole seconds: calendars count minutes, and a percentage of a target in seconds is
    // exact enough for a notice.
    let secs = target.as_secs().saturating_mul(i64::from(percent)) / 100;
    run.reaches_in(&policy.calendar, SignedDuration::from_secs(secs))
}

#[cfg(test)]
mod tests;

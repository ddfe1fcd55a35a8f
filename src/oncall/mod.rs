//! On-duty rotations (CONTRACT §2 `[[oncall]]`): who is primary and who is backup at any
//! instant. Pure: the config and an instant in, the duty out. The hand-off is a wall-clock
//! time in the rotation's zone, so it stays "Monday 09:00" across DST changes (that week is an
//! hour shorter or longer).
//!
//! Overrides (swaps, holidays) live in the database (`store.rs`); [`duty`] is the rotation's
//! answer with them applied, the one the SLA escalation asks inside its own transaction.

pub mod api;
mod overrides;
pub mod routes;
mod store;

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use thiserror::Error;

use crate::config::{Config, RawOncall, parse_day};
use crate::db::{StoreError, Tx};

pub use overrides::{Effective, NewOverride, Override, apply, timeline};

#[derive(Debug, Error)]
pub enum OncallError {
    #[error("rotation \"{name}\": {what}")]
    Invalid { name: String, what: String },
    #[error("rotation \"{0}\": the instant is outside the range the rotation can count")]
    OutOfRange(String),
    /// Escalation rules name rotations as `oncall:NAME`; `check-config` verifies the names, but
    /// an API caller can ask for anything.
    #[error("there is no [[oncall]] rotation named \"{0}\"")]
    UnknownRotation(String),
    /// A new override that cannot be stored as given; the text says which field and why.
    #[error("{0}")]
    BadOverride(String),
    #[error("on-call overrides: {0}")]
    Store(#[from] StoreError),
}

/// A weekly rotation of at least two people.
#[derive(Debug, Clone)]
pub struct Rotation {
    name: String,
    tz: TimeZone,
    /// The first hand-off: `start`, or the first hand-off weekday after it.
    first: Date,
    at: Time,
    people: Vec<String>,
}

/// Who is on duty from `since` until `until` (the next hand-off).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duty {
    pub primary: String,
    pub backup: String,
    pub since: Timestamp,
    pub until: Timestamp,
}

impl Rotation {
    /// An `[[oncall]]` table; its keys were checked by `check-config` and are checked again
    /// here, so a rotation is never built half-understood.
    pub fn from_config(raw: &RawOncall) -> Result<Rotation, OncallError> {
        let invalid = |what: String| OncallError::Invalid {
            name: raw.name.clone(),
            what,
        };
        let tz = TimeZone::get(&raw.timezone)
            .map_err(|_| invalid(format!("\"{}\" is not an IANA time zone", raw.timezone)))?;
        let start: Date = raw
            .start
            .parse()
            .map_err(|_| invalid(format!("start \"{}\" is not a date", raw.start)))?;
        let bad_handoff = || invalid(format!("handoff \"{}\" is not \"DAY HH:MM\"", raw.handoff));
        let (day, time) = raw.handoff.split_once(' ').ok_or_else(bad_handoff)?;
        let weekday = parse_day(day)
            .and_then(|i| i8::try_from(i).ok())
            .and_then(|i| Weekday::from_monday_zero_offset(i).ok())
            .ok_or_else(bad_handoff)?;
        let at: Time = time.trim().parse().map_err(|_| bad_handoff())?;
        if raw.rotation.len() < 2 {
            return Err(invalid("a rotation needs at least two people".into()));
        }
        let ahead = (weekday.to_monday_zero_offset() - start.weekday().to_monday_zero_offset())
            .rem_euclid(7);
        let first = start
            .checked_add(jiff::Span::new().days(i64::from(ahead)))
            .map_err(|_| OncallError::OutOfRange(raw.name.clone()))?;
        Ok(Rotation {
            name: raw.name.clone(),
            tz,
            first,
            at,
            people: raw.rotation.clone(),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The zone hand-offs are counted in, which is also the zone people read times in.
    pub fn timezone(&self) -> &TimeZone {
        &self.tz
    }

    /// The rotation's members, in order (the page offers them as names to pick).
    pub fn people(&self) -> &[String] {
        &self.people
    }

    /// The instant of hand-off `week` (0 is the first; earlier weeks count back from it).
    fn handoff(&self, week: i64) -> Result<Timestamp, OncallError> {
        let range = || OncallError::OutOfRange(self.name.clone());
        let date = self
            .first
            .checked_add(jiff::Span::new().days(week.checked_mul(7).ok_or_else(range)?))
            .map_err(|_| range())?;
        self.tz
            .to_timestamp(date.to_datetime(self.at))
            .map_err(|_| range())
    }

    /// Who is on duty at `at`. Before the first hand-off the rotation is counted backwards,
    /// so the answer is the same as if it had always run.
    pub fn duty_at(&self, at: Timestamp) -> Result<Duty, OncallError> {
        let week = SignedDuration::from_hours(7 * 24).as_secs();
        let first = self.handoff(0)?;
        // A guess from real time, then corrected: DST moves hand-offs by an hour or so.
        let mut k = first.duration_until(at).as_secs().div_euclid(week);
        while self.handoff(k)? > at {
            k -= 1;
        }
        while self.handoff(k + 1)? <= at {
            k += 1;
        }
        let n = i64::try_from(self.people.len()).unwrap_or(i64::MAX);
        let who = |i: i64| {
            let i = usize::try_from(i.rem_euclid(n)).unwrap_or(0);
            self.people[i].clone()
        };
        Ok(Duty {
            primary: who(k),
            backup: who(k + 1),
            since: self.handoff(k)?,
            until: self.handoff(k + 1)?,
        })
    }
}

/// The `[[oncall]]` rotation called `name`, built from the config.
pub fn rotation(config: &Config, name: &str) -> Result<Rotation, OncallError> {
    let raw = config
        .oncall
        .iter()
        .find(|o| o.name == name)
        .ok_or_else(|| OncallError::UnknownRotation(name.to_owned()))?;
    Rotation::from_config(raw)
}

/// Who is on duty in rotation `name` at `at`, overrides applied. Runs in the caller's
/// transaction so an escalation sees the overrides of the same snapshot it acts in.
pub async fn duty(
    tx: &mut Tx,
    config: &Config,
    name: &str,
    at: Timestamp,
) -> Result<Duty, OncallError> {
    Ok(effective(tx, config, name, at).await?.duty)
}

/// [`duty`], also telling which override (if any) decided it.
pub async fn effective(
    tx: &mut Tx,
    config: &Config,
    name: &str,
    at: Timestamp,
) -> Result<Effective, OncallError> {
    let rotation = rotation(config, name)?;
    let base = rotation.duty_at(at)?;
    // Only overrides inside the rotation's week can change this answer or cut its bounds.
    let found = store::overlapping(tx, name, base.since, base.until).await?;
    Ok(apply(&base, at, &found))
}

/// Stores an override of rotation `name` (which must be configured).
pub async fn add_override(
    tx: &mut Tx,
    config: &Config,
    name: &str,
    new: &NewOverride,
    created_by: &str,
    now: Timestamp,
) -> Result<Override, OncallError> {
    rotation(config, name)?;
    Ok(store::insert(tx, name, new, created_by, now).await?)
}

/// The overrides of rotation `name` that have not ended at `now`, soonest first.
pub async fn upcoming_overrides(
    tx: &mut Tx,
    config: &Config,
    name: &str,
    now: Timestamp,
) -> Result<Vec<Override>, OncallError> {
    rotation(config, name)?;
    Ok(store::upcoming(tx, name, now).await?)
}

/// The overrides of rotation `name` that overlap `[from, to)`, for drawing a timeline.
pub async fn overrides_between(
    tx: &mut Tx,
    name: &str,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<Override>, OncallError> {
    Ok(store::overlapping(tx, name, from, to).await?)
}

/// Removes override `id` of rotation `name`; answers whether there was one.
pub async fn remove_override(
    tx: &mut Tx,
    config: &Config,
    name: &str,
    id: i64,
) -> Result<bool, OncallError> {
    rotation(config, name)?;
    Ok(store::delete(tx, name, id).await?)
}

#[cfg(test)]
mod tests;

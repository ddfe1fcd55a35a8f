//! Business calendars (CONTRACT §2 `[[calendar]]`): when the clocks run. SLA durations are
//! time inside the calendar ("4h" on an office calendar is four business hours), so the two
//! questions asked are "when has this much business time passed since then" and "how much
//! business time lies between these two instants".
//!
//! Opening hours are local times in the calendar's IANA zone. Each day's spans become instants
//! through the zone's rules for that date, so a span across a DST change counts the hours that
//! really pass (a night shift 22:00–06:00 is 9 hours on the night the clocks go back), and a
//! local time that does not exist on a spring-forward day is read with the offset before the
//! gap (02:30 becomes 03:30 summer time), the "compatible" rule of RFC 5545 and of jiff.
//! A span belongs to the day it starts on: "22:00-06:00" on `fri` runs into Saturday morning,
//! and a holiday closes the spans that start on it.
//!
//! Both questions walk the calendar from the start (`walk`). Between holidays and offset
//! changes the opening hours repeat every week under one offset, and there the week circle
//! (`week`) counts any stretch at once; the days around a holiday or a change (`zone`) are
//! walked one by one. A deadline months away costs what a deadline an hour away does, plus a
//! few days' walk per holiday or change on the way: never more than O(days spanned).

use jiff::civil::{Date, Time};
use jiff::tz::{Offset, TimeZone};
use jiff::{SignedDuration, Timestamp};
use thiserror::Error;

use crate::config::{RawCalendar, parse_day, parse_span};

mod walk;
mod week;
mod zone;

use walk::Walk;
use week::{Circle, DAY};
use zone::Offsets;

/// A calendar that is never open cannot reach any deadline; one with a bad key never passed
/// `check-config`.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum CalendarError {
    #[error("calendar \"{0}\" has no opening hours on any day")]
    NeverOpen(String),
    #[error("calendar \"{name}\": {what}")]
    Invalid { name: String, what: String },
    #[error("calendar \"{0}\": the date is outside the range the calendar can count")]
    OutOfRange(String),
    /// An `[[sla]]` policy that names no known calendar or has a bad target.
    #[error("SLA policy \"{name}\": {what}")]
    Policy { name: String, what: String },
}

/// When the clocks run: always (the built-in `24x7`), or in opening hours.
#[derive(Debug, Clone)]
pub struct Calendar {
    name: String,
    hours: Option<Hours>,
}

#[derive(Debug, Clone)]
struct Hours {
    tz: TimeZone,
    /// Monday first; minutes from the day's midnight, the end past 1440 when a span runs
    /// into the next day.
    week: [Vec<(u32, u32)>; 7],
    /// Local dates as days after 1970-01-01, sorted.
    holidays: Vec<i64>,
    circle: Circle,
    offsets: Offsets,
}

impl Calendar {
    /// The built-in `24x7`: every instant counts.
    pub fn always() -> Calendar {
        Calendar {
            name: "24x7".into(),
            hours: None,
        }
    }

    /// A `[[calendar]]` table; its keys were checked by `check-config`, and are checked again
    /// here so that a calendar is never built half-understood.
    pub fn from_config(raw: &RawCalendar) -> Result<Calendar, CalendarError> {
        let invalid = |what: String| CalendarError::Invalid {
            name: raw.name.clone(),
            what,
        };
        let tz = TimeZone::get(&raw.timezone)
            .map_err(|_| invalid(format!("\"{}\" is not an IANA time zone", raw.timezone)))?;
        let mut week: [Vec<(u32, u32)>; 7] = Default::default();
        for (day, spans) in &raw.hours {
            let i = parse_day(day)
                .ok_or_else(|| invalid(format!("\"{day}\" is not a day (mon … sun)")))?;
            for span in spans.split(',').map(str::trim) {
                let s = parse_span(span).ok_or_else(|| {
                    invalid(format!("hours.{day}: \"{span}\" is not HH:MM-HH:MM"))
                })?;
                week[i].push(s);
            }
            week[i].sort_unstable();
        }
        if week.iter().all(Vec::is_empty) {
            return Err(CalendarError::NeverOpen(raw.name.clone()));
        }
        let mut holidays = raw
            .holidays
            .iter()
            .map(|h| {
                h.parse::<Date>()
                    .ok()
                    .and_then(|d| day_number(d).ok())
                    .ok_or_else(|| invalid(format!("holiday \"{h}\" is not a date")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        holidays.sort_unstable();
        holidays.dedup();
        Ok(Calendar {
            name: raw.name.clone(),
            hours: Some(Hours {
                circle: Circle::new(&week),
                offsets: Offsets::new(&tz),
                tz,
                week,
                holidays,
            }),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The instant at which `d` of business time has passed since `from`. A deadline that
    /// falls exactly at closing time is that closing time, not the next opening.
    pub fn add(&self, from: Timestamp, d: SignedDuration) -> Result<Timestamp, CalendarError> {
        let range = || CalendarError::OutOfRange(self.name.clone());
        let Some(h) = &self.hours else {
            return from.checked_add(d).map_err(|_| range());
        };
        if !d.is_positive() {
            return Ok(from);
        }
        let mut walk = Walk::new(h, from);
        let mut left = d;
        let mut at = from;
        let mut spans = Vec::with_capacity(4);
        loop {
            if let Some(stretch) = walk.stretch(at) {
                let open = stretch.open(&h.circle);
                if left <= open {
                    return stretch.deadline(&h.circle, left).ok_or_else(range);
                }
                left -= open;
                at = walk.leave(&stretch).map_err(|_| range())?;
                continue;
            }
            walk.day(&mut spans).map_err(|_| range())?;
            for &(open, close) in &spans {
                let start = open.max(at);
                if close <= start {
                    continue;
                }
                let here = start.duration_until(close);
                if here >= left {
                    return start.checked_add(left).map_err(|_| range());
                }
                left -= here;
                at = close;
            }
        }
    }

    /// Business time in `[from, to)`; zero when `to` is not after `from`.
    pub fn between(&self, from: Timestamp, to: Timestamp) -> Result<SignedDuration, CalendarError> {
        let range = || CalendarError::OutOfRange(self.name.clone());
        if to <= from {
            return Ok(SignedDuration::ZERO);
        }
        let Some(h) = &self.hours else {
            return Ok(from.duration_until(to));
        };
        let mut walk = Walk::new(h, from);
        let mut sum = SignedDuration::ZERO;
        let mut at = from;
        let mut spans = Vec::with_capacity(4);
        while at < to {
            if let Some(stretch) = walk.stretch(at) {
                if let Some((local, nanos)) = stretch.local(to) {
                    return Ok(sum + stretch.open_until(&h.circle, local, nanos));
                }
                sum += stretch.open(&h.circle);
                at = walk.leave(&stretch).map_err(|_| range())?;
                continue;
            }
            if walk.past(to) {
                break;
            }
            walk.day(&mut spans).map_err(|_| range())?;
            for &(open, close) in &spans {
                let (start, end) = (open.max(at), close.min(to));
                if end > start {
                    sum += start.duration_until(end);
                    at = end;
                }
            }
        }
        Ok(sum)
    }
}

/// Days from 1970-01-01 to `date`, the walk's count of local days.
fn day_number(date: Date) -> Result<i64, jiff::Error> {
    let midnight = Offset::UTC.to_timestamp(date.to_datetime(Time::midnight()))?;
    Ok(midnight.as_second().div_euclid(DAY))
}

#[cfg(test)]
mod tests;

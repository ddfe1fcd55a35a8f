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
//! and a holiday closes the spans that start on it. Both questions walk the calendar day by day
//! from the start, so they cost O(days spanned), never O(minutes).

use std::collections::BTreeSet;

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use thiserror::Error;

use crate::config::{RawCalendar, parse_span};

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
    holidays: BTreeSet<Date>,
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

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
            let i = DAYS
                .iter()
                .position(|d| d == day)
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
        let holidays = raw
            .holidays
            .iter()
            .map(|h| {
                h.parse::<Date>()
                    .map_err(|_| invalid(format!("holiday \"{h}\" is not a date")))
            })
            .collect::<Result<_, _>>()?;
        Ok(Calendar {
            name: raw.name.clone(),
            hours: Some(Hours { tz, week, holidays }),
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
        let mut left = d;
        let mut at = from;
        for day in h.days_from(from, &self.name) {
            for (open, close) in day? {
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
        Err(range())
    }

    /// Business time in `[from, to)`; zero when `to` is not after `from`.
    pub fn between(&self, from: Timestamp, to: Timestamp) -> Result<SignedDuration, CalendarError> {
        if to <= from {
            return Ok(SignedDuration::ZERO);
        }
        let Some(h) = &self.hours else {
            return Ok(from.duration_until(to));
        };
        let mut sum = SignedDuration::ZERO;
        let mut at = from;
        for day in h.days_from(from, &self.name) {
            let day = day?;
            if day.first().is_some_and(|(open, _)| *open >= to) {
                break;
            }
            for (open, close) in day {
                let (start, end) = (open.max(at), close.min(to));
                if end > start {
                    sum += start.duration_until(end);
                    at = end;
                }
            }
            if at >= to {
                break;
            }
        }
        Ok(sum)
    }
}

impl Hours {
    /// Each day's open spans as instants, in order, from the day before `from`'s local date
    /// (whose night span may still be running) on. Ends when dates run out (year 9999).
    fn days_from<'a>(
        &'a self,
        from: Timestamp,
        name: &'a str,
    ) -> impl Iterator<Item = Result<Vec<(Timestamp, Timestamp)>, CalendarError>> + 'a {
        let first = self.tz.to_datetime(from).date();
        let first = first.yesterday().unwrap_or(first);
        std::iter::successors(Some(first), |d| d.tomorrow().ok()).map(move |date| {
            if self.holidays.contains(&date) {
                return Ok(Vec::new());
            }
            let spans =
                &self.week[usize::try_from(date.weekday().to_monday_zero_offset()).unwrap_or(0)];
            spans
                .iter()
                .map(|&(open, close)| Ok((self.instant(date, open)?, self.instant(date, close)?)))
                .collect::<Result<Vec<_>, jiff::Error>>()
                .map_err(|_| CalendarError::OutOfRange(name.to_owned()))
        })
    }

    /// `minutes` after `date`'s midnight, as a wall-clock time in the zone (past 24:00 it is
    /// the next day's time), disambiguated by the compatible rule (module doc).
    fn instant(&self, date: Date, minutes: u32) -> Result<Timestamp, jiff::Error> {
        let midnight: DateTime = date.at(0, 0, 0, 0);
        let local = midnight.checked_add(SignedDuration::from_mins(i64::from(minutes)))?;
        self.tz.to_timestamp(local)
    }
}

#[cfg(test)]
mod tests;

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

use crate::config::{RawCalendar, parse_day, parse_span};

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
    holidays: BTreeSet<Date>,
    /// Open time in any seven days without holidays or offset changes, overlaps counted once.
    weekly: SignedDuration,
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
        let holidays = raw
            .holidays
            .iter()
            .map(|h| {
                h.parse::<Date>()
                    .map_err(|_| invalid(format!("holiday \"{h}\" is not a date")))
            })
            .collect::<Result<_, _>>()?;
        let weekly = weekly_open(&week);
        Ok(Calendar {
            name: raw.name.clone(),
            hours: Some(Hours {
                tz,
                week,
                holidays,
                weekly,
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
            if let Some((end, weeks)) = walk
                .skippable_weeks(at, left, Timestamp::MAX)
                .map_err(|_| range())?
            {
                left -= h.weekly * weeks;
                at = end;
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
            if let Some((end, weeks)) = walk
                .skippable_weeks(at, SignedDuration::MAX, to)
                .map_err(|_| range())?
            {
                sum += h.weekly * weeks;
                at = end;
                continue;
            }
            if walk.midnight().map_err(|_| range())? >= to {
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

/// Hours around a zone's offset change in which wall-clock times are converted by the zone's
/// full rules (gaps, folds); elsewhere one offset serves. Offset changes are at most a few
/// hours, so three is a margin.
const NEAR_CHANGE: SignedDuration = SignedDuration::from_hours(3);

/// A day-by-day walk over a calendar's open spans, from the day before a start instant's
/// local date (whose night span may still be running). Wall-clock times become instants with
/// the offset in force, kept until the zone's next change: a search of the zone's transitions
/// per change instead of per span. A week with no holiday and no offset change in reach is
/// stepped over whole.
struct Walk<'h> {
    hours: &'h Hours,
    /// The next day whose spans [`Walk::day`] gives.
    date: Date,
    /// An offset, the instant the zone's rules gave it, and the zone's next change after it.
    offset: Option<(jiff::tz::Offset, Timestamp, Timestamp)>,
}

impl<'h> Walk<'h> {
    fn new(hours: &'h Hours, from: Timestamp) -> Walk<'h> {
        let today = hours.tz.to_datetime(from).date();
        Walk {
            hours,
            date: today.yesterday().unwrap_or(today),
            offset: None,
        }
    }

    /// The open spans of the next day (none on a holiday), as instants in order.
    fn day(&mut self, spans: &mut Vec<(Timestamp, Timestamp)>) -> Result<(), jiff::Error> {
        spans.clear();
        let date = self.date;
        self.date = date.tomorrow()?;
        if self.hours.holidays.contains(&date) {
            return Ok(());
        }
        let week = &self.hours.week[weekday(date)];
        if week.is_empty() {
            return Ok(());
        }
        if self.offset.is_none() {
            self.instant(date, 0)?;
        }
        // With one offset from this midnight until past the next day (night spans end there),
        // every span is that midnight's instant plus its minutes: no civil arithmetic per span.
        // The midnight is taken with the kept offset as it is, not by the zone's rules, so a
        // midnight the clocks skip (some zones change at 00:00) is never the base.
        let steady = match self.offset {
            Some((offset, since, until)) => {
                let base = offset.to_timestamp(date.at(0, 0, 0, 0))?;
                let day_after = base.checked_add(SignedDuration::from_hours(48))?;
                (base >= since && day_after < until.saturating_sub(NEAR_CHANGE)?).then_some(base)
            }
            None => None,
        };
        for &(open, close) in week {
            spans.push(match steady {
                Some(base) => (
                    base.checked_add(SignedDuration::from_mins(i64::from(open)))?,
                    base.checked_add(SignedDuration::from_mins(i64::from(close)))?,
                ),
                None => (self.instant(date, open)?, self.instant(date, close)?),
            });
        }
        Ok(())
    }

    /// Midnight starting the next day.
    fn midnight(&mut self) -> Result<Timestamp, jiff::Error> {
        self.instant(self.date, 0)
    }

    /// When whole weeks from the next day's midnight can be counted as `weekly` open time each
    /// without walking them, answers where they end and how many, and moves past them. That
    /// needs: nothing counted in them yet (`at` not past their start), more than their open
    /// time still `left` to find (the deadline lies beyond them), their end not past `limit`,
    /// no holiday from the day before (its night span reaches in) to their last day, and one
    /// offset throughout (each local minute one real minute).
    fn skippable_weeks(
        &mut self,
        at: Timestamp,
        left: SignedDuration,
        limit: Timestamp,
    ) -> Result<Option<(Timestamp, i32)>, jiff::Error> {
        const WEEK: i128 = 7 * 24 * 3600 * 1_000_000_000;
        let weekly = self.hours.weekly.as_nanos();
        if left.as_nanos() <= weekly {
            return Ok(None);
        }
        let start = self.midnight()?;
        let Some((_, since, until)) = self.offset else {
            return Ok(None);
        };
        if at > start || start < since {
            return Ok(None);
        }
        // Room before the next offset change, leaving the last week's night span and the
        // margin around the change to the day-by-day walk.
        let reach = SignedDuration::from_hours(24).as_nanos() + NEAR_CHANGE.as_nanos();
        let by_offset = (start.duration_until(until).as_nanos() - reach - 1).div_euclid(WEEK);
        let by_limit = start.duration_until(limit).as_nanos().div_euclid(WEEK);
        let by_left = (left.as_nanos() - 1).div_euclid(weekly.max(1));
        let before = self.date.yesterday()?;
        let by_holiday = match self.hours.holidays.range(before..).next() {
            Some(h) if *h == before => 0,
            Some(h) => i128::from(self.date.until(*h)?.get_days()).div_euclid(7),
            None => i128::MAX,
        };
        let weeks = by_offset.min(by_limit).min(by_left).min(by_holiday);
        let Ok(weeks) = i32::try_from(weeks) else {
            return Ok(None);
        };
        if weeks < 1 {
            return Ok(None);
        }
        let end = start.checked_add(SignedDuration::from_hours(7 * 24) * weeks)?;
        // The next day to walk is the last one skipped: its night span runs past the end, and
        // `at` (set to the end by the caller) keeps its earlier part out.
        self.date = self
            .date
            .checked_add(jiff::Span::new().days(7 * weeks - 1))?;
        Ok(Some((end, weeks)))
    }

    /// `minutes` after `date`'s midnight, as a wall-clock time in the zone (past 24:00 it is
    /// the next day's time), disambiguated by the compatible rule (module doc).
    fn instant(&mut self, date: Date, minutes: u32) -> Result<Timestamp, jiff::Error> {
        let midnight: DateTime = date.at(0, 0, 0, 0);
        let local = midnight.checked_add(SignedDuration::from_mins(i64::from(minutes)))?;
        if let Some((offset, since, until)) = self.offset {
            let ts = offset.to_timestamp(local)?;
            if ts >= since && ts < until.saturating_sub(NEAR_CHANGE)? {
                return Ok(ts);
            }
        }
        // The full rules, and the offset they found kept from here (the walk only goes
        // forward) to the next change.
        let tz = &self.hours.tz;
        let ts = tz.to_timestamp(local)?;
        let until = tz
            .following(ts)
            .next()
            .map_or(Timestamp::MAX, |t| t.timestamp());
        self.offset = Some((tz.to_offset(ts), ts, until));
        Ok(ts)
    }
}

/// The minutes of a week that some span covers: a week is a circle, so Sunday's night span
/// covers Monday's first hours, and any seven days from a midnight hold each minute once.
fn weekly_open(week: &[Vec<(u32, u32)>; 7]) -> SignedDuration {
    const WEEK: usize = 7 * 1440;
    let mut open = vec![false; WEEK];
    for (day, spans) in (0usize..).zip(week) {
        for &(from, to) in spans {
            for minute in from..to {
                let m = usize::try_from(minute).unwrap_or(0);
                open[(day * 1440 + m) % WEEK] = true;
            }
        }
    }
    let minutes = open.iter().filter(|m| **m).count();
    SignedDuration::from_mins(i64::try_from(minutes).unwrap_or(0))
}

/// Monday 0 … Sunday 6.
fn weekday(date: Date) -> usize {
    usize::try_from(date.weekday().to_monday_zero_offset()).unwrap_or(0)
}

#[cfg(test)]
mod tests;

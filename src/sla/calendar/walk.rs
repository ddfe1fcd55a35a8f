//! The walk over a calendar from a start instant: stretches where the week circle holds are
//! counted at once, and the days between them (holidays, offset changes) are walked one by
//! one, their spans made instants in order. Days are counted as integers from 1970-01-01 in
//! local time, so a day costs no civil-date arithmetic unless an offset change is near.

use jiff::{SignedDuration, Timestamp};

use super::Hours;
use super::week::{Circle, DAY};
use super::zone::compatible;

/// The largest UTC offset a zone can have (jiff's bound): the instant of a wall-clock time is
/// never earlier than that time read as UTC less this.
const MAX_OFFSET: i64 = 26 * 3600;

pub(super) struct Walk<'h> {
    hours: &'h Hours,
    /// The next day whose spans [`Walk::day`] gives. Spans of the days before it have been
    /// counted up to the caller's cursor, and none reaches past it.
    day: i64,
    /// The first period that ends after the day before `day` begins.
    period: usize,
    /// The first holiday not before the day before `day`.
    holiday: usize,
}

/// Wall-clock time from `start` (with `lead` nanoseconds of its first second already past) up
/// to the midnight `end`, all of it under one offset and with no holiday in reach: the week
/// circle counts it as it is.
pub(super) struct Stretch {
    offset: i64,
    start: i64,
    /// The circle's running sum at `start`.
    running: i64,
    lead: i32,
    end: i64,
}

impl<'h> Walk<'h> {
    /// From the day before `from`'s local date, whose night span may still be running.
    pub(super) fn new(hours: &'h Hours, from: Timestamp) -> Walk<'h> {
        let (second, _) = split(from);
        let at = hours.offsets.index_instant(second);
        let offset = match hours.offsets.get(at).filter(|p| p.since <= second) {
            Some(p) => p.offset,
            None => i64::from(hours.tz.to_offset(from).seconds()),
        };
        let day = (second + offset).div_euclid(DAY) - 1;
        Walk {
            hours,
            day,
            // Two days before `from`, so the same period or the one before.
            period: hours.offsets.index_local((day - 1) * DAY, at),
            holiday: hours.holidays.partition_point(|&h| h < day - 1),
        }
    }

    /// The stretch that starts at the cursor `at` (or at the next day's midnight if that is
    /// later; the time between holds nothing), when the circle can count from there.
    pub(super) fn stretch(&self, at: Timestamp) -> Option<Stretch> {
        let p = self.hours.offsets.get(self.period)?;
        let (second, nanos) = split(at);
        let midnight = self.day * DAY;
        let (start, lead) = if second + p.offset < midnight {
            (midnight, 0)
        } else if (p.since..p.until).contains(&second) {
            (second + p.offset, nanos)
        } else {
            return None;
        };
        // The first day whose spans can reach `start`; the ones before end before it, in the
        // circle as in the calendar.
        let first = start.div_euclid(DAY) - 1;
        if first * DAY < p.local_since() {
            return None;
        }
        // Up to the last day whose spans (two days long at most) end before the period does,
        // and up to the first holiday.
        let by_zone = (p.local_until().div_euclid(DAY) - 1) * DAY;
        let by_holiday = self
            .hours
            .holidays
            .get(self.holiday..)
            .and_then(|rest| rest.iter().find(|&&h| h >= first))
            .map_or(i64::MAX, |&h| h * DAY);
        let end = by_zone.min(by_holiday);
        (end > start).then(|| Stretch {
            offset: p.offset,
            start,
            running: self.hours.circle.running(start),
            lead,
            end,
        })
    }

    /// Moves the walk past a stretch counted whole; the cursor becomes its end. The next day
    /// is the stretch's last, whose night span runs past the end.
    pub(super) fn leave(&mut self, s: &Stretch) -> Result<Timestamp, jiff::Error> {
        self.day = s.end.div_euclid(DAY) - 1;
        self.follow();
        Timestamp::from_second(s.end - s.offset)
    }

    /// Whether every span of the days left to walk starts after `to`.
    pub(super) fn past(&self, to: Timestamp) -> bool {
        self.day * DAY - MAX_OFFSET > split(to).0
    }

    /// The open spans of the next day (none on a holiday), as instants in order of their
    /// starts, which the callers' cursor needs. Near an offset change the next day's spans are
    /// given too, sorted with these: an opening inside a spring-forward gap becomes an instant
    /// after the gap, later than openings just past it, which may belong to the next day when
    /// the gap holds a midnight.
    pub(super) fn day(
        &mut self,
        spans: &mut Vec<(Timestamp, Timestamp)>,
    ) -> Result<(), jiff::Error> {
        spans.clear();
        let steady = self.spans(self.day, spans);
        self.day += 1;
        self.follow();
        if !steady? {
            let next = self.spans(self.day, spans);
            self.day += 1;
            self.follow();
            next?;
            spans.sort_unstable();
        }
        Ok(())
    }

    /// Appends `day`'s spans; false when they were converted end by end, near a change.
    fn spans(
        &self,
        day: i64,
        spans: &mut Vec<(Timestamp, Timestamp)>,
    ) -> Result<bool, jiff::Error> {
        let holidays = self.hours.holidays.get(self.holiday..).unwrap_or_default();
        if holidays
            .iter()
            .take_while(|&&h| h <= day)
            .any(|&h| h == day)
        {
            return Ok(true);
        }
        let weekday = usize::try_from((day + 3).rem_euclid(7)).unwrap_or(0);
        let Some(week) = self.hours.week.get(weekday) else {
            return Ok(true);
        };
        let base = day * DAY;
        // One offset for the whole day and the next (night spans end there) is the common
        // case; otherwise each end is converted alone, by the full rules near the change.
        let whole = self.hours.offsets.over(self.period, base, base + 2 * DAY);
        for &(open, close) in week {
            let (open, close) = (base + i64::from(open) * 60, base + i64::from(close) * 60);
            spans.push(match whole {
                Some(o) => (
                    Timestamp::from_second(open - o)?,
                    Timestamp::from_second(close - o)?,
                ),
                None => (self.instant(open)?, self.instant(close)?),
            });
        }
        Ok(whole.is_some() || week.is_empty())
    }

    /// Wall-clock second `local` as an instant.
    fn instant(&self, local: i64) -> Result<Timestamp, jiff::Error> {
        match self.hours.offsets.over(self.period, local, local + 1) {
            Some(o) => Timestamp::from_second(local - o),
            None => compatible(&self.hours.tz, local),
        }
    }

    /// Brings the period and holiday indexes up to `day`.
    fn follow(&mut self) {
        let from = (self.day - 1) * DAY;
        while self
            .hours
            .offsets
            .get(self.period)
            .is_some_and(|p| p.local_until() <= from)
        {
            self.period += 1;
        }
        let holidays = &self.hours.holidays;
        while holidays
            .get(self.holiday)
            .is_some_and(|&h| h < self.day - 1)
        {
            self.holiday += 1;
        }
    }
}

impl Stretch {
    /// Business time from the stretch's start to local second `to` plus `nanos`, `to` not past
    /// the end.
    pub(super) fn open_until(&self, circle: &Circle, to: i64, nanos: i32) -> SignedDuration {
        if to < self.start {
            return SignedDuration::ZERO;
        }
        let secs = circle.running(to) - self.running;
        let tail = if nanos > 0 && circle.is_open(to) {
            nanos
        } else {
            0
        };
        SignedDuration::from_secs(secs)
            + SignedDuration::from_nanos(i64::from(tail - self.lead(circle)))
    }

    /// Business time in the whole stretch.
    pub(super) fn open(&self, circle: &Circle) -> SignedDuration {
        self.open_until(circle, self.end, 0)
    }

    /// The local second at which `to` falls, with its nanoseconds, if before the end.
    pub(super) fn local(&self, to: Timestamp) -> Option<(i64, i32)> {
        let (second, nanos) = split(to);
        let local = second + self.offset;
        (local < self.end).then_some((local, nanos))
    }

    /// The instant `left` of business time after the start, `left` positive and not more
    /// than [`Stretch::open`]: the open second in which it ends, found by its number, and
    /// the part of that second used (a whole one ends the deadline at that second's end, so
    /// a deadline at closing time is the closing time).
    pub(super) fn deadline(&self, circle: &Circle, left: SignedDuration) -> Option<Timestamp> {
        let lead = SignedDuration::from_nanos(i64::from(self.lead(circle)));
        let target = left.checked_add(lead)?;
        let whole = target.checked_sub(SignedDuration::from_nanos(1))?.as_secs();
        let part = target.checked_sub(SignedDuration::from_secs(whole))?;
        let second = circle.nth(self.running.checked_add(whole)?)?;
        Timestamp::from_second(second - self.offset)
            .ok()?
            .checked_add(part)
            .ok()
    }

    /// The nanoseconds of the start's second already past, when that second is open (a
    /// closed one counts nothing either way).
    fn lead(&self, circle: &Circle) -> i32 {
        if self.lead > 0 && circle.is_open(self.start) {
            self.lead
        } else {
            0
        }
    }
}

/// Whole seconds (rounded down) and the nanoseconds past them.
fn split(t: Timestamp) -> (i64, i32) {
    let (s, n) = (t.as_second(), t.subsec_nanosecond());
    if n < 0 {
        (s - 1, n + 1_000_000_000)
    } else {
        (s, n)
    }
}

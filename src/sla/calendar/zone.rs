//! Where one UTC offset turns a calendar's wall-clock times into instants. The zone's
//! transitions from 1970 to 2200 are read once per calendar into a sorted table of periods,
//! each a stretch of instants whose wall-clock times all follow one offset under the
//! "compatible" rule (module doc of `calendar`), so the walk finds its offset by comparing
//! integers instead of asking the zone per span. Around each change, and outside the table,
//! the zone's full rules are asked for every wall-clock time, exactly as before the table.

use jiff::Timestamp;
use jiff::tz::{Offset, TimeZone};

use super::week::DAY;

/// The table's first and last instants (1970-01-01, 2200-01-01): deadlines outside them are
/// computed by the full rules, day by day.
const FIRST: i64 = 0;
const LAST: i64 = 7_258_118_400;

/// Seconds at each side of a change left to the full rules, as a margin: no gap or fold of
/// the tz database is wider than a day, and a fold is added to it where one is.
const NEAR_CHANGE: i64 = 3 * 3600;

/// Instants `[since, until)` in seconds whose local wall-clock times `[since + offset,
/// until + offset)` all convert back by subtracting `offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Period {
    pub(super) since: i64,
    pub(super) until: i64,
    pub(super) offset: i64,
}

impl Period {
    pub(super) fn local_since(&self) -> i64 {
        self.since + self.offset
    }

    pub(super) fn local_until(&self) -> i64 {
        self.until + self.offset
    }
}

/// The periods of one zone, in order; their local ranges are in order too, because each
/// starts after the fold of the change before it.
#[derive(Debug, Clone, Default)]
pub(super) struct Offsets {
    periods: Vec<Period>,
}

impl Offsets {
    pub(super) fn new(tz: &TimeZone) -> Offsets {
        let Ok(first) = Timestamp::from_second(FIRST) else {
            return Offsets::default();
        };
        // (start, offset) of each offset in force in the table's range; a transition that
        // changes only the abbreviation or the DST flag does not start one.
        let mut starts = vec![(FIRST, i64::from(tz.to_offset(first).seconds()))];
        for t in tz.following(first) {
            let at = t.timestamp().as_second();
            if at >= LAST {
                break;
            }
            let offset = i64::from(t.offset().seconds());
            if starts.last().is_some_and(|&(_, o)| o != offset) {
                starts.push((at, offset));
            }
        }
        let mut periods = Vec::with_capacity(starts.len());
        for (i, &(start, offset)) in starts.iter().enumerate() {
            let until = starts
                .get(i + 1)
                .map_or(LAST, |&(next, _)| next - NEAR_CHANGE);
            let since = match i.checked_sub(1).and_then(|p| starts.get(p)) {
                // An earlier offset reaches at most 52 hours into local time, so a period
                // after one of three days or more can only overlap its predecessor's fold.
                Some(&(prev_start, prev)) if start - prev_start >= 3 * DAY => {
                    start + NEAR_CHANGE.max(prev - offset)
                }
                Some(_) => continue,
                None => start + 3 * DAY,
            };
            let period = Period {
                since,
                until,
                offset,
            };
            if since < until && agrees(tz, &period) {
                periods.push(period);
            }
        }
        Offsets { periods }
    }

    /// The index of the first period whose local range ends after local second `local`,
    /// searched from index `near`, a few periods away at most.
    pub(super) fn index_local(&self, local: i64, near: usize) -> usize {
        let ends_after = |i: usize| self.periods.get(i).is_none_or(|p| p.local_until() > local);
        let mut i = near.min(self.periods.len());
        while !ends_after(i) {
            i += 1;
        }
        while i > 0 && ends_after(i - 1) {
            i -= 1;
        }
        i
    }

    /// The index of the first period that ends after instant `second`.
    pub(super) fn index_instant(&self, second: i64) -> usize {
        self.periods.partition_point(|p| p.until <= second)
    }

    pub(super) fn get(&self, i: usize) -> Option<&Period> {
        self.periods.get(i)
    }

    /// The offset of the period, from index `i` on, whose local range holds `[from, to)`.
    pub(super) fn over(&self, i: usize, from: i64, to: i64) -> Option<i64> {
        let rest = self.periods.get(i..)?;
        let p = rest.iter().find(|p| p.local_until() > from)?;
        (p.local_since() <= from && to <= p.local_until()).then_some(p.offset)
    }
}

/// The zone's full rules for the wall-clock time `local` seconds after 1970-01-01 00:00,
/// disambiguated by the compatible rule.
pub(super) fn compatible(tz: &TimeZone, local: i64) -> Result<Timestamp, jiff::Error> {
    let civil = Offset::UTC.to_datetime(Timestamp::from_second(local)?);
    tz.to_timestamp(civil)
}

/// Whether the full rules give the period's offset at both its ends: a check of the argument
/// above against the zone itself, so that a period the argument misjudges is left out.
fn agrees(tz: &TimeZone, p: &Period) -> bool {
    [p.since, p.until - 1].iter().all(|&at| {
        let offset = Timestamp::from_second(at).map(|ts| i64::from(tz.to_offset(ts).seconds()));
        offset.is_ok_and(|o| o == p.offset)
            && compatible(tz, at + p.offset).is_ok_and(|ts| ts.as_second() == at)
    })
}

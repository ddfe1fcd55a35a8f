//! The week circle: a calendar's opening hours folded onto the seconds of a week from
//! Monday's midnight. Wherever no holiday and no offset change is near, open time between two
//! wall-clock times is a difference of running sums over this circle, and the wall-clock time
//! at which a given amount of it has passed is a division and a binary search, however many
//! weeks lie between: the long deadlines of issue 5 cost no more than the short ones.

/// Seconds in a day and in a week of local time.
pub(super) const DAY: i64 = 86_400;
pub(super) const WEEK: i64 = 7 * DAY;

/// Local time of Monday 1970-01-05 00:00 in seconds after 1970-01-01 00:00: where the weeks
/// of the running sum begin.
const MONDAY: i64 = 4 * DAY;

#[derive(Debug, Clone)]
pub(super) struct Circle {
    /// Disjoint open intervals in seconds from Monday 00:00, in order, inside one week; a
    /// night span over Sunday midnight is split at the week's end.
    open: Vec<(i64, i64)>,
    /// Open seconds in the week before each interval.
    before: Vec<i64>,
    /// Open seconds in a week, overlaps counted once.
    weekly: i64,
}

impl Circle {
    /// `week` as in `Hours`: Monday first, minutes from the day's midnight.
    pub(super) fn new(week: &[Vec<(u32, u32)>; 7]) -> Circle {
        const MINUTES: usize = 7 * 1440;
        let mut covered = vec![false; MINUTES];
        for (day, spans) in (0usize..).zip(week) {
            for &(from, to) in spans {
                for minute in from..to {
                    let m = usize::try_from(minute).unwrap_or(0);
                    if let Some(c) = covered.get_mut((day * 1440 + m) % MINUTES) {
                        *c = true;
                    }
                }
            }
        }
        let (mut open, mut before, mut weekly) = (Vec::new(), Vec::new(), 0);
        let mut run = None;
        for (minute, &c) in (0i64..).zip(covered.iter().chain([&false])) {
            match (run, c) {
                (None, true) => run = Some(minute),
                (Some(start), false) => {
                    open.push((start * 60, minute * 60));
                    before.push(weekly);
                    weekly += (minute - start) * 60;
                    run = None;
                }
                _ => {}
            }
        }
        Circle {
            open,
            before,
            weekly,
        }
    }

    /// Open seconds from the circle's origin to local second `at` (negative before it).
    pub(super) fn running(&self, at: i64) -> i64 {
        let (weeks, pos) = (
            (at - MONDAY).div_euclid(WEEK),
            (at - MONDAY).rem_euclid(WEEK),
        );
        let i = self.open.partition_point(|&(start, _)| start < pos);
        let within = match i.checked_sub(1).and_then(|k| Some((self.open.get(k)?, k))) {
            Some((&(start, end), k)) => {
                self.before.get(k).copied().unwrap_or(0) + pos.min(end) - start
            }
            None => 0,
        };
        weeks * self.weekly + within
    }

    /// Whether the local second starting at `at` is open.
    pub(super) fn is_open(&self, at: i64) -> bool {
        self.running(at + 1) > self.running(at)
    }

    /// The local second that starts the open second numbered `n` from the origin, the one
    /// whose `running` is `n`.
    pub(super) fn nth(&self, n: i64) -> Option<i64> {
        if self.weekly <= 0 {
            return None;
        }
        let (weeks, r) = (n.div_euclid(self.weekly), n.rem_euclid(self.weekly));
        let k = self.before.partition_point(|&b| b <= r).checked_sub(1)?;
        let (&(start, _), &b) = (self.open.get(k)?, self.before.get(k)?);
        Some(MONDAY + weeks * WEEK + start + (r - b))
    }
}

//! Property tests of the calendar arithmetic against answers that share none of its code:
//! a minute-by-minute walker over random calendars in six zones, and the union of each day's
//! spans converted by the zone's full rules for deadlines months away.

use super::*;

fn mixed() -> Calendar {
    calendar(
        "Europe/Rome",
        &[
            ("mon", "08:00-12:30, 13:30-18:00"),
            ("tue", "09:00-17:00"),
            ("wed", "22:00-06:00"),
            ("fri", "00:00-24:00"),
            ("sun", "02:30-04:00"),
        ],
        &["2026-03-30", "2026-10-23", "2026-12-25"],
    )
}

proptest! {
    /// The time between a start and the deadline `d` after it is `d`, to the nanosecond,
    /// across weekends, holidays, night shifts and both DST changes of 2026.
    #[test]
    fn the_time_up_to_a_deadline_is_the_duration_added(
        start in 1_767_225_600i64..1_798_761_600i64,
        minutes in 0i64..20_000,
    ) {
        let c = mixed();
        let from = Timestamp::from_second(start).expect("instant");
        let d = SignedDuration::from_mins(minutes);
        let due = c.add(from, d).expect("add");
        prop_assert!(due >= from);
        prop_assert_eq!(c.between(from, due).expect("between"), d);
    }

    /// Adding in two steps ends where adding at once does.
    #[test]
    fn adding_in_steps_is_adding_at_once(
        start in 1_767_225_600i64..1_798_761_600i64,
        a in 0i64..5_000,
        b in 0i64..5_000,
    ) {
        let c = mixed();
        let from = Timestamp::from_second(start).expect("instant");
        let (a, b) = (SignedDuration::from_mins(a), SignedDuration::from_mins(b));
        let once = c.add(from, a + b).expect("add");
        let steps = c.add(c.add(from, a).expect("add"), b).expect("add");
        prop_assert_eq!(once, steps);
    }
}

/// The zones of issue 5's tests: a 30-minute DST shift (Lord Howe), none at all (Kolkata), a
/// 45-minute offset (Chatham), and the two common ones; and Santiago, whose clocks change at
/// midnight, so that a day's midnight itself can be skipped or repeated.
const ZONES: [&str; 6] = [
    "Europe/Rome",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "Pacific/Chatham",
    "America/Santiago",
];

/// A random calendar: per weekday up to two spans on the quarter hour, some past midnight,
/// and a few holidays in the test's years.
fn any_calendar() -> impl Strategy<Value = RawCalendar> {
    let span = (0u32..96, 1u32..96).prop_map(|(start, len)| {
        let (a, b) = (start * 15, (start * 15 + len * 15) % 1440);
        format!("{:02}:{:02}-{:02}:{:02}", a / 60, a % 60, b / 60, b % 60)
    });
    let day = proptest::collection::vec(span, 0..3);
    (
        0..ZONES.len(),
        proptest::collection::vec(day, 7),
        proptest::collection::vec((2026i16..2028, 1i8..13, 1i8..29), 0..6),
    )
        .prop_filter_map("open at least once a week", |(z, days, hol)| {
            let hours: BTreeMap<String, String> = crate::config::DAYS
                .iter()
                .zip(days)
                .filter(|(_, spans)| !spans.is_empty())
                .map(|(n, spans)| ((*n).to_owned(), spans.join(", ")))
                .collect();
            (!hours.is_empty()).then(|| RawCalendar {
                name: "random".into(),
                timezone: ZONES[z].into(),
                hours,
                holidays: hol
                    .into_iter()
                    .map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}"))
                    .collect(),
            })
        })
}

/// The independent answer: whether the minute starting at `t` is open, asked of each day whose
/// spans could cover it, with no walking, merging or cursor.
fn open_at(raw: &RawCalendar, t: Timestamp) -> bool {
    let tz = TimeZone::get(&raw.timezone).expect("zone");
    let today = tz.to_datetime(t).date();
    [today.yesterday().expect("date"), today].iter().any(|d| {
        if raw.holidays.contains(&d.to_string()) {
            return false;
        }
        let name = crate::config::DAYS
            [usize::try_from(d.weekday().to_monday_zero_offset()).expect("weekday")];
        raw.hours.get(name).is_some_and(|spans| {
            spans.split(',').any(|s| {
                let (o, c) = crate::config::parse_span(s.trim()).expect("span");
                let at = |m: u32| {
                    let local = d
                        .at(0, 0, 0, 0)
                        .checked_add(SignedDuration::from_mins(i64::from(m)))
                        .expect("local time");
                    tz.to_timestamp(local).expect("instant")
                };
                at(o) <= t && t < at(c)
            })
        })
    })
}

/// Business minutes in `[from, to)` by walking every minute.
fn walk(raw: &RawCalendar, from: Timestamp, to: Timestamp) -> i64 {
    let mut n = 0;
    let mut t = from;
    while t < to {
        if open_at(raw, t) {
            n += 1;
        }
        t = t
            .checked_add(SignedDuration::from_mins(1))
            .expect("instant");
    }
    n
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Against the minute walker, over random calendars in five zones, instants across the
    /// DST changes and the year end of 2026: the deadline is reached after exactly `d`
    /// business minutes, and its last minute is an open one.
    #[test]
    fn deadlines_agree_with_a_minute_by_minute_walk(
        raw in any_calendar(),
        minute in 29_446_560i64..29_999_520i64,
        d in 0i64..2_500,
    ) {
        let c = Calendar::from_config(&raw).expect("calendar");
        let from = Timestamp::from_second(minute * 60).expect("instant");
        let due = c.add(from, SignedDuration::from_mins(d)).expect("add");
        prop_assert_eq!(walk(&raw, from, due), d);
        if d > 0 {
            let last = due.checked_sub(SignedDuration::from_mins(1)).expect("instant");
            prop_assert!(open_at(&raw, last), "the deadline ends an open minute");
        }
    }

    /// The same walker counts the business time between any two instants a few days apart.
    #[test]
    fn time_between_agrees_with_a_minute_by_minute_walk(
        raw in any_calendar(),
        minute in 29_446_560i64..29_999_520i64,
        len in 0i64..8_000,
    ) {
        let c = Calendar::from_config(&raw).expect("calendar");
        let from = Timestamp::from_second(minute * 60).expect("instant");
        let to = from.checked_add(SignedDuration::from_mins(len)).expect("instant");
        prop_assert_eq!(
            c.between(from, to).expect("between"),
            SignedDuration::from_mins(walk(&raw, from, to))
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// Deadlines weeks ahead, where whole weeks are counted without walking their days,
    /// against the same walker.
    #[test]
    fn deadlines_weeks_ahead_agree_with_a_minute_by_minute_walk(
        raw in any_calendar(),
        minute in 29_446_560i64..29_999_520i64,
        d in 2_500i64..15_000,
    ) {
        let c = Calendar::from_config(&raw).expect("calendar");
        let from = Timestamp::from_second(minute * 60).expect("instant");
        let due = c.add(from, SignedDuration::from_mins(d)).expect("add");
        prop_assert_eq!(walk(&raw, from, due), d);
        let last = due.checked_sub(SignedDuration::from_mins(1)).expect("instant");
        prop_assert!(open_at(&raw, last), "the deadline ends an open minute");
    }
}

/// The open intervals of `raw`'s days from the day before `from`'s date to `to`'s date, each
/// span made instants by the zone's full rules: an answer independent of the walk, its
/// offset cache and its week circle, cheap enough for deadlines many months away.
fn intervals(raw: &RawCalendar, from: Timestamp, to: Timestamp) -> Vec<(Timestamp, Timestamp)> {
    let tz = TimeZone::get(&raw.timezone).expect("zone");
    let last = tz.to_datetime(to).date();
    let mut day = tz.to_datetime(from).date().yesterday().expect("date");
    let mut out = Vec::new();
    while day <= last {
        let name = crate::config::DAYS
            [usize::try_from(day.weekday().to_monday_zero_offset()).expect("weekday")];
        if !raw.holidays.contains(&day.to_string())
            && let Some(spans) = raw.hours.get(name)
        {
            for s in spans.split(',') {
                let (o, c) = crate::config::parse_span(s.trim()).expect("span");
                let at = |m: u32| {
                    let local = day
                        .at(0, 0, 0, 0)
                        .checked_add(SignedDuration::from_mins(i64::from(m)))
                        .expect("local time");
                    tz.to_timestamp(local).expect("instant")
                };
                out.push((at(o), at(c)));
            }
        }
        day = day.tomorrow().expect("date");
    }
    out
}

/// Business time in `[from, to)` as the measure of the union of [`intervals`].
fn measure(raw: &RawCalendar, from: Timestamp, to: Timestamp) -> SignedDuration {
    let mut spans: Vec<_> = intervals(raw, from, to)
        .into_iter()
        .map(|(a, b)| (a.max(from), b.min(to)))
        .filter(|(a, b)| a < b)
        .collect();
    spans.sort();
    let (mut sum, mut reached) = (SignedDuration::ZERO, from);
    for (a, b) in spans {
        let a = a.max(reached);
        if b > a {
            sum += a.duration_until(b);
            reached = b;
        }
    }
    sum
}

/// Open minutes in a week of `raw` without holidays or offset changes, by the minute.
fn weekly_minutes(raw: &RawCalendar) -> i64 {
    let mut open = [false; 7 * 1440];
    for (i, name) in crate::config::DAYS.iter().enumerate() {
        for s in raw.hours.get(*name).into_iter().flat_map(|h| h.split(',')) {
            let (o, c) = crate::config::parse_span(s.trim()).expect("span");
            for m in o..c {
                open[(i * 1440 + usize::try_from(m).expect("minute")) % (7 * 1440)] = true;
            }
        }
    }
    i64::try_from(open.iter().filter(|m| **m).count()).expect("count")
}

/// A random calendar with many holidays over 2026–2027, some of them on consecutive days.
fn calendar_with_holidays() -> impl Strategy<Value = RawCalendar> {
    (
        any_calendar(),
        proptest::collection::vec((2026i16..2028, 1i8..13, 1i8..26, 1i8..4), 0..10),
    )
        .prop_map(|(mut raw, runs)| {
            for (y, m, d, n) in runs {
                for k in 0..n {
                    raw.holidays.push(format!("{y:04}-{m:02}-{:02}", d + k));
                }
            }
            raw
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Deadlines from one to sixty weeks of opening hours ahead, from any nanosecond of 2026:
    /// across several holidays, both offset changes of a year or two and the year end, where
    /// the walk counts whole stretches on the week circle. Against the interval union: the
    /// business time up to the deadline is what was added, and the deadline ends open time.
    #[test]
    fn long_deadlines_agree_with_the_union_of_each_days_spans(
        raw in calendar_with_holidays(),
        second in 1_767_225_600i64..1_798_761_600i64,
        nanos in prop_oneof![Just(0i32), 0i32..1_000_000_000],
        weeks_percent in 100i64..6_000,
    ) {
        let c = Calendar::from_config(&raw).expect("calendar");
        let from = Timestamp::new(second, nanos).expect("instant");
        let d = SignedDuration::from_secs(weekly_minutes(&raw) * 60 * weeks_percent / 100)
            + SignedDuration::from_nanos(i64::from(nanos % 7_000));
        let due = c.add(from, d).expect("add");
        prop_assert_eq!(measure(&raw, from, due), d);
        let last = due.checked_sub(SignedDuration::from_nanos(1)).expect("instant");
        prop_assert!(
            intervals(&raw, from, due).iter().any(|&(a, b)| a <= last && last < b),
            "the deadline ends open time"
        );
        prop_assert_eq!(c.between(from, due).expect("between"), d);
    }

    /// Business time between instants up to a year and a half apart, against the same union.
    #[test]
    fn long_stretches_between_agree_with_the_union_of_each_days_spans(
        raw in calendar_with_holidays(),
        second in 1_767_225_600i64..1_798_761_600i64,
        nanos in prop_oneof![Just(0i32), 0i32..1_000_000_000],
        len in 0i64..47_000_000_000_000_000,
    ) {
        let c = Calendar::from_config(&raw).expect("calendar");
        let from = Timestamp::new(second, nanos).expect("instant");
        let to = from.checked_add(SignedDuration::from_nanos(len)).expect("instant");
        prop_assert_eq!(c.between(from, to).expect("between"), measure(&raw, from, to));
    }
}

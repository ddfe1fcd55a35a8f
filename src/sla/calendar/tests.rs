use std::collections::BTreeMap;

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;

use super::{Calendar, CalendarError};
use crate::config::RawCalendar;

fn calendar(tz: &str, hours: &[(&str, &str)], holidays: &[&str]) -> Calendar {
    let raw = RawCalendar {
        name: "office".into(),
        timezone: tz.into(),
        hours: hours
            .iter()
            .map(|(d, h)| ((*d).to_owned(), (*h).to_owned()))
            .collect::<BTreeMap<_, _>>(),
        holidays: holidays.iter().map(|h| (*h).to_owned()).collect(),
    };
    Calendar::from_config(&raw).expect("a valid calendar")
}

const WEEKDAYS: [(&str, &str); 5] = [
    ("mon", "09:00-18:00"),
    ("tue", "09:00-18:00"),
    ("wed", "09:00-18:00"),
    ("thu", "09:00-18:00"),
    ("fri", "09:00-18:00"),
];

fn office() -> Calendar {
    calendar("Europe/Rome", &WEEKDAYS, &[])
}

/// A local wall-clock time in `tz` ("2026-11-20 17:00").
fn local(tz: &str, s: &str) -> Timestamp {
    let dt: DateTime = s.parse().expect("civil datetime");
    TimeZone::get(tz)
        .expect("zone")
        .to_timestamp(dt)
        .expect("instant")
}

fn rome(s: &str) -> Timestamp {
    local("Europe/Rome", s)
}

fn hours(h: i64) -> SignedDuration {
    SignedDuration::from_hours(h)
}

#[test]
fn four_business_hours_from_friday_afternoon_end_on_monday_at_noon() {
    let due = office()
        .add(rome("2026-11-20 17:00"), hours(4))
        .expect("add");
    assert_eq!(due, rome("2026-11-23 12:00"));
}

#[test]
fn time_before_opening_does_not_count() {
    let c = office();
    assert_eq!(
        c.add(rome("2026-11-23 07:00"), hours(1)).expect("add"),
        rome("2026-11-23 10:00")
    );
    assert_eq!(
        c.between(rome("2026-11-23 07:00"), rome("2026-11-23 10:00"))
            .expect("between"),
        hours(1)
    );
}

#[test]
fn a_deadline_at_closing_time_is_that_closing_time() {
    let due = office()
        .add(rome("2026-11-23 17:00"), hours(1))
        .expect("add");
    assert_eq!(due, rome("2026-11-23 18:00"));
}

#[test]
fn holidays_are_skipped() {
    let c = calendar("Europe/Rome", &WEEKDAYS, &["2026-12-25", "2026-12-28"]);
    // Thursday 24th 17:00: one hour that day, Friday 25th and Monday 28th are holidays
    // (the weekend is closed anyway), so the second hour is Tuesday 29th 09:00–10:00.
    assert_eq!(
        c.add(rome("2026-12-24 17:00"), hours(2)).expect("add"),
        rome("2026-12-29 10:00")
    );
}

#[test]
fn a_day_is_twenty_four_business_hours() {
    // Monday 9 h, Tuesday 9 h, then 6 h of Wednesday.
    let due = office()
        .add(rome("2026-11-23 09:00"), SignedDuration::from_hours(24))
        .expect("add");
    assert_eq!(due, rome("2026-11-25 15:00"));
}

#[test]
fn a_night_shift_runs_into_the_next_day() {
    let c = calendar("Europe/Rome", &[("mon", "22:00-06:00")], &[]);
    assert_eq!(
        c.add(rome("2026-11-23 23:00"), hours(2)).expect("add"),
        rome("2026-11-24 01:00")
    );
    // From Tuesday 05:00 the Monday shift has an hour left; the next is a week later.
    assert_eq!(
        c.add(rome("2026-11-24 05:00"), hours(2)).expect("add"),
        rome("2026-11-30 23:00")
    );
}

#[test]
fn a_night_shift_across_a_dst_change_counts_the_hours_that_pass() {
    let c = calendar("Europe/Rome", &[("sat", "22:00-06:00")], &[]);
    // The clocks go back at 03:00 on Sunday 2026-10-25: that night has 9 hours.
    assert_eq!(
        c.between(rome("2026-10-24 00:00"), rome("2026-10-26 00:00"))
            .expect("between"),
        hours(9)
    );
    // They go forward at 02:00 on Sunday 2026-03-29: that night has 7.
    assert_eq!(
        c.between(rome("2026-03-28 00:00"), rome("2026-03-30 00:00"))
            .expect("between"),
        hours(7)
    );
}

#[test]
fn an_opening_time_skipped_by_the_clocks_going_forward_is_read_past_the_gap() {
    // 02:30 does not exist on 2026-03-29 in Rome; read with the offset before the gap it is
    // 03:30 summer time, so the span is half an hour long.
    let c = calendar("Europe/Rome", &[("sun", "02:30-04:00")], &[]);
    assert_eq!(
        c.between(rome("2026-03-29 00:00"), rome("2026-03-30 00:00"))
            .expect("between"),
        SignedDuration::from_mins(30)
    );
}

#[test]
fn the_same_hours_in_another_zone_are_other_instants() {
    let ny = calendar("America/New_York", &WEEKDAYS, &[]);
    let due = ny
        .add(local("America/New_York", "2026-11-20 17:00"), hours(4))
        .expect("add");
    assert_eq!(due, local("America/New_York", "2026-11-23 12:00"));
    assert_eq!(due, rome("2026-11-23 18:00"));
}

#[test]
fn the_built_in_calendar_counts_every_instant() {
    let c = Calendar::always();
    let from = rome("2026-10-24 22:00");
    assert_eq!(
        c.add(from, hours(9)).expect("add"),
        rome("2026-10-25 06:00")
    );
    assert_eq!(
        c.between(from, rome("2026-10-25 06:00")).expect("between"),
        hours(9)
    );
}

#[test]
fn nothing_is_added_or_counted_backwards() {
    let c = office();
    let t = rome("2026-11-23 10:00");
    assert_eq!(c.add(t, SignedDuration::ZERO).expect("add"), t);
    assert_eq!(c.add(t, hours(-3)).expect("add"), t);
    assert_eq!(
        c.between(t, rome("2026-11-23 09:00")).expect("between"),
        SignedDuration::ZERO
    );
}

#[test]
fn overlapping_spans_count_once() {
    let c = calendar(
        "Europe/Rome",
        &[("mon", "22:00-06:00"), ("tue", "05:00-09:00, 08:00-10:00")],
        &[],
    );
    // Monday 22:00 to Tuesday 10:00 without a gap: 12 hours, not 8 + 4 + 2.
    assert_eq!(
        c.between(rome("2026-11-23 00:00"), rome("2026-11-25 00:00"))
            .expect("between"),
        hours(12)
    );
}

#[test]
fn a_calendar_without_hours_or_with_a_bad_key_is_refused() {
    let raw = |hours: &[(&str, &str)], tz: &str| RawCalendar {
        name: "shut".into(),
        timezone: tz.into(),
        hours: hours
            .iter()
            .map(|(d, h)| ((*d).to_owned(), (*h).to_owned()))
            .collect(),
        holidays: Vec::new(),
    };
    assert_eq!(
        Calendar::from_config(&raw(&[], "Europe/Rome")).err(),
        Some(CalendarError::NeverOpen("shut".into()))
    );
    let bad_zone = Calendar::from_config(&raw(&WEEKDAYS, "Mars/Olympus")).expect_err("refused");
    assert!(bad_zone.to_string().contains("Mars/Olympus"), "{bad_zone}");
    let bad_span =
        Calendar::from_config(&raw(&[("mon", "9-18")], "Europe/Rome")).expect_err("refused");
    assert!(bad_span.to_string().contains("hours.mon"), "{bad_span}");
}

#[test]
fn years_of_business_time_are_counted_exactly() {
    // 10,000 business hours on a 45-hour week: some four and a half years of days walked.
    let c = calendar("Europe/Rome", &WEEKDAYS, &["2027-01-01", "2028-12-25"]);
    let from = rome("2026-11-23 10:15");
    let due = c.add(from, hours(10_000)).expect("add");
    assert_eq!(c.between(from, due).expect("between"), hours(10_000));
    assert!(due > rome("2031-01-01 00:00") && due < rome("2031-06-01 00:00"));
}

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

#[test]
fn ten_business_days_cross_the_spring_change_and_easter_monday() {
    let c = calendar("Europe/Rome", &WEEKDAYS, &["2026-04-06", "2026-05-01"]);
    // 240 h on a 9-hour day: 26 days and 6 hours. From Monday 23 March the 24th business day
    // is Friday 24 April (Easter Monday skipped, the clocks forward on 29 March), so the
    // deadline is 6 hours into Wednesday 29 April.
    let from = rome("2026-03-23 09:00");
    let due = c.add(from, hours(240)).expect("add");
    assert_eq!(due, rome("2026-04-29 15:00"));
    assert_eq!(c.between(from, due).expect("between"), hours(240));
}

#[test]
fn fractions_of_a_second_carry_over_long_deadlines() {
    let c = calendar("Europe/Rome", &WEEKDAYS, &["2026-12-25"]);
    let half = SignedDuration::from_millis(500);
    let from = rome("2026-10-20 10:00") + half;
    let due = c.add(from, hours(240)).expect("add");
    assert_eq!(due, rome("2026-11-25 16:00") + half);
    // Closed at the start, the fraction is not counted.
    let closed = rome("2026-10-24 10:00") + half;
    assert_eq!(
        c.add(closed, hours(9)).expect("add"),
        rome("2026-10-26 18:00")
    );
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

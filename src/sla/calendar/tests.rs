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

/// Property tests against independent answers (a minute walker, each day's spans).
mod properties;

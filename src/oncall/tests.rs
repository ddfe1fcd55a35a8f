use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::{OncallError, Rotation};
use crate::config::RawOncall;

/// The contract's example: Rome, hand-off Monday 09:00, from 2026-11-02 (a Monday).
fn noc(start: &str, handoff: &str) -> Rotation {
    Rotation::from_config(&RawOncall {
        name: "noc".into(),
        timezone: "Europe/Rome".into(),
        start: start.into(),
        handoff: handoff.into(),
        rotation: vec!["alice".into(), "bob".into(), "dave".into()],
    })
    .expect("rotation")
}

fn rome(s: &str) -> Timestamp {
    let dt: jiff::civil::DateTime = s.parse().expect("civil");
    TimeZone::get("Europe/Rome")
        .expect("zone")
        .to_timestamp(dt)
        .expect("instant")
}

fn who(r: &Rotation, at: &str) -> (String, String) {
    let d = r.duty_at(rome(at)).expect("duty");
    (d.primary, d.backup)
}

fn pair(a: &str, b: &str) -> (String, String) {
    (a.to_owned(), b.to_owned())
}

#[test]
fn week_k_after_the_start_has_rotation_k_as_primary_and_the_next_as_backup() {
    let r = noc("2026-11-02", "mon 09:00");
    assert_eq!(who(&r, "2026-11-02 09:00"), pair("alice", "bob"));
    assert_eq!(who(&r, "2026-11-09 08:59"), pair("alice", "bob"));
    assert_eq!(who(&r, "2026-11-09 09:00"), pair("bob", "dave"));
    assert_eq!(who(&r, "2026-11-16 12:00"), pair("dave", "alice"));
    assert_eq!(who(&r, "2026-11-23 09:00"), pair("alice", "bob"));
    let d = r.duty_at(rome("2026-11-18 03:00")).expect("duty");
    assert_eq!(
        (d.since, d.until),
        (rome("2026-11-16 09:00"), rome("2026-11-23 09:00"))
    );
}

#[test]
fn the_first_hand_off_is_the_first_on_or_after_the_start_date() {
    // 2026-11-04 is a Wednesday: the rotation begins on Monday the 9th at 09:00.
    let r = noc("2026-11-04", "mon 09:00");
    let d = r.duty_at(rome("2026-11-09 09:00")).expect("duty");
    assert_eq!(
        (d.primary.as_str(), d.since),
        ("alice", rome("2026-11-09 09:00"))
    );
    // Before it, the rotation counted backwards: the week before is dave's.
    assert_eq!(who(&r, "2026-11-05 12:00"), pair("dave", "alice"));
}

#[test]
fn the_hand_off_stays_at_local_time_across_dst_changes() {
    // Clocks go forward on Sunday 2027-03-28 and back on Sunday 2026-10-25.
    let r = noc("2026-11-02", "mon 09:00");
    let spring = r.duty_at(rome("2027-03-25 12:00")).expect("duty");
    assert_eq!(spring.until, rome("2027-03-29 09:00"));
    assert_eq!(spring.since.duration_until(spring.until).as_hours(), 167);
    let r = noc("2026-10-05", "mon 09:00");
    let autumn = r.duty_at(rome("2026-10-22 12:00")).expect("duty");
    assert_eq!(autumn.until, rome("2026-10-26 09:00"));
    assert_eq!(autumn.since.duration_until(autumn.until).as_hours(), 169);
}

#[test]
fn a_hand_off_inside_the_spring_gap_happens_just_after_it() {
    // 02:30 does not exist on Sunday 2027-03-28 in Rome: that hand-off is at 03:30.
    let r = noc("2026-11-01", "sun 02:30");
    let d = r.duty_at(rome("2027-03-28 04:00")).expect("duty");
    assert_eq!(d.since, rome("2027-03-28 03:30"));
}

#[test]
fn a_bad_rotation_is_refused_with_the_reason() {
    let raw = |handoff: &str, people: &[&str]| RawOncall {
        name: "noc".into(),
        timezone: "Europe/Rome".into(),
        start: "2026-11-02".into(),
        handoff: handoff.into(),
        rotation: people.iter().map(|p| (*p).to_owned()).collect(),
    };
    let e = Rotation::from_config(&raw("monday 9", &["a", "b"])).expect_err("bad hand-off");
    assert!(e.to_string().contains("handoff"), "{e}");
    assert!(matches!(
        Rotation::from_config(&raw("mon 09:00", &["a"])),
        Err(OncallError::Invalid { .. })
    ));
}

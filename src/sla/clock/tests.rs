use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};

use super::{Event, Policy, Step, Targets, evaluate};
use crate::config::RawCalendar;
use crate::sla::Calendar;

fn t(s: &str) -> Timestamp {
    format!("{s}Z").parse().expect("instant")
}

fn h(n: i64) -> Option<SignedDuration> {
    Some(SignedDuration::from_hours(n))
}

fn m(n: i64) -> Option<SignedDuration> {
    Some(SignedDuration::from_mins(n))
}

/// The contract's example policy "gold": 24x7, paused while stalled; shared by the tests of
/// escalation and of the ticket side.
pub(crate) fn gold() -> Policy {
    Policy {
        name: "gold".into(),
        calendar: Calendar::always(),
        pause_on: vec!["stalled".into()],
        targets: [
            Targets {
                response: m(15),
                resolve: h(4),
            },
            Targets {
                response: h(1),
                resolve: h(8),
            },
            Targets {
                response: h(4),
                resolve: h(72),
            },
            Targets {
                response: h(24),
                resolve: None,
            },
        ],
        escalate: vec![
            Step {
                percent: 75,
                notify: vec!["owner".into()],
            },
            Step {
                percent: 100,
                notify: vec!["owner".into(), "oncall:noc".into()],
            },
        ],
    }
}

fn created(at: &str, priority: u8) -> Event<'static> {
    Event::Created {
        at: t(at),
        priority,
    }
}

fn status(at: &str, status: &'static str) -> Event<'static> {
    Event::Status { at: t(at), status }
}

#[test]
fn an_unanswered_p1_is_due_in_15_minutes_and_breaches_after() {
    let events = [created("2026-11-23T10:00:00", 1)];
    let s = evaluate(&gold(), &events, t("2026-11-23T10:10:00")).expect("sla");
    assert_eq!(s.policy, "gold");
    assert_eq!(s.response_due_at, Some(t("2026-11-23T10:15:00")));
    assert_eq!(s.resolve_due_at, Some(t("2026-11-23T14:00:00")));
    assert!(s.breached.is_empty());
    let s = evaluate(&gold(), &events, t("2026-11-23T10:20:00")).expect("sla");
    assert_eq!(s.breached, ["response"]);
}

#[test]
fn the_first_staff_response_keeps_the_promise_and_shows_the_deadline_it_met() {
    let events = [
        created("2026-11-23T10:00:00", 1),
        Event::StaffResponse {
            at: t("2026-11-23T10:05:00"),
        },
        Event::StaffResponse {
            at: t("2026-11-23T10:30:00"),
        },
    ];
    let s = evaluate(&gold(), &events, t("2026-11-23T20:00:00")).expect("sla");
    assert_eq!(s.first_response_at, Some(t("2026-11-23T10:05:00")));
    assert_eq!(s.response_due_at, Some(t("2026-11-23T10:15:00")));
    assert_eq!(s.breached, ["resolve"], "the resolution was due at 14:00");
}

#[test]
fn a_late_first_response_is_a_breach_for_good() {
    let events = [
        created("2026-11-23T10:00:00", 1),
        Event::StaffResponse {
            at: t("2026-11-23T10:40:00"),
        },
        status("2026-11-23T11:00:00", "resolved"),
    ];
    let s = evaluate(&gold(), &events, t("2026-11-30T00:00:00")).expect("sla");
    assert_eq!(s.response_due_at, Some(t("2026-11-23T10:15:00")));
    assert_eq!(s.resolve_due_at, Some(t("2026-11-23T14:00:00")));
    assert_eq!(s.breached, ["response"]);
}

#[test]
fn a_pause_stops_both_clocks_and_they_go_on_with_what_was_left() {
    let events = [
        created("2026-11-23T10:00:00", 1),
        status("2026-11-23T10:05:00", "stalled"),
        status("2026-11-23T12:05:00", "open"),
    ];
    let s = evaluate(&gold(), &events[..2], t("2026-11-23T11:00:00")).expect("sla");
    assert!(s.paused);
    assert_eq!((s.response_due_at, s.resolve_due_at), (None, None));
    assert!(s.breached.is_empty(), "a paused clock does not breach");
    let s = evaluate(&gold(), &events, t("2026-11-23T12:10:00")).expect("sla");
    assert!(!s.paused);
    assert_eq!(s.response_due_at, Some(t("2026-11-23T12:15:00")));
    assert_eq!(s.resolve_due_at, Some(t("2026-11-23T16:00:00")));
}

#[test]
fn a_priority_change_measures_the_time_run_against_the_new_target() {
    let events = [
        created("2026-11-23T10:00:00", 3),
        Event::Priority {
            at: t("2026-11-23T11:00:00"),
            priority: 1,
        },
    ];
    let s = evaluate(&gold(), &events, t("2026-11-23T11:00:00")).expect("sla");
    assert_eq!(s.response_due_at, Some(t("2026-11-23T10:15:00")));
    assert_eq!(s.resolve_due_at, Some(t("2026-11-23T14:00:00")));
    assert_eq!(s.breached, ["response"]);
}

#[test]
fn reopening_starts_the_resolution_clock_over() {
    let events = [
        created("2026-11-23T10:00:00", 1),
        Event::StaffResponse {
            at: t("2026-11-23T10:05:00"),
        },
        status("2026-11-23T11:00:00", "resolved"),
        status("2026-11-23T20:00:00", "open"),
    ];
    let before = evaluate(&gold(), &events[..3], t("2026-11-23T19:00:00")).expect("sla");
    assert_eq!(before.resolve_due_at, Some(t("2026-11-23T14:00:00")));
    assert!(before.breached.is_empty(), "resolved in time");
    let after = evaluate(&gold(), &events, t("2026-11-23T21:00:00")).expect("sla");
    assert_eq!(after.resolve_due_at, Some(t("2026-11-24T00:00:00")));
    assert_eq!(after.first_response_at, Some(t("2026-11-23T10:05:00")));
    assert!(after.breached.is_empty());
}

#[test]
fn a_late_resolution_is_a_breach_and_no_target_is_never_one() {
    let late = [
        created("2026-11-23T10:00:00", 1),
        status("2026-11-23T15:00:00", "resolved"),
    ];
    let s = evaluate(&gold(), &late, t("2026-12-01T00:00:00")).expect("sla");
    assert_eq!(s.breached, ["response", "resolve"]);
    let p4 = [
        created("2026-11-23T10:00:00", 4),
        Event::StaffResponse {
            at: t("2026-11-23T11:00:00"),
        },
    ];
    let s = evaluate(&gold(), &p4, t("2027-01-01T00:00:00")).expect("sla");
    assert_eq!(s.resolve_due_at, None);
    assert!(s.breached.is_empty());
}

#[test]
fn events_in_any_order_give_the_same_clocks() {
    let events = [
        created("2026-11-23T10:00:00", 2),
        status("2026-11-23T10:30:00", "stalled"),
        status("2026-11-23T11:30:00", "open"),
        Event::StaffResponse {
            at: t("2026-11-23T12:00:00"),
        },
    ];
    let mut reversed = events;
    reversed.reverse();
    let now = t("2026-11-23T13:00:00");
    assert_eq!(
        evaluate(&gold(), &events, now).expect("sla"),
        evaluate(&gold(), &reversed, now).expect("sla")
    );
}

#[test]
fn business_hours_count_only_inside_the_calendar() {
    let raw = RawCalendar {
        name: "office".into(),
        timezone: "Europe/Rome".into(),
        hours: ["mon", "tue", "wed", "thu", "fri"]
            .iter()
            .map(|d| ((*d).to_owned(), "09:00-18:00".to_owned()))
            .collect::<BTreeMap<_, _>>(),
        holidays: Vec::new(),
    };
    let policy = Policy {
        name: "standard".into(),
        calendar: Calendar::from_config(&raw).expect("calendar"),
        ..gold()
    };
    // Friday 17:00 in Rome is 16:00Z; four business hours later is Monday 12:00 (11:00Z).
    let events = [created("2026-11-20T16:00:00", 3)];
    let s = evaluate(&policy, &events, t("2026-11-21T00:00:00")).expect("sla");
    assert_eq!(s.response_due_at, Some(t("2026-11-23T11:00:00")));
}

#[test]
fn a_policy_is_read_from_its_config_table() {
    let raw: crate::config::RawSla = toml::from_str(
        r#"
name = "gold"
calendar = "24x7"
pause_on = ["stalled"]
targets.P1 = { response = "15m", resolve = "4h" }
targets.P4 = { response = "1d" }
"#,
    )
    .expect("toml");
    let p = Policy::from_config(&raw, &[]).expect("policy");
    assert_eq!(
        p.targets[0],
        Targets {
            response: m(15),
            resolve: h(4)
        }
    );
    assert_eq!(
        p.targets[3],
        Targets {
            response: h(24),
            resolve: None
        }
    );
    assert_eq!(p.targets[1], Targets::default());
    let mut bad = raw.clone();
    bad.calendar = "office".into();
    let e = Policy::from_config(&bad, &[]).expect_err("no such calendar");
    assert!(e.to_string().contains("office"), "{e}");
}

use jiff::Timestamp;

use super::{Watch, points};
use crate::sla::clock::{Event, Policy, clocks};

fn t(s: &str) -> Timestamp {
    format!("{s}Z").parse().expect("instant")
}

fn policy() -> Policy {
    crate::sla::clock::tests::gold()
}

fn at_of(p: &Policy, events: &[Event<'_>]) -> Vec<(Watch, usize, Timestamp, Timestamp)> {
    points(p, &clocks(events, &p.pause_on))
        .expect("points")
        .into_iter()
        .map(|x| (x.watch, x.step, x.at, x.cycle))
        .collect()
}

#[test]
fn each_step_falls_at_its_share_of_each_running_clock() {
    let p = policy();
    let c = t("2026-11-23T10:00:00");
    let got = at_of(&p, &[Event::Created { at: c, priority: 1 }]);
    assert_eq!(
        got,
        vec![
            (Watch::Response, 0, t("2026-11-23T10:11:15"), c),
            (Watch::Response, 1, t("2026-11-23T10:15:00"), c),
            (Watch::Resolve, 0, t("2026-11-23T13:00:00"), c),
            (Watch::Resolve, 1, t("2026-11-23T14:00:00"), c),
        ]
    );
}

#[test]
fn a_kept_promise_escalates_no_more() {
    let p = policy();
    let got = at_of(
        &p,
        &[
            Event::Created {
                at: t("2026-11-23T10:00:00"),
                priority: 1,
            },
            Event::StaffResponse {
                at: t("2026-11-23T10:05:00"),
            },
        ],
    );
    assert!(got.iter().all(|x| x.0 == Watch::Resolve), "{got:?}");
    assert_eq!(got.len(), 2);
}

#[test]
fn a_pause_moves_later_steps_into_a_new_cycle_and_keeps_passed_ones_in_theirs() {
    let p = policy();
    let c = t("2026-11-23T10:00:00");
    // Stalled at 13:30 (3.5 h run, the 75% point at 13:00 already passed), back at 20:00.
    let resumed = t("2026-11-23T20:00:00");
    let got = at_of(
        &p,
        &[
            Event::Created { at: c, priority: 1 },
            Event::StaffResponse {
                at: t("2026-11-23T10:01:00"),
            },
            Event::Status {
                at: t("2026-11-23T13:30:00"),
                status: "stalled",
            },
            Event::Status {
                at: resumed,
                status: "open",
            },
        ],
    );
    assert_eq!(
        got,
        vec![
            (Watch::Resolve, 0, t("2026-11-23T13:00:00"), c),
            (Watch::Resolve, 1, t("2026-11-23T20:30:00"), resumed),
        ]
    );
}

#[test]
fn a_paused_clock_short_of_a_step_has_no_point_for_it() {
    let p = policy();
    let got = at_of(
        &p,
        &[
            Event::Created {
                at: t("2026-11-23T10:00:00"),
                priority: 2,
            },
            Event::StaffResponse {
                at: t("2026-11-23T10:01:00"),
            },
            Event::Status {
                at: t("2026-11-23T11:00:00"),
                status: "stalled",
            },
        ],
    );
    assert!(got.is_empty(), "{got:?}");
}

#[test]
fn a_priority_change_moves_the_points_from_the_start() {
    let p = policy();
    let c = t("2026-11-23T10:00:00");
    let got = at_of(
        &p,
        &[
            Event::Created { at: c, priority: 2 },
            Event::StaffResponse {
                at: t("2026-11-23T10:01:00"),
            },
            Event::Priority {
                at: t("2026-11-23T11:00:00"),
                priority: 1,
            },
        ],
    );
    assert_eq!(got[0], (Watch::Resolve, 0, t("2026-11-23T13:00:00"), c));
}

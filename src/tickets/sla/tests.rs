use jiff::Timestamp;

use super::{compute, events_of};
use crate::db::Ts;
use crate::sla::clock::Policy;
use crate::sla::{Event, Watch};
use crate::tickets::store::history::ClockRow;

fn t(s: &str) -> Timestamp {
    format!("{s}Z").parse().expect("instant")
}

fn row(
    kind: &str,
    field: Option<&str>,
    old: Option<&str>,
    new: Option<&str>,
    at: &str,
) -> ClockRow {
    ClockRow {
        kind: kind.into(),
        field: field.map(Into::into),
        old_value: old.map(Into::into),
        new_value: new.map(Into::into),
        created_at: Ts(t(at)),
    }
}

/// The contract's gold policy with its steps listed largest first: the warning still starts
/// at the smallest.
fn gold() -> Policy {
    let mut p = crate::sla::clock::tests::gold();
    p.escalate.reverse();
    p
}

#[test]
fn the_first_priority_is_the_old_value_of_the_first_priority_change() {
    let rows = [
        row("create", None, None, None, "2026-11-23T10:00:00"),
        row(
            "set",
            Some("priority"),
            Some("2"),
            Some("1"),
            "2026-11-23T10:30:00",
        ),
        row(
            "correspond",
            Some("requestor"),
            None,
            None,
            "2026-11-23T10:40:00",
        ),
        row(
            "correspond",
            Some("staff"),
            None,
            None,
            "2026-11-23T10:50:00",
        ),
        row(
            "set",
            Some("status"),
            Some("open"),
            Some("stalled"),
            "2026-11-23T11:00:00",
        ),
        row(
            "set",
            Some("owner"),
            None,
            Some("alice"),
            "2026-11-23T11:10:00",
        ),
    ];
    let events = events_of(&rows, 1);
    assert_eq!(
        events,
        vec![
            Event::Created {
                at: t("2026-11-23T10:00:00"),
                priority: 2
            },
            Event::Priority {
                at: t("2026-11-23T10:30:00"),
                priority: 1
            },
            Event::StaffResponse {
                at: t("2026-11-23T10:50:00")
            },
            Event::Status {
                at: t("2026-11-23T11:00:00"),
                status: "stalled"
            },
        ]
    );
    // Without a priority change the current priority is the first.
    let only = events_of(&rows[..1], 4);
    assert_eq!(
        only,
        vec![Event::Created {
            at: t("2026-11-23T10:00:00"),
            priority: 4
        }]
    );
}

#[test]
fn due_is_the_nearest_unkept_promise_and_warning_starts_at_the_smallest_step() {
    let p = gold();
    let created = [Event::Created {
        at: t("2026-11-23T10:00:00"),
        priority: 1,
    }];
    let c = compute(&p, &created, &[], t("2026-11-23T10:00:00")).expect("sla");
    assert_eq!(c.due_at, Some(t("2026-11-23T10:15:00")));
    assert_eq!(c.cols.sla_warn_at, Some(Ts(t("2026-11-23T10:11:15"))));
    assert_eq!(c.cols.sla_next_at, Some(Ts(t("2026-11-23T10:11:15"))));

    let answered = [
        created[0],
        Event::StaffResponse {
            at: t("2026-11-23T10:05:00"),
        },
    ];
    let c = compute(&p, &answered, &[], t("2026-11-23T10:05:00")).expect("sla");
    assert_eq!(c.due_at, Some(t("2026-11-23T14:00:00")));
    assert_eq!(c.cols.first_response_at, Some(Ts(t("2026-11-23T10:05:00"))));
    assert_eq!(c.cols.sla_warn_at, Some(Ts(t("2026-11-23T13:00:00"))));
}

#[test]
fn fired_steps_leave_the_next_one_as_next() {
    let p = gold();
    let c0 = t("2026-11-23T10:00:00");
    let created = [Event::Created {
        at: c0,
        priority: 1,
    }];
    let fired = [(Watch::Response, 1, c0), (Watch::Response, 0, c0)];
    let c = compute(&p, &created, &fired, c0).expect("sla");
    assert_eq!(c.cols.sla_next_at, Some(Ts(t("2026-11-23T13:00:00"))));
    let all = [
        fired[0],
        fired[1],
        (Watch::Resolve, 1, c0),
        (Watch::Resolve, 0, c0),
    ];
    let c = compute(&p, &created, &all, c0).expect("sla");
    assert_eq!(c.cols.sla_next_at, None);
}

#[test]
fn a_resolved_ticket_has_no_due_and_keeps_its_kept_deadline() {
    let p = gold();
    let events = [
        Event::Created {
            at: t("2026-11-23T10:00:00"),
            priority: 1,
        },
        Event::StaffResponse {
            at: t("2026-11-23T10:05:00"),
        },
        Event::Status {
            at: t("2026-11-23T12:00:00"),
            status: "resolved",
        },
    ];
    let c = compute(&p, &events, &[], t("2026-11-24T00:00:00")).expect("sla");
    assert_eq!(c.due_at, None);
    assert_eq!(c.cols.resolve_due_at, Some(Ts(t("2026-11-23T14:00:00"))));
    assert_eq!(c.cols.sla_resolved_at, Some(Ts(t("2026-11-23T12:00:00"))));
    assert_eq!(c.cols.sla_next_at, None);
}

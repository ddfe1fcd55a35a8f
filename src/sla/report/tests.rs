use jiff::Timestamp;

use super::{build, csv, percentile};
use crate::db::Ts;
use crate::sla::Policies;
use crate::tickets::sla::ReportRow;

fn t(s: &str) -> Timestamp {
    format!("{s}Z").parse().expect("instant")
}

fn row(
    customer: Option<&str>,
    created: &str,
    first: Option<&str>,
    resolved: Option<&str>,
) -> ReportRow {
    let ts = |s: &str| Ts(t(s));
    ReportRow {
        customer: customer.map(Into::into),
        sla_policy: "gold".into(),
        created_at: ts(created),
        first_response_at: first.map(ts),
        // 24x7 targets: respond within 15 minutes, resolve within 4 hours.
        response_due_at: Some(Ts(t(created) + jiff::SignedDuration::from_mins(15))),
        sla_resolved_at: resolved.map(ts),
        resolve_due_at: Some(Ts(t(created) + jiff::SignedDuration::from_hours(4))),
    }
}

#[test]
fn promises_are_counted_kept_missed_or_open_per_customer_and_policy() {
    let rows = [
        row(
            Some("acme"),
            "2026-11-02T10:00:00",
            Some("2026-11-02T10:05:00"),
            Some("2026-11-02T11:00:00"),
        ),
        row(
            Some("acme"),
            "2026-11-02T12:00:00",
            Some("2026-11-02T12:30:00"),
            Some("2026-11-02T17:00:00"),
        ),
        row(Some("acme"), "2026-11-03T09:00:00", None, None),
        row(None, "2026-11-03T09:00:00", None, None),
    ];
    let lines = build(&rows, &Policies::default(), t("2026-11-03T09:10:00")).expect("report");
    assert_eq!(lines.len(), 2);
    let none = &lines[0];
    assert_eq!(
        (none.customer.as_deref(), none.tickets, none.response_open),
        (None, 1, 1)
    );
    let acme = &lines[1];
    assert_eq!(acme.customer.as_deref(), Some("acme"));
    assert_eq!(
        (
            acme.tickets,
            acme.response_met,
            acme.response_missed,
            acme.response_open
        ),
        (3, 1, 1, 1)
    );
    assert_eq!(
        (acme.resolve_met, acme.resolve_missed, acme.resolve_open),
        (1, 1, 1)
    );
    assert_eq!(acme.breached, 1);
    assert_eq!(acme.response_median_minutes, Some(5));
    assert_eq!(acme.response_p90_minutes, Some(30));
    assert_eq!(acme.resolve_median_minutes, Some(60));
    assert_eq!(acme.resolve_p90_minutes, Some(300));
}

#[test]
fn percentiles_are_nearest_rank() {
    let v: Vec<i64> = (1..=10).collect();
    assert_eq!(percentile(&v, 50), Some(5));
    assert_eq!(percentile(&v, 90), Some(9));
    assert_eq!(percentile(&[7], 90), Some(7));
    assert_eq!(percentile(&[], 50), None);
}

#[test]
fn csv_quotes_what_needs_it_and_defuses_formulas() {
    let rows = [row(Some("=cmd"), "2026-11-02T10:00:00", None, None)];
    let lines = build(&rows, &Policies::default(), t("2026-11-02T10:01:00")).expect("report");
    let text = csv(&lines);
    let mut it = text.split("\r\n");
    assert!(
        it.next()
            .expect("header")
            .starts_with("customer,policy,tickets,")
    );
    assert_eq!(it.next(), Some("\"'=cmd\",gold,1,0,0,1,0,0,1,0,,,,"));
}

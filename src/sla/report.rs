//! The SLA report (CONTRACT §3 `GET /api/v1/sla/report`): per customer and policy, for the
//! tickets created in a period, how many promises were kept, missed, or still open, and the
//! median and p90 times — in the policy's calendar time, the time the targets count.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

use super::calendar::CalendarError;
use super::policies::Policies;
use crate::tickets::sla::ReportRow;

#[derive(Debug, Clone, Default, Serialize, ToSchema, PartialEq)]
pub struct ReportLine {
    /// The customer's code; absent for tickets without a customer.
    pub customer: Option<String>,
    pub policy: String,
    pub tickets: usize,
    pub response_met: usize,
    pub response_missed: usize,
    /// Not answered yet and not late yet.
    pub response_open: usize,
    pub resolve_met: usize,
    pub resolve_missed: usize,
    pub resolve_open: usize,
    /// Tickets that missed either promise.
    pub breached: usize,
    /// Calendar minutes from creation to first response, over the tickets answered.
    pub response_median_minutes: Option<i64>,
    pub response_p90_minutes: Option<i64>,
    /// Calendar minutes from creation to resolution, over the tickets resolved.
    pub resolve_median_minutes: Option<i64>,
    pub resolve_p90_minutes: Option<i64>,
}

/// Kept, missed, or neither yet, of one promise as of `now`.
fn outcome(due: Option<Timestamp>, met: Option<Timestamp>, now: Timestamp) -> Option<bool> {
    if super::missed(due, met, now) {
        Some(false)
    } else {
        // Not missed: kept if it was kept, else still open (or no promise at all).
        due.and(met).map(|_| true)
    }
}

/// The nearest-rank percentile of sorted `v`.
fn percentile(v: &[i64], p: usize) -> Option<i64> {
    if v.is_empty() {
        return None;
    }
    let rank = (v.len() * p).div_ceil(100).max(1);
    v.get(rank - 1).copied()
}

/// A line being built, with the response and resolution times seen so far.
type Group = (ReportLine, Vec<i64>, Vec<i64>);

/// Groups `rows` by (customer, policy), in that order. A policy no longer configured is still
/// reported, its times measured in wall-clock minutes.
pub fn build(
    rows: &[ReportRow],
    policies: &Policies,
    now: Timestamp,
) -> Result<Vec<ReportLine>, CalendarError> {
    let mut groups: BTreeMap<(Option<String>, String), Group> = BTreeMap::new();
    for r in rows {
        let key = (r.customer.clone(), r.sla_policy.clone());
        let (line, resp, res) = groups.entry(key).or_insert_with(|| {
            (
                ReportLine {
                    customer: r.customer.clone(),
                    policy: r.sla_policy.clone(),
                    ..ReportLine::default()
                },
                Vec::new(),
                Vec::new(),
            )
        });
        let minutes = |from: Timestamp, to: Timestamp| -> Result<i64, CalendarError> {
            let d = match policies.get(&r.sla_policy) {
                Some(p) => p.calendar.between(from, to)?,
                None => from.duration_until(to),
            };
            Ok(d.as_secs() / 60)
        };
        line.tickets += 1;
        let created = r.created_at.0;
        let first = r.first_response_at.map(|t| t.0);
        let resolved = r.sla_resolved_at.map(|t| t.0);
        let response = outcome(r.response_due_at.map(|t| t.0), first, now);
        let resolve = outcome(r.resolve_due_at.map(|t| t.0), resolved, now);
        match response {
            Some(true) => line.response_met += 1,
            Some(false) => line.response_missed += 1,
            None => line.response_open += 1,
        }
        match resolve {
            Some(true) => line.resolve_met += 1,
            Some(false) => line.resolve_missed += 1,
            None => line.resolve_open += 1,
        }
        if response == Some(false) || resolve == Some(false) {
            line.breached += 1;
        }
        if let Some(f) = first {
            resp.push(minutes(created, f)?);
        }
        if let Some(done) = resolved {
            res.push(minutes(created, done)?);
        }
    }
    Ok(groups
        .into_values()
        .map(|(mut line, mut resp, mut res)| {
            resp.sort_unstable();
            res.sort_unstable();
            line.response_median_minutes = percentile(&resp, 50);
            line.response_p90_minutes = percentile(&resp, 90);
            line.resolve_median_minutes = percentile(&res, 50);
            line.resolve_p90_minutes = percentile(&res, 90);
            line
        })
        .collect())
}

/// The report as CSV (RFC 4180: a header line, fields quoted when they need it).
pub fn csv(lines: &[ReportLine]) -> String {
    let mut out = String::from(
        "customer,policy,tickets,response_met,response_missed,response_open,resolve_met,\
         resolve_missed,resolve_open,breached,response_median_minutes,response_p90_minutes,\
         resolve_median_minutes,resolve_p90_minutes\r\n",
    );
    let field = |s: &str| {
        // A leading = + - @ would be a formula to a spreadsheet: quote and prefix it.
        let s = if s.starts_with(['=', '+', '-', '@']) {
            format!("'{s}")
        } else {
            s.to_owned()
        };
        if s.contains([',', '"', '\r', '\n', '\'']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s
        }
    };
    let n = |v: Option<i64>| v.map(|x| x.to_string()).unwrap_or_default();
    for l in lines {
        let cols = [
            field(l.customer.as_deref().unwrap_or("")),
            field(&l.policy),
            l.tickets.to_string(),
            l.response_met.to_string(),
            l.response_missed.to_string(),
            l.response_open.to_string(),
            l.resolve_met.to_string(),
            l.resolve_missed.to_string(),
            l.resolve_open.to_string(),
            l.breached.to_string(),
            n(l.response_median_minutes),
            n(l.response_p90_minutes),
            n(l.resolve_median_minutes),
            n(l.resolve_p90_minutes),
        ];
        out.push_str(&cols.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests;

//! What the staff pages show: the queue overview, list rows and the history timeline, shaped
//! for the templates (ages, rendered bodies) so templates hold no logic.

use jiff::Timestamp;

use super::attachments::Attachment;
use super::search::Found;
use super::{HistoryEntry, Ticket};
use crate::config::Config;
use crate::db::{Db, StoreError};

#[derive(Debug, Clone, Default)]
pub struct QueueCounts {
    pub name: String,
    pub new: i64,
    pub open: i64,
    pub stalled: i64,
    pub resolved: i64,
}

impl QueueCounts {
    /// The TQL of a cell, for its link.
    pub fn query(&self, status: &str) -> String {
        format!(
            "Queue = '{}' AND Status = '{status}'",
            self.name.replace('\'', "''")
        )
    }
}

/// Counts per queue and status, every configured queue listed even when empty.
pub async fn overview(db: &Db, config: &Config) -> Result<Vec<QueueCounts>, StoreError> {
    let mut out: Vec<QueueCounts> = if config.queues.is_empty() {
        vec![QueueCounts {
            name: "General".into(),
            ..QueueCounts::default()
        }]
    } else {
        config
            .queues
            .iter()
            .map(|q| QueueCounts {
                name: q.name.clone(),
                ..QueueCounts::default()
            })
            .collect()
    };
    for (queue, status, n) in super::store::search::counts(db).await? {
        let row = match out.iter_mut().position(|q| q.name == queue) {
            Some(i) => &mut out[i],
            None => {
                out.push(QueueCounts {
                    name: queue.clone(),
                    ..QueueCounts::default()
                });
                let last = out.len() - 1;
                &mut out[last]
            }
        };
        match status.as_str() {
            "new" => row.new += n,
            "open" => row.open += n,
            "stalled" => row.stalled += n,
            "resolved" => row.resolved += n,
            _ => {}
        }
    }
    Ok(out)
}

/// A list row with what staff scan.
#[derive(Debug, Clone)]
pub struct Row {
    pub id: i64,
    pub subject: String,
    pub requestor: String,
    pub customer: String,
    pub owner: String,
    pub priority: i32,
    pub status: &'static str,
    pub age: String,
    pub updated: String,
    pub updated_iso: String,
    pub sla: Option<Badge>,
}

/// A ticket's SLA at a glance: time left to the nearest promise, in the colour of its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Badge {
    /// `sla-ok`, `sla-warning` (from the first escalation step), `sla-breached`, `sla-paused`,
    /// `sla-met`.
    pub class: &'static str,
    pub text: String,
    /// The deadline the text counts to, for the tooltip.
    pub due: String,
}

/// The badge of `t` as of `now`; `None` without a policy.
pub fn badge(t: &Ticket, now: Timestamp) -> Option<Badge> {
    let s = &t.sla;
    let state = s.state(now)?;
    let unkept = [
        s.response_due_at.filter(|_| s.first_response_at.is_none()),
        s.resolve_due_at.filter(|_| s.resolved_at.is_none()),
    ];
    let due = unkept.into_iter().flatten().min();
    let (class, text) = match (state, due) {
        ("breached", Some(d)) if d <= now => ("sla-breached", format!("{} over", age(d, now))),
        ("breached", _) => ("sla-breached", "missed".to_owned()),
        (_, None) if s.paused => ("sla-paused", "paused".to_owned()),
        (_, None) => ("sla-met", "met".to_owned()),
        ("warning", Some(d)) => ("sla-warning", format!("{} left", age(now, d))),
        (_, Some(d)) => ("sla-ok", format!("{} left", age(now, d))),
    };
    Some(Badge {
        class,
        text,
        due: due.map(|d| d.to_string()).unwrap_or_default(),
    })
}

pub fn rows(found: &Found, now: Timestamp) -> Vec<Row> {
    found
        .items
        .iter()
        .map(|t: &Ticket| Row {
            id: t.id,
            subject: t.subject.clone(),
            requestor: t.requestors.first().cloned().unwrap_or_default(),
            customer: t.customer.clone().unwrap_or_default(),
            owner: t.owner.clone().unwrap_or_else(|| "Nobody".into()),
            priority: t.priority,
            status: t.status.as_str(),
            age: age(t.created_at, now),
            updated: age(t.updated_at, now),
            updated_iso: t.updated_at.to_string(),
            sla: badge(t, now),
        })
        .collect()
}

/// "45s", "12m", "5h", "3d", "7w": how long ago, as staff read it at a glance.
pub fn age(then: Timestamp, now: Timestamp) -> String {
    let s = now.duration_since(then).as_secs().max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3_600 => format!("{}m", s / 60),
        3_600..86_400 => format!("{}h", s / 3_600),
        86_400..1_209_600 => format!("{}d", s / 86_400),
        _ => format!("{}w", s / 604_800),
    }
}

/// One history entry with its body ready for the page.
#[derive(Debug, Clone)]
pub struct Entry {
    pub e: HistoryEntry,
    /// Sanitised HTML of a Markdown body.
    pub html: Option<String>,
    pub class: &'static str,
    pub summary: String,
    pub files: Vec<Attachment>,
}

pub fn timeline(history: Vec<HistoryEntry>, files: Vec<Attachment>) -> Vec<Entry> {
    history
        .into_iter()
        .map(|e| {
            let files = files
                .iter()
                .filter(|a| a.transaction_id == e.id)
                .cloned()
                .collect();
            let html = match (e.body.as_deref(), e.body_format.as_deref()) {
                (Some(b), Some("markdown")) => Some(super::render::markdown(b)),
                _ => None,
            };
            let class = match e.kind.as_str() {
                "create" | "correspond" => "correspond",
                "comment" | "bounce" => "comment",
                _ => "change",
            };
            let summary = summary(&e);
            Entry {
                e,
                html,
                class,
                summary,
                files,
            }
        })
        .collect()
}

fn summary(e: &HistoryEntry) -> String {
    let f = e.field.as_deref().unwrap_or("");
    let old = e.old.as_deref().unwrap_or("(none)");
    let new = e.new.as_deref().unwrap_or("(none)");
    match e.kind.as_str() {
        "create" => "Ticket created".into(),
        "correspond" => "Correspondence".into(),
        "comment" => "Comment (internal)".into(),
        "bounce" => "Delivery failure (bounce)".into(),
        "set" => format!("{f} changed from {old} to {new}"),
        "watcher_add" => format!("{new} added as {f}"),
        "watcher_del" => format!("{old} removed as {f}"),
        "link_add" => format!("Link added: {f} #{new}"),
        "link_del" => format!("Link removed: {f} #{new}"),
        "merge" => format!("Ticket #{new} merged into this one"),
        "time" => format!("{} minutes worked", e.time_taken),
        "alert" => match f {
            "state" => format!("Monitoring: alert {old} → {new}"),
            "severity" => format!("Monitoring: severity {old} → {new}"),
            "storm" => "Monitoring: the alert storm is over".into(),
            "note" => "Monitoring note".into(),
            _ => "Monitoring".into(),
        },
        other => other.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn badges_count_to_the_nearest_unkept_promise() {
        let now: Timestamp = "2026-11-23T10:00:00Z".parse().unwrap();
        let at = |m: i64| now + jiff::SignedDuration::from_mins(m);
        let mut t = crate::tickets::Ticket::for_tests();
        assert_eq!(badge(&t, now), None, "no policy, no badge");
        t.sla.policy = Some("gold".into());
        t.sla.response_due_at = Some(at(15));
        t.sla.resolve_due_at = Some(at(240));
        let b = badge(&t, now).unwrap();
        assert_eq!((b.class, b.text.as_str()), ("sla-ok", "15m left"));
        t.sla.warning_at = Some(at(-1));
        assert_eq!(badge(&t, now).unwrap().class, "sla-warning");
        t.sla.first_response_at = Some(at(-5));
        assert_eq!(badge(&t, now).unwrap().text, "4h left");
        let late = at(300);
        let b = badge(&t, late).unwrap();
        assert_eq!((b.class, b.text.as_str()), ("sla-breached", "1h over"));
        t.sla.resolved_at = Some(at(100));
        assert_eq!(badge(&t, late).unwrap().class, "sla-met");
    }

    #[test]
    fn ages_read_at_a_glance() {
        let now: Timestamp = "2026-11-23T12:00:00Z".parse().unwrap();
        let ago = |s: i64| now.checked_sub(jiff::SignedDuration::from_secs(s)).unwrap();
        assert_eq!(age(ago(5), now), "5s");
        assert_eq!(age(ago(600), now), "10m");
        assert_eq!(age(ago(7_200), now), "2h");
        assert_eq!(age(ago(3 * 86_400), now), "3d");
        assert_eq!(age(ago(30 * 86_400), now), "4w");
    }
}

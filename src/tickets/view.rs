//! The ticket as the API and pages show it (CONTRACT §3), and its history.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Serialize;

use super::store::history::TxnRow;
use super::store::rows::TicketRow;
use super::store::{history, links, rows, watchers};
use super::{LinkKind, Status, TicketError};
use crate::db::Tx;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Ticket {
    pub id: i64,
    pub queue: String,
    pub subject: String,
    pub status: Status,
    pub priority: i32,
    pub owner: Option<String>,
    pub requestors: Vec<String>,
    pub cc: Vec<String>,
    pub admincc: Vec<String>,
    pub customer: Option<String>,
    pub source: String,
    pub host: Option<String>,
    pub created_by: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub resolved_at: Option<Timestamp>,
    pub time_worked: i32,
    pub sla: SlaView,
    /// RT's link names → ticket ids: DependsOn, DependedOnBy, RefersTo, ReferredToBy, MemberOf, Members.
    #[schema(value_type = BTreeMap<String, Vec<i64>>)]
    pub links: BTreeMap<&'static str, Vec<i64>>,
    pub runbook: Option<String>,
}

/// The ticket's SLA (CONTRACT §3 `sla`), from the columns `tickets::sla` keeps.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct SlaView {
    pub policy: Option<String>,
    pub response_due_at: Option<Timestamp>,
    pub resolve_due_at: Option<Timestamp>,
    pub first_response_at: Option<Timestamp>,
    /// When the resolution promise was kept (the current cycle's resolution).
    pub resolved_at: Option<Timestamp>,
    pub paused: bool,
    /// "response" and/or "resolve": each promise missed (see `Ticket::as_of`).
    pub breached: Vec<String>,
    /// From here the ticket is "breaching soon": its first escalation step.
    pub warning_at: Option<Timestamp>,
}

impl SlaView {
    /// The promises missed as of `now`: kept late, or not kept and past due.
    pub fn missed(&self, now: Timestamp) -> Vec<String> {
        let late = |due, met| crate::sla::missed(due, met, now);
        let mut v = Vec::new();
        if late(self.response_due_at, self.first_response_at) {
            v.push("response".to_owned());
        }
        if late(self.resolve_due_at, self.resolved_at) {
            v.push("resolve".to_owned());
        }
        v
    }

    /// "ok", "warning" (from the first escalation step) or "breached", as of `now`; `None`
    /// without a policy.
    pub fn state(&self, now: Timestamp) -> Option<&'static str> {
        self.policy.as_ref()?;
        Some(if !self.missed(now).is_empty() {
            "breached"
        } else if self.warning_at.is_some_and(|w| w <= now) {
            "warning"
        } else {
            "ok"
        })
    }
}

impl Ticket {
    /// A bare ticket for unit tests of what is drawn from one.
    #[cfg(test)]
    pub fn for_tests() -> Ticket {
        let t = Timestamp::UNIX_EPOCH;
        Ticket {
            id: 1,
            queue: "General".into(),
            subject: "test".into(),
            status: Status::Open,
            priority: 3,
            owner: None,
            requestors: Vec::new(),
            cc: Vec::new(),
            admincc: Vec::new(),
            customer: None,
            source: "web".into(),
            host: None,
            created_by: "root".into(),
            created_at: t,
            updated_at: t,
            resolved_at: None,
            time_worked: 0,
            sla: SlaView::default(),
            links: BTreeMap::new(),
            runbook: None,
        }
    }

    /// The ticket with `sla.breached` filled as of `now`: a stored row cannot know "now".
    pub fn as_of(mut self, now: Timestamp) -> Ticket {
        self.sla.breached = self.sla.missed(now);
        self
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HistoryEntry {
    pub id: i64,
    #[serde(rename = "type")]
    pub kind: String,
    pub actor: String,
    pub created_at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_format: Option<String>,
    #[serde(skip_serializing_if = "is_zero")]
    pub time_taken: i32,
}

/// What a customer may read of a history: the messages between them and support, and the
/// status changes. Comments, owners, links and the rest are staff matters.
pub fn public_history(h: Vec<HistoryEntry>) -> Vec<HistoryEntry> {
    h.into_iter()
        .filter(|e| match e.kind.as_str() {
            "create" | "correspond" => true,
            "set" => e.field.as_deref() == Some("status"),
            _ => false,
        })
        .map(|mut e| {
            e.time_taken = 0;
            e
        })
        .collect()
}

fn is_zero(n: &i32) -> bool {
    *n == 0
}

impl From<TxnRow> for HistoryEntry {
    fn from(r: TxnRow) -> Self {
        HistoryEntry {
            id: r.id,
            kind: r.kind,
            actor: r.actor,
            created_at: r.created_at.0,
            field: r.field,
            old: r.old_value,
            new: r.new_value,
            body: r.body,
            body_format: r.body_format,
            time_taken: r.time_taken,
        }
    }
}

/// The ticket behind `id`, following a merge to the survivor.
pub async fn load(tx: &mut Tx, id: i64) -> Result<Ticket, TicketError> {
    let mut row = rows::get(tx, id).await?.ok_or(TicketError::NotFound(id))?;
    if let Some(into) = row.merged_into {
        row = rows::get(tx, into)
            .await?
            .ok_or(TicketError::NotFound(id))?;
    }
    let w = watchers::list(tx, row.id).await?;
    let l = links::of(tx, row.id).await?;
    Ok(assemble(row, w, l))
}

/// Ticket `id` itself (not one merged away) with its watchers `w` already read: for callers
/// that read the watchers first to see whether the rest is needed.
pub(crate) async fn load_watched(
    tx: &mut Tx,
    id: i64,
    w: Vec<(String, String)>,
) -> Result<Ticket, TicketError> {
    let row = rows::get(tx, id).await?.ok_or(TicketError::NotFound(id))?;
    let l = links::of(tx, id).await?;
    Ok(assemble(row, w, l))
}

pub(crate) fn assemble(
    row: TicketRow,
    w: Vec<(String, String)>,
    l: Vec<(i64, i64, String)>,
) -> Ticket {
    let pick = |role: &str| {
        w.iter()
            .filter(|(r, _)| r == role)
            .map(|(_, e)| e.clone())
            .collect::<Vec<_>>()
    };
    let mut links: BTreeMap<&'static str, Vec<i64>> = BTreeMap::new();
    for (base, target, kind) in l {
        let Some((k, _)) = LinkKind::parse(&kind) else {
            continue;
        };
        if base == row.id {
            links.entry(k.as_str()).or_default().push(target);
        } else {
            links.entry(k.reverse_name()).or_default().push(base);
        }
    }
    Ticket {
        id: row.id,
        requestors: pick("requestor"),
        cc: pick("cc"),
        admincc: pick("admincc"),
        status: row.status.parse().unwrap_or(Status::Open),
        queue: row.queue,
        subject: row.subject,
        priority: row.priority,
        owner: row.owner,
        customer: row.customer,
        source: row.source,
        host: row.host,
        created_by: row.created_by,
        created_at: row.created_at.0,
        updated_at: row.updated_at.0,
        resolved_at: row.resolved_at.map(|t| t.0),
        time_worked: row.time_worked,
        sla: SlaView {
            policy: row.sla_policy,
            response_due_at: row.sla.response_due_at.map(|t| t.0),
            resolve_due_at: row.sla.resolve_due_at.map(|t| t.0),
            first_response_at: row.sla.first_response_at.map(|t| t.0),
            resolved_at: row.sla.sla_resolved_at.map(|t| t.0),
            paused: row.sla.sla_paused,
            breached: Vec::new(),
            warning_at: row.sla.sla_warn_at.map(|t| t.0),
        },
        links,
        runbook: row.runbook,
    }
}

/// The history of the ticket behind `id`, oldest first.
pub async fn history(tx: &mut Tx, id: i64) -> Result<Vec<HistoryEntry>, TicketError> {
    let row = rows::get(tx, id).await?.ok_or(TicketError::NotFound(id))?;
    let id = row.merged_into.unwrap_or(row.id);
    Ok(history::list(tx, id)
        .await?
        .into_iter()
        .map(HistoryEntry::from)
        .collect())
}

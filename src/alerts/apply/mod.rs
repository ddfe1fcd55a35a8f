//! What an alert does to the alerts table and the tickets: one open incident per identity,
//! repeats counted, state changes in the ticket's history, resolution (and with
//! `auto_resolve` the ticket's) recorded, flapping re-fires reopening their ticket, and
//! storms gathered under one parent. Runs inside the delivery's transaction, after the whole
//! payload parsed, so a delivery applies whole or not at all.

mod close;
mod fire;
mod storm;

use std::collections::HashSet;

use jiff::Timestamp;

use super::store::{self, AlertRow, StormRow};
use super::{Action, AlertError, AlertEvent, Kind, Source, State};
use crate::config::Config;
use crate::db::{Ts, Tx};
use crate::tickets::{self, Brief, TicketError};

/// What a delivery did: the tickets its alerts are on, each once, in the order met.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub tickets: Vec<i64>,
    /// The source's storm after the delivery (the next delivery in the same transaction
    /// starts from it).
    pub storm: Option<i64>,
}

/// Applies `events` of source `src` in order, with the source's lock row taken (`storm` is
/// what it said); the caller commits.
pub(super) async fn apply(
    tx: &mut Tx,
    config: &Config,
    src: &Source,
    storm: Option<i64>,
    events: &[AlertEvent],
    now: Timestamp,
) -> Result<Outcome, AlertError> {
    let actor = format!("alert:{}", src.name);
    let mut run = Run {
        config,
        src,
        now,
        actor: &actor,
        storm,
        storm_seen: None,
    };
    let mut out = Outcome::default();
    let mut seen = HashSet::new();
    for e in events {
        if let Some(t) = run.event(tx, e).await?
            && seen.insert(t)
        {
            out.tickets.push(t);
        }
    }
    out.storm = run.storm;
    Ok(out)
}

struct Run<'a> {
    config: &'a Config,
    src: &'a Source,
    now: Timestamp,
    actor: &'a str,
    /// The source's storm while one is on.
    storm: Option<i64>,
    /// That storm as this delivery last saw it, and the priority its ticket has at least:
    /// a 1,000-alert webhook joins it 1,000 times without re-reading either.
    storm_seen: Option<(StormRow, i64)>,
}

/// A refused ticket change (a dependency still open, a status the lifecycle forbids) is
/// noted, never a failed delivery: the alert itself was taken.
pub(super) fn tolerate(r: Result<i64, TicketError>) -> Result<Option<String>, AlertError> {
    match r {
        Ok(_) => Ok(None),
        Err(
            e @ (TicketError::OpenDependencies { .. }
            | TicketError::InvalidTransition { .. }
            | TicketError::Invalid { .. }),
        ) => Ok(Some(e.to_string())),
        Err(e) => Err(e.into()),
    }
}

/// Who acted at the source and what they said (`alice: on it`), if the event says.
pub(super) fn said_at_source(e: &AlertEvent) -> Option<String> {
    match (&e.author, &e.comment) {
        (Some(a), Some(c)) => Some(format!("{a}: {c}")),
        (Some(a), None) => Some(format!("by {a}")),
        (None, Some(c)) => Some(c.clone()),
        (None, None) => None,
    }
}

pub(super) fn json(map: &std::collections::BTreeMap<String, String>) -> String {
    serde_json::to_string(map).unwrap_or_else(|_| "{}".into())
}

impl Run<'_> {
    fn ctx(&self) -> tickets::Ctx<'_> {
        tickets::Ctx {
            config: self.config,
            actor: self.actor,
            now: self.now,
        }
    }

    async fn event(&mut self, tx: &mut Tx, e: &AlertEvent) -> Result<Option<i64>, AlertError> {
        match e.action {
            Action::Fire => self.fire(tx, e).await,
            Action::Resolve => self.resolve(tx, e).await,
            Action::Acknowledge => self.acknowledge(tx, e).await,
            Action::Note => self.note(tx, e).await,
        }
    }

    /// The alert `e` is about. Nagios numbers each problem: a recovery or acknowledgement
    /// sent without the numbers is matched to the open alert of the same host and service.
    async fn find(&self, tx: &mut Tx, e: &AlertEvent) -> Result<Option<AlertRow>, AlertError> {
        if let Some(r) = store::get(tx, &self.src.name, &e.identity).await? {
            return Ok(Some(r));
        }
        match (&e.host, self.src.kind) {
            (Some(h), Kind::Nagios) => {
                Ok(
                    store::by_subject(tx, &self.src.name, h, &e.name, false, Timestamp::UNIX_EPOCH)
                        .await?,
                )
            }
            _ => Ok(None),
        }
    }

    fn new_row(&self, e: &AlertEvent, state: State) -> AlertRow {
        let now = Ts(self.now);
        AlertRow {
            id: 0,
            source: self.src.name.clone(),
            identity: e.identity.clone(),
            name: e.name.clone(),
            host: e.host.clone(),
            severity: e.severity.clone(),
            summary: e.summary.clone(),
            state: state.as_str().to_owned(),
            occurrence: e.occurrence.clone(),
            ticket_id: None,
            customer_id: None,
            storm_id: None,
            count: 1,
            flaps: 0,
            first_seen: now,
            last_seen: now,
            changed_at: now,
            resolved_at: (state == State::Resolved).then_some(now),
            opened_at: None,
            labels: json(&e.labels),
            annotations: json(&e.annotations),
            generator_url: e.generator_url.clone(),
            external_url: e.external_url.clone(),
        }
    }

    async fn write(&self, tx: &mut Tx, r: &mut AlertRow) -> Result<(), AlertError> {
        if r.id == 0 {
            r.id = store::insert(tx, r).await?;
        } else {
            store::save(tx, r).await?;
        }
        Ok(())
    }

    /// The ticket an alert is on, unless it is a storm member (the storm's ticket does not
    /// list each member's every move).
    async fn ticket_of(&self, tx: &mut Tx, r: &AlertRow) -> Result<Option<Brief>, AlertError> {
        match (r.ticket_id, r.storm_id) {
            (Some(t), None) => Ok(tickets::brief(tx, t).await?),
            _ => Ok(None),
        }
    }
}

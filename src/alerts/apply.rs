//! What an alert does to the alerts table and the tickets: one open incident per identity,
//! repeats counted, state changes in the ticket's history, resolution (and with
//! `auto_resolve` the ticket's) recorded, flapping re-fires reopening their ticket, and
//! storms gathered under one parent. Runs inside the delivery's transaction, after the whole
//! payload parsed, so a delivery applies whole or not at all.

use std::collections::HashSet;

use jiff::{SignedDuration, Timestamp};

use super::incident;
use super::store::{self, AlertRow, StormRow};
use super::{Action, AlertError, AlertEvent, Kind, Source, State};
use crate::config::Config;
use crate::customers::CustomerRef;
use crate::db::{Ts, Tx};
use crate::tickets::{self, Brief, NewTicket, Patch, Status, TicketCustomer, TicketError};

/// What a delivery did: the tickets its alerts are on, each once, in the order met.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub tickets: Vec<i64>,
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
fn tolerate(r: Result<i64, TicketError>) -> Result<Option<String>, AlertError> {
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

fn json(map: &std::collections::BTreeMap<String, String>) -> String {
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

    async fn fire(&mut self, tx: &mut Tx, e: &AlertEvent) -> Result<Option<i64>, AlertError> {
        // Most fires are repeats: one statement settles them.
        let sev = e.severity.as_deref();
        if let Some(t) =
            store::repeat_firing(tx, &self.src.name, &e.identity, sev, self.now).await?
        {
            return Ok(Some(t));
        }
        let row = store::get(tx, &self.src.name, &e.identity).await?;
        match row {
            Some(r) if r.state() != State::Resolved => self.repeat(tx, e, r).await,
            Some(r) => {
                // A fire of the very occurrence already resolved arrived late: nothing to do.
                if r.occurrence.is_some() && r.occurrence == e.occurrence {
                    return Ok(r.ticket_id);
                }
                if let Some(b) = self.flapping_ticket(tx, &r).await? {
                    return self.refire(tx, e, r, b).await;
                }
                self.open(tx, e, Some(r)).await
            }
            None => {
                if let (Some(h), Kind::Nagios) = (&e.host, self.src.kind) {
                    let since = self
                        .now
                        .checked_sub(self.src.flap_window)
                        .unwrap_or(self.now);
                    let prev =
                        store::by_subject(tx, &self.src.name, h, &e.name, true, since).await?;
                    if let Some(prev) = prev
                        && let Some(b) = self.flapping_ticket(tx, &prev).await?
                    {
                        let mut r = self.new_row(e, State::Firing);
                        r.ticket_id = prev.ticket_id;
                        r.storm_id = prev.storm_id;
                        r.customer_id = prev.customer_id;
                        r.flaps = prev.flaps;
                        r.count = 0;
                        return self.refire(tx, e, r, b).await;
                    }
                }
                self.open(tx, e, None).await
            }
        }
    }

    /// The ticket a resolved alert reopens when it fires again within the flap window.
    async fn flapping_ticket(
        &self,
        tx: &mut Tx,
        r: &AlertRow,
    ) -> Result<Option<Brief>, AlertError> {
        let (Some(t), Some(at)) = (r.ticket_id, r.resolved_at) else {
            return Ok(None);
        };
        if self.now.duration_since(at.0) > self.src.flap_window {
            return Ok(None);
        }
        Ok(tickets::brief(tx, t)
            .await?
            .filter(|b| !matches!(b.status, Status::Rejected | Status::Deleted)))
    }

    async fn repeat(
        &mut self,
        tx: &mut Tx,
        e: &AlertEvent,
        mut r: AlertRow,
    ) -> Result<Option<i64>, AlertError> {
        let changed = e.severity.is_some() && e.severity != r.severity;
        // The common case, and the one storms of repeats are made of: two columns move.
        // Tickets are never removed (only marked deleted), so the ticket is there to name.
        if let (Some(t), false) = (r.ticket_id, changed) {
            store::repeat(tx, r.id, self.now).await?;
            return Ok(Some(t));
        }
        let brief = match r.ticket_id {
            Some(t) => tickets::brief(tx, t).await?,
            None => None,
        };
        let Some(b) = brief else {
            // It never had a ticket: the alert opens one.
            return self.open(tx, e, Some(r)).await;
        };
        tickets::record_alert(
            tx,
            self.ctx(),
            b.id,
            "severity",
            (r.severity.as_deref(), e.severity.as_deref()),
            Some(&e.summary),
        )
        .await?;
        r.severity.clone_from(&e.severity);
        r.summary.clone_from(&e.summary);
        r.count += 1;
        r.last_seen = Ts(self.now);
        r.changed_at = Ts(self.now);
        self.write(tx, &mut r).await?;
        self.raise_priority(tx, &b, e).await?;
        Ok(Some(b.id))
    }

    /// A worse severity raises the ticket's priority by the source's map, unless a person is
    /// on the ticket (then priority is theirs to set).
    async fn raise_priority(
        &self,
        tx: &mut Tx,
        b: &Brief,
        e: &AlertEvent,
    ) -> Result<(), AlertError> {
        let Some(p) = self.src.priority_of(e.severity.as_deref()) else {
            return Ok(());
        };
        if p >= b.priority || !b.status.is_active() || tickets::person_involved(tx, b).await? {
            return Ok(());
        }
        let patch = Patch {
            priority: Some(p),
            ..Patch::default()
        };
        tolerate(tickets::update(tx, self.ctx(), b.id, patch).await)?;
        Ok(())
    }

    async fn refire(
        &mut self,
        tx: &mut Tx,
        e: &AlertEvent,
        mut r: AlertRow,
        b: Brief,
    ) -> Result<Option<i64>, AlertError> {
        let gap = r
            .resolved_at
            .map(|at| self.now.duration_since(at.0).as_secs() / 60);
        r.flaps += 1;
        r.count += 1;
        r.state = State::Firing.as_str().to_owned();
        r.occurrence.clone_from(&e.occurrence);
        r.severity.clone_from(&e.severity);
        r.summary.clone_from(&e.summary);
        r.last_seen = Ts(self.now);
        r.changed_at = Ts(self.now);
        r.resolved_at = None;
        self.write(tx, &mut r).await?;
        let why = match gap {
            Some(m) => format!("fired again {m} min after it resolved: flapping"),
            None => "fired again within the flap window: flapping".to_owned(),
        };
        tickets::record_alert(
            tx,
            self.ctx(),
            b.id,
            "state",
            (Some("resolved"), Some("firing")),
            Some(&why),
        )
        .await?;
        if !b.status.is_active() {
            let patch = Patch {
                status: Some(Status::Open.as_str().to_owned()),
                ..Patch::default()
            };
            if let Some(refused) = tolerate(tickets::update(tx, self.ctx(), b.id, patch).await)? {
                tracing::warn!(ticket_id = b.id, %refused, "flapping alert could not reopen its ticket");
            }
        }
        Ok(Some(b.id))
    }

    /// A new incident for `e`: its own ticket, or a place in the source's storm.
    async fn open(
        &mut self,
        tx: &mut Tx,
        e: &AlertEvent,
        existing: Option<AlertRow>,
    ) -> Result<Option<i64>, AlertError> {
        let mut r = match existing {
            Some(old) => {
                let mut r = self.new_row(e, State::Firing);
                r.id = old.id;
                r
            }
            None => self.new_row(e, State::Firing),
        };
        let customer = self.customer(tx, e).await?;
        r.customer_id = customer.as_ref().map(|c| c.id);
        if let Some(storm) = self.storm_for(tx, e).await? {
            let parent = storm.ticket_id;
            r.ticket_id = Some(parent);
            r.storm_id = Some(storm.id);
            store::storm_joined(tx, storm.id, self.now).await?;
            self.write(tx, &mut r).await?;
            let known = self.storm_seen.as_ref().map(|(_, p)| *p);
            let wanted = self.src.priority_of(e.severity.as_deref());
            let mut floor = known.unwrap_or(i64::MAX);
            if let Some(p) = wanted
                && p < floor
                && let Some(b) = tickets::brief(tx, parent).await?
            {
                self.raise_priority(tx, &b, e).await?;
                floor = p.min(b.priority);
            }
            let mut seen = storm;
            seen.last_alert_at = Ts(self.now);
            seen.alerts += 1;
            self.storm_seen = Some((seen, floor));
            return Ok(Some(parent));
        }
        let runbook = match e.runbook_url() {
            Some(u) => Some(u.to_owned()),
            None => crate::wiki::runbook_for(tx, &e.name)
                .await
                .map_err(|err| AlertError::Runbook(err.to_string()))?,
        };
        let new = NewTicket {
            queue: self.src.queue.clone(),
            subject: incident::subject(e),
            body: incident::body(self.src, e),
            body_format: "markdown",
            requestors: Vec::new(),
            priority: self.src.priority_of(e.severity.as_deref()),
            customer: TicketCustomer::Known(customer),
            source: tickets::Source::Alert,
            host: e.host.clone(),
            runbook,
        };
        let (t, _) = tickets::create(tx, self.ctx(), new).await?;
        r.ticket_id = Some(t.id);
        r.opened_at = Some(Ts(self.now));
        self.write(tx, &mut r).await?;
        Ok(Some(t.id))
    }

    /// The customer owning the alert's host (by name, then by address).
    async fn customer(
        &self,
        tx: &mut Tx,
        e: &AlertEvent,
    ) -> Result<Option<CustomerRef>, AlertError> {
        for key in [&e.host, &e.address].into_iter().flatten() {
            if let Some(c) = crate::customers::by_host(tx, key).await? {
                return Ok(Some(c));
            }
        }
        Ok(None)
    }

    /// The storm a new incident joins: the one on, or one this incident starts because more
    /// than the threshold opened within the window. None: it opens its own.
    async fn storm_for(
        &mut self,
        tx: &mut Tx,
        e: &AlertEvent,
    ) -> Result<Option<StormRow>, AlertError> {
        let Some((threshold, window)) = self.src.storm else {
            return Ok(None);
        };
        if let Some(id) = self.storm {
            let cached = self
                .storm_seen
                .as_ref()
                .filter(|(s, _)| s.id == id)
                .map(|(s, _)| s.clone());
            let current = match cached {
                Some(s) => Some(s),
                None => store::storm(tx, id).await?,
            };
            match current {
                Some(s)
                    if s.ended_at.is_none()
                        && self.now.duration_since(s.last_alert_at.0) <= window =>
                {
                    return Ok(Some(s));
                }
                Some(s) => self.end_storm(tx, &s, window).await?,
                None => {
                    store::set_source_storm(tx, &self.src.name, None).await?;
                    self.storm = None;
                }
            }
        }
        let since = self.now.checked_sub(window).unwrap_or(self.now);
        let recent = store::opened_since(tx, &self.src.name, since).await?;
        if recent < i64::from(threshold) {
            return Ok(None);
        }
        let secs = window.as_secs();
        let new = NewTicket {
            queue: self.src.queue.clone(),
            subject: incident::storm_subject(self.src, threshold, secs),
            body: incident::storm_body(self.src, e, threshold, secs),
            body_format: "markdown",
            requestors: Vec::new(),
            priority: self.src.priority_of(e.severity.as_deref()),
            customer: TicketCustomer::Known(None),
            source: tickets::Source::Alert,
            host: None,
            runbook: None,
        };
        let (t, _) = tickets::create(tx, self.ctx(), new).await?;
        let id = store::insert_storm(tx, &self.src.name, t.id, self.now).await?;
        store::set_source_storm(tx, &self.src.name, Some(id)).await?;
        self.storm = Some(id);
        self.storm_seen = None;
        tracing::warn!(source = %self.src.name, ticket_id = t.id, recent, "alert storm: new alerts join one ticket");
        Ok(store::storm(tx, id).await?)
    }

    /// The storm is over (nothing joined for a window): recorded on its ticket, which may now
    /// resolve like any incident.
    async fn end_storm(
        &mut self,
        tx: &mut Tx,
        s: &StormRow,
        window: SignedDuration,
    ) -> Result<(), AlertError> {
        let ended = s
            .last_alert_at
            .0
            .checked_add(window)
            .unwrap_or(self.now)
            .min(self.now);
        store::end_storm(tx, s.id, ended).await?;
        store::set_source_storm(tx, &self.src.name, None).await?;
        self.storm = None;
        self.storm_seen = None;
        let minutes = ended.duration_since(s.started_at.0).as_secs() / 60;
        tickets::record_alert(
            tx,
            self.ctx(),
            s.ticket_id,
            "storm",
            (Some("on"), Some("over")),
            Some(&format!(
                "{} alerts joined in {minutes} min; new alerts open their own incidents again",
                s.alerts
            )),
        )
        .await?;
        if let Some(b) = tickets::brief(tx, s.ticket_id).await? {
            self.settle(tx, &b).await?;
        }
        Ok(())
    }

    /// Resolves the ticket when `auto_resolve` is on, none of its alerts still fires, it is
    /// no running storm's, and no person has taken or answered it.
    async fn settle(&self, tx: &mut Tx, b: &Brief) -> Result<(), AlertError> {
        if !self.src.auto_resolve || !b.status.is_active() {
            return Ok(());
        }
        if let Some(id) = self.storm
            && let Some(s) = store::storm(tx, id).await?
            && s.ticket_id == b.id
        {
            return Ok(());
        }
        if store::unresolved_on(tx, b.id).await? > 0 || tickets::person_involved(tx, b).await? {
            return Ok(());
        }
        let patch = Patch {
            status: Some(Status::Resolved.as_str().to_owned()),
            ..Patch::default()
        };
        if let Some(refused) = tolerate(tickets::update(tx, self.ctx(), b.id, patch).await)? {
            tickets::record_alert(
                tx,
                self.ctx(),
                b.id,
                "auto_resolve",
                (None, None),
                Some(&format!(
                    "all alerts resolved, but the ticket stays: {refused}"
                )),
            )
            .await?;
        }
        Ok(())
    }

    async fn resolve(&mut self, tx: &mut Tx, e: &AlertEvent) -> Result<Option<i64>, AlertError> {
        let Some(mut r) = self.find(tx, e).await? else {
            // Resolved before it fired (deliveries crossed): kept, so the late fire is stale.
            let mut r = self.new_row(e, State::Resolved);
            self.write(tx, &mut r).await?;
            return Ok(None);
        };
        if r.state() == State::Resolved {
            return Ok(r.ticket_id);
        }
        let was = r.state;
        r.state = State::Resolved.as_str().to_owned();
        r.resolved_at = Some(Ts(self.now));
        r.changed_at = Ts(self.now);
        r.last_seen = Ts(self.now);
        if e.occurrence.is_some() {
            r.occurrence.clone_from(&e.occurrence);
        }
        self.write(tx, &mut r).await?;
        let Some(t) = r.ticket_id else {
            return Ok(None);
        };
        let Some(b) = tickets::brief(tx, t).await? else {
            return Ok(None);
        };
        if r.storm_id.is_none() {
            tickets::record_alert(
                tx,
                self.ctx(),
                b.id,
                "state",
                (Some(&was), Some("resolved")),
                None,
            )
            .await?;
        }
        self.settle(tx, &b).await?;
        Ok(Some(b.id))
    }

    async fn acknowledge(
        &mut self,
        tx: &mut Tx,
        e: &AlertEvent,
    ) -> Result<Option<i64>, AlertError> {
        let Some(mut r) = self.find(tx, e).await? else {
            return Ok(None);
        };
        if r.state() != State::Firing {
            return Ok(r.ticket_id);
        }
        r.state = State::Acknowledged.as_str().to_owned();
        r.changed_at = Ts(self.now);
        r.last_seen = Ts(self.now);
        self.write(tx, &mut r).await?;
        let Some(b) = self.ticket_of(tx, &r).await? else {
            return Ok(None);
        };
        let said = match (&e.author, &e.comment) {
            (Some(a), Some(c)) => Some(format!("{a}: {c}")),
            (Some(a), None) => Some(format!("by {a}")),
            (None, Some(c)) => Some(c.clone()),
            (None, None) => None,
        };
        tickets::record_alert(
            tx,
            self.ctx(),
            b.id,
            "state",
            (Some("firing"), Some("acknowledged")),
            said.as_deref(),
        )
        .await?;
        Ok(Some(b.id))
    }

    async fn note(&mut self, tx: &mut Tx, e: &AlertEvent) -> Result<Option<i64>, AlertError> {
        let Some(mut r) = self.find(tx, e).await? else {
            return Ok(None);
        };
        let what = e.note.as_deref().unwrap_or("note");
        if what == "FLAPPINGSTART" {
            r.flaps += 1;
            r.last_seen = Ts(self.now);
            self.write(tx, &mut r).await?;
        }
        let Some(b) = self.ticket_of(tx, &r).await? else {
            return Ok(None);
        };
        let said = match (&e.author, &e.comment) {
            (Some(a), Some(c)) => format!("{what} ({a}): {c}"),
            (None, Some(c)) => format!("{what}: {c}"),
            _ => what.to_owned(),
        };
        tickets::record_alert(tx, self.ctx(), b.id, "note", (None, None), Some(&said)).await?;
        Ok(Some(b.id))
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

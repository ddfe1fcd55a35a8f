//! Fires: repeats with a new severity, flapping re-fires, and new incidents.

use crate::alerts::incident;
use crate::alerts::store::{self, AlertRow};
use crate::alerts::{AlertError, AlertEvent, Kind, State};
use crate::customers::CustomerRef;
use crate::db::{Ts, Tx};
use crate::tickets::{self, Brief, NewTicket, Patch, Status, TicketCustomer};

use super::{Run, tolerate};

impl Run<'_> {
    pub(super) async fn fire(
        &mut self,
        tx: &mut Tx,
        e: &AlertEvent,
    ) -> Result<Option<i64>, AlertError> {
        // Most fires are repeats: one statement settles them.
        let sev = e.severity.as_deref();
        if let Some(t) =
            store::repeat_firing(tx, &self.src.name, &e.identity, sev, self.now).await?
        {
            return Ok(Some(t));
        }
        let row = store::get(tx, &self.src.name, &e.identity).await?;
        match row {
            Some(r) if r.state() != State::Resolved => self.severity_changed(tx, e, r).await,
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
    pub(super) async fn flapping_ticket(
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

    pub(super) async fn severity_changed(
        &mut self,
        tx: &mut Tx,
        e: &AlertEvent,
        mut r: AlertRow,
    ) -> Result<Option<i64>, AlertError> {
        // fire() settled plain repeats with `store::repeat_firing`: what is left is a firing
        // alert without a ticket, or one whose severity changed.
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
    pub(super) async fn raise_priority(
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

    pub(super) async fn refire(
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
    pub(super) async fn open(
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
    pub(super) async fn customer(
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
}

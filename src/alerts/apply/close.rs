//! Resolves, acknowledgements and notes, and settling a ticket once its alerts are over.

use crate::alerts::store::{self};
use crate::alerts::{AlertError, AlertEvent, State};
use crate::db::{Ts, Tx};
use crate::tickets::{self, Brief, Patch, Status};

use super::{Run, said_at_source, tolerate};

impl Run<'_> {
    /// Resolves the ticket when `auto_resolve` is on, none of its alerts still fires, it is
    /// no running storm's, and no person has taken or answered it.
    pub(super) async fn settle(&self, tx: &mut Tx, b: &Brief) -> Result<(), AlertError> {
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

    pub(super) async fn resolve(
        &mut self,
        tx: &mut Tx,
        e: &AlertEvent,
    ) -> Result<Option<i64>, AlertError> {
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

    pub(super) async fn acknowledge(
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
        let said = said_at_source(e);
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

    pub(super) async fn note(
        &mut self,
        tx: &mut Tx,
        e: &AlertEvent,
    ) -> Result<Option<i64>, AlertError> {
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
        let said = match said_at_source(e) {
            Some(s) => format!("{what}: {s}"),
            None => what.to_owned(),
        };
        tickets::record_alert(tx, self.ctx(), b.id, "note", (None, None), Some(&said)).await?;
        Ok(Some(b.id))
    }
}

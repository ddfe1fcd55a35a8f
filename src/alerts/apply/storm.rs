//! Storms: when a source opens too many incidents, new alerts join one ticket until it is quiet.

use jiff::SignedDuration;

use crate::alerts::incident;
use crate::alerts::store::{self, StormRow};
use crate::alerts::{AlertError, AlertEvent};
use crate::db::Tx;
use crate::tickets::{self, NewTicket, TicketCustomer};

use super::Run;

impl Run<'_> {
    /// The storm a new incident joins: the one on, or one this incident starts because more
    /// than the threshold opened within the window. None: it opens its own.
    pub(super) async fn storm_for(
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
    pub(super) async fn end_storm(
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
}

//! One delivery from a monitoring source: checked, parsed whole, kept raw for audit, and
//! applied in one transaction with its record, so it lands whole or not at all. The same
//! bytes again from the same source within the source's `redelivery_window` are a retry:
//! they answer what the first delivery answered and change nothing.

use jiff::{SignedDuration, Timestamp};
use sha2::{Digest, Sha256};

use super::parse::{self, Parsed, PayloadError};
use super::store::{self, NewPayload};
use super::{AlertError, Kind, Source, apply};
use crate::config::Config;
use crate::db::{Db, StoreError, Tx};

/// A delivery as the HTTP edge hands it over.
#[derive(Debug, Clone, Copy)]
pub struct Delivery<'a> {
    pub source: &'a str,
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
    /// The request's bearer token was this source's token or an API token of scope `alerts`.
    /// The Events API may instead name the source's token as its `routing_key`.
    pub authorized: bool,
}

/// The answer to a delivery (CONTRACT §3: `{tickets: [id]}`); for the Events API also what
/// PagerDuty answers, so its clients read it as they expect.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Receipt {
    /// The tickets the delivery's alerts are on.
    pub tickets: Vec<i64>,
    /// These bytes came before: nothing changed.
    pub duplicate: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dedup_key: Option<String>,
}

fn parse(kind: Kind, d: &Delivery<'_>) -> Result<Parsed, PayloadError> {
    match kind {
        Kind::Alertmanager => parse::alertmanager::parse(d.body),
        Kind::Nagios => parse::nagios::parse(d.body, d.content_type),
        Kind::Events => parse::events::parse(d.body),
    }
}

/// A delivery that passed its checks and parsed whole, owning what it keeps: ready to apply,
/// alone ([`receive`]) or in a batch with others of its source ([`super::Intake`]).
#[derive(Debug)]
pub(crate) struct Prepared {
    pub src: Source,
    pub parsed: Parsed,
    digest: String,
    content_type: String,
    body: Vec<u8>,
}

impl Prepared {
    /// The answer to this delivery; for the Events API also what PagerDuty answers.
    fn receipt(&self, tickets: Vec<i64>, duplicate: bool) -> Receipt {
        let events = self.src.kind == Kind::Events;
        Receipt {
            tickets,
            duplicate,
            status: events.then(|| "success".to_owned()),
            message: events.then(|| "Event processed".to_owned()),
            dedup_key: self.parsed.dedup_keys.first().filter(|_| events).cloned(),
        }
    }

    fn payload<'a>(
        &'a self,
        received_at: Timestamp,
        outcome: &'a str,
        error: Option<&'a str>,
        tickets: String,
    ) -> NewPayload<'a> {
        NewPayload {
            source: &self.src.name,
            received_at,
            digest: &self.digest,
            content_type: &self.content_type,
            body: &self.body,
            outcome,
            error,
            tickets,
        }
    }
}

/// Checks who sent `d` and parses it whole. A payload that does not parse is kept as
/// rejected (in a transaction of its own; nothing else of it is written) and refused.
pub(crate) async fn prepare(
    db: &Db,
    config: &Config,
    d: Delivery<'_>,
    now: Timestamp,
) -> Result<Prepared, AlertError> {
    let src = match Source::named(config, d.source) {
        Some(Ok(s)) => s,
        Some(Err(e)) => return Err(AlertError::Config(e)),
        None => return Err(AlertError::NoSuchSource(d.source.to_owned())),
    };
    if src.kind != Kind::Events && !d.authorized {
        return Err(AlertError::Unauthorized);
    }
    let parsed = parse(src.kind, &d);
    if !d.authorized {
        // Only the Events API gets here: its routing_key is the token. A body too broken to
        // carry one is refused with the reason, and not kept (nobody vouched for it).
        let p = parsed
            .as_ref()
            .map_err(|e| AlertError::Payload(e.clone()))?;
        if !p
            .routing_key
            .as_deref()
            .is_some_and(|k| src.token_matches(k))
        {
            return Err(AlertError::Unauthorized);
        }
    }
    let content_type = d
        .content_type
        .unwrap_or("")
        .chars()
        .take(200)
        .collect::<String>();
    let mut prepared = Prepared {
        src,
        parsed: Parsed::default(),
        digest: hex::encode(Sha256::digest(d.body)),
        content_type,
        body: d.body.to_vec(),
    };
    match parsed {
        Ok(p) => {
            prepared.parsed = p;
            Ok(prepared)
        }
        Err(e) => {
            // Kept for audit, flagged; nothing else is written.
            let msg = e.to_string();
            let mut tx = db.begin().await?;
            let row = prepared.payload(now, "rejected", Some(&msg), "[]".into());
            store::insert_payloads(&mut tx, &[row]).await?;
            tx.commit().await?;
            tracing::info!(reason = %msg, "alert payload refused");
            Err(AlertError::Payload(e))
        }
    }
}

/// Applies the prepared deliveries of one source, each with the time it came, in order
/// inside `tx` (the source's lock is taken here) and keeps them raw; answers each one's
/// receipt. The storm one delivery starts or ends is where the next one starts, as if each
/// had committed on its own. Bytes that an applied delivery carried within the source's
/// `redelivery_window` (before, or earlier in the batch) are a retry: answered as the first
/// one was, changing nothing.
pub(crate) async fn apply_batch(
    tx: &mut Tx,
    config: &Config,
    batch: &[(&Prepared, Timestamp)],
) -> Result<Vec<Receipt>, AlertError> {
    let Some(&(first, first_at)) = batch.first() else {
        return Ok(Vec::new());
    };
    let mut storm = store::lock_source(tx, &first.src.name, first_at).await?;
    let since = |p: &Prepared, at: Timestamp| at.checked_sub(p.src.redelivery_window).unwrap_or(at);
    let oldest = batch
        .iter()
        .map(|&(p, at)| since(p, at))
        .min()
        .unwrap_or(first_at);
    let mut digests: Vec<&str> = batch.iter().map(|(p, _)| p.digest.as_str()).collect();
    digests.sort_unstable();
    digests.dedup();
    let mut earlier = store::earlier_deliveries(tx, &first.src.name, &digests, oldest).await?;
    let mut rows = Vec::with_capacity(batch.len());
    let mut receipts = Vec::with_capacity(batch.len());
    for &(p, at) in batch {
        if let Some((_, tickets)) = earlier.get(&p.digest).filter(|(t, _)| *t >= since(p, at)) {
            let ids: Vec<i64> = serde_json::from_str(tickets).unwrap_or_default();
            rows.push(p.payload(at, "duplicate", None, tickets.clone()));
            receipts.push(p.receipt(ids, true));
            continue;
        }
        let outcome = apply::apply(tx, config, &p.src, storm, &p.parsed.events, at).await?;
        storm = outcome.storm;
        let tickets = serde_json::to_string(&outcome.tickets).unwrap_or_else(|_| "[]".into());
        earlier.insert(p.digest.clone(), (at, tickets.clone()));
        rows.push(p.payload(at, "applied", None, tickets));
        receipts.push(p.receipt(outcome.tickets, false));
    }
    store::insert_payloads(tx, &rows).await?;
    Ok(receipts)
}

/// [`apply_batch`] in a transaction of its own, committed.
pub(crate) async fn apply_committed(
    db: &Db,
    config: &Config,
    batch: &[(&Prepared, Timestamp)],
) -> Result<Vec<Receipt>, AlertError> {
    let mut tx = db.begin().await?;
    let receipts = apply_batch(&mut tx, config, batch).await?;
    tx.commit().await?;
    Ok(receipts)
}

/// Applies one prepared delivery in a transaction of its own.
pub(crate) async fn apply_alone(
    db: &Db,
    config: &Config,
    p: &Prepared,
    now: Timestamp,
) -> Result<Receipt, AlertError> {
    let mut receipts = apply_committed(db, config, &[(p, now)]).await?;
    receipts.pop().ok_or(AlertError::Interrupted)
}

/// Takes one delivery for source `d.source`, in a transaction of its own.
#[tracing::instrument(skip_all, fields(source = %d.source, bytes = d.body.len()))]
pub async fn receive(
    db: &Db,
    config: &Config,
    d: Delivery<'_>,
    now: Timestamp,
) -> Result<Receipt, AlertError> {
    let p = prepare(db, config, d, now).await?;
    apply_alone(db, config, &p, now).await
}

/// Deletes raw deliveries older than their source's retention (30 days for sources no longer
/// configured), `batch` rows per transaction (so intake waits at most one batch for SQLite's
/// writer) until caught up or `max` rows went. Answers how many went.
pub async fn purge_payloads(
    db: &Db,
    config: &Config,
    now: Timestamp,
    batch: i64,
    max: u64,
) -> Result<u64, StoreError> {
    let mut tx = db.begin_read().await?;
    let mut sources = store::payload_sources(&mut tx).await?;
    tx.commit().await?;
    // A configured source whose deliveries were all refused has no lock row yet.
    sources.extend(config.alert_sources.iter().map(|s| s.name.clone()));
    sources.sort();
    sources.dedup();
    let mut gone = 0;
    for name in sources {
        let keep = match Source::named(config, &name) {
            Some(Ok(s)) => s.retention,
            _ => SignedDuration::from_hours(24 * 30),
        };
        let before = now.checked_sub(keep).unwrap_or(now);
        while gone < max {
            let mut tx = db.begin().await?;
            let n = store::purge_payloads(&mut tx, &name, before, batch).await?;
            tx.commit().await?;
            gone += n;
            if n < u64::try_from(batch).unwrap_or(0) {
                break;
            }
        }
    }
    Ok(gone)
}

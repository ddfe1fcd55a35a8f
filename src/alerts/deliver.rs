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
use crate::db::{Db, StoreError};

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

fn receipt(kind: Kind, parsed: Option<&Parsed>, tickets: Vec<i64>, duplicate: bool) -> Receipt {
    let events = kind == Kind::Events;
    Receipt {
        tickets,
        duplicate,
        status: events.then(|| "success".to_owned()),
        message: events.then(|| "Event processed".to_owned()),
        dedup_key: parsed
            .filter(|_| events)
            .and_then(|p| p.dedup_keys.first().cloned()),
    }
}

/// Takes one delivery for source `d.source`.
#[tracing::instrument(skip_all, fields(source = %d.source, bytes = d.body.len()))]
pub async fn receive(
    db: &Db,
    config: &Config,
    d: Delivery<'_>,
    now: Timestamp,
) -> Result<Receipt, AlertError> {
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
    let digest = hex::encode(Sha256::digest(d.body));
    let content_type = d
        .content_type
        .unwrap_or("")
        .chars()
        .take(200)
        .collect::<String>();
    let payload = |outcome, error, tickets| NewPayload {
        source: &src.name,
        digest: &digest,
        content_type: &content_type,
        body: d.body,
        outcome,
        error,
        tickets,
    };
    let parsed = match parsed {
        Ok(p) => p,
        Err(e) => {
            // Kept for audit, flagged; nothing else is written.
            let msg = e.to_string();
            let mut tx = db.begin().await?;
            store::insert_payload(&mut tx, &payload("rejected", Some(&msg), "[]"), now).await?;
            tx.commit().await?;
            tracing::info!(reason = %msg, "alert payload refused");
            return Err(AlertError::Payload(e));
        }
    };
    let mut tx = db.begin().await?;
    let storm = store::lock_source(&mut tx, &src.name, now).await?;
    let since = now.checked_sub(src.redelivery_window).unwrap_or(now);
    if let Some(earlier) = store::earlier_delivery(&mut tx, &src.name, &digest, since).await? {
        store::insert_payload(&mut tx, &payload("duplicate", None, &earlier), now).await?;
        tx.commit().await?;
        let tickets: Vec<i64> = serde_json::from_str(&earlier).unwrap_or_default();
        return Ok(receipt(src.kind, Some(&parsed), tickets, true));
    }
    let outcome = apply::apply(&mut tx, config, &src, storm, &parsed.events, now).await?;
    let tickets = serde_json::to_string(&outcome.tickets).unwrap_or_else(|_| "[]".into());
    store::insert_payload(&mut tx, &payload("applied", None, &tickets), now).await?;
    tx.commit().await?;
    Ok(receipt(src.kind, Some(&parsed), outcome.tickets, false))
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

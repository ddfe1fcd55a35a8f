//! Acknowledging back to Alertmanager: a silence for one alert, made from its ticket through
//! Alertmanager's v2 API, matching every label of the alert exactly, for as long as the user
//! chose. The HTTP call happens outside any transaction (DESIGN.md §4); the silence is then
//! recorded on the alert.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde_json::json;

use super::store;
use super::{Kind, SilenceView, Source};
use crate::config::Config;
use crate::db::{Db, StoreError};

/// Longest silence Opsdesk makes: a forgotten silence hides the next real outage.
pub const MAX: SignedDuration = SignedDuration::from_hours(24 * 7);

/// The lengths the ticket page offers.
pub const CHOICES: [(&str, &str); 6] = [
    ("1h", "1 hour"),
    ("4h", "4 hours"),
    ("12h", "12 hours"),
    ("1d", "1 day"),
    ("2d", "2 days"),
    ("7d", "7 days"),
];

#[derive(Debug, thiserror::Error)]
pub enum SilenceError {
    #[error("alert #{0} does not exist")]
    NoSuchAlert(i64),
    #[error("only Alertmanager alerts can be silenced from Opsdesk; {0} is a {1} source")]
    NotAlertmanager(String, &'static str),
    #[error("the alert's source is no longer configured")]
    NoSource,
    #[error(
        "no Alertmanager address is known for this alert (set api_url on its [[alert_source]])"
    )]
    NoAddress,
    #[error("{0}")]
    Duration(String),
    #[error("Alertmanager refused the silence: HTTP {status}: {body}")]
    Refused { status: u16, body: String },
    #[error("Alertmanager could not be reached: {0}")]
    Unreachable(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Parses a silence length (`4h`, `2d`): more than zero and at most [`MAX`].
pub fn length(text: &str) -> Result<SignedDuration, SilenceError> {
    let d = crate::config::parse_duration(text)
        .map_err(SilenceError::Duration)
        .and_then(|d| {
            SignedDuration::try_from(d).map_err(|e| SilenceError::Duration(e.to_string()))
        })?;
    if d.is_zero() || d > MAX {
        return Err(SilenceError::Duration(format!(
            "\"{text}\": a silence lasts more than nothing and at most 7 days"
        )));
    }
    Ok(d)
}

/// Silences alert `alert_id` for `how_long`, in the name of `user`.
pub async fn silence(
    db: &Db,
    config: &Config,
    alert_id: i64,
    how_long: SignedDuration,
    user: &str,
    comment: &str,
    now: Timestamp,
) -> Result<SilenceView, SilenceError> {
    let mut tx = db.begin_read().await?;
    let row = store::by_id(&mut tx, alert_id)
        .await?
        .ok_or(SilenceError::NoSuchAlert(alert_id))?;
    tx.commit().await?;
    let src = match Source::named(config, &row.source) {
        Some(Ok(s)) => s,
        _ => return Err(SilenceError::NoSource),
    };
    if src.kind != Kind::Alertmanager {
        return Err(SilenceError::NotAlertmanager(src.name, src.kind.as_str()));
    }
    let base = src
        .api_url
        .or(row.external_url)
        .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
        .ok_or(SilenceError::NoAddress)?;
    let labels: std::collections::BTreeMap<String, String> =
        serde_json::from_str(&row.labels).unwrap_or_default();
    let matchers: Vec<_> = labels
        .iter()
        .map(|(k, v)| json!({"name": k, "value": v, "isRegex": false, "isEqual": true}))
        .collect();
    let until = now.checked_add(how_long).unwrap_or(now);
    let body = json!({
        "matchers": matchers,
        "startsAt": now.to_string(),
        "endsAt": until.to_string(),
        "createdBy": user,
        "comment": if comment.trim().is_empty() { format!("from Opsdesk ticket #{}", row.ticket_id.unwrap_or(0)) } else { comment.trim().to_owned() },
    });
    let url = format!("{}/api/v2/silences", base.trim_end_matches('/'));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| SilenceError::Unreachable(e.to_string()))?;
    let resp = client
        .post(&url)
        .json(&body)
        .send()
        .await
        .map_err(|e| SilenceError::Unreachable(format!("{url}: {e}")))?;
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    if !status.is_success() {
        return Err(SilenceError::Refused {
            status: status.as_u16(),
            body: text.chars().take(300).collect(),
        });
    }
    let id = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| {
            v.get("silenceID")
                .and_then(|s| s.as_str())
                .map(str::to_owned)
        })
        .ok_or_else(|| SilenceError::Refused {
            status: status.as_u16(),
            body: format!(
                "no silenceID in {}",
                text.chars().take(200).collect::<String>()
            ),
        })?;
    let view = SilenceView {
        id,
        until,
        by: user.to_owned(),
    };
    let mut tx = db.begin().await?;
    store::set_silence(&mut tx, alert_id, &view).await?;
    tx.commit().await?;
    tracing::info!(alert_id, silence = %view.id, %until, "alert silenced in Alertmanager");
    Ok(view)
}

/// The ticket alert `alert_id` is on, to check the caller's right to act from that ticket.
pub async fn ticket_of(db: &Db, alert_id: i64) -> Result<Option<i64>, SilenceError> {
    let mut tx = db.begin_read().await?;
    let row = store::by_id(&mut tx, alert_id).await?;
    tx.commit().await?;
    Ok(row.and_then(|r| r.ticket_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_are_bounded() {
        assert_eq!(length("4h").unwrap(), SignedDuration::from_hours(4));
        assert!(length("8d").is_err());
        assert!(length("0s").is_err());
        assert!(length("soon").is_err());
    }
}

//! `opsdesk mailgate` (CONTRACT §1): the MTA's side of intake. It reads one message on stdin,
//! posts it to `/api/v1/mail/inbound`, and answers with the sysexits code an MTA acts on: only
//! 0 tells the MTA it may forget the message, so every doubt is a 75 (try again later). A
//! retry after a lost answer is harmless: the server stores a Message-ID once.

use std::time::Duration;

use super::Action;

/// sysexits.h codes, as MTAs read them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Stored = 0,
    Usage = 64,
    DataErr = 65,
    TempFail = 75,
    NoPerm = 77,
}

/// Where and how to deliver.
#[derive(Debug, Clone)]
pub struct Gate {
    pub url: String,
    pub queue: String,
    pub action: Action,
    pub token: String,
}

/// Posts `raw`; answers the exit code and a line for stderr (empty when stored).
pub async fn deliver(gate: &Gate, raw: Vec<u8>) -> (Exit, String) {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return (Exit::DataErr, "the message on stdin is empty".into());
    }
    if gate.token.trim().is_empty() {
        return (
            Exit::NoPerm,
            "no token: pass --token or set OPSDESK_TOKEN (a token of scope mail)".into(),
        );
    }
    let mut url = match url::Url::parse(gate.url.trim_end_matches('/')) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => u,
        _ => {
            return (
                Exit::Usage,
                format!("--url: \"{}\" is not an http(s) URL", gate.url),
            );
        }
    };
    url.set_path(&format!(
        "{}/api/v1/mail/inbound",
        url.path().trim_end_matches('/')
    ));
    url.query_pairs_mut()
        .append_pair("queue", &gate.queue)
        .append_pair("action", gate.action.as_str());
    let client = match reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(300))
        .user_agent(format!(
            "{}/{}",
            super::api::GATE_AGENT,
            env!("CARGO_PKG_VERSION")
        ))
        .build()
    {
        Ok(c) => c,
        Err(e) => return (Exit::TempFail, format!("cannot set up HTTP: {e}")),
    };
    let sent = client
        .post(url.clone())
        .bearer_auth(gate.token.trim())
        .header(reqwest::header::CONTENT_TYPE, "message/rfc822")
        .body(raw)
        .send()
        .await;
    let resp = match sent {
        Ok(r) => r,
        Err(e) => {
            return (
                Exit::TempFail,
                format!(
                    "{} could not be reached ({e}); the MTA will retry",
                    url.origin().ascii_serialization()
                ),
            );
        }
    };
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    let detail = reason(&text);
    match status.as_u16() {
        200..=299 => (Exit::Stored, String::new()),
        401 | 403 => (
            Exit::NoPerm,
            format!("the token was refused ({status}): {detail}"),
        ),
        408 | 429 => (
            Exit::TempFail,
            format!("the server is busy ({status}); the MTA will retry"),
        ),
        400..=499 => (Exit::DataErr, format!("refused ({status}): {detail}")),
        _ => (
            Exit::TempFail,
            format!("the server failed ({status}): {detail}; the MTA will retry"),
        ),
    }
}

/// The `detail`/`error` of a JSON error answer, else the start of the body.
fn reason(body: &str) -> String {
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(body) {
        let detail = &v["detail"];
        let s = match detail {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => v["error"].as_str().unwrap_or("").to_owned(),
            other => other.to_string(),
        };
        if !s.is_empty() {
            return s;
        }
    }
    body.chars().take(200).collect()
}

//! Browser sessions kept in the database, so every app node behind a load balancer sees the
//! same ones. The cookie holds 256 random bits; the table holds only their SHA-256. Sessions
//! end after `auth.session_idle` without use or `auth.session_lifetime` after sign-in,
//! whichever comes first; signing in always starts a new session id (no fixation).

use jiff::{SignedDuration, Timestamp};

use super::store::{self, sessions::SessionRow};
use crate::config::AuthConfig;
use crate::db::{Db, StoreError, Ts};

/// A visitor who has not signed in still gets a short session: it carries the CSRF token of
/// the login form.
const ANONYMOUS_LIFETIME: SignedDuration = SignedDuration::from_hours(1);
/// Writing `last_seen_at` on every request would make each page view a write.
const TOUCH_EVERY: SignedDuration = SignedDuration::from_secs(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlashKind {
    Success,
    Error,
    Info,
}

impl FlashKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FlashKind::Success => "success",
            FlashKind::Error => "error",
            FlashKind::Info => "info",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    pub kind: FlashKind,
    pub message: String,
}

impl Flash {
    fn encode(&self) -> String {
        format!("{}:{}", self.kind.as_str(), self.message)
    }

    fn decode(s: &str) -> Option<Flash> {
        let (k, m) = s.split_once(':')?;
        let kind = match k {
            "success" => FlashKind::Success,
            "error" => FlashKind::Error,
            _ => FlashKind::Info,
        };
        Some(Flash {
            kind,
            message: m.to_owned(),
        })
    }
}

#[derive(Debug, Clone)]
pub struct Session {
    pub id_hash: String,
    pub user_id: Option<i64>,
    pub csrf_token: String,
    pub flash: Option<Flash>,
    pub absolute_until: Timestamp,
}

/// Where a session was started from, kept for the admin's view of sessions.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub client_ip: Option<String>,
    pub user_agent: Option<String>,
}

/// 256 random bits, URL-safe base64.
pub fn random_token() -> String {
    use base64::Engine;
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn hash_token(token: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn add(t: Timestamp, d: std::time::Duration) -> Timestamp {
    let d = SignedDuration::try_from(d).unwrap_or(SignedDuration::from_hours(1));
    t.saturating_add(d).unwrap_or(t)
}

/// Starts a session; answers the cookie value (shown once, never stored) and the session.
pub async fn start(
    db: &Db,
    cfg: &AuthConfig,
    user_id: Option<i64>,
    origin: &Origin,
    now: Timestamp,
) -> Result<(String, Session), StoreError> {
    let cookie = random_token();
    let (idle_until, absolute_until) = match user_id {
        Some(_) => (add(now, cfg.session_idle), add(now, cfg.session_lifetime)),
        None => {
            let t = now.saturating_add(ANONYMOUS_LIFETIME).unwrap_or(now);
            (t, t)
        }
    };
    let row = SessionRow {
        id_hash: hash_token(&cookie),
        user_id,
        csrf_token: random_token(),
        flash: None,
        client_ip: origin.client_ip.clone(),
        user_agent: origin
            .user_agent
            .as_ref()
            .map(|u| u.chars().take(256).collect()),
        created_at: Ts(now),
        last_seen_at: Ts(now),
        idle_until: Ts(idle_until),
        absolute_until: Ts(absolute_until),
    };
    store::sessions::insert(db, &row).await?;
    Ok((cookie, into_session(row)))
}

fn into_session(row: SessionRow) -> Session {
    Session {
        flash: row.flash.as_deref().and_then(Flash::decode),
        id_hash: row.id_hash,
        user_id: row.user_id,
        csrf_token: row.csrf_token,
        absolute_until: row.absolute_until.0,
    }
}

/// The live session behind a cookie value, extending its idle limit (at most once a minute).
pub async fn resolve(
    db: &Db,
    cfg: &AuthConfig,
    cookie: &str,
    now: Timestamp,
) -> Result<Option<Session>, StoreError> {
    let id_hash = hash_token(cookie);
    let Some(row) = store::sessions::live(db, &id_hash, now).await? else {
        return Ok(None);
    };
    if row.user_id.is_some() && now.duration_since(row.last_seen_at.0) >= TOUCH_EVERY {
        let idle_until = add(now, cfg.session_idle).min(row.absolute_until.0);
        store::sessions::touch(db, &id_hash, now, idle_until).await?;
    }
    Ok(Some(into_session(row)))
}

pub async fn end(db: &Db, id_hash: &str) -> Result<(), StoreError> {
    store::sessions::delete(db, id_hash).await
}

/// Leaves a message for the next page the session sees.
pub async fn set_flash(
    db: &Db,
    id_hash: &str,
    kind: FlashKind,
    message: &str,
) -> Result<(), StoreError> {
    let flash = Flash {
        kind,
        message: message.to_owned(),
    };
    store::sessions::set_flash(db, id_hash, Some(&flash.encode())).await
}

/// Clears a flash once it has been shown.
pub async fn clear_flash(db: &Db, id_hash: &str) -> Result<(), StoreError> {
    store::sessions::set_flash(db, id_hash, None).await
}

/// The cookie's name: with https the `__Host-` prefix pins it to this host and path.
pub fn cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-opsdesk_session"
    } else {
        "opsdesk_session"
    }
}

/// A `Set-Cookie` value; `max_age` of zero removes the cookie.
pub fn cookie_header(secure: bool, value: &str, max_age_secs: i64) -> String {
    let mut c = format!(
        "{}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}",
        cookie_name(secure),
        max_age_secs.max(0)
    );
    if secure {
        c.push_str("; Secure");
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashes_are_stable() {
        let a = random_token();
        assert_ne!(a, random_token());
        assert_eq!(a.len(), 43);
        assert_eq!(hash_token("x"), hash_token("x"));
        assert_eq!(hash_token("x").len(), 64);
    }

    #[test]
    fn cookies_are_httponly_lax_and_secure_only_on_https() {
        let c = cookie_header(false, "v", 60);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax") && !c.contains("Secure"));
        let c = cookie_header(true, "v", 60);
        assert!(c.starts_with("__Host-") && c.ends_with("; Secure"));
    }

    #[test]
    fn flash_messages_survive_a_colon() {
        let f = Flash {
            kind: FlashKind::Error,
            message: "a: b".into(),
        };
        assert_eq!(Flash::decode(&f.encode()), Some(f));
    }
}

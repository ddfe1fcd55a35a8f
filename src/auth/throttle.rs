//! Login throttling per username and per client address, counted in the database so that
//! every node enforces the same limit. A password cannot be guessed online: after
//! `auth.max_failures_per_user` failures in `auth.login_window` the username answers 429
//! until the oldest failure leaves the window, whatever password is tried.

use jiff::{SignedDuration, Timestamp};

use super::{LoginError, store};
use crate::config::AuthConfig;
use crate::db::{Db, StoreError};

pub async fn check(
    db: &Db,
    cfg: &AuthConfig,
    username: &str,
    client_ip: &str,
    now: Timestamp,
) -> Result<(), LoginError> {
    let window =
        SignedDuration::try_from(cfg.login_window).unwrap_or(SignedDuration::from_mins(15));
    let since = now.saturating_sub(window).unwrap_or(now);
    let by_user = store::throttle::for_username(db, username, since).await?;
    let by_addr = store::throttle::for_address(db, client_ip, since).await?;
    for ((count, oldest), max) in [
        (by_user, cfg.max_failures_per_user),
        (by_addr, cfg.max_failures_per_address),
    ] {
        if count >= i64::from(max) {
            let until = oldest
                .map(|t| t.0)
                .unwrap_or(now)
                .saturating_add(window)
                .unwrap_or(now);
            let secs = until.duration_since(now).as_secs().max(1);
            return Err(LoginError::Throttled {
                retry_after_secs: u64::try_from(secs).unwrap_or(1),
            });
        }
    }
    Ok(())
}

pub async fn record_failure(
    db: &Db,
    username: &str,
    client_ip: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    store::throttle::record(db, username, client_ip, now).await
}

pub async fn clear(db: &Db, username: &str) -> Result<(), StoreError> {
    store::throttle::clear_username(db, username).await
}

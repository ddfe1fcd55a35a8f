//! Accounts and sign-in: local users with argon2id passwords, database-backed sessions, scoped
//! API tokens, and login throttling. LDAP and RADIUS sources join `authenticate` with issue 6.

pub mod api;
pub mod maintenance;
pub mod password;
pub mod routes;
pub mod sessions;
mod store;
pub mod throttle;
pub mod tokens;
mod users;

pub use users::{
    NewUser, Role, Sender, User, UserError, Username, count_users, create_user, find_user,
    find_user_in, list_users, mail_sender, user_by_id,
};

use jiff::Timestamp;

use crate::config::{AuthConfig, AuthSource};
use crate::db::{Db, StoreError};

/// Why a sign-in did not succeed. Callers show one message for both wrong-user and
/// wrong-password so the form never says which of the two was wrong.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("wrong username or password")]
    BadCredentials,
    #[error("too many failed attempts; try again in {retry_after_secs} s")]
    Throttled { retry_after_secs: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("password check failed: {0}")]
    Hash(String),
}

/// Checks a username and password against the configured sources, in order.
#[tracing::instrument(skip_all, fields(username = %username))]
pub async fn authenticate(
    db: &Db,
    cfg: &AuthConfig,
    username: &str,
    password: &str,
) -> Result<User, LoginError> {
    if password.is_empty() {
        return Err(LoginError::BadCredentials);
    }
    for source in &cfg.sources {
        match source {
            AuthSource::Local => {
                let user = find_user(db, username).await?;
                let hash = user.as_ref().and_then(|u| u.password_hash.clone());
                let ok = password::verify_blocking(hash, password.to_owned()).await?;
                if let (true, Some(u)) = (ok, user)
                    && !u.disabled
                {
                    return Ok(u);
                }
            }
            AuthSource::Ldap | AuthSource::Radius => {
                tracing::debug!(
                    ?source,
                    "directory sign-in is not part of this build yet; skipped"
                );
            }
        }
    }
    Err(LoginError::BadCredentials)
}

/// Records a successful sign-in time.
pub async fn touch_login(db: &Db, user_id: i64, now: Timestamp) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    store::users::touch_login(&mut tx, user_id, now).await?;
    tx.commit().await
}

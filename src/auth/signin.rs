//! Sign-in across the configured sources (`[auth] sources`, in order), and the local user a
//! directory vouches for: created at the first sign-in, refreshed (name, mail, role, customer)
//! at each. A directory owns only the users it created (or a password-less mail contact it
//! adopts): a RADIUS subscriber who happens to be called `admin` never becomes our admin.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use jiff::Timestamp;

use super::directory::{DirectoryError, DirectoryUser};
use super::users::{NewUser, Role, User, UserSource, Username};
use super::{find_user, password, store};
use crate::config::{AuthConfig, AuthSource};
use crate::db::{Db, StoreError};

/// Why a sign-in did not succeed. Callers show one message for wrong user, wrong password and
/// a refused user, so the form never says which it was.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("wrong username or password")]
    BadCredentials,
    #[error("too many failed attempts; try again in {retry_after_secs} s")]
    Throttled { retry_after_secs: u64 },
    /// No directory that could have known the user answered: not the user's fault, so it is
    /// neither shown as a wrong password nor counted toward throttling.
    #[error("sign-in service unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("password check failed: {0}")]
    Hash(String),
}

/// A password check against a directory (LDAP, RADIUS), as sign-in needs it.
pub trait Directory: Send + Sync {
    fn check<'a>(
        &'a self,
        username: &'a str,
        password: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<DirectoryUser, DirectoryError>> + Send + 'a>>;
}

/// The directory clients built from `[ldap]` and `[radius]` at start-up, shared by every
/// sign-in so their connections are reused.
#[derive(Clone, Default)]
pub struct Directories {
    pub ldap: Option<Arc<dyn Directory>>,
    pub radius: Option<Arc<dyn Directory>>,
}

/// Builds the clients for the `[ldap]` and `[radius]` sections present (reading CA files and
/// such), so a broken one stops the start with its reason rather than every sign-in.
pub fn directories(cfg: &crate::config::Config) -> Result<Directories, String> {
    let mut dirs = Directories::default();
    if let Some(l) = &cfg.ldap {
        let client = super::ldap::Ldap::new(l).map_err(|e| format!("[ldap]: {e}"))?;
        dirs.ldap = Some(Arc::new(client));
    }
    if let Some(r) = &cfg.radius {
        let client = super::radius::Radius::new(r).map_err(|e| format!("[radius]: {e}"))?;
        dirs.radius = Some(Arc::new(client));
    }
    Ok(dirs)
}

impl Directory for super::ldap::Ldap {
    fn check<'a>(
        &'a self,
        username: &'a str,
        password: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<DirectoryUser, DirectoryError>> + Send + 'a>> {
        Box::pin(self.authenticate(username, password))
    }
}

impl Directory for super::radius::Radius {
    fn check<'a>(
        &'a self,
        username: &'a str,
        password: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<DirectoryUser, DirectoryError>> + Send + 'a>> {
        Box::pin(self.authenticate(username, password))
    }
}

/// Checks a username and password against the configured sources, in order. The first source
/// that accepts wins; when none does and one of them could not be asked, the answer is
/// "unavailable", so an outage never reads as a wrong password.
#[tracing::instrument(skip_all, fields(username = %username))]
pub async fn authenticate(
    db: &Db,
    cfg: &AuthConfig,
    dirs: &Directories,
    username: &str,
    password: &str,
    now: Timestamp,
) -> Result<User, LoginError> {
    if password.is_empty() || username.is_empty() {
        return Err(LoginError::BadCredentials);
    }
    let mut unavailable: Option<String> = None;
    for source in &cfg.sources {
        let (dir, kind) = match source {
            AuthSource::Local => {
                if let Some(u) = local(db, username, password).await? {
                    return Ok(u);
                }
                continue;
            }
            AuthSource::Ldap => (&dirs.ldap, UserSource::Ldap),
            AuthSource::Radius => (&dirs.radius, UserSource::Radius),
        };
        let Some(dir) = dir else {
            // check-config refuses a source without its section; a test build may lack one.
            continue;
        };
        match dir.check(username, password).await {
            Ok(found) => match provision(db, kind, &found, now).await? {
                Ok(u) => return Ok(u),
                Err(why) => {
                    tracing::warn!(source = kind.as_str(), %why, "directory user refused");
                }
            },
            Err(DirectoryError::Rejected) => {}
            Err(DirectoryError::Refused(why)) => {
                tracing::warn!(source = kind.as_str(), %why, "directory user refused");
            }
            Err(DirectoryError::Unavailable(why)) => {
                tracing::warn!(source = kind.as_str(), %why, "directory unavailable");
                unavailable = Some(format!("{}: {why}", kind.as_str()));
            }
        }
    }
    match unavailable {
        Some(why) => Err(LoginError::Unavailable(why)),
        None => Err(LoginError::BadCredentials),
    }
}

/// A local account with a password of ours that matches. The hash check runs even for an
/// unknown name, so timing does not tell who exists.
async fn local(db: &Db, username: &str, pw: &str) -> Result<Option<User>, LoginError> {
    let user = find_user(db, username).await?;
    let hash = user
        .as_ref()
        .filter(|u| u.source == UserSource::Local)
        .and_then(|u| u.password_hash.clone());
    let ok = password::verify_blocking(hash, pw.to_owned()).await?;
    Ok(user.filter(|u| ok && !u.disabled))
}

/// Creates or refreshes the local user a directory vouched for. The inner `Err` says why the
/// user may not sign in although the password was right (logged, shown as a failed sign-in).
async fn provision(
    db: &Db,
    source: UserSource,
    found: &DirectoryUser,
    now: Timestamp,
) -> Result<Result<User, String>, StoreError> {
    let Ok(username) = Username::parse(&found.username) else {
        return Ok(Err(format!(
            "\"{}\" cannot be a username here (letters, digits and . _ - @ ', at most 64)",
            found.username
        )));
    };
    let mut tx = db.begin().await?;
    let customer_id = match (found.role, &found.customer) {
        (Role::Customer, None) => {
            return Ok(Err("the directory links the user to no customer".into()));
        }
        (Role::Customer, Some(code)) => match crate::customers::id_by_code(&mut tx, code).await? {
            Some(id) => Some(id),
            None => {
                return Ok(Err(format!(
                    "the directory names customer {code}, which does not exist"
                )));
            }
        },
        _ => None,
    };
    let existing = super::find_user_in(&mut tx, username.as_str()).await?;
    let fresh = NewUser {
        email: found
            .email
            .clone()
            .or_else(|| existing.as_ref().map(|u| u.email.clone()))
            .unwrap_or_default(),
        name: found
            .name
            .clone()
            .or_else(|| existing.as_ref().map(|u| u.name.clone()))
            .unwrap_or_else(|| username.as_str().to_owned()),
        role: found.role,
        customer_code: found.customer.clone(),
        password_hash: None,
        username,
    };
    let id = match &existing {
        Some(u) if u.disabled => return Ok(Err("the account is disabled here".into())),
        Some(u) if u.source == source || adoptable(u) => {
            store::users::refresh_from_directory(&mut tx, u.id, &fresh, source, customer_id, now)
                .await?;
            u.id
        }
        Some(u) => {
            return Ok(Err(format!(
                "the name belongs to a {} account",
                u.source.as_str()
            )));
        }
        None => {
            match store::users::insert_from_directory(&mut tx, &fresh, source, customer_id, now)
                .await?
            {
                Some(id) => id,
                None => return Ok(Err("the name was taken meanwhile".into())),
            }
        }
    };
    tx.commit().await?;
    Ok(super::user_by_id(db, id)
        .await?
        .ok_or(())
        .map_err(|()| "the user vanished".to_owned()))
}

/// A contact that mail created (customer, local, no password): nobody could sign in as it, so
/// a directory that knows the name may take it over and keep its tickets.
fn adoptable(u: &User) -> bool {
    u.source == UserSource::Local && u.password_hash.is_none() && u.role == Role::Customer
}

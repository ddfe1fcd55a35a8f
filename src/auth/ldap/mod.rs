//! LDAP sign-in (issue 6): checks a username and password against a directory and reads the
//! user's name, mail, role (from groups) and customer code.
//!
//! With a service account (`bind_dn`), the user's entry is found by searching `user_base` with
//! `user_filter` (the username RFC 4515-escaped, so it can only ever be a literal value), and
//! the password is checked by binding as that entry on a connection of its own. Without one,
//! the DN is built as `uid=<username, RFC 4514-escaped>,<user_base>` and bound directly; the
//! user then reads their own entry and groups, so the directory must let users read them.
//!
//! An empty password is refused before any connection: a bind with a DN and no password is an
//! "unauthenticated bind" (RFC 4513 §5.1.2) that many servers answer with success.

mod conn;
pub mod dn;
mod entry;
pub mod filter;
mod groups;
mod pool;
mod steps;

use std::sync::Arc;

use self::conn::Connector;
use self::groups::RoleMap;
use self::pool::Pool;
use super::directory::{DirectoryError, DirectoryUser};
use crate::config::RawLdap;

pub use self::pool::MAX_IDLE;

/// The LDAP directory source, built once at startup; clones share one connection pool.
#[derive(Clone)]
pub struct Ldap {
    inner: Arc<Inner>,
}

struct Inner {
    url: String,
    connector: Connector,
    /// Service-account connections; `None` without `bind_dn` (direct bind).
    pool: Option<Pool>,
    user_base: String,
    user_filter: String,
    /// Where the entry spells the username (see `filter::username_attribute`).
    username_attribute: Option<String>,
    roles: RoleMap,
    customer_attribute: Option<String>,
    name_attribute: String,
    email_attribute: String,
}

impl std::fmt::Debug for Ldap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ldap")
            .field("url", &self.inner.url)
            .field("service_account", &self.inner.pool.is_some())
            .finish_non_exhaustive()
    }
}

impl Ldap {
    /// Prepares the source from its (already checked) section: reads the CA file and the role
    /// map now, so a mistake stops startup rather than every sign-in. Opens no connection:
    /// a directory that is down at startup must not keep the portal from starting.
    pub fn new(cfg: &RawLdap) -> Result<Ldap, String> {
        let timeout = crate::config::parse_duration(&cfg.timeout)
            .map_err(|e| format!("ldap.timeout: {e}"))?;
        let pool = match (&cfg.bind_dn, &cfg.bind_password) {
            (Some(dn), Some(pw)) => Some(Pool::new(dn.clone(), pw.clone())),
            (None, None) => None,
            _ => return Err("ldap.bind_password: bind_dn and bind_password go together".into()),
        };
        let username_attribute = match pool {
            Some(_) => filter::username_attribute(&cfg.user_filter).map(str::to_owned),
            None => Some("uid".to_owned()),
        };
        Ok(Ldap {
            inner: Arc::new(Inner {
                url: cfg.url.clone(),
                connector: Connector::new(cfg, timeout)?,
                pool,
                user_base: cfg.user_base.trim().to_owned(),
                user_filter: cfg.user_filter.clone(),
                username_attribute,
                roles: RoleMap::new(&cfg.roles, &cfg.default_role)?,
                customer_attribute: cfg.customer_attribute.clone(),
                name_attribute: cfg.name_attribute.clone(),
                email_attribute: cfg.email_attribute.clone(),
            }),
        })
    }

    /// Checks the password and says who the user is. `Rejected` for an unknown user or a wrong
    /// password alike; `Refused` when the password is right but the directory's data does not
    /// let the user in; `Unavailable` whenever the directory could not give a verdict.
    pub async fn authenticate(
        &self,
        username: &str,
        password: &str,
    ) -> Result<DirectoryUser, DirectoryError> {
        if password.is_empty() || username.trim().is_empty() {
            return Err(DirectoryError::Rejected);
        }
        let s = &*self.inner;
        let attrs = s.attributes();
        match &s.pool {
            Some(pool) => {
                let entry = s.find_user(pool, username, &attrs).await?;
                let conn = s.bind_user(&entry.dn, password).await?;
                s.close(conn).await;
                let best = s.roles.via_member_of(entry.values("memberOf"));
                let user_dn = entry.dn.as_str();
                let best = pool
                    .run(&s.connector, |conn| async move {
                        s.roles
                            .with_group_members(&s.connector, &conn, user_dn, best)
                            .await
                    })
                    .await?;
                s.user(username, &entry, best)
            }
            None => {
                let dn = format!("uid={},{}", dn::escape_value(username), s.user_base);
                let conn = s.bind_user(&dn, password).await?;
                let found = s.read_own_entry(&conn, &dn, &attrs).await;
                let best = match &found {
                    Ok(entry) => {
                        let best = s.roles.via_member_of(entry.values("memberOf"));
                        s.roles
                            .with_group_members(&s.connector, &conn, &entry.dn, best)
                            .await
                    }
                    Err(_) => Ok(None),
                };
                s.close(conn).await;
                s.user(username, &found?, best?)
            }
        }
    }

    /// Idle service-account connections kept for the next sign-in (at most `MAX_IDLE`).
    pub fn idle_connections(&self) -> usize {
        self.inner.pool.as_ref().map_or(0, Pool::idle)
    }
}

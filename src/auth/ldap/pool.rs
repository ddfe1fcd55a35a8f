//! Service-account connections kept open between sign-ins: a connect, a TLS handshake and a
//! bind cost more than the search itself. Only searches run on them; a user's password is
//! always checked on a connection of its own, so none of these is ever bound as a user.

use std::future::Future;
use std::sync::{Mutex, MutexGuard};

use super::conn::{Connector, Failure};

/// At most this many idle connections are kept; more sign-ins at once open extra ones, which
/// are closed after use.
pub const MAX_IDLE: usize = 4;

pub struct Pool {
    idle: Mutex<Vec<ldap3::Ldap>>,
    dn: String,
    password: String,
}

impl Pool {
    pub fn new(dn: String, password: String) -> Pool {
        Pool {
            idle: Mutex::new(Vec::with_capacity(MAX_IDLE)),
            dn,
            password,
        }
    }

    /// Runs `op` on a service connection: an idle one if there is one, else a new one. When a
    /// reused connection turns out broken (the server closed it while idle, say), it is dropped
    /// and `op` runs once more on a fresh connection before the failure counts. A connection
    /// goes back to the pool only after `op` succeeded on it.
    pub async fn run<T, F, Fut>(&self, connector: &Connector, op: F) -> Result<T, Failure>
    where
        F: Fn(ldap3::Ldap) -> Fut,
        Fut: Future<Output = Result<T, Failure>>,
    {
        let (conn, reused) = match self.take() {
            Some(c) => (c, true),
            None => (self.open(connector).await?, false),
        };
        match op(conn.clone()).await {
            Ok(v) => {
                self.give_back(conn);
                Ok(v)
            }
            Err(Failure::Broken { what, reason }) if reused => {
                tracing::debug!(what, %reason, "pooled LDAP connection broke; trying a fresh one");
                drop(conn);
                let fresh = self.open(connector).await?;
                let v = op(fresh.clone()).await?;
                self.give_back(fresh);
                Ok(v)
            }
            Err(e) => Err(e),
        }
    }

    /// How many connections wait idle now.
    pub fn idle(&self) -> usize {
        self.lock().len()
    }

    async fn open(&self, connector: &Connector) -> Result<ldap3::Ldap, Failure> {
        connector.open_as_service(&self.dn, &self.password).await
    }

    /// The most recently used idle connection whose driver still runs.
    fn take(&self) -> Option<ldap3::Ldap> {
        let mut idle = self.lock();
        while let Some(mut c) = idle.pop() {
            if !c.is_closed() {
                return Some(c);
            }
        }
        None
    }

    fn give_back(&self, mut conn: ldap3::Ldap) {
        let mut idle = self.lock();
        if idle.len() < MAX_IDLE && !conn.is_closed() {
            idle.push(conn);
        }
    }

    /// The list stays consistent even if a holder panicked: pushes and pops are single steps.
    fn lock(&self) -> MutexGuard<'_, Vec<ldap3::Ldap>> {
        self.idle.lock().unwrap_or_else(|p| p.into_inner())
    }
}

//! The steps of a sign-in, each one network round (or a few at once) under the timeout.

use ldap3::{Scope, SearchEntry, SearchOptions};

use super::Inner;
use super::conn::Failure;
use super::entry::Entry;
use super::filter;
use super::pool::Pool;
use crate::auth::Role;
use crate::auth::directory::{DirectoryError, DirectoryUser};

impl From<Failure> for DirectoryError {
    fn from(f: Failure) -> DirectoryError {
        DirectoryError::Unavailable(f.to_string())
    }
}

impl Inner {
    /// What every sign-in reads from the user's entry.
    pub(super) fn attributes(&self) -> Vec<&str> {
        let mut attrs = vec![
            self.name_attribute.as_str(),
            self.email_attribute.as_str(),
            "memberOf",
        ];
        attrs.extend(self.customer_attribute.as_deref());
        attrs.extend(self.username_attribute.as_deref());
        attrs
    }

    /// The one entry under `user_base` that `user_filter` matches, searched as the service
    /// account. No match is a wrong username; several are a directory we cannot trust with
    /// this name, so the search asks for at most two.
    pub(super) async fn find_user(
        &self,
        pool: &Pool,
        username: &str,
        attrs: &[&str],
    ) -> Result<Entry, DirectoryError> {
        let filter = filter::user_filter(&self.user_filter, username);
        let what = "searching for the user";
        let found = pool
            .run(&self.connector, |mut conn| {
                let filter = &filter;
                async move {
                    let search = conn
                        .with_search_options(SearchOptions::new().sizelimit(2))
                        .search(&self.user_base, Scope::Subtree, filter, attrs);
                    self.connector.step(what, search).await
                }
            })
            .await?;
        let res = found.1;
        let mut entries = found.0.into_iter();
        match (res.rc, entries.next(), entries.next()) {
            (0, None, _) => Err(DirectoryError::Rejected),
            (0, Some(e), None) => Ok(Entry::new(SearchEntry::construct(e))),
            // 4: sizeLimitExceeded, the third match and beyond left out.
            (0 | 4, _, _) => Err(DirectoryError::Refused(format!(
                "more than one entry under {} matches {filter}",
                self.user_base
            ))),
            (32, _, _) => Err(DirectoryError::Unavailable(format!(
                "ldap.user_base {} does not exist",
                self.user_base
            ))),
            _ => Err(Failure::code(what, &res).into()),
        }
    }

    /// Checks the password by binding as `dn` on a new connection, which is returned bound as
    /// the user (direct bind reads the entry on it) and never pooled.
    pub(super) async fn bind_user(
        &self,
        dn: &str,
        password: &str,
    ) -> Result<ldap3::Ldap, DirectoryError> {
        let what = "binding as the user";
        let mut conn = self.connector.open().await?;
        let res = self
            .connector
            .step(what, conn.simple_bind(dn, password))
            .await?;
        match res.rc {
            0 => Ok(conn),
            // invalidCredentials (also for a DN that does not exist), inappropriateAuthentication,
            // invalidDNSyntax (a username no DN can hold).
            49 | 48 | 34 => Err(DirectoryError::Rejected),
            _ => Err(Failure::code(what, &res).into()),
        }
    }

    /// The entry of a user who just bound directly, read as that user.
    pub(super) async fn read_own_entry(
        &self,
        conn: &ldap3::Ldap,
        dn: &str,
        attrs: &[&str],
    ) -> Result<Entry, DirectoryError> {
        let what = "reading the user's own entry";
        let mut conn = conn.clone();
        let found = self
            .connector
            .step(what, conn.search(dn, Scope::Base, "(objectClass=*)", attrs))
            .await?;
        match (found.1.rc, found.0.into_iter().next()) {
            (0, Some(e)) => Ok(Entry::new(SearchEntry::construct(e))),
            (0 | 32, None) => Err(DirectoryError::Unavailable(format!(
                "{dn} signed in but cannot read its own entry: let users read themselves or set ldap.bind_dn"
            ))),
            _ => Err(Failure::code(what, &found.1).into()),
        }
    }

    /// Ends a user's connection politely; it closes for good when the handle drops anyway.
    pub(super) async fn close(&self, mut conn: ldap3::Ldap) {
        // Unbind has no answer to wait for; a failure only means the connection is gone.
        let _ = tokio::time::timeout(self.connector.timeout(), conn.unbind()).await;
    }

    /// The signed-in user, once the password is known to be right: role from `best` or the
    /// default, the customer code of a customer, name and mail from their attributes.
    pub(super) fn user(
        &self,
        typed: &str,
        entry: &Entry,
        best: Option<Role>,
    ) -> Result<DirectoryUser, DirectoryError> {
        let role = self
            .roles
            .decide(best)
            .ok_or_else(|| DirectoryError::Refused("in no group that grants access".into()))?;
        let customer = match (role, self.customer_attribute.as_deref()) {
            (Role::Customer, Some(attr)) => Some(
                entry
                    .first(attr)
                    .ok_or_else(|| DirectoryError::Refused(format!("no customer code in {attr}")))?
                    .to_owned(),
            ),
            (Role::Customer, None) => {
                return Err(DirectoryError::Refused(
                    "a customer, but ldap.customer_attribute is not set".into(),
                ));
            }
            _ => None,
        };
        let username = self.spelling(entry, typed);
        Ok(DirectoryUser {
            username,
            name: entry.first(&self.name_attribute).map(str::to_owned),
            email: entry.first(&self.email_attribute).map(str::to_owned),
            role,
            customer,
        })
    }

    /// The directory's spelling of the name (`ADA` or ` ada` typed, `ada` stored), compared as
    /// LDAP matching does: case and blanks aside. A single value is the name whatever was typed
    /// (a filter may match on mail too); without one, the name as typed.
    fn spelling(&self, entry: &Entry, typed: &str) -> String {
        let fold = |v: &str| {
            v.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_lowercase()
        };
        let typed_folded = fold(typed);
        let values: Vec<&str> = match &self.username_attribute {
            Some(a) => entry.values(a).collect(),
            None => Vec::new(),
        };
        let found = match values.iter().find(|v| fold(v) == typed_folded) {
            Some(v) => Some(*v),
            None if values.len() == 1 => values.first().copied(),
            None => None,
        };
        found.unwrap_or(typed).to_owned()
    }
}

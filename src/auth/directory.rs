//! What the directory sources (LDAP, RADIUS) share: the person a directory vouches for, and the
//! three ways a directory can say no. Keeping "wrong password" apart from "nobody answered" is
//! the point: an outage must read as "sign-in service unavailable", never as a wrong password,
//! and must never disable anybody.

use super::Role;

/// A user whose password a directory has just accepted, with what the directory says about
/// them. Sign-in creates or refreshes the local user from this at every successful sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryUser {
    /// The name the user signs in with, as the directory spells it.
    pub username: String,
    /// Display name (LDAP `cn`/`displayName`); `None` keeps what we have, else the username.
    pub name: Option<String>,
    /// Mail address (LDAP `mail`); `None` keeps what we have.
    pub email: Option<String>,
    pub role: Role,
    /// Customer code for customer users (LDAP `customer_attribute`, RADIUS `Class`
    /// `customer:CODE`); `None` for staff.
    pub customer: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    /// No such user, or a wrong password: the form says the same for both.
    #[error("the directory rejected the credentials")]
    Rejected,
    /// The password was right but the directory does not let this user in (in no mapped group
    /// with no default role, say). Said in the log, shown as a failed sign-in.
    #[error("the directory accepted the password but refuses the user: {0}")]
    Refused(String),
    /// No server answered, or answered in a way we cannot trust (bad response authenticator,
    /// TLS failure, service account refused). Never a verdict about the user.
    #[error("sign-in service unavailable: {0}")]
    Unavailable(String),
}

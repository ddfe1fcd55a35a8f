//! Users: the three roles, validated usernames, and creation with the rules that go with it.

use jiff::Timestamp;

use super::store;
use crate::customers::CustomerRef;
use crate::db::{Db, StoreError, Tx};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Agent,
    Customer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Agent => "agent",
            Role::Customer => "customer",
        }
    }

    /// Admins and agents work tickets; customers only reach the portal.
    pub fn is_staff(self) -> bool {
        matches!(self, Role::Admin | Role::Agent)
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Role, String> {
        match s {
            "admin" => Ok(Role::Admin),
            "agent" => Ok(Role::Agent),
            "customer" => Ok(Role::Customer),
            other => Err(format!("\"{other}\" is not admin, agent or customer")),
        }
    }
}

/// Where a user's password is checked: ours (argon2), or a directory that vouches for them at
/// each sign-in and owns their name, mail, role and customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserSource {
    Local,
    Ldap,
    Radius,
}

impl UserSource {
    pub fn as_str(self) -> &'static str {
        match self {
            UserSource::Local => "local",
            UserSource::Ldap => "ldap",
            UserSource::Radius => "radius",
        }
    }
}

impl std::str::FromStr for UserSource {
    type Err = String;
    fn from_str(s: &str) -> Result<UserSource, String> {
        match s {
            "local" => Ok(UserSource::Local),
            "ldap" => Ok(UserSource::Ldap),
            "radius" => Ok(UserSource::Radius),
            other => Err(format!("\"{other}\" is not local, ldap or radius")),
        }
    }
}

/// A username: 1–64 characters of letters, digits and `. _ - @ '` (the apostrophe because
/// directories hold people called o'brien).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(s: &str) -> Result<Username, String> {
        let ok_char = |c: char| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@' | '\'');
        if s.is_empty() || s.chars().count() > 64 {
            return Err("must be 1 to 64 characters".into());
        }
        if !s.chars().all(ok_char) {
            return Err(format!(
                "\"{s}\" may hold only letters, digits and . _ - @ '"
            ));
        }
        Ok(Username(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub customer_code: Option<String>,
    pub disabled: bool,
    pub source: UserSource,
    pub(crate) password_hash: Option<String>,
    pub last_login_at: Option<Timestamp>,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: Username,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub customer_code: Option<String>,
    pub password_hash: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("a user named {0} already exists")]
    Exists(String),
    #[error("no customer has the code {0}")]
    NoSuchCustomer(String),
    #[error("a customer user needs --customer CODE")]
    CustomerMissing,
    #[error("only customer users belong to a customer")]
    CustomerNotAllowed,
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub async fn create_user(tx: &mut Tx, new: NewUser, now: Timestamp) -> Result<i64, UserError> {
    let customer_id = match (&new.role, &new.customer_code) {
        (Role::Customer, None) => return Err(UserError::CustomerMissing),
        (Role::Customer, Some(code)) => Some(
            crate::customers::id_by_code(tx, code)
                .await?
                .ok_or_else(|| UserError::NoSuchCustomer(code.clone()))?,
        ),
        (_, Some(_)) => return Err(UserError::CustomerNotAllowed),
        (_, None) => None,
    };
    match store::users::insert(tx, &new, customer_id, now).await {
        Err(e) if e.is_conflict_on("users_username_key") => {
            Err(UserError::Exists(new.username.as_str().to_owned()))
        }
        other => Ok(other?),
    }
}

pub async fn find_user(db: &Db, username: &str) -> Result<Option<User>, StoreError> {
    store::users::by_username(db, username).await
}

/// The user named `username`, read inside the caller's transaction.
pub async fn find_user_in(tx: &mut Tx, username: &str) -> Result<Option<User>, StoreError> {
    store::users::by_username_in(tx, username).await
}

/// Who sent a message, as the mail rules need to know them.
#[derive(Debug, Clone)]
pub struct Sender {
    /// The enabled admin or agent with this address: mail from them is staff correspondence.
    pub staff: Option<User>,
    /// The customer the sender belongs to: their contact's customer, else the customer whose
    /// mail domain the address has.
    pub customer: Option<CustomerRef>,
}

/// The person behind mail from `email`. Somebody nobody knows becomes a contact (CONTRACT §6):
/// a user of role customer with no password, so nobody can sign in as them until an admin
/// sets one or a directory vouches for them, attached to the customer whose mail domain the
/// address has (none when no customer has it). `remember` = false looks only (automatic mail,
/// list traffic: those are not people to keep).
pub async fn mail_sender(
    tx: &mut Tx,
    email: &str,
    name: Option<&str>,
    remember: bool,
    now: Timestamp,
) -> Result<Sender, StoreError> {
    let known = store::users::all_by_email_in(tx, email).await?;
    let staff = known
        .iter()
        .find(|u| u.role.is_staff() && !u.disabled)
        .cloned();
    let customer = match known.iter().find_map(|u| u.customer_code.as_deref()) {
        Some(code) => crate::customers::by_code(tx, code)
            .await?
            .map(|(id, sla)| CustomerRef {
                id,
                code: code.to_owned(),
                sla,
            }),
        None => crate::customers::by_email_domain(tx, email).await?,
    };
    if !known.is_empty() || !remember {
        return Ok(Sender { staff, customer });
    }
    let name = name
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or(email);
    add_contact(tx, email, name, customer.as_ref(), now).await?;
    Ok(Sender {
        staff: None,
        customer,
    })
}

/// Adds `email` as a contact (of `customer`), under the address itself as username when that
/// is a valid, free username, else its valid characters, with `-2`, `-3` … until one is free.
/// Each try is one INSERT that does nothing on a taken name, not a look-up and then an insert.
async fn add_contact(
    tx: &mut Tx,
    email: &str,
    name: &str,
    customer: Option<&CustomerRef>,
    now: Timestamp,
) -> Result<i64, StoreError> {
    let ok = |c: &char| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@');
    let base: String = email.to_lowercase().chars().filter(ok).take(56).collect();
    let base = if base.is_empty() {
        "contact".to_owned()
    } else {
        base
    };
    for n in 1u32..10_000 {
        let candidate = if n == 1 {
            base.clone()
        } else {
            format!("{base}-{n}")
        };
        let Ok(username) = Username::parse(&candidate) else {
            continue;
        };
        let new = NewUser {
            username,
            email: email.to_owned(),
            name: name.to_owned(),
            role: Role::Customer,
            customer_code: customer.map(|c| c.code.clone()),
            password_hash: None,
        };
        if let Some(id) =
            store::users::insert_if_free(tx, &new, customer.map(|c| c.id), now).await?
        {
            return Ok(id);
        }
    }
    Err(StoreError::NotFound)
}

pub async fn user_by_id(db: &Db, id: i64) -> Result<Option<User>, StoreError> {
    store::users::by_id(db, id).await
}

pub async fn count_users(db: &Db) -> Result<i64, StoreError> {
    store::users::count(db).await
}

pub async fn list_users(db: &Db) -> Result<Vec<User>, StoreError> {
    store::users::list(db).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_refuse_spaces_and_empty() {
        assert!(Username::parse("alice").is_ok());
        assert!(Username::parse("a.b-c_d@x").is_ok());
        assert!(Username::parse("").is_err());
        assert!(
            Username::parse("al ice")
                .unwrap_err()
                .contains("only letters")
        );
    }
}

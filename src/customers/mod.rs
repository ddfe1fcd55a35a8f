//! Customer accounts: the code users, hosts and tickets hang on. This holds what accounts need
//! today (creation and lookup by code); contacts, services, hosts and the API come with issue 6.

mod store;

use jiff::Timestamp;

use crate::db::{StoreError, Tx};

/// A customer code: 1–32 characters of letters, digits, `-` and `_`, as operators write them
/// on contracts and in LDAP/RADIUS attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerCode(String);

impl CustomerCode {
    pub fn parse(s: &str) -> Result<CustomerCode, String> {
        let ok = !s.is_empty()
            && s.len() <= 32
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if ok {
            Ok(CustomerCode(s.to_owned()))
        } else {
            Err(format!("\"{s}\" must be 1 to 32 letters, digits, - or _"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone)]
pub struct NewCustomer {
    pub code: CustomerCode,
    pub name: String,
    pub sla: Option<String>,
    pub domains: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum CustomerError {
    #[error("a customer with the code {0} already exists")]
    Exists(String),
    #[error("the domain {0} already belongs to another customer")]
    DomainTaken(String),
    #[error("the name must not be empty")]
    EmptyName,
    #[error("\"{0}\" is not a domain name")]
    BadDomain(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn valid_domain(d: &str) -> bool {
    d.contains('.')
        && d.len() <= 253
        && d.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

pub async fn create(tx: &mut Tx, new: &NewCustomer, now: Timestamp) -> Result<i64, CustomerError> {
    if new.name.trim().is_empty() {
        return Err(CustomerError::EmptyName);
    }
    let id = match store::insert(tx, new, now).await {
        Err(e) if e.is_conflict_on("customers_code_key") => {
            return Err(CustomerError::Exists(new.code.as_str().to_owned()));
        }
        other => other?,
    };
    for d in &new.domains {
        let d = d.trim().to_ascii_lowercase();
        if !valid_domain(&d) {
            return Err(CustomerError::BadDomain(d));
        }
        match store::add_domain(tx, id, &d).await {
            Err(e) if e.is_conflict_on("customer_domains_domain_key") => {
                return Err(CustomerError::DomainTaken(d));
            }
            other => other?,
        }
    }
    Ok(id)
}

/// A customer's id and SLA policy, found by code.
pub async fn by_code(tx: &mut Tx, code: &str) -> Result<Option<(i64, Option<String>)>, StoreError> {
    store::by_code(tx, code).await
}

/// A customer as other features point at it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CustomerRef {
    pub id: i64,
    pub code: String,
    /// Its SLA policy, when its contract names one.
    pub sla: Option<String>,
}

/// The customer whose mail domain is the domain of `email`, if one is.
pub async fn by_email_domain(tx: &mut Tx, email: &str) -> Result<Option<CustomerRef>, StoreError> {
    let Some((_, domain)) = email.rsplit_once('@') else {
        return Ok(None);
    };
    store::by_domain(tx, &domain.trim().to_ascii_lowercase()).await
}

pub async fn id_by_code(tx: &mut Tx, code: &str) -> Result<Option<i64>, StoreError> {
    store::id_by_code(tx, code).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_domains_are_checked() {
        assert!(CustomerCode::parse("ACME-01").is_ok());
        assert!(CustomerCode::parse("a b").is_err());
        assert!(valid_domain("acme.example"));
        assert!(!valid_domain("acme"));
        assert!(!valid_domain("a..b"));
    }
}

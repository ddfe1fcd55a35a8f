//! Customer accounts (CONTRACT §3 `/api/v1/customers`): the code users, hosts and tickets hang
//! on, with the mail domains that attach unknown senders, the contacts (users of role customer),
//! the services the customer buys and the hosts that monitoring alerts name.

pub mod api;
mod details;
pub mod routes;
mod store;

pub use details::{Contact, Host, Service};

use jiff::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::{StoreError, Tx};

/// A customer code: 1–32 characters of letters, digits, `-` and `_`, as operators write them
/// on contracts and in LDAP/RADIUS attributes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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

#[derive(Debug, Clone, Default)]
pub struct NewCustomer {
    pub code: CustomerCode,
    pub name: String,
    pub sla: Option<String>,
    pub domains: Vec<String>,
    pub services: Vec<Service>,
    pub hosts: Vec<Host>,
}

/// A change to a customer: each field present replaces what was there (lists wholesale).
#[derive(Debug, Clone, Default)]
pub struct Changes {
    pub name: Option<String>,
    /// `Some(None)` removes the contract's policy (the queue's default applies again).
    pub sla: Option<Option<String>>,
    pub domains: Option<Vec<String>>,
    pub services: Option<Vec<Service>>,
    pub hosts: Option<Vec<Host>>,
    /// Usernames or mail addresses of existing users of role customer.
    pub contacts: Option<Vec<String>>,
}

/// A customer with everything that hangs on it, as the API and its page show it.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct Customer {
    pub code: String,
    pub name: String,
    /// The SLA policy of the contract; absent: each queue's default applies.
    pub sla: Option<String>,
    pub domains: Vec<String>,
    pub contacts: Vec<Contact>,
    pub services: Vec<Service>,
    pub hosts: Vec<Host>,
}

/// One line of the customer list.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, sqlx::FromRow)]
pub struct Summary {
    pub code: String,
    pub name: String,
    pub sla: Option<String>,
    /// Tickets in new, open or stalled.
    pub open_tickets: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum CustomerError {
    #[error("a customer with the code {0} already exists")]
    Exists(String),
    #[error("no customer has the code {0}")]
    NotFound(String),
    #[error("the domain {0} already belongs to another customer")]
    DomainTaken(String),
    #[error("the host {0} already belongs to a customer")]
    HostTaken(String),
    #[error("the address {0} already belongs to a host")]
    AddressTaken(String),
    #[error("the name must not be empty")]
    EmptyName,
    #[error("\"{0}\" is not a domain name")]
    BadDomain(String),
    #[error("no SLA policy is named \"{0}\"")]
    NoSuchPolicy(String),
    #[error("{0}")]
    Invalid(String),
    #[error("no user of role customer is called or has the address \"{0}\"")]
    NoSuchContact(String),
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

/// Lower-cased, checked, de-duplicated domains.
fn clean_domains(domains: &[String]) -> Result<Vec<String>, CustomerError> {
    let mut out: Vec<String> = Vec::new();
    for d in domains {
        let d = d.trim().to_ascii_lowercase();
        if !valid_domain(&d) {
            return Err(CustomerError::BadDomain(d));
        }
        if !out.contains(&d) {
            out.push(d);
        }
    }
    Ok(out)
}

/// Refuses a policy name the configuration does not define.
pub fn check_policy(
    policies: &crate::sla::Policies,
    sla: Option<&str>,
) -> Result<(), CustomerError> {
    match sla {
        Some(p) if policies.get(p).is_none() => Err(CustomerError::NoSuchPolicy(p.to_owned())),
        _ => Ok(()),
    }
}

pub async fn create(tx: &mut Tx, new: &NewCustomer, now: Timestamp) -> Result<i64, CustomerError> {
    if new.name.trim().is_empty() {
        return Err(CustomerError::EmptyName);
    }
    let domains = clean_domains(&new.domains)?;
    let services = details::clean_services(&new.services)?;
    let hosts = details::clean_hosts(&new.hosts)?;
    let id = match store::insert(tx, new, now).await {
        Err(e) if e.is_conflict_on("customers_code_key") => {
            return Err(CustomerError::Exists(new.code.as_str().to_owned()));
        }
        other => other?,
    };
    replace_lists(tx, id, Some(&domains), Some(&services), Some(&hosts)).await?;
    Ok(id)
}

/// Applies `changes` to the customer `code`; the lists it names are replaced whole.
pub async fn update(
    tx: &mut Tx,
    code: &str,
    changes: &Changes,
    now: Timestamp,
) -> Result<(), CustomerError> {
    let id = store::id_by_code(tx, code)
        .await?
        .ok_or_else(|| CustomerError::NotFound(code.to_owned()))?;
    if let Some(n) = &changes.name
        && n.trim().is_empty()
    {
        return Err(CustomerError::EmptyName);
    }
    let domains = changes.domains.as_deref().map(clean_domains).transpose()?;
    let services = changes
        .services
        .as_deref()
        .map(details::clean_services)
        .transpose()?;
    let hosts = changes
        .hosts
        .as_deref()
        .map(details::clean_hosts)
        .transpose()?;
    store::update_row(
        tx,
        id,
        changes.name.as_deref().map(str::trim),
        changes.sla.as_ref(),
        now,
    )
    .await?;
    replace_lists(
        tx,
        id,
        domains.as_deref(),
        services.as_deref(),
        hosts.as_deref(),
    )
    .await?;
    if let Some(contacts) = &changes.contacts {
        let mut ids = Vec::new();
        for c in contacts {
            let user = store::contact_id(tx, c.trim())
                .await?
                .ok_or_else(|| CustomerError::NoSuchContact(c.trim().to_owned()))?;
            ids.push(user);
        }
        store::set_contacts(tx, id, &ids).await?;
    }
    Ok(())
}

/// Replaces the lists given; each unique index names what another customer already holds.
async fn replace_lists(
    tx: &mut Tx,
    id: i64,
    domains: Option<&[String]>,
    services: Option<&[Service]>,
    hosts: Option<&[Host]>,
) -> Result<(), CustomerError> {
    if let Some(domains) = domains {
        store::clear_domains(tx, id).await?;
        for d in domains {
            match store::add_domain(tx, id, d).await {
                Err(e) if e.is_conflict_on("customer_domains_domain_key") => {
                    return Err(CustomerError::DomainTaken(d.clone()));
                }
                other => other?,
            }
        }
    }
    if let Some(services) = services {
        store::set_services(tx, id, services).await?;
    }
    if let Some(hosts) = hosts {
        store::clear_hosts(tx, id).await?;
        for h in hosts {
            match store::add_host(tx, id, h).await {
                Err(e) if e.is_conflict_on("customer_hosts_name_key") => {
                    return Err(CustomerError::HostTaken(h.name.clone()));
                }
                Err(e) if e.is_conflict_on("customer_hosts_address_key") => {
                    return Err(CustomerError::AddressTaken(
                        h.address.clone().unwrap_or_default(),
                    ));
                }
                other => other?,
            }
        }
    }
    Ok(())
}

/// The customer `code` with its domains, contacts, services and hosts.
pub async fn get(tx: &mut Tx, code: &str) -> Result<Option<Customer>, StoreError> {
    let Some((id, code, name, sla)) = store::row_by_code(tx, code).await? else {
        return Ok(None);
    };
    Ok(Some(Customer {
        code,
        name,
        sla,
        domains: store::domains(tx, id).await?,
        contacts: store::contacts(tx, id).await?,
        services: store::services(tx, id).await?,
        hosts: store::hosts(tx, id).await?,
    }))
}

/// Every customer by name, with its count of open tickets.
pub async fn list(tx: &mut Tx) -> Result<Vec<Summary>, StoreError> {
    store::list(tx).await
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

/// The customer owning the host called `name_or_address` (a host name, any case, or its
/// address), for alerts (CONTRACT §7).
pub async fn by_host(
    tx: &mut Tx,
    name_or_address: &str,
) -> Result<Option<CustomerRef>, StoreError> {
    let key = name_or_address
        .trim()
        .trim_end_matches('.')
        .to_ascii_lowercase();
    let address = key.parse::<std::net::IpAddr>().ok().map(|a| a.to_string());
    store::by_host(tx, &key, address.as_deref()).await
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
        assert_eq!(
            clean_domains(&["Acme.Example ".into(), "acme.example".into()]).unwrap(),
            vec!["acme.example".to_owned()]
        );
    }
}

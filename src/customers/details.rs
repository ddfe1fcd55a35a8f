//! What hangs on a customer besides its domains: contacts, services and hosts, and the checks
//! each gets before it is stored, so a typo is refused with the field it is in.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::CustomerError;

/// A person of the customer: a user of role customer (mail contacts and directory users too).
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, sqlx::FromRow)]
pub struct Contact {
    pub username: String,
    pub name: String,
    pub email: String,
}

/// Something the customer buys: `kind` such as hosting, colocation, transit, dsl, ftth;
/// `identifier` as operators know it (an IP prefix, a domain, a circuit id).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, sqlx::FromRow)]
pub struct Service {
    pub kind: String,
    pub identifier: String,
    #[serde(default)]
    pub description: String,
}

/// A machine monitoring alerts about; alerts find their customer by its name or address.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, sqlx::FromRow)]
pub struct Host {
    pub name: String,
    #[serde(default)]
    pub address: Option<String>,
}

/// Checked services: a kind of lower-case letters, digits and `-`; a non-empty identifier (an
/// IP prefix, when it looks like one, must be a valid one); duplicates refused.
pub(super) fn clean_services(services: &[Service]) -> Result<Vec<Service>, CustomerError> {
    let mut out: Vec<Service> = Vec::new();
    for (i, s) in services.iter().enumerate() {
        let kind = s.kind.trim().to_ascii_lowercase();
        if kind.is_empty()
            || kind.len() > 32
            || !kind.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(CustomerError::Invalid(format!(
                "services[{i}].kind: \"{}\" must be 1 to 32 letters, digits or - (hosting, colocation, transit, dsl, ftth ...)",
                s.kind
            )));
        }
        let identifier = s.identifier.trim().to_owned();
        if identifier.is_empty() || identifier.chars().count() > 200 {
            return Err(CustomerError::Invalid(format!(
                "services[{i}].identifier: must be 1 to 200 characters"
            )));
        }
        if let Some(why) = prefix_problem(&identifier) {
            return Err(CustomerError::Invalid(format!(
                "services[{i}].identifier: \"{identifier}\" {why}"
            )));
        }
        if out
            .iter()
            .any(|o| o.kind == kind && o.identifier == identifier)
        {
            return Err(CustomerError::Invalid(format!(
                "services[{i}]: {kind} {identifier} is listed twice"
            )));
        }
        out.push(Service {
            kind,
            identifier,
            description: s.description.trim().to_owned(),
        });
    }
    Ok(out)
}

/// Something shaped like `ADDR/LEN` must be a real prefix: a wrong one would never match.
fn prefix_problem(s: &str) -> Option<&'static str> {
    let (addr, len) = s.split_once('/')?;
    let addr: IpAddr = addr.parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    match len.parse::<u8>() {
        Ok(l) if l <= max => None,
        _ => Some("is not a valid IP prefix (the length is out of range)"),
    }
}

/// Checked hosts: a lower-cased DNS-style name, an optional IP address written canonically;
/// a name or address listed twice is refused.
pub(super) fn clean_hosts(hosts: &[Host]) -> Result<Vec<Host>, CustomerError> {
    let mut out: Vec<Host> = Vec::new();
    for (i, h) in hosts.iter().enumerate() {
        let name = h.name.trim().trim_end_matches('.').to_ascii_lowercase();
        let ok = !name.is_empty()
            && name.len() <= 253
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'));
        if !ok {
            return Err(CustomerError::Invalid(format!(
                "hosts[{i}].name: \"{}\" must be a host name (letters, digits, - . _)",
                h.name
            )));
        }
        let address = match h
            .address
            .as_deref()
            .map(str::trim)
            .filter(|a| !a.is_empty())
        {
            None => None,
            Some(a) => Some(
                a.parse::<IpAddr>()
                    .map_err(|_| {
                        CustomerError::Invalid(format!(
                            "hosts[{i}].address: \"{a}\" is not an IP address"
                        ))
                    })?
                    .to_string(),
            ),
        };
        if out.iter().any(|o| o.name == name) {
            return Err(CustomerError::Invalid(format!(
                "hosts[{i}].name: {name} is listed twice"
            )));
        }
        if address.is_some() && out.iter().any(|o| o.address == address) {
            return Err(CustomerError::Invalid(format!(
                "hosts[{i}].address: {} is listed twice",
                address.unwrap_or_default()
            )));
        }
        out.push(Host { name, address });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc(kind: &str, id: &str) -> Service {
        Service {
            kind: kind.into(),
            identifier: id.into(),
            description: String::new(),
        }
    }

    #[test]
    fn services_are_checked_and_prefixes_must_be_real() {
        let ok =
            clean_services(&[svc("Transit", " 192.0.2.0/24 "), svc("dsl", "CIRCUIT-1")]).unwrap();
        assert_eq!(ok[0].kind, "transit");
        assert_eq!(ok[0].identifier, "192.0.2.0/24");
        let e = clean_services(&[svc("transit", "192.0.2.0/33")]).unwrap_err();
        assert!(e.to_string().contains("services[0].identifier"), "{e}");
        assert!(clean_services(&[svc("hosting plan", "x")]).is_err());
        assert!(clean_services(&[svc("dsl", "a"), svc("dsl", "a")]).is_err());
        assert!(clean_services(&[svc("dsl", "")]).is_err());
    }

    #[test]
    fn hosts_are_lower_cased_and_addresses_canonical() {
        let ok = clean_hosts(&[Host {
            name: "Web1.Example.NET.".into(),
            address: Some("2001:DB8::0001".into()),
        }])
        .unwrap();
        assert_eq!(ok[0].name, "web1.example.net");
        assert_eq!(ok[0].address.as_deref(), Some("2001:db8::1"));
        let bad = |name: &str, addr: Option<&str>| {
            clean_hosts(&[Host {
                name: name.into(),
                address: addr.map(Into::into),
            }])
            .is_err()
        };
        assert!(bad("web 1", None));
        assert!(bad("web1", Some("300.1.1.1")));
        assert!(bad("<script>", None));
    }
}

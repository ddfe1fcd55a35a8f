//! The `[radius]` section turned into a client: which attribute names the customer, how the
//! password travels, how long to wait. Everything is checked here once, at start-up, so a
//! sign-in never meets a bad setting.

use std::time::Duration;

use super::Radius;
use crate::config::{RawRadius, parse_duration};

/// How the password travels. PAP hides it with the shared secret; CHAP sends only a hash, for
/// servers that keep cleartext passwords and insist on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Pap,
    Chap,
}

/// Why a `[radius]` section cannot become a client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetupError {
    #[error("radius.servers: must name at least one host:port")]
    NoServers,
    #[error("radius.secret: must not be empty")]
    EmptySecret,
    #[error("radius.method: \"{0}\" is not pap or chap")]
    Method(String),
    #[error("radius.timeout: {0}")]
    Timeout(String),
    #[error(
        "radius.customer_attribute: \"{0}\" is not one of Class, Filter-Id, Reply-Message, Callback-Id or an attribute number 1-255"
    )]
    Attribute(String),
}

/// The attribute that carries `customer:CODE`: a name from RFC 2865's string attributes, or a
/// number for anything else a server may send.
fn attribute_code(name: &str) -> Option<u8> {
    match name {
        "Class" => Some(25),
        "Filter-Id" => Some(11),
        "Reply-Message" => Some(18),
        "Callback-Id" => Some(20),
        n => n.parse::<u8>().ok().filter(|c| *c > 0),
    }
}

impl Radius {
    /// Checks and converts the `[radius]` section; the error names the key at fault.
    pub fn new(cfg: &RawRadius) -> Result<Radius, String> {
        Radius::from_config(cfg).map_err(|e| e.to_string())
    }

    pub(super) fn from_config(cfg: &RawRadius) -> Result<Radius, SetupError> {
        if cfg.servers.is_empty() {
            return Err(SetupError::NoServers);
        }
        if cfg.secret.is_empty() {
            return Err(SetupError::EmptySecret);
        }
        let method = match cfg.method.as_str() {
            "pap" => Method::Pap,
            "chap" => Method::Chap,
            other => return Err(SetupError::Method(other.to_owned())),
        };
        let timeout = parse_timeout(&cfg.timeout)?;
        let name = cfg.customer_attribute.as_deref().unwrap_or("Class");
        let customer_attribute =
            attribute_code(name).ok_or_else(|| SetupError::Attribute(name.to_owned()))?;
        Ok(Radius {
            servers: cfg.servers.clone(),
            secret: cfg.secret.as_bytes().to_vec(),
            method,
            timeout,
            retries: cfg.retries,
            customer_attribute,
        })
    }
}

/// The wait for a reply per try ("2s", "500ms"). Zero is refused: it would give up before
/// any server could answer.
fn parse_timeout(text: &str) -> Result<Duration, SetupError> {
    let timeout = parse_duration(text).map_err(SetupError::Timeout)?;
    if timeout.is_zero() {
        return Err(SetupError::Timeout("must be more than 0".into()));
    }
    Ok(timeout)
}

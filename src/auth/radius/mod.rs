//! RADIUS sign-in (issue 6): subscribers of the ISP sign in with the password their RADIUS
//! server knows. One Access-Request per server over UDP, retransmitted `retries` times after
//! each `timeout`, then the next server in `servers` order (fail-over). Only a reply that
//! proves it was made with our shared secret for this very request counts: anything else is
//! logged and dropped, so a forged or misdirected datagram can neither let somebody in nor
//! lock them out, and a server we cannot trust reads as "unavailable", never as "wrong
//! password". The verdict is the packet code alone: a reject may carry a friendly
//! Reply-Message or even a Class, and still means no.
//!
//! The codec is our own (see `packet`): radius-rust 0.4 has no tokio transport, no CHAP, can
//! panic on a truncated reply, keys a reply's Message-Authenticator on the wrong authenticator
//! and would add second copies of md-5, hmac, rand and thiserror; md-5 0.11 and hmac 0.13
//! (already in the tree through sqlx) are all it takes.

mod auth;
mod packet;
mod setup;
#[cfg(test)]
mod tests;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::time::{Instant, timeout_at};

use self::auth::{MAX_PASSWORD_LEN, check_reply};
use self::packet::{
    ACCESS_ACCEPT, ACCESS_REJECT, ACCESS_REQUEST, Builder, CHAP_CHALLENGE, CHAP_PASSWORD,
    MAX_PACKET_LEN, MAX_VALUE_LEN, MESSAGE_AUTHENTICATOR, NAS_IDENTIFIER, NAS_IP_ADDRESS, Packet,
    PacketError, USER_NAME, USER_PASSWORD,
};
use super::Role;
use super::directory::{DirectoryError, DirectoryUser};

pub use self::setup::{Method, SetupError};

/// How we identify ourselves to the server (RFC 2865 §5.32).
const NAS_ID: &[u8] = b"opsdesk";
/// The value prefix in `customer_attribute` that names the user's customer.
const CUSTOMER_PREFIX: &str = "customer:";

/// Why one server gave us no usable answer; logged, then the next server is asked.
#[derive(Debug, thiserror::Error)]
enum ServerError {
    #[error("cannot resolve: {0}")]
    Resolve(String),
    #[error("socket: {0}")]
    Socket(#[from] std::io::Error),
    #[error("cannot build the request: {0}")]
    Build(#[from] PacketError),
    #[error("no valid reply after {0} tries")]
    NoAnswer(u32),
}

/// A RADIUS client for sign-in, built once from the config and shared by every request.
#[derive(Clone)]
pub struct Radius {
    servers: Vec<String>,
    secret: Vec<u8>,
    method: Method,
    timeout: Duration,
    retries: u32,
    customer_attribute: u8,
}

impl std::fmt::Debug for Radius {
    /// Everything but the secret, which must never reach a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Radius")
            .field("servers", &self.servers)
            .field("method", &self.method)
            .field("timeout", &self.timeout)
            .field("retries", &self.retries)
            .field("customer_attribute", &self.customer_attribute)
            .finish_non_exhaustive()
    }
}

impl Radius {
    /// Asks the servers in order whether `password` is right for `username`. A server that
    /// does not answer in time (or only with replies we cannot trust) is skipped; the first
    /// trustworthy verdict is final, so a reject from the first server is never retried
    /// elsewhere.
    #[tracing::instrument(skip_all, fields(username = %username))]
    pub async fn authenticate(
        &self,
        username: &str,
        password: &str,
    ) -> Result<DirectoryUser, DirectoryError> {
        // Nothing a server could accept: an empty password would be an "anonymous" success on
        // some servers, and RADIUS cannot carry names over 253 or passwords over 128 bytes
        // (the same bound for CHAP, so a password works or fails whichever method is set).
        if username.is_empty()
            || username.len() > MAX_VALUE_LEN
            || password.is_empty()
            || password.len() > MAX_PASSWORD_LEN
        {
            return Err(DirectoryError::Rejected);
        }
        for server in &self.servers {
            match self.ask(server, username, password).await {
                Ok(verdict) => return verdict,
                Err(e) => tracing::warn!(%server, error = %e, "RADIUS server gave no answer"),
            }
        }
        Err(DirectoryError::Unavailable(
            "no RADIUS server answered".into(),
        ))
    }

    fn verdict(&self, reply: &Packet<'_>, username: &str) -> Result<DirectoryUser, DirectoryError> {
        match reply.code {
            ACCESS_ACCEPT => Ok(DirectoryUser {
                username: username.to_owned(),
                name: None,
                email: None,
                role: Role::Customer,
                customer: reply
                    .values(self.customer_attribute)
                    .find_map(customer_code),
            }),
            ACCESS_REJECT => Err(DirectoryError::Rejected),
            _ => Err(DirectoryError::Refused(
                "challenge-response is not supported".into(),
            )),
        }
    }

    /// One server: the same request `1 + retries` times, each followed by up to `timeout` of
    /// listening; answers the verdict of the first reply that passes `check_reply`.
    async fn ask(
        &self,
        server: &str,
        username: &str,
        password: &str,
    ) -> Result<Result<DirectoryUser, DirectoryError>, ServerError> {
        let addr = tokio::net::lookup_host(server)
            .await
            .map_err(|e| ServerError::Resolve(e.to_string()))?
            .next()
            .ok_or_else(|| ServerError::Resolve("no address".into()))?;
        // A fresh socket on an ephemeral port per sign-in: concurrent sign-ins never share
        // the 256 identifiers, and `connect` makes the kernel drop datagrams from anybody
        // but this server (and report a closed port as ECONNREFUSED).
        let any = match addr {
            SocketAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            SocketAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        };
        let socket = UdpSocket::bind((any, 0)).await?;
        socket.connect(addr).await?;
        let nas_ip = match socket.local_addr()?.ip() {
            IpAddr::V4(ip) => Some(ip),
            IpAddr::V6(_) => None,
        };
        let (request, id, request_auth) = self.request(username, password, nas_ip)?;
        let mut buf = vec![0u8; MAX_PACKET_LEN];
        let tries = self.retries.saturating_add(1);
        for _ in 0..tries {
            if let Err(e) = socket.send(&request).await {
                tracing::debug!(%server, error = %e, "RADIUS send failed");
                continue;
            }
            let deadline = Instant::now() + self.timeout;
            while let Ok(received) = timeout_at(deadline, socket.recv(&mut buf)).await {
                let n = match received {
                    Ok(n) => n,
                    Err(e) => {
                        // ICMP port unreachable and the like: nobody listens, so this try is over.
                        tracing::debug!(%server, error = %e, "RADIUS receive failed");
                        break;
                    }
                };
                match check_reply(&buf[..n], id, &request_auth, &self.secret) {
                    Ok(reply) => return Ok(self.verdict(&reply, username)),
                    // Never an answer: keep listening until the deadline.
                    Err(e) => tracing::warn!(%server, error = %e, "dropped a RADIUS reply"),
                }
            }
        }
        Err(ServerError::NoAnswer(tries))
    }

    /// A signed Access-Request with a fresh identifier and Request Authenticator (and CHAP
    /// challenge); answers the bytes, the identifier and the authenticator.
    fn request(
        &self,
        username: &str,
        password: &str,
        nas_ip: Option<Ipv4Addr>,
    ) -> Result<(Vec<u8>, u8, [u8; 16]), PacketError> {
        let id: u8 = rand::random();
        let request_auth: [u8; 16] = rand::random();
        let mut b = Builder::new(ACCESS_REQUEST, id, &request_auth);
        // First, as RFC 3579 and the BlastRADIUS advice (2024) recommend.
        let ma_at = b.push(MESSAGE_AUTHENTICATOR, &[0; 16])?;
        b.push(USER_NAME, username.as_bytes())?;
        match self.method {
            Method::Pap => {
                let hidden = auth::hide_password(password.as_bytes(), &self.secret, &request_auth)
                    .ok_or(PacketError::ValueTooLong(USER_PASSWORD, password.len()))?;
                b.push(USER_PASSWORD, &hidden)?;
            }
            Method::Chap => {
                let ident: u8 = rand::random();
                let challenge: [u8; 16] = rand::random();
                let response = auth::chap_response(ident, password.as_bytes(), &challenge);
                let mut value = [0u8; 17];
                value[0] = ident;
                value[1..].copy_from_slice(&response);
                b.push(CHAP_PASSWORD, &value)?;
                b.push(CHAP_CHALLENGE, &challenge)?;
            }
        }
        b.push(NAS_IDENTIFIER, NAS_ID)?;
        if let Some(ip) = nas_ip {
            b.push(NAS_IP_ADDRESS, &ip.octets())?;
        }
        let mut bytes = b.finish()?;
        auth::sign_request(&mut bytes, ma_at, &self.secret);
        Ok((bytes, id, request_auth))
    }
}

/// `customer:CODE` → `CODE`; anything else (another Class use, not UTF-8, empty code) → `None`.
fn customer_code(value: &[u8]) -> Option<String> {
    let code = std::str::from_utf8(value)
        .ok()?
        .strip_prefix(CUSTOMER_PREFIX)?;
    (!code.is_empty()).then(|| code.to_owned())
}

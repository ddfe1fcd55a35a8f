//! Opening connections to the directory (plain, `ldaps://` or StartTLS, trusting `ca_file`)
//! and running each network step under the configured timeout, with every way it can fail
//! named. Every failure here means "the directory cannot be asked", never "wrong password".

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use ldap3::{LdapConnAsync, LdapConnSettings, LdapError, StdStream};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

use crate::config::RawLdap;

/// Why the directory could not be asked. Shown in the log and as the reason of
/// `DirectoryError::Unavailable`.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// No connection (refused, unreachable, TLS handshake or certificate failure).
    #[error("cannot connect to {url}: {reason}")]
    Connect { url: String, reason: String },
    #[error("{what} timed out after {after:?}")]
    Timeout { what: &'static str, after: Duration },
    /// An open connection stopped working (closed by the server, say): worth one retry on a
    /// fresh connection.
    #[error("{what}: the connection broke: {reason}")]
    Broken { what: &'static str, reason: String },
    #[error("the service account {dn} cannot bind: {reason}")]
    ServiceBind { dn: String, reason: String },
    /// The server answered with a result code that is no verdict about the user.
    #[error("{what}: the server answered {}", describe(*.rc, .text))]
    Code {
        what: &'static str,
        rc: u32,
        text: String,
    },
}

impl Failure {
    pub fn code(what: &'static str, res: &ldap3::LdapResult) -> Failure {
        Failure::Code {
            what,
            rc: res.rc,
            text: res.text.clone(),
        }
    }
}

/// `invalidCredentials (49)`, with the server's diagnostic text when it sent one.
pub fn describe(rc: u32, text: &str) -> String {
    let name = match rc {
        1 => "operationsError",
        2 => "protocolError",
        3 => "timeLimitExceeded",
        4 => "sizeLimitExceeded",
        7 => "authMethodNotSupported",
        8 => "strongerAuthRequired",
        10 => "referral",
        11 => "adminLimitExceeded",
        13 => "confidentialityRequired",
        32 => "noSuchObject",
        34 => "invalidDNSyntax",
        48 => "inappropriateAuthentication",
        49 => "invalidCredentials",
        50 => "insufficientAccessRights",
        51 => "busy",
        52 => "unavailable",
        53 => "unwillingToPerform",
        80 => "other",
        _ => "result code",
    };
    match text.trim() {
        "" => format!("{name} ({rc})"),
        t => format!("{name} ({rc}): {t}"),
    }
}

/// How to reach the directory: the URL and TLS settings, fixed at startup.
pub struct Connector {
    url: String,
    /// `host:port` of the URL, port defaulted by scheme.
    addr: String,
    settings: LdapConnSettings,
    timeout: Duration,
}

impl Connector {
    /// Reads the CA file now, so a bad one stops startup instead of every sign-in.
    pub fn new(cfg: &RawLdap, timeout: Duration) -> Result<Connector, String> {
        let url = url::Url::parse(&cfg.url).map_err(|e| format!("ldap.url: {e}"))?;
        let tls = url.scheme() == "ldaps" || cfg.starttls;
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| format!("ldap.url: {} names no host", cfg.url))?;
        let port = url
            .port()
            .unwrap_or(if url.scheme() == "ldaps" { 636 } else { 389 });
        let mut settings = LdapConnSettings::new()
            .set_conn_timeout(timeout)
            .set_starttls(cfg.starttls && url.scheme() == "ldap");
        if tls {
            settings = settings.set_config(Arc::new(tls_config(cfg.ca_file.as_deref())?));
        }
        Ok(Connector {
            url: cfg.url.clone(),
            addr: format!("{host}:{port}"),
            settings,
            timeout,
        })
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// A new connection (TCP, then TLS or StartTLS as configured), its driver task spawned.
    /// It closes when the last handle to it is dropped.
    pub async fn open(&self) -> Result<ldap3::Ldap, Failure> {
        let timed_out = || Failure::Timeout {
            what: "connecting",
            after: self.timeout,
        };
        let refused = |reason: String| Failure::Connect {
            url: self.url.clone(),
            reason,
        };
        // Our own socket, for TCP_NODELAY: without it the bind that follows a TLS handshake
        // waits for the server's delayed ACK (40 ms on Linux) behind the client's Finished.
        let tcp = tokio::time::timeout(self.timeout, tokio::net::TcpStream::connect(&self.addr))
            .await
            .map_err(|_| timed_out())?
            .map_err(|e| refused(e.to_string()))?;
        tcp.set_nodelay(true).ok();
        let tcp = tcp.into_std().map_err(|e| refused(e.to_string()))?;
        let settings = self.settings.clone().set_std_stream(StdStream::Tcp(tcp));
        // ldap3 applies its own limit (the same) to StartTLS and the TLS handshake.
        let connect = LdapConnAsync::with_settings(settings, &self.url);
        let (conn, ldap) = match tokio::time::timeout(self.timeout, connect).await {
            Err(_) | Ok(Err(LdapError::Timeout { .. })) => return Err(timed_out()),
            Ok(Err(e)) => return Err(refused(e.to_string())),
            Ok(Ok(pair)) => pair,
        };
        tokio::spawn(async move {
            if let Err(e) = conn.drive().await {
                tracing::debug!(error = %e, "LDAP connection ended");
            }
        });
        Ok(ldap)
    }

    /// Runs one LDAP operation under the timeout, mapping transport errors to a `Failure`.
    pub async fn step<T>(
        &self,
        what: &'static str,
        op: impl Future<Output = Result<T, LdapError>>,
    ) -> Result<T, Failure> {
        match tokio::time::timeout(self.timeout, op).await {
            Err(_) | Ok(Err(LdapError::Timeout { .. })) => Err(Failure::Timeout {
                what,
                after: self.timeout,
            }),
            Ok(Err(e)) => Err(Failure::Broken {
                what,
                reason: e.to_string(),
            }),
            Ok(Ok(v)) => Ok(v),
        }
    }

    /// A new connection bound as the service account.
    pub async fn open_as_service(&self, dn: &str, password: &str) -> Result<ldap3::Ldap, Failure> {
        let mut ldap = self.open().await?;
        let res = self
            .step(
                "binding the service account",
                ldap.simple_bind(dn, password),
            )
            .await?;
        if res.rc != 0 {
            return Err(Failure::ServiceBind {
                dn: dn.to_owned(),
                reason: describe(res.rc, &res.text),
            });
        }
        Ok(ldap)
    }
}

/// The public roots plus the CA in `ca_file`, over ring (the one provider in the tree).
fn tls_config(ca_file: Option<&str>) -> Result<ClientConfig, String> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = ca_file {
        let bad = |reason: String| format!("ldap.ca_file: {path}: {reason}");
        let certs = CertificateDer::pem_file_iter(path)
            .map_err(|e| bad(e.to_string()))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad(e.to_string()))?;
        if certs.is_empty() {
            return Err(bad("no PEM certificate in it".into()));
        }
        for c in certs {
            roots.add(c).map_err(|e| bad(e.to_string()))?;
        }
    }
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    Ok(ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

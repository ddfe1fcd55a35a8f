//! Opening an IMAP session: plain TCP for `imap://`, TLS for `imaps://` (the public roots plus
//! an optional private CA), then LOGIN. Every network step has a deadline, so a server that
//! stops answering costs one timeout, never a stuck poller.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_imap::{Client, Session};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

use crate::config::RawImap;

/// How long one network step (connect, handshake, a command) may take.
pub const STEP: Duration = Duration::from_secs(60);

/// The stream under a session, plain or TLS, behind one type.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send + Sync + std::fmt::Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + Sync + std::fmt::Debug> Io for T {}

pub type ImapSession = Session<Box<dyn Io>>;

#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    #[error("{0} is not an imap:// or imaps:// URL with a host")]
    Url(String),
    #[error("cannot read the CA file {path}: {reason}")]
    Ca { path: String, reason: String },
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("TLS with {addr} failed: {source}")]
    Tls {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{addr} sent no IMAP greeting")]
    Greeting { addr: String },
    #[error("{addr} refused the login of {user}: {reason}")]
    Login {
        addr: String,
        user: String,
        reason: String,
    },
    #[error("{what} took longer than {} s", STEP.as_secs())]
    Timeout { what: &'static str },
    #[error("IMAP {what}: {source}")]
    Protocol {
        what: &'static str,
        #[source]
        source: async_imap::error::Error,
    },
}

/// Runs one network step under the [`STEP`] deadline.
pub async fn step<T, E>(
    what: &'static str,
    fut: impl Future<Output = Result<T, E>>,
    err: impl FnOnce(E) -> ImapError,
) -> Result<T, ImapError> {
    match tokio::time::timeout(STEP, fut).await {
        Ok(r) => r.map_err(err),
        Err(_) => Err(ImapError::Timeout { what }),
    }
}

/// Runs one IMAP command under the [`STEP`] deadline.
pub async fn command<T>(
    what: &'static str,
    fut: impl Future<Output = async_imap::error::Result<T>>,
) -> Result<T, ImapError> {
    step(what, fut, |source| ImapError::Protocol { what, source }).await
}

/// Connects and logs in.
pub async fn open(cfg: &RawImap) -> Result<ImapSession, ImapError> {
    let url = url::Url::parse(&cfg.url).map_err(|_| ImapError::Url(cfg.url.clone()))?;
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| ImapError::Url(cfg.url.clone()))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let tls = match url.scheme() {
        "imaps" => true,
        "imap" => false,
        _ => return Err(ImapError::Url(cfg.url.clone())),
    };
    let port = url.port().unwrap_or(if tls { 993 } else { 143 });
    let addr = format!("{host}:{port}");
    let tcp = step(
        "connect",
        TcpStream::connect((host.as_str(), port)),
        |source| ImapError::Connect {
            addr: addr.clone(),
            source,
        },
    )
    .await?;
    tcp.set_nodelay(true).ok();
    let stream: Box<dyn Io> = if tls {
        let connector = TlsConnector::from(Arc::new(tls_config(cfg.ca_file.as_deref())?));
        let name =
            ServerName::try_from(host.clone()).map_err(|_| ImapError::Url(cfg.url.clone()))?;
        Box::new(
            step("TLS handshake", connector.connect(name, tcp), |source| {
                ImapError::Tls {
                    addr: addr.clone(),
                    source,
                }
            })
            .await?,
        )
    } else {
        Box::new(tcp)
    };
    let mut client = Client::new(stream);
    let greeting = step("greeting", client.read_response(), |source| {
        ImapError::Connect {
            addr: addr.clone(),
            source,
        }
    })
    .await?;
    if greeting.is_none() {
        return Err(ImapError::Greeting { addr });
    }
    match tokio::time::timeout(STEP, client.login(&cfg.username, &cfg.password)).await {
        Err(_) => Err(ImapError::Timeout { what: "login" }),
        Ok(Err((e, _))) => Err(ImapError::Login {
            addr,
            user: cfg.username.clone(),
            reason: e.to_string(),
        }),
        Ok(Ok(session)) => Ok(session),
    }
}

fn tls_config(ca_file: Option<&str>) -> Result<ClientConfig, ImapError> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = ca_file {
        let ca = |reason: String| ImapError::Ca {
            path: path.to_owned(),
            reason,
        };
        let certs = CertificateDer::pem_file_iter(path)
            .map_err(|e| ca(e.to_string()))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ca(e.to_string()))?;
        if certs.is_empty() {
            return Err(ca("no PEM certificate in it".into()));
        }
        for c in certs {
            roots.add(c).map_err(|e| ca(e.to_string()))?;
        }
    }
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    Ok(ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ImapError::Tls {
            addr: String::new(),
            source: std::io::Error::other(e),
        })?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

//! Building and running the app. `serve` and the tests run the same code: a config and a bound
//! listener in, a shutdown future to stop (STYLE.md, take 1).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};

use crate::auth::{self, NewUser, Role, Username};
use crate::clock::SharedClock;
use crate::config::Config;
use crate::db::{Db, StoreError};
use crate::jobs::periodic::PurgeHandler;
use crate::jobs::{JobCtx, Registry, Runner};
use crate::state::AppState;
use crate::web::metrics::Metrics;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot connect to the database at {url}: {source}")]
    Database {
        url: String,
        #[source]
        source: StoreError,
    },
    #[error("migrating the database failed: {0}")]
    Migrate(#[source] StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("OPSDESK_ADMIN_PASSWORD: {0}")]
    AdminPassword(String),
    #[error("creating the first admin failed: {0}")]
    Bootstrap(String),
    #[error("{0}")]
    Directory(String),
}

pub async fn connect(cfg: &Config) -> Result<Db, StartError> {
    Db::connect(&cfg.database_url, cfg.db)
        .await
        .map_err(|source| StartError::Database {
            url: cfg.database_url.redacted(),
            source,
        })
}

/// A migrated database and the state around it, ready to serve.
pub struct App {
    pub state: AppState,
    registry: Registry,
}

impl App {
    pub async fn build(
        config: Config,
        clock: SharedClock,
        admin_password: Option<String>,
    ) -> Result<App, StartError> {
        let db = connect(&config).await?;
        db.migrate().await.map_err(StartError::Migrate)?;
        bootstrap_admin(&db, &clock, admin_password).await?;
        let directories = auth::directories(&config).map_err(StartError::Directory)?;
        let config = Arc::new(config);
        let registry = Registry::default()
            .with(PurgeHandler {
                login_window: config.auth.login_window,
                config: config.clone(),
            })
            .with(crate::mail::MailHandler {
                config: config.clone(),
            })
            .with(crate::mail::send::SendHandler::new(config.clone()));
        let alerts = crate::alerts::Intake::new(db.clone(), config.clone());
        let state = AppState {
            db,
            clock,
            config,
            alerts,
            metrics: Arc::new(Metrics::default()),
            directories,
        };
        Ok(App { state, registry })
    }

    /// Serves on `listener` and runs the workers until `shutdown` resolves; then stops taking
    /// requests and jobs, lets the ones in hand finish, and closes the pool.
    pub async fn run(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), StartError> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let wake = Arc::new(Notify::new());
        let node = node_id();
        let ctx = JobCtx {
            db: self.state.db.clone(),
            clock: self.state.clock.clone(),
        };
        let mut workers = Vec::new();
        for i in 0..self.state.config.jobs.workers {
            let runner = Runner::new(
                ctx.clone(),
                self.registry.clone(),
                format!("{node}-{i}"),
                self.state.config.jobs.lease,
            );
            workers.push(tokio::spawn(runner.run(stop_rx.clone(), wake.clone())));
        }
        // Mail stored but not processed when the last run ended is processed now.
        let (db, config, clock) = (
            self.state.db.clone(),
            self.state.config.clone(),
            self.state.clock.clone(),
        );
        workers.push(tokio::spawn(async move {
            match crate::mail::recover(&db, &config, clock.now()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(messages = n, "processed mail stored before the restart"),
                Err(e) => {
                    tracing::warn!(error = %e, "stored mail not processed yet; the jobs will retry")
                }
            }
        }));
        for i in 0..self.state.config.mail.imap.len() {
            if let Some(poller) = crate::mail::imap::Poller::new(
                self.state.db.clone(),
                self.state.config.clone(),
                self.state.clock.clone(),
                i,
                node.clone(),
            ) {
                workers.push(tokio::spawn(poller.run(stop_rx.clone())));
            }
        }
        workers.push(tokio::spawn(crate::search::index::run(
            self.state.db.clone(),
            stop_rx.clone(),
        )));
        workers.push(tokio::spawn(crate::sla::worker::run(
            self.state.db.clone(),
            self.state.config.clone(),
            self.state.clock.clone(),
            stop_rx.clone(),
        )));
        workers.push(tokio::spawn(crate::jobs::periodic::run(
            self.state.db.clone(),
            self.state.clock.clone(),
            self.state.config.jobs.max_attempts,
            stop_rx.clone(),
        )));

        let router = crate::web::router(self.state.clone());
        let mut server_stop = stop_rx.clone();
        tokio::spawn(async move {
            shutdown.await;
            tracing::info!("shutting down: no new requests or jobs; finishing those in hand");
            let _ = stop_tx.send(true);
        });
        crate::web::serve::serve(
            listener,
            router,
            self.state.config.web.request_timeout,
            async move {
                let _ = server_stop.wait_for(|s| *s).await;
            },
        )
        .await;
        for w in workers {
            if tokio::time::timeout(Duration::from_secs(30), w)
                .await
                .is_err()
            {
                tracing::warn!("a worker did not stop within 30 s");
            }
        }
        self.state.db.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// `opsdesk serve`: build, bind, and run until SIGINT or SIGTERM.
pub async fn serve(config: Config, admin_password: Option<String>) -> Result<(), StartError> {
    let addr = config.listen;
    let app = App::build(config, crate::clock::from_env(), admin_password).await?;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| StartError::Bind { addr, source })?;
    tracing::info!(addr = %local, backend = app.state.db.backend().as_str(), "listening");
    app.run(listener, shutdown_signal()).await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// Names this process in job leases: host name, process id and a random suffix.
fn node_id() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_default();
    let host = if host.is_empty() {
        "node".to_owned()
    } else {
        host
    };
    format!(
        "{host}-{}-{:04x}",
        std::process::id(),
        rand::random::<u16>()
    )
}

/// On first start with no users, creates `admin` (CONTRACT §1). Nodes starting together may
/// both try; the unique username lets one win and the other carry on.
async fn bootstrap_admin(
    db: &Db,
    clock: &SharedClock,
    from_env: Option<String>,
) -> Result<(), StartError> {
    if auth::count_users(db)
        .await
        .map_err(|e| StartError::Bootstrap(e.to_string()))?
        > 0
    {
        return Ok(());
    }
    let (password, generated) = match from_env {
        Some(p) => {
            auth::password::validate(&p).map_err(StartError::AdminPassword)?;
            (p, false)
        }
        None => (auth::sessions::random_token()[..20].to_owned(), true),
    };
    let hash = auth::password::hash_blocking(password.clone())
        .await
        .map_err(StartError::Bootstrap)?;
    let username = Username::parse("admin").map_err(StartError::Bootstrap)?;
    let new = NewUser {
        username,
        email: "admin@localhost".into(),
        name: "Administrator".into(),
        role: Role::Admin,
        customer_code: None,
        password_hash: Some(hash),
    };
    let mut tx = db
        .begin()
        .await
        .map_err(|e| StartError::Bootstrap(e.to_string()))?;
    match auth::create_user(&mut tx, new, clock.now()).await {
        Ok(_) => {
            tx.commit()
                .await
                .map_err(|e| StartError::Bootstrap(e.to_string()))?;
            if generated {
                tracing::warn!(
                    "created the first admin user \"admin\" with the generated password {password} \
                     (shown once; set OPSDESK_ADMIN_PASSWORD to choose it)"
                );
            } else {
                tracing::info!(
                    "created the first admin user \"admin\" with the password from OPSDESK_ADMIN_PASSWORD"
                );
            }
            Ok(())
        }
        Err(auth::UserError::Exists(_)) => Ok(()),
        Err(e) => Err(StartError::Bootstrap(e.to_string())),
    }
}

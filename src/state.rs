//! `AppState`: what every handler and worker may reach, passed explicitly (no globals).

use std::sync::Arc;

use axum::extract::FromRef;

use crate::clock::SharedClock;
use crate::config::Config;
use crate::db::Db;
use crate::web::metrics::Metrics;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub clock: SharedClock,
    pub config: Arc<Config>,
    pub metrics: Arc<Metrics>,
    /// LDAP and RADIUS clients, built once so sign-ins reuse their connections.
    pub directories: crate::auth::Directories,
    /// Alert deliveries, applied in batches per source.
    pub alerts: crate::alerts::Intake,
}

impl FromRef<AppState> for Db {
    fn from_ref(s: &AppState) -> Db {
        s.db.clone()
    }
}

impl FromRef<AppState> for Arc<Config> {
    fn from_ref(s: &AppState) -> Arc<Config> {
        s.config.clone()
    }
}

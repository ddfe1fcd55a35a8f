//! The alerts page (staff) and silencing an alert from its ticket.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::silence::{self, SilenceError};
use super::{AlertView, Filter};
use crate::auth::sessions::FlashKind;
use crate::error::{AppError, Result};
use crate::state::AppState;
use crate::web::extract::{Admin, Staff};
use crate::web::page::{Page, flash};
use crate::web::visitor::Visitor;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/alerts", get(index))
        .route("/alerts/deliveries", get(deliveries))
        .route("/alerts/deliveries/{id}/raw", get(raw))
        .route("/tickets/{id}/alerts/{alert}/silence", post(silence_one))
}

const STATE_CHOICES: [(&str, &str); 5] = [
    ("", "current"),
    ("firing", "firing"),
    ("acknowledged", "acknowledged"),
    ("resolved", "resolved"),
    ("all", "all"),
];

#[derive(Template, WebTemplate)]
#[template(path = "alerts/index.html")]
struct IndexPage {
    page: Page,
    alerts: Vec<AlertView>,
    total: i64,
    shown: usize,
    state: String,
    state_choices: &'static [(&'static str, &'static str)],
    source: Option<String>,
    sources: Vec<String>,
    customer: Option<String>,
}

#[derive(Debug, Deserialize)]
struct IndexQuery {
    state: Option<String>,
    source: Option<String>,
    customer: Option<String>,
}

async fn index(
    State(st): State<AppState>,
    v: Visitor,
    Staff(_): Staff,
    Query(q): Query<IndexQuery>,
) -> Result<IndexPage> {
    let state = q.state.unwrap_or_default();
    let source = q.source.filter(|s| !s.is_empty());
    let customer = q
        .customer
        .map(|c| c.trim().to_owned())
        .filter(|s| !s.is_empty());
    let f = Filter {
        source: source.clone(),
        customer: customer.clone(),
        states: super::api::states(Some(&state))?,
        ticket: None,
        limit: 500,
        offset: 0,
    };
    let mut tx = st.db.begin_read().await?;
    let (total, alerts) = super::list(&mut tx, &f).await?;
    tx.commit().await?;
    Ok(IndexPage {
        page: Page::new(&st, &v, "Alerts").await,
        shown: alerts.len(),
        alerts,
        total,
        state,
        state_choices: &STATE_CHOICES,
        source,
        sources: st
            .config
            .alert_sources
            .iter()
            .map(|s| s.name.clone())
            .collect(),
        customer,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "alerts/deliveries.html")]
struct DeliveriesPage {
    page: Page,
    deliveries: Vec<super::PayloadRow>,
}

#[derive(Debug, Deserialize)]
struct DeliveriesQuery {
    outcome: Option<String>,
}

/// The latest 200 deliveries (admins: raw payloads may carry what monitoring knows).
async fn deliveries(
    State(st): State<AppState>,
    v: Visitor,
    Admin(_): Admin,
    Query(q): Query<DeliveriesQuery>,
) -> Result<DeliveriesPage> {
    let outcome = q.outcome.filter(|o| !o.is_empty());
    let mut tx = st.db.begin_read().await?;
    let deliveries = super::deliveries(&mut tx, outcome.as_deref(), 200).await?;
    tx.commit().await?;
    Ok(DeliveriesPage {
        page: Page::new(&st, &v, "Alert deliveries").await,
        deliveries,
    })
}

/// One delivery's bytes, as a download (never rendered: it is whatever was posted).
async fn raw(State(st): State<AppState>, Admin(_): Admin, Path(id): Path<i64>) -> Result<Response> {
    let mut tx = st.db.begin_read().await?;
    let body = super::delivery_body(&mut tx, id).await?;
    tx.commit().await?;
    let body = body.ok_or(AppError::NotFound)?;
    let disposition = format!("attachment; filename=\"alert-delivery-{id}.bin\"");
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
struct SilenceForm {
    duration: String,
    #[serde(default)]
    comment: String,
}

/// Silences one of the ticket's alerts in Alertmanager; the outcome is a flash on the ticket.
async fn silence_one(
    State(st): State<AppState>,
    v: Visitor,
    Staff(me): Staff,
    Path((id, alert)): Path<(i64, i64)>,
    Form(f): Form<SilenceForm>,
) -> Result<Response> {
    if silence::ticket_of(&st.db, alert).await.map_err(to_app)? != Some(id) {
        return Err(AppError::NotFound);
    }
    let outcome = match silence::length(&f.duration) {
        Ok(d) => {
            silence::silence(
                &st.db,
                &st.config,
                alert,
                d,
                &me.username,
                &f.comment,
                st.clock.now(),
            )
            .await
        }
        Err(e) => Err(e),
    };
    match outcome {
        Ok(s) => {
            let msg = format!(
                "Silenced in Alertmanager until {} (silence {}).",
                s.until.strftime("%Y-%m-%d %H:%M UTC"),
                s.id
            );
            flash(&st, &v, FlashKind::Success, &msg).await?;
        }
        Err(SilenceError::Store(e)) => return Err(e.into()),
        Err(e) => flash(&st, &v, FlashKind::Error, &e.to_string()).await?,
    }
    Ok(Redirect::to(&format!("/tickets/{id}")).into_response())
}

fn to_app(e: SilenceError) -> AppError {
    match e {
        SilenceError::Store(s) => s.into(),
        other => AppError::BadRequest(other.to_string()),
    }
}

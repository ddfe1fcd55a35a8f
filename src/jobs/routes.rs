//! The admin's view of the job queue: depth by state, the dead letters, and retry/discard.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Redirect;
use axum::routing::{get, post};

use super::{JobRow, QueueDepth};
use crate::auth::sessions::{self, FlashKind};
use crate::error::{AppError, Result};
use crate::state::AppState;
use crate::web::extract::Admin;
use crate::web::page::Page;
use crate::web::visitor::Visitor;

#[derive(Template, WebTemplate)]
#[template(path = "admin/jobs.html")]
struct JobsPage {
    page: Page,
    depth: QueueDepth,
    dead: Vec<JobRow>,
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/jobs", get(list))
        .route("/admin/jobs/{id}/retry", post(retry))
        .route("/admin/jobs/{id}/discard", post(discard))
}

async fn list(State(st): State<AppState>, v: Visitor, Admin(_): Admin) -> Result<JobsPage> {
    Ok(JobsPage {
        depth: super::depth(&st.db).await?,
        dead: super::dead_letters(&st.db, 200).await?,
        page: Page::new(&st, &v, "Background jobs").await,
    })
}

async fn flash(st: &AppState, v: &Visitor, kind: FlashKind, msg: &str) -> Result<()> {
    if let Some(s) = &v.session {
        sessions::set_flash(&st.db, &s.id_hash, kind, msg).await?;
    }
    Ok(())
}

async fn retry(
    State(st): State<AppState>,
    v: Visitor,
    Admin(u): Admin,
    Path(id): Path<i64>,
) -> Result<Redirect> {
    if !super::retry_dead(&st.db, id, st.clock.now()).await? {
        return Err(AppError::NotFound);
    }
    tracing::info!(job = id, by = %u.username, "dead letter put back on the queue");
    flash(
        &st,
        &v,
        FlashKind::Success,
        &format!("Job {id} is queued again."),
    )
    .await?;
    Ok(Redirect::to("/admin/jobs"))
}

async fn discard(
    State(st): State<AppState>,
    v: Visitor,
    Admin(u): Admin,
    Path(id): Path<i64>,
) -> Result<Redirect> {
    if !super::discard_dead(&st.db, id).await? {
        return Err(AppError::NotFound);
    }
    tracing::info!(job = id, by = %u.username, "dead letter discarded");
    flash(
        &st,
        &v,
        FlashKind::Info,
        &format!("Job {id} was discarded."),
    )
    .await?;
    Ok(Redirect::to("/admin/jobs"))
}

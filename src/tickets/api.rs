//! The tickets JSON API (CONTRACT §3). Staff and `api` tokens only: customers use the portal.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use super::{Ctx, HistoryEntry, NewTicket, Patch, Reply, ReplyKind, Source, Ticket};
use crate::auth::Role;
use crate::error::{AppError, Result};
use crate::state::AppState;
use crate::web::extract::ApiCaller;

pub fn api() -> Router<AppState> {
    Router::new()
        .route("/api/v1/tickets", post(create).get(list))
        .route("/api/v1/tickets/{id}", get(show).patch(update))
        .route("/api/v1/tickets/{id}/correspond", post(correspond))
        .route("/api/v1/tickets/{id}/comment", post(comment))
        .route("/api/v1/tickets/{id}/merge", post(merge))
        .route("/api/v1/tickets/{id}/links", post(link).delete(unlink))
        .route("/api/v1/tickets/{id}/history", get(history))
}

/// The acting name of a caller allowed to work tickets.
fn staff(caller: &ApiCaller) -> Result<&str> {
    match caller {
        ApiCaller::User(u) if u.role == Role::Customer => Err(AppError::Forbidden(
            "customers use the portal, not the staff API".into(),
        )),
        c => Ok(c.actor()),
    }
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    query: Option<String>,
    order: Option<String>,
    page: Option<i64>,
    per_page: Option<i64>,
    after: Option<String>,
}

async fn list(
    State(st): State<AppState>,
    caller: ApiCaller,
    Query(q): Query<ListQuery>,
) -> Result<Json<super::search::Found>> {
    let actor = staff(&caller)?;
    let s = super::search::Search {
        query: q.query.as_deref(),
        order: q.order.as_deref(),
        page: q.page.unwrap_or(1),
        per_page: q.per_page.unwrap_or(50),
        current_user: Some(actor),
        after: q.after.as_deref(),
    };
    Ok(Json(super::search::find(&st.db, s, st.clock.now()).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    queue: String,
    subject: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    requestors: Vec<String>,
    priority: Option<i64>,
    customer: Option<String>,
    /// "text" (default) or "markdown".
    format: Option<String>,
}

fn format_of(f: Option<&str>) -> Result<&'static str> {
    match f.unwrap_or("text") {
        "text" => Ok("text"),
        "markdown" => Ok("markdown"),
        other => Err(AppError::invalid(
            "format",
            format!("\"{other}\" is not text or markdown"),
        )),
    }
}

async fn create(
    State(st): State<AppState>,
    caller: ApiCaller,
    Json(b): Json<CreateBody>,
) -> Result<(StatusCode, Json<Ticket>)> {
    let actor = staff(&caller)?;
    let ctx = Ctx {
        config: &st.config,
        actor,
        now: st.clock.now(),
    };
    let new = NewTicket {
        body_format: format_of(b.format.as_deref())?,
        queue: b.queue,
        subject: b.subject,
        body: b.body,
        requestors: b.requestors,
        priority: b.priority,
        customer: b.customer,
        source: Source::Api,
        host: None,
        runbook: None,
    };
    let mut tx = st.db.begin().await?;
    let id = super::create(&mut tx, ctx, new).await?;
    let t = super::load(&mut tx, id).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(t)))
}

async fn show(
    State(st): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
) -> Result<Json<Ticket>> {
    staff(&caller)?;
    let mut tx = st.db.begin().await?;
    let t = super::load(&mut tx, id).await?;
    tx.commit().await?;
    Ok(Json(t))
}

async fn update(
    State(st): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    Json(p): Json<Patch>,
) -> Result<Json<Ticket>> {
    let actor = staff(&caller)?;
    let ctx = Ctx {
        config: &st.config,
        actor,
        now: st.clock.now(),
    };
    let mut tx = st.db.begin().await?;
    let id = super::update(&mut tx, ctx, id, p).await?;
    let t = super::load(&mut tx, id).await?;
    tx.commit().await?;
    Ok(Json(t))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplyBody {
    body: String,
    format: Option<String>,
    #[serde(default)]
    time_taken: i32,
}

async fn add_reply(
    st: AppState,
    caller: ApiCaller,
    id: i64,
    kind: ReplyKind,
    b: ReplyBody,
) -> Result<(StatusCode, Json<Ticket>)> {
    let actor = staff(&caller)?;
    let ctx = Ctx {
        config: &st.config,
        actor,
        now: st.clock.now(),
    };
    let r = Reply {
        kind,
        body: b.body,
        body_format: format_of(b.format.as_deref())?,
        from_requestor: false,
        time_taken: b.time_taken,
    };
    let mut tx = st.db.begin().await?;
    let (id, _) = super::reply(&mut tx, ctx, id, r).await?;
    let t = super::load(&mut tx, id).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(t)))
}

async fn correspond(
    State(st): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    Json(b): Json<ReplyBody>,
) -> Result<(StatusCode, Json<Ticket>)> {
    add_reply(st, caller, id, ReplyKind::Correspond, b).await
}

async fn comment(
    State(st): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    Json(b): Json<ReplyBody>,
) -> Result<(StatusCode, Json<Ticket>)> {
    add_reply(st, caller, id, ReplyKind::Comment, b).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MergeBody {
    into: i64,
}

async fn merge(
    State(st): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    Json(b): Json<MergeBody>,
) -> Result<Json<Ticket>> {
    let actor = staff(&caller)?;
    let ctx = Ctx {
        config: &st.config,
        actor,
        now: st.clock.now(),
    };
    let mut tx = st.db.begin().await?;
    let into = super::merge(&mut tx, ctx, id, b.into).await?;
    let t = super::load(&mut tx, into).await?;
    tx.commit().await?;
    Ok(Json(t))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkBody {
    #[serde(rename = "type")]
    kind: String,
    target: i64,
}

async fn link(
    State(st): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    Json(b): Json<LinkBody>,
) -> Result<Json<Ticket>> {
    let actor = staff(&caller)?;
    let ctx = Ctx {
        config: &st.config,
        actor,
        now: st.clock.now(),
    };
    let mut tx = st.db.begin().await?;
    super::link(&mut tx, ctx, id, &b.kind, b.target).await?;
    let t = super::load(&mut tx, id).await?;
    tx.commit().await?;
    Ok(Json(t))
}

async fn unlink(
    State(st): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    Json(b): Json<LinkBody>,
) -> Result<Json<Ticket>> {
    let actor = staff(&caller)?;
    let ctx = Ctx {
        config: &st.config,
        actor,
        now: st.clock.now(),
    };
    let mut tx = st.db.begin().await?;
    super::unlink(&mut tx, ctx, id, &b.kind, b.target).await?;
    let t = super::load(&mut tx, id).await?;
    tx.commit().await?;
    Ok(Json(t))
}

async fn history(
    State(st): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
) -> Result<Json<Vec<HistoryEntry>>> {
    staff(&caller)?;
    let mut tx = st.db.begin().await?;
    let h = super::history(&mut tx, id).await?;
    tx.commit().await?;
    Ok(Json(h))
}

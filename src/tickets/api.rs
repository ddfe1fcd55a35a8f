//! The tickets JSON API (CONTRACT §3). Staff and `api` tokens work every ticket. A signed-in
//! customer is fenced in to their customer's tickets: they list, open, read the public history
//! of, and answer those; any other ticket is a 404, exactly as one that does not exist. Each handler carries its OpenAPI description; `routes!` registers route and description
//! together, so /api/openapi.json cannot drift from what the server answers.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::search::Found;
use super::{Ctx, HistoryEntry, NewTicket, Patch, Reply, ReplyKind, Source, Ticket};
use crate::auth::Role;
use crate::error::{AppError, ErrorInfo, Result};
use crate::state::AppState;
use crate::web::extract::ApiCaller;

pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(show, update))
        .routes(routes!(correspond))
        .routes(routes!(comment))
        .routes(routes!(merge))
        .routes(routes!(link, unlink))
        .routes(routes!(history))
}

/// The customer a caller is fenced in to: `Some` for a signed-in customer (a customer with no
/// customer gets a fence nobody matches), `None` for staff and tokens.
fn fence(caller: &ApiCaller) -> Option<&str> {
    match caller {
        ApiCaller::User(u) if u.role == Role::Customer => {
            Some(u.customer_code.as_deref().unwrap_or(""))
        }
        _ => None,
    }
}

/// Answers 404 for a ticket outside the caller's fence, before anything else is said about it.
async fn reachable(st: &AppState, caller: &ApiCaller, id: i64) -> Result<()> {
    let Some(code) = fence(caller) else {
        return Ok(());
    };
    let mut tx = st.db.begin_read().await?;
    let t = super::load(&mut tx, id).await;
    tx.commit().await?;
    match t {
        Ok(t) if t.customer.as_deref() == Some(code) && !code.is_empty() => Ok(()),
        Ok(_) => Err(AppError::NotFound),
        Err(e) => Err(e.into()),
    }
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

/// A search: TQL, order, and either a page number or a cursor.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// TQL, e.g. `Queue = 'NOC' AND Status = '__Active__'`; empty matches every ticket.
    query: Option<String>,
    /// Sort keys, `-` for descending: `-updated` (default), `priority,-created`.
    order: Option<String>,
    /// 1-based page number (OFFSET paging).
    page: Option<i64>,
    /// 1 to 500, default 50.
    per_page: Option<i64>,
    /// The `next` cursor of the previous page (keyset paging: constant cost at any depth).
    after: Option<String>,
    /// `true` to count every match; otherwise `total` stops at 1000 and `total_exact` is false.
    exact_total: Option<bool>,
}

/// Finds tickets with TQL.
#[utoipa::path(get, path = "/api/v1/tickets", tag = "tickets", params(ListQuery),
    responses((status = 200, body = Found), (status = 400, description = "the query does not parse", body = ErrorInfo)),
    security(("bearer" = [])))]
async fn list(
    State(st): State<AppState>,
    caller: ApiCaller,
    Query(q): Query<ListQuery>,
) -> Result<Json<Found>> {
    let actor = caller.actor();
    let s = super::search::Search {
        query: q.query.as_deref(),
        order: q.order.as_deref(),
        page: q.page.unwrap_or(1),
        per_page: q.per_page.unwrap_or(50),
        current_user: Some(actor),
        after: q.after.as_deref(),
        exact_total: q.exact_total.unwrap_or(false),
        customer: fence(&caller),
    };
    Ok(Json(super::search::find(&st.db, s, st.clock.now()).await?))
}

/// A new ticket.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    queue: String,
    subject: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    requestors: Vec<String>,
    /// 1 (most urgent) to 4; default 3.
    #[schema(minimum = 1, maximum = 4)]
    priority: Option<i64>,
    /// A customer code; default: the customer whose domain matches the first requestor.
    customer: Option<String>,
    /// `text` (default) or `markdown`.
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

/// Opens a ticket.
#[utoipa::path(post, path = "/api/v1/tickets", tag = "tickets", request_body = CreateBody,
    responses((status = 201, body = Ticket), (status = 422, description = "a field is not valid", body = ErrorInfo)),
    security(("bearer" = [])))]
async fn create(
    State(st): State<AppState>,
    caller: ApiCaller,
    Json(b): Json<CreateBody>,
) -> Result<(StatusCode, Json<Ticket>)> {
    let actor = caller.actor();
    let ctx = Ctx {
        config: &st.config,
        actor,
        now: st.clock.now(),
    };
    // A customer opens tickets for their own customer, as their own requestor.
    let (requestors, customer) = match (&caller, fence(&caller)) {
        (ApiCaller::User(u), Some(code)) => {
            if code.is_empty() {
                return Err(AppError::Forbidden(
                    "your account is not linked to a customer yet; ask support".into(),
                ));
            }
            (vec![u.email.clone()], Some(code.to_owned()))
        }
        _ => (b.requestors, b.customer),
    };
    let new = NewTicket {
        body_format: format_of(b.format.as_deref())?,
        queue: b.queue,
        subject: b.subject,
        body: b.body,
        requestors,
        priority: b.priority,
        customer: super::TicketCustomer::named(customer),
        source: Source::Api,
        host: None,
        runbook: None,
    };
    let mut tx = st.db.begin().await?;
    let (t, _) = super::create(&mut tx, ctx, new).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(t.as_of(st.clock.now()))))
}

/// A ticket; a merged ticket's id answers with the surviving ticket.
#[utoipa::path(get, path = "/api/v1/tickets/{id}", tag = "tickets", params(("id" = i64, Path)),
    responses((status = 200, body = Ticket), (status = 404, body = ErrorInfo)), security(("bearer" = [])))]
async fn show(
    State(st): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
) -> Result<Json<Ticket>> {
    reachable(&st, &caller, id).await?;
    let mut tx = st.db.begin_read().await?;
    let t = super::load(&mut tx, id).await?;
    tx.commit().await?;
    Ok(Json(t.as_of(st.clock.now())))
}

/// Changes fields; each change is recorded in the history.
#[utoipa::path(patch, path = "/api/v1/tickets/{id}", tag = "tickets", params(("id" = i64, Path)), request_body = Patch,
    responses((status = 200, body = Ticket), (status = 409, description = "not allowed by the lifecycle or an open dependency", body = ErrorInfo),
        (status = 422, body = ErrorInfo)), security(("bearer" = [])))]
async fn update(
    State(st): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    Json(p): Json<Patch>,
) -> Result<Json<Ticket>> {
    reachable(&st, &caller, id).await?;
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
    Ok(Json(t.as_of(st.clock.now())))
}

/// A reply or comment.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyBody {
    body: String,
    /// `text` (default) or `markdown`.
    format: Option<String>,
    /// Minutes worked, added to the ticket's time worked.
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
    reachable(&st, &caller, id).await?;
    // A customer answers as the requestor (that reopens a resolved ticket and never counts as
    // the staff response); comments and time worked are staff matters.
    let customer = fence(&caller).is_some();
    let actor = if customer && kind == ReplyKind::Correspond {
        caller.actor()
    } else {
        staff(&caller)?
    };
    let ctx = Ctx {
        config: &st.config,
        actor,
        now: st.clock.now(),
    };
    let r = Reply {
        kind,
        body: b.body,
        body_format: format_of(b.format.as_deref())?,
        from_requestor: customer,
        time_taken: if customer { 0 } else { b.time_taken },
    };
    let mut tx = st.db.begin().await?;
    let (id, _) = super::reply(&mut tx, ctx, id, r).await?;
    let t = super::load(&mut tx, id).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(t.as_of(st.clock.now()))))
}

/// Correspondence: public, for the requestors. Opens a new ticket.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/correspond", tag = "tickets", params(("id" = i64, Path)), request_body = ReplyBody,
    responses((status = 201, body = Ticket), (status = 404, body = ErrorInfo), (status = 422, body = ErrorInfo)), security(("bearer" = [])))]
async fn correspond(
    State(st): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    Json(b): Json<ReplyBody>,
) -> Result<(StatusCode, Json<Ticket>)> {
    add_reply(st, caller, id, ReplyKind::Correspond, b).await
}

/// A comment: internal, never sent to requestors.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/comment", tag = "tickets", params(("id" = i64, Path)), request_body = ReplyBody,
    responses((status = 201, body = Ticket), (status = 404, body = ErrorInfo), (status = 422, body = ErrorInfo)), security(("bearer" = [])))]
async fn comment(
    State(st): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    Json(b): Json<ReplyBody>,
) -> Result<(StatusCode, Json<Ticket>)> {
    add_reply(st, caller, id, ReplyKind::Comment, b).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeBody {
    /// The surviving ticket.
    into: i64,
}

/// Merges this ticket into another: history, watchers and links move to the survivor.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/merge", tag = "tickets", params(("id" = i64, Path)), request_body = MergeBody,
    responses((status = 200, description = "the surviving ticket", body = Ticket), (status = 400, body = ErrorInfo), (status = 404, body = ErrorInfo)),
    security(("bearer" = [])))]
async fn merge(
    State(st): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    Json(b): Json<MergeBody>,
) -> Result<Json<Ticket>> {
    reachable(&st, &caller, id).await?;
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
    Ok(Json(t.as_of(st.clock.now())))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkBody {
    /// DependsOn, DependedOnBy, RefersTo, ReferredToBy, MemberOf (parent) or Members (children).
    #[serde(rename = "type")]
    kind: String,
    target: i64,
}

/// Links this ticket to another.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/links", tag = "tickets", params(("id" = i64, Path)), request_body = LinkBody,
    responses((status = 200, body = Ticket), (status = 404, body = ErrorInfo), (status = 422, body = ErrorInfo)), security(("bearer" = [])))]
async fn link(
    State(st): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    Json(b): Json<LinkBody>,
) -> Result<Json<Ticket>> {
    change_link(st, caller, id, b, true).await
}

/// Removes a link.
#[utoipa::path(delete, path = "/api/v1/tickets/{id}/links", tag = "tickets", params(("id" = i64, Path)), request_body = LinkBody,
    responses((status = 200, body = Ticket), (status = 404, body = ErrorInfo)), security(("bearer" = [])))]
async fn unlink(
    State(st): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    Json(b): Json<LinkBody>,
) -> Result<Json<Ticket>> {
    change_link(st, caller, id, b, false).await
}

async fn change_link(
    st: AppState,
    caller: ApiCaller,
    id: i64,
    b: LinkBody,
    add: bool,
) -> Result<Json<Ticket>> {
    reachable(&st, &caller, id).await?;
    let actor = staff(&caller)?;
    let ctx = Ctx {
        config: &st.config,
        actor,
        now: st.clock.now(),
    };
    let mut tx = st.db.begin().await?;
    if add {
        super::link(&mut tx, ctx, id, &b.kind, b.target).await?;
    } else {
        super::unlink(&mut tx, ctx, id, &b.kind, b.target).await?;
    }
    let t = super::load(&mut tx, id).await?;
    tx.commit().await?;
    Ok(Json(t.as_of(st.clock.now())))
}

/// The ticket's history, oldest first.
#[utoipa::path(get, path = "/api/v1/tickets/{id}/history", tag = "tickets", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<HistoryEntry>), (status = 404, body = ErrorInfo)), security(("bearer" = [])))]
async fn history(
    State(st): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
) -> Result<Json<Vec<HistoryEntry>>> {
    reachable(&st, &caller, id).await?;
    let mut tx = st.db.begin_read().await?;
    let h = super::history(&mut tx, id).await?;
    tx.commit().await?;
    Ok(Json(match fence(&caller) {
        Some(_) => super::public_history(h),
        None => h,
    }))
}

//! `/api/v1/wiki/{path}` (CONTRACT §3): read, save (409 with the current revision when the
//! save's base is stale), revisions, one revision, diffs, revert, rename, delete and restore.
//! Paths hold slashes, so one wildcard route takes them all and the last segment names the
//! action (those names are reserved: no page may end with one). Each action is documented as a
//! path of its own in the OpenAPI document, though one route serves them all. Staff and `api` tokens read
//! and write every page; a signed-in customer reads public pages only (others are 404).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;

use super::{Page, RevisionInfo, Save, Visibility, WikiError};
use crate::error::{AppError, ErrorInfo, Result};
use crate::state::AppState;
use crate::web::extract::ApiCaller;

#[derive(OpenApi)]
#[openapi(paths(
    show,
    put,
    delete,
    revisions,
    one_revision,
    diff,
    revert,
    rename,
    restore
))]
struct WikiDoc;

pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(WikiDoc::openapi()).route(
        "/api/v1/wiki/{*path}",
        get(dispatch_get)
            .put(dispatch_put)
            .post(dispatch_post)
            .delete(dispatch_delete),
    )
}

impl From<WikiError> for AppError {
    fn from(e: WikiError) -> AppError {
        match e {
            WikiError::NotFound(_) | WikiError::NoRevision { .. } => AppError::NotFound,
            WikiError::BadPath(m) => AppError::invalid("path", m),
            WikiError::Reserved(_) => AppError::invalid("path", e.to_string()),
            WikiError::EmptyTitle => AppError::invalid("title", e.to_string()),
            WikiError::TooLarge => AppError::TooLarge(e.to_string()),
            WikiError::Stale { ref current, .. } => AppError::Stale {
                message: e.to_string(),
                revision: current.revision,
                current: serde_json::to_value(current.as_ref()).unwrap_or_default(),
            },
            WikiError::Exists(_) | WikiError::Deleted(_) => AppError::Conflict(e.to_string()),
            WikiError::Store(s) => s.into(),
        }
    }
}

/// Customers read the knowledge base: public pages only.
fn public_only(caller: &ApiCaller) -> bool {
    matches!(caller, ApiCaller::User(u) if !u.role.is_staff())
}

fn staff(caller: &ApiCaller) -> Result<()> {
    caller.staff_only("only staff edit the wiki")
}

/// The page path and the action its last segment names, if any.
fn split(rest: &str) -> (&str, Option<&str>, Option<&str>) {
    let rest = rest.trim_matches('/');
    // `{path}/revisions/{n}`
    if let Some((head, n)) = rest.rsplit_once('/')
        && let Some((page, "revisions")) = head.rsplit_once('/')
        && n.chars().all(|c| c.is_ascii_digit())
        && !n.is_empty()
    {
        return (page, Some("revisions"), Some(n));
    }
    match rest.rsplit_once('/') {
        Some((page, last)) if super::RESERVED.contains(&last) => (page, Some(last), None),
        _ => (rest, None, None),
    }
}

async fn dispatch_get(
    State(st): State<AppState>,
    caller: ApiCaller,
    Path(rest): Path<String>,
    Query(q): Query<DiffQuery>,
) -> Result<Response> {
    let (page, action, arg) = split(&rest);
    match (action, arg) {
        (None, _) => show(State(st), caller, Path(page.to_owned()))
            .await
            .map(IntoResponse::into_response),
        (Some("revisions"), None) => revisions(State(st), caller, Path(page.to_owned()))
            .await
            .map(IntoResponse::into_response),
        (Some("revisions"), Some(n)) => {
            let n: i64 = n.parse().map_err(|_| AppError::NotFound)?;
            one_revision(&st, &caller, page, n)
                .await
                .map(IntoResponse::into_response)
        }
        (Some("diff"), _) => diff(&st, &caller, page, q)
            .await
            .map(IntoResponse::into_response),
        _ => Err(AppError::NotFound),
    }
}

/// A wiki page at its current revision; a renamed page answers at its old path too.
#[utoipa::path(get, path = "/api/v1/wiki/{path}", tag = "wiki",
    params(("path" = String, Path, description = "The page path, slashes and all (runbooks/bgp-session-down)")),
    responses((status = 200, body = Page), (status = 404, body = ErrorInfo),
        (status = 422, description = "not a page path", body = ErrorInfo)), security(("bearer" = [])))]
async fn show(
    State(st): State<AppState>,
    caller: ApiCaller,
    Path(path): Path<String>,
) -> Result<Json<Page>> {
    let path = super::page_path(&path)?;
    let mut tx = st.db.begin_read().await?;
    let (_, page) = super::live(&mut tx, &path).await?;
    tx.commit().await?;
    if public_only(&caller) && page.visibility != Visibility::Public {
        return Err(AppError::NotFound);
    }
    Ok(Json(page))
}

/// A save: the text, and the revision it was edited from.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutBody {
    title: String,
    body: String,
    /// The revision the editor started from; 0 (or absent) creates the page.
    #[serde(default)]
    base_revision: i64,
    #[serde(default)]
    comment: String,
    /// internal (staff only, the default for new pages) or public (customers too).
    visibility: Option<Visibility>,
}

async fn dispatch_put(
    st: State<AppState>,
    caller: ApiCaller,
    Path(rest): Path<String>,
    body: Json<PutBody>,
) -> Result<Response> {
    match split(&rest) {
        (page, None, None) => put(st, caller, Path(page.to_owned()), body).await,
        // A page cannot be saved under an action's name: say so rather than "not found".
        (_, Some(action), _) => Err(WikiError::Reserved(action.to_owned()).into()),
        (_, None, Some(_)) => Err(AppError::NotFound),
    }
}

/// Saves a new revision; 201 when it created the page, 409 (with the current page) when the
/// page moved past `base_revision`.
#[utoipa::path(put, path = "/api/v1/wiki/{path}", tag = "wiki", request_body = PutBody,
    params(("path" = String, Path, description = "The page path")),
    responses((status = 200, body = Page), (status = 201, body = Page),
        (status = 409, description = "stale base_revision: `detail.current` is the page now", body = ErrorInfo),
        (status = 422, body = ErrorInfo)),
    security(("bearer" = [])))]
async fn put(
    State(st): State<AppState>,
    caller: ApiCaller,
    Path(path): Path<String>,
    Json(b): Json<PutBody>,
) -> Result<Response> {
    staff(&caller)?;
    let s = Save {
        title: b.title,
        body: b.body,
        base_revision: b.base_revision,
        comment: b.comment,
        visibility: b.visibility,
    };
    let mut tx = st.db.begin().await?;
    let page = super::save(&mut tx, &path, &s, caller.actor(), st.clock.now()).await?;
    tx.commit().await?;
    let status = if page.revision == 1 {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(page)).into_response())
}

/// The page's revisions, newest first.
#[utoipa::path(get, path = "/api/v1/wiki/{path}/revisions", tag = "wiki",
    params(("path" = String, Path, description = "The page path")),
    responses((status = 200, body = Vec<RevisionInfo>), (status = 404, body = ErrorInfo),
        (status = 422, description = "not a page path", body = ErrorInfo)),
    security(("bearer" = [])))]
async fn revisions(
    State(st): State<AppState>,
    caller: ApiCaller,
    Path(path): Path<String>,
) -> Result<Json<Vec<RevisionInfo>>> {
    staff(&caller).map_err(|_| AppError::NotFound)?;
    let path = super::page_path(&path)?;
    let mut tx = st.db.begin_read().await?;
    let r = super::revisions(&mut tx, &path).await?;
    tx.commit().await?;
    Ok(Json(r))
}

/// One revision's text.
#[derive(Debug, Serialize, ToSchema)]
struct RevisionBody {
    path: String,
    revision: i64,
    title: String,
    body: String,
}

/// One revision's title and body (staff only: customers see the current public text only).
#[utoipa::path(get, path = "/api/v1/wiki/{path}/revisions/{n}", tag = "wiki",
    params(("path" = String, Path, description = "The page path"),
        ("n" = i64, Path, description = "The revision number, from 1")),
    responses((status = 200, body = RevisionBody), (status = 404, body = ErrorInfo),
        (status = 422, description = "not a page path", body = ErrorInfo)),
    security(("bearer" = [])))]
async fn one_revision(
    st: &AppState,
    caller: &ApiCaller,
    path: &str,
    n: i64,
) -> Result<Json<RevisionBody>> {
    staff(caller).map_err(|_| AppError::NotFound)?;
    let path = super::page_path(path)?;
    let mut tx = st.db.begin_read().await?;
    let (title, body) = super::revision(&mut tx, &path, n).await?;
    tx.commit().await?;
    Ok(Json(RevisionBody {
        path,
        revision: n,
        title,
        body,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct DiffQuery {
    /// The older revision (default: the one before `to`).
    from: Option<i64>,
    /// The newer revision (default: the current one).
    to: Option<i64>,
}

/// A diff of two revisions: line by line, each changed line split into changed and unchanged
/// words, and the same as a unified diff.
#[derive(Debug, Serialize, ToSchema)]
struct DiffBody {
    from: i64,
    to: i64,
    added: usize,
    removed: usize,
    unified: String,
    lines: Vec<super::diff::DiffLine>,
}

/// The changes between two revisions (`?from=A&to=B`; default: the previous revision to the
/// current one).
#[utoipa::path(get, path = "/api/v1/wiki/{path}/diff", tag = "wiki",
    params(("path" = String, Path, description = "The page path"), DiffQuery),
    responses((status = 200, body = DiffBody),
        (status = 400, description = "a revision number that is not an integer"),
        (status = 404, description = "no such page or revision", body = ErrorInfo),
        (status = 422, description = "not a page path", body = ErrorInfo)),
    security(("bearer" = [])))]
async fn diff(
    st: &AppState,
    caller: &ApiCaller,
    path: &str,
    q: DiffQuery,
) -> Result<Json<DiffBody>> {
    staff(caller).map_err(|_| AppError::NotFound)?;
    let path = super::page_path(path)?;
    let mut tx = st.db.begin_read().await?;
    let (_, page) = super::live(&mut tx, &path).await?;
    let to = q.to.unwrap_or(page.revision);
    let from = q.from.unwrap_or((to - 1).max(1));
    let (_, old) = super::revision(&mut tx, &path, from).await?;
    let (_, new) = super::revision(&mut tx, &path, to).await?;
    tx.commit().await?;
    let lines = super::diff::diff(&old, &new);
    let (added, removed) = super::diff::stats(&lines);
    Ok(Json(DiffBody {
        unified: super::diff::unified(
            &old,
            &new,
            &format!("{path}@{from}"),
            &format!("{path}@{to}"),
        ),
        from,
        to,
        added,
        removed,
        lines,
    }))
}

/// The body of any POST action, as sent; each action takes its own field from it, so a missing
/// one is named in a 422 instead of failing as malformed JSON.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ActionBody {
    revision: Option<i64>,
    to: Option<String>,
}

/// `POST …/revert`: the revision to go back to.
#[derive(Debug, ToSchema)]
struct RevertBody {
    revision: i64,
}

/// `POST …/rename`: the new path.
#[derive(Debug, ToSchema)]
struct RenameBody {
    to: String,
}

impl ActionBody {
    fn revert(self) -> Result<RevertBody> {
        let revision = self
            .revision
            .ok_or_else(|| AppError::invalid("revision", "name the revision to revert to"))?;
        Ok(RevertBody { revision })
    }

    fn rename(self) -> Result<RenameBody> {
        let to = self
            .to
            .ok_or_else(|| AppError::invalid("to", "name the new path"))?;
        Ok(RenameBody { to })
    }
}

async fn dispatch_post(
    State(st): State<AppState>,
    caller: ApiCaller,
    Path(rest): Path<String>,
    body: Option<Json<ActionBody>>,
) -> Result<Response> {
    staff(&caller)?;
    let (path, action, _) = split(&rest);
    let path = super::page_path(path)?;
    let b = body.map(|Json(b)| b).unwrap_or_default();
    let page = match action {
        Some("revert") => revert(&st, &caller, &path, b.revert()?).await?,
        Some("rename") => rename(&st, &path, b.rename()?).await?,
        Some("restore") => restore(&st, &caller, &path).await?,
        _ => return Err(AppError::NotFound),
    };
    Ok(Json(page).into_response())
}

/// Makes an old revision's text current again, as a new revision.
#[utoipa::path(post, path = "/api/v1/wiki/{path}/revert", tag = "wiki", request_body = RevertBody,
    params(("path" = String, Path, description = "The page path")),
    responses((status = 200, body = Page),
        (status = 404, description = "no such page or revision", body = ErrorInfo),
        (status = 422, description = "not a page path, or no revision named", body = ErrorInfo)),
    security(("bearer" = [])))]
async fn revert(st: &AppState, caller: &ApiCaller, path: &str, b: RevertBody) -> Result<Page> {
    let mut tx = st.db.begin().await?;
    let page = super::revert(&mut tx, path, b.revision, caller.actor(), st.clock.now()).await?;
    tx.commit().await?;
    Ok(page)
}

/// Moves a page to a new path; the old path answers with the page (and a redirect in the
/// browser) from then on.
#[utoipa::path(post, path = "/api/v1/wiki/{path}/rename", tag = "wiki", request_body = RenameBody,
    params(("path" = String, Path, description = "The page path")),
    responses((status = 200, body = Page), (status = 404, body = ErrorInfo),
        (status = 409, description = "a page already lives at the new path", body = ErrorInfo),
        (status = 422, description = "not a page path, or no new path named", body = ErrorInfo)),
    security(("bearer" = [])))]
async fn rename(st: &AppState, path: &str, b: RenameBody) -> Result<Page> {
    let mut tx = st.db.begin().await?;
    let page = super::rename(&mut tx, path, &b.to, st.clock.now()).await?;
    tx.commit().await?;
    Ok(page)
}

/// Brings a deleted page back, with all its revisions.
#[utoipa::path(post, path = "/api/v1/wiki/{path}/restore", tag = "wiki",
    params(("path" = String, Path, description = "The page path")),
    responses((status = 200, body = Page), (status = 404, body = ErrorInfo),
        (status = 422, description = "not a page path", body = ErrorInfo)),
    security(("bearer" = [])))]
async fn restore(st: &AppState, caller: &ApiCaller, path: &str) -> Result<Page> {
    let mut tx = st.db.begin().await?;
    super::set_deleted(&mut tx, path, false, caller.actor(), st.clock.now()).await?;
    let (_, page) = super::live(&mut tx, path).await?;
    tx.commit().await?;
    Ok(page)
}

async fn dispatch_delete(
    State(st): State<AppState>,
    caller: ApiCaller,
    Path(rest): Path<String>,
) -> Result<Response> {
    staff(&caller)?;
    let (path, None, None) = split(&rest) else {
        return Err(AppError::NotFound);
    };
    delete(&st, &caller, path).await
}

/// Deletes a page (recoverable with `POST …/restore`; its revisions are kept).
#[utoipa::path(delete, path = "/api/v1/wiki/{path}", tag = "wiki",
    params(("path" = String, Path, description = "The page path")),
    responses((status = 204, description = "deleted (or already deleted)"),
        (status = 404, body = ErrorInfo), (status = 422, description = "not a page path", body = ErrorInfo)),
    security(("bearer" = [])))]
async fn delete(st: &AppState, caller: &ApiCaller, path: &str) -> Result<Response> {
    let path = super::page_path(path)?;
    let mut tx = st.db.begin().await?;
    super::set_deleted(&mut tx, &path, true, caller.actor(), st.clock.now()).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

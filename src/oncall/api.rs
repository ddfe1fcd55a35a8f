//! `GET /api/v1/oncall/{name}[?at=RFC3339]`: who is on duty (CONTRACT §3), overrides applied;
//! and the overrides themselves: list, add, remove. Staff and `api` tokens only.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{NewOverride, OncallError, Override};
use crate::error::{AppError, ErrorInfo, Result};
use crate::state::AppState;
use crate::web::extract::ApiCaller;

const STAFF_ONLY: &str = "the on-duty rotation is for staff";

pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(duty))
        .routes(routes!(list_overrides, create_override))
        .routes(routes!(delete_override))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct Params {
    /// The instant to ask about (RFC 3339, e.g. 2026-11-23T10:00:00Z); now when absent.
    at: Option<String>,
}

/// Who is on duty in a rotation, from when, and until when that answer holds.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DutyBody {
    pub name: String,
    pub primary: String,
    pub backup: String,
    /// The hand-off, or the override bound, that began this duty (RFC 3339).
    #[schema(value_type = String)]
    pub since: Timestamp,
    /// The next hand-off, or the next override bound if sooner (RFC 3339).
    #[schema(value_type = String)]
    pub until: Timestamp,
}

/// The primary and backup of rotation `name` now, or at `at`, overrides applied.
#[utoipa::path(get, path = "/api/v1/oncall/{name}", tag = "oncall",
    params(("name" = String, Path, description = "The rotation's name ([[oncall]] name)"), Params),
    responses((status = 200, body = DutyBody), (status = 400, body = ErrorInfo),
        (status = 404, body = ErrorInfo)), security(("bearer" = [])))]
async fn duty(
    State(st): State<AppState>,
    caller: ApiCaller,
    Path(name): Path<String>,
    Query(p): Query<Params>,
) -> Result<Json<DutyBody>> {
    caller.staff_only(STAFF_ONLY)?;
    let at = match p.at.as_deref().filter(|t| !t.trim().is_empty()) {
        None => st.clock.now(),
        Some(t) => instant("at", t)?,
    };
    let mut tx = st.db.begin_read().await?;
    let d = super::duty(&mut tx, &st.config, &name, at)
        .await
        .map_err(refused)?;
    tx.commit().await?;
    Ok(Json(DutyBody {
        name,
        primary: d.primary,
        backup: d.backup,
        since: d.since,
        until: d.until,
    }))
}

/// An override: who stands in for `[starts_at, ends_at)`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OverrideBody {
    pub id: i64,
    pub rotation: String,
    /// RFC 3339; the override holds from this instant on.
    #[schema(value_type = String)]
    pub starts_at: Timestamp,
    /// RFC 3339; the override no longer holds at this instant.
    #[schema(value_type = String)]
    pub ends_at: Timestamp,
    pub primary: String,
    /// `null`: the rotation's backup stays.
    pub backup: Option<String>,
    pub reason: String,
    pub created_by: String,
    #[schema(value_type = String)]
    pub created_at: Timestamp,
}

impl From<Override> for OverrideBody {
    fn from(o: Override) -> Self {
        OverrideBody {
            id: o.id,
            rotation: o.rotation,
            starts_at: o.starts_at,
            ends_at: o.ends_at,
            primary: o.primary,
            backup: o.backup,
            reason: o.reason,
            created_by: o.created_by,
            created_at: o.created_at,
        }
    }
}

/// A new override. Fields are read leniently so that a missing one is refused with a
/// sentence that names it rather than a deserializer message.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOverrideBody {
    /// RFC 3339, e.g. 2026-12-24T08:00:00Z (inclusive).
    #[serde(default)]
    #[schema(required = true, format = DateTime)]
    starts_at: Option<String>,
    /// RFC 3339, after `starts_at` (exclusive).
    #[serde(default)]
    #[schema(required = true, format = DateTime)]
    ends_at: Option<String>,
    /// Who is primary instead.
    #[serde(default)]
    #[schema(required = true)]
    primary: Option<String>,
    /// Who is backup instead; absent or null keeps the rotation's backup.
    #[serde(default)]
    backup: Option<String>,
    /// Why (a swap, a holiday): shown on the on-call page.
    #[serde(default)]
    reason: Option<String>,
}

/// The overrides of rotation `name` that are current or still to come, soonest first.
#[utoipa::path(get, path = "/api/v1/oncall/{name}/overrides", tag = "oncall",
    params(("name" = String, Path, description = "The rotation's name")),
    responses((status = 200, body = Vec<OverrideBody>), (status = 404, body = ErrorInfo)),
    security(("bearer" = [])))]
async fn list_overrides(
    State(st): State<AppState>,
    caller: ApiCaller,
    Path(name): Path<String>,
) -> Result<Json<Vec<OverrideBody>>> {
    caller.staff_only(STAFF_ONLY)?;
    let mut tx = st.db.begin_read().await?;
    let found = super::upcoming_overrides(&mut tx, &st.config, &name, st.clock.now())
        .await
        .map_err(refused)?;
    tx.commit().await?;
    Ok(Json(found.into_iter().map(OverrideBody::from).collect()))
}

/// Puts someone else on duty for a while (a swap, a holiday). Where overrides overlap, the
/// one created last wins.
#[utoipa::path(post, path = "/api/v1/oncall/{name}/overrides", tag = "oncall",
    params(("name" = String, Path, description = "The rotation's name")),
    request_body = NewOverrideBody,
    responses((status = 201, body = OverrideBody),
        (status = 400, description = "a time does not parse, ends_at is not after starts_at, or a name is empty", body = ErrorInfo),
        (status = 404, body = ErrorInfo)),
    security(("bearer" = [])))]
async fn create_override(
    State(st): State<AppState>,
    caller: ApiCaller,
    Path(name): Path<String>,
    Json(b): Json<NewOverrideBody>,
) -> Result<(StatusCode, Json<OverrideBody>)> {
    caller.staff_only(STAFF_ONLY)?;
    let starts_at = instant("starts_at", b.starts_at.as_deref().unwrap_or_default())?;
    let ends_at = instant("ends_at", b.ends_at.as_deref().unwrap_or_default())?;
    let new = NewOverride::parse(
        starts_at,
        ends_at,
        b.primary.as_deref().unwrap_or_default(),
        b.backup.as_deref(),
        b.reason.as_deref().unwrap_or_default(),
    )
    .map_err(refused)?;
    let mut tx = st.db.begin().await?;
    let o = super::add_override(
        &mut tx,
        &st.config,
        &name,
        &new,
        caller.actor(),
        st.clock.now(),
    )
    .await
    .map_err(refused)?;
    tx.commit().await?;
    tracing::info!(rotation = %name, id = o.id, actor = caller.actor(), "on-call override added");
    Ok((StatusCode::CREATED, Json(o.into())))
}

/// Removes an override; the rotation (or an older override) holds again.
#[utoipa::path(delete, path = "/api/v1/oncall/{name}/overrides/{id}", tag = "oncall",
    params(("name" = String, Path, description = "The rotation's name"), ("id" = i64, Path)),
    responses((status = 204, description = "removed"), (status = 404, body = ErrorInfo)),
    security(("bearer" = [])))]
async fn delete_override(
    State(st): State<AppState>,
    caller: ApiCaller,
    Path((name, id)): Path<(String, i64)>,
) -> Result<StatusCode> {
    caller.staff_only(STAFF_ONLY)?;
    let mut tx = st.db.begin().await?;
    if !super::remove_override(&mut tx, &st.config, &name, id)
        .await
        .map_err(refused)?
    {
        return Err(AppError::NotFound);
    }
    tx.commit().await?;
    tracing::info!(rotation = %name, id, actor = caller.actor(), "on-call override removed");
    Ok(StatusCode::NO_CONTENT)
}

/// An RFC 3339 instant from the caller, refused with the field and the value.
fn instant(field: &str, s: &str) -> Result<Timestamp> {
    if s.trim().is_empty() {
        return Err(AppError::BadRequest(format!(
            "{field}: required, an RFC 3339 instant (e.g. 2026-11-23T10:00:00Z)"
        )));
    }
    s.trim().parse::<Timestamp>().map_err(|_| {
        AppError::BadRequest(format!(
            "{field}: \"{s}\" is not an RFC 3339 instant (e.g. 2026-11-23T10:00:00Z)"
        ))
    })
}

/// An instant the rotation cannot count and a bad override are the caller's; a rotation that
/// does not build passed `check-config` and so is the server's fault.
pub(super) fn refused(e: OncallError) -> AppError {
    match e {
        OncallError::OutOfRange(_) | OncallError::BadOverride(_) => {
            AppError::BadRequest(e.to_string())
        }
        OncallError::UnknownRotation(_) => AppError::NotFound,
        OncallError::Store(s) => s.into(),
        OncallError::Invalid { .. } => AppError::Internal(Box::new(e)),
    }
}

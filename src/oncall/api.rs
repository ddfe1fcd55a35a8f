//! `GET /api/v1/oncall/{name}[?at=RFC3339]`: who is on duty (CONTRACT §3).

use axum::Json;
use axum::extract::{Path, Query, State};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{OncallError, Rotation};
use crate::error::{AppError, Result};
use crate::state::AppState;
use crate::web::extract::ApiCaller;

pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(duty))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct Params {
    /// The instant to ask about (RFC 3339, e.g. 2026-11-23T10:00:00Z); now when absent.
    at: Option<String>,
}

/// Who is on duty in a rotation, from when, and until the next hand-off.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DutyBody {
    pub name: String,
    pub primary: String,
    pub backup: String,
    /// The hand-off that began this duty (RFC 3339).
    #[schema(value_type = String)]
    pub since: Timestamp,
    /// The next hand-off (RFC 3339).
    #[schema(value_type = String)]
    pub until: Timestamp,
}

/// The primary and backup of rotation `name` now, or at `at`.
#[utoipa::path(get, path = "/api/v1/oncall/{name}", tag = "oncall",
    params(("name" = String, Path, description = "The rotation's name ([[oncall]] name)"), Params),
    responses((status = 200, body = DutyBody), (status = 400, body = crate::error::ErrorInfo),
        (status = 404, body = crate::error::ErrorInfo)), security(("bearer" = [])))]
async fn duty(
    State(st): State<AppState>,
    caller: ApiCaller,
    Path(name): Path<String>,
    Query(p): Query<Params>,
) -> Result<Json<DutyBody>> {
    caller.staff_only("the on-duty rotation is for staff")?;
    let raw = st
        .config
        .oncall
        .iter()
        .find(|o| o.name == name)
        .ok_or(AppError::NotFound)?;
    let at = match p.at.as_deref() {
        None => st.clock.now(),
        Some(t) => t.parse::<Timestamp>().map_err(|_| {
            AppError::BadRequest(format!(
                "at: \"{t}\" is not an RFC 3339 instant (e.g. 2026-11-23T10:00:00Z)"
            ))
        })?,
    };
    let rotation = Rotation::from_config(raw).map_err(refused)?;
    let d = rotation.duty_at(at).map_err(refused)?;
    Ok(Json(DutyBody {
        name: rotation.name().to_owned(),
        primary: d.primary,
        backup: d.backup,
        since: d.since,
        until: d.until,
    }))
}

/// An instant the rotation cannot count is the caller's; a rotation that does not build passed
/// `check-config` and so is the server's fault.
fn refused(e: OncallError) -> AppError {
    match e {
        OncallError::OutOfRange(_) => AppError::BadRequest(e.to_string()),
        OncallError::Invalid { .. } => AppError::Internal(Box::new(e)),
    }
}

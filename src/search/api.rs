//! `GET /api/v1/search?q=…&limit=…`.

use axum::Json;
use axum::extract::{Query, State};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Results;
use crate::error::Result;
use crate::state::AppState;
use crate::web::extract::ApiCaller;

pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(search))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct Params {
    /// The text to find (1 to 200 characters), case-insensitively, anywhere in a subject or message.
    q: String,
    /// 1 to 100, default 20.
    limit: Option<i64>,
}

/// Full text over ticket subjects and messages; a signed-in customer finds their own tickets only.
#[utoipa::path(get, path = "/api/v1/search", tag = "search", params(Params),
    responses((status = 200, body = Results), (status = 422, body = crate::error::ErrorInfo)), security(("bearer" = [])))]
async fn search(
    State(st): State<AppState>,
    caller: ApiCaller,
    Query(p): Query<Params>,
) -> Result<Json<Results>> {
    // A signed-in customer searches their own customer's tickets only.
    let fence = match &caller {
        ApiCaller::User(u) if !u.role.is_staff() => Some(u.customer_code.as_deref().unwrap_or("")),
        _ => None,
    };
    let limit = p.limit.unwrap_or(20).clamp(1, 100);
    Ok(Json(
        super::search(&st.db, &p.q, limit, fence, st.clock.now()).await?,
    ))
}

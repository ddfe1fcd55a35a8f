//! `GET /api/v1/search?q=…&limit=…`.

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use super::Results;
use crate::error::{AppError, Result};
use crate::state::AppState;
use crate::web::extract::ApiCaller;

pub fn api() -> Router<AppState> {
    Router::new().route("/api/v1/search", get(search))
}

#[derive(Debug, Deserialize)]
struct Params {
    q: String,
    limit: Option<i64>,
}

async fn search(
    State(st): State<AppState>,
    caller: ApiCaller,
    Query(p): Query<Params>,
) -> Result<Json<Results>> {
    if let ApiCaller::User(u) = &caller
        && !u.role.is_staff()
    {
        return Err(AppError::Forbidden(
            "customers search from the portal".into(),
        ));
    }
    let limit = p.limit.unwrap_or(20).clamp(1, 100);
    Ok(Json(
        super::search(&st.db, &p.q, limit, st.clock.now()).await?,
    ))
}

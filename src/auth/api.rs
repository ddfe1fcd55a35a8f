//! `GET /api/v1/me` (CONTRACT §3).

use axum::Json;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;
use crate::web::extract::ApiCaller;

/// The signed-in user, or a token that acts as itself (`role` = `api`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Me {
    pub username: String,
    pub name: String,
    pub email: Option<String>,
    pub role: String,
    pub customer: Option<String>,
}

pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(me))
}

/// Who is calling.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth",
    responses((status = 200, body = Me), (status = 401, body = crate::error::ErrorInfo)), security(("bearer" = [])))]
async fn me(caller: ApiCaller) -> Json<Me> {
    Json(match caller {
        ApiCaller::User(u) => Me {
            username: u.username,
            name: u.name,
            email: Some(u.email),
            role: u.role.as_str().to_owned(),
            customer: u.customer_code,
        },
        // A token that acts for nobody in particular answers as itself.
        ApiCaller::Token(t) => Me {
            username: t.name.clone(),
            name: t.name,
            email: None,
            role: "api".into(),
            customer: None,
        },
    })
}

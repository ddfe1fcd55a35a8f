//! `GET /api/v1/me` (CONTRACT §3).

use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use crate::state::AppState;
use crate::web::extract::ApiCaller;

#[derive(Debug, Serialize)]
pub struct Me {
    pub username: String,
    pub name: String,
    pub email: Option<String>,
    pub role: String,
    pub customer: Option<String>,
}

pub fn api() -> Router<AppState> {
    Router::new().route("/api/v1/me", get(me))
}

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

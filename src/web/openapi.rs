//! `GET /api/openapi.json`: the OpenAPI 3 description of `/api/v1`, built from the handlers'
//! own annotations when the router is built (utoipa-axum), so it lists exactly what is served.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use utoipa::openapi::OpenApi as Document;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "Opsdesk API", description = "Tickets, search and accounts of Opsdesk. Authenticate with \
        `Authorization: Bearer TOKEN` (a token of scope `api`) or a browser session (then send \
        `X-CSRF-Token` on writes). Errors are `{\"error\", \"detail\"}`; times are RFC 3339 UTC."),
    modifiers(&Bearer),
    tags((name = "tickets"), (name = "search"), (name = "mail"), (name = "auth"), (name = "alerts"))
)]
struct ApiDoc;

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("opaque token")
                    .build(),
            ),
        );
    }
}

/// Every feature's JSON API, with the document they make together.
pub fn api() -> (axum::Router<AppState>, Document) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(crate::auth::api::api())
        .merge(crate::tickets::api::api())
        .merge(crate::search::api::api())
        .merge(crate::mail::api::api())
        .merge(crate::oncall::api::api())
        .merge(crate::sla::api::api())
        .merge(crate::customers::api::api())
        .merge(crate::wiki::api::api())
        .merge(crate::alerts::api::api())
        .split_for_parts()
}

pub async fn document(State(doc): State<Arc<Document>>) -> Json<Document> {
    Json(doc.as_ref().clone())
}

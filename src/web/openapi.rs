//! `GET /api/openapi.json`: the OpenAPI 3 description of `/api/v1`, built from the handlers'
//! own annotations when the router is built (utoipa-axum), so it lists exactly what is served.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use utoipa::openapi::OpenApi as Document;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr};
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

/// Each feature's JSON API with its part of the document.
fn features() -> [OpenApiRouter<AppState>; 9] {
    [
        crate::auth::api::api(),
        crate::tickets::api::api(),
        crate::search::api::api(),
        crate::mail::api::api(),
        crate::oncall::api::api(),
        crate::sla::api::api(),
        crate::customers::api::api(),
        crate::wiki::api::api(),
        crate::alerts::api::api(),
    ]
}

/// Every feature's JSON API, with the document they make together.
pub fn api() -> (axum::Router<AppState>, Document) {
    let (router, mut doc) = features()
        .into_iter()
        .fold(
            OpenApiRouter::with_openapi(ApiDoc::openapi()),
            OpenApiRouter::merge,
        )
        .split_for_parts();
    for item in doc.paths.paths.values_mut() {
        for op in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            add_edge_errors(op);
        }
    }
    (router, doc)
}

/// The failures the shared extractors answer before a handler runs, added to every operation
/// that uses them (a handler's own description of a status wins). Without them the document
/// promised fewer statuses than the server gives: schemathesis found undocumented 400s for
/// unparseable ids and query strings, 401s without a token and 415s without a content type.
fn add_edge_errors(op: &mut Operation) {
    let params = op.parameters.iter().flatten();
    let (mut in_path, mut in_query) = (false, false);
    for p in params {
        if let RefOr::T(p) = p {
            in_path |= matches!(p.parameter_in, ParameterIn::Path);
            in_query |= matches!(p.parameter_in, ParameterIn::Query);
        }
    }
    let body = match &op.request_body {
        Some(RefOr::T(b)) => Some(b.content.contains_key("application/json")),
        Some(RefOr::Ref(_)) => Some(false),
        None => None,
    };
    let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
    let mut why: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut add = |status, reason| why.entry(status).or_default().push(reason);
    if secured {
        add(
            "401",
            "no token or session, or a token that is unknown or revoked",
        );
        add(
            "403",
            "not for this caller: a token of another scope, or a customer on a staff route",
        );
    }
    if in_path {
        add(
            "400",
            "a path parameter does not parse (an id that is no 64-bit integer)",
        );
        add("404", "nothing by that name or id");
    }
    if in_query {
        add(
            "400",
            "the query string does not parse: a required parameter is missing or a value has the wrong type",
        );
        add("422", "a parameter's value is not one this operation takes");
    }
    match body {
        Some(true) => {
            add("400", "the body is not JSON");
            add("413", "the body is over web.max_body_bytes");
            add(
                "415",
                "the body is not declared `Content-Type: application/json`",
            );
            add("422", "the JSON does not have the documented shape");
        }
        Some(false) => add("413", "the body is over web.max_body_bytes"),
        None => {}
    }
    for (status, reasons) in why {
        op.responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| error_response(&reasons.join("; or ")));
    }
}

fn error_response(why: &str) -> RefOr<Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(why)
            .content(
                "application/json",
                Content::new(Some(Ref::from_schema_name("ErrorInfo"))),
            )
            .build(),
    )
}

pub async fn document(State(doc): State<Arc<Document>>) -> Json<Document> {
    Json(doc.as_ref().clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Merging keeps one schema per name, silently: two features with a `CreateBody` (or a
    /// `Receipt`) each made the document describe one request or answer with the other's
    /// fields (schemathesis sent ticket fields to POST /api/v1/customers).
    #[test]
    fn no_two_features_document_different_schemas_under_one_name() {
        let mut seen: BTreeMap<String, (usize, serde_json::Value)> = BTreeMap::new();
        for (i, f) in features().into_iter().enumerate() {
            let (_, doc) = f.split_for_parts();
            for (name, schema) in doc.components.into_iter().flat_map(|c| c.schemas) {
                let schema = serde_json::to_value(schema).expect("a schema serializes");
                if let Some((j, other)) = seen.get(&name) {
                    assert_eq!(
                        other, &schema,
                        "features {j} and {i} both document a schema named {name}"
                    );
                } else {
                    seen.insert(name, (i, schema));
                }
            }
        }
    }
}

//! The HTTP edge (DESIGN.md §7): one router that merges every feature's routes and applies the
//! layers once. Public routes (health, metrics, static files) never touch a session.

pub mod assets;
pub mod body;
pub mod csrf;
pub mod errors;
pub mod extract;
pub mod health;
pub mod home;
pub mod metrics;
pub mod nul;
pub mod openapi;
pub mod page;
pub mod serve;
pub mod visitor;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::state::AppState;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Content-Security-Policy: no inline script or style, nothing from other origins, no framing.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

pub fn router(state: AppState) -> Router {
    let cfg = state.config.clone();
    let (api, doc) = openapi::api();
    let doc = std::sync::Arc::new(doc);
    let app = Router::new()
        .merge(home::routes())
        .merge(crate::auth::routes::routes())
        .merge(api)
        .merge(crate::jobs::routes::routes())
        .merge(crate::mail::routes::routes())
        .merge(crate::tickets::routes::routes())
        .merge(crate::sla::pages::routes())
        .merge(crate::oncall::routes::routes())
        .merge(crate::customers::routes::routes())
        .merge(crate::portal::routes())
        .merge(crate::wiki::routes::routes())
        .merge(crate::alerts::routes::routes())
        .fallback(errors::not_found)
        .layer(middleware::from_fn_with_state(state.clone(), nul::refuse))
        .layer(middleware::from_fn_with_state(state.clone(), csrf::guard))
        .layer(middleware::from_fn_with_state(state.clone(), visitor::load));

    let public = Router::new()
        .route(
            "/api/openapi.json",
            axum::routing::get(openapi::document).with_state(doc),
        )
        .merge(health::routes())
        .merge(metrics::routes())
        .merge(assets::routes());

    public
        .merge(app)
        .layer(middleware::from_fn(errors::render))
        .layer(middleware::from_fn_with_state(state.clone(), metrics::track))
        .layer(
            ServiceBuilder::new()
                .layer(SetSensitiveRequestHeadersLayer::new([
                    header::AUTHORIZATION,
                    header::COOKIE,
                ]))
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
                        let id = req
                            .headers()
                            .get(REQUEST_ID)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("-");
                        tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
                    }),
                )
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                .layer(CatchPanicLayer::custom(errors::panic_response))
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::REQUEST_TIMEOUT,
                    cfg.web.request_timeout.max(Duration::from_secs(1)),
                ))
                .layer(CompressionLayer::new())
                .layer(DefaultBodyLimit::max(cfg.web.max_body_bytes))
                .layer(security_header(header::CONTENT_SECURITY_POLICY, CSP))
                .layer(security_header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                .layer(security_header(header::X_FRAME_OPTIONS, "DENY"))
                .layer(security_header(header::REFERRER_POLICY, "same-origin"))
                .layer(security_header(
                    HeaderName::from_static("permissions-policy"),
                    "camera=(), microphone=(), geolocation=()",
                )),
        )
        .with_state(state)
}

fn security_header(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

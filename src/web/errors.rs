//! One renderer for every failed response: JSON `{"error","detail"}` under `/api`, an HTML
//! page elsewhere. Handlers return `AppError`; axum's own rejections (bad JSON, wrong method)
//! are re-dressed here too, so no plain-text error ever reaches a client.

use std::any::Any;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use super::REQUEST_ID;
use crate::error::{AppError, ErrorInfo};

#[derive(Template, WebTemplate)]
#[template(path = "errors/error.html")]
struct ErrorPage {
    status: u16,
    title: &'static str,
    message: String,
    request_id: Option<String>,
    asset_v: &'static str,
}

pub async fn not_found() -> AppError {
    AppError::NotFound
}

pub fn panic_response(_: Box<dyn Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    AppError::Internal("handler panicked".into()).into_response()
}

fn code_for(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "bad_request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        408 => "timeout",
        409 => "conflict",
        413 => "payload_too_large",
        415 => "unsupported_media_type",
        422 => "invalid",
        429 => "too_many_requests",
        503 => "unavailable",
        s if s >= 500 => "internal",
        _ => "error",
    }
}

fn title_for(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "Bad request",
        401 => "Please sign in",
        403 => "Not allowed",
        404 => "Not found",
        405 => "Method not allowed",
        408 => "Request timed out",
        413 => "Too large",
        429 => "Too many attempts",
        503 => "Temporarily unavailable",
        s if s >= 500 => "Something went wrong",
        _ => "Error",
    }
}

pub async fn render(req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let query = req.uri().query().map(str::to_owned);
    let is_get = req.method() == axum::http::Method::GET;
    let request_id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let resp = next.run(req).await;
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let is_html = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let info = resp.extensions().get::<ErrorInfo>().cloned();
    // Pages that draw their own failure (the login form's 401) pass through untouched.
    if is_html && info.is_none() {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let detail = match &info {
        Some(i) => match &i.detail {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Object(o)
                if o.contains_key("message") && !o.contains_key("field") =>
            {
                o.get("message")
                    .and_then(|v| v.as_str())
                    .unwrap_or("bad request")
                    .to_owned()
            }
            serde_json::Value::Object(o) => format!(
                "{}: {}",
                o.get("field").and_then(|v| v.as_str()).unwrap_or("input"),
                o.get("message")
                    .and_then(|v| v.as_str())
                    .unwrap_or("is not valid")
            ),
            other => other.to_string(),
        },
        None => {
            let bytes = axum::body::to_bytes(body, 64 * 1024)
                .await
                .unwrap_or_default();
            String::from_utf8_lossy(&bytes).trim().to_owned()
        }
    };
    let detail = if status.is_server_error() && status != StatusCode::SERVICE_UNAVAILABLE {
        "internal error".to_owned()
    } else if detail.is_empty() {
        title_for(status).to_lowercase()
    } else {
        detail
    };

    if path.starts_with("/api/") {
        if let Some(i) = info {
            let mut r = (status, axum::Json(i)).into_response();
            copy_headers(&parts.headers, &mut r);
            return r;
        }
        let body = serde_json::json!({ "error": code_for(status), "detail": detail });
        let mut r = (status, axum::Json(body)).into_response();
        copy_headers(&parts.headers, &mut r);
        return r;
    }
    if status == StatusCode::UNAUTHORIZED && is_get {
        let next = match query {
            Some(q) => format!("{path}?{q}"),
            None => path,
        };
        let target = format!(
            "/login?next={}",
            url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
        );
        return Redirect::to(&target).into_response();
    }
    let page = ErrorPage {
        status: status.as_u16(),
        title: title_for(status),
        message: detail,
        request_id: status.is_server_error().then_some(request_id).flatten(),
        asset_v: super::assets::version(),
    };
    let mut r = (status, page).into_response();
    copy_headers(&parts.headers, &mut r);
    r
}

/// Keeps headers that matter to the client (Retry-After, Allow, Set-Cookie) across re-rendering.
fn copy_headers(from: &axum::http::HeaderMap, to: &mut Response) {
    for name in [
        header::RETRY_AFTER,
        header::ALLOW,
        header::SET_COOKIE,
        header::WWW_AUTHENTICATE,
    ] {
        for v in from.get_all(&name) {
            to.headers_mut().append(name.clone(), v.clone());
        }
    }
    to.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

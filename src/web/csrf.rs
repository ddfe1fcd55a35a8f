//! CSRF in one place: every state-changing browser request must carry the session's token,
//! as the form field `csrf_token` or the `X-CSRF-Token` header (htmx). Requests authenticated
//! by a bearer token are exempt; they carry no ambient credential a third site could borrow.

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use super::body::{Encoding, buffer, parts};
use super::visitor::Visitor;
use crate::error::AppError;
use crate::state::AppState;

pub const FIELD: &str = "csrf_token";
pub const HEADER: &str = "x-csrf-token";

pub async fn guard(State(st): State<AppState>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let Some(visitor) = req.extensions().get::<Visitor>().cloned() else {
        return AppError::Forbidden("no session".into()).into_response();
    };
    if visitor.token.is_some() {
        return next.run(req).await;
    }
    let is_api = req.uri().path().starts_with("/api/");
    let Some(session) = visitor.session else {
        // The API answers 401 itself for anonymous callers; a form without a session is forged.
        if is_api {
            return next.run(req).await;
        }
        return forbidden();
    };
    let header_token = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if let Some(t) = header_token {
        return if same(&t, &session.csrf_token) {
            next.run(req).await
        } else {
            forbidden()
        };
    }
    if is_api {
        return forbidden();
    }
    let encoding = Encoding::of(req.headers());
    let (parts, body) = req.into_parts();
    let bytes = match buffer(body, st.config.web.max_body_bytes).await {
        Ok(b) => b,
        Err(too_large) => return too_large,
    };
    let presented = match &encoding {
        Encoding::Form => form_field(&bytes),
        Encoding::Multipart(boundary) => multipart_field(boundary, &bytes),
        Encoding::Json | Encoding::Other => None,
    };
    match presented {
        Some(t) if same(&t, &session.csrf_token) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        _ => forbidden(),
    }
}

fn forbidden() -> Response {
    AppError::Forbidden(
        "the form has expired or did not come from this site; reload the page and try again".into(),
    )
    .into_response()
}

fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

fn form_field(body: &Bytes) -> Option<String> {
    url::form_urlencoded::parse(body)
        .find(|(k, _)| k == FIELD)
        .map(|(_, v)| v.into_owned())
}

/// The `csrf_token` part of a multipart body; the other parts (attachments) are not read.
fn multipart_field(boundary: &str, body: &Bytes) -> Option<String> {
    parts(boundary, body)
        .into_iter()
        .find(|p| p.name == FIELD && p.filename.is_none())
        .map(|p| String::from_utf8_lossy(p.value).trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_found_in_urlencoded_and_multipart_bodies() {
        let b = Bytes::from_static(b"username=a&csrf_token=abc%2Bd&x=1");
        assert_eq!(form_field(&b).as_deref(), Some("abc+d"));
        let body = Bytes::from_static(
            b"--XyZ\r\nContent-Disposition: form-data; name=\"body\"\r\n\r\nhello\r\n--XyZ\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\ntok123\r\n--XyZ--\r\n",
        );
        assert_eq!(multipart_field("XyZ", &body).as_deref(), Some("tok123"));
    }

    #[test]
    fn tokens_compare_only_equal_when_identical() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "abcd"));
    }
}

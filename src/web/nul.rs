//! NUL (U+0000) is refused at the edge, before any handler sees it. PostgreSQL cannot store
//! it in text and SQLite can, so without this the same request was a 400 on one database and
//! a stored ticket on the other; and no person types it. One layer covers every route that
//! takes text from a person: the query string, JSON bodies, form fields and the text parts of
//! multipart forms (files may hold any byte). The answer names the field: 422 for a query
//! parameter or a body field, 400 for the path.
//!
//! Two intakes keep their own rule because refusing would lose what a machine sent: mail
//! (`message/rfc822`, not read here) drops NUL while parsing, and alert deliveries turn
//! control characters into spaces (`alerts::parse::clip`).

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::body::{Encoding, buffer, parts};
use super::visitor::Visitor;
use crate::error::AppError;
use crate::state::AppState;

const MESSAGE: &str = "must not contain NUL (U+0000)";

pub async fn refuse(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    // Anonymous API calls are answered 401 by their handler, whatever they carry.
    let signed_in = req
        .extensions()
        .get::<Visitor>()
        .is_some_and(|v| v.user.is_some() || v.token.is_some());
    let alert_delivery = req.method() == Method::POST && path.starts_with("/api/v1/alerts/");
    if (path.starts_with("/api/") && !signed_in) || alert_delivery {
        return next.run(req).await;
    }
    if path.contains("%00") {
        return AppError::BadRequest("the path holds a NUL character (%00)".into()).into_response();
    }
    if let Some(field) = req.uri().query().and_then(|q| in_query(q.as_bytes())) {
        return AppError::invalid(field, MESSAGE).into_response();
    }
    if matches!(*req.method(), Method::GET | Method::HEAD) {
        return next.run(req).await;
    }
    let encoding = Encoding::of(req.headers());
    if encoding == Encoding::Other {
        return next.run(req).await;
    }
    let (head, body) = req.into_parts();
    let bytes = match buffer(body, st.config.web.max_body_bytes).await {
        Ok(b) => b,
        Err(too_large) => return too_large,
    };
    let found = match &encoding {
        Encoding::Json => in_json(&bytes),
        Encoding::Form => in_form(&bytes),
        Encoding::Multipart(boundary) => in_multipart(boundary, &bytes),
        Encoding::Other => None,
    };
    match found {
        Some(field) => AppError::invalid(field, MESSAGE).into_response(),
        None => next.run(Request::from_parts(head, Body::from(bytes))).await,
    }
}

/// The first field of a JSON document whose name or text holds a NUL, as a path
/// (`hosts[0].name`). A document that does not parse is left to the handler, which says
/// where it breaks; most bodies are only scanned for the escape.
fn in_json(body: &[u8]) -> Option<String> {
    memchr::memmem::find(body, b"\\u0000")?;
    let doc: serde_json::Value = serde_json::from_slice(body).ok()?;
    find_in_value(&doc, String::new())
}

fn find_in_value(v: &serde_json::Value, at: String) -> Option<String> {
    use serde_json::Value;
    match v {
        Value::String(s) if s.contains('\0') => Some(field_name(at)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| find_in_value(item, format!("{at}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, item)| {
            let here = if at.is_empty() {
                shown(k)
            } else {
                format!("{at}.{}", shown(k))
            };
            if k.contains('\0') {
                Some(here)
            } else {
                find_in_value(item, here)
            }
        }),
        _ => None,
    }
}

/// A NUL at the top of the document (`"\u0000"`) has no field name.
fn field_name(at: String) -> String {
    if at.is_empty() { "body".to_owned() } else { at }
}

/// A name with its NULs written as `\0`, so the answer can show it.
fn shown(name: &str) -> String {
    name.replace('\0', "\\0")
}

/// The first form field whose name or value holds a NUL.
fn in_form(encoded: &[u8]) -> Option<String> {
    first_nul(encoded, |_| true)
}

/// The first query parameter whose name or value holds a NUL, except a TQL `query`: a bad
/// query answers 400 with the position where it breaks (CONTRACT §5), and its lexer says so.
fn in_query(encoded: &[u8]) -> Option<String> {
    first_nul(encoded, |name| name != "query")
}

fn first_nul(encoded: &[u8], checked: impl Fn(&str) -> bool) -> Option<String> {
    if memchr::memmem::find(encoded, b"%00").is_none() && !encoded.contains(&0) {
        return None;
    }
    url::form_urlencoded::parse(encoded)
        .find(|(k, v)| checked(k) && (k.contains('\0') || v.contains('\0')))
        .map(|(k, _)| shown(&k))
}

/// The first part of a multipart form whose name, file name or text holds a NUL; a file's
/// bytes are not text and may hold anything.
fn in_multipart(boundary: &str, body: &[u8]) -> Option<String> {
    parts(boundary, body)
        .into_iter()
        .find(|p| match &p.filename {
            Some(f) => f.contains('\0') || p.name.contains('\0'),
            None => p.value.contains(&0) || p.name.contains('\0'),
        })
        .map(|p| shown(&p.name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_fields_are_named_by_their_path() {
        assert_eq!(
            in_json(br#"{"subject": "a\u0000b"}"#).as_deref(),
            Some("subject")
        );
        assert_eq!(
            in_json(br#"{"hosts": [{"name": "ok"}, {"name": "x\u0000"}]}"#).as_deref(),
            Some("hosts[1].name")
        );
        assert_eq!(in_json(br#"{"a\u0000b": 1}"#).as_deref(), Some("a\\0b"));
        assert_eq!(in_json(br#""\u0000""#).as_deref(), Some("body"));
        assert_eq!(in_json(br#"["x", ["\u0000"]]"#).as_deref(), Some("[1][0]"));
    }

    #[test]
    fn json_without_a_nul_passes_untouched() {
        // An escaped backslash before "u0000" is text, not a NUL.
        assert_eq!(in_json(br#"{"body": "C:\\u0000"}"#), None);
        assert_eq!(in_json(br#"{"body": "plain"}"#), None);
        // Broken JSON is the handler's to describe.
        assert_eq!(in_json(br#"{"body": "\u0000"#), None);
    }

    #[test]
    fn form_fields_and_query_parameters_are_named() {
        assert_eq!(in_form(b"subject=ok&body=a%00b").as_deref(), Some("body"));
        assert_eq!(in_form(b"a%00=1").as_deref(), Some("a\\0"));
        assert_eq!(in_form(b"subject=x\0y").as_deref(), Some("subject"));
        assert_eq!(in_form(b"subject=100%25+up"), None);
        assert_eq!(in_query(b"query=a%00b"), None);
        assert_eq!(in_query(b"query=a&state=a%00b").as_deref(), Some("state"));
    }

    #[test]
    fn multipart_text_parts_are_checked_and_files_are_not() {
        let body = b"--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.bin\"\r\n\r\n\x00\x00\r\n\
--B\r\nContent-Disposition: form-data; name=\"body\"\r\n\r\nfine\r\n--B--\r\n";
        assert_eq!(in_multipart("B", body), None);
        let body =
            b"--B\r\nContent-Disposition: form-data; name=\"body\"\r\n\r\nbad\x00\r\n--B--\r\n";
        assert_eq!(in_multipart("B", body).as_deref(), Some("body"));
        let body = b"--B\r\nContent-Disposition: form-data; name=\"attachments\"; filename=\"a\x00.txt\"\r\n\r\nx\r\n--B--\r\n";
        assert_eq!(in_multipart("B", body).as_deref(), Some("attachments"));
    }
}

//! `AppError`: what an edge answers when a request fails. It renders JSON here; the HTML error
//! page for browsers is drawn by `web::errors::render_errors` from the same `ErrorInfo`, so each
//! failure is described once (DESIGN.md §6).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::db::StoreError;

pub type Result<T, E = AppError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("sign in first")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    BadRequest(String),
    /// A query that does not parse: where, what was expected there, and what was found.
    #[error("at position {position}: expected {expected}, found {found}")]
    BadQuery {
        position: usize,
        expected: String,
        found: String,
    },
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("{0}")]
    Conflict(String),
    /// A write based on an old version: 409 with what is current, so the client can merge.
    #[error("{message}")]
    Stale {
        message: String,
        revision: i64,
        current: serde_json::Value,
    },
    #[error("{0}")]
    TooLarge(String),
    #[error("too many attempts; try again in {retry_after_secs} seconds")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("the service is unavailable; try again shortly")]
    Unavailable(#[source] StoreError),
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// What a failed response carries for the error renderer: the stable code, the message a
/// person may read, and whether the log already holds the details.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ErrorInfo {
    /// A stable code: not_found, unauthorized, forbidden, bad_request, bad_query, invalid, conflict, …
    pub error: &'static str,
    /// A message; for `invalid` an object `{field, message}`; for `bad_query`
    /// `{message, position, expected, found}`; for a stale write `{message, revision, current}`.
    #[schema(schema_with = detail_schema)]
    pub detail: serde_json::Value,
}

/// `detail` is a sentence for most errors and an object for the structured ones, so the
/// document must allow both (schemathesis found every string `detail` refused by `object`).
fn detail_schema() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Object]))
        .description(Some(
            "A message; for `invalid` an object `{field, message}`; for `bad_query` \
             `{message, position, expected, found}`; for a stale write `{message, revision, current}`.",
        ))
        .build()
}

impl AppError {
    pub fn internal(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        AppError::Internal(Box::new(e))
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::BadRequest(_) | AppError::BadQuery { .. } => StatusCode::BAD_REQUEST,
            AppError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict(_) | AppError::Stale { .. } => StatusCode::CONFLICT,
            AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            AppError::NotFound => "not_found",
            AppError::Unauthorized => "unauthorized",
            AppError::Forbidden(_) => "forbidden",
            AppError::BadRequest(_) => "bad_request",
            AppError::BadQuery { .. } => "bad_query",
            AppError::Invalid { .. } => "invalid",
            AppError::Conflict(_) | AppError::Stale { .. } => "conflict",
            AppError::TooLarge(_) => "payload_too_large",
            AppError::TooManyRequests { .. } => "too_many_requests",
            AppError::Unavailable(_) => "unavailable",
            AppError::Internal(_) => "internal",
        }
    }

    fn detail(&self) -> serde_json::Value {
        match self {
            AppError::Invalid { field, message } => {
                serde_json::json!({ "field": field, "message": message })
            }
            AppError::BadQuery {
                position,
                expected,
                found,
            } => serde_json::json!({
                "message": self.to_string(), "position": position, "expected": expected, "found": found,
            }),
            AppError::Stale {
                message,
                revision,
                current,
            } => {
                serde_json::json!({ "message": message, "revision": revision, "current": current })
            }
            // 5xx never show their cause (it is logged once, in the request span).
            AppError::Internal(_) => serde_json::Value::String("internal error".into()),
            other => serde_json::Value::String(other.to_string()),
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Unavailable(_) => AppError::Unavailable(e),
            e @ StoreError::Unstorable(_) => AppError::BadRequest(e.to_string()),
            StoreError::Conflict { constraint } => {
                AppError::Conflict(format!("this conflicts with existing data ({constraint})"))
            }
            other => AppError::internal(other),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            let mut chain = self.to_string();
            let mut source = std::error::Error::source(&self);
            while let Some(s) = source {
                chain.push_str(": ");
                chain.push_str(&s.to_string());
                source = s.source();
            }
            tracing::error!(error = %chain, "request failed");
        }
        let info = ErrorInfo {
            error: self.code(),
            detail: self.detail(),
        };
        let mut resp = (status, axum::Json(&info)).into_response();
        if let AppError::TooManyRequests { retry_after_secs } = self {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        resp.extensions_mut().insert(info);
        resp
    }
}

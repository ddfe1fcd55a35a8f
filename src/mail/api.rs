//! `POST /api/v1/mail/inbound?queue=Q&action=correspond` (CONTRACT §3): one raw message in the
//! body, a token of scope `mail`. 202 once the message is stored, whatever became of it.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Action, Delivery, Receipt, Via};
use crate::error::{AppError, Result};
use crate::state::AppState;
use crate::web::extract::{SCOPE_MAIL, ScopedToken};

/// What `opsdesk mailgate` sends as its User-Agent (the admin view shows the door).
pub const GATE_AGENT: &str = "opsdesk-mailgate";

pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(inbound))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct Params {
    /// The queue of the address the message was delivered to.
    queue: String,
    /// `correspond` (default) or `comment` (the queue's comment address: internal).
    action: Option<String>,
}

/// Takes one raw RFC 5322 message. The message is stored before this answers 202; a message
/// that cannot be applied to a ticket is kept and flagged (`state: failed`) for an admin.
#[utoipa::path(post, path = "/api/v1/mail/inbound", tag = "mail", params(Params),
    request_body(content = String, content_type = "message/rfc822", description = "one raw message"),
    responses(
        (status = 202, body = Receipt),
        (status = 413, description = "over mail.max_message_bytes: nothing stored", body = crate::error::ErrorInfo),
        (status = 422, description = "empty message, unknown queue or action", body = crate::error::ErrorInfo)),
    security(("bearer" = [])))]
async fn inbound(
    State(st): State<AppState>,
    _token: ScopedToken<SCOPE_MAIL>,
    headers: HeaderMap,
    Query(p): Query<Params>,
    body: Bytes,
) -> Result<(StatusCode, Json<Receipt>)> {
    let a = p.action.as_deref().unwrap_or("correspond");
    let action = Action::parse(a).ok_or_else(|| {
        AppError::invalid(
            "action",
            format!("\"{a}\" is neither correspond nor comment"),
        )
    })?;
    let via = match headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
    {
        Some(ua) if ua.starts_with(GATE_AGENT) => Via::Mailgate,
        _ => Via::Api,
    };
    let to = Delivery {
        queue: p.queue,
        action,
        via,
    };
    let receipt = super::receive(&st.db, &st.config, body, &to, st.clock.now()).await?;
    Ok((StatusCode::ACCEPTED, Json(receipt)))
}

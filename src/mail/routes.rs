//! `/admin/mail`: messages intake could not apply (flagged) or chose to leave alone (ignored),
//! with the reason, the raw message to download, and Retry.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::MailMessage;
use crate::auth::sessions::{self, FlashKind};
use crate::error::{AppError, Result};
use crate::state::AppState;
use crate::web::extract::Admin;
use crate::web::page::Page;
use crate::web::visitor::Visitor;

#[derive(Template, WebTemplate)]
#[template(path = "admin/mail.html")]
struct MailPage {
    page: Page,
    state: String,
    counts: Vec<(String, i64)>,
    messages: Vec<MailMessage>,
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/mail", get(list))
        .route("/admin/mail/{id}/raw", get(raw))
        .route("/admin/mail/{id}/retry", post(retry))
}

#[derive(Debug, Deserialize)]
struct ListParams {
    state: Option<String>,
}

async fn list(
    State(st): State<AppState>,
    v: Visitor,
    Admin(_): Admin,
    Query(p): Query<ListParams>,
) -> Result<MailPage> {
    let state = match p.state.as_deref() {
        Some(s @ ("failed" | "ignored" | "received" | "processed")) => s.to_owned(),
        None => "failed".to_owned(),
        Some(other) => {
            return Err(AppError::invalid(
                "state",
                format!("\"{other}\" is not failed, ignored, received or processed"),
            ));
        }
    };
    Ok(MailPage {
        counts: super::store::counts(&st.db).await?,
        messages: super::by_state(&st.db, &state, 200).await?,
        state,
        page: Page::new(&st, &v, "Inbound mail").await,
    })
}

/// The message exactly as it arrived, as a file (never rendered in our origin).
async fn raw(State(st): State<AppState>, Admin(_): Admin, Path(id): Path<i64>) -> Result<Response> {
    let m = super::store::get(&st.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut tx = st.db.begin_read().await?;
    let data = crate::tickets::attachments::blob(&mut tx, &m.sha256)
        .await?
        .ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok((
        [
            (header::CONTENT_TYPE, "message/rfc822".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"message-{id}.eml\""),
            ),
        ],
        data,
    )
        .into_response())
}

async fn retry(
    State(st): State<AppState>,
    v: Visitor,
    Admin(u): Admin,
    Path(id): Path<i64>,
) -> Result<Redirect> {
    let r = super::retry(&st.db, &st.config, id, st.clock.now()).await?;
    tracing::info!(mail_id = id, by = %u.username, state = %r.state, "mail retried");
    let (kind, msg) = match (r.state.as_str(), r.ticket_id) {
        ("processed", Some(t)) => (
            FlashKind::Success,
            format!("Message {id} went to ticket #{t}."),
        ),
        (state, _) => (
            FlashKind::Error,
            format!("Message {id} is still {state}; see the reason."),
        ),
    };
    if let Some(s) = &v.session {
        sessions::set_flash(&st.db, &s.id_hash, kind, &msg).await?;
    }
    Ok(Redirect::to("/admin/mail"))
}

//! `/admin/mail`: messages intake could not apply (flagged) or chose to leave alone (ignored),
//! with the reason, the raw message to download, and Retry.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
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

#[derive(Template, WebTemplate)]
#[template(path = "admin/mail_templates.html")]
struct TemplatesPage {
    page: Page,
    templates: Vec<TemplateView>,
    error: Option<(String, String)>,
}

struct TemplateView {
    name: &'static str,
    purpose: &'static str,
    placeholders: String,
    text: String,
    edited: bool,
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/mail/templates", get(templates))
        .route("/admin/mail/templates/{name}", post(save_template))
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

async fn template_views(st: &AppState) -> Result<Vec<TemplateView>> {
    let mut tx = st.db.begin_read().await?;
    let mut out = Vec::new();
    for k in super::templates::KINDS {
        let text = super::templates::text(&mut tx, &k).await?;
        out.push(TemplateView {
            name: k.name,
            purpose: k.purpose,
            placeholders: k
                .placeholders
                .iter()
                .map(|p| format!("{{{{ {p} }}}}"))
                .collect::<Vec<_>>()
                .join(" "),
            edited: text != k.default,
            text,
        });
    }
    tx.commit().await?;
    Ok(out)
}

/// The texts of outgoing mail, each editable.
async fn templates(
    State(st): State<AppState>,
    v: Visitor,
    Admin(_): Admin,
) -> Result<TemplatesPage> {
    Ok(TemplatesPage {
        templates: template_views(&st).await?,
        error: None,
        page: Page::new(&st, &v, "Mail templates").await,
    })
}

#[derive(Debug, Deserialize)]
struct TemplateForm {
    body: String,
}

/// Saves one template; a text with an unknown placeholder is shown again with the reason,
/// an empty one goes back to the built-in text.
async fn save_template(
    State(st): State<AppState>,
    v: Visitor,
    Admin(u): Admin,
    Path(name): Path<String>,
    Form(f): Form<TemplateForm>,
) -> Result<Response> {
    let k = super::templates::kind(&name).ok_or(AppError::NotFound)?;
    let mut tx = st.db.begin().await?;
    let saved =
        super::templates::save(&mut tx, &k, &f.body, u.username.as_str(), st.clock.now()).await?;
    tx.commit().await?;
    match saved {
        Ok(()) => {
            tracing::info!(template = k.name, by = %u.username, "mail template saved");
            if let Some(s) = &v.session {
                sessions::set_flash(
                    &st.db,
                    &s.id_hash,
                    FlashKind::Success,
                    &format!("Template {} saved.", k.name),
                )
                .await?;
            }
            Ok(Redirect::to("/admin/mail/templates").into_response())
        }
        Err(reason) => {
            let mut views = template_views(&st).await?;
            if let Some(t) = views.iter_mut().find(|t| t.name == k.name) {
                t.text = f.body;
            }
            let page = TemplatesPage {
                templates: views,
                error: Some((k.name.to_owned(), reason)),
                page: Page::new(&st, &v, "Mail templates").await,
            };
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

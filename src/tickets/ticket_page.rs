//! The ticket page: fields, controls, links, the history timeline, and the reply and comment
//! boxes. Every action is a form POST (CSRF-checked in one place) that redirects back.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::attachments::{Upload, served_type};
use super::pages::{self, Entry};
use super::routes::{flash, queue_names, staff_names};
use super::{Ctx, Patch, Reply, ReplyKind, Status, Ticket, TicketError};
use crate::auth::sessions::FlashKind;
use crate::error::{AppError, Result};
use crate::state::AppState;
use crate::web::extract::{CurrentUser, Staff};
use crate::web::page::Page;
use crate::web::visitor::Visitor;

#[derive(Template, WebTemplate)]
#[template(path = "tickets/show.html")]
struct ShowPage {
    page: Page,
    t: Ticket,
    timeline: Vec<Entry>,
    staff: Vec<String>,
    queues: Vec<String>,
    statuses: [Status; 6],
    age: String,
    is_mine: bool,
    badge: Option<pages::Badge>,
    explain: Option<crate::sla::explain::Explain>,
    alerts: Vec<crate::alerts::AlertView>,
    alerts_total: i64,
    silence_choices: &'static [(&'static str, &'static str)],
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/tickets/{id}", get(show))
        .route("/tickets/{id}/reply", post(reply))
        .route("/tickets/{id}/update", post(update))
        .route("/tickets/{id}/take", post(take))
        .route("/tickets/{id}/untake", post(untake))
        .route("/tickets/{id}/links", post(link))
        .route("/tickets/{id}/merge", post(merge))
        .route("/tickets/{id}/attachments/{aid}", get(download))
        .route("/tickets/{id}/attachments/{aid}/view", get(view_html))
}

#[derive(Template, WebTemplate)]
#[template(path = "tickets/mail_html.html")]
struct MailHtmlPage {
    page: Page,
    t: Ticket,
    filename: String,
    aid: i64,
    html: String,
}

/// An HTML attachment (the HTML of an HTML-only message) shown sanitised inside the page;
/// anything else, or HTML too large to show, is downloaded instead.
async fn view_html(
    State(st): State<AppState>,
    v: Visitor,
    Staff(_): Staff,
    Path((id, aid)): Path<(i64, i64)>,
) -> Result<Response> {
    let (t, a, data) = attachment(&st, id, aid).await?;
    if !a.is_html() || data.len() > super::render::MAIL_HTML_LIMIT {
        return Ok(Redirect::to(&format!("/tickets/{}/attachments/{aid}", t.id)).into_response());
    }
    let html = super::render::mail_html(&String::from_utf8_lossy(&data));
    let page = Page::new(&st, &v, format!("#{} {}", t.id, a.filename)).await;
    Ok(MailHtmlPage {
        page,
        t,
        filename: a.filename,
        aid,
        html,
    }
    .into_response())
}

async fn show(
    State(st): State<AppState>,
    v: Visitor,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response> {
    if !me.role.is_staff() {
        // A customer's link to a ticket leads to the portal (a 404 there if not theirs).
        return Ok(Redirect::to(&format!("/portal/tickets/{id}")).into_response());
    }
    let mut tx = st.db.begin_read().await?;
    let t = super::load(&mut tx, id).await?;
    if t.id != id {
        // A merged ticket's page is its survivor's page.
        return Ok(Redirect::permanent(&format!("/tickets/{}", t.id)).into_response());
    }
    let history = super::history(&mut tx, id).await?;
    let files = super::attachments::list(&mut tx, id).await?;
    let now = st.clock.now();
    let explain = super::sla::explain(&mut tx, &st.config, id, now).await?;
    let (alerts_total, alerts) = crate::alerts::on_ticket(&mut tx, &st.config, id).await?;
    tx.commit().await?;
    let t = t.as_of(now);
    Ok(ShowPage {
        badge: pages::badge(&t, now),
        explain,
        alerts,
        alerts_total,
        silence_choices: &crate::alerts::silence::CHOICES,
        timeline: pages::timeline(history, files),
        staff: staff_names(&st).await?,
        queues: queue_names(&st),
        statuses: Status::ALL,
        age: pages::age(t.created_at, st.clock.now()),
        is_mine: t.owner.as_deref() == Some(me.username.as_str()),
        page: Page::new(&st, &v, format!("#{} {}", t.id, t.subject)).await,
        t,
    }
    .into_response())
}

/// Runs one change in a transaction; a refusal becomes a flash on the ticket page.
async fn act<F>(st: &AppState, v: &Visitor, id: i64, ok_msg: &str, f: F) -> Result<Response>
where
    F: for<'a> FnOnce(
        &'a mut crate::db::Tx,
        Ctx<'a>,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = std::result::Result<i64, TicketError>> + Send + 'a>,
    >,
{
    let me = v
        .user
        .as_ref()
        .map(|u| u.username.clone())
        .unwrap_or_default();
    let ctx = Ctx {
        config: &st.config,
        actor: &me,
        now: st.clock.now(),
    };
    let mut tx = st.db.begin().await?;
    let target = match f(&mut tx, ctx).await {
        Ok(target) => {
            tx.commit().await?;
            flash(st, v, FlashKind::Success, ok_msg).await?;
            target
        }
        Err(TicketError::Store(e)) => return Err(e.into()),
        Err(TicketError::NotFound(_)) => return Err(AppError::NotFound),
        Err(e) => {
            drop(tx);
            flash(st, v, FlashKind::Error, &e.to_string()).await?;
            id
        }
    };
    Ok(Redirect::to(&format!("/tickets/{target}")).into_response())
}

#[derive(Debug, Default, Deserialize)]
struct ReplyForm {
    kind: String,
    body: String,
    markdown: Option<String>,
    time_taken: Option<String>,
}

/// A form's text fields and files, sent as multipart when files are attached (or urlencoded
/// without); file inputs are named `attachments`. The portal's forms read the same way.
pub(crate) async fn read_fields(
    st: &AppState,
    req: Request,
) -> Result<(Vec<(String, String)>, Vec<Upload>)> {
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !multipart {
        let Form(f) = Form::<Vec<(String, String)>>::from_request(req, st)
            .await
            .map_err(|e| AppError::BadRequest(e.body_text()))?;
        return Ok((f, Vec::new()));
    }
    let mut m = Multipart::from_request(req, st)
        .await
        .map_err(|e| AppError::BadRequest(e.body_text()))?;
    let (mut fields, mut files) = (Vec::new(), Vec::new());
    let bad = |e: axum::extract::multipart::MultipartError| AppError::BadRequest(e.body_text());
    while let Some(field) = m.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or("").to_owned();
        if name == "attachments" {
            let filename = field.file_name().unwrap_or("").to_owned();
            let content_type = field
                .content_type()
                .unwrap_or("application/octet-stream")
                .to_owned();
            let data = field.bytes().await.map_err(bad)?;
            if !filename.is_empty() || !data.is_empty() {
                files.push(Upload::new(filename, content_type, data.to_vec()));
            }
            continue;
        }
        let text = field.text().await.map_err(bad)?;
        fields.push((name, text));
    }
    Ok((fields, files))
}

/// The reply form from [`read_fields`].
async fn read_reply(st: &AppState, req: Request) -> Result<(ReplyForm, Vec<Upload>)> {
    let (fields, files) = read_fields(st, req).await?;
    let mut f = ReplyForm::default();
    for (name, text) in fields {
        match name.as_str() {
            "kind" => f.kind = text,
            "body" => f.body = text,
            "markdown" => f.markdown = Some(text),
            "time_taken" => f.time_taken = Some(text),
            _ => {}
        }
    }
    Ok((f, files))
}

async fn reply(
    State(st): State<AppState>,
    v: Visitor,
    Staff(_): Staff,
    Path(id): Path<i64>,
    req: Request,
) -> Result<Response> {
    let (f, uploads) = read_reply(&st, req).await?;
    let max = st.config.web.max_attachment_bytes;
    let kind = match f.kind.as_str() {
        "comment" => ReplyKind::Comment,
        _ => ReplyKind::Correspond,
    };
    let time_taken = match f
        .time_taken
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(t) => t
            .parse()
            .map_err(|_| AppError::invalid("time_taken", "must be minutes"))?,
        None => 0,
    };
    let format = if f.markdown.is_some() {
        "markdown"
    } else {
        "text"
    };
    let r = Reply {
        kind,
        body: f.body,
        body_format: format,
        from_requestor: false,
        time_taken,
    };
    let msg = if kind == ReplyKind::Comment {
        "Comment added."
    } else {
        "Reply recorded."
    };
    act(&st, &v, id, msg, move |tx, ctx| {
        Box::pin(async move {
            let (t, txn) = super::reply(tx, ctx, id, r).await?;
            super::attachments::attach(tx, t, txn, &uploads, max, ctx.now).await?;
            Ok(t)
        })
    })
    .await
}

#[derive(Debug, Deserialize)]
struct UpdateForm {
    status: Option<String>,
    owner: Option<String>,
    priority: Option<i64>,
    queue: Option<String>,
    subject: Option<String>,
}

async fn update(
    State(st): State<AppState>,
    v: Visitor,
    Staff(_): Staff,
    Path(id): Path<i64>,
    Form(f): Form<UpdateForm>,
) -> Result<Response> {
    let patch = Patch {
        status: f.status,
        owner: f.owner.map(|o| Some(o).filter(|o| !o.is_empty())),
        priority: f.priority,
        queue: f.queue,
        subject: f.subject,
        ..Patch::default()
    };
    act(&st, &v, id, "Ticket updated.", move |tx, ctx| {
        Box::pin(async move { super::update(tx, ctx, id, patch).await })
    })
    .await
}

async fn take(
    State(st): State<AppState>,
    v: Visitor,
    Staff(me): Staff,
    Path(id): Path<i64>,
) -> Result<Response> {
    let patch = Patch {
        owner: Some(Some(me.username)),
        ..Patch::default()
    };
    act(&st, &v, id, "You own this ticket now.", move |tx, ctx| {
        Box::pin(async move { super::update(tx, ctx, id, patch).await })
    })
    .await
}

async fn untake(
    State(st): State<AppState>,
    v: Visitor,
    Staff(_): Staff,
    Path(id): Path<i64>,
) -> Result<Response> {
    let patch = Patch {
        owner: Some(None),
        ..Patch::default()
    };
    act(
        &st,
        &v,
        id,
        "The ticket has no owner now.",
        move |tx, ctx| Box::pin(async move { super::update(tx, ctx, id, patch).await }),
    )
    .await
}

#[derive(Debug, Deserialize)]
struct LinkForm {
    #[serde(rename = "type")]
    kind: String,
    target: i64,
    remove: Option<String>,
}

async fn link(
    State(st): State<AppState>,
    v: Visitor,
    Staff(_): Staff,
    Path(id): Path<i64>,
    Form(f): Form<LinkForm>,
) -> Result<Response> {
    let msg = if f.remove.is_some() {
        "Link removed."
    } else {
        "Link added."
    };
    act(&st, &v, id, msg, move |tx, ctx| {
        Box::pin(async move {
            if f.remove.is_some() {
                super::unlink(tx, ctx, id, &f.kind, f.target).await?;
            } else {
                super::link(tx, ctx, id, &f.kind, f.target).await?;
            }
            Ok(id)
        })
    })
    .await
}

#[derive(Debug, Deserialize)]
struct MergeForm {
    into: i64,
}

async fn merge(
    State(st): State<AppState>,
    v: Visitor,
    Staff(_): Staff,
    Path(id): Path<i64>,
    Form(f): Form<MergeForm>,
) -> Result<Response> {
    let msg = format!("Ticket #{id} merged into #{}.", f.into);
    act(&st, &v, id, &msg, move |tx, ctx| {
        Box::pin(async move { super::merge(tx, ctx, id, f.into).await })
    })
    .await
}

/// Ticket `id` (its survivor when merged) and its attachment `aid` with the bytes; 404 when
/// the ticket has no such attachment.
pub(crate) async fn attachment(
    st: &AppState,
    id: i64,
    aid: i64,
) -> Result<(Ticket, super::attachments::Attachment, Vec<u8>)> {
    let mut tx = st.db.begin_read().await?;
    let t = super::load(&mut tx, id).await?;
    let found = super::attachments::fetch(&mut tx, t.id, aid).await?;
    tx.commit().await?;
    let (a, data) = found.ok_or(AppError::NotFound)?;
    Ok((t, a, data))
}

/// Serves an attachment as a download, never inline as active content. A customer who follows
/// a staff link is sent to the portal's copy, which answers only for their own tickets.
async fn download(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Path((id, aid)): Path<(i64, i64)>,
) -> Result<Response> {
    if !u.role.is_staff() {
        return Ok(
            Redirect::to(&format!("/portal/tickets/{id}/attachments/{aid}")).into_response(),
        );
    }
    let (_, a, data) = attachment(&st, id, aid).await?;
    Ok(serve(&a, data))
}

/// The bytes of `a` as a download: a safe content type, `Content-Disposition: attachment`,
/// a sandboxing CSP, never cached by shared caches.
pub(crate) fn serve(a: &super::attachments::Attachment, data: Vec<u8>) -> Response {
    let mut r = data.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(served_type(&a.content_type)),
    );
    let encoded: String = url::form_urlencoded::byte_serialize(a.filename.as_bytes())
        .collect::<String>()
        .replace('+', "%20");
    let ascii: String = a
        .filename
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    r
}

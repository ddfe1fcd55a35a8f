//! The ticket page: fields, controls, links, the history timeline, and the reply and comment
//! boxes. Every action is a form POST (CSRF-checked in one place) that redirects back.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::pages::{self, Entry};
use super::routes::{flash, queue_names, staff_names};
use super::{Ctx, Patch, Reply, ReplyKind, Status, Ticket, TicketError};
use crate::auth::sessions::FlashKind;
use crate::error::{AppError, Result};
use crate::state::AppState;
use crate::web::extract::Staff;
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
}

async fn show(
    State(st): State<AppState>,
    v: Visitor,
    Staff(me): Staff,
    Path(id): Path<i64>,
) -> Result<Response> {
    let mut tx = st.db.begin().await?;
    let t = super::load(&mut tx, id).await?;
    if t.id != id {
        // A merged ticket's page is its survivor's page.
        return Ok(Redirect::permanent(&format!("/tickets/{}", t.id)).into_response());
    }
    let history = super::history(&mut tx, id).await?;
    tx.commit().await?;
    Ok(ShowPage {
        timeline: pages::timeline(history),
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

#[derive(Debug, Deserialize)]
struct ReplyForm {
    kind: String,
    body: String,
    markdown: Option<String>,
    time_taken: Option<String>,
}

async fn reply(
    State(st): State<AppState>,
    v: Visitor,
    Staff(_): Staff,
    Path(id): Path<i64>,
    Form(f): Form<ReplyForm>,
) -> Result<Response> {
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
    let r = Reply {
        kind,
        body: f.body,
        body_format: if f.markdown.is_some() {
            "markdown"
        } else {
            "text"
        },
        from_requestor: false,
        time_taken,
    };
    let msg = if kind == ReplyKind::Comment {
        "Comment added."
    } else {
        "Reply recorded."
    };
    act(&st, &v, id, msg, move |tx, ctx| {
        Box::pin(async move { super::reply(tx, ctx, id, r).await.map(|(t, _)| t) })
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

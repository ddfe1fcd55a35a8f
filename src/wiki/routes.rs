//! The wiki in the browser: `/wiki` (index, recent changes, search, new page) and
//! `/wiki/{path}` for staff (view, edit, history, diff, revert, rename, delete, restore);
//! `/portal/kb` and `/portal/kb/{path}` for customers (public pages only). A save that lost a
//! race comes back as the editor with both versions and their diff, so nothing typed is lost.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;

use super::diff::DiffLine;
use super::render::{Links, render};
use super::{Found, Page, RevisionInfo, Save, Visibility, WikiError};
use crate::auth::sessions::FlashKind;
use crate::error::{AppError, Result};
use crate::state::AppState;
use crate::tickets::RunbookUse;
use crate::web::extract::{CurrentUser, Staff};
use crate::web::page::{Page as PageCtx, flash};
use crate::web::visitor::Visitor;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/wiki", get(index))
        .route("/wiki/{*path}", get(view).post(act))
        .route("/portal/kb", get(kb_index))
        .route("/portal/kb/{*path}", get(kb_view))
}

#[derive(Template, WebTemplate)]
#[template(path = "wiki/index.html")]
struct IndexPage {
    page: PageCtx,
    pages: Vec<Page>,
    recent: Vec<Page>,
    deleted: Vec<Page>,
    q: String,
    hits: Option<Vec<Page>>,
    base: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "wiki/page.html")]
struct ViewPage {
    page: PageCtx,
    p: Page,
    html: String,
    backlinks: Vec<(String, String)>,
    tickets: Vec<RunbookUse>,
    /// Viewing an old revision: its number.
    old: Option<i64>,
    base: &'static str,
    staff: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "wiki/edit.html")]
struct EditPage {
    page: PageCtx,
    path: String,
    title: String,
    body: String,
    base_revision: i64,
    visibility: Visibility,
    comment: String,
    /// After a lost race: the page as it is now, and how the text sent differs from it.
    conflict: Option<(Page, Vec<DiffLine>)>,
}

#[derive(Template, WebTemplate)]
#[template(path = "wiki/history.html")]
struct HistoryPage {
    page: PageCtx,
    p: Page,
    revisions: Vec<RevisionInfo>,
}

#[derive(Template, WebTemplate)]
#[template(path = "wiki/diff.html")]
struct DiffPage {
    page: PageCtx,
    p: Page,
    from: i64,
    to: i64,
    lines: Vec<DiffLine>,
}

#[derive(Template, WebTemplate)]
#[template(path = "wiki/missing.html")]
struct MissingPage {
    page: PageCtx,
    path: String,
    staff: bool,
}

#[derive(Debug, Deserialize, Default)]
struct ViewQuery {
    edit: Option<String>,
    rev: Option<i64>,
    from: Option<i64>,
    to: Option<i64>,
    q: Option<String>,
    /// The index's "new page" box: a path to open the editor at.
    new: Option<String>,
}

async fn index(
    State(st): State<AppState>,
    v: Visitor,
    Staff(_): Staff,
    Query(q): Query<ViewQuery>,
) -> Result<Response> {
    if let Some(new) = q.new.as_deref().filter(|n| !n.trim().is_empty()) {
        return match super::page_path(new) {
            Ok(p) => Ok(Redirect::to(&format!("/wiki/{p}?edit=1")).into_response()),
            Err(e) => {
                flash(&st, &v, FlashKind::Error, &e.to_string()).await?;
                Ok(Redirect::to("/wiki").into_response())
            }
        };
    }
    Ok(listing(&st, &v, q, false).await?.into_response())
}

async fn kb_index(
    State(st): State<AppState>,
    v: Visitor,
    CurrentUser(_): CurrentUser,
    Query(q): Query<ViewQuery>,
) -> Result<IndexPage> {
    listing(&st, &v, q, true).await
}

async fn listing(st: &AppState, v: &Visitor, q: ViewQuery, public: bool) -> Result<IndexPage> {
    let text = q.q.unwrap_or_default();
    let hits = if text.trim().is_empty() {
        None
    } else {
        Some(super::search(&st.db, text.trim(), public, 50).await?)
    };
    let mut tx = st.db.begin_read().await?;
    let pages = super::list(&mut tx, public, false, 10_000).await?;
    let recent = super::list(&mut tx, public, true, 20).await?;
    let deleted = if public {
        Vec::new()
    } else {
        super::deleted_pages(&mut tx).await?
    };
    tx.commit().await?;
    Ok(IndexPage {
        page: PageCtx::new(st, v, if public { "Knowledge base" } else { "Wiki" }).await,
        pages,
        recent,
        deleted,
        q: text,
        hits,
        base: if public { "/portal/kb/" } else { "/wiki/" },
    })
}

/// Splits `path/action` into the page and the action (history, diff).
fn split(rest: &str) -> (&str, Option<&str>) {
    match rest.trim_matches('/').rsplit_once('/') {
        Some((page, last)) if matches!(last, "history" | "diff") => (page, Some(last)),
        _ => (rest.trim_matches('/'), None),
    }
}

async fn view(
    State(st): State<AppState>,
    v: Visitor,
    Staff(me): Staff,
    Path(rest): Path<String>,
    Query(q): Query<ViewQuery>,
) -> Result<Response> {
    let (raw, action) = split(&rest);
    let path = match super::page_path(raw) {
        Ok(p) => p,
        Err(e) => return Err(AppError::invalid("path", e.to_string())),
    };
    if path != raw {
        // One address per page: what users type is sent to the canonical path.
        let suffix = action.map(|a| format!("/{a}")).unwrap_or_default();
        return Ok(Redirect::permanent(&format!("/wiki/{path}{suffix}")).into_response());
    }
    let mut tx = st.db.begin_read().await?;
    let found = super::get(&mut tx, &path).await?;
    let page = match found {
        Some(Found::Moved(to)) => {
            tx.commit().await?;
            return Ok(Redirect::permanent(&format!("/wiki/{to}")).into_response());
        }
        Some(Found::Page(p)) if !p.deleted => p,
        _ => {
            tx.commit().await?;
            if q.edit.is_some() {
                return Ok(editor(&st, &v, &path, None, None).await.into_response());
            }
            let missing = MissingPage {
                page: PageCtx::new(&st, &v, "No such page").await,
                path,
                staff: true,
            };
            return Ok((axum::http::StatusCode::NOT_FOUND, missing).into_response());
        }
    };
    if q.edit.is_some() {
        tx.commit().await?;
        return Ok(editor(&st, &v, &path, Some(&page), None)
            .await
            .into_response());
    }
    match action {
        Some("history") => {
            let revisions = super::revisions(&mut tx, &path).await?;
            tx.commit().await?;
            return Ok(HistoryPage {
                page: PageCtx::new(&st, &v, format!("History of {}", page.title)).await,
                p: page,
                revisions,
            }
            .into_response());
        }
        Some("diff") => {
            let to = q.to.unwrap_or(page.revision);
            let from = q.from.unwrap_or((to - 1).max(1));
            let (_, old) = super::revision(&mut tx, &path, from).await?;
            let (_, new) = super::revision(&mut tx, &path, to).await?;
            tx.commit().await?;
            return Ok(DiffPage {
                page: PageCtx::new(&st, &v, format!("{}: {from} → {to}", page.title)).await,
                lines: super::diff::diff(&old, &new),
                p: page,
                from,
                to,
            }
            .into_response());
        }
        _ => {}
    }
    let mut shown = page.clone();
    if let Some(n) = q.rev.filter(|n| *n != page.revision) {
        let (title, body) = super::revision(&mut tx, &path, n).await?;
        shown.title = title;
        shown.body = body;
    }
    let ctx = super::context(&mut tx, &shown, false).await?;
    let tickets = crate::tickets::using_runbook(&mut tx, &path, 20).await?;
    tx.commit().await?;
    let _ = me;
    let html = render(
        &shown.body,
        &Links {
            existing: &ctx.existing,
            page_base: "/wiki/",
            ticket_base: "/tickets/",
        },
    );
    Ok(ViewPage {
        page: PageCtx::new(&st, &v, shown.title.clone()).await,
        old: q.rev.filter(|n| *n != page.revision),
        html,
        backlinks: ctx.backlinks,
        tickets,
        p: shown,
        base: "/wiki/",
        staff: true,
    }
    .into_response())
}

/// The editor for `path`: the page's text, a fresh page (runbooks start from the template),
/// or after a lost race the text sent beside the page as it is now.
async fn editor(
    st: &AppState,
    v: &Visitor,
    path: &str,
    page: Option<&Page>,
    conflict: Option<(Page, SaveForm)>,
) -> EditPage {
    let (title, body, base, vis, comment) = match (&conflict, page) {
        (Some((current, sent)), _) => (
            sent.title.clone(),
            sent.body.clone(),
            current.revision,
            Visibility::parse(&sent.visibility),
            sent.comment.clone(),
        ),
        (None, Some(p)) => (
            p.title.clone(),
            p.body.clone(),
            p.revision,
            p.visibility,
            String::new(),
        ),
        (None, None) => (
            super::path::title_from_path(path),
            if path.starts_with("runbooks/") {
                super::RUNBOOK_TEMPLATE.to_owned()
            } else {
                String::new()
            },
            0,
            Visibility::Internal,
            String::new(),
        ),
    };
    let conflict = conflict.map(|(current, sent)| {
        let lines = super::diff::diff(&current.body, &sent.body);
        (current, lines)
    });
    EditPage {
        page: PageCtx::new(st, v, format!("Editing {title}")).await,
        path: path.to_owned(),
        title,
        body,
        base_revision: base,
        visibility: vis,
        comment,
        conflict,
    }
}

#[derive(Debug, Deserialize, Default, Clone)]
struct SaveForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    base_revision: i64,
    #[serde(default)]
    comment: String,
    #[serde(default)]
    visibility: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    revision: i64,
}

async fn act(
    State(st): State<AppState>,
    v: Visitor,
    Staff(me): Staff,
    Path(rest): Path<String>,
    Form(f): Form<SaveForm>,
) -> Result<Response> {
    let path = super::page_path(rest.trim_matches('/'))?;
    let now = st.clock.now();
    let mut tx = st.db.begin().await?;
    let result: std::result::Result<(String, &str), WikiError> = match f.action.as_str() {
        "rename" => super::rename(&mut tx, &path, &f.to, now)
            .await
            .map(|p| (p.path, "Page renamed; the old address leads here.")),
        "delete" => super::set_deleted(&mut tx, &path, true, &me.username, now)
            .await
            .map(|()| {
                (
                    String::new(),
                    "Page deleted. Restore it from the wiki index.",
                )
            }),
        "restore" => super::set_deleted(&mut tx, &path, false, &me.username, now)
            .await
            .map(|()| (path.clone(), "Page restored.")),
        "revert" => super::revert(&mut tx, &path, f.revision, &me.username, now)
            .await
            .map(|p| (p.path, "Reverted: a new revision holds the old text.")),
        _ => {
            let s = Save {
                title: f.title.clone(),
                body: f.body.replace("\r\n", "\n"),
                base_revision: f.base_revision,
                comment: f.comment.clone(),
                visibility: Some(Visibility::parse(&f.visibility)),
            };
            super::save(&mut tx, &path, &s, &me.username, now)
                .await
                .map(|p| (p.path, "Saved."))
        }
    };
    match result {
        Ok((to, msg)) => {
            tx.commit().await?;
            flash(&st, &v, FlashKind::Success, msg).await?;
            let to = if to.is_empty() {
                "/wiki".to_owned()
            } else {
                format!("/wiki/{to}")
            };
            Ok(Redirect::to(&to).into_response())
        }
        Err(WikiError::Stale { current, .. }) => {
            drop(tx);
            let mut sent = f;
            sent.body = sent.body.replace("\r\n", "\n");
            let page = editor(&st, &v, &path, None, Some((*current, sent))).await;
            Ok((axum::http::StatusCode::CONFLICT, page).into_response())
        }
        Err(WikiError::Store(e)) => Err(e.into()),
        Err(e) => {
            drop(tx);
            flash(&st, &v, FlashKind::Error, &e.to_string()).await?;
            Ok(Redirect::to(&format!("/wiki/{path}")).into_response())
        }
    }
}

/// A public page for a signed-in customer (or staff previewing the knowledge base).
async fn kb_view(
    State(st): State<AppState>,
    v: Visitor,
    CurrentUser(_): CurrentUser,
    Path(rest): Path<String>,
) -> Result<Response> {
    let path = super::page_path(rest.trim_matches('/')).map_err(|_| AppError::NotFound)?;
    let mut tx = st.db.begin_read().await?;
    let page = match super::live(&mut tx, &path).await {
        Ok((_, p)) if p.visibility == Visibility::Public => p,
        Ok(_) | Err(WikiError::NotFound(_)) => return Err(AppError::NotFound),
        Err(e) => return Err(e.into()),
    };
    if page.path != path {
        return Ok(Redirect::permanent(&format!("/portal/kb/{}", page.path)).into_response());
    }
    let ctx = super::context(&mut tx, &page, true).await?;
    tx.commit().await?;
    // Links to internal pages look missing to customers, as the pages do.
    let mut existing = ctx.existing;
    let mut tx = st.db.begin_read().await?;
    let mut visible = std::collections::HashSet::new();
    for p in existing.drain() {
        if let Ok((_, target)) = super::live(&mut tx, &p).await
            && target.visibility == Visibility::Public
        {
            visible.insert(p);
        }
    }
    tx.commit().await?;
    let html = render(
        &page.body,
        &Links {
            existing: &visible,
            page_base: "/portal/kb/",
            ticket_base: "/portal/tickets/",
        },
    );
    Ok(ViewPage {
        page: PageCtx::new(&st, &v, page.title.clone()).await,
        old: None,
        html,
        backlinks: ctx.backlinks,
        tickets: Vec::new(),
        p: page,
        base: "/portal/kb/",
        staff: false,
    }
    .into_response())
}

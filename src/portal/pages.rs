//! The portal's pages and forms. Forms post with the session's CSRF token like every browser
//! form; new tickets and replies may carry files (multipart), under the same size limit as
//! staff replies.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, Request, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::{Customer, own_ticket};
use crate::auth::sessions::FlashKind;
use crate::error::{AppError, Result};
use crate::search::Results;
use crate::state::AppState;
use crate::tickets::pages::{self as ticket_pages, Badge, Entry};
use crate::tickets::search::{Found, Search, find};
use crate::tickets::ticket_page::{attachment, read_fields, serve};
use crate::tickets::{
    Ctx, NewTicket, Reply, ReplyKind, Source, Ticket, TicketCustomer, TicketError,
};
use crate::web::extract::CurrentUser;
use crate::web::page::{Page, flash};
use crate::web::visitor::Visitor;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/portal", get(index))
        .route("/portal/search", get(search))
        .route("/portal/tickets", post(create))
        .route("/portal/tickets/new", get(new_form))
        .route("/portal/tickets/{id}", get(show))
        .route("/portal/tickets/{id}/reply", post(reply))
        .route("/portal/tickets/{id}/attachments/{aid}", get(download))
}

#[derive(Template, WebTemplate)]
#[template(path = "portal/index.html")]
struct IndexPage {
    page: Page,
    customer: String,
    open: Found,
    closed: Found,
}

#[derive(Template, WebTemplate)]
#[template(path = "portal/new.html")]
struct NewPage {
    page: Page,
    queues: Vec<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "portal/show.html")]
struct ShowPage {
    page: Page,
    t: Ticket,
    timeline: Vec<Entry>,
    badge: Option<Badge>,
}

#[derive(Template, WebTemplate)]
#[template(path = "portal/search.html")]
struct SearchPage {
    page: Page,
    q: String,
    results: Option<Results>,
    error: Option<String>,
}

fn list<'a>(me: &'a Customer, query: &'a str, per_page: i64) -> Search<'a> {
    Search {
        query: Some(query),
        order: Some("-updated"),
        page: 1,
        per_page,
        current_user: Some(&me.user.username),
        after: None,
        exact_total: false,
        customer: Some(&me.code),
    }
}

async fn index(
    State(st): State<AppState>,
    v: Visitor,
    CurrentUser(u): CurrentUser,
) -> Result<IndexPage> {
    let me = Customer::of(u)?;
    let now = st.clock.now();
    let open = find(&st.db, list(&me, "Status = '__Active__'", 100), now).await?;
    let closed = find(&st.db, list(&me, "Status = 'resolved'", 20), now).await?;
    Ok(IndexPage {
        page: Page::new(&st, &v, "My tickets").await,
        customer: me.code,
        open,
        closed,
    })
}

fn queue_names(st: &AppState) -> Vec<String> {
    st.config.queues.iter().map(|q| q.name.clone()).collect()
}

async fn new_form(
    State(st): State<AppState>,
    v: Visitor,
    CurrentUser(u): CurrentUser,
) -> Result<NewPage> {
    Customer::of(u)?;
    Ok(NewPage {
        queues: queue_names(&st),
        page: Page::new(&st, &v, "New ticket").await,
    })
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// Opens a ticket for the customer: they are its requestor, their customer its customer.
async fn create(
    State(st): State<AppState>,
    v: Visitor,
    CurrentUser(u): CurrentUser,
    req: Request,
) -> Result<Response> {
    let me = Customer::of(u)?;
    let (fields, uploads) = read_fields(&st, req).await?;
    let queue = match field(&fields, "queue") {
        "" => queue_names(&st).into_iter().next().unwrap_or_default(),
        q => q.to_owned(),
    };
    let priority = match field(&fields, "priority").trim() {
        "" => None,
        p => Some(
            p.parse()
                .map_err(|_| AppError::invalid("priority", "must be 1 to 4"))?,
        ),
    };
    let now = st.clock.now();
    let ctx = Ctx {
        config: &st.config,
        actor: &me.user.username,
        now,
    };
    let new = NewTicket {
        queue,
        subject: field(&fields, "subject").to_owned(),
        body: field(&fields, "body").to_owned(),
        body_format: "text",
        requestors: vec![me.user.email.clone()]
            .into_iter()
            .filter(|e| !e.is_empty())
            .collect(),
        priority,
        customer: TicketCustomer::named(Some(me.code.clone())),
        source: Source::Web,
        host: None,
        runbook: None,
    };
    let max = st.config.web.max_attachment_bytes;
    let mut tx = st.db.begin().await?;
    let made: std::result::Result<i64, TicketError> = async {
        let (t, txn) = crate::tickets::create(&mut tx, ctx, new).await?;
        crate::tickets::attachments::attach(&mut tx, t.id, txn, &uploads, max, now).await?;
        Ok(t.id)
    }
    .await;
    match made {
        Ok(id) => {
            tx.commit().await?;
            flash(
                &st,
                &v,
                FlashKind::Success,
                &format!("Ticket #{id} opened. We will answer you here and by mail."),
            )
            .await?;
            Ok(Redirect::to(&format!("/portal/tickets/{id}")).into_response())
        }
        Err(TicketError::Store(e)) => Err(e.into()),
        Err(e) => {
            drop(tx);
            flash(&st, &v, FlashKind::Error, &e.to_string()).await?;
            Ok(Redirect::to("/portal/tickets/new").into_response())
        }
    }
}

async fn show(
    State(st): State<AppState>,
    v: Visitor,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response> {
    let me = Customer::of(u)?;
    let (t, history) = own_ticket(&st, &me, id).await?;
    if t.id != id {
        return Ok(Redirect::permanent(&format!("/portal/tickets/{}", t.id)).into_response());
    }
    let mut tx = st.db.begin_read().await?;
    let files = crate::tickets::attachments::list(&mut tx, t.id).await?;
    tx.commit().await?;
    let now = st.clock.now();
    let t = t.as_of(now);
    Ok(ShowPage {
        badge: ticket_pages::badge(&t, now),
        // Files hang on entries: only those of public entries come through.
        timeline: ticket_pages::timeline(history, files),
        page: Page::new(&st, &v, format!("#{} {}", t.id, t.subject)).await,
        t,
    }
    .into_response())
}

/// The customer's answer: correspondence from the requestor (it reopens a resolved ticket).
async fn reply(
    State(st): State<AppState>,
    v: Visitor,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
    req: Request,
) -> Result<Response> {
    let me = Customer::of(u)?;
    let (t, _) = own_ticket(&st, &me, id).await?;
    let (fields, uploads) = read_fields(&st, req).await?;
    let now = st.clock.now();
    let ctx = Ctx {
        config: &st.config,
        actor: &me.user.username,
        now,
    };
    let r = Reply {
        kind: ReplyKind::Correspond,
        body: field(&fields, "body").to_owned(),
        body_format: "text",
        from_requestor: true,
        time_taken: 0,
    };
    let max = st.config.web.max_attachment_bytes;
    let mut tx = st.db.begin().await?;
    let done: std::result::Result<i64, TicketError> = async {
        let (tid, txn) = crate::tickets::reply(&mut tx, ctx, t.id, r).await?;
        crate::tickets::attachments::attach(&mut tx, tid, txn, &uploads, max, now).await?;
        Ok(tid)
    }
    .await;
    match done {
        Ok(_) => {
            tx.commit().await?;
            flash(&st, &v, FlashKind::Success, "Your reply was sent.").await?;
        }
        Err(TicketError::Store(e)) => return Err(e.into()),
        Err(e) => {
            drop(tx);
            flash(&st, &v, FlashKind::Error, &e.to_string()).await?;
        }
    }
    Ok(Redirect::to(&format!("/portal/tickets/{}", t.id)).into_response())
}

/// A file of one of the ticket's public entries; any other is a 404.
async fn download(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Path((id, aid)): Path<(i64, i64)>,
) -> Result<Response> {
    let me = Customer::of(u)?;
    let (t, history) = own_ticket(&st, &me, id).await?;
    let (_, a, data) = attachment(&st, t.id, aid).await?;
    if !history.iter().any(|e| e.id == a.transaction_id) {
        return Err(AppError::NotFound);
    }
    Ok(serve(&a, data))
}

#[derive(Debug, Deserialize)]
struct SearchQuery {
    q: Option<String>,
}

async fn search(
    State(st): State<AppState>,
    v: Visitor,
    CurrentUser(u): CurrentUser,
    Query(p): Query<SearchQuery>,
) -> Result<SearchPage> {
    let me = Customer::of(u)?;
    let q = p.q.unwrap_or_default();
    let (results, error) = if q.trim().is_empty() {
        (None, None)
    } else {
        match crate::search::search(&st.db, &q, 50, Some(&me.code), st.clock.now()).await {
            Ok(r) => (Some(r), None),
            Err(e @ (AppError::Invalid { .. } | AppError::BadQuery { .. })) => {
                (None, Some(e.to_string()))
            }
            Err(e) => return Err(e),
        }
    };
    Ok(SearchPage {
        page: Page::new(&st, &v, "Search").await,
        q,
        results,
        error,
    })
}

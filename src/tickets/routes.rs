//! Staff pages: the queue overview with a TQL list (bulk update, refreshing rows), and the
//! new-ticket form. The ticket page itself is `ticket_page.rs`.

use askama::Template;
use askama_web::WebTemplate;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::pages::{self, QueueCounts, Row};
use super::search::{Found, Search};
use super::{Ctx, NewTicket, Patch, Source};
use crate::auth::sessions::FlashKind;
use crate::error::{AppError, Result};
use crate::state::AppState;
use crate::web::extract::Staff;
use crate::web::page::Page;
use crate::web::visitor::Visitor;

/// RT's default views.
pub const VIEWS: &[(&str, &str)] = &[
    (
        "My tickets",
        "Owner = '__CurrentUser__' AND Status = '__Active__'",
    ),
    ("Unowned", "Owner = 'Nobody' AND Status = '__Active__'"),
    ("New", "Status = 'new'"),
    ("All active", "Status = '__Active__'"),
];

#[derive(Template, WebTemplate)]
#[template(path = "tickets/index.html")]
struct IndexPage {
    page: Page,
    overview: Vec<QueueCounts>,
    q: String,
    order: String,
    list: ListPartial,
    error: Option<String>,
    views: &'static [(&'static str, &'static str)],
    staff: Vec<String>,
    queues: Vec<String>,
    saved: Vec<super::saved::SavedSearch>,
}

#[derive(Template, WebTemplate)]
#[template(path = "tickets/rows.html")]
struct ListPartial {
    rows: Vec<Row>,
    total: i64,
    /// False when the count stopped at the cap: "1000+", with a link to count all.
    total_exact: bool,
    page_no: i64,
    pages: i64,
    q_enc: String,
    order: String,
    /// The cursor of the next page (keyset), when the order allows it.
    next: Option<String>,
    /// Whether this page was reached by cursor (page numbers no longer apply).
    by_cursor: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "tickets/new.html")]
struct NewPage {
    page: Page,
    queues: Vec<String>,
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/tickets", get(index))
        .route("/tickets/rows", get(rows_partial))
        .route("/tickets/bulk", post(bulk))
        .route("/tickets/new", get(new_form).post(create))
        .route("/tickets/searches", post(save_search))
        .route("/tickets/searches/{id}/delete", post(delete_search))
        .merge(super::ticket_page::routes())
}

#[derive(Debug, Deserialize)]
pub struct ListParams {
    q: Option<String>,
    order: Option<String>,
    page: Option<i64>,
    after: Option<String>,
    /// Count every match (the "count all" link when the list shows "1000+").
    exact: Option<bool>,
}

pub fn queue_names(st: &AppState) -> Vec<String> {
    if st.config.queues.is_empty() {
        vec!["General".into()]
    } else {
        st.config.queues.iter().map(|q| q.name.clone()).collect()
    }
}

pub async fn staff_names(st: &AppState) -> Result<Vec<String>> {
    Ok(crate::auth::list_users(&st.db)
        .await?
        .into_iter()
        .filter(|u| u.role.is_staff() && !u.disabled)
        .map(|u| u.username)
        .collect())
}

async fn list(st: &AppState, me: &str, p: &ListParams) -> Result<(ListPartial, Option<String>)> {
    let q = p.q.clone().unwrap_or_else(|| VIEWS[3].1.to_owned());
    let order = p.order.clone().unwrap_or_else(|| "-updated".into());
    let page_no = p.page.unwrap_or(1).max(1);
    let s = Search {
        query: Some(&q),
        order: Some(&order),
        page: page_no,
        per_page: 50,
        current_user: Some(me),
        after: p.after.as_deref(),
        exact_total: p.exact.unwrap_or(false),
        customer: None,
    };
    let (found, error) = match super::search::find(&st.db, s, st.clock.now()).await {
        Ok(f) => (f, None),
        Err(AppError::BadQuery {
            position,
            expected,
            found,
        }) => {
            let empty = Found {
                total: 0,
                total_exact: true,
                page: 1,
                per_page: 50,
                items: Vec::new(),
                next: None,
            };
            (
                empty,
                Some(format!(
                    "At position {position}: expected {expected}, found {found}."
                )),
            )
        }
        Err(e) => return Err(e),
    };
    let partial = ListPartial {
        rows: pages::rows(&found, st.clock.now()),
        total: found.total,
        total_exact: found.total_exact,
        page_no,
        // Unknown past the cap: the pager then offers "Next" while pages come back full.
        pages: if found.total_exact {
            (found.total + 49) / 50
        } else {
            page_no + i64::from(found.items.len() == 50)
        },
        q_enc: url::form_urlencoded::byte_serialize(q.as_bytes()).collect(),
        order,
        next: found.next.clone(),
        by_cursor: p.after.is_some(),
    };
    Ok((partial, error))
}

async fn index(
    State(st): State<AppState>,
    v: Visitor,
    Staff(me): Staff,
    Query(p): Query<ListParams>,
) -> Result<IndexPage> {
    let (list, error) = list(&st, &me.username, &p).await?;
    Ok(IndexPage {
        overview: pages::overview(&st.db, &st.config).await?,
        q: p.q.unwrap_or_else(|| VIEWS[3].1.to_owned()),
        order: list.order.clone(),
        list,
        error,
        views: VIEWS,
        staff: staff_names(&st).await?,
        queues: queue_names(&st),
        saved: super::saved::list(&st.db, me.id).await?,
        page: Page::new(&st, &v, "Tickets").await,
    })
}

/// The rows alone, for htmx refreshes of an open list.
async fn rows_partial(
    State(st): State<AppState>,
    Staff(me): Staff,
    Query(p): Query<ListParams>,
) -> Result<ListPartial> {
    Ok(list(&st, &me.username, &p).await?.0)
}

pub use crate::web::page::flash;

/// Applies the same change to every selected ticket; each is its own transaction so one
/// refusal (a dependency still open) does not undo the others.
async fn bulk(
    State(st): State<AppState>,
    v: Visitor,
    Staff(me): Staff,
    body: Bytes,
) -> Result<Response> {
    let mut ids = Vec::new();
    let mut patch = Patch::default();
    let mut back = String::from("/tickets");
    for (k, val) in url::form_urlencoded::parse(&body) {
        let val = val.trim().to_owned();
        match k.as_ref() {
            "ids" => ids.push(
                val.parse::<i64>()
                    .map_err(|_| AppError::invalid("ids", "must be ticket numbers"))?,
            ),
            "status" if !val.is_empty() => patch.status = Some(val),
            "owner" if !val.is_empty() => patch.owner = Some(Some(val)),
            "priority" if !val.is_empty() => {
                patch.priority = Some(
                    val.parse()
                        .map_err(|_| AppError::invalid("priority", "must be 1 to 4"))?,
                )
            }
            "queue" if !val.is_empty() => patch.queue = Some(val),
            "back" if val.starts_with("/tickets") => back = val,
            _ => {}
        }
    }
    if ids.is_empty() {
        flash(&st, &v, FlashKind::Error, "Select at least one ticket.").await?;
        return Ok(Redirect::to(&back).into_response());
    }
    let (mut done, mut refused) = (0, Vec::new());
    for id in &ids {
        let ctx = Ctx {
            config: &st.config,
            actor: &me.username,
            now: st.clock.now(),
        };
        let mut tx = st.db.begin().await?;
        match super::update(&mut tx, ctx, *id, patch.clone()).await {
            Ok(_) => {
                tx.commit().await?;
                done += 1;
            }
            Err(super::TicketError::Store(e)) => return Err(e.into()),
            Err(e) => refused.push(format!("#{id}: {e}")),
        }
    }
    let msg = if refused.is_empty() {
        format!("Updated {done} ticket(s).")
    } else {
        format!("Updated {done} ticket(s); refused {}", refused.join("; "))
    };
    let kind = if refused.is_empty() {
        FlashKind::Success
    } else {
        FlashKind::Error
    };
    flash(&st, &v, kind, &msg).await?;
    Ok(Redirect::to(&back).into_response())
}

async fn new_form(State(st): State<AppState>, v: Visitor, Staff(_): Staff) -> NewPage {
    NewPage {
        queues: queue_names(&st),
        page: Page::new(&st, &v, "New ticket").await,
    }
}

#[derive(Debug, Deserialize)]
struct NewForm {
    queue: String,
    subject: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    requestors: String,
    priority: Option<i64>,
    #[serde(default)]
    customer: String,
    #[serde(default)]
    markdown: Option<String>,
}

async fn create(
    State(st): State<AppState>,
    v: Visitor,
    Staff(me): Staff,
    Form(f): Form<NewForm>,
) -> Result<Response> {
    let ctx = Ctx {
        config: &st.config,
        actor: &me.username,
        now: st.clock.now(),
    };
    let new = NewTicket {
        queue: f.queue,
        subject: f.subject,
        body: f.body,
        body_format: if f.markdown.is_some() {
            "markdown"
        } else {
            "text"
        },
        requestors: f
            .requestors
            .split([',', ' ', '\n'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        priority: f.priority,
        customer: super::TicketCustomer::named(Some(f.customer)),
        source: Source::Web,
        host: None,
        runbook: None,
    };
    let mut tx = st.db.begin().await?;
    match super::create(&mut tx, ctx, new).await {
        Ok((super::Ticket { id, .. }, _)) => {
            tx.commit().await?;
            flash(
                &st,
                &v,
                FlashKind::Success,
                &format!("Ticket #{id} created."),
            )
            .await?;
            Ok(Redirect::to(&format!("/tickets/{id}")).into_response())
        }
        Err(super::TicketError::Store(e)) => Err(e.into()),
        Err(e) => {
            flash(&st, &v, FlashKind::Error, &e.to_string()).await?;
            Ok(Redirect::to("/tickets/new").into_response())
        }
    }
}

#[derive(Debug, Deserialize)]
struct SaveForm {
    name: String,
    q: String,
    order: Option<String>,
}

async fn save_search(
    State(st): State<AppState>,
    v: Visitor,
    Staff(me): Staff,
    Form(f): Form<SaveForm>,
) -> Result<Response> {
    let order = f.order.unwrap_or_else(|| "-updated".into());
    let back = format!(
        "/tickets?q={}&order={}",
        url::form_urlencoded::byte_serialize(f.q.as_bytes()).collect::<String>(),
        url::form_urlencoded::byte_serialize(order.as_bytes()).collect::<String>()
    );
    match super::saved::save(&st.db, me.id, &f.name, &f.q, &order, st.clock.now()).await {
        Ok(()) => {
            flash(
                &st,
                &v,
                FlashKind::Success,
                &format!("Saved the search \"{}\".", f.name.trim()),
            )
            .await?
        }
        Err(e @ (AppError::Invalid { .. } | AppError::BadQuery { .. })) => {
            flash(&st, &v, FlashKind::Error, &format!("Not saved: {e}")).await?
        }
        Err(e) => return Err(e),
    }
    Ok(Redirect::to(&back).into_response())
}

async fn delete_search(
    State(st): State<AppState>,
    v: Visitor,
    Staff(me): Staff,
    axum::extract::Path(id): axum::extract::Path<i64>,
) -> Result<Response> {
    if !super::saved::delete(&st.db, me.id, id).await? {
        return Err(AppError::NotFound);
    }
    flash(&st, &v, FlashKind::Info, "Search deleted.").await?;
    Ok(Redirect::to("/tickets").into_response())
}

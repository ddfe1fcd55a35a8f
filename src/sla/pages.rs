//! `/sla`: the staff page for the clocks — how many tickets are breaching soon or breached
//! (each a link to the ticket list under that TQL), and the report for a period with its CSV.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;

use super::report::ReportLine;
use crate::error::Result;
use crate::state::AppState;
use crate::tickets::search::{Search, find};
use crate::web::extract::Staff;
use crate::web::page::Page;
use crate::web::visitor::Visitor;

/// The views the page counts: a title, and the TQL the ticket list runs for it.
const VIEWS: [(&str, &str); 2] = [
    (
        "Breaching soon",
        "SLA = 'warning' AND Status = '__Active__'",
    ),
    (
        "Breached, still open",
        "SLA = 'breached' AND Status = '__Active__'",
    ),
];

pub fn routes() -> Router<AppState> {
    Router::new().route("/sla", get(index))
}

pub struct View {
    pub title: &'static str,
    pub query: &'static str,
    pub query_enc: String,
    pub count: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "sla/index.html")]
struct IndexPage {
    page: Page,
    views: Vec<View>,
    from: String,
    to: String,
    lines: Vec<ReportLine>,
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Period {
    from: Option<String>,
    to: Option<String>,
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn index(
    State(st): State<AppState>,
    v: Visitor,
    Staff(me): Staff,
    Query(p): Query<Period>,
) -> Result<Response> {
    let now = st.clock.now();
    let mut views = Vec::new();
    for (title, query) in VIEWS {
        let found = find(
            &st.db,
            Search {
                query: Some(query),
                order: Some("due"),
                page: 1,
                per_page: 1,
                current_user: Some(&me.username),
                after: None,
                exact_total: false,
                customer: None,
            },
            now,
        )
        .await?;
        let count = if found.total_exact {
            found.total.to_string()
        } else {
            format!("{}+", found.total)
        };
        views.push(View {
            title,
            query,
            query_enc: enc(query),
            count,
        });
    }
    // Default period: the last 30 days up to now.
    let default_from = now
        .checked_sub(SignedDuration::from_hours(24 * 30))
        .unwrap_or(now);
    let from = p
        .from
        .unwrap_or_else(|| default_from.strftime("%Y-%m-%d").to_string());
    let to = p.to.unwrap_or_else(|| {
        (now + SignedDuration::from_hours(24))
            .strftime("%Y-%m-%d")
            .to_string()
    });
    let (lines, error) = match period(&from, &to) {
        Ok((f, t)) => (super::api::lines(&st, f, t).await?, None),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    Ok(IndexPage {
        page: Page::new(&st, &v, String::from("SLA")).await,
        views,
        from,
        to,
        lines,
        error,
    }
    .into_response())
}

fn period(from: &str, to: &str) -> Result<(Timestamp, Timestamp)> {
    let (f, t) = (
        super::api::instant("from", from)?,
        super::api::instant("to", to)?,
    );
    if t <= f {
        return Err(crate::error::AppError::invalid("to", "must be after from"));
    }
    Ok((f, t))
}

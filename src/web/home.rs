//! The home page after sign-in, and the admin overview.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use super::extract::{Admin, CurrentUser};
use super::page::Page;
use super::visitor::Visitor;
use crate::error::Result;
use crate::jobs::QueueDepth;
use crate::state::AppState;

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
struct HomePage {
    page: Page,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/index.html")]
struct AdminPage {
    page: Page,
    depth: QueueDepth,
    users: i64,
    backend: &'static str,
    version: &'static str,
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/admin", get(admin))
}

/// Staff land on their home page; customers live in the portal.
async fn home(State(st): State<AppState>, v: Visitor, CurrentUser(u): CurrentUser) -> Response {
    if !u.role.is_staff() {
        return Redirect::to("/portal").into_response();
    }
    HomePage {
        page: Page::new(&st, &v, "Home").await,
    }
    .into_response()
}

async fn admin(State(st): State<AppState>, v: Visitor, Admin(_): Admin) -> Result<AdminPage> {
    Ok(AdminPage {
        depth: crate::jobs::depth(&st.db).await?,
        users: crate::auth::count_users(&st.db).await?,
        backend: st.db.backend().as_str(),
        version: env!("CARGO_PKG_VERSION"),
        page: Page::new(&st, &v, "Administration").await,
    })
}

//! Sign-in and sign-out pages, and the admin's list of users.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::sessions::{self, Origin};
use super::{LoginError, User, throttle};
use crate::error::{AppError, Result};
use crate::state::AppState;
use crate::web::extract::Admin;
use crate::web::page::Page;
use crate::web::visitor::Visitor;

#[derive(Template, WebTemplate)]
#[template(path = "auth/login.html")]
struct LoginPage {
    page: Page,
    next: String,
    username: String,
    error: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/users.html")]
struct UsersPage {
    page: Page,
    users: Vec<User>,
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/admin/users", get(users))
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

/// Only local paths may follow a sign-in, so the form cannot bounce users to another site.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.contains("://") =>
        {
            n.to_owned()
        }
        _ => "/".to_owned(),
    }
}

fn origin(v: &Visitor) -> Origin {
    Origin {
        client_ip: Some(v.client_ip.to_string()),
        user_agent: v.user_agent.clone(),
    }
}

fn with_cookie(mut resp: Response, cookie: &str) -> Response {
    if !cookie.is_empty()
        && let Ok(v) = HeaderValue::from_str(cookie)
    {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

async fn login_form(
    State(st): State<AppState>,
    mut v: Visitor,
    Query(q): Query<NextQuery>,
) -> Result<Response> {
    let next = safe_next(q.next.as_deref());
    if v.user.is_some() {
        return Ok(Redirect::to(&next).into_response());
    }
    let mut cookie = None;
    if v.session.is_none() {
        let (value, session) =
            sessions::start(&st.db, &st.config.auth, None, &origin(&v), st.clock.now()).await?;
        cookie = Some(sessions::cookie_header(
            st.config.secure_cookies(),
            &value,
            3600,
        ));
        v.session = Some(session);
    }
    let page = LoginPage {
        page: Page::new(&st, &v, "Sign in").await,
        next,
        username: String::new(),
        error: None,
    };
    let resp = page.into_response();
    Ok(with_cookie(resp, cookie.as_deref().unwrap_or_default()))
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
}

async fn login(
    State(st): State<AppState>,
    v: Visitor,
    Form(f): Form<LoginForm>,
) -> Result<Response> {
    let now = st.clock.now();
    let next = safe_next(f.next.as_deref());
    let username = f.username.trim().to_owned();
    let ip = v.client_ip.to_string();
    let cfg = &st.config.auth;

    let result = match throttle::check(&st.db, cfg, &username, &ip, now).await {
        Ok(()) => {
            super::authenticate(&st.db, cfg, &st.directories, &username, &f.password, now).await
        }
        Err(e) => Err(e),
    };
    let user = match result {
        Ok(u) => u,
        Err(LoginError::Store(e)) => return Err(e.into()),
        Err(LoginError::Hash(e)) => return Err(AppError::Internal(e.into())),
        Err(LoginError::Throttled { retry_after_secs }) => {
            tracing::warn!(username = %username, client_ip = %ip, "sign-in throttled");
            let minutes = retry_after_secs.div_ceil(60);
            let page = LoginPage {
                page: Page::new(&st, &v, "Sign in").await,
                next,
                username,
                error: Some(format!(
                    "Too many failed sign-ins. Try again in {minutes} minute(s)."
                )),
            };
            let mut resp = (StatusCode::TOO_MANY_REQUESTS, page).into_response();
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            return Ok(resp);
        }
        Err(LoginError::Unavailable(why)) => {
            tracing::warn!(username = %username, client_ip = %ip, %why, "sign-in service unavailable");
            let page = LoginPage {
                page: Page::new(&st, &v, "Sign in").await,
                next,
                username,
                error: Some(
                    "The sign-in service is unavailable right now. Try again in a few minutes."
                        .into(),
                ),
            };
            return Ok((StatusCode::SERVICE_UNAVAILABLE, page).into_response());
        }
        Err(LoginError::BadCredentials) => {
            throttle::record_failure(&st.db, &username, &ip, now).await?;
            tracing::info!(username = %username, client_ip = %ip, "sign-in failed");
            let page = LoginPage {
                page: Page::new(&st, &v, "Sign in").await,
                next,
                username,
                error: Some("Wrong username or password.".into()),
            };
            return Ok((StatusCode::UNAUTHORIZED, page).into_response());
        }
    };

    // A new session id at every sign-in: a session planted before login is worth nothing.
    if let Some(old) = &v.session {
        sessions::end(&st.db, &old.id_hash).await?;
    }
    throttle::clear(&st.db, &user.username).await?;
    super::touch_login(&st.db, user.id, now).await?;
    let (value, _) = sessions::start(&st.db, cfg, Some(user.id), &origin(&v), now).await?;
    let max_age = i64::try_from(cfg.session_lifetime.as_secs()).unwrap_or(i64::MAX);
    tracing::info!(username = %user.username, client_ip = %ip, "signed in");
    let cookie = sessions::cookie_header(st.config.secure_cookies(), &value, max_age);
    Ok(with_cookie(Redirect::to(&next).into_response(), &cookie))
}

async fn logout(State(st): State<AppState>, v: Visitor) -> Result<Response> {
    if let Some(s) = &v.session {
        sessions::end(&st.db, &s.id_hash).await?;
    }
    let cookie = sessions::cookie_header(st.config.secure_cookies(), "", 0);
    Ok(with_cookie(Redirect::to("/login").into_response(), &cookie))
}

async fn users(State(st): State<AppState>, v: Visitor, Admin(_): Admin) -> Result<UsersPage> {
    Ok(UsersPage {
        users: super::list_users(&st.db).await?,
        page: Page::new(&st, &v, "Users").await,
    })
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_follow_a_sign_in() {
        assert_eq!(safe_next(Some("/tickets?q=1")), "/tickets?q=1");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }
}

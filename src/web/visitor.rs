//! Who is asking: the client address, the browser session and its user, or the API token.
//! Loaded once per request here, so extractors and the CSRF guard read it from the extensions.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::auth::User;
use crate::auth::sessions::{self, Session};
use crate::auth::tokens::{self, ApiToken};
use crate::error::AppError;
use crate::state::AppState;

#[derive(Debug, Clone)]
pub struct Visitor {
    pub client_ip: IpAddr,
    pub user_agent: Option<String>,
    pub session: Option<Session>,
    pub user: Option<User>,
    pub token: Option<ApiToken>,
    /// The bearer was the token of this `[[alert_source]]` (configured, not issued).
    pub alert_source: Option<String>,
}

pub async fn load(State(st): State<AppState>, mut req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]));
    let client_ip = client_ip(peer, req.headers(), &st.config.web.trusted_proxies);
    match visitor(&st, req.headers(), client_ip).await {
        Ok(v) => {
            req.extensions_mut().insert(v);
            next.run(req).await
        }
        Err(e) => e.into_response(),
    }
}

async fn visitor(
    st: &AppState,
    headers: &HeaderMap,
    client_ip: IpAddr,
) -> Result<Visitor, AppError> {
    let now = st.clock.now();
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut v = Visitor {
        client_ip,
        user_agent,
        session: None,
        user: None,
        token: None,
        alert_source: None,
    };

    if let Some(auth) = headers.get(header::AUTHORIZATION) {
        let presented = auth
            .to_str()
            .ok()
            .and_then(|s| {
                s.strip_prefix("Bearer ")
                    .or_else(|| s.strip_prefix("bearer "))
            })
            .map(str::trim)
            .ok_or(AppError::Unauthorized)?;
        // A monitoring source's own token (from the config) needs no database round trip.
        if let Some(source) = crate::alerts::source_of_token(&st.config, presented) {
            v.alert_source = Some(source);
            return Ok(v);
        }
        // A wrong token is refused outright rather than silently treated as anonymous.
        let token = tokens::verify(&st.db, presented, now)
            .await?
            .ok_or(AppError::Unauthorized)?;
        if let Some(uid) = token.user_id {
            v.user = crate::auth::user_by_id(&st.db, uid)
                .await?
                .filter(|u| !u.disabled);
        }
        v.token = Some(token);
        return Ok(v);
    }

    let name = sessions::cookie_name(st.config.secure_cookies());
    if let Some(cookie) = cookie_value(headers, name)
        && let Some(session) = sessions::resolve(&st.db, &st.config.auth, cookie, now).await?
    {
        if let Some(uid) = session.user_id {
            match crate::auth::user_by_id(&st.db, uid).await? {
                Some(u) if !u.disabled => v.user = Some(u),
                // A disabled or deleted user's session ends at its next request.
                _ => {
                    sessions::end(&st.db, &session.id_hash).await?;
                    return Ok(v);
                }
            }
        }
        v.session = Some(session);
    }
    Ok(v)
}

/// The value of cookie `name` in the request's Cookie headers.
pub fn cookie_value<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The client's address: the peer's, unless the peer is a trusted proxy, in which case the
/// right-most `X-Forwarded-For` entry that is not itself a trusted proxy.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse::<IpAddr>().ok())
        .rev()
        .find(|ip| !trusted.contains(ip))
        .unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            HeaderValue::from_static("203.0.113.9, 10.0.0.2"),
        );
        let lb: IpAddr = "10.0.0.2".parse().unwrap();
        let stranger: IpAddr = "198.51.100.1".parse().unwrap();
        assert_eq!(client_ip(stranger, &h, &[lb]), stranger);
        assert_eq!(
            client_ip(lb, &h, &[lb]),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn cookies_are_found_by_exact_name() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; opsdesk_session=xyz; b=2"),
        );
        assert_eq!(cookie_value(&h, "opsdesk_session"), Some("xyz"));
        assert_eq!(cookie_value(&h, "opsdesk"), None);
    }
}

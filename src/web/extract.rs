//! Auth as extractors (DESIGN.md §7): a handler states who may call it in its signature.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::visitor::Visitor;
use crate::auth::tokens::{ApiToken, Scope};
use crate::auth::{Role, User};
use crate::error::AppError;

impl<S: Send + Sync> FromRequestParts<S> for Visitor {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        parts
            .extensions
            .get::<Visitor>()
            .cloned()
            .ok_or_else(|| AppError::Internal("visitor layer missing on this route".into()))
    }
}

/// Any signed-in person (browser session, or a token that acts for a user).
pub struct CurrentUser(pub User);

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, s: &S) -> Result<Self, AppError> {
        let v = Visitor::from_request_parts(parts, s).await?;
        v.user.map(CurrentUser).ok_or(AppError::Unauthorized)
    }
}

/// An admin or agent: the people who work tickets.
pub struct Staff(pub User);

impl<S: Send + Sync> FromRequestParts<S> for Staff {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, s: &S) -> Result<Self, AppError> {
        let CurrentUser(u) = CurrentUser::from_request_parts(parts, s).await?;
        if u.role.is_staff() {
            Ok(Staff(u))
        } else {
            Err(AppError::Forbidden(
                "this page is for staff; customers use the portal".into(),
            ))
        }
    }
}

/// An administrator.
pub struct Admin(pub User);

impl<S: Send + Sync> FromRequestParts<S> for Admin {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, s: &S) -> Result<Self, AppError> {
        let CurrentUser(u) = CurrentUser::from_request_parts(parts, s).await?;
        if u.role == Role::Admin {
            Ok(Admin(u))
        } else {
            Err(AppError::Forbidden(
                "this page is for administrators".into(),
            ))
        }
    }
}

/// Who calls the JSON API: a browser session's user, or a token of scope `api`.
#[derive(Debug, Clone)]
pub enum ApiCaller {
    User(User),
    Token(ApiToken),
}

impl ApiCaller {
    /// The name recorded as the actor of changes.
    pub fn actor(&self) -> &str {
        match self {
            ApiCaller::User(u) => &u.username,
            ApiCaller::Token(t) => &t.name,
        }
    }

    /// Refuses a signed-in customer (`why` says where they go instead); tokens and staff pass.
    pub fn staff_only(&self, why: &str) -> Result<(), AppError> {
        match self {
            ApiCaller::User(u) if !u.role.is_staff() => Err(AppError::Forbidden(why.to_owned())),
            _ => Ok(()),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ApiCaller {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, s: &S) -> Result<Self, AppError> {
        let v = Visitor::from_request_parts(parts, s).await?;
        match (v.token, v.user) {
            (Some(t), _) if t.scope != Scope::Api => Err(AppError::Forbidden(format!(
                "a token of scope {} cannot use this endpoint (it needs scope api)",
                t.scope.as_str()
            ))),
            // A token issued for a user acts as that user.
            (Some(t), Some(u)) if t.user_id.is_some() => Ok(ApiCaller::User(u)),
            (Some(t), _) => Ok(ApiCaller::Token(t)),
            (None, Some(u)) => Ok(ApiCaller::User(u)),
            (None, None) => Err(AppError::Unauthorized),
        }
    }
}

/// A caller holding a token of one exact scope (alerts, mail), for machine endpoints.
pub struct ScopedToken<const SCOPE: u8>(pub ApiToken);

pub const SCOPE_ALERTS: u8 = 1;
pub const SCOPE_MAIL: u8 = 2;

impl<S: Send + Sync, const SCOPE: u8> FromRequestParts<S> for ScopedToken<SCOPE> {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, s: &S) -> Result<Self, AppError> {
        let v = Visitor::from_request_parts(parts, s).await?;
        let want = match SCOPE {
            SCOPE_ALERTS => Scope::Alerts,
            _ => Scope::Mail,
        };
        match v.token {
            Some(t) if t.scope == want => Ok(ScopedToken(t)),
            Some(t) => Err(AppError::Forbidden(format!(
                "this endpoint needs a token of scope {}, not {}",
                want.as_str(),
                t.scope.as_str()
            ))),
            None => Err(AppError::Unauthorized),
        }
    }
}

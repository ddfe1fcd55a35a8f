//! API tokens: 256-bit random values shown once and stored as SHA-256 hashes. Checking one is a
//! hash and an indexed lookup, never argon2 per request (DESIGN.md §7).

use jiff::{SignedDuration, Timestamp};
use subtle::ConstantTimeEq;

use super::sessions::{hash_token, random_token};
use super::store;
use crate::db::{Db, StoreError, Tx};

/// What a token may do: `api` is the JSON API, `alerts` posts alerts, `mail` posts inbound mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Api,
    Alerts,
    Mail,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Api => "api",
            Scope::Alerts => "alerts",
            Scope::Mail => "mail",
        }
    }
}

impl std::str::FromStr for Scope {
    type Err = String;
    fn from_str(s: &str) -> Result<Scope, String> {
        match s {
            "api" => Ok(Scope::Api),
            "alerts" => Ok(Scope::Alerts),
            "mail" => Ok(Scope::Mail),
            other => Err(format!("\"{other}\" is not api, alerts or mail")),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    pub scope: Scope,
    pub user_id: Option<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("a token named {0} already exists")]
    Exists(String),
    #[error("a token name must be 1 to 64 characters without spaces")]
    BadName,
    #[error(transparent)]
    Store(#[from] StoreError),
}

const PREFIX: &str = "odt_";
const TOUCH_EVERY: SignedDuration = SignedDuration::from_secs(60);

/// Creates a token; answers the token itself, which is never stored and cannot be shown again.
pub async fn create(
    tx: &mut Tx,
    name: &str,
    scope: Scope,
    user_id: Option<i64>,
    now: Timestamp,
) -> Result<String, TokenError> {
    if name.is_empty() || name.len() > 64 || name.contains(char::is_whitespace) {
        return Err(TokenError::BadName);
    }
    let token = format!("{PREFIX}{}", random_token());
    match store::tokens::insert(tx, name, scope.as_str(), &hash_token(&token), user_id, now).await {
        Err(e) if e.is_conflict_on("api_tokens_name_key") => {
            Err(TokenError::Exists(name.to_owned()))
        }
        Err(e) => Err(e.into()),
        Ok(_) => Ok(token),
    }
}

pub async fn revoke(tx: &mut Tx, name: &str, now: Timestamp) -> Result<bool, StoreError> {
    store::tokens::revoke(tx, name, now).await
}

/// The live token a presented value stands for, if any.
pub async fn verify(
    db: &Db,
    presented: &str,
    now: Timestamp,
) -> Result<Option<ApiToken>, StoreError> {
    if !presented.starts_with(PREFIX) || presented.len() > 128 {
        return Ok(None);
    }
    let hash = hash_token(presented);
    let Some(row) = store::tokens::by_hash(db, &hash).await? else {
        return Ok(None);
    };
    if !bool::from(row.token_hash.as_bytes().ct_eq(hash.as_bytes())) {
        return Ok(None);
    }
    let Ok(scope) = row.scope.parse() else {
        return Ok(None);
    };
    if row
        .last_used_at
        .is_none_or(|t| now.duration_since(t.0) >= TOUCH_EVERY)
    {
        store::tokens::touch(db, row.id, now).await?;
    }
    Ok(Some(ApiToken {
        id: row.id,
        name: row.name,
        scope,
        user_id: row.user_id,
    }))
}

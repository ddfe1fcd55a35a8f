//! Saved searches: each staff member keeps named TQL queries beside RT's default views.

use jiff::Timestamp;

use super::store::saved;
use crate::db::Db;
use crate::error::AppError;

#[derive(Debug, Clone)]
pub struct SavedSearch {
    pub id: i64,
    pub name: String,
    pub query: String,
    pub order: String,
}

impl SavedSearch {
    pub fn href(&self) -> String {
        let q: String = url::form_urlencoded::byte_serialize(self.query.as_bytes()).collect();
        let o: String = url::form_urlencoded::byte_serialize(self.order.as_bytes()).collect();
        format!("/tickets?q={q}&order={o}")
    }
}

/// Saves a query under a name after checking that it and its order parse.
pub async fn save(
    db: &Db,
    user_id: i64,
    name: &str,
    query: &str,
    order: &str,
    now: Timestamp,
) -> Result<(), AppError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 80 {
        return Err(AppError::invalid("name", "must be 1 to 80 characters"));
    }
    crate::tql::parse(query)?;
    crate::tql::parse_order(order)?;
    Ok(saved::upsert(db, user_id, name, query.trim(), order.trim(), now).await?)
}

pub async fn list(db: &Db, user_id: i64) -> Result<Vec<SavedSearch>, AppError> {
    Ok(saved::list(db, user_id)
        .await?
        .into_iter()
        .map(|r| SavedSearch {
            id: r.id,
            name: r.name,
            query: r.query,
            order: r.sort,
        })
        .collect())
}

pub async fn delete(db: &Db, user_id: i64, id: i64) -> Result<bool, AppError> {
    Ok(saved::delete(db, user_id, id).await?)
}

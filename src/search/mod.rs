//! Full text across the product (CONTRACT §3 `/api/v1/search`): ticket subjects and message
//! bodies today, wiki pages when the wiki arrives. The ticket part runs through TQL
//! (`Subject LIKE … OR Content LIKE …`), so it uses the same trigram indexes. On SQLite those
//! are filled behind the writes by `index` (migration 0011).

pub mod api;
pub mod index;
mod store;

use jiff::Timestamp;
use serde::Serialize;

use crate::db::Db;
use crate::error::AppError;
use crate::tickets::search::{Search, find};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Hit {
    pub kind: &'static str,
    pub id: i64,
    pub title: String,
    pub status: String,
    pub queue: String,
    pub updated_at: Timestamp,
    pub url: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Results {
    /// Tickets matched, or at least this many when `total_exact` is false.
    pub total: i64,
    pub total_exact: bool,
    pub items: Vec<Hit>,
}

/// The TQL for "this text anywhere in the ticket", with the text as a quoted literal.
pub fn ticket_query(text: &str) -> String {
    let quoted = text.replace('\'', "''");
    format!("Subject LIKE '{quoted}' OR Content LIKE '{quoted}'")
}

/// Searches; `customer` fences the search in to that customer's tickets (the portal's and a
/// signed-in customer's searches), whose links then point into the portal.
pub async fn search(
    db: &Db,
    text: &str,
    limit: i64,
    customer: Option<&str>,
    now: Timestamp,
) -> Result<Results, AppError> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > 200 {
        return Err(AppError::invalid("q", "must be 1 to 200 characters"));
    }
    let q = ticket_query(text);
    let s = Search {
        query: Some(&q),
        order: Some("-updated"),
        page: 1,
        per_page: limit,
        current_user: None,
        after: None,
        exact_total: false,
        customer,
    };
    let found = find(db, s, now).await?;
    Ok(Results {
        total: found.total,
        total_exact: found.total_exact,
        items: found
            .items
            .into_iter()
            .map(|t| Hit {
                kind: "ticket",
                url: match customer {
                    Some(_) => format!("/portal/tickets/{}", t.id),
                    None => format!("/tickets/{}", t.id),
                },
                id: t.id,
                title: t.subject,
                status: t.status.as_str().to_owned(),
                queue: t.queue,
                updated_at: t.updated_at,
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::ticket_query;

    #[test]
    fn the_search_text_stays_one_literal() {
        let q = ticket_query("it's 100% down");
        let parsed = crate::tql::parse(&q).unwrap();
        assert_eq!(
            parsed.to_string().matches("it''s 100% down").count(),
            2,
            "{parsed}"
        );
    }
}

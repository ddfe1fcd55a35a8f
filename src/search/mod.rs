//! Full text across the product (CONTRACT §3 `/api/v1/search`): ticket subjects and message
//! bodies, and wiki pages (title and text). The ticket part runs through TQL
//! (`Subject LIKE … OR Content LIKE …`), so it uses the same trigram indexes. On SQLite those
//! are filled behind the writes by `index` (migration 0011), and so is PostgreSQL's pair index
//! of two-character texts (migration 0021, `pairs`).

pub mod api;
pub mod index;
mod pairs;
mod store;

pub(crate) use pairs::{BODIES_WAITING, PAGES_WAITING, SUBJECTS_WAITING};
pub(crate) use store::{BODIES_MARK, CHANGED_WAITING, SUBJECTS_MARK};

use jiff::Timestamp;
use serde::Serialize;

use crate::db::Db;
use crate::error::AppError;
use crate::tickets::search::{Search, find};

/// A ticket or a wiki page that holds the text.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Hit {
    /// `ticket` or `wiki`.
    pub kind: &'static str,
    /// The ticket's id (tickets only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    /// The page's path (wiki pages only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    pub updated_at: Timestamp,
    pub url: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Results {
    /// Tickets matched, or at least this many when `total_exact` is false.
    pub total: i64,
    pub total_exact: bool,
    /// The tickets found (newest change first).
    pub items: Vec<Hit>,
    /// The wiki pages found (newest change first); customers find public pages only.
    pub wiki: Vec<Hit>,
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
    // FTS5 cuts a MATCH phrase at a NUL (a 500 schemathesis found); PostgreSQL refuses it.
    if text.contains('\0') {
        return Err(AppError::invalid("q", "must not contain NUL (U+0000)"));
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
    // Two independent reads, each on a connection of its own: side by side, the answer takes
    // as long as the slower one instead of both (a rare word spends a walk's budget in each).
    let (found, pages) = tokio::join!(
        find(db, s, now),
        crate::wiki::search(db, text, customer.is_some(), limit)
    );
    let (found, pages) = (found?, pages?);
    let wiki = pages
        .into_iter()
        .map(|p| Hit {
            kind: "wiki",
            id: None,
            url: match customer {
                Some(_) => format!("/portal/kb/{}", p.path),
                None => format!("/wiki/{}", p.path),
            },
            path: Some(p.path),
            title: p.title,
            status: None,
            queue: None,
            updated_at: p.updated_at,
        })
        .collect();
    Ok(Results {
        wiki,
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
                id: Some(t.id),
                path: None,
                title: t.subject,
                status: Some(t.status.as_str().to_owned()),
                queue: Some(t.queue),
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

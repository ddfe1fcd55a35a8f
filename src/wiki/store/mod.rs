//! The wiki's SQL: pages, revisions, redirects and links. A save is an UPDATE guarded by the
//! revision it was based on, so two editors of one revision cannot both win.

use std::collections::HashSet;

use jiff::Timestamp;

use super::{Page, RevisionInfo, Visibility};
use crate::db::{StoreError, Ts, Tx};
use crate::on_tx;

mod search;
pub(super) use search::search;

#[derive(sqlx::FromRow)]
struct PageRow {
    id: i64,
    path: String,
    title: String,
    body: String,
    revision: i64,
    visibility: String,
    deleted_at: Option<Ts>,
    updated_at: Ts,
    updated_by: String,
}

impl PageRow {
    fn into_page(self) -> (i64, Page) {
        (
            self.id,
            Page {
                path: self.path,
                title: self.title,
                body: self.body,
                revision: self.revision,
                visibility: Visibility::parse(&self.visibility),
                deleted: self.deleted_at.is_some(),
                updated_at: self.updated_at.0,
                updated_by: self.updated_by,
            },
        )
    }
}

const PAGE_COLS: &str =
    "id, path, title, body, revision, visibility, deleted_at, updated_at, updated_by";

pub(super) async fn by_path(tx: &mut Tx, path: &str) -> Result<Option<(i64, Page)>, StoreError> {
    let sql = format!("SELECT {PAGE_COLS} FROM wiki_pages WHERE path = $1");
    let row: Option<PageRow> = on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(path)
        .fetch_optional(c)
        .await?);
    Ok(row.map(PageRow::into_page))
}

/// Where a renamed path leads now.
pub(super) async fn redirect(tx: &mut Tx, path: &str) -> Result<Option<String>, StoreError> {
    Ok(on_tx!(tx, |c| {
        sqlx::query_scalar(
        "SELECT p.path FROM wiki_redirects r JOIN wiki_pages p ON p.id = r.page_id WHERE r.from_path = $1"
    )
    .bind(path)
    .fetch_optional(c)
    .await?
    }))
}

pub(super) async fn insert(
    tx: &mut Tx,
    path: &str,
    title: &str,
    body: &str,
    visibility: Visibility,
    actor: &str,
    now: Timestamp,
) -> Result<Option<i64>, StoreError> {
    Ok(on_tx!(tx, |c| {
        sqlx::query_scalar(
        "INSERT INTO wiki_pages (path, title, body, revision, visibility, created_at, updated_at, updated_by) \
         VALUES ($1, $2, $3, 1, $4, $5, $5, $6) ON CONFLICT (path) DO NOTHING RETURNING id"
    )
    .bind(path)
    .bind(title)
    .bind(body)
    .bind(visibility.as_str())
    .bind(Ts(now))
    .bind(actor)
    .fetch_optional(c)
    .await?
    }))
}

/// The next revision of page `id`, only if it is still at `base`: `false` when someone saved
/// first (or the page is deleted).
#[allow(clippy::too_many_arguments)]
pub(super) async fn update(
    tx: &mut Tx,
    id: i64,
    base: i64,
    title: &str,
    body: &str,
    visibility: Visibility,
    actor: &str,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let n = on_tx!(tx, |c| {
        sqlx::query(
        "UPDATE wiki_pages SET title = $1, body = $2, visibility = $3, revision = revision + 1, \
         updated_at = $4, updated_by = $5 WHERE id = $6 AND revision = $7 AND deleted_at IS NULL"
    )
    .bind(title)
    .bind(body)
    .bind(visibility.as_str())
    .bind(Ts(now))
    .bind(actor)
    .bind(id)
    .bind(base)
    .execute(c)
    .await?
    .rows_affected()
    });
    Ok(n == 1)
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn add_revision(
    tx: &mut Tx,
    id: i64,
    revision: i64,
    title: &str,
    body: &str,
    author: &str,
    comment: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO wiki_revisions (page_id, revision, title, body, author, comment, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)"
    )
    .bind(id)
    .bind(revision)
    .bind(title)
    .bind(body)
    .bind(author)
    .bind(comment)
    .bind(Ts(now))
    .execute(c)
    .await
    .map(|_| ())?);
    Ok(())
}

pub(super) async fn set_links(tx: &mut Tx, id: i64, targets: &[String]) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "DELETE FROM wiki_links WHERE page_id = $1"
    )
    .bind(id)
    .execute(&mut *c)
    .await
    .map(|_| ())?);
    for t in targets {
        on_tx!(tx, |c| sqlx::query(
            "INSERT INTO wiki_links (page_id, target) VALUES ($1, $2) ON CONFLICT DO NOTHING"
        )
        .bind(id)
        .bind(t)
        .execute(c)
        .await
        .map(|_| ())?);
    }
    Ok(())
}

pub(super) async fn revisions(tx: &mut Tx, id: i64) -> Result<Vec<RevisionInfo>, StoreError> {
    Ok(on_tx!(tx, |c| sqlx::query_as(
        "SELECT revision, title, author, comment, created_at FROM wiki_revisions \
         WHERE page_id = $1 ORDER BY revision DESC"
    )
    .bind(id)
    .fetch_all(c)
    .await?))
}

/// One revision's title and body.
pub(super) async fn revision(
    tx: &mut Tx,
    id: i64,
    revision: i64,
) -> Result<Option<(String, String)>, StoreError> {
    Ok(on_tx!(tx, |c| sqlx::query_as(
        "SELECT title, body FROM wiki_revisions WHERE page_id = $1 AND revision = $2"
    )
    .bind(id)
    .bind(revision)
    .fetch_optional(c)
    .await?))
}

pub(super) async fn rename(
    tx: &mut Tx,
    id: i64,
    from: &str,
    to: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "DELETE FROM wiki_redirects WHERE from_path = $1"
    )
    .bind(to)
    .execute(&mut *c)
    .await
    .map(|_| ())?);
    on_tx!(tx, |c| sqlx::query(
        "UPDATE wiki_pages SET path = $1 WHERE id = $2"
    )
    .bind(to)
    .bind(id)
    .execute(&mut *c)
    .await
    .map(|_| ())?);
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO wiki_redirects (from_path, page_id, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (from_path) DO UPDATE SET page_id = excluded.page_id"
    )
    .bind(from)
    .bind(id)
    .bind(Ts(now))
    .execute(c)
    .await
    .map(|_| ())?);
    Ok(())
}

/// A new page at `path` replaces any redirect that pointed away from it.
pub(super) async fn drop_redirect(tx: &mut Tx, path: &str) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "DELETE FROM wiki_redirects WHERE from_path = $1"
    )
    .bind(path)
    .execute(c)
    .await
    .map(|_| ())?);
    Ok(())
}

/// Marks the page deleted (`Some`) or live again (`None`).
pub(super) async fn set_deleted(
    tx: &mut Tx,
    id: i64,
    at: Option<(Timestamp, &str)>,
) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE wiki_pages SET deleted_at = $1, deleted_by = $2 WHERE id = $3"
    )
    .bind(at.map(|(t, _)| Ts(t)))
    .bind(at.map(|(_, who)| who.to_owned()))
    .bind(id)
    .execute(c)
    .await
    .map(|_| ())?);
    Ok(())
}

/// Live pages linking to any of `targets` (a page's path and the paths it was renamed from).
pub(super) async fn backlinks(
    tx: &mut Tx,
    targets: &[String],
    public_only: bool,
) -> Result<Vec<(String, String)>, StoreError> {
    let mut out: Vec<(String, String)> = Vec::new();
    for t in targets {
        let rows: Vec<(String, String)> = on_tx!(tx, |c| sqlx::query_as(
            "SELECT p.path, p.title FROM wiki_links l JOIN wiki_pages p ON p.id = l.page_id \
             WHERE l.target = $1 AND p.deleted_at IS NULL AND ($2 = 0 OR p.visibility = 'public') \
             ORDER BY p.path"
        )
        .bind(t)
        .bind(i64::from(public_only))
        .fetch_all(c)
        .await?);
        for r in rows {
            if !out.contains(&r) {
                out.push(r);
            }
        }
    }
    Ok(out)
}

/// The paths a page answers to besides its own: those it was renamed from.
pub(super) async fn old_paths(tx: &mut Tx, id: i64) -> Result<Vec<String>, StoreError> {
    Ok(on_tx!(tx, |c| sqlx::query_scalar(
        "SELECT from_path FROM wiki_redirects WHERE page_id = $1 ORDER BY from_path"
    )
    .bind(id)
    .fetch_all(c)
    .await?))
}

/// Which of `paths` lead to a live page (directly or through a redirect).
pub(super) async fn existing(tx: &mut Tx, paths: &[String]) -> Result<HashSet<String>, StoreError> {
    let mut out = HashSet::new();
    for p in paths {
        let found: Option<i64> = on_tx!(tx, |c| {
            sqlx::query_scalar(
            "SELECT p.id FROM wiki_pages p WHERE p.path = $1 AND p.deleted_at IS NULL \
             UNION ALL SELECT r.page_id FROM wiki_redirects r JOIN wiki_pages q ON q.id = r.page_id \
             WHERE r.from_path = $1 AND q.deleted_at IS NULL LIMIT 1"
        )
        .bind(p)
        .fetch_optional(c)
        .await?
        });
        if found.is_some() {
            out.insert(p.clone());
        }
    }
    Ok(out)
}

/// Live pages by path or by last change, `limit` at most.
pub(super) async fn list(
    tx: &mut Tx,
    public_only: bool,
    by_recent: bool,
    limit: i64,
) -> Result<Vec<Page>, StoreError> {
    let order = if by_recent { "updated_at DESC" } else { "path" };
    let sql = format!(
        "SELECT {PAGE_COLS} FROM wiki_pages WHERE deleted_at IS NULL \
         AND ($1 = 0 OR visibility = 'public') ORDER BY {order} LIMIT $2"
    );
    let rows: Vec<PageRow> = on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(i64::from(public_only))
        .bind(limit)
        .fetch_all(c)
        .await?);
    Ok(rows.into_iter().map(|r| r.into_page().1).collect())
}

/// Deleted pages, for the admin's undelete list.
pub(super) async fn deleted(tx: &mut Tx) -> Result<Vec<Page>, StoreError> {
    let sql = format!(
        "SELECT {PAGE_COLS} FROM wiki_pages WHERE deleted_at IS NOT NULL ORDER BY deleted_at DESC"
    );
    let rows: Vec<PageRow> = on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_all(c)
        .await?);
    Ok(rows.into_iter().map(|r| r.into_page().1).collect())
}

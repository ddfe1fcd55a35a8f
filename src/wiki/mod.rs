//! The wiki (issue 7): runbooks and the customer knowledge base. Pages live at hierarchical
//! paths (`runbooks/bgp-session-down`); every save is a revision with author, time and comment,
//! made against the revision the editor started from, so a stale save is refused (409) instead
//! of silently overwriting someone's work. Renames leave a redirect; deletes can be undone.
//! Internal pages are for staff; public ones are the customers' knowledge base.

pub mod api;
pub mod diff;
pub mod path;
pub mod render;
pub mod routes;
mod store;

use std::collections::HashSet;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::{Db, StoreError, Tx};

/// The largest page body accepted: a runbook is text, and a megabyte of it is a mistake.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// Last path segments the routes use for actions on a page; no page may be called that.
const RESERVED: [&str; 9] = [
    "revisions",
    "diff",
    "revert",
    "rename",
    "delete",
    "restore",
    "edit",
    "history",
    "raw",
];

/// What a new runbook starts from (issue 7): the questions the person paged at 3 a.m. has.
pub const RUNBOOK_TEMPLATE: &str = "## Symptoms\n\nWhat the alert or the customer reports.\n\n\
## Impact\n\nWho and what is affected, and how badly.\n\n## Checks\n\n1. \n\n## Fix\n\n1. \n\n\
## Escalation\n\nWhom to call when the fix does not work (on-call rotation, vendor, data centre).\n\n\
## Related alerts\n\n- \n";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    /// Staff only.
    Internal,
    /// Also customers, in the portal's knowledge base.
    Public,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Internal => "internal",
            Visibility::Public => "public",
        }
    }

    /// Anything but "public" is internal: the safe reading of an unexpected value.
    pub fn parse(s: &str) -> Visibility {
        if s == "public" {
            Visibility::Public
        } else {
            Visibility::Internal
        }
    }
}

/// A page at its current revision.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct Page {
    pub path: String,
    pub title: String,
    pub body: String,
    pub revision: i64,
    pub visibility: Visibility,
    /// Deleted pages are kept (and can be restored) but answer 404 to readers.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
    #[schema(value_type = String)]
    pub updated_at: Timestamp,
    pub updated_by: String,
}

/// One revision in a page's history (without its text).
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, sqlx::FromRow)]
pub struct RevisionInfo {
    pub revision: i64,
    pub title: String,
    pub author: String,
    pub comment: String,
    #[schema(value_type = String)]
    pub created_at: crate::db::Ts,
}

/// A save: the text, and the revision the editor started from (0 for a new page).
#[derive(Debug, Clone)]
pub struct Save {
    pub title: String,
    pub body: String,
    pub base_revision: i64,
    pub comment: String,
    /// `None` keeps the page's visibility (internal for a new page).
    pub visibility: Option<Visibility>,
}

/// Reading a path: the page, or where it went.
#[derive(Debug, Clone)]
pub enum Found {
    Page(Page),
    /// The page was renamed; its new path.
    Moved(String),
}

#[derive(Debug, thiserror::Error)]
pub enum WikiError {
    #[error("no wiki page at {0}")]
    NotFound(String),
    #[error("{0}")]
    BadPath(String),
    #[error("\"{0}\" is reserved for page actions and cannot end a page path")]
    Reserved(String),
    #[error("the title must not be empty")]
    EmptyTitle,
    #[error("the page is larger than {MAX_BODY_BYTES} bytes")]
    TooLarge,
    /// Someone saved since the editor's base revision: nothing was written.
    #[error("the page changed since revision {base}: it is at revision {} now", current.revision)]
    Stale { base: i64, current: Box<Page> },
    #[error("a page already exists at {0}")]
    Exists(String),
    #[error("the page at {0} is deleted; restore it first")]
    Deleted(String),
    #[error("page {path} has no revision {revision}")]
    NoRevision { path: String, revision: i64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A path as users type it, canonical and not reserved.
pub fn page_path(input: &str) -> Result<String, WikiError> {
    let p = path::normalize(input).map_err(|e| WikiError::BadPath(e.to_string()))?;
    let last = p.rsplit('/').next().unwrap_or(&p);
    if RESERVED.contains(&last) {
        return Err(WikiError::Reserved(last.to_owned()));
    }
    Ok(p)
}

/// The page at `path` (deleted ones too; callers decide), or where a renamed one went.
pub async fn get(tx: &mut Tx, path: &str) -> Result<Option<Found>, WikiError> {
    if let Some((_, page)) = store::by_path(tx, path).await? {
        return Ok(Some(Found::Page(page)));
    }
    Ok(store::redirect(tx, path).await?.map(Found::Moved))
}

/// The runbook page for an alert called `alert_name` (CONTRACT §7: `runbooks/<name>`), when
/// a live page is there (following a rename); the path to link.
pub async fn runbook_for(tx: &mut Tx, alert_name: &str) -> Result<Option<String>, WikiError> {
    let Some(path) = path::runbook_path(alert_name) else {
        return Ok(None);
    };
    match live(tx, &path).await {
        Ok((_, page)) => Ok(Some(page.path)),
        Err(WikiError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The live page at `path`, following one rename; `NotFound` for deleted or missing pages.
pub async fn live(tx: &mut Tx, path: &str) -> Result<(i64, Page), WikiError> {
    let found = match store::by_path(tx, path).await? {
        Some(p) => Some(p),
        None => match store::redirect(tx, path).await? {
            Some(to) => store::by_path(tx, &to).await?,
            None => None,
        },
    };
    match found {
        Some((id, p)) if !p.deleted => Ok((id, p)),
        _ => Err(WikiError::NotFound(path.to_owned())),
    }
}

/// Saves a new revision of `path` (creating the page at base revision 0), or refuses with the
/// current page when `base_revision` is not the current one.
pub async fn save(
    tx: &mut Tx,
    path: &str,
    s: &Save,
    actor: &str,
    now: Timestamp,
) -> Result<Page, WikiError> {
    let path = page_path(path)?;
    let title = s.title.trim();
    if title.is_empty() {
        return Err(WikiError::EmptyTitle);
    }
    if s.body.len() > MAX_BODY_BYTES {
        return Err(WikiError::TooLarge);
    }
    let existing = store::by_path(tx, &path).await?;
    let (id, revision) = match existing {
        None => {
            if s.base_revision != 0 {
                return Err(WikiError::NotFound(path));
            }
            let vis = s.visibility.unwrap_or(Visibility::Internal);
            match store::insert(tx, &path, title, &s.body, vis, actor, now).await? {
                Some(id) => {
                    store::drop_redirect(tx, &path).await?;
                    (id, 1)
                }
                // Created by someone else a moment ago: their page is the current one.
                None => return Err(stale(tx, &path, s.base_revision).await?),
            }
        }
        Some((_, page)) if page.deleted => return Err(WikiError::Deleted(path)),
        Some((id, page)) => {
            let vis = s.visibility.unwrap_or(page.visibility);
            let ok =
                store::update(tx, id, s.base_revision, title, &s.body, vis, actor, now).await?;
            if !ok {
                return Err(stale(tx, &path, s.base_revision).await?);
            }
            (id, s.base_revision + 1)
        }
    };
    store::add_revision(
        tx,
        id,
        revision,
        title,
        &s.body,
        actor,
        s.comment.trim(),
        now,
    )
    .await?;
    store::set_links(tx, id, &render::wiki_links(&s.body)).await?;
    let (_, page) = store::by_path(tx, &path)
        .await?
        .ok_or_else(|| WikiError::NotFound(path.clone()))?;
    Ok(page)
}

async fn stale(tx: &mut Tx, path: &str, base: i64) -> Result<WikiError, WikiError> {
    let (_, current) = store::by_path(tx, path)
        .await?
        .ok_or_else(|| WikiError::NotFound(path.to_owned()))?;
    Ok(WikiError::Stale {
        base,
        current: Box::new(current),
    })
}

/// The revisions of the live page at `path`, newest first.
pub async fn revisions(tx: &mut Tx, path: &str) -> Result<Vec<RevisionInfo>, WikiError> {
    let (id, _) = live(tx, path).await?;
    Ok(store::revisions(tx, id).await?)
}

/// Title and body of one revision.
pub async fn revision(tx: &mut Tx, path: &str, n: i64) -> Result<(String, String), WikiError> {
    let (id, page) = live(tx, path).await?;
    store::revision(tx, id, n)
        .await?
        .ok_or(WikiError::NoRevision {
            path: page.path,
            revision: n,
        })
}

/// Makes revision `n`'s text the current one, as a new revision (history is never rewritten).
pub async fn revert(
    tx: &mut Tx,
    path: &str,
    n: i64,
    actor: &str,
    now: Timestamp,
) -> Result<Page, WikiError> {
    let (_, page) = live(tx, path).await?;
    let (title, body) = revision(tx, &page.path, n).await?;
    let s = Save {
        title,
        body,
        base_revision: page.revision,
        comment: format!("Reverted to revision {n}"),
        visibility: None,
    };
    save(tx, &page.path, &s, actor, now).await
}

/// Moves a page to `to`; the old path keeps answering with a redirect.
pub async fn rename(tx: &mut Tx, path: &str, to: &str, now: Timestamp) -> Result<Page, WikiError> {
    let (id, page) = live(tx, path).await?;
    let to = page_path(to)?;
    if to == page.path {
        return Ok(page);
    }
    if store::by_path(tx, &to).await?.is_some() {
        return Err(WikiError::Exists(to));
    }
    store::rename(tx, id, &page.path, &to, now).await?;
    let (_, moved) = store::by_path(tx, &to)
        .await?
        .ok_or_else(|| WikiError::NotFound(to.clone()))?;
    Ok(moved)
}

/// Deletes (`true`) or restores (`false`) a page; its revisions are kept either way.
pub async fn set_deleted(
    tx: &mut Tx,
    path: &str,
    deleted: bool,
    actor: &str,
    now: Timestamp,
) -> Result<(), WikiError> {
    let (id, page) = store::by_path(tx, path)
        .await?
        .ok_or_else(|| WikiError::NotFound(path.to_owned()))?;
    if page.deleted == deleted {
        return Ok(());
    }
    store::set_deleted(tx, id, deleted.then_some((now, actor))).await?;
    Ok(())
}

/// Everything a page view shows besides the page: which links exist, and who links here.
pub struct Context {
    pub existing: HashSet<String>,
    pub backlinks: Vec<(String, String)>,
}

pub async fn context(tx: &mut Tx, page: &Page, public_only: bool) -> Result<Context, WikiError> {
    let (id, _) = live(tx, &page.path).await?;
    let existing = store::existing(tx, &render::wiki_links(&page.body)).await?;
    let mut targets = vec![page.path.clone()];
    targets.extend(store::old_paths(tx, id).await?);
    let backlinks = store::backlinks(tx, &targets, public_only).await?;
    Ok(Context {
        existing,
        backlinks,
    })
}

/// Live pages by path (the index) or by last change (recent changes).
pub async fn list(
    tx: &mut Tx,
    public_only: bool,
    by_recent: bool,
    limit: i64,
) -> Result<Vec<Page>, WikiError> {
    Ok(store::list(tx, public_only, by_recent, limit).await?)
}

pub async fn deleted_pages(tx: &mut Tx) -> Result<Vec<Page>, WikiError> {
    Ok(store::deleted(tx).await?)
}

/// Pages holding `text` in title or body; customers find public pages only.
pub async fn search(
    db: &Db,
    text: &str,
    public_only: bool,
    limit: i64,
) -> Result<Vec<Page>, WikiError> {
    Ok(store::search(db, text, public_only, limit).await?)
}

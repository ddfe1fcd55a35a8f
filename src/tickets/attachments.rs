//! Files attached to replies. Bytes are stored once per content (sha-256, DESIGN.md §3); a
//! download always comes as `Content-Disposition: attachment` with a content type from a short
//! list of harmless ones, so an uploaded HTML or SVG file can never run in our origin.

use jiff::Timestamp;
use serde::Serialize;

use super::TicketError;
use super::store::attachments as store;
use crate::db::{StoreError, Tx};

/// A file as received (a form field, a part of a mail), with the digest that will name its
/// bytes: computed when the file is read, so storing it inside a write transaction does not
/// hold SQLite's one writer for the hashing too.
#[derive(Debug, Clone)]
pub struct Upload {
    pub filename: String,
    pub content_type: String,
    data: Vec<u8>,
    sha256: String,
}

impl Upload {
    pub fn new(filename: String, content_type: String, data: Vec<u8>) -> Upload {
        let sha256 = sha256_hex(&data);
        Upload {
            filename,
            content_type,
            data,
            sha256,
        }
    }

    pub fn data(&self) -> &[u8] {
        &self.data
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Attachment {
    pub id: i64,
    pub transaction_id: i64,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
}

impl From<store::AttachmentRow> for Attachment {
    fn from(r: store::AttachmentRow) -> Self {
        Attachment {
            id: r.id,
            transaction_id: r.transaction_id,
            filename: r.filename,
            content_type: r.content_type,
            size: r.size,
        }
    }
}

impl Attachment {
    /// "1.4 MB", "980 B": sizes as people read them.
    pub fn human_size(&self) -> String {
        human(self.size)
    }

    /// HTML (the HTML of an HTML-only message): the ticket page offers a sanitised view.
    pub fn is_html(&self) -> bool {
        self.content_type
            .split(';')
            .next()
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("text/html"))
    }
}

fn human(n: i64) -> String {
    let n = n.max(0) as f64;
    if n < 1024.0 {
        format!("{n} B")
    } else if n < 1024.0 * 1024.0 {
        format!("{:.1} KB", n / 1024.0)
    } else {
        format!("{:.1} MB", n / (1024.0 * 1024.0))
    }
}

/// The last path component, without control characters, at most 200 characters.
pub fn clean_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .take(200)
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_owned();
    if cleaned.is_empty() {
        "attachment".into()
    } else {
        cleaned
    }
}

/// What a download is served as: the declared type when it is one a browser shows
/// harmlessly, else `application/octet-stream`.
pub fn served_type(declared: &str) -> &'static str {
    let t = declared
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match t.as_str() {
        "image/png" => "image/png",
        "image/jpeg" => "image/jpeg",
        "image/gif" => "image/gif",
        "image/webp" => "image/webp",
        "application/pdf" => "application/pdf",
        "text/plain" => "text/plain; charset=utf-8",
        "text/csv" => "text/csv; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Attaches files to a transaction; refuses any file over `max_bytes` (all or nothing).
pub async fn attach(
    tx: &mut Tx,
    ticket_id: i64,
    transaction_id: i64,
    uploads: &[Upload],
    max_bytes: usize,
    now: Timestamp,
) -> Result<Vec<i64>, TicketError> {
    for u in uploads {
        if u.data.len() > max_bytes {
            return Err(TicketError::Invalid {
                field: "attachments",
                message: format!(
                    "{} is {}; the limit is {} (web.max_attachment_bytes)",
                    clean_filename(&u.filename),
                    human(u.data.len() as i64),
                    human(max_bytes as i64)
                ),
            });
        }
    }
    let mut ids = Vec::new();
    for u in uploads {
        let sha = &u.sha256;
        store::put_blob(tx, sha, &u.data).await?;
        let ct = if u.content_type.trim().is_empty() {
            "application/octet-stream"
        } else {
            u.content_type.trim()
        };
        let size = i64::try_from(u.data.len()).unwrap_or(i64::MAX);
        let ct: String = ct.chars().take(100).collect();
        let filename = clean_filename(&u.filename);
        let row = store::NewAttachment {
            ticket_id,
            transaction_id,
            filename: &filename,
            content_type: &ct,
            size,
            sha256: sha,
        };
        ids.push(store::insert(tx, &row, now).await?);
    }
    Ok(ids)
}

/// Stores bytes once by their SHA-256 (DESIGN.md §3: raw mail and attachments are
/// content-addressed); answers the hex digest that names them.
pub async fn put_blob(tx: &mut Tx, data: &[u8]) -> Result<String, StoreError> {
    let sha = sha256_hex(data);
    store::put_blob(tx, &sha, data).await?;
    Ok(sha)
}

/// [`put_blob`] with the digest computed by the caller before its transaction began (hashing
/// a large message inside it would hold SQLite's one writer for that long).
pub async fn put_blob_as(tx: &mut Tx, sha: &str, data: &[u8]) -> Result<(), StoreError> {
    store::put_blob(tx, sha, data).await
}

/// The hex SHA-256 that names stored bytes.
pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(data))
}

/// The bytes stored under `sha256`.
pub async fn blob(tx: &mut Tx, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
    store::blob_data(tx, sha256).await
}

pub async fn list(tx: &mut Tx, ticket_id: i64) -> Result<Vec<Attachment>, TicketError> {
    Ok(store::of_ticket(tx, ticket_id)
        .await?
        .into_iter()
        .map(Attachment::from)
        .collect())
}

pub async fn fetch(
    tx: &mut Tx,
    ticket_id: i64,
    id: i64,
) -> Result<Option<(Attachment, Vec<u8>)>, TicketError> {
    Ok(store::get(tx, ticket_id, id)
        .await?
        .map(|(r, d)| (Attachment::from(r), d)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filenames_lose_paths_and_control_characters() {
        assert_eq!(clean_filename("../../etc/passwd"), "passwd");
        assert_eq!(clean_filename("C:\\Users\\x\\report.pdf"), "report.pdf");
        assert_eq!(clean_filename("a\nb\"c.txt"), "abc.txt");
        assert_eq!(clean_filename("..."), "attachment");
        assert_eq!(clean_filename(""), "attachment");
    }

    #[test]
    fn only_harmless_types_are_served_as_themselves() {
        assert_eq!(served_type("image/png"), "image/png");
        assert_eq!(served_type("text/html"), "application/octet-stream");
        assert_eq!(served_type("image/svg+xml"), "application/octet-stream");
        assert_eq!(
            served_type("TEXT/PLAIN; charset=latin1"),
            "text/plain; charset=utf-8"
        );
    }
}

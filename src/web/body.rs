//! What the guards in front of the handlers read of a request body: they buffer it once,
//! within `web.max_body_bytes`, and look at form fields or multipart parts without handing
//! the body to a parser of its own (the handler's extractor still does that).

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};

use crate::error::AppError;

/// The body as one buffer, or the 413 a handler's extractor would have answered.
pub async fn buffer(body: Body, limit: usize) -> Result<Bytes, Response> {
    axum::body::to_bytes(body, limit).await.map_err(|_| {
        AppError::TooLarge(format!(
            "the request body is larger than {limit} bytes (web.max_body_bytes)"
        ))
        .into_response()
    })
}

/// How the body is encoded, from its `Content-Type`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Encoding {
    Json,
    Form,
    /// `multipart/form-data`, with its boundary.
    Multipart(String),
    Other,
}

impl Encoding {
    pub fn of(headers: &HeaderMap) -> Encoding {
        let ct = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let essence = ct.split(';').next().unwrap_or("").trim();
        if essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
            Encoding::Form
        } else if essence.eq_ignore_ascii_case("multipart/form-data") {
            ct.split(';')
                .filter_map(|p| p.trim().strip_prefix("boundary="))
                .next()
                .map_or(Encoding::Other, |b| {
                    Encoding::Multipart(b.trim_matches('"').to_owned())
                })
        } else if essence.eq_ignore_ascii_case("application/json")
            || essence.to_ascii_lowercase().ends_with("+json")
        {
            Encoding::Json
        } else {
            Encoding::Other
        }
    }
}

/// One part of a multipart body: its field name, its file name when it is a file, and its
/// bytes.
#[derive(Debug, PartialEq, Eq)]
pub struct Part<'a> {
    pub name: String,
    pub filename: Option<String>,
    pub value: &'a [u8],
}

/// The parts of a multipart body (RFC 7578), found by their delimiters; the bytes of each
/// are not copied, so an attachment costs one scan.
pub fn parts<'a>(boundary: &str, body: &'a [u8]) -> Vec<Part<'a>> {
    let delimiter = format!("--{boundary}");
    let finder = memchr::memmem::Finder::new(delimiter.as_bytes());
    let starts: Vec<usize> = finder.find_iter(body).collect();
    let mut out = Vec::new();
    for pair in starts.windows(2) {
        let part = &body[pair[0] + delimiter.len()..pair[1]];
        let Some(split) = memchr::memmem::find(part, b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&part[..split]);
        let value = &part[split + 4..];
        let value = value.strip_suffix(b"\r\n").unwrap_or(value);
        let Some(name) = disposition_param(&head, "name") else {
            continue;
        };
        out.push(Part {
            filename: disposition_param(&head, "filename"),
            name,
            value,
        });
    }
    out
}

/// A parameter of the part's `Content-Disposition` header (`name="body"`).
fn disposition_param(head: &str, param: &str) -> Option<String> {
    let line = head
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("content-disposition:"))?;
    line.split(';').skip(1).find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.eq_ignore_ascii_case(param)
            .then(|| v.trim().trim_matches('"').to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_are_read_from_the_content_type() {
        let of = |ct: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::CONTENT_TYPE, ct.parse().unwrap());
            Encoding::of(&h)
        };
        assert_eq!(of("application/json; charset=utf-8"), Encoding::Json);
        assert_eq!(of("application/merge-patch+json"), Encoding::Json);
        assert_eq!(of("Application/X-WWW-Form-Urlencoded"), Encoding::Form);
        assert_eq!(
            of("multipart/form-data; boundary=\"XyZ\""),
            Encoding::Multipart("XyZ".into())
        );
        assert_eq!(of("multipart/form-data"), Encoding::Other);
        assert_eq!(of("message/rfc822"), Encoding::Other);
        assert_eq!(Encoding::of(&HeaderMap::new()), Encoding::Other);
    }

    #[test]
    fn multipart_parts_keep_their_names_and_bytes() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"body\"\r\n\r\nhello\r\n\
--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.bin\"\r\n\
Content-Type: application/octet-stream\r\n\r\n\x00\x01\r\n--XyZ--\r\n";
        let p = parts("XyZ", body);
        assert_eq!(
            p,
            vec![
                Part {
                    name: "body".into(),
                    filename: None,
                    value: b"hello"
                },
                Part {
                    name: "file".into(),
                    filename: Some("a.bin".into()),
                    value: b"\x00\x01"
                },
            ]
        );
        assert!(parts("XyZ", b"no parts here").is_empty());
        assert!(parts("XyZ", b"--XyZ\r\nbroken head--XyZ--").is_empty());
    }
}

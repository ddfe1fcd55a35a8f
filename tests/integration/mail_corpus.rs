//! The hostile-mail corpus (tests/mail_corpus, MANIFEST.tsv): every message is posted as an
//! MTA would, in file order into one database, and must be stored and end as the manifest
//! says (a ticket, ignored, or kept flagged), with the subject, body, sender and files a
//! careful parser gets out of it.

use std::path::PathBuf;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::*;
use crate::tickets::call;

const CONFIG: &str = "[mail]\nfrom = \"support@example.net\"\nsubject_tag = \"example.net\"\nmax_message_bytes = 31457280\n\n\
[[queue]]\nname = \"Support\"\ncorrespond_address = \"support@example.net\"\n";

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/mail_corpus")
}

/// A `.eml.gen` template with its 20 MiB attachment put in.
fn expand(template: &[u8]) -> Vec<u8> {
    use base64::Engine;
    let text = String::from_utf8_lossy(template);
    let encoded = base64::engine::general_purpose::STANDARD.encode(vec![b'A'; 20 * 1024 * 1024]);
    let mut lines = String::with_capacity(encoded.len() * 78 / 76 + 2);
    for chunk in encoded.as_bytes().chunks(76) {
        lines.push_str(std::str::from_utf8(chunk).unwrap());
        lines.push_str("\r\n");
    }
    text.replace("@@BASE64_20MB@@", lines.trim_end())
        .into_bytes()
}

fn html_escaped(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
}

#[tokio::test]
async fn every_message_of_the_hostile_corpus_is_stored_and_handled_sensibly() {
    let app = TestApp::spawn_with(Options::toml(CONFIG)).await;
    let (mail, api) = (app.token("mail", "mail"), app.token("api", "api"));
    app.login_admin().await;

    let manifest = std::fs::read_to_string(corpus().join("MANIFEST.tsv")).unwrap();
    let mut seen = 0;
    let mut problems = Vec::new();
    for line in manifest.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (file, expect, checks) = (cols[0], cols[1], cols.get(2).copied().unwrap_or(""));
        let bytes = std::fs::read(corpus().join(file)).unwrap();
        let raw = if file.ends_with(".gen") {
            expand(&bytes)
        } else {
            bytes
        };
        seen += 1;
        let r = client()
            .post(app.url("/api/v1/mail/inbound?queue=Support"))
            .bearer_auth(&mail)
            .header("content-type", "message/rfc822")
            .body(raw)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let v: Value = r.json().await.unwrap_or(Value::Null);
        if status != StatusCode::ACCEPTED {
            if !(expect == "any" && status == StatusCode::PAYLOAD_TOO_LARGE) {
                problems.push(format!("{file}: HTTP {status} {v}"));
            }
            continue;
        }
        let state = v["state"].as_str().unwrap_or("");
        let ok = match expect {
            "ticket" => state == "processed" && v["ticket_id"].is_i64(),
            "ignored" => state == "ignored",
            "failed" => state == "failed",
            _ => ["processed", "ignored", "failed"].contains(&state),
        };
        if !ok {
            problems.push(format!("{file}: expected {expect}, got {v}"));
            continue;
        }
        let Some(id) = v["ticket_id"].as_i64().filter(|_| expect == "ticket") else {
            continue;
        };
        let (_, t) = call(
            &app,
            &api,
            Method::GET,
            &format!("/api/v1/tickets/{id}"),
            None,
        )
        .await;
        let (_, h) = call(
            &app,
            &api,
            Method::GET,
            &format!("/api/v1/tickets/{id}/history"),
            None,
        )
        .await;
        let bodies: Vec<String> = h
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["body"].as_str().map(str::to_owned))
            .collect();
        let (_, page) = app.get_text(&format!("/tickets/{id}")).await;
        let files = page.matches("/attachments/").count();
        let subject = t["subject"].as_str().unwrap_or("");
        for check in checks.split(';').filter(|c| !c.is_empty()) {
            let passed = if let Some(want) = check.strip_prefix("subject=") {
                subject == want
            } else if let Some(want) = check.strip_prefix("subject~") {
                subject.contains(want)
            } else if let Some(want) = check.strip_prefix("body~") {
                bodies.iter().any(|b| b.contains(want))
            } else if let Some(want) = check.strip_prefix("from=") {
                t["requestors"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|r| r == want)
            } else if let Some(n) = check.strip_prefix("files>=") {
                files >= n.parse::<usize>().unwrap()
            } else if let Some(name) = check.strip_prefix("file=") {
                page.contains(&html_escaped(name))
            } else {
                panic!("{file}: unknown check {check}");
            };
            if !passed {
                problems.push(format!(
                    "{file}: {check} failed (subject {subject:?}, {} file(s), bodies {:?})",
                    files,
                    bodies
                        .iter()
                        .map(|b| b.chars().take(120).collect::<String>())
                        .collect::<Vec<_>>()
                ));
            }
        }
    }
    assert!(
        seen >= 40,
        "the corpus holds at least 40 messages, found {seen}"
    );
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );

    // Nothing was dropped: every delivered message is stored once (the refused 20 MB one aside
    // only if the limit refused it).
    let (_, html) = app.get_text("/admin/mail?state=processed").await;
    assert!(html.contains("processed ("), "{html}");
}

//! Security review by crawling (issue 9). Text that users and senders control is seeded with
//! markup everywhere it can go (ticket subject and body, mail headers, customer name and
//! hosts, wiki title and body, alert labels and annotations); then every page an admin can
//! reach by following links is fetched. No page may carry the markup live, and every form
//! that posts must refuse a submission without its CSRF token, or with another one.

use std::collections::{BTreeSet, VecDeque};

use reqwest::StatusCode;
use serde_json::json;

use crate::alerts::{am_alert, webhook};
use crate::helpers::*;
use crate::tickets::call;

/// Markup that would run if a page printed it unescaped. Each piece carries its own marker.
const XSS: &str =
    "<script>xss_script()</script><img src=x onerror=xss_img()>\"'><svg onload=xss_svg()>";

/// Live forms of [`XSS`]; escaped text never contains them.
const LIVE: [&str; 3] = ["<script>xss_script", "<img src=x onerror", "<svg onload"];

const CONFIG: &str = "[[queue]]\nname = \"Support\"\ncorrespond_address = \"support@example.net\"\n\
comment_address = \"support-comment@example.net\"\n\n[[queue]]\nname = \"NOC\"\n\n\
[[alert_source]]\nname = \"prometheus\"\nkind = \"alertmanager\"\ntoken = \"am-sec-token\"\n\
queue = \"NOC\"\n";

/// Links (`href`) and form actions in `html` that stay on this site, entities decoded.
fn links(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["href=\"", "action=\""] {
        for (i, _) in html.match_indices(attr) {
            let rest = &html[i + attr.len()..];
            let Some(end) = rest.find('"') else { continue };
            let url = rest[..end].replace("&amp;", "&");
            if url.starts_with('/') && !url.starts_with("//") {
                out.push(url);
            }
        }
    }
    out
}

/// A form that posts: its action and its fields (name, value) as the page fills them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Form {
    action: String,
    fields: Vec<(String, String)>,
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!("{name}=\"");
    let i = tag.find(&key)?;
    let rest = &tag[i + key.len()..];
    Some(rest[..rest.find('"')?].replace("&amp;", "&"))
}

fn post_forms(html: &str, page: &str) -> Vec<Form> {
    let mut out = Vec::new();
    for (i, _) in html.match_indices("<form") {
        let rest = &html[i..];
        let Some(open_end) = rest.find('>') else {
            continue;
        };
        let tag = &rest[..open_end];
        if !attr(tag, "method").is_some_and(|m| m.eq_ignore_ascii_case("post")) {
            continue;
        }
        let action = attr(tag, "action").unwrap_or_else(|| page.to_owned());
        let body = &rest[..rest.find("</form>").unwrap_or(rest.len())];
        let mut fields = Vec::new();
        for (j, _) in body.match_indices("<input") {
            let t = &body[j..];
            let t = &t[..t.find('>').unwrap_or(t.len())];
            if let Some(name) = attr(t, "name") {
                fields.push((name, attr(t, "value").unwrap_or_default()));
            }
        }
        out.push(Form { action, fields });
    }
    out
}

/// Whether a crawl should fetch `path`: pages, not downloads or the way out.
fn crawlable(path: &str) -> bool {
    let p = path.split('?').next().unwrap_or(path);
    !(p.starts_with("/assets")
        || p.starts_with("/api/")
        || p.contains("/attachments/")
        || p.ends_with("/raw")
        || p.ends_with(".json")
        || p == "/logout"
        || p == "/metrics")
}

/// Every page reachable from `starts` by links, at most `limit`; one fetch per path (the first
/// query string met for it). Answers (path, html) of each page fetched.
async fn crawl(
    c: &reqwest::Client,
    app: &TestApp,
    starts: &[&str],
    limit: usize,
) -> Vec<(String, String)> {
    let mut seen = BTreeSet::new();
    let mut queue: VecDeque<String> = starts.iter().map(|s| s.to_string()).collect();
    let mut pages = Vec::new();
    while let Some(url) = queue.pop_front() {
        let key = url.split('?').next().unwrap_or(&url).to_owned();
        if pages.len() >= limit || !crawlable(&url) || !seen.insert(key) {
            continue;
        }
        let r = c.get(app.url(&url)).send().await.unwrap();
        let status = r.status();
        assert!(!status.is_server_error(), "GET {url}: {status}");
        let is_html = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/html"));
        let html = r.text().await.unwrap();
        if !is_html {
            continue;
        }
        queue.extend(links(&html));
        pages.push((url, html));
    }
    pages
}

/// Posts one Alertmanager alert from the `prometheus` source; it must be taken.
async fn deliver_alert(app: &TestApp, alert: serde_json::Value) {
    let r = client()
        .post(app.url("/api/v1/alerts/prometheus"))
        .bearer_auth("am-sec-token")
        .json(&webhook(vec![alert]))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::ACCEPTED,
        "{}",
        r.text().await.unwrap()
    );
}

/// Seeds [`XSS`] into every text a user or sender controls; answers a ticket id it is on.
async fn seed(app: &TestApp, token: &str) -> i64 {
    let (s, c) = call(
        app,
        token,
        reqwest::Method::POST,
        "/api/v1/customers",
        Some(
            json!({"code": "EVIL", "name": format!("Evil {XSS}"), "domains": ["evil.example"],
                    "hosts": [{"name": "evil-host.example", "address": "192.0.2.66"}],
                    "services": [{"kind": "transit", "identifier": format!("circuit {XSS}"),
                                  "description": format!("described {XSS}")}]}),
        ),
    )
    .await;
    assert!(s.is_success(), "{c}");
    let (s, t) = call(
        app,
        token,
        reqwest::Method::POST,
        "/api/v1/tickets",
        Some(json!({"queue": "Support", "subject": format!("Subject {XSS}"),
                    "body": format!("Body {XSS}\n\n[link](javascript:xss_link())"), "customer": "EVIL",
                    "requestors": ["someone@evil.example"]})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    let id = t["id"].as_i64().unwrap();
    for kind in ["correspond", "comment"] {
        let (s, r) = call(
            app,
            token,
            reqwest::Method::POST,
            &format!("/api/v1/tickets/{id}/{kind}"),
            Some(json!({"body": format!("{kind} {XSS}")})),
        )
        .await;
        assert!(s.is_success(), "{r}");
    }
    let mail_token = app.token("sec-mail", "mail");
    let raw = format!(
        "From: \"Mallory {XSS}\" <mallory@evil.example>\r\nTo: support@example.net\r\n\
         Subject: Mail {XSS}\r\nMessage-ID: <xss-1@evil.example>\r\n\
         Content-Type: text/html; charset=utf-8\r\n\r\n<p>Hello</p>{XSS}<a href=\"javascript:xss_href()\">x</a>\r\n"
    );
    let r = client()
        .post(app.url("/api/v1/mail/inbound?queue=Support"))
        .bearer_auth(&mail_token)
        .header("content-type", "message/rfc822")
        .body(raw)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let r = client()
        .put(app.url("/api/v1/wiki/runbooks/xss"))
        .bearer_auth(token)
        .json(&json!({"title": format!("Runbook {XSS}"),
                      "body": format!("# Heading {XSS}\n\nText {XSS}\n\n[link](javascript:xss_md())\n\n<iframe src=x></iframe>\n"),
                      "comment": format!("comment {XSS}")}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "wiki save: {}", r.status());
    let mut alert = am_alert(
        "firing",
        "fp-xss",
        &format!("Alert{XSS}"),
        "evil-host.example:9100",
        "critical",
    );
    alert["annotations"]["summary"] = json!(format!("summary {XSS}"));
    alert["annotations"]["runbook_url"] = json!("javascript:xss_runbook()");
    alert["labels"]["team"] = json!(XSS);
    alert["generatorURL"] = json!("javascript:xss_generator()");
    deliver_alert(app, alert).await;
    id
}

#[tokio::test]
async fn no_page_renders_user_text_as_markup_and_every_form_needs_its_csrf_token() {
    let app = TestApp::spawn_with(Options::toml(CONFIG)).await;
    let token = app.token("sec-api", "api");
    let ticket = seed(&app, &token).await;
    app.login_admin().await;
    let starts = [
        "/".to_owned(),
        "/tickets".to_owned(),
        format!("/tickets/{ticket}"),
        "/wiki".to_owned(),
        "/wiki/runbooks/xss".to_owned(),
        "/customers".to_owned(),
        "/alerts".to_owned(),
        "/alerts/deliveries".to_owned(),
        "/admin".to_owned(),
        "/sla".to_owned(),
        "/search?q=xss_script".to_owned(),
    ];
    let starts: Vec<&str> = starts.iter().map(String::as_str).collect();
    let pages = crawl(&app.client, &app, &starts, 250).await;
    assert!(pages.len() >= 15, "the crawl reached {} pages", pages.len());

    let forms = inert(&pages);
    // The seeded texts were on the pages (escaped), so the check above looked at them.
    let escaped = pages
        .iter()
        .filter(|(_, h)| h.contains("xss_script()"))
        .count();
    assert!(
        escaped >= 5,
        "the seeded text shows, escaped, on {escaped} pages"
    );

    assert!(forms.len() >= 10, "found {} forms", forms.len());
    let actions = refuse_without_csrf(&app.client, &app, &forms).await;
    // Still signed in: none of the refused posts (logout among them) did anything.
    let (s, _) = app.get_text("/tickets").await;
    assert_eq!(s, StatusCode::OK);

    // The customer's side: the portal shows the same texts to the customer's own user.
    let eve = crate::portal::customer_user(&app, "eve", "EVIL").await;
    let portal = crawl(
        &eve,
        &app,
        &["/portal", &format!("/portal/tickets/{ticket}")],
        100,
    )
    .await;
    assert!(
        portal.iter().any(|(_, h)| h.contains("xss_script()")),
        "the portal shows the ticket"
    );
    let portal_forms = inert(&portal);
    assert!(!portal_forms.is_empty(), "the portal has forms");
    let portal_actions = refuse_without_csrf(&eve, &app, &portal_forms).await;
    eprintln!(
        "crawled {} staff pages and {} portal pages; {} staff and {} portal form actions refused without a CSRF token",
        pages.len(),
        portal.len(),
        actions.len(),
        portal_actions.len()
    );
}

/// Asserts no page carries live markup or script links; answers the forms that post.
fn inert(pages: &[(String, String)]) -> BTreeSet<Form> {
    let mut forms = BTreeSet::new();
    for (url, html) in pages {
        for live in LIVE {
            assert!(
                !html.contains(live),
                "{url} renders user text as markup ({live})"
            );
        }
        for scheme in ["href=\"javascript:", "src=\"javascript:", "<iframe"] {
            assert!(!html.contains(scheme), "{url} carries {scheme}");
        }
        forms.extend(post_forms(html, url));
    }
    forms
}

/// Posts each form (one per action) without its CSRF token and with a forged one: 403 both
/// times. Answers the actions tried.
async fn refuse_without_csrf(
    c: &reqwest::Client,
    app: &TestApp,
    forms: &BTreeSet<Form>,
) -> BTreeSet<String> {
    let mut actions = BTreeSet::new();
    for form in forms {
        let key = form.action.split('?').next().unwrap_or("").to_owned();
        if !actions.insert(key) {
            continue;
        }
        let without: Vec<(String, String)> = form
            .fields
            .iter()
            .filter(|(n, _)| n != "csrf_token")
            .cloned()
            .collect();
        let mut forged = without.clone();
        forged.push(("csrf_token".into(), "forged-token-value".into()));
        for fields in [without, forged] {
            let r = c
                .post(app.url(&form.action))
                .form(&fields)
                .send()
                .await
                .unwrap();
            assert_eq!(
                r.status(),
                StatusCode::FORBIDDEN,
                "POST {} without its CSRF token",
                form.action
            );
        }
    }
    actions
}

/// A client that sends its request head a byte at a time (slowloris) is cut off once
/// `web.request_timeout` has passed, while everyone else is served meanwhile.
#[tokio::test]
async fn a_client_too_slow_with_its_request_head_is_disconnected() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let app = TestApp::spawn_with(Options::toml("[web]\nrequest_timeout = \"1s\"\n")).await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut slow = Vec::new();
    for _ in 0..20 {
        let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        slow.push(s);
    }
    // Others are served while the slow ones hang on.
    let (s, body) = app.get_text("/healthz").await;
    assert_eq!((s, body.trim()), (StatusCode::OK, "ok"));
    for s in &mut slow {
        // One more header line now and then, never the blank line that ends the head.
        let _ = s.write_all(b"X-Slow: 1\r\n").await;
    }
    for mut s in slow {
        let mut buf = Vec::new();
        let read =
            tokio::time::timeout(std::time::Duration::from_secs(10), s.read_to_end(&mut buf))
                .await
                .expect("the server closes the connection");
        // Closed (EOF or reset), perhaps after a 408: in no case a served request.
        let answer = String::from_utf8_lossy(&buf);
        assert!(read.is_err() || !answer.contains("200 OK"), "{answer}");
    }
}

/// NUL (U+0000) is refused alike on both databases (PostgreSQL cannot store it in text, SQLite
/// can), wherever a person's text comes in, with the field named and nothing stored; the
/// machine intakes (mail, alerts) keep what they were sent, without the NUL.
#[tokio::test]
async fn nul_is_refused_alike_on_both_databases_and_the_field_is_named() {
    let app = TestApp::spawn_with(Options::toml(CONFIG)).await;
    let token = app.token("nul-api", "api");
    let refused = |s: StatusCode, e: &serde_json::Value, field: &str| {
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {e}");
        assert_eq!(e["error"], "invalid", "{e}");
        assert_eq!(e["detail"]["field"], field, "{e}");
        assert!(
            e["detail"]["message"].as_str().unwrap().contains("NUL"),
            "{e}"
        );
    };
    let post = reqwest::Method::POST;
    let (s, e) = call(
        &app,
        &token,
        post.clone(),
        "/api/v1/tickets",
        Some(json!({"queue": "Support", "subject": "disk\u{0}full", "body": "ok"})),
    )
    .await;
    refused(s, &e, "subject");
    let (s, e) = call(
        &app,
        &token,
        post.clone(),
        "/api/v1/tickets",
        Some(json!({"queue": "Support", "subject": "ok", "body": "a\u{0}b"})),
    )
    .await;
    refused(s, &e, "body");
    let (s, e) = call(&app, &token, post.clone(), "/api/v1/customers",
        Some(json!({"code": "NUL", "name": "Nul", "hosts": [{"name": "a.example"}, {"name": "b\u{0}.example"}]}))).await;
    refused(s, &e, "hosts[1].name");
    let (s, e) = call(
        &app,
        &token,
        reqwest::Method::PUT,
        "/api/v1/wiki/runbooks/nul",
        Some(json!({"title": "Nul", "body": "text\u{0}"})),
    )
    .await;
    refused(s, &e, "body");
    let (s, e) = call(
        &app,
        &token,
        reqwest::Method::GET,
        "/api/v1/alerts?state=fir%00ing",
        None,
    )
    .await;
    refused(s, &e, "state");
    let (s, e) = call(
        &app,
        &token,
        reqwest::Method::GET,
        "/api/v1/customers/NU%00L",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    assert!(e["detail"].as_str().unwrap().contains("NUL"), "{e}");
    // Nothing of the refused writes was stored.
    let (_, list) = call(&app, &token, reqwest::Method::GET, "/api/v1/tickets", None).await;
    assert_eq!(list["total"], 0, "{list}");
    let (s, _) = call(
        &app,
        &token,
        reqwest::Method::GET,
        "/api/v1/customers/NUL",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = call(
        &app,
        &token,
        reqwest::Method::GET,
        "/api/v1/wiki/runbooks/nul",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // An anonymous call is told to sign in first, whatever it carries.
    let (s, _) = call(
        &app,
        "no-such-token",
        post.clone(),
        "/api/v1/tickets",
        Some(json!({"queue": "Support", "subject": "x\u{0}"})),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // A backslash and "u0000" typed as text is text.
    let (s, t) = call(
        &app,
        &token,
        post.clone(),
        "/api/v1/tickets",
        Some(json!({"queue": "Support", "subject": "C:\\u0000 path"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    assert_eq!(t["subject"], "C:\\u0000 path");

    // The browser's forms: urlencoded and multipart (a file may hold any byte; its name may not).
    app.login_admin().await;
    let csrf = app.csrf("/tickets/new").await;
    let r = app
        .post_form(
            "/tickets/new",
            &[
                ("csrf_token", &csrf),
                ("queue", "NOC"),
                ("subject", "form\u{0}subject"),
                ("body", "hello"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.unwrap();
    assert!(page.contains("subject") && page.contains("NUL"), "{page}");
    let id = t["id"].as_i64().unwrap();
    let multipart = |body: &str, file: &[u8], name: &str| {
        reqwest::multipart::Form::new()
            .text("csrf_token", csrf.clone())
            .text("kind", "comment")
            .text("body", body.to_owned())
            .part(
                "attachments",
                reqwest::multipart::Part::bytes(file.to_vec())
                    .file_name(name.to_owned())
                    .mime_str("application/octet-stream")
                    .unwrap(),
            )
    };
    let reply = |form| {
        app.client
            .post(app.url(&format!("/tickets/{id}/reply")))
            .multipart(form)
            .send()
    };
    let r = reply(multipart("text\u{0}", b"fine", "a.bin"))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = reply(multipart("fine", b"fine", "a\u{0}.bin"))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = reply(multipart(
        "binary file attached",
        b"\x00\x01\x02\x00",
        "a.bin",
    ))
    .await
    .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    let (_, history) = call(
        &app,
        &token,
        reqwest::Method::GET,
        &format!("/api/v1/tickets/{id}/history"),
        None,
    )
    .await;
    let text = history.to_string();
    assert!(
        text.contains("binary file attached") && !text.contains("text\\u0000"),
        "{history}"
    );

    // Machines' intakes keep the message and lose only the NUL.
    let mail_token = app.token("nul-mail", "mail");
    let r = client()
        .post(app.url("/api/v1/mail/inbound?queue=Support"))
        .bearer_auth(&mail_token)
        .header("content-type", "message/rfc822")
        .body(
            &b"From: a@example.net\r\nTo: support@example.net\r\nSubject: mail with a NUL\r\n\
Message-ID: <nul-1@example.net>\r\n\r\nbefore\x00after\r\n"[..],
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let mut alert = am_alert(
        "firing",
        "fp-nul",
        "Nul\u{0}Alert",
        "nul-host.example:9100",
        "critical",
    );
    alert["annotations"]["summary"] = json!("summary\u{0}here");
    deliver_alert(&app, alert).await;
    let (_, list) = call(
        &app,
        &token,
        reqwest::Method::GET,
        "/api/v1/tickets?query=Subject%20LIKE%20%27NUL%27",
        None,
    )
    .await;
    let subjects = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["subject"].as_str().unwrap().to_owned())
        .collect::<Vec<_>>();
    assert_eq!(subjects.len(), 2, "{list}");
    assert!(subjects.iter().all(|s| !s.contains('\0')), "{subjects:?}");
}

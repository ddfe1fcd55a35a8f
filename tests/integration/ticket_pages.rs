use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;
use crate::tickets::{open_ticket, with_token};

#[tokio::test]
async fn the_ticket_list_shows_the_queue_overview_and_the_columns_staff_scan() {
    let (app, token) = with_token().await;
    open_ticket(&app, &token, json!({"queue": "NOC", "subject": "BGP <b>down</b>", "requestors": ["noc@acme.example"], "priority": 1})).await;
    app.login_admin().await;
    let (s, body) = app.get_text("/tickets").await;
    assert_eq!(s, StatusCode::OK);
    for needle in [
        "Support",
        "NOC",
        "Requestor",
        "Customer",
        "Owner",
        "Updated",
        "noc@acme.example",
        "P1",
        "Nobody",
        "hx-trigger=\"every 30s\"",
    ] {
        assert!(body.contains(needle), "missing {needle}");
    }
    assert!(
        body.contains("BGP &#60;b&#62;down&#60;/b&#62;")
            || body.contains("BGP &lt;b&gt;down&lt;/b&gt;"),
        "subjects are escaped"
    );
    let (s, rows) = app
        .get_text("/tickets/rows?q=Queue%20%3D%20%27NOC%27")
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        rows.contains("BGP") && !rows.contains("<html"),
        "the refresh partial is the rows alone"
    );
}

#[tokio::test]
async fn a_bad_query_in_the_browser_says_where_it_went_wrong() {
    let app = TestApp::spawn().await;
    app.login_admin().await;
    let (s, body) = app.get_text("/tickets?q=Queue%20%3D").await;
    assert_eq!(s, StatusCode::OK);
    assert!(body.contains("At position 7: expected"), "{body}");
}

#[tokio::test]
async fn staff_reply_comment_and_resolve_from_the_ticket_page() {
    let (app, token) = with_token().await;
    let id = open_ticket(
        &app,
        &token,
        json!({"queue": "Support", "subject": "slow mail"}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    app.login_admin().await;
    let page = format!("/tickets/{id}");
    let csrf = app.csrf(&page).await;
    let r = app
        .post_form(
            &format!("{page}/reply"),
            &[
                ("csrf_token", &csrf),
                ("kind", "correspond"),
                ("body", "Looking into it"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    app.post_form(
        &format!("{page}/reply"),
        &[
            ("csrf_token", &csrf),
            ("kind", "comment"),
            ("body", "**internal**"),
            ("markdown", "1"),
        ],
    )
    .await;
    app.post_form(&format!("{page}/take"), &[("csrf_token", &csrf)])
        .await;
    let r = app
        .post_form(
            &format!("{page}/update"),
            &[
                ("csrf_token", &csrf),
                ("status", "resolved"),
                ("owner", "admin"),
                ("priority", "3"),
                ("queue", "Support"),
                ("subject", "slow mail"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, body) = app.get_text(&page).await;
    assert!(body.contains("Ticket updated."), "flash shown");
    assert!(body.contains("Looking into it") && body.contains("<strong>internal</strong>"));
    assert!(
        body.contains("status changed from open to resolved"),
        "{body}"
    );
    assert!(body.contains("owner changed from (none) to admin"));
    let r = app
        .post_form(
            &format!("{page}/reply"),
            &[("kind", "comment"), ("body", "no token")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_refused_change_comes_back_as_a_message_on_the_page() {
    let (app, token) = with_token().await;
    let id = open_ticket(&app, &token, json!({"queue": "Support", "subject": "x"})).await["id"]
        .as_i64()
        .unwrap();
    app.login_admin().await;
    let page = format!("/tickets/{id}");
    let csrf = app.csrf(&page).await;
    let r = app
        .post_form(
            &format!("{page}/update"),
            &[("csrf_token", &csrf), ("status", "new")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, body) = app.get_text(&page).await;
    assert!(
        !body.contains("cannot become"),
        "new → new is no change: {body}"
    );
    let r = app
        .post_form(
            &format!("{page}/merge"),
            &[("csrf_token", &csrf), ("into", &id.to_string())],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, body) = app.get_text(&page).await;
    assert!(body.contains("cannot be merged into itself"), "{body}");
}

#[tokio::test]
async fn bulk_update_changes_every_selected_ticket_and_reports_refusals() {
    let (app, token) = with_token().await;
    let a = open_ticket(&app, &token, json!({"queue": "Support", "subject": "a"})).await["id"]
        .as_i64()
        .unwrap();
    let b = open_ticket(&app, &token, json!({"queue": "Support", "subject": "b"})).await["id"]
        .as_i64()
        .unwrap();
    let c = open_ticket(&app, &token, json!({"queue": "Support", "subject": "c"})).await["id"]
        .as_i64()
        .unwrap();
    crate::tickets::call(
        &app,
        &token,
        reqwest::Method::POST,
        &format!("/api/v1/tickets/{a}/links"),
        Some(json!({"type": "DependsOn", "target": c})),
    )
    .await;
    app.login_admin().await;
    let csrf = app.csrf("/tickets").await;
    let body =
        format!("csrf_token={csrf}&ids={a}&ids={b}&status=resolved&priority=2&owner=&queue=");
    let r = app
        .client
        .post(app.url("/tickets/bulk"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, page) = app.get_text("/tickets").await;
    assert!(
        page.contains(&format!("Updated 1 ticket(s); refused #{a}")),
        "{page}"
    );
    let (_, tb) = crate::tickets::call(
        &app,
        &token,
        reqwest::Method::GET,
        &format!("/api/v1/tickets/{b}"),
        None,
    )
    .await;
    assert_eq!(
        (tb["status"].as_str(), tb["priority"].as_i64()),
        (Some("resolved"), Some(2))
    );
}

#[tokio::test]
async fn staff_open_a_ticket_from_the_form_and_customers_are_kept_out() {
    let (app, _) = with_token().await;
    app.login_admin().await;
    let csrf = app.csrf("/tickets/new").await;
    let r = app
        .post_form(
            "/tickets/new",
            &[
                ("csrf_token", &csrf),
                ("queue", "NOC"),
                ("subject", "from the form"),
                ("requestors", "a@x.net, b@x.net"),
                ("priority", "2"),
                ("body", "hello"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let loc = r.headers()["location"].to_str().unwrap().to_owned();
    let (_, body) = app.get_text(&loc).await;
    assert!(body.contains("from the form") && body.contains("a@x.net") && body.contains("b@x.net"));
    app.cli(&["customer", "add", "ACME", "--name", "Acme"], None);
    app.cli(
        &[
            "user",
            "add",
            "carol",
            "--email",
            "c@acme.example",
            "--role",
            "customer",
            "--customer",
            "ACME",
            "--password-stdin",
        ],
        Some("carol-password-1"),
    );
    let other = client();
    let t = csrf_in(
        &other
            .get(app.url("/login"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    other
        .post(app.url("/login"))
        .form(&[
            ("username", "carol"),
            ("password", "carol-password-1"),
            ("csrf_token", &t),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        other
            .get(app.url("/tickets"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    // The staff page of a ticket sends a customer to the portal, where another customer's
    // ticket does not exist.
    let r = other.get(app.url(&loc)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let portal = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(portal.starts_with("/portal/tickets/"), "{portal}");
    assert_eq!(
        other.get(app.url(&portal)).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
}

fn reply_form(
    csrf: &str,
    body: &str,
    files: Vec<(&str, &str, Vec<u8>)>,
) -> reqwest::multipart::Form {
    let mut form = reqwest::multipart::Form::new()
        .text("csrf_token", csrf.to_owned())
        .text("kind", "correspond")
        .text("body", body.to_owned());
    for (name, mime, data) in files {
        let part = reqwest::multipart::Part::bytes(data)
            .file_name(name.to_owned())
            .mime_str(mime)
            .unwrap();
        form = form.part("attachments", part);
    }
    form
}

#[tokio::test]
async fn files_attached_to_a_reply_are_listed_and_download_safely() {
    let (app, token) = with_token().await;
    let id = open_ticket(&app, &token, json!({"queue": "Support", "subject": "logs"})).await["id"]
        .as_i64()
        .unwrap();
    app.login_admin().await;
    let page = format!("/tickets/{id}");
    let csrf = app.csrf(&page).await;
    let files = vec![
        ("router.log", "text/plain", b"line 1\nline 2\n".to_vec()),
        (
            "evil.html",
            "text/html",
            b"<script>alert(document.cookie)</script>".to_vec(),
        ),
        (
            "../../etc/passwd",
            "application/octet-stream",
            b"root:x:0:0".to_vec(),
        ),
    ];
    let r = app
        .client
        .post(app.url(&format!("{page}/reply")))
        .multipart(reply_form(&csrf, "logs attached", files))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, body) = app.get_text(&page).await;
    for name in ["router.log", "evil.html", "passwd"] {
        assert!(body.contains(&format!(">{name}</a>")), "{name} listed");
    }
    assert!(!body.contains("../"), "paths are stripped");
    let href = |name: &str| {
        let i = body.find(&format!(">{name}</a>")).unwrap();
        let start = body[..i].rfind("href=\"").unwrap() + 6;
        body[start..body[start..].find('"').unwrap() + start].to_owned()
    };
    let r = app.get(&href("router.log")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "text/plain; charset=utf-8");
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"router.log\"")
    );
    assert_eq!(r.bytes().await.unwrap().as_ref(), b"line 1\nline 2\n");
    let r = app.get(&href("evil.html")).await;
    assert_eq!(
        r.headers()["content-type"],
        "application/octet-stream",
        "HTML is never served as HTML"
    );
    assert!(
        r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("sandbox")
    );
    // Another ticket's number does not reach this attachment.
    let other = open_ticket(
        &app,
        &token,
        json!({"queue": "Support", "subject": "other"}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let stolen =
        href("router.log").replace(&format!("/tickets/{id}/"), &format!("/tickets/{other}/"));
    assert_eq!(app.get(&stolen).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_file_over_the_limit_is_refused_with_a_clear_message_and_nothing_is_stored() {
    let app = TestApp::spawn_with(Options::toml("[web]\nmax_attachment_bytes = 1000\n")).await;
    app.login_admin().await;
    let csrf = app.csrf("/tickets/new").await;
    let r = app
        .post_form(
            "/tickets/new",
            &[
                ("csrf_token", &csrf),
                ("queue", "General"),
                ("subject", "big file"),
            ],
        )
        .await;
    let page = r.headers()["location"].to_str().unwrap().to_owned();
    let files = vec![("dump.bin", "application/octet-stream", vec![7u8; 5000])];
    let r = app
        .client
        .post(app.url(&format!("{page}/reply")))
        .multipart(reply_form(&csrf, "here it is", files))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, body) = app.get_text(&page).await;
    assert!(
        body.contains("dump.bin is 4.9 KB; the limit is 1000 B (web.max_attachment_bytes)"),
        "{body}"
    );
    assert!(
        !body.contains("here it is"),
        "the reply is not half-stored without its file"
    );
    // Without the CSRF token, a multipart post is refused too.
    let form = reqwest::multipart::Form::new()
        .text("kind", "comment")
        .text("body", "x");
    let r = app
        .client
        .post(app.url(&format!("{page}/reply")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

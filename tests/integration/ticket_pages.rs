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
    assert_eq!(
        other.get(app.url(&loc)).send().await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
}

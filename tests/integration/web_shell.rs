use reqwest::StatusCode;

use crate::helpers::*;

#[tokio::test]
async fn health_answers_ok_and_ready_while_the_database_answers() {
    let app = TestApp::spawn().await;
    assert_eq!(
        app.get_text("/healthz").await,
        (StatusCode::OK, "ok".to_owned())
    );
    let (status, body) = app.get_text("/readyz").await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_show_the_pool_and_the_job_queue() {
    let app = TestApp::spawn().await;
    app.get("/healthz").await;
    app.get("/login").await;
    let r = app.get("/metrics").await;
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let body = r.text().await.unwrap();
    for needle in [
        "opsdesk_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 1",
        "opsdesk_http_request_duration_seconds_bucket{method=\"GET\",route=\"/login\",le=\"+Inf\"} 1",
        "opsdesk_db_pool_connections{state=\"idle\"}",
        "opsdesk_jobs{state=\"queued\"}",
        "opsdesk_jobs{state=\"dead\"} 0",
        "opsdesk_db_up 1",
    ] {
        assert!(body.contains(needle), "missing {needle} in\n{body}");
    }
    // SQLite's full-text index and PostgreSQL's pair index trail the writes; nothing was
    // written, so nothing waits.
    let postgres = body.contains("backend=\"postgres\"");
    for (needle, shown) in [
        ("opsdesk_search_unindexed{index=\"subjects\"} 0", true),
        ("opsdesk_search_unindexed{index=\"bodies\"} 0", true),
        ("opsdesk_search_unindexed{index=\"wiki\"} 0", postgres),
    ] {
        assert_eq!(body.contains(needle), shown, "{needle} in\n{body}");
    }
}

#[tokio::test]
async fn pages_carry_the_security_headers() {
    let app = TestApp::spawn().await;
    let r = app.get("/login").await;
    let h = r.headers();
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"));
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "same-origin");
    assert!(h.contains_key("x-request-id"));
    let body = r.text().await.unwrap();
    assert!(
        !body.contains("<script>") && !body.contains("style="),
        "inline script or style on the page"
    );
}

#[tokio::test]
async fn static_files_are_versioned_and_cached_for_a_year() {
    let app = TestApp::spawn().await;
    let (_, page) = app.get_text("/login").await;
    let i = page.find("/static/app.css?v=").unwrap();
    let href = &page[i..i + page[i..].find('"').unwrap()];
    let r = app.get(href).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    let etag = r.headers()["etag"].to_str().unwrap().to_owned();
    let again = app
        .client
        .get(app.url(href))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(
        app.get("/static/htmx.min.js").await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.get("/static/../Cargo.toml").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn unknown_pages_answer_an_html_404_and_unknown_api_routes_a_json_404() {
    let app = TestApp::spawn().await;
    let r = app.get("/no/such/page").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(r.text().await.unwrap().contains("404"));
    let r = app.get("/api/v1/no-such-thing").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let j: serde_json::Value = r.json().await.unwrap();
    assert_eq!(j["error"], "not_found");
}

#[tokio::test]
async fn api_rejections_of_axum_itself_are_dressed_as_json_errors() {
    let app = TestApp::spawn().await;
    let r = app.client.post(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    let j: serde_json::Value = r.json().await.unwrap();
    assert_eq!(j["error"], "method_not_allowed");
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_with_413() {
    let app = TestApp::spawn_with(Options::toml("[web]\nmax_body_bytes = 1024\n")).await;
    let token = app.csrf("/login").await;
    let big = "x".repeat(4096);
    let r = app
        .post_form(
            "/login",
            &[
                ("username", "admin"),
                ("password", &big),
                ("csrf_token", &token),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.text().await.unwrap().contains("max_body_bytes"));
}

#[tokio::test]
async fn signed_out_visitors_are_sent_to_the_login_page_with_their_destination() {
    let app = TestApp::spawn().await;
    let r = app.get("/admin/jobs").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/login?next=%2Fadmin%2Fjobs");
    let r = app.login("admin", ADMIN_PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/");
}

#[tokio::test]
async fn the_home_page_greets_the_signed_in_user_and_offers_sign_out() {
    let app = TestApp::spawn().await;
    app.login_admin().await;
    let (status, body) = app.get_text("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Welcome, Administrator"), "{body}");
    assert!(body.contains("action=\"/logout\""));
    assert!(
        body.contains("name=\"viewport\""),
        "not usable on a phone without a viewport"
    );
}

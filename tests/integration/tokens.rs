use reqwest::StatusCode;

use crate::helpers::*;

fn create(app: &TestApp, name: &str, scope: &str) -> String {
    let out = app.cli(&["token", "create", name, "--scope", scope], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert_eq!(
        stdout.lines().count(),
        1,
        "token create prints only the token: {stdout:?}"
    );
    stdout.trim().to_owned()
}

#[tokio::test]
async fn a_token_of_scope_api_reaches_the_api_and_answers_me_as_itself() {
    let app = TestApp::spawn().await;
    let token = create(&app, "deploy-bot", "api");
    assert!(token.starts_with("odt_") && token.len() > 40);
    let r = app.api_get("/api/v1/me", &token).await;
    assert_eq!(r.status(), StatusCode::OK);
    let me: serde_json::Value = r.json().await.unwrap();
    assert_eq!(me["username"], "deploy-bot");
    assert_eq!(me["role"], "api");
}

#[tokio::test]
async fn a_token_created_for_a_user_acts_as_that_user() {
    let app = TestApp::spawn().await;
    let out = app.cli(
        &[
            "token",
            "create",
            "admin-cli",
            "--scope",
            "api",
            "--user",
            "admin",
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let me: serde_json::Value = app
        .api_get("/api/v1/me", text(&out.stdout).trim())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "admin");
    assert_eq!(me["role"], "admin");
}

#[tokio::test]
async fn a_token_of_another_scope_is_forbidden_on_the_api() {
    let app = TestApp::spawn().await;
    let token = create(&app, "am", "alerts");
    let r = app.api_get("/api/v1/me", &token).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let j: serde_json::Value = r.json().await.unwrap();
    assert!(j["detail"].as_str().unwrap().contains("scope api"), "{j}");
}

#[tokio::test]
async fn a_wrong_or_revoked_token_answers_401_in_json() {
    let app = TestApp::spawn().await;
    let r = app.api_get("/api/v1/me", "odt_not-a-real-token").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let j: serde_json::Value = r.json().await.unwrap();
    assert_eq!(j["error"], "unauthorized");
    let token = create(&app, "temp", "api");
    assert_eq!(
        app.api_get("/api/v1/me", &token).await.status(),
        StatusCode::OK
    );
    let out = app.cli(&["token", "revoke", "temp"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        app.api_get("/api/v1/me", &token).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn tokens_are_stored_only_as_hashes() {
    let app = TestApp::spawn().await;
    let token = create(&app, "hashed", "mail");
    let db = app.db.pool().await;
    let stored: Vec<String> = match &db {
        opsdesk::db::Db::Sqlite(p) => sqlx::query_scalar("SELECT token_hash FROM api_tokens")
            .fetch_all(&**p)
            .await
            .unwrap(),
        opsdesk::db::Db::Postgres(p) => sqlx::query_scalar("SELECT token_hash FROM api_tokens")
            .fetch_all(p)
            .await
            .unwrap(),
    };
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].contains(&token[4..]));
    assert_eq!(stored[0], opsdesk::auth::sessions::hash_token(&token));
}

#[tokio::test]
async fn a_duplicate_token_name_is_refused_with_the_reason() {
    let app = TestApp::spawn().await;
    create(&app, "dup", "api");
    let out = app.cli(&["token", "create", "dup", "--scope", "api"], None);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("already exists"),
        "{}",
        text(&out.stderr)
    );
    assert!(text(&out.stdout).is_empty());
}

#[tokio::test]
async fn a_browser_session_writing_to_the_api_must_send_the_csrf_header() {
    let app = TestApp::spawn().await;
    app.login_admin().await;
    // There is no write endpoint yet beyond the shell; a POST to /api/v1/me proves the guard
    // runs before routing: without the header it is 403, with it the route answers 405.
    let r = app.client.post(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let token = app.csrf("/").await;
    let r = app
        .client
        .post(app.url("/api/v1/me"))
        .header("x-csrf-token", token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
}

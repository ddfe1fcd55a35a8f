use reqwest::StatusCode;

use crate::helpers::*;

#[tokio::test]
async fn the_first_start_admin_signs_in_and_gets_an_httponly_lax_session_cookie() {
    let app = TestApp::spawn().await;
    let r = app.login("admin", ADMIN_PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let cookie = session_cookie(&r).expect("a session cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(
        !cookie.contains("Secure"),
        "plain http base_url must not set Secure: {cookie}"
    );
    let me: serde_json::Value = app.get("/api/v1/me").await.json().await.unwrap();
    assert_eq!(me["username"], "admin");
    assert_eq!(me["role"], "admin");
    assert_eq!(me["customer"], serde_json::Value::Null);
}

#[tokio::test]
async fn the_cookie_is_secure_when_base_url_is_https() {
    let app = TestApp::spawn_with(Options {
        env: vec![("OPSDESK_BASE_URL".into(), "https://desk.example.net".into())],
        ..Options::default()
    })
    .await;
    let r = app.get("/login").await;
    let c = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        c.starts_with("__Host-opsdesk_session=") && c.contains("; Secure"),
        "{c}"
    );
}

#[tokio::test]
async fn without_an_admin_password_the_first_start_prints_a_generated_one_that_works() {
    let app = TestApp::spawn_with(Options {
        no_admin_password: true,
        ..Options::default()
    })
    .await;
    let log = app.log_text();
    let i = log
        .find("generated password ")
        .expect("the generated password is logged once");
    let pw: String = log[i + 19..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    assert_eq!(
        app.login("admin", &pw).await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_get_the_same_401_and_message() {
    let app = TestApp::spawn().await;
    let a = app.login("admin", "not-the-password").await;
    assert_eq!(a.status(), StatusCode::UNAUTHORIZED);
    let a = a.text().await.unwrap();
    let b = app.login("nobody-here", "not-the-password").await;
    assert_eq!(b.status(), StatusCode::UNAUTHORIZED);
    let b = b.text().await.unwrap();
    assert!(a.contains("Wrong username or password.") && b.contains("Wrong username or password."));
    assert!(
        a.contains("<form method=\"post\" action=\"/login\">"),
        "the form comes back"
    );
}

#[tokio::test]
async fn a_login_post_without_the_csrf_token_is_refused_with_403() {
    let app = TestApp::spawn().await;
    app.get("/login").await;
    let r = app
        .post_form(
            "/login",
            &[("username", "admin"), ("password", ADMIN_PASSWORD)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app
        .post_form(
            "/login",
            &[
                ("username", "admin"),
                ("password", ADMIN_PASSWORD),
                ("csrf_token", "forged"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // And with no session at all (a cross-site form post):
    let r = client()
        .post(app.url("/login"))
        .form(&[
            ("username", "admin"),
            ("password", ADMIN_PASSWORD),
            ("csrf_token", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn repeated_failures_for_one_username_answer_429_even_with_the_right_password() {
    let app = TestApp::spawn().await;
    for _ in 0..5 {
        assert_eq!(
            app.login("admin", "wrong-password").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let r = app.login("admin", ADMIN_PASSWORD).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0 && retry <= 15 * 60, "{retry}");
    assert!(r.text().await.unwrap().contains("Too many failed sign-ins"));
}

#[tokio::test]
async fn repeated_failures_from_one_address_answer_429_across_usernames() {
    let app = TestApp::spawn_with(Options::toml("[auth]\nmax_failures_per_address = 3\n")).await;
    for user in ["u1", "u2", "u3"] {
        assert_eq!(
            app.login(user, "wrong-password").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        app.login("u4", "wrong-password").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn a_successful_sign_in_clears_the_users_earlier_failures() {
    let app = TestApp::spawn().await;
    for _ in 0..4 {
        app.login("admin", "typo-password").await;
    }
    assert_eq!(
        app.login("admin", ADMIN_PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    app.post_form("/logout", &[("csrf_token", &app.csrf("/").await)])
        .await;
    for _ in 0..4 {
        assert_eq!(
            app.login("admin", "typo-password").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
}

#[tokio::test]
async fn next_after_login_only_follows_local_paths() {
    let app = TestApp::spawn().await;
    let token = app.csrf("/login?next=/admin").await;
    let r = app
        .post_form(
            "/login",
            &[
                ("username", "admin"),
                ("password", ADMIN_PASSWORD),
                ("csrf_token", &token),
                ("next", "https://evil.example/"),
            ],
        )
        .await;
    assert_eq!(r.headers()["location"], "/");
}

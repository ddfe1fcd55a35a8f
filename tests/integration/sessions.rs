use jiff::SignedDuration;
use reqwest::StatusCode;

use crate::helpers::*;

#[tokio::test]
async fn signing_in_issues_a_new_session_id_so_a_planted_one_is_worthless() {
    let app = TestApp::spawn().await;
    let before = session_cookie(&app.get("/login").await).unwrap();
    let token = app.csrf("/login").await;
    let r = app
        .post_form(
            "/login",
            &[
                ("username", "admin"),
                ("password", ADMIN_PASSWORD),
                ("csrf_token", &token),
            ],
        )
        .await;
    let after = session_cookie(&r).unwrap();
    let value = |c: &str| c.split(';').next().unwrap().to_owned();
    assert_ne!(value(&before), value(&after));
    // The pre-login id does not sign anybody in.
    let planted = client()
        .get(app.url("/api/v1/me"))
        .header("cookie", value(&before))
        .send()
        .await
        .unwrap();
    assert_eq!(planted.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn logout_ends_the_session_in_the_database_not_only_in_the_browser() {
    let app = TestApp::spawn().await;
    let r = app.login("admin", ADMIN_PASSWORD).await;
    let cookie = session_cookie(&r)
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let token = app.csrf("/").await;
    let r = app.post_form("/logout", &[("csrf_token", &token)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(session_cookie(&r).unwrap().contains("Max-Age=0"));
    let replay = client()
        .get(app.url("/api/v1/me"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn logout_without_the_csrf_token_is_refused() {
    let app = TestApp::spawn().await;
    app.login_admin().await;
    assert_eq!(
        app.post_form("/logout", &[]).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(app.get("/api/v1/me").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_session_ends_after_the_idle_limit_without_use() {
    let app =
        InProcess::start("[auth]\nsession_idle = \"30m\"\nsession_lifetime = \"12h\"\n").await;
    assert_eq!(
        app.login("admin", ADMIN_PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    app.clock.advance(SignedDuration::from_mins(29));
    assert_eq!(app.me_status().await, StatusCode::OK);
    // Use extended it: 29 more minutes are still inside the idle limit.
    app.clock.advance(SignedDuration::from_mins(29));
    assert_eq!(app.me_status().await, StatusCode::OK);
    app.clock.advance(SignedDuration::from_mins(31));
    assert_eq!(app.me_status().await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_session_ends_at_its_absolute_lifetime_however_busy() {
    let app = InProcess::start("[auth]\nsession_idle = \"1h\"\nsession_lifetime = \"3h\"\n").await;
    app.login("admin", ADMIN_PASSWORD).await;
    for _ in 0..5 {
        app.clock.advance(SignedDuration::from_mins(35));
        assert_eq!(app.me_status().await, StatusCode::OK);
    }
    app.clock.advance(SignedDuration::from_mins(10));
    assert_eq!(app.me_status().await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn throttling_lifts_when_the_oldest_failure_leaves_the_window() {
    let app = InProcess::start("[auth]\nlogin_window = \"15m\"\nmax_failures_per_user = 3\n").await;
    for _ in 0..3 {
        assert_eq!(
            app.login("admin", "wrong-password").await.status(),
            StatusCode::UNAUTHORIZED
        );
        app.clock.advance(SignedDuration::from_mins(1));
    }
    let r = app.login("admin", ADMIN_PASSWORD).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: i64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        retry,
        12 * 60,
        "the first failure leaves the window 12 minutes from now"
    );
    app.clock.advance(SignedDuration::from_mins(13));
    assert_eq!(
        app.login("admin", ADMIN_PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
}

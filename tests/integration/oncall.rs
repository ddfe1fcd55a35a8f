//! `GET /api/v1/oncall/{name}` (CONTRACT §3) against a rotation from the config, its
//! overrides (issue 5), and the `/oncall` page.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Options, TestApp, text};
use crate::tickets::{call, with_token_and};

pub const NOC: &str = r#"
[[oncall]]
name     = "noc"
timezone = "Europe/Rome"
start    = "2026-11-02"
handoff  = "mon 09:00"
rotation = ["alice", "bob", "dave"]
"#;

/// `POST /api/v1/oncall/noc/overrides` with `body`.
async fn post_override(app: &TestApp, token: &str, body: Value) -> (StatusCode, Value) {
    call(
        app,
        token,
        Method::POST,
        "/api/v1/oncall/noc/overrides",
        Some(body),
    )
    .await
}

#[tokio::test]
async fn the_oncall_route_names_the_primary_and_backup_at_an_instant_and_until_when() {
    let app = TestApp::spawn_with(Options::toml(NOC)).await;
    let token = app.token("ops", "api");

    // Wednesday 2026-11-18 12:00 in Rome is the third week: dave, then alice.
    let r = app
        .api_get("/api/v1/oncall/noc?at=2026-11-18T11:00:00Z", &token)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["primary"], "dave");
    assert_eq!(v["backup"], "alice");
    assert_eq!(
        v["until"], "2026-11-23T08:00:00Z",
        "Monday 09:00 in Rome, winter time"
    );
    assert_eq!(v["since"], "2026-11-16T08:00:00Z");

    // Without `at`: now, whatever week that is, with a hand-off still ahead.
    let r = app.api_get("/api/v1/oncall/noc", &token).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert!(["alice", "bob", "dave"].contains(&v["primary"].as_str().unwrap()));
    assert_ne!(v["primary"], v["backup"]);

    let r = app.api_get("/api/v1/oncall/nobody", &token).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    let r = app
        .api_get("/api/v1/oncall/noc?at=next%20week", &token)
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let v: Value = r.json().await.unwrap();
    assert!(
        v["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("next week"),
        "the answer names the bad value: {v}"
    );

    let r = app.api_get("/api/v1/oncall/noc", "odt_not-a-token").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

/// Week 479 after the start (Monday 2036-01-07 09:00 Rome to the next Monday): dave, then
/// alice. Far enough ahead to stay "upcoming" whenever the suite runs.
const WEEK_START: &str = "2036-01-07T08:00:00Z";
const WEEK_END: &str = "2036-01-14T08:00:00Z";

async fn duty_at(app: &TestApp, token: &str, at: &str) -> Value {
    let r = app
        .api_get(&format!("/api/v1/oncall/noc?at={at}"), token)
        .await;
    assert_eq!(r.status(), StatusCode::OK, "duty at {at}");
    r.json().await.unwrap()
}

#[tokio::test]
async fn an_override_puts_someone_else_on_duty_for_its_interval_until_it_is_deleted() {
    let (app, token) = with_token_and(NOC).await;
    let v = duty_at(&app, &token, "2036-01-09T12:00:00Z").await;
    assert_eq!(
        (v["primary"].as_str(), v["backup"].as_str()),
        (Some("dave"), Some("alice"))
    );
    assert_eq!(
        (v["since"].as_str(), v["until"].as_str()),
        (Some(WEEK_START), Some(WEEK_END))
    );

    let (s, o) = post_override(
        &app,
        &token,
        json!({"starts_at": "2036-01-09T10:00:00Z", "ends_at": "2036-01-10T10:00:00Z",
            "primary": "erin", "reason": "swap with dave"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{o}");
    let id = o["id"].as_i64().unwrap();
    assert_eq!(o["rotation"], "noc");
    assert_eq!(o["primary"], "erin");
    assert_eq!(o["backup"], Value::Null);
    assert_eq!(o["reason"], "swap with dave");
    assert_eq!(o["created_by"], "tests");
    assert_eq!(o["starts_at"], "2036-01-09T10:00:00Z");
    assert_eq!(o["ends_at"], "2036-01-10T10:00:00Z");

    let (s, list) = call(
        &app,
        &token,
        Method::GET,
        "/api/v1/oncall/noc/overrides",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["id"], id);

    // Before it: the rotation, until the override starts.
    let v = duty_at(&app, &token, "2036-01-09T09:59:59Z").await;
    assert_eq!(v["primary"], "dave");
    assert_eq!(v["until"], "2036-01-09T10:00:00Z");
    // From its start (inclusive): erin, with the rotation's backup, until its end.
    let v = duty_at(&app, &token, "2036-01-09T10:00:00Z").await;
    assert_eq!(
        (v["primary"].as_str(), v["backup"].as_str()),
        (Some("erin"), Some("alice"))
    );
    assert_eq!(v["since"], "2036-01-09T10:00:00Z");
    assert_eq!(v["until"], "2036-01-10T10:00:00Z");
    // At its end (exclusive): the rotation again, until the hand-off.
    let v = duty_at(&app, &token, "2036-01-10T10:00:00Z").await;
    assert_eq!(v["primary"], "dave");
    assert_eq!(
        (v["since"].as_str(), v["until"].as_str()),
        (Some("2036-01-10T10:00:00Z"), Some(WEEK_END))
    );

    // A later override over the first one wins where they overlap.
    let (s, o2) = post_override(
        &app,
        &token,
        json!({"starts_at": "2036-01-09T20:00:00Z", "ends_at": "2036-01-09T22:00:00Z",
            "primary": "gina", "backup": "hank"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{o2}");
    let v = duty_at(&app, &token, "2036-01-09T21:00:00Z").await;
    assert_eq!(
        (v["primary"].as_str(), v["backup"].as_str()),
        (Some("gina"), Some("hank"))
    );
    let v = duty_at(&app, &token, "2036-01-09T22:00:00Z").await;
    assert_eq!(v["primary"], "erin");
    assert_eq!(v["until"], "2036-01-10T10:00:00Z");

    let del = |id: i64| {
        let app = &app;
        let token = &token;
        async move {
            call(
                app,
                token,
                Method::DELETE,
                &format!("/api/v1/oncall/noc/overrides/{id}"),
                None,
            )
            .await
            .0
        }
    };
    assert_eq!(del(id).await, StatusCode::NO_CONTENT);
    assert_eq!(del(id).await, StatusCode::NOT_FOUND, "already gone");
    let v = duty_at(&app, &token, "2036-01-09T12:00:00Z").await;
    assert_eq!(v["primary"], "dave", "the rotation holds again");
    let (_, list) = call(
        &app,
        &token,
        Method::GET,
        "/api/v1/oncall/noc/overrides",
        None,
    )
    .await;
    assert_eq!(
        list.as_array().unwrap().len(),
        1,
        "only the second is left: {list}"
    );
    let (s, _) = call(
        &app,
        &token,
        Method::DELETE,
        "/api/v1/oncall/nobody/overrides/1",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_bad_override_is_refused_with_what_was_wrong() {
    let (app, token) = with_token_and(NOC).await;
    let post = |name: &'static str, body: Value| {
        let app = &app;
        let token = &token;
        async move {
            call(
                app,
                token,
                Method::POST,
                &format!("/api/v1/oncall/{name}/overrides"),
                Some(body),
            )
            .await
        }
    };
    let cases = [
        (
            json!({"starts_at": "2036-01-10T10:00:00Z", "ends_at": "2036-01-10T10:00:00Z", "primary": "erin"}),
            "ends_at",
        ),
        (
            json!({"starts_at": "2036-01-10T10:00:00Z", "ends_at": "2036-01-09T10:00:00Z", "primary": "erin"}),
            "ends_at",
        ),
        (
            json!({"starts_at": "2036-01-09T10:00:00Z", "ends_at": "2036-01-10T10:00:00Z", "primary": " "}),
            "primary",
        ),
        (
            json!({"starts_at": "2036-01-09T10:00:00Z", "ends_at": "2036-01-10T10:00:00Z"}),
            "primary",
        ),
        (
            json!({"starts_at": "tomorrow", "ends_at": "2036-01-10T10:00:00Z", "primary": "erin"}),
            "tomorrow",
        ),
        (
            json!({"ends_at": "2036-01-10T10:00:00Z", "primary": "erin"}),
            "starts_at",
        ),
    ];
    for (body, needle) in cases {
        let (s, v) = post("noc", body.clone()).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body} → {v}");
        assert_eq!(v["error"], "bad_request");
        assert!(
            v["detail"].as_str().unwrap_or_default().contains(needle),
            "{body}: the answer names {needle}: {v}"
        );
    }
    let (s, _) = post(
        "nobody",
        json!({"starts_at": "2036-01-09T10:00:00Z", "ends_at": "2036-01-10T10:00:00Z", "primary": "erin"}),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "an unknown rotation");
    let (_, list) = call(
        &app,
        &token,
        Method::GET,
        "/api/v1/oncall/noc/overrides",
        None,
    )
    .await;
    assert_eq!(list, json!([]), "nothing was stored");
}

#[tokio::test]
async fn customers_may_not_see_or_change_the_rotation() {
    let (app, _) = with_token_and(NOC).await;
    let out = app.cli(
        &["customer", "add", "ACME", "--name", "Acme Networks"],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = app.cli(
        &[
            "user",
            "add",
            "carol",
            "--email",
            "carol@acme.example",
            "--role",
            "customer",
            "--customer",
            "ACME",
            "--password-stdin",
        ],
        Some("carol-password-1"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        app.login("carol", "carol-password-1").await.status(),
        StatusCode::SEE_OTHER
    );
    let csrf = app.csrf("/portal").await;
    for path in [
        "/api/v1/oncall/noc",
        "/api/v1/oncall/noc/overrides",
        "/oncall",
    ] {
        assert_eq!(
            app.get(path).await.status(),
            StatusCode::FORBIDDEN,
            "GET {path}"
        );
    }
    let r = app
        .client
        .post(app.url("/api/v1/oncall/noc/overrides"))
        .header("X-CSRF-Token", &csrf)
        .json(&json!({"starts_at": "2036-01-09T10:00:00Z", "ends_at": "2036-01-10T10:00:00Z", "primary": "carol"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

/// "2036-01-09T11:00" (a `datetime-local` value) in Rome for an RFC 3339 instant.
fn rome_local(t: jiff::Timestamp) -> String {
    t.to_zoned(jiff::tz::TimeZone::get("Europe/Rome").unwrap())
        .strftime("%Y-%m-%dT%H:%M")
        .to_string()
}

#[tokio::test]
async fn the_oncall_page_shows_who_is_on_duty_and_takes_overrides() {
    let (app, token) = with_token_and(NOC).await;
    app.login_admin().await;
    let (s, body) = app.get_text("/oncall").await;
    assert_eq!(s, StatusCode::OK);
    for needle in [
        "noc",
        "Europe/Rome",
        "alice",
        "bob",
        "dave",
        "Primary now",
        "The next 8 weeks",
    ] {
        assert!(body.contains(needle), "missing {needle}: {body}");
    }
    assert!(
        body.contains("action=\"/oncall/noc/overrides\""),
        "the add form"
    );

    // An override the day after the next hand-off, typed as wall-clock time in Rome.
    let now = duty_at(&app, &token, "").await;
    let handoff: jiff::Timestamp = now["until"].as_str().unwrap().parse().unwrap();
    let from = handoff + jiff::SignedDuration::from_hours(24);
    let to = from + jiff::SignedDuration::from_hours(24);
    let csrf = app.csrf("/oncall").await;
    let form = |from: &str, to: &str| {
        vec![
            ("csrf_token".to_owned(), csrf.clone()),
            ("starts_at".to_owned(), from.to_owned()),
            ("ends_at".to_owned(), to.to_owned()),
            ("primary".to_owned(), "erin".to_owned()),
            ("backup".to_owned(), String::new()),
            ("reason".to_owned(), "dentist <3".to_owned()),
        ]
    };
    let r = app
        .client
        .post(app.url("/oncall/noc/overrides"))
        .form(&form(&rome_local(from), &rome_local(to)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, body) = app.get_text("/oncall").await;
    assert!(body.contains("erin"), "the override is listed: {body}");
    assert!(
        body.contains("dentist &#60;3") || body.contains("dentist &lt;3"),
        "reasons are escaped: {body}"
    );
    let (_, list) = call(
        &app,
        &token,
        Method::GET,
        "/api/v1/oncall/noc/overrides",
        None,
    )
    .await;
    assert_eq!(
        list[0]["starts_at"],
        from.to_string(),
        "Rome time, stored as the instant"
    );
    assert_eq!(list[0]["created_by"], "admin");
    let id = list[0]["id"].as_i64().unwrap();
    let v = duty_at(&app, &token, &from.to_string()).await;
    assert_eq!(v["primary"], "erin");

    // Until before From: not stored, and the page says why.
    let r = app
        .client
        .post(app.url("/oncall/noc/overrides"))
        .form(&form(&rome_local(to), &rome_local(from)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, body) = app.get_text("/oncall").await;
    assert!(body.contains("Override not added"), "{body}");
    // A form without the CSRF token is refused.
    let r = app
        .post_form(
            "/oncall/noc/overrides",
            &[
                ("starts_at", "2036-01-01T00:00"),
                ("ends_at", "2036-01-02T00:00"),
                ("primary", "x"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    let r = app
        .post_form(
            &format!("/oncall/noc/overrides/{id}/delete"),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, body) = app.get_text("/oncall").await;
    assert!(!body.contains("dentist"), "deleted: {body}");
    let (_, list) = call(
        &app,
        &token,
        Method::GET,
        "/api/v1/oncall/noc/overrides",
        None,
    )
    .await;
    assert_eq!(list, json!([]));
}

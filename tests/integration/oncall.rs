//! `GET /api/v1/oncall/{name}` (CONTRACT §3) against a rotation from the config.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{Options, TestApp};

pub const NOC: &str = r#"
[[oncall]]
name     = "noc"
timezone = "Europe/Rome"
start    = "2026-11-02"
handoff  = "mon 09:00"
rotation = ["alice", "bob", "dave"]
"#;

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

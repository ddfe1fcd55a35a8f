//! A real Alertmanager (Debian's prometheus-alertmanager, started per test by am_rig) posts
//! its webhooks to Opsdesk on loopback: fire, repeat, resolve, a storm, and a silence made
//! from the ticket page back through Alertmanager's v2 API.

use std::time::Duration;

use opsdesk::clock::{Clock, SystemClock};
use serde_json::{Value, json};

use crate::alerts::{AM_TOKEN, alerts, app, history, ticket};
use crate::am_rig::Alertmanager;
use crate::helpers::{TestApp, csrf_in};

/// Polls the alert list until `done` holds, or fails with both logs.
async fn wait_for(
    app: &TestApp,
    token: &str,
    am: &Alertmanager,
    what: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    for _ in 0..200 {
        let a = alerts(app, token, "?source=prometheus&state=all&per_page=1000").await;
        if done(&a) {
            return a;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let a = alerts(app, token, "?source=prometheus&state=all&per_page=1000").await;
    panic!(
        "timed out waiting for {what}; alerts: {a:?}\n--- alertmanager ---\n{}\n--- opsdesk ---\n{}",
        am.log_text(),
        app.log_text()
    );
}

fn host_down(ends: Option<&str>) -> Value {
    let mut a = json!({
        "labels": {"alertname": "HostDown", "instance": "web1.acme.example:9100",
                   "severity": "critical", "job": "node"},
        "annotations": {"summary": "web1 does not answer", "runbook_url": "https://runbooks.example/hostdown"},
        "generatorURL": "http://prometheus.example:9090/graph?g0.expr=up%3D%3D0"
    });
    if let Some(e) = ends {
        a["endsAt"] = json!(e);
    }
    json!([a])
}

#[tokio::test]
async fn alertmanager_fires_repeats_and_resolves_one_incident() {
    let (app, token, clock, _dir) = app().await;
    // Real time on both sides: Alertmanager stamps alerts with its own clock.
    let now = SystemClock.now();
    clock.set(&now.to_string());
    let am = Alertmanager::start_with(
        &app.url("/api/v1/alerts/prometheus"),
        AM_TOKEN,
        Duration::from_secs(1),
    )
    .await;
    am.post_alerts(&host_down(None)).await;
    let a = wait_for(&app, &token, &am, "the firing alert", |a| {
        a.iter()
            .any(|x| x["state"] == "firing" && x["ticket"].is_i64())
    })
    .await;
    assert_eq!(a.len(), 1);
    let id = a[0]["ticket"].as_i64().unwrap();
    let t = ticket(&app, &token, id).await;
    assert_eq!(t["customer"], "ACME");
    assert_eq!(t["priority"], 1);
    assert_eq!(t["runbook"], "https://runbooks.example/hostdown");

    // Alertmanager re-sends the same group every second: byte-identical within the
    // redelivery window, so nothing counts; once the window has passed, a reminder counts.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let a = alerts(&app, &token, "?source=prometheus").await;
    assert_eq!(
        a[0]["count"], 1,
        "identical re-sends within the window are retries"
    );
    clock.set(
        &now.checked_add(jiff::SignedDuration::from_mins(10))
            .unwrap()
            .to_string(),
    );
    wait_for(&app, &token, &am, "a counted repeat", |a| {
        a.first().is_some_and(|x| x["count"].as_i64() >= Some(2))
    })
    .await;

    let past = SystemClock
        .now()
        .checked_sub(jiff::SignedDuration::from_secs(1))
        .unwrap();
    am.post_alerts(&host_down(Some(&past.to_string()))).await;
    wait_for(&app, &token, &am, "the resolution", |a| {
        a.first().is_some_and(|x| x["state"] == "resolved")
    })
    .await;
    assert_eq!(ticket(&app, &token, id).await["status"], "resolved");
    let h = history(&app, &token, id).await;
    assert!(
        h.iter()
            .any(|e| e["type"] == "alert" && e["new"] == "resolved"),
        "{h:?}"
    );
}

#[tokio::test]
async fn an_alertmanager_storm_opens_no_more_tickets_than_the_threshold_allows() {
    let (app, token, clock, _dir) = app().await;
    clock.set(&SystemClock.now().to_string());
    let am = Alertmanager::start(&app.url("/api/v1/alerts/prometheus"), AM_TOKEN).await;
    let many: Vec<Value> = (0..40)
        .map(|i| {
            json!({"labels": {"alertname": "NodeDown", "instance": format!("node{i}:9100"),
                              "severity": "warning"},
                   "annotations": {"summary": "no scrape"}})
        })
        .collect();
    am.post_alerts(&json!(many)).await;
    let a = wait_for(&app, &token, &am, "all 40 alerts", |a| a.len() == 40).await;
    let mut tickets: Vec<i64> = a.iter().filter_map(|x| x["ticket"].as_i64()).collect();
    tickets.sort();
    tickets.dedup();
    // Threshold 3: three incidents of their own and one storm parent.
    assert_eq!(tickets.len(), 4, "{tickets:?}");
    assert_eq!(a.iter().filter(|x| x["storm"] == true).count(), 37);
}

#[tokio::test]
async fn a_silence_made_from_the_ticket_reaches_alertmanager() {
    let (app, token, clock, _dir) = app().await;
    clock.set(&SystemClock.now().to_string());
    let am = Alertmanager::start(&app.url("/api/v1/alerts/prometheus"), AM_TOKEN).await;
    am.post_alerts(&host_down(None)).await;
    let a = wait_for(&app, &token, &am, "the firing alert", |a| {
        a.iter().any(|x| x["ticket"].is_i64())
    })
    .await;
    let id = a[0]["ticket"].as_i64().unwrap();

    app.login_admin().await;
    let (_, page) = app.get_text(&format!("/tickets/{id}")).await;
    let action = page
        .split("action=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .find(|s| s.ends_with("/silence"))
        .unwrap_or_else(|| panic!("no silence form on the ticket page:\n{page}"))
        .to_owned();
    let csrf = csrf_in(&page).unwrap();
    let r = app
        .post_form(
            &action,
            &[
                ("csrf_token", &csrf),
                ("duration", "2h"),
                ("comment", "maintenance"),
            ],
        )
        .await;
    assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER);
    let (_, page) = app.get_text(&format!("/tickets/{id}")).await;
    assert!(page.contains("Silenced in Alertmanager until"), "{page}");

    let s = am.silences().await;
    assert_eq!(s.len(), 1, "{s:?}");
    assert_eq!(s[0]["createdBy"], "admin");
    assert_eq!(s[0]["comment"], "maintenance");
    assert_eq!(s[0]["status"]["state"], "active");
    let matchers = s[0]["matchers"].as_array().unwrap();
    assert!(
        matchers
            .iter()
            .any(|m| m["name"] == "alertname" && m["value"] == "HostDown")
    );
    assert!(matchers.iter().all(|m| m["isRegex"] == false));

    // A bad length is refused on the page, nothing reaches Alertmanager.
    let r = app
        .post_form(&action, &[("csrf_token", &csrf), ("duration", "30d")])
        .await;
    assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER);
    let (_, page) = app.get_text(&format!("/tickets/{id}")).await;
    assert!(page.contains("at most 7 days"), "{page}");
    assert_eq!(am.silences().await.len(), 1);
}

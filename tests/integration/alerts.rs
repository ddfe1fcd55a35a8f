//! Monitoring alerts become incident tickets (issue 8) through the real binary: Alertmanager
//! webhooks, Nagios notifications and Events API v2 events; dedup, repeats, duplicates,
//! resolution and auto-resolve, flapping, storms, enrichment, tokens and malformed payloads.
//! Time comes from a clock file so windows can pass. The real Alertmanager is in
//! alertmanager.rs; the Nagios command line in nagios.rs.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Options, TestApp, client, text};
use crate::sla::TimeFile;
use crate::tickets::call;

pub const AM_TOKEN: &str = "am-secret-token";
pub const NAGIOS_TOKEN: &str = "nagios-secret-token";
pub const EVENTS_KEY: &str = "events-routing-key-1";

pub const CONFIG: &str = r#"
[[queue]]
name = "NOC"
sla = "standard"

[[sla]]
name = "standard"
targets.P1 = { response = "1h", resolve = "4h" }
targets.P3 = { response = "8h", resolve = "3d" }

[[sla]]
name = "gold"
targets.P1 = { response = "15m", resolve = "2h" }
targets.P3 = { response = "4h", resolve = "1d" }

[[alert_source]]
name = "prometheus"
kind = "alertmanager"
token = "am-secret-token"
queue = "NOC"
priority = { critical = 1, warning = 3, info = 4 }
auto_resolve = true
storm = { threshold = 3, window = "1m" }

[[alert_source]]
name = "nagios"
kind = "nagios"
token = "nagios-secret-token"
queue = "NOC"
priority = { critical = 1, down = 1, warning = 3, unknown = 3 }
auto_resolve = true

[[alert_source]]
name = "events"
kind = "events"
token = "events-routing-key-1"
queue = "NOC"
priority = { critical = 1, error = 2, warning = 3, info = 4 }
auto_resolve = false
"#;

/// An app with the three sources, a clock file at 2026-11-24 10:00 UTC, an `api` token, and
/// customer ACME (policy gold) owning host web1.acme.example (192.0.2.10).
pub async fn app() -> (TestApp, String, TimeFile, tempfile::TempDir) {
    app_with("").await
}

pub async fn app_with(extra: &str) -> (TestApp, String, TimeFile, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let clock = TimeFile::new(dir.path(), "2026-11-24T10:00:00Z");
    let opts = Options {
        env: vec![(
            "OPSDESK_TEST_CLOCK_FILE".into(),
            clock.0.display().to_string(),
        )],
        ..Options::toml(&format!("{CONFIG}\n{extra}"))
    };
    let app = TestApp::spawn_with(opts).await;
    let token = app.token("ops", "api");
    let (s, c) = call(
        &app,
        &token,
        Method::POST,
        "/api/v1/customers",
        Some(
            json!({"code": "ACME", "name": "Acme Ltd", "sla": "gold", "domains": ["acme.example"],
                    "hosts": [{"name": "web1.acme.example", "address": "192.0.2.10"}]}),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    (app, token, clock, dir)
}

/// One Alertmanager alert as its webhook carries it.
pub fn am_alert(status: &str, fp: &str, name: &str, instance: &str, severity: &str) -> Value {
    json!({
        "status": status,
        "labels": {"alertname": name, "instance": instance, "severity": severity, "job": "node"},
        "annotations": {"summary": format!("{instance} does not answer"), "description": "details"},
        "startsAt": "2026-11-24T09:59:00Z",
        "endsAt": if status == "resolved" { "2026-11-24T10:30:00Z" } else { "0001-01-01T00:00:00Z" },
        "generatorURL": "http://prometheus.example:9090/graph?g0.expr=up",
        "fingerprint": fp
    })
}

pub fn webhook(alerts: Vec<Value>) -> Value {
    let status = if alerts.iter().any(|a| a["status"] == "firing") {
        "firing"
    } else {
        "resolved"
    };
    json!({
        "version": "4", "groupKey": "{}:{}", "truncatedAlerts": 0, "status": status,
        "receiver": "opsdesk", "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {},
        "externalURL": "http://127.0.0.1:9093", "alerts": alerts
    })
}

/// Posts raw bytes to a source with an optional bearer; answers status and JSON.
pub async fn post_raw(
    app: &TestApp,
    source: &str,
    token: Option<&str>,
    content_type: &str,
    body: Vec<u8>,
) -> (StatusCode, Value) {
    let mut req = client()
        .post(app.url(&format!("/api/v1/alerts/{source}")))
        .header("content-type", content_type)
        .body(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.unwrap();
    let s = r.status();
    let b = r.bytes().await.unwrap();
    (s, serde_json::from_slice(&b).unwrap_or(Value::Null))
}

pub async fn post_am(app: &TestApp, body: &Value) -> (StatusCode, Value) {
    post_raw(
        app,
        "prometheus",
        Some(AM_TOKEN),
        "application/json",
        body.to_string().into_bytes(),
    )
    .await
}

fn tickets_of(v: &Value) -> Vec<i64> {
    v["tickets"]
        .as_array()
        .unwrap_or_else(|| panic!("no tickets in {v}"))
        .iter()
        .map(|t| t.as_i64().unwrap())
        .collect()
}

pub async fn ticket(app: &TestApp, token: &str, id: i64) -> Value {
    let (s, t) = call(
        app,
        token,
        Method::GET,
        &format!("/api/v1/tickets/{id}"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{t}");
    t
}

pub async fn history(app: &TestApp, token: &str, id: i64) -> Vec<Value> {
    let (s, h) = call(
        app,
        token,
        Method::GET,
        &format!("/api/v1/tickets/{id}/history"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{h}");
    h.as_array().unwrap().clone()
}

pub async fn alerts(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let (s, a) = call(
        app,
        token,
        Method::GET,
        &format!("/api/v1/alerts{query}"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{a}");
    a.as_array().unwrap().clone()
}

/// How many tickets came from alerts.
async fn alert_tickets(app: &TestApp, token: &str) -> i64 {
    let (s, l) = call(
        app,
        token,
        Method::GET,
        "/api/v1/tickets?query=Source%20%3D%20%27alert%27&per_page=1",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{l}");
    l["total"].as_i64().unwrap()
}

#[tokio::test]
async fn a_firing_alert_opens_one_enriched_incident_that_repeats_count_and_resolve_closes() {
    let (app, token, clock, _dir) = app().await;
    // A runbook page for the alert name: HostDown → runbooks/hostdown.
    let (s, p) = call(
        &app,
        &token,
        Method::PUT,
        "/api/v1/wiki/runbooks/hostdown",
        Some(json!({"title": "HostDown", "body": "1. ping it", "base_revision": 0, "comment": ""})),
    )
    .await;
    assert!(s.is_success(), "{p}");

    let fire = webhook(vec![am_alert(
        "firing",
        "fp-web1",
        "HostDown",
        "web1.acme.example:9100",
        "critical",
    )]);
    let (s, r) = post_am(&app, &fire).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{r}");
    let ids = tickets_of(&r);
    assert_eq!(ids.len(), 1);
    let id = ids[0];
    let t = ticket(&app, &token, id).await;
    assert_eq!(t["source"], "alert");
    assert_eq!(t["queue"], "NOC");
    assert_eq!(t["priority"], 1, "critical maps to P1");
    assert_eq!(t["customer"], "ACME", "host web1 belongs to ACME");
    assert_eq!(t["sla"]["policy"], "gold", "the customer's policy");
    assert_eq!(t["sla"]["response_due_at"], "2026-11-24T10:15:00Z");
    assert_eq!(t["runbook"], "runbooks/hostdown");
    assert_eq!(
        t["subject"],
        "HostDown on web1.acme.example: web1.acme.example:9100 does not answer"
    );
    let h = history(&app, &token, id).await;
    let first = h[0]["body"].as_str().unwrap();
    assert!(
        first.contains("instance: web1\\.acme\\.example:9100"),
        "{first}"
    );
    assert!(
        first.contains("http://prometheus.example:9090/graph"),
        "{first}"
    );

    // The same delivery again (a webhook retry) changes nothing.
    let (s, again) = post_am(&app, &fire).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    assert_eq!(tickets_of(&again), vec![id]);
    assert_eq!(again["duplicate"], true);
    // A repeat (a new notification of the same alert) counts, without history.
    clock.set("2026-11-24T10:05:00Z");
    let mut repeat = fire.clone();
    repeat["groupKey"] = json!("repeat-1");
    let (_, r) = post_am(&app, &repeat).await;
    assert_eq!(tickets_of(&r), vec![id]);
    let a = alerts(&app, &token, "?state=firing").await;
    assert_eq!(a.len(), 1);
    assert_eq!(a[0]["identity"], "fp-web1");
    assert_eq!(a[0]["source"], "prometheus");
    assert_eq!(a[0]["count"], 2);
    assert_eq!(a[0]["ticket"], id);
    assert_eq!(a[0]["first_seen"], "2026-11-24T10:00:00Z");
    assert_eq!(a[0]["last_seen"], "2026-11-24T10:05:00Z");
    assert_eq!(
        history(&app, &token, id).await.len(),
        h.len(),
        "repeats leave no history"
    );

    // Resolved: recorded, and (auto_resolve, nobody on it) the ticket resolves.
    clock.set("2026-11-24T10:30:00Z");
    let resolve = webhook(vec![am_alert(
        "resolved",
        "fp-web1",
        "HostDown",
        "web1.acme.example:9100",
        "critical",
    )]);
    let (_, r) = post_am(&app, &resolve).await;
    assert_eq!(tickets_of(&r), vec![id]);
    let t = ticket(&app, &token, id).await;
    assert_eq!(t["status"], "resolved");
    let h = history(&app, &token, id).await;
    assert!(
        h.iter()
            .any(|e| e["type"] == "alert" && e["new"] == "resolved"),
        "{h:?}"
    );
    assert!(alerts(&app, &token, "").await.is_empty(), "nothing current");
    let gone = alerts(&app, &token, "?state=resolved").await;
    assert_eq!(gone[0]["state"], "resolved");
    // The resolve again changes nothing either.
    let (_, r) = post_am(&app, &resolve).await;
    assert_eq!(tickets_of(&r), vec![id]);
    assert_eq!(history(&app, &token, id).await.len(), h.len());
}

#[tokio::test]
async fn a_worse_severity_is_a_state_change_and_raises_the_priority() {
    let (app, token, clock, _dir) = app().await;
    let warn = webhook(vec![am_alert(
        "firing", "fp-disk", "DiskFull", "db1:9100", "warning",
    )]);
    let (_, r) = post_am(&app, &warn).await;
    let id = tickets_of(&r)[0];
    assert_eq!(ticket(&app, &token, id).await["priority"], 3);
    clock.set("2026-11-24T10:02:00Z");
    let crit = webhook(vec![am_alert(
        "firing", "fp-disk", "DiskFull", "db1:9100", "critical",
    )]);
    let (_, r) = post_am(&app, &crit).await;
    assert_eq!(tickets_of(&r), vec![id]);
    assert_eq!(ticket(&app, &token, id).await["priority"], 1);
    let h = history(&app, &token, id).await;
    assert!(
        h.iter().any(|e| e["type"] == "alert"
            && e["field"] == "severity"
            && e["old"] == "warning"
            && e["new"] == "critical"),
        "{h:?}"
    );
}

#[tokio::test]
async fn a_ticket_someone_took_stays_open_when_its_alert_resolves() {
    let (app, token, clock, _dir) = app().await;
    app.add_user("alice", "agent", "a-long-enough-password");
    let (_, r) = post_am(
        &app,
        &webhook(vec![am_alert(
            "firing",
            "fp-bgp",
            "BGPDown",
            "edge1:9100",
            "critical",
        )]),
    )
    .await;
    let id = tickets_of(&r)[0];
    let (s, _) = call(
        &app,
        &token,
        Method::PATCH,
        &format!("/api/v1/tickets/{id}"),
        Some(json!({"owner": "alice"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    clock.set("2026-11-24T10:10:00Z");
    post_am(
        &app,
        &webhook(vec![am_alert(
            "resolved",
            "fp-bgp",
            "BGPDown",
            "edge1:9100",
            "critical",
        )]),
    )
    .await;
    let t = ticket(&app, &token, id).await;
    assert_eq!(
        t["status"], "new",
        "alice has it: the alert does not close it"
    );
    let h = history(&app, &token, id).await;
    assert!(
        h.iter()
            .any(|e| e["type"] == "alert" && e["new"] == "resolved")
    );
}

#[tokio::test]
async fn a_refire_within_the_flap_window_reopens_the_same_ticket_and_later_ones_open_anew() {
    let (app, token, clock, _dir) = app().await;
    let fire = |starts: &str| {
        let mut a = am_alert("firing", "fp-flap", "LinkDown", "sw1:9100", "warning");
        a["startsAt"] = json!(starts);
        webhook(vec![a])
    };
    let resolve = |starts: &str| {
        let mut a = am_alert("resolved", "fp-flap", "LinkDown", "sw1:9100", "warning");
        a["startsAt"] = json!(starts);
        webhook(vec![a])
    };
    let (_, r) = post_am(&app, &fire("2026-11-24T10:00:00Z")).await;
    let id = tickets_of(&r)[0];
    clock.set("2026-11-24T10:03:00Z");
    post_am(&app, &resolve("2026-11-24T10:00:00Z")).await;
    assert_eq!(ticket(&app, &token, id).await["status"], "resolved");
    clock.set("2026-11-24T10:05:00Z");
    let (_, r) = post_am(&app, &fire("2026-11-24T10:05:00Z")).await;
    assert_eq!(tickets_of(&r), vec![id], "the same ticket, reopened");
    assert_eq!(ticket(&app, &token, id).await["status"], "open");
    let a = alerts(&app, &token, "?state=firing").await;
    assert_eq!(a[0]["flapping"], true);
    let h = history(&app, &token, id).await;
    assert!(
        h.iter().any(|e| e["type"] == "alert"
            && e["new"] == "firing"
            && e["body"].as_str().is_some_and(|b| b.contains("flapping"))),
        "{h:?}"
    );
    // Resolved again, then quiet past the 15-minute flap window: a new fire is a new incident.
    clock.set("2026-11-24T10:06:00Z");
    post_am(&app, &resolve("2026-11-24T10:05:00Z")).await;
    clock.set("2026-11-24T11:00:00Z");
    let (_, r) = post_am(&app, &fire("2026-11-24T11:00:00Z")).await;
    let new = tickets_of(&r)[0];
    assert_ne!(new, id);
    assert_eq!(ticket(&app, &token, id).await["status"], "resolved");
}

#[tokio::test]
async fn a_resolve_that_overtakes_its_fire_opens_nothing() {
    let (app, token, clock, _dir) = app().await;
    let (s, r) = post_am(
        &app,
        &webhook(vec![am_alert(
            "resolved", "fp-late", "Late", "h1:9100", "critical",
        )]),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    assert_eq!(tickets_of(&r), Vec::<i64>::new());
    clock.set("2026-11-24T10:00:05Z");
    let (_, r) = post_am(
        &app,
        &webhook(vec![am_alert(
            "firing", "fp-late", "Late", "h1:9100", "critical",
        )]),
    )
    .await;
    assert_eq!(
        tickets_of(&r),
        Vec::<i64>::new(),
        "the fire of a resolved occurrence is stale"
    );
    assert_eq!(alert_tickets(&app, &token).await, 0);
    let a = alerts(&app, &token, "?state=all").await;
    assert_eq!(a.len(), 1);
    assert_eq!(a[0]["state"], "resolved");
    assert_eq!(a[0]["ticket"], Value::Null);
}

#[tokio::test]
async fn a_storm_gathers_under_one_parent_and_passes() {
    let (app, token, clock, _dir) = app().await;
    let many: Vec<Value> = (0..50)
        .map(|i| {
            am_alert(
                "firing",
                &format!("fp-s{i}"),
                "NodeDown",
                &format!("n{i}:9100"),
                "warning",
            )
        })
        .collect();
    let (s, r) = post_am(&app, &webhook(many)).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{r}");
    let ids = tickets_of(&r);
    // Threshold 3: three incidents of their own, then one storm parent for the other 47.
    assert_eq!(ids.len(), 4, "{ids:?}");
    assert_eq!(alert_tickets(&app, &token).await, 4);
    let parent = ids[3];
    let p = ticket(&app, &token, parent).await;
    assert!(
        p["subject"]
            .as_str()
            .unwrap()
            .starts_with("Alert storm from prometheus"),
        "{p}"
    );
    let on_parent = alerts(&app, &token, "?state=firing&per_page=1000")
        .await
        .into_iter()
        .filter(|a| a["ticket"] == parent)
        .count();
    assert_eq!(on_parent, 47);

    // Still within the window: a new one joins the storm.
    clock.set("2026-11-24T10:00:30Z");
    let (_, r) = post_am(
        &app,
        &webhook(vec![am_alert(
            "firing", "fp-s50", "NodeDown", "n50:9100", "critical",
        )]),
    )
    .await;
    assert_eq!(tickets_of(&r), vec![parent]);
    assert_eq!(
        ticket(&app, &token, parent).await["priority"],
        1,
        "a critical member raised it"
    );

    // Members resolve while the storm is on: the parent waits for the storm to pass.
    let resolved: Vec<Value> = (3..51)
        .map(|i| {
            am_alert(
                "resolved",
                &format!("fp-s{i}"),
                "NodeDown",
                &format!("n{i}:9100"),
                "warning",
            )
        })
        .collect();
    post_am(&app, &webhook(resolved)).await;
    assert_eq!(ticket(&app, &token, parent).await["status"], "new");

    // Quiet for more than the window: the next alert opens its own incident, and the storm's
    // end is recorded (and its ticket, with nothing firing and nobody on it, resolves).
    clock.set("2026-11-24T10:05:00Z");
    let (_, r) = post_am(
        &app,
        &webhook(vec![am_alert(
            "firing", "fp-after", "NodeDown", "n99:9100", "warning",
        )]),
    )
    .await;
    let after = tickets_of(&r)[0];
    assert_ne!(after, parent);
    let h = history(&app, &token, parent).await;
    assert!(
        h.iter()
            .any(|e| e["type"] == "alert" && e["field"] == "storm"),
        "{h:?}"
    );
    assert_eq!(ticket(&app, &token, parent).await["status"], "resolved");
}

#[tokio::test]
async fn nagios_problem_acknowledgement_and_recovery_follow_the_problem_id() {
    let (app, token, clock, _dir) = app().await;
    let form = |pairs: &[(&str, &str)]| {
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish()
            .into_bytes()
    };
    let post = |body: Vec<u8>| {
        post_raw(
            &app,
            "nagios",
            Some(NAGIOS_TOKEN),
            "application/x-www-form-urlencoded",
            body,
        )
    };
    let (s, r) = post(form(&[
        ("NOTIFICATIONTYPE", "PROBLEM"),
        ("HOSTNAME", "web1-nagios"),
        ("HOSTADDRESS", "192.0.2.10"),
        ("HOSTSTATE", "UP"),
        ("SERVICEDESC", "HTTP"),
        ("SERVICESTATE", "CRITICAL"),
        ("SERVICEOUTPUT", "HTTP CRITICAL - Socket timeout"),
        ("LONGDATETIME", "Tue Nov 24 10:00:00 UTC 2026"),
        ("SERVICEPROBLEMID", "812"),
        ("LASTSERVICEPROBLEMID", "640"),
        ("HOSTPROBLEMID", "0"),
        ("NOTIFICATIONAUTHOR", ""),
        ("NOTIFICATIONCOMMENT", ""),
        ("SOMETHING_NEW", "kept, never refused"),
    ]))
    .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{r}");
    let id = tickets_of(&r)[0];
    let t = ticket(&app, &token, id).await;
    assert_eq!(t["customer"], "ACME", "found by HOSTADDRESS");
    assert_eq!(t["priority"], 1);
    assert_eq!(
        t["subject"],
        "HTTP on web1-nagios: HTTP CRITICAL - Socket timeout"
    );

    clock.set("2026-11-24T10:04:00Z");
    let (_, r) = post(form(&[
        ("notificationtype", "ACKNOWLEDGEMENT"),
        ("hostname", "web1-nagios"),
        ("servicedesc", "HTTP"),
        ("servicestate", "CRITICAL"),
        ("serviceproblemid", "812"),
        ("notificationauthor", "alice"),
        ("notificationcomment", "looking at it"),
    ]))
    .await;
    assert_eq!(tickets_of(&r), vec![id]);
    assert_eq!(alerts(&app, &token, "?state=acknowledged").await.len(), 1);

    clock.set("2026-11-24T10:09:00Z");
    let (_, r) = post(
        json!({"NotificationType": "RECOVERY", "HostName": "web1-nagios", "ServiceDesc": "HTTP",
               "ServiceState": "OK", "ServiceProblemId": 0, "LastServiceProblemId": 812,
               "ServiceOutput": "HTTP OK"})
        .to_string()
        .into_bytes(),
    )
    .await;
    assert_eq!(tickets_of(&r), vec![id]);
    let t = ticket(&app, &token, id).await;
    assert_eq!(t["status"], "resolved");
    let h = history(&app, &token, id).await;
    assert!(h.iter().any(|e| e["type"] == "alert"
        && e["new"] == "acknowledged"
        && e["body"] == "alice: looking at it"));

    // Without HOSTNAME there is nothing to place the notification on: 400 with the reason.
    let (s, e) = post(form(&[("NOTIFICATIONTYPE", "PROBLEM")])).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(e["detail"].as_str().unwrap().contains("HOSTNAME"), "{e}");
}

#[tokio::test]
async fn the_events_api_triggers_acknowledges_and_resolves_by_dedup_key() {
    let (app, token, clock, _dir) = app().await;
    let event = |action: &str, key: &str| {
        json!({"routing_key": key, "event_action": action, "dedup_key": "db1/replication",
               "payload": {"summary": "Replication lag 900 s", "source": "web1.acme.example",
                           "severity": "error", "class": "ReplicationLag"}})
        .to_string()
        .into_bytes()
    };
    // The routing key is the token: no Authorization header needed.
    let (s, r) = post_raw(
        &app,
        "events",
        None,
        "application/json",
        event("trigger", EVENTS_KEY),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{r}");
    assert_eq!(r["status"], "success");
    assert_eq!(r["dedup_key"], "db1/replication");
    let id = tickets_of(&r)[0];
    let t = ticket(&app, &token, id).await;
    assert_eq!(
        (t["priority"].clone(), t["customer"].clone()),
        (json!(2), json!("ACME"))
    );

    let (s, _) = post_raw(
        &app,
        "events",
        None,
        "application/json",
        event("trigger", "wrong-key"),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    clock.set("2026-11-24T10:01:00Z");
    let (_, r) = post_raw(
        &app,
        "events",
        None,
        "application/json",
        event("acknowledge", EVENTS_KEY),
    )
    .await;
    assert_eq!(tickets_of(&r), vec![id]);
    let a = alerts(&app, &token, "?source=events&state=acknowledged").await;
    assert_eq!(a.len(), 1);
    assert_eq!(a[0]["identity"], "db1/replication");

    clock.set("2026-11-24T10:02:00Z");
    let (_, r) = post_raw(
        &app,
        "events",
        None,
        "application/json",
        event("resolve", EVENTS_KEY),
    )
    .await;
    assert_eq!(tickets_of(&r), vec![id]);
    // auto_resolve is off for this source: resolution is recorded, the ticket stays.
    assert_eq!(ticket(&app, &token, id).await["status"], "new");
    let h = history(&app, &token, id).await;
    assert!(
        h.iter()
            .any(|e| e["type"] == "alert" && e["new"] == "resolved")
    );
}

#[tokio::test]
async fn tokens_are_checked_per_source() {
    let (app, token, _clock, _dir) = app().await;
    let body = webhook(vec![am_alert("firing", "fp-t", "X", "h:1", "info")])
        .to_string()
        .into_bytes();
    let post =
        |t: Option<&'static str>| post_raw(&app, "prometheus", t, "application/json", body.clone());
    assert_eq!(post(None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        post(Some("not-a-token-at-all")).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        post(Some(NAGIOS_TOKEN)).await.0,
        StatusCode::UNAUTHORIZED,
        "another source's"
    );
    let (s, _) = post_raw(
        &app,
        "prometheus",
        Some(&token),
        "application/json",
        body.clone(),
    )
    .await;
    assert_eq!(
        s,
        StatusCode::UNAUTHORIZED,
        "an api token is not an alerts token"
    );
    let alerts_token = app.token("monitoring", "alerts");
    let (s, r) = post_raw(
        &app,
        "prometheus",
        Some(&alerts_token),
        "application/json",
        body.clone(),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{r}");
    let (s, _) = post_raw(&app, "nosuch", Some(AM_TOKEN), "application/json", body).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Alerts are for staff: the alerts token cannot list them.
    let (s, _) = call(&app, &alerts_token, Method::GET, "/api/v1/alerts", None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn malformed_payloads_are_refused_with_the_reason_and_nothing_half_applied() {
    let (app, token, _clock, _dir) = app().await;
    let cases: [(&str, &[u8], &str); 4] = [
        ("prometheus", b"{\"alerts\": [", "line 1"),
        (
            "prometheus",
            br#"{"alerts":[{"status":"firing","labels":{"alertname":"A"},"fingerprint":"ok1"},{"status":"maybe","labels":{}}]}"#,
            "alerts[1].status",
        ),
        ("prometheus", b"", "empty"),
        ("events", br#"{"routing_key":"events-routing-key-1","event_action":"trigger","payload":{"summary":"s","source":"h","severity":"fatal"}}"#, "payload.severity"),
    ];
    for (source, body, want) in cases {
        let (s, e) = post_raw(
            &app,
            source,
            Some(if source == "events" {
                EVENTS_KEY
            } else {
                AM_TOKEN
            }),
            "application/json",
            body.to_vec(),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{}", text(body));
        assert!(e["detail"].as_str().unwrap().contains(want), "{e}");
    }
    // The first, valid alert of the second payload was not applied either.
    assert!(alerts(&app, &token, "?state=all").await.is_empty());
    assert_eq!(alert_tickets(&app, &token).await, 0);
    // Each refused delivery is kept as it came, with its reason, for an admin.
    app.login_admin().await;
    let (s, page) = app.get_text("/alerts/deliveries?outcome=rejected").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(page.matches("download</a>").count(), 4, "{page}");
    assert!(page.contains("alerts[1].status"), "{page}");
    let id = page
        .split("/alerts/deliveries/")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .unwrap()
        .to_owned();
    let r = app.get(&format!("/alerts/deliveries/{id}/raw")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        &r.bytes().await.unwrap()[..],
        cases[3].1,
        "the newest, byte for byte"
    );
}

#[tokio::test]
async fn the_alert_list_filters_by_source_customer_and_state() {
    let (app, token, _clock, _dir) = app().await;
    post_am(
        &app,
        &webhook(vec![
            am_alert(
                "firing",
                "fp-a",
                "HostDown",
                "web1.acme.example:9100",
                "critical",
            ),
            am_alert(
                "firing",
                "fp-b",
                "HostDown",
                "other.example:9100",
                "critical",
            ),
        ]),
    )
    .await;
    let acme = alerts(&app, &token, "?customer=ACME").await;
    assert_eq!(acme.len(), 1);
    assert_eq!(acme[0]["identity"], "fp-a");
    assert_eq!(alerts(&app, &token, "?source=prometheus").await.len(), 2);
    assert_eq!(alerts(&app, &token, "?source=nagios").await.len(), 0);
    let (s, e) = call(
        &app,
        &token,
        Method::GET,
        "/api/v1/alerts?state=sleeping",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    // The alerts page lists them for staff.
    app.login_admin().await;
    let (s, page) = app.get_text("/alerts?customer=ACME").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains("fp-a") || page.contains("web1.acme.example"),
        "{page}"
    );
    assert!(!page.contains("other.example"));
}

#[tokio::test]
async fn raw_deliveries_go_once_their_source_retention_has_passed() {
    let db = crate::helpers::TestDb::fresh().await;
    let file = crate::helpers::write_config(db.dir.path(), &db.url, &format!("{CONFIG}\n"));
    let mut cfg = opsdesk::config::load(Some(&file)).unwrap().config;
    cfg.alert_sources[0].retention = "1d".into();
    let pool = db.pool().await;
    let day0: jiff::Timestamp = "2026-11-24T10:00:00Z".parse().unwrap();
    for i in 0..7 {
        let body = webhook(vec![am_alert(
            "firing",
            &format!("fp-r{i}"),
            "R",
            "h:1",
            "info",
        )])
        .to_string();
        let d = opsdesk::alerts::Delivery {
            source: "prometheus",
            content_type: Some("application/json"),
            body: body.as_bytes(),
            authorized: true,
        };
        opsdesk::alerts::receive(&pool, &cfg, d, day0)
            .await
            .unwrap();
    }
    let refused = opsdesk::alerts::Delivery {
        source: "nagios",
        content_type: None,
        body: b"HOSTNAME=h",
        authorized: true,
    };
    assert!(
        opsdesk::alerts::receive(&pool, &cfg, refused, day0)
            .await
            .is_err()
    );
    let kept = |p: opsdesk::db::Db| async move {
        let mut tx = p.begin_read().await.unwrap();
        let n = opsdesk::alerts::deliveries(&mut tx, None, 100)
            .await
            .unwrap()
            .len();
        tx.commit().await.unwrap();
        n
    };
    // Within the day nothing goes; past it, prometheus's seven go in batches of 3, while
    // nagios (30 days) keeps its refused delivery.
    let gone = opsdesk::alerts::purge_payloads(&pool, &cfg, day0, 3, 1000)
        .await
        .unwrap();
    assert_eq!((gone, kept(pool.clone()).await), (0, 8));
    let later = day0
        .checked_add(jiff::SignedDuration::from_hours(25))
        .unwrap();
    let gone = opsdesk::alerts::purge_payloads(&pool, &cfg, later, 3, 1000)
        .await
        .unwrap();
    assert_eq!((gone, kept(pool.clone()).await), (7, 1));
}

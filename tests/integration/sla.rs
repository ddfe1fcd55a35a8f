//! SLA clocks and escalation (issue 5) through the real binary, with time set by a file every
//! node reads (`OPSDESK_TEST_CLOCK_FILE`): pause and resume, a priority change, a reopen, the
//! explain route, TQL, the report, and escalation firing once with two nodes and a crash.

use std::path::{Path, PathBuf};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Options, TestApp, TestDb, client};
use crate::tickets::call;

const CONFIG: &str = r#"
[[queue]]
name = "NOC"
sla = "gold"

[[sla]]
name     = "gold"
calendar = "24x7"
pause_on = ["stalled"]
targets.P1 = { response = "15m", resolve = "4h" }
targets.P2 = { response = "1h",  resolve = "8h" }
escalate = [ { at = "75%", notify = ["owner"] }, { at = "100%", notify = ["owner", "oncall:noc"] } ]

[[oncall]]
name     = "noc"
timezone = "Europe/Rome"
start    = "2026-11-02"
handoff  = "mon 09:00"
rotation = ["alice", "bob", "dave"]
"#;

/// A clock file every node of a test reads.
pub struct TimeFile(pub PathBuf);

impl TimeFile {
    pub fn new(dir: &Path, at: &str) -> TimeFile {
        let f = TimeFile(dir.join("now"));
        f.set(at);
        f
    }

    pub fn set(&self, at: &str) {
        // Written whole, then renamed, so a reader never sees half an instant.
        let tmp = self.0.with_extension("tmp");
        std::fs::write(&tmp, at).unwrap();
        std::fs::rename(&tmp, &self.0).unwrap();
    }
}

fn options(clock: &TimeFile) -> Options {
    Options {
        env: vec![(
            "OPSDESK_TEST_CLOCK_FILE".into(),
            clock.0.display().to_string(),
        )],
        ..Options::toml(CONFIG)
    }
}

/// One node with a token and the staff the policy notifies.
async fn node() -> (TestApp, String, TimeFile, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let clock = TimeFile::new(dir.path(), "2026-11-23T10:00:00Z");
    let app = TestApp::spawn_with(options(&clock)).await;
    for u in ["alice", "bob", "dave"] {
        app.add_user(u, "agent", "a-long-enough-password");
    }
    let token = app.token("ops", "api");
    (app, token, clock, dir)
}

async fn open_ticket(app: &TestApp, token: &str, priority: i64) -> Value {
    let (s, t) = call(
        app,
        token,
        Method::POST,
        "/api/v1/tickets",
        Some(
            json!({"queue": "NOC", "subject": "BGP session down", "body": "peer 192.0.2.1",
                    "requestors": ["noc@acme.example"], "priority": priority}),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    t
}

async fn patch(app: &TestApp, token: &str, id: i64, body: Value) -> Value {
    let (s, t) = call(
        app,
        token,
        Method::PATCH,
        &format!("/api/v1/tickets/{id}"),
        Some(body),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{t}");
    t
}

async fn get(app: &TestApp, token: &str, id: i64) -> Value {
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

async fn search(app: &TestApp, token: &str, q: &str) -> Vec<i64> {
    let r = client()
        .get(app.url("/api/v1/tickets"))
        .query(&[("query", q)])
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{q}");
    let v: Value = r.json().await.unwrap();
    let rows = v["items"].as_array().cloned().unwrap_or_default();
    rows.iter().filter_map(|t| t["id"].as_i64()).collect()
}

#[tokio::test]
async fn clocks_pause_resume_follow_a_priority_change_and_restart_on_reopen() {
    let (app, token, clock, _dir) = node().await;
    let t = open_ticket(&app, &token, 2).await;
    let id = t["id"].as_i64().unwrap();
    assert_eq!(t["sla"]["policy"], "gold");
    assert_eq!(t["sla"]["response_due_at"], "2026-11-23T11:00:00Z");
    assert_eq!(t["sla"]["resolve_due_at"], "2026-11-23T18:00:00Z");
    assert_eq!(t["sla"]["breached"], json!([]));

    // A comment does not answer; correspondence from staff does.
    clock.set("2026-11-23T10:20:00Z");
    let (s, _) = call(
        &app,
        &token,
        Method::POST,
        &format!("/api/v1/tickets/{id}/comment"),
        Some(json!({"body": "looking"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(
        get(&app, &token, id).await["sla"]["first_response_at"],
        Value::Null
    );
    clock.set("2026-11-23T10:30:00Z");
    let (s, _) = call(
        &app,
        &token,
        Method::POST,
        &format!("/api/v1/tickets/{id}/correspond"),
        Some(json!({"body": "We are on it."})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let t = get(&app, &token, id).await;
    assert_eq!(t["status"], "open");
    assert_eq!(t["sla"]["first_response_at"], "2026-11-23T10:30:00Z");

    // Stalled at 12:00 after 2 h: paused short of the deadline, so no deadline.
    clock.set("2026-11-23T12:00:00Z");
    let t = patch(&app, &token, id, json!({"status": "stalled"})).await;
    assert_eq!(t["sla"]["paused"], true);
    assert_eq!(t["sla"]["resolve_due_at"], Value::Null);

    // Resumed at 14:00 with 6 h left.
    clock.set("2026-11-23T14:00:00Z");
    let t = patch(&app, &token, id, json!({"status": "open"})).await;
    assert_eq!(t["sla"]["paused"], false);
    assert_eq!(t["sla"]["resolve_due_at"], "2026-11-23T20:00:00Z");

    // P1 at 15:00: 3 h run against 4 h, measured from the start.
    clock.set("2026-11-23T15:00:00Z");
    let t = patch(&app, &token, id, json!({"priority": 1})).await;
    assert_eq!(t["sla"]["resolve_due_at"], "2026-11-23T16:00:00Z");
    assert_eq!(t["sla"]["response_due_at"], "2026-11-23T10:15:00Z");
    assert_eq!(
        t["sla"]["breached"],
        json!(["response"]),
        "answered at 10:30 against 10:15 now"
    );

    clock.set("2026-11-23T17:00:00Z");
    let t = get(&app, &token, id).await;
    assert_eq!(t["sla"]["breached"], json!(["response", "resolve"]));
    assert!(search(&app, &token, "SLA = 'breached'").await.contains(&id));
    assert!(
        search(&app, &token, "Due < '2026-11-23 16:30'")
            .await
            .contains(&id)
    );

    // The explanation counts the stretches and names the events.
    let (s, e) = call(
        &app,
        &token,
        Method::GET,
        &format!("/api/v1/tickets/{id}/sla"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{e}");
    assert_eq!(e["policy"], "gold");
    assert_eq!(e["priority"], 1);
    assert_eq!(e["resolve"]["target_minutes"], 240);
    assert_eq!(e["resolve"]["stretches"][0]["counted_minutes"], 120);
    assert_eq!(e["resolve"]["running_since"], "2026-11-23T14:00:00Z");
    assert_eq!(e["resolve"]["used_minutes"], 300);
    let whats: Vec<&str> = e["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|x| x["what"].as_str())
        .collect();
    assert!(whats.iter().any(|w| w.contains("paused")), "{whats:?}");
    assert!(whats.iter().any(|w| w.contains("P1")), "{whats:?}");

    // Resolved at 17:30, reopened at 18:00: resolution starts over under P1.
    clock.set("2026-11-23T17:30:00Z");
    let t = patch(&app, &token, id, json!({"status": "resolved"})).await;
    assert_eq!(
        t["sla"]["resolve_due_at"], "2026-11-23T16:00:00Z",
        "kept late against 16:00"
    );
    clock.set("2026-11-23T18:00:00Z");
    let t = patch(&app, &token, id, json!({"status": "open"})).await;
    assert_eq!(t["sla"]["resolve_due_at"], "2026-11-23T22:00:00Z");
    assert_eq!(t["sla"]["breached"], json!(["response"]));
    assert!(
        !search(&app, &token, "SLA = 'breached' AND id = 0")
            .await
            .contains(&id)
    );

    // The report for the day: one ticket of no customer under gold, response missed.
    let (s, r) = call(
        &app,
        &token,
        Method::GET,
        "/api/v1/sla/report?from=2026-11-23&to=2026-11-24",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r[0]["policy"], "gold");
    assert_eq!(r[0]["tickets"], 1);
    assert_eq!(r[0]["response_missed"], 1);
    assert_eq!(r[0]["response_median_minutes"], 30);
    let csv = client()
        .get(app.url("/api/v1/sla/report?from=2026-11-23&to=2026-11-24&format=csv"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let body = csv.text().await.unwrap();
    assert!(body.starts_with("customer,policy,tickets,"), "{body}");
    assert!(body.contains(",gold,1,0,1,0,"), "{body}");
    let (s, bad) = call(
        &app,
        &token,
        Method::GET,
        "/api/v1/sla/report?from=yesterday&to=2026-11-24",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    assert!(bad.to_string().contains("yesterday"), "{bad}");
}

/// How many rows `sql` counts, on either database.
async fn count(db: &TestDb, sql: &'static str) -> i64 {
    match db.pool().await {
        opsdesk::db::Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(&*p).await.unwrap(),
        opsdesk::db::Db::Postgres(p) => sqlx::query_scalar(sql).fetch_one(&p).await.unwrap(),
    }
}

async fn escalate(app: &TestApp, token: &str) -> Value {
    let (s, v) = call(app, token, Method::POST, "/api/v1/sla/escalate", None).await;
    assert_eq!(s, StatusCode::OK, "{v}\n{}", app.log_text());
    v
}

#[tokio::test]
async fn each_escalation_step_fires_once_with_two_nodes_and_across_a_crash() {
    let (mut a, token, clock, dir) = node().await;
    let second = |a: &TestApp| TestDb {
        url: a.db.url.clone(),
        dir: tempfile::tempdir().unwrap(),
    };
    let b = TestApp::spawn_on(second(&a), options(&clock)).await;
    const N: i64 = 30;
    for _ in 0..N {
        let t = open_ticket(&a, &token, 1).await;
        patch(
            &a,
            &token,
            t["id"].as_i64().unwrap(),
            json!({"owner": "bob"}),
        )
        .await;
    }

    // 10:12: the 75% step of the response clock (10:11:15) is due on every ticket.
    clock.set("2026-11-23T10:12:00Z");
    let (ra, rb) = tokio::join!(escalate(&a, &token), escalate(&b, &token));
    let fired = ra["fired"].as_i64().unwrap() + rb["fired"].as_i64().unwrap();
    assert!(fired <= N, "{ra} {rb}");
    // Background passes run too; one more on each node, then nothing is left to fire.
    escalate(&a, &token).await;
    escalate(&b, &token).await;
    assert_eq!(
        count(&a.db, "SELECT COUNT(*) FROM sla_escalations").await,
        N
    );
    assert_eq!(
        count(
            &a.db,
            "SELECT COUNT(*) FROM ticket_transactions WHERE kind = 'escalate'"
        )
        .await,
        N
    );
    assert_eq!(
        count(&a.db, "SELECT COUNT(*) FROM mail_outbound WHERE kind = 'escalation' AND recipients = 'bob@example.net'").await,
        N,
        "the owner hears once per ticket"
    );

    // 10:16: the 100% step, to the owner and the on-duty pair (week 4: alice and bob). Node A
    // dies with its pass in flight; a new node takes over.
    clock.set("2026-11-23T10:16:00Z");
    let in_flight = {
        let (url, token) = (a.url("/api/v1/sla/escalate"), token.clone());
        tokio::spawn(async move { client().post(url).bearer_auth(token).send().await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    a.kill();
    let _ = in_flight.await;
    let c = TestApp::spawn_on(second(&b), options(&clock)).await;
    // Rows the dead node's session still locked (PostgreSQL ends it when it sees the socket
    // closed) are skipped, not waited for: a crash delays steps, it never loses them.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        escalate(&c, &token).await;
        escalate(&b, &token).await;
        let fired = count(&b.db, "SELECT COUNT(*) FROM sla_escalations").await;
        if fired >= 2 * N || std::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(
        count(&b.db, "SELECT COUNT(*) FROM sla_escalations").await,
        2 * N
    );
    assert_eq!(
        count(
            &b.db,
            "SELECT COUNT(*) FROM mail_outbound WHERE kind = 'escalation'"
        )
        .await,
        2 * N
    );
    assert_eq!(
        count(&b.db, "SELECT COUNT(*) FROM mail_outbound WHERE kind = 'escalation' AND recipients = 'alice@example.net,bob@example.net'").await,
        N,
        "owner bob and the on-duty pair alice + bob, once each"
    );
    let h = call(&c, &token, Method::GET, "/api/v1/tickets/1/history", None)
        .await
        .1;
    let steps: Vec<&Value> = h
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "escalate")
        .collect();
    assert_eq!(steps.len(), 2, "{h}");
    assert!(
        steps[1]["body"].as_str().unwrap().contains("overdue"),
        "{h}"
    );
    // The clock file lives in `dir`; every node read it until here.
    drop(dir);
}

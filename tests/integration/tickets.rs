use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

const QUEUES: &str = "[[queue]]\nname = \"Support\"\nsla = \"standard\"\n\n[[queue]]\nname = \"NOC\"\n\n[[sla]]\nname = \"standard\"\ntargets.P1 = { response = \"1h\", resolve = \"4h\" }\n\n[[sla]]\nname = \"gold\"\ntargets.P1 = { response = \"15m\", resolve = \"2h\" }\n";

/// An app with two queues and an `api` token; answers (app, token).
pub async fn with_token() -> (TestApp, String) {
    with_token_and("").await
}

/// [`with_token`] with more of the config (`extra` TOML after the queues and policies).
pub async fn with_token_and(extra: &str) -> (TestApp, String) {
    let app = TestApp::spawn_with(Options::toml(&format!("{QUEUES}\n{extra}"))).await;
    let out = app.cli(&["token", "create", "tests", "--scope", "api"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let token = text(&out.stdout).trim().to_owned();
    (app, token)
}

pub async fn call(
    app: &TestApp,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = client().request(method, app.url(path)).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    let v = r.json::<Value>().await.unwrap_or(Value::Null);
    (status, v)
}

pub async fn open_ticket(app: &TestApp, token: &str, body: Value) -> Value {
    let (s, t) = call(
        app,
        token,
        reqwest::Method::POST,
        "/api/v1/tickets",
        Some(body),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    t
}

fn id(t: &Value) -> i64 {
    t["id"].as_i64().unwrap()
}

#[tokio::test]
async fn creating_a_ticket_answers_201_with_the_contract_shape() {
    let (app, token) = with_token().await;
    let t = open_ticket(
        &app,
        &token,
        json!({"queue": "Support", "subject": "  BGP session down  ", "body": "Peer 192.0.2.1 flaps", "requestors": ["Ops@Example.NET"], "priority": 2}),
    )
    .await;
    for key in [
        "id",
        "queue",
        "subject",
        "status",
        "priority",
        "owner",
        "requestors",
        "customer",
        "source",
        "created_at",
        "updated_at",
        "resolved_at",
        "sla",
        "links",
        "runbook",
    ] {
        assert!(t.get(key).is_some(), "missing {key} in {t}");
    }
    assert_eq!(t["subject"], "BGP session down");
    assert_eq!(t["status"], "new");
    assert_eq!(t["priority"], 2);
    assert_eq!(t["requestors"], json!(["ops@example.net"]));
    assert_eq!(t["source"], "api");
    assert_eq!(t["owner"], Value::Null);
    assert_eq!(t["sla"]["policy"], "standard", "the queue's policy applies");
    assert!(t["created_at"].as_str().unwrap().ends_with('Z'));
    let (s, again) = call(
        &app,
        &token,
        reqwest::Method::GET,
        &format!("/api/v1/tickets/{}", id(&t)),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(again["subject"], "BGP session down");
}

#[tokio::test]
async fn bad_tickets_are_refused_with_the_field_that_is_wrong() {
    let (app, token) = with_token().await;
    for (body, field) in [
        (json!({"queue": "Nope", "subject": "x"}), "queue"),
        (json!({"queue": "Support", "subject": "   "}), "subject"),
        (
            json!({"queue": "Support", "subject": "x", "priority": 9}),
            "priority",
        ),
        (
            json!({"queue": "Support", "subject": "x", "requestors": ["not-mail"]}),
            "requestors",
        ),
        (
            json!({"queue": "Support", "subject": "x", "customer": "GHOST"}),
            "customer",
        ),
    ] {
        let (s, e) = call(
            &app,
            &token,
            reqwest::Method::POST,
            "/api/v1/tickets",
            Some(body.clone()),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body} → {e}");
        assert_eq!(e["error"], "invalid");
        assert_eq!(e["detail"]["field"], field, "{e}");
    }
    let (s, e) = call(
        &app,
        &token,
        reqwest::Method::POST,
        "/api/v1/tickets",
        Some(json!({"queue": "Support"})),
    )
    .await;
    assert!(s.is_client_error(), "{s}");
    assert!(
        e["detail"].as_str().unwrap_or("").contains("subject"),
        "{e}"
    );
}

#[tokio::test]
async fn a_customers_domain_and_sla_policy_follow_the_requestor() {
    let (app, token) = with_token().await;
    let out = app.cli(
        &[
            "customer",
            "add",
            "ACME",
            "--name",
            "Acme",
            "--sla",
            "gold",
            "--domain",
            "acme.example",
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let t = open_ticket(
        &app,
        &token,
        json!({"queue": "Support", "subject": "slow", "requestors": ["bob@acme.example"]}),
    )
    .await;
    assert_eq!(t["customer"], "ACME");
    assert_eq!(t["sla"]["policy"], "gold");
}

#[tokio::test]
async fn every_change_is_recorded_in_the_history_in_order() {
    let (app, token) = with_token().await;
    app.add_user("alice", "agent", "alice-password-1");
    let t = open_ticket(
        &app,
        &token,
        json!({"queue": "Support", "subject": "disk full", "body": "df says 100%"}),
    )
    .await;
    let path = format!("/api/v1/tickets/{}", id(&t));
    let (s, t2) = call(
        &app,
        &token,
        reqwest::Method::PATCH,
        &path,
        Some(
            json!({"owner": "alice", "priority": 1, "queue": "NOC", "subject": "disk full on db1"}),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{t2}");
    assert_eq!(
        (
            t2["owner"].as_str(),
            t2["priority"].as_i64(),
            t2["queue"].as_str()
        ),
        (Some("alice"), Some(1), Some("NOC"))
    );
    let (s, _) = call(
        &app,
        &token,
        reqwest::Method::POST,
        &format!("{path}/comment"),
        Some(json!({"body": "internal note"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let (_, after_c) = call(&app, &token, reqwest::Method::GET, &path, None).await;
    assert_eq!(
        after_c["status"], "new",
        "a comment does not open the ticket"
    );
    let (_, t3) = call(
        &app,
        &token,
        reqwest::Method::POST,
        &format!("{path}/correspond"),
        Some(json!({"body": "We are on it"})),
    )
    .await;
    assert_eq!(
        t3["status"], "open",
        "staff correspondence opens a new ticket"
    );
    let (s, h) = call(
        &app,
        &token,
        reqwest::Method::GET,
        &format!("{path}/history"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let kinds: Vec<(String, String)> = h
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap().to_owned(),
                e["field"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let expect = [
        ("create", ""),
        ("set", "subject"),
        ("set", "queue"),
        ("set", "priority"),
        ("set", "owner"),
        ("comment", ""),
        // Correspondence says who wrote it: staff answers the SLA's first response.
        ("correspond", "staff"),
        ("set", "status"),
    ];
    assert_eq!(
        kinds,
        expect.map(|(a, b)| (a.to_owned(), b.to_owned())).to_vec()
    );
    let first = &h[0];
    assert_eq!(first["actor"], "tests");
    assert_eq!(first["body"], "df says 100%");
    assert_eq!(h[4]["old"], Value::Null);
    assert_eq!(h[4]["new"], "alice");
    assert_eq!(h[7]["old"], "new");
    assert_eq!(h[7]["new"], "open");
}

#[tokio::test]
async fn status_moves_follow_rts_lifecycle() {
    let (app, token) = with_token().await;
    let t = open_ticket(&app, &token, json!({"queue": "Support", "subject": "x"})).await;
    let path = format!("/api/v1/tickets/{}", id(&t));
    let (s, r) = call(
        &app,
        &token,
        reqwest::Method::PATCH,
        &path,
        Some(json!({"status": "resolved"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(r["resolved_at"].is_string());
    let (s, e) = call(
        &app,
        &token,
        reqwest::Method::PATCH,
        &path,
        Some(json!({"status": "stalled"})),
    )
    .await;
    assert_eq!(
        s,
        StatusCode::CONFLICT,
        "a resolved ticket is reopened first: {e}"
    );
    assert!(
        e["detail"]
            .as_str()
            .unwrap()
            .contains("resolved ticket cannot become stalled")
    );
    let (s, r) = call(
        &app,
        &token,
        reqwest::Method::PATCH,
        &path,
        Some(json!({"status": "open"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(r["resolved_at"], Value::Null);
    let (s, _) = call(
        &app,
        &token,
        reqwest::Method::PATCH,
        &path,
        Some(json!({"status": "new"})),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, e) = call(
        &app,
        &token,
        reqwest::Method::PATCH,
        &path,
        Some(json!({"status": "sleeping"})),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
}

#[tokio::test]
async fn a_ticket_cannot_be_resolved_while_a_ticket_it_depends_on_is_open() {
    let (app, token) = with_token().await;
    let a = id(&open_ticket(
        &app,
        &token,
        json!({"queue": "Support", "subject": "customer outage"}),
    )
    .await);
    let b = id(&open_ticket(
        &app,
        &token,
        json!({"queue": "NOC", "subject": "core router"}),
    )
    .await);
    let (s, t) = call(
        &app,
        &token,
        reqwest::Method::POST,
        &format!("/api/v1/tickets/{a}/links"),
        Some(json!({"type": "DependsOn", "target": b})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{t}");
    assert_eq!(t["links"]["DependsOn"], json!([b]));
    let (_, tb) = call(
        &app,
        &token,
        reqwest::Method::GET,
        &format!("/api/v1/tickets/{b}"),
        None,
    )
    .await;
    assert_eq!(tb["links"]["DependedOnBy"], json!([a]));
    let (s, e) = call(
        &app,
        &token,
        reqwest::Method::PATCH,
        &format!("/api/v1/tickets/{a}"),
        Some(json!({"status": "resolved"})),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(
        e["detail"]
            .as_str()
            .unwrap()
            .contains(&format!("depends on open ticket(s) #{b}")),
        "{e}"
    );
    call(
        &app,
        &token,
        reqwest::Method::PATCH,
        &format!("/api/v1/tickets/{b}"),
        Some(json!({"status": "resolved"})),
    )
    .await;
    let (s, _) = call(
        &app,
        &token,
        reqwest::Method::PATCH,
        &format!("/api/v1/tickets/{a}"),
        Some(json!({"status": "resolved"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn merging_moves_history_and_watchers_and_the_old_id_answers_with_the_survivor() {
    let (app, token) = with_token().await;
    let a = id(&open_ticket(&app, &token, json!({"queue": "Support", "subject": "mail down", "body": "from alice", "requestors": ["alice@x.net"]})).await);
    let b = id(&open_ticket(&app, &token, json!({"queue": "Support", "subject": "mail down too", "body": "from bob", "requestors": ["bob@x.net", "alice@x.net"]})).await);
    let (s, m) = call(
        &app,
        &token,
        reqwest::Method::POST,
        &format!("/api/v1/tickets/{a}/merge"),
        Some(json!({"into": b})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{m}");
    assert_eq!(m["id"], b);
    assert_eq!(m["requestors"], json!(["alice@x.net", "bob@x.net"]));
    let (s, old) = call(
        &app,
        &token,
        reqwest::Method::GET,
        &format!("/api/v1/tickets/{a}"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(old["id"], b, "the merged id answers with the survivor");
    let (_, h) = call(
        &app,
        &token,
        reqwest::Method::GET,
        &format!("/api/v1/tickets/{a}/history"),
        None,
    )
    .await;
    let bodies: Vec<&str> = h
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["body"].as_str())
        .collect();
    assert_eq!(bodies, ["from alice", "from bob"]);
    // Changes through the old id land on the survivor.
    let (_, t) = call(
        &app,
        &token,
        reqwest::Method::PATCH,
        &format!("/api/v1/tickets/{a}"),
        Some(json!({"priority": 1})),
    )
    .await;
    assert_eq!(
        (t["id"].as_i64(), t["priority"].as_i64()),
        (Some(b), Some(1))
    );
    let (s, _) = call(
        &app,
        &token,
        reqwest::Method::POST,
        &format!("/api/v1/tickets/{b}/merge"),
        Some(json!({"into": a})),
    )
    .await;
    assert_eq!(
        s,
        StatusCode::BAD_REQUEST,
        "merging a ticket into itself (via its old id) is refused"
    );
}

#[tokio::test]
async fn unknown_tickets_answer_404_and_other_customers_tickets_do_not_exist() {
    let (app, token) = with_token().await;
    let (s, e) = call(
        &app,
        &token,
        reqwest::Method::GET,
        "/api/v1/tickets/999999",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(e["error"], "not_found");
    app.cli(&["customer", "add", "ACME", "--name", "Acme"], None);
    let out = app.cli(
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
    assert!(out.status.success());
    app.login("carol", "carol-password-1").await;
    // Ticket 1 is not ACME's: to carol it does not exist (a 403 would say it does).
    let r = app.get("/api/v1/tickets/1").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let alerts = text(
        &app.cli(&["token", "create", "am", "--scope", "alerts"], None)
            .stdout,
    )
    .trim()
    .to_owned();
    let (s, _) = call(
        &app,
        &alerts,
        reqwest::Method::POST,
        "/api/v1/tickets",
        Some(json!({"queue": "Support", "subject": "x"})),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_owner_must_be_staff_and_nobody_clears_it() {
    let (app, token) = with_token().await;
    app.add_user("alice", "agent", "alice-password-1");
    let t = open_ticket(&app, &token, json!({"queue": "Support", "subject": "x"})).await;
    let path = format!("/api/v1/tickets/{}", id(&t));
    let (s, e) = call(
        &app,
        &token,
        reqwest::Method::PATCH,
        &path,
        Some(json!({"owner": "mallory"})),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["detail"]["field"], "owner");
    let (_, t) = call(
        &app,
        &token,
        reqwest::Method::PATCH,
        &path,
        Some(json!({"owner": "alice"})),
    )
    .await;
    assert_eq!(t["owner"], "alice");
    let (_, t) = call(
        &app,
        &token,
        reqwest::Method::PATCH,
        &path,
        Some(json!({"owner": "Nobody"})),
    )
    .await;
    assert_eq!(t["owner"], Value::Null);
    let (_, t) = call(
        &app,
        &token,
        reqwest::Method::PATCH,
        &path,
        Some(json!({"owner": "alice"})),
    )
    .await;
    let (_, t2) = call(
        &app,
        &token,
        reqwest::Method::PATCH,
        &path,
        Some(json!({"owner": null})),
    )
    .await;
    assert_eq!(
        (t["owner"].as_str(), t2["owner"].as_str()),
        (Some("alice"), None)
    );
    let (s, _) = call(
        &app,
        &token,
        reqwest::Method::PATCH,
        &path,
        Some(json!({"colour": "red"})),
    )
    .await;
    assert!(s.is_client_error(), "unknown fields are refused");
}

#[tokio::test]
async fn concurrent_clients_creating_tickets_all_succeed() {
    let (app, token) = with_token().await;
    app.cli(
        &[
            "customer",
            "add",
            "ACME",
            "--name",
            "Acme",
            "--domain",
            "acme.example",
        ],
        None,
    );
    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for c in 0..8 {
        let (app, token) = (app.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let mut ok = 0;
            for i in 0..15 {
                // A requestor whose domain is looked up: a read before the writes.
                let body = json!({"queue": "Support", "subject": format!("c{c} t{i}"), "requestors": ["x@acme.example"]});
                let (s, v) = call(&app, &token, reqwest::Method::POST, "/api/v1/tickets", Some(body)).await;
                assert_eq!(s, StatusCode::CREATED, "{v}");
                ok += 1;
            }
            ok
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    assert_eq!(total, 120);
    let (_, v) = call(
        &app,
        &token,
        reqwest::Method::GET,
        "/api/v1/tickets?query=Customer%20%3D%20%27ACME%27&per_page=1",
        None,
    )
    .await;
    assert_eq!(v["total"], 120);
}

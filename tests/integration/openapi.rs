//! The OpenAPI document against the running server: every documented operation exists, the
//! CONTRACT's routes are documented, and real responses carry exactly the documented fields.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::text;
use crate::tickets::{call, open_ticket, with_token_and};

fn props(doc: &Value, schema: &str) -> BTreeSet<String> {
    doc["components"]["schemas"][schema]["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("no schema {schema}"))
        .keys()
        .cloned()
        .collect()
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

#[tokio::test]
async fn the_openapi_document_matches_what_the_server_answers() {
    // An alert source, so `{source}` names one that exists.
    let (app, token) = with_token_and(&format!(
        "{}\n[[alert_source]]\nname = \"doccheck\"\nkind = \"alertmanager\"\ntoken = \"doccheck-token\"\nqueue = \"NOC\"\n",
        crate::oncall::NOC
    ))
    .await;
    let r = app.get("/api/openapi.json").await;
    assert_eq!(r.status(), StatusCode::OK);
    let doc: Value = r.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let ops: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(p, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |m| (m.to_uppercase(), p.clone()))
        })
        .collect();
    for (m, p) in [
        ("GET", "/api/v1/me"),
        ("POST", "/api/v1/tickets"),
        ("GET", "/api/v1/tickets"),
        ("GET", "/api/v1/tickets/{id}"),
        ("PATCH", "/api/v1/tickets/{id}"),
        ("POST", "/api/v1/tickets/{id}/correspond"),
        ("POST", "/api/v1/tickets/{id}/comment"),
        ("POST", "/api/v1/tickets/{id}/merge"),
        ("GET", "/api/v1/tickets/{id}/history"),
        ("GET", "/api/v1/search"),
        ("GET", "/api/v1/oncall/{name}"),
        ("GET", "/api/v1/oncall/{name}/overrides"),
        ("POST", "/api/v1/oncall/{name}/overrides"),
        ("DELETE", "/api/v1/oncall/{name}/overrides/{id}"),
    ] {
        assert!(
            ops.contains(&(m.to_owned(), p.to_owned())),
            "CONTRACT route {m} {p} is not documented"
        );
    }
    // Every documented operation is served (a real ticket id fills {id}, the config's
    // rotation {name}, a real override id the {id} of an override).
    let t = open_ticket(&app, &token, json!({"queue": "Support", "subject": "doc check", "body": "b", "requestors": ["a@b.example"]})).await;
    let id = t["id"].as_i64().unwrap().to_string();
    let (s, o) = call(
        &app,
        &token,
        Method::POST,
        "/api/v1/oncall/noc/overrides",
        Some(json!({"starts_at": "2036-01-09T10:00:00Z", "ends_at": "2036-01-10T10:00:00Z", "primary": "erin"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{o}");
    let override_id = o["id"].as_i64().unwrap().to_string();
    let out = app.cli(
        &["customer", "add", "DOCCHECK", "--name", "Doc check"],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (s, page) = call(
        &app,
        &token,
        Method::PUT,
        "/api/v1/wiki/docs/check",
        Some(json!({"title": "Doc check", "body": "b"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{page}");
    for (m, p) in &ops {
        let path = if p.contains("/overrides/{id}") {
            p.replace("{id}", &override_id)
        } else {
            p.replace("{id}", &id)
        };
        let path = path
            .replace("{name}", "noc")
            .replace("{code}", "DOCCHECK")
            .replace("{path}", "docs/check")
            .replace("{source}", "doccheck");
        let method = Method::from_bytes(m.as_bytes()).unwrap();
        let body = if m == "GET" { None } else { Some(json!({})) };
        let (s, _) = call(&app, &token, method, &path, body).await;
        assert!(
            s != StatusCode::NOT_FOUND && s != StatusCode::METHOD_NOT_ALLOWED,
            "{m} {p} is documented but answers {s}"
        );
    }
    // Real responses carry exactly the documented fields.
    assert_eq!(keys(&t), props(&doc, "Ticket"), "Ticket");
    assert_eq!(keys(&t["sla"]), props(&doc, "SlaView"), "SlaView");
    let (_, found) = call(
        &app,
        &token,
        Method::GET,
        "/api/v1/tickets?per_page=1",
        None,
    )
    .await;
    assert!(
        keys(&found).is_subset(&props(&doc, "Found")),
        "Found: {found}"
    );
    let (_, h) = call(
        &app,
        &token,
        Method::GET,
        &format!("/api/v1/tickets/{id}/history"),
        None,
    )
    .await;
    for e in h.as_array().unwrap() {
        assert!(
            keys(e).is_subset(&props(&doc, "HistoryEntry")),
            "HistoryEntry: {e}"
        );
    }
    let (_, me) = call(&app, &token, Method::GET, "/api/v1/me", None).await;
    assert_eq!(keys(&me), props(&doc, "Me"), "Me");
    let (_, err) = call(&app, &token, Method::GET, "/api/v1/tickets/999999", None).await;
    assert_eq!(keys(&err), props(&doc, "ErrorInfo"), "ErrorInfo");
    let (_, hits) = call(&app, &token, Method::GET, "/api/v1/search?q=doc", None).await;
    assert_eq!(keys(&hits), props(&doc, "Results"));
    // A hit carries the fields of its kind (a ticket's id and status, a page's path).
    assert!(
        keys(&hits["items"][0]).is_subset(&props(&doc, "Hit")),
        "{hits}"
    );
    assert!(
        keys(&hits["wiki"][0]).is_subset(&props(&doc, "Hit")),
        "{hits}"
    );
    // What the documented request bodies accept is what the server accepts.
    assert_eq!(
        props(&doc, "CreateBody"),
        [
            "body",
            "customer",
            "format",
            "priority",
            "queue",
            "requestors",
            "subject"
        ]
        .map(str::to_owned)
        .into_iter()
        .collect()
    );
}

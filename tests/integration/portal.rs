//! The customer portal and the fence around customers (issue 6): two customers, each with a
//! signed-in user, and every way one could reach the other's tickets — pages, API, attachment
//! and search URLs — answers 404 or finds nothing.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::tickets::{call, open_ticket, with_token};

/// Creates customer `code` through the API.
async fn customer(app: &TestApp, token: &str, code: &str, domain: &str) -> Value {
    let (s, c) = call(
        app,
        token,
        reqwest::Method::POST,
        "/api/v1/customers",
        Some(json!({"code": code, "name": format!("{code} Ltd"), "domains": [domain]})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    c
}

/// A local customer user of `code`, signed in on a client of its own.
pub async fn customer_user(app: &TestApp, name: &str, code: &str) -> reqwest::Client {
    let email = format!("{name}@{}.example", code.to_lowercase());
    let out = app.cli(
        &[
            "user",
            "add",
            name,
            "--email",
            &email,
            "--role",
            "customer",
            "--customer",
            code,
            "--password-stdin",
        ],
        Some("customer-password-1"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let c = client();
    let (_, page) = get(&c, app, "/login").await;
    let csrf = csrf_in(&page).unwrap();
    let r = c
        .post(app.url("/login"))
        .form(&[
            ("username", name),
            ("password", "customer-password-1"),
            ("csrf_token", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{name} signs in");
    c
}

async fn get(c: &reqwest::Client, app: &TestApp, path: &str) -> (StatusCode, String) {
    let r = c.get(app.url(path)).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

/// GET that follows one redirect (staff links a customer is sent on from).
async fn get_followed(c: &reqwest::Client, app: &TestApp, path: &str) -> StatusCode {
    let r = c.get(app.url(path)).send().await.unwrap();
    if r.status().is_redirection() {
        let to = r.headers()["location"].to_str().unwrap().to_owned();
        return c.get(app.url(&to)).send().await.unwrap().status();
    }
    r.status()
}

async fn json_get(c: &reqwest::Client, app: &TestApp, path: &str) -> (StatusCode, Value) {
    let r = c.get(app.url(path)).send().await.unwrap();
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

/// A browser-session API write: the session's CSRF token goes in the header.
async fn json_send(
    c: &reqwest::Client,
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> StatusCode {
    let (_, page) = get(c, app, "/portal").await;
    let csrf = csrf_in(&page).unwrap();
    c.request(method, app.url(path))
        .header("X-CSRF-Token", csrf)
        .json(&body)
        .send()
        .await
        .unwrap()
        .status()
}

/// The ids of attachment links to `/portal/tickets/{id}/attachments/N` in a page.
fn attachment_ids(page: &str, id: i64) -> Vec<i64> {
    let prefix = format!("/portal/tickets/{id}/attachments/");
    page.match_indices(&prefix)
        .filter_map(|(i, _)| {
            let rest = &page[i + prefix.len()..];
            let n: String = rest.chars().take_while(char::is_ascii_digit).collect();
            n.parse().ok()
        })
        .collect()
}

#[tokio::test]
async fn a_customer_reaches_only_their_own_tickets_through_pages_api_files_and_search() {
    let (app, token) = with_token().await;
    customer(&app, &token, "ACME", "acme.example").await;
    customer(&app, &token, "GLOBEX", "globex.example").await;
    let alice = customer_user(&app, "alice", "ACME").await;
    let bob = customer_user(&app, "bob", "GLOBEX").await;

    // Staff open one ticket for each, and comment internally on ACME's.
    let a = open_ticket(
        &app,
        &token,
        json!({"queue": "Support", "subject": "ACME link flaps", "body": "zebracorn acme words", "customer": "ACME"}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let (s, _) = call(
        &app,
        &token,
        reqwest::Method::POST,
        &format!("/api/v1/tickets/{a}/comment"),
        Some(json!({"body": "internal: customer owes us money, quokkanote"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);

    // Bob opens GLOBEX's ticket in the portal, with a file.
    let (_, page) = get(&bob, &app, "/portal/tickets/new").await;
    let csrf = csrf_in(&page).unwrap();
    let form = reqwest::multipart::Form::new()
        .text("csrf_token", csrf)
        .text("queue", "Support")
        .text("subject", "GLOBEX mail bounces")
        .text("priority", "2")
        .text("body", "platypunk globex words")
        .part(
            "attachments",
            reqwest::multipart::Part::bytes(b"globex router config".to_vec())
                .file_name("router.conf")
                .mime_str("text/plain")
                .unwrap(),
        );
    let r = bob
        .post(app.url("/portal/tickets"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap().to_owned();
    let g: i64 = to.rsplit('/').next().unwrap().parse().unwrap();
    let (s, page) = get(&bob, &app, &to).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("platypunk globex words"), "{page}");
    let files = attachment_ids(&page, g);
    assert_eq!(files.len(), 1, "bob sees his file: {page}");
    let aid = files[0];
    let (s, body) = get(
        &bob,
        &app,
        &format!("/portal/tickets/{g}/attachments/{aid}"),
    )
    .await;
    assert_eq!((s, body.as_str()), (StatusCode::OK, "globex router config"));
    let staff_view = call(
        &app,
        &token,
        reqwest::Method::GET,
        &format!("/api/v1/tickets/{g}"),
        None,
    )
    .await
    .1;
    assert_eq!(staff_view["customer"], "GLOBEX");
    assert_eq!(staff_view["requestors"], json!(["bob@globex.example"]));

    // Alice's own ticket: listed, readable, the internal comment nowhere.
    let (s, list) = get(&alice, &app, "/portal").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        list.contains("ACME link flaps") && !list.contains("GLOBEX mail bounces"),
        "{list}"
    );
    let (s, own) = get(&alice, &app, &format!("/portal/tickets/{a}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        own.contains("zebracorn") && !own.contains("quokkanote"),
        "{own}"
    );
    let (s, h) = json_get(&alice, &app, &format!("/api/v1/tickets/{a}/history")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        !h.to_string().contains("quokkanote"),
        "comments stay internal: {h}"
    );

    // Bob's ticket, from Alice, every way: 404, never 403, never content.
    for path in [
        format!("/portal/tickets/{g}"),
        format!("/portal/tickets/{g}/attachments/{aid}"),
        format!("/tickets/{g}"),
        format!("/tickets/{g}/attachments/{aid}"),
    ] {
        assert_eq!(
            get_followed(&alice, &app, &path).await,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    for path in [
        format!("/api/v1/tickets/{g}"),
        format!("/api/v1/tickets/{g}/history"),
        "/api/v1/customers/GLOBEX".to_owned(),
    ] {
        assert_eq!(
            json_get(&alice, &app, &path).await.0,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let reply = json!({"body": "let me in"});
    assert_eq!(
        json_send(
            &alice,
            &app,
            reqwest::Method::POST,
            &format!("/api/v1/tickets/{g}/correspond"),
            reply.clone()
        )
        .await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        json_send(
            &alice,
            &app,
            reqwest::Method::PATCH,
            &format!("/api/v1/tickets/{g}"),
            json!({"status": "resolved"})
        )
        .await,
        StatusCode::NOT_FOUND
    );
    // The portal reply form to someone else's ticket is refused the same way.
    let (_, page) = get(&alice, &app, "/portal").await;
    let csrf = csrf_in(&page).unwrap();
    let r = alice
        .post(app.url(&format!("/portal/tickets/{g}/reply")))
        .form(&[("csrf_token", csrf.as_str()), ("body", "hello")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // Lists and search hold only her customer's tickets, whatever the query says.
    for q in ["", "id > 0", "Customer = 'GLOBEX'", "id > 0) OR (id > 0"] {
        let enc: String = url::form_urlencoded::byte_serialize(q.as_bytes()).collect();
        let (s, found) = json_get(&alice, &app, &format!("/api/v1/tickets?query={enc}")).await;
        if s == StatusCode::OK {
            let ids: Vec<i64> = found["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["id"].as_i64().unwrap())
                .collect();
            assert!(ids.iter().all(|i| *i == a), "{q}: {found}");
        } else {
            assert_eq!(s, StatusCode::BAD_REQUEST, "{q}: {found}");
        }
    }
    let (_, hits) = json_get(&alice, &app, "/api/v1/search?q=platypunk").await;
    assert_eq!(hits["total"], 0, "{hits}");
    let (_, hits) = json_get(&alice, &app, "/api/v1/search?q=zebracorn").await;
    assert_eq!(hits["total"], 1, "{hits}");
    assert_eq!(hits["items"][0]["url"], format!("/portal/tickets/{a}"));
    let (_, page) = get(&alice, &app, "/portal/search?q=platypunk").await;
    assert!(!page.contains("GLOBEX mail bounces"), "{page}");
    let (_, page) = get(&bob, &app, "/portal/search?q=platypunk").await;
    assert!(page.contains("GLOBEX mail bounces"), "{page}");

    // Her own customer, herself, and what she may not do on her own ticket.
    assert_eq!(
        json_get(&alice, &app, "/api/v1/customers/ACME").await.0,
        StatusCode::OK
    );
    let (_, me) = json_get(&alice, &app, "/api/v1/me").await;
    assert_eq!(
        (me["role"].as_str(), me["customer"].as_str()),
        (Some("customer"), Some("ACME"))
    );
    assert_eq!(
        json_send(
            &alice,
            &app,
            reqwest::Method::PATCH,
            &format!("/api/v1/tickets/{a}"),
            json!({"owner": "admin"})
        )
        .await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        json_send(
            &alice,
            &app,
            reqwest::Method::POST,
            &format!("/api/v1/tickets/{a}/correspond"),
            reply
        )
        .await,
        StatusCode::CREATED
    );
    let h = call(
        &app,
        &token,
        reqwest::Method::GET,
        &format!("/api/v1/tickets/{a}/history"),
        None,
    )
    .await
    .1;
    let last = h.as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (
            last["type"].as_str(),
            last["actor"].as_str(),
            last["field"].as_str()
        ),
        (Some("correspond"), Some("alice"), Some("requestor"))
    );
    // Staff pages are not for customers: they land in the portal.
    let r = alice.get(app.url("/")).send().await.unwrap();
    assert_eq!(r.headers()["location"], "/portal");
}

#[tokio::test]
async fn customers_keep_services_hosts_and_contacts_with_clear_refusals() {
    let (app, token) = with_token().await;
    let post = |body: Value| {
        call(
            &app,
            &token,
            reqwest::Method::POST,
            "/api/v1/customers",
            Some(body),
        )
    };
    let (s, c) = post(json!({
        "code": "ACME", "name": "Acme Networks", "sla": "gold", "domains": ["Acme.Example"],
        "services": [{"kind": "transit", "identifier": "192.0.2.0/24", "description": "uplink"},
                     {"kind": "ftth", "identifier": "CIRCUIT-77"}],
        "hosts": [{"name": "Core1.Acme.Example", "address": "192.0.2.1"}, {"name": "web1.acme.example"}]
    }))
    .await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    assert_eq!(c["domains"], json!(["acme.example"]));
    assert_eq!(
        c["hosts"][0],
        json!({"name": "core1.acme.example", "address": "192.0.2.1"})
    );
    assert_eq!(c["services"].as_array().unwrap().len(), 2);

    let refusals = [
        (
            json!({"code": "ACME", "name": "again"}),
            StatusCode::CONFLICT,
            "already exists",
        ),
        (
            json!({"code": "B", "name": "B", "hosts": [{"name": "core1.acme.example"}]}),
            StatusCode::CONFLICT,
            "core1.acme.example",
        ),
        (
            json!({"code": "B", "name": "B", "hosts": [{"name": "x", "address": "192.0.2.1"}]}),
            StatusCode::CONFLICT,
            "192.0.2.1",
        ),
        (
            json!({"code": "B", "name": "B", "services": [{"kind": "transit", "identifier": "192.0.2.0/40"}]}),
            StatusCode::BAD_REQUEST,
            "services[0].identifier",
        ),
        (
            json!({"code": "B", "name": "B", "sla": "platinum"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "platinum",
        ),
        (
            json!({"code": "B c", "name": "B"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "code",
        ),
        (
            json!({"code": "B", "name": "B", "hosts": [{"name": "bad host"}]}),
            StatusCode::BAD_REQUEST,
            "hosts[0].name",
        ),
    ];
    for (body, status, says) in refusals {
        let (s, e) = post(body.clone()).await;
        assert_eq!(s, status, "{body}: {e}");
        assert!(e.to_string().contains(says), "{body}: {e}");
    }
    // Nothing of a refused customer was kept.
    let (_, all) = call(
        &app,
        &token,
        reqwest::Method::GET,
        "/api/v1/customers",
        None,
    )
    .await;
    assert_eq!(all.as_array().unwrap().len(), 1, "{all}");

    // A contact (made by mail, say) attached by address; the policy removed with null.
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
        Some("pw-carol-123456"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (s, c) = call(
        &app,
        &token,
        reqwest::Method::PATCH,
        "/api/v1/customers/ACME",
        Some(json!({"sla": null, "contacts": ["carol@acme.example"], "hosts": []})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(c["sla"], Value::Null);
    assert_eq!(c["hosts"], json!([]));
    assert_eq!(c["contacts"][0]["username"], "carol");
    assert_eq!(
        c["name"], "Acme Networks",
        "what a change does not name stays"
    );
    let (s, _) = call(
        &app,
        &token,
        reqwest::Method::PATCH,
        "/api/v1/customers/NOPE",
        Some(json!({"name": "x"})),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // The CLI takes services and hosts too; the page shows them to staff.
    let out = app.cli(
        &[
            "customer",
            "add",
            "GLOBEX",
            "--name",
            "Globex",
            "--service",
            "colocation:RACK-12",
            "--host",
            "ns1.globex.example=198.51.100.53",
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    app.login_admin().await;
    let (s, page) = app.get_text("/customers/GLOBEX").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains("RACK-12") && page.contains("198.51.100.53"),
        "{page}"
    );
    let (s, page) = app.get_text("/customers").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains("Acme Networks") && page.contains("Globex"),
        "{page}"
    );
}

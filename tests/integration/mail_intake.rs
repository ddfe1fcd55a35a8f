//! Mail in (issue 4): the inbound route and `opsdesk mailgate`, threading, loop guards,
//! flagged messages. Messages are real RFC 5322 text, posted as an MTA would.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;
use crate::tickets::call;

const CONFIG: &str = "[mail]\nfrom = \"support@example.net\"\nsubject_tag = \"example.net\"\nmax_message_bytes = 200000\n\n\
[[queue]]\nname = \"Support\"\ncorrespond_address = \"support@example.net\"\ncomment_address = \"support-comment@example.net\"\n\n\
[[queue]]\nname = \"NOC\"\n";

/// An app with mail settings; answers (app, mail token, api token).
async fn mail_app() -> (TestApp, String, String) {
    let app = TestApp::spawn_with(Options::toml(CONFIG)).await;
    let (mail, api) = (app.token("t-mail", "mail"), app.token("t-api", "api"));
    (app, mail, api)
}

async fn post_mail(app: &TestApp, token: &str, query: &str, raw: &str) -> (StatusCode, Value) {
    let r = client()
        .post(app.url(&format!("/api/v1/mail/inbound?{query}")))
        .bearer_auth(token)
        .header("content-type", "message/rfc822")
        .body(raw.to_owned())
        .send()
        .await
        .unwrap();
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

fn message(from: &str, subject: &str, id: &str, extra: &str, body: &str) -> String {
    format!(
        "From: {from}\r\nTo: support@example.net\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\n\
         Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n{extra}\r\n{body}\r\n"
    )
}

pub async fn history(app: &TestApp, api: &str, id: i64) -> Vec<Value> {
    let (s, v) = call(
        app,
        api,
        Method::GET,
        &format!("/api/v1/tickets/{id}/history"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v.as_array().unwrap().clone()
}

#[tokio::test]
async fn a_new_message_opens_a_ticket_once_with_its_people() {
    let (app, mail, api) = mail_app().await;
    let raw = message(
        "\"Ann Example\" <Ann@Acme.example>",
        "Uplink down in rack 4",
        "m1@acme.example",
        "Cc: Bob <bob@acme.example>, support@example.net\r\n",
        "Since 09:58 the uplink is dark.",
    );
    let (s, v) = post_mail(&app, &mail, "queue=Support", &raw).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    assert_eq!(v["created"], true);
    assert_eq!(v["state"], "processed");
    let id = v["ticket_id"].as_i64().unwrap();

    let (_, t) = call(
        &app,
        &api,
        Method::GET,
        &format!("/api/v1/tickets/{id}"),
        None,
    )
    .await;
    assert_eq!(t["subject"], "Uplink down in rack 4");
    assert_eq!(t["queue"], "Support");
    assert_eq!(t["source"], "email");
    assert_eq!(t["requestors"], json!(["ann@acme.example"]));
    assert_eq!(
        t["cc"],
        json!(["bob@acme.example"]),
        "our own address is no watcher"
    );
    let h = history(&app, &api, id).await;
    assert_eq!(h[0]["body"], "Since 09:58 the uplink is dark.");

    let (s, again) = post_mail(&app, &mail, "queue=Support", &raw).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    assert_eq!(again["ticket_id"], id);
    assert_eq!(again["duplicate"], true);
    assert_eq!(again["created"], false);
    let (_, found) = call(
        &app,
        &api,
        Method::GET,
        "/api/v1/tickets?query=Queue%20%3D%20%27Support%27",
        None,
    )
    .await;
    assert_eq!(found["total"], 1, "the same Message-ID is stored once");
}

#[tokio::test]
async fn replies_thread_by_tag_or_references_and_reopen() {
    let (app, mail, api) = mail_app().await;
    let (_, v) = post_mail(
        &app,
        &mail,
        "queue=Support",
        &message(
            "ann@acme.example",
            "VPN flaps",
            "first@acme.example",
            "",
            "It flaps.",
        ),
    )
    .await;
    let id = v["ticket_id"].as_i64().unwrap();
    let (s, _) = call(
        &app,
        &api,
        Method::PATCH,
        &format!("/api/v1/tickets/{id}"),
        Some(json!({"status": "resolved"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK);

    // By tag: a requestor's reply reopens the resolved ticket.
    let (_, v) = post_mail(
        &app,
        &mail,
        "queue=Support",
        &message(
            "ann@acme.example",
            &format!("Re: [example.net #{id}] VPN flaps"),
            "second@acme.example",
            "",
            "Still flapping.",
        ),
    )
    .await;
    assert_eq!(
        (v["ticket_id"].as_i64(), v["created"].as_bool()),
        (Some(id), Some(false)),
        "{v}"
    );
    let (_, t) = call(
        &app,
        &api,
        Method::GET,
        &format!("/api/v1/tickets/{id}"),
        None,
    )
    .await;
    assert_eq!(t["status"], "open");

    // By In-Reply-To alone (the tag was lost on the way).
    let (_, v) = post_mail(
        &app,
        &mail,
        "queue=Support",
        &message(
            "ann@acme.example",
            "RE: VPN",
            "third@acme.example",
            "In-Reply-To: <second@acme.example>\r\n",
            "Now fine.",
        ),
    )
    .await;
    assert_eq!(v["ticket_id"].as_i64(), Some(id), "{v}");

    // The comment address makes an internal comment.
    let (_, v) = post_mail(
        &app,
        &mail,
        "queue=Support&action=comment",
        &message(
            "ann@acme.example",
            &format!("[example.net #{id}]"),
            "fourth@acme.example",
            "",
            "internal note",
        ),
    )
    .await;
    assert_eq!(v["ticket_id"].as_i64(), Some(id));
    let kinds: Vec<String> = history(&app, &api, id)
        .await
        .iter()
        .map(|h| h["type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| *k == "correspond").count(),
        2,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.last().map(String::as_str),
        Some("comment"),
        "{kinds:?}"
    );
}

#[tokio::test]
async fn a_stranger_naming_a_ticket_gets_a_new_one_that_refers_to_it() {
    let (app, mail, api) = mail_app().await;
    let (_, v) = post_mail(
        &app,
        &mail,
        "queue=Support",
        &message(
            "ann@acme.example",
            "Our invoice",
            "a1@acme.example",
            "",
            "private to Acme",
        ),
    )
    .await;
    let acme = v["ticket_id"].as_i64().unwrap();
    let (_, v) = post_mail(
        &app,
        &mail,
        "queue=Support",
        &message(
            "eve@other.example",
            &format!("Re: [example.net #{acme}] Our invoice"),
            "e1@other.example",
            "",
            "let me in",
        ),
    )
    .await;
    assert_eq!(v["created"], true, "{v}");
    let new = v["ticket_id"].as_i64().unwrap();
    assert_ne!(new, acme);
    let (_, t) = call(
        &app,
        &api,
        Method::GET,
        &format!("/api/v1/tickets/{new}"),
        None,
    )
    .await;
    assert_eq!(t["subject"], "Re: Our invoice");
    assert_eq!(t["links"]["RefersTo"], json!([acme]), "{t}");
    let bodies: Vec<Value> = history(&app, &api, acme)
        .await
        .iter()
        .map(|h| h["body"].clone())
        .collect();
    assert!(
        !bodies.contains(&json!("let me in")),
        "Acme's ticket never shows Eve's mail"
    );
}

#[tokio::test]
async fn bounces_and_loops_never_open_tickets() {
    let (app, mail, api) = mail_app().await;
    let (_, v) = post_mail(
        &app,
        &mail,
        "queue=Support",
        &message("ann@acme.example", "Help", "h1@acme.example", "", "help"),
    )
    .await;
    let id = v["ticket_id"].as_i64().unwrap();
    let dsn = format!(
        concat!(
            "From: MAILER-DAEMON@mx.example\r\nTo: support@example.net\r\nSubject: Undelivered Mail\r\n",
            "Message-ID: <dsn1@mx.example>\r\n",
            "Content-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\r\n\r\n",
            "--r\r\nContent-Type: text/plain\r\n\r\nThe mail system\r\n",
            "--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example\r\n\r\n",
            "Final-Recipient: rfc822; ann@acme.example\r\nAction: failed\r\nStatus: 5.2.2\r\n",
            "--r\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <out@example.net>\r\n",
            "Subject: [example.net #{id}] Help\r\n--r--\r\n"
        ),
        id = id
    );
    let (s, v) = post_mail(&app, &mail, "queue=Support", &dsn).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    assert_eq!(
        (v["ticket_id"].as_i64(), v["created"].as_bool()),
        (Some(id), Some(false)),
        "{v}"
    );
    let h = history(&app, &api, id).await;
    let last = h.last().unwrap();
    assert_eq!(last["type"], "bounce");
    assert!(last["body"].as_str().unwrap().contains("5.2.2"));

    let orphan = dsn
        .replace(&format!("#{id}]"), "#99999]")
        .replace("dsn1@", "dsn2@");
    let (_, v) = post_mail(&app, &mail, "queue=Support", &orphan).await;
    assert_eq!(v["state"], "ignored", "{v}");

    let ours = message("support@example.net", "loop", "loop1@example.net", "", "x");
    let (_, v) = post_mail(&app, &mail, "queue=Support", &ours).await;
    assert_eq!(
        (v["state"].as_str(), v["ticket_id"].as_i64()),
        (Some("ignored"), None),
        "{v}"
    );
    let (_, found) = call(&app, &api, Method::GET, "/api/v1/tickets", None).await;
    assert_eq!(found["total"], 1);
}

#[tokio::test]
async fn what_cannot_be_applied_is_kept_flagged_and_can_be_retried() {
    let (app, mail, _api) = mail_app().await;
    let raw = "Subject: who sent this?\r\nMessage-ID: <nofrom@x.example>\r\n\r\nno From at all\r\n";
    let (s, v) = post_mail(&app, &mail, "queue=Support", raw).await;
    assert_eq!(s, StatusCode::ACCEPTED, "stored is stored: {v}");
    assert_eq!(v["state"], "failed");
    assert_eq!(v["ticket_id"], Value::Null);

    app.login_admin().await;
    let (s, html) = app.get_text("/admin/mail").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("who sent this?"), "{html}");
    assert!(html.contains("no sender"), "the reason is shown");
    let id: String = html
        .split("/raw\"")
        .next()
        .unwrap()
        .rsplit("/admin/mail/")
        .next()
        .unwrap()
        .to_owned();
    assert!(
        id.parse::<i64>().is_ok(),
        "the id in the message's Raw link: {id}"
    );
    let r = app.get(&format!("/admin/mail/{id}/raw")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()["content-disposition"],
        format!("attachment; filename=\"message-{id}.eml\"")
    );
    assert_eq!(
        r.text().await.unwrap(),
        raw,
        "the bytes exactly as they came"
    );

    let csrf = app.csrf("/admin/mail").await;
    let r = app
        .post_form(&format!("/admin/mail/{id}/retry"), &[("csrf_token", &csrf)])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = app.get_text("/admin/mail").await;
    assert!(
        html.contains("still failed"),
        "a retry that fails again says so"
    );
}

#[tokio::test]
async fn refusals_store_nothing_and_say_why() {
    let (app, mail, api) = mail_app().await;
    let big = message(
        "ann@acme.example",
        "big",
        "big@acme.example",
        "",
        &"x".repeat(250_000),
    );
    let (s, v) = post_mail(&app, &mail, "queue=Support", &big).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{v}");
    assert!(
        v["detail"].to_string().contains("mail.max_message_bytes"),
        "{v}"
    );
    let (s, _) = post_mail(&app, &mail, "queue=Support", "  \r\n").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let ok = message("ann@acme.example", "x", "q@acme.example", "", "x");
    let (s, v) = post_mail(&app, &mail, "queue=Nope", &ok).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (s, _) = post_mail(&app, &mail, "queue=Support&action=forward", &ok).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = post_mail(&app, &api, "queue=Support", &ok).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "an api token is not a mail token");
    let (_, found) = call(&app, &api, Method::GET, "/api/v1/tickets", None).await;
    assert_eq!(found["total"], 0);
}

fn gate(app_url: &str, token: &str, stdin: &str, extra: &[&str]) -> std::process::Output {
    let mut cmd = std::process::Command::new(BIN);
    cmd.args(["mailgate", "--url", app_url, "--queue", "Support"])
        .args(extra)
        .env("OPSDESK_TOKEN", token)
        .env_remove("OPSDESK_CONFIG");
    run_with_stdin(cmd, Some(stdin))
}

#[tokio::test]
async fn mailgate_answers_with_the_exit_codes_an_mta_acts_on() {
    let (mut app, mail, api) = mail_app().await;
    let raw = message(
        "ann@acme.example",
        "via the gate",
        "gate1@acme.example",
        "",
        "hello",
    );
    let out = gate(&app.base, &mail, &raw, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = gate(&app.base, "odt_wrong", &raw, &[]);
    assert_eq!(out.status.code(), Some(77), "{}", text(&out.stderr));
    let big = message(
        "ann@acme.example",
        "big",
        "gate2@acme.example",
        "",
        &"y".repeat(250_000),
    );
    let out = gate(&app.base, &mail, &big, &[]);
    assert_eq!(out.status.code(), Some(65));
    assert!(
        text(&out.stderr).contains("max_message_bytes"),
        "{}",
        text(&out.stderr)
    );
    let out = gate(&app.base, &mail, "", &[]);
    assert_eq!(out.status.code(), Some(65));

    // The server goes away: the MTA is told to keep the message; once it is back, the retry
    // delivers it.
    let base = app.base.clone();
    app.terminate();
    let late = message(
        "ann@acme.example",
        "while down",
        "gate3@acme.example",
        "",
        "queued by the MTA",
    );
    let out = gate(&base, &mail, &late, &[]);
    assert_eq!(out.status.code(), Some(75), "{}", text(&out.stderr));
    let db = std::mem::replace(&mut app.db, TestDb::fresh().await);
    let app = TestApp::spawn_on(db, Options::toml(CONFIG)).await;
    let out = gate(&app.base, &mail, &late, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let (_, found) = call(
        &app,
        &api,
        Method::GET,
        "/api/v1/tickets?query=Subject%20%3D%20%27while%20down%27",
        None,
    )
    .await;
    assert_eq!(found["total"], 1);
}

#[tokio::test]
async fn a_crash_mid_intake_loses_no_acknowledged_message_and_applies_none_twice() {
    use std::sync::{Arc, Mutex};
    const N: usize = 160;
    let (mut app, mail, api) = mail_app().await;
    let raw = |i: usize| {
        message(
            &format!("user{i}@acme.example"),
            &format!("crash-{i:03}"),
            &format!("crash-{i}@acme.example"),
            "",
            "x",
        )
    };
    let acked = Arc::new(Mutex::new(Vec::new()));
    let url = app.url("/api/v1/mail/inbound?queue=Support");
    let mut senders = Vec::new();
    for k in 0..4 {
        let (acked, url, mail) = (acked.clone(), url.clone(), mail.clone());
        senders.push(tokio::spawn(async move {
            let http = client();
            for i in (k..N).step_by(4) {
                let sent = http.post(&url).bearer_auth(&mail).body(raw(i)).send().await;
                if sent.is_ok_and(|r| r.status() == StatusCode::ACCEPTED) {
                    acked.lock().unwrap().push(i);
                }
            }
        }));
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while acked.lock().unwrap().len() < N / 4 {
        assert!(
            std::time::Instant::now() < deadline,
            "the senders got nowhere"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    app.kill();
    for s in senders {
        s.await.unwrap();
    }
    let before_crash: Vec<usize> = acked.lock().unwrap().clone();
    assert!(
        before_crash.len() < N,
        "the kill came too late to test anything"
    );

    // The MTA retries what was not acknowledged, once the server is back.
    let db = std::mem::replace(&mut app.db, TestDb::fresh().await);
    let app = TestApp::spawn_on(db, Options::toml(CONFIG)).await;
    for i in (0..N).filter(|i| !before_crash.contains(i)) {
        let (s, v) = post_mail(&app, &mail, "queue=Support", &raw(i)).await;
        assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    }
    let q = "/api/v1/tickets?query=Subject%20LIKE%20%27crash-%27&per_page=500&exact_total=true";
    let mut subjects: Vec<String> = Vec::new();
    for _ in 0..200 {
        let (_, v) = call(&app, &api, Method::GET, q, None).await;
        subjects = v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["subject"].as_str().unwrap().to_owned())
            .collect();
        if subjects.len() >= N {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    subjects.sort();
    let want: Vec<String> = (0..N).map(|i| format!("crash-{i:03}")).collect();
    assert_eq!(
        subjects,
        want,
        "every message exactly once ({} acknowledged before the crash)",
        before_crash.len()
    );
}

#[tokio::test]
async fn mail_stored_but_not_processed_is_processed_at_start_up() {
    let (mut app, _mail, api) = mail_app().await;
    app.terminate();
    // What a crash right after the intake commit leaves behind: the raw message, state
    // `received`, no ticket yet.
    let raw = message(
        "ann@acme.example",
        "stored before the crash",
        "stranded@acme.example",
        "",
        "x",
    );
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(raw.as_bytes()));
    let now = opsdesk::db::Ts("2026-11-23T10:00:00Z".parse().unwrap());
    let blob = "INSERT INTO blobs (sha256, size, data) VALUES ($1, $2, $3)";
    let msg = "INSERT INTO mail_messages (message_id, sha256, size, via, queue, action, state, received_at) \
               VALUES ('stranded@acme.example', $1, $2, 'mailgate', 'Support', 'correspond', 'received', $3)";
    let size = raw.len() as i64;
    match app.db.pool().await {
        opsdesk::db::Db::Sqlite(p) => {
            sqlx::query(blob)
                .bind(&sha)
                .bind(size)
                .bind(raw.as_bytes())
                .execute(&*p)
                .await
                .unwrap();
            sqlx::query(msg)
                .bind(&sha)
                .bind(size)
                .bind(now)
                .execute(&*p)
                .await
                .unwrap();
        }
        opsdesk::db::Db::Postgres(p) => {
            sqlx::query(blob)
                .bind(&sha)
                .bind(size)
                .bind(raw.as_bytes())
                .execute(&p)
                .await
                .unwrap();
            sqlx::query(msg)
                .bind(&sha)
                .bind(size)
                .bind(now)
                .execute(&p)
                .await
                .unwrap();
        }
    }
    let db = std::mem::replace(&mut app.db, TestDb::fresh().await);
    let app = TestApp::spawn_on(db, Options::toml(CONFIG)).await;
    let q = "/api/v1/tickets?query=Subject%20%3D%20%27stored%20before%20the%20crash%27";
    let mut total = Value::Null;
    for _ in 0..100 {
        total = call(&app, &api, Method::GET, q, None).await.1["total"].clone();
        if total == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        total, 1,
        "no request and no 30-second backstop needed: start-up finishes it"
    );
}

#[tokio::test]
async fn a_message_with_bytes_a_database_cannot_hold_is_stored_and_applied() {
    // PostgreSQL text cannot hold NUL; a sender may still put one in a header or a body.
    let (app, mail, api) = mail_app().await;
    let raw = message(
        "ann@acme.example",
        "nul\u{0}in the subject",
        "nul@acme.example",
        "",
        "body with a NUL \u{0} byte",
    );
    let (s, v) = post_mail(&app, &mail, "queue=Support", &raw).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    assert!(
        ["processed", "received", "failed"].contains(&v["state"].as_str().unwrap()),
        "{v}"
    );
    // Stored either way: the same Message-ID again is a duplicate, never a new ticket.
    let (s, again) = post_mail(&app, &mail, "queue=Support", &raw).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{again}");
    assert_eq!(again["duplicate"], true, "{again}");
    if let Some(id) = v["ticket_id"].as_i64() {
        let h = history(&app, &api, id).await;
        assert!(
            h[0]["body"].as_str().unwrap().contains("body with a NUL"),
            "{h:?}"
        );
    }
}

/// Runs statements on the app's database: `sqlite` or `postgres`, whichever it is.
async fn exec(app: &TestApp, sqlite: &[&str], postgres: &[&str]) {
    match app.db.pool().await {
        opsdesk::db::Db::Sqlite(p) => {
            for q in sqlite {
                sqlx::query(sqlx::AssertSqlSafe(*q))
                    .execute(&*p)
                    .await
                    .unwrap();
            }
        }
        opsdesk::db::Db::Postgres(p) => {
            for q in postgres {
                sqlx::query(sqlx::AssertSqlSafe(*q))
                    .execute(&p)
                    .await
                    .unwrap();
            }
        }
    }
}

#[tokio::test]
async fn a_message_whose_ticket_the_database_refuses_is_kept_and_applied_later() {
    let (app, mail, api) = mail_app().await;
    // A database that refuses the ticket change (as it would a value it cannot hold).
    exec(
        &app,
        &[
            "CREATE TRIGGER poison BEFORE INSERT ON tickets WHEN NEW.subject LIKE '%poison%' \
           BEGIN SELECT RAISE(ABORT, 'poisoned subject'); END",
        ],
        &[
            "CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
             IF NEW.subject LIKE '%poison%' THEN RAISE EXCEPTION 'poisoned subject'; END IF; \
             RETURN NEW; END $$",
            "CREATE TRIGGER poison BEFORE INSERT ON tickets FOR EACH ROW EXECUTE FUNCTION poison()",
        ],
    )
    .await;
    let raw = message(
        "ann@acme.example",
        "poison pill",
        "poison@acme.example",
        "",
        "x",
    );
    let (s, v) = post_mail(&app, &mail, "queue=Support", &raw).await;
    assert_eq!(
        s,
        StatusCode::ACCEPTED,
        "stored, so the sender is done: {v}"
    );
    assert_eq!(v["state"], "received", "{v}");
    assert_eq!(v["ticket_id"], Value::Null, "{v}");
    assert!(app.log_shows("storing the message first").await);

    // The sender's retry is the same message, not a second one.
    let (_, again) = post_mail(&app, &mail, "queue=Support", &raw).await;
    assert_eq!(again["duplicate"], true, "{again}");
    assert_eq!(again["state"], "received", "{again}");

    // Once the database takes it, the next attempt applies it, once.
    exec(
        &app,
        &["DROP TRIGGER poison"],
        &["DROP TRIGGER poison ON tickets"],
    )
    .await;
    let (_, later) = post_mail(&app, &mail, "queue=Support", &raw).await;
    assert_eq!(later["state"], "processed", "{later}");
    let id = later["ticket_id"].as_i64().unwrap();
    let h = history(&app, &api, id).await;
    assert_eq!(h.len(), 1, "{h:?}");
    let (_, found) = call(
        &app,
        &api,
        Method::GET,
        "/api/v1/tickets?query=Subject%20LIKE%20%27poison%27",
        None,
    )
    .await;
    assert_eq!(found["items"].as_array().unwrap().len(), 1, "{found}");
}

/// (name, role, customer code, has a password) of the users with address `email`.
async fn users_with_email(
    app: &TestApp,
    email: &str,
) -> Vec<(String, String, Option<String>, bool)> {
    let q = "SELECT u.name, u.role, c.code, u.password_hash IS NOT NULL FROM users u \
             LEFT JOIN customers c ON c.id = u.customer_id WHERE lower(u.email) = lower($1)";
    match app.db.pool().await {
        opsdesk::db::Db::Sqlite(p) => sqlx::query_as(q).bind(email).fetch_all(&*p).await.unwrap(),
        opsdesk::db::Db::Postgres(p) => sqlx::query_as(q).bind(email).fetch_all(&p).await.unwrap(),
    }
}

#[tokio::test]
async fn an_unknown_sender_becomes_a_contact_of_the_customer_of_their_domain() {
    let (app, mail, api) = mail_app().await;
    let out = app.cli(
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
    assert!(out.status.success(), "{}", text(&out.stderr));

    let (_, v) = post_mail(
        &app,
        &mail,
        "queue=Support",
        &message(
            "\"Bob Builder\" <Bob@Acme.example>",
            "contact one",
            "c1@acme.example",
            "",
            "x",
        ),
    )
    .await;
    let bobs_ticket = v["ticket_id"].as_i64().unwrap();
    let (_, t) = call(
        &app,
        &api,
        Method::GET,
        &format!("/api/v1/tickets/{bobs_ticket}"),
        None,
    )
    .await;
    assert_eq!(t["customer"], "ACME", "{t}");
    assert_eq!(
        users_with_email(&app, "bob@acme.example").await,
        vec![(
            "Bob Builder".to_owned(),
            "customer".to_owned(),
            Some("ACME".to_owned()),
            false
        )],
        "a contact of ACME who cannot sign in"
    );

    // A second message from Bob makes no second contact.
    post_mail(
        &app,
        &mail,
        "queue=Support",
        &message(
            "bob@acme.example",
            "contact two",
            "c2@acme.example",
            "",
            "x",
        ),
    )
    .await;
    assert_eq!(users_with_email(&app, "bob@acme.example").await.len(), 1);

    // Someone at no customer's domain is a contact of no customer; an autoresponder is nobody.
    let (_, z) = post_mail(
        &app,
        &mail,
        "queue=Support",
        &message(
            "zoe@mail.example",
            "contact three",
            "c3@mail.example",
            "",
            "x",
        ),
    )
    .await;
    assert_eq!(
        users_with_email(&app, "zoe@mail.example").await,
        vec![(
            "zoe@mail.example".to_owned(),
            "customer".to_owned(),
            None,
            false
        )]
    );
    post_mail(
        &app,
        &mail,
        "queue=Support",
        &message(
            "robot@else.example",
            "contact four",
            "c4@else.example",
            "Auto-Submitted: auto-replied\r\n",
            "x",
        ),
    )
    .await;
    assert!(
        users_with_email(&app, "robot@else.example")
            .await
            .is_empty()
    );

    // Once Zoe is ACME's contact, her mail about an ACME ticket belongs on it.
    exec(
        &app,
        &["UPDATE users SET customer_id = (SELECT id FROM customers WHERE code = 'ACME') WHERE email = 'zoe@mail.example'"],
        &["UPDATE users SET customer_id = (SELECT id FROM customers WHERE code = 'ACME') WHERE email = 'zoe@mail.example'"],
    )
    .await;
    assert_ne!(z["ticket_id"], bobs_ticket);
    let (_, r) = post_mail(
        &app,
        &mail,
        "queue=Support",
        &message(
            "zoe@mail.example",
            &format!("Re: [example.net #{bobs_ticket}] contact one"),
            "c5@mail.example",
            "",
            "from Zoe",
        ),
    )
    .await;
    assert_eq!(r["ticket_id"].as_i64(), Some(bobs_ticket), "{r}");
    assert_eq!(r["created"], false, "{r}");
}

#[tokio::test]
async fn html_only_mail_is_shown_formatted_and_sanitised() {
    let (app, mail, _api) = mail_app().await;
    let raw = "From: ann@acme.example\r\nTo: support@example.net\r\nSubject: html only\r\n\
               Message-ID: <html-view@acme.example>\r\nMIME-Version: 1.0\r\n\
               Content-Type: text/html; charset=utf-8\r\n\r\n\
               <html><body onload=\"alert(1)\"><p>Router <b>reboots</b> hourly</p>\
               <img src=\"https://tracker.example/open.gif\"><script>alert(2)</script>\
               <a href=\"javascript:alert(3)\">click</a></body></html>\r\n";
    let (_, v) = post_mail(&app, &mail, "queue=Support", raw).await;
    let id = v["ticket_id"].as_i64().unwrap();
    app.login_admin().await;
    let (s, page) = app.get_text(&format!("/tickets/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains("Router reboots hourly"),
        "the text is the body"
    );
    let link = page
        .split("href=\"")
        .filter_map(|p| p.split('"').next())
        .find(|h| h.ends_with("/view"))
        .unwrap_or_else(|| panic!("a view link in {page}"))
        .to_owned();
    let (s, view) = app.get_text(&link).await;
    assert_eq!(s, StatusCode::OK);
    assert!(view.contains("Router <b>reboots</b> hourly"), "{view}");
    for bad in ["alert(", "tracker.example", "javascript:", "onload"] {
        assert!(!view.contains(bad), "{bad} survived: {view}");
    }
}

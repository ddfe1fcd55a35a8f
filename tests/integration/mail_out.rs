//! Mail out (issue 4) against a real SMTP server that keeps what it receives (scripts/smtp-sink,
//! started by scripts/test: OPSDESK_TEST_SMTP=host:port, OPSDESK_TEST_SMTP_DIR=its folder).

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;
use crate::tickets::call;

fn sink() -> (String, std::path::PathBuf) {
    let addr = std::env::var("OPSDESK_TEST_SMTP")
        .expect("OPSDESK_TEST_SMTP (host:port of the SMTP sink) is set by scripts/test");
    let dir = std::env::var("OPSDESK_TEST_SMTP_DIR")
        .expect("OPSDESK_TEST_SMTP_DIR (the sink's folder) is set by scripts/test");
    (addr, dir.into())
}

fn config(smtp: &str) -> String {
    format!(
        "[mail]\nsmtp_url = \"smtp://{smtp}\"\nfrom = \"support@example.net\"\nsubject_tag = \"example.net\"\n\n\
         [[queue]]\nname = \"Support\"\ncorrespond_address = \"support@example.net\"\n"
    )
}

/// Links in mail use base_url (the generated config sets one already; the environment wins).
fn options(smtp: &str) -> Options {
    Options {
        env: vec![("OPSDESK_BASE_URL".into(), "https://desk.example.net".into())],
        ..Options::toml(&config(smtp))
    }
}

async fn app_on(smtp: &str) -> (TestApp, String, String) {
    let app = TestApp::spawn_with(options(smtp)).await;
    let (mail, api) = (app.token("mail", "mail"), app.token("api", "api"));
    (app, mail, api)
}

/// Everything the sink received for `rcpt` (envelope), oldest first.
fn received(dir: &std::path::Path, rcpt: &str) -> Vec<String> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "eml"));
    files.sort();
    files
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .filter(|m| {
            m.lines()
                .find(|l| l.starts_with("X-Sink-Rcpt-To:"))
                .is_some_and(|l| l.contains(rcpt))
        })
        .collect()
}

async fn wait_for(dir: &std::path::Path, rcpt: &str, n: usize, secs: u64) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let got = received(dir, rcpt);
        if got.len() >= n || Instant::now() > deadline {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn header<'a>(msg: &'a str, name: &str) -> Option<&'a str> {
    let prefix = format!("{name}:");
    msg.lines()
        .take_while(|l| !l.is_empty())
        .find(|l| l.len() >= prefix.len() && l[..prefix.len()].eq_ignore_ascii_case(&prefix))
        .map(|l| l[prefix.len()..].trim())
}

async fn post(app: &TestApp, token: &str, raw: &str) -> Value {
    let r = client()
        .post(app.url("/api/v1/mail/inbound?queue=Support"))
        .bearer_auth(token)
        .body(raw.to_owned())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    r.json().await.unwrap()
}

fn unique(who: &str) -> String {
    format!(
        "{who}-{}@acme.example",
        hex::encode(rand::random::<[u8; 4]>())
    )
}

#[tokio::test]
async fn replies_go_out_threaded_tagged_and_loop_guarded() {
    let (smtp, dir) = sink();
    let (app, mail, api) = app_on(&smtp).await;
    let (ann, bob) = (unique("ann"), unique("bob"));
    let v = post(&app, &mail, &format!(
        "From: Ann <{ann}>\r\nTo: support@example.net\r\nCc: {bob}\r\nSubject: Fibre cut\r\nMessage-ID: <in1.{ann}>\r\n\r\nThe fibre is cut.\r\n"
    )).await;
    let id = v["ticket_id"].as_i64().unwrap();

    let auto = wait_for(&dir, &ann, 1, 15).await;
    assert_eq!(auto.len(), 1, "one auto-reply to the requestor");
    let a = &auto[0];
    assert_eq!(header(a, "Auto-Submitted"), Some("auto-replied"));
    assert_eq!(header(a, "X-Opsdesk-Loop"), Some("example.net"));
    assert_eq!(
        header(a, "In-Reply-To"),
        Some(format!("<in1.{ann}>").as_str())
    );
    assert!(
        header(a, "Subject")
            .unwrap()
            .starts_with(&format!("[example.net #{id}]")),
        "{a}"
    );
    assert!(
        header(a, "Message-ID").is_some_and(|m| m.ends_with("@example.net>")),
        "{a}"
    );
    assert!(header(a, "Thread-Index").is_some());
    assert!(header(a, "From").unwrap().contains("support@example.net"));
    assert!(
        a.contains("https://desk.example.net/tickets/"),
        "the link uses base_url"
    );
    assert!(
        received(&dir, &bob).is_empty(),
        "the auto-reply goes to the requestor only"
    );

    let (s, _) = call(
        &app,
        &api,
        Method::POST,
        &format!("/api/v1/tickets/{id}/correspond"),
        Some(json!({"body": "A crew is on the way."})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let sent = wait_for(&dir, &ann, 2, 15).await;
    assert_eq!(sent.len(), 2);
    let c = &sent[1];
    assert!(c.contains("A crew is on the way."));
    assert_eq!(header(c, "Auto-Submitted"), None, "a person wrote this one");
    assert!(header(c, "Cc").unwrap().contains(&bob), "{c}");
    assert!(
        header(c, "References")
            .unwrap()
            .contains(&format!("<in1.{ann}>"))
    );
    let ours = header(c, "Message-ID").unwrap().to_owned();

    // The customer answers our mail from a client that drops the tag: it threads anyway.
    let v = post(&app, &mail, &format!(
        "From: {ann}\r\nSubject: Re: Fibre\r\nMessage-ID: <in2.{ann}>\r\nIn-Reply-To: {ours}\r\n\r\nThanks!\r\n"
    )).await;
    assert_eq!(
        (v["ticket_id"].as_i64(), v["created"].as_bool()),
        (Some(id), Some(false)),
        "{v}"
    );

    let (s, _) = call(
        &app,
        &api,
        Method::PATCH,
        &format!("/api/v1/tickets/{id}"),
        Some(json!({"status": "resolved"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let all = wait_for(&dir, &ann, 3, 15).await;
    let resolved = all
        .iter()
        .find(|m| m.contains("has been resolved"))
        .expect("a resolution notice");
    assert_eq!(header(resolved, "Auto-Submitted"), Some("auto-generated"));
}

#[tokio::test]
async fn nothing_automatic_is_answered_and_auto_replies_are_rationed() {
    let (smtp, dir) = sink();
    let (app, mail, _api) = app_on(&smtp).await;
    let robot = unique("robot");
    for (i, extra) in [
        "Auto-Submitted: auto-replied\r\n",
        "Precedence: bulk\r\n",
        "List-Id: <x.lists.example>\r\n",
        "Return-Path: <>\r\n",
    ]
    .iter()
    .enumerate()
    {
        let v = post(&app, &mail, &format!(
            "From: {robot}\r\n{extra}Subject: automatic {i}\r\nMessage-ID: <auto{i}.{robot}>\r\n\r\nx\r\n"
        )).await;
        assert_eq!(
            v["created"], true,
            "automatic mail still opens tickets: {v}"
        );
    }
    let flood = unique("flood");
    for i in 0..5 {
        post(
            &app,
            &mail,
            &format!(
                "From: {flood}\r\nSubject: again {i}\r\nMessage-ID: <f{i}.{flood}>\r\n\r\nx\r\n"
            ),
        )
        .await;
    }
    let got = wait_for(&dir, &flood, 3, 15).await;
    assert_eq!(got.len(), 3);
    // A later message to someone else has been sent by now: anything still due would be too.
    let marker = unique("marker");
    post(
        &app,
        &mail,
        &format!("From: {marker}\r\nSubject: m\r\nMessage-ID: <m.{marker}>\r\n\r\nx\r\n"),
    )
    .await;
    assert_eq!(wait_for(&dir, &marker, 1, 15).await.len(), 1);
    assert_eq!(
        received(&dir, &flood).len(),
        3,
        "at most 3 auto-replies per address per hour"
    );
    assert!(
        received(&dir, &robot).is_empty(),
        "no auto-reply to automatic mail"
    );
}

#[tokio::test]
async fn an_smtp_outage_delays_mail_and_loses_none() {
    let (smtp, dir) = sink();
    // A port nobody listens on: the relay is down.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_addr = dead.local_addr().unwrap().to_string();
    drop(dead);
    let (mut app, mail, _api) = app_on(&dead_addr).await;
    let cara = unique("cara");
    post(
        &app,
        &mail,
        &format!(
            "From: {cara}\r\nSubject: during the outage\r\nMessage-ID: <o.{cara}>\r\n\r\nx\r\n"
        ),
    )
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(received(&dir, &cara).is_empty());
    app.terminate();

    // The relay is back (the same database, now pointing at the sink): the message goes out.
    let db = std::mem::replace(&mut app.db, TestDb::fresh().await);
    let app = TestApp::spawn_on(db, options(&smtp)).await;
    let got = wait_for(&dir, &cara, 1, 40).await;
    assert_eq!(got.len(), 1, "delivered after the outage");
    drop(app);
}

#[tokio::test]
async fn an_admin_edits_the_texts_of_outgoing_mail() {
    let (smtp, dir) = sink();
    let (app, mail, _api) = app_on(&smtp).await;
    app.login_admin().await;
    let (s, html) = app.get_text("/admin/mail/templates").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("we have received your message"),
        "the built-in text is shown"
    );

    let csrf = app.csrf("/admin/mail/templates").await;
    let r = app
        .post_form(
            "/admin/mail/templates/autoreply",
            &[("csrf_token", &csrf), ("body", "Hi, {{ nonsense }}")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("{{ nonsense }} is not a placeholder"),
        "{html}"
    );

    let r = app
        .post_form(
            "/admin/mail/templates/autoreply",
            &[
                ("csrf_token", &csrf),
                ("body", "Thanks! Ticket {{ ticket_id }} is in {{ queue }}."),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let dee = unique("dee");
    let v = post(
        &app,
        &mail,
        &format!("From: {dee}\r\nSubject: t\r\nMessage-ID: <t.{dee}>\r\n\r\nx\r\n"),
    )
    .await;
    let got = wait_for(&dir, &dee, 1, 15).await;
    assert_eq!(got.len(), 1);
    assert!(
        got[0].contains(&format!("Thanks! Ticket {} is in Support.", v["ticket_id"])),
        "{}",
        got[0]
    );
    assert!(
        got[0].contains("Reply to this message"),
        "the footer still follows"
    );

    let r = app
        .post_form(
            "/admin/mail/templates/autoreply",
            &[("csrf_token", &csrf), ("body", "")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = app.get_text("/admin/mail/templates").await;
    assert!(
        html.contains("we have received your message"),
        "back to the built-in text"
    );
}

#[tokio::test]
async fn answers_go_to_the_reply_to_of_the_requestors_latest_message() {
    let (smtp, dir) = sink();
    let (app, mail, api) = app_on(&smtp).await;
    let (form, ann) = (unique("webform"), unique("ann"));
    // A web form mails on the customer's behalf: From is the form, Reply-To the customer.
    let v = post(&app, &mail, &format!(
        "From: Web form <{form}>\r\nReply-To: Ann <{ann}>\r\nTo: support@example.net\r\nSubject: Form: no sync\r\nMessage-ID: <rt1.{form}>\r\n\r\nDSL has no sync.\r\n"
    )).await;
    let id = v["ticket_id"].as_i64().unwrap();
    let (_, t) = call(
        &app,
        &api,
        Method::GET,
        &format!("/api/v1/tickets/{id}"),
        None,
    )
    .await;
    assert_eq!(
        t["requestors"],
        json!([form]),
        "From stays the requestor: {t}"
    );
    assert_eq!(
        wait_for(&dir, &ann, 1, 15).await.len(),
        1,
        "the auto-reply goes to Reply-To"
    );

    call(
        &app,
        &api,
        Method::POST,
        &format!("/api/v1/tickets/{id}/correspond"),
        Some(json!({"body": "Line test started."})),
    )
    .await;
    let sent = wait_for(&dir, &ann, 2, 15).await;
    assert_eq!(sent.len(), 2);
    assert!(sent[1].contains("Line test started."));
    assert!(
        received(&dir, &form).is_empty(),
        "nothing to the form's address"
    );

    // The form's next message carries no Reply-To: answers go back to From.
    post(&app, &mail, &format!(
        "From: {form}\r\nSubject: Re: [example.net #{id}] Form: no sync\r\nMessage-ID: <rt2.{form}>\r\n\r\nstill down\r\n"
    )).await;
    call(
        &app,
        &api,
        Method::POST,
        &format!("/api/v1/tickets/{id}/correspond"),
        Some(json!({"body": "Engineer booked."})),
    )
    .await;
    let back = wait_for(&dir, &form, 1, 15).await;
    assert_eq!(back.len(), 1);
    assert!(back[0].contains("Engineer booked."));
}

#[tokio::test]
async fn a_merged_tickets_requestors_keep_their_reply_to() {
    let (smtp, dir) = sink();
    let (app, mail, api) = app_on(&smtp).await;
    let (form, ann) = (unique("webform"), unique("ann"));
    let v = post(&app, &mail, &format!(
        "From: {form}\r\nReply-To: {ann}\r\nTo: support@example.net\r\nSubject: Form: slow\r\nMessage-ID: <mg1.{form}>\r\n\r\nslow line\r\n"
    )).await;
    let from = v["ticket_id"].as_i64().unwrap();
    let other = unique("bob");
    let w = post(&app, &mail, &format!(
        "From: {other}\r\nTo: support@example.net\r\nSubject: slow too\r\nMessage-ID: <mg2.{other}>\r\n\r\nsame\r\n"
    )).await;
    let into = w["ticket_id"].as_i64().unwrap();
    assert_eq!(wait_for(&dir, &ann, 1, 15).await.len(), 1, "the auto-reply");
    let (s, m) = call(
        &app,
        &api,
        Method::POST,
        &format!("/api/v1/tickets/{from}/merge"),
        Some(json!({"into": into})),
    )
    .await;
    assert!(s.is_success(), "{m}");
    call(
        &app,
        &api,
        Method::POST,
        &format!("/api/v1/tickets/{into}/correspond"),
        Some(json!({"body": "Both fixed."})),
    )
    .await;
    let got = wait_for(&dir, &ann, 2, 15).await;
    assert_eq!(got.len(), 2, "the survivor's answer reaches the Reply-To");
    assert!(got[1].contains("Both fixed."));
    assert!(received(&dir, &form).is_empty());
}

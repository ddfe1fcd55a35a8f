//! SIGKILL in the middle of load (issue 9): every write the server acknowledged is there
//! after a restart, exactly once, and nothing is half-written. On PostgreSQL two nodes share
//! the database and only one is killed; the other keeps taking writes meanwhile.
//!
//! The load mixes what must never be lost: tickets over the API, mail through the intake
//! endpoint, alert deliveries (each a new alert: after the first 20 a storm, which the rest
//! join) and wiki saves (each page revised again and again by one writer).

use std::collections::HashMap;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::alerts::{am_alert, webhook};
use crate::helpers::{ADMIN_PASSWORD, BIN, TestDb, cli, client, start, text, write_config};
use opsdesk::db::Db;

const CONFIG: &str = "[[queue]]\nname = \"Support\"\ncorrespond_address = \"support@example.net\"\n\
comment_address = \"support-comment@example.net\"\n\n[[queue]]\nname = \"NOC\"\n\n\
[[alert_source]]\nname = \"prometheus\"\nkind = \"alertmanager\"\ntoken = \"am-crash-token\"\n\
queue = \"NOC\"\nauto_resolve = true\nstorm = { threshold = 20, window = \"1m\" }\n";

/// What the server answered 2xx to.
#[derive(Default)]
struct Acked {
    /// subject → ticket id
    tickets: HashMap<String, i64>,
    /// Message-ID → ticket id
    mails: HashMap<String, i64>,
    /// fingerprint → ticket id
    alerts: HashMap<String, i64>,
    /// page path → (last acknowledged revision, its body)
    pages: HashMap<String, (i64, String)>,
}

struct Node {
    child: Option<Child>,
    base: String,
}

impl Node {
    async fn start(config: &std::path::Path) -> Node {
        let mut cmd = Command::new(BIN);
        cmd.arg("--config")
            .arg(config)
            .arg("serve")
            .env_remove("OPSDESK_TEST_DATABASE_URL")
            .env("OPSDESK_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("RUST_LOG", "info,sqlx=warn");
        let (child, base, _) = start(cmd).await;
        Node {
            child: Some(child),
            base,
        }
    }

    /// SIGKILL, by PID, as a crash or the OOM killer would.
    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().unwrap();
            c.wait().unwrap();
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

struct Tokens {
    api: String,
    mail: String,
}

/// One client's loop: a write of kind `client % 4` after another until `stop`, against the
/// nodes in turn; each acknowledged write is recorded as the server answered it.
async fn client_loop(
    client_no: usize,
    bases: Vec<String>,
    tokens: Arc<Tokens>,
    stop: Arc<AtomicBool>,
    acked: Arc<Mutex<Acked>>,
) {
    let http = client();
    let mut page_rev: Option<i64> = None;
    let mut n = 0usize;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let base = &bases[n % bases.len()];
        let key = format!("c{client_no}-{n}");
        match client_no % 4 {
            0 => {
                let subject = format!("crash ticket {key}");
                let r = http
                    .post(format!("{base}/api/v1/tickets"))
                    .bearer_auth(&tokens.api)
                    .json(&json!({"queue": "Support", "subject": subject, "body": "load"}))
                    .send()
                    .await;
                if let Ok(r) = r
                    && r.status() == StatusCode::CREATED
                    && let Ok(v) = r.json::<Value>().await
                {
                    let id = v["id"].as_i64().unwrap();
                    acked.lock().unwrap().tickets.insert(subject, id);
                }
            }
            1 => {
                let mid = format!("{key}@crash.example");
                let raw = format!(
                    "From: user{client_no}@customer.example\r\nTo: support@example.net\r\n\
                     Subject: crash mail {key}\r\nMessage-ID: <{mid}>\r\n\
                     Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\nBody of {key}\r\n"
                );
                let r = http
                    .post(format!("{base}/api/v1/mail/inbound?queue=Support"))
                    .bearer_auth(&tokens.mail)
                    .header("content-type", "message/rfc822")
                    .body(raw)
                    .send()
                    .await;
                if let Ok(r) = r
                    && r.status() == StatusCode::ACCEPTED
                    && let Ok(v) = r.json::<Value>().await
                {
                    let id = v["ticket_id"].as_i64().unwrap_or(0);
                    acked.lock().unwrap().mails.insert(mid, id);
                }
            }
            2 => {
                let fp = format!("fp-{key}");
                let body = webhook(vec![am_alert(
                    "firing",
                    &fp,
                    "CrashLoad",
                    &format!("host-{key}:9100"),
                    "warning",
                )]);
                let r = http
                    .post(format!("{base}/api/v1/alerts/prometheus"))
                    .bearer_auth("am-crash-token")
                    .json(&body)
                    .send()
                    .await;
                if let Ok(r) = r
                    && r.status() == StatusCode::ACCEPTED
                    && let Ok(v) = r.json::<Value>().await
                {
                    let id = v["tickets"][0].as_i64().unwrap();
                    acked.lock().unwrap().alerts.insert(fp, id);
                }
            }
            _ => {
                let path = format!("crash/page-{client_no}");
                let body = format!("Revision body {key}\n");
                let mut req =
                    json!({"title": format!("Page {client_no}"), "body": body, "comment": key});
                if let Some(rev) = page_rev {
                    req["base_revision"] = json!(rev);
                }
                let r = http
                    .put(format!("{base}/api/v1/wiki/{path}"))
                    .bearer_auth(&tokens.api)
                    .json(&req)
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status().is_success() => {
                        let v: Value = r.json().await.unwrap();
                        let rev = v["revision"].as_i64().unwrap();
                        page_rev = Some(rev);
                        acked.lock().unwrap().pages.insert(path, (rev, body));
                    }
                    // Whether an unanswered save landed is unknown: this writer stops, so
                    // its last acknowledged revision stays the one to look for.
                    _ => return,
                }
            }
        }
    }
}

async fn scalar(db: &Db, sql: &str, bind: &str) -> i64 {
    let mut tx = db.begin_read().await.unwrap();
    let v: i64 = opsdesk::on_tx!(&mut tx, |c| sqlx::query_scalar(sqlx::AssertSqlSafe(
        sql.to_owned()
    ))
    .bind(bind.to_owned())
    .fetch_one(c)
    .await
    .unwrap());
    tx.commit().await.unwrap();
    v
}

#[tokio::test]
async fn acknowledged_writes_survive_a_sigkill_mid_load_exactly_once() {
    let db = TestDb::fresh().await;
    let config = write_config(db.dir.path(), &db.url, CONFIG);
    // Migrated, with the tokens, before any node starts.
    drop(db.pool().await);
    let token = |name: &str, scope: &str| {
        let out = cli(&config, &["token", "create", name, "--scope", scope], None);
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout).trim().to_owned()
    };
    let tokens = Arc::new(Tokens {
        api: token("crash-api", "api"),
        mail: token("crash-mail", "mail"),
    });
    let nodes_wanted = if db.is_postgres() { 2 } else { 1 };
    let mut nodes = Vec::new();
    for _ in 0..nodes_wanted {
        nodes.push(Node::start(&config).await);
    }
    let bases: Vec<String> = nodes.iter().map(|n| n.base.clone()).collect();

    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(Mutex::new(Acked::default()));
    let clients: Vec<_> = (0..12)
        .map(|i| {
            tokio::spawn(client_loop(
                i,
                bases.clone(),
                tokens.clone(),
                stop.clone(),
                acked.clone(),
            ))
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let before_kill = {
        let a = acked.lock().unwrap();
        a.tickets.len() + a.mails.len() + a.alerts.len() + a.pages.len()
    };
    nodes[0].kill();
    // On PostgreSQL the surviving node goes on taking the clients' writes.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.await.unwrap();
    }
    drop(nodes);

    // A restarted node processes mail that was stored but not yet turned into tickets.
    let again = Node::start(&config).await;
    let pool = db.pool().await;
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    assert!(before_kill > 20, "the load got going: {before_kill} writes");
    let counts = (
        acked.tickets.len(),
        acked.mails.len(),
        acked.alerts.len(),
        acked.pages.len(),
    );
    eprintln!(
        "acknowledged (tickets, mails, alerts, pages): {counts:?}; {before_kill} before the kill"
    );
    assert!(
        counts.0 > 3 && counts.1 > 3 && counts.2 > 3 && counts.3 > 0,
        "every kind of write was acknowledged: {counts:?}"
    );
    for _ in 0..300 {
        let waiting = scalar(
            &pool,
            "SELECT count(*) FROM mail_messages WHERE state = $1",
            "received",
        )
        .await;
        if waiting == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    for (subject, id) in &acked.tickets {
        let n = scalar(
            &pool,
            "SELECT count(*) FROM tickets WHERE subject = $1",
            subject,
        )
        .await;
        assert_eq!(n, 1, "ticket {subject} (#{id}) once");
    }
    for (mid, id) in &acked.mails {
        let n = scalar(
            &pool,
            "SELECT count(*) FROM mail_messages WHERE message_id = $1 AND state = 'processed' \
             AND ticket_id IS NOT NULL",
            mid,
        )
        .await;
        assert_eq!(
            n, 1,
            "mail {mid} stored and processed once (answered ticket {id})"
        );
        let key = mid.trim_end_matches("@crash.example");
        let n = scalar(
            &pool,
            "SELECT count(*) FROM tickets WHERE subject = $1",
            &format!("crash mail {key}"),
        )
        .await;
        assert_eq!(n, 1, "one ticket for mail {mid}");
    }
    for (fp, id) in &acked.alerts {
        let n = scalar(
            &pool,
            &format!(
                "SELECT count(*) FROM alerts a JOIN tickets t ON t.id = a.ticket_id \
                 WHERE a.identity = $1 AND t.id = {id}"
            ),
            fp,
        )
        .await;
        assert_eq!(n, 1, "alert {fp} on its ticket #{id}");
    }
    for (path, (rev, body)) in &acked.pages {
        let n = scalar(
            &pool,
            &format!(
                "SELECT count(*) FROM wiki_revisions r JOIN wiki_pages p ON p.id = r.page_id \
                 WHERE p.path = $1 AND r.revision = {rev} AND r.body = '{}'",
                body.replace('\'', "''")
            ),
            path,
        )
        .await;
        assert_eq!(n, 1, "page {path} revision {rev}");
    }
    // The storm held across the crash (and, on PostgreSQL, across the two nodes): the
    // threshold's 20 incidents and one storm ticket, however many alerts came.
    let incidents = scalar(
        &pool,
        "SELECT count(DISTINCT ticket_id) FROM alerts WHERE source = $1",
        "prometheus",
    )
    .await;
    assert!(incidents <= 21, "{incidents} alert tickets");
    // Nothing half-written: no ticket without its creation in the history, no firing alert
    // without its ticket, no page whose current revision is missing from its revisions, no
    // message stored without its raw bytes.
    let orphans = [
        "SELECT count(*) FROM tickets t WHERE $1 = $1 AND NOT EXISTS \
         (SELECT 1 FROM ticket_transactions x WHERE x.ticket_id = t.id AND x.kind = 'create')",
        "SELECT count(*) FROM alerts WHERE $1 = $1 AND ticket_id IS NULL AND state = 'firing'",
        "SELECT count(*) FROM wiki_pages p WHERE $1 = $1 AND NOT EXISTS \
         (SELECT 1 FROM wiki_revisions r WHERE r.page_id = p.id AND r.revision = p.revision)",
        "SELECT count(*) FROM mail_messages m WHERE $1 = $1 AND NOT EXISTS \
         (SELECT 1 FROM blobs b WHERE b.sha256 = m.sha256)",
    ];
    for sql in orphans {
        assert_eq!(scalar(&pool, sql, "x").await, 0, "{sql}");
    }
    if !db.is_postgres() {
        let mut tx = pool.begin_read().await.unwrap();
        let check: String =
            opsdesk::on_tx!(&mut tx, |c| sqlx::query_scalar("PRAGMA integrity_check")
                .fetch_one(c)
                .await
                .unwrap());
        tx.commit().await.unwrap();
        assert_eq!(check, "ok");
    }
    // Full text finds every ticket that is there, whether the index (which on SQLite lives in
    // a file of its own and was being written when the node died) holds it yet or not.
    let created = scalar(
        &pool,
        "SELECT count(*) FROM tickets WHERE subject LIKE $1",
        "crash ticket %",
    )
    .await;
    assert!(created >= counts.0 as i64, "{created} tickets");
    assert_eq!(subject_hits(&pool).await, created, "found before indexing");
    // The restarted node's index task catches up: SQLite's full-text index, PostgreSQL's pair
    // index of two-character texts.
    let mut waiting = Vec::new();
    for _ in 0..300 {
        waiting = opsdesk::search::index::lag(&pool).await.unwrap();
        if !waiting.is_empty() && waiting.iter().all(|(_, n)| *n == 0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        !waiting.is_empty() && waiting.iter().all(|(_, n)| *n == 0),
        "the restarted node's index task caught up: {waiting:?}"
    );
    assert_eq!(
        subject_hits(&pool).await,
        created,
        "found through the index"
    );
    if !db.is_postgres() {
        let Db::Sqlite(p) = &pool else { unreachable!() };
        sqlx::query("INSERT INTO search.tickets_fts (tickets_fts) VALUES ('integrity-check')")
            .execute(&**p)
            .await
            .expect("the subject index is whole");
    }
    drop(again);
}

/// How many tickets the query language's full-text search finds with "crash ticket" in the
/// subject.
async fn subject_hits(db: &Db) -> i64 {
    let s = opsdesk::tickets::search::Search {
        query: Some("Subject LIKE 'crash ticket'"),
        order: Some("id"),
        page: 1,
        per_page: 1,
        current_user: None,
        after: None,
        exact_total: true,
        customer: None,
    };
    let now = opsdesk::clock::Clock::now(&opsdesk::clock::SystemClock);
    let found = opsdesk::tickets::search::find(db, s, now).await.unwrap();
    assert!(found.total_exact);
    found.total
}

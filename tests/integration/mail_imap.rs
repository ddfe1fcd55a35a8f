//! IMAP pollers (issue 4) against a real Dovecot started by scripts/test (scripts/imap-server):
//! OPSDESK_TEST_IMAP / OPSDESK_TEST_IMAPS = host:port, OPSDESK_TEST_IMAP_CA = the CA its
//! certificate chains to. Any user name signs in with the password `secret` and has a mailbox
//! of its own, so every test uses fresh names and never sees another test's mail.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use async_imap::Session;
use futures_util::TryStreamExt;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};

use crate::helpers::*;
use crate::mail_intake::history;
use crate::tickets::call;

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is set by scripts/test (Dovecot)"))
}

fn plain() -> String {
    env("OPSDESK_TEST_IMAP")
}

/// A mailbox nobody else uses.
fn fresh_user(tag: &str) -> String {
    format!("{tag}-{}", hex::encode(rand::random::<[u8; 5]>()))
}

const QUEUES: &str = "[[queue]]\nname = \"Support\"\ncorrespond_address = \"support@example.net\"\ncomment_address = \"support-comment@example.net\"\n\n\
[[queue]]\nname = \"NOC\"\ncorrespond_address = \"noc@example.net\"\n";

fn config(poller: &str, max_bytes: u64) -> String {
    format!(
        "[mail]\nfrom = \"support@example.net\"\nsubject_tag = \"example.net\"\nmax_message_bytes = {max_bytes}\n\n\
         [[mail.imap]]\n{poller}\nqueue = \"Support\"\ninterval = \"1s\"\n\n{QUEUES}"
    )
}

fn poller(url: &str, user: &str, extra: &str) -> String {
    format!("url = \"{url}\"\nusername = \"{user}\"\npassword = \"secret\"\n{extra}")
}

type Client = Session<TcpStream>;

/// The test's own IMAP session to `user`'s mailbox (plain, straight to Dovecot).
async fn imap(user: &str) -> Client {
    let tcp = TcpStream::connect(plain()).await.unwrap();
    let mut c = async_imap::Client::new(tcp);
    c.read_response().await.unwrap().unwrap();
    c.login(user, "secret").await.map_err(|(e, _)| e).unwrap()
}

async fn append(user: &str, raw: &str) {
    let mut s = imap(user).await;
    s.append("INBOX", None, None, raw.as_bytes()).await.unwrap();
    s.logout().await.unwrap();
}

/// UID and flags of every message in `mailbox`.
async fn contents(user: &str, mailbox: &str) -> Vec<(u32, Vec<String>)> {
    let mut s = imap(user).await;
    let m = s.select(mailbox).await.unwrap();
    let out = if m.exists == 0 {
        Vec::new()
    } else {
        let f: Vec<_> = s
            .fetch("1:*", "(UID FLAGS)")
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        // An untagged FETCH the server sends about a flag the poller changed meanwhile has no
        // UID: it is not an answer to this FETCH.
        f.iter()
            .filter_map(|f| Some((f.uid?, f.flags().map(|fl| format!("{fl:?}")).collect())))
            .collect()
    };
    s.logout().await.unwrap();
    out
}

/// A message to the Support queue's address, put in `user`'s INBOX.
async fn to_support(user: &str, subject: &str, id: &str, body: &str) {
    append(user, &message(subject, id, "support@example.net", body)).await;
}

/// An app polling `user`'s mailbox at `url`; answers it and an API token.
async fn polling(url: &str, user: &str, extra: &str, max_bytes: u64) -> (TestApp, String) {
    let toml = config(&poller(url, user, extra), max_bytes);
    let app = TestApp::spawn_with(Options::toml(&toml)).await;
    let api = app.token("t-api", "api");
    (app, api)
}

fn message(subject: &str, id: &str, to: &str, body: &str) -> String {
    format!(
        "From: Ann Example <ann@acme.example>\r\nTo: {to}\r\nSubject: {subject}\r\n\
         Message-ID: <{id}>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\n{body}\r\n"
    )
}

/// Tickets whose subject contains `needle`, by subject.
async fn tickets(app: &TestApp, api: &str, needle: &str) -> Vec<Value> {
    let q = format!(
        "/api/v1/tickets?query=Subject%20LIKE%20%27{needle}%27&per_page=200&exact_total=true&order=id"
    );
    let (s, v) = call(app, api, Method::GET, &q, None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["items"].as_array().unwrap().clone()
}

/// Tickets with `needle` in their subject, once there are `n` of them (or after 30 s).
async fn wait_tickets(app: &TestApp, api: &str, needle: &str, n: usize) -> Vec<Value> {
    eventually(30, || async {
        let t = tickets(app, api, needle).await;
        (t.len() >= n, t)
    })
    .await
}

/// Polls `check` every 100 ms for up to `secs`; answers its last value.
async fn eventually<T, F, Fut>(secs: u64, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = (bool, T)>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let (done, v) = check().await;
        if done || Instant::now() > deadline {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_poller_routes_by_address_and_moves_mail_only_once_it_is_in() {
    let user = fresh_user("move");
    let (app, api) = polling(
        &format!("imap://{}", plain()),
        &user,
        "after = \"move\"\nmove_to = \"Processed\"",
        200_000,
    )
    .await;

    to_support(
        &user,
        "imap-route printer jam",
        "r1@acme.example",
        "The printer jams.",
    )
    .await;
    let found = wait_tickets(&app, &api, "imap-route", 1).await;
    assert_eq!(found.len(), 1, "the first message opened a ticket");
    let id = found[0]["id"].as_i64().unwrap();
    assert_eq!(found[0]["queue"], "Support");

    // A reply to the comment address becomes an internal comment on that ticket; a message to
    // another queue's address goes to that queue.
    append(
        &user,
        &message(
            &format!("Re: [example.net #{id}] imap-route printer jam"),
            "r2@acme.example",
            "Support Notes <support-comment@example.net>",
            "Internal: toner ordered.",
        ),
    )
    .await;
    append(
        &user,
        &message(
            "imap-route core switch",
            "r3@acme.example",
            "noc@example.net",
            "Link flaps.",
        ),
    )
    .await;
    let moved = eventually(20, || async {
        let p = contents(&user, "Processed").await;
        (p.len() == 3, p)
    })
    .await;
    assert_eq!(moved.len(), 3, "all three moved to Processed");
    assert!(contents(&user, "INBOX").await.is_empty(), "INBOX is empty");

    let all = tickets(&app, &api, "imap-route").await;
    assert_eq!(all.len(), 2, "{all:?}");
    assert_eq!(all[1]["queue"], "NOC", "{all:?}");
    let h = history(&app, &api, id).await;
    let comment = h
        .iter()
        .find(|e| e["type"] == "comment")
        .unwrap_or_else(|| panic!("a comment in {h:?}"));
    assert!(comment.to_string().contains("toner ordered"), "{comment}");
}

#[tokio::test]
async fn imaps_with_a_private_ca_flags_mail_seen_and_never_reads_it_twice() {
    let user = fresh_user("seen");
    let toml = config(
        &poller(
            &format!("imaps://{}", env("OPSDESK_TEST_IMAPS")),
            &user,
            &format!("ca_file = \"{}\"", env("OPSDESK_TEST_IMAP_CA")),
        ),
        200_000,
    );
    let mut app = TestApp::spawn_with(Options::toml(&toml)).await;
    let api = app.token("t-api", "api");
    to_support(&user, "imap-seen one", "s1@acme.example", "1").await;
    to_support(&user, "imap-seen two", "s2@acme.example", "2").await;
    let got = wait_tickets(&app, &api, "imap-seen", 2).await;
    assert_eq!(got.len(), 2);
    let inbox = eventually(10, || async {
        let c = contents(&user, "INBOX").await;
        (c.iter().all(|(_, f)| f.iter().any(|f| f == "Seen")), c)
    })
    .await;
    assert_eq!(inbox.len(), 2, "left in the INBOX: {inbox:?}");
    assert!(
        inbox.iter().all(|(_, f)| f.iter().any(|f| f == "Seen")),
        "flagged \\Seen: {inbox:?}"
    );

    // A restart resumes after the last UID read: the two are not read again, a new one is.
    app.terminate();
    let db = std::mem::replace(&mut app.db, TestDb::fresh().await);
    let app = TestApp::spawn_on(db, Options::toml(&toml)).await;
    to_support(&user, "imap-seen three", "s3@acme.example", "3").await;
    let got = wait_tickets(&app, &api, "imap-seen", 3).await;
    assert_eq!(got.len(), 3, "{got:?}");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(tickets(&app, &api, "imap-seen").await.len(), 3);
    assert_eq!(
        read(&app),
        1,
        "after the restart only the new message was read"
    );
}

/// How many messages the app's pollers fetched from the server (their "IMAP batch" lines).
fn read(app: &TestApp) -> usize {
    app.log_text()
        .lines()
        .filter(|l| l.contains("IMAP batch"))
        .filter_map(|l| {
            l.split(" read=")
                .nth(1)?
                .split_whitespace()
                .next()?
                .parse::<usize>()
                .ok()
        })
        .sum()
}

/// A TCP relay in front of Dovecot that the test can cut (every connection dropped, new ones
/// refused) and restore: an IMAP server outage without stopping the shared server.
struct Relay {
    addr: String,
    up: Arc<AtomicBool>,
    cut: Arc<tokio::sync::Notify>,
}

impl Relay {
    async fn start(target: String) -> Relay {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap().to_string();
        let up = Arc::new(AtomicBool::new(true));
        let cut = Arc::new(tokio::sync::Notify::new());
        let (up2, cut2) = (up.clone(), cut.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = l.accept().await else {
                    return;
                };
                if !up2.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let target = target.clone();
                let cut = cut2.clone();
                tokio::spawn(async move {
                    let Ok(mut out) = TcpStream::connect(target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut out) => {}
                        _ = cut.notified() => {}
                    }
                });
            }
        });
        Relay { addr, up, cut }
    }

    fn down(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.cut.notify_waiters();
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn an_imap_outage_delays_mail_and_loses_none() {
    let user = fresh_user("outage");
    let relay = Relay::start(plain()).await;
    let (app, api) = polling(&format!("imap://{}", relay.addr), &user, "", 200_000).await;
    to_support(&user, "imap-outage before", "o1@acme.example", "1").await;
    let got = wait_tickets(&app, &api, "imap-outage", 1).await;
    assert_eq!(got.len(), 1);

    relay.down();
    to_support(&user, "imap-outage during", "o2@acme.example", "2").await;
    let log = eventually(20, || async {
        let l = app.log_text();
        (l.contains("IMAP poll failed"), l)
    })
    .await;
    assert!(
        log.contains("IMAP poll failed"),
        "the outage is logged: {log}"
    );
    assert_eq!(tickets(&app, &api, "imap-outage").await.len(), 1);
    let unread = contents(&user, "INBOX").await;
    assert!(
        unread.iter().any(|(_, f)| !f.iter().any(|f| f == "Seen")),
        "the message that came in during the outage is untouched: {unread:?}"
    );

    relay.restore();
    let got = wait_tickets(&app, &api, "imap-outage", 2).await;
    assert_eq!(got.len(), 2, "delivered after the outage: {got:?}");
}

#[tokio::test]
async fn oversize_mail_stays_on_the_server_flagged_and_does_not_block_the_rest() {
    let user = fresh_user("big");
    let (app, api) = polling(
        &format!("imap://{}", plain()),
        &user,
        "after = \"delete\"",
        4000,
    )
    .await;
    let big = "x".repeat(8000);
    to_support(&user, "imap-big huge", "b1@acme.example", &big).await;
    to_support(&user, "imap-big small", "b2@acme.example", "ok").await;
    let got = wait_tickets(&app, &api, "imap-big", 1).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["subject"], "imap-big small");
    let left = eventually(10, || async {
        let c = contents(&user, "INBOX").await;
        (c.len() == 1, c)
    })
    .await;
    assert_eq!(
        left.len(),
        1,
        "the small one was deleted, the big one kept: {left:?}"
    );
    assert!(
        left[0].1.iter().any(|f| f.contains("OpsdeskRefused")),
        "{left:?}"
    );
    assert!(app.log_shows("max_message_bytes").await);
}

#[tokio::test]
async fn a_refused_login_is_reported_with_the_server_and_user() {
    let user = fresh_user("badpw");
    let toml = config(
        &format!(
            "url = \"imap://{}\"\nusername = \"{user}\"\npassword = \"wrong\"",
            plain()
        ),
        200_000,
    );
    let app = TestApp::spawn_with(Options::toml(&toml)).await;
    let log = eventually(20, || async {
        let l = app.log_text();
        (l.contains("refused the login"), l)
    })
    .await;
    assert!(log.contains("refused the login"), "{log}");
    assert!(log.contains(&user), "{log}");
    assert!(
        !log.contains("wrong"),
        "the password is never logged: {log}"
    );
}

#[tokio::test]
async fn two_nodes_on_one_database_read_a_mailbox_once() {
    let user = fresh_user("nodes");
    let toml = config(&poller(&format!("imap://{}", plain()), &user, ""), 200_000);
    let a = TestApp::spawn_with(Options::toml(&toml)).await;
    let shared = TestDb {
        url: a.db.url.clone(),
        dir: tempfile::tempdir().unwrap(),
    };
    let b = TestApp::spawn_on(shared, Options::toml(&toml)).await;
    let api = a.token("t-api", "api");
    const N: usize = 120;
    for i in 0..N {
        to_support(
            &user,
            &format!("imap-nodes {i:02}"),
            &format!("n{i}@acme.example"),
            "x",
        )
        .await;
    }
    let got = wait_tickets(&a, &api, "imap-nodes", N).await;
    assert_eq!(got.len(), N);
    let opened = [&a, &b]
        .iter()
        .filter(|app| app.log_text().contains("IMAP session open"))
        .count();
    assert_eq!(opened, 1, "one node holds the mailbox's lease");
    assert_eq!(read(&a) + read(&b), N, "each message fetched once in all");
}

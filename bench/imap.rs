//! IMAP poller benchmark (issue 4): how fast a `[[mail.imap]]` poller reads a full mailbox into
//! tickets, with the app running in this process as `opsdesk serve` builds it, on SQLite and
//! (with `--pg URL`, a server whose user may CREATE DATABASE) on PostgreSQL, over an empty
//! database or one preloaded with `--tickets` tickets.
//!
//! ```sh
//! cargo bench --bench imap -- [--tickets 0|10k|100k|1m] [--messages 3000] [--pg URL]
//!                             [--no-sqlite] [--out FILE]
//! ```
//!
//! A real Dovecot (scripts/imap-server, started here on free loopback ports) gets a fresh user
//! whose INBOX is filled, untimed, with `--messages` messages by several APPEND connections at
//! once: 60% open a ticket (each from a new sender), 40% answer an earlier message of the same
//! connection (so of a lower UID) through In-Reply-To / References, from its requestor; one
//! message in five carries a 100 KiB attachment. Then the app starts with one poller on that
//! mailbox (plain IMAP, `interval = "1s"`) and the clock runs until every message is stored and
//! processed. For each backend (SQLite unless `--no-sqlite`, then PostgreSQL when `--pg` is
//! given), two runs, each on a fresh user and a fresh database: `after = "seen"` and
//! `after = "move"`. Each database (a SQLite file in a temp dir, or a new database on the `--pg`
//! server, dropped afterwards) is migrated and, with `--tickets N` (default 0: left empty),
//! bulk-loaded untimed by the tickets bench's generator and loader (`tickets/data.rs`: 5,000
//! customers whose domains are the senders', N tickets in 20 queues with their history); the
//! app's opsdesk.toml names it. A Markdown section per backend, naming it, the ticket count and
//! the database server's version, goes to stdout (and --out).

// Shared with the tickets bench, which uses all of it.
#[allow(dead_code)]
#[path = "tickets/sys.rs"]
mod sys;

#[path = "shared/mime.rs"]
mod mime;

#[path = "shared/app.rs"]
mod app;

#[allow(dead_code)]
#[path = "shared/backends.rs"]
mod backends;

#[allow(dead_code)]
#[path = "tickets/data.rs"]
mod data;

#[allow(dead_code)]
#[path = "tickets/words.rs"]
mod words;

use std::fmt::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

use opsdesk::clock::{Clock, SystemClock};
use opsdesk::db::{Db, Ts};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::net::TcpStream;

pub type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

const USAGE: &str = "usage: cargo bench --bench imap -- [--tickets 0|10k|100k|1m] [--messages 3000] \
                     [--pg URL] [--no-sqlite] [--out FILE]";

/// Connections that fill the mailbox at once.
const APPENDERS: usize = 4;
/// Messages the poller takes per round (src/mail/imap/mod.rs `BATCH`), for the breakdown.
const BATCH: usize = 50;

struct Args {
    /// `--tickets`, `--pg`, `--no-sqlite`.
    db: backends::DbArgs,
    messages: usize,
    out: Option<String>,
}

impl Args {
    fn command(&self) -> String {
        let db = self.db.command();
        format!(
            "cargo bench --bench imap --{db} --messages {}",
            self.messages
        )
    }
}

fn args() -> Result<Args, String> {
    let (mut messages, mut out): (usize, Option<String>) = (3000, None);
    let db = backends::DbArgs::parse(true, |k, v| {
        match k {
            "--messages" => {
                messages = v()?
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or("--messages takes a positive number")?
            }
            "--out" => out = Some(v()?),
            other => return Err(format!("unknown argument {other}")),
        }
        Ok(())
    })?;
    Ok(Args { db, messages, out })
}

fn main() -> ExitCode {
    sys::main_with("imap", args().map_err(|e| format!("{e}\n{USAGE}")), run)
}

/// scripts/imap-server (Dovecot) on free ports, the leader of its own process group; the group
/// is sent TERM (then KILL) when dropped, so every exit path stops it.
struct Dovecot {
    /// Taken by `drop`.
    child: Option<std::process::Child>,
    pid: u32,
    port: u16,
    log: PathBuf,
}

impl Dovecot {
    fn pid(&self) -> u32 {
        self.pid
    }

    /// The last lines Dovecot logged, for an error message.
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }
}

fn signal_group(pid: u32, sig: &str) {
    let _ = std::process::Command::new("kill")
        .args([sig, "--", &format!("-{pid}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        let pid = self.pid();
        signal_group(pid, "-TERM");
        // Up to 5 s of grace, then KILL: a thread reaps the master meanwhile.
        let Some(mut child) = self.child.take() else {
            return;
        };
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = child.wait();
            let _ = tx.send(());
        });
        if rx.recv_timeout(Duration::from_secs(5)).is_err() {
            signal_group(pid, "-KILL");
            let _ = rx.recv_timeout(Duration::from_secs(5));
        }
    }
}

fn free_port() -> Res<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

async fn start_dovecot(dir: &Path) -> Res<Dovecot> {
    // As root, Dovecot's mail user `nobody` must reach the directory (tempdir makes it 0700).
    std::fs::create_dir_all(dir)?;
    if let Some(parent) = dir.parent() {
        std::fs::set_permissions(parent, std::fs::Permissions::from_mode(0o755))?;
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))?;
    let (port, tls_port) = (free_port()?, free_port()?);
    let log = dir.join("dovecot.log");
    let out = std::fs::File::create(&log)?;
    let child =
        std::process::Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/imap-server"))
            .args([
                "--port",
                &port.to_string(),
                "--tls-port",
                &tls_port.to_string(),
                "--dir",
            ])
            .arg(dir.join("imap"))
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .process_group(0)
            .spawn()?;
    let mut d = Dovecot {
        pid: child.id(),
        child: Some(child),
        port,
        log,
    };
    // Ready once a login works.
    let t0 = Instant::now();
    loop {
        if let Some(Ok(Some(status))) = d.child.as_mut().map(|c| c.try_wait()) {
            return Err(format!(
                "scripts/imap-server exited ({status}) before it was ready:\n{}",
                d.log_tail()
            )
            .into());
        }
        if let Ok(mut s) = login(d.port, "probe").await {
            let _ = s.logout().await;
            return Ok(d);
        }
        if t0.elapsed() > Duration::from_secs(30) {
            return Err(format!(
                "Dovecot did not accept a login within 30 s (is dovecot-imapd installed?):\n{}",
                d.log_tail()
            )
            .into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

type Session = async_imap::Session<TcpStream>;

async fn login(port: u16, user: &str) -> Res<Session> {
    let tcp = TcpStream::connect(("127.0.0.1", port)).await?;
    tcp.set_nodelay(true)?;
    let mut c = async_imap::Client::new(tcp);
    c.read_response().await?.ok_or("no IMAP greeting")?;
    c.login(user, "secret").await.map_err(|(e, _)| e.into())
}

/// EXISTS and such: the channel is bounded, so it is emptied.
fn drain(s: &Session) {
    while s.unsolicited_responses.try_recv().is_ok() {}
}

/// Message `i`; a reply (`reply_to` = Message-ID and requestor of an earlier message) threads by
/// In-Reply-To / References and keeps the subject, without our tag.
fn message(
    user: &str,
    i: usize,
    rng: &mut StdRng,
    reply_to: Option<&(String, String, String)>,
) -> (String, String, String, String) {
    let message_id = format!("bench-{user}-{i}-{}@client.example", rng.random::<u32>());
    let (sender, subject, threading) = match reply_to {
        Some((id, s, subj)) => (
            s.clone(),
            subj.clone(),
            format!("In-Reply-To: <{id}>\r\nReferences: <{id}>\r\n"),
        ),
        None => (
            format!("user{i}@c{:04}.example", rng.random_range(0..5000)),
            format!("Link down at site {}", rng.random_range(0..900)),
            String::new(),
        ),
    };
    let shown_subject = if reply_to.is_some() {
        format!("Re: {subject}")
    } else {
        subject.clone()
    };
    let mut raw = format!(
        "From: {sender}\r\nTo: support@bench.example\r\nSubject: {shown_subject}\r\n\
         Message-ID: <{message_id}>\r\n{threading}Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n\
         MIME-Version: 1.0\r\n"
    );
    mime::push_body(&mut raw, rng);
    (raw, message_id, sender, subject)
}

/// What went into the mailbox.
#[derive(Default)]
struct Filled {
    bytes: usize,
    replies: usize,
    attachments: usize,
    secs: f64,
}

/// Puts `n` messages in `user`'s INBOX over [`APPENDERS`] connections at once. Each connection
/// appends its share in order, and its replies answer only its own earlier messages, so every
/// reply has a higher UID than the message it answers.
async fn fill(port: u16, user: &str, n: usize, seed: u64) -> Res<Filled> {
    let t0 = Instant::now();
    // One login first: Dovecot makes the maildir on it, before the parallel ones race to.
    let mut s = login(port, user).await?;
    s.logout().await?;
    let mut tasks = Vec::new();
    for c in 0..APPENDERS {
        let user = user.to_owned();
        let (from, to) = (n * c / APPENDERS, n * (c + 1) / APPENDERS);
        tasks.push(tokio::spawn(async move {
            let mut s = login(port, &user).await?;
            let mut rng = StdRng::seed_from_u64(seed ^ (c as u64 + 1));
            // Message-ID, requestor, subject of every message appended so far.
            let mut earlier: Vec<(String, String, String)> = Vec::new();
            let mut f = Filled::default();
            for i in from..to {
                let reply_to = if !earlier.is_empty() && rng.random_range(0..10) < 4 {
                    Some(earlier[rng.random_range(0..earlier.len())].clone())
                } else {
                    None
                };
                let (raw, id, sender, subject) = message(&user, i, &mut rng, reply_to.as_ref());
                f.bytes += raw.len();
                f.replies += usize::from(reply_to.is_some());
                f.attachments += usize::from(raw.contains("trace.pcap"));
                s.append("INBOX", None, None, raw.as_bytes()).await?;
                drain(&s);
                earlier.push((id, sender, subject));
            }
            s.logout().await?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(f)
        }));
    }
    let mut total = Filled::default();
    for t in tasks {
        let f = t.await??;
        total.bytes += f.bytes;
        total.replies += f.replies;
        total.attachments += f.attachments;
    }
    total.secs = t0.elapsed().as_secs_f64();
    let got = mailbox_count(port, user, "INBOX").await?;
    if got != n as u32 {
        return Err(format!("INBOX of {user} holds {got} messages after filling, not {n}").into());
    }
    Ok(total)
}

/// Messages in `mailbox`, and how many of them are not \Seen.
async fn mailbox_status(port: u16, user: &str, mailbox: &str) -> Res<(u32, u32)> {
    let mut s = login(port, user).await?;
    let m = s.status(mailbox, "(MESSAGES UNSEEN)").await?;
    drain(&s);
    s.logout().await?;
    Ok((m.exists, m.unseen.unwrap_or(0)))
}

async fn mailbox_count(port: u16, user: &str, mailbox: &str) -> Res<u32> {
    Ok(mailbox_status(port, user, mailbox).await?.0)
}

/// User + system CPU of Dovecot so far: every process of its process group (the master, `pid`,
/// leads it), with what the ones already gone left in their parents' cutime/cstime.
fn dovecot_cpu_secs(pid: u32) -> f64 {
    let ticks = sys::clock_ticks();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    let mut total = 0.0;
    for e in dir.flatten() {
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            continue;
        };
        let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
            continue;
        };
        // After the command name: state 3, ppid 4, pgrp 5, ..., utime 14, stime 15,
        // cutime 16, cstime 17 (1-based fields of proc(5)); rest starts at field 3.
        let f: Vec<&str> = rest.split_whitespace().collect();
        let field = |n: usize| f.get(n - 3).and_then(|v| v.parse::<f64>().ok());
        if field(5) == Some(f64::from(pid)) {
            total += (14..=17).map(|n| field(n).unwrap_or(0.0)).sum::<f64>();
        }
    }
    total / ticks
}

/// COUNT of `sql` on the app's database.
async fn count(db: &Db, sql: &'static str) -> Res<i64> {
    Ok(opsdesk::on_pool!(db, |p| sqlx::query_scalar(sql)
        .fetch_one(p)
        .await?))
}

/// `received_at` of every stored message (µs), in the order intake stored them.
async fn received_at(db: &Db) -> Res<Vec<i64>> {
    let at: Vec<Ts> = opsdesk::on_pool!(db, |p| sqlx::query_scalar(
        "SELECT received_at FROM mail_messages ORDER BY id"
    )
    .fetch_all(p)
    .await?);
    Ok(at.into_iter().map(Ts::micros).collect())
}

/// One timed run of the poller.
struct Outcome {
    after: &'static str,
    version: String,
    /// The bulk load before the run, if any.
    loaded: Option<data::LoadStats>,
    filled: Filled,
    secs: f64,
    cpu: f64,
    dovecot_cpu: f64,
    tickets: i64,
    threaded: i64,
    not_processed: i64,
    /// From app start to the first message stored: connect, login, the first listing, the
    /// first batch's bodies.
    first_s: f64,
    /// Summed gaps between one batch's last message and the next batch's first: the server
    /// told about the batch, the cursor and the lease, SELECT, the listing, the next bodies.
    between_s: f64,
    rounds: usize,
    mailbox_after: String,
    load: (f64, f64),
}

/// One run on the database at `db_url` (fresh), with the app's files in `dir`: `tickets`
/// loaded, `n` messages put in a fresh user's INBOX, then the poller timed.
async fn poll_run(
    dovecot: &Dovecot,
    (db_url, dir): (&str, &Path),
    tickets: i64,
    n: usize,
    after: &'static str,
    seed: u64,
) -> Res<Outcome> {
    let loaded = data::load_some(db_url, tickets, SystemClock.now().as_microsecond()).await?;
    let user = format!("bench-{after}-{}", hex::encode(rand::random::<[u8; 5]>()));
    let filled = fill(dovecot.port, &user, n, seed).await?;

    let after_cfg = match after {
        "move" => "after = \"move\"\nmove_to = \"Processed\"\n",
        _ => "after = \"seen\"\n",
    };
    let app = app::build_on(
        dir,
        db_url,
        &format!(
            "listen = \"127.0.0.1:0\"\ndatabase_url = \"{db_url}\"\n\n[log]\nlevel = \"warn\"\n\n\
             [mail]\nfrom = \"support@bench.example\"\nsubject_tag = \"bench.example\"\n\n\
             [[mail.imap]]\nurl = \"imap://127.0.0.1:{}\"\nusername = \"{user}\"\n\
             password = \"secret\"\nmailbox = \"INBOX\"\nqueue = \"Support\"\ninterval = \"1s\"\n\
             {after_cfg}\n\
             [[queue]]\nname = \"Support\"\ncorrespond_address = \"support@bench.example\"\n{}",
            dovecot.port,
            data::queues_toml()
        ),
    )
    .await?;
    let db = app.state.db.clone();
    let version = backends::version(&db).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();

    let load0 = sys::loadavg();
    let cpu0 = sys::cpu_secs();
    let dcpu0 = dovecot_cpu_secs(dovecot.pid());
    let start_us = SystemClock.now().as_microsecond();
    let t0 = Instant::now();
    let server = tokio::spawn(app.run(listener, async move {
        let _ = stopped.await;
    }));
    let limit = Duration::from_secs(120 + n as u64 / 5);
    let want = i64::try_from(n)?;
    let mut done = 0;
    while done < want {
        if t0.elapsed() > limit {
            let _ = stop.send(());
            let _ = server.await;
            return Err(format!(
                "after = {after}: only {done} of {n} messages were in after {} s",
                limit.as_secs()
            )
            .into());
        }
        if server.is_finished() {
            return Err(format!("after = {after}: the app stopped with {done} of {n} in").into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        done = count(
            &db,
            "SELECT COUNT(*) FROM mail_messages WHERE state <> 'received'",
        )
        .await?;
    }
    let secs = t0.elapsed().as_secs_f64();
    let cpu = sys::cpu_secs() - cpu0;
    let dovecot_cpu = dovecot_cpu_secs(dovecot.pid()) - dcpu0;
    let load1 = sys::loadavg();

    let tickets = count(
        &db,
        "SELECT COUNT(*) FROM mail_messages WHERE created_ticket",
    )
    .await?;
    let threaded = count(
        &db,
        "SELECT COUNT(*) FROM mail_messages WHERE state = 'processed' AND NOT created_ticket",
    )
    .await?;
    let not_processed = count(
        &db,
        "SELECT COUNT(*) FROM mail_messages WHERE state <> 'processed'",
    )
    .await?;
    let at = received_at(&db).await?;
    let first_s = at
        .first()
        .map(|t| (t - start_us) as f64 / 1e6)
        .unwrap_or(f64::NAN);
    let gaps: Vec<f64> = (BATCH..at.len())
        .step_by(BATCH)
        .map(|i| (at[i] - at[i - 1]) as f64 / 1e6)
        .collect();
    let between_s = gaps.iter().sum();
    // How the gap changes as the mailbox empties (each round lists every message left).
    let mean_ms = |g: &[f64]| g.iter().sum::<f64>() * 1000.0 / g.len().max(1) as f64;
    let k = gaps.len().min(10);
    eprintln!(
        "after = {after}: gap between batches, mean of the first {k} / last {k}: {:.1} / {:.1} ms",
        mean_ms(&gaps[..k]),
        mean_ms(&gaps[gaps.len() - k..])
    );

    // The last batch is flagged or moved on the server after its cursor moves: wait for that
    // (up to 30 s), then stop the app.
    let t1 = Instant::now();
    let mailbox_after = loop {
        let (inbox, unseen) = mailbox_status(dovecot.port, &user, "INBOX").await?;
        let (done, text) = if after == "move" {
            let moved = mailbox_count(dovecot.port, &user, "Processed").await?;
            (
                inbox == 0 && moved as usize == n,
                format!("INBOX {inbox}, Processed {moved}"),
            )
        } else {
            (unseen == 0, format!("INBOX {inbox}, {unseen} unseen"))
        };
        if done || t1.elapsed() > Duration::from_secs(30) {
            break text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let _ = stop.send(());
    server.await??;
    Ok(Outcome {
        after,
        version,
        loaded,
        filled,
        secs,
        cpu,
        dovecot_cpu,
        tickets,
        threaded,
        not_processed,
        first_s,
        between_s,
        rounds: n.div_ceil(BATCH),
        mailbox_after,
        load: (load0, load1),
    })
}

async fn run(a: Args) -> Res<()> {
    let tmp = tempfile::Builder::new()
        .prefix("opsdesk-imap-bench-")
        .tempdir()?;
    let dovecot = start_dovecot(&tmp.path().join("dovecot")).await?;
    let mut md = String::new();
    for (backend, pg) in a.db.backends() {
        let mut runs = Vec::new();
        for (k, after) in ["seen", "move"].into_iter().enumerate() {
            eprintln!(
                "== {backend}, {}, after = {after}",
                backends::tickets_label(a.db.tickets)
            );
            let dovecot = &dovecot;
            let (tickets, messages) = (a.db.tickets, a.messages);
            let r = backends::with_fresh_db(
                "imap",
                pg.as_deref(),
                tickets,
                tmp.path(),
                |url, dir| async move {
                    poll_run(
                        dovecot,
                        (&url, &dir),
                        tickets,
                        messages,
                        after,
                        42 + k as u64,
                    )
                    .await
                },
            )
            .await
            .map_err(|e| format!("{e}\nDovecot's log ends:\n{}", dovecot.log_tail()))?;
            eprintln!(
                "after = {after}: {} messages in {:.1} s ({:.0}/s)",
                a.messages,
                r.secs,
                a.messages as f64 / r.secs
            );
            runs.push(r);
        }
        let section = render(&a, backend, &runs);
        print!("{section}");
        md.push_str(&section);
    }
    drop(dovecot);
    if let Some(out) = &a.out {
        std::fs::write(out, &md)?;
    }
    tmp.close()?;
    Ok(())
}

/// The Markdown section of one backend's two runs.
fn render(a: &Args, backend: &str, runs: &[Outcome]) -> String {
    let n = a.messages;
    let what = backends::tickets_label(a.db.tickets);
    let mut md = String::new();
    let _ = writeln!(md, "### IMAP poller: {backend}, {what}\n");
    let _ = writeln!(
        md,
        "Measured {} with `{}`. Database: {}. {}\n",
        SystemClock.now().strftime("%Y-%m-%d"),
        a.command(),
        runs.first().map_or("–", |r| r.version.as_str()),
        sys::machine()
    );
    let _ = writeln!(md, "| measurement | target | result |\n|---|---|---|");
    for r in runs {
        let what = match r.after {
            "move" => "`after = \"move\"` (to Processed)",
            _ => "`after = \"seen\"`",
        };
        let _ = writeln!(
            md,
            "| poller, {what}, {n} messages waiting: messages/s | > 100 | {:.0} ({:.1} s; {} new tickets, {} replies threaded, {} not processed) |",
            n as f64 / r.secs,
            r.secs,
            r.tickets,
            r.threaded,
            r.not_processed
        );
        let _ = writeln!(
            md,
            "| … of that: app start to first message stored / between batches ({} rounds of ≤ {BATCH}) / storing and processing, s |  | {:.2} / {:.2} / {:.2} |",
            r.rounds,
            r.first_s,
            r.between_s,
            r.secs - r.first_s - r.between_s
        );
        let _ = writeln!(
            md,
            "| … CPU of the app process / of Dovecot, s (wall s) |  | {:.1} / {:.1} ({:.1}) |",
            r.cpu, r.dovecot_cpu, r.secs
        );
        let _ = writeln!(md, "| … mailbox afterwards |  | {} |", r.mailbox_after);
        let loaded = data::LoadStats::cell(r.loaded.as_ref());
        let _ = writeln!(
            md,
            "| … tickets in the database before the run (bulk load, s) |  | {loaded} |"
        );
    }
    let Some(f) = runs.first().map(|r| &r.filled) else {
        return md;
    };
    let _ = writeln!(
        md,
        "\nMethod. {backend}, {what}. Each run: a fresh Dovecot user (scripts/imap-server, plain \
         IMAP on loopback) whose INBOX was first filled, untimed, by {APPENDERS} APPEND \
         connections at once ({n} messages, {:.1} MiB, {} replies, {} with a 100 KiB attachment, \
         in {:.1} s); replies answer an earlier message of theirs by In-Reply-To/References, \
         from its requestor, without the subject tag. The database: {}. Then the app starts on it (`App::build` from a generated opsdesk.toml \
         whose `database_url` is that database) with one `[[mail.imap]]` poller \
         (`interval = \"1s\"`, no `smtp_url`: auto-replies wait in the outbox) and the clock \
         runs from the app's start until all {n} messages are stored and processed (the \
         database is read every 50 ms). Between batches counts the gaps from one batch's last \
         message to the next one's first. 1-minute load average at start / end: {}.",
        f.bytes as f64 / 1_048_576.0,
        f.replies,
        f.attachments,
        f.secs,
        backends::fresh_db_text(backend, a.db.tickets),
        runs.iter()
            .map(|r| format!("{:.2} / {:.2} ({})", r.load.0, r.load.1, r.after))
            .collect::<Vec<_>>()
            .join(", ")
    );
    md.push('\n');
    md
}

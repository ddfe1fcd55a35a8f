//! Mail benchmark (issue 4): intake through `POST /api/v1/mail/inbound` and the outbox to a
//! local SMTP server, with the app running in this process as `opsdesk serve` builds it, on
//! SQLite and (with `--pg URL`, a server whose user may CREATE DATABASE) on PostgreSQL, over an
//! empty database or one preloaded with `--tickets` tickets.
//!
//! ```sh
//! cargo bench --bench mail -- [--tickets 0|10k|100k|1m] [--secs 10] [--clients 8]
//!                             [--rate MSGS_PER_S] [--pg URL] [--no-sqlite] [--out FILE]
//! ```
//!
//! For each backend (SQLite unless `--no-sqlite`, then PostgreSQL when `--pg` is given): a
//! fresh database (a SQLite file in a temp dir, or a new database on the `--pg` server, dropped
//! afterwards), migrated and, with `--tickets N` (default 0: left empty), bulk-loaded by the
//! tickets bench's generator and loader (`tickets/data.rs`: 5,000 customers whose domains are
//! the senders' below, N tickets in 20 queues with their history). The app's opsdesk.toml names
//! that database.
//! Intake: `--clients` concurrent senders post raw messages back to back for `--secs`: 60% open
//! a ticket (each from a new sender, so each earns an auto-reply), 40% answer an earlier ticket
//! by its subject tag from its requestor; one message in five carries a 100 KiB attachment.
//! With `--rate`, the messages are offered on a fixed schedule instead (message n of all has
//! its slot at n / rate seconds) and each latency is counted from its slot, as wrk2 does: the
//! latency a steady stream of mail sees, where back to back measures it at saturation.
//! The senders run on a tokio runtime of their own (`shared/clients.rs`), sharing the 2 cores
//! with the app but not its workers.
//! Outbox: the auto-replies and notices those messages caused go to scripts/smtp-sink (started
//! here on a free loopback port) while intake runs; then 2,000 correspondence notices are queued
//! at once on the tickets intake opened, and sent/s is measured until the queue of `mail.send`
//! jobs is empty. A Markdown section per backend, naming it, the ticket count and the database
//! server's version, goes to stdout (and --out).

// Shared with the tickets bench, which uses all of it.
#[allow(dead_code)]
#[path = "tickets/sys.rs"]
mod sys;

#[path = "shared/mime.rs"]
mod mime;

#[allow(dead_code)]
#[path = "tickets/data.rs"]
mod data;

#[allow(dead_code)]
#[path = "tickets/words.rs"]
mod words;

#[allow(dead_code)]
#[path = "shared/backends.rs"]
mod backends;

#[path = "shared/app.rs"]
mod app;

#[path = "shared/clients.rs"]
mod clients;

use std::fmt::Write as _;
use std::path::Path;
use std::process::{ExitCode, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use opsdesk::auth::tokens::{self, Scope};
use opsdesk::clock::{Clock, SystemClock};
use opsdesk::db::Db;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Notices queued at once for the outbox-alone figure.
const OUTBOX_BURST: usize = 2000;

pub type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

const USAGE: &str = "usage: cargo bench --bench mail -- [--tickets 0|10k|100k|1m] [--secs 10] \
                     [--clients 8] [--rate MSGS_PER_S] [--pg URL] [--no-sqlite] [--out FILE]";

struct Args {
    /// `--tickets`, `--pg`, `--no-sqlite`.
    db: backends::DbArgs,
    secs: u64,
    clients: usize,
    /// Messages per second offered in all, on a fixed schedule; 0 sends back to back.
    rate: f64,
    out: Option<String>,
}

impl Args {
    fn command(&self) -> String {
        format!(
            "cargo bench --bench mail --{} --secs {} --clients {}{}",
            self.db.command(),
            self.secs,
            self.clients,
            if self.rate > 0.0 {
                format!(" --rate {}", self.rate)
            } else {
                String::new()
            }
        )
    }
}

fn args() -> Result<Args, String> {
    let (mut secs, mut clients, mut rate, mut out): (u64, usize, f64, Option<String>) =
        (10, 8, 0.0, None);
    let db = backends::DbArgs::parse(true, |k, v| {
        match k {
            "--secs" => secs = v()?.parse().map_err(|_| "--secs takes whole seconds")?,
            "--clients" => clients = v()?.parse().map_err(|_| "--clients takes a number")?,
            "--rate" => {
                rate = v()?
                    .parse()
                    .map_err(|_| "--rate takes messages per second")?
            }
            "--out" => out = Some(v()?),
            other => return Err(format!("unknown argument {other}")),
        }
        Ok(())
    })?;
    Ok(Args {
        db,
        secs,
        clients,
        rate,
        out,
    })
}

fn main() -> ExitCode {
    sys::main_with("mail", args().map_err(|e| format!("{e}\n{USAGE}")), run)
}

/// scripts/smtp-sink on a free port; killed (by PID) when dropped.
struct Sink {
    child: std::process::Child,
    dir: std::path::PathBuf,
    port: u16,
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_sink(dir: std::path::PathBuf) -> Res<Sink> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    // Run by its own #! line: Debian's python3, where python3-aiosmtpd lives.
    let mut child =
        std::process::Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/smtp-sink"))
            .args(["--port", &port.to_string(), "--dir"])
            .arg(&dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
    let mut line = String::new();
    let out = child.stdout.take().ok_or("no stdout")?;
    std::io::BufRead::read_line(&mut std::io::BufReader::new(out), &mut line)?;
    if !line.starts_with("ready") {
        let _ = child.kill();
        return Err("the SMTP sink did not start (is python3-aiosmtpd installed?)".into());
    }
    Ok(Sink { child, dir, port })
}

fn message(i: usize, rng: &mut StdRng, reply_to: Option<(i64, &str)>) -> (String, String) {
    let sender = match reply_to {
        Some((_, s)) => s.to_owned(),
        None => format!("user{i}@c{:04}.example", rng.random_range(0..5000)),
    };
    let subject = match reply_to {
        Some((id, _)) => format!("Re: [bench.example #{id}] Link down"),
        None => format!("Link down at site {}", rng.random_range(0..900)),
    };
    let mut raw = format!(
        "From: {sender}\r\nTo: support@bench.example\r\nSubject: {subject}\r\n\
         Message-ID: <bench-{i}-{}@client.example>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\
         MIME-Version: 1.0\r\n",
        rng.random::<u32>()
    );
    mime::push_body(&mut raw, rng);
    (raw, sender)
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

async fn pending_sends(db: &Db) -> Res<i64> {
    Ok(match db {
        Db::Sqlite(p) => sqlx::query_scalar(
            "SELECT COUNT(*) FROM jobs WHERE kind = 'mail.send' AND state IN ('queued', 'running')",
        )
        .fetch_one(&**p)
        .await?,
        Db::Postgres(p) => sqlx::query_scalar(
            "SELECT COUNT(*) FROM jobs WHERE kind = 'mail.send' AND state IN ('queued', 'running')",
        )
        .fetch_one(p)
        .await?,
    })
}

async fn run(a: Args) -> Res<()> {
    let tmp = tempfile::Builder::new()
        .prefix("opsdesk-mail-bench-")
        .tempdir()?;
    let args = &a;
    let mut md = String::new();
    for (backend, pg) in a.db.backends() {
        eprintln!("== {backend}, {}", backends::tickets_label(a.db.tickets));
        let r = backends::with_fresh_db(
            "mail",
            pg.as_deref(),
            a.db.tickets,
            tmp.path(),
            |url, dir| async move { measure(args, &url, &dir).await },
        )
        .await?;
        let section = render(args, backend, &r);
        print!("{section}");
        md.push_str(&section);
    }
    if let Some(out) = &a.out {
        std::fs::write(out, &md)?;
    }
    tmp.close()?;
    Ok(())
}

/// What one backend measured.
struct Outcome {
    version: String,
    load: Option<data::LoadStats>,
    lat: Vec<f64>,
    errors: u64,
    bytes: usize,
    created: usize,
    intake_s: f64,
    intake_cpu: f64,
    sent_before: usize,
    queued: i64,
    drain_s: f64,
    burst_queued: i64,
    burst_s: f64,
    sent_total: usize,
}

/// One run on the database at `url` (fresh, migrated by the loader or the app), with the SMTP
/// sink and the app's files in `dir`.
async fn measure(a: &Args, url: &str, dir: &Path) -> Res<Outcome> {
    let sink = start_sink(dir.join("sink"))?;
    let load = data::load_some(url, a.db.tickets, SystemClock.now().as_microsecond()).await?;
    let app = app::build_on(
        dir,
        url,
        &format!(
            "listen = \"127.0.0.1:0\"\ndatabase_url = \"{url}\"\n\n[log]\nlevel = \"warn\"\n\n\
             [mail]\nsmtp_url = \"smtp://127.0.0.1:{}\"\nfrom = \"support@bench.example\"\n\
             subject_tag = \"bench.example\"\n\n\
             [[queue]]\nname = \"Support\"\ncorrespond_address = \"support@bench.example\"\n{}",
            sink.port,
            data::queues_toml()
        ),
    )
    .await?;
    let db = app.state.db.clone();
    let version = backends::version(&db).await?;
    let mut tx = db.begin().await?;
    let token = tokens::create(&mut tx, "bench", Scope::Mail, None, SystemClock.now()).await?;
    tx.commit().await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let inbound = format!(
        "http://{}/api/v1/mail/inbound?queue=Support",
        listener.local_addr()?
    );
    let config = app.state.config.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run(listener, async move {
        let _ = stopped.await;
    }));

    // Intake.
    let tickets: Arc<Mutex<Vec<(i64, String)>>> = Arc::default();
    let cpu0 = sys::cpu_secs();
    let t0 = Instant::now();
    let deadline = t0 + Duration::from_secs(a.secs);
    let client_rt = clients::runtime()?;
    let mut tasks = Vec::new();
    let (rate, clients) = (a.rate, a.clients);
    for c in 0..a.clients {
        let (url, token, tickets) = (inbound.clone(), token.clone(), tickets.clone());
        tasks.push(client_rt.spawn(async move {
            let http = reqwest::Client::builder()
                .no_proxy()
                .build()
                .map_err(|e| e.to_string())?;
            let mut rng = StdRng::seed_from_u64(c as u64);
            let (mut lat, mut errors, mut bytes, mut n) = (Vec::new(), 0u64, 0usize, 0usize);
            loop {
                // At a fixed rate, message n of client c has its slot in one schedule for all
                // clients, and its latency runs from that slot: a message sent late because the
                // one before was slow counts the wait (no coordinated omission).
                let slot = (rate > 0.0)
                    .then(|| t0 + Duration::from_secs_f64((n * clients + c) as f64 / rate));
                if slot.unwrap_or_else(Instant::now) >= deadline {
                    break;
                }
                let i = c * 10_000_000 + n;
                n += 1;
                let earlier = if rng.random_range(0..10) < 4 {
                    let t = tickets.lock().map_err(|e| e.to_string())?;
                    (!t.is_empty()).then(|| t[rng.random_range(0..t.len())].clone())
                } else {
                    None
                };
                let (raw, sender) = message(
                    i,
                    &mut rng,
                    earlier.as_ref().map(|(id, s)| (*id, s.as_str())),
                );
                bytes += raw.len();
                if let Some(slot) = slot {
                    tokio::time::sleep_until(slot.into()).await;
                }
                let s = slot.unwrap_or_else(Instant::now);
                let r = http.post(&url).bearer_auth(&token).body(raw).send().await;
                match r {
                    Ok(r) if r.status().as_u16() == 202 => {
                        let v: serde_json::Value = r.json().await.map_err(|e| e.to_string())?;
                        lat.push(s.elapsed().as_secs_f64() * 1000.0);
                        if v["created"] == true
                            && let Some(id) = v["ticket_id"].as_i64()
                        {
                            tickets
                                .lock()
                                .map_err(|e| e.to_string())?
                                .push((id, sender));
                        }
                    }
                    _ => errors += 1,
                }
            }
            Ok::<_, String>((lat, errors, bytes))
        }));
    }
    let (mut lat, mut errors, mut bytes) = (Vec::new(), 0, 0);
    for t in tasks {
        let (l, e, b) = t.await??;
        lat.extend(l);
        errors += e;
        bytes += b;
    }
    client_rt.shutdown_background();
    let intake_s = t0.elapsed().as_secs_f64();
    let intake_cpu = sys::cpu_secs() - cpu0;
    let created = tickets.lock().map_err(|e| e.to_string())?.len();

    // Outbox: drain what intake queued.
    let sent_before = std::fs::read_dir(&sink.dir).map(|d| d.count()).unwrap_or(0);
    let queued = pending_sends(&db).await?;
    let t1 = Instant::now();
    while pending_sends(&db).await? > 0 && t1.elapsed() < Duration::from_secs(600) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let drain_s = t1.elapsed().as_secs_f64();

    // Outbox alone: a burst of notices queued at once on the tickets intake opened (as a staff
    // answer to each would), timed until the relay has them all.
    let burst: Vec<i64> = tickets
        .lock()
        .map_err(|e| e.to_string())?
        .iter()
        .map(|(id, _)| *id)
        .cycle()
        .take(OUTBOX_BURST)
        .collect();
    for (chunk_no, chunk) in burst.chunks(100).enumerate() {
        let mut tx = db.begin().await?;
        for (i, id) in chunk.iter().enumerate() {
            let t = opsdesk::tickets::load(&mut tx, *id).await?;
            let seq = 1_000_000 + (chunk_no * 100 + i) as i64;
            let event = opsdesk::mail::outbox::Event::Correspond {
                txn: seq,
                body: "An engineer is on the way.",
                actor: "agent",
            };
            opsdesk::mail::outbox::notify(&mut tx, &config, &t, event, SystemClock.now()).await?;
        }
        tx.commit().await?;
    }
    let burst_queued = pending_sends(&db).await?;
    let t2 = Instant::now();
    while pending_sends(&db).await? > 0 && t2.elapsed() < Duration::from_secs(600) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let burst_s = t2.elapsed().as_secs_f64();
    let sent_total = std::fs::read_dir(&sink.dir).map(|d| d.count()).unwrap_or(0);
    let _ = stop.send(());
    server.await??;
    drop(sink);
    Ok(Outcome {
        version,
        load,
        lat,
        errors,
        bytes,
        created,
        intake_s,
        intake_cpu,
        sent_before,
        queued,
        drain_s,
        burst_queued,
        burst_s,
        sent_total,
    })
}

/// The Markdown section of one backend.
fn render(a: &Args, backend: &str, r: &Outcome) -> String {
    let mut lat = r.lat.clone();
    let n = lat.len();
    let what = backends::tickets_label(a.db.tickets);
    let mut md = String::new();
    let _ = writeln!(md, "## Mail (issue 4): {backend}, {what}\n");
    let _ = writeln!(
        md,
        "Measured {} with `{}`. Database: {}. {}\n",
        SystemClock.now().strftime("%Y-%m-%d"),
        a.command(),
        r.version,
        sys::machine()
    );
    let offered = if a.rate > 0.0 {
        format!(
            ", {} offered on a fixed schedule (latency from each message's slot)",
            a.rate
        )
    } else {
        ", back to back".to_owned()
    };
    let _ = writeln!(md, "| measurement | target | result |\n|---|---|---|");
    let loaded = data::LoadStats::cell(r.load.as_ref());
    let _ = writeln!(
        md,
        "| tickets in the database before the run (bulk load, s) |  | {loaded} |"
    );
    let _ = writeln!(
        md,
        "| intake `POST /api/v1/mail/inbound`, {} clients × {} s{offered}: messages/s | > 300 | {:.0} ({} messages, {} new tickets, {:.1} MiB, {} failed) |",
        a.clients,
        a.secs,
        n as f64 / r.intake_s,
        n,
        r.created,
        r.bytes as f64 / 1_048_576.0,
        r.errors
    );
    let (p50, p95, p99) = (
        pct(&mut lat, 50.0),
        pct(&mut lat, 95.0),
        pct(&mut lat, 99.0),
    );
    let _ = writeln!(
        md,
        "| intake latency p50 / p95 / p99 ms | p99 < 50 | {p50:.1} / {p95:.1} / {p99:.1} |"
    );
    let _ = writeln!(
        md,
        "| outbox to a local SMTP server, {} notices queued at once: messages/s | > 200 | {:.0} (drained in {:.1} s) |",
        r.burst_queued,
        r.burst_queued as f64 / r.burst_s.max(f64::MIN_POSITIVE),
        r.burst_s
    );
    let _ = writeln!(
        md,
        "| outbox while intake ran: messages sent / left queued at its end (drained in s) |  | {} / {} ({:.1}) |",
        r.sent_before, r.queued, r.drain_s
    );
    let _ = writeln!(
        md,
        "| CPU of the process during intake, s (wall s) |  | {:.1} ({:.1}) |",
        r.intake_cpu, r.intake_s
    );
    let _ = writeln!(
        md,
        "| messages the SMTP server kept |  | {} |",
        r.sent_total
    );
    let _ = writeln!(md, "\n{}", method(a, backend));
    md
}

fn method(a: &Args, backend: &str) -> String {
    format!(
        "Method. {backend}, {what}. The database: {db}. The app runs in the bench process as `opsdesk serve` builds it (`App::build` from a generated opsdesk.toml \
         whose `database_url` is that database; default pool and job workers, system clock, a \
         real TCP listener on 127.0.0.1), with queue Support (and the loader's queues Q0 … Q19) \
         and `smtp_url` on scripts/smtp-sink at a free loopback port. Intake: {clients} clients, \
         reqwest on a tokio runtime of their own (2 threads) sharing the 2 cores with the app, \
         post raw messages with a `mail` token for {secs} s: 60% open a ticket, each from a new \
         sender at a domain c0000.example … c4999.example ({customers}), 40% answer a ticket \
         opened earlier in the run by its subject tag, from its requestor; one in five carries \
         a 100 KiB attachment. A message's latency runs from its send (or, with `--rate`, from \
         its slot) to the 202. Outbox: what intake queued is drained first, then \
         {OUTBOX_BURST} correspondence notices are queued at once on the tickets intake opened, \
         timed until no `mail.send` job is queued or running. Percentiles are nearest-rank; CPU \
         is user + system time of the bench process (app and clients, not the PostgreSQL \
         server).\n",
        what = backends::tickets_label(a.db.tickets),
        db = backends::fresh_db_text(backend, a.db.tickets),
        clients = a.clients,
        secs = a.secs,
        customers = if a.db.tickets > 0 {
            "each a loaded customer's, so intake finds the customer"
        } else {
            "no customer's, on an empty database"
        },
    )
}

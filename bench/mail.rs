//! Mail benchmark (issue 4): intake through `POST /api/v1/mail/inbound` and the outbox to a
//! local SMTP server, on SQLite, with the app running in this process as `opsdesk serve` builds
//! it.
//!
//! ```sh
//! cargo bench --bench mail -- [--secs 10] [--clients 8] [--rate MSGS_PER_S] [--out FILE]
//! ```
//!
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
//! jobs is empty. A Markdown section for BENCHMARKS.md goes to stdout (and --out).

// Shared with the tickets bench, which uses all of it.
#[allow(dead_code)]
#[path = "tickets/sys.rs"]
mod sys;

#[path = "shared/mime.rs"]
mod mime;

#[path = "shared/app.rs"]
mod app;

#[path = "shared/clients.rs"]
mod clients;

use std::fmt::Write as _;
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

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

struct Args {
    secs: u64,
    clients: usize,
    /// Messages per second offered in all, on a fixed schedule; 0 sends back to back.
    rate: f64,
    out: Option<String>,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        secs: 10,
        clients: 8,
        rate: 0.0,
        out: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let mut v = || it.next().ok_or_else(|| format!("{k} needs a value"));
        match k.as_str() {
            "--bench" => {}
            "--secs" => a.secs = v()?.parse().map_err(|_| "--secs takes whole seconds")?,
            "--clients" => a.clients = v()?.parse().map_err(|_| "--clients takes a number")?,
            "--rate" => {
                a.rate = v()?
                    .parse()
                    .map_err(|_| "--rate takes messages per second")?
            }
            "--out" => a.out = Some(v()?),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(a)
}

fn main() -> ExitCode {
    sys::main_with(
        "mail",
        args().map_err(|e| {
            format!(
                "{e}\nusage: cargo bench --bench mail -- [--secs 10] [--clients 8] [--rate MSGS_PER_S] [--out FILE]"
            )
        }),
        run,
    )
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
    let tmp = tempfile::tempdir()?;
    let sink = start_sink(tmp.path().join("sink"))?;
    let db_url = format!("sqlite://{}", tmp.path().join("opsdesk.db").display());
    let app = app::build(
        tmp.path(),
        &format!(
            "listen = \"127.0.0.1:0\"\ndatabase_url = \"{db_url}\"\n\n[log]\nlevel = \"warn\"\n\n\
             [mail]\nsmtp_url = \"smtp://127.0.0.1:{}\"\nfrom = \"support@bench.example\"\n\
             subject_tag = \"bench.example\"\n\n\
             [[queue]]\nname = \"Support\"\ncorrespond_address = \"support@bench.example\"\n",
            sink.port
        ),
    )
    .await?;
    let db = app.state.db.clone();
    let mut tx = db.begin().await?;
    let token = tokens::create(&mut tx, "bench", Scope::Mail, None, SystemClock.now()).await?;
    tx.commit().await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!(
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
        let (url, token, tickets) = (url.clone(), token.clone(), tickets.clone());
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

    let n = lat.len();
    let mut md = String::new();
    let _ = writeln!(md, "## Mail (issue 4)\n");
    let _ = writeln!(
        md,
        "Measured {} with `cargo bench --bench mail -- --secs {} --clients {}{}` on SQLite. {}\n",
        SystemClock.now().strftime("%Y-%m-%d"),
        a.secs,
        a.clients,
        if a.rate > 0.0 {
            format!(" --rate {}", a.rate)
        } else {
            String::new()
        },
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
    let _ = writeln!(
        md,
        "| intake `POST /api/v1/mail/inbound`, {} clients × {} s{offered}: messages/s | > 300 | {:.0} ({} messages, {} new tickets, {:.1} MiB, {} failed) |",
        a.clients,
        a.secs,
        n as f64 / intake_s,
        n,
        created,
        bytes as f64 / 1_048_576.0,
        errors
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
        "| outbox to a local SMTP server, {burst_queued} notices queued at once: messages/s | > 200 | {:.0} (drained in {burst_s:.1} s) |",
        burst_queued as f64 / burst_s.max(f64::MIN_POSITIVE)
    );
    let _ = writeln!(
        md,
        "| outbox while intake ran: messages sent / left queued at its end (drained in s) |  | {sent_before} / {queued} ({drain_s:.1}) |"
    );
    let _ = writeln!(
        md,
        "| CPU of the process during intake, s (wall s) |  | {intake_cpu:.1} ({intake_s:.1}) |"
    );
    let _ = writeln!(md, "| messages the SMTP server kept |  | {sent_total} |");
    print!("{md}");
    if let Some(out) = a.out {
        std::fs::write(out, &md)?;
    }
    Ok(())
}

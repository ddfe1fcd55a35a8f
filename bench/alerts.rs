//! Alert intake benchmark (issue 8): Alertmanager webhooks into `POST /api/v1/alerts/{source}`
//! with the app running in this process as `opsdesk serve` builds it, on SQLite and (with
//! `--pg URL`, a server whose user may CREATE DATABASE) on PostgreSQL. Targets: sustained
//! more than 2,000 alerts/s (new, repeat, resolve) with p99 < 20 ms; a storm of 10,000 alerts
//! from one source handled in < 10 s, opening no more tickets than the storm threshold + 1
//! parent.
//!
//! ```sh
//! cargo bench --bench alerts -- [--tickets 10k,100k] [--secs 20] [--clients 16] [--batch 10]
//!                               [--storm 10000] [--storm-hooks 10] [--alert-share 10]
//!                               [--rate ALERTS_PER_S] [--drop-stat4] [--pg URL]
//!                               [--no-sqlite] [--out target/bench-alerts.md]
//! ```
//!
//! For each backend and size: a fresh database, migrated by the app, is bulk-loaded with the
//! tickets bench's generator and loader (`tickets/data.rs`: 5,000 customers, tickets with
//! their history), then 4 hosts per customer (`customer_hosts`), one alert row per generated
//! alert-sourced ticket (10% of tickets), and one raw delivery per such alert received in the
//! last 29 days, all with multi-row INSERTs through the app's pool. Then the app serves on a
//! loopback port and clients on a runtime of their own post webhooks with the sources' bearer
//! tokens: the sustained mix for `--secs` with one alert per webhook, again with `--batch`
//! alerts per webhook, then two storms on fresh sources (storm = { threshold = 20, window =
//! "1m" }): `--storm` new alerts one per webhook, and the same number in `--storm-hooks`
//! webhooks. Last, a probe calls `opsdesk::alerts::receive` in-process, one delivery at a
//! time, to give the service time of each kind of delivery without HTTP or queueing. A
//! Markdown report goes to stdout and to `--out`; progress goes to stderr. `--rate` offers the
//! sustained alerts on a fixed schedule (latency from each slot) instead of back to back;
//! `--drop-stat4` (SQLite) deletes the STAT4 samples ANALYZE wrote, an experiment.

#[path = "shared/app.rs"]
mod app;
#[allow(dead_code)]
#[path = "shared/applog.rs"]
mod applog;
#[allow(dead_code)]
#[path = "shared/backends.rs"]
mod backends;
#[path = "shared/clients.rs"]
mod clients;
#[allow(dead_code)]
#[path = "tickets/data.rs"]
mod data;
#[allow(dead_code)]
#[path = "tickets/sys.rs"]
mod sys;
#[allow(dead_code)]
#[path = "tickets/words.rs"]
mod words;

use applog::{app_errors, init_log};
use backends::size_label;
use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::AssertSqlSafe;

use opsdesk::alerts::Delivery;
use opsdesk::auth::tokens::{self, Scope};
use opsdesk::clock::{Clock, SystemClock};
use opsdesk::db::{DatabaseUrl, Db, PoolOptions, Ts, Tx};

pub type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// The source of the sustained runs: no storm detection (20% new alerts at > 2,000/s would
/// start a storm within the first second and turn the mix into storm joins).
const SUSTAINED: &str = "prometheus";
/// Fresh sources for the two storm runs, storm = { threshold = STORM_THRESHOLD, window = "1m" }.
const STORM_SINGLE: &str = "storm-single";
const STORM_BATCHED: &str = "storm-batched";
const STORM_THRESHOLD: i64 = 20;
const HOSTS_PER_CUSTOMER: usize = 4;
/// Share of alerts naming a host no customer owns (the customer lookup misses).
const UNKNOWN_HOST_PCT: u32 = 20;
/// Deliveries of each kind in the in-process service-time probe.
const PROBE_EACH: usize = 300;
const DAY_US: i64 = 86_400_000_000;

/// Alert names with their severity and whether the rule carries a `runbook_url` annotation
/// (without one, the app looks a runbook up in the wiki by name).
const RULES: [(&str, &str, bool); 8] = [
    ("HostDown", "critical", true),
    ("InterfaceDown", "critical", true),
    ("BGPSessionDown", "critical", false),
    ("HighPacketLoss", "warning", true),
    ("HighLatency", "warning", false),
    ("DiskAlmostFull", "warning", true),
    ("CertificateExpiresSoon", "info", false),
    ("NTPDrift", "info", false),
];

fn token_of(source: &str) -> String {
    format!("bench-{source}-token-0123456789")
}

// ---------------------------------------------------------------------------------------------
// Arguments.

#[derive(Debug, Clone)]
struct Args {
    sizes: Vec<i64>,
    secs: u64,
    clients: usize,
    batch: usize,
    storm: usize,
    storm_hooks: usize,
    alert_share: i64,
    pg: Option<String>,
    sqlite: bool,
    out: PathBuf,
    /// Alerts per second offered on a fixed schedule in the sustained runs; 0: back to back.
    rate: f64,
    /// SQLite: delete the STAT4 samples after ANALYZE (an experiment: statements whose plan may
    /// depend on a bound value are recompiled whenever the value changes while they exist).
    drop_stat4: bool,
}

const USAGE: &str = "usage: cargo bench --bench alerts -- [--tickets 10k,100k] [--secs 20] \
                     [--clients 16] [--batch 10] [--storm 10000] [--storm-hooks 10] \
                     [--alert-share 10] [--rate ALERTS_PER_S] [--drop-stat4] [--pg URL] [--no-sqlite] \
                     [--out target/bench-alerts.md]";

fn parse_count(s: &str) -> Result<i64, String> {
    backends::parse_count(s).map_err(|e| format!("{e}\n{USAGE}"))
}

impl Args {
    fn parse(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
        let mut a = Args {
            sizes: vec![10_000, 100_000],
            secs: 20,
            clients: 16,
            batch: 10,
            storm: 10_000,
            storm_hooks: 10,
            alert_share: 10,
            pg: None,
            sqlite: true,
            out: PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/target/bench-alerts.md"
            )),
            rate: 0.0,
            drop_stat4: false,
        };
        while let Some(arg) = it.next() {
            let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value\n{USAGE}"));
            match arg.as_str() {
                // cargo bench passes --bench to harness = false targets.
                "--bench" => {}
                "--tickets" => {
                    a.sizes = value("--tickets")?
                        .split(',')
                        .map(parse_count)
                        .collect::<Result<_, _>>()?;
                    a.sizes.sort_unstable();
                    a.sizes.dedup();
                }
                "--secs" => a.secs = parse_count(&value("--secs")?)? as u64,
                "--clients" => a.clients = parse_count(&value("--clients")?)? as usize,
                "--batch" => a.batch = parse_count(&value("--batch")?)? as usize,
                "--storm" => a.storm = parse_count(&value("--storm")?)? as usize,
                "--storm-hooks" => a.storm_hooks = parse_count(&value("--storm-hooks")?)? as usize,
                "--alert-share" => a.alert_share = parse_count(&value("--alert-share")?)?,
                "--pg" => a.pg = Some(value("--pg")?).filter(|v| !v.is_empty()),
                "--no-sqlite" => a.sqlite = false,
                "--rate" => {
                    a.rate = value("--rate")?
                        .parse()
                        .map_err(|_| format!("--rate takes alerts per second\n{USAGE}"))?
                }
                "--drop-stat4" => a.drop_stat4 = true,
                "--out" => a.out = PathBuf::from(value("--out")?),
                "-h" | "--help" => return Err(USAGE.into()),
                other => return Err(format!("unknown argument \"{other}\"\n{USAGE}")),
            }
        }
        if a.sizes.is_empty()
            || a.secs == 0
            || a.clients == 0
            || a.batch == 0
            || a.storm == 0
            || a.storm_hooks == 0
            || (!a.sqlite && a.pg.is_none())
        {
            return Err(USAGE.into());
        }
        Ok(a)
    }

    fn command(&self) -> String {
        let mut s = format!(
            "cargo bench --bench alerts -- --tickets {} --secs {} --clients {} --batch {} --storm {} --storm-hooks {} --alert-share {}",
            self.sizes
                .iter()
                .map(|n| size_label(*n))
                .collect::<Vec<_>>()
                .join(","),
            self.secs,
            self.clients,
            self.batch,
            self.storm,
            self.storm_hooks,
            self.alert_share
        );
        s.push_str(&backends::backend_args(self.sqlite, self.pg.as_deref()));
        if self.rate > 0.0 {
            let _ = write!(s, " --rate {}", self.rate);
        }
        if self.drop_stat4 {
            s.push_str(" --drop-stat4");
        }
        s
    }
}

fn main() -> std::process::ExitCode {
    sys::main_with("alerts", Args::parse(std::env::args().skip(1)), run)
}

// ---------------------------------------------------------------------------------------------
// Measurements.

/// Latencies in ms.
#[derive(Debug, Default, Clone)]
struct Lat(Vec<f64>);

impl Lat {
    /// Nearest-rank percentile.
    fn pct(&self, p: f64) -> Option<f64> {
        if self.0.is_empty() {
            return None;
        }
        let mut v = self.0.clone();
        v.sort_by(f64::total_cmp);
        let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
        v.get(rank.clamp(1, v.len()) - 1).copied()
    }

    fn max(&self) -> Option<f64> {
        self.0.iter().copied().reduce(f64::max)
    }

    fn mean(&self) -> Option<f64> {
        (!self.0.is_empty()).then(|| self.0.iter().sum::<f64>() / self.0.len() as f64)
    }
}

/// What the process cost during a phase.
#[derive(Debug, Default, Clone)]
struct Cost {
    cpu_s: f64,
    rss_start_mib: f64,
    rss_peak_mib: f64,
    load_after: f64,
}

struct Meter {
    cpu0: f64,
    rss0: f64,
}

impl Meter {
    fn start() -> Meter {
        sys::reset_peak();
        Meter {
            cpu0: sys::cpu_secs(),
            rss0: sys::rss_mib(),
        }
    }

    fn stop(self) -> Cost {
        Cost {
            cpu_s: sys::cpu_secs() - self.cpu0,
            rss_start_mib: self.rss0,
            rss_peak_mib: sys::peak_rss_mib(),
            load_after: sys::loadavg(),
        }
    }
}

/// Kinds of one-alert deliveries, for per-kind latencies.
const NEW: usize = 0;
const REPEAT: usize = 1;
const RESOLVE: usize = 2;

#[derive(Debug, Default, Clone)]
struct Sustained {
    /// Alerts per second offered on a fixed schedule; 0: back to back.
    rate: f64,
    secs: f64,
    deliveries: u64,
    /// Alerts in answered (202) deliveries, by kind: new, repeat, resolve.
    alerts: [u64; 3],
    errors: u64,
    first_error: Option<String>,
    lat: Lat,
    /// One-alert deliveries only: latency by kind.
    by_kind: [Lat; 3],
    tickets_opened: i64,
    firing_after: usize,
    cost: Cost,
}

impl Sustained {
    fn alerts_total(&self) -> u64 {
        self.alerts.iter().sum()
    }
}

#[derive(Debug, Default, Clone)]
struct Storm {
    alerts: usize,
    hooks: usize,
    secs: f64,
    errors: u64,
    first_error: Option<String>,
    lat: Lat,
    /// Tickets with Source = 'alert' counted through the API (exact_total) before and after.
    api_delta: Option<i64>,
    /// Distinct tickets the source's alerts are on, and alerts with an incident of their own.
    db_tickets: i64,
    own_incidents: i64,
    alert_rows: i64,
    storms: i64,
    storm_members: i64,
    cost: Cost,
}

#[derive(Debug, Default, Clone)]
struct Probe {
    new: Lat,
    repeat: Lat,
    resolve: Lat,
    duplicate: Lat,
    batch: Lat,
}

#[derive(Debug, Default, Clone)]
struct Preload {
    hosts: usize,
    alerts: usize,
    firing: usize,
    payloads: usize,
    secs: f64,
}

#[derive(Debug, Default)]
struct SizeResult {
    version: String,
    load: data::LoadStats,
    preload: Preload,
    db_mib: f64,
    single: Sustained,
    batched: Sustained,
    storm: Storm,
    storm_batched: Storm,
    probe: Probe,
    db_after: (i64, i64, i64),
    app_errors: (usize, Vec<String>),
}

// ---------------------------------------------------------------------------------------------
// The run.

async fn run(args: Args) -> Res<()> {
    let date = SystemClock.now().strftime("%Y-%m-%d").to_string();
    let tmp = tempfile::Builder::new()
        .prefix("opsdesk-alerts-bench-")
        .tempdir()?;
    let log = init_log(tmp.path())?;
    let mut sections = String::new();
    let mut versions = Vec::new();
    let load_start = sys::loadavg();
    for (name, pg) in &backends::backends(args.sqlite, args.pg.as_deref()) {
        let mut results: Vec<(i64, Result<SizeResult, String>)> = Vec::new();
        for &n in &args.sizes {
            eprintln!("== {name} at {n} tickets");
            let log_from = std::fs::metadata(&log).map_or(0, |m| m.len());
            let mut r = one_size(pg.as_deref(), n, tmp.path(), &args)
                .await
                .map_err(|e| e.to_string());
            match &mut r {
                Ok(r) => {
                    r.app_errors = app_errors(&log, log_from);
                    if !versions.contains(&r.version) {
                        versions.push(r.version.clone());
                    }
                }
                Err(e) => eprintln!("   failed: {e}"),
            }
            results.push((n, r));
        }
        sections.push_str(&render(name, &args, &results));
    }

    let mut md = String::new();
    let _ = writeln!(md, "## Alerts (issue 8)\n");
    let _ = writeln!(md, "Measured {date} with `{}`.\n", args.command());
    let _ = writeln!(md, "Machine: {}.", sys::machine());
    let _ = writeln!(md, "Databases: {}.", versions.join("; "));
    let _ = writeln!(
        md,
        "Load average (1 min) at start / end: {load_start:.2} / {:.2}.\n",
        sys::loadavg()
    );
    md.push_str(&method(&args));
    md.push_str(&sections);
    print!("{md}");
    if let Some(dir) = args.out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&args.out, &md)?;
    eprintln!("written to {}", args.out.display());
    tmp.close()?;
    Ok(())
}

/// One backend at one size: a fresh database (a SQLite file, or a new PostgreSQL database
/// dropped afterwards), loaded, measured.
async fn one_size(pg: Option<&str>, n: i64, root: &Path, args: &Args) -> Res<SizeResult> {
    backends::with_fresh_db("alerts", pg, n, root, |url, dir| async move {
        measure(&url, n, &dir, args).await
    })
    .await
}

fn config_toml(url: &str) -> String {
    let mut s = format!(
        "listen = \"127.0.0.1:0\"\ndatabase_url = \"{url}\"\nbase_url = \"http://127.0.0.1\"\n\n\
         [[sla]]\nname = \"standard\"\n\
         targets.P1 = {{ response = \"1h\", resolve = \"4h\" }}\n\
         targets.P2 = {{ response = \"2h\", resolve = \"8h\" }}\n\
         targets.P3 = {{ response = \"8h\", resolve = \"3d\" }}\n\
         targets.P4 = {{ response = \"1d\", resolve = \"7d\" }}\n\n\
         [[sla]]\nname = \"gold\"\n\
         targets.P1 = {{ response = \"15m\", resolve = \"2h\" }}\n\
         targets.P2 = {{ response = \"1h\", resolve = \"4h\" }}\n\
         targets.P3 = {{ response = \"4h\", resolve = \"1d\" }}\n\
         targets.P4 = {{ response = \"8h\", resolve = \"3d\" }}\n\n\
         [[queue]]\nname = \"NOC\"\nsla = \"standard\"\ncorrespond_address = \"noc@isp.example\"\n"
    );
    s.push_str(&data::queues_toml());
    for (name, storm) in [
        (SUSTAINED, false),
        (STORM_SINGLE, true),
        (STORM_BATCHED, true),
    ] {
        let _ = write!(
            s,
            "\n[[alert_source]]\nname = \"{name}\"\nkind = \"alertmanager\"\ntoken = \"{}\"\n\
             queue = \"NOC\"\npriority = {{ critical = 1, warning = 3, info = 4 }}\n\
             auto_resolve = true\n",
            token_of(name)
        );
        if storm {
            let _ = writeln!(
                s,
                "storm = {{ threshold = {STORM_THRESHOLD}, window = \"1m\" }}"
            );
        }
    }
    s
}

/// What a client needs to reach the app.
#[derive(Clone)]
struct Target {
    base: String,
    api_token: String,
}

async fn measure(url: &str, n: i64, dir: &Path, args: &Args) -> Res<SizeResult> {
    let mut r = SizeResult::default();
    let now_us = SystemClock.now().as_microsecond();
    let db_url = DatabaseUrl::parse(url)?;

    r.load = data::load(&db_url, n, now_us).await?;
    eprintln!(
        "   loaded {} tickets, {} transactions in {:.1} s",
        r.load.tickets, r.load.txns, r.load.total_secs
    );
    let (preload, hosts, firing) =
        preload(&db_url, n, args.alert_share, now_us, args.drop_stat4).await?;
    eprintln!(
        "   preloaded {} hosts, {} alerts ({} firing), {} raw deliveries in {:.1} s",
        preload.hosts, preload.alerts, preload.firing, preload.payloads, preload.secs
    );
    r.preload = preload;
    let hosts = Arc::new(hosts);

    let app = app::build_on(dir, url, &config_toml(url)).await?;
    let db = app.state.db.clone();
    let config = app.state.config.clone();
    r.version = backends::version(&db).await?;
    r.db_mib = match &db {
        Db::Sqlite(_) => sys::disk_mib(dir),
        Db::Postgres(p) => {
            let bytes: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())")
                .fetch_one(p)
                .await?;
            bytes as f64 / (1024.0 * 1024.0)
        }
    };
    let mut tx = db.begin().await?;
    let api_token = tokens::create(&mut tx, "bench", Scope::Api, None, SystemClock.now()).await?;
    tx.commit().await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let target = Target {
        base: format!("http://{}", listener.local_addr()?),
        api_token,
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run(listener, async move {
        let _ = stopped.await;
    }));

    let measured = async {
        // Warm-up: connections, prepared statements, caches (a few hundred deliveries of the
        // mix on the sustained source; they count in no figure).
        let mut pools = split(firing, args.clients);
        let warm;
        (warm, pools) = sustained(
            &target,
            &db,
            args.clients,
            Duration::from_secs(2),
            1,
            0.0,
            pools,
            hosts.clone(),
            1,
        )
        .await?;
        if let Some(e) = &warm.first_error {
            eprintln!("   warm-up saw an error: {e}");
        }
        settle().await;

        (r.single, pools) = sustained(
            &target,
            &db,
            args.clients,
            Duration::from_secs(args.secs),
            1,
            args.rate,
            pools,
            hosts.clone(),
            2,
        )
        .await?;
        eprintln!(
            "   sustained, 1 alert/webhook: {}",
            sustained_line(&r.single)
        );
        settle().await;
        (r.batched, _) = sustained(
            &target,
            &db,
            args.clients,
            Duration::from_secs(args.secs),
            args.batch,
            args.rate,
            pools,
            hosts.clone(),
            3,
        )
        .await?;
        eprintln!(
            "   sustained, {} alerts/webhook: {}",
            args.batch,
            sustained_line(&r.batched)
        );
        settle().await;

        r.storm = storm(
            &target,
            &db,
            STORM_SINGLE,
            args.storm,
            1,
            args.clients,
            &hosts,
        )
        .await?;
        eprintln!("   storm, 1 alert/webhook: {}", storm_line(&r.storm));
        settle().await;
        let per = args.storm.div_ceil(args.storm_hooks);
        r.storm_batched = storm(
            &target,
            &db,
            STORM_BATCHED,
            args.storm,
            per,
            args.clients.max(args.storm_hooks),
            &hosts,
        )
        .await?;
        eprintln!(
            "   storm, {per} alerts/webhook: {}",
            storm_line(&r.storm_batched)
        );
        settle().await;

        r.probe = probe(&db, &config, &hosts, args.batch).await?;
        eprintln!(
            "   probe (in-process, one at a time): new {} / repeat {} / resolve {} ms mean",
            ms(r.probe.new.mean()),
            ms(r.probe.repeat.mean()),
            ms(r.probe.resolve.mean())
        );
        r.db_after = (
            count(&db, "SELECT COUNT(*) FROM tickets", None).await?,
            count(&db, "SELECT COUNT(*) FROM alerts", None).await?,
            count(&db, "SELECT COUNT(*) FROM alert_payloads", None).await?,
        );
        Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    }
    .await;
    let _ = stop.send(());
    server.await??;
    measured?;
    Ok(r)
}

/// A short pause between phases, so the app's background work caused by one phase (the
/// full-text index pass, jobs) does not land in the next one's first second.
async fn settle() {
    tokio::time::sleep(Duration::from_secs(3)).await;
}

/// A COUNT(*) with at most one text bind.
async fn count(db: &Db, sql: &'static str, bind: Option<&str>) -> Res<i64> {
    Ok(opsdesk::on_pool!(db, |p| {
        let mut q = sqlx::query_scalar::<_, i64>(sql);
        if let Some(b) = bind {
            q = q.bind(b.to_owned());
        }
        q.fetch_one(p).await?
    }))
}

// ---------------------------------------------------------------------------------------------
// The preload: hosts, alerts and raw deliveries, through the app's pool.

/// A value for a multi-row INSERT, bound on either backend.
enum V {
    I(Option<i64>),
    S(Option<String>),
    T(Option<Ts>),
    B(Vec<u8>),
}

fn s(v: impl Into<String>) -> V {
    V::S(Some(v.into()))
}

async fn insert_rows(tx: &mut Tx, head: &str, ncols: usize, rows: &[Vec<V>]) -> Res<()> {
    let per = (20_000 / ncols).clamp(1, 500);
    for part in rows.chunks(per) {
        let mut sql = format!("{head} VALUES ");
        let mut k = 0;
        for (i, _) in part.iter().enumerate() {
            sql.push_str(if i > 0 { ", (" } else { "(" });
            for c in 0..ncols {
                k += 1;
                let _ = write!(sql, "{}${k}", if c > 0 { ", " } else { "" });
            }
            sql.push(')');
        }
        opsdesk::on_tx!(&mut *tx, |c| {
            let mut q = sqlx::query(AssertSqlSafe(sql.clone()));
            for row in part {
                for v in row {
                    q = match v {
                        V::I(x) => q.bind(*x),
                        V::S(x) => q.bind(x.clone()),
                        V::T(x) => q.bind(*x),
                        V::B(x) => q.bind(x.clone()),
                    };
                }
            }
            q.execute(c).await?;
        });
    }
    Ok(())
}

/// One alert identity as the clients send it.
#[derive(Debug, Clone)]
struct Ident {
    fp: String,
    rule: usize,
    instance: String,
    starts: String,
}

fn known_host(i: usize) -> (String, String) {
    let cust = i / HOSTS_PER_CUSTOMER;
    let kind = ["sw", "rt", "fw", "srv"][i % HOSTS_PER_CUSTOMER];
    (
        format!("{kind}1.c{cust:04}.example"),
        format!(
            "10.{}.{}.{}",
            (i >> 16) & 0xff,
            (i >> 8) & 0xff,
            (i & 0xff) + 1
        ),
    )
}

/// Customers' hosts (4 each), an alert row for each alert-sourced ticket (up to `share`% of
/// tickets; firing while its ticket is active), one raw delivery per alert in the last 29
/// days; some customers on the gold SLA. Answers the counts, the known host names, and the
/// firing identities the clients may repeat and resolve.
async fn preload(
    url: &DatabaseUrl,
    n: i64,
    share: i64,
    now_us: i64,
    drop_stat4: bool,
) -> Res<(Preload, Vec<String>, Vec<Ident>)> {
    let t0 = Instant::now();
    let db = Db::connect(url, PoolOptions::default()).await?;
    let mut out = Preload::default();

    let mut tx = db.begin().await?;
    let host_count = data::CUSTOMERS * HOSTS_PER_CUSTOMER;
    let mut hosts = Vec::with_capacity(host_count);
    let mut rows = Vec::with_capacity(host_count);
    for i in 0..host_count {
        let (name, addr) = known_host(i);
        rows.push(vec![
            V::I(Some((i / HOSTS_PER_CUSTOMER) as i64 + 1)),
            s(name.clone()),
            s(addr),
        ]);
        hosts.push(name);
    }
    insert_rows(
        &mut tx,
        "INSERT INTO customer_hosts (customer_id, name, address)",
        3,
        &rows,
    )
    .await?;
    opsdesk::on_tx!(&mut tx, |c| {
        sqlx::query("UPDATE customers SET sla = 'gold' WHERE id % 10 = 0")
            .execute(c)
            .await?;
    });
    tx.commit().await?;
    out.hosts = host_count;

    let limit = n * share / 100;
    let mut tx = db.begin_read().await?;
    type Row = (i64, Option<String>, Option<i64>, String, String, Ts, Ts);
    let tickets: Vec<Row> = opsdesk::on_tx!(&mut tx, |c| {
        sqlx::query_as(
            "SELECT id, host, customer_id, status, subject, created_at, updated_at \
             FROM tickets WHERE source = 'alert' ORDER BY id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(c)
        .await?
    });
    tx.commit().await?;

    let mut rng = StdRng::seed_from_u64(0xa1e7);
    let mut firing = Vec::new();
    let mut alert_rows = Vec::with_capacity(tickets.len());
    let mut payload_rows = Vec::with_capacity(tickets.len());
    for (id, host, customer_id, status, subject, created, updated) in tickets {
        let rule = (id as usize) % RULES.len();
        let (name, severity, _) = RULES[rule];
        let host = host.unwrap_or_else(|| format!("node{id}.lab.example"));
        let active = matches!(status.as_str(), "new" | "open" | "stalled");
        let ident = Ident {
            fp: format!("{:016x}", 0x0100_0000_0000_0000_u64 | id as u64),
            rule,
            instance: format!("{host}:9100"),
            starts: created.0.to_string(),
        };
        let alert = alert_json(&ident, active, &updated.0.to_string());
        let body = webhook(id as u64, vec![alert.clone()]);
        let labels = serde_json::to_string(&alert["labels"])?;
        let annotations = serde_json::to_string(&alert["annotations"])?;
        alert_rows.push(vec![
            s(SUSTAINED),
            s(ident.fp.clone()),
            s(name),
            s(host.clone()),
            s(severity),
            s(subject),
            s(if active { "firing" } else { "resolved" }),
            s(ident.starts.clone()),
            V::I(Some(id)),
            V::I(customer_id),
            V::I(Some(rng.random_range(1..50))),
            V::T(Some(created)),
            V::T(Some(updated)),
            V::T(Some(updated)),
            V::T((!active).then_some(updated)),
            V::T(Some(created)),
            s(labels),
            s(annotations),
            s("http://prometheus.isp.example:9090/graph?g0.expr=up"),
            s("http://alertmanager.isp.example:9093"),
        ]);
        let received = now_us - rng.random_range(DAY_US..29 * DAY_US);
        payload_rows.push(vec![
            s(SUSTAINED),
            V::T(Some(Ts(jiff::Timestamp::from_microsecond(received)?))),
            s(hex::encode(Sha256::digest(&body))),
            s("application/json"),
            V::B(body),
            s("applied"),
            s(format!("[{id}]")),
        ]);
        if active {
            firing.push(ident);
        }
    }
    let mut tx = db.begin().await?;
    insert_rows(
        &mut tx,
        "INSERT INTO alerts (source, identity, name, host, severity, summary, state, occurrence, \
         ticket_id, customer_id, count, first_seen, last_seen, changed_at, resolved_at, \
         opened_at, labels, annotations, generator_url, external_url)",
        20,
        &alert_rows,
    )
    .await?;
    insert_rows(
        &mut tx,
        "INSERT INTO alert_payloads (source, received_at, digest, content_type, body, outcome, \
         tickets)",
        7,
        &payload_rows,
    )
    .await?;
    tx.commit().await?;
    out.alerts = alert_rows.len();
    out.payloads = payload_rows.len();
    out.firing = firing.len();
    match &db {
        Db::Sqlite(p) => {
            let mut w = p.write_conn().await?;
            sqlx::raw_sql("ANALYZE").execute(&mut *w).await?;
            if drop_stat4 {
                sqlx::raw_sql("DELETE FROM sqlite_stat4")
                    .execute(&mut *w)
                    .await?;
            }
        }
        Db::Postgres(p) => {
            sqlx::raw_sql("ANALYZE").execute(p).await?;
        }
    }
    db.close().await;
    out.secs = t0.elapsed().as_secs_f64();
    Ok((out, hosts, firing))
}

// ---------------------------------------------------------------------------------------------
// Payloads.

fn alert_json(id: &Ident, firing: bool, now: &str) -> Value {
    let (name, severity, runbook) = RULES[id.rule % RULES.len()];
    let host = id.instance.split(':').next().unwrap_or(&id.instance);
    let mut annotations = json!({
        "summary": format!("{name} on {host}"),
        "description": format!("{name} has been active on {host} for more than 5 minutes."),
    });
    if runbook {
        annotations["runbook_url"] = json!(format!(
            "https://wiki.isp.example/runbooks/{}",
            name.to_ascii_lowercase()
        ));
    }
    json!({
        "status": if firing { "firing" } else { "resolved" },
        "labels": {
            "alertname": name,
            "instance": id.instance,
            "job": "node",
            "severity": severity,
            "team": "noc",
        },
        "annotations": annotations,
        "startsAt": id.starts,
        "endsAt": if firing { "0001-01-01T00:00:00Z" } else { now },
        "generatorURL": format!("http://prometheus.isp.example:9090/graph?g0.expr=up%7Binstance%3D%22{}%22%7D", id.instance),
        "fingerprint": id.fp,
    })
}

/// An Alertmanager v4 webhook; `seq` in the groupKey makes every body distinct (the app takes
/// the same bytes again within 5 minutes as a retry).
fn webhook(seq: u64, alerts: Vec<Value>) -> Vec<u8> {
    let status = if alerts.iter().any(|a| a["status"] == "firing") {
        "firing"
    } else {
        "resolved"
    };
    let body = json!({
        "version": "4",
        "groupKey": format!("{{}}/{{team=\"noc\"}}:{{alertname=~\".*\", seq=\"{seq}\"}}"),
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "opsdesk",
        "groupLabels": {"team": "noc"},
        "commonLabels": {"team": "noc", "job": "node"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.isp.example:9093",
        "alerts": alerts,
    });
    serde_json::to_vec(&body).unwrap_or_default()
}

fn new_ident(rng: &mut StdRng, hosts: &[String], tag: u64, now: &str) -> Ident {
    let instance = if rng.random_range(0..100) < UNKNOWN_HOST_PCT {
        format!("node{}.lab.example:9100", rng.random_range(0..100_000))
    } else {
        format!("{}:9100", hosts[rng.random_range(0..hosts.len())])
    };
    Ident {
        fp: format!("{tag:016x}"),
        rule: rng.random_range(0..RULES.len()),
        instance,
        starts: now.to_owned(),
    }
}

/// Deals the firing identities round-robin to `k` clients.
fn split(all: Vec<Ident>, k: usize) -> Vec<Vec<Ident>> {
    let mut out = vec![Vec::new(); k];
    for (i, id) in all.into_iter().enumerate() {
        out[i % k].push(id);
    }
    out
}

fn http_client() -> Res<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(120))
        .pool_max_idle_per_host(2)
        .build()?)
}

/// One POST to a source; answers the latency and an error text unless the answer was 202.
async fn post(
    c: &reqwest::Client,
    url: &str,
    token: &str,
    body: Vec<u8>,
) -> (f64, Result<(), String>) {
    let sent = Instant::now();
    let r = c
        .post(url)
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await;
    let out = match r {
        Ok(r) => {
            let status = r.status();
            match r.bytes().await {
                Ok(_) if status.as_u16() == 202 => Ok(()),
                Ok(b) => Err(format!(
                    "{status}: {}",
                    String::from_utf8_lossy(&b)
                        .chars()
                        .take(200)
                        .collect::<String>()
                )),
                Err(e) => Err(e.to_string()),
            }
        }
        Err(e) => Err(e.to_string()),
    };
    (sent.elapsed().as_secs_f64() * 1000.0, out)
}

// ---------------------------------------------------------------------------------------------
// Sustained: the mix, back to back, `clients` concurrent.

struct ClientOut {
    lat: Vec<f64>,
    by_kind: [Vec<f64>; 3],
    alerts: [u64; 3],
    errors: u64,
    first_error: Option<String>,
    pool: Vec<Ident>,
}

#[allow(clippy::too_many_arguments)]
async fn sustained(
    t: &Target,
    db: &Db,
    clients: usize,
    duration: Duration,
    per_hook: usize,
    rate: f64,
    pools: Vec<Vec<Ident>>,
    hosts: Arc<Vec<String>>,
    phase: u64,
) -> Res<(Sustained, Vec<Vec<Ident>>)> {
    let tickets_before = count(db, "SELECT COUNT(*) FROM tickets", None).await?;
    let url = format!("{}/api/v1/alerts/{SUSTAINED}", t.base);
    let token = token_of(SUSTAINED);
    let client_rt = clients::runtime()?;
    let meter = Meter::start();
    let start = Instant::now();
    let mut tasks = Vec::new();
    for (w, mut pool) in pools.into_iter().enumerate().take(clients) {
        let (url, token, hosts) = (url.clone(), token.clone(), hosts.clone());
        let c = http_client()?;
        tasks.push(client_rt.spawn(async move {
            let mut rng = StdRng::seed_from_u64(phase * 1000 + w as u64);
            let mut o = ClientOut {
                lat: Vec::new(),
                by_kind: [Vec::new(), Vec::new(), Vec::new()],
                alerts: [0; 3],
                errors: 0,
                first_error: None,
                pool: Vec::new(),
            };
            let mut seq: u64 = 0;
            let deadline = start + duration;
            loop {
                // At a fixed rate, delivery n of client w has its slot in one schedule for all
                // clients, and its latency runs from that slot (no coordinated omission).
                let slot = (rate > 0.0).then(|| {
                    start
                        + Duration::from_secs_f64(
                            (seq as usize * clients + w) as f64 * per_hook as f64 / rate,
                        )
                });
                if slot.unwrap_or_else(Instant::now) >= deadline {
                    break;
                }
                seq += 1;
                let now = SystemClock.now().to_string();
                let mut alerts = Vec::with_capacity(per_hook);
                let mut kinds = [0u64; 3];
                let mut used = HashSet::new();
                let mut resolved = Vec::new();
                let mut fresh = Vec::new();
                let mut kind = NEW;
                for _ in 0..per_hook {
                    let r = rng.random_range(0..100);
                    let want = if r < 20 {
                        NEW
                    } else if r < 80 {
                        REPEAT
                    } else {
                        RESOLVE
                    };
                    let pick = (want != NEW && used.len() < pool.len()).then(|| {
                        loop {
                            let i = rng.random_range(0..pool.len());
                            if used.insert(i) {
                                break i;
                            }
                        }
                    });
                    match (want, pick) {
                        (REPEAT, Some(i)) => {
                            alerts.push(alert_json(&pool[i], true, &now));
                            kind = REPEAT;
                        }
                        (RESOLVE, Some(i)) => {
                            alerts.push(alert_json(&pool[i], false, &now));
                            resolved.push(i);
                            kind = RESOLVE;
                        }
                        _ => {
                            let tag = (phase << 56) | ((w as u64) << 40) | (seq << 4);
                            let id = new_ident(&mut rng, &hosts, tag | fresh.len() as u64, &now);
                            alerts.push(alert_json(&id, true, &now));
                            fresh.push(id);
                            kind = NEW;
                        }
                    }
                    kinds[kind] += 1;
                }
                let body = webhook((phase << 48) | ((w as u64) << 32) | seq, alerts);
                if let Some(slot) = slot {
                    tokio::time::sleep_until(slot.into()).await;
                }
                let (ms, res) = post(&c, &url, &token, body).await;
                let ms = slot.map_or(ms, |s| s.elapsed().as_secs_f64() * 1000.0);
                match res {
                    Ok(()) => {
                        o.lat.push(ms);
                        if per_hook == 1 {
                            o.by_kind[kind].push(ms);
                        }
                        for (a, k) in o.alerts.iter_mut().zip(kinds) {
                            *a += k;
                        }
                    }
                    Err(e) => {
                        o.errors += 1;
                        if o.first_error.is_none() {
                            o.first_error = Some(e);
                        }
                    }
                }
                resolved.sort_unstable_by(|a, b| b.cmp(a));
                for i in resolved {
                    pool.swap_remove(i);
                }
                pool.extend(fresh);
            }
            o.pool = pool;
            o
        }));
    }
    let mut s = Sustained {
        rate,
        ..Sustained::default()
    };
    let mut pools = Vec::new();
    for task in tasks {
        let o = task.await?;
        s.lat.0.extend(o.lat);
        for (k, v) in o.by_kind.into_iter().enumerate() {
            s.by_kind[k].0.extend(v);
        }
        for (a, k) in s.alerts.iter_mut().zip(o.alerts) {
            *a += k;
        }
        s.errors += o.errors;
        if s.first_error.is_none() {
            s.first_error = o.first_error;
        }
        s.firing_after += o.pool.len();
        pools.push(o.pool);
    }
    s.secs = start.elapsed().as_secs_f64();
    s.cost = meter.stop();
    client_rt.shutdown_background();
    s.deliveries = s.lat.0.len() as u64;
    s.tickets_opened = count(db, "SELECT COUNT(*) FROM tickets", None).await? - tickets_before;
    Ok((s, pools))
}

// ---------------------------------------------------------------------------------------------
// Storm: `total` distinct new alerts from one fresh source, `per_hook` per webhook, as fast as
// `clients` concurrent clients can send them.

async fn alert_tickets(t: &Target) -> Res<i64> {
    let c = http_client()?;
    let r = c
        .get(format!("{}/api/v1/tickets", t.base))
        .query(&[
            ("query", "Source = 'alert'"),
            ("per_page", "1"),
            ("exact_total", "true"),
        ])
        .bearer_auth(&t.api_token)
        .send()
        .await?;
    let status = r.status();
    let v: Value = r.json().await?;
    v.get("total")
        .and_then(Value::as_i64)
        .ok_or_else(|| format!("the ticket list answered {status} without a total: {v}").into())
}

async fn storm(
    t: &Target,
    db: &Db,
    source: &'static str,
    total: usize,
    per_hook: usize,
    clients: usize,
    hosts: &[String],
) -> Res<Storm> {
    let before = alert_tickets(t).await.ok();
    // Every body built before the clock starts: the figure is the app's.
    let now = SystemClock.now().to_string();
    let mut rng = StdRng::seed_from_u64(0x5707);
    let phase: u64 = if source == STORM_SINGLE { 7 } else { 8 };
    let mut bodies = Vec::new();
    let mut made = 0;
    while made < total {
        let k = per_hook.min(total - made);
        let alerts = (0..k)
            .map(|j| {
                let i = made + j;
                let mut id = new_ident(&mut rng, hosts, (phase << 56) | i as u64, &now);
                // A storm: one failure (an uplink) takes down many hosts at once.
                id.rule = 1;
                if i % 5 != 0 {
                    id.instance = format!("{}:9100", hosts[(i * 7) % hosts.len()]);
                }
                alert_json(&id, true, &now)
            })
            .collect();
        bodies.push(webhook((phase << 48) | bodies.len() as u64, alerts));
        made += k;
    }
    let hooks = bodies.len();
    let bodies = Arc::new(std::sync::Mutex::new(
        bodies.into_iter().map(Some).collect::<Vec<_>>(),
    ));
    let next = Arc::new(AtomicUsize::new(0));
    let url = format!("{}/api/v1/alerts/{source}", t.base);
    let token = token_of(source);
    let client_rt = clients::runtime()?;
    let mut conns = Vec::new();
    for _ in 0..clients.min(hooks) {
        conns.push(http_client()?);
    }
    let meter = Meter::start();
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in conns {
        let (url, token, bodies, next) = (url.clone(), token.clone(), bodies.clone(), next.clone());
        tasks.push(client_rt.spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0u64;
            let mut first_error = None;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let body = match bodies.lock() {
                    Ok(mut b) => b.get_mut(i).and_then(Option::take),
                    Err(_) => None,
                };
                let Some(body) = body else { break };
                let (ms, res) = post(&c, &url, &token, body).await;
                match res {
                    Ok(()) => lat.push(ms),
                    Err(e) => {
                        errors += 1;
                        if first_error.is_none() {
                            first_error = Some(e);
                        }
                    }
                }
            }
            (lat, errors, first_error)
        }));
    }
    let mut s = Storm {
        alerts: total,
        hooks,
        ..Storm::default()
    };
    for task in tasks {
        let (lat, errors, first_error) = task.await?;
        s.lat.0.extend(lat);
        s.errors += errors;
        if s.first_error.is_none() {
            s.first_error = first_error;
        }
    }
    s.secs = start.elapsed().as_secs_f64();
    s.cost = meter.stop();
    client_rt.shutdown_background();
    let after = alert_tickets(t).await.ok();
    s.api_delta = before.zip(after).map(|(b, a)| a - b);
    s.db_tickets = count(
        db,
        "SELECT COUNT(DISTINCT ticket_id) FROM alerts WHERE source = $1",
        Some(source),
    )
    .await?;
    s.own_incidents = count(
        db,
        "SELECT COUNT(*) FROM alerts WHERE source = $1 AND opened_at IS NOT NULL",
        Some(source),
    )
    .await?;
    s.alert_rows = count(
        db,
        "SELECT COUNT(*) FROM alerts WHERE source = $1",
        Some(source),
    )
    .await?;
    s.storms = count(
        db,
        "SELECT COUNT(*) FROM alert_storms WHERE source = $1",
        Some(source),
    )
    .await?;
    s.storm_members = count(
        db,
        "SELECT CAST(COALESCE(SUM(alerts), 0) AS BIGINT) FROM alert_storms WHERE source = $1",
        Some(source),
    )
    .await?;
    Ok(s)
}

// ---------------------------------------------------------------------------------------------
// The probe: `opsdesk::alerts::receive` called in this process, one delivery at a time.

async fn probe(
    db: &Db,
    config: &opsdesk::config::Config,
    hosts: &[String],
    batch: usize,
) -> Res<Probe> {
    let mut p = Probe::default();
    let mut rng = StdRng::seed_from_u64(0x9e0b);
    let now = SystemClock.now().to_string();
    let ids: Vec<Ident> = (0..PROBE_EACH)
        .map(|i| new_ident(&mut rng, hosts, (9 << 56) | i as u64, &now))
        .collect();
    let mut seq = 0u64;
    let one = |body: Vec<u8>| {
        let db = db.clone();
        async move {
            let d = Delivery {
                source: SUSTAINED,
                content_type: Some("application/json"),
                body: &body,
                authorized: true,
            };
            let t0 = Instant::now();
            opsdesk::alerts::receive(&db, config, d, SystemClock.now())
                .await
                .map_err(|e| e.to_string())?;
            Ok::<f64, String>(t0.elapsed().as_secs_f64() * 1000.0)
        }
    };
    let mut last = Vec::new();
    for id in &ids {
        seq += 1;
        let body = webhook((9 << 48) | seq, vec![alert_json(id, true, &now)]);
        last.clone_from(&body);
        p.new.0.push(one(body).await?);
    }
    for id in &ids {
        seq += 1;
        let body = webhook((9 << 48) | seq, vec![alert_json(id, true, &now)]);
        p.repeat.0.push(one(body).await?);
    }
    for _ in 0..PROBE_EACH.min(100) {
        p.duplicate.0.push(one(last.clone()).await?);
    }
    for chunk in ids.chunks(batch.max(1)) {
        seq += 1;
        let alerts = chunk.iter().map(|id| alert_json(id, true, &now)).collect();
        p.batch.0.push(one(webhook((9 << 48) | seq, alerts)).await?);
    }
    for id in &ids {
        seq += 1;
        let body = webhook((9 << 48) | seq, vec![alert_json(id, false, &now)]);
        p.resolve.0.push(one(body).await?);
    }
    Ok(p)
}

// ---------------------------------------------------------------------------------------------
// The report.

fn ms(v: Option<f64>) -> String {
    match v {
        None => "–".into(),
        Some(v) if v < 10.0 => format!("{v:.2}"),
        Some(v) if v < 100.0 => format!("{v:.1}"),
        Some(v) => format!("{v:.0}"),
    }
}

fn thousands(v: f64) -> String {
    let s = format!("{:.0}", v.max(0.0));
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn lat4(l: &Lat) -> String {
    format!(
        "{} / {} / {} / {}",
        ms(l.pct(50.0)),
        ms(l.pct(95.0)),
        ms(l.pct(99.0)),
        ms(l.max())
    )
}

fn sustained_line(s: &Sustained) -> String {
    format!(
        "{}{:.0} alerts/s, {:.0} deliveries/s, p99 {} ms, {} failed",
        if s.rate > 0.0 {
            format!("{} alerts/s offered: ", s.rate)
        } else {
            String::new()
        },
        s.alerts_total() as f64 / s.secs.max(1e-9),
        s.deliveries as f64 / s.secs.max(1e-9),
        ms(s.lat.pct(99.0)),
        s.errors
    )
}

fn storm_line(s: &Storm) -> String {
    format!(
        "{} alerts in {} webhooks in {:.1} s, tickets {} (API {}), {} failed",
        s.alerts,
        s.hooks,
        s.secs,
        s.db_tickets,
        s.api_delta.map_or("–".into(), |d| d.to_string()),
        s.errors
    )
}

type Row = (String, String, Vec<String>);

fn sustained_rows(
    rows: &mut Vec<Row>,
    results: &[(i64, Result<SizeResult, String>)],
    batched: bool,
    args: &Args,
) {
    let pick = |r: &SizeResult| -> Sustained {
        if batched {
            r.batched.clone()
        } else {
            r.single.clone()
        }
    };
    let cells = |f: &dyn Fn(&Sustained) -> String| -> Vec<String> {
        results
            .iter()
            .map(|(_, r)| match r {
                Ok(r) => f(&pick(r)),
                Err(_) => "failed".into(),
            })
            .collect()
    };
    let what = if batched {
        format!("{} alerts per webhook", args.batch)
    } else {
        "1 alert per webhook".to_owned()
    };
    rows.push((
        format!(
            "**sustained, {what}**, {} clients × {} s{}: alerts/s",
            args.clients,
            args.secs,
            if args.rate > 0.0 {
                format!(
                    ", {} alerts/s offered on a fixed schedule (latency from each slot)",
                    args.rate
                )
            } else {
                ", back to back".to_owned()
            }
        ),
        "> 2,000".into(),
        cells(&|s| {
            let rate = s.alerts_total() as f64 / s.secs.max(1e-9);
            let mut c = thousands(rate);
            if rate <= 2000.0 {
                c.push_str(" ✗");
            }
            c
        }),
    ));
    rows.push((
        "… deliveries/s; failed deliveries".into(),
        "0 failed".into(),
        cells(&|s| {
            format!(
                "{}; {}{}",
                thousands(s.deliveries as f64 / s.secs.max(1e-9)),
                s.errors,
                if s.errors > 0 { " ✗" } else { "" }
            )
        }),
    ));
    rows.push((
        "… latency per delivery p50 / p95 / p99 / max ms".into(),
        "p99 < 20".into(),
        cells(&|s| {
            let mut c = lat4(&s.lat);
            if s.lat.pct(99.0).is_some_and(|v| v >= 20.0) {
                c.push_str(" ✗");
            }
            c
        }),
    ));
    if !batched {
        for (k, name) in [(NEW, "new"), (REPEAT, "repeat"), (RESOLVE, "resolve")] {
            rows.push((
                format!("… {name} alerts: latency p50 / p95 / p99 / max ms"),
                String::new(),
                cells(&|s| lat4(&s.by_kind[k])),
            ));
        }
    }
    rows.push((
        "… alerts sent new / repeat / resolve; tickets opened; firing at the end".into(),
        String::new(),
        cells(&|s| {
            format!(
                "{} / {} / {}; {}; {}",
                thousands(s.alerts[NEW] as f64),
                thousands(s.alerts[REPEAT] as f64),
                thousands(s.alerts[RESOLVE] as f64),
                thousands(s.tickets_opened as f64),
                thousands(s.firing_after as f64)
            )
        }),
    ));
    rows.push((
        "… CPU of the process s (wall s); RSS start → peak MiB; load avg after".into(),
        String::new(),
        cells(&|s| {
            format!(
                "{:.1} ({:.1}); {:.0} → {:.0}; {:.2}",
                s.cost.cpu_s, s.secs, s.cost.rss_start_mib, s.cost.rss_peak_mib, s.cost.load_after
            )
        }),
    ));
}

fn storm_rows(rows: &mut Vec<Row>, results: &[(i64, Result<SizeResult, String>)], batched: bool) {
    let cells = |f: &dyn Fn(&Storm) -> String| -> Vec<String> {
        results
            .iter()
            .map(|(_, r)| match r {
                Ok(r) => f(if batched { &r.storm_batched } else { &r.storm }),
                Err(_) => "failed".into(),
            })
            .collect()
    };
    let head = results
        .iter()
        .find_map(|(_, r)| r.as_ref().ok())
        .map(|r| if batched { &r.storm_batched } else { &r.storm });
    let what = head.map_or(String::new(), |s| {
        format!(
            "{} alerts in {} webhooks of {}",
            thousands(s.alerts as f64),
            thousands(s.hooks as f64),
            thousands(s.alerts.div_ceil(s.hooks.max(1)) as f64)
        )
    });
    rows.push((
        format!("**storm, {what}**: wall time first send → last answer, s"),
        "< 10".into(),
        cells(&|s| {
            let mut c = format!("{:.1}", s.secs);
            if s.secs >= 10.0 {
                c.push_str(" ✗");
            }
            if s.errors > 0 {
                c.push_str(&format!(" [{} failed]", s.errors));
            }
            c
        }),
    ));
    rows.push((
        "… alerts/s; latency per delivery p50 / p95 / p99 / max ms".into(),
        String::new(),
        cells(&|s| {
            format!(
                "{}; {}",
                thousands(s.alerts as f64 / s.secs.max(1e-9)),
                lat4(&s.lat)
            )
        }),
    ));
    rows.push((
        "… tickets opened: API `Source = 'alert'` total after − before / distinct in the DB".into(),
        format!("≤ {}", STORM_THRESHOLD + 1),
        cells(&|s| {
            let mut c = format!(
                "{} / {}",
                s.api_delta.map_or("–".into(), |d| d.to_string()),
                s.db_tickets
            );
            if s.db_tickets > STORM_THRESHOLD + 1
                || s.api_delta.is_some_and(|d| d > STORM_THRESHOLD + 1)
            {
                c.push_str(" ✗");
            }
            c
        }),
    ));
    rows.push((
        "… alerts stored / with an incident of their own / storms / storm members".into(),
        String::new(),
        cells(&|s| {
            format!(
                "{} / {} / {} / {}",
                thousands(s.alert_rows as f64),
                s.own_incidents,
                s.storms,
                thousands(s.storm_members as f64)
            )
        }),
    ));
    rows.push((
        "… CPU of the process s; RSS start → peak MiB".into(),
        String::new(),
        cells(&|s| {
            format!(
                "{:.1}; {:.0} → {:.0}",
                s.cost.cpu_s, s.cost.rss_start_mib, s.cost.rss_peak_mib
            )
        }),
    ));
}

fn render(backend: &str, args: &Args, results: &[(i64, Result<SizeResult, String>)]) -> String {
    let mut rows: Vec<Row> = Vec::new();
    let cells = |f: &dyn Fn(&SizeResult) -> String| -> Vec<String> {
        results
            .iter()
            .map(|(_, r)| match r {
                Ok(r) => f(r),
                Err(_) => "failed".into(),
            })
            .collect()
    };
    rows.push((
        "data: tickets (load s) / hosts / alerts (firing) / raw deliveries (preload s)".into(),
        String::new(),
        cells(&|r| {
            format!(
                "{} ({:.1}) / {} / {} ({}) / {} ({:.1})",
                thousands(r.load.tickets as f64),
                r.load.total_secs,
                thousands(r.preload.hosts as f64),
                thousands(r.preload.alerts as f64),
                thousands(r.preload.firing as f64),
                thousands(r.preload.payloads as f64),
                r.preload.secs
            )
        }),
    ));
    rows.push((
        "database size before the runs, MiB".into(),
        String::new(),
        cells(&|r| format!("{:.0}", r.db_mib)),
    ));
    sustained_rows(&mut rows, results, false, args);
    sustained_rows(&mut rows, results, true, args);
    storm_rows(&mut rows, results, false);
    storm_rows(&mut rows, results, true);
    let probe_row = |name: &str, f: fn(&Probe) -> &Lat| -> Row {
        (
            format!("… {name}: mean / p50 / p99 / max ms"),
            String::new(),
            cells(&|r| {
                let l = f(&r.probe);
                format!(
                    "{} / {} / {} / {}",
                    ms(l.mean()),
                    ms(l.pct(50.0)),
                    ms(l.pct(99.0)),
                    ms(l.max())
                )
            }),
        )
    };
    rows.push((
        format!(
            "**service time**, `alerts::receive` in-process, one at a time ({PROBE_EACH} each): new alert (opens a ticket): mean / p50 / p99 / max ms"
        ),
        String::new(),
        cells(&|r| {
            let l = &r.probe.new;
            format!(
                "{} / {} / {} / {}",
                ms(l.mean()),
                ms(l.pct(50.0)),
                ms(l.pct(99.0)),
                ms(l.max())
            )
        }),
    ));
    rows.push(probe_row("repeat of a firing alert", |p| &p.repeat));
    rows.push(probe_row(
        "resolve (auto_resolve: the ticket resolves)",
        |p| &p.resolve,
    ));
    rows.push(probe_row("the same bytes again (duplicate)", |p| {
        &p.duplicate
    }));
    rows.push((
        format!(
            "… {} repeats in one webhook: mean / p50 / p99 / max ms",
            args.batch
        ),
        String::new(),
        cells(&|r| {
            let l = &r.probe.batch;
            format!(
                "{} / {} / {} / {}",
                ms(l.mean()),
                ms(l.pct(50.0)),
                ms(l.pct(99.0)),
                ms(l.max())
            )
        }),
    ));
    rows.push((
        "… the mix (20% new, 60% repeat, 20% resolve) at these service times, one at a time: alerts/s".into(),
        String::new(),
        cells(&|r| {
            let p = &r.probe;
            match (p.new.mean(), p.repeat.mean(), p.resolve.mean()) {
                (Some(a), Some(b), Some(c)) => {
                    thousands(1000.0 / (0.2 * a + 0.6 * b + 0.2 * c))
                }
                _ => "–".into(),
            }
        }),
    ));
    rows.push((
        "rows at the end: tickets / alerts / raw deliveries".into(),
        String::new(),
        cells(&|r| {
            format!(
                "{} / {} / {}",
                thousands(r.db_after.0 as f64),
                thousands(r.db_after.1 as f64),
                thousands(r.db_after.2 as f64)
            )
        }),
    ));

    let mut md = String::new();
    let _ = writeln!(md, "### {backend}\n");
    let head: Vec<String> = results
        .iter()
        .map(|(n, _)| format!("{} tickets", size_label(*n)))
        .collect();
    let _ = writeln!(md, "| measurement | target | {} |", head.join(" | "));
    let _ = writeln!(md, "|---|---|{}", "---|".repeat(head.len()));
    for (label, target, cells) in &rows {
        let _ = writeln!(md, "| {label} | {target} | {} |", cells.join(" | "));
    }
    let mut failures = Vec::new();
    for (n, r) in results {
        match r {
            Err(e) => failures.push(format!("- {}: the run failed: {e}", size_label(*n))),
            Ok(r) => {
                for (what, e) in [
                    ("sustained, 1 per webhook", &r.single.first_error),
                    ("sustained, batched", &r.batched.first_error),
                    ("storm", &r.storm.first_error),
                    ("storm, batched", &r.storm_batched.first_error),
                ] {
                    if let Some(e) = e {
                        failures.push(format!("- {} {what}: first failure: {e}", size_label(*n)));
                    }
                }
                let (count, first) = &r.app_errors;
                if *count > 0 {
                    failures.push(format!(
                        "- {}: the app logged {count} ERROR lines; the first distinct ones:\n{}",
                        size_label(*n),
                        first
                            .iter()
                            .map(|l| format!("  `{}`", l.replace('`', "'")))
                            .collect::<Vec<_>>()
                            .join("\n")
                    ));
                }
            }
        }
    }
    if !failures.is_empty() {
        let _ = writeln!(md, "\nFailures:\n\n{}", failures.join("\n"));
    }
    md.push('\n');
    md
}

fn method(args: &Args) -> String {
    format!(
        "Method. For each backend and size a fresh database (a SQLite file in a temp dir, or a \
new PostgreSQL database, dropped afterwards) is migrated by the app and bulk-loaded by the \
tickets bench's loader (`bench/tickets/data.rs`: direct SQL; 5,000 customers, tickets over two \
years with about 5 history entries each, 10% of them from source `alert` with a host). Then, \
with multi-row INSERTs through the app's pool: {HOSTS_PER_CUSTOMER} hosts per customer in \
`customer_hosts` (name and address, 20,000 rows), one in ten customers on a `gold` SLA, one \
`alerts` row of the sustained source per alert-sourced ticket (up to {share}% of tickets; \
firing while its ticket is new/open/stalled, resolved otherwise), and one raw delivery \
(`alert_payloads`, ~0.9 KB, within the 30-day retention) per such alert; then ANALYZE. The \
app runs in the bench process as `opsdesk serve` builds it (`App::build` from a generated \
opsdesk.toml, default pool and job workers, system clock, a real TCP listener on \
127.0.0.1) with three Alertmanager sources, each with its own token, queue NOC (SLA \
`standard`), priority map critical=1/warning=3/info=4 and `auto_resolve = true`: \
`{SUSTAINED}` without storm detection (the sustained runs: at 20% new alerts, any threshold \
would turn the mix into storm joins within a second), `{STORM_SINGLE}` and `{STORM_BATCHED}` \
with `storm = {{ threshold = {STORM_THRESHOLD}, window = \"1m\" }}`, untouched before their run \
(fresh source state). Clients are reqwest, one connection each, on a tokio runtime of their own \
(2 threads) sharing the 2 cores with the app; each delivery is an Alertmanager v4 webhook \
(~0.9 KB per alert) with the source's bearer token, timed from send to the last byte of the \
202; a non-202 or a transport error counts as failed. Every body is distinct (a counter in \
`groupKey`), so none is taken as a redelivery.\n\n\
Sustained: {clients} clients post back to back for {secs} s; each alert is, at random, 20% a \
new identity (fingerprint), 60% a repeat of one of the client's firing alerts (same labels \
and startsAt), 20% a resolve of one of them (no client touches another's alerts; the firing \
ones of the preload are dealt out among the clients). 80% of new alerts name a customer's \
host (`instance` = host:9100; the host → customer lookup hits), 20% an unknown one; half the \
rules carry a `runbook_url`, the rest have the app look a runbook up in the wiki. First with \
1 alert per webhook (Alertmanager with `group_by: ['...']`), then {batch} per webhook, the \
firing set carried over; a 2 s warm-up of the mix before, 3 s pauses between phases. \
Alerts/s counts the alerts in answered deliveries over the wall time of the run. With \
`--rate R` the alerts are offered on a fixed schedule instead (R alerts/s: delivery n of all \
has its slot at n × alerts per webhook / R seconds) and each latency is counted from its slot, as wrk2 does, so a delivery \
sent late because the one before was slow counts the wait. With `--drop-stat4` (SQLite, an \
experiment) the STAT4 samples ANALYZE wrote are deleted before the app starts. Storm: \
{storm} new alerts (InterfaceDown on many hosts) from one fresh source, all bodies built \
before the clock starts, sent by {clients} clients pulling the next body as soon as they \
have an answer, one alert per webhook; then the same number in {hooks} webhooks sent at once. \
Tickets opened are counted twice: through the API (`GET /api/v1/tickets?query=Source = \
'alert'&exact_total=true` with an `api` token, total after − before) and in the database \
(distinct `ticket_id` of the source's alerts). Service time: `opsdesk::alerts::receive` \
called in the bench process with no other load, one delivery at a time, on the sustained \
source ({PROBE_EACH} new alerts, then a repeat of each, 100 deliveries of the last bytes again, \
the same alerts {batch} per webhook as repeats, then a resolve of each): the time one delivery \
holds the database (on SQLite, the single writer's turn), without HTTP and without queueing. \
Percentiles are nearest-rank; ✗ marks a target missed. CPU is user + system time of the bench \
process (app and clients, not the PostgreSQL server); peak RSS is VmHWM, reset before each \
phase.\n\n",
        share = args.alert_share,
        clients = args.clients,
        secs = args.secs,
        batch = args.batch,
        storm = thousands(args.storm as f64),
        hooks = args.storm_hooks,
    )
}

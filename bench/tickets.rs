//! Ticket-scale benchmark (issue 3): the JSON API at 10k, 100k and 1M tickets, on SQLite and
//! (when BENCH_PG_URL names a server whose user may CREATE DATABASE) on PostgreSQL.
//!
//! ```sh
//! cargo bench --bench tickets -- [--sizes 10000,100000,1000000] [--backends sqlite,postgres]
//!                                [--out FILE] [--create-secs 10] [--no-plans] [--keep DIR]
//!                                [--reuse]
//! ```
//!
//! For each backend and size: a fresh database (a SQLite file under one temp dir, or a new
//! PostgreSQL database) is migrated by the app, bulk-loaded with generated tickets through
//! direct SQL (`data.rs`), ANALYZEd; then the app runs in this process on a loopback port and
//! is measured over HTTP with an `api` token (`drive.rs`): ticket pages, TQL on indexed fields,
//! full text, list pages at several depths, and ticket creation by 8 concurrent clients. The
//! database is removed before the next size (`--keep DIR` keeps the SQLite files under DIR and
//! leaves the PostgreSQL databases in place, for EXPLAIN by hand). A Markdown section for
//! BENCHMARKS.md goes to stdout (and to --out); progress goes to stderr. `--reuse` (with
//! `--keep DIR`, SQLite) measures a database an earlier `--keep` run left under DIR again
//! instead of loading a new one, for trying a change at 1M tickets without the load (its
//! load figures then read 0, and each run's creation phase adds its tickets to it).

#[path = "shared/applog.rs"]
mod applog;
#[allow(dead_code)]
#[path = "shared/backends.rs"]
mod backends;
#[path = "shared/clients.rs"]
mod clients;
// Shared with the mail and IMAP benches, which load tickets with `load_some`.
#[allow(dead_code)]
#[path = "tickets/data.rs"]
mod data;
#[path = "tickets/drive.rs"]
mod drive;
#[path = "tickets/plans.rs"]
mod plans;
#[path = "tickets/sys.rs"]
mod sys;
#[path = "tickets/words.rs"]
mod words;

use applog::{app_errors, init_log};
use backends::size_label;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use opsdesk::app::App;
use opsdesk::auth::tokens::{self, Scope};
use opsdesk::clock::{Clock, SystemClock};
use opsdesk::db::{DatabaseUrl, Db};

use data::LoadStats;
use drive::{ListReq, Samples, Target, Throughput};

pub type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// The TQL mix on indexed fields (target p95 < 50 ms).
const TQL_MIX: [&str; 5] = [
    "Queue = 'Q7' AND Status = 'open'",
    "Owner = 'agent3' AND Status = '__Active__'",
    "Priority <= 2 AND Queue = 'Q3'",
    "Customer = 'C0042'",
    "Created > '-7 days' AND Queue = 'Q1'",
];

/// Full text on words and phrases of the generator's vocabulary (target p95 < 200 ms).
const FULL_TEXT: [&str; 6] = [
    "Subject LIKE 'latency'",
    "Subject LIKE 'BGP'",
    "Subject LIKE 'Prague'",
    "Content LIKE 'packet loss'",
    "Content LIKE 'rebooted the CPE'",
    "Content LIKE 'SFP module'",
];

/// The list page at depth (target p95 < 30 ms).
const DEPTH_QUERY: &str = "Queue = 'Q5'";
const DEPTH_ORDER: &str = "-updated";
const DEPTHS: [i64; 4] = [1, 10, 100, 1000];
/// The same depths reached the other way: following `next` cursors (keyset paging).
const KEYSET_DEPTHS: [i64; 3] = [10, 100, 1000];
const PER_PAGE: i64 = 50;
const WALK_BUDGET: Duration = Duration::from_secs(300);

const WARM_TICKETS: usize = 300;
const TICKET_REQUESTS: usize = 2000;
const TICKET_BUDGET: Duration = Duration::from_secs(90);
const TQL_REPS: usize = 50;
const FTS_REPS: usize = 30;
const DEPTH_REPS: usize = 40;
const MIN_REPS: usize = 5;
const BUDGET_EACH: Duration = Duration::from_secs(45);
const CLIENTS: usize = 8;

#[derive(Debug, Clone)]
enum Backend {
    Sqlite,
    Postgres(String),
}

impl Backend {
    fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres(_) => "PostgreSQL",
        }
    }
}

#[derive(Debug)]
struct Args {
    sizes: Vec<i64>,
    backends: Vec<Backend>,
    out: Option<PathBuf>,
    create_secs: u64,
    plans: bool,
    keep: Option<PathBuf>,
    reuse: bool,
}

const USAGE: &str = "usage: cargo bench --bench tickets -- [--sizes 10000,100000,1000000] \
                     [--backends sqlite,postgres] [--out FILE] [--create-secs 10] [--no-plans] [--keep DIR] \
                     [--reuse]";

fn parse_size(s: &str) -> Result<i64, String> {
    match backends::parse_count(s) {
        Ok(0) => Err(format!("\"{s}\" is not a ticket count")),
        n => n,
    }
}

impl Args {
    fn parse(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
        let pg = std::env::var("BENCH_PG_URL").ok().filter(|v| !v.is_empty());
        let mut a = Args {
            sizes: vec![10_000, 100_000],
            backends: vec![Backend::Sqlite],
            out: None,
            create_secs: 10,
            plans: true,
            keep: None,
            reuse: false,
        };
        if let Some(u) = &pg {
            a.backends.push(Backend::Postgres(u.clone()));
        }
        while let Some(arg) = it.next() {
            let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value\n{USAGE}"));
            match arg.as_str() {
                // cargo bench passes --bench to harness = false targets.
                "--bench" => {}
                "--sizes" => {
                    a.sizes = value("--sizes")?
                        .split(',')
                        .map(parse_size)
                        .collect::<Result<_, _>>()?;
                    a.sizes.sort_unstable();
                    a.sizes.dedup();
                }
                "--backends" => {
                    a.backends = Vec::new();
                    for b in value("--backends")?.split(',') {
                        match b.trim() {
                            "sqlite" => a.backends.push(Backend::Sqlite),
                            "postgres" | "postgresql" => match &pg {
                                Some(u) => a.backends.push(Backend::Postgres(u.clone())),
                                None => {
                                    return Err(
                                        "--backends postgres needs BENCH_PG_URL (a server \
                                                whose user may CREATE DATABASE)"
                                            .into(),
                                    );
                                }
                            },
                            other => return Err(format!("unknown backend \"{other}\"\n{USAGE}")),
                        }
                    }
                }
                "--out" => a.out = Some(PathBuf::from(value("--out")?)),
                "--create-secs" => {
                    a.create_secs = value("--create-secs")?
                        .parse()
                        .map_err(|_| "--create-secs takes whole seconds".to_owned())?;
                }
                "--no-plans" => a.plans = false,
                "--keep" => a.keep = Some(PathBuf::from(value("--keep")?)),
                "--reuse" => a.reuse = true,
                "-h" | "--help" => return Err(USAGE.into()),
                other => return Err(format!("unknown argument \"{other}\"\n{USAGE}")),
            }
        }
        if a.sizes.is_empty() || a.backends.is_empty() {
            return Err(USAGE.into());
        }
        Ok(a)
    }
}

fn main() -> ExitCode {
    sys::main_with("tickets", Args::parse(std::env::args().skip(1)), run)
}

/// Everything measured at one size.
#[derive(Debug, Default)]
struct SizeResult {
    load: LoadStats,
    db_mib: f64,
    version: String,
    ticket_page: Samples,
    tql: Vec<Samples>,
    fts: Vec<Samples>,
    depth: Vec<Samples>,
    /// Per KEYSET_DEPTHS entry; `None` where the list ends before that page.
    keyset: Vec<Option<Samples>>,
    create: Throughput,
    /// The machine's 1-minute load average before the reads and after the creation run.
    load_avg: (f64, f64),
    rss_load_mib: f64,
    /// Resident set when the reads start (includes what the allocator kept from earlier
    /// phases and sizes), and the peak from there to the end of the creation run.
    rss_serve_mib: (f64, f64),
    cpu_load_s: f64,
    cpu_read_s: f64,
    cpu_create_s: f64,
    read_secs: f64,
    plans: Option<String>,
    /// The app's own ERROR lines while this size ran: how many, and the first distinct ones.
    app_errors: (usize, Vec<String>),
}

async fn run(args: Args) -> Res<()> {
    let date = SystemClock.now().strftime("%Y-%m-%d").to_string();
    let tmp = tempfile::Builder::new()
        .prefix("opsdesk-bench-")
        .tempdir()?;
    let root = args.keep.clone().unwrap_or_else(|| tmp.path().to_owned());
    std::fs::create_dir_all(&root)?;
    let largest = args.sizes.iter().copied().max().unwrap_or(0);
    let log = init_log(tmp.path())?;
    let mut sections = String::new();
    let mut versions = Vec::new();
    for backend in &args.backends {
        let mut results: Vec<(i64, Result<SizeResult, String>)> = Vec::new();
        for &n in &args.sizes {
            eprintln!("== {} at {} tickets", backend.name(), n);
            let plans = args.plans && n == largest;
            let log_from = std::fs::metadata(&log).map_or(0, |m| m.len());
            let keep = args.keep.is_some();
            let reuse = keep && args.reuse;
            let mut r = one_size(backend, n, &root, args.create_secs, plans, keep, reuse)
                .await
                .map_err(|e| e.to_string());
            if let Ok(r) = &mut r {
                r.app_errors = app_errors(&log, log_from);
            }
            match &r {
                Ok(r) => {
                    eprintln!("   {}", summary(r));
                    if !versions.contains(&r.version) {
                        versions.push(r.version.clone());
                    }
                }
                Err(e) => eprintln!("   failed: {e}"),
            }
            results.push((n, r));
        }
        sections.push_str(&render_backend(backend, &results, args.create_secs));
    }
    let cmd = format!(
        "cargo bench --bench tickets -- --sizes {} --backends {}",
        args.sizes
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(","),
        args.backends
            .iter()
            .map(|b| match b {
                Backend::Sqlite => "sqlite",
                Backend::Postgres(_) => "postgres",
            })
            .collect::<Vec<_>>()
            .join(",")
    );
    let mut md = String::new();
    let _ = writeln!(md, "## Ticket scale (issue 3)\n");
    let _ = writeln!(
        md,
        "Measured {date} with `{cmd}`{}.\n",
        if args
            .backends
            .iter()
            .any(|b| matches!(b, Backend::Postgres(_)))
        {
            " (`BENCH_PG_URL` set)"
        } else {
            ""
        }
    );
    let _ = writeln!(md, "Machine: {}.", sys::machine());
    let _ = writeln!(md, "Databases: {}.\n", versions.join("; "));
    md.push_str(&method(args.create_secs));
    md.push_str(&sections);
    print!("{md}");
    if let Some(out) = &args.out {
        std::fs::write(out, &md)?;
        eprintln!("written to {}", out.display());
    }
    tmp.close()?;
    Ok(())
}

fn summary(r: &SizeResult) -> String {
    format!(
        "load {:.1} s ({:.0} tickets/s); ticket page p99 {}; create {:.0}/s",
        r.load.total_secs,
        r.load.tickets as f64 / r.load.total_secs.max(1e-9),
        ms(r.ticket_page.pct(99.0)),
        r.create.created as f64 / r.create.secs.max(1e-9)
    )
}

/// One backend at one size: a fresh database, loaded, measured, removed.
async fn one_size(
    backend: &Backend,
    n: i64,
    root: &Path,
    create_secs: u64,
    plans: bool,
    keep: bool,
    reuse: bool,
) -> Res<SizeResult> {
    let dir = root.join(format!("{}-{n}", backend.name().to_ascii_lowercase()));
    std::fs::create_dir_all(&dir)?;
    let r = match backend {
        Backend::Sqlite => {
            let file = dir.join("opsdesk.db");
            let url = format!("sqlite://{}", file.display());
            measure(&url, n, &dir, create_secs, plans, reuse && file.exists()).await
        }
        Backend::Postgres(admin) => {
            let name = format!(
                "opsdesk_bench_{}_{n}",
                hex::encode(rand::random::<[u8; 4]>())
            );
            let db = backends::PgDb::open(admin, name, true).await?;
            let r = measure(&db.url, n, &dir, create_secs, plans, false).await;
            db.close(keep).await;
            r
        }
    };
    if keep {
        eprintln!("   kept {}", dir.display());
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
    r
}

fn config_toml(url: &str) -> String {
    format!(
        "listen = \"127.0.0.1:0\"\ndatabase_url = \"{url}\"\nbase_url = \"http://127.0.0.1\"\n{}",
        data::queues_toml()
    )
}

fn list_reqs() -> (Vec<ListReq>, Vec<ListReq>, Vec<ListReq>) {
    let tql = TQL_MIX.iter().map(|q| ListReq::tql(q)).collect();
    let fts = FULL_TEXT.iter().map(|q| ListReq::tql(q)).collect();
    let depth = DEPTHS
        .iter()
        .map(|&p| ListReq {
            query: DEPTH_QUERY.into(),
            order: Some(DEPTH_ORDER),
            page: Some(p),
            per_page: Some(PER_PAGE),
            after: None,
        })
        .collect();
    (tql, fts, depth)
}

async fn measure(
    url: &str,
    n: i64,
    dir: &Path,
    create_secs: u64,
    plans: bool,
    reuse: bool,
) -> Res<SizeResult> {
    let mut r = SizeResult::default();
    let now = SystemClock.now();
    let db_url = DatabaseUrl::parse(url)?;

    // Load.
    sys::reset_peak();
    let cpu0 = sys::cpu_secs();
    if reuse {
        eprintln!("   reusing the database {}", db_url.expose());
    } else {
        r.load = data::load(&db_url, n, now.as_microsecond()).await?;
    }
    r.cpu_load_s = sys::cpu_secs() - cpu0;
    r.rss_load_mib = sys::peak_rss_mib();
    eprintln!(
        "   loaded {} tickets, {} transactions in {:.1} s",
        r.load.tickets, r.load.txns, r.load.total_secs
    );

    // The app, as `opsdesk serve` builds it, from a generated opsdesk.toml.
    let cfg_path = dir.join("opsdesk.toml");
    std::fs::write(&cfg_path, config_toml(url))?;
    let loaded = opsdesk::config::load(Some(&cfg_path)).map_err(|problems| {
        problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")
    })?;
    if loaded.config.database_url.expose() != url {
        return Err(
            "an OPSDESK_DATABASE_URL in the environment overrides the bench's database; unset it"
                .into(),
        );
    }
    let app = App::build(loaded.config, Arc::new(SystemClock), None).await?;
    let db = app.state.db.clone();
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
    // Unique: a reused database keeps the tokens of earlier runs.
    let token_name = format!("bench-{}", hex::encode(rand::random::<[u8; 4]>()));
    let mut tx = db.begin().await?;
    let token = tokens::create(&mut tx, &token_name, Scope::Api, None, SystemClock.now()).await?;
    tx.commit().await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let target = Target {
        base: format!("http://{}", listener.local_addr()?),
        token,
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run(listener, async move {
        let _ = stopped.await;
    }));

    let measured = drive_all(&mut r, &db, &target, n, create_secs, plans).await;
    let _ = stop.send(());
    server.await??;
    measured?;
    Ok(r)
}

async fn drive_all(
    r: &mut SizeResult,
    db: &Db,
    t: &Target,
    n: i64,
    create_secs: u64,
    plans: bool,
) -> Res<()> {
    let c = drive::client()?;
    let (tql, fts, depth) = list_reqs();

    // The cursors a client following `next` holds at each keyset depth, walked through the API.
    let base = ListReq {
        page: None,
        ..depth[0].clone()
    };
    let rows: Vec<i64> = KEYSET_DEPTHS.iter().map(|p| (p - 1) * PER_PAGE).collect();
    let cursors = drive::cursors(&c, t, &base, &rows, WALK_BUDGET).await;
    let keyset: Vec<(usize, ListReq)> = cursors
        .into_iter()
        .enumerate()
        .filter_map(|(i, cur)| {
            cur.map(|cur| {
                let r = ListReq {
                    after: Some(cur),
                    per_page: Some(PER_PAGE),
                    ..base.clone()
                };
                (i, r)
            })
        })
        .collect();
    let keyset_reqs: Vec<ListReq> = keyset.iter().map(|(_, r)| r.clone()).collect();
    let all: Vec<ListReq> = tql
        .iter()
        .chain(&fts)
        .chain(&depth)
        .chain(&keyset_reqs)
        .cloned()
        .collect();

    // Warm-up: caches, pool connections, prepared statements.
    let warm = drive::ticket_pages(&c, t, n, WARM_TICKETS, Duration::from_secs(30), 1).await;
    let warm_lists = drive::lists(&c, t, &all, 2, 1, Duration::from_secs(20)).await;
    if let Some(e) = warm
        .first_error
        .iter()
        .chain(warm_lists.iter().filter_map(|s| s.first_error.as_ref()))
        .next()
    {
        eprintln!("   warm-up saw an error: {e}");
    }

    sys::reset_peak();
    r.rss_serve_mib.0 = sys::rss_mib();
    r.load_avg.0 = sys::loadavg();
    let cpu0 = sys::cpu_secs();
    let t0 = std::time::Instant::now();
    r.ticket_page = drive::ticket_pages(&c, t, n, TICKET_REQUESTS, TICKET_BUDGET, 2).await;
    r.tql = drive::lists(&c, t, &tql, TQL_REPS, MIN_REPS, BUDGET_EACH).await;
    r.fts = drive::lists(&c, t, &fts, FTS_REPS, MIN_REPS, BUDGET_EACH).await;
    r.depth = drive::lists(&c, t, &depth, DEPTH_REPS, MIN_REPS, BUDGET_EACH).await;
    let measured = drive::lists(&c, t, &keyset_reqs, DEPTH_REPS, MIN_REPS, BUDGET_EACH).await;
    r.keyset = vec![None; KEYSET_DEPTHS.len()];
    for ((i, _), s) in keyset.iter().zip(measured) {
        r.keyset[*i] = Some(s);
    }
    r.read_secs = t0.elapsed().as_secs_f64();
    r.cpu_read_s = sys::cpu_secs() - cpu0;

    if plans {
        let mut labelled: Vec<(String, ListReq)> = tql
            .iter()
            .chain(&fts)
            .map(|q| {
                let label = format!("`{}` (order -updated, page 1, 50 per page)", q.query);
                (label, q.clone())
            })
            .collect();
        for q in &depth {
            let label = format!(
                "`{}` order `{}`, page {} by OFFSET ({} per page)",
                q.query,
                q.order.unwrap_or("-updated"),
                q.page.unwrap_or(1),
                q.per_page.unwrap_or(50)
            );
            labelled.push((label, q.clone()));
        }
        for (i, q) in &keyset {
            let label = format!(
                "`{}` order `{}`, page {} through an `after` cursor (keyset, {} per page)",
                q.query,
                q.order.unwrap_or("-updated"),
                KEYSET_DEPTHS.get(*i).copied().unwrap_or(0),
                q.per_page.unwrap_or(50)
            );
            labelled.push((label, q.clone()));
        }
        r.plans = Some(plans::explain(db, &labelled, SystemClock.now()).await?);
    }

    let cpu1 = sys::cpu_secs();
    r.create = drive::create_tickets(t, CLIENTS, Duration::from_secs(create_secs)).await?;
    r.cpu_create_s = sys::cpu_secs() - cpu1;
    r.rss_serve_mib.1 = sys::peak_rss_mib();
    r.load_avg.1 = sys::loadavg();
    Ok(())
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
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// "p50 / p95[ / p99]" with a ✗ when the target percentile misses, and notes for errors and
/// budget cuts.
fn lat(s: &Samples, p99: bool, target: Option<(f64, f64)>) -> String {
    let mut cell = format!("{} / {}", ms(s.pct(50.0)), ms(s.pct(95.0)));
    if p99 {
        cell.push_str(&format!(" / {}", ms(s.pct(99.0))));
    }
    if let Some((p, limit)) = target
        && s.pct(p).is_some_and(|v| v >= limit)
    {
        cell.push_str(" ✗");
    }
    if s.cut {
        cell.push_str(&format!(" (n={})", s.ms.len()));
    }
    if s.errors > 0 {
        cell.push_str(&format!(" [{} failed]", s.errors));
    }
    cell
}

fn render_backend(
    backend: &Backend,
    results: &[(i64, Result<SizeResult, String>)],
    create_secs: u64,
) -> String {
    let mut rows: Vec<(String, &str, Vec<String>)> = Vec::new();
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
        "load: tickets/s (total s)".into(),
        "",
        cells(&|r| {
            format!(
                "{}/s ({:.1} s)",
                thousands(r.load.tickets as f64 / r.load.total_secs.max(1e-9)),
                r.load.total_secs
            )
        }),
    ));
    rows.push((
        "load: rows / indexes / analyze, s".into(),
        "",
        cells(&|r| {
            format!(
                "{:.1} / {:.1} / {:.1}",
                r.load.rows_secs, r.load.index_secs, r.load.analyze_secs
            )
        }),
    ));
    rows.push((
        "rows: transactions / watchers / links".into(),
        "",
        cells(&|r| {
            format!(
                "{} / {} / {}",
                thousands(r.load.txns as f64),
                thousands(r.load.watchers as f64),
                thousands(r.load.links as f64)
            )
        }),
    ));
    rows.push((
        "database size, MiB".into(),
        "",
        cells(&|r| format!("{:.0}", r.db_mib)),
    ));
    rows.push((
        "ticket page `GET /api/v1/tickets/{id}`, p50 / p95 / p99 ms".into(),
        "p99 < 20",
        cells(&|r| lat(&r.ticket_page, true, Some((99.0, 20.0)))),
    ));
    for (i, q) in TQL_MIX.iter().enumerate() {
        rows.push((
            format!("TQL `{q}`, p50 / p95 ms"),
            "p95 < 50",
            cells(&|r| {
                r.tql
                    .get(i)
                    .map_or("–".into(), |s| lat(s, false, Some((95.0, 50.0))))
            }),
        ));
    }
    rows.push((
        "TQL mix, all of the above, p50 / p95 / p99 ms".into(),
        "p95 < 50",
        cells(&|r| {
            let mut all = Samples::default();
            for s in &r.tql {
                all.merge(s);
            }
            all.cut = false;
            lat(&all, true, Some((95.0, 50.0)))
        }),
    ));
    for (i, q) in FULL_TEXT.iter().enumerate() {
        rows.push((
            format!("full text `{q}`, p50 / p95 ms"),
            "p95 < 200",
            cells(&|r| {
                r.fts
                    .get(i)
                    .map_or("–".into(), |s| lat(s, false, Some((95.0, 200.0))))
            }),
        ));
    }
    for (i, p) in DEPTHS.iter().enumerate() {
        rows.push((
            format!(
                "list `{DEPTH_QUERY}` order {DEPTH_ORDER}, page {p} ({PER_PAGE} per page), p50 / p95 ms"
            ),
            "p95 < 30",
            cells(&|r| {
                r.depth
                    .get(i)
                    .map_or("–".into(), |s| lat(s, false, Some((95.0, 30.0))))
            }),
        ));
    }
    for (i, p) in KEYSET_DEPTHS.iter().enumerate() {
        rows.push((
            format!(
                "list `{DEPTH_QUERY}` order {DEPTH_ORDER}, page {p} through `after` cursors (keyset), p50 / p95 ms"
            ),
            "p95 < 30",
            cells(&|r| match r.keyset.get(i) {
                Some(Some(s)) => lat(s, false, Some((95.0, 30.0))),
                _ => "beyond the last page".into(),
            }),
        ));
    }
    rows.push((
        format!("create `POST /api/v1/tickets`, {CLIENTS} clients × {create_secs} s: tickets/s"),
        "> 1,000",
        cells(&|r| {
            let rate = r.create.created as f64 / r.create.secs.max(1e-9);
            let mut c = thousands(rate);
            if rate <= 1000.0 {
                c.push_str(" ✗");
            }
            if r.create.samples.errors > 0 {
                c.push_str(&format!(" [{} failed]", r.create.samples.errors));
            }
            c
        }),
    ));
    rows.push((
        "create latency, p50 / p95 / p99 ms".into(),
        "",
        cells(&|r| lat(&r.create.samples, true, None)),
    ));
    rows.push((
        "RSS of the process, MiB: load peak / serve start → peak".into(),
        "",
        cells(&|r| {
            format!(
                "{:.0} / {:.0} → {:.0}",
                r.rss_load_mib, r.rss_serve_mib.0, r.rss_serve_mib.1
            )
        }),
    ));
    rows.push((
        "CPU of the process, s: load / reads (wall s) / create".into(),
        "",
        cells(&|r| {
            format!(
                "{:.1} / {:.1} ({:.1}) / {:.1}",
                r.cpu_load_s, r.cpu_read_s, r.read_secs, r.cpu_create_s
            )
        }),
    ));
    rows.push((
        "machine load average (1 min): before reads / after create".into(),
        "",
        cells(&|r| format!("{:.2} / {:.2}", r.load_avg.0, r.load_avg.1)),
    ));

    let mut md = String::new();
    let _ = writeln!(md, "### {}\n", backend.name());
    let head: Vec<String> = results.iter().map(|(n, _)| size_label(*n)).collect();
    let _ = writeln!(md, "| measurement | target | {} |", head.join(" | "));
    let _ = writeln!(md, "|---|---|{}", "---|".repeat(head.len()));
    for (label, target, cells) in &rows {
        let _ = writeln!(md, "| {label} | {target} | {} |", cells.join(" | "));
    }

    // How many tickets each list request matched: context for the latencies.
    let _ = writeln!(
        md,
        "\nTickets matched (`total` of the answer) — context for the list rows:\n"
    );
    let _ = writeln!(md, "| query | {} |", head.join(" | "));
    let _ = writeln!(md, "|---|{}", "---|".repeat(head.len()));
    let queries: Vec<(&str, usize, bool)> = TQL_MIX
        .iter()
        .enumerate()
        .map(|(i, q)| (*q, i, false))
        .chain(FULL_TEXT.iter().enumerate().map(|(i, q)| (*q, i, true)))
        .collect();
    for (q, i, fts) in queries {
        let cells: Vec<String> = results
            .iter()
            .map(|(_, r)| {
                r.as_ref()
                    .ok()
                    .and_then(|r| if fts { r.fts.get(i) } else { r.tql.get(i) })
                    .and_then(|s| s.total)
                    .map_or("–".into(), |t| thousands(t as f64))
            })
            .collect();
        let _ = writeln!(md, "| `{q}` | {} |", cells.join(" | "));
    }
    let depth_cells: Vec<String> = results
        .iter()
        .map(|(_, r)| {
            r.as_ref()
                .ok()
                .and_then(|r| r.depth.first())
                .and_then(|s| s.total)
                .map_or("–".into(), |t| {
                    format!(
                        "{} ({} pages)",
                        thousands(t as f64),
                        (t + PER_PAGE - 1) / PER_PAGE
                    )
                })
        })
        .collect();
    let _ = writeln!(
        md,
        "| `{DEPTH_QUERY}` (list depth) | {} |",
        depth_cells.join(" | ")
    );

    // Failures, loudly.
    let mut failures = Vec::new();
    for (n, r) in results {
        match r {
            Err(e) => failures.push(format!("- {}: the run failed: {e}", size_label(*n))),
            Ok(r) => {
                let named = [
                    ("ticket page", &r.ticket_page),
                    ("create", &r.create.samples),
                ]
                .into_iter()
                .chain(r.tql.iter().map(|s| ("TQL", s)))
                .chain(r.fts.iter().map(|s| ("full text", s)))
                .chain(r.depth.iter().map(|s| ("list depth", s)))
                .chain(r.keyset.iter().flatten().map(|s| ("keyset page", s)));
                for (what, s) in named {
                    if let Some(e) = &s.first_error {
                        failures.push(format!(
                            "- {} {what}: {} failed; first: {e}",
                            size_label(*n),
                            s.errors
                        ));
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
        let _ = writeln!(md, "\nFailed requests:\n\n{}", failures.join("\n"));
    }
    let notes: Vec<&String> = results
        .iter()
        .filter_map(|(_, r)| r.as_ref().ok())
        .flat_map(|r| &r.load.notes)
        .collect();
    if let Some(first) = notes.first() {
        let _ = writeln!(md, "\nLoad: {first}.");
    }
    for (n, r) in results {
        if let Ok(SizeResult { plans: Some(p), .. }) = r {
            let _ = writeln!(
                md,
                "\n#### {} query plans at {} tickets\n\n{}",
                backend.name(),
                size_label(*n),
                if matches!(backend, Backend::Sqlite) {
                    "`EXPLAIN QUERY PLAN` of the statements the app runs for each list request (count, then page), with the same binds:\n"
                } else {
                    "`EXPLAIN (ANALYZE, BUFFERS)` of the statements the app runs for each list request (count, then page), with the same binds:\n"
                }
            );
            md.push_str(p);
        }
    }
    md.push('\n');
    md
}

fn method(create_secs: u64) -> String {
    let depths = DEPTHS
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "Method. For each backend and size a fresh database is created (a SQLite file under one \
temp dir, or a new PostgreSQL database), the app's own migrations run, and a generator writes \
the data with direct SQL: multi-row INSERTs in transactions of 5,000 tickets on SQLite \
(`synchronous=OFF` on the loading connection; the subject FTS5 table is filled by its \
trigger as rows go in, the per-ticket message documents are built once after the load, as \
migration 0004 builds them), COPY in rounds of 20,000 tickets on PostgreSQL. The \
secondary indexes of the ticket tables are read from the catalog, dropped before the load and \
recreated from their own definitions after it; then `ANALYZE` (SQLite) or `VACUUM (ANALYZE)` \
(PostgreSQL). Data: 20 queues Q0–Q19 (12% … 2.9% of tickets; Q5 has 7%), 5,000 customers \
C0000–C4999 with domains cNNNN.example (skewed: low numbers are the big accounts), 30 agents \
agent0–agent29 (skewed), tickets created evenly over the past two years (ids follow creation), \
mostly resolved (recent ones more often new/open/stalled), priorities 1–4 at 4/18/63/15%, \
sources email/web/api/alert at 60/20/10/10%, one requestor at the customer's domain (10% also a \
Cc), 3% with a link, and about 5 history entries each: create with a body, owner set, staff \
correspondence, status set to open, an internal comment (50%), a requestor reply (30%), the \
final status; bodies are 1–4 sentences from a small vocabulary of operator and customer text, \
subjects from 30 templates; the seed is fixed.\n\n\
The app then runs in the bench process as `opsdesk serve` builds it (`App::build` from a \
generated opsdesk.toml with the 20 `[[queue]]` tables and default pool and workers, the system \
clock, `App::run` on 127.0.0.1:0), and is driven over loopback with reqwest and an `api` \
token, each request timed from send to the last byte of the body, one request at a time \
except for creation. Warm-up: {WARM_TICKETS} ticket pages and every list request twice. Ticket \
page: {TICKET_REQUESTS} GETs of uniformly random ids. TQL, full text and list depth: the \
requests of each group round-robin, {TQL_REPS}, {FTS_REPS} and {DEPTH_REPS} times each \
(default order `-updated`, {PER_PAGE} per page; depth pages {depths} by `page`, i.e. OFFSET), a \
request repeated no further once it has used {budget} s (at least {MIN_REPS} times; `n=` marks \
a cut). Keyset depth: before the warm-up the list is walked through the API by its `next` \
cursors (500 rows per request, then 50) to get the cursor a client holds at pages {keyset}; \
then each such page is requested with `after` like the others. Creation: \
{CLIENTS} concurrent clients, each with its own connection, POST back to back for \
{create_secs} s; tickets/s counts 201s. Percentiles are nearest-rank; ✗ marks a target missed; \
`[k failed]` counts non-2xx answers and transport errors. The client runs on the same 2-core \
machine, so latencies include its share of the CPU; the creating clients run on a tokio runtime \
of their own (2 threads), as other processes would, the reads on the app's; CPU and peak \
RSS (VmHWM, reset with /proc/self/clear_refs before each phase, so a phase starts from the \
resident set the allocator kept from earlier ones) are of the bench process (app and client, \
not the PostgreSQL server). The machine's load average is shown because \
the 2 cores may be shared with other work during a run. The query plans at the largest size \
are of the statements the app runs for each list request, with the same binds.\n\n",
        budget = BUDGET_EACH.as_secs(),
        keyset = KEYSET_DEPTHS
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    )
}

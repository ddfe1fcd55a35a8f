//! Wiki store benchmark (issue 7): saves through `opsdesk::wiki::save`, and searches through
//! `opsdesk::wiki::search` alone and `opsdesk::search::search` (tickets + wiki, what
//! `/api/v1/search` runs), over P wiki pages and T tickets. Targets: save p95 < 20 ms; search
//! over 10k pages and 1M tickets p95 < 200 ms.
//!
//! ```sh
//! cargo bench --bench wiki_store -- [--pages 10000] [--tickets 1000000] [--runs 50]
//!                                   [--saves 1000] [--creates 200] [--pg URL] [--no-sqlite]
//!                                   [--out FILE]
//! ```
//!
//! For each backend (SQLite always unless `--no-sqlite`; PostgreSQL when `--pg` names a server
//! whose user may CREATE DATABASE) a fresh database is migrated by the app, the tickets are
//! bulk-loaded by the tickets bench's generator and loader (`tickets/data.rs`, direct SQL),
//! then P generated Markdown runbooks (2–20 KB, fixed seed) are written with direct SQL into
//! `wiki_pages` (on SQLite the FTS5 triggers of migration 0015 fill `wiki_fts` as rows go in),
//! each with one `wiki_revisions` row and its `wiki_links`. The measurements then call the
//! app's functions in this process, one at a time. A Markdown section for BENCHMARKS.md goes
//! to stdout (and to --out); progress goes to stderr.

#[allow(dead_code)]
#[path = "shared/backends.rs"]
mod backends;
// Shared with the tickets bench, which uses all of them.
#[allow(dead_code)]
#[path = "shared/clients.rs"]
mod clients;
#[allow(dead_code)]
#[path = "tickets/data.rs"]
mod data;
#[allow(dead_code)]
#[path = "tickets/drive.rs"]
mod drive;
#[allow(dead_code)]
#[path = "tickets/plans.rs"]
mod plans;
#[allow(dead_code)]
#[path = "tickets/sys.rs"]
mod sys;
#[allow(dead_code)]
#[path = "tickets/words.rs"]
mod words;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::AssertSqlSafe;

use opsdesk::clock::{Clock, SystemClock};
use opsdesk::db::{DatabaseUrl, Db, PoolOptions, Ts};
use opsdesk::wiki::{Found, Save, Visibility};

use drive::{ListReq, Samples};

pub type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Search texts: (text, what it is). The rare marker is in 5 pages (none in tickets), the
/// medium one is a site name (the page's own sites; also in ticket subjects), the common one is
/// a vocabulary word (most pages, many ticket notes); the 2-letter ones have no trigram to look
/// up (SQLite finds them through the index's term list, PostgreSQL walks the pages).
const TERMS: [(&str, &str); 6] = [
    ("zebrafish", "rare (marker in 5 pages)"),
    ("Prague", "medium (site name)"),
    ("interface", "common (vocabulary word)"),
    ("L2", "2 letters, ~10% of pages"),
    ("IP", "2 letters, common"),
    ("Zq", "2 letters, in no page (worst case)"),
];
const LIMIT: i64 = 20;
const WARM_RUNS: usize = 3;
const MIN_RUNS: usize = 5;
/// A search row stops repeating once it used this much time (at least MIN_RUNS times).
const BUDGET_EACH: Duration = Duration::from_secs(60);
const WARM_SAVES: usize = 20;
/// Pages loaded per write transaction, and per multi-row INSERT.
const PAGES_PER_TX: usize = 200;
const PAGES_PER_INSERT: usize = 25;
const DAY_US: i64 = 86_400_000_000;

#[derive(Debug)]
struct Args {
    pages: i64,
    tickets: i64,
    runs: usize,
    saves: usize,
    creates: usize,
    pg: Option<String>,
    sqlite: bool,
    out: Option<PathBuf>,
    /// Keep the SQLite database in this folder (loaded, before the saves).
    keep: Option<PathBuf>,
    /// Skip the load: copy the database `--keep` left in this folder and measure on the copy.
    reuse: Option<PathBuf>,
    /// PostgreSQL: measure on this database, loaded by an interrupted earlier run (its name is
    /// printed at the start), without loading it and without dropping it.
    pg_db: Option<String>,
    search: bool,
    stale_fts_stats: bool,
}

const USAGE: &str = "usage: cargo bench --bench wiki_store -- [--pages 10000] [--tickets 1000000] \
                     [--runs 50] [--saves 1000] [--creates 200] [--pg URL] [--no-sqlite] [--out FILE] \
                     [--keep DIR | --reuse DIR] [--pg-db NAME] [--no-search] [--stale-fts-stats]";

fn parse_count(s: &str) -> Result<i64, String> {
    backends::parse_count(s).map_err(|e| format!("{e}\n{USAGE}"))
}

impl Args {
    fn parse(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
        let mut a = Args {
            pages: 10_000,
            tickets: 1_000_000,
            runs: 50,
            saves: 1000,
            creates: 200,
            pg: None,
            sqlite: true,
            out: None,
            keep: None,
            reuse: None,
            pg_db: None,
            search: true,
            stale_fts_stats: false,
        };
        while let Some(arg) = it.next() {
            let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value\n{USAGE}"));
            match arg.as_str() {
                // cargo bench passes --bench to harness = false targets.
                "--bench" => {}
                "--pages" => a.pages = parse_count(&value("--pages")?)?,
                "--tickets" => a.tickets = parse_count(&value("--tickets")?)?,
                "--runs" => a.runs = parse_count(&value("--runs")?)? as usize,
                "--saves" => a.saves = parse_count(&value("--saves")?)? as usize,
                "--creates" => a.creates = parse_count(&value("--creates")?)? as usize,
                "--pg" => a.pg = Some(value("--pg")?).filter(|v| !v.is_empty()),
                "--no-sqlite" => a.sqlite = false,
                "--out" => a.out = Some(PathBuf::from(value("--out")?)),
                "--keep" => a.keep = Some(PathBuf::from(value("--keep")?)),
                "--reuse" => a.reuse = Some(PathBuf::from(value("--reuse")?)),
                "--pg-db" => a.pg_db = Some(value("--pg-db")?),
                "--no-search" => a.search = false,
                "--stale-fts-stats" => a.stale_fts_stats = true,
                "-h" | "--help" => return Err(USAGE.into()),
                other => return Err(format!("unknown argument \"{other}\"\n{USAGE}")),
            }
        }
        if a.pages < 1 || a.runs < 1 || (!a.sqlite && a.pg.is_none()) {
            return Err(USAGE.into());
        }
        Ok(a)
    }
}

fn main() -> std::process::ExitCode {
    sys::main_with("wiki_store", Args::parse(std::env::args().skip(1)), run)
}

fn loadavg_line() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "unknown".into())
}

async fn run(args: Args) -> Res<()> {
    let date = SystemClock.now().strftime("%Y-%m-%d").to_string();
    let mut md = String::new();
    let _ = writeln!(md, "## Wiki saves and search (issue 7)\n");
    let _ = writeln!(
        md,
        "Measured {date} with `cargo bench --bench wiki_store -- --pages {} --tickets {} --runs {} \
         --saves {} --creates {}{}{}{}{}`.\n",
        args.pages,
        args.tickets,
        args.runs,
        args.saves,
        args.creates,
        if args.pg.is_some() { " --pg URL" } else { "" },
        if args.sqlite { "" } else { " --no-sqlite" },
        if args.stale_fts_stats {
            " --stale-fts-stats"
        } else {
            ""
        },
        if args.reuse.is_some() {
            " --reuse DIR (load figures not measured in this run)"
        } else {
            ""
        },
    );
    let _ = writeln!(md, "Machine: {}.", sys::machine());
    let _ = writeln!(
        md,
        "Load average at start (/proc/loadavg): `{}`.\n",
        loadavg_line()
    );
    md.push_str(&method(&args));

    if args.sqlite {
        let tmp = tempfile::Builder::new()
            .prefix("opsdesk-wiki-bench-")
            .tempdir()?;
        let url = format!("sqlite://{}", tmp.path().join("opsdesk.db").display());
        if let Some(from) = &args.reuse {
            // `--keep` leaves the files checkpointed (no WAL).
            eprintln!("== SQLite: copying the database in {}", from.display());
            copy_sqlite(from, tmp.path())?;
        }
        eprintln!("== SQLite: {} pages, {} tickets", args.pages, args.tickets);
        let r = one(&url, &args, Some(tmp.path())).await;
        md.push_str(&render("SQLite", &args, r));
        tmp.close()?;
    }
    if let Some(admin) = &args.pg {
        let name = match &args.pg_db {
            Some(n) => n.clone(),
            None => format!(
                "opsdesk_bench_wiki_{}",
                hex::encode(rand::random::<[u8; 4]>())
            ),
        };
        eprintln!(
            "== PostgreSQL ({name}): {} pages, {} tickets",
            args.pages, args.tickets
        );
        // A database named by --pg-db is used as it is, and kept.
        let db = backends::PgDb::open(admin, name, args.pg_db.is_none()).await?;
        let r = one(&db.url, &args, None).await;
        md.push_str(&render("PostgreSQL", &args, r));
        db.close(args.pg_db.is_some()).await;
    }
    let _ = writeln!(md, "Load average at the end: `{}`.", loadavg_line());
    print!("{md}");
    if let Some(out) = &args.out {
        std::fs::write(out, &md)?;
        eprintln!("written to {}", out.display());
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// One backend.

#[derive(Debug, Default)]
struct Report {
    version: String,
    ticket_load: data::LoadStats,
    wiki_secs: f64,
    wiki_analyze_secs: f64,
    wiki_bytes: usize,
    revisions: i64,
    links: i64,
    db_mib: Option<f64>,
    edits: Samples,
    /// The commit's share of each edit.
    edit_commits: Samples,
    creates: Samples,
    edit_bytes: (usize, usize),
    loadavg_saves: String,
    /// Per term: the pages holding it (counted apart), and the two measurements.
    terms: Vec<TermResult>,
    loadavg_search: String,
    plans: String,
}

#[derive(Debug, Default)]
struct TermResult {
    matching_pages: i64,
    wiki: Samples,
    wiki_returned: usize,
    all: Samples,
    /// (tickets total, whether exact, wiki hits) of the combined search.
    all_found: (i64, bool, usize),
}

async fn one(url: &str, args: &Args, dir: Option<&Path>) -> Res<Report> {
    let mut r = Report::default();
    let db_url = DatabaseUrl::parse(url)?;
    let now_us = SystemClock.now().as_microsecond();

    let reused = (dir.is_some() && args.reuse.is_some()) || (dir.is_none() && args.pg_db.is_some());
    let db;
    let pages;
    if reused {
        db = Db::connect(&db_url, PoolOptions::default()).await?;
        pages = reuse(&db, &mut r).await?;
        analyze_wiki(&db, args.stale_fts_stats).await?;
        eprintln!("   reused {} pages", pages.len());
    } else {
        // Tickets (migrates the database first).
        r.ticket_load = data::load(&db_url, args.tickets, now_us).await?;
        eprintln!(
            "   tickets loaded in {:.1} s (rows {:.1}, indexes {:.1}, analyze {:.1})",
            r.ticket_load.total_secs,
            r.ticket_load.rows_secs,
            r.ticket_load.index_secs,
            r.ticket_load.analyze_secs
        );
        if dir.is_some() && !args.stale_fts_stats {
            forget_fts_stats(url).await?;
        }
        db = Db::connect(&db_url, PoolOptions::default()).await?;
        pages = load_wiki(&db, args.pages, now_us, args.stale_fts_stats, &mut r).await?;
        eprintln!(
            "   {} wiki pages ({:.0} MiB of Markdown) loaded in {:.1} s, analyzed in {:.1} s",
            pages.len(),
            r.wiki_bytes as f64 / 1048576.0,
            r.wiki_secs,
            r.wiki_analyze_secs
        );
        if let (Some(keep), Some(dir)) = (&args.keep, dir) {
            db.close().await;
            std::fs::create_dir_all(keep)?;
            copy_sqlite(dir, keep)?;
            eprintln!("   kept a copy in {}", keep.display());
            let db2 = Db::connect(&db_url, PoolOptions::default()).await?;
            return finish(db2, pages, args, dir, r).await;
        }
    }
    finish(db, pages, args, dir.unwrap_or(Path::new(".")), r).await
}

/// The saves and searches on a loaded database.
async fn finish(
    db: Db,
    pages: Vec<PageMeta>,
    args: &Args,
    dir: &Path,
    mut r: Report,
) -> Res<Report> {
    r.version = backends::version(&db).await?;
    if matches!(db, Db::Sqlite(_)) {
        r.db_mib = Some(sys::disk_mib(dir));
    }

    r.loadavg_saves = loadavg_line();
    saves(&db, &pages, args, &mut r).await?;
    eprintln!(
        "   saves: edit p95 {} ms, create p95 {} ms",
        ms(r.edits.pct(95.0)),
        ms(r.creates.pct(95.0))
    );

    // What the server's index task does within a quarter second of the saves: on PostgreSQL
    // it files the saved pages in the pair index of two-character searches (migration 0021),
    // which this bench runs no task for. Searches would find them meanwhile, by reading each.
    opsdesk::search::index::catch_up(&db).await?;
    r.loadavg_search = loadavg_line();
    if !args.search {
        db.close().await;
        return Ok(r);
    }
    let now = SystemClock.now();
    for (term, _) in TERMS {
        let t = search_term(&db, term, args.runs, now).await?;
        eprintln!(
            "   search {term:?}: wiki p95 {} ms, tickets+wiki p95 {} ms",
            ms(t.wiki.pct(95.0)),
            ms(t.all.pct(95.0))
        );
        r.terms.push(t);
    }
    r.plans = explain_all(&db, now).await?;
    db.close().await;
    Ok(r)
}

// ---------------------------------------------------------------------------------------------
// The wiki generator: Markdown runbooks from a fixed seed.

const VOCAB: &[&str] = &[
    "check",
    "the",
    "session",
    "on",
    "core",
    "router",
    "uplink",
    "carrier",
    "ticket",
    "customer",
    "latency",
    "packet",
    "loss",
    "prefix",
    "neighbour",
    "state",
    "log",
    "alarm",
    "interface",
    "optics",
    "power",
    "rack",
    "feed",
    "cooling",
    "mail",
    "queue",
    "disk",
    "backup",
    "restore",
    "before",
    "after",
    "while",
    "then",
    "and",
    "if",
    "not",
    "every",
    "minute",
    "window",
    "a",
    "to",
    "of",
    "in",
    "is",
    "for",
    "with",
    "that",
    "it",
    "be",
    "are",
    "from",
    "at",
    "or",
    "this",
    "by",
    "should",
    "must",
    "can",
    "will",
    "when",
    "only",
    "all",
    "no",
    "any",
    "first",
    "again",
    "link",
    "port",
    "switch",
    "module",
    "transceiver",
    "fibre",
    "patch",
    "panel",
    "cross-connect",
    "vendor",
    "engineer",
    "on-call",
    "shift",
    "handover",
    "escalate",
    "confirm",
    "verify",
    "reload",
    "reboot",
    "drain",
    "traffic",
    "peer",
    "route",
    "announce",
    "withdraw",
    "filter",
    "community",
    "policy",
    "session",
    "timer",
    "hold",
    "keepalive",
    "flap",
    "dampening",
    "counter",
    "errors",
    "CRC",
    "light",
    "level",
    "dBm",
    "threshold",
    "graph",
    "dashboard",
    "metric",
    "alert",
    "silence",
    "maintenance",
    "change",
    "request",
    "approval",
    "window",
    "rollback",
    "plan",
    "step",
    "note",
    "warning",
    "critical",
    "impact",
    "service",
    "customers",
    "affected",
    "outage",
    "partial",
    "degraded",
    "redundant",
    "path",
    "primary",
    "secondary",
    "standby",
    "failover",
    "VRRP",
    "LACP",
    "bundle",
    "member",
    "VLAN",
    "trunk",
    "access",
    "tagged",
    "MTU",
    "jumbo",
    "frames",
    "OSPF",
    "area",
    "cost",
    "adjacency",
    "DNS",
    "resolver",
    "zone",
    "record",
    "TTL",
    "cache",
    "flush",
    "postfix",
    "spool",
    "deferred",
    "bounce",
    "relay",
    "spam",
    "blocklist",
    "certificate",
    "renew",
    "expiry",
    "chain",
    "hosting",
    "server",
    "virtual",
    "machine",
    "hypervisor",
    "storage",
    "volume",
    "snapshot",
    "quota",
    "inode",
    "filesystem",
    "mount",
    "RAID",
    "rebuild",
    "spare",
    "controller",
    "firmware",
    "upgrade",
    "downgrade",
    "release",
    "version",
    "ticket",
    "reference",
    "contract",
    "SLA",
    "response",
    "resolution",
    "deadline",
    "priority",
    "severity",
    "incident",
    "problem",
    "root",
    "cause",
    "timeline",
    "report",
    "postmortem",
    "owner",
    "team",
    "NOC",
    "support",
    "field",
    "technician",
    "visit",
    "site",
    "access",
    "badge",
    "escort",
    "data",
    "centre",
    "cage",
    "generator",
    "UPS",
    "battery",
    "breaker",
    "PDU",
    "phase",
    "load",
    "amps",
    "temperature",
    "humidity",
    "sensor",
    "airflow",
    "hot",
    "cold",
    "aisle",
    "ping",
    "traceroute",
    "hop",
    "jitter",
    "throughput",
    "bandwidth",
    "saturation",
    "peak",
    "hours",
    "evening",
    "morning",
    "weekend",
    "holiday",
    "vendor",
    "case",
    "RMA",
    "replacement",
    "courier",
    "spares",
    "inventory",
    "serial",
    "number",
    "label",
    "document",
    "update",
    "runbook",
    "wiki",
    "page",
    "IP",
    "IPv6",
    "address",
    "gateway",
];

const TOPICS: &[&str] = &[
    "BGP session down",
    "Packet loss on uplink",
    "Fibre cut",
    "Power feed lost",
    "Mail queue growing",
    "Disk full on hosting node",
    "Certificate expiry",
    "DNS resolver slow",
    "DDoS mitigation",
    "VoIP trunk choppy",
    "Core router reload",
    "Optics replacement",
    "OLT alarm",
    "Backup job failed",
    "VPN tunnel flapping",
    "Peering maintenance",
    "Customer onboarding",
    "Carrier escalation",
    "Rack power budget",
    "Cooling alarm",
    "RAID rebuild",
    "Hypervisor evacuation",
    "Spam blocklist removal",
    "OSPF adjacency lost",
];

const SECTIONS: &[&str] = &[
    "Runbooks",
    "Network",
    "Hosting",
    "Mail",
    "Voice",
    "Customers",
    "Escalation",
    "Howto",
];

const HEADS: &[&str] = &[
    "Symptoms",
    "Impact",
    "Checks",
    "Fix",
    "Escalation",
    "Related alerts",
    "Rollback",
    "Notes",
    "Contacts",
    "History",
];

const SITE_CODES: &[&str] = &[
    "ams", "fra", "zrh", "vie", "lys", "mil", "osl", "prg", "waw", "bru", "lis", "dub", "mad",
    "hel", "cph", "bud",
];

const COMMANDS: &[&str] = &[
    "show bgp summary",
    "show interfaces {host} extensive",
    "show log messages | last 200",
    "ping -c 100 -s 1472 {host}",
    "traceroute -n {host}",
    "mailq | tail -1",
    "df -h /var",
    "systemctl restart postfix",
    "clear bgp neighbor {host} soft",
    "show chassis alarms",
    "show optics detail",
    "zpool status -x",
];

/// One page's facts the generator and the savers need.
#[derive(Debug, Clone)]
struct PageMeta {
    path: String,
    bytes: usize,
}

struct WikiGen {
    rng: StdRng,
    paths: Vec<String>,
    n: i64,
}

struct GenPage {
    id: i64,
    path: String,
    title: String,
    body: String,
    public: bool,
    created_at: i64,
    updated_at: i64,
    links: Vec<String>,
}

impl WikiGen {
    fn new(n: i64, seed: u64) -> WikiGen {
        WikiGen {
            rng: StdRng::seed_from_u64(seed),
            paths: Vec::new(),
            n,
        }
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.rng.random_range(0..items.len())]
    }

    /// A page's own sites: the one of its title and maybe a second (index into SITES).
    fn sites(&mut self) -> Vec<usize> {
        let first = self.rng.random_range(0..words::SITES.len());
        let mut v = vec![first];
        if self.rng.random_bool(0.3) {
            v.push(self.rng.random_range(0..words::SITES.len()));
        }
        v
    }

    fn host(&mut self, sites: &[usize]) -> String {
        let kind = self.pick(&["core", "edge", "bgp", "mx", "agg", "dist", "olt", "hv"]);
        let s = sites[self.rng.random_range(0..sites.len())];
        format!(
            "{kind}{}.{}.isp.example",
            self.rng.random_range(1..9),
            SITE_CODES[s % SITE_CODES.len()]
        )
    }

    fn sentence(&mut self, sites: &[usize], out: &mut String) {
        let n = self.rng.random_range(8..19);
        for i in 0..n {
            if i > 0 {
                out.push(' ');
            }
            let x: f64 = self.rng.random();
            let w = if x < 0.03 {
                words::SITES[sites[self.rng.random_range(0..sites.len())]].to_owned()
            } else if x < 0.05 {
                format!("`{}`", self.host(sites))
            } else if x < 0.06 {
                format!("#{}", self.rng.random_range(1000..999_999))
            } else {
                self.pick(VOCAB).to_owned()
            };
            if i == 0 {
                let mut c = w.chars();
                if let Some(f) = c.next() {
                    out.extend(f.to_uppercase());
                    out.push_str(c.as_str());
                }
            } else {
                out.push_str(&w);
            }
        }
        out.push('.');
    }

    fn paragraph(&mut self, sites: &[usize], out: &mut String) {
        let n = self.rng.random_range(2..7);
        for i in 0..n {
            if i > 0 {
                out.push(' ');
            }
            self.sentence(sites, out);
        }
        out.push_str("\n\n");
    }

    fn command(&mut self, sites: &[usize]) -> String {
        let c = self.pick(COMMANDS);
        let h = self.host(sites);
        c.replace("{host}", &h)
    }

    fn block(&mut self, sites: &[usize], heading: &str, out: &mut String) {
        match self.rng.random_range(0..10) {
            0..=3 => self.paragraph(sites, out),
            4 | 5 => {
                for i in 1..=self.rng.random_range(3..9) {
                    let _ = write!(out, "{i}. ");
                    if self.rng.random_bool(0.5) {
                        let c = self.command(sites);
                        let _ = write!(out, "Run `{c}` — ");
                    }
                    self.sentence(sites, out);
                    out.push('\n');
                }
                out.push('\n');
            }
            6 => {
                out.push_str("```text\n");
                let c = self.command(sites);
                let _ = writeln!(out, "$ {c}");
                for _ in 0..self.rng.random_range(3..11) {
                    let h = self.host(sites);
                    let _ = writeln!(
                        out,
                        "xe-0/0/{:<3} up    up    {:>6} pps  {:>3} errors  to {h}",
                        self.rng.random_range(0..48),
                        self.rng.random_range(0..900_000),
                        self.rng.random_range(0..200),
                    );
                }
                out.push_str("```\n\n");
            }
            7 => {
                out.push_str("| Step | Who | Within |\n|---|---|---|\n");
                for _ in 0..self.rng.random_range(3..7) {
                    let mut s = String::new();
                    self.sentence(sites, &mut s);
                    let who = self.pick(&["NOC", "on-call", "field engineer", "carrier", "vendor"]);
                    let _ = writeln!(
                        out,
                        "| {s} | {who} | {} min |",
                        self.rng.random_range(5..120)
                    );
                }
                out.push('\n');
            }
            _ => {
                for _ in 0..self.rng.random_range(2..6) {
                    out.push_str("- ");
                    if !self.paths.is_empty() && self.rng.random_bool(0.5) {
                        let p = self.paths[self.rng.random_range(0..self.paths.len())].clone();
                        let _ = write!(out, "See [[{p}]] for {heading}: ");
                    }
                    self.sentence(sites, out);
                    out.push('\n');
                }
                out.push('\n');
            }
        }
    }

    /// A runbook of about `target` bytes.
    fn body(&mut self, title: &str, sites: &[usize], target: usize) -> String {
        let mut out = String::with_capacity(target + 2048);
        let _ = write!(
            out,
            "# {title}\n\nOwner: NOC team · Applies to: {}\n\n",
            sites
                .iter()
                .map(|s| words::SITES[*s])
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut h = 0;
        while out.len() < target {
            let head = HEADS[h % HEADS.len()];
            if h < HEADS.len() {
                let _ = write!(out, "## {head}\n\n");
            } else {
                let _ = write!(out, "## {head} ({})\n\n", h / HEADS.len() + 1);
            }
            for _ in 0..self.rng.random_range(1..4) {
                self.block(sites, head, &mut out);
            }
            h += 1;
        }
        out
    }

    /// Puts `sentence` in its own paragraph at a random paragraph break (not inside a fence).
    fn insert_sentence(&mut self, body: &mut String, sentence: &str) {
        let breaks: Vec<usize> = body
            .match_indices("\n\n")
            .map(|(i, _)| i + 2)
            .filter(|&i| {
                body[..i].matches("```").count().is_multiple_of(2) && !body[i..].starts_with('|')
            })
            .collect();
        let at = if breaks.is_empty() {
            body.len()
        } else {
            breaks[self.rng.random_range(0..breaks.len())]
        };
        body.insert_str(at, &format!("{sentence}\n\n"));
    }

    fn page(&mut self, id: i64, now_us: i64, target: usize) -> Res<GenPage> {
        let sites = self.sites();
        let topic = self.pick(TOPICS);
        let title = format!("{topic} at {}", words::SITES[sites[0]]);
        let section = self.pick(SECTIONS);
        // The path names the topic, not the site, so links to other pages do not spread the
        // site names (a search text below) over every page.
        let path = opsdesk::wiki::page_path(&format!("{section}/{topic} {id}"))?;
        let mut body = self.body(&title, &sites, target);
        // Markers: the rare word in 5 pages whatever P is, "L2" in about 10%.
        let every = (self.n / 5).max(1);
        if id % every == 17 % every {
            self.insert_sentence(
                &mut body,
                "The zebrafish label marks the spare patch panel in the meet-me room.",
            );
        }
        if self.rng.random_bool(0.1) {
            self.insert_sentence(
                &mut body,
                "Check the L2 path through the aggregation switch before touching the routers.",
            );
        }
        let created_at = now_us - self.rng.random_range(DAY_US..730 * DAY_US);
        let updated_at = created_at + self.rng.random_range(0..(now_us - created_at).max(1));
        let links = opsdesk::wiki::render::wiki_links(&body);
        self.paths.push(path.clone());
        Ok(GenPage {
            id,
            path,
            title,
            body,
            public: self.rng.random_bool(0.2),
            created_at,
            updated_at,
            links,
        })
    }
}

fn ts(us: i64) -> Res<Ts> {
    Ok(Ts(Timestamp::from_microsecond(us)?))
}

fn values(rows: usize, cols: usize) -> String {
    (0..rows)
        .map(|r| {
            let p: Vec<String> = (1..=cols).map(|c| format!("${}", r * cols + c)).collect();
            format!("({})", p.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// P pages through direct SQL in transactions of PAGES_PER_TX pages: the rows (the FTS5
/// triggers index them on SQLite; PostgreSQL's trigram GIN indexes are kept by the INSERT),
/// one revision each, and the links.
async fn load_wiki(
    db: &Db,
    n: i64,
    now_us: i64,
    stale_fts_stats: bool,
    r: &mut Report,
) -> Res<Vec<PageMeta>> {
    let t0 = Instant::now();
    let mut g = WikiGen::new(n, 0x5717_1c0d);
    // Sizes: uniform over 2–20 KB (the 200 creates of the save phase use their own stream).
    let mut sizes = StdRng::seed_from_u64(0x0005_17e5);
    let mut meta = Vec::with_capacity(n as usize);
    let mut next = 1i64;
    while next <= n {
        let last = (next + PAGES_PER_TX as i64 - 1).min(n);
        let mut batch = Vec::with_capacity(PAGES_PER_TX);
        for id in next..=last {
            let target = sizes.random_range(2048..20 * 1024);
            batch.push(g.page(id, now_us, target)?);
        }
        let mut tx = db.begin().await?;
        for part in batch.chunks(PAGES_PER_INSERT) {
            let sql = format!(
                "INSERT INTO wiki_pages (id, path, title, body, revision, visibility, created_at, \
                 updated_at, updated_by) VALUES {}",
                values(part.len(), 9)
            );
            let mut binds = Vec::with_capacity(part.len());
            for p in part {
                binds.push((ts(p.created_at)?, ts(p.updated_at)?));
            }
            opsdesk::on_tx!(&mut tx, |c| {
                let mut q = sqlx::query(AssertSqlSafe(sql.clone()));
                for (p, (created, updated)) in part.iter().zip(&binds) {
                    q = q
                        .bind(p.id)
                        .bind(p.path.clone())
                        .bind(p.title.clone())
                        .bind(p.body.clone())
                        .bind(1i64)
                        .bind(if p.public { "public" } else { "internal" })
                        .bind(*created)
                        .bind(*updated)
                        .bind(format!("agent{}", p.id % 30));
                }
                q.execute(c).await?;
            });
        }
        opsdesk::on_tx!(&mut tx, |c| {
            sqlx::query(
                "INSERT INTO wiki_revisions (page_id, revision, title, body, author, comment, \
                 created_at) SELECT id, revision, title, body, updated_by, 'Imported', updated_at \
                 FROM wiki_pages WHERE id >= $1 AND id <= $2",
            )
            .bind(next)
            .bind(last)
            .execute(c)
            .await?;
        });
        let links: Vec<(i64, &String)> = batch
            .iter()
            .flat_map(|p| p.links.iter().map(move |l| (p.id, l)))
            .collect();
        for part in links.chunks(500) {
            let sql = format!(
                "INSERT INTO wiki_links (page_id, target) VALUES {} ON CONFLICT DO NOTHING",
                values(part.len(), 2)
            );
            opsdesk::on_tx!(&mut tx, |c| {
                let mut q = sqlx::query(AssertSqlSafe(sql.clone()));
                for (id, t) in part {
                    q = q.bind(*id).bind((*t).clone());
                }
                q.execute(c).await?;
            });
        }
        tx.commit().await?;
        for p in batch {
            r.wiki_bytes += p.body.len();
            r.links += p.links.len() as i64;
            r.revisions += 1;
            meta.push(PageMeta {
                path: p.path,
                bytes: p.body.len(),
            });
        }
        if n >= 1000 && (last * 10 / n) > ((next - 1) * 10 / n) {
            eprintln!(
                "   wiki: {last}/{n} pages ({:.0} pages/s)",
                last as f64 / t0.elapsed().as_secs_f64().max(1e-9)
            );
        }
        next = last + 1;
    }
    r.wiki_secs = t0.elapsed().as_secs_f64();

    let t1 = Instant::now();
    match db {
        Db::Sqlite(p) => {
            analyze_wiki(db, stale_fts_stats).await?;
            let mut w = p.write_conn().await?;
            sqlx::raw_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&mut *w)
                .await?;
        }
        Db::Postgres(p) => {
            sqlx::raw_sql(
                "SELECT setval(pg_get_serial_sequence('wiki_pages', 'id'), \
                 (SELECT max(id) FROM wiki_pages))",
            )
            .execute(p)
            .await?;
            // The pages as the server's index task files them in the pair index of
            // two-character searches (migration 0021): the inserts queued them.
            opsdesk::search::index::catch_up(db).await?;
            sqlx::raw_sql(
                "VACUUM (ANALYZE) wiki_pages, wiki_revisions, wiki_links, wiki_page_pairs, \
                 text_pairs_pending",
            )
            .execute(p)
            .await?;
        }
    }
    r.wiki_analyze_secs = t1.elapsed().as_secs_f64();
    Ok(meta)
}

/// Drops what the tickets loader's ANALYZE recorded of the (then nearly empty) FTS5 shadow
/// tables of `wiki_fts`, before the app's connections open and load the statistics: with
/// `wiki_fts_data` at 2 rows the planner scans that whole table for FTS5's
/// `DELETE … WHERE id>=? AND id<=?`, which each merge step of the index runs, and the load
/// slows down as the index grows. Without a statistic it takes the rowid range.
async fn forget_fts_stats(url: &str) -> Res<()> {
    use sqlx::Connection;
    let mut c = sqlx::SqliteConnection::connect(url).await?;
    let has_stats: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1')",
    )
    .fetch_one(&mut c)
    .await?;
    if has_stats {
        sqlx::query("DELETE FROM sqlite_stat1 WHERE tbl LIKE 'wiki_fts%'")
            .execute(&mut c)
            .await?;
    }
    c.close().await?;
    Ok(())
}

/// ANALYZE of the wiki's tables and, unless `stale`, of the FTS5 shadow tables of `wiki_fts`
/// too. The tickets loader analyzed the whole database before the wiki was loaded, when
/// `wiki_fts_data` held 2 rows; with that statistic left in place the planner scans the whole
/// of `wiki_fts_data` for FTS5's own `DELETE … WHERE id>=? AND id<=?` (see the plans), which
/// every merge step of the index runs (`--stale-fts-stats` keeps it, to show the effect).
async fn analyze_wiki(db: &Db, stale: bool) -> Res<()> {
    let Db::Sqlite(p) = db else {
        return Ok(());
    };
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'wiki%' \
         AND sql NOT LIKE 'CREATE VIRTUAL%' ORDER BY name",
    )
    .fetch_all(&**p)
    .await?;
    let mut tx = db.begin().await?;
    for t in tables {
        if stale && t.starts_with("wiki_fts") {
            continue;
        }
        opsdesk::on_tx!(&mut tx, |c| {
            sqlx::raw_sql(AssertSqlSafe(format!("ANALYZE \"{t}\"")))
                .execute(c)
                .await?;
        });
    }
    tx.commit().await?;
    Ok(())
}

/// The pages of a database loaded earlier (`--reuse`), and what the report says of them.
async fn reuse(db: &Db, r: &mut Report) -> Res<Vec<PageMeta>> {
    let (rows, revisions, links): (Vec<(String, i64)>, i64, i64) = match db {
        Db::Sqlite(p) => (
            sqlx::query_as("SELECT path, length(CAST(body AS BLOB)) FROM wiki_pages ORDER BY id")
                .fetch_all(&**p)
                .await?,
            sqlx::query_scalar("SELECT count(*) FROM wiki_revisions")
                .fetch_one(&**p)
                .await?,
            sqlx::query_scalar("SELECT count(*) FROM wiki_links")
                .fetch_one(&**p)
                .await?,
        ),
        Db::Postgres(p) => (
            sqlx::query_as("SELECT path, octet_length(body)::int8 FROM wiki_pages ORDER BY id")
                .fetch_all(p)
                .await?,
            sqlx::query_scalar("SELECT count(*) FROM wiki_revisions")
                .fetch_one(p)
                .await?,
            sqlx::query_scalar("SELECT count(*) FROM wiki_links")
                .fetch_one(p)
                .await?,
        ),
    };
    r.revisions = revisions;
    r.links = links;
    let mut out = Vec::with_capacity(rows.len());
    for (path, bytes) in rows {
        r.wiki_bytes += bytes as usize;
        out.push(PageMeta {
            path,
            bytes: bytes as usize,
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Saves.

/// One save in its own transaction, as the API does it: begin (the writer turn on SQLite),
/// `wiki::save`, commit. Milliseconds.
/// Answers (whole, of which the commit) in milliseconds.
async fn timed_save(db: &Db, path: &str, s: &Save) -> Res<(f64, f64)> {
    let t = Instant::now();
    let mut tx = db.begin().await?;
    opsdesk::wiki::save(&mut tx, path, s, "bench", SystemClock.now()).await?;
    let c = Instant::now();
    tx.commit().await?;
    Ok((
        t.elapsed().as_secs_f64() * 1000.0,
        c.elapsed().as_secs_f64() * 1000.0,
    ))
}

/// The page as the editor loaded it (not timed).
async fn current(db: &Db, path: &str) -> Res<opsdesk::wiki::Page> {
    let mut tx = db.begin_read().await?;
    let found = opsdesk::wiki::get(&mut tx, path).await?;
    tx.commit().await?;
    match found {
        Some(Found::Page(p)) => Ok(p),
        _ => Err(format!("no page at {path}").into()),
    }
}

/// An editor's change: one prose line rewritten, one bullet added at the end.
fn edit(g: &mut WikiGen, body: &str, n: usize) -> String {
    let sites = [g.rng.random_range(0..words::SITES.len())];
    let lines: Vec<&str> = body.lines().collect();
    let prose: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.len() > 60 && l.chars().next().is_some_and(char::is_alphabetic))
        .map(|(i, _)| i)
        .collect();
    let replace = if prose.is_empty() {
        usize::MAX
    } else {
        prose[g.rng.random_range(0..prose.len())]
    };
    let mut out = String::with_capacity(body.len() + 256);
    for (i, l) in lines.iter().enumerate() {
        if i == replace {
            g.sentence(&sites, &mut out);
            out.push(' ');
            g.sentence(&sites, &mut out);
        } else {
            out.push_str(l);
        }
        out.push('\n');
    }
    let _ = write!(out, "\n- Edit {n}: ");
    g.sentence(&sites, &mut out);
    out.push('\n');
    out
}

async fn saves(db: &Db, pages: &[PageMeta], args: &Args, r: &mut Report) -> Res<()> {
    let mut g = WikiGen::new(args.pages, 0xed17_5a7e);
    g.paths = pages.iter().take(200).map(|p| p.path.clone()).collect();
    // Pages of about 10 KB (9–11 KB), in a fixed random order; reused if there are too few.
    let mut ten: Vec<&PageMeta> = pages
        .iter()
        .filter(|p| (9 * 1024..11 * 1024).contains(&p.bytes))
        .collect();
    if ten.is_empty() {
        ten = pages.iter().collect();
    }
    for i in (1..ten.len()).rev() {
        let j = g.rng.random_range(0..=i);
        ten.swap(i, j);
    }
    let total = WARM_SAVES + args.saves;
    let mut bytes = Vec::new();
    let mut created = 0;
    // Every (saves / creates)-th save is followed by a create, so the creates spread over the run.
    let create_every = args
        .saves
        .checked_div(args.creates)
        .map_or(usize::MAX, |n| n.max(1));
    for k in 0..total {
        let p = ten[k % ten.len()];
        let page = current(db, &p.path).await?;
        let body = edit(&mut g, &page.body, k);
        bytes.push(body.len());
        let s = Save {
            title: page.title.clone(),
            body,
            base_revision: page.revision,
            comment: format!("bench edit {k}"),
            visibility: None,
        };
        let (t, c) = timed_save(db, &p.path, &s).await?;
        if t > 100.0 {
            eprintln!("   slow save {k}: {t:.0} ms, commit {c:.0} ms");
        }
        if k >= WARM_SAVES {
            r.edits.ms.push(t);
            r.edit_commits.ms.push(c);
            let done = k - WARM_SAVES + 1;
            if created < args.creates && done.is_multiple_of(create_every) {
                let sites = g.sites();
                let title = format!(
                    "{} at {} (new {created})",
                    g.pick(TOPICS),
                    words::SITES[sites[0]]
                );
                let target = g.rng.random_range(9 * 1024..11 * 1024);
                let body = g.body(&title, &sites, target);
                let path = format!("Runbooks/New/{title}");
                let s = Save {
                    title,
                    body,
                    base_revision: 0,
                    comment: "new runbook".into(),
                    visibility: Some(Visibility::Internal),
                };
                r.creates.ms.push(timed_save(db, &path, &s).await?.0);
                created += 1;
            }
        }
    }
    bytes.sort_unstable();
    r.edit_bytes = (
        bytes.first().copied().unwrap_or(0),
        bytes.last().copied().unwrap_or(0),
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Searches.

async fn matching_pages(db: &Db, term: &str) -> Res<i64> {
    let like = format!("%{term}%");
    Ok(match db {
        Db::Sqlite(p) => {
            sqlx::query_scalar(
                "SELECT count(*) FROM wiki_pages WHERE deleted_at IS NULL \
                 AND (title LIKE $1 OR body LIKE $1)",
            )
            .bind(like)
            .fetch_one(&**p)
            .await?
        }
        Db::Postgres(p) => {
            sqlx::query_scalar(
                "SELECT count(*) FROM wiki_pages WHERE deleted_at IS NULL \
                 AND (title ILIKE $1 OR body ILIKE $1)",
            )
            .bind(like)
            .fetch_one(p)
            .await?
        }
    })
}

async fn search_term(db: &Db, term: &str, runs: usize, now: Timestamp) -> Res<TermResult> {
    let mut t = TermResult {
        matching_pages: matching_pages(db, term).await?,
        ..TermResult::default()
    };
    // wiki::search alone.
    for _ in 0..WARM_RUNS {
        opsdesk::wiki::search(db, term, false, LIMIT).await?;
    }
    let started = Instant::now();
    for i in 0..runs {
        if i >= MIN_RUNS && started.elapsed() > BUDGET_EACH {
            t.wiki.cut = true;
            break;
        }
        let s = Instant::now();
        let found = opsdesk::wiki::search(db, term, false, LIMIT).await?;
        t.wiki.ms.push(s.elapsed().as_secs_f64() * 1000.0);
        t.wiki_returned = found.len();
    }
    // search::search: tickets + wiki, staff (no customer fence).
    for _ in 0..WARM_RUNS {
        opsdesk::search::search(db, term, LIMIT, None, now)
            .await
            .map_err(|e| format!("search {term:?}: {e}"))?;
    }
    let started = Instant::now();
    for i in 0..runs {
        if i >= MIN_RUNS && started.elapsed() > BUDGET_EACH {
            t.all.cut = true;
            break;
        }
        let s = Instant::now();
        let found = opsdesk::search::search(db, term, LIMIT, None, now)
            .await
            .map_err(|e| format!("search {term:?}: {e}"))?;
        t.all.ms.push(s.elapsed().as_secs_f64() * 1000.0);
        t.all_found = (found.total, found.total_exact, found.wiki.len());
    }
    Ok(t)
}

// ---------------------------------------------------------------------------------------------
// Plans.

/// The wiki statement `store::search` runs for `term` (mirrors src/wiki/store.rs: keep in step).
fn wiki_statement(db: &Db, term: &str) -> (String, String) {
    const COLS: &str =
        "id, path, title, body, revision, visibility, deleted_at, updated_at, updated_by";
    let like = format!(
        "%{}%",
        term.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    match db {
        Db::Sqlite(_) if term.chars().count() >= 3 => (
            format!(
                "SELECT {COLS} FROM wiki_pages WHERE id IN \
                 (SELECT rowid FROM wiki_fts WHERE wiki_fts MATCH $1) \
                 AND deleted_at IS NULL AND ($2 = 0 OR visibility = 'public') \
                 ORDER BY updated_at DESC LIMIT $3"
            ),
            format!("\"{}\"", term.replace('"', "\"\"")),
        ),
        // Two ASCII characters: the index's term list and the text ends (migration 0019),
        // as `wiki::search` asks once its walk of the newest pages has not answered.
        Db::Sqlite(_) if term.is_ascii() && term.len() == 2 => {
            let lo = term.to_ascii_lowercase().replace('\'', "''");
            let mut hi: Vec<u8> = term.to_ascii_lowercase().into_bytes();
            hi[1] += 1;
            let hi = String::from_utf8_lossy(&hi).replace('\'', "''");
            (
                format!(
                    "SELECT {COLS} FROM wiki_pages WHERE id IN (SELECT doc FROM wiki_fts_terms \
                     WHERE term >= '{lo}' AND term < '{hi}' \
                     UNION ALL SELECT id FROM wiki_pages WHERE lower(substr(title, -2)) = '{lo}' \
                     UNION ALL SELECT id FROM wiki_pages WHERE lower(substr(body, -2)) = '{lo}') \
                     AND (title LIKE $1 ESCAPE '\\' OR body LIKE $1 ESCAPE '\\') \
                     AND deleted_at IS NULL AND ($2 = 0 OR visibility = 'public') \
                     ORDER BY updated_at DESC LIMIT $3"
                ),
                like,
            )
        }
        Db::Sqlite(_) => (
            format!(
                "SELECT {COLS} FROM wiki_pages \
                 WHERE (title LIKE $1 ESCAPE '\\' OR body LIKE $1 ESCAPE '\\') \
                 AND deleted_at IS NULL AND ($2 = 0 OR visibility = 'public') \
                 ORDER BY updated_at DESC LIMIT $3"
            ),
            like,
        ),
        // Two characters the pair index files (migration 0021), as `wiki::search` asks once
        // its walk of the newest pages has not answered.
        Db::Postgres(_) if let Some(code) = opsdesk::db::pair_code(term) => (
            format!(
                "SELECT {COLS} FROM (SELECT {COLS} FROM wiki_pages WHERE id IN \
                 (SELECT page_id FROM wiki_page_pairs WHERE pairs @> '{{{code}}}'::smallint[] \
                 UNION ALL SELECT id FROM text_pairs_pending WHERE kind = 'wiki') \
                 AND deleted_at IS NULL AND ($2 = 0 OR visibility = 'public') \
                 ORDER BY updated_at DESC OFFSET 0) p \
                 WHERE (title ILIKE $1 OR body ILIKE $1) ORDER BY updated_at DESC LIMIT $3"
            ),
            like,
        ),
        Db::Postgres(_) => (
            format!(
                "SELECT {COLS} FROM wiki_pages WHERE (title ILIKE $1 OR body ILIKE $1) \
                 AND deleted_at IS NULL AND ($2 = 0 OR visibility = 'public') \
                 ORDER BY updated_at DESC LIMIT $3"
            ),
            like,
        ),
    }
}

async fn wiki_plan(db: &Db, term: &str) -> Res<String> {
    let (sql, bind) = wiki_statement(db, term);
    let mut out = String::new();
    match db {
        Db::Sqlite(p) => {
            let rows: Vec<(i64, i64, i64, String)> =
                sqlx::query_as(AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")))
                    .bind(&bind)
                    .bind(0i64)
                    .bind(LIMIT)
                    .fetch_all(&**p)
                    .await?;
            let mut depth: Vec<(i64, usize)> = Vec::new();
            for (id, parent, _, detail) in rows {
                let d = depth
                    .iter()
                    .find(|(i, _)| *i == parent)
                    .map_or(0, |(_, d)| d + 1);
                depth.push((id, d));
                let _ = writeln!(out, "{}{detail}", "  ".repeat(d));
            }
            let mut times = Vec::new();
            let mut n = 0;
            for _ in 0..3 {
                let s = Instant::now();
                n = sqlx::query(AssertSqlSafe(sql.clone()))
                    .bind(&bind)
                    .bind(0i64)
                    .bind(LIMIT)
                    .fetch_all(&**p)
                    .await?
                    .len();
                times.push(s.elapsed().as_secs_f64() * 1000.0);
            }
            times.sort_by(f64::total_cmp);
            let _ = writeln!(
                out,
                "(run directly: {:.1} ms, median of 3; {n} row(s))",
                times[1]
            );
        }
        Db::Postgres(p) => {
            let rows: Vec<String> =
                sqlx::query_scalar(AssertSqlSafe(format!("EXPLAIN (ANALYZE, BUFFERS) {sql}")))
                    .bind(&bind)
                    .bind(0i64)
                    .bind(LIMIT)
                    .fetch_all(p)
                    .await?;
            for l in rows {
                let _ = writeln!(out, "{l}");
            }
        }
    }
    Ok(out)
}

async fn explain_all(db: &Db, now: Timestamp) -> Res<String> {
    let mut out = String::new();
    if let Db::Sqlite(p) = db {
        // On the write connection: the one whose statistics FTS5's statements are planned with.
        let plan: Vec<(i64, i64, i64, String)> = {
            let mut w = p.write_conn().await?;
            sqlx::query_as("EXPLAIN QUERY PLAN DELETE FROM wiki_fts_data WHERE id>=$1 AND id<=$2")
                .bind(0i64)
                .bind(0i64)
                .fetch_all(&mut *w)
                .await?
        };
        let stat: Option<String> =
            sqlx::query_scalar("SELECT stat FROM sqlite_stat1 WHERE tbl = 'wiki_fts_data'")
                .fetch_optional(&**p)
                .await?;
        let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM wiki_fts_data")
            .fetch_one(&**p)
            .await?;
        let _ = writeln!(
            out,
            "FTS5's own statement that drops the pages a merge step consumed, \
             `DELETE FROM wiki_fts_data WHERE id>=? AND id<=?`, planned on the write \
             connection (sqlite_stat1 says {} rows; the table holds {rows}):\n\n```",
            stat.as_deref().unwrap_or("nothing of")
        );
        for (_, _, _, d) in plan {
            let _ = writeln!(out, "{d}");
        }
        out.push_str("```\n\n");
    }
    for (term, _) in TERMS {
        let _ = writeln!(out, "`wiki::search` for `{term}`:\n\n```");
        match wiki_plan(db, term).await {
            Ok(p) => out.push_str(&p),
            Err(e) => {
                let _ = writeln!(out, "(EXPLAIN failed: {e})");
            }
        }
        out.push_str("```\n\n");
        let q = opsdesk::search::ticket_query(term);
        let req = ListReq {
            query: q.clone(),
            order: Some("-updated"),
            page: Some(1),
            per_page: Some(LIMIT),
            after: None,
        };
        out.push_str(
            &plans::explain(
                db,
                &[(
                    format!("Ticket part of `search::search` for `{term}` (TQL `{q}`):"),
                    req,
                )],
                now,
            )
            .await?,
        );
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Report.

fn ms(v: Option<f64>) -> String {
    match v {
        None => "–".into(),
        Some(v) if v < 10.0 => format!("{v:.2}"),
        Some(v) if v < 100.0 => format!("{v:.1}"),
        Some(v) => format!("{v:.0}"),
    }
}

fn thousands(v: i64) -> String {
    let s = v.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn lat(s: &Samples, target: f64) -> String {
    let mut c = format!(
        "{} / {} / {}",
        ms(s.pct(50.0)),
        ms(s.pct(95.0)),
        ms(s.pct(99.0))
    );
    if s.pct(95.0).is_some_and(|v| v >= target) {
        c.push_str(" ✗");
    }
    if s.cut {
        let _ = write!(c, " (n={})", s.ms.len());
    }
    c
}

fn render(backend: &str, args: &Args, r: Res<Report>) -> String {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "### {backend}: {} wiki pages, {} tickets\n",
        thousands(args.pages),
        thousands(args.tickets)
    );
    let r = match r {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(md, "The run failed: {e}\n");
            return md;
        }
    };
    let l = &r.ticket_load;
    let _ = writeln!(md, "Database: {}.\n", r.version);
    let _ = writeln!(md, "| load | figure |\n|---|---|");
    let _ = writeln!(
        md,
        "| tickets: total s (rows / indexes + FTS / analyze) | {:.1} s ({:.1} / {:.1} / {:.1}) |",
        l.total_secs, l.rows_secs, l.index_secs, l.analyze_secs
    );
    let _ = writeln!(
        md,
        "| tickets / transactions / watchers / links | {} / {} / {} / {} |",
        thousands(l.tickets),
        thousands(l.txns),
        thousands(l.watchers),
        thousands(l.links)
    );
    let _ = writeln!(
        md,
        "| wiki: pages (MiB of Markdown), revisions, links | {} ({:.0} MiB), {}, {} |",
        thousands(args.pages),
        r.wiki_bytes as f64 / 1048576.0,
        thousands(r.revisions),
        thousands(r.links)
    );
    let _ = writeln!(
        md,
        "| wiki: load s (pages/s), analyze s | {:.1} s ({:.0}/s), {:.1} s |",
        r.wiki_secs,
        args.pages as f64 / r.wiki_secs.max(1e-9),
        r.wiki_analyze_secs
    );
    if let Some(mib) = r.db_mib {
        let _ = writeln!(md, "| database size | {mib:.0} MiB |");
    }
    let _ = writeln!(md);

    let _ = writeln!(
        md,
        "Saves (load average before: `{}`):\n\n| save | n | p50 / p95 / p99 ms | max ms | target |\n|---|---:|---|---:|---|",
        r.loadavg_saves
    );
    let max = |s: &Samples| ms(s.ms.iter().copied().reduce(f64::max));
    let _ = writeln!(
        md,
        "| edit of a ~10 KB page ({}–{} bytes), base = current revision | {} | {} | {} | p95 < 20 |",
        r.edit_bytes.0,
        r.edit_bytes.1,
        r.edits.ms.len(),
        lat(&r.edits, 20.0),
        max(&r.edits)
    );
    let _ = writeln!(
        md,
        "| … of which the commit | {} | {} | {} | |",
        r.edit_commits.ms.len(),
        lat(&r.edit_commits, f64::INFINITY),
        max(&r.edit_commits)
    );
    let _ = writeln!(
        md,
        "| create of a new ~10 KB page | {} | {} | {} | p95 < 20 |",
        r.creates.ms.len(),
        lat(&r.creates, 20.0),
        max(&r.creates)
    );
    let mut all = Samples::default();
    all.merge(&r.edits);
    all.merge(&r.creates);
    let _ = writeln!(
        md,
        "| all saves | {} | {} | {} | p95 < 20 |\n",
        all.ms.len(),
        lat(&all, 20.0),
        max(&all)
    );

    let _ = writeln!(
        md,
        "Search, limit {LIMIT}, staff (load average before: `{}`):\n\n\
         | text | kind | pages holding it | `wiki::search` p50 / p95 / p99 ms | `search::search` (tickets + wiki) p50 / p95 / p99 ms | tickets matched (capped at 1,000) / wiki hits returned |\n\
         |---|---|---:|---|---|---|",
        r.loadavg_search
    );
    for ((term, kind), t) in TERMS.iter().zip(&r.terms) {
        let (total, exact, wiki) = t.all_found;
        let _ = writeln!(
            md,
            "| `{term}` | {kind} | {} | {} | {} | {}{} / {} |",
            thousands(t.matching_pages),
            lat(&t.wiki, 200.0),
            lat(&t.all, 200.0),
            thousands(total),
            if exact { "" } else { "+" },
            wiki
        );
    }
    let _ = writeln!(
        md,
        "\n#### {backend} query plans\n\n{}",
        if backend == "SQLite" {
            "`EXPLAIN QUERY PLAN` of the wiki statement (as in src/wiki/store.rs) and of the two \
             statements of the ticket part (count, then page; the count here is uncapped), with \
             the same binds:\n"
        } else {
            "`EXPLAIN (ANALYZE, BUFFERS)` of the wiki statement and of the ticket part:\n"
        }
    );
    md.push_str(&r.plans);
    md
}

fn method(args: &Args) -> String {
    format!(
        "Method. A fresh database (a SQLite file in a temp dir, or a new PostgreSQL database) is \
migrated by the app. Tickets: the tickets bench's generator and loader (`bench/tickets/data.rs`: \
about 5 history entries per ticket, create with a body; multi-row INSERTs in transactions of \
5,000 tickets, secondary indexes dropped and rebuilt, the FTS5 documents built after the rows, \
ANALYZE). Wiki: {pages} Markdown runbooks generated from a fixed seed, sizes uniform over \
2–20 KB (title `<topic> at <site>`, a path under one of 8 sections, sections Symptoms / Impact / \
Checks / Fix / … repeated until the size is reached, made of prose from a ~280-word vocabulary, \
numbered steps with commands, `text` fences, tables, bullet lists with `[[links]]` to earlier \
pages and `#ticket` references; each page names one or two of the 16 sites; 20% public), \
written with direct SQL through the app's `Db` write transaction, {per_tx} pages per \
transaction, with one `wiki_revisions` row each and the `wiki_links` the app's link parser \
finds; on SQLite the FTS5 triggers of migration 0015 index the rows as they go in, on \
PostgreSQL the app's index pass then files the queued pages in the pair index of two-character \
searches (migration 0021; the tickets loader files the tickets' subjects and bodies itself); then \
ANALYZE of the wiki tables and of the FTS5 shadow tables of `wiki_fts` (the tickets loader's \
ANALYZE ran before the wiki was loaded, when `wiki_fts_data` held 2 rows: that statistic is \
deleted before the app's connections open; `--stale-fts-stats` leaves it in place). \
Saves: {warm} warm-up edits, then {saves} edits of pages of 9–11 KB \
(in a random order; each page is read first, untimed, and saved with base_revision = its \
current revision after one prose line is rewritten and one bullet appended), with {creates} \
creates of new 9–11 KB pages spread among them; each save is timed from `db.begin()` through \
`wiki::save` to `commit`, one at a time. Before the searches, what the server's index task \
does within a quarter second runs once (`search::index::catch_up`: on PostgreSQL the saved pages \
are filed in the pair index). Search: `wiki::search(db, text, public_only = false, \
{LIMIT})` and `search::search(db, text, {LIMIT}, None, now)` (what `/api/v1/search` runs for \
staff), {WARM_RUNS} warm-up calls then {runs} timed calls each, one at a time, a row stopped \
after {budget} s (at least {MIN_RUNS} calls; `n=` marks a cut). \"Pages holding it\" is counted \
apart with LIKE over title and body. Percentiles are nearest-rank; ✗ marks p95 at or over the \
target. Everything runs in the bench process on the same 2 cores (no HTTP).\n\n",
        pages = args.pages,
        per_tx = PAGES_PER_TX,
        warm = WARM_SAVES,
        saves = args.saves,
        creates = args.creates,
        runs = args.runs,
        budget = BUDGET_EACH.as_secs(),
    )
}

/// Copies a closed SQLite database: the main file and its full-text index file (without the
/// latter the copy would index every ticket again before its searches are measured).
fn copy_sqlite(from: &std::path::Path, to: &std::path::Path) -> std::io::Result<()> {
    let main = std::path::Path::new("opsdesk.db");
    let index = opsdesk::db::search_file::path_of(main);
    for file in [main, index.as_path()] {
        std::fs::copy(from.join(file), to.join(file))?;
    }
    Ok(())
}

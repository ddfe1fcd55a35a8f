//! Escalation-pass benchmark (issue 5): N open tickets under the contract's "gold" policy, of
//! which D have an escalation step due at the same instant; one pass (`sla::worker::pass`, what
//! every node runs every 10 s) is timed, and the ledger and the outbox are counted to show each
//! step fired once. A second pass right after shows the cost of a pass with nothing due. On
//! SQLite and (with `--pg URL`, a server whose user may CREATE DATABASE) on PostgreSQL.
//!
//! ```sh
//! cargo bench --bench escalation -- [--sizes 10000:1000,100000:10000,1000000:10000]
//!                                   [--pg URL] [--no-sqlite]
//! ```
//!
//! For each backend (SQLite unless `--no-sqlite`, then PostgreSQL when `--pg` is given) and each
//! OPEN:DUE size: a fresh database (a SQLite file in a temp dir, or a new database on the `--pg`
//! server, dropped afterwards) that the app's own migrations created; the data is written with
//! direct SQL in one transaction through the app's pool: tickets with their SLA columns as the
//! app computes them at creation (P1, respond in 15 minutes; the 75 % step at 11 min 15 s), and
//! each one's `create` history entry, then ANALYZE. Due tickets were created 12 minutes before
//! "now", the rest at "now". The pass runs in this process on the app's `Db` (`Db::connect` from
//! a generated opsdesk.toml naming that database, no job workers). A Markdown section per
//! backend, naming it, the sizes and the database server's version, goes to stdout.

#[allow(dead_code)]
#[path = "shared/backends.rs"]
mod backends;

// Shared with the tickets bench, which uses all of it.
#[allow(dead_code)]
#[path = "tickets/sys.rs"]
mod sys;

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use sqlx::AssertSqlSafe;

use opsdesk::clock::{Clock, SystemClock};
use opsdesk::config;
use opsdesk::db::{Backend, Db};

pub type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

const USAGE: &str = "usage: cargo bench --bench escalation -- \
                     [--sizes 10000:1000,100000:10000,1000000:10000] [--pg URL] [--no-sqlite]";

const CONFIG: &str = r#"
[[queue]]
name = "NOC"
sla = "gold"

[[sla]]
name     = "gold"
calendar = "24x7"
pause_on = ["stalled"]
targets.P1 = { response = "15m", resolve = "4h" }
escalate = [ { at = "75%", notify = ["owner"] }, { at = "100%", notify = ["owner", "oncall:noc"] } ]

[[oncall]]
name     = "noc"
timezone = "Europe/Rome"
start    = "2026-11-02"
handoff  = "mon 09:00"
rotation = ["alice", "bob", "dave"]
"#;

const MINUTE_US: i64 = 60_000_000;

struct Args {
    /// (open tickets, of which due at once).
    sizes: Vec<(i64, i64)>,
    /// `--pg`, `--no-sqlite`.
    db: backends::DbArgs,
}

impl Args {
    fn command(&self) -> String {
        format!(
            "cargo bench --bench escalation -- --sizes {}{}",
            self.sizes
                .iter()
                .map(|(n, d)| format!("{n}:{d}"))
                .collect::<Vec<_>>()
                .join(","),
            self.db.command()
        )
    }
}

/// OPEN:DUE[,OPEN:DUE...], each a count as `--tickets` takes it (`10k:1k`), DUE <= OPEN.
fn parse_sizes(s: &str) -> Result<Vec<(i64, i64)>, String> {
    s.split(',')
        .map(|p| {
            let (n, d) = p
                .split_once(':')
                .ok_or_else(|| format!("\"{p}\" is not OPEN:DUE"))?;
            let (n, d) = (backends::parse_count(n)?, backends::parse_count(d)?);
            if d > n {
                return Err(format!("\"{p}\": more due than open"));
            }
            Ok((n, d))
        })
        .collect()
}

fn args() -> Result<Args, String> {
    let mut sizes = vec![(10_000, 1_000), (100_000, 10_000), (1_000_000, 10_000)];
    let db = backends::DbArgs::parse(false, |k, v| {
        match k {
            "--sizes" => sizes = parse_sizes(&v()?)?,
            other => return Err(format!("unknown argument {other}")),
        }
        Ok(())
    })?;
    if sizes.is_empty() {
        return Err("--sizes names no size".into());
    }
    Ok(Args { sizes, db })
}

fn main() -> ExitCode {
    sys::main_with(
        "escalation",
        args().map_err(|e| format!("{e}\n{USAGE}")),
        run,
    )
}

async fn run(a: Args) -> Res<()> {
    let tmp = tempfile::Builder::new()
        .prefix("opsdesk-escalation-bench-")
        .tempdir()?;
    for (backend, pg) in a.db.backends() {
        let mut table = String::from(
            "| open tickets | due at once | pass | tickets/s | steps fired | notices in outbox | empty pass after |\n\
             |---:|---:|---:|---:|---:|---:|---:|\n",
        );
        let mut version = String::new();
        for &(open, due) in &a.sizes {
            eprintln!("== {backend}: {open} open, {due} due");
            let r = backends::with_fresh_db(
                "escalation",
                pg.as_deref(),
                open,
                tmp.path(),
                |url, dir| async move { one(&url, &dir, open, due).await },
            )
            .await?;
            eprintln!("{open} open, {due} due: {r:?}");
            writeln!(
                table,
                "| {open} | {due} | {:.0} ms | {:.0} | {} | {} | {:.1} ms |",
                r.pass_ms,
                due as f64 / (r.pass_ms / 1000.0),
                r.fired,
                r.notices,
                r.empty_ms
            )?;
            version = r.version;
        }
        let sizes = a
            .sizes
            .iter()
            .map(|(n, d)| {
                format!(
                    "{} open / {} due",
                    backends::size_label(*n),
                    backends::size_label(*d)
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let mut md = String::new();
        writeln!(md, "## Escalation pass (issue 5): {backend}, {sizes}\n")?;
        writeln!(
            md,
            "Measured {} with `{}`. Database: {version}. {}\n",
            SystemClock.now().strftime("%Y-%m-%d"),
            a.command(),
            sys::machine()
        )?;
        writeln!(md, "{table}")?;
        writeln!(
            md,
            "Method. {backend}, {sizes} tickets: for each size a fresh database ({}) created by \
             the app's migrations, then in one transaction through the app's pool the \
             users alice, bob and dave and OPEN P1 tickets in queue NOC (SLA `gold`: respond in \
             15 minutes, steps at 75% and 100%) with the SLA columns the app writes at creation \
             and a `create` history entry each; DUE of them were created 12 minutes before \
             \"now\" (their 75% step due), the rest at \"now\"; then ANALYZE. One \
             `sla::worker::pass` at \"now\" is timed in this process on the app's `Db` (no job \
             workers), then a second one with nothing due; the ledger (`sla_escalations`) and \
             the outbox (`mail_outbound` of kind `escalation`) are counted to check that every \
             due step fired once.\n",
            if backend == "SQLite" {
                "a SQLite file in a temp dir"
            } else {
                "a new database on the `--pg` server, dropped afterwards"
            }
        )?;
        print!("{md}");
    }
    tmp.close()?;
    Ok(())
}

#[derive(Debug)]
struct Result1 {
    version: String,
    pass_ms: f64,
    fired: usize,
    notices: i64,
    empty_ms: f64,
}

async fn count(db: &Db, sql: &'static str) -> Res<i64> {
    Ok(opsdesk::on_pool!(db, |p| sqlx::query_scalar(sql)
        .fetch_one(p)
        .await?))
}

async fn one(url: &str, dir: &Path, open: i64, due: i64) -> Res<Result1> {
    let file = dir.join("opsdesk.toml");
    std::fs::write(
        &file,
        format!("database_url = \"{url}\"\n[jobs]\nworkers = 0\n{CONFIG}"),
    )?;
    let cfg = config::load(Some(&file))
        .map_err(|p| format!("config: {p:?}"))?
        .config;
    if cfg.database_url.expose() != url {
        return Err(
            "an OPSDESK_DATABASE_URL in the environment overrides the bench's database; unset it"
                .into(),
        );
    }
    let db = Db::connect(&cfg.database_url, cfg.db).await?;
    db.migrate().await?;
    let version = backends::version(&db).await?;

    let now: jiff::Timestamp = "2026-11-23T10:00:00Z".parse()?;
    let now_us = now.as_microsecond();
    load(&db, open, due, now_us).await?;

    let t = Instant::now();
    let r = opsdesk::sla::worker::pass(&db, &cfg, now).await?;
    let pass_ms = t.elapsed().as_secs_f64() * 1000.0;
    let t = Instant::now();
    let again = opsdesk::sla::worker::pass(&db, &cfg, now).await?;
    let empty_ms = t.elapsed().as_secs_f64() * 1000.0;
    if again.fired != 0 {
        return Err(format!("a second pass fired {} steps again", again.fired).into());
    }
    let ledger = count(&db, "SELECT COUNT(*) FROM sla_escalations").await?;
    let notices = count(
        &db,
        "SELECT COUNT(*) FROM mail_outbound WHERE kind = 'escalation'",
    )
    .await?;
    db.close().await;
    if ledger != due || notices != due || r.fired != usize::try_from(due)? {
        return Err(format!(
            "expected {due} steps fired once: pass said {}, ledger {ledger}, outbox {notices}",
            r.fired
        )
        .into());
    }
    Ok(Result1 {
        version,
        pass_ms,
        fired: r.fired,
        notices,
        empty_ms,
    })
}

/// Users, then `open` P1 tickets (the first `due` created 12 minutes before now) with the
/// SLA columns the app writes at creation, and their `create` history entries, in one
/// transaction; then ANALYZE. Rows get explicit ids, so on PostgreSQL the identity sequences are
/// moved past them (the pass's history entries take the next ones).
async fn load(db: &Db, open: i64, due: i64, now_us: i64) -> Res<()> {
    let pg = db.backend() == Backend::Postgres;
    // A timestamp column's value from an expression in microseconds since the epoch: the
    // integer itself on SQLite, a timestamptz on PostgreSQL.
    let ts = |us: &str| {
        if pg {
            format!("(TIMESTAMPTZ 'epoch' + ({us}) * INTERVAL '1 microsecond')")
        } else {
            format!("({us})")
        }
    };
    let mut statements = Vec::new();
    for (i, u) in ["alice", "bob", "dave"].iter().enumerate() {
        statements.push(format!(
            "INSERT INTO users (id, username, email, name, role, created_at, updated_at) \
             VALUES ({id}, '{u}', '{u}@example.net', '{u}', 'agent', {now}, {now})",
            id = i + 100,
            now = ts(&now_us.to_string())
        ));
    }
    // created_at: 12 minutes ago for the due ones; response due 15 minutes after creation,
    // resolution 4 hours after, the first step (75 % of 15 minutes) 11 min 15 s after. The
    // products are taken here: PostgreSQL multiplies integer literals in 32 bits.
    let created = format!(
        "(CASE WHEN i <= {due} THEN {} ELSE {now_us} END)",
        now_us - 12 * MINUTE_US
    );
    let after = |us: &str| ts(&format!("{created} + {us}"));
    statements.push(format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {open}) \
         INSERT INTO tickets (id, queue, subject, status, priority, owner_id, source, sla_policy, \
           created_by, created_at, updated_at, response_due_at, resolve_due_at, due_at, \
           sla_warn_at, sla_next_at) \
         SELECT i, 'NOC', 'link down at site ' || i, 'new', 1, 100 + i % 3, 'api', 'gold', 'bench', \
           {c}, {c}, {resp}, {resolve}, {resp}, {warn}, {warn} FROM n",
        c = ts(&created),
        resp = after(&(15 * MINUTE_US).to_string()),
        resolve = after(&(240 * MINUTE_US).to_string()),
        warn = after("675000000"),
    ));
    statements.push(
        "INSERT INTO ticket_transactions (id, ticket_id, kind, actor, created_at) \
         SELECT id, id, 'create', 'bench', created_at FROM tickets"
            .to_owned(),
    );
    if pg {
        for table in ["users", "tickets", "ticket_transactions"] {
            statements.push(format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            ));
        }
    }
    let t = Instant::now();
    for (i, batch) in [statements, vec!["ANALYZE".to_owned()]]
        .into_iter()
        .enumerate()
    {
        let mut tx = db.begin().await?;
        for sql in batch {
            opsdesk::on_tx!(&mut tx, |c| {
                sqlx::raw_sql(AssertSqlSafe(sql))
                    .execute(c)
                    .await
                    .map_err(|e| format!("loading (step {i}): {e}"))?;
            });
        }
        tx.commit().await?;
    }
    eprintln!(
        "loaded {open} tickets in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    Ok(())
}

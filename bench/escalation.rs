//! Escalation-pass benchmark (issue 5): N open tickets under the contract's "gold" policy, of
//! which D have an escalation step due at the same instant; one pass (`sla::worker::pass`, what
//! every node runs every 10 s) is timed, and the ledger and the outbox are counted to show each
//! step fired once. A second pass right after shows the cost of a pass with nothing due.
//!
//! ```sh
//! cargo bench --bench escalation -- [--sizes 10000:1000,100000:10000,1000000:10000]
//! ```
//!
//! SQLite only (the embedded default); the data is written with direct SQL into a database the
//! app's own migrations created: tickets with their SLA columns as the app computes them at
//! creation (P1, respond in 15 minutes; the 75 % step at 11 min 15 s), and each one's `create`
//! history entry. Due tickets were created 12 minutes before "now", the rest at "now".

use std::fmt::Write as _;
use std::process::ExitCode;
use std::str::FromStr;
use std::time::Instant;

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{AssertSqlSafe, Connection, SqliteConnection};

use opsdesk::config;
use opsdesk::db::Db;

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

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

fn main() -> ExitCode {
    let mut sizes = vec![(10_000, 1_000), (100_000, 10_000), (1_000_000, 10_000)];
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--sizes") {
        let parsed: Option<Vec<(i64, i64)>> = args.get(i + 1).and_then(|s| {
            s.split(',')
                .map(|p| {
                    let (n, d) = p.split_once(':')?;
                    Some((n.parse().ok()?, d.parse().ok()?))
                })
                .collect()
        });
        match parsed {
            Some(p) if p.iter().all(|(n, d)| d <= n) => sizes = p,
            _ => {
                eprintln!("--sizes takes OPEN:DUE[,OPEN:DUE...] with DUE <= OPEN");
                return ExitCode::FAILURE;
            }
        }
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(&sizes)) {
        Ok(table) => {
            println!("{table}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("escalation bench failed: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(sizes: &[(i64, i64)]) -> Res<String> {
    let mut out = String::from(
        "| open tickets | due at once | pass | tickets/s | steps fired | notices in outbox | empty pass after |\n\
         |---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for &(open, due) in sizes {
        let dir = tempfile::tempdir()?;
        let r = one(dir.path(), open, due).await?;
        eprintln!("{open} open, {due} due: {r:?}");
        writeln!(
            out,
            "| {open} | {due} | {:.0} ms | {:.0} | {} | {} | {:.1} ms |",
            r.pass_ms,
            due as f64 / (r.pass_ms / 1000.0),
            r.fired,
            r.notices,
            r.empty_ms
        )?;
    }
    Ok(out)
}

#[derive(Debug)]
struct Result1 {
    pass_ms: f64,
    fired: usize,
    notices: i64,
    empty_ms: f64,
}

async fn one(dir: &std::path::Path, open: i64, due: i64) -> Res<Result1> {
    let db_path = dir.join("opsdesk.db");
    let url = format!("sqlite://{}", db_path.display());
    let file = dir.join("opsdesk.toml");
    std::fs::write(
        &file,
        format!("database_url = \"{url}\"\n[jobs]\nworkers = 0\n{CONFIG}"),
    )?;
    let cfg = config::load(Some(&file))
        .map_err(|p| format!("config: {p:?}"))?
        .config;
    let db = Db::connect(&cfg.database_url, cfg.db).await?;
    db.migrate().await?;

    let now: jiff::Timestamp = "2026-11-23T10:00:00Z".parse()?;
    let now_us = now.as_microsecond();
    load(&url, open, due, now_us).await?;

    let t = Instant::now();
    let r = opsdesk::sla::worker::pass(&db, &cfg, now).await?;
    let pass_ms = t.elapsed().as_secs_f64() * 1000.0;
    let t = Instant::now();
    let again = opsdesk::sla::worker::pass(&db, &cfg, now).await?;
    let empty_ms = t.elapsed().as_secs_f64() * 1000.0;
    if again.fired != 0 {
        return Err(format!("a second pass fired {} steps again", again.fired).into());
    }
    let mut c = SqliteConnection::connect(&url).await?;
    let ledger: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sla_escalations")
        .fetch_one(&mut c)
        .await?;
    let notices: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM mail_outbound WHERE kind = 'escalation'")
            .fetch_one(&mut c)
            .await?;
    c.close().await?;
    db.close().await;
    if ledger != due || notices != due || r.fired != usize::try_from(due)? {
        return Err(format!(
            "expected {due} steps fired once: pass said {}, ledger {ledger}, outbox {notices}",
            r.fired
        )
        .into());
    }
    Ok(Result1 {
        pass_ms,
        fired: r.fired,
        notices,
        empty_ms,
    })
}

/// Users, then `open` P1 tickets (the first `due` created 12 minutes before now) with the
/// SLA columns the app writes at creation, and their `create` history entries.
async fn load(url: &str, open: i64, due: i64, now_us: i64) -> Res<()> {
    let opts = SqliteConnectOptions::from_str(url)?;
    let mut c = SqliteConnection::connect_with(&opts).await?;
    for (i, u) in ["alice", "bob", "dave"].iter().enumerate() {
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO users (id, username, email, name, role, created_at, updated_at) \
             VALUES ({id}, '{u}', '{u}@example.net', '{u}', 'agent', {now_us}, {now_us})",
            id = i + 100
        )))
        .execute(&mut c)
        .await?;
    }
    let t = Instant::now();
    let mut tx = c.begin().await?;
    // created_at: 12 minutes ago for the due ones; response due 15 minutes after creation,
    // resolution 4 hours after, the first step (75 % of 15 minutes) 11 min 15 s after.
    let created =
        format!("(CASE WHEN i <= {due} THEN {now_us} - 12 * {MINUTE_US} ELSE {now_us} END)");
    sqlx::query(AssertSqlSafe(format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {open}) \
         INSERT INTO tickets (id, queue, subject, status, priority, owner_id, source, sla_policy, \
           created_by, created_at, updated_at, response_due_at, resolve_due_at, due_at, \
           sla_warn_at, sla_next_at) \
         SELECT i, 'NOC', 'link down at site ' || i, 'new', 1, 100 + i % 3, 'api', 'gold', 'bench', \
           {created}, {created}, {created} + 15 * {MINUTE_US}, {created} + 240 * {MINUTE_US}, \
           {created} + 15 * {MINUTE_US}, {created} + 675000000, {created} + 675000000 FROM n"
    )))
    .execute(&mut *tx)
    .await?;
    sqlx::query(AssertSqlSafe(
        "INSERT INTO ticket_transactions (id, ticket_id, kind, actor, created_at) \
         SELECT id, id, 'create', 'bench', created_at FROM tickets"
            .to_owned(),
    ))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    sqlx::query("ANALYZE").execute(&mut c).await?;
    c.close().await?;
    eprintln!(
        "loaded {open} tickets in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    Ok(())
}

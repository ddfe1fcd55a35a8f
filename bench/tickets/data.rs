//! The data generator: a deterministic stream of realistic tickets (see `Generator`), and the
//! loaders that write it with direct SQL into a database the app's own migrations created —
//! multi-row INSERTs in large transactions on SQLite, COPY on PostgreSQL. Secondary indexes
//! are read from the catalog, dropped before the load and recreated from their own definitions
//! after it (the classic bulk load: the schema that results is the migrations' one).

use std::str::FromStr;
use std::time::Instant;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::postgres::PgConnection;
use sqlx::sqlite::{
    Sqlite, SqliteArguments, SqliteConnectOptions, SqliteConnection, SqliteJournalMode,
    SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, Connection};

use super::Res;
use super::words::{self, Voice};
use opsdesk::db::{Backend, DatabaseUrl, Db, PoolOptions};

pub const QUEUES: usize = 20;
pub const CUSTOMERS: usize = 5000;
pub const AGENTS: usize = 30;

/// Share of tickets per queue, per mille: a few big queues (Q0–Q7) and a long tail.
const QUEUE_WEIGHTS: [u32; QUEUES] = [
    120, 100, 90, 80, 70, 70, 60, 60, 29, 29, 29, 29, 29, 29, 29, 29, 29, 29, 29, 29,
];

const DAY_US: i64 = 86_400_000_000;
const MINUTE_US: i64 = 60_000_000;
const SPAN_US: i64 = 730 * DAY_US;

/// The tables the loaders bulk-fill (their secondary indexes are dropped and rebuilt).
const TICKET_TABLES: &str = "'tickets', 'ticket_transactions', 'ticket_watchers', 'ticket_links', \
     'ticket_subject_pairs', 'ticket_body_pairs'";

pub struct Ticket {
    pub id: i64,
    pub queue: usize,
    pub subject: String,
    pub status: &'static str,
    pub priority: i32,
    pub owner_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub source: &'static str,
    pub host: Option<String>,
    pub time_worked: i32,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub resolved_at: Option<i64>,
}

pub struct Txn {
    pub id: i64,
    pub ticket_id: i64,
    pub kind: &'static str,
    pub actor: String,
    pub created_at: i64,
    pub field: Option<&'static str>,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub body: Option<String>,
    pub time_taken: i32,
}

pub struct Watcher {
    pub ticket_id: i64,
    pub role: &'static str,
    pub email: String,
}

pub struct Link {
    pub base_id: i64,
    pub target_id: i64,
    pub kind: &'static str,
    pub created_at: i64,
}

#[derive(Default)]
pub struct Chunk {
    pub tickets: Vec<Ticket>,
    pub txns: Vec<Txn>,
    pub watchers: Vec<Watcher>,
    pub links: Vec<Link>,
}

/// Tickets 1..=n, created evenly over the two years before `now` (ids follow creation time),
/// from a fixed seed: the same size gives the same data, shifted to the run's `now`.
pub struct Generator {
    rng: StdRng,
    n: i64,
    next_id: i64,
    next_txn: i64,
    now: i64,
}

fn weighted<R: Rng>(rng: &mut R, weights: &[u32]) -> usize {
    let total: u32 = weights.iter().sum();
    let mut x = rng.random_range(0..total);
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    weights.len() - 1
}

impl Generator {
    pub fn new(n: i64, now_us: i64, seed: u64) -> Generator {
        Generator {
            rng: StdRng::seed_from_u64(seed),
            n,
            next_id: 1,
            next_txn: 1,
            now: now_us,
        }
    }

    pub fn done(&self) -> bool {
        self.next_id > self.n
    }

    /// Customers are skewed: low numbers are the big accounts (C0042 opens ~0.1% of tickets).
    fn customer(&mut self) -> usize {
        let u: f64 = self.rng.random();
        ((u * u * CUSTOMERS as f64) as usize).min(CUSTOMERS - 1)
    }

    /// Agents are skewed too: a few do most of the work.
    fn agent(&mut self) -> usize {
        let u: f64 = self.rng.random();
        ((u.powf(1.5) * AGENTS as f64) as usize).min(AGENTS - 1)
    }

    fn txn(&mut self, ticket_id: i64, kind: &'static str, actor: &str, at: i64) -> Txn {
        let id = self.next_txn;
        self.next_txn += 1;
        Txn {
            id,
            ticket_id,
            kind,
            actor: actor.to_owned(),
            created_at: at,
            field: None,
            old_value: None,
            new_value: None,
            body: None,
            time_taken: 0,
        }
    }

    pub fn chunk(&mut self, max: usize) -> Chunk {
        let mut c = Chunk::default();
        while c.tickets.len() < max && !self.done() {
            self.one(&mut c);
        }
        c
    }

    fn one(&mut self, c: &mut Chunk) {
        let id = self.next_id;
        self.next_id += 1;
        let start = self.now - SPAN_US;
        let slot = SPAN_US / self.n.max(1);
        let created = start + (id - 1) * slot + self.rng.random_range(0..slot.max(1));
        let latest = self.now - MINUTE_US;
        let recent = self.now - created < 30 * DAY_US;

        // new, open, stalled, resolved, rejected
        let status = if recent {
            ["new", "open", "stalled", "resolved", "rejected"]
                [weighted(&mut self.rng, &[15, 35, 10, 35, 5])]
        } else {
            ["new", "open", "stalled", "resolved", "rejected"]
                [weighted(&mut self.rng, &[0, 2, 1, 92, 5])]
        };
        let priority = [1, 2, 3, 4][weighted(&mut self.rng, &[4, 18, 63, 15])];
        let source = ["email", "web", "api", "alert"][weighted(&mut self.rng, &[60, 20, 10, 10])];
        let alert = source == "alert";
        let queue = weighted(&mut self.rng, &QUEUE_WEIGHTS);
        let cust = self.customer();
        let has_customer = !alert || self.rng.random_bool(0.7);
        let requestor = (!alert).then(|| words::requestor(&mut self.rng, cust));
        let agent = self.agent();
        let agent_name = format!("agent{agent}");
        let host = if alert || self.rng.random_bool(0.1) {
            Some(format!(
                "{}{}.c{cust:04}.example",
                ["sw", "rt", "fw", "srv"][self.rng.random_range(0..4)],
                self.rng.random_range(1..20)
            ))
        } else {
            None
        };
        let created_by = match (&requestor, source) {
            (_, "alert") => "alertmanager".to_owned(),
            (_, "api") => "crm-sync".to_owned(),
            (Some(r), _) => r.clone(),
            (None, _) => agent_name.clone(),
        };

        let mut t = created;
        let mut worked = 0;
        let mut create = self.txn(id, "create", &created_by, t);
        create.body = Some(if alert {
            words::body(&mut self.rng, Voice::Note, 1, 2)
        } else {
            words::body(&mut self.rng, Voice::Customer, 2, 4)
        });
        c.txns.push(create);

        let owned = status != "new";
        if owned {
            t = (t + self.rng.random_range(5 * MINUTE_US..4 * 60 * MINUTE_US)).min(latest);
            let mut own = self.txn(id, "set", &agent_name, t);
            own.field = Some("owner");
            own.new_value = Some(agent_name.clone());
            c.txns.push(own);

            t = (t + self.rng.random_range(10 * MINUTE_US..DAY_US)).min(latest);
            let mut reply = self.txn(id, "correspond", &agent_name, t);
            reply.body = Some(words::body(&mut self.rng, Voice::Staff, 1, 3));
            reply.time_taken = self.rng.random_range(5..30);
            worked += reply.time_taken;
            c.txns.push(reply);
            let mut opened = self.txn(id, "set", &agent_name, t);
            opened.field = Some("status");
            opened.old_value = Some("new".into());
            opened.new_value = Some("open".into());
            c.txns.push(opened);
        }
        if self.rng.random_bool(if owned { 0.5 } else { 0.3 }) {
            t = (t + self.rng.random_range(MINUTE_US..DAY_US)).min(latest);
            let mut note = self.txn(id, "comment", &agent_name, t);
            note.body = Some(words::body(&mut self.rng, Voice::Note, 1, 2));
            note.time_taken = self.rng.random_range(0..15);
            worked += note.time_taken;
            c.txns.push(note);
        }
        if owned
            && let Some(r) = &requestor
            && self.rng.random_bool(0.3)
        {
            t = (t + self.rng.random_range(MINUTE_US..2 * DAY_US)).min(latest);
            let mut answer = self.txn(id, "correspond", r, t);
            answer.body = Some(words::body(&mut self.rng, Voice::Customer, 1, 3));
            c.txns.push(answer);
        }
        let mut resolved_at = None;
        if matches!(status, "stalled" | "resolved" | "rejected") {
            t = (t + self.rng.random_range(10 * MINUTE_US..3 * DAY_US)).min(latest);
            let mut set = self.txn(id, "set", &agent_name, t);
            set.field = Some("status");
            set.old_value = Some("open".into());
            set.new_value = Some(status.into());
            c.txns.push(set);
            if status != "stalled" {
                resolved_at = Some(t);
            }
        }

        if let Some(r) = &requestor {
            c.watchers.push(Watcher {
                ticket_id: id,
                role: "requestor",
                email: r.clone(),
            });
            if self.rng.random_bool(0.1) {
                let cc = words::requestor(&mut self.rng, cust);
                if &cc != r {
                    c.watchers.push(Watcher {
                        ticket_id: id,
                        role: "cc",
                        email: cc,
                    });
                }
            }
        }
        if id > 1 && self.rng.random_bool(0.03) {
            c.links.push(Link {
                base_id: id,
                target_id: self.rng.random_range(1..id),
                kind: if self.rng.random_bool(0.7) {
                    "RefersTo"
                } else {
                    "DependsOn"
                },
                created_at: t,
            });
        }
        c.tickets.push(Ticket {
            id,
            queue,
            subject: words::subject(&mut self.rng, alert),
            status,
            priority,
            owner_id: owned.then_some(agent as i64 + 1),
            customer_id: has_customer.then_some(cust as i64 + 1),
            source,
            host,
            time_worked: worked,
            created_by,
            created_at: created,
            updated_at: t,
            resolved_at,
        });
    }
}

/// The `[[queue]]` tables of the generated tickets' queues (`Q0` … `Q19`), for a bench's
/// opsdesk.toml.
pub fn queues_toml() -> String {
    (0..QUEUES)
        .map(|q| {
            format!("\n[[queue]]\nname = \"Q{q}\"\ncorrespond_address = \"q{q}@isp.example\"\n")
        })
        .collect()
}

/// What loading one dataset cost.
#[derive(Debug, Default, Clone)]
pub struct LoadStats {
    pub tickets: i64,
    pub txns: i64,
    pub watchers: i64,
    pub links: i64,
    /// Inserting the rows.
    pub rows_secs: f64,
    /// Recreating the secondary indexes (on PostgreSQL including the pg_trgm GIN indexes).
    pub index_secs: f64,
    /// ANALYZE (SQLite) or VACUUM ANALYZE (PostgreSQL).
    pub analyze_secs: f64,
    pub total_secs: f64,
    pub notes: Vec<String>,
}

impl LoadStats {
    /// A report's cell for the tickets a run started with: how many (the load's seconds), or
    /// `0 (empty)` without a load.
    pub fn cell(l: Option<&LoadStats>) -> String {
        l.map_or_else(
            || "0 (empty)".to_owned(),
            |l| format!("{} ({:.1})", l.tickets, l.total_secs),
        )
    }

    fn count(&mut self, c: &Chunk) {
        self.tickets += c.tickets.len() as i64;
        self.txns += c.txns.len() as i64;
        self.watchers += c.watchers.len() as i64;
        self.links += c.links.len() as i64;
    }
}

/// Creates the schema with the app's migrations, then bulk-loads `n` tickets and the accounts
/// around them.
pub async fn load(url: &DatabaseUrl, n: i64, now_us: i64) -> Res<LoadStats> {
    let t0 = Instant::now();
    let db = Db::connect(url, PoolOptions::default()).await?;
    db.migrate().await?;
    db.close().await;
    let mut stats = match url.backend() {
        Backend::Sqlite => load_sqlite(url.expose(), n, now_us).await?,
        Backend::Postgres => load_pg(url.expose(), n, now_us).await?,
    };
    stats.total_secs = t0.elapsed().as_secs_f64();
    Ok(stats)
}

/// [`load`] for `n` > 0, with a line on stderr; nothing for `n` = 0, an empty database whose
/// schema the app's migrations make when it starts.
pub async fn load_some(url: &str, n: i64, now_us: i64) -> Res<Option<LoadStats>> {
    if n == 0 {
        return Ok(None);
    }
    let stats = load(&DatabaseUrl::parse(url)?, n, now_us).await?;
    eprintln!(
        "   loaded {} tickets, {} transactions in {:.1} s",
        stats.tickets, stats.txns, stats.total_secs
    );
    Ok(Some(stats))
}

/// A line on stderr each time another tenth of a large load is in.
fn progress(before: i64, done: i64, n: i64, t0: Instant) {
    if n >= 100_000 && done * 10 / n > before * 10 / n {
        eprintln!(
            "  loaded {done}/{n} tickets ({:.0} tickets/s)",
            done as f64 / t0.elapsed().as_secs_f64().max(1e-9)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// SQLite: multi-row INSERTs, 5,000 tickets per transaction, synchronous=OFF during the load.

type SqQuery = sqlx::query::Query<'static, Sqlite, SqliteArguments>;

async fn sqlite_insert<T>(
    conn: &mut SqliteConnection,
    head: &str,
    ncols: usize,
    rows: &[T],
    bind: impl Fn(SqQuery, &T) -> SqQuery,
) -> Res<()> {
    let per = (30_000 / ncols).min(500);
    let one = format!("({})", vec!["?"; ncols].join(", "));
    for part in rows.chunks(per) {
        let sql = format!(
            "{head} VALUES {}",
            vec![one.as_str(); part.len()].join(", ")
        );
        let mut q: SqQuery = sqlx::query(AssertSqlSafe(sql));
        for r in part {
            q = bind(q, r);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

async fn exec_sqlite(conn: &mut SqliteConnection, sql: String) -> Res<()> {
    sqlx::raw_sql(AssertSqlSafe(sql))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

async fn load_sqlite(url: &str, n: i64, now_us: i64) -> Res<LoadStats> {
    let mut stats = LoadStats::default();
    let opts = SqliteConnectOptions::from_str(url)?
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Off)
        .foreign_keys(false)
        .pragma("cache_size", "-524288")
        .pragma("temp_store", "memory");
    let mut conn = SqliteConnection::connect_with(&opts).await?;
    // The full-text indexes are in a file of their own, laid out by the migration above.
    let index_file = opsdesk::db::search_file::path_of(opts.get_filename());
    opsdesk::db::search_file::attach(&mut conn, &index_file).await?;
    let indexes: Vec<(String, String)> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL \
         AND tbl_name IN ({TICKET_TABLES}) ORDER BY name"
    )))
    .fetch_all(&mut conn)
    .await?;
    for (name, _) in &indexes {
        exec_sqlite(&mut conn, format!("DROP INDEX \"{name}\"")).await?;
    }
    let t0 = Instant::now();
    let mut tx = conn.begin().await?;
    let customers: Vec<usize> = (0..CUSTOMERS).collect();
    sqlite_insert(
        &mut tx,
        "INSERT INTO customers (id, code, name, created_at, updated_at)",
        5,
        &customers,
        |q, i| {
            q.bind(*i as i64 + 1)
                .bind(format!("C{i:04}"))
                .bind(format!("Customer {i:04} Networks"))
                .bind(now_us - SPAN_US - DAY_US)
                .bind(now_us - SPAN_US - DAY_US)
        },
    )
    .await?;
    sqlite_insert(
        &mut tx,
        "INSERT INTO customer_domains (customer_id, domain)",
        2,
        &customers,
        |q, i| q.bind(*i as i64 + 1).bind(format!("c{i:04}.example")),
    )
    .await?;
    let agents: Vec<usize> = (0..AGENTS).collect();
    sqlite_insert(
        &mut tx,
        "INSERT INTO users (id, username, email, name, role, created_at, updated_at)",
        7,
        &agents,
        |q, i| {
            q.bind(*i as i64 + 1)
                .bind(format!("agent{i}"))
                .bind(format!("agent{i}@isp.example"))
                .bind(format!("Agent {i}"))
                .bind("agent")
                .bind(now_us - SPAN_US - DAY_US)
                .bind(now_us - SPAN_US - DAY_US)
        },
    )
    .await?;
    tx.commit().await?;

    let mut generator = Generator::new(n, now_us, 0x0b5d_e5c0);
    while !generator.done() {
        let c = generator.chunk(5_000);
        let before = stats.tickets;
        stats.count(&c);
        let mut tx = conn.begin().await?;
        sqlite_insert(
            &mut tx,
            "INSERT INTO tickets (id, queue, subject, status, priority, owner_id, customer_id, \
             source, host, time_worked, created_by, created_at, updated_at, resolved_at)",
            14,
            &c.tickets,
            |q, t| {
                q.bind(t.id)
                    .bind(format!("Q{}", t.queue))
                    .bind(t.subject.clone())
                    .bind(t.status)
                    .bind(t.priority)
                    .bind(t.owner_id)
                    .bind(t.customer_id)
                    .bind(t.source)
                    .bind(t.host.clone())
                    .bind(t.time_worked)
                    .bind(t.created_by.clone())
                    .bind(t.created_at)
                    .bind(t.updated_at)
                    .bind(t.resolved_at)
            },
        )
        .await?;
        sqlite_insert(
            &mut tx,
            "INSERT INTO ticket_transactions (id, ticket_id, kind, actor, created_at, field, \
             old_value, new_value, body, body_format, time_taken)",
            11,
            &c.txns,
            |q, x| {
                q.bind(x.id)
                    .bind(x.ticket_id)
                    .bind(x.kind)
                    .bind(x.actor.clone())
                    .bind(x.created_at)
                    .bind(x.field)
                    .bind(x.old_value.clone())
                    .bind(x.new_value.clone())
                    .bind(x.body.clone())
                    .bind(x.body.as_ref().map(|_| "text"))
                    .bind(x.time_taken)
            },
        )
        .await?;
        sqlite_insert(
            &mut tx,
            "INSERT INTO ticket_watchers (ticket_id, role, email)",
            3,
            &c.watchers,
            |q, w| q.bind(w.ticket_id).bind(w.role).bind(w.email.clone()),
        )
        .await?;
        sqlite_insert(
            &mut tx,
            "INSERT INTO ticket_links (base_id, target_id, kind, created_at)",
            4,
            &c.links,
            |q, l| {
                q.bind(l.base_id)
                    .bind(l.target_id)
                    .bind(l.kind)
                    .bind(l.created_at)
            },
        )
        .await?;
        tx.commit().await?;
        progress(before, stats.tickets, n, t0);
    }
    stats.rows_secs = t0.elapsed().as_secs_f64();

    let t1 = Instant::now();
    for (_, sql) in indexes {
        exec_sqlite(&mut conn, sql).await?;
    }
    // What the app's index task (src/search/index.rs) would do in batches, in one statement
    // each, and its marks set past the loaded rows.
    exec_sqlite(
        &mut conn,
        "INSERT INTO search.tickets_fts (rowid, subject) SELECT id, subject FROM tickets".into(),
    )
    .await?;
    exec_sqlite(
        &mut conn,
        "INSERT INTO search.ticket_text_fts (rowid, body) \
         SELECT ticket_id, group_concat(body, char(10, 30, 10)) \
         FROM ticket_transactions WHERE body IS NOT NULL GROUP BY ticket_id"
            .into(),
    )
    .await?;
    exec_sqlite(
        &mut conn,
        "UPDATE search.ticket_fts_marks SET indexed_to = CASE name \
           WHEN 'subjects' THEN (SELECT coalesce(max(id), 0) FROM tickets) \
           WHEN 'bodies' THEN (SELECT coalesce(max(id), 0) FROM ticket_transactions) \
           ELSE indexed_to END"
            .into(),
    )
    .await?;
    stats.index_secs = t1.elapsed().as_secs_f64();
    let t2 = Instant::now();
    exec_sqlite(&mut conn, "ANALYZE".into()).await?;
    stats.analyze_secs = t2.elapsed().as_secs_f64();
    exec_sqlite(&mut conn, "PRAGMA wal_checkpoint(TRUNCATE)".into()).await?;
    exec_sqlite(&mut conn, "PRAGMA search.wal_checkpoint(TRUNCATE)".into()).await?;
    conn.close().await?;
    stats
        .notes
        .push("the subject FTS5 rows and the per-ticket text documents built after the insert, with the indexes".into());
    Ok(stats)
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL: COPY in text format, 20,000 tickets per round.

/// A value in COPY's text format.
fn copy_text(out: &mut String, s: &str) {
    for ch in s.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

/// One row of COPY text: `None` is NULL.
fn copy_row(out: &mut String, cols: &[Option<&str>]) {
    for (i, c) in cols.iter().enumerate() {
        if i > 0 {
            out.push('\t');
        }
        match c {
            Some(v) => copy_text(out, v),
            None => out.push_str("\\N"),
        }
    }
    out.push('\n');
}

fn ts(us: i64) -> String {
    jiff::Timestamp::from_microsecond(us)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

async fn copy_in(conn: &mut PgConnection, statement: &str, data: String) -> Res<()> {
    if data.is_empty() {
        return Ok(());
    }
    let mut copy = conn.copy_in_raw(statement).await?;
    copy.send(data.into_bytes()).await?;
    copy.finish().await?;
    Ok(())
}

async fn exec_pg(conn: &mut PgConnection, sql: String) -> Res<()> {
    sqlx::raw_sql(AssertSqlSafe(sql))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

async fn load_pg(url: &str, n: i64, now_us: i64) -> Res<LoadStats> {
    let mut stats = LoadStats::default();
    let mut conn = PgConnection::connect(url).await?;
    exec_pg(
        &mut conn,
        "SET synchronous_commit = off; SET maintenance_work_mem = '512MB'".into(),
    )
    .await?;
    // Foreign-key checks off for the load when allowed (superuser); the data is consistent by
    // construction. Without the right, the checks run, and the load is slower.
    match exec_pg(&mut conn, "SET session_replication_role = replica".into()).await {
        Ok(()) => stats
            .notes
            .push("foreign-key triggers off during COPY (session_replication_role)".into()),
        Err(_) => stats
            .notes
            .push("foreign-key checks ran during COPY (no superuser)".into()),
    }
    let indexes: Vec<(String, String)> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT i.relname::text, pg_get_indexdef(i.oid) FROM pg_index x \
         JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid \
         WHERE t.relname IN ({TICKET_TABLES}) AND t.relnamespace = 'public'::regnamespace \
         AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) \
         ORDER BY 1"
    )))
    .fetch_all(&mut conn)
    .await?;
    for (name, _) in &indexes {
        exec_pg(&mut conn, format!("DROP INDEX \"{name}\"")).await?;
    }

    let t0 = Instant::now();
    let made = ts(now_us - SPAN_US - DAY_US);
    let (mut cu, mut dom, mut us) = (String::new(), String::new(), String::new());
    for i in 0..CUSTOMERS {
        let id = (i + 1).to_string();
        copy_row(
            &mut cu,
            &[
                Some(&id),
                Some(&format!("C{i:04}")),
                Some(&format!("Customer {i:04} Networks")),
                Some(&made),
                Some(&made),
            ],
        );
        copy_row(&mut dom, &[Some(&id), Some(&format!("c{i:04}.example"))]);
    }
    for i in 0..AGENTS {
        copy_row(
            &mut us,
            &[
                Some(&(i + 1).to_string()),
                Some(&format!("agent{i}")),
                Some(&format!("agent{i}@isp.example")),
                Some(&format!("Agent {i}")),
                Some("agent"),
                Some(&made),
                Some(&made),
            ],
        );
    }
    copy_in(
        &mut conn,
        "COPY customers (id, code, name, created_at, updated_at) FROM STDIN",
        cu,
    )
    .await?;
    copy_in(
        &mut conn,
        "COPY customer_domains (customer_id, domain) FROM STDIN",
        dom,
    )
    .await?;
    copy_in(
        &mut conn,
        "COPY users (id, username, email, name, role, created_at, updated_at) FROM STDIN",
        us,
    )
    .await?;

    let mut generator = Generator::new(n, now_us, 0x0b5d_e5c0);
    while !generator.done() {
        let c = generator.chunk(20_000);
        let before = stats.tickets;
        stats.count(&c);
        let mut buf = String::with_capacity(c.tickets.len() * 200);
        for t in &c.tickets {
            copy_row(
                &mut buf,
                &[
                    Some(&t.id.to_string()),
                    Some(&format!("Q{}", t.queue)),
                    Some(&t.subject),
                    Some(t.status),
                    Some(&t.priority.to_string()),
                    t.owner_id.map(|v| v.to_string()).as_deref(),
                    t.customer_id.map(|v| v.to_string()).as_deref(),
                    Some(t.source),
                    t.host.as_deref(),
                    Some(&t.time_worked.to_string()),
                    Some(&t.created_by),
                    Some(&ts(t.created_at)),
                    Some(&ts(t.updated_at)),
                    t.resolved_at.map(ts).as_deref(),
                ],
            );
        }
        copy_in(
            &mut conn,
            "COPY tickets (id, queue, subject, status, priority, owner_id, customer_id, source, \
             host, time_worked, created_by, created_at, updated_at, resolved_at) FROM STDIN",
            buf,
        )
        .await?;
        let mut buf = String::with_capacity(c.txns.len() * 200);
        for x in &c.txns {
            copy_row(
                &mut buf,
                &[
                    Some(&x.id.to_string()),
                    Some(&x.ticket_id.to_string()),
                    Some(x.kind),
                    Some(&x.actor),
                    Some(&ts(x.created_at)),
                    x.field,
                    x.old_value.as_deref(),
                    x.new_value.as_deref(),
                    x.body.as_deref(),
                    x.body.as_ref().map(|_| "text"),
                    Some(&x.time_taken.to_string()),
                ],
            );
        }
        copy_in(
            &mut conn,
            "COPY ticket_transactions (id, ticket_id, kind, actor, created_at, field, old_value, \
             new_value, body, body_format, time_taken) FROM STDIN",
            buf,
        )
        .await?;
        // The pair index of two-character searches (migration 0021), as the server's index
        // task would file it: the load runs with triggers off, so nothing is queued for it.
        let mut subjects = String::with_capacity(c.tickets.len() * 100);
        for t in &c.tickets {
            let codes = opsdesk::db::pair_array(&opsdesk::db::pair_codes(&t.subject));
            copy_row(&mut subjects, &[Some(&t.id.to_string()), Some(&codes)]);
        }
        copy_in(
            &mut conn,
            "COPY ticket_subject_pairs (ticket_id, pairs) FROM STDIN",
            subjects,
        )
        .await?;
        let mut bodies = String::with_capacity(c.txns.len() * 300);
        for x in &c.txns {
            if let Some(body) = &x.body {
                let codes = opsdesk::db::pair_array(&opsdesk::db::pair_codes(body));
                copy_row(&mut bodies, &[Some(&x.id.to_string()), Some(&codes)]);
            }
        }
        copy_in(
            &mut conn,
            "COPY ticket_body_pairs (id, pairs) FROM STDIN",
            bodies,
        )
        .await?;
        let mut buf = String::new();
        for w in &c.watchers {
            copy_row(
                &mut buf,
                &[Some(&w.ticket_id.to_string()), Some(w.role), Some(&w.email)],
            );
        }
        copy_in(
            &mut conn,
            "COPY ticket_watchers (ticket_id, role, email) FROM STDIN",
            buf,
        )
        .await?;
        let mut buf = String::new();
        for l in &c.links {
            copy_row(
                &mut buf,
                &[
                    Some(&l.base_id.to_string()),
                    Some(&l.target_id.to_string()),
                    Some(l.kind),
                    Some(&ts(l.created_at)),
                ],
            );
        }
        copy_in(
            &mut conn,
            "COPY ticket_links (base_id, target_id, kind, created_at) FROM STDIN",
            buf,
        )
        .await?;
        progress(before, stats.tickets, n, t0);
    }
    stats.rows_secs = t0.elapsed().as_secs_f64();
    // Without the right to turn triggers off they queued every text the load filed above.
    exec_pg(
        &mut conn,
        "DELETE FROM text_pairs_pending WHERE kind IN ('subject', 'body')".into(),
    )
    .await?;

    let t1 = Instant::now();
    for (_, sql) in indexes {
        exec_pg(&mut conn, sql).await?;
    }
    stats.index_secs = t1.elapsed().as_secs_f64();
    for table in ["customers", "users", "tickets", "ticket_transactions"] {
        exec_pg(
            &mut conn,
            format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            ),
        )
        .await?;
    }
    let t2 = Instant::now();
    exec_pg(&mut conn, "VACUUM (ANALYZE)".into()).await?;
    stats.analyze_secs = t2.elapsed().as_secs_f64();
    conn.close().await?;
    stats.notes.push(
        "secondary indexes (pg_trgm GIN included) dropped before COPY and recreated after it"
            .into(),
    );
    Ok(stats)
}

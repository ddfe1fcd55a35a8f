//! The databases a bench runs on, shared by the benches that take `--tickets`, `--pg URL` and
//! `--no-sqlite`: the counts those options take, a fresh database for each run (a SQLite file
//! in a directory of its own, or a new PostgreSQL database on the server `--pg` names, dropped
//! afterwards), and how a report names them.

use std::future::Future;
use std::path::{Path, PathBuf};

use sqlx::AssertSqlSafe;

use opsdesk::db::{DatabaseUrl, Db};

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// What `--tickets N`, `--pg URL` and `--no-sqlite` ask for.
pub struct DbArgs {
    /// Tickets to load before the run; 0 leaves the database empty.
    pub tickets: i64,
    /// The PostgreSQL server's URL.
    pub pg: Option<String>,
    pub sqlite: bool,
    /// Whether the bench takes `--tickets`.
    takes_tickets: bool,
}

/// Takes the value of the option being read.
pub type Value<'a> = &'a mut dyn FnMut() -> Result<String, String>;

impl DbArgs {
    /// Reads the bench's command line: `--pg`, `--no-sqlite` and, with `tickets`, `--tickets`
    /// here, `--bench` (cargo bench passes it to harness = false targets) skipped, any other
    /// option handed to `other` with a way to take its value.
    pub fn parse(
        tickets: bool,
        mut other: impl FnMut(&str, Value) -> Result<(), String>,
    ) -> Result<DbArgs, String> {
        let mut a = DbArgs {
            tickets: 0,
            pg: None,
            sqlite: true,
            takes_tickets: tickets,
        };
        let mut it = std::env::args().skip(1);
        while let Some(k) = it.next() {
            let mut value = || it.next().ok_or_else(|| format!("{k} needs a value"));
            match k.as_str() {
                "--bench" => {}
                "--tickets" if tickets => a.tickets = parse_count(&value()?)?,
                "--pg" => a.pg = Some(value()?).filter(|v| !v.is_empty()),
                "--no-sqlite" => a.sqlite = false,
                _ => other(&k, &mut value)?,
            }
        }
        if !a.sqlite && a.pg.is_none() {
            return Err("--no-sqlite leaves no database to run on without --pg URL".into());
        }
        Ok(a)
    }

    /// The backends to run on, as [`backends`] gives them.
    pub fn backends(&self) -> Vec<(&'static str, Option<String>)> {
        backends(self.sqlite, self.pg.as_deref())
    }

    /// The options as a report quotes them: ` --tickets N` (if the bench takes it), then
    /// ` --pg URL` and ` --no-sqlite` as [`backend_args`] gives them.
    pub fn command(&self) -> String {
        let tickets = if self.takes_tickets {
            format!(" --tickets {}", size_label(self.tickets))
        } else {
            String::new()
        };
        tickets + &backend_args(self.sqlite, self.pg.as_deref())
    }
}

/// A count as `--tickets` takes it: `10k`, `100k`, `1m`, or a plain number (`_` allowed).
pub fn parse_count(s: &str) -> Result<i64, String> {
    let s = s.trim().to_ascii_lowercase();
    let (num, mul) = if let Some(v) = s.strip_suffix('m') {
        (v, 1_000_000)
    } else if let Some(v) = s.strip_suffix('k') {
        (v, 1_000)
    } else {
        (s.as_str(), 1)
    };
    match num.replace('_', "").parse::<i64>() {
        Ok(v) if v >= 0 => Ok(v * mul),
        _ => Err(format!("\"{s}\" is not a count")),
    }
}

/// `10k`, `1M` for round counts, the number otherwise.
pub fn size_label(n: i64) -> String {
    if n >= 1_000_000 && n % 1_000_000 == 0 {
        format!("{}M", n / 1_000_000)
    } else if n >= 1_000 && n % 1_000 == 0 {
        format!("{}k", n / 1_000)
    } else {
        n.to_string()
    }
}

/// `10k tickets`, or `empty database` for none.
pub fn tickets_label(n: i64) -> String {
    if n == 0 {
        "empty database".into()
    } else {
        format!("{} tickets", size_label(n))
    }
}

/// What a report's Method says of a database from [`with_fresh_db`], bulk-loaded with `n`
/// tickets by `tickets/data.rs` (`data::load`), or left empty for none.
pub fn fresh_db_text(backend: &str, n: i64) -> String {
    let db = if backend == "SQLite" {
        "SQLite file in a temp dir"
    } else {
        "PostgreSQL database on the `--pg` server (dropped afterwards)"
    };
    let data = if n > 0 {
        format!(
            "bulk-loaded, untimed, with {} tickets by the tickets bench's loader \
             (`bench/tickets/data.rs`: direct SQL; 5,000 customers with the domains \
             c0000.example … c4999.example, 30 agents, tickets over two years in 20 queues with \
             about 5 history entries each; secondary indexes rebuilt, then ANALYZE)",
            size_label(n)
        )
    } else {
        "left empty (no tickets, no customers)".to_owned()
    };
    format!("a fresh {db}, migrated by the app's migrations and {data}")
}

/// The backends a run covers, in order: SQLite unless `--no-sqlite`, then PostgreSQL on the
/// server `--pg` names. Each is (its name, the server's URL for PostgreSQL).
pub fn backends(sqlite: bool, pg: Option<&str>) -> Vec<(&'static str, Option<String>)> {
    let mut b = Vec::new();
    if sqlite {
        b.push(("SQLite", None));
    }
    if let Some(pg) = pg {
        b.push(("PostgreSQL", Some(pg.to_owned())));
    }
    b
}

/// The ` --pg URL` (password hidden) and ` --no-sqlite` of a bench's command line, as a report
/// quotes it.
pub fn backend_args(sqlite: bool, pg: Option<&str>) -> String {
    let mut s = String::new();
    if let Some(pg) = pg {
        let shown = DatabaseUrl::parse(pg).map_or_else(|_| "URL".to_owned(), |u| u.redacted());
        s.push_str(&format!(" --pg {shown}"));
    }
    if !sqlite {
        s.push_str(" --no-sqlite");
    }
    s
}

/// The database as a report names it: SQLite's version and settings, or the PostgreSQL
/// server's version, fsync and synchronous_commit.
pub async fn version(db: &Db) -> Res<String> {
    Ok(match db {
        Db::Sqlite(p) => format!(
            "SQLite {} (bundled by sqlx; WAL, synchronous=NORMAL)",
            sqlx::query_scalar::<_, String>("SELECT sqlite_version()")
                .fetch_one(&**p)
                .await?
        ),
        Db::Postgres(p) => {
            let v: String = sqlx::query_scalar("SHOW server_version")
                .fetch_one(p)
                .await?;
            let fsync: String = sqlx::query_scalar("SHOW fsync").fetch_one(p).await?;
            let sc: String = sqlx::query_scalar("SHOW synchronous_commit")
                .fetch_one(p)
                .await?;
            format!("PostgreSQL {v} (fsync={fsync}, synchronous_commit={sc}, loopback)")
        }
    })
}

/// A database on a PostgreSQL server, with a connection to the server's own database to
/// create and drop it.
pub struct PgDb {
    admin: sqlx::PgPool,
    pub name: String,
    /// The database's URL: the server's with the database's name as its path.
    pub url: String,
}

impl PgDb {
    /// Opens `name` on the server `admin` names (a URL whose user may CREATE DATABASE),
    /// creating it first when `create`.
    pub async fn open(admin: &str, name: String, create: bool) -> Res<PgDb> {
        let shown = DatabaseUrl::parse(admin).map_or_else(|_| "URL".to_owned(), |u| u.redacted());
        let pool = sqlx::PgPool::connect(admin)
            .await
            .map_err(|e| format!("cannot connect to the PostgreSQL server {shown}: {e}"))?;
        if create {
            sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&pool)
                .await
                .map_err(|e| format!("cannot create the database {name} on {shown}: {e}"))?;
        }
        let mut u = url::Url::parse(admin)?;
        u.set_path(&name);
        Ok(PgDb {
            admin: pool,
            name,
            url: u.into(),
        })
    }

    /// Drops the database (its open connections closed by force), or leaves it in place when
    /// `keep`; a failure to drop is reported on stderr, not returned.
    pub async fn close(self, keep: bool) {
        if keep {
            eprintln!("   kept the database {}", self.name);
        } else if let Err(e) = sqlx::raw_sql(AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        )))
        .execute(&self.admin)
        .await
        {
            eprintln!("   could not drop the database {}: {e}", self.name);
        }
        self.admin.close().await;
    }
}

/// Runs `f` on a fresh database for `bench` at `n` tickets: a SQLite file in `root/sqlite-{n}`,
/// or with `pg` (the URL of a server whose user may CREATE DATABASE) a new database
/// `opsdesk_bench_{bench}_{random}_{n}` on that server, dropped afterwards whatever `f`
/// answered. `f` gets the database's URL and a directory of its own, removed afterwards. Its
/// future is boxed: a bench's whole run in one future type outgrew the compiler's query depth.
pub async fn with_fresh_db<T, F, Fut>(
    bench: &str,
    pg: Option<&str>,
    n: i64,
    root: &Path,
    f: F,
) -> Res<T>
where
    F: FnOnce(String, PathBuf) -> Fut,
    Fut: Future<Output = Res<T>>,
{
    let dir = root.join(format!(
        "{}-{n}",
        if pg.is_some() { "pg" } else { "sqlite" }
    ));
    std::fs::create_dir_all(&dir)?;
    let r = match pg {
        None => {
            let url = format!("sqlite://{}", dir.join("opsdesk.db").display());
            Box::pin(f(url, dir.clone())).await
        }
        Some(admin) => {
            let name = format!(
                "opsdesk_bench_{bench}_{}_{n}",
                hex::encode(rand::random::<[u8; 4]>())
            );
            match PgDb::open(admin, name, true).await {
                Ok(db) => {
                    let r = Box::pin(f(db.url.clone(), dir.clone())).await;
                    db.close(false).await;
                    r
                }
                Err(e) => Err(e),
            }
        }
    };
    let _ = std::fs::remove_dir_all(&dir);
    r
}

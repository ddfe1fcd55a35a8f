use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::helpers::*;

#[tokio::test]
async fn sigterm_stops_the_server_cleanly_with_exit_code_zero() {
    let mut app = TestApp::spawn().await;
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
    let status = app.terminate();
    assert!(status.success(), "{status:?}\n{}", app.log_text());
    let log = app.log_text();
    assert!(
        log.contains("shutting down") && log.contains("stopped"),
        "{log}"
    );
}

#[tokio::test]
async fn an_unreachable_database_at_start_is_a_clear_error_and_a_non_zero_exit() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        "postgres://opsdesk:hunter2-secret@127.0.0.1:1/opsdesk",
        "[db]\nacquire_timeout = \"2s\"\n",
    );
    let started = Instant::now();
    let out = cli(&cfg, &["serve"], None);
    assert!(!out.status.success());
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "gave up too slowly"
    );
    let err = text(&out.stderr);
    assert!(
        err.contains(
            "cannot connect to the database at postgres://opsdesk:***@127.0.0.1:1/opsdesk"
        ),
        "{err}"
    );
    assert!(
        !err.contains("hunter2-secret"),
        "the password leaked: {err}"
    );
}

#[tokio::test]
async fn migrate_applies_the_migrations_and_is_idempotent() {
    let db = TestDb::fresh().await;
    let cfg = write_config(db.dir.path(), &db.url, "");
    for _ in 0..2 {
        let out = cli(&cfg, &["migrate"], None);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(text(&out.stdout).contains("migrations applied"));
    }
}

#[tokio::test]
async fn backup_writes_a_consistent_sqlite_snapshot_while_the_server_runs() {
    let app = TestApp::spawn().await;
    let target = app.db.dir.path().join("snapshot.db");
    let out = app.cli(&["backup", target.to_str().unwrap()], None);
    if app.db.is_postgres() {
        assert!(!out.status.success());
        assert!(
            text(&out.stderr).contains("pg_dump"),
            "{}",
            text(&out.stderr)
        );
        return;
    }
    assert!(out.status.success(), "{}", text(&out.stderr));
    // The server keeps serving, and the copy opens as a database with the admin in it.
    assert_eq!(app.get("/readyz").await.status(), StatusCode::OK);
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", target.display()))
        .await
        .unwrap();
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE username = 'admin'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(n, 1);
    let check: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(check, "ok");
    // The copy is marked as its own, so that the live full-text index file (which the copy
    // leaves out) is never taken for the copy's when it is restored beside it.
    let live = sqlx::SqlitePool::connect(&format!(
        "sqlite://{}",
        app.db.dir.path().join("opsdesk.db").display()
    ))
    .await
    .unwrap();
    let owner = "SELECT token FROM ticket_fts_owner";
    let (a, b): (String, String) = (
        sqlx::query_scalar(owner).fetch_one(&live).await.unwrap(),
        sqlx::query_scalar(owner).fetch_one(&pool).await.unwrap(),
    );
    assert_ne!(a, b, "the copy has a token of its own");
    assert_eq!(b.len(), 32);
    // Never overwrites.
    let again = app.cli(&["backup", target.to_str().unwrap()], None);
    assert!(!again.status.success());
    assert!(text(&again.stderr).contains("exists"));
}

#[tokio::test]
async fn a_second_node_on_the_same_database_does_not_create_a_second_admin() {
    let db = TestDb::fresh().await;
    let cfg = write_config(db.dir.path(), &db.url, "");
    let spawn = || {
        let mut c = Command::new(BIN);
        c.arg("--config")
            .arg(&cfg)
            .arg("serve")
            .env("OPSDESK_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("RUST_LOG", "info");
        c
    };
    let (mut a, base_a, _) = start(spawn()).await;
    let (mut b, base_b, _) = start(spawn()).await;
    for base in [&base_a, &base_b] {
        let r = client().get(format!("{base}/readyz")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
    let pool = db.pool().await;
    assert_eq!(opsdesk::auth::count_users(&pool).await.unwrap(), 1);
    let _ = a.kill();
    let _ = b.kill();
    let _ = a.wait();
    let _ = b.wait();
}

/// A private PostgreSQL cluster this test can stop and start.
struct PgCluster {
    bin: String,
    user: String,
    dir: tempfile::TempDir,
    port: u16,
}

impl PgCluster {
    fn pg(&self, tool: &str, args: &[&str]) -> std::process::Output {
        let exe = format!("{}/{tool}", self.bin);
        let mut cmd = if self.user.is_empty() {
            Command::new(&exe)
        } else {
            let mut c = Command::new("runuser");
            c.args(["-u", &self.user, "--", &exe]);
            c
        };
        cmd.args(args).output().unwrap()
    }

    fn init() -> PgCluster {
        let bin = std::env::var("OPSDESK_TEST_PG_BIN")
            .expect("OPSDESK_TEST_PG_BIN must name PostgreSQL's bin folder (scripts/test sets it)");
        let user = std::env::var("OPSDESK_TEST_PG_USER").unwrap_or_default();
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let c = PgCluster {
            bin,
            user,
            dir,
            port,
        };
        if !c.user.is_empty() {
            Command::new("chown")
                .args(["-R", &c.user, c.dir.path().to_str().unwrap()])
                .status()
                .unwrap();
        }
        let data = c.data();
        let out = c.pg("initdb", &["-A", "trust", "-U", "postgres", "-D", &data]);
        assert!(out.status.success(), "initdb: {}", text(&out.stderr));
        c
    }

    fn data(&self) -> String {
        self.dir.path().join("data").to_str().unwrap().to_owned()
    }

    fn start(&self) {
        let opts = format!(
            "-k {} -h 127.0.0.1 -p {} -c fsync=off",
            self.dir.path().display(),
            self.port
        );
        let log = self.dir.path().join("pg.log");
        let out = self.pg(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-o",
                &opts,
                "-l",
                log.to_str().unwrap(),
                "-w",
                "start",
            ],
        );
        assert!(out.status.success(), "pg_ctl start: {}", text(&out.stderr));
    }

    fn stop(&self) {
        let out = self.pg("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", "stop"]);
        assert!(out.status.success(), "pg_ctl stop: {}", text(&out.stderr));
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let _ = self.pg("pg_ctl", &["-D", &self.data(), "-m", "immediate", "stop"]);
    }
}

#[tokio::test]
async fn a_database_restart_while_serving_turns_readyz_503_and_then_it_recovers() {
    let pg = PgCluster::init();
    pg.start();
    let db = TestDb::fresh().await;
    let url = format!("postgres://postgres@127.0.0.1:{}/postgres", pg.port);
    let cfg = write_config(db.dir.path(), &url, "[db]\nacquire_timeout = \"1s\"\n");
    let mut cmd = Command::new(BIN);
    cmd.arg("--config")
        .arg(&cfg)
        .arg("serve")
        .env("OPSDESK_ADMIN_PASSWORD", ADMIN_PASSWORD);
    let (mut child, base, log) = start(cmd).await;
    let http = client();
    let ready = |http: reqwest::Client, base: String| async move {
        http.get(format!("{base}/readyz"))
            .send()
            .await
            .unwrap()
            .status()
    };
    assert_eq!(ready(http.clone(), base.clone()).await, StatusCode::OK);

    pg.stop();
    assert_eq!(
        ready(http.clone(), base.clone()).await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    // The process keeps living while its database is away.
    assert_eq!(
        http.get(format!("{base}/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    // An API call during the outage is a 503 in JSON, not a crash.
    let r = http
        .get(format!("{base}/api/v1/me"))
        .bearer_auth("odt_x")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        log.lock().unwrap()
    );

    pg.start();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if ready(http.clone(), base.clone()).await == StatusCode::OK {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "never recovered:\n{}",
            log.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
}

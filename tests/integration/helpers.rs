//! The test harness: a fresh database per test (a temp SQLite file, or a new PostgreSQL
//! database when OPSDESK_TEST_DATABASE_URL names a server), the real `opsdesk` binary started
//! on a random loopback port, and one method per endpoint.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opsdesk::db::{DatabaseUrl, Db, PoolOptions};
use reqwest::StatusCode;
use reqwest::redirect::Policy;
use tempfile::TempDir;

pub const ADMIN_PASSWORD: &str = "first-start-admin-pw";
pub const BIN: &str = env!("CARGO_BIN_EXE_opsdesk");

/// A fresh, empty database for one test.
pub struct TestDb {
    pub url: String,
    /// Holds the SQLite file (and any config) until the test ends.
    pub dir: TempDir,
}

impl TestDb {
    pub async fn fresh() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let url = match std::env::var("OPSDESK_TEST_DATABASE_URL") {
            Ok(admin) if !admin.is_empty() => {
                let name = format!("opsdesk_test_{}", hex::encode(rand::random::<[u8; 6]>()));
                let pool = sqlx::PgPool::connect(&admin)
                    .await
                    .expect("connect to OPSDESK_TEST_DATABASE_URL");
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&pool)
                    .await
                    .unwrap();
                pool.close().await;
                let mut u = url::Url::parse(&admin).unwrap();
                u.set_path(&name);
                u.to_string()
            }
            _ => format!("sqlite://{}", dir.path().join("opsdesk.db").display()),
        };
        TestDb { url, dir }
    }

    pub fn is_postgres(&self) -> bool {
        self.url.starts_with("postgres")
    }

    /// A migrated pool on this database, for tests that drive the library directly.
    pub async fn pool(&self) -> Db {
        let db = Db::connect(
            &DatabaseUrl::parse(&self.url).unwrap(),
            PoolOptions::default(),
        )
        .await
        .unwrap();
        db.migrate().await.unwrap();
        db
    }
}

/// Extra settings for a spawned app.
#[derive(Default, Clone)]
pub struct Options {
    /// TOML appended to the generated config file.
    pub toml: String,
    pub env: Vec<(String, String)>,
    /// Start without OPSDESK_ADMIN_PASSWORD.
    pub no_admin_password: bool,
}

impl Options {
    pub fn toml(s: &str) -> Options {
        Options {
            toml: s.to_owned(),
            ..Options::default()
        }
    }
}

/// The real binary, serving on a random port.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub db: TestDb,
    pub config: PathBuf,
    child: Option<Child>,
    pub log: Arc<Mutex<String>>,
}

pub fn write_config(dir: &Path, db_url: &str, extra: &str) -> PathBuf {
    let path = dir.join("opsdesk.toml");
    let text = format!(
        "listen = \"127.0.0.1:0\"\ndatabase_url = \"{db_url}\"\nbase_url = \"http://127.0.0.1\"\n\n[jobs]\nworkers = 1\n\n{extra}\n"
    );
    std::fs::write(&path, text).unwrap();
    path
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(Options::default()).await
    }

    pub async fn spawn_with(opts: Options) -> TestApp {
        let db = TestDb::fresh().await;
        Self::spawn_on(db, opts).await
    }

    pub async fn spawn_on(db: TestDb, opts: Options) -> TestApp {
        let config = write_config(db.dir.path(), &db.url, &opts.toml);
        let mut cmd = Command::new(BIN);
        cmd.arg("--config")
            .arg(&config)
            .arg("serve")
            .current_dir(db.dir.path());
        cmd.env_remove("OPSDESK_TEST_DATABASE_URL")
            .env("RUST_LOG", "info,sqlx=warn");
        if !opts.no_admin_password {
            cmd.env("OPSDESK_ADMIN_PASSWORD", ADMIN_PASSWORD);
        }
        for (k, v) in &opts.env {
            cmd.env(k, v);
        }
        let (child, base, log) = start(cmd).await;
        TestApp {
            base,
            client: client(),
            db,
            config,
            child: Some(child),
            log,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn get_text(&self, path: &str) -> (StatusCode, String) {
        let r = self.get(path).await;
        (r.status(), r.text().await.unwrap())
    }

    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .form(fields)
            .send()
            .await
            .unwrap()
    }

    /// The CSRF token a page's forms carry.
    pub async fn csrf(&self, path: &str) -> String {
        let (_, body) = self.get_text(path).await;
        csrf_in(&body).unwrap_or_else(|| panic!("no csrf_token on {path}: {body}"))
    }

    /// Submits the login form as a browser would; answers the POST's response.
    pub async fn login(&self, username: &str, password: &str) -> reqwest::Response {
        let token = self.csrf("/login").await;
        self.post_form(
            "/login",
            &[
                ("username", username),
                ("password", password),
                ("csrf_token", &token),
            ],
        )
        .await
    }

    pub async fn login_admin(&self) {
        let r = self.login("admin", ADMIN_PASSWORD).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "admin login failed");
    }

    pub async fn api_get(&self, path: &str, token: &str) -> reqwest::Response {
        client()
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// Runs `opsdesk --config <this app's config> ARGS`, with optional stdin.
    pub fn cli(&self, args: &[&str], stdin: Option<&str>) -> Output {
        cli(&self.config, args, stdin)
    }

    /// Creates a local user through the CLI, as an operator would.
    pub fn add_user(&self, username: &str, role: &str, password: &str) {
        let email = format!("{username}@example.net");
        let args = [
            "user",
            "add",
            username,
            "--email",
            &email,
            "--role",
            role,
            "--password-stdin",
        ];
        let out = self.cli(&args, Some(password));
        assert!(
            out.status.success(),
            "user add {username}: {}",
            text(&out.stderr)
        );
    }

    pub fn log_text(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Whether the app's log shows `needle` within 10 s: the log is read from the child's
    /// stderr by another thread, so a line may land after the response that followed it.
    pub async fn log_shows(&self, needle: &str) -> bool {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::time::Instant::now() < deadline {
            if self.log_text().contains(needle) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        false
    }

    /// Sends SIGTERM and waits for the exit (at most 30 s).
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let child = self.child.take().unwrap();
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        wait_exit(child, Duration::from_secs(30))
    }
}

impl TestApp {
    /// Creates an API token of `scope` through the CLI; answers the token.
    pub fn token(&self, name: &str, scope: &str) -> String {
        let out = self.cli(&["token", "create", name, "--scope", scope], None);
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout).trim().to_owned()
    }

    /// Kills the server outright (SIGKILL, by PID), as a crash or the OOM killer would.
    pub fn kill(&mut self) {
        let mut child = self.child.take().unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Waits for a child to exit; after `limit` it is killed (by PID) and the test fails.
pub fn wait_exit(mut child: Child, limit: Duration) -> std::process::ExitStatus {
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    match rx.recv_timeout(limit) {
        Ok(status) => status.unwrap(),
        Err(_) => {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!("process {pid} did not exit within {limit:?}");
        }
    }
}

/// Starts the server command and waits for its "listening" line; the rest of its log is kept.
pub async fn start(mut cmd: Command) -> (Child, String, Arc<Mutex<String>>) {
    cmd.stdout(Stdio::null())
        .stderr(Stdio::piped())
        .stdin(Stdio::null());
    let mut child = cmd.spawn().expect("start opsdesk");
    let stderr = child.stderr.take().unwrap();
    let log = Arc::new(Mutex::new(String::new()));
    let (tx, rx) = std::sync::mpsc::channel::<Option<String>>();
    let keep = log.clone();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            keep.lock().unwrap().push_str(&line);
            keep.lock().unwrap().push('\n');
            if !sent && let Some(i) = line.find("addr=") {
                let addr = line[i + 5..]
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
                    .to_owned();
                let _ = tx.send(Some(addr));
                sent = true;
            }
        }
        if !sent {
            let _ = tx.send(None);
        }
    });
    let addr = tokio::task::spawn_blocking(move || rx.recv_timeout(Duration::from_secs(90)))
        .await
        .unwrap();
    match addr {
        Ok(Some(a)) => (child, format!("http://{a}"), log),
        _ => {
            let _ = child.kill();
            let status = child.wait().ok();
            panic!(
                "opsdesk did not start ({status:?}); its log:\n{}",
                log.lock().unwrap()
            );
        }
    }
}

pub fn cli(config: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.arg("--config")
        .arg(config)
        .args(args)
        .env_remove("OPSDESK_TEST_DATABASE_URL");
    cmd.env("RUST_LOG", "warn");
    run_with_stdin(cmd, stdin)
}

pub fn run_with_stdin(mut cmd: Command, stdin: Option<&str>) -> Output {
    use std::io::Write;
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut pipe = child.stdin.take().unwrap();
    if let Some(s) = stdin {
        // A command that refuses its arguments exits before it reads stdin; the write then
        // meets a closed pipe, which is that refusal, not a failure of the test.
        if let Err(e) = pipe.write_all(s.as_bytes()) {
            assert_eq!(
                e.kind(),
                std::io::ErrorKind::BrokenPipe,
                "writing stdin: {e}"
            );
        }
    }
    drop(pipe);
    child.wait_with_output().unwrap()
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

pub fn csrf_in(html: &str) -> Option<String> {
    let i = html.find("name=\"csrf_token\" value=\"")?;
    let rest = &html[i + 25..];
    Some(rest[..rest.find('"')?].to_owned())
}

/// The value of the `Set-Cookie` header for the session cookie, if any.
pub fn session_cookie(r: &reqwest::Response) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("opsdesk_session="))
        .map(str::to_owned)
}

/// An app in this process with a hand-moved clock, for expiry and timer tests.
pub struct InProcess {
    pub base: String,
    pub clock: opsdesk::clock::ManualClock,
    pub client: reqwest::Client,
    _stop: tokio::sync::oneshot::Sender<()>,
    _dir: TestDb,
}

impl InProcess {
    pub async fn start(extra_toml: &str) -> InProcess {
        let tdb = TestDb::fresh().await;
        let path = write_config(tdb.dir.path(), &tdb.url, extra_toml);
        let loaded = opsdesk::config::load(Some(&path)).unwrap();
        let clock = opsdesk::clock::ManualClock::new("2026-11-23T09:00:00Z".parse().unwrap());
        let app = opsdesk::app::App::build(
            loaded.config,
            Arc::new(clock.clone()),
            Some(ADMIN_PASSWORD.into()),
        )
        .await
        .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(app.run(listener, async move {
            let _ = rx.await;
        }));
        InProcess {
            base,
            clock,
            client: client(),
            _stop: stop,
            _dir: tdb,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn login(&self, username: &str, password: &str) -> reqwest::Response {
        let body = self
            .client
            .get(self.url("/login"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let token = csrf_in(&body).unwrap();
        self.client
            .post(self.url("/login"))
            .form(&[
                ("username", username),
                ("password", password),
                ("csrf_token", &token),
            ])
            .send()
            .await
            .unwrap()
    }

    pub async fn me_status(&self) -> StatusCode {
        self.client
            .get(self.url("/api/v1/me"))
            .send()
            .await
            .unwrap()
            .status()
    }
}

//! A real Nagios Core 4 (Debian's nagios4-core) notifies Opsdesk through the commands an
//! operator installs, contrib/nagios/opsdesk.cfg: curl posting the notification macros as form
//! fields. OPSDESK_TEST_NAGIOS = the nagios4 binary, set by scripts/test.
//!
//! Each test starts its own Nagios in the foreground with a private nagios.cfg in a temp dir
//! (log, status, lock, query socket and command file all in there) and intervals in seconds:
//! one host, web1-nagios (192.0.2.10, never contacted: its check is `echo`), and one service,
//! HTTP, whose check is a script that exits with the code the test writes to a file.

use std::fs::File;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use opsdesk::clock::{Clock, SystemClock};
use serde_json::Value;
use tempfile::TempDir;
use tokio::io::AsyncWriteExt;

use crate::alerts::{NAGIOS_TOKEN, alerts, app, history, ticket};
use crate::helpers::TestApp;

/// How long each step may take. Nagios checks the service every second and notifies at once,
/// so a step takes a second or two; the rest is room for a loaded machine.
const STEP_WITHIN: Duration = Duration::from_secs(30);

/// The state the HTTP check reports: its exit code.
#[derive(Debug, Clone, Copy)]
pub enum Check {
    Ok = 0,
    Critical = 2,
}

/// One Nagios process of our own; dropping it kills the process (by its PID) and removes its
/// dir. [`Nagios::stop`] ends it gracefully.
pub struct Nagios {
    child: Child,
    /// Holds the config, the check script, the command file and the logs until the test ends.
    dir: TempDir,
}

impl Nagios {
    /// Starts Nagios with contrib/nagios/opsdesk.cfg notifying `base_url` (Opsdesk's base
    /// URL) with `token`, and the HTTP check reporting `check` from its first run on.
    pub fn start(base_url: &str, token: &str, check: Check) -> Nagios {
        let bin = std::env::var("OPSDESK_TEST_NAGIOS").unwrap_or_else(|_| {
            panic!(
                "OPSDESK_TEST_NAGIOS (the nagios4 binary, Debian's nagios4-core) is set by \
                 scripts/test, which installs it"
            )
        });
        let dir = tempfile::Builder::new()
            .prefix("opsdesk-nagios.")
            .tempdir()
            .unwrap();
        let d = dir.path();
        std::fs::create_dir(d.join("checkresults")).unwrap();
        write_check(d, check);
        let script = d.join("check_http");
        std::fs::write(&script, check_script(&d.join("http-state"))).unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(
            d.join("resource.cfg"),
            format!("$USER10$={token}\n$USER11$={base_url}\n"),
        )
        .unwrap();
        std::fs::write(d.join("objects.cfg"), objects(&script)).unwrap();
        let cfg = d.join("nagios.cfg");
        std::fs::write(&cfg, main_config(d)).unwrap();

        let verify = Command::new(&bin)
            .arg("-v")
            .arg(&cfg)
            .current_dir(d)
            .output()
            .unwrap_or_else(|e| panic!("run {bin} -v: {e}"));
        assert!(
            verify.status.success(),
            "{bin} -v refused the config ({}):\n{}{}\n--- nagios.cfg ---\n{}",
            verify.status,
            String::from_utf8_lossy(&verify.stdout),
            String::from_utf8_lossy(&verify.stderr),
            std::fs::read_to_string(&cfg).unwrap_or_default()
        );

        let out = File::create(d.join("nagios.out")).unwrap();
        let child = Command::new(&bin)
            .arg(&cfg)
            .current_dir(d)
            // curl must reach 127.0.0.1 directly, whatever proxy the caller's shell names.
            .env("NO_PROXY", "127.0.0.1")
            .env("no_proxy", "127.0.0.1")
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("start {bin}: {e}"));
        Nagios { child, dir }
    }

    /// What the HTTP check reports from its next run on.
    pub fn set_check(&self, check: Check) {
        write_check(self.dir.path(), check);
    }

    /// Sends one external command (`ACKNOWLEDGE_SVC_PROBLEM;...`) through the command file, as
    /// the CGIs do: `[unix time] COMMAND\n` into the FIFO that Nagios reads.
    pub async fn command(&mut self, command: &str) {
        let path = self.dir.path().join("nagios.cmd");
        let deadline = Instant::now() + STEP_WITHIN;
        // Nagios makes the FIFO when it starts. Opened without blocking: with no reader the
        // open fails (ENXIO) instead of hanging, and we try again.
        let mut fifo = loop {
            match tokio::net::unix::pipe::OpenOptions::new().open_sender(&path) {
                Ok(f) => break f,
                Err(e) => {
                    self.assert_running();
                    assert!(
                        Instant::now() < deadline,
                        "cannot open the command file {}: {e}\n{}",
                        path.display(),
                        self.logs()
                    );
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        };
        let line = format!("[{}] {command}\n", SystemClock.now().as_second());
        fifo.write_all(line.as_bytes()).await.unwrap();
    }

    /// Panics with the logs if Nagios has exited.
    fn assert_running(&mut self) {
        if let Some(status) = self.child.try_wait().unwrap() {
            panic!("nagios exited ({status})\n{}", self.logs());
        }
    }

    /// nagios.log (checks, notifications, failed notification commands with curl's message)
    /// and what the process printed.
    pub fn logs(&self) -> String {
        let read = |f: &str| std::fs::read_to_string(self.dir.path().join(f)).unwrap_or_default();
        format!(
            "--- nagios.log ---\n{}\n--- nagios stdout/stderr ---\n{}",
            read("nagios.log"),
            read("nagios.out")
        )
    }

    /// SIGTERM (by PID), then up to 10 s for Nagios to shut down: it stops its worker processes
    /// itself, which SIGKILL would leave to notice on their own.
    pub async fn stop(mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.child.try_wait().unwrap().is_none() {
            assert!(
                Instant::now() < deadline,
                "nagios did not stop within 10 s of SIGTERM\n{}",
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Nagios {
    fn drop(&mut self) {
        // By its PID (Child::kill), never by name: a system Nagios may be running too. After a
        // stop() the child is reaped and this sends nothing. Killed outright, Nagios leaves its
        // workers, which exit by themselves within seconds once its socket is gone.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Writes the HTTP check's exit code to `d`/http-state: whole, then renamed, so the check
/// never reads half a file.
fn write_check(d: &Path, check: Check) {
    let tmp = d.join("http-state.tmp");
    std::fs::write(&tmp, format!("{}\n", check as i32)).unwrap();
    std::fs::rename(&tmp, d.join("http-state")).unwrap();
}

/// The whole nagios.cfg: every path in `d`, intervals in seconds, state never kept.
fn main_config(d: &Path) -> String {
    let p = |f: &str| d.join(f).display().to_string();
    let opsdesk = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("contrib/nagios/opsdesk.cfg");
    // Nagios switches to nagios_user/nagios_group (names or ids) at start: ours, so it runs as
    // whoever runs the tests, root included (Nagios 4 does not refuse root).
    let me = std::fs::metadata(d).unwrap();
    format!(
        "\
# Written by tests/integration/nagios.rs for one test.
cfg_file={opsdesk}
cfg_file={objects}
resource_file={resource}
log_file={log}
status_file={status}
status_update_interval=1
object_cache_file={cache}
precached_object_file={precache}
temp_file={tmp}
temp_path={dir}
lock_file={lock}
query_socket={qh}
check_result_path={results}
state_retention_file={retention}
retain_state_information=0
use_retained_program_state=0
use_retained_scheduling_info=0
nagios_user={uid}
nagios_group={gid}
# The external commands (acknowledgements) come through this FIFO, which Nagios makes.
check_external_commands=1
command_file={cmd}
# Intervals and spreads are in seconds, and check results are read every second.
interval_length=1
check_result_reaper_frequency=1
max_check_result_reaper_time=1
max_service_check_spread=1
max_host_check_spread=1
service_check_timeout=10
host_check_timeout=10
notification_timeout=30
enable_notifications=1
execute_service_checks=1
execute_host_checks=1
enable_flap_detection=0
# As Nagios' and Debian's nagios.cfg have it; opsdesk.cfg relies on it (see there).
illegal_macro_output_chars=`~$&|'\"<>
enable_environment_macros=0
log_notifications=1
log_external_commands=1
log_initial_states=1
use_syslog=0
# No calls home to nagios.org.
check_for_updates=0
debug_level=0
",
        opsdesk = opsdesk.display(),
        objects = p("objects.cfg"),
        resource = p("resource.cfg"),
        log = p("nagios.log"),
        status = p("status.dat"),
        cache = p("objects.cache"),
        precache = p("objects.precache"),
        tmp = p("nagios.tmp"),
        dir = d.display(),
        lock = p("nagios.lock"),
        qh = p("nagios.qh"),
        results = p("checkresults"),
        retention = p("retention.dat"),
        uid = me.uid(),
        gid = me.gid(),
        cmd = p("nagios.cmd"),
    )
}

/// The HTTP check: exits with the code in `state`, printing what check_http would. The
/// apostrophe in "can't" is the plugin output a shell quote would trip over.
fn check_script(state: &Path) -> String {
    format!(
        "#!/bin/sh
code=$(cat '{state}')
case $code in
0) echo 'HTTP OK: HTTP/1.1 200 OK - 612 bytes in 0.002 second response time |time=0.002s' ;;
*) echo \"HTTP CRITICAL - can't connect to 192.0.2.10 port 80\"
   echo 'Connection refused' ;;
esac
exit $code
",
        state = state.display()
    )
}

/// The monitored objects: web1-nagios (always up) and its HTTP service, checked every second
/// and hard at the first failure, notifying the contact made from opsdesk.cfg's template once
/// per state (notification_interval 0: no repeats).
fn objects(check_http: &Path) -> String {
    format!(
        "\
define timeperiod {{
    timeperiod_name     24x7
    alias               Always
    sunday              00:00-24:00
    monday              00:00-24:00
    tuesday             00:00-24:00
    wednesday           00:00-24:00
    thursday            00:00-24:00
    friday              00:00-24:00
    saturday            00:00-24:00
}}

define command {{
    command_name        check-always-up
    command_line        /bin/echo OK - always up
}}

define command {{
    command_name        check-http-from-file
    command_line        {check_http}
}}

define contact {{
    contact_name        opsdesk
    alias               Opsdesk
    use                 opsdesk
}}

define host {{
    host_name           web1-nagios
    alias               web1
    address             192.0.2.10
    check_command       check-always-up
    max_check_attempts  1
    check_interval      60
    retry_interval      1
    check_period        24x7
    contacts            opsdesk
    notification_period 24x7
    notification_interval 0
    notification_options d,u,r
}}

define service {{
    host_name           web1-nagios
    service_description HTTP
    check_command       check-http-from-file
    max_check_attempts  1
    check_interval      1
    retry_interval      1
    check_period        24x7
    contacts            opsdesk
    notification_period 24x7
    notification_interval 0
    notification_options w,c,r
}}
",
        check_http = check_http.display()
    )
}

/// What Opsdesk shows of the Nagios alerts at one moment: the list, and the ticket of the
/// first one with its history.
#[derive(Debug)]
struct Seen {
    alerts: Vec<Value>,
    ticket: Option<Value>,
    history: Vec<Value>,
}

impl Seen {
    fn alert(&self) -> &Value {
        self.alerts.first().unwrap_or(&Value::Null)
    }
}

async fn look(app: &TestApp, token: &str) -> Seen {
    let alerts = alerts(app, token, "?source=nagios&state=all").await;
    let (ticket, history) = match alerts.first().and_then(|a| a["ticket"].as_i64()) {
        Some(id) => (
            Some(ticket(app, token, id).await),
            history(app, token, id).await,
        ),
        None => (None, Vec::new()),
    };
    Seen {
        alerts,
        ticket,
        history,
    }
}

/// Polls until `done` holds; fails with what was seen last and both logs when Nagios exits or
/// STEP_WITHIN runs out.
async fn wait_until(
    app: &TestApp,
    token: &str,
    nagios: &mut Nagios,
    what: &str,
    done: impl Fn(&Seen) -> bool,
) -> Seen {
    let deadline = Instant::now() + STEP_WITHIN;
    loop {
        let seen = look(app, token).await;
        if done(&seen) {
            return seen;
        }
        let exited = nagios.child.try_wait().unwrap();
        if exited.is_some() || Instant::now() > deadline {
            let why = match exited {
                Some(status) => format!("nagios exited ({status})"),
                None => format!("not within {STEP_WITHIN:?}"),
            };
            panic!(
                "waiting for {what}: {why}\nlast seen: {seen:#?}\n{}\n--- opsdesk ---\n{}",
                nagios.logs(),
                app.log_text()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_real_nagios_notifies_problem_acknowledgement_and_recovery() {
    let (app, token, clock, _dir) = app().await;
    // Real time on both sides: Nagios stamps its notifications with its own clock.
    clock.set(&SystemClock.now().to_string());
    let mut nagios = Nagios::start(&app.base, NAGIOS_TOKEN, Check::Critical);

    // PROBLEM: the first check fails, hard at once, and Nagios notifies.
    let seen = wait_until(
        &app,
        &token,
        &mut nagios,
        "a firing Nagios alert with a ticket",
        |s| s.alert()["state"] == "firing" && s.ticket.is_some(),
    )
    .await;
    eprintln!("after PROBLEM: {:#}", seen.alert());
    assert_eq!(seen.alerts.len(), 1, "{:#?}", seen.alerts);
    let alert = seen.alert().clone();
    let id = alert["ticket"].as_i64().unwrap();
    // Identified by $SERVICEPROBLEMID$, a number Nagios gave this problem: resolved, so the
    // command line carried it through.
    let identity = alert["identity"].as_str().unwrap().to_owned();
    assert!(
        identity.parse::<u64>().is_ok_and(|n| n > 0),
        "identity {identity:?} is no problem id: {alert:#}"
    );
    assert_eq!(
        (&alert["host"], &alert["name"], &alert["severity"]),
        (
            &Value::from("web1-nagios"),
            &Value::from("HTTP"),
            &Value::from("CRITICAL")
        ),
        "{alert:#}"
    );
    // illegal_macro_output_chars took the apostrophe out of the plugin output: it stayed
    // inside its single quotes, and the notification went out whole.
    assert_eq!(
        alert["summary"], "HTTP CRITICAL - cant connect to 192.0.2.10 port 80",
        "{alert:#}"
    );
    assert_eq!(alert["labels"]["hostaddress"], "192.0.2.10", "{alert:#}");
    // What belongs to one notification (type, time, author) is no label of the alert.
    assert_eq!(
        alert["labels"]["notificationtype"],
        serde_json::Value::Null,
        "{alert:#}"
    );
    assert_eq!(
        alert["labels"]["serviceproblemid"], alert["identity"],
        "{alert:#}"
    );
    let t = seen.ticket.unwrap();
    eprintln!("its ticket: {t:#}");
    assert_eq!(t["customer"], "ACME", "found by HOSTADDRESS: {t:#}");
    let subject = t["subject"].as_str().unwrap();
    assert!(subject.contains("HTTP"), "{t:#}");
    assert_eq!(
        subject, "HTTP on web1-nagios: HTTP CRITICAL - cant connect to 192.0.2.10 port 80",
        "{t:#}"
    );
    assert_eq!(
        t["priority"], 1,
        "critical is P1 for the nagios source: {t:#}"
    );

    // ACKNOWLEDGEMENT: an operator acknowledges in Nagios (sticky, notify, not persistent).
    clock.set(&SystemClock.now().to_string());
    nagios
        .command("ACKNOWLEDGE_SVC_PROBLEM;web1-nagios;HTTP;1;1;0;alice;looking at it")
        .await;
    let seen = wait_until(
        &app,
        &token,
        &mut nagios,
        "the alert acknowledged, in the ticket's history",
        |s| {
            s.alert()["state"] == "acknowledged"
                && s.history
                    .iter()
                    .any(|e| e["type"] == "alert" && e["new"] == "acknowledged")
        },
    )
    .await;
    eprintln!("after ACKNOWLEDGEMENT: {:#}", seen.alert());
    assert_eq!(seen.alerts.len(), 1, "{:#?}", seen.alerts);
    assert_eq!(seen.alert()["identity"], identity.as_str());
    assert_eq!(seen.alert()["ticket"], id);
    let ack = seen
        .history
        .iter()
        .find(|e| e["type"] == "alert" && e["new"] == "acknowledged")
        .unwrap();
    assert_eq!(ack["body"], "alice: looking at it", "{ack:#}");

    // RECOVERY: the check passes again; the alert and (auto_resolve) the ticket resolve.
    clock.set(&SystemClock.now().to_string());
    nagios.set_check(Check::Ok);
    let seen = wait_until(
        &app,
        &token,
        &mut nagios,
        "the alert and its ticket resolved",
        |s| {
            s.alert()["state"] == "resolved"
                && s.ticket.as_ref().is_some_and(|t| t["status"] == "resolved")
        },
    )
    .await;
    eprintln!("after RECOVERY: {:#}", seen.alert());
    // The recovery found the problem by $LASTSERVICEPROBLEMID$: the same alert, no new one.
    assert_eq!(seen.alerts.len(), 1, "{:#?}", seen.alerts);
    assert_eq!(seen.alert()["identity"], identity.as_str());
    assert_eq!(seen.alert()["ticket"], id);

    nagios.stop().await;
}

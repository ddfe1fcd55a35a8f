use std::process::Command;

use crate::helpers::*;

/// The example of CONTRACT §2, verbatim apart from the listen/database lines.
const CONTRACT_EXAMPLE: &str = r#"
listen       = "127.0.0.1:8080"
database_url = "sqlite://data/opsdesk.db"
base_url     = "http://127.0.0.1:8080"

[mail]
smtp_url    = "smtp://127.0.0.1:2525"
from        = "support@example.net"
subject_tag = "example.net"
max_message_bytes = 26214400

[[mail.imap]]
url = "imap://127.0.0.1:1143"
username = "support"
password = "secret"
mailbox  = "INBOX"
queue    = "Support"
interval = "30s"

[[queue]]
name = "Support"
correspond_address = "support@example.net"
comment_address    = "support-comment@example.net"
sla = "standard"

[[queue]]
name = "NOC"

[[calendar]]
name     = "office"
timezone = "Europe/Rome"
hours    = { mon = "09:00-18:00", tue = "09:00-18:00", wed = "09:00-18:00", thu = "09:00-18:00", fri = "09:00-18:00" }
holidays = ["2026-12-25", "2026-12-26"]

[[sla]]
name     = "standard"
calendar = "office"
targets.P1 = { response = "1h", resolve = "8h" }

[[sla]]
name     = "gold"
calendar = "24x7"
pause_on = ["stalled"]
targets.P1 = { response = "15m", resolve = "4h" }
targets.P2 = { response = "1h",  resolve = "8h" }
targets.P3 = { response = "4h",  resolve = "3d" }
targets.P4 = { response = "1d",  resolve = "10d" }
escalate = [ { at = "75%", notify = ["owner"] }, { at = "100%", notify = ["owner", "oncall:noc"] } ]

[[oncall]]
name     = "noc"
timezone = "Europe/Rome"
start    = "2026-11-02"
handoff  = "mon 09:00"
rotation = ["alice", "bob", "dave"]

[auth]
sources = ["local", "ldap", "radius"]

[ldap]
url           = "ldap://127.0.0.1:3389"
bind_dn       = "cn=admin,dc=example,dc=net"
bind_password = "adminpw"
user_base     = "ou=people,dc=example,dc=net"
user_filter   = "(uid={username})"
roles = { "cn=admins,ou=groups,dc=example,dc=net" = "admin", "cn=noc,ou=groups,dc=example,dc=net" = "agent", "cn=support,ou=groups,dc=example,dc=net" = "agent" }
default_role  = "customer"
customer_attribute = "employeeNumber"

[radius]
servers  = ["127.0.0.1:18120"]
secret   = "testing123"
method   = "pap"
timeout  = "2s"
retries  = 2
customer_attribute = "Class"

[[alert_source]]
name  = "prometheus"
kind  = "alertmanager"
token = "am-secret-token"
queue = "NOC"
priority = { critical = 1, warning = 3, info = 4 }
auto_resolve = true
storm = { threshold = 20, window = "1m" }
"#;

fn check(dir: &std::path::Path, toml: &str, env: &[(&str, &str)]) -> (bool, String, String) {
    let path = dir.join("opsdesk.toml");
    std::fs::write(&path, toml).unwrap();
    let mut cmd = Command::new(BIN);
    cmd.arg("--config").arg(&path).arg("check-config");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = run_with_stdin(cmd, None);
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

#[test]
fn the_contract_example_config_is_valid() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, stdout, stderr) = check(dir.path(), CONTRACT_EXAMPLE, &[]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("configuration OK"), "{stdout}");
}

#[test]
fn check_config_names_every_problem_with_its_key_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let bad = r#"
listen = "nowhere"
database_url = "mysql://x/y"
base_url = "ftp://x"
colour = "blue"

[mail]
from = "not an address"
smtp_url = "http://relay"

[[mail.imap]]
url = "imap://"
username = "u"
password = "p"
queue = "Nowhere"
after = "archive"
ca_file = "/nonexistent/ca.pem"

[[mail.imap]]
url = "imaps://mail.example.net"
username = "u"
password = "p"
queue = "Support"
after = "move"

[[queue]]
name = "Support"
sla = "platinum"

[[calendar]]
name = "office"
timezone = "Mars/Olympus"
hours = { mon = "18:00-18:00", funday = "09:00-10:00" }
holidays = ["2026-13-01"]

[[sla]]
name = "gold"
calendar = "nope"
pause_on = ["sleeping"]
targets.P1 = { response = "15x", resolve = "4h" }
targets.P9 = { response = "1h" }
escalate = [ { at = "lots", notify = ["oncall:ghosts"] } ]
shiny = true

[[oncall]]
name = "noc"
timezone = "Europe/Rome"
start = "someday"
handoff = "mon 25:00"
rotation = ["alice"]

[auth]
sources = ["local", "kerberos", "ldap"]

[radius]
servers = ["::::"]
secret = ""
method = "eap"

[[alert_source]]
name = "am"
kind = "zabbix"
token = "short"
queue = "Nowhere"
priority = { critical = 7 }
"#;
    let (ok, _, stderr) = check(dir.path(), bad, &[]);
    assert!(!ok);
    for key in [
        "listen:",
        "database_url:",
        "base_url:",
        "colour: unknown key",
        "mail.from:",
        "mail.smtp_url:",
        "mail.imap[0].url:",
        "mail.imap[0].after:",
        "mail.imap[0].ca_file:",
        "mail.imap[0].queue:",
        "mail.imap[1].move_to:",
        "queue[0].sla:",
        "calendar[0].timezone:",
        "calendar[0].hours.mon:",
        "calendar[0].hours.funday:",
        "calendar[0].holidays[0]:",
        "sla[0].calendar:",
        "sla[0].pause_on[0]:",
        "sla[0].targets.P1.response:",
        "sla[0].targets.P9:",
        "sla[0].escalate[0].at:",
        "sla[0].escalate[0].notify[0]:",
        "sla[0].shiny: unknown key",
        "oncall[0].start:",
        "oncall[0].handoff:",
        "oncall[0].rotation:",
        "auth.sources[1]:",
        "auth.sources: names ldap but there is no [ldap] table",
        "radius.servers[0]:",
        "radius.secret:",
        "radius.method:",
        "alert_source[0].kind:",
        "alert_source[0].token:",
        "alert_source[0].queue:",
        "alert_source[0].priority.critical:",
    ] {
        assert!(stderr.contains(key), "missing {key:?} in:\n{stderr}");
    }
}

#[test]
fn a_value_of_the_wrong_type_is_named_by_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, stderr) = check(
        dir.path(),
        "[mail]\nmax_message_bytes = \"lots\"\n\n[db]\nmax_connections = \"x\"\n",
        &[],
    );
    assert!(!ok);
    assert!(stderr.contains("mail.max_message_bytes"), "{stderr}");
    assert!(
        stderr.contains("db.max_connections"),
        "both sections are reported: {stderr}"
    );
}

#[test]
fn the_environment_beats_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, stderr) = check(
        dir.path(),
        "listen = \"127.0.0.1:9000\"\n",
        &[("OPSDESK_LISTEN", "not-an-address")],
    );
    assert!(!ok);
    assert!(stderr.contains("listen: \"not-an-address\""), "{stderr}");
    let (ok, _, stderr) = check(
        dir.path(),
        "[mail]\nsmtp_url = \"ftp://x\"\n",
        &[("OPSDESK_MAIL__SMTP_URL", "smtp://127.0.0.1:2525")],
    );
    assert!(ok, "{stderr}");
}

#[test]
fn unknown_opsdesk_variables_are_warnings_not_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, stderr) = check(
        dir.path(),
        "",
        &[
            ("OPSDESK_LISTEN_PORT", "1"),
            ("OPSDESK_ADMIN_PASSWORD", "x"),
        ],
    );
    assert!(ok, "{stderr}");
    assert!(
        stderr.contains(
            "warning: OPSDESK_LISTEN_PORT is set but listen_port is not a configuration key"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("ADMIN_PASSWORD"), "{stderr}");
}

#[test]
fn a_missing_config_file_is_an_error_naming_the_path() {
    let out = run_with_stdin(
        {
            let mut c = Command::new(BIN);
            c.args(["--config", "/nonexistent/opsdesk.toml", "check-config"]);
            c
        },
        None,
    );
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("/nonexistent/opsdesk.toml does not exist"));
}

#[test]
fn a_toml_syntax_error_is_reported_with_its_place() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, stderr) = check(dir.path(), "listen = \"127.0.0.1:1\n[mail\n", &[]);
    assert!(!ok);
    assert!(stderr.contains("line"), "{stderr}");
}

#[test]
fn serve_refuses_to_start_on_a_bad_config_with_the_same_messages() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("opsdesk.toml");
    std::fs::write(&path, "listen = \"nowhere\"\nbogus = 1\n").unwrap();
    let mut cmd = Command::new(BIN);
    cmd.arg("--config").arg(&path).arg("serve");
    let out = run_with_stdin(cmd, None);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("listen:") && err.contains("bogus: unknown key"),
        "{err}"
    );
}

#[test]
fn the_compose_stacks_config_file_is_valid() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/opsdesk.toml");
    let mut cmd = Command::new(BIN);
    cmd.arg("--config").arg(&path).arg("check-config");
    let out = run_with_stdin(cmd, None);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

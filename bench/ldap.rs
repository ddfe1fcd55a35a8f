//! LDAP sign-in benchmark (issue 6): how long `Ldap::authenticate` takes against a real slapd
//! on loopback, and how many sign-ins per second one source handles.
//!
//! ```sh
//! scripts/ldap-server --port 3389 --tls-port 3636 --dir /tmp/ldap &   # prints `ready`
//! OPSDESK_TEST_LDAP=127.0.0.1:3389 OPSDESK_TEST_LDAPS=127.0.0.1:3636 \
//!   OPSDESK_TEST_LDAP_CA=/tmp/ldap/ca.pem cargo bench --bench ldap -- [--n 2000]
//! ```
//!
//! Starts nothing itself: it signs in against the directory of scripts/ldap-server, found the
//! way the tests find it (OPSDESK_TEST_LDAP, and OPSDESK_TEST_LDAPS + OPSDESK_TEST_LDAP_CA
//! for the TLS row, which is left out without them). Each row runs `--n` sign-ins after 50
//! untimed ones that fill the connection pool, one at a time unless it says otherwise, and
//! reports the latency percentiles and the rate. A Markdown section for BENCHMARKS.md goes to
//! stdout. Target: p95 under 30 ms for `ada` over plain LDAP.

// Shared with the tickets bench, which uses all of it.
#[allow(dead_code)]
#[path = "tickets/sys.rs"]
mod sys;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use opsdesk::auth::directory::DirectoryError;
use opsdesk::auth::ldap::Ldap;
use opsdesk::config::RawLdap;

type Res<T> = Result<T, String>;

const WARMUP: usize = 50;

struct Args {
    n: usize,
}

fn args() -> Res<Args> {
    let mut a = Args { n: 2000 };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        match k.as_str() {
            "--bench" => {}
            "--n" => {
                a.n = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|n| *n > 0)
                    .ok_or("--n takes a positive number")?
            }
            other => return Err(format!("unknown argument {other}; usage: ldap [--n COUNT]")),
        }
    }
    Ok(a)
}

fn main() -> ExitCode {
    sys::main_with("ldap", args(), run)
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn config(url: String, ca_file: Option<String>, service: bool) -> Res<RawLdap> {
    let mut c: RawLdap = toml::from_str(
        r#"
url           = "ldap://unset"
bind_dn       = "cn=admin,dc=example,dc=net"
bind_password = "adminpw"
user_base     = "ou=people,dc=example,dc=net"
roles = { "cn=admins,ou=groups,dc=example,dc=net" = "admin", "cn=noc,ou=groups,dc=example,dc=net" = "agent", "cn=support,ou=groups,dc=example,dc=net" = "agent" }
customer_attribute = "employeeNumber"
"#,
    )
    .map_err(|e| format!("the bench's config: {e}"))?;
    c.url = url;
    c.ca_file = ca_file;
    if !service {
        c.bind_dn = None;
        c.bind_password = None;
    }
    Ok(c)
}

struct Row {
    what: String,
    config: RawLdap,
    user: &'static str,
    password: &'static str,
    /// Expect a wrong-password answer instead of a signed-in user.
    rejected: bool,
    parallel: usize,
}

async fn run(a: Args) -> Res<()> {
    let plain = env("OPSDESK_TEST_LDAP").ok_or(
        "OPSDESK_TEST_LDAP is not set: start scripts/ldap-server and export \
         OPSDESK_TEST_LDAP=127.0.0.1:PORT (see the top of bench/ldap.rs)",
    )?;
    let url = format!("ldap://{plain}");
    let row = |what: &str, config: RawLdap, user, password, rejected, parallel| Row {
        what: what.to_owned(),
        config,
        user,
        password,
        rejected,
        parallel,
    };
    let mut rows = vec![
        row(
            "ada (admin, from memberOf), service account",
            config(url.clone(), None, true)?,
            "ada",
            "ada-pw",
            false,
            1,
        ),
        row(
            "noc1 (agent, 3 group searches), service account",
            config(url.clone(), None, true)?,
            "noc1",
            "noc1-pw",
            false,
            1,
        ),
        row(
            "ada, wrong password",
            config(url.clone(), None, true)?,
            "ada",
            "wrong",
            true,
            1,
        ),
        row(
            "ada, direct bind (no service account)",
            config(url.clone(), None, false)?,
            "ada",
            "ada-pw",
            false,
            1,
        ),
        row(
            "ada, 8 sign-ins at once",
            config(url.clone(), None, true)?,
            "ada",
            "ada-pw",
            false,
            8,
        ),
    ];
    match (env("OPSDESK_TEST_LDAPS"), env("OPSDESK_TEST_LDAP_CA")) {
        (Some(tls), Some(ca)) => rows.insert(
            1,
            row(
                "ada over ldaps://, service account",
                config(format!("ldaps://{tls}"), Some(ca), true)?,
                "ada",
                "ada-pw",
                false,
                1,
            ),
        ),
        _ => eprintln!("ldap bench: OPSDESK_TEST_LDAPS or OPSDESK_TEST_LDAP_CA unset: no TLS row"),
    }

    println!("Machine: {}\n", sys::machine());
    println!(
        "Directory: slapd {url} (scripts/ldap-server), {} sign-ins per row.\n",
        a.n
    );
    println!("| sign-in | at once | p50 ms | p95 ms | p99 ms | max ms | sign-ins/s |");
    println!("|---|---|---|---|---|---|---|");
    for r in &rows {
        let ldap = Ldap::new(&r.config).map_err(|e| format!("{}: {e}", r.what))?;
        let _ = measure(&ldap, r, WARMUP).await?;
        let started = Instant::now();
        let mut lat = measure(&ldap, r, a.n).await?;
        let secs = started.elapsed().as_secs_f64();
        lat.sort();
        let ms = |q: f64| pct(&lat, q).as_secs_f64() * 1e3;
        let mark = if r.what.starts_with("ada (admin") && ms(0.95) >= 30.0 {
            " ✗"
        } else {
            ""
        };
        println!(
            "| {} | {} | {:.2} | {:.2}{mark} | {:.2} | {:.2} | {:.0} |",
            r.what,
            r.parallel,
            ms(0.50),
            ms(0.95),
            ms(0.99),
            ms(1.0),
            a.n as f64 / secs
        );
    }
    println!("\nTarget: p95 < 30 ms for the first row.");
    Ok(())
}

/// `n` sign-ins, `r.parallel` at a time; the latency of each.
async fn measure(ldap: &Ldap, r: &Row, n: usize) -> Res<Vec<Duration>> {
    let per_task = n.div_ceil(r.parallel);
    let tasks = (0..r.parallel).map(|t| {
        let ldap = ldap.clone();
        let (user, password, rejected) = (r.user, r.password, r.rejected);
        let count = per_task.min(n.saturating_sub(t * per_task));
        tokio::spawn(async move {
            let mut lat = Vec::with_capacity(count);
            for _ in 0..count {
                let t0 = Instant::now();
                let res = ldap.authenticate(user, password).await;
                lat.push(t0.elapsed());
                match (res, rejected) {
                    (Ok(_), false) | (Err(DirectoryError::Rejected), true) => {}
                    (other, _) => return Err(format!("{user}: unexpected {other:?}")),
                }
            }
            Ok(lat)
        })
    });
    let mut all = Vec::with_capacity(n);
    for t in tasks.collect::<Vec<_>>() {
        let lat = t.await.map_err(|e| format!("{}: {e}", r.what))??;
        all.extend(lat);
    }
    Ok(all)
}

fn pct(sorted: &[Duration], q: f64) -> Duration {
    let Some(last) = sorted.len().checked_sub(1) else {
        return Duration::ZERO;
    };
    let i = ((last as f64) * q).round() as usize;
    sorted.get(i.min(last)).copied().unwrap_or_default()
}

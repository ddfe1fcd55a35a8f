//! RADIUS sign-in benchmark (issue 6): how long one PAP sign-in takes against a real
//! FreeRADIUS on loopback, and how many a second one client gets through.
//!
//! ```sh
//! scripts/radius-server --port 18120 --dir /tmp/radius &      # prints `ready`
//! OPSDESK_TEST_RADIUS=127.0.0.1:18120 cargo bench --bench radius -- [--n 2000] [--concurrency 16]
//! ```
//!
//! Two runs of `--n` sign-ins of `sub1` (PAP, secret testing123), after 50 untimed ones: one
//! at a time, which gives the latency a user sees (p50/p95/p99/max) and the rate of a single
//! caller; then `--concurrency` callers at once sharing one client, which gives the rate the
//! server and client reach together. Each sign-in uses its own socket, signs its request and
//! checks the reply's authenticators, as at a real sign-in. Every one must be accepted with
//! the customer ACME. A Markdown section for BENCHMARKS.md goes to stdout.

// Shared with the tickets bench, which uses all of it.
#[allow(dead_code)]
#[path = "tickets/sys.rs"]
mod sys;

use std::sync::Arc;
use std::time::{Duration, Instant};

use opsdesk::auth::radius::Radius;
use opsdesk::config::RawRadius;

struct Args {
    n: usize,
    concurrency: usize,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        n: 2000,
        concurrency: 16,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let mut num = || {
            it.next()
                .and_then(|v| v.parse::<usize>().ok())
                .filter(|v| *v > 0)
                .ok_or_else(|| format!("{k} takes a positive number"))
        };
        match k.as_str() {
            "--bench" => {}
            "--n" => a.n = num()?,
            "--concurrency" => a.concurrency = num()?,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(a)
}

fn main() -> std::process::ExitCode {
    sys::main_with(
        "radius",
        args().map_err(|e| {
            format!("{e}\nusage: cargo bench --bench radius -- [--n 2000] [--concurrency 16]")
        }),
        run,
    )
}

/// One accepted sign-in of sub1, timed.
async fn sign_in(r: &Radius) -> Result<Duration, String> {
    let t0 = Instant::now();
    let user = r
        .authenticate("sub1", "sub1-pw")
        .await
        .map_err(|e| format!("sub1 was not signed in: {e}"))?;
    let took = t0.elapsed();
    if user.customer.as_deref() != Some("ACME") {
        return Err(format!("sub1 came back with customer {:?}", user.customer));
    }
    Ok(took)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The q-quantile of sorted samples (nearest rank).
fn quantile(sorted: &[Duration], q: f64) -> Duration {
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn row(what: &str, mut samples: Vec<Duration>, wall: Duration) -> String {
    samples.sort();
    let n = samples.len();
    format!(
        "| {what} | {n} | {:.2} | {:.2} | {:.2} | {:.2} | {:.0} |",
        ms(quantile(&samples, 0.50)),
        ms(quantile(&samples, 0.95)),
        ms(quantile(&samples, 0.99)),
        ms(samples[n - 1]),
        n as f64 / wall.as_secs_f64(),
    )
}

async fn run(a: Args) -> Result<(), String> {
    let server = std::env::var("OPSDESK_TEST_RADIUS").map_err(|_| {
        "OPSDESK_TEST_RADIUS is not set: start scripts/radius-server --port P --dir DIR and set \
         it to 127.0.0.1:P"
            .to_owned()
    })?;
    let r = Radius::new(&RawRadius {
        servers: vec![server.clone()],
        secret: "testing123".into(),
        method: "pap".into(),
        timeout: "2s".into(),
        retries: 0,
        customer_attribute: None,
    })?;
    for _ in 0..50 {
        sign_in(&r).await?;
    }

    let cpu0 = sys::cpu_secs();
    let t0 = Instant::now();
    let mut one = Vec::with_capacity(a.n);
    for _ in 0..a.n {
        one.push(sign_in(&r).await?);
    }
    let one_wall = t0.elapsed();
    let one_cpu = sys::cpu_secs() - cpu0;

    let r = Arc::new(r);
    let t0 = Instant::now();
    let per = a.n.div_ceil(a.concurrency);
    let tasks: Vec<_> = (0..a.concurrency)
        .map(|_| {
            let r = r.clone();
            tokio::spawn(async move {
                let mut v = Vec::with_capacity(per);
                for _ in 0..per {
                    v.push(sign_in(&r).await?);
                }
                Ok::<_, String>(v)
            })
        })
        .collect();
    let mut many = Vec::with_capacity(per * a.concurrency);
    for t in tasks {
        many.extend(t.await.map_err(|e| e.to_string())??);
    }
    let many_wall = t0.elapsed();

    println!("## RADIUS sign-in (PAP, FreeRADIUS on loopback)\n");
    println!(
        "FreeRADIUS at {server}, `files` module, Message-Authenticator required; load average \
         {:.2} on {} cores.\n",
        sys::loadavg(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    );
    println!("| callers | sign-ins | p50 ms | p95 ms | p99 ms | max ms | sign-ins/s |");
    println!("|---|---|---|---|---|---|---|");
    println!("{}", row("1", one, one_wall));
    println!("{}", row(&a.concurrency.to_string(), many, many_wall));
    println!(
        "\nClient CPU, one caller: {:.0} µs per sign-in (user + system, this process).",
        one_cpu / a.n as f64 * 1e6
    );
    Ok(())
}

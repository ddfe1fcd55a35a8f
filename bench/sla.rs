//! SLA deadline benchmark (issue 5): how many deadlines one core computes per second, by
//! calendar and by target, and how the cost grows with the business time added.
//!
//! ```sh
//! cargo bench --bench sla -- [--n 1000000]
//! ```
//!
//! Each row adds one target duration to `--n` start instants spread at random (fixed seed)
//! over 2026 — nights, weekends, holidays and both DST changes included — on one thread, and
//! reports deadlines per second. The calendars are the contract's: the built-in `24x7`, an
//! office calendar (Europe/Rome, 09:00–18:00 Monday to Friday, six holidays) and a NOC night
//! shift (America/New_York, 22:00–06:00 every night, 08:00-12:00 on Saturdays). A Markdown section
//! for BENCHMARKS.md goes to stdout.

// Shared with the tickets bench, which uses all of it.
#[allow(dead_code)]
#[path = "tickets/sys.rs"]
mod sys;

use std::collections::BTreeMap;
use std::hint::black_box;
use std::process::ExitCode;
use std::time::Instant;

use jiff::{SignedDuration, Timestamp};
use opsdesk::config::RawCalendar;
use opsdesk::sla::Calendar;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn calendar(
    name: &str,
    tz: &str,
    hours: &[(&str, &str)],
    holidays: &[&str],
) -> Result<Calendar, String> {
    let raw = RawCalendar {
        name: name.into(),
        timezone: tz.into(),
        hours: hours
            .iter()
            .map(|(d, h)| ((*d).to_owned(), (*h).to_owned()))
            .collect::<BTreeMap<_, _>>(),
        holidays: holidays.iter().map(|h| (*h).to_owned()).collect(),
    };
    Calendar::from_config(&raw).map_err(|e| format!("the bench's calendar {name}: {e}"))
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sla bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let mut n: usize = 1_000_000;
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        match (k.as_str(), it.next().and_then(|v| v.parse().ok())) {
            ("--n", Some(v)) => n = v,
            ("--bench", _) => {}
            _ => {
                return Err("usage: sla [--n COUNT]".into());
            }
        }
    }
    let weekdays = [
        ("mon", "09:00-18:00"),
        ("tue", "09:00-18:00"),
        ("wed", "09:00-18:00"),
        ("thu", "09:00-18:00"),
        ("fri", "09:00-18:00"),
    ];
    let office = calendar(
        "office",
        "Europe/Rome",
        &weekdays,
        &[
            "2026-01-01",
            "2026-04-06",
            "2026-05-01",
            "2026-08-15",
            "2026-12-25",
            "2026-12-26",
        ],
    )?;
    let nights: Vec<(&str, &str)> = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .map(|d| (*d, "22:00-06:00"))
        .chain([("sat", "08:00-12:00")])
        .collect();
    let noc = calendar("noc", "America/New_York", &nights, &[])?;
    let always = Calendar::always();

    let mut rng = StdRng::seed_from_u64(5);
    let year = 1_767_225_600i64..1_798_761_600i64;
    let starts: Vec<Timestamp> = (0..n)
        .map(|_| Timestamp::from_second(rng.random_range(year.clone())).unwrap_or_default())
        .collect();

    let mut rows = String::new();
    // The same targets on every calendar, from a quarter of an hour to ten days (240
    // business hours, five weeks and more of office hours), so the rows show how the cost
    // grows with the time added.
    for (cal, targets) in [
        (&always, &["15m", "4h", "8h", "3d", "10d"][..]),
        (&office, &["15m", "1h", "4h", "8h", "3d", "10d"][..]),
        (&noc, &["15m", "4h", "8h", "3d", "10d"][..]),
    ] {
        for t in targets {
            let d = opsdesk::config::parse_duration(t)
                .map_err(|e| format!("{t}: {e}"))
                .and_then(|d| SignedDuration::try_from(d).map_err(|e| e.to_string()))?;
            let started = Instant::now();
            let mut failed = 0usize;
            for s in &starts {
                if black_box(cal.add(black_box(*s), d)).is_err() {
                    failed += 1;
                }
            }
            let secs = started.elapsed().as_secs_f64();
            let per_s = n as f64 / secs;
            let ns = secs * 1e9 / n as f64;
            let target = if cal.name() == "24x7" {
                ""
            } else {
                "> 1,000,000"
            };
            let mark = if !target.is_empty() && per_s < 1e6 {
                " ✗"
            } else {
                ""
            };
            rows.push_str(&format!(
                "| {} | {t} | {target} | {}/s{mark} | {ns:.0} |{}\n",
                cal.name(),
                thousands(per_s),
                if failed > 0 {
                    format!(" {failed} failed")
                } else {
                    String::new()
                }
            ));
        }
    }
    println!("Machine: {}\n", sys::machine());
    println!("| calendar | target added | target | deadlines per second, one core | ns each |");
    println!("|---|---|---|---|---|");
    print!("{rows}");
    Ok(())
}

fn thousands(v: f64) -> String {
    let s = format!("{:.0}", v);
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

//! Full-text index rebuild benchmark (SQLite): how long the app's index task
//! (`opsdesk::search::index::catch_up`, what the server runs every 250 ms) takes to index N
//! tickets into an empty index file. That is what an upgrade through migration 0020, a restored
//! backup, or a deleted `opsdesk.db.search` costs before searches are quick again (until then
//! they read the tickets not yet indexed with LIKE).
//!
//! ```sh
//! cargo bench --bench reindex -- [--tickets 10k,100k] [--out target/bench-reindex.md]
//! ```
//!
//! For each size: a fresh SQLite file in a temp dir, migrated by the app and bulk-loaded by the
//! tickets bench's loader (`tickets/data.rs`, which builds every index after the rows, the
//! full-text ones in one statement each: a floor for comparison). The index file is then deleted, the app opens the database again
//! (`Db::connect` and its migrations, which lay out an empty index file), and `catch_up` runs
//! until nothing waits, with its batch pacing as in the server, on an otherwise idle app. The
//! report gives the wall time, tickets and messages per second, CPU (user + system of this
//! process) and peak RSS, and the index file's size after a checkpoint. A Markdown report goes
//! to stdout and to `--out`; progress to stderr.

#[allow(dead_code)]
#[path = "shared/backends.rs"]
mod backends;
#[allow(dead_code)]
#[path = "tickets/data.rs"]
mod data;
#[allow(dead_code)]
#[path = "tickets/sys.rs"]
mod sys;
#[allow(dead_code)]
#[path = "tickets/words.rs"]
mod words;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use opsdesk::clock::{Clock, SystemClock};
use opsdesk::db::{DatabaseUrl, Db, PoolOptions, search_file};

pub type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

const USAGE: &str =
    "usage: cargo bench --bench reindex -- [--tickets 10k,100k] [--out target/bench-reindex.md]";

struct Args {
    sizes: Vec<i64>,
    out: Option<PathBuf>,
}

fn parse(args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut a = Args {
        sizes: vec![10_000, 100_000],
        out: None,
    };
    let mut it = args.filter(|s| s != "--bench");
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value\n{USAGE}"));
        match flag.as_str() {
            "--tickets" => {
                a.sizes = value()?
                    .split(',')
                    .map(backends::parse_count)
                    .collect::<Result<_, _>>()?;
            }
            "--out" => a.out = Some(PathBuf::from(value()?)),
            _ => return Err(format!("unknown argument {flag}\n{USAGE}")),
        }
    }
    Ok(a)
}

fn main() -> ExitCode {
    sys::main_with("reindex", parse(std::env::args().skip(1)), run)
}

/// One size's figures.
struct Figures {
    tickets: i64,
    messages: i64,
    bulk_secs: f64,
    open_secs: f64,
    secs: f64,
    cpu_secs: f64,
    peak_rss_mib: f64,
    written: u64,
    file_mib: f64,
}

async fn run(args: Args) -> Res<()> {
    let mut md = String::new();
    writeln!(md, "Machine: {}.", sys::machine())?;
    writeln!(
        md,
        "Method: see the header of bench/reindex.rs. Sizes: {}.\n",
        args.sizes
            .iter()
            .map(|n| backends::size_label(*n))
            .collect::<Vec<_>>()
            .join(", ")
    )?;
    writeln!(
        md,
        "| tickets | messages | the loader's index build (all indexes, one statement each), s | open (migrate), s | rebuild by the index task, s | tickets/s | messages/s | CPU s | peak RSS MiB | subjects + documents written | index file MiB |"
    )?;
    writeln!(md, "|---|---|---|---|---|---|---|---|---|---|---|")?;
    for n in &args.sizes {
        eprintln!("== reindex: {n} tickets");
        let f = one(*n).await?;
        writeln!(
            md,
            "| {} | {} | {:.1} | {:.2} | {:.1} | {:.0} | {:.0} | {:.1} | {:.0} | {} | {:.0} |",
            f.tickets,
            f.messages,
            f.bulk_secs,
            f.open_secs,
            f.secs,
            f.tickets as f64 / f.secs,
            f.messages as f64 / f.secs,
            f.cpu_secs,
            f.peak_rss_mib,
            f.written,
            f.file_mib
        )?;
    }
    print!("{md}");
    if let Some(out) = &args.out {
        std::fs::write(out, &md)?;
    }
    Ok(())
}

async fn one(n: i64) -> Res<Figures> {
    let dir = tempfile::Builder::new()
        .prefix("opsdesk-reindex-bench-")
        .tempdir()?;
    let main = dir.path().join("opsdesk.db");
    let url = DatabaseUrl::parse(&format!("sqlite://{}", main.display()))?;
    let load = data::load(&url, n, SystemClock.now().as_microsecond()).await?;
    eprintln!("   loaded in {:.1} s", load.total_secs);

    let index = search_file::path_of(&main);
    for suffix in ["", "-wal", "-shm"] {
        remove_if_there(&PathBuf::from(format!("{}{suffix}", index.display())))?;
    }
    let opened = Instant::now();
    let db = Db::connect(&url, PoolOptions::default()).await?;
    db.migrate().await?;
    let open_secs = opened.elapsed().as_secs_f64();
    let lag = opsdesk::search::index::lag(&db).await?;
    let waiting = |index: &str| lag.iter().find(|(i, _)| *i == index).map_or(0, |(_, n)| *n);
    if waiting("subjects") < load.tickets {
        return Err(format!(
            "the index file was not emptied: {} of {} tickets waiting",
            waiting("subjects"),
            load.tickets
        )
        .into());
    }

    sys::reset_peak();
    let cpu0 = sys::cpu_secs();
    let started = Instant::now();
    let written = opsdesk::search::index::catch_up(&db).await?;
    let secs = started.elapsed().as_secs_f64();
    let cpu_secs = sys::cpu_secs() - cpu0;
    let peak_rss_mib = sys::peak_rss_mib();
    let left = opsdesk::search::index::lag(&db).await?;
    if left.is_empty() || left.iter().any(|(_, n)| *n != 0) {
        return Err(format!("the index task stopped short: {left:?} still waiting").into());
    }
    db.close().await;
    eprintln!("   indexed in {secs:.1} s");
    Ok(Figures {
        tickets: load.tickets,
        messages: load.txns,
        bulk_secs: load.index_secs,
        open_secs,
        secs,
        cpu_secs,
        peak_rss_mib,
        written,
        file_mib: sys::disk_mib(&index),
    })
}

fn remove_if_there(p: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(p) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

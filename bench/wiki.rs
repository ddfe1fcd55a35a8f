//! Wiki rendering and diff benchmark (issue 7): how long one ~100 KB runbook takes to render
//! (Markdown → sanitised HTML, with wiki links and ticket references), and how long the diff of
//! two revisions of it takes.
//!
//! ```sh
//! cargo bench --bench wiki -- [--n 300] [--kib 100]
//! ```
//!
//! The page is generated with a fixed seed: a runbook of numbered sections, each with
//! headings, prose with `[[wiki links]]` (half of them to existing pages), `#123` ticket
//! references, inline code, bullet and task lists, a table and a fenced code block, until it
//! is `--kib` KiB. Each row runs its operation `--n` times on one thread and reports the
//! percentiles of one call. The diff rows compare the page with a revision that edits five
//! lines, inserts two and deletes one. A second render row wraps the page in a raw `<div>`,
//! so that all of it goes through the HTML sanitiser (blocks without raw HTML do not need
//! to). A Markdown section for BENCHMARKS.md goes to stdout.

// Shared with the tickets bench, which uses all of it.
#[allow(dead_code)]
#[path = "tickets/sys.rs"]
mod sys;

use std::collections::HashSet;
use std::hint::black_box;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use opsdesk::wiki::diff;
use opsdesk::wiki::render::{Links, render, ticket_refs, wiki_links};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wiki bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A small deterministic generator (xorshift64*), so the page is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const PAGES: &[&str] = &[
    "Runbooks/BGP Session Down",
    "Runbooks/Power Loss",
    "Runbooks/Fibre Cut",
    "Escalation/Carriers",
    "Escalation/Data Centre",
    "Network/Core Routers",
    "Network/Peering",
    "Mail/Queue Growing",
    "Hosting/Disk Full",
    "Customers/Key Accounts",
];

const WORDS: &[&str] = &[
    "check",
    "the",
    "session",
    "on",
    "core",
    "router",
    "uplink",
    "carrier",
    "ticket",
    "customer",
    "latency",
    "packet",
    "loss",
    "prefix",
    "neighbour",
    "state",
    "log",
    "alarm",
    "interface",
    "optics",
    "power",
    "rack",
    "feed",
    "cooling",
    "mail",
    "queue",
    "disk",
    "backup",
    "restore",
    "before",
    "after",
    "while",
    "then",
    "and",
    "if",
    "not",
    "every",
    "minute",
    "window",
];

const HOSTS: &[&str] = &["core1.ams", "core2.fra", "edge3.zrh", "bgp1.vie", "mx2.lyo"];

fn sentence(r: &mut Rng) -> String {
    let n = 8 + r.below(14);
    let mut s = String::new();
    for i in 0..n {
        if i > 0 {
            s.push(' ');
        }
        match r.below(30) {
            0 => s.push_str(&format!("[[{}]]", r.pick(PAGES))),
            1 => s.push_str(&format!("[[{}|the runbook]]", r.pick(PAGES))),
            2 => s.push_str(&format!("#{}", 1000 + r.below(90_000))),
            3 => s.push_str(&format!("`{}`", r.pick(HOSTS))),
            4 => s.push_str(&format!("**{}**", r.pick(WORDS))),
            5 => s.push_str(&format!(
                "[status](https://status.example.net/{})",
                r.below(999)
            )),
            _ => s.push_str(r.pick(WORDS)),
        }
    }
    s.push('.');
    s
}

/// A runbook of at least `bytes` bytes.
fn runbook(bytes: usize, r: &mut Rng) -> String {
    let mut page = String::from("# Runbook: core network incidents\n\n");
    let mut section = 0;
    while page.len() < bytes {
        section += 1;
        let host = r.pick(HOSTS);
        page.push_str(&format!("## {section}. {} on {host}\n\n", r.pick(WORDS)));
        for _ in 0..2 + r.below(3) {
            for _ in 0..3 + r.below(3) {
                page.push_str(&sentence(r));
                page.push(' ');
            }
            page.push_str("\n\n");
        }
        page.push_str("### Checks\n\n");
        for _ in 0..3 + r.below(4) {
            page.push_str(&format!("- {}\n", sentence(r)));
        }
        page.push_str("\n### Fix\n\n");
        for i in 0..2 + r.below(4) {
            let done = if r.below(2) == 0 { "x" } else { " " };
            page.push_str(&format!("- [{done}] step {}: {}\n", i + 1, sentence(r)));
        }
        page.push_str("\n| Host | Interface | State | Ticket |\n|---|---|:---:|---:|\n");
        for _ in 0..4 + r.below(5) {
            page.push_str(&format!(
                "| {} | xe-0/0/{} | {} | #{} |\n",
                r.pick(HOSTS),
                r.below(48),
                r.pick(&["up", "down", "flapping"]),
                1000 + r.below(90_000)
            ));
        }
        page.push_str(&format!(
            "\n```sh\nssh {host}\nshow bgp neighbor {}.{}.{}.{} | match \"State|#{}\"\nshow log messages | last 50\n```\n\n",
            r.below(256),
            r.below(256),
            r.below(256),
            r.below(256),
            r.below(100)
        ));
        page.push_str(&format!(
            "> Escalate to [[Escalation/Carriers]] after {} minutes.\n\n",
            15 + r.below(45)
        ));
    }
    page
}

/// The page with five lines edited, two inserted and one deleted, spread over the text.
fn revise(page: &str) -> String {
    let mut lines: Vec<String> = page.lines().map(str::to_owned).collect();
    let n = lines.len();
    for k in 1..=5 {
        let i = n * k / 7;
        lines[i] = lines[i].replacen("the", "THE", 1) + " (edited)";
    }
    lines.insert(
        n / 3,
        "A new line about [[Runbooks/Fibre Cut]] and #4242.".into(),
    );
    lines.insert(2 * n / 3, "- [ ] another new step".into());
    lines.remove(n / 2);
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

struct Timing {
    min: Duration,
    p50: Duration,
    p95: Duration,
    p99: Duration,
    max: Duration,
}

fn time<T>(n: usize, mut f: impl FnMut() -> T) -> Timing {
    // One warm-up call (lazy sanitizer set-up, page faults) outside the figures.
    black_box(f());
    let mut samples: Vec<Duration> = (0..n)
        .map(|_| {
            let t = Instant::now();
            black_box(f());
            t.elapsed()
        })
        .collect();
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    Timing {
        min: samples.first().copied().unwrap_or_default(),
        p50: at(0.50),
        p95: at(0.95),
        p99: at(0.99),
        max: samples.last().copied().unwrap_or_default(),
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1e3)
}

fn run() -> Result<(), String> {
    let mut n: usize = 300;
    let mut kib: usize = 100;
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        match (k.as_str(), it.next().and_then(|v| v.parse().ok())) {
            ("--n", Some(v)) if v > 0 => n = v,
            ("--kib", Some(v)) if v > 0 => kib = v,
            ("--bench", _) => {}
            _ => return Err("usage: wiki [--n COUNT] [--kib SIZE]".into()),
        }
    }
    let mut r = Rng(0x5eed_0007);
    let page = runbook(kib * 1024, &mut r);
    let revised = revise(&page);
    let links = wiki_links(&page);
    // Half the linked pages exist; the others render as missing (edit) links.
    let existing: HashSet<String> = links.iter().step_by(2).cloned().collect();
    let staff = Links {
        existing: &existing,
        page_base: "/wiki/",
        ticket_base: "/tickets/",
    };
    let html = render(&page, &staff);
    let refs = ticket_refs(&page);
    let lines = diff::diff(&page, &revised);
    let (added, removed) = diff::stats(&lines);

    let mut rows = Vec::new();
    let t = time(n, || render(&page, &staff));
    rows.push(("render (Markdown → sanitised HTML)", "< 5 ms", Some(5.0), t));
    // The worst case: raw HTML around everything, so the whole page goes through ammonia.
    let wrapped = format!("<div>\n\n{page}\n\n</div>\n");
    let t = time(n, || render(&wrapped, &staff));
    rows.push(("render, whole page inside raw `<div>`", "", None, t));
    rows.push((
        "wiki_links (on save)",
        "",
        None,
        time(n, || wiki_links(&page)),
    ));
    rows.push(("ticket_refs", "", None, time(n, || ticket_refs(&page))));
    let t = time(n, || diff::diff(&page, &revised));
    rows.push(("diff (lines + marked words)", "", None, t));
    let t = time(n, || diff::unified(&page, &revised, "a", "b"));
    rows.push(("unified diff (API)", "", None, t));

    println!("Machine: {}\n", sys::machine());
    println!(
        "Page: {} bytes of Markdown, {} lines, {} distinct wiki links ({} existing), {} distinct \
         ticket references; {} bytes of HTML out. Revision: +{added} −{removed} lines. {n} calls \
         per row, one thread.\n",
        page.len(),
        page.lines().count(),
        links.len(),
        existing.len(),
        refs.len(),
        html.len(),
    );
    println!(
        "| operation, ~{kib} KiB page | target | min ms | p50 ms | p95 ms | p99 ms | max ms |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (name, target, limit, t) in rows {
        let mark = match limit {
            Some(l) if t.p99.as_secs_f64() * 1e3 >= l => " ✗",
            _ => "",
        };
        println!(
            "| {name} | {target} | {} | {} | {} | {}{mark} | {} |",
            ms(t.min),
            ms(t.p50),
            ms(t.p95),
            ms(t.p99),
            ms(t.max)
        );
    }
    Ok(())
}

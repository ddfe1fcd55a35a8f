//! What the process costs and what it runs on, read from /proc (Linux only).

use std::process::Command;

fn proc_field(path: &str, key: &str) -> Option<String> {
    std::fs::read_to_string(path).ok()?.lines().find_map(|l| {
        l.strip_prefix(key)
            .and_then(|r| r.strip_prefix(':'))
            .map(|v| v.trim().to_owned())
    })
}

fn kib(path: &str, key: &str) -> Option<f64> {
    proc_field(path, key)?
        .split_whitespace()
        .next()?
        .parse::<f64>()
        .ok()
}

/// Peak resident set of this process since start or the last `reset_peak`, MiB (VmHWM).
pub fn peak_rss_mib() -> f64 {
    kib("/proc/self/status", "VmHWM").unwrap_or(0.0) / 1024.0
}

/// Resident set of this process now, MiB (VmRSS).
pub fn rss_mib() -> f64 {
    kib("/proc/self/status", "VmRSS").unwrap_or(0.0) / 1024.0
}

/// Resets VmHWM to the current resident set (writing 5 to /proc/self/clear_refs), so a phase's
/// peak is its own. Answers whether the kernel allowed it.
pub fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

pub fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|t| *t > 0.0)
        .unwrap_or(100.0)
}

/// User + system CPU time of this process so far, seconds (/proc/self/stat utime + stime).
pub fn cpu_secs() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
        return 0.0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / clock_ticks()
}

/// The machine's 1-minute load average (/proc/loadavg): how busy the 2 cores were anyway.
pub fn loadavg() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0)
}

/// Size of a file or of every file under a directory, MiB.
pub fn disk_mib(path: &std::path::Path) -> f64 {
    fn walk(p: &std::path::Path) -> u64 {
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => std::fs::read_dir(p)
                .map(|d| d.flatten().map(|e| walk(&e.path())).sum())
                .unwrap_or(0),
            Ok(m) => m.len(),
            Err(_) => 0,
        }
    }
    walk(path) as f64 / (1024.0 * 1024.0)
}

/// The machine, one line: CPUs, memory, CPU model, kernel, OS, compiler.
pub fn machine() -> String {
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let mem = kib("/proc/meminfo", "MemTotal").unwrap_or(0.0) / (1024.0 * 1024.0);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default();
    let os = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("PRETTY_NAME="))
                .map(|v| v.trim_matches('"').to_owned())
        })
        .unwrap_or_default();
    let rustc = Command::new("rustc")
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|| "rustc (unknown version)".into());
    let profile = if cfg!(debug_assertions) {
        "debug build"
    } else {
        "optimised build (bench profile = release: thin LTO, 4 codegen units)"
    };
    format!("{cpus} CPUs ({model}), {mem:.1} GiB RAM, Linux {kernel}, {os}, {rustc}, {profile}")
}

/// A bench's `main`: its arguments parsed (usage on error, exit 2), then `run` on a
/// multi-threaded runtime; failures are printed with the bench's name.
pub fn main_with<A, F, E>(
    name: &str,
    parsed: Result<A, String>,
    run: impl FnOnce(A) -> F,
) -> std::process::ExitCode
where
    F: std::future::Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    use std::process::ExitCode;
    let a = match parsed {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("bench {name}: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(a)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench {name}: {e}");
            ExitCode::FAILURE
        }
    }
}

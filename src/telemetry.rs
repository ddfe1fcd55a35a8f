//! Logging: human-readable lines or JSON on stderr, filtered by `RUST_LOG` or `log.level`.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::config::LogConfig;

pub fn init(cfg: &LogConfig) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&cfg.level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let result = if cfg.json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
    if result.is_err() {
        // Already set (tests that build several apps in one process): keep the first.
    }
}

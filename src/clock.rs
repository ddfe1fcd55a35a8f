//! The only reader of wall-clock time (DESIGN.md §5): everything else takes `now` or a `&dyn Clock`,
//! so SLA, session and job tests can move time by hand.

use std::sync::Arc;
use std::sync::Mutex;

use jiff::{SignedDuration, Timestamp};

/// A source of "now". Shared as `Arc<dyn Clock>` through `AppState`.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> Timestamp;
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // reason: this is the one place allowed to read the clock
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that only moves when told to; for tests of timers and expiry.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<Mutex<Timestamp>>,
}

impl ManualClock {
    pub fn new(start: Timestamp) -> Self {
        Self {
            now: Arc::new(Mutex::new(start)),
        }
    }

    pub fn advance(&self, by: SignedDuration) {
        let mut now = self.now.lock().unwrap_or_else(|p| p.into_inner());
        *now = now.saturating_add(by).unwrap_or(*now);
    }

    pub fn set(&self, to: Timestamp) {
        *self.now.lock().unwrap_or_else(|p| p.into_inner()) = to;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.now.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub type SharedClock = Arc<dyn Clock>;

/// The variable that hands the server a `FileClock`, for tests from outside the process
/// (SLA clocks across days, two nodes sharing one "now"). Never set it in production.
pub const TEST_CLOCK_ENV: &str = "OPSDESK_TEST_CLOCK_FILE";

/// A clock read from a file holding one RFC 3339 instant, re-read on every call, so a test
/// moves the time of every node at once by rewriting the file. A file that cannot be read or
/// parsed (mid-write) answers the last instant read.
#[derive(Debug)]
pub struct FileClock {
    path: std::path::PathBuf,
    last: Mutex<Timestamp>,
}

impl FileClock {
    pub fn new(path: std::path::PathBuf, start: Timestamp) -> Self {
        Self {
            path,
            last: Mutex::new(start),
        }
    }
}

impl Clock for FileClock {
    fn now(&self) -> Timestamp {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(t) = std::fs::read_to_string(&self.path)
            .ok()
            .and_then(|s| s.trim().parse::<Timestamp>().ok())
        {
            *last = t;
        }
        *last
    }
}

/// The system clock, or a `FileClock` when `OPSDESK_TEST_CLOCK_FILE` names a file.
pub fn from_env() -> SharedClock {
    match std::env::var_os(TEST_CLOCK_ENV) {
        Some(path) if !path.is_empty() => {
            tracing::warn!(path = ?path, "time is read from a file ({TEST_CLOCK_ENV}): for tests only");
            Arc::new(FileClock::new(path.into(), SystemClock.now()))
        }
        _ => Arc::new(SystemClock),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_advanced() {
        let start = Timestamp::from_second(1_800_000_000).unwrap();
        let clock = ManualClock::new(start);
        assert_eq!(clock.now(), start);
        clock.advance(SignedDuration::from_secs(90));
        assert_eq!(clock.now().as_second(), 1_800_000_090);
    }

    #[test]
    fn a_file_clock_follows_its_file_and_keeps_the_last_good_instant() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("now");
        let start = Timestamp::from_second(1_800_000_000).unwrap();
        let clock = FileClock::new(path.clone(), start);
        assert_eq!(clock.now(), start, "no file yet");
        std::fs::write(&path, "2026-11-23T10:00:00Z\n").unwrap();
        assert_eq!(clock.now(), "2026-11-23T10:00:00Z".parse().unwrap());
        std::fs::write(&path, "2026-11-2").unwrap();
        assert_eq!(clock.now(), "2026-11-23T10:00:00Z".parse().unwrap());
    }
}

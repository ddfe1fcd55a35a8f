//! The config loader (CONTRACT §2): arbitrary bytes as the text of opsdesk.toml, through the
//! same TOML parsing, section reading, unknown-key search and checks as `opsdesk --config FILE`
//! (`config::load` reads the file and hands its text to the same code). `load_str` leaves out
//! the `OPSDESK_*` environment layer, so a run depends on the input alone (only what the
//! checks look up outside the text, such as a `ca_file` or the time-zone database, is not).
//! Problems are fine; panics are not. Every problem names a key and says something; loading
//! the same text twice gives the same answer; a config that loads keeps what the checks
//! promise the rest of the program.
#![no_main]

use std::collections::BTreeSet;
use std::path::Path;

use libfuzzer_sys::fuzz_target;
use opsdesk::config::{self, Config};

fuzz_target!(|data: &[u8]| {
    // `load` refuses a file that is not UTF-8 before parsing it.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let origin = Path::new("fuzz/opsdesk.toml");
    let first = config::load_str(text, origin);
    let again = config::load_str(text, origin);
    match (&first, &again) {
        (Ok(a), Ok(b)) => {
            assert!(
                a.warnings.is_empty(),
                "warnings without an environment: {a:?}"
            );
            assert_eq!(a.file.as_deref(), Some(origin));
            assert_eq!(
                format!("{:?}", a.config),
                format!("{:?}", b.config),
                "{text:?} loads two ways"
            );
            promises(&a.config);
        }
        (Err(a), Err(b)) => {
            assert_eq!(a, b, "{text:?} fails two ways");
            assert!(!a.is_empty(), "refused without a problem: {text:?}");
            for p in a {
                assert!(!p.key.is_empty() && !p.message.is_empty(), "{p:?}");
            }
        }
        _ => panic!("{text:?} loads once and fails once: {first:?} / {again:?}"),
    }
});

/// What a loaded config guarantees to the code that uses it.
fn promises(c: &Config) {
    assert!(!c.auth.sources.is_empty());
    assert!(c.auth.session_idle <= c.auth.session_lifetime);
    assert!(c.auth.max_failures_per_user >= 1 && c.auth.max_failures_per_address >= 1);
    assert!(c.db.max_connections >= 1 && c.jobs.max_attempts >= 1);
    assert!(!c.db.acquire_timeout.is_zero() && !c.jobs.lease.is_zero());
    assert!(matches!(c.base_url.scheme(), "http" | "https"));
    assert!(c.mail.max_message_bytes > 0);
    unique(c.queues.iter().map(|q| q.name.as_str()));
    unique(c.calendars.iter().map(|q| q.name.as_str()));
    unique(c.slas.iter().map(|q| q.name.as_str()));
    unique(c.oncall.iter().map(|q| q.name.as_str()));
    unique(c.alert_sources.iter().map(|q| q.name.as_str()));
    let queues: BTreeSet<&str> = c.queues.iter().map(|q| q.name.as_str()).collect();
    for a in &c.alert_sources {
        assert!(["alertmanager", "nagios", "events"].contains(&a.kind.as_str()));
        assert!(queues.contains(a.queue.as_str()));
        assert!(a.priority.values().all(|p| (1..=4).contains(p)));
    }
    for i in &c.mail.imap {
        assert!(queues.contains(i.queue.as_str()));
    }
    // Every [[sla]] became a policy.
    for s in &c.slas {
        assert!(c.policies.get(&s.name).is_some(), "no policy {:?}", s.name);
    }
}

fn unique<'a>(names: impl Iterator<Item = &'a str>) {
    let mut seen = BTreeSet::new();
    for n in names {
        assert!(!n.trim().is_empty() && seen.insert(n), "name {n:?}");
    }
}

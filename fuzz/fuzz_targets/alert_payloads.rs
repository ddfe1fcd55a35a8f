//! Alert payloads from monitoring: the first byte picks the parser (Alertmanager webhook,
//! Nagios form or JSON, Events API), the rest is the body. Errors are fine; panics, and
//! events that break what apply() relies on, are not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use opsdesk::alerts::parse::{self, MAX_NAME, Parsed};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let parsed: Option<Parsed> = match pick % 4 {
        0 => parse::alertmanager::parse(body).ok(),
        1 => parse::nagios::parse(body, None).ok(),
        2 => parse::nagios::parse(body, Some("application/json")).ok(),
        _ => parse::events::parse(body).ok(),
    };
    let Some(p) = parsed else {
        return;
    };
    assert_eq!(p.events.len(), p.dedup_keys.len());
    for e in &p.events {
        assert!(!e.identity.is_empty(), "empty identity from {body:?}");
        assert!(!e.name.trim().is_empty(), "empty name from {body:?}");
        assert!(e.name.chars().count() <= MAX_NAME);
        assert!(!e.name.contains(['\n', '\r']));
        if let Some(h) = &e.host {
            assert!(!h.is_empty() && *h == h.to_ascii_lowercase(), "host {h:?}");
        }
        let _ = opsdesk::alerts::incident_subject(e);
    }
});

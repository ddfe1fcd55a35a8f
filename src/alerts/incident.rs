//! The words of an incident ticket: its subject and first message, built from the alert. The
//! message is Markdown (rendered through the sanitiser like every body), with the alert's
//! labels, annotations and the link back to the source.

use std::fmt::Write;

use super::{AlertEvent, Source};

/// `HostDown on web1: web1 is down`, without saying the same thing twice.
pub fn subject(e: &AlertEvent) -> String {
    let head = match &e.host {
        Some(h) if !e.name.contains(h.as_str()) => format!("{} on {h}", e.name),
        _ => e.name.clone(),
    };
    if e.summary == e.name || e.summary == head || e.summary.is_empty() {
        head
    } else {
        format!("{head}: {}", e.summary)
    }
}

/// Markdown special characters escaped, so a label cannot become a link or a heading.
fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\`*_{}[]<>()#+-.!|~&".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The first message of an alert's incident.
pub fn body(src: &Source, e: &AlertEvent) -> String {
    let mut b = String::new();
    let _ = writeln!(b, "**{}**\n", md(&e.summary));
    if let Some(d) = e.description.as_deref().filter(|d| *d != e.summary) {
        for line in d.lines() {
            let _ = writeln!(b, "{}  ", md(line));
        }
        b.push('\n');
    }
    let _ = writeln!(b, "- Source: {} ({})", md(&src.name), src.kind.as_str());
    let _ = writeln!(b, "- Alert: {}", md(&e.name));
    if let Some(h) = &e.host {
        let _ = writeln!(b, "- Host: {}", md(h));
    }
    if let Some(s) = &e.severity {
        let _ = writeln!(b, "- Severity: {}", md(s));
    }
    let _ = writeln!(b, "- Identity: {}", md(&e.identity));
    if let Some(u) = &e.generator_url {
        let _ = writeln!(b, "- Source link: <{}>", u.replace(['<', '>', ' '], ""));
    }
    for (title, map) in [("Labels", &e.labels), ("Annotations", &e.annotations)] {
        if map.is_empty() {
            continue;
        }
        let _ = writeln!(b, "\n**{title}**\n");
        for (k, v) in map {
            let _ = writeln!(b, "- {}: {}", md(k), md(v.lines().next().unwrap_or("")));
        }
    }
    b
}

/// The subject of a storm's parent ticket.
pub fn storm_subject(src: &Source, threshold: u32, window_secs: i64) -> String {
    format!(
        "Alert storm from {}: more than {threshold} new incidents within {}",
        src.name,
        human_secs(window_secs)
    )
}

pub fn storm_body(src: &Source, first: &AlertEvent, threshold: u32, window_secs: i64) -> String {
    format!(
        "More than {threshold} alerts of source {} opened incidents within {}: new alerts now \
         join this ticket instead of opening their own, until none has come for {}. The \
         alerts are listed on this ticket and on the alerts page.\n\nThe first to join: {}\n",
        md(&src.name),
        human_secs(window_secs),
        human_secs(window_secs),
        md(&subject(first)),
    )
}

pub fn human_secs(s: i64) -> String {
    match s {
        s if s % 3600 == 0 && s >= 3600 => format!("{} h", s / 3600),
        s if s % 60 == 0 && s >= 60 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::Action;

    fn event() -> AlertEvent {
        let mut e = AlertEvent::new(
            "fp1".into(),
            Action::Fire,
            "HostDown".into(),
            "web1 is down".into(),
        );
        e.host = Some("web1".into());
        e.labels
            .insert("job".into(), "[x](javascript:alert(1))".into());
        e
    }

    #[test]
    fn subjects_say_name_host_and_summary_once() {
        let mut e = event();
        assert_eq!(subject(&e), "HostDown on web1: web1 is down");
        e.summary = "HostDown on web1".into();
        assert_eq!(subject(&e), "HostDown on web1");
        e.host = None;
        e.summary = "HostDown".into();
        assert_eq!(subject(&e), "HostDown");
    }

    #[test]
    fn labels_cannot_become_markup() {
        let src = crate::alerts::Source::from_raw(&crate::config::RawAlertSource {
            name: "prom".into(),
            kind: "alertmanager".into(),
            token: "secret-token".into(),
            queue: "NOC".into(),
            priority: Default::default(),
            auto_resolve: true,
            storm: None,
            flap_window: "15m".into(),
            redelivery_window: "5m".into(),
            retention: "30d".into(),
            api_url: None,
        })
        .unwrap();
        let b = body(&src, &event());
        assert!(
            b.contains("- job: \\[x\\]\\(javascript:alert\\(1\\)\\)"),
            "{b}"
        );
        let html = crate::tickets::render_markdown(&b);
        assert!(!html.contains("<a"), "{html}");
        assert_eq!(human_secs(60), "1 min");
        assert_eq!(human_secs(90), "90 s");
    }
}

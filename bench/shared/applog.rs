//! The app's log in a bench: WARN and up go to a file in the bench's temp dir, so failures
//! can be named in the report (the app logs every 5xx with its cause chain, DESIGN.md §6)
//! without flooding stderr.

use std::path::{Path, PathBuf};

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Sends the app's WARN-and-up lines to `root/app.log`; answers the file's path.
pub fn init_log(root: &Path) -> Res<PathBuf> {
    let path = root.join("app.log");
    let file = std::fs::File::create(&path)?;
    tracing_subscriber::fmt()
        .with_writer(std::sync::Mutex::new(file))
        .with_ansi(false)
        .with_max_level(tracing_subscriber::filter::LevelFilter::WARN)
        .try_init()?;
    Ok(path)
}

/// The ERROR lines written to `log` after byte `from`: how many, and up to 3 distinct ones.
pub fn app_errors(log: &Path, from: u64) -> (usize, Vec<String>) {
    let Ok(text) = std::fs::read(log) else {
        return (0, Vec::new());
    };
    let text = String::from_utf8_lossy(text.get(from as usize..).unwrap_or_default());
    let mut count = 0;
    let mut distinct: Vec<String> = Vec::new();
    for line in text.lines() {
        // tower-http's trace layer adds a second line per 5xx; the app's own line names the cause.
        let Some(i) = line
            .find(" ERROR ")
            .filter(|_| !line.contains("tower_http::trace"))
        else {
            continue;
        };
        count += 1;
        let msg: String = line[i + 7..].trim().chars().take(400).collect();
        if distinct.len() < 3 && !distinct.contains(&msg) {
            distinct.push(msg);
        }
    }
    (count, distinct)
}

//! The app as `opsdesk serve` builds it, from a generated opsdesk.toml: shared by the benches
//! that run it in their own process.

use std::path::Path;
use std::sync::Arc;

use opsdesk::app::App;
use opsdesk::clock::SystemClock;

/// Writes `toml` to `dir/opsdesk.toml`, loads it through the config loader (every problem
/// reported at once) and builds the app on it with the system clock.
pub async fn build(
    dir: &Path,
    toml: &str,
) -> Result<App, Box<dyn std::error::Error + Send + Sync>> {
    let path = dir.join("opsdesk.toml");
    std::fs::write(&path, toml)?;
    let loaded = opsdesk::config::load(Some(&path)).map_err(|p| {
        p.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")
    })?;
    Ok(App::build(loaded.config, Arc::new(SystemClock), None).await?)
}

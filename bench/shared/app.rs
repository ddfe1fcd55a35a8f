//! The app as `opsdesk serve` builds it, from a generated opsdesk.toml: shared by the benches
//! that run it in their own process.

use std::path::Path;
use std::sync::Arc;

use opsdesk::app::App;
use opsdesk::clock::SystemClock;

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Writes `toml` to `dir/opsdesk.toml`, loads it through the config loader (every problem
/// reported at once) and builds the app on it with the system clock.
pub async fn build(dir: &Path, toml: &str) -> Res<App> {
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

/// [`build`] for a `toml` whose `database_url` is `url`, and a check that the app runs on that
/// database: the config loader lets the environment override the file.
pub async fn build_on(dir: &Path, url: &str, toml: &str) -> Res<App> {
    let app = build(dir, toml).await?;
    if app.state.config.database_url.expose() != url {
        return Err(
            "an OPSDESK_DATABASE_URL in the environment overrides the bench's database; unset it"
                .into(),
        );
    }
    Ok(app)
}

//! The database URL, whose `Debug` and `Display` never show the password (STYLE.md, take 9).

use super::Backend;

#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    raw: String,
    backend: Backend,
}

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<DatabaseUrl, String> {
        let backend = if raw.starts_with("sqlite:") {
            Backend::Sqlite
        } else if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            let parsed = url::Url::parse(raw).map_err(|e| format!("not a valid URL: {e}"))?;
            if parsed.host_str().is_none_or(str::is_empty) {
                return Err("a postgres:// URL needs a host".into());
            }
            Backend::Postgres
        } else {
            return Err("must start with sqlite:// or postgres://".into());
        };
        Ok(DatabaseUrl {
            raw: raw.to_owned(),
            backend,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The full URL with its password, for the driver only.
    pub fn expose(&self) -> &str {
        &self.raw
    }

    /// The URL with any password replaced by `***`, for logs and error messages.
    pub fn redacted(&self) -> String {
        match url::Url::parse(&self.raw) {
            Ok(mut u) if u.password().is_some() => {
                let _ = u.set_password(Some("***"));
                u.to_string()
            }
            _ => self.raw.clone(),
        }
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_never_shows_in_debug_or_display() {
        let u = DatabaseUrl::parse("postgres://ops:s3cret@db.example.net/opsdesk").unwrap();
        assert_eq!(u.backend(), Backend::Postgres);
        assert!(!format!("{u:?} {u}").contains("s3cret"));
        assert!(u.expose().contains("s3cret"));
    }

    #[test]
    fn other_schemes_are_refused_with_the_reason() {
        let e = DatabaseUrl::parse("mysql://x/y").unwrap_err();
        assert!(e.contains("sqlite://"), "{e}");
    }
}

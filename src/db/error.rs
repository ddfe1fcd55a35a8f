//! What can go wrong below the features, with unique violations named by constraint so a
//! feature can turn "already stored" into a domain outcome (STYLE.md, take 6).

use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("no such row")]
    NotFound,
    /// A unique or foreign-key constraint refused the write. `constraint` is PostgreSQL's
    /// constraint name; on SQLite it is rebuilt in PostgreSQL's default shape
    /// (`table_col1_col2_key`) so that both backends answer the same name.
    #[error("constraint {constraint} refused the write")]
    Conflict { constraint: String },
    /// The database did not answer in time or the connection broke: retry later.
    #[error("the database is unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    /// Text the database cannot hold: PostgreSQL refuses a NUL character in text (SQLSTATE
    /// 22021) and characters its encoding lacks (22P05). The input is at fault, not the server.
    #[error("the text holds a character the database cannot store (such as NUL)")]
    Unstorable(#[source] sqlx::Error),
    #[error("database error: {0}")]
    Other(#[source] sqlx::Error),
}

impl StoreError {
    pub fn is_conflict_on(&self, name: &str) -> bool {
        matches!(self, StoreError::Conflict { constraint } if constraint == name)
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => StoreError::Unavailable(e),
            sqlx::Error::Database(ref db)
                if db.is_unique_violation() || db.is_foreign_key_violation() =>
            {
                let constraint = match db.constraint() {
                    Some(c) => c.to_owned(),
                    None => sqlite_constraint_name(db.message()),
                };
                StoreError::Conflict { constraint }
            }
            sqlx::Error::Database(ref db)
                if db.code().is_some_and(|c| c == "22021" || c == "22P05") =>
            {
                StoreError::Unstorable(e)
            }
            // PostgreSQL says 57P01 (admin shutdown) or 08xxx while it restarts.
            sqlx::Error::Database(ref db)
                if db
                    .code()
                    .is_some_and(|c| c.starts_with("08") || c.starts_with("57P")) =>
            {
                StoreError::Unavailable(e)
            }
            other => StoreError::Other(other),
        }
    }
}

/// "UNIQUE constraint failed: users.username, users.x" → "users_username_x_key".
fn sqlite_constraint_name(message: &str) -> String {
    let Some((_, cols)) = message.split_once(": ") else {
        return message.to_owned();
    };
    let mut table = "";
    let mut names = Vec::new();
    for part in cols.split(", ") {
        if let Some((t, c)) = part.split_once('.') {
            table = t;
            names.push(c);
        }
    }
    if table.is_empty() {
        return message.to_owned();
    }
    format!("{table}_{}_key", names.join("_"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_unique_messages_become_postgres_style_names() {
        assert_eq!(
            sqlite_constraint_name("UNIQUE constraint failed: users.username"),
            "users_username_key"
        );
        assert_eq!(
            sqlite_constraint_name("UNIQUE constraint failed: jobs.kind, jobs.dedup_key"),
            "jobs_kind_dedup_key_key"
        );
        assert_eq!(
            sqlite_constraint_name("FOREIGN KEY constraint failed"),
            "FOREIGN KEY constraint failed"
        );
    }
}

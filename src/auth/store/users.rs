use jiff::Timestamp;

use crate::auth::users::{NewUser, User, UserSource};
use crate::db::{Db, StoreError, Ts, Tx};
use crate::{on_pool, on_tx};

#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    username: String,
    email: String,
    name: String,
    role: String,
    customer_code: Option<String>,
    disabled: bool,
    password_hash: Option<String>,
    source: String,
    last_login_at: Option<Ts>,
}

impl UserRow {
    fn into_user(self) -> Result<User, StoreError> {
        let role = self
            .role
            .parse()
            .map_err(|m: String| StoreError::Other(sqlx::Error::Decode(m.into())))?;
        let source = self
            .source
            .parse()
            .map_err(|m: String| StoreError::Other(sqlx::Error::Decode(m.into())))?;
        Ok(User {
            source,
            id: self.id,
            username: self.username,
            email: self.email,
            name: self.name,
            role,
            customer_code: self.customer_code,
            disabled: self.disabled,
            password_hash: self.password_hash,
            last_login_at: self.last_login_at.map(Into::into),
        })
    }
}

/// The one user SELECT, with a tail (WHERE/ORDER BY) appended at compile time.
macro_rules! select_users {
    ($tail:literal) => {
        concat!(
            "SELECT u.id, u.username, u.email, u.name, u.role, c.code AS customer_code, ",
            "u.disabled, u.password_hash, u.source, u.last_login_at ",
            "FROM users u LEFT JOIN customers c ON c.id = u.customer_id",
            $tail
        )
    };
}

/// Adds a user; a taken username is the same conflict the unique index would raise.
pub(crate) async fn insert(
    tx: &mut Tx,
    new: &NewUser,
    customer_id: Option<i64>,
    now: Timestamp,
) -> Result<i64, StoreError> {
    insert_if_free(tx, new, customer_id, now)
        .await?
        .ok_or_else(|| StoreError::Conflict {
            constraint: "users_username_key".into(),
        })
}

/// [`insert`] unless the username is taken: `None` then, and nothing written.
pub(crate) async fn insert_if_free(
    tx: &mut Tx,
    new: &NewUser,
    customer_id: Option<i64>,
    now: Timestamp,
) -> Result<Option<i64>, StoreError> {
    Ok(on_tx!(tx, |c| {
        sqlx::query_scalar(
            "INSERT INTO users (username, email, name, role, customer_id, password_hash, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT (username) DO NOTHING RETURNING id",
        )
        .bind(new.username.as_str())
        .bind(&new.email)
        .bind(&new.name)
        .bind(new.role.as_str())
        .bind(customer_id)
        .bind(&new.password_hash)
        .bind(Ts(now))
        .fetch_optional(c)
        .await?
    }))
}

pub(crate) async fn by_username(db: &Db, username: &str) -> Result<Option<User>, StoreError> {
    let row: Option<UserRow> = on_pool!(db, |p| {
        sqlx::query_as(select_users!(" WHERE u.username = $1"))
            .bind(username)
            .fetch_optional(p)
            .await?
    });
    row.map(UserRow::into_user).transpose()
}

pub(crate) async fn by_username_in(
    tx: &mut Tx,
    username: &str,
) -> Result<Option<User>, StoreError> {
    let row: Option<UserRow> = on_tx!(tx, |c| {
        sqlx::query_as(select_users!(" WHERE u.username = $1"))
            .bind(username)
            .fetch_optional(c)
            .await?
    });
    row.map(UserRow::into_user).transpose()
}

/// Every user with the address `email`, disabled ones too, oldest first.
pub(crate) async fn all_by_email_in(tx: &mut Tx, email: &str) -> Result<Vec<User>, StoreError> {
    let rows: Vec<UserRow> = on_tx!(tx, |c| {
        sqlx::query_as(select_users!(
            " WHERE lower(u.email) = lower($1) ORDER BY u.id"
        ))
        .bind(email)
        .fetch_all(c)
        .await?
    });
    rows.into_iter().map(UserRow::into_user).collect()
}

pub(crate) async fn by_id(db: &Db, id: i64) -> Result<Option<User>, StoreError> {
    let row: Option<UserRow> = on_pool!(db, |p| {
        sqlx::query_as(select_users!(" WHERE u.id = $1"))
            .bind(id)
            .fetch_optional(p)
            .await?
    });
    row.map(UserRow::into_user).transpose()
}

pub(crate) async fn list(db: &Db) -> Result<Vec<User>, StoreError> {
    let rows: Vec<UserRow> = on_pool!(db, |p| {
        sqlx::query_as(select_users!(" ORDER BY u.username"))
            .fetch_all(p)
            .await?
    });
    rows.into_iter().map(UserRow::into_user).collect()
}

pub(crate) async fn count(db: &Db) -> Result<i64, StoreError> {
    Ok(on_pool!(db, |p| sqlx::query_scalar(
        "SELECT COUNT(*) FROM users"
    )
    .fetch_one(p)
    .await?))
}

pub(crate) async fn touch_login(tx: &mut Tx, id: i64, now: Timestamp) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE users SET last_login_at = $1 WHERE id = $2"
    )
    .bind(Ts(now))
    .bind(id)
    .execute(c)
    .await
    .map(|_| ())?);
    Ok(())
}

/// Adds a user vouched for by a directory (no password of ours), or `None` when the name is
/// taken meanwhile.
pub(crate) async fn insert_from_directory(
    tx: &mut Tx,
    new: &NewUser,
    source: UserSource,
    customer_id: Option<i64>,
    now: Timestamp,
) -> Result<Option<i64>, StoreError> {
    Ok(on_tx!(tx, |c| {
        sqlx::query_scalar(
            "INSERT INTO users (username, email, name, role, customer_id, source, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT (username) DO NOTHING RETURNING id",
        )
        .bind(new.username.as_str())
        .bind(&new.email)
        .bind(&new.name)
        .bind(new.role.as_str())
        .bind(customer_id)
        .bind(source.as_str())
        .bind(Ts(now))
        .fetch_optional(c)
        .await?
    }))
}

/// Rewrites what a directory owns of a user (it may also adopt a mail contact: `source`).
pub(crate) async fn refresh_from_directory(
    tx: &mut Tx,
    id: i64,
    fresh: &NewUser,
    source: UserSource,
    customer_id: Option<i64>,
    now: Timestamp,
) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE users SET email = $1, name = $2, role = $3, customer_id = $4, source = $5, \
         updated_at = $6 WHERE id = $7"
    )
    .bind(&fresh.email)
    .bind(&fresh.name)
    .bind(fresh.role.as_str())
    .bind(customer_id)
    .bind(source.as_str())
    .bind(Ts(now))
    .bind(id)
    .execute(c)
    .await
    .map(|_| ())?);
    Ok(())
}

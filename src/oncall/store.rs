//! The SQL of `oncall_overrides`, and the only place with it (DESIGN.md §2). One statement per
//! function, run on either backend through `on_tx!`.

use jiff::Timestamp;

use super::overrides::{NewOverride, Override};
use crate::db::{StoreError, Ts, Tx};
use crate::on_tx;

#[derive(Debug, sqlx::FromRow)]
struct Row {
    id: i64,
    rotation: String,
    starts_at: Ts,
    ends_at: Ts,
    primary_user: String,
    backup_user: Option<String>,
    reason: String,
    created_by: String,
    created_at: Ts,
}

impl From<Row> for Override {
    fn from(r: Row) -> Override {
        Override {
            id: r.id,
            rotation: r.rotation,
            starts_at: r.starts_at.0,
            ends_at: r.ends_at.0,
            primary: r.primary_user,
            backup: r.backup_user,
            reason: r.reason,
            created_by: r.created_by,
            created_at: r.created_at.0,
        }
    }
}

/// A page's worth; a rotation with more current overrides than this has other problems.
const LIST_LIMIT: i64 = 500;

pub(super) async fn insert(
    tx: &mut Tx,
    rotation: &str,
    new: &NewOverride,
    created_by: &str,
    now: Timestamp,
) -> Result<Override, StoreError> {
    let row: Row = on_tx!(tx, |conn| {
        sqlx::query_as(
            "INSERT INTO oncall_overrides \
             (rotation, starts_at, ends_at, primary_user, backup_user, reason, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             RETURNING id, rotation, starts_at, ends_at, primary_user, backup_user, reason, created_by, created_at",
        )
        .bind(rotation)
        .bind(Ts(new.starts_at()))
        .bind(Ts(new.ends_at()))
        .bind(new.primary())
        .bind(new.backup())
        .bind(new.reason())
        .bind(created_by)
        .bind(Ts(now))
        .fetch_one(conn)
        .await?
    });
    Ok(row.into())
}

/// The overrides of `rotation` that overlap `[from, to)`.
pub(super) async fn overlapping(
    tx: &mut Tx,
    rotation: &str,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<Override>, StoreError> {
    let rows: Vec<Row> = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT id, rotation, starts_at, ends_at, primary_user, backup_user, reason, created_by, created_at \
             FROM oncall_overrides WHERE rotation = $1 AND ends_at > $2 AND starts_at < $3 \
             ORDER BY starts_at, id",
        )
        .bind(rotation)
        .bind(Ts(from))
        .bind(Ts(to))
        .fetch_all(conn)
        .await?
    });
    Ok(rows.into_iter().map(Override::from).collect())
}

/// The overrides of `rotation` still current or to come at `now`, soonest first.
pub(super) async fn upcoming(
    tx: &mut Tx,
    rotation: &str,
    now: Timestamp,
) -> Result<Vec<Override>, StoreError> {
    let rows: Vec<Row> = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT id, rotation, starts_at, ends_at, primary_user, backup_user, reason, created_by, created_at \
             FROM oncall_overrides WHERE rotation = $1 AND ends_at > $2 \
             ORDER BY starts_at, id LIMIT $3",
        )
        .bind(rotation)
        .bind(Ts(now))
        .bind(LIST_LIMIT)
        .fetch_all(conn)
        .await?
    });
    Ok(rows.into_iter().map(Override::from).collect())
}

/// Deletes override `id` of `rotation`; answers whether it existed.
pub(super) async fn delete(tx: &mut Tx, rotation: &str, id: i64) -> Result<bool, StoreError> {
    let n = on_tx!(tx, |conn| {
        sqlx::query("DELETE FROM oncall_overrides WHERE id = $1 AND rotation = $2")
            .bind(id)
            .bind(rotation)
            .execute(conn)
            .await?
            .rows_affected()
    });
    Ok(n > 0)
}

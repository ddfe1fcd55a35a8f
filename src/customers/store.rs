use jiff::Timestamp;

use super::CustomerRef;
use super::NewCustomer;
use crate::db::{StoreError, Ts, Tx};
use crate::on_tx;

pub(super) async fn insert(
    tx: &mut Tx,
    c: &NewCustomer,
    now: Timestamp,
) -> Result<i64, StoreError> {
    Ok(on_tx!(tx, |conn| {
        sqlx::query_scalar(
        "INSERT INTO customers (code, name, sla, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) RETURNING id"
    )
    .bind(c.code.as_str())
    .bind(c.name.trim())
    .bind(&c.sla)
    .bind(Ts(now))
    .fetch_one(conn)
    .await?
    }))
}

pub(super) async fn add_domain(
    tx: &mut Tx,
    customer_id: i64,
    domain: &str,
) -> Result<(), StoreError> {
    on_tx!(tx, |conn| sqlx::query(
        "INSERT INTO customer_domains (customer_id, domain) VALUES ($1, $2)"
    )
    .bind(customer_id)
    .bind(domain)
    .execute(conn)
    .await
    .map(|_| ())?);
    Ok(())
}

pub(super) async fn id_by_code(tx: &mut Tx, code: &str) -> Result<Option<i64>, StoreError> {
    Ok(on_tx!(tx, |conn| sqlx::query_scalar(
        "SELECT id FROM customers WHERE code = $1"
    )
    .bind(code)
    .fetch_optional(conn)
    .await?))
}

pub(super) async fn by_code(
    tx: &mut Tx,
    code: &str,
) -> Result<Option<(i64, Option<String>)>, StoreError> {
    Ok(on_tx!(tx, |conn| sqlx::query_as(
        "SELECT id, sla FROM customers WHERE code = $1"
    )
    .bind(code)
    .fetch_optional(conn)
    .await?))
}

pub(super) async fn by_domain(
    tx: &mut Tx,
    domain: &str,
) -> Result<Option<CustomerRef>, StoreError> {
    Ok(on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT c.id, c.code, c.sla FROM customers c \
             JOIN customer_domains d ON d.customer_id = c.id WHERE d.domain = $1",
        )
        .bind(domain)
        .fetch_optional(conn)
        .await?
    }))
}

use jiff::Timestamp;

use super::{Contact, CustomerRef, Host, NewCustomer, Service, Summary};
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

pub(super) async fn row_by_code(
    tx: &mut Tx,
    code: &str,
) -> Result<Option<(i64, String, String, Option<String>)>, StoreError> {
    Ok(on_tx!(tx, |conn| sqlx::query_as(
        "SELECT id, code, name, sla FROM customers WHERE code = $1"
    )
    .bind(code)
    .fetch_optional(conn)
    .await?))
}

pub(super) async fn update_row(
    tx: &mut Tx,
    id: i64,
    name: Option<&str>,
    sla: Option<&Option<String>>,
    now: Timestamp,
) -> Result<(), StoreError> {
    // COALESCE keeps what the change does not name; `$3` says whether sla is named at all,
    // since "no policy" (NULL) is a value a change may set.
    on_tx!(tx, |conn| sqlx::query(
        "UPDATE customers SET name = COALESCE($1, name), \
         sla = CASE WHEN $3 THEN $2 ELSE sla END, updated_at = $4 WHERE id = $5"
    )
    .bind(name)
    .bind(sla.cloned().flatten())
    .bind(sla.is_some())
    .bind(Ts(now))
    .bind(id)
    .execute(conn)
    .await
    .map(|_| ())?);
    Ok(())
}

pub(super) async fn clear_domains(tx: &mut Tx, id: i64) -> Result<(), StoreError> {
    on_tx!(tx, |conn| sqlx::query(
        "DELETE FROM customer_domains WHERE customer_id = $1"
    )
    .bind(id)
    .execute(conn)
    .await
    .map(|_| ())?);
    Ok(())
}

pub(super) async fn domains(tx: &mut Tx, id: i64) -> Result<Vec<String>, StoreError> {
    Ok(on_tx!(tx, |conn| sqlx::query_scalar(
        "SELECT domain FROM customer_domains WHERE customer_id = $1 ORDER BY domain"
    )
    .bind(id)
    .fetch_all(conn)
    .await?))
}

pub(super) async fn set_services(
    tx: &mut Tx,
    id: i64,
    services: &[Service],
) -> Result<(), StoreError> {
    on_tx!(tx, |conn| sqlx::query(
        "DELETE FROM customer_services WHERE customer_id = $1"
    )
    .bind(id)
    .execute(&mut *conn)
    .await
    .map(|_| ())?);
    for s in services {
        on_tx!(tx, |conn| {
            sqlx::query(
            "INSERT INTO customer_services (customer_id, kind, identifier, description) VALUES ($1, $2, $3, $4)"
        )
        .bind(id)
        .bind(&s.kind)
        .bind(&s.identifier)
        .bind(&s.description)
        .execute(conn)
        .await
        .map(|_| ())?
        });
    }
    Ok(())
}

pub(super) async fn services(tx: &mut Tx, id: i64) -> Result<Vec<Service>, StoreError> {
    Ok(on_tx!(tx, |conn| sqlx::query_as(
        "SELECT kind, identifier, description FROM customer_services WHERE customer_id = $1 \
         ORDER BY kind, identifier"
    )
    .bind(id)
    .fetch_all(conn)
    .await?))
}

pub(super) async fn clear_hosts(tx: &mut Tx, id: i64) -> Result<(), StoreError> {
    on_tx!(tx, |conn| sqlx::query(
        "DELETE FROM customer_hosts WHERE customer_id = $1"
    )
    .bind(id)
    .execute(conn)
    .await
    .map(|_| ())?);
    Ok(())
}

pub(super) async fn add_host(tx: &mut Tx, id: i64, h: &Host) -> Result<(), StoreError> {
    on_tx!(tx, |conn| sqlx::query(
        "INSERT INTO customer_hosts (customer_id, name, address) VALUES ($1, $2, $3)"
    )
    .bind(id)
    .bind(&h.name)
    .bind(&h.address)
    .execute(conn)
    .await
    .map(|_| ())?);
    Ok(())
}

pub(super) async fn hosts(tx: &mut Tx, id: i64) -> Result<Vec<Host>, StoreError> {
    Ok(on_tx!(tx, |conn| sqlx::query_as(
        "SELECT name, address FROM customer_hosts WHERE customer_id = $1 ORDER BY name"
    )
    .bind(id)
    .fetch_all(conn)
    .await?))
}

/// The customer owning a host, by lower-case name or by canonical address (both unique).
pub(super) async fn by_host(
    tx: &mut Tx,
    name: &str,
    address: Option<&str>,
) -> Result<Option<CustomerRef>, StoreError> {
    Ok(on_tx!(tx, |conn| sqlx::query_as(
        "SELECT c.id, c.code, c.sla FROM customer_hosts h JOIN customers c ON c.id = h.customer_id \
         WHERE h.name = $1 OR h.address = $2 LIMIT 1"
    )
    .bind(name)
    .bind(address)
    .fetch_optional(conn)
    .await?))
}

/// A user of role customer called `who`, or with `who` as address (the oldest such).
pub(super) async fn contact_id(tx: &mut Tx, who: &str) -> Result<Option<i64>, StoreError> {
    Ok(on_tx!(tx, |conn| {
        sqlx::query_scalar(
        "SELECT id FROM users WHERE role = 'customer' AND (username = $1 OR lower(email) = lower($1)) \
         ORDER BY (username = $1) DESC, id LIMIT 1"
    )
    .bind(who)
    .fetch_optional(conn)
    .await?
    }))
}

/// Makes exactly `ids` the customer's contacts: the others are detached (customer_id NULL).
pub(super) async fn set_contacts(tx: &mut Tx, id: i64, ids: &[i64]) -> Result<(), StoreError> {
    on_tx!(tx, |conn| sqlx::query(
        "UPDATE users SET customer_id = NULL WHERE customer_id = $1"
    )
    .bind(id)
    .execute(&mut *conn)
    .await
    .map(|_| ())?);
    for user in ids {
        on_tx!(tx, |conn| sqlx::query(
            "UPDATE users SET customer_id = $1 WHERE id = $2"
        )
        .bind(id)
        .bind(user)
        .execute(conn)
        .await
        .map(|_| ())?);
    }
    Ok(())
}

pub(super) async fn contacts(tx: &mut Tx, id: i64) -> Result<Vec<Contact>, StoreError> {
    Ok(on_tx!(tx, |conn| sqlx::query_as(
        "SELECT username, name, email FROM users WHERE customer_id = $1 ORDER BY username"
    )
    .bind(id)
    .fetch_all(conn)
    .await?))
}

pub(super) async fn list(tx: &mut Tx) -> Result<Vec<Summary>, StoreError> {
    Ok(on_tx!(tx, |conn| sqlx::query_as(
        "SELECT c.code, c.name, c.sla, \
         (SELECT COUNT(*) FROM tickets t WHERE t.customer_id = c.id \
          AND t.status IN ('new', 'open', 'stalled')) AS open_tickets \
         FROM customers c ORDER BY c.name, c.code"
    )
    .fetch_all(conn)
    .await?))
}

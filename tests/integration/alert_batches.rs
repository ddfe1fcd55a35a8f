//! Group commit of alert deliveries (`opsdesk::alerts::Intake`): deliveries that arrive
//! together for one source apply in one transaction, in order, each answered as if it had
//! been alone; when one of them fails, the others still land.

use std::sync::Arc;

use futures_util::future::join_all;
use serde_json::Value;

use crate::alerts::{CONFIG, am_alert, webhook};
use crate::helpers::{TestDb, write_config};
use opsdesk::alerts::{Delivery, Intake, Receipt};
use opsdesk::db::Db;

fn at() -> jiff::Timestamp {
    "2026-11-24T10:00:00Z".parse().unwrap()
}

/// A webhook of one alert; `n` makes otherwise equal bodies distinct bytes.
fn body(status: &str, fp: &str, n: usize) -> Vec<u8> {
    let mut w = webhook(vec![am_alert(status, fp, "Down", "h9:9100", "critical")]);
    w["groupKey"] = Value::String(format!("g{n}"));
    w.to_string().into_bytes()
}

/// Hands all `bodies` to the intake at once: the worker finds them queued together.
async fn deliver_together(
    intake: &Intake,
    bodies: &[Vec<u8>],
) -> Vec<Result<Receipt, opsdesk::alerts::AlertError>> {
    join_all(bodies.iter().map(|b| {
        intake.receive(
            Delivery {
                source: "prometheus",
                content_type: Some("application/json"),
                body: b,
                authorized: true,
            },
            at(),
        )
    }))
    .await
}

async fn rows(db: &Db, sql: &str) -> Vec<(String, String, i64)> {
    let mut tx = db.begin_read().await.unwrap();
    let out = opsdesk::on_tx!(&mut tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.to_owned()
    ))
    .fetch_all(c)
    .await
    .unwrap());
    tx.commit().await.unwrap();
    out
}

async fn setup() -> (TestDb, Db, opsdesk::config::Config) {
    let db = TestDb::fresh().await;
    let file = write_config(db.dir.path(), &db.url, &format!("{CONFIG}\n"));
    let mut cfg = opsdesk::config::load(Some(&file)).unwrap().config;
    // No storm here: ten new incidents at once would start one.
    cfg.alert_sources[0].storm = None;
    let pool = db.pool().await;
    (db, pool, cfg)
}

#[tokio::test]
async fn deliveries_that_arrive_together_apply_in_order_each_answered_as_alone() {
    let (_db, pool, cfg) = setup().await;
    let intake = Intake::new(pool.clone(), Arc::new(cfg));
    // Ten new alerts, a repeat of each (other bytes), the first delivery's bytes five times
    // more (webhook retries), and a resolve of the first five: 30 deliveries in flight.
    let mut bodies: Vec<Vec<u8>> = (0..10)
        .map(|i| body("firing", &format!("fp{i}"), i))
        .collect();
    bodies.extend((0..10).map(|i| body("firing", &format!("fp{i}"), 100 + i)));
    let retried = bodies[0].clone();
    bodies.extend((0..5).map(|_| retried.clone()));
    bodies.extend((0..5).map(|i| body("resolved", &format!("fp{i}"), 200 + i)));
    let answers = deliver_together(&intake, &bodies).await;
    let receipts: Vec<Receipt> = answers.into_iter().map(|r| r.unwrap()).collect();
    let stats = intake.stats();
    assert_eq!(stats.deliveries, 30);
    assert!(stats.batches < 30, "they shared transactions: {stats:?}");
    assert_eq!(stats.rolled_back, 0);

    let firsts: Vec<i64> = receipts[..10].iter().map(|r| r.tickets[0]).collect();
    let mut distinct = firsts.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 10, "one incident per new alert: {firsts:?}");
    for i in 0..10 {
        assert_eq!(receipts[10 + i].tickets, vec![firsts[i]], "repeat {i}");
        assert!(!receipts[10 + i].duplicate);
    }
    for r in &receipts[20..25] {
        assert!(r.duplicate, "the same bytes again are a retry");
        assert_eq!(r.tickets, vec![firsts[0]]);
    }
    for i in 0..5 {
        assert_eq!(receipts[25 + i].tickets, vec![firsts[i]], "resolve {i}");
    }

    let alerts = rows(
        &pool,
        "SELECT identity, state, count FROM alerts ORDER BY identity",
    )
    .await;
    let expected: Vec<(String, String, i64)> = (0..10)
        .map(|i| {
            let state = if i < 5 { "resolved" } else { "firing" };
            (format!("fp{i}"), state.to_owned(), 2)
        })
        .collect();
    assert_eq!(alerts, expected);
    let kept = rows(
        &pool,
        "SELECT outcome, source, count(*) FROM alert_payloads GROUP BY outcome, source ORDER BY outcome",
    )
    .await;
    assert_eq!(
        kept,
        vec![
            ("applied".to_owned(), "prometheus".to_owned(), 25),
            ("duplicate".to_owned(), "prometheus".to_owned(), 5),
        ]
    );
    // With auto_resolve the five whose alert resolved are resolved; the rest are new.
    let statuses = rows(
        &pool,
        "SELECT status, 'x', count(*) FROM tickets GROUP BY status ORDER BY status",
    )
    .await;
    assert_eq!(
        statuses,
        vec![
            ("new".to_owned(), "x".to_owned(), 5),
            ("resolved".to_owned(), "x".to_owned(), 5),
        ]
    );
}

#[tokio::test]
async fn a_delivery_that_fails_in_a_batch_does_not_take_its_neighbours_with_it() {
    let (_db, pool, cfg) = setup().await;
    let good = Intake::new(pool.clone(), Arc::new(cfg.clone()));
    let first = deliver_together(&good, &[body("firing", "fp-a", 0)]).await;
    let ticket = first[0].as_ref().unwrap().tickets[0];

    // The source now files into a queue that does not exist: a new alert cannot open its
    // incident (an error, not a refusal), while repeats and resolves need no new ticket.
    let mut broken = cfg;
    broken.alert_sources[0].queue = "Nowhere".into();
    let intake = Intake::new(pool.clone(), Arc::new(broken));
    let answers = deliver_together(
        &intake,
        &[
            body("firing", "fp-a", 1),
            body("firing", "fp-b", 2),
            body("resolved", "fp-a", 3),
        ],
    )
    .await;
    assert_eq!(answers[0].as_ref().unwrap().tickets, vec![ticket]);
    let err = answers[1].as_ref().unwrap_err().to_string();
    assert!(err.contains("Nowhere"), "{err}");
    assert_eq!(answers[2].as_ref().unwrap().tickets, vec![ticket]);
    let stats = intake.stats();
    assert_eq!((stats.batches, stats.rolled_back), (1, 1), "{stats:?}");

    let alerts = rows(
        &pool,
        "SELECT identity, state, count FROM alerts ORDER BY identity",
    )
    .await;
    assert_eq!(alerts, vec![("fp-a".to_owned(), "resolved".to_owned(), 2)]);
    // The failed delivery left nothing; the sender's retry will find it applied or not.
    let kept = rows(
        &pool,
        "SELECT outcome, source, count(*) FROM alert_payloads GROUP BY outcome, source",
    )
    .await;
    assert_eq!(
        kept,
        vec![("applied".to_owned(), "prometheus".to_owned(), 3)]
    );
}

//! The task that keeps SQLite's full-text indexes up with the writes (migration 0011). Every
//! quarter second it takes what was written since its last pass into the FTS5 indexes, in
//! batches: one index segment per batch instead of one per writing transaction, which halves
//! the SQLite cost of a ticket create. The indexes live in a file of their own
//! (src/db/search_file.rs, migration 0020), so a batch and the segment merges it sets off
//! hold that file's write lock, not the main file's writer turn that every request waits for.
//! Searches stay complete meanwhile (src/tql/full_text.rs).
//!
//! On PostgreSQL the same task files texts in the pair index of two-character searches
//! (migration 0021, src/search/pairs.rs); its trigram GIN indexes are kept by the writing
//! statement.

use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::{pairs, store};
use crate::db::{Db, StoreError};

/// How long rows may wait for the index. Searches read them without it meanwhile, so this is
/// a matter of batch size (bigger batches index more cheaply) against the LIKE scan of the
/// rows past the mark.
const INTERVAL: Duration = Duration::from_millis(250);

/// Runs until `stop` turns true.
pub async fn run(db: Db, mut stop: watch::Receiver<bool>) {
    let mut failing = false;
    let mut pace = Pace::default();
    loop {
        match catch_up_paced(&db, &mut pace).await {
            Ok(_) => failing = false,
            // Once per outage, not every quarter second: nothing is lost while it lasts, the
            // searches read the unindexed rows with LIKE.
            Err(e) if !failing => {
                failing = true;
                tracing::warn!(error = %e, "full-text indexing failed; retrying");
            }
            Err(_) => {}
        }
        tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            () = tokio::time::sleep(INTERVAL) => {}
        }
    }
}

/// How long one batch should take. No write to the main file waits for it; the bound is on
/// the work a batch does in one piece on a machine of two cores that also serves requests,
/// against the per-batch cost (a segment, and the merges it sets off) of batches too small.
const HOLD: Duration = Duration::from_millis(10);

/// Rows (tickets, messages, changed tickets) per batch, fitted to [`HOLD`]: what a row costs
/// varies with the length of the thread whose document is rebuilt and with the index merges a
/// batch sets off, so a fixed size either runs too long or pays the per-batch cost too often.
#[derive(Debug, Clone, Copy)]
struct Pace {
    rows: i64,
}

impl Pace {
    const MIN: i64 = 2;
    const MAX: i64 = 1024;

    /// Halves after a batch that took over twice [`HOLD`], doubles after one under half of it.
    fn after(&mut self, held: Duration) {
        if held > HOLD * 2 {
            self.rows = (self.rows / 2).max(Self::MIN);
        } else if held < HOLD / 2 {
            self.rows = (self.rows * 2).min(Self::MAX);
        }
    }
}

impl Default for Pace {
    fn default() -> Self {
        Pace { rows: 32 }
    }
}

/// How far the indexes trail the writes, for /metrics, by index: on SQLite the tickets
/// (`subjects`) and messages (`bodies`) written past the marks, on PostgreSQL the subjects,
/// bodies and wiki pages waiting for the pair index. A number that keeps growing means the
/// task is not keeping up or not running (searches stay complete, but read more rows with
/// LIKE).
pub async fn lag(db: &Db) -> Result<Vec<(&'static str, i64)>, StoreError> {
    match db {
        Db::Sqlite(_) => Ok(store::lag(db)
            .await?
            .map(|(s, b)| vec![("subjects", s), ("bodies", b)])
            .unwrap_or_default()),
        Db::Postgres(_) => pairs::lag(db).await,
    }
}

/// Indexes everything written so far, a batch per write transaction. Answers the subjects and
/// documents written (on PostgreSQL: the texts filed in the pair index).
pub async fn catch_up(db: &Db) -> Result<u64, StoreError> {
    catch_up_paced(db, &mut Pace::default()).await
}

async fn catch_up_paced(db: &Db, pace: &mut Pace) -> Result<u64, StoreError> {
    let postgres = matches!(db, Db::Postgres(_));
    let mut written = 0;
    let mut passed = false;
    loop {
        let waiting = match postgres {
            true => pairs::pending(db).await?,
            false => store::pending(db).await?,
        };
        if !waiting {
            break;
        }
        let started = Instant::now();
        written += match postgres {
            true => pairs::pair_batch(db, pace.rows).await?,
            false => store::index_batch(db, pace.rows).await?,
        };
        pace.after(started.elapsed());
        passed = true;
    }
    if passed && !postgres {
        store::settle(db).await?;
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;

    use super::catch_up;
    use crate::db::{Db, Tx};
    use crate::tickets::search::{Search, find};

    async fn exec(db: &Db, sql: &str, binds: &[&str]) {
        let mut tx = db.begin().await.expect("begin");
        let Tx::Sqlite(t) = &mut tx else {
            panic!("SQLite")
        };
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()));
        for b in binds {
            q = q.bind(*b);
        }
        q.execute(&mut *t.tx).await.expect(sql);
        tx.commit().await.expect("commit");
    }

    async fn scalar(db: &Db, sql: &'static str) -> i64 {
        let Db::Sqlite(p) = db else { panic!("SQLite") };
        sqlx::query_scalar(sql).fetch_one(&**p).await.expect(sql)
    }

    async fn found(db: &Db, tql: &str) -> Vec<i64> {
        let s = Search {
            query: Some(tql),
            order: Some("id"),
            page: 1,
            per_page: 100,
            current_user: None,
            after: None,
            exact_total: true,
            customer: None,
        };
        let f = find(db, s, Timestamp::UNIX_EPOCH).await.expect(tql);
        let mut ids: Vec<i64> = f.items.iter().map(|t| t.id).collect();
        ids.insert(0, f.total);
        ids
    }

    /// FTS5's own check of each index's structure.
    async fn indexes_are_sound(db: &Db) {
        let Db::Sqlite(p) = db else { panic!("SQLite") };
        for sql in [
            "INSERT INTO search.tickets_fts (tickets_fts) VALUES ('integrity-check')",
            "INSERT INTO search.ticket_text_fts (ticket_text_fts) VALUES ('integrity-check')",
        ] {
            sqlx::query(sql).execute(&**p).await.expect(sql);
        }
    }

    /// A search finds every committed ticket, whether the index task has taken it in yet or
    /// not, and a subject changed on either side of the mark is found by its new text only.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn searches_see_rows_past_the_mark_and_the_index_catches_up() {
        let (_dir, db) = crate::db::scratch_sqlite().await;
        db.migrate().await.expect("migrate");

        // 600 tickets (more than one batch), every even one with packet loss in its body.
        exec(
            &db,
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 600) \
             INSERT INTO tickets (id, queue, subject, status, priority, source, created_by, \
               created_at, updated_at) \
             SELECT i, 'Support', 'uplink ticket ' || i, 'new', 3, 'api', 't', i, i FROM n",
            &[],
        )
        .await;
        exec(
            &db,
            "INSERT INTO ticket_transactions (ticket_id, kind, actor, created_at, body, body_format) \
             SELECT id, 'create', 't', id, CASE WHEN id % 2 = 0 THEN 'we see Packet Loss now' \
               ELSE 'all quiet' END, 'text' FROM tickets",
            &[],
        )
        .await;
        let marks = "SELECT sum(indexed_to) FROM search.ticket_fts_marks \
                     WHERE name IN ('subjects', 'bodies')";
        assert_eq!(scalar(&db, marks).await, 0, "nothing indexed yet");

        let before_content = found(&db, "Content LIKE 'packet loss'").await;
        assert_eq!(before_content[0], 300, "found past the mark, by LIKE");
        assert_eq!(found(&db, "Subject LIKE 'ticket 599'").await, [1, 599]);
        // A subject changed before its ticket is indexed is indexed as it is then.
        exec(
            &db,
            "UPDATE tickets SET subject = 'renamed early' WHERE id = 7",
            &[],
        )
        .await;

        let written = catch_up(&db).await.expect("catch up");
        assert_eq!(written, 600 + 600, "600 subjects and 600 documents");
        assert_eq!(scalar(&db, marks).await, 600 + 600);
        assert_eq!(
            found(&db, "Content LIKE 'packet loss'").await,
            before_content,
            "the same answer from the index"
        );
        assert_eq!(found(&db, "Subject LIKE 'ticket 599'").await, [1, 599]);
        assert_eq!(found(&db, "Subject LIKE 'renamed early'").await, [1, 7]);
        assert_eq!(found(&db, "Subject = 'uplink ticket 7'").await[0], 0);
        indexes_are_sound(&db).await;

        // Changes after indexing: a rename goes through the trigger, a new message is found
        // by LIKE until the next pass rebuilds the ticket's document.
        exec(
            &db,
            "UPDATE tickets SET subject = 'renamed late' WHERE id = 8",
            &[],
        )
        .await;
        assert_eq!(found(&db, "Subject LIKE 'renamed late'").await, [1, 8]);
        assert_eq!(found(&db, "Subject = 'uplink ticket 8'").await[0], 0);
        exec(
            &db,
            "INSERT INTO ticket_transactions (ticket_id, kind, actor, created_at, body, body_format) \
             VALUES (9, 'correspond', 't', 700, $1, 'text')",
            &["the SFP module was replaced"],
        )
        .await;
        assert_eq!(found(&db, "Content LIKE 'sfp module'").await, [1, 9]);
        assert!(catch_up(&db).await.expect("catch up") > 0);
        assert_eq!(found(&db, "Content LIKE 'sfp module'").await, [1, 9]);
        assert_eq!(found(&db, "Content LIKE 'all quiet'").await[0], 300);
        assert_eq!(
            found(&db, "Content LIKE 'quiet the sfp'").await[0],
            0,
            "a phrase never spans two messages"
        );
        assert_eq!(catch_up(&db).await.expect("idle pass"), 0);
        indexes_are_sound(&db).await;

        // A merge moves ticket 10's messages (packet loss) to ticket 11 (all quiet): found
        // under 11 and no longer under 10, before the index takes the change in and after.
        exec(
            &db,
            "UPDATE ticket_transactions SET ticket_id = 11 WHERE ticket_id = 10",
            &[],
        )
        .await;
        let mut moved = before_content.clone();
        let at = moved.iter().position(|id| *id == 10).expect("10 had it");
        moved[at] = 11;
        assert_eq!(found(&db, "Content LIKE 'packet loss'").await, moved);
        assert_eq!(found(&db, "Content LIKE 'all quiet'").await[0], 300);
        assert!(catch_up(&db).await.expect("catch up") > 0);
        assert_eq!(found(&db, "Content LIKE 'packet loss'").await, moved);
        assert_eq!(found(&db, "Content LIKE 'all quiet'").await[0], 300);
        assert_eq!(found(&db, "Subject LIKE 'renamed late'").await, [1, 8]);
        assert_eq!(
            scalar(&db, "SELECT count(*) FROM ticket_fts_changed").await,
            0,
            "the changes taken in are gone from the queue"
        );
        indexes_are_sound(&db).await;
    }

    /// Batches shrink after long holds, down to a floor that still makes progress, and grow
    /// back after short ones, up to a ceiling.
    #[test]
    fn the_batch_size_follows_how_long_a_batch_held_the_turn() {
        use super::{HOLD, Pace};
        let mut p = Pace::default();
        p.after(HOLD * 10);
        assert_eq!(p.rows, 16);
        for _ in 0..20 {
            p.after(HOLD * 10);
        }
        assert_eq!(p.rows, Pace::MIN);
        p.after(HOLD);
        assert_eq!(p.rows, Pace::MIN, "a hold near the aim keeps the size");
        for _ in 0..20 {
            p.after(HOLD / 10);
        }
        assert_eq!(p.rows, Pace::MAX);
    }
}

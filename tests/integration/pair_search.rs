//! Two-character searches, which no trigram index can look up: PostgreSQL files every text
//! under its pairs of characters (migration 0021, src/search/pairs.rs) behind the writes,
//! SQLite reads its FTS5 index's term list (migrations 0018 and 0019). A search must find the
//! same whether the index task has taken a text in yet or not, after the text changed as well
//! as before, and in every form a ticket search can take.

use std::time::Duration;

use crate::helpers::{TestDb, write_config};
use crate::search_plans::{QUEUES, customers, now, numbered};
use opsdesk::db::Db;
use opsdesk::tickets::search::{Plan, Search, find_planned};
use opsdesk::tickets::{Ctx, Patch, create, update};
use opsdesk::wiki::{Save, Visibility};

/// The ids a query finds, exactly, in each plan (the set form alone, every term row by row,
/// and the planner's own choice); every plan must give the same.
async fn ids(db: &Db, q: &str) -> Vec<i64> {
    let plans = [
        Plan::SetOnly,
        Plan::Probe {
            budget: Duration::from_secs(60),
            common_from: 0,
        },
        Plan::Auto,
    ];
    let mut answers = Vec::new();
    for plan in plans {
        let s = Search {
            query: Some(q),
            order: Some("id"),
            page: 1,
            per_page: 100,
            current_user: None,
            after: None,
            exact_total: true,
            customer: None,
        };
        let found = find_planned(db, s, now(), plan)
            .await
            .unwrap_or_else(|e| panic!("{q} {plan:?}: {e}"));
        answers.push(found.items.iter().map(|t| t.id).collect::<Vec<_>>());
    }
    assert!(
        answers.windows(2).all(|w| w[0] == w[1]),
        "{q}: the plans disagree: {answers:?}"
    );
    answers.swap_remove(0)
}

async fn caught_up(db: &Db) {
    opsdesk::search::index::catch_up(db).await.unwrap();
    let lag = opsdesk::search::index::lag(db).await.unwrap();
    assert!(
        !lag.is_empty() && lag.iter().all(|(_, n)| *n == 0),
        "nothing waits: {lag:?}"
    );
}

/// Subjects and bodies holding "l2" in every way a text can (in a word, between non-ASCII
/// letters, at the end, alone, in upper case) and not quite (across whitespace), found before
/// the index task files them, after, and after subjects changed.
#[tokio::test]
async fn two_characters_are_found_whether_the_index_has_filed_the_text_or_not() {
    let tdb = TestDb::fresh().await;
    let file = write_config(tdb.dir.path(), &tdb.url, QUEUES);
    let cfg = opsdesk::config::load(Some(&file)).unwrap().config;
    let db = tdb.pool().await;
    customers(&db).await;
    let texts = [
        ("Core L2 loop", "Nothing to see."),
        ("Ring down", "Port xl2y flaps."),
        ("Ring down", "Trunk Žl2ž is down."),
        ("Ring down", "VLAN l\n2, and L 2."),
        ("Ring down", "It ends with l2"),
        ("Ring down", "L2"),
        ("Qx ring", "Plain."),
    ];
    let ctx = Ctx {
        config: &cfg,
        actor: "tests",
        now: now(),
    };
    let mut tx = db.begin().await.unwrap();
    for (i, (subject, body)) in texts.iter().enumerate() {
        let new = numbered(i as i64, "NOC", (*subject).to_owned(), (*body).to_owned());
        create(&mut tx, ctx, new).await.unwrap();
    }
    tx.commit().await.unwrap();

    let check = async |when: &str, subject_l2: &[i64], subject_qx: &[i64]| {
        let bodies = [2, 3, 5, 6];
        assert_eq!(ids(&db, "Content LIKE 'l2'").await, bodies, "{when}");
        assert_eq!(ids(&db, "Content LIKE 'L2'").await, bodies, "{when}");
        assert_eq!(ids(&db, "Content NOT LIKE 'l2'").await, [1, 4, 7], "{when}");
        assert_eq!(ids(&db, "Subject LIKE 'L2'").await, subject_l2, "{when}");
        assert_eq!(ids(&db, "Subject LIKE 'qX'").await, subject_qx, "{when}");
        let mut either: Vec<i64> = bodies.iter().chain(subject_l2).copied().collect();
        either.sort_unstable();
        either.dedup();
        assert_eq!(
            ids(&db, "Subject LIKE 'l2' OR Content LIKE 'l2'").await,
            either,
            "{when}"
        );
        assert!(ids(&db, "Content LIKE 'zq'").await.is_empty(), "{when}");
    };
    check("before the index task", &[1], &[7]).await;
    caught_up(&db).await;
    check("filed", &[1], &[7]).await;

    // Renamed: ticket 1 loses its pair, ticket 2 gains it; then ticket 7 is renamed too.
    let rename = async |id: i64, subject: &str| {
        let patch = Patch {
            subject: Some(subject.to_owned()),
            ..Patch::default()
        };
        let mut tx = db.begin().await.unwrap();
        update(&mut tx, ctx, id, patch).await.unwrap();
        tx.commit().await.unwrap();
    };
    rename(1, "Core loop").await;
    rename(2, "Ring down, L2 too").await;
    check("renamed, not yet filed", &[2], &[7]).await;
    caught_up(&db).await;
    check("renamed and filed", &[2], &[7]).await;
    rename(7, "Ring up").await;
    check("renamed again", &[2], &[]).await;
    caught_up(&db).await;
    check("renamed again and filed", &[2], &[]).await;
}

/// A wiki page is found by two characters of its title or body, before the index task files
/// it and after, and by what it says after an edit, not by what it said.
#[tokio::test]
async fn wiki_pages_are_found_by_two_characters_before_and_after_filing() {
    let tdb = TestDb::fresh().await;
    let db = tdb.pool().await;
    let save = async |path: &str, title: &str, body: &str, base: i64| {
        let s = Save {
            title: title.to_owned(),
            body: body.to_owned(),
            base_revision: base,
            comment: String::new(),
            visibility: Some(Visibility::Internal),
        };
        let mut tx = db.begin().await.unwrap();
        opsdesk::wiki::save(&mut tx, path, &s, "tests", now())
            .await
            .unwrap();
        tx.commit().await.unwrap();
    };
    let found = async |text: &str| {
        let mut paths: Vec<String> = opsdesk::wiki::search(&db, text, false, 20)
            .await
            .unwrap()
            .into_iter()
            .map(|p| p.path)
            .collect();
        paths.sort();
        paths
    };
    save("runbooks/a", "L2 loops", "Shut the port.", 0).await;
    save("runbooks/b", "Ring", "Check the Žl2ž trunk.", 0).await;
    save("runbooks/c", "Ring", "Nothing here: l 2.", 0).await;
    let both = ["runbooks/a", "runbooks/b"];
    assert_eq!(found("l2").await, both, "before the index task");
    caught_up(&db).await;
    assert_eq!(found("L2").await, both, "filed");
    assert!(found("zq").await.is_empty());

    save("runbooks/a", "Loops", "Shut the port; zq.", 1).await;
    assert_eq!(found("l2").await, ["runbooks/b"], "edited, not yet filed");
    assert_eq!(found("ZQ").await, ["runbooks/a"], "edited, not yet filed");
    caught_up(&db).await;
    assert_eq!(found("l2").await, ["runbooks/b"], "edited and filed");
    assert_eq!(found("zq").await, ["runbooks/a"], "edited and filed");
}

//! The two ways a search with full-text terms runs on SQLite (src/tickets/plan.rs): the set
//! form (the trigram index's matches, then the order) and the probe form (the list in its
//! order, each row tested), with a time budget that hands over from one to the other. Whatever
//! form answers, a search must answer the same: every query, order, page and cursor below is
//! run by each and compared whole, on both databases (PostgreSQL has the same two forms, with
//! no index lookup in front: every term is tried row by row first, unless the operands of the
//! query's OR, counted alone, settle the count).

use std::time::Duration;

use crate::helpers::{TestDb, write_config};
use opsdesk::config::Config;
use opsdesk::customers::{CustomerCode, NewCustomer};
use opsdesk::db::Db;
use opsdesk::tickets::search::{Found, Plan, Search, find_planned};
use opsdesk::tickets::{
    Ctx, NewTicket, Reply, ReplyKind, Source, TicketCustomer, create, merge, reply,
};

pub(crate) const QUEUES: &str = "[[queue]]\nname = \"NOC\"\ncorrespond_address = \"noc@isp.example\"\n\n\
                      [[queue]]\nname = \"Support\"\ncorrespond_address = \"support@isp.example\"\n";

pub(crate) fn now() -> jiff::Timestamp {
    "2026-11-24T10:00:00Z".parse().unwrap()
}

/// ACME (requestors at acme.example) and GLOBEX (globex.example).
pub(crate) async fn customers(db: &Db) {
    let mut tx = db.begin().await.unwrap();
    for (code, domain) in [("ACME", "acme.example"), ("GLOBEX", "globex.example")] {
        let c = NewCustomer {
            code: CustomerCode::parse(code).unwrap(),
            name: code.to_owned(),
            sla: None,
            domains: vec![domain.to_owned()],
            services: Vec::new(),
            hosts: Vec::new(),
        };
        opsdesk::customers::create(&mut tx, &c, now())
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
}

/// Ticket `i` of a seed: every third one from an ACME requestor, priorities 1–4 in turn.
pub(crate) fn numbered(i: i64, queue: &str, subject: String, body: String) -> NewTicket {
    NewTicket {
        queue: queue.into(),
        subject,
        body,
        body_format: "text",
        requestors: vec![format!(
            "user{i}@{}",
            if i % 3 == 0 {
                "acme.example"
            } else {
                "globex.example"
            }
        )],
        priority: Some(1 + i % 4),
        customer: TicketCustomer::ByRequestor,
        source: Source::Api,
        host: None,
        runbook: None,
    }
}

/// 240 tickets: subjects and bodies from a few phrases at different rates (common, rare,
/// non-ASCII), two customers, replies and comments that add text, two merges; the first 200
/// taken into the full-text index and the last 40 left behind its mark.
async fn seed(db: &Db, cfg: &Config) {
    customers(db).await;
    for i in 0..240_i64 {
        if i == 200 {
            opsdesk::search::index::catch_up(db).await.unwrap();
        }
        let at = now() - jiff::SignedDuration::from_mins(240 - i);
        let ctx = Ctx {
            config: cfg,
            actor: "tests",
            now: at,
        };
        let subject = match i % 3 {
            0 => format!("Latency on uplink {i}"),
            1 => format!("BGP session flap {i}"),
            _ => format!("Fibre cut near Prague {i}"),
        };
        let mut body = if i % 2 == 0 {
            "We see packet loss on the PE since this morning.".to_owned()
        } else {
            "All fine, just asking.".to_owned()
        };
        if i % 7 == 0 {
            body.push_str(" Žilina POP is down.");
        }
        let queue = if i % 4 == 0 { "NOC" } else { "Support" };
        let new = numbered(i, queue, subject, body);
        let mut tx = db.begin().await.unwrap();
        let (t, _) = create(&mut tx, ctx, new).await.unwrap();
        if i % 5 == 0 {
            let r = Reply {
                kind: if i % 10 == 0 {
                    ReplyKind::Comment
                } else {
                    ReplyKind::Correspond
                },
                body: "We rebooted the CPE; packet LOSS gone?".into(),
                body_format: "text",
                from_requestor: false,
                time_taken: 0,
            };
            reply(&mut tx, ctx, t.id, r).await.unwrap();
        }
        tx.commit().await.unwrap();
    }
    let ctx = Ctx {
        config: cfg,
        actor: "tests",
        now: now(),
    };
    let mut tx = db.begin().await.unwrap();
    merge(&mut tx, ctx, 11, 12).await.unwrap();
    merge(&mut tx, ctx, 205, 204).await.unwrap();
    tx.commit().await.unwrap();
}

async fn run(db: &Db, s: Search<'_>, plan: Plan) -> Found {
    let q = s.query.map(str::to_owned);
    find_planned(db, s, now(), plan)
        .await
        .unwrap_or_else(|e| panic!("{q:?} {plan:?}: {e}"))
}

fn search<'a>(q: &'a str, order: &'a str) -> Search<'a> {
    Search {
        query: Some(q),
        order: Some(order),
        page: 1,
        per_page: 25,
        current_user: None,
        after: None,
        exact_total: false,
        customer: None,
    }
}

const QUERIES: &[&str] = &[
    "Content LIKE 'packet loss'",
    "Content LIKE 'PACKET LOSS'",
    "Content NOT LIKE 'packet loss'",
    "Content LIKE 'rebooted the CPE'",
    "Subject LIKE 'latency'",
    "Subject NOT LIKE 'bgp'",
    "Subject LIKE 'prague' AND Content LIKE 'packet loss'",
    "Content LIKE 'rebooted' OR Queue = 'NOC'",
    "Content LIKE 'packet loss' AND Customer = 'ACME'",
    "Content LIKE 'loss' AND Priority <= 2 AND Status = 'new'",
    "Content LIKE 'Žilina'",
    "Content LIKE 'Žilina' OR Subject LIKE 'flap 1'",
    "NOT (Content LIKE 'fine' OR Subject LIKE 'uplink')",
    "Content LIKE '50%_'",
    "Content LIKE 'PE'",
    // Two characters that end a text (and so begin no trigram there) as well as sit inside
    // one: bodies that end "morning." (with no reply after them, the end of the ticket's
    // document), subjects that end in 12 besides 120–129.
    "Content LIKE 'G.'",
    "Subject LIKE '12' OR Content LIKE 'zz'",
    "Subject NOT LIKE '12'",
    "Subject LIKE 'up' AND Content LIKE 'We'",
    "Content LIKE 'q'",
    "Content LIKE 'nothing has this'",
];

const ORDERS: &[&str] = &["-updated", "id", "subject", "-priority,created"];

/// Every plan answers as the set form does: the whole answer (totals, rows, cursors), on
/// numbered pages and by following cursors, with and without a customer fence.
#[tokio::test]
async fn every_plan_gives_the_set_forms_answer() {
    let tdb = TestDb::fresh().await;
    let file = write_config(tdb.dir.path(), &tdb.url, QUEUES);
    let cfg = opsdesk::config::load(Some(&file)).unwrap().config;
    let db = tdb.pool().await;
    seed(&db, &cfg).await;
    let long = Duration::from_secs(60);
    let plans = [
        // 200 tickets: no term of the seed is that common in the index.
        Plan::Auto,
        // Every term row by row.
        Plan::Probe {
            budget: long,
            common_from: 0,
        },
        // Some terms row by row, others through the index: "packet loss" and "fine" are in
        // at least 100 of the 200 indexed tickets, "latency", "bgp", "prague" and
        // "rebooted" in fewer.
        Plan::Probe {
            budget: long,
            common_from: 100,
        },
        // Spent at once: statements longer than a few thousand steps stop and hand over.
        Plan::Probe {
            budget: Duration::ZERO,
            common_from: 0,
        },
    ];
    let mut compared = 0;
    for q in QUERIES {
        for order in ORDERS {
            for customer in [None, Some("ACME")] {
                for page in 1..=3 {
                    let s = Search {
                        page,
                        customer,
                        ..search(q, order)
                    };
                    let want =
                        serde_json::to_value(run(&db, s.clone(), Plan::SetOnly).await).unwrap();
                    for plan in plans {
                        let got = serde_json::to_value(run(&db, s.clone(), plan).await).unwrap();
                        assert_eq!(
                            got, want,
                            "{q} order {order} page {page} {customer:?} {plan:?}"
                        );
                        compared += 1;
                    }
                }
                // Walk the cursors.
                let mut after: Option<String> = None;
                for _ in 0..4 {
                    let s = Search {
                        after: after.as_deref(),
                        customer,
                        ..search(q, order)
                    };
                    let want = run(&db, s.clone(), Plan::SetOnly).await;
                    for plan in plans {
                        let got = run(&db, s.clone(), plan).await;
                        assert_eq!(
                            serde_json::to_value(&got).unwrap(),
                            serde_json::to_value(&want).unwrap(),
                            "{q} order {order} after {after:?} {customer:?} {plan:?}"
                        );
                        compared += 1;
                    }
                    match want.next {
                        Some(n) => after = Some(n),
                        None => break,
                    }
                }
            }
        }
    }
    assert!(compared > 1000, "{compared} comparisons");
}

/// What the forms agree on is right: counted by hand from the seed.
#[tokio::test]
async fn the_answers_are_the_seeds() {
    let tdb = TestDb::fresh().await;
    let file = write_config(tdb.dir.path(), &tdb.url, QUEUES);
    let cfg = opsdesk::config::load(Some(&file)).unwrap().config;
    let db = tdb.pool().await;
    seed(&db, &cfg).await;
    let exact = |q: &'static str| Search {
        exact_total: true,
        per_page: 500,
        ..search(q, "id")
    };
    let probe = Plan::Probe {
        budget: Duration::from_secs(60),
        common_from: 0,
    };
    for plan in [Plan::SetOnly, Plan::Auto, probe] {
        // Even bodies and every fifth ticket's reply say it: 0, 2, 4, … and 5, 15, 25, …;
        // merged tickets leave the list and their texts count for the survivor: 11 into 12,
        // 205 into 204 (neither of which says it itself).
        let f = run(&db, exact("Content LIKE 'packet loss'"), plan).await;
        let mut want: Vec<i64> = (0..240_i64)
            .filter(|i| i % 2 == 0 || i % 5 == 0)
            .map(|i| i + 1)
            .filter(|id| *id != 11 && *id != 205)
            .collect();
        want.extend([12, 204]);
        want.sort_unstable();
        want.dedup();
        let got: Vec<i64> = f.items.iter().map(|t| t.id).collect();
        assert_eq!(got, want, "{plan:?}");
        assert_eq!(f.total, want.len() as i64);
        // The second page starts where the first ended.
        let deep = Search {
            page: 2,
            per_page: 50,
            ..search("Content LIKE 'packet loss'", "id")
        };
        let f = run(&db, deep, plan).await;
        assert_eq!(f.items.first().map(|t| t.id), Some(want[50]), "{plan:?}");
    }
}

/// Wiki search walks the pages newest first for a word in many pages, and asks the trigram
/// index for a rarer one; either way it answers the newest live pages holding the text (in
/// any case), customers' searches the public ones only.
#[tokio::test]
async fn wiki_search_finds_the_newest_pages_holding_the_text_either_way() {
    use opsdesk::wiki::{Save, Visibility};
    let tdb = TestDb::fresh().await;
    let db = tdb.pool().await;
    // Page i: "interface" in nine of ten (one in upper case), "zebrafish" in three; every
    // fifth public; pages 7 and 77 deleted.
    let mut want_common = Vec::new();
    let mut want_public = Vec::new();
    let mut want_rare = Vec::new();
    let (mut want_short, mut want_short_public) = (Vec::new(), Vec::new());
    for i in 0..260_i64 {
        let at = now() - jiff::SignedDuration::from_mins(300 - i);
        let mut body = format!("Runbook {i}.\n\n");
        if i % 10 != 0 {
            body.push_str(if i == 33 {
                "Check the INTERFACE counters.\n"
            } else {
                "Check the interface counters.\n"
            });
        }
        if i % 100 == 1 {
            body.push_str("Mind the zebrafish.\n");
        }
        // Two letters, which no trigram index can look up: every page walked.
        if i % 25 == 3 || i == 77 {
            body.push_str("An L2 loop.\n");
        }
        let public = i % 5 == 0 || i % 5 == 3;
        let s = Save {
            title: format!("Page {i}"),
            body: body.clone(),
            base_revision: 0,
            comment: String::new(),
            visibility: Some(if public {
                Visibility::Public
            } else {
                Visibility::Internal
            }),
        };
        let path = format!("runbooks/p{i}");
        let mut tx = db.begin().await.unwrap();
        opsdesk::wiki::save(&mut tx, &path, &s, "tests", at)
            .await
            .unwrap();
        if i == 7 || i == 77 {
            opsdesk::wiki::set_deleted(&mut tx, &path, true, "tests", at)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        let live = i != 7 && i != 77;
        if live && body.to_lowercase().contains("interface") {
            want_common.push(path.clone());
            if public {
                want_public.push(path.clone());
            }
        }
        if live && body.contains("zebrafish") {
            want_rare.push(path.clone());
        }
        if live && body.contains("L2") {
            want_short.push(path.clone());
            if public {
                want_short_public.push(path.clone());
            }
        }
    }
    opsdesk::search::index::catch_up(&db).await.unwrap();
    let newest = |v: &[String], n: usize| v.iter().rev().take(n).cloned().collect::<Vec<_>>();
    let paths =
        |pages: Vec<opsdesk::wiki::Page>| pages.into_iter().map(|p| p.path).collect::<Vec<_>>();
    assert!(want_common.len() > 200, "common enough to be walked");
    let got = paths(
        opsdesk::wiki::search(&db, "Interface", false, 20)
            .await
            .unwrap(),
    );
    assert_eq!(got, newest(&want_common, 20));
    let got = paths(
        opsdesk::wiki::search(&db, "interface", true, 20)
            .await
            .unwrap(),
    );
    assert_eq!(got, newest(&want_public, 20));
    let got = paths(
        opsdesk::wiki::search(&db, "zebrafish", false, 20)
            .await
            .unwrap(),
    );
    assert_eq!(got, newest(&want_rare, 20));
    let got = paths(
        opsdesk::wiki::search(&db, "interface", false, 500)
            .await
            .unwrap(),
    );
    assert_eq!(got, newest(&want_common, 500), "a limit past every match");
    for (text, public, want) in [
        ("l2", false, newest(&want_short, 5)),
        ("L2", true, newest(&want_short_public, 5)),
        ("Zq", false, Vec::new()),
    ] {
        let got = paths(opsdesk::wiki::search(&db, text, public, 5).await.unwrap());
        assert_eq!(got, want, "{text:?}, public only: {public}");
    }
    assert!(want_short.len() > 5 && want_short_public.len() >= 2);
}

/// Past the count's cap (1,001 matches) the plans must still agree: on PostgreSQL one OR
/// operand counted alone settles the count there (the subject side, or the body side when no
/// subject holds the text), and the page is walked; fenced to a customer the same query stays
/// below the cap and is counted exactly.
#[tokio::test]
async fn counts_past_the_cap_agree_whichever_plan_finds_them() {
    let tdb = TestDb::fresh().await;
    let file = write_config(tdb.dir.path(), &tdb.url, QUEUES);
    let cfg = opsdesk::config::load(Some(&file)).unwrap().config;
    let db = tdb.pool().await;
    customers(&db).await;
    let mut tx = db.begin().await.unwrap();
    const N: i64 = 1_100;
    for i in 0..N {
        let ctx = Ctx {
            config: &cfg,
            actor: "tests",
            now: now() - jiff::SignedDuration::from_secs(N - i),
        };
        let body = if i % 100 == 0 {
            "packet loss, and a zebrafish"
        } else {
            "packet loss since 09:00"
        };
        let new = numbered(i, "NOC", format!("Outage near Prague {i}"), body.to_owned());
        create(&mut tx, ctx, new).await.unwrap();
    }
    tx.commit().await.unwrap();
    opsdesk::search::index::catch_up(&db).await.unwrap();

    let queries = [
        // The subject side reaches the cap.
        "Subject LIKE 'prague' OR Content LIKE 'prague'",
        // No subject holds it; the body side reaches the cap.
        "Subject LIKE 'zebrafish' OR Content LIKE 'LOSS'",
        // One operand, below the cap.
        "Subject LIKE 'prague' AND Priority = 1",
        // Every operand below the cap: 11 bodies, 111 subjects (7, 70–79, 700–799).
        "Content LIKE 'zebrafish' OR Subject LIKE 'prague 7'",
    ];
    let mut compared = 0;
    for q in queries {
        for order in ["-updated", "id"] {
            for customer in [None, Some("ACME")] {
                for page in 1..=2 {
                    let s = Search {
                        page,
                        customer,
                        ..search(q, order)
                    };
                    let want = run(&db, s.clone(), Plan::SetOnly).await;
                    let got = run(&db, s.clone(), Plan::Auto).await;
                    assert_eq!(
                        serde_json::to_value(&got).unwrap(),
                        serde_json::to_value(&want).unwrap(),
                        "{q} order {order} page {page} {customer:?}"
                    );
                    assert!(!got.items.is_empty(), "{q} page {page} {customer:?}");
                    compared += 1;
                }
            }
        }
    }
    assert_eq!(compared, 32);
    // What they agree on, by hand: the cap for everyone, the exact count for one customer
    // (every third ticket), and the small union.
    let total = |f: &Found| (f.total, f.total_exact);
    let all = run(&db, search(queries[0], "-updated"), Plan::Auto).await;
    assert_eq!(total(&all), (1000, false));
    assert_eq!(all.items[0].id, N);
    let acme = Search {
        customer: Some("ACME"),
        ..search(queries[1], "-updated")
    };
    assert_eq!(
        total(&run(&db, acme, Plan::Auto).await),
        ((N + 2) / 3, true)
    );
    let one = run(&db, search(queries[2], "id"), Plan::Auto).await;
    assert_eq!(total(&one), (N / 4, true));
    let few = run(&db, search(queries[3], "id"), Plan::Auto).await;
    assert_eq!(total(&few), (111 + 11 - 1, true));
}

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;
use crate::tickets::{call, open_ticket, with_token};

async fn search(app: &TestApp, token: &str, q: &str, extra: &str) -> (StatusCode, Value) {
    let path = format!(
        "/api/v1/tickets?query={}{extra}",
        url::form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
    );
    call(app, token, Method::GET, &path, None).await
}

fn ids(v: &Value) -> Vec<i64> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn the_contract_example_query_finds_exactly_the_matching_tickets() {
    let (app, token) = with_token().await;
    let a = open_ticket(
        &app,
        &token,
        json!({"queue": "NOC", "subject": "BGP session down", "priority": 1}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let b = open_ticket(
        &app,
        &token,
        json!({"queue": "NOC", "subject": "fan noise", "priority": 4}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let c = open_ticket(
        &app,
        &token,
        json!({"queue": "Support", "subject": "BGP question", "priority": 1}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let d = open_ticket(
        &app,
        &token,
        json!({"queue": "NOC", "subject": "link flap", "priority": 2}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    call(
        &app,
        &token,
        Method::PATCH,
        &format!("/api/v1/tickets/{d}"),
        Some(json!({"status": "resolved"})),
    )
    .await;
    let (s, v) = search(
        &app,
        &token,
        "Queue = 'NOC' AND (Status = 'new' OR Status = 'open') AND Priority <= 2",
        "",
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["total"], 1);
    assert_eq!(ids(&v), [a]);
    let (_, v) = search(&app, &token, "Subject LIKE 'bgp'", "&order=id").await;
    assert_eq!(
        ids(&v),
        [a, c],
        "LIKE is a case-insensitive substring match"
    );
    let (_, v) = search(&app, &token, "Status = '__Active__'", "&order=id").await;
    assert_eq!(ids(&v), [a, b, c]);
    let (_, v) = search(&app, &token, "Status = '__Inactive__'", "").await;
    assert_eq!(ids(&v), [d]);
    let (_, v) = search(
        &app,
        &token,
        "Owner = 'Nobody' AND Priority = 'P1'",
        "&order=-id",
    )
    .await;
    assert_eq!(ids(&v), [c, a]);
}

#[tokio::test]
async fn content_like_searches_message_bodies() {
    let (app, token) = with_token().await;
    let a = open_ticket(&app, &token, json!({"queue": "Support", "subject": "x", "body": "The Customer reports packet LOSS on vlan 42"})).await["id"].as_i64().unwrap();
    let b = open_ticket(
        &app,
        &token,
        json!({"queue": "Support", "subject": "y", "body": "all fine"}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    call(
        &app,
        &token,
        Method::POST,
        &format!("/api/v1/tickets/{b}/comment"),
        Some(json!({"body": "actually some packet loss too"})),
    )
    .await;
    let (s, v) = search(&app, &token, "Content LIKE 'packet loss'", "&order=id").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(ids(&v), [a, b]);
    let (_, v) = search(&app, &token, "Content LIKE 'vlan 42'", "").await;
    assert_eq!(ids(&v), [a]);
    let (_, v) = search(&app, &token, "Content LIKE '42'", "").await;
    assert_eq!(ids(&v), [a], "short patterns work too");
    let (_, v) = search(&app, &token, "Content NOT LIKE 'vlan'", "").await;
    assert_eq!(ids(&v), [b]);
    let (_, v) = search(&app, &token, "Content LIKE 'fine actually'", "").await;
    assert_eq!(
        ids(&v),
        Vec::<i64>::new(),
        "a phrase never spans two messages"
    );

    call(
        &app,
        &token,
        Method::POST,
        &format!("/api/v1/tickets/{a}/correspond"),
        Some(json!({"body": "Uplink at 100% \"cap\" (50_50) now"})),
    )
    .await;
    for literal in ["100%", "\"cap\"", "50_50", "% \""] {
        let q = format!("Content LIKE '{literal}'");
        let (s, v) = search(&app, &token, &q, "").await;
        assert_eq!((s, ids(&v)), (StatusCode::OK, vec![a]), "{q}: {v}");
    }
    let (_, v) = search(&app, &token, "Content LIKE '0%_'", "").await;
    assert_eq!(ids(&v), Vec::<i64>::new(), "% and _ are not wildcards");

    // Merging moves the history, and with it what the survivor is found by.
    let (s, v) = call(
        &app,
        &token,
        Method::POST,
        &format!("/api/v1/tickets/{a}/merge"),
        Some(json!({"into": b})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, v) = search(&app, &token, "Content LIKE 'vlan 42'", "").await;
    assert_eq!(
        ids(&v),
        [b],
        "the survivor carries the merged ticket's messages"
    );
    let (_, v) = search(&app, &token, "Content LIKE 'packet loss'", "").await;
    assert_eq!(
        ids(&v),
        [b],
        "the merged ticket is no longer listed on its own"
    );
}

#[tokio::test]
async fn a_bad_query_answers_400_with_the_position_and_what_was_expected() {
    let (app, token) = with_token().await;
    let (s, e) = search(&app, &token, "Queue = 'NOC' AND", "").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(e["error"], "bad_query");
    assert_eq!(e["detail"]["position"], 17);
    assert!(
        e["detail"]["expected"].as_str().unwrap().contains("field"),
        "{e}"
    );
    let (s, e) = search(&app, &token, "Colour = 'red'", "").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(e["detail"]["position"], 0);
    let (s, e) = search(&app, &token, "id = 1", "&order=-colour").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
}

/// Found by scripts/api-fuzz: FTS5 reads a MATCH phrase as a C string, so a NUL cut it short
/// ("unterminated string", a 500). A NUL is refused where it is typed, on both backends.
#[tokio::test]
async fn a_nul_in_a_query_or_a_search_is_refused_with_where_it_is() {
    let (app, token) = with_token().await;
    open_ticket(
        &app,
        &token,
        json!({"queue": "Support", "subject": "abcdef", "body": "abcdef"}),
    )
    .await;
    for (q, position) in [
        ("Subject LIKE 'ab\0cd'", 16),
        ("Content LIKE 'ab\0cd'", 16),
        ("Queue = NO\0C", 10),
    ] {
        let (s, e) = search(&app, &token, q, "").await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{q:?}: {e}");
        assert_eq!(e["error"], "bad_query", "{e}");
        assert_eq!(e["detail"]["position"], position, "{q:?}: {e}");
    }
    let (s, e) = call(
        &app,
        &token,
        Method::GET,
        "/api/v1/search?q=abc%00def",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["detail"]["field"], "q", "{e}");
}

#[tokio::test]
async fn injection_strings_stay_data() {
    let (app, token) = with_token().await;
    let a = open_ticket(
        &app,
        &token,
        json!({"queue": "Support", "subject": "x'; DROP TABLE tickets; --"}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    for q in [
        "Subject = 'x''; DROP TABLE tickets; --'",
        "Subject LIKE 'DROP TABLE'",
        "Requestor = 'a'' OR 1=1 --'",
        "Queue LIKE '%'",
    ] {
        let (s, v) = search(&app, &token, q, "").await;
        assert_eq!(s, StatusCode::OK, "{q}: {v}");
        assert!(ids(&v).len() <= 1, "{q}: {v}");
    }
    let (_, v) = search(&app, &token, "Subject = 'x''; DROP TABLE tickets; --'", "").await;
    assert_eq!(ids(&v), [a]);
    let (_, v) = search(&app, &token, "Queue LIKE '%'", "").await;
    assert_eq!(v["total"], 0, "a % in the value is a literal percent sign");
    let (s, _) = call(
        &app,
        &token,
        Method::GET,
        &format!("/api/v1/tickets/{a}"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "the table is still there");
}

#[tokio::test]
async fn pages_do_not_overlap_and_total_counts_all_matches() {
    let (app, token) = with_token().await;
    let mut all = Vec::new();
    for i in 0..23 {
        all.push(
            open_ticket(
                &app,
                &token,
                json!({"queue": "Support", "subject": format!("t{i}")}),
            )
            .await["id"]
                .as_i64()
                .unwrap(),
        );
    }
    let mut seen = Vec::new();
    for page in 1..=3 {
        let (s, v) = search(
            &app,
            &token,
            "Queue = 'Support'",
            &format!("&order=id&per_page=10&page={page}"),
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(v["total"], 23);
        seen.extend(ids(&v));
    }
    assert_eq!(seen, all);
    let (s, _) = search(&app, &token, "", "&per_page=0").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn dates_compare_as_days_or_instants() {
    let (app, token) = with_token().await;
    let a = open_ticket(
        &app,
        &token,
        json!({"queue": "Support", "subject": "today"}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let (_, v) = search(&app, &token, "Created > '-1 hour'", "").await;
    assert_eq!(ids(&v), [a]);
    let (_, v) = search(&app, &token, "Created < 'yesterday'", "").await;
    assert_eq!(v["total"], 0);
    let (_, v) = search(&app, &token, "Resolved IS NULL AND Created = 'today'", "").await;
    assert_eq!(ids(&v), [a]);
    let (s, e) = search(&app, &token, "Created > 'the day after'", "").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
}

#[tokio::test]
async fn keyset_cursors_walk_every_page_without_overlap_in_any_direction() {
    let (app, token) = with_token().await;
    let mut all = Vec::new();
    for i in 0..27 {
        all.push(
            open_ticket(
                &app,
                &token,
                json!({"queue": "Support", "subject": format!("t{i}"), "priority": 1 + i % 4}),
            )
            .await["id"]
                .as_i64()
                .unwrap(),
        );
    }
    for order in ["-updated", "id", "-id", "priority", "-created"] {
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..10 {
            let extra = match &after {
                Some(c) => format!("&order={order}&per_page=10&after={c}"),
                None => format!("&order={order}&per_page=10"),
            };
            let (s, v) = search(&app, &token, "Queue = 'Support'", &extra).await;
            assert_eq!(s, StatusCode::OK, "{order}: {v}");
            seen.extend(ids(&v));
            match v["next"].as_str() {
                Some(n) => after = Some(n.to_owned()),
                None => break,
            }
        }
        let (_, by_offset) = search(
            &app,
            &token,
            "Queue = 'Support'",
            &format!("&order={order}&per_page=100"),
        )
        .await;
        assert_eq!(
            seen,
            ids(&by_offset),
            "{order}: cursor pages equal one big page"
        );
        let mut sorted = seen.clone();
        sorted.sort();
        assert_eq!(sorted, all, "{order}: every ticket once");
    }
    let (s, e) = search(&app, &token, "Queue = 'Support'", "&after=not-a-cursor").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["detail"]["field"], "after");
    let (_, v) = search(&app, &token, "Queue = 'Support'", "&order=-due&per_page=5").await;
    assert!(
        v.get("next").is_none(),
        "nullable orders page by number only"
    );
}

#[tokio::test]
async fn the_search_api_finds_text_in_subjects_and_messages() {
    let (app, token) = with_token().await;
    let a = open_ticket(
        &app,
        &token,
        json!({"queue": "Support", "subject": "Fibre cut in Milan"}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let b = open_ticket(
        &app,
        &token,
        json!({"queue": "NOC", "subject": "x", "body": "the fibre CUT near the bridge"}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    open_ticket(
        &app,
        &token,
        json!({"queue": "NOC", "subject": "unrelated"}),
    )
    .await;
    let (s, v) = call(
        &app,
        &token,
        Method::GET,
        "/api/v1/search?q=fibre%20cut",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["total"], 2);
    let mut found: Vec<i64> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_i64().unwrap())
        .collect();
    found.sort();
    assert_eq!(found, [a, b]);
    assert_eq!(v["items"][0]["kind"], "ticket");
    let (s, _) = call(
        &app,
        &token,
        Method::GET,
        "/api/v1/search?q=it''s%20'%20OR%201=1",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "quotes are data");
    let (s, _) = call(&app, &token, Method::GET, "/api/v1/search?q=", None).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn staff_save_searches_of_their_own() {
    let (app, _token) = with_token().await;
    app.login_admin().await;
    let csrf = app.csrf("/tickets").await;
    let r = app
        .post_form(
            "/tickets/searches",
            &[
                ("csrf_token", &csrf),
                ("name", "P1 in NOC"),
                ("q", "Queue = 'NOC' AND Priority = 1"),
                ("order", "-created"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, page) = app.get_text("/tickets").await;
    assert!(page.contains(">P1 in NOC</a>"), "{page}");
    assert!(
        page.contains("/tickets?q=Queue+%3D+%27NOC%27+AND+Priority+%3D+1&amp;order=-created")
            || page.contains("order=-created")
    );
    let r = app
        .post_form(
            "/tickets/searches",
            &[("csrf_token", &csrf), ("name", "broken"), ("q", "Queue =")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, page) = app.get_text("/tickets").await;
    assert!(page.contains("Not saved: at position 7"), "{page}");
    // Another staff member does not see it and cannot delete it.
    app.add_user("bob", "agent", "bob-password-12");
    let bob = client();
    let t = csrf_in(
        &bob.get(app.url("/login"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    bob.post(app.url("/login"))
        .form(&[
            ("username", "bob"),
            ("password", "bob-password-12"),
            ("csrf_token", &t),
        ])
        .send()
        .await
        .unwrap();
    let bob_page = bob
        .get(app.url("/tickets"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!bob_page.contains("P1 in NOC"));
    let i = page.find("/tickets/searches/").unwrap();
    let del = &page[i..i + page[i..].find('"').unwrap()];
    let bob_csrf = csrf_in(&bob_page).unwrap();
    let r = bob
        .post(app.url(del))
        .form(&[("csrf_token", &bob_csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = app.post_form(del, &[("csrf_token", &csrf)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

/// Random queries (fragments of real TQL glued at random, and arbitrary text) against the
/// running server: every answer is 200 or a 400 with a position, never a 5xx.
#[tokio::test]
async fn random_queries_never_get_a_server_error() {
    use proptest::strategy::{Strategy, ValueTree};
    use proptest::test_runner::{Config, TestRunner};
    let (app, token) = with_token().await;
    open_ticket(
        &app,
        &token,
        json!({"queue": "Support", "subject": "seed", "body": "seed body"}),
    )
    .await;
    let fragments = proptest::sample::select(vec![
        "Queue",
        "Status",
        "Priority",
        "Owner",
        "Requestor",
        "Customer",
        "Subject",
        "Content",
        "Created",
        "Due",
        "SLA",
        "id",
        "=",
        "!=",
        "<",
        ">=",
        "LIKE",
        "NOT LIKE",
        "IS NULL",
        "IS NOT NULL",
        "AND",
        "OR",
        "NOT",
        "(",
        ")",
        "'NOC'",
        "'__Active__'",
        "'Nobody'",
        "'-2 hours'",
        "'yesterday'",
        "'2026-11-01'",
        "2",
        "'P1'",
        "'it''s'",
        "'%'",
        "'_'",
        "'\\'",
        "\"x\"",
        "'breached'",
        "'; DROP TABLE tickets; --'",
        "999999999999999999999",
    ]);
    let strategy = proptest::prop_oneof![
        proptest::collection::vec(fragments, 1..12).prop_map(|v| v.join(" ")),
        ".{0,60}",
    ];
    let mut runner = TestRunner::new(Config {
        cases: 150,
        ..Config::default()
    });
    for _ in 0..150 {
        let q = strategy.new_tree(&mut runner).unwrap().current();
        let (s, v) = search(&app, &token, &q, "").await;
        assert!(
            s == StatusCode::OK || s == StatusCode::BAD_REQUEST,
            "{q:?} → {s}: {v}"
        );
        if s == StatusCode::BAD_REQUEST {
            let pos = v["detail"]["position"].as_u64().unwrap_or(u64::MAX) as usize;
            assert!(
                pos <= q.chars().count(),
                "{q:?}: position {pos} is past the end"
            );
        }
    }
}

#[tokio::test]
async fn totals_stop_at_the_cap_unless_an_exact_count_is_asked_for() {
    let (mut app, token) = with_token().await;
    let first =
        open_ticket(&app, &token, json!({"queue": "Support", "subject": "bulk"})).await["id"]
            .as_i64()
            .unwrap();
    // 1,100 copies written straight to the database: through the API this test would spend
    // its time creating tickets, not counting them.
    let copy = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1100) \
        INSERT INTO tickets (queue, subject, status, priority, source, created_by, created_at, updated_at) \
        SELECT queue, subject, status, priority, source, created_by, created_at, updated_at \
        FROM tickets, n WHERE tickets.id = $1";
    match app.db.pool().await {
        opsdesk::db::Db::Sqlite(p) => {
            sqlx::query(copy).bind(first).execute(&*p).await.unwrap();
        }
        opsdesk::db::Db::Postgres(p) => {
            sqlx::query(copy).bind(first).execute(&p).await.unwrap();
        }
    }

    let (s, v) = search(&app, &token, "Queue = 'Support'", "").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["total"], 1000, "{v}");
    assert_eq!(v["total_exact"], false);
    assert_eq!(ids(&v).len(), 50);
    assert!(v["next"].is_string(), "more pages follow: {v}");

    let (_, v) = search(&app, &token, "Queue = 'Support'", "&exact_total=true").await;
    assert_eq!(v["total"], 1101, "{v}");
    assert_eq!(v["total_exact"], true);

    let (_, v) = search(&app, &token, "Subject = 'nothing like it'", "").await;
    assert_eq!(
        (v["total"].clone(), v["total_exact"].clone()),
        (json!(0), json!(true))
    );

    app.login_admin().await;
    let q = "/tickets?q=Queue%20%3D%20%27Support%27";
    let (_, html) = app.get_text(q).await;
    assert!(html.contains("More than 1000 tickets"), "{html}");
    assert!(html.contains("exact=true"), "a link to count them all");
    let (_, html) = app.get_text(&format!("{q}&exact=true")).await;
    assert!(html.contains("1101 ticket(s)"), "{html}");
    let (_, html) = app.get_text(&format!("{q}&order=priority&page=21")).await;
    assert!(
        html.contains("page 21"),
        "past the cap, numbered pages still go on"
    );
    assert!(html.contains("rel=\"next\""), "and offer the next one");
    app.terminate();
}

/// On SQLite the full-text index trails the writes by a batch (src/search/index.rs); a search
/// must not notice: a ticket is found the moment it is created, and still after the index has
/// taken it in, by TQL and by /api/v1/search alike, and a changed subject by its new text only.
#[tokio::test]
async fn a_ticket_is_found_before_and_after_the_index_takes_it_in() {
    let (app, token) = with_token().await;
    let a = open_ticket(
        &app,
        &token,
        json!({"queue": "NOC", "subject": "Fibre cut near Brno", "body": "The splice closure is flooded"}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    for round in ["at once", "after the index task ran"] {
        let (_, v) = search(&app, &token, "Subject LIKE 'fibre cut'", "").await;
        assert_eq!(ids(&v), [a], "subject, {round}");
        let (_, v) = search(&app, &token, "Content LIKE 'splice closure'", "").await;
        assert_eq!(ids(&v), [a], "body, {round}");
        let (s, v) = call(&app, &token, Method::GET, "/api/v1/search?q=splice", None).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["items"][0]["id"], a, "/api/v1/search, {round}: {v}");
        // The task runs every 250 ms.
        tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    }
    let (s, v) = call(
        &app,
        &token,
        Method::PATCH,
        &format!("/api/v1/tickets/{a}"),
        Some(json!({"subject": "Fibre repaired near Brno"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, v) = search(&app, &token, "Subject LIKE 'fibre cut'", "").await;
    assert_eq!(ids(&v), Vec::<i64>::new(), "the old subject is gone");
    let (_, v) = search(&app, &token, "Subject LIKE 'fibre repaired'", "").await;
    assert_eq!(ids(&v), [a]);
}

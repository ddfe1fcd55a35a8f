//! The wiki (issue 7): revisions, stale saves, diffs, revert, rename redirects, recoverable
//! deletes, links and backlinks, visibility for customers, and hostile Markdown and titles.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;
use crate::tickets::{call, with_token};

async fn put(app: &TestApp, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
    call(
        app,
        token,
        Method::PUT,
        &format!("/api/v1/wiki/{path}"),
        Some(body),
    )
    .await
}

#[tokio::test]
async fn pages_keep_every_revision_and_a_stale_save_is_refused_with_the_current_one() {
    let (app, token) = with_token().await;
    let (s, p) = put(&app, &token, "runbooks/bgp-session-down", json!({"title": "BGP session down", "body": "Check the peer.\n", "base_revision": 0, "comment": "first"})).await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    assert_eq!(
        (p["path"].as_str(), p["revision"].as_i64()),
        (Some("runbooks/bgp-session-down"), Some(1))
    );
    let (s, p) = put(&app, &token, "runbooks/bgp-session-down", json!({"title": "BGP session down", "body": "Check the peer.\nClear the session.\n", "base_revision": 1, "comment": "second"})).await;
    assert_eq!(
        (s, p["revision"].as_i64()),
        (StatusCode::OK, Some(2)),
        "{p}"
    );

    // Someone still on revision 1 saves: refused, told where the page is now, nothing written.
    let (s, e) = put(
        &app,
        &token,
        "runbooks/bgp-session-down",
        json!({"title": "BGP", "body": "mine", "base_revision": 1}),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    assert_eq!(e["detail"]["revision"], 2, "{e}");
    assert_eq!(
        e["detail"]["current"]["body"],
        "Check the peer.\nClear the session.\n"
    );
    let (_, now) = call(
        &app,
        &token,
        Method::GET,
        "/api/v1/wiki/runbooks/bgp-session-down",
        None,
    )
    .await;
    assert_eq!(
        (now["revision"].as_i64(), now["title"].as_str()),
        (Some(2), Some("BGP session down"))
    );
    // A "create" of an existing page is a stale save too.
    let (s, _) = put(
        &app,
        &token,
        "runbooks/bgp-session-down",
        json!({"title": "x", "body": "y"}),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);

    let (_, revs) = call(
        &app,
        &token,
        Method::GET,
        "/api/v1/wiki/runbooks/bgp-session-down/revisions",
        None,
    )
    .await;
    let revs = revs.as_array().unwrap().clone();
    assert_eq!(
        revs.iter()
            .map(|r| r["revision"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        vec![2, 1]
    );
    assert_eq!(
        (revs[0]["author"].as_str(), revs[0]["comment"].as_str()),
        (Some("tests"), Some("second"))
    );
    let (s, r1) = call(
        &app,
        &token,
        Method::GET,
        "/api/v1/wiki/runbooks/bgp-session-down/revisions/1",
        None,
    )
    .await;
    assert_eq!(
        (s, r1["body"].as_str()),
        (StatusCode::OK, Some("Check the peer.\n"))
    );
    let (_, d) = call(
        &app,
        &token,
        Method::GET,
        "/api/v1/wiki/runbooks/bgp-session-down/diff?from=1&to=2",
        None,
    )
    .await;
    assert_eq!(
        (d["added"].as_u64(), d["removed"].as_u64()),
        (Some(1), Some(0)),
        "{d}"
    );
    assert!(
        d["unified"]
            .as_str()
            .unwrap()
            .contains("+Clear the session."),
        "{d}"
    );

    // Revert is a new revision holding the old text.
    let (s, p) = call(
        &app,
        &token,
        Method::POST,
        "/api/v1/wiki/runbooks/bgp-session-down/revert",
        Some(json!({"revision": 1})),
    )
    .await;
    assert_eq!(
        (s, p["revision"].as_i64(), p["body"].as_str()),
        (StatusCode::OK, Some(3), Some("Check the peer.\n")),
        "{p}"
    );

    // Rename: the old path answers with the page at its new path.
    let (s, p) = call(
        &app,
        &token,
        Method::POST,
        "/api/v1/wiki/runbooks/bgp-session-down/rename",
        Some(json!({"to": "runbooks/BGP Peer Down"})),
    )
    .await;
    assert_eq!(
        (s, p["path"].as_str()),
        (StatusCode::OK, Some("runbooks/bgp-peer-down")),
        "{p}"
    );
    let (s, p) = call(
        &app,
        &token,
        Method::GET,
        "/api/v1/wiki/runbooks/bgp-session-down",
        None,
    )
    .await;
    assert_eq!(
        (s, p["path"].as_str()),
        (StatusCode::OK, Some("runbooks/bgp-peer-down"))
    );
    app.login_admin().await;
    let r = app.get("/wiki/runbooks/bgp-session-down").await;
    assert_eq!(r.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(r.headers()["location"], "/wiki/runbooks/bgp-peer-down");

    // Delete is recoverable.
    let (s, _) = call(
        &app,
        &token,
        Method::DELETE,
        "/api/v1/wiki/runbooks/bgp-peer-down",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(
        call(
            &app,
            &token,
            Method::GET,
            "/api/v1/wiki/runbooks/bgp-peer-down",
            None
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    let (s, p) = call(
        &app,
        &token,
        Method::POST,
        "/api/v1/wiki/runbooks/bgp-peer-down/restore",
        None,
    )
    .await;
    assert_eq!(
        (s, p["revision"].as_i64()),
        (StatusCode::OK, Some(3)),
        "{p}"
    );

    // Refusals say what was wrong.
    for (path, body, status, says) in [
        (
            "runbooks/revisions",
            json!({"title": "t", "body": "b"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "reserved",
        ),
        (
            "x",
            json!({"title": " ", "body": "b"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "title",
        ),
        (
            "x",
            json!({"title": "t", "body": "a".repeat(1_100_000)}),
            StatusCode::PAYLOAD_TOO_LARGE,
            "larger",
        ),
        (
            "new/page",
            json!({"title": "t", "body": "b", "base_revision": 4}),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
    ] {
        let (s, e) = put(&app, &token, path, body).await;
        assert_eq!(s, status, "{path}: {e}");
        assert!(e.to_string().contains(says), "{path}: {e}");
    }
}

#[tokio::test]
async fn links_render_with_backlinks_and_hostile_markdown_is_neutralised() {
    let (app, token) = with_token().await;
    put(&app, &token, "network/core", json!({"title": "Core network", "body": "See [[runbooks/BGP Session Down|the BGP runbook]], [[Nowhere yet]] and #42.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n- [x] done\n\n```bash\nping -c1 gw\n```\n"})).await;
    put(
        &app,
        &token,
        "runbooks/bgp-session-down",
        json!({"title": "BGP session down", "body": "Steps."}),
    )
    .await;
    let evil = "<script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n[a](javascript:alert(3))\n\n[b](data:text/html;base64,PHNjcmlwdD4=)\n\n<svg onload=alert(4)>\n\n<p style=\"width:expression(alert(5))\">x</p>\n\n[[x|<img src=y onerror=alert(6)>]]\n\n<iframe src=//evil.example></iframe>\n";
    let (s, _) = put(
        &app,
        &token,
        "evil",
        json!({"title": "<script>alert('title')</script>", "body": evil}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);

    app.login_admin().await;
    let (s, core) = app.get_text("/wiki/network/core").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        core.contains("href=\"/wiki/runbooks/bgp-session-down\""),
        "{core}"
    );
    assert!(core.contains("the BGP runbook"), "{core}");
    assert!(
        core.contains("wiki-missing") && core.contains("/wiki/nowhere-yet?edit=1"),
        "{core}"
    );
    assert!(core.contains("href=\"/tickets/42\""), "{core}");
    assert!(
        core.contains("<table>") && core.contains("checkbox") && core.contains("language-bash"),
        "{core}"
    );
    let (_, bgp) = app.get_text("/wiki/runbooks/bgp-session-down").await;
    assert!(
        bgp.contains("href=\"/wiki/network/core\""),
        "the backlink: {bgp}"
    );

    let (_, page) = app.get_text("/wiki/evil").await;
    let article = page
        .split("<article class=\"wiki md\">")
        .nth(1)
        .unwrap()
        .split("</article>")
        .next()
        .unwrap();
    // Escaped text may say anything; no tag may carry it.
    let tags: Vec<&str> = article
        .split('<')
        .skip(1)
        .map(|t| t.split('>').next().unwrap())
        .collect();
    for tag in &tags {
        let t = tag.to_lowercase();
        for bad in [
            "script",
            "onerror",
            "onload",
            "javascript:",
            "data:",
            "svg",
            "iframe",
            "style",
            "expression(",
        ] {
            assert!(!t.contains(bad), "{bad} survived in <{tag}>: {article}");
        }
    }
    assert!(
        article.contains("&lt;img src=y onerror=alert(6)&gt;"),
        "the label is text: {article}"
    );
    assert!(
        !page.contains("<script>alert('title')"),
        "the title is escaped"
    );
    assert!(
        page.contains("&#60;script&#62;alert(&#39;title&#39;)"),
        "the title is shown as text: {page}"
    );
}

#[tokio::test]
async fn customers_see_public_pages_only_through_pages_api_and_search() {
    let (app, token) = with_token().await;
    put(&app, &token, "kb/reset-router", json!({"title": "Reset your router", "body": "Hold the button: walrusword.", "visibility": "public"})).await;
    put(
        &app,
        &token,
        "internal/passwords",
        json!({"title": "Core passwords", "body": "Do not share: walrusword."}),
    )
    .await;
    let out = app.cli(&["customer", "add", "ACME", "--name", "Acme"], None);
    assert!(out.status.success());
    let out = app.cli(
        &[
            "user",
            "add",
            "cara",
            "--email",
            "cara@acme.example",
            "--role",
            "customer",
            "--customer",
            "ACME",
            "--password-stdin",
        ],
        Some("cara-password-1"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        app.login("cara", "cara-password-1").await.status(),
        StatusCode::SEE_OTHER
    );

    let (s, kb) = app.get_text("/portal/kb").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        kb.contains("Reset your router") && !kb.contains("Core passwords"),
        "{kb}"
    );
    assert_eq!(
        app.get("/portal/kb/kb/reset-router").await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.get("/portal/kb/internal/passwords").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/api/v1/wiki/internal/passwords").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/api/v1/wiki/kb/reset-router").await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.get("/wiki/kb/reset-router").await.status(),
        StatusCode::FORBIDDEN
    );
    let hits: Value = app
        .get("/api/v1/search?q=walrusword")
        .await
        .json()
        .await
        .unwrap();
    let wiki = hits["wiki"].as_array().unwrap();
    assert_eq!(wiki.len(), 1, "{hits}");
    assert_eq!(wiki[0]["url"], "/portal/kb/kb/reset-router");
    // Staff find both.
    let (_, hits) = call(
        &app,
        &token,
        Method::GET,
        "/api/v1/search?q=walrusword",
        None,
    )
    .await;
    assert_eq!(hits["wiki"].as_array().unwrap().len(), 2, "{hits}");
}

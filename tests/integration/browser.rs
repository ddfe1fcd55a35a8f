//! A real browser (Chromium through chromedriver, started by scripts/test) signs in.

use fantoccini::{ClientBuilder, Locator};

use crate::helpers::*;

/// A browser session and the profile directory Chromium writes to, removed once the session
/// is closed (Chromium goes on writing there until then).
struct Browser {
    client: fantoccini::Client,
    profile: Option<tempfile::TempDir>,
}

impl std::ops::Deref for Browser {
    type Target = fantoccini::Client;
    fn deref(&self) -> &fantoccini::Client {
        &self.client
    }
}

impl Browser {
    /// Ends the session (chromedriver stops its Chromium), then removes the profile.
    async fn close(mut self) -> Result<(), fantoccini::error::CmdError> {
        let r = self.client.clone().close().await;
        if let Some(p) = self.profile.take() {
            let _ = p.close();
        }
        r
    }
}

async fn browser() -> Browser {
    let webdriver = std::env::var("OPSDESK_TEST_WEBDRIVER").expect(
        "OPSDESK_TEST_WEBDRIVER must name a running chromedriver (scripts/test starts one)",
    );
    let chromium =
        std::env::var("OPSDESK_TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let profile = tempfile::tempdir().unwrap();
    let caps = serde_json::json!({
        "goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-quic",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", format!("--user-data-dir={}", profile.path().display()),
            ]
        }
    });
    let serde_json::Value::Object(caps) = caps else {
        unreachable!()
    };
    // chromedriver listens on loopback in plain HTTP: no TLS stack needed.
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&webdriver)
        .await
        .expect("connect to chromedriver");
    Browser {
        client,
        profile: Some(profile),
    }
}

#[tokio::test]
async fn a_browser_signs_in_with_the_form_and_sees_the_home_page() {
    let app = TestApp::spawn().await;
    let c = browser().await;
    let result = async {
        c.goto(&app.url("/")).await?;
        // Redirected to the form.
        c.wait().for_element(Locator::Css("input#username")).await?;
        assert!(c.current_url().await?.as_str().contains("/login?next=%2F"));
        c.find(Locator::Css("input#username"))
            .await?
            .send_keys("admin")
            .await?;
        c.find(Locator::Css("input#password"))
            .await?
            .send_keys(ADMIN_PASSWORD)
            .await?;
        c.find(Locator::Css("button[type=submit]"))
            .await?
            .click()
            .await?;
        let h1 = c
            .wait()
            .for_element(Locator::XPath("//h1[starts-with(., 'Welcome')]"))
            .await?;
        assert_eq!(h1.text().await?, "Welcome, Administrator");
        // The keyboard shortcut "g a" goes to the admin page (app.js, no inline script).
        c.find(Locator::Css("body")).await?.send_keys("ga").await?;
        c.wait()
            .for_element(Locator::XPath("//h1[.='Administration']"))
            .await?;
        // Sign out from the navigation.
        c.find(Locator::Css("form[action='/logout'] button"))
            .await?
            .click()
            .await?;
        c.wait().for_element(Locator::Css("input#username")).await?;
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    c.close().await.ok();
    result.unwrap();
}

#[tokio::test]
async fn a_wrong_password_in_the_browser_shows_the_message_and_keeps_the_username() {
    let app = TestApp::spawn().await;
    let c = browser().await;
    let result = async {
        c.goto(&app.url("/login")).await?;
        c.find(Locator::Css("input#username"))
            .await?
            .send_keys("admin")
            .await?;
        c.find(Locator::Css("input#password"))
            .await?
            .send_keys("not-it-at-all")
            .await?;
        c.find(Locator::Css("button[type=submit]"))
            .await?
            .click()
            .await?;
        let e = c.wait().for_element(Locator::Css("p.error")).await?;
        assert_eq!(e.text().await?, "Wrong username or password.");
        let u = c.find(Locator::Css("input#username")).await?;
        assert_eq!(u.prop("value").await?.as_deref(), Some("admin"));
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    c.close().await.ok();
    result.unwrap();
}

/// Saves a screenshot when OPSDESK_TEST_SCREENSHOTS names a folder (for people reviewing the UI).
async fn snap(c: &fantoccini::Client, name: &str) {
    if let Ok(dir) = std::env::var("OPSDESK_TEST_SCREENSHOTS")
        && let Ok(png) = c.screenshot().await
    {
        let _ = std::fs::write(std::path::Path::new(&dir).join(format!("{name}.png")), png);
    }
}

#[tokio::test]
async fn staff_open_a_ticket_reply_comment_resolve_and_find_it_by_search() {
    let app = TestApp::spawn_with(Options::toml(
        "[[queue]]\nname = \"Support\"\n\n[[queue]]\nname = \"NOC\"\n",
    ))
    .await;
    let c = browser().await;
    let result = async {
        c.set_window_size(1280, 900).await?;
        c.goto(&app.url("/login")).await?;
        c.find(Locator::Css("input#username"))
            .await?
            .send_keys("admin")
            .await?;
        c.find(Locator::Css("input#password"))
            .await?
            .send_keys(ADMIN_PASSWORD)
            .await?;
        c.find(Locator::Css("button[type=submit]"))
            .await?
            .click()
            .await?;
        c.wait()
            .for_element(Locator::XPath("//h1[starts-with(., 'Welcome')]"))
            .await?;
        // "g n" opens the new-ticket form.
        c.find(Locator::Css("body")).await?.send_keys("gn").await?;
        c.wait().for_element(Locator::Css("input#subject")).await?;
        c.find(Locator::Css(
            "select#queue option[value=NOC], select#queue option:nth-child(2)",
        ))
        .await?
        .click()
        .await?;
        c.find(Locator::Css("input#subject"))
            .await?
            .send_keys("Core switch sw1 reboots")
            .await?;
        c.find(Locator::Css("input#requestors"))
            .await?
            .send_keys("noc@acme.example")
            .await?;
        c.find(Locator::Css("textarea#body"))
            .await?
            .send_keys("Seen **three** reboots since 09:00")
            .await?;
        c.find(Locator::Css("input[name=markdown]"))
            .await?
            .click()
            .await?;
        c.find(Locator::Css("button.primary"))
            .await?
            .click()
            .await?;
        c.wait()
            .for_element(Locator::XPath(
                "//h1[contains(., 'Core switch sw1 reboots')]",
            ))
            .await?;
        let md = c
            .find(Locator::Css(".entry .body.md strong"))
            .await?
            .text()
            .await?;
        assert_eq!(md, "three");
        // Reply to the requestor ("r" focuses the box).
        c.find(Locator::Css("body")).await?.send_keys("r").await?;
        c.find(Locator::Css("textarea#body"))
            .await?
            .send_keys("We are replacing the PSU.")
            .await?;
        c.find(Locator::Css("form#reply button.primary"))
            .await?
            .click()
            .await?;
        c.wait()
            .for_element(Locator::XPath(
                "//div[contains(@class,'flash') and contains(., 'Reply recorded.')]",
            ))
            .await?;
        // An internal comment.
        c.find(Locator::Css("input[name=kind][value=comment]"))
            .await?
            .click()
            .await?;
        c.find(Locator::Css("textarea#body"))
            .await?
            .send_keys("Spare PSU is in rack B4")
            .await?;
        c.find(Locator::Css("form#reply button.primary"))
            .await?
            .click()
            .await?;
        c.wait()
            .for_element(Locator::XPath(
                "//article[contains(@class,'comment')]//div[contains(., 'rack B4')]",
            ))
            .await?;
        snap(&c, "ticket").await;
        // Resolve.
        c.find(Locator::Css("select#status option:nth-child(4)"))
            .await?
            .click()
            .await?;
        c.find(Locator::Css("form#controls button"))
            .await?
            .click()
            .await?;
        c.wait()
            .for_element(Locator::XPath(
                "//span[contains(@class,'status') and .='resolved']",
            ))
            .await?;
        // Find it again by searching its message text.
        c.goto(&app.url("/tickets")).await?;
        let q = c.find(Locator::Css("input#q")).await?;
        q.clear().await?;
        q.send_keys("Content LIKE 'replacing the psu' AND Status = 'resolved'")
            .await?;
        c.find(Locator::Css("form.search button"))
            .await?
            .click()
            .await?;
        let link = c
            .wait()
            .for_element(Locator::XPath(
                "//td[@class='subject']/a[.='Core switch sw1 reboots']",
            ))
            .await?;
        snap(&c, "list").await;
        link.click().await?;
        c.wait()
            .for_element(Locator::XPath(
                "//h1[contains(., 'Core switch sw1 reboots')]",
            ))
            .await?;
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    if result.is_err() {
        snap(&c, "failure").await;
    }
    c.close().await.ok();
    result.unwrap();
}

#[tokio::test]
async fn a_customer_signs_in_lands_in_the_portal_and_opens_a_ticket_with_a_file() {
    let app = TestApp::spawn_with(Options::toml(
        "[[queue]]\nname = \"Support\"\nsla = \"standard\"\n\n[[sla]]\nname = \"standard\"\ntargets.P2 = { response = \"1h\", resolve = \"8h\" }\n",
    ))
    .await;
    let out = app.cli(&["customer", "add", "ACME", "--name", "Acme"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = app.cli(
        &[
            "user",
            "add",
            "dora",
            "--email",
            "dora@acme.example",
            "--role",
            "customer",
            "--customer",
            "ACME",
            "--password-stdin",
        ],
        Some("dora-password-1"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("traceroute.txt");
    std::fs::write(&file, "1 gw.acme.example 0.4 ms\n").unwrap();

    let c = browser().await;
    let result = async {
        c.goto(&app.url("/")).await?;
        c.wait().for_element(Locator::Css("input#username")).await?;
        c.find(Locator::Css("input#username"))
            .await?
            .send_keys("dora")
            .await?;
        c.find(Locator::Css("input#password"))
            .await?
            .send_keys("dora-password-1")
            .await?;
        c.find(Locator::Css("button[type=submit]"))
            .await?
            .click()
            .await?;
        // Customers land in the portal, not on the staff home page.
        c.wait()
            .for_element(Locator::XPath("//h1[starts-with(., 'Your tickets')]"))
            .await?;
        c.find(Locator::LinkText("Open a ticket"))
            .await?
            .click()
            .await?;
        c.wait().for_element(Locator::Css("input#subject")).await?;
        c.find(Locator::Css("input#subject"))
            .await?
            .send_keys("Packet loss to Milan")
            .await?;
        c.find(Locator::Css("select#priority option[value='2']"))
            .await?
            .click()
            .await?;
        c.find(Locator::Css("textarea#body"))
            .await?
            .send_keys("Since 09:00, 5% loss.")
            .await?;
        c.find(Locator::Css("input#attachments"))
            .await?
            .send_keys(&file.display().to_string())
            .await?;
        c.find(Locator::Css(
            "form[action='/portal/tickets'] button[type=submit]",
        ))
        .await?
        .click()
        .await?;
        let h1 = c
            .wait()
            .for_element(Locator::XPath("//h1[contains(., 'Packet loss to Milan')]"))
            .await?;
        assert!(h1.text().await?.starts_with('#'));
        let page = c.source().await?;
        assert!(page.contains("Since 09:00, 5% loss."), "{page}");
        assert!(
            page.contains("traceroute.txt"),
            "the file is listed: {page}"
        );
        assert!(
            page.contains("First answer due"),
            "the SLA is shown: {page}"
        );
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    if result.is_err() {
        snap(&c, "portal").await;
    }
    c.close().await.ok();
    result.unwrap();
}

/// Signs the admin in on a browser of its own.
async fn admin_browser(app: &TestApp) -> Result<Browser, fantoccini::error::CmdError> {
    let c = browser().await;
    c.goto(&app.url("/login")).await?;
    c.wait().for_element(Locator::Css("input#username")).await?;
    c.find(Locator::Css("input#username"))
        .await?
        .send_keys("admin")
        .await?;
    c.find(Locator::Css("input#password"))
        .await?
        .send_keys(ADMIN_PASSWORD)
        .await?;
    c.find(Locator::Css("button[type=submit]"))
        .await?
        .click()
        .await?;
    c.wait()
        .for_element(Locator::XPath("//h1[starts-with(., 'Welcome')]"))
        .await?;
    Ok(c)
}

#[tokio::test]
async fn two_editors_of_one_wiki_page_meet_a_conflict_that_loses_nothing() {
    let app = TestApp::spawn().await;
    let token = app.token("wiki", "api");
    let r = client()
        .put(app.url("/api/v1/wiki/runbooks/mail-relay"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"title": "Mail relay", "body": "Restart postfix.\n"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::CREATED);
    let (a, b) = (
        admin_browser(&app).await.unwrap(),
        admin_browser(&app).await.unwrap(),
    );
    let result = async {
        for c in [&a, &b] {
            c.goto(&app.url("/wiki/runbooks/mail-relay?edit=1")).await?;
            c.wait().for_element(Locator::Css("textarea#body")).await?;
        }
        // A saves first.
        let body = a.find(Locator::Css("textarea#body")).await?;
        body.clear().await?;
        body.send_keys("Restart postfix.\nCheck the queue with mailq.\n").await?;
        a.find(Locator::Css("#editor button[type=submit]")).await?.click().await?;
        a.wait().for_element(Locator::XPath("//h1[.='Mail relay']")).await?;
        // B, still on revision 1, saves: the editor comes back with both versions.
        let body = b.find(Locator::Css("textarea#body")).await?;
        body.clear().await?;
        body.send_keys("Restart postfix.\nCall the data centre if it stays down.\n").await?;
        b.find(Locator::Css("#editor button[type=submit]")).await?.click().await?;
        b.wait().for_element(Locator::Css("#conflict")).await?;
        let current = b.find(Locator::Css("#current-body")).await?.text().await?;
        assert!(current.contains("mailq"), "the page as A left it: {current}");
        let mine = b.find(Locator::Css("textarea#body")).await?.prop("value").await?.unwrap_or_default();
        assert!(mine.contains("Call the data centre"), "B's text is kept: {mine}");
        // B merges both and saves again, now on the current revision.
        let body = b.find(Locator::Css("textarea#body")).await?;
        body.clear().await?;
        body.send_keys("Restart postfix.\nCheck the queue with mailq.\nCall the data centre if it stays down.\n").await?;
        b.find(Locator::Css("#editor button[type=submit]")).await?.click().await?;
        b.wait().for_element(Locator::XPath("//h1[.='Mail relay']")).await?;
        let page = b.source().await?;
        assert!(page.contains("mailq") && page.contains("Call the data centre"), "{page}");
        assert!(page.contains("revision 3"), "{page}");
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    if result.is_err() {
        snap(&b, "wiki-conflict").await;
    }
    a.close().await.ok();
    b.close().await.ok();
    result.unwrap();
}

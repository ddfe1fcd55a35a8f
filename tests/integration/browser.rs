//! A real browser (Chromium through chromedriver, started by scripts/test) signs in.

use fantoccini::{ClientBuilder, Locator};

use crate::helpers::*;

async fn browser() -> fantoccini::Client {
    let webdriver = std::env::var("OPSDESK_TEST_WEBDRIVER").expect(
        "OPSDESK_TEST_WEBDRIVER must name a running chromedriver (scripts/test starts one)",
    );
    let chromium =
        std::env::var("OPSDESK_TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let profile = tempfile::tempdir().unwrap().keep();
    let caps = serde_json::json!({
        "goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-quic",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", format!("--user-data-dir={}", profile.display()),
            ]
        }
    });
    let serde_json::Value::Object(caps) = caps else {
        unreachable!()
    };
    // chromedriver listens on loopback in plain HTTP: no TLS stack needed.
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&webdriver)
        .await
        .expect("connect to chromedriver")
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

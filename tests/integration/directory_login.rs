//! Sign-in through the directories, end to end (issue 6): the login form and `/api/v1/me`
//! against the real slapd and FreeRADIUS that scripts/test starts. The clients themselves are
//! tested in `ldap.rs` and `radius.rs`; here it is what sign-in makes of their answers.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

fn peer(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| panic!("{var} is set by scripts/test"))
}

/// Sources local, ldap, radius against the given servers.
fn config(ldap: &str, radius: &[String], timeout: &str) -> String {
    let servers: Vec<String> = radius.iter().map(|s| format!("\"{s}\"")).collect();
    format!(
        r#"
[auth]
sources = ["local", "ldap", "radius"]

[ldap]
url = "ldap://{ldap}"
bind_dn = "cn=admin,dc=example,dc=net"
bind_password = "adminpw"
user_base = "ou=people,dc=example,dc=net"
user_filter = "(uid={{username}})"
roles = {{ "cn=admins,ou=groups,dc=example,dc=net" = "admin", "cn=noc,ou=groups,dc=example,dc=net" = "agent", "cn=support,ou=groups,dc=example,dc=net" = "agent" }}
default_role = "customer"
customer_attribute = "employeeNumber"
timeout = "{timeout}"

[radius]
servers = [{servers}]
secret = "testing123"
method = "pap"
timeout = "{timeout}"
retries = 1
"#,
        servers = servers.join(", ")
    )
}

/// Signs in on a fresh client; answers the status, the page, and the client.
async fn sign_in(
    app: &TestApp,
    user: &str,
    password: &str,
) -> (StatusCode, String, reqwest::Client) {
    let c = client();
    let page = c
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_in(&page).unwrap();
    let r = c
        .post(app.url("/login"))
        .form(&[
            ("username", user),
            ("password", password),
            ("csrf_token", &csrf),
        ])
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.text().await.unwrap(), c)
}

async fn me(app: &TestApp, user: &str, password: &str) -> Value {
    let (s, page, c) = sign_in(app, user, password).await;
    assert_eq!(s, StatusCode::SEE_OTHER, "{user} signs in: {page}");
    c.get(app.url("/api/v1/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// A loopback port nothing listens on (TCP and UDP).
fn dead_port() -> u16 {
    let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    s.local_addr().unwrap().port()
}

#[tokio::test]
async fn directory_users_sign_in_with_their_role_and_customer() {
    let toml = config(
        &peer("OPSDESK_TEST_LDAP"),
        &[peer("OPSDESK_TEST_RADIUS")],
        "2s",
    );
    let app = TestApp::spawn_with(Options::toml(&toml)).await;
    for (code, name) in [("ACME", "Acme"), ("GLOBEX", "Globex")] {
        let out = app.cli(&["customer", "add", code, "--name", name], None);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    // A local account owns its name: a directory user of the same name is not let in as it.
    app.add_user("noc1", "agent", "local-noc1-password");

    let ada = me(&app, "ada", "ada-pw").await;
    assert_eq!(
        (ada["role"].as_str(), ada["customer"].as_str()),
        (Some("admin"), None),
        "{ada}"
    );
    let cust = me(&app, "cust1", "pässwörd-ü€").await;
    assert_eq!(
        (cust["role"].as_str(), cust["customer"].as_str()),
        (Some("customer"), Some("ACME")),
        "{cust}"
    );
    let sub = me(&app, "sub1", "sub1-pw").await;
    assert_eq!(
        (sub["role"].as_str(), sub["customer"].as_str()),
        (Some("customer"), Some("ACME")),
        "{sub}"
    );
    let sub2 = me(&app, "sub2", "pässwörd-ü€").await;
    assert_eq!(sub2["customer"], "GLOBEX", "{sub2}");
    // Signing in again refreshes the same account rather than making a second.
    let again = me(&app, "ada", "ada-pw").await;
    assert_eq!(again["username"], "ada");

    // Every refusal reads the same on the form: 401 and the one message.
    for (user, password) in [
        ("ada", "wrong"),
        ("nobody-here", "whatever"),
        ("*)(uid=*", "ada-pw"),
        ("admin)(|(uid=*", "ada-pw"),
        ("noclass", "noclass-pw"),
        ("noc1", "noc1-pw"),
        ("sub1", "wrong"),
    ] {
        let (s, page, _) = sign_in(&app, user, password).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{user}: {page}");
        assert!(
            page.contains("Wrong username or password."),
            "{user}: {page}"
        );
    }
    assert!(app.log_shows("the name belongs to a local account").await);
    assert!(app.log_shows("links the user to no customer").await);
    // The local noc1 is untouched and still signs in with its own password.
    assert_eq!(
        me(&app, "noc1", "local-noc1-password").await["role"],
        "agent"
    );

    // The admin's list says where each user signs in.
    app.login_admin().await;
    let (_, users) = app.get_text("/admin/users").await;
    assert!(
        users.contains("ldap") && users.contains("radius"),
        "{users}"
    );
}

#[tokio::test]
async fn a_directory_that_is_down_is_unavailable_never_a_wrong_password() {
    let toml = config(
        &format!("127.0.0.1:{}", dead_port()),
        &[format!("127.0.0.1:{}", dead_port())],
        "300ms",
    );
    let app = TestApp::spawn_with(Options::toml(&toml)).await;
    // Local users keep signing in.
    let (s, _, _) = sign_in(&app, "admin", ADMIN_PASSWORD).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    // A directory user is told the service is down, not that the password is wrong, and the
    // outage does not count toward throttling them.
    for _ in 0..8 {
        let (s, page, _) = sign_in(&app, "ada", "ada-pw").await;
        assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{page}");
        assert!(page.contains("sign-in service is unavailable"), "{page}");
        assert!(!page.contains("Wrong username or password"), "{page}");
    }
}

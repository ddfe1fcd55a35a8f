use reqwest::StatusCode;

use crate::helpers::*;

#[tokio::test]
async fn user_add_with_a_password_on_stdin_creates_an_agent_who_can_sign_in() {
    let app = TestApp::spawn().await;
    let out = app.cli(
        &[
            "user",
            "add",
            "alice",
            "--email",
            "alice@example.net",
            "--role",
            "agent",
            "--name",
            "Alice Liddell",
            "--password-stdin",
        ],
        Some("alice-password-1\n"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!text(&out.stdout).contains("alice-password-1"));
    assert_eq!(
        app.login("alice", "alice-password-1").await.status(),
        StatusCode::SEE_OTHER
    );
    let me: serde_json::Value = app.get("/api/v1/me").await.json().await.unwrap();
    assert_eq!(me["role"], "agent");
    assert_eq!(me["name"], "Alice Liddell");
    assert_eq!(me["email"], "alice@example.net");
}

#[tokio::test]
async fn user_add_without_a_password_prints_a_generated_one_that_works() {
    let app = TestApp::spawn().await;
    let out = app.cli(
        &[
            "user",
            "add",
            "bob",
            "--email",
            "bob@example.net",
            "--role",
            "admin",
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let pw = stdout
        .lines()
        .find_map(|l| l.strip_prefix("password: "))
        .expect("generated password printed");
    assert_eq!(app.login("bob", pw).await.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_customer_user_belongs_to_an_existing_customer_and_me_names_it() {
    let app = TestApp::spawn().await;
    let out = app.cli(
        &[
            "customer",
            "add",
            "ACME",
            "--name",
            "Acme Networks",
            "--domain",
            "acme.example",
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = app.cli(
        &[
            "user",
            "add",
            "carol",
            "--email",
            "carol@acme.example",
            "--role",
            "customer",
            "--customer",
            "ACME",
            "--password-stdin",
        ],
        Some("carol-password-1"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    app.login("carol", "carol-password-1").await;
    let me: serde_json::Value = app.get("/api/v1/me").await.json().await.unwrap();
    assert_eq!(me["customer"], "ACME");
    assert_eq!(me["role"], "customer");
    // Customers stay out of the staff admin pages.
    assert_eq!(app.get("/admin").await.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn bad_user_input_is_refused_with_what_was_wrong() {
    let app = TestApp::spawn().await;
    let cases: &[(&[&str], Option<&str>, &str)] = &[
        (
            &[
                "user",
                "add",
                "dave",
                "--email",
                "d@x.net",
                "--role",
                "customer",
                "--password-stdin",
            ],
            Some("long-enough-pw"),
            "--customer",
        ),
        (
            &[
                "user",
                "add",
                "dave",
                "--email",
                "d@x.net",
                "--role",
                "customer",
                "--customer",
                "NOPE",
                "--password-stdin",
            ],
            Some("long-enough-pw"),
            "no customer has the code NOPE",
        ),
        (
            &[
                "user",
                "add",
                "dave",
                "--email",
                "d@x.net",
                "--role",
                "agent",
                "--password-stdin",
            ],
            Some("short"),
            "at least 10",
        ),
        (
            &[
                "user",
                "add",
                "da ve",
                "--email",
                "d@x.net",
                "--role",
                "agent",
                "--password-stdin",
            ],
            Some("long-enough-pw"),
            "USERNAME",
        ),
        (
            &[
                "user",
                "add",
                "dave",
                "--email",
                "not-an-email",
                "--role",
                "agent",
                "--password-stdin",
            ],
            Some("long-enough-pw"),
            "--email",
        ),
        (
            &[
                "user",
                "add",
                "admin",
                "--email",
                "a@x.net",
                "--role",
                "agent",
                "--password-stdin",
            ],
            Some("long-enough-pw"),
            "already exists",
        ),
        (
            &["customer", "add", "BAD CODE", "--name", "x"],
            None,
            "CODE",
        ),
        (
            &["customer", "add", "OK1", "--name", "x", "--sla", "platinum"],
            None,
            "--sla",
        ),
    ];
    for (args, stdin, needle) in cases {
        let out = app.cli(args, *stdin);
        assert!(!out.status.success(), "{args:?} should fail");
        let err = text(&out.stderr);
        assert!(
            err.contains(needle),
            "{args:?}: expected {needle:?} in {err:?}"
        );
    }
}

#[tokio::test]
async fn an_agent_is_staff_but_not_admin() {
    let app = TestApp::spawn().await;
    app.add_user("erin", "agent", "erin-password-1");
    app.login("erin", "erin-password-1").await;
    assert_eq!(app.get("/").await.status(), StatusCode::OK);
    let r = app.get("/admin/jobs").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("for administrators"));
}

#[tokio::test]
async fn the_admin_sees_every_user_in_the_users_page() {
    let app = TestApp::spawn().await;
    app.add_user("frank", "agent", "frank-password-1");
    app.login_admin().await;
    let (status, body) = app.get_text("/admin/users").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("frank") && body.contains("frank@example.net") && body.contains("admin"));
}

//! RADIUS sign-in against a real FreeRADIUS (scripts/radius-server, started by scripts/test):
//! OPSDESK_TEST_RADIUS and OPSDESK_TEST_RADIUS_2 = host:port of two instances with the secret
//! testing123 and the users sub1, sub2 (UTF-8 password), sub3 (blanks and quotes) and noclass.

use std::time::{Duration, Instant};

use opsdesk::auth::Role;
use opsdesk::auth::directory::DirectoryError;
use opsdesk::auth::radius::Radius;
use opsdesk::config::RawRadius;

const SUB2_PW: &str = "pässwörd-ü€";
const SUB3_PW: &str = "p@ss w(o)rd*\"'";

fn env(name: &str) -> String {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} is set by scripts/test (scripts/radius-server)"))
}

fn config(servers: Vec<String>, method: &str) -> RawRadius {
    RawRadius {
        servers,
        secret: "testing123".into(),
        method: method.into(),
        timeout: "2s".into(),
        retries: 1,
        customer_attribute: None,
    }
}

fn client(method: &str) -> Radius {
    Radius::new(&config(vec![env("OPSDESK_TEST_RADIUS")], method)).unwrap()
}

/// A loopback UDP port nobody listens on: bound, then let go.
fn dead_server() -> String {
    let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    s.local_addr().unwrap().to_string()
}

#[tokio::test]
async fn pap_sign_in_answers_the_subscriber_with_the_customer_from_class() {
    let user = client("pap").authenticate("sub1", "sub1-pw").await.unwrap();
    assert_eq!(user.username, "sub1");
    assert_eq!(user.role, Role::Customer);
    assert_eq!(user.customer.as_deref(), Some("ACME"));
    assert_eq!((user.name, user.email), (None, None));
}

#[tokio::test]
async fn chap_sign_in_works_too() {
    let user = client("chap")
        .authenticate("sub1", "sub1-pw")
        .await
        .unwrap();
    assert_eq!(user.customer.as_deref(), Some("ACME"));
}

#[tokio::test]
async fn unicode_and_special_character_passwords_work_with_pap_and_chap() {
    for method in ["pap", "chap"] {
        let r = client(method);
        let sub2 = r.authenticate("sub2", SUB2_PW).await.unwrap();
        assert_eq!(sub2.customer.as_deref(), Some("GLOBEX"), "{method}");
        let sub3 = r.authenticate("sub3", SUB3_PW).await.unwrap();
        assert_eq!(sub3.customer.as_deref(), Some("ACME"), "{method}");
    }
}

#[tokio::test]
async fn a_wrong_password_or_an_unknown_user_is_rejected() {
    for method in ["pap", "chap"] {
        let r = client(method);
        for (user, pw) in [
            ("sub1", "sub1-pwx"),
            ("sub2", "passwörd-ü€"),
            ("sub3", "p@ss w(o)rd*\""),
            ("nobody", "sub1-pw"),
        ] {
            let e = r.authenticate(user, pw).await.unwrap_err();
            assert!(
                matches!(e, DirectoryError::Rejected),
                "{method} {user}: {e:?}"
            );
        }
    }
}

#[tokio::test]
async fn a_user_without_class_signs_in_without_a_customer() {
    let user = client("pap")
        .authenticate("noclass", "noclass-pw")
        .await
        .unwrap();
    assert_eq!(user.customer, None);
    assert_eq!(user.role, Role::Customer);
}

#[tokio::test]
async fn a_wrong_shared_secret_is_unavailable_never_a_reject() {
    // FreeRADIUS drops a request whose Message-Authenticator fails its check, and a reply it
    // did send would fail our Response Authenticator check: either way, no verdict.
    let mut cfg = config(vec![env("OPSDESK_TEST_RADIUS")], "pap");
    cfg.secret = "testing124".into();
    cfg.timeout = "300ms".into();
    let r = Radius::new(&cfg).unwrap();
    for (user, pw) in [("sub1", "sub1-pw"), ("sub1", "wrong")] {
        let e = r.authenticate(user, pw).await.unwrap_err();
        assert!(matches!(e, DirectoryError::Unavailable(_)), "{pw}: {e:?}");
    }
}

#[tokio::test]
async fn a_dead_first_server_fails_over_to_the_live_second() {
    let mut cfg = config(vec![dead_server(), env("OPSDESK_TEST_RADIUS_2")], "pap");
    cfg.timeout = "500ms".into();
    let r = Radius::new(&cfg).unwrap();
    let user = r.authenticate("sub1", "sub1-pw").await.unwrap();
    assert_eq!(user.customer.as_deref(), Some("ACME"));
    // A reject from the live server is final, not a reason to fail over further.
    let mut cfg = config(
        vec![
            dead_server(),
            env("OPSDESK_TEST_RADIUS_2"),
            env("OPSDESK_TEST_RADIUS"),
        ],
        "chap",
    );
    cfg.timeout = "500ms".into();
    let e = Radius::new(&cfg)
        .unwrap()
        .authenticate("sub1", "nope")
        .await;
    assert!(matches!(e, Err(DirectoryError::Rejected)), "{e:?}");
}

#[tokio::test]
async fn when_every_server_is_dead_sign_in_is_unavailable_quickly() {
    let mut cfg = config(vec![dead_server(), dead_server()], "pap");
    cfg.timeout = "200ms".into();
    cfg.retries = 1;
    let r = Radius::new(&cfg).unwrap();
    let t0 = Instant::now();
    let e = r.authenticate("sub1", "sub1-pw").await.unwrap_err();
    match e {
        DirectoryError::Unavailable(m) => assert_eq!(m, "no RADIUS server answered"),
        other => panic!("expected Unavailable, got {other:?}"),
    }
    // At most 2 servers x 2 tries x 200 ms; a closed loopback port answers ICMP at once.
    assert!(
        t0.elapsed() < Duration::from_millis(1000),
        "{:?}",
        t0.elapsed()
    );
}

#[tokio::test]
async fn many_sign_ins_at_once_each_get_their_own_answer() {
    let r = std::sync::Arc::new(client("pap"));
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let r = r.clone();
            tokio::spawn(async move {
                let (user, pw) = match i % 4 {
                    0 => ("sub1", "sub1-pw"),
                    1 => ("sub2", SUB2_PW),
                    2 => ("noclass", "noclass-pw"),
                    _ => ("sub1", "wrong"),
                };
                (i, r.authenticate(user, pw).await)
            })
        })
        .collect();
    for t in tasks {
        let (i, got) = t.await.unwrap();
        let customer = got.as_ref().ok().map(|u| u.customer.clone());
        match i % 4 {
            0 => assert_eq!(customer, Some(Some("ACME".into())), "{got:?}"),
            1 => assert_eq!(customer, Some(Some("GLOBEX".into())), "{got:?}"),
            2 => assert_eq!(customer, Some(None), "{got:?}"),
            _ => assert!(matches!(got, Err(DirectoryError::Rejected)), "{got:?}"),
        }
    }
}

//! LDAP sign-in (issue 6) against a real slapd started by scripts/test (scripts/ldap-server):
//! OPSDESK_TEST_LDAP / OPSDESK_TEST_LDAPS = host:port, OPSDESK_TEST_LDAP_CA = the CA its
//! certificate chains to. The directory's users, passwords and groups are listed at the top of
//! scripts/ldap-server; it is read-only here, so the tests share it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use opsdesk::auth::Role;
use opsdesk::auth::directory::{DirectoryError, DirectoryUser};
use opsdesk::auth::ldap::{Ldap, MAX_IDLE, filter};
use opsdesk::config::RawLdap;
use tokio::net::{TcpListener, TcpStream};

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is set by scripts/test (slapd)"))
}

/// A CA that signed nothing: trusting only it (and the public roots) must fail the handshake.
const OTHER_CA: &str = "-----BEGIN CERTIFICATE-----
MIIByTCCAW+gAwIBAgIURaxUiGXyEZHa8fmGikgZrA3R1rIwCgYIKoZIzj0EAwIw
MTEvMC0GA1UEAwwmT3BzZGVzayB0ZXN0OiBhIENBIHRoYXQgc2lnbmVkIG5vdGhp
bmcwIBcNMjYxMTIzMjMwNjUwWhgPMjEyNjEwMzAyMzA2NTBaMDExLzAtBgNVBAMM
Jk9wc2Rlc2sgdGVzdDogYSBDQSB0aGF0IHNpZ25lZCBub3RoaW5nMFkwEwYHKoZI
zj0CAQYIKoZIzj0DAQcDQgAEkJK5tAKBy++4Y1/eNfwV3+Ntwb9i4mYIYbYvbYem
f9EPzBZEQcoB8nK1T8m4JU22veaiI6BnVsVL1Y4mYm+2T6NjMGEwHQYDVR0OBBYE
FCoiYGul87RJbGjrD1vMA1nCPY8pMB8GA1UdIwQYMBaAFCoiYGul87RJbGjrD1vM
A1nCPY8pMA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQDAgIEMAoGCCqGSM49
BAMCA0gAMEUCICjB76DUdWFoFSamduTNfuztQ4OuYmvnnScjZniDTWOeAiEApSwu
PyFnfYYWPRFHHMkV0FBswUtYFophF6tYtP/7MP4=
-----END CERTIFICATE-----
";

const UNICODE_PW: &str = "pässwörd-ü€";
const SPECIAL_PW: &str = "p@ss w(o)rd*\\\"'";

/// The contract's `[ldap]` example, pointed at the test slapd (plain LDAP).
fn cfg() -> RawLdap {
    let mut c: RawLdap = toml::from_str(
        r#"
url           = "ldap://unset"
bind_dn       = "cn=admin,dc=example,dc=net"
bind_password = "adminpw"
user_base     = "ou=people,dc=example,dc=net"
user_filter   = "(uid={username})"
roles = { "cn=admins,ou=groups,dc=example,dc=net" = "admin", "cn=noc,ou=groups,dc=example,dc=net" = "agent", "cn=support,ou=groups,dc=example,dc=net" = "agent" }
default_role  = "customer"
customer_attribute = "employeeNumber"
"#,
    )
    .unwrap();
    c.url = format!("ldap://{}", env("OPSDESK_TEST_LDAP"));
    c
}

fn ldap(c: &RawLdap) -> Ldap {
    Ldap::new(c).unwrap()
}

async fn ok(l: &Ldap, user: &str, pw: &str) -> DirectoryUser {
    l.authenticate(user, pw)
        .await
        .unwrap_or_else(|e| panic!("{user} should sign in: {e}"))
}

async fn err(l: &Ldap, user: &str, pw: &str) -> DirectoryError {
    match l.authenticate(user, pw).await {
        Ok(u) => panic!("{user} should not sign in, got {u:?}"),
        Err(e) => e,
    }
}

fn customer(role: Role, code: &str) -> (Role, Option<String>) {
    assert_eq!(role, Role::Customer);
    (role, Some(code.to_owned()))
}

/// A loopback port where nothing listens.
async fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    l.local_addr().unwrap().port()
}

#[tokio::test]
async fn each_user_gets_role_customer_name_and_mail_from_the_directory() {
    let l = ldap(&cfg());
    let ada = ok(&l, "ada", "ada-pw").await;
    assert_eq!(
        ada,
        DirectoryUser {
            username: "ada".into(),
            name: Some("Ada Lovelace".into()),
            email: Some("ada@example.net".into()),
            role: Role::Admin,
            customer: None,
        }
    );
    // noc lists its members as uniqueMember, which the memberof overlay does not cover: the
    // group search finds it.
    let noc1 = ok(&l, "noc1", "noc1-pw").await;
    assert_eq!((noc1.role, noc1.customer), (Role::Agent, None));
    assert_eq!(noc1.name.as_deref(), Some("Nora Oakes"));
    let sup1 = ok(&l, "sup1", "sup1-pw").await;
    assert_eq!((sup1.role, sup1.customer), (Role::Agent, None));

    let cust1 = ok(&l, "cust1", UNICODE_PW).await;
    assert_eq!(
        (cust1.role, cust1.customer),
        customer(Role::Customer, "ACME")
    );
    assert_eq!(cust1.name.as_deref(), Some("Zoë Müller"));
    assert_eq!(cust1.email.as_deref(), Some("cust1@acme.example"));
    let cust2 = ok(&l, "cust2", SPECIAL_PW).await;
    assert_eq!(
        (cust2.role, cust2.customer),
        customer(Role::Customer, "GLOBEX")
    );
    let obrien = ok(&l, "o'brien", "obrien-pw").await;
    assert_eq!(
        (obrien.role, obrien.customer),
        customer(Role::Customer, "INITECH")
    );
    assert_eq!(obrien.username, "o'brien");
}

#[tokio::test]
async fn names_with_filter_and_dn_specials_sign_in_as_themselves() {
    let l = ldap(&cfg());
    // `*`, `(` and `)` only match the literal name because they are escaped.
    let star = ok(&l, "star*(x)", "star-pw").await;
    assert_eq!(star.customer.as_deref(), Some("STARX"));
    let lee = ok(&l, "lee, jr", "lee-pw").await;
    assert_eq!(lee.customer.as_deref(), Some("HOOLI"));
    // The directory's spelling of the name wins over the one typed.
    assert_eq!(ok(&l, "ADA", "ada-pw").await.username, "ada");
    assert_eq!(ok(&l, " Ada ", "ada-pw").await.username, "ada");
}

#[tokio::test]
async fn wrong_passwords_and_unknown_users_are_rejected_alike() {
    let l = ldap(&cfg());
    for (user, pw) in [
        ("ada", "wrong"),
        ("ada", "ADA-PW"),
        ("ada", "noc1-pw"),
        ("cust1", "passwort-u"),
        ("cust1", "pässwörd-ü"),
        ("cust2", "p@ss w(o)rd*"),
        ("nobody", "ada-pw"),
        ("", "ada-pw"),
    ] {
        assert!(
            matches!(err(&l, user, pw).await, DirectoryError::Rejected),
            "{user}/{pw}"
        );
    }
}

#[tokio::test]
async fn injection_usernames_match_nobody() {
    let l = ldap(&cfg());
    // Unescaped, the first would search (uid=*)(uid=*) and the others would match every user
    // (more than one entry: Refused) or ada; escaped, they are names nobody has.
    for user in [
        "*)(uid=*",
        "admin)(|(uid=*",
        "*",
        "ad*",
        "ada)(uid=*",
        "a\\2a",
        "ada\0",
    ] {
        let e = err(&l, user, "ada-pw").await;
        assert!(matches!(e, DirectoryError::Rejected), "{user:?}: {e}");
    }
    assert_eq!(
        filter::user_filter("(uid={username})", "*)(uid=*"),
        "(uid=\\2a\\29\\28uid=\\2a)"
    );
    assert_eq!(
        filter::user_filter("(uid={username})", "admin)(|(uid=*"),
        "(uid=admin\\29\\28|\\28uid=\\2a)"
    );
    // The same search with the service account's own eyes: a wildcard really would match.
    let mut wide = cfg();
    wide.user_filter = "(|(uid={username})(uid=*))".into();
    assert!(matches!(
        err(&ldap(&wide), "ada", "ada-pw").await,
        DirectoryError::Refused(m) if m.contains("more than one entry")
    ));
}

#[tokio::test]
async fn an_empty_password_is_rejected_without_asking_the_server() {
    let mut c = cfg();
    c.url = format!("ldap://127.0.0.1:{}", closed_port().await);
    let l = ldap(&c);
    assert!(matches!(err(&l, "ada", "").await, DirectoryError::Rejected));
    // The same server for a real password is an outage, not a verdict.
    assert!(matches!(
        err(&l, "ada", "ada-pw").await,
        DirectoryError::Unavailable(_)
    ));
}

#[tokio::test]
async fn a_server_that_is_down_or_mute_makes_the_source_unavailable() {
    let mut c = cfg();
    c.url = format!("ldap://127.0.0.1:{}", closed_port().await);
    match err(&ldap(&c), "ada", "ada-pw").await {
        DirectoryError::Unavailable(m) => assert!(m.contains("cannot connect"), "{m}"),
        e => panic!("{e}"),
    }
    // Accepts connections, never answers: each step ends at `timeout`.
    let mute = TcpListener::bind("127.0.0.1:0").await.unwrap();
    c.url = format!("ldap://{}", mute.local_addr().unwrap());
    c.timeout = "1s".into();
    let held = tokio::spawn(async move {
        let mut conns = Vec::new();
        while let Ok((s, _)) = mute.accept().await {
            conns.push(s);
        }
    });
    let started = Instant::now();
    match err(&ldap(&c), "ada", "ada-pw").await {
        DirectoryError::Unavailable(m) => assert!(m.contains("timed out"), "{m}"),
        e => panic!("{e}"),
    }
    assert!(started.elapsed() < Duration::from_secs(10));
    held.abort();
}

#[tokio::test]
async fn a_service_account_that_cannot_bind_is_an_outage() {
    let mut c = cfg();
    c.bind_password = Some("not-adminpw".into());
    match err(&ldap(&c), "ada", "ada-pw").await {
        DirectoryError::Unavailable(m) => assert!(m.contains("service account"), "{m}"),
        e => panic!("{e}"),
    }
}

fn tls_cfg(url: String, starttls: bool, ca_file: Option<String>) -> RawLdap {
    let mut c = cfg();
    c.url = url;
    c.starttls = starttls;
    c.ca_file = ca_file;
    c
}

#[tokio::test]
async fn ldaps_and_starttls_work_with_the_directory_ca() {
    let ca = Some(env("OPSDESK_TEST_LDAP_CA"));
    let ldaps = format!("ldaps://{}", env("OPSDESK_TEST_LDAPS"));
    let plain = format!("ldap://{}", env("OPSDESK_TEST_LDAP"));
    for c in [tls_cfg(ldaps, false, ca.clone()), tls_cfg(plain, true, ca)] {
        let l = ldap(&c);
        assert_eq!(ok(&l, "ada", "ada-pw").await.role, Role::Admin, "{}", c.url);
        assert_eq!(
            ok(&l, "cust1", UNICODE_PW).await.customer.as_deref(),
            Some("ACME")
        );
        assert!(matches!(
            err(&l, "ada", "wrong").await,
            DirectoryError::Rejected
        ));
    }
}

#[tokio::test]
async fn a_certificate_from_another_ca_makes_the_source_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("other.pem");
    std::fs::write(&other, OTHER_CA).unwrap();
    let other = Some(other.display().to_string());
    let ldaps = format!("ldaps://{}", env("OPSDESK_TEST_LDAPS"));
    let plain = format!("ldap://{}", env("OPSDESK_TEST_LDAP"));
    for c in [
        tls_cfg(ldaps.clone(), false, other.clone()),
        tls_cfg(plain, true, other),
        tls_cfg(ldaps, false, None),
    ] {
        match err(&ldap(&c), "ada", "ada-pw").await {
            DirectoryError::Unavailable(m) => {
                assert!(m.to_lowercase().contains("certificate"), "{}: {m}", c.url)
            }
            e => panic!("{}: {e}", c.url),
        }
    }
}

#[tokio::test]
async fn a_missing_or_empty_ca_file_stops_startup() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "not a certificate\n").unwrap();
    let ldaps = format!("ldaps://{}", env("OPSDESK_TEST_LDAPS"));
    for file in [dir.path().join("missing.pem"), empty] {
        let c = tls_cfg(ldaps.clone(), false, Some(file.display().to_string()));
        let e = Ldap::new(&c).unwrap_err();
        assert!(e.starts_with("ldap.ca_file"), "{e}");
    }
}

#[tokio::test]
async fn without_a_service_account_users_bind_directly() {
    let mut c = cfg();
    c.bind_dn = None;
    c.bind_password = None;
    let l = ldap(&c);
    let ada = ok(&l, "ada", "ada-pw").await;
    assert_eq!(
        (ada.role, ada.email.as_deref()),
        (Role::Admin, Some("ada@example.net"))
    );
    assert_eq!(ok(&l, "noc1", "noc1-pw").await.role, Role::Agent);
    // uid=lee\, jr,ou=people,…: the comma is escaped into the DN.
    assert_eq!(
        ok(&l, "lee, jr", "lee-pw").await.customer.as_deref(),
        Some("HOOLI")
    );
    assert_eq!(
        ok(&l, "cust2", SPECIAL_PW).await.customer.as_deref(),
        Some("GLOBEX")
    );
    for (user, pw) in [
        ("ada", "wrong"),
        ("nobody", "x"),
        ("ada,ou=people", "ada-pw"),
    ] {
        assert!(
            matches!(err(&l, user, pw).await, DirectoryError::Rejected),
            "{user}"
        );
    }
    assert_eq!(l.idle_connections(), 0);
}

#[tokio::test]
async fn users_in_no_mapped_group_get_the_default_role_or_are_refused() {
    let l = ldap(&cfg());
    // default_role customer, but `gone` has no employeeNumber.
    match err(&l, "gone", "gone-pw").await {
        DirectoryError::Refused(m) => assert_eq!(m, "no customer code in employeeNumber"),
        e => panic!("{e}"),
    }
    let mut c = cfg();
    c.default_role = "none".into();
    let l = ldap(&c);
    for (user, pw) in [("gone", "gone-pw"), ("cust1", UNICODE_PW)] {
        match err(&l, user, pw).await {
            DirectoryError::Refused(m) => assert_eq!(m, "in no group that grants access"),
            e => panic!("{user}: {e}"),
        }
    }
    // A wrong password stays a wrong password.
    assert!(matches!(
        err(&l, "gone", "x").await,
        DirectoryError::Rejected
    ));
    assert_eq!(ok(&l, "ada", "ada-pw").await.role, Role::Admin);
    assert_eq!(ok(&l, "noc1", "noc1-pw").await.role, Role::Agent);
}

#[tokio::test]
async fn service_connections_are_reused_and_capped() {
    let l = ldap(&cfg());
    for i in 0..60 {
        let u = ok(
            &l,
            if i % 2 == 0 { "ada" } else { "noc1" },
            if i % 2 == 0 { "ada-pw" } else { "noc1-pw" },
        )
        .await;
        assert!(u.role.is_staff());
        assert!(matches!(
            err(&l, "ada", "wrong").await,
            DirectoryError::Rejected
        ));
    }
    // Sequential sign-ins need one connection.
    assert_eq!(l.idle_connections(), 1);
    let all = (0..16).map(|_| {
        let l = l.clone();
        tokio::spawn(async move { l.authenticate("sup1", "sup1-pw").await })
    });
    for t in all {
        assert_eq!(t.await.unwrap().unwrap().role, Role::Agent);
    }
    assert!(
        (1..=MAX_IDLE).contains(&l.idle_connections()),
        "{}",
        l.idle_connections()
    );
}

/// A TCP relay to slapd whose connections the test can cut, as a server or firewall would.
struct Relay {
    addr: String,
    conns: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Relay {
    async fn start(upstream: String) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let conns = Arc::new(Mutex::new(Vec::new()));
        let held = conns.clone();
        tokio::spawn(async move {
            while let Ok((mut down, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let task = tokio::spawn(async move {
                    let mut up = TcpStream::connect(upstream).await.unwrap();
                    let _ = tokio::io::copy_bidirectional(&mut down, &mut up).await;
                });
                held.lock().unwrap().push(task.abort_handle());
            }
        });
        Relay { addr, conns }
    }

    fn cut(&self) {
        for c in self.conns.lock().unwrap().drain(..) {
            c.abort();
        }
    }
}

#[tokio::test]
async fn a_pooled_connection_the_server_closed_is_replaced() {
    let relay = Relay::start(env("OPSDESK_TEST_LDAP")).await;
    let mut c = cfg();
    c.url = format!("ldap://{}", relay.addr);
    let l = ldap(&c);
    assert_eq!(ok(&l, "ada", "ada-pw").await.role, Role::Admin);
    assert_eq!(l.idle_connections(), 1);
    for _ in 0..3 {
        relay.cut();
        // Whether the closed connection is noticed while idle or on use, the sign-in works.
        assert_eq!(ok(&l, "ada", "ada-pw").await.role, Role::Admin);
        assert_eq!(l.idle_connections(), 1);
    }
}

#[test]
fn the_ldap_section_is_checked_key_by_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("opsdesk.toml");
    std::fs::write(
        &file,
        r#"
[ldap]
url = "ldaps://127.0.0.1:636"
starttls = true
ca_file = "/nonexistent/ca.pem"
bind_dn = "cn=admin,dc=example,dc=net"
bind_password = ""
user_base = " "
user_filter = "(uid=*)"
default_role = "boss"
name_attribute = "display name"
email_attribute = "1.2..3"
customer_attribute = "employee_number"
timeout = "5 parsecs"
"#,
    )
    .unwrap();
    let problems = opsdesk::config::load(Some(&file)).unwrap_err();
    let text = problems
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join("\n");
    for key in [
        "ldap.starttls:",
        "ldap.ca_file:",
        "ldap.bind_password:",
        "ldap.user_base:",
        "ldap.user_filter:",
        "ldap.default_role:",
        "ldap.name_attribute:",
        "ldap.email_attribute:",
        "ldap.customer_attribute:",
        "ldap.timeout:",
    ] {
        assert!(text.contains(key), "missing {key:?} in:\n{text}");
    }
    std::fs::write(
        &file,
        "[ldap]\nurl = \"ldap://127.0.0.1:389\"\nuser_base = \"ou=people,dc=example,dc=net\"\ndefault_role = \"none\"\n",
    )
    .unwrap();
    let cfg = opsdesk::config::load(Some(&file)).unwrap().config;
    let l = cfg.ldap.unwrap();
    assert_eq!(
        (
            l.name_attribute.as_str(),
            l.email_attribute.as_str(),
            l.timeout.as_str()
        ),
        ("cn", "mail", "5s")
    );
    Ldap::new(&l).unwrap();
}

//! The client against a scripted server on a loopback UDP socket: what it sends, which replies
//! it takes and which it drops, and how it retransmits and fails over. The real FreeRADIUS is
//! tests/integration/radius.rs.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::UdpSocket;

use super::auth::{message_authenticator, response_authenticator};
use super::packet::*;
use super::*;
use crate::config::RawRadius;

const SECRET: &str = "testing123";

fn config(servers: Vec<String>, method: &str) -> RawRadius {
    RawRadius {
        servers,
        secret: SECRET.into(),
        method: method.into(),
        timeout: "150ms".into(),
        retries: 1,
        customer_attribute: None,
    }
}

/// An answer to `request` with `code` and `attrs`, signed with `secret` (Message-Authenticator
/// first, then the Response Authenticator), as a server builds it.
fn reply(request: &[u8], code: u8, attrs: &[(u8, &[u8])], secret: &[u8]) -> Vec<u8> {
    let req = Packet::decode(request).unwrap();
    let request_auth: [u8; 16] = req.authenticator().try_into().unwrap();
    let mut b = Builder::new(code, req.id, &request_auth);
    let at = b.push(MESSAGE_AUTHENTICATOR, &[0; 16]).unwrap();
    for (k, v) in attrs {
        b.push(*k, v).unwrap();
    }
    let mut bytes = b.finish().unwrap();
    let ma = message_authenticator(&bytes, secret);
    bytes[at..at + 16].copy_from_slice(&ma);
    let ra = response_authenticator(&bytes, &request_auth, secret);
    bytes[4..20].copy_from_slice(&ra);
    bytes
}

type Script = Box<dyn Fn(&[u8], usize) -> Vec<Vec<u8>> + Send>;

/// A server that answers the n-th datagram it receives (from 0) with what `script` says, and
/// keeps every datagram for the test to look at.
async fn fake(script: Script) -> (String, Arc<Mutex<Vec<Vec<u8>>>>) {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap().to_string();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        let mut buf = [0u8; 4096];
        while let Ok((n, from)) = socket.recv_from(&mut buf).await {
            let count = {
                let mut l = log.lock().unwrap();
                l.push(buf[..n].to_vec());
                l.len() - 1
            };
            for answer in script(&buf[..n], count) {
                socket.send_to(&answer, from).await.unwrap();
            }
        }
    });
    (addr, seen)
}

fn accept_acme() -> Script {
    Box::new(|req, _| {
        vec![reply(
            req,
            ACCESS_ACCEPT,
            &[(25, b"customer:ACME")],
            SECRET.as_bytes(),
        )]
    })
}

#[tokio::test]
async fn a_pap_request_is_signed_and_hides_the_password() {
    let (addr, seen) = fake(accept_acme()).await;
    let r = Radius::new(&config(vec![addr], "pap")).unwrap();
    let user = r.authenticate("sub1", "sub1-pw").await.unwrap();
    assert_eq!(user.customer.as_deref(), Some("ACME"));
    assert_eq!(user.role, Role::Customer);
    let sent = seen.lock().unwrap()[0].clone();
    let p = Packet::decode(&sent).unwrap();
    assert_eq!(p.code, ACCESS_REQUEST);
    assert_eq!(p.attributes[0].0, MESSAGE_AUTHENTICATOR, "signed first");
    assert_eq!(p.values(USER_NAME).next().unwrap(), b"sub1");
    assert_eq!(p.values(NAS_IDENTIFIER).next().unwrap(), b"opsdesk");
    assert_eq!(p.values(NAS_IP_ADDRESS).next().unwrap(), [127, 0, 0, 1]);
    let hidden = p.values(USER_PASSWORD).next().unwrap();
    let auth: [u8; 16] = p.authenticator().try_into().unwrap();
    let expect = auth::hide_password(b"sub1-pw", SECRET.as_bytes(), &auth).unwrap();
    assert_eq!(hidden, &expect[..]);
    let ma = p.attributes[0].1.clone();
    let mut zeroed = sent.clone();
    zeroed[ma.clone()].fill(0);
    assert_eq!(
        &sent[ma],
        &message_authenticator(&zeroed, SECRET.as_bytes())
    );
}

#[tokio::test]
async fn a_chap_request_carries_challenge_and_response() {
    let (addr, seen) = fake(accept_acme()).await;
    let r = Radius::new(&config(vec![addr], "chap")).unwrap();
    r.authenticate("sub2", "pässwörd-ü€").await.unwrap();
    let sent = seen.lock().unwrap()[0].clone();
    let p = Packet::decode(&sent).unwrap();
    assert!(p.values(USER_PASSWORD).next().is_none());
    let chap = p.values(CHAP_PASSWORD).next().unwrap();
    let challenge = p.values(CHAP_CHALLENGE).next().unwrap();
    assert_eq!((chap.len(), challenge.len()), (17, 16));
    let want = auth::chap_response(chap[0], "pässwörd-ü€".as_bytes(), challenge);
    assert_eq!(&chap[1..], &want);
}

#[tokio::test]
async fn forged_and_stray_replies_are_dropped_and_the_real_one_is_taken() {
    let (addr, seen) = fake(Box::new(|req, _| {
        let mut wrong_id = reply(req, ACCESS_ACCEPT, &[], SECRET.as_bytes());
        wrong_id[1] = wrong_id[1].wrapping_add(1);
        vec![
            b"garbage".to_vec(),
            reply(
                req,
                ACCESS_ACCEPT,
                &[(25, b"customer:EVIL")],
                b"not-the-secret",
            ),
            wrong_id,
            reply(req, ACCESS_REJECT, &[], SECRET.as_bytes()),
        ]
    }))
    .await;
    let r = Radius::new(&config(vec![addr], "pap")).unwrap();
    let e = r.authenticate("sub1", "wrong").await.unwrap_err();
    assert!(matches!(e, DirectoryError::Rejected), "{e:?}");
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn only_untrusted_replies_read_as_unavailable_after_every_try() {
    let (addr, seen) = fake(Box::new(|req, _| {
        vec![reply(req, ACCESS_REJECT, &[], b"other-secret")]
    }))
    .await;
    let r = Radius::new(&config(vec![addr], "pap")).unwrap();
    let t0 = std::time::Instant::now();
    let e = r.authenticate("sub1", "sub1-pw").await.unwrap_err();
    assert!(matches!(e, DirectoryError::Unavailable(_)), "{e:?}");
    assert!(
        t0.elapsed() >= Duration::from_millis(290),
        "waited out both tries"
    );
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2, "one retransmission");
    assert_eq!(seen[0], seen[1], "a retransmission is the same packet");
}

#[tokio::test]
async fn a_lost_request_is_retransmitted_then_the_next_server_is_asked() {
    // The first server hears but never answers; the second answers only its second datagram.
    let (mute, mute_seen) = fake(Box::new(|_, _| vec![])).await;
    let (late, late_seen) = fake(Box::new(|req, n| {
        if n == 0 {
            vec![]
        } else {
            vec![reply(
                req,
                ACCESS_ACCEPT,
                &[(25, b"other:1"), (25, b"customer:X")],
                SECRET.as_bytes(),
            )]
        }
    }))
    .await;
    let r = Radius::new(&config(vec![mute, late], "pap")).unwrap();
    let user = r.authenticate("sub1", "sub1-pw").await.unwrap();
    assert_eq!(user.customer.as_deref(), Some("X"));
    assert_eq!(mute_seen.lock().unwrap().len(), 2);
    assert_eq!(late_seen.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn a_challenge_is_refused_and_empty_or_oversized_input_is_never_sent() {
    let (addr, seen) = fake(Box::new(|req, _| {
        vec![reply(
            req,
            ACCESS_CHALLENGE,
            &[(18, b"enter your token")],
            SECRET.as_bytes(),
        )]
    }))
    .await;
    let r = Radius::new(&config(vec![addr], "pap")).unwrap();
    let e = r.authenticate("sub1", "sub1-pw").await.unwrap_err();
    assert!(
        matches!(&e, DirectoryError::Refused(m) if m.contains("challenge")),
        "{e:?}"
    );
    for (u, p) in [
        ("sub1", ""),
        ("", "pw"),
        ("sub1", &"x".repeat(129)),
        (&"u".repeat(254), "pw"),
    ] {
        let e = r.authenticate(u, p).await.unwrap_err();
        assert!(matches!(e, DirectoryError::Rejected), "{e:?}");
    }
    assert_eq!(
        seen.lock().unwrap().len(),
        1,
        "only the challenged request was sent"
    );
    // 128 bytes of UTF-8 is the most PAP carries.
    let long = "é".repeat(64);
    assert!(matches!(
        r.authenticate("sub1", &long).await,
        Err(DirectoryError::Refused(_))
    ));
}

#[test]
fn the_config_is_checked() {
    let ok = config(vec!["127.0.0.1:1812".into()], "pap");
    assert_eq!(Radius::from_config(&ok).unwrap().customer_attribute, 25);
    let with = |f: &dyn Fn(&mut RawRadius)| {
        let mut c = ok.clone();
        f(&mut c);
        Radius::from_config(&c)
    };
    assert_eq!(
        with(&|c| c.method = "mschap".into()).unwrap_err(),
        SetupError::Method("mschap".into())
    );
    assert_eq!(
        with(&|c| c.secret.clear()).unwrap_err(),
        SetupError::EmptySecret
    );
    assert_eq!(
        with(&|c| c.servers.clear()).unwrap_err(),
        SetupError::NoServers
    );
    for bad in ["soon", "0s", "0ms", "ms", "1.5s"] {
        let e = with(&|c| c.timeout = bad.into());
        assert!(matches!(e, Err(SetupError::Timeout(_))), "{bad}");
    }
    let timeout = |t: &str| with(&|c| c.timeout = t.into()).unwrap().timeout;
    assert_eq!(timeout("2s"), Duration::from_secs(2));
    assert_eq!(timeout("250ms"), Duration::from_millis(250));
    let attr = |name: &str| with(&|c| c.customer_attribute = Some(name.into()));
    assert_eq!(attr("Filter-Id").unwrap().customer_attribute, 11);
    assert_eq!(attr("26").unwrap().customer_attribute, 26);
    assert!(attr("Framed-Pool").is_err() && attr("0").is_err());
    assert!(!format!("{:?}", Radius::from_config(&ok).unwrap()).contains(SECRET));
}

#[test]
fn only_customer_prefixed_values_name_a_customer() {
    assert_eq!(customer_code(b"customer:ACME").as_deref(), Some("ACME"));
    assert_eq!(customer_code(b"customer:"), None);
    assert_eq!(customer_code(b"Customer:ACME"), None);
    assert_eq!(customer_code(b"group:noc"), None);
    assert_eq!(customer_code(&[0xff, 0xfe]), None);
}

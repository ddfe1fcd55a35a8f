//! Known-answer tests for the RADIUS cryptography: RFC 2865 §7.1's example exchange, and
//! vectors computed independently (Python's hashlib/hmac) for CHAP and a signed reply.

use super::*;
use crate::auth::radius::packet::{Builder, USER_PASSWORD};

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

fn arr16(s: &str) -> [u8; 16] {
    unhex(s).try_into().unwrap()
}

/// What the server does with User-Password: the inverse of `hide_password`.
fn reveal(hidden: &[u8], secret: &[u8], authenticator: &[u8; 16]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut prev = authenticator.to_vec();
    for block in hidden.chunks(16) {
        let key = md5(&[secret, &prev]);
        out.extend(block.iter().zip(key).map(|(b, k)| b ^ k));
        prev = block.to_vec();
    }
    while out.last() == Some(&0) {
        out.pop();
    }
    out
}

#[test]
fn the_rfc_2865_example_hides_arctangent_and_verifies_the_accept() {
    // RFC 2865 §7.1: User-Name nemo, password arctangent, secret xyzzy5461.
    let secret = b"xyzzy5461";
    let request_auth = arr16("0f403f9473978057bd83d5cb98f4227a");
    let hidden = hide_password(b"arctangent", secret, &request_auth).unwrap();
    assert_eq!(hidden, unhex("0dbe708d93d413ce3196e43f782a0aee"));
    let request = unhex(
        "010000380f403f9473978057bd83d5cb98f4227a01066e656d6f02120dbe708d93d413ce3196e43f782a0aee\
         0406c0a80110050600000003",
    );
    let p = Packet::decode(&request).unwrap();
    assert_eq!(p.values(USER_PASSWORD).next().unwrap(), &hidden[..]);

    let accept =
        unhex("0200002686fe220e7624ba2a1005f6bf9b55e0b20606000000010f06000000000e06c0a80103");
    assert_eq!(
        response_authenticator(&accept, &request_auth, secret),
        arr16("86fe220e7624ba2a1005f6bf9b55e0b2")
    );
    let p = check_reply(&accept, 0, &request_auth, secret).unwrap();
    assert_eq!(p.code, ACCESS_ACCEPT);
    assert_eq!(
        check_reply(&accept, 0, &request_auth, b"xyzzy5462").unwrap_err(),
        ReplyError::BadAuthenticator
    );
    assert_eq!(
        check_reply(&accept, 1, &request_auth, secret).unwrap_err(),
        ReplyError::WrongId {
            expected: 1,
            got: 0
        }
    );
}

#[test]
fn pap_hiding_round_trips_every_length_up_to_128() {
    let secret = b"testing123";
    let auth = [0x5a; 16];
    for len in 1..=MAX_PASSWORD_LEN {
        let pw: Vec<u8> = (0..len).map(|i| b'!' + (i % 90) as u8).collect();
        let hidden = hide_password(&pw, secret, &auth).unwrap();
        assert_eq!(hidden.len(), len.div_ceil(16) * 16, "length {len}");
        assert_ne!(&hidden[..len], &pw[..], "length {len} left in clear");
        assert_eq!(reveal(&hidden, secret, &auth), pw, "length {len}");
    }
    let unicode = "pässwörd-ü€".as_bytes();
    let hidden = hide_password(unicode, secret, &auth).unwrap();
    assert_eq!(reveal(&hidden, secret, &auth), unicode);
    assert_eq!(hide_password(b"", secret, &auth), None);
    assert_eq!(hide_password(&[b'x'; 129], secret, &auth), None);
}

#[test]
fn chap_answers_md5_of_ident_password_challenge() {
    let challenge: Vec<u8> = (0..16).collect();
    assert_eq!(
        chap_response(0x2a, "pässwörd-ü€".as_bytes(), &challenge),
        arr16("532308f83cccab7aed67264f38a405f8")
    );
}

/// An Access-Accept (id 42, Class customer:ACME) signed with testing123 for the request
/// authenticator 100..116, Message-Authenticator first.
const SIGNED_ACCEPT: &str = "022a00359ca18b563d939ac49df7a5c066141a96501262ab126508bc014132777bbe\
                             c82d7961190f637573746f6d65723a41434d45";

fn signed_accept() -> (Vec<u8>, [u8; 16]) {
    let auth: [u8; 16] = core::array::from_fn(|i| 100 + i as u8);
    (unhex(SIGNED_ACCEPT), auth)
}

#[test]
fn a_reply_message_authenticator_is_keyed_on_the_request_authenticator() {
    let (reply, auth) = signed_accept();
    let p = check_reply(&reply, 42, &auth, b"testing123").unwrap();
    assert_eq!(p.values(25).next().unwrap(), b"customer:ACME");

    // Flip one bit of the HMAC, then fix the Response Authenticator so only the HMAC is wrong.
    let mut forged = reply.clone();
    forged[30] ^= 1;
    let ra = response_authenticator(&forged, &auth, b"testing123");
    forged[4..20].copy_from_slice(&ra);
    assert_eq!(
        check_reply(&forged, 42, &auth, b"testing123").unwrap_err(),
        ReplyError::BadMessageAuthenticator
    );

    // Any change to the attributes breaks the Response Authenticator.
    let mut tampered = reply.clone();
    *tampered.last_mut().unwrap() = b'X';
    assert_eq!(
        check_reply(&tampered, 42, &auth, b"testing123").unwrap_err(),
        ReplyError::BadAuthenticator
    );
}

#[test]
fn requests_are_signed_over_the_whole_packet() {
    let auth = [7; 16];
    let mut b = Builder::new(1, 9, &auth);
    let at = b.push(MESSAGE_AUTHENTICATOR, &[0; 16]).unwrap();
    b.push(1, b"sub1").unwrap();
    let mut bytes = b.finish().unwrap();
    let zeroed = bytes.clone();
    sign_request(&mut bytes, at, b"testing123");
    assert_eq!(
        &bytes[at..at + 16],
        &message_authenticator(&zeroed, b"testing123")
    );
    assert_ne!(&bytes[at..at + 16], &[0; 16]);
}

#[test]
fn codes_other_than_accept_reject_challenge_are_no_answer() {
    let auth = [1; 16];
    let mut reply = Builder::new(4, 3, &[0; 16]).finish().unwrap();
    let ra = response_authenticator(&reply, &auth, b"s");
    reply[4..20].copy_from_slice(&ra);
    assert_eq!(
        check_reply(&reply, 3, &auth, b"s").unwrap_err(),
        ReplyError::UnexpectedCode(4)
    );
}

//! The cryptography RADIUS asks of a client: hiding a PAP password (RFC 2865 §5.2), answering
//! a CHAP challenge (RFC 1994 §4.1, RFC 2865 §5.3), signing requests and checking replies with
//! the Message-Authenticator (HMAC-MD5, RFC 3579 §3.2), and checking a reply's Response
//! Authenticator (RFC 2865 §3). The last two are what make a reply trustworthy: without them
//! anybody who can send us a datagram could forge an Access-Accept.

use hmac::{Hmac, KeyInit, Mac};
use md5::{Digest, Md5};
use subtle::ConstantTimeEq;

use super::packet::{
    ACCESS_ACCEPT, ACCESS_CHALLENGE, ACCESS_REJECT, HEADER_LEN, MESSAGE_AUTHENTICATOR, Packet,
    PacketError,
};

type HmacMd5 = Hmac<Md5>;

/// RFC 2865 §5.2: User-Password carries at most 128 octets.
pub const MAX_PASSWORD_LEN: usize = 128;

/// Why a datagram that reached our socket is not taken as the answer to our request. Each one
/// is logged and dropped; the client keeps waiting for a good reply until its timeout.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    #[error("malformed: {0}")]
    Malformed(#[from] PacketError),
    #[error("identifier {got} is not our request's {expected}")]
    WrongId { expected: u8, got: u8 },
    #[error("code {0} is no answer to an Access-Request")]
    UnexpectedCode(u8),
    #[error("the Response Authenticator does not match (wrong shared secret, or forged)")]
    BadAuthenticator,
    #[error("the Message-Authenticator does not match (wrong shared secret, or forged)")]
    BadMessageAuthenticator,
}

fn md5(parts: &[&[u8]]) -> [u8; 16] {
    let mut h = Md5::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// Hides a PAP password (RFC 2865 §5.2): zero-padded to a multiple of 16, then each 16-byte
/// block XORed with MD5(secret + previous block), the first with the Request Authenticator.
/// `None` for an empty password or one over 128 bytes, which RADIUS cannot carry.
pub fn hide_password(password: &[u8], secret: &[u8], authenticator: &[u8; 16]) -> Option<Vec<u8>> {
    if password.is_empty() || password.len() > MAX_PASSWORD_LEN {
        return None;
    }
    let mut out = password.to_vec();
    out.resize(password.len().div_ceil(16) * 16, 0);
    let mut prev: [u8; 16] = *authenticator;
    for block in out.chunks_mut(16) {
        let key = md5(&[secret, &prev]);
        for (b, k) in block.iter_mut().zip(key) {
            *b ^= k;
        }
        prev.copy_from_slice(block);
    }
    Some(out)
}

/// CHAP-Password's 16-byte response (RFC 1994 §4.1): MD5(identifier + password + challenge).
pub fn chap_response(ident: u8, password: &[u8], challenge: &[u8]) -> [u8; 16] {
    md5(&[&[ident], password, challenge])
}

/// HMAC-MD5 keyed with the secret over the whole packet, its Message-Authenticator value set
/// to 16 zero bytes (RFC 3579 §3.2).
pub fn message_authenticator(packet: &[u8], secret: &[u8]) -> [u8; 16] {
    mac(packet, secret).finalize().into_bytes().into()
}

fn mac(packet: &[u8], secret: &[u8]) -> HmacMd5 {
    // HMAC takes a key of any length; the error arm cannot happen but must not panic either.
    let mut m = match HmacMd5::new_from_slice(secret) {
        Ok(m) => m,
        Err(_) => HmacMd5::new(&Default::default()),
    };
    m.update(packet);
    m
}

/// Writes the Message-Authenticator into a finished request whose value (at `at`, zeroed so
/// far) covers the whole packet.
pub fn sign_request(packet: &mut [u8], at: usize, secret: &[u8]) {
    let value = message_authenticator(packet, secret);
    if let Some(slot) = packet.get_mut(at..at + 16) {
        slot.copy_from_slice(&value);
    }
}

/// What a reply's Response Authenticator must be: MD5(Code + Identifier + Length + Request
/// Authenticator + Attributes + Secret), RFC 2865 §3.
pub fn response_authenticator(reply: &[u8], request_auth: &[u8; 16], secret: &[u8]) -> [u8; 16] {
    let head = reply.get(..4).unwrap_or_default();
    let attrs = reply.get(HEADER_LEN..).unwrap_or_default();
    md5(&[head, request_auth, attrs, secret])
}

/// Takes a datagram as the answer to our request only when it decodes, carries our identifier
/// and an answer's code, and both its Response Authenticator and (if present) its
/// Message-Authenticator prove it was made with our secret for this very request.
pub fn check_reply<'a>(
    bytes: &'a [u8],
    request_id: u8,
    request_auth: &[u8; 16],
    secret: &[u8],
) -> Result<Packet<'a>, ReplyError> {
    let p = Packet::decode(bytes)?;
    if p.id != request_id {
        return Err(ReplyError::WrongId {
            expected: request_id,
            got: p.id,
        });
    }
    if ![ACCESS_ACCEPT, ACCESS_REJECT, ACCESS_CHALLENGE].contains(&p.code) {
        return Err(ReplyError::UnexpectedCode(p.code));
    }
    let expected = response_authenticator(p.raw, request_auth, secret);
    if !bool::from(expected.ct_eq(p.authenticator())) {
        return Err(ReplyError::BadAuthenticator);
    }
    // RFC 3579 §3.2: in a reply, the HMAC covers the packet with the Request Authenticator in
    // place of the Response Authenticator and the Message-Authenticator zeroed.
    let signed: Vec<_> = p
        .attributes
        .iter()
        .filter(|(k, _)| *k == MESSAGE_AUTHENTICATOR)
        .cloned()
        .collect();
    if !signed.is_empty() {
        let mut copy = p.raw.to_vec();
        copy[4..HEADER_LEN].copy_from_slice(request_auth);
        for (_, r) in &signed {
            copy[r.clone()].fill(0);
        }
        let m = mac(&copy, secret);
        let all_ok = signed
            .iter()
            .all(|(_, r)| r.len() == 16 && m.clone().verify_slice(&p.raw[r.clone()]).is_ok());
        if signed.len() > 1 || !all_ok {
            return Err(ReplyError::BadMessageAuthenticator);
        }
    }
    Ok(p)
}

#[cfg(test)]
#[path = "auth_tests.rs"]
mod tests;

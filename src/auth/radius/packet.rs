//! The RADIUS wire format (RFC 2865 §3, §5): a 20-byte header (code, identifier, length,
//! authenticator) and type-length-value attributes. Our own small codec rather than
//! radius-rust's: that one indexes past the end of a truncated attribute (a panic on a hostile
//! reply), drops a whole reply over an attribute missing from its dictionary, and checks a
//! reply's Message-Authenticator against the reply's own authenticator instead of the
//! request's (RFC 3579 §3.2). Decoding here bounds every index and keeps each attribute's
//! offset, which the authenticator checks need.

use std::ops::Range;

/// Packet codes (RFC 2865 §3).
pub const ACCESS_REQUEST: u8 = 1;
pub const ACCESS_ACCEPT: u8 = 2;
pub const ACCESS_REJECT: u8 = 3;
pub const ACCESS_CHALLENGE: u8 = 11;

/// Attribute types we send or read (RFC 2865 §5, RFC 3579 §3.2).
pub const USER_NAME: u8 = 1;
pub const USER_PASSWORD: u8 = 2;
pub const CHAP_PASSWORD: u8 = 3;
pub const NAS_IP_ADDRESS: u8 = 4;
pub const NAS_IDENTIFIER: u8 = 32;
pub const CHAP_CHALLENGE: u8 = 60;
pub const MESSAGE_AUTHENTICATOR: u8 = 80;

/// Header size; the authenticator sits at bytes 4..20.
pub const HEADER_LEN: usize = 20;
/// RFC 2865 §3: a longer packet is silently discarded, so we never send one.
pub const MAX_PACKET_LEN: usize = 4096;
/// An attribute's value is at most 253 bytes (its length octet counts the 2-byte header too).
pub const MAX_VALUE_LEN: usize = 253;

/// What is wrong with bytes that claim to be a RADIUS packet, or with one we would build.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PacketError {
    #[error("{0} bytes is shorter than a RADIUS header")]
    Short(usize),
    #[error("length field {declared} does not fit the {received} bytes received (20..=4096)")]
    BadLength { declared: usize, received: usize },
    #[error("attribute at offset {0} runs past the end of the packet or is shorter than 2")]
    BadAttribute(usize),
    #[error("attribute {0} would hold {1} bytes; at most 253 fit")]
    ValueTooLong(u8, usize),
    #[error("the packet would be {0} bytes; at most 4096 are allowed")]
    TooLong(usize),
}

/// A decoded packet, borrowing the bytes it came from.
#[derive(Debug)]
pub struct Packet<'a> {
    pub code: u8,
    pub id: u8,
    /// The packet itself, cut to its length field (RFC 2865 §3: octets beyond it are padding).
    pub raw: &'a [u8],
    /// (type, where the value sits in `raw`), in wire order.
    pub attributes: Vec<(u8, Range<usize>)>,
}

impl<'a> Packet<'a> {
    /// Reads one packet, checking every length against the bytes at hand.
    pub fn decode(bytes: &'a [u8]) -> Result<Packet<'a>, PacketError> {
        let Some(header) = bytes.get(..HEADER_LEN) else {
            return Err(PacketError::Short(bytes.len()));
        };
        let declared = usize::from(u16::from_be_bytes([header[2], header[3]]));
        if !(HEADER_LEN..=MAX_PACKET_LEN).contains(&declared) || declared > bytes.len() {
            return Err(PacketError::BadLength {
                declared,
                received: bytes.len(),
            });
        }
        let raw = &bytes[..declared];
        let mut attributes = Vec::new();
        let mut at = HEADER_LEN;
        while at < raw.len() {
            let (Some(&kind), Some(&len)) = (raw.get(at), raw.get(at + 1)) else {
                return Err(PacketError::BadAttribute(at));
            };
            let end = at + usize::from(len);
            if len < 2 || end > raw.len() {
                return Err(PacketError::BadAttribute(at));
            }
            attributes.push((kind, at + 2..end));
            at = end;
        }
        Ok(Packet {
            code: header[0],
            id: header[1],
            raw,
            attributes,
        })
    }

    /// The authenticator field (bytes 4..20).
    pub fn authenticator(&self) -> &'a [u8] {
        &self.raw[4..HEADER_LEN]
    }

    /// Every value of attribute `kind`, in wire order.
    pub fn values(&self, kind: u8) -> impl Iterator<Item = &'a [u8]> + '_ {
        let raw = self.raw;
        self.attributes
            .iter()
            .filter(move |(k, _)| *k == kind)
            .map(move |(_, r)| &raw[r.clone()])
    }
}

/// Builds a packet attribute by attribute; `finish` fills in the length field.
#[derive(Debug)]
pub struct Builder {
    buf: Vec<u8>,
}

impl Builder {
    pub fn new(code: u8, id: u8, authenticator: &[u8; 16]) -> Builder {
        let mut buf = Vec::with_capacity(128);
        buf.extend_from_slice(&[code, id, 0, 0]);
        buf.extend_from_slice(authenticator);
        Builder { buf }
    }

    /// Appends one attribute and answers where its value starts, so that a value computed
    /// over the finished packet (Message-Authenticator) can be written in afterwards.
    pub fn push(&mut self, kind: u8, value: &[u8]) -> Result<usize, PacketError> {
        let len = u8::try_from(value.len() + 2)
            .ok()
            .filter(|_| value.len() <= MAX_VALUE_LEN)
            .ok_or(PacketError::ValueTooLong(kind, value.len()))?;
        self.buf.extend_from_slice(&[kind, len]);
        let at = self.buf.len();
        self.buf.extend_from_slice(value);
        Ok(at)
    }

    pub fn finish(mut self) -> Result<Vec<u8>, PacketError> {
        let len = self.buf.len();
        let field = u16::try_from(len)
            .ok()
            .filter(|_| len <= MAX_PACKET_LEN)
            .ok_or(PacketError::TooLong(len))?;
        self.buf[2..4].copy_from_slice(&field.to_be_bytes());
        Ok(self.buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_built_packet_decodes_to_the_same_attributes() {
        let mut b = Builder::new(ACCESS_REQUEST, 7, &[9; 16]);
        b.push(USER_NAME, b"sub1").unwrap();
        let at = b.push(MESSAGE_AUTHENTICATOR, &[0; 16]).unwrap();
        b.push(NAS_IDENTIFIER, b"opsdesk").unwrap();
        let bytes = b.finish().unwrap();
        assert_eq!(bytes.len(), 20 + 6 + 18 + 9);
        assert_eq!(at, 28);
        let p = Packet::decode(&bytes).unwrap();
        assert_eq!((p.code, p.id), (ACCESS_REQUEST, 7));
        assert_eq!(p.authenticator(), &[9; 16]);
        assert_eq!(p.values(USER_NAME).collect::<Vec<_>>(), [b"sub1"]);
        assert_eq!(p.values(NAS_IDENTIFIER).collect::<Vec<_>>(), [b"opsdesk"]);
        assert_eq!(p.attributes.len(), 3);
    }

    #[test]
    fn bytes_past_the_length_field_are_padding() {
        let mut bytes = Builder::new(ACCESS_ACCEPT, 1, &[0; 16]).finish().unwrap();
        bytes.extend_from_slice(&[1, 2, 3]);
        let p = Packet::decode(&bytes).unwrap();
        assert_eq!(p.raw.len(), 20);
        assert!(p.attributes.is_empty());
    }

    #[test]
    fn malformed_packets_are_errors_never_panics() {
        assert!(matches!(
            Packet::decode(&[2; 19]),
            Err(PacketError::Short(19))
        ));
        let mut ok = Builder::new(ACCESS_ACCEPT, 1, &[0; 16]);
        ok.push(25, b"customer:ACME").unwrap();
        let ok = ok.finish().unwrap();
        // Length field larger than the datagram, and smaller than a header.
        let mut long = ok.clone();
        long[3] += 1;
        assert!(matches!(
            Packet::decode(&long),
            Err(PacketError::BadLength { .. })
        ));
        let mut tiny = ok.clone();
        tiny[2..4].copy_from_slice(&19u16.to_be_bytes());
        assert!(matches!(
            Packet::decode(&tiny),
            Err(PacketError::BadLength { .. })
        ));
        // An attribute length of 0, of 1, and one running past the end.
        for bad_len in [0u8, 1, 16] {
            let mut b = ok.clone();
            b[21] = bad_len;
            assert_eq!(
                Packet::decode(&b).unwrap_err(),
                PacketError::BadAttribute(20)
            );
        }
        // A lone type octet at the end (the length field counts it).
        let mut odd = ok.clone();
        odd.push(18);
        let n = u16::try_from(odd.len()).unwrap();
        odd[2..4].copy_from_slice(&n.to_be_bytes());
        assert_eq!(
            Packet::decode(&odd).unwrap_err(),
            PacketError::BadAttribute(35)
        );
        // Every truncation and every single-byte corruption decodes or errs, without panicking.
        for cut in 0..ok.len() {
            let _ = Packet::decode(&ok[..cut]);
            for v in [0u8, 1, 2, 0x7f, 0xff] {
                let mut b = ok.clone();
                b[cut] = v;
                let _ = Packet::decode(&b);
            }
        }
    }

    #[test]
    fn oversized_values_and_packets_are_refused() {
        let mut b = Builder::new(ACCESS_REQUEST, 1, &[0; 16]);
        assert!(b.push(USER_NAME, &[b'a'; 253]).is_ok());
        assert_eq!(
            b.push(USER_NAME, &[b'a'; 254]),
            Err(PacketError::ValueTooLong(USER_NAME, 254))
        );
        for _ in 0..16 {
            b.push(NAS_IDENTIFIER, &[b'x'; 253]).unwrap();
        }
        assert!(matches!(b.finish(), Err(PacketError::TooLong(_))));
    }
}

//! The text of the benches' generated mail, shared by the mail and IMAP benches so both measure
//! the same messages.

use rand::Rng;
use rand::rngs::StdRng;

/// A customer's report of a dead uplink.
pub const BODY: &str = "The uplink at our site has been down since 09:58; the CPE shows LOS.\r\n\
                        We rebooted it twice. Please advise.\r\n";

/// Appends the MIME body to `raw` (its headers so far): plain text, or one time in five
/// multipart/mixed with a 100 KiB attachment of random bytes (a packet capture).
pub fn push_body(raw: &mut String, rng: &mut StdRng) {
    if rng.random_range(0..5) == 0 {
        use base64::Engine;
        let data: Vec<u8> = (0..100 * 1024).map(|_| rng.random::<u8>()).collect();
        let b64 = base64::engine::general_purpose::STANDARD.encode(data);
        raw.push_str("Content-Type: multipart/mixed; boundary=\"bb\"\r\n\r\n--bb\r\n");
        raw.push_str("Content-Type: text/plain; charset=utf-8\r\n\r\n");
        raw.push_str(BODY);
        raw.push_str("--bb\r\nContent-Type: application/octet-stream; name=\"trace.pcap\"\r\n");
        raw.push_str("Content-Transfer-Encoding: base64\r\n\r\n");
        for chunk in b64.as_bytes().chunks(76) {
            raw.push_str(std::str::from_utf8(chunk).unwrap_or(""));
            raw.push_str("\r\n");
        }
        raw.push_str("--bb--\r\n");
    } else {
        raw.push_str("Content-Type: text/plain; charset=utf-8\r\n\r\n");
        raw.push_str(BODY);
    }
}

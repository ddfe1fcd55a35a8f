//! RFC 4515 search filters: escaping a value before it goes into a filter, and putting the
//! username into `user_filter`. The username comes straight from the login form, so without
//! this a name such as `*)(uid=*` would widen the search to every entry.

/// Escapes one assertion value for an RFC 4515 filter: `*`, `(`, `)`, `\`, NUL and every byte
/// outside printable ASCII become `\XX` (one escape per UTF-8 byte). RFC 4515 only requires
/// the first five; escaping the rest keeps control characters and non-ASCII text out of the
/// filter text, which some servers and proxies mangle.
pub fn escape_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 8);
    for &b in value.as_bytes() {
        match b {
            b'*' | b'(' | b')' | b'\\' | 0 | 0x80.. | ..=0x1f | 0x7f => {
                out.push('\\');
                out.push(hex(b >> 4));
                out.push(hex(b & 0x0f));
            }
            _ => out.push(char::from(b)),
        }
    }
    out
}

/// `user_filter` with every `{username}` replaced by the escaped username.
pub fn user_filter(template: &str, username: &str) -> String {
    template.replace("{username}", &escape_value(username))
}

/// The attribute a `user_filter` compares the username with, when the filter holds the plain
/// form `(ATTR={username})`: its value on the entry is the username as the directory spells it.
pub fn username_attribute(template: &str) -> Option<&str> {
    let (before, _) = template.split_once("={username})")?;
    let start = before.rfind('(')? + 1;
    let attr = &before[start..];
    let plain = !attr.is_empty()
        && attr
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == ';');
    plain.then_some(attr)
}

fn hex(nibble: u8) -> char {
    char::from(b"0123456789abcdef"[usize::from(nibble & 0x0f)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_pass_through_unchanged() {
        assert_eq!(
            escape_value("ada.lovelace-1_x@example.net"),
            "ada.lovelace-1_x@example.net"
        );
        assert_eq!(escape_value("o'brien, jr"), "o'brien, jr");
    }

    #[test]
    fn the_five_rfc_4515_specials_are_escaped() {
        assert_eq!(escape_value("*"), "\\2a");
        assert_eq!(escape_value("("), "\\28");
        assert_eq!(escape_value(")"), "\\29");
        assert_eq!(escape_value("\\"), "\\5c");
        assert_eq!(escape_value("\0"), "\\00");
    }

    #[test]
    fn injection_attempts_become_literal_values() {
        assert_eq!(escape_value("*)(uid=*"), "\\2a\\29\\28uid=\\2a");
        assert_eq!(
            user_filter("(uid={username})", "admin)(|(uid=*"),
            "(uid=admin\\29\\28|\\28uid=\\2a)"
        );
        assert_eq!(
            user_filter("(&(objectClass=person)(uid={username}))", "*"),
            "(&(objectClass=person)(uid=\\2a))"
        );
    }

    #[test]
    fn non_ascii_is_escaped_byte_by_byte() {
        assert_eq!(escape_value("ü"), "\\c3\\bc");
        assert_eq!(escape_value("€"), "\\e2\\82\\ac");
        assert_eq!(escape_value("a\tb\x7f"), "a\\09b\\7f");
    }

    #[test]
    fn escaped_filters_parse_and_carry_the_original_bytes() {
        use ldap3::asn1::Tag;
        // ldap3 turns filter text into the BER the server sees: one equality match whose
        // assertion value is the username, byte for byte.
        for name in ["*)(uid=*", "admin)(|(uid=*", "zoë\\€", "a\0b", "(", "\\2a"] {
            let f = user_filter("(uid={username})", name);
            let Ok(Tag::Sequence(eq)) = ldap3::parse_filter(&f) else {
                panic!("{f} is not one equality match");
            };
            assert_eq!(eq.id, 3, "{f}: equalityMatch");
            let Some(Tag::OctetString(value)) = eq.inner.get(1) else {
                panic!("{f}: no assertion value");
            };
            assert_eq!(value.inner, name.as_bytes(), "{f}");
        }
    }

    #[test]
    fn every_placeholder_is_replaced() {
        assert_eq!(
            user_filter("(|(uid={username})(mail={username}))", "a*"),
            "(|(uid=a\\2a)(mail=a\\2a))"
        );
    }

    #[test]
    fn the_username_attribute_is_found_in_plain_filters_only() {
        assert_eq!(username_attribute("(uid={username})"), Some("uid"));
        assert_eq!(
            username_attribute("(&(objectClass=user)(sAMAccountName={username}))"),
            Some("sAMAccountName")
        );
        assert_eq!(username_attribute("(cn=*{username})"), None);
        assert_eq!(username_attribute("(uid~={username})"), None);
    }
}

//! RFC 4514 distinguished names: escaping a value for a DN we build (direct bind), and a
//! normal form to compare DNs that the directory and the config spell differently
//! (`CN=Admins, OU=Groups,…` against `cn=admins,ou=groups,…`, `\2C` against `\,`).

/// Escapes one attribute value for an RDN (RFC 4514 §2.4): `" + , ; < > \ =` get a backslash,
/// NUL becomes `\00`, and so do a leading blank or `#` and a trailing blank.
pub fn escape_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 4);
    let last = value.len().saturating_sub(1);
    for (i, c) in value.char_indices() {
        match c {
            '"' | '+' | ',' | ';' | '<' | '>' | '\\' | '=' => {
                out.push('\\');
                out.push(c);
            }
            '\0' => out.push_str("\\00"),
            ' ' | '#' if i == 0 => {
                out.push('\\');
                out.push(c);
            }
            ' ' if i == last => out.push_str("\\ "),
            _ => out.push(c),
        }
    }
    out
}

/// A DN in a form that compares equal for every spelling of the same name: attribute types and
/// values lower-cased, escapes resolved, blanks around separators dropped and runs of blanks
/// inside values made one, the values of a multi-valued RDN sorted. Text that is no valid DN
/// is only trimmed and lower-cased, so it can still equal the same text elsewhere.
pub fn normalise(dn: &str) -> String {
    parse(dn).unwrap_or_else(|| dn.trim().to_lowercase())
}

fn parse(dn: &str) -> Option<String> {
    let mut rdns = Vec::new();
    for rdn in split_unescaped(dn, ',') {
        let mut avas = Vec::new();
        for ava in split_unescaped(rdn, '+') {
            let (ty, value) = ava.split_once('=')?;
            let ty = ty.trim().to_ascii_lowercase();
            if ty.is_empty() {
                return None;
            }
            let value = unescape(value.trim())?;
            let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
            avas.push(format!("{ty}={}", escape_value(&value.to_lowercase())));
        }
        avas.sort();
        rdns.push(avas.join("+"));
    }
    Some(rdns.join(","))
}

/// Splits on `sep` where it is not escaped by a backslash.
fn split_unescaped(text: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            c if c == sep => {
                parts.push(&text[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// Resolves `\X` and `\HH` escapes; `None` for a dangling backslash or bytes that are no UTF-8.
fn unescape(value: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(value.len());
    let mut it = value.bytes().peekable();
    while let Some(b) = it.next() {
        if b != b'\\' {
            bytes.push(b);
            continue;
        }
        let first = it.next()?;
        match (
            char::from(first).to_digit(16),
            it.peek().and_then(|n| char::from(*n).to_digit(16)),
        ) {
            (Some(h), Some(l)) => {
                it.next();
                bytes.push(u8::try_from(h * 16 + l).ok()?);
            }
            _ => bytes.push(first),
        }
    }
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_values_are_left_alone() {
        assert_eq!(escape_value("ada"), "ada");
        assert_eq!(escape_value("o'brien"), "o'brien");
        assert_eq!(escape_value("zoë"), "zoë");
    }

    #[test]
    fn dn_specials_are_escaped() {
        assert_eq!(escape_value("lee, jr"), "lee\\, jr");
        assert_eq!(
            escape_value("a+b=c;d<e>f\"g\\h"),
            "a\\+b\\=c\\;d\\<e\\>f\\\"g\\\\h"
        );
        assert_eq!(escape_value("#1"), "\\#1");
        assert_eq!(escape_value(" x "), "\\ x\\ ");
        assert_eq!(escape_value("a#b c"), "a#b c");
        assert_eq!(escape_value("a\0"), "a\\00");
    }

    #[test]
    fn an_escaped_value_makes_one_rdn_again() {
        for v in ["lee, jr", "a+b", " x ", "#1", "back\\slash", "uid=x,dc=y"] {
            let dn = format!("uid={},dc=example,dc=net", escape_value(v));
            let rdns = split_unescaped(&dn, ',');
            assert_eq!(rdns.len(), 3, "{dn}");
            let value = rdns[0].strip_prefix("uid=").unwrap();
            assert_eq!(unescape(value).unwrap(), v, "{dn}");
        }
    }

    #[test]
    fn spellings_of_one_dn_normalise_alike() {
        let want = normalise("cn=admins,ou=groups,dc=example,dc=net");
        for dn in [
            "CN=Admins,OU=Groups,DC=example,DC=net",
            "cn=admins, ou=groups, dc=example, dc=net",
            "cn = admins ,ou=groups,dc=example,dc=net",
            " cn=\\61dmins,ou=groups,dc=example,dc=net ",
        ] {
            assert_eq!(normalise(dn), want, "{dn}");
        }
        assert_eq!(
            normalise("uid=lee\\2C jr,ou=people,dc=example,dc=net"),
            normalise("uid=Lee\\,  jr,ou=people,dc=example,dc=net")
        );
        assert_eq!(normalise("cn=a+sn=b,dc=x"), normalise("sn=B+cn=A,dc=x"));
    }

    #[test]
    fn different_dns_stay_different() {
        assert_ne!(
            normalise("cn=admins,ou=groups,dc=example,dc=net"),
            normalise("cn=admins2,ou=groups,dc=example,dc=net")
        );
        assert_ne!(normalise("cn=a\\,b,dc=x"), normalise("cn=a,b=,dc=x"));
    }

    #[test]
    fn broken_dns_fall_back_to_lower_case() {
        assert_eq!(normalise(" NOT A DN "), "not a dn");
        assert_eq!(normalise("cn=x\\"), "cn=x\\");
    }
}

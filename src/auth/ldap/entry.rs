//! A user's entry as a search returned it, read the way LDAP names attributes: without regard
//! to case (`employeeNumber` in the config, `employeenumber` from some servers).

use std::collections::HashMap;

use ldap3::SearchEntry;

pub struct Entry {
    pub dn: String,
    attrs: HashMap<String, Vec<String>>,
}

impl Entry {
    pub fn new(e: SearchEntry) -> Entry {
        Entry {
            dn: e.dn,
            attrs: e.attrs,
        }
    }

    /// Every value of `attr`.
    pub fn values<'a, 'b>(&'a self, attr: &'b str) -> impl Iterator<Item = &'a str> + use<'a, 'b> {
        self.attrs
            .iter()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(attr))
            .flat_map(|(_, v)| v.iter().map(String::as_str))
    }

    /// The first value of `attr` that is not blank, trimmed.
    pub fn first<'a>(&'a self, attr: &str) -> Option<&'a str> {
        self.values(attr).map(str::trim).find(|v| !v.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_found_whatever_their_case() {
        let e = Entry {
            dn: "uid=x".into(),
            attrs: HashMap::from([
                (
                    "employeenumber".to_owned(),
                    vec![" ".to_owned(), " ACME ".to_owned()],
                ),
                (
                    "memberOf".to_owned(),
                    vec!["cn=a".to_owned(), "cn=b".to_owned()],
                ),
            ]),
        };
        assert_eq!(e.first("employeeNumber"), Some("ACME"));
        assert_eq!(e.values("MEMBEROF").count(), 2);
        assert_eq!(e.first("mail"), None);
    }
}

//! The `order` parameter of ticket lists (`-updated`, `priority,-created`): a short,
//! URL-friendly sort spec kept apart from TQL so bookmarks and API clients can change the order
//! without touching the query.

use super::{Field, TqlError, quote_found};

/// More keys than this never change a page of tickets and only make the SQL slower.
pub const MAX_SORT_KEYS: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub key: SortKey,
    pub descending: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SortKey {
    Id,
    Created,
    Updated,
    Priority,
    Status,
    Queue,
    Subject,
    Due,
    Resolved,
}

impl SortKey {
    pub const ALL: [SortKey; 9] = [
        SortKey::Id,
        SortKey::Created,
        SortKey::Updated,
        SortKey::Priority,
        SortKey::Status,
        SortKey::Queue,
        SortKey::Subject,
        SortKey::Due,
        SortKey::Resolved,
    ];

    /// The spelling in URLs; also what [`parse_order`] accepts, in any case.
    pub fn name(self) -> &'static str {
        match self {
            SortKey::Id => "id",
            SortKey::Created => "created",
            SortKey::Updated => "updated",
            SortKey::Priority => "priority",
            SortKey::Status => "status",
            SortKey::Queue => "queue",
            SortKey::Subject => "subject",
            SortKey::Due => "due",
            SortKey::Resolved => "resolved",
        }
    }

    /// The ticket field sorted on, so the compiler maps keys and TQL fields to columns in one
    /// place.
    pub fn field(self) -> Field {
        match self {
            SortKey::Id => Field::Id,
            SortKey::Created => Field::Created,
            SortKey::Updated => Field::LastUpdated,
            SortKey::Priority => Field::Priority,
            SortKey::Status => Field::Status,
            SortKey::Queue => Field::Queue,
            SortKey::Subject => Field::Subject,
            SortKey::Due => Field::Due,
            SortKey::Resolved => Field::Resolved,
        }
    }

    fn from_name(name: &str) -> Option<SortKey> {
        if name.eq_ignore_ascii_case("lastupdated") {
            return Some(SortKey::Updated);
        }
        SortKey::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(name))
    }
}

fn expected_key() -> String {
    let names: Vec<&str> = SortKey::ALL.iter().map(|k| k.name()).collect();
    format!(
        "a sort key ({}), with '-' in front for descending",
        names.join(", ")
    )
}

/// Comma-separated keys, each optionally prefixed with `-` (descending) or `+`; case-insensitive,
/// spaces around keys ignored. Positions in errors are character offsets into `order`.
pub fn parse_order(order: &str) -> Result<Vec<Sort>, TqlError> {
    let mut sorts: Vec<Sort> = Vec::new();
    let mut offset = 0;
    for piece in order.split(',') {
        let piece_chars = piece.chars().count();
        let lead = piece.chars().take_while(|c| c.is_whitespace()).count();
        let position = offset + lead;
        offset += piece_chars + 1;
        if sorts.len() == MAX_SORT_KEYS {
            return Err(TqlError::new(
                position,
                format!("at most {MAX_SORT_KEYS} sort keys"),
                "another key",
            ));
        }
        let trimmed = piece.trim();
        let (descending, name) = match trimmed.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, trimmed.strip_prefix('+').unwrap_or(trimmed)),
        };
        let Some(key) = SortKey::from_name(name.trim()) else {
            let found = if trimmed.is_empty() {
                "nothing".to_owned()
            } else {
                quote_found(trimmed)
            };
            return Err(TqlError::new(position, expected_key(), found));
        };
        if sorts.iter().any(|s| s.key == key) {
            return Err(TqlError::new(
                position,
                "each sort key at most once",
                format!("{} again", quote_found(key.name())),
            ));
        }
        sorts.push(Sort { key, descending });
    }
    Ok(sorts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asc(key: SortKey) -> Sort {
        Sort {
            key,
            descending: false,
        }
    }

    fn desc(key: SortKey) -> Sort {
        Sort {
            key,
            descending: true,
        }
    }

    #[test]
    fn a_single_key_with_a_minus_sorts_descending() {
        assert_eq!(
            parse_order("-updated").unwrap(),
            vec![desc(SortKey::Updated)]
        );
        assert_eq!(parse_order("id").unwrap(), vec![asc(SortKey::Id)]);
        assert_eq!(parse_order("+due").unwrap(), vec![asc(SortKey::Due)]);
    }

    #[test]
    fn several_keys_keep_their_order_and_ignore_case_and_spaces() {
        assert_eq!(
            parse_order(" Priority , -CREATED,lastupdated").unwrap(),
            vec![
                asc(SortKey::Priority),
                desc(SortKey::Created),
                asc(SortKey::Updated)
            ]
        );
    }

    #[test]
    fn every_key_is_accepted_by_its_name_and_maps_to_a_field() {
        for key in SortKey::ALL {
            assert_eq!(parse_order(key.name()).unwrap(), vec![asc(key)]);
        }
        assert_eq!(SortKey::Updated.field(), Field::LastUpdated);
    }

    #[test]
    fn an_empty_order_is_an_error() {
        for empty in ["", "  ", "-"] {
            let e = parse_order(empty).unwrap_err();
            assert_eq!(e.found, if empty == "-" { "\"-\"" } else { "nothing" });
        }
    }

    #[test]
    fn an_unknown_key_names_the_allowed_ones_at_its_position() {
        let e = parse_order("priority, -colour").unwrap_err();
        assert_eq!(e.position, 10);
        assert_eq!(e.found, "\"-colour\"");
        assert!(
            e.expected
                .contains("id, created, updated, priority, status, queue, subject, due, resolved")
        );
    }

    #[test]
    fn a_trailing_comma_is_a_missing_key() {
        let e = parse_order("priority,").unwrap_err();
        assert_eq!((e.position, e.found.as_str()), (9, "nothing"));
    }

    #[test]
    fn more_than_four_keys_or_a_repeated_key_is_an_error() {
        let e = parse_order("id,created,updated,priority,status").unwrap_err();
        assert_eq!(e.position, 28);
        assert!(parse_order("id,created,updated,priority").is_ok());
        let e = parse_order("created,-created").unwrap_err();
        assert_eq!(e.position, 8);
        assert!(e.found.contains("again"));
    }

    #[test]
    fn a_huge_order_is_rejected_early_with_a_short_message() {
        let e = parse_order(&",".repeat(100_000)).unwrap_err();
        assert_eq!(e.position, 0);
        let e = parse_order(&"x".repeat(100_000)).unwrap_err();
        assert!(e.found.chars().count() < 50);
    }
}

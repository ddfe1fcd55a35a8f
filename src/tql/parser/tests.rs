//! Unit tests of the parser: the contract example, precedence, spellings, and every error with
//! its position.

use super::*;

fn ok(query: &str) -> Expr {
    parse(query)
        .unwrap_or_else(|e| panic!("{query}: {e}"))
        .without_spans()
}

fn err(query: &str) -> TqlError {
    parse(query).unwrap_err()
}

fn c(field: Field, op: Op, value: Value) -> Expr {
    Expr::Cond(Cond {
        field,
        op,
        value,
        span: Span { start: 0, end: 0 },
    })
}

fn text(field: Field, op: Op, value: &str) -> Expr {
    c(field, op, Value::Text(value.into()))
}

fn and(l: Expr, r: Expr) -> Expr {
    Expr::And(Box::new(l), Box::new(r))
}

fn or(l: Expr, r: Expr) -> Expr {
    Expr::Or(Box::new(l), Box::new(r))
}

#[test]
fn the_contract_example_parses_to_the_expected_tree() {
    let got = ok("Queue = 'NOC' AND (Status = 'new' OR Status = 'open') AND Priority <= 2");
    let statuses = or(
        text(Field::Status, Op::Eq, "new"),
        text(Field::Status, Op::Eq, "open"),
    );
    let want = and(
        and(text(Field::Queue, Op::Eq, "NOC"), statuses),
        c(Field::Priority, Op::Le, Value::Int(2)),
    );
    assert_eq!(got, want);
}

#[test]
fn and_binds_tighter_than_or_and_not_binds_tightest() {
    let a = || c(Field::Id, Op::Eq, Value::Int(1));
    let b = || c(Field::Id, Op::Eq, Value::Int(2));
    assert_eq!(ok("id = 1 OR id = 2 AND id = 1"), or(a(), and(b(), a())));
    assert_eq!(
        ok("NOT id = 1 AND id = 2"),
        and(Expr::Not(Box::new(a())), b())
    );
    assert_eq!(
        ok("NOT (id = 1 AND id = 2)"),
        Expr::Not(Box::new(and(a(), b())))
    );
    assert_eq!(ok("id = 1 OR id = 2 OR id = 1"), or(or(a(), b()), a()));
}

#[test]
fn keywords_and_fields_are_case_insensitive_and_rt_aliases_work() {
    let got = ok("queue = 'NOC' and not subject like 'bgp' Or OWNER is not null");
    let want = or(
        and(
            text(Field::Queue, Op::Eq, "NOC"),
            Expr::Not(Box::new(text(Field::Subject, Op::Like, "bgp"))),
        ),
        c(Field::Owner, Op::IsNotNull, Value::None),
    );
    assert_eq!(got, want);
    assert_eq!(
        ok("Requestors = 'a@b.c'"),
        text(Field::Requestor, Op::Eq, "a@b.c")
    );
    assert_eq!(
        ok("Updated > 'today'"),
        text(Field::LastUpdated, Op::Gt, "today")
    );
}

#[test]
fn every_operator_spelling_is_read() {
    assert_eq!(ok("id <> 3"), c(Field::Id, Op::Ne, Value::Int(3)));
    assert_eq!(ok("id != 3"), c(Field::Id, Op::Ne, Value::Int(3)));
    assert_eq!(ok("id>=3"), c(Field::Id, Op::Ge, Value::Int(3)));
    assert_eq!(
        ok("Content NOT LIKE 'x'"),
        text(Field::Content, Op::NotLike, "x")
    );
    assert_eq!(ok("Due is null"), c(Field::Due, Op::IsNull, Value::None));
}

#[test]
fn quotes_inside_strings_are_doubled_in_either_quote_style() {
    assert_eq!(
        ok("Subject = 'it''s'"),
        text(Field::Subject, Op::Eq, "it's")
    );
    assert_eq!(
        ok(r#"Subject = "say ""hi""""#),
        text(Field::Subject, Op::Eq, r#"say "hi""#)
    );
}

#[test]
fn bare_words_and_numbers_are_values_as_in_rt() {
    assert_eq!(ok("Status = open"), text(Field::Status, Op::Eq, "open"));
    assert_eq!(ok("Subject = 007"), text(Field::Subject, Op::Eq, "007"));
    assert_eq!(
        ok("Owner = __CurrentUser__"),
        text(Field::Owner, Op::Eq, "__CurrentUser__")
    );
    assert_eq!(ok("id = '42'"), c(Field::Id, Op::Eq, Value::Int(42)));
    assert_eq!(
        ok("Priority = P2"),
        c(Field::Priority, Op::Eq, Value::Int(2))
    );
    assert_eq!(
        ok("Priority < 'p4'"),
        c(Field::Priority, Op::Lt, Value::Int(4))
    );
    assert_eq!(ok("SLA = 'breached'"), text(Field::Sla, Op::Eq, "breached"));
}

#[test]
fn dates_are_checked_but_kept_as_the_users_text() {
    assert_eq!(
        ok("Created > '-2 hours'"),
        text(Field::Created, Op::Gt, "-2 hours")
    );
    assert_eq!(ok("Due < tomorrow"), text(Field::Due, Op::Lt, "tomorrow"));
    assert_eq!(
        ok("Resolved = \"2026-11-01 10:00\""),
        text(Field::Resolved, Op::Eq, "2026-11-01 10:00")
    );
}

#[test]
fn an_injection_attempt_stays_one_text_value() {
    let got = ok("Subject = 'x''; DROP TABLE tickets; --'");
    assert_eq!(
        got,
        text(Field::Subject, Op::Eq, "x'; DROP TABLE tickets; --")
    );
}

#[test]
fn condition_spans_cover_field_to_value_in_characters() {
    let Ok(Expr::And(l, r)) = parse("Subject = 'é' AND Owner IS NOT NULL") else {
        panic!()
    };
    let (Expr::Cond(l), Expr::Cond(r)) = (*l, *r) else {
        panic!()
    };
    assert_eq!(l.span, Span { start: 0, end: 13 });
    assert_eq!(r.span, Span { start: 18, end: 35 });
}

#[test]
fn errors_say_where_and_what_was_expected() {
    let cases: &[(&str, usize, &str, &str)] = &[
        ("Owner =", 7, VALUE, "end of query"),
        ("Queue = 'NOC' AND", 17, FIELDS, "end of query"),
        ("Colour = 'red'", 0, FIELDS, "\"Colour\""),
        ("Status = AND id = 1", 9, VALUE, "\"AND\""),
        (
            "Status = 'open')",
            15,
            "AND, OR or the end of the query",
            "\")\"",
        ),
        ("id = 'x'", 5, "a ticket number (digits)", "'x'"),
        (
            "Priority = 5",
            11,
            "a priority from 1 to 4 (or 'P1' to 'P4')",
            "\"5\"",
        ),
        (
            "Subject NOT 'x'",
            12,
            "LIKE (after NOT, as in NOT LIKE)",
            "'x'",
        ),
        ("Owner IS 'x'", 9, "NULL or NOT NULL (after IS)", "'x'"),
    ];
    for (query, position, expected, found) in cases {
        let e = err(query);
        assert_eq!(
            (e.position, e.expected.as_str(), e.found.as_str()),
            (*position, *expected, *found),
            "{query}"
        );
    }
    assert!(
        err("Colour = 'red'")
            .to_string()
            .starts_with("at position 0: expected a field (id, Queue, Status,")
    );
}

#[test]
fn field_operator_mismatches_are_reported_at_the_operator() {
    let cases = [
        (
            "Priority LIKE '2'",
            9,
            "LIKE applies to text fields, not Priority",
        ),
        (
            "Created NOT LIKE 'x'",
            8,
            "NOT LIKE applies to text fields, not Created",
        ),
        ("Content = 'x'", 8, "Content is searched as full text"),
        (
            "Subject < 'x'",
            8,
            "< compares numbers and dates, not Subject",
        ),
        ("Subject IS NULL", 8, "Subject always has a value"),
        ("Priority IS NOT NULL", 9, "Priority always has a value"),
        (
            "Status 'open'",
            7,
            "an operator for Status (=, !=, LIKE, NOT LIKE)",
        ),
    ];
    for (query, position, says) in cases {
        let e = err(query);
        assert_eq!(e.position, position, "{query}: {e}");
        assert!(e.expected.contains(says), "{query}: {e}");
    }
}

#[test]
fn bad_dates_are_reported_at_the_value() {
    let e = err("Created > 'blah'");
    assert_eq!(e.position, 10);
    assert!(e.expected.contains("'2026-11-01'"), "{e}");
    let e = err("Created > 2 hours ago");
    assert_eq!(e.position, 10);
    assert!(e.expected.contains("quote"), "{e}");
}

#[test]
fn unbalanced_parentheses_point_at_what_is_there() {
    let e = err("(Status = 'new'");
    assert_eq!((e.position, e.found.as_str()), (15, "end of query"));
    assert!(
        e.expected.starts_with("')' to close the '(' at position 0"),
        "{e}"
    );
    assert_eq!(err("()").position, 1);
}

#[test]
fn an_empty_or_blank_query_is_an_error() {
    assert_eq!(err("").position, 0);
    assert_eq!(err("   ").position, 3);
    assert_eq!(err("   ").found, "end of query");
}

#[test]
fn nesting_is_capped_without_overflowing_the_stack() {
    let nested = |n: usize| format!("{}id = 1{}", "(".repeat(n), ")".repeat(n));
    assert!(parse(&nested(MAX_DEPTH)).is_ok());
    assert_eq!(err(&nested(MAX_DEPTH + 1)).position, MAX_DEPTH);
    assert!(parse(&format!("{}id = 1", "NOT ".repeat(MAX_DEPTH))).is_ok());
    assert_eq!(
        err(&format!("{}id = 1", "NOT ".repeat(MAX_DEPTH + 1))).position,
        4 * MAX_DEPTH
    );
    assert_eq!(err(&"(".repeat(4000)).position, MAX_DEPTH);
}

#[test]
fn the_length_limit_counts_characters() {
    let fits = format!("Subject = '{}'", "é".repeat(MAX_QUERY_CHARS - 12));
    assert!(parse(&fits).is_ok());
    let e = err(&format!("Subject = '{}'", "é".repeat(MAX_QUERY_CHARS)));
    assert_eq!(e.position, MAX_QUERY_CHARS);
}

#[test]
fn the_longest_possible_chain_parses_prints_and_drops() {
    // 8 characters per condition is the densest chain, so this is about as deep as trees get.
    let query = vec!["id=1"; 511].join(" OR ");
    assert!(query.len() <= MAX_QUERY_CHARS);
    let expr = parse(&query).unwrap();
    assert_eq!(expr.to_string().len(), 511 * 6 + 510 * 4);
    drop(expr);
}

#[test]
fn a_long_chain_prints_back_to_the_same_tree() {
    let query = vec!["id = 1"; 409].join(" OR ");
    assert!(query.len() <= MAX_QUERY_CHARS);
    let expr = parse(&query).unwrap();
    assert_eq!(expr.to_string(), query);
}

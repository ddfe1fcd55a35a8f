//! Property tests across the lexer, parser and printer: hostile text never panics and errors
//! stay inside the query, and every valid tree survives print → parse unchanged.

use proptest::prelude::*;

use super::*;

/// Date texts that resolve; the printer must keep them intact.
const DATES: [&str; 12] = [
    "now",
    "today",
    "Yesterday",
    "tomorrow",
    "-2 hours",
    "+1 day",
    "3 days ago",
    "-30 minutes",
    "1 w ago",
    "2026-11-01",
    "2026-11-01 10:00",
    "2026-11-01T10:00:00Z",
];

/// Pieces of real queries and near misses, so random soups reach deep into the parser.
const FRAGMENTS: [&str; 34] = [
    "Status",
    "Priority",
    "Created",
    "Owner",
    "Content",
    "id",
    "Colour",
    "=",
    "!=",
    "<>",
    "<=",
    ">",
    "LIKE",
    "NOT",
    "IS",
    "NULL",
    "AND",
    "OR",
    "(",
    ")",
    "'open'",
    "'it''s'",
    "\"x\"",
    "'",
    "\"",
    "2",
    "P3",
    "99999999999999999999",
    "'-2 hours'",
    "'blah'",
    "open",
    "é",
    "!",
    "\n",
];

fn no_span() -> Span {
    Span { start: 0, end: 0 }
}

fn text_value() -> impl Strategy<Value = String> {
    prop_oneof![
        // Any character but NUL, which the lexer refuses (lexer.rs `nul_at`).
        "(?s)[^\\x00]{0,12}",
        "[a-zA-Z '\"%_-]{0,12}",
        Just("x'; DROP TABLE tickets; --".to_owned()),
    ]
}

fn value_for(field: Field, op: Op) -> BoxedStrategy<Value> {
    match (op, field.kind()) {
        (Op::IsNull | Op::IsNotNull, _) => Just(Value::None).boxed(),
        (_, FieldKind::Integer) if field == Field::Priority => {
            (1i64..=4).prop_map(Value::Int).boxed()
        }
        (_, FieldKind::Integer) => (0i64..=i64::MAX).prop_map(Value::Int).boxed(),
        (_, FieldKind::Date) => prop::sample::select(DATES.to_vec())
            .prop_map(|d| Value::Text(d.to_owned()))
            .boxed(),
        _ => text_value().prop_map(Value::Text).boxed(),
    }
}

fn valid_cond() -> impl Strategy<Value = Expr> {
    let pairs: Vec<(Field, Op)> = Field::ALL
        .into_iter()
        .flat_map(|f| Op::ALL.into_iter().map(move |op| (f, op)))
        .filter(|(f, op)| f.allows(*op))
        .collect();
    prop::sample::select(pairs).prop_flat_map(|(field, op)| {
        value_for(field, op).prop_map(move |value| {
            Expr::Cond(Cond {
                field,
                op,
                value,
                span: no_span(),
            })
        })
    })
}

fn valid_expr() -> impl Strategy<Value = Expr> {
    valid_cond().prop_recursive(6, 32, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(l, r)| Expr::And(Box::new(l), Box::new(r))),
            (inner.clone(), inner.clone()).prop_map(|(l, r)| Expr::Or(Box::new(l), Box::new(r))),
            inner.prop_map(|e| Expr::Not(Box::new(e))),
        ]
    })
}

fn soup() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(prop::sample::select(FRAGMENTS.to_vec()), 0..30),
        prop::sample::select(vec![" ", ""]),
    )
        .prop_map(|(parts, sep)| parts.join(sep))
}

/// The invariants every outcome must keep: errors point inside the query (or just past its
/// end), and anything accepted prints as a query that reads back the same.
fn check(query: &str) -> Result<(), TestCaseError> {
    match parse(query) {
        Err(e) => prop_assert!(e.position <= query.chars().count(), "{e} for {query:?}"),
        Ok(expr) => {
            let printed = expr.to_string();
            let again =
                parse(&printed).map_err(|e| TestCaseError::fail(format!("{e} in {printed:?}")))?;
            prop_assert_eq!(again.without_spans(), expr.without_spans());
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_text_up_to_200_characters_is_answered_without_panicking(query in "(?s).{0,200}") {
        check(&query)?;
    }

    #[test]
    fn soups_of_query_fragments_are_answered_without_panicking(query in soup()) {
        check(&query)?;
    }

    #[test]
    fn valid_trees_print_as_queries_that_parse_back_to_the_same_tree(expr in valid_expr()) {
        let printed = expr.to_string();
        prop_assume!(printed.chars().count() <= MAX_QUERY_CHARS);
        let parsed = parse(&printed).map_err(|e| TestCaseError::fail(format!("{e} in {printed:?}")))?;
        prop_assert_eq!(parsed.without_spans(), expr);
    }

    #[test]
    fn any_order_text_is_answered_without_panicking(order in "(?s).{0,80}") {
        if let Err(e) = parse_order(&order) {
            prop_assert!(e.position <= order.chars().count());
        }
    }

    #[test]
    fn any_date_text_is_answered_without_panicking(text in "(?s)[-+0-9a-z :T]{0,30}", secs in -10_000_000_000i64..10_000_000_000) {
        let now = jiff::Timestamp::from_second(secs).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let tz = jiff::tz::TimeZone::get("Europe/Rome").map_err(|e| TestCaseError::fail(e.to_string()))?;
        let _ = resolve_date(&text, now, &tz);
    }
}

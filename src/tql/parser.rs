//! Recursive descent over the lexer, validating as it goes so each error carries the position of
//! the token that is wrong rather than a vague "bad query".
//!
//! ```text
//! or    := and ( OR and )*
//! and   := unary ( AND unary )*
//! unary := NOT unary | '(' or ')' | cond
//! cond  := field op value | field IS [NOT] NULL
//! ```
//!
//! Recursion only happens through `NOT` and `(`, which together are capped at [`MAX_DEPTH`];
//! `AND`/`OR` chains are loops.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::ast::{Cond, Expr, Field, FieldKind, Op, Span, Value};
use super::dates::resolve_date;
use super::lexer::{Lexer, Tok, Token};
use super::{TqlError, quote_found};

/// Longer than any query a person types; keeps hostile input cheap to reject.
pub const MAX_QUERY_CHARS: usize = 4096;
/// Levels of parentheses plus `NOT`s; far beyond real searches, far below a stack overflow.
pub const MAX_DEPTH: usize = 64;

const FIELDS: &str = "a field (id, Queue, Status, Priority, Owner, Requestor, Customer, Subject, \
     Content, Created, LastUpdated, Resolved, Due, Source, Host, SLA)";
const VALUE: &str = "a value (a quoted string or a number)";

/// Parses and validates a query. An empty or blank query is an error: "no query" is the caller's
/// case to handle (list everything, or the default view), not something to guess here.
pub fn parse(query: &str) -> Result<Expr, TqlError> {
    if query.chars().nth(MAX_QUERY_CHARS).is_some() {
        return Err(TqlError::new(
            MAX_QUERY_CHARS,
            format!("a query of at most {MAX_QUERY_CHARS} characters"),
            "a longer query",
        ));
    }
    let mut parser = Parser {
        lexer: Lexer::new(query),
        peeked: None,
    };
    let expr = parser.or(0)?;
    let token = parser.next()?;
    if token.tok != Tok::End {
        return Err(parser.error(&token, "AND, OR or the end of the query"));
    }
    Ok(expr)
}

struct Parser {
    lexer: Lexer,
    peeked: Option<Token>,
}

impl Parser {
    fn next(&mut self) -> Result<Token, TqlError> {
        match self.peeked.take() {
            Some(token) => Ok(token),
            None => self.lexer.next_token(),
        }
    }

    fn peek(&mut self) -> Result<&Token, TqlError> {
        let token = match self.peeked.take() {
            Some(token) => token,
            None => self.lexer.next_token()?,
        };
        Ok(self.peeked.insert(token))
    }

    /// Consumes the next token if it is `keyword`.
    fn eat(&mut self, keyword: &str) -> Result<bool, TqlError> {
        let found = self.peek()?.is_keyword(keyword);
        if found {
            self.next()?;
        }
        Ok(found)
    }

    fn error(&self, token: &Token, expected: impl Into<String>) -> TqlError {
        TqlError::new(token.span.start, expected, self.lexer.describe(token))
    }

    fn or(&mut self, depth: usize) -> Result<Expr, TqlError> {
        let mut left = self.and(depth)?;
        while self.eat("OR")? {
            let right = self.and(depth)?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self, depth: usize) -> Result<Expr, TqlError> {
        let mut left = self.unary(depth)?;
        while self.eat("AND")? {
            let right = self.unary(depth)?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self, depth: usize) -> Result<Expr, TqlError> {
        let token = self.peek()?.clone();
        let nests = token.is_keyword("NOT") || token.tok == Tok::LParen;
        if nests && depth >= MAX_DEPTH {
            return Err(TqlError::new(
                token.span.start,
                format!("at most {MAX_DEPTH} levels of parentheses and NOT"),
                "deeper nesting",
            ));
        }
        if token.is_keyword("NOT") {
            self.next()?;
            return Ok(Expr::Not(Box::new(self.unary(depth + 1)?)));
        }
        if token.tok == Tok::LParen {
            self.next()?;
            let inner = self.or(depth + 1)?;
            let close = self.next()?;
            if close.tok != Tok::RParen {
                let expected = format!(
                    "')' to close the '(' at position {}, or AND or OR",
                    token.span.start
                );
                return Err(self.error(&close, expected));
            }
            return Ok(inner);
        }
        self.cond().map(Expr::Cond)
    }

    fn cond(&mut self) -> Result<Cond, TqlError> {
        let token = self.next()?;
        let field = match &token.tok {
            Tok::Word(name) => Field::from_name(name),
            _ => None,
        };
        let Some(field) = field else {
            return Err(self.error(&token, FIELDS));
        };
        let start = token.span.start;
        let (op, op_span) = self.op(field)?;
        let (value, end) = if matches!(op, Op::IsNull | Op::IsNotNull) {
            (Value::None, op_span.end)
        } else {
            let token = self.next()?;
            (self.value(field, &token)?, token.span.end)
        };
        Ok(Cond {
            field,
            op,
            value,
            span: Span { start, end },
        })
    }

    /// Reads one operator (`NOT LIKE`, `IS NOT NULL` are several words) and checks that `field`
    /// takes it; the error is at the operator's first word.
    fn op(&mut self, field: Field) -> Result<(Op, Span), TqlError> {
        let token = self.next()?;
        let mut end = token.span.end;
        let op = match &token.tok {
            Tok::Eq => Op::Eq,
            Tok::Ne => Op::Ne,
            Tok::Lt => Op::Lt,
            Tok::Le => Op::Le,
            Tok::Gt => Op::Gt,
            Tok::Ge => Op::Ge,
            _ if token.is_keyword("LIKE") => Op::Like,
            _ if token.is_keyword("NOT") => {
                end = self.expect_keyword("LIKE", "LIKE (after NOT, as in NOT LIKE)")?;
                Op::NotLike
            }
            _ if token.is_keyword("IS") => {
                if self.eat("NOT")? {
                    end = self.expect_keyword("NULL", "NULL (as in IS NOT NULL)")?;
                    Op::IsNotNull
                } else {
                    end = self.expect_keyword("NULL", "NULL or NOT NULL (after IS)")?;
                    Op::IsNull
                }
            }
            _ => {
                let expected = format!("an operator for {field} ({})", allowed_ops(field));
                return Err(self.error(&token, expected));
            }
        };
        let start = token.span.start;
        if !field.allows(op) {
            let expected = format!("{} ({})", allowed_ops(field), why_not(field, op));
            return Err(TqlError::new(start, expected, quote_found(op.symbol())));
        }
        Ok((op, Span { start, end }))
    }

    /// Returns where the keyword ends, for the condition's span.
    fn expect_keyword(&mut self, keyword: &str, expected: &str) -> Result<usize, TqlError> {
        let token = self.next()?;
        if token.is_keyword(keyword) {
            Ok(token.span.end)
        } else {
            Err(self.error(&token, expected))
        }
    }

    fn value(&self, field: Field, token: &Token) -> Result<Value, TqlError> {
        let (text, bare) = match &token.tok {
            Tok::Str(s) => (s.as_str(), false),
            Tok::Number(s) => (s.as_str(), true),
            // AND/OR where a value belongs is a missing value, not the text "AND".
            Tok::Word(w) if !token.is_keyword("AND") && !token.is_keyword("OR") => {
                (w.as_str(), true)
            }
            _ => return Err(self.error(token, VALUE)),
        };
        match field.kind() {
            FieldKind::Text | FieldKind::FullText => Ok(Value::Text(text.to_owned())),
            FieldKind::Integer => integer(field, text)
                .map(Value::Int)
                .ok_or_else(|| self.error(token, integer_expected(field))),
            FieldKind::Date => match resolve_date(text, Timestamp::UNIX_EPOCH, &TimeZone::UTC) {
                Ok(_) => Ok(Value::Text(text.to_owned())),
                Err(expected) if bare => {
                    Err(self.error(token, format!("{expected} (quote a date that has spaces)")))
                }
                Err(expected) => Err(self.error(token, expected)),
            },
        }
    }
}

/// The operators `field` takes, as listed in errors.
fn allowed_ops(field: Field) -> String {
    let ops: Vec<&str> = Op::ALL
        .iter()
        .filter(|op| field.allows(**op))
        .map(|op| op.symbol())
        .collect();
    ops.join(", ")
}

/// Why `field` refuses `op`, in the user's terms.
fn why_not(field: Field, op: Op) -> String {
    let op_name = op.symbol();
    match op {
        Op::Like | Op::NotLike => format!("{op_name} applies to text fields, not {field}"),
        Op::IsNull | Op::IsNotNull => format!(
            "{field} always has a value; {op_name} applies to Owner, Requestor, Customer, \
             Resolved, Due, Host and SLA"
        ),
        Op::Eq | Op::Ne if field.kind() == FieldKind::FullText => {
            format!("{field} is searched as full text")
        }
        _ => format!("{op_name} compares numbers and dates, not {field}"),
    }
}

/// Integer fields take digits, quoted or not, and Priority also the `P1`..`P4` spelling the UI
/// shows; a priority outside 1..=4 can never match, so it is an error rather than an empty list.
fn integer(field: Field, text: &str) -> Option<i64> {
    let text = text.trim();
    let digits = match field {
        Field::Priority => text
            .strip_prefix('P')
            .or_else(|| text.strip_prefix('p'))
            .unwrap_or(text),
        _ => text,
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let n: i64 = digits.parse().ok()?;
    match field {
        Field::Priority if !(1..=4).contains(&n) => None,
        _ => Some(n),
    }
}

fn integer_expected(field: Field) -> &'static str {
    match field {
        Field::Priority => "a priority from 1 to 4 (or 'P1' to 'P4')",
        _ => "a ticket number (digits)",
    }
}

#[cfg(test)]
mod tests;

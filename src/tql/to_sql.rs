//! TQL → a WHERE fragment over `tickets t` for either backend (DESIGN.md §3: dynamic SQL binds
//! every value). The SQL text holds only column names from this file and `$n` placeholders.
//!
//! `LIKE` is RT's case-insensitive substring match: `ILIKE` on PostgreSQL (pg_trgm GIN indexes),
//! FTS5 trigram tables on SQLite for Subject and Content (a phrase MATCH, for three characters
//! or more: `%` and `_` are plain characters there too), plain `LIKE` otherwise.

use super::TqlError;
use super::ast::{Cond, Expr, Field, Op, Value};
use super::compile::SqlCtx;
use super::dates::{DateValue, resolve_date};
use super::full_text::{Atom, Probing};
use crate::db::{Backend, Ts};
use crate::tickets::store::search::Bind;

pub(super) struct Builder<'a> {
    pub(super) ctx: &'a SqlCtx<'a>,
    pub(super) binds: Vec<Bind>,
    /// Which full-text terms become row-by-row tests (see full_text.rs).
    pub(super) probing: Probing<'a>,
    /// The full-text terms that could, so far.
    pub(super) atoms: Vec<Atom>,
}

impl Builder<'_> {
    fn bind(&mut self, b: Bind) -> String {
        self.binds.push(b);
        format!("${}", self.binds.len())
    }

    pub(super) fn text(&mut self, s: &str) -> String {
        self.bind(Bind::Text(s.to_owned()))
    }

    pub(super) fn like_op(&self) -> &'static str {
        match self.ctx.backend {
            Backend::Sqlite => "LIKE",
            Backend::Postgres => "ILIKE",
        }
    }

    /// `%value%` with the value's own wildcards escaped.
    pub(super) fn like_pattern(&mut self, s: &str) -> String {
        self.text(&crate::db::like_contains(s))
    }

    pub(super) fn expr(&mut self, e: &Expr, depth: usize) -> Result<String, TqlError> {
        if depth > 80 {
            return Err(TqlError {
                position: 0,
                expected: "a shallower query".into(),
                found: "too deep a nesting".into(),
            });
        }
        Ok(match e {
            Expr::And(a, b) => format!(
                "({} AND {})",
                self.expr(a, depth + 1)?,
                self.expr(b, depth + 1)?
            ),
            Expr::Or(a, b) => {
                let (a, b) = (self.expr(a, depth + 1)?, self.expr(b, depth + 1)?);
                match (self.ctx.backend, id_set(&a), id_set(&b)) {
                    // PostgreSQL cannot read `id IN (x) OR id IN (y)` as one set: it tests
                    // every ticket against both (a word in five tickets took 1.9 s at 1M).
                    // One IN over the union is read as a join with the matches.
                    (Backend::Postgres, Some(x), Some(y)) => {
                        format!("t.id IN ({x} UNION ALL {y})")
                    }
                    _ => format!("({a} OR {b})"),
                }
            }
            Expr::Not(a) => format!("(NOT {})", self.expr(a, depth + 1)?),
            Expr::Cond(c) => self.cond(c)?,
        })
    }

    fn cond(&mut self, c: &Cond) -> Result<String, TqlError> {
        let err = |expected: &str, found: String| TqlError {
            position: c.span.start,
            expected: expected.into(),
            found,
        };
        let text = match &c.value {
            Value::Text(s) => Some(s.as_str()),
            _ => None,
        };
        Ok(match c.field {
            Field::Id => self.int_cmp("t.id", c)?,
            Field::Priority => self.int_cmp("t.priority", c)?,
            Field::Queue => self.text_cmp("t.queue", c)?,
            Field::Source => self.text_cmp("t.source", c)?,
            Field::Host => self.text_cmp("t.host", c)?,
            Field::Status => match text {
                Some(v)
                    if v.eq_ignore_ascii_case("__Active__")
                        || v.eq_ignore_ascii_case("__Inactive__") =>
                {
                    let set = if v.eq_ignore_ascii_case("__Active__") {
                        "'new', 'open', 'stalled'"
                    } else {
                        "'resolved', 'rejected', 'deleted'"
                    };
                    match c.op {
                        Op::Eq => format!("t.status IN ({set})"),
                        Op::Ne => format!("t.status NOT IN ({set})"),
                        _ => {
                            return Err(err(
                                "= or != with __Active__/__Inactive__",
                                format!("{:?}", c.op),
                            ));
                        }
                    }
                }
                _ => {
                    let lowered = Cond {
                        value: Value::Text(text.unwrap_or_default().to_ascii_lowercase()),
                        ..c.clone()
                    };
                    self.text_cmp("t.status", &lowered)?
                }
            },
            Field::Subject => self.subject(c)?,
            Field::Content => self.content(c)?,
            Field::Owner => self.owner(c)?,
            Field::Customer => {
                let inner = |op: &str, v: String| {
                    format!("SELECT id FROM customers WHERE code {op} {v} OR name {op} {v}")
                };
                self.subquery("t.customer_id", c, inner)?
            }
            Field::Requestor => self.requestor(c)?,
            Field::Created => self.date("t.created_at", c)?,
            Field::LastUpdated => self.date("t.updated_at", c)?,
            Field::Resolved => self.date("t.resolved_at", c)?,
            Field::Due => self.date("t.due_at", c)?,
            Field::Sla => match (c.op, text) {
                (Op::Eq | Op::Ne, Some(v))
                    if v.eq_ignore_ascii_case("breached") || v.eq_ignore_ascii_case("warning") =>
                {
                    let now = self.bind(Bind::Ts(Ts(self.ctx.now)));
                    // A promise missed: kept after its deadline, or not kept and past it
                    // (the columns tickets::sla keeps; the same rule as SlaView::missed).
                    let breached = format!(
                        "((t.response_due_at IS NOT NULL AND ((t.first_response_at IS NULL AND t.response_due_at <= {now}) \
                         OR (t.first_response_at IS NOT NULL AND t.first_response_at > t.response_due_at))) \
                         OR (t.resolve_due_at IS NOT NULL AND ((t.sla_resolved_at IS NULL AND t.resolve_due_at <= {now}) \
                         OR (t.sla_resolved_at IS NOT NULL AND t.sla_resolved_at > t.resolve_due_at))))"
                    );
                    // "Breaching soon": past the first escalation step, not breached yet.
                    let cond = if v.eq_ignore_ascii_case("breached") {
                        breached
                    } else {
                        format!(
                            "(t.sla_warn_at IS NOT NULL AND t.sla_warn_at <= {now} AND NOT {breached})"
                        )
                    };
                    if c.op == Op::Eq {
                        cond
                    } else {
                        format!("(NOT {cond})")
                    }
                }
                _ => self.text_cmp("t.sla_policy", c)?,
            },
        })
    }

    fn int_cmp(&mut self, col: &str, c: &Cond) -> Result<String, TqlError> {
        let Value::Int(v) = c.value else {
            return Err(TqlError {
                position: c.span.start,
                expected: "a number".into(),
                found: format!("{:?}", c.value),
            });
        };
        let p = self.bind(Bind::Int(v));
        Ok(format!("{col} {} {p}", sql_op(c.op)))
    }

    pub(super) fn text_cmp(&mut self, col: &str, c: &Cond) -> Result<String, TqlError> {
        Ok(match (&c.op, &c.value) {
            (Op::IsNull, _) => format!("{col} IS NULL"),
            (Op::IsNotNull, _) => format!("{col} IS NOT NULL"),
            (Op::Like, Value::Text(s)) => format!(
                "{col} {} {} ESCAPE '\\'",
                self.like_op(),
                self.like_pattern(s)
            ),
            (Op::NotLike, Value::Text(s)) => {
                format!(
                    "({col} IS NULL OR {col} NOT {} {} ESCAPE '\\')",
                    self.like_op(),
                    self.like_pattern(s)
                )
            }
            (Op::Ne, v) => {
                let p = self.value(v);
                format!("({col} IS NULL OR {col} <> {p})")
            }
            (op, v) => {
                let p = self.value(v);
                format!("{col} {} {p}", sql_op(*op))
            }
        })
    }

    fn value(&mut self, v: &Value) -> String {
        match v {
            Value::Int(i) => self.bind(Bind::Text(i.to_string())),
            Value::Text(s) => self.text(s),
            Value::None => "NULL".into(),
        }
    }

    /// `col IN (subquery)` for the match, `NOT IN` (or NULL) for the negations.
    fn subquery(
        &mut self,
        col: &str,
        c: &Cond,
        inner: impl Fn(&str, String) -> String,
    ) -> Result<String, TqlError> {
        let like = self.like_op();
        Ok(match (&c.op, &c.value) {
            (Op::IsNull, _) => format!("{col} IS NULL"),
            (Op::IsNotNull, _) => format!("{col} IS NOT NULL"),
            (Op::Eq, Value::Text(s)) => {
                let p = self.text(s);
                format!("{col} IN ({})", inner("=", p))
            }
            (Op::Ne, Value::Text(s)) => {
                let p = self.text(s);
                format!("({col} IS NULL OR {col} NOT IN ({}))", inner("=", p))
            }
            (Op::Like, Value::Text(s)) => {
                let p = self.like_pattern(s);
                format!("{col} IN ({})", inner(like, format!("{p} ESCAPE '\\'")))
            }
            (Op::NotLike, Value::Text(s)) => {
                let p = self.like_pattern(s);
                format!(
                    "({col} IS NULL OR {col} NOT IN ({}))",
                    inner(like, format!("{p} ESCAPE '\\'"))
                )
            }
            (op, _) => {
                return Err(TqlError {
                    position: c.span.start,
                    expected: "=, !=, LIKE or NOT LIKE".into(),
                    found: format!("{op:?}"),
                });
            }
        })
    }

    fn owner(&mut self, c: &Cond) -> Result<String, TqlError> {
        let name = match &c.value {
            Value::Text(s) if s.eq_ignore_ascii_case("Nobody") => {
                return Ok(match c.op {
                    Op::Eq => "t.owner_id IS NULL".into(),
                    Op::Ne => "t.owner_id IS NOT NULL".into(),
                    _ => {
                        return Err(TqlError {
                            position: c.span.start,
                            expected: "= or != with Nobody".into(),
                            found: format!("{:?}", c.op),
                        });
                    }
                });
            }
            Value::Text(s) if s.eq_ignore_ascii_case("__CurrentUser__") => {
                match self.ctx.current_user {
                    Some(u) => u.to_owned(),
                    None => return Ok("1 = 0".into()),
                }
            }
            Value::Text(s) => s.clone(),
            _ => String::new(),
        };
        let c = Cond {
            value: if name.is_empty() {
                c.value.clone()
            } else {
                Value::Text(name)
            },
            ..c.clone()
        };
        self.subquery("t.owner_id", &c, |op, v| {
            format!("SELECT id FROM users WHERE username {op} {v}")
        })
    }

    fn requestor(&mut self, c: &Cond) -> Result<String, TqlError> {
        let sub = |op: &str, v: String| {
            format!(
                "SELECT ticket_id FROM ticket_watchers WHERE role = 'requestor' AND email {op} {v}"
            )
        };
        let like = self.like_op();
        Ok(match (&c.op, &c.value) {
            (Op::IsNull, _) => {
                "t.id NOT IN (SELECT ticket_id FROM ticket_watchers WHERE role = 'requestor')"
                    .to_owned()
            }
            (Op::IsNotNull, _) => {
                "t.id IN (SELECT ticket_id FROM ticket_watchers WHERE role = 'requestor')"
                    .to_owned()
            }
            (Op::Eq, Value::Text(s)) => {
                format!("t.id IN ({})", sub("=", self.text(&s.to_ascii_lowercase())))
            }
            (Op::Ne, Value::Text(s)) => format!(
                "t.id NOT IN ({})",
                sub("=", self.text(&s.to_ascii_lowercase()))
            ),
            (Op::Like, Value::Text(s)) => format!(
                "t.id IN ({})",
                sub(like, format!("{} ESCAPE '\\'", self.like_pattern(s)))
            ),
            (Op::NotLike, Value::Text(s)) => format!(
                "t.id NOT IN ({})",
                sub(like, format!("{} ESCAPE '\\'", self.like_pattern(s)))
            ),
            (op, _) => {
                return Err(TqlError {
                    position: c.span.start,
                    expected: "=, !=, LIKE or NOT LIKE".into(),
                    found: format!("{op:?}"),
                });
            }
        })
    }

    fn date(&mut self, col: &str, c: &Cond) -> Result<String, TqlError> {
        match c.op {
            Op::IsNull => return Ok(format!("{col} IS NULL")),
            Op::IsNotNull => return Ok(format!("{col} IS NOT NULL")),
            _ => {}
        }
        let Value::Text(s) = &c.value else {
            return Err(TqlError {
                position: c.span.start,
                expected: "a date".into(),
                found: format!("{:?}", c.value),
            });
        };
        let d = resolve_date(s, self.ctx.now, &self.ctx.tz).map_err(|m| TqlError {
            position: c.span.start,
            expected: "a date such as '2026-11-01' or '-2 hours'".into(),
            found: m,
        })?;
        let (start, end) = match d {
            DateValue::Instant(t) => (t, t),
            DateValue::Day { start, end } => (start, end),
        };
        let is_day = start != end;
        let a = self.bind(Bind::Ts(Ts(start)));
        Ok(match c.op {
            Op::Eq if is_day => {
                let b = self.bind(Bind::Ts(Ts(end)));
                format!("({col} >= {a} AND {col} < {b})")
            }
            Op::Ne if is_day => {
                let b = self.bind(Bind::Ts(Ts(end)));
                format!("({col} IS NULL OR {col} < {a} OR {col} >= {b})")
            }
            Op::Le | Op::Gt if is_day => {
                // "on or before the day" ends where the day ends.
                self.binds.pop();
                let b = self.bind(Bind::Ts(Ts(end)));
                if c.op == Op::Le {
                    format!("{col} < {b}")
                } else {
                    format!("{col} >= {b}")
                }
            }
            Op::Lt | Op::Ge | Op::Eq | Op::Le | Op::Gt => format!("{col} {} {a}", sql_op(c.op)),
            Op::Ne => format!("({col} IS NULL OR {col} <> {a})"),
            op => {
                return Err(TqlError {
                    position: c.span.start,
                    expected: "a comparison".into(),
                    found: format!("{op:?}"),
                });
            }
        })
    }
}

fn sql_op(op: Op) -> &'static str {
    match op {
        Op::Eq => "=",
        Op::Ne => "<>",
        Op::Lt => "<",
        Op::Le => "<=",
        Op::Gt => ">",
        Op::Ge => ">=",
        Op::Like => "LIKE",
        Op::NotLike => "NOT LIKE",
        Op::IsNull => "IS NULL",
        Op::IsNotNull => "IS NOT NULL",
    }
}

/// The subquery of a condition that is exactly `t.id IN (subquery)`, if it is one. The SQL is
/// ours (values are binds, and the only literals hold no parentheses), so counting parentheses
/// finds where the IN's list ends.
fn id_set(sql: &str) -> Option<&str> {
    let inner = sql.strip_prefix("t.id IN (")?.strip_suffix(')')?;
    let mut depth = 0_i32;
    for ch in inner.chars() {
        match ch {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return None;
                }
            }
            _ => {}
        }
    }
    (depth == 0).then_some(inner)
}

//! The validated query tree the SQL compiler consumes. A tree from [`super::parse`] only holds
//! field/operator/value combinations that make sense (see [`Field::allows`]), so the compiler can
//! translate without re-checking.

use std::fmt;

/// A boolean combination of conditions. `AND`/`OR` chains nest to the left, as they are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Cond(Cond),
}

/// One `field op value` test; the span lets later stages (e.g. a `__CurrentUser__` lookup that
/// fails) point back at the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cond {
    pub field: Field,
    pub op: Op,
    pub value: Value,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    Id,
    Queue,
    Status,
    Priority,
    Owner,
    Requestor,
    Customer,
    Subject,
    Content,
    Created,
    LastUpdated,
    Resolved,
    Due,
    Source,
    Host,
    Sla,
}

/// What a field holds decides which operators and values are meaningful.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// `id`, `Priority`: exact numbers, compared with `=`, `!=`, `<` ...
    Integer,
    /// Names and short strings: `=` is exact, `LIKE` a case-insensitive substring match.
    Text,
    /// `Content`: searched through the full-text index, so only `LIKE` / `NOT LIKE`.
    FullText,
    /// Timestamps; the value is a date expression for [`super::resolve_date`].
    Date,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Like,
    NotLike,
    IsNull,
    IsNotNull,
}

/// Dates are `Text` (the user's words, resolved later); integer fields always hold `Int`; `None`
/// goes with `IS NULL` / `IS NOT NULL` and nothing else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Text(String),
    Int(i64),
    None,
}

/// 0-based character offsets into the query, end exclusive: characters, not bytes, because that
/// is what a caret under a text box counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Field {
    pub const ALL: [Field; 16] = [
        Field::Id,
        Field::Queue,
        Field::Status,
        Field::Priority,
        Field::Owner,
        Field::Requestor,
        Field::Customer,
        Field::Subject,
        Field::Content,
        Field::Created,
        Field::LastUpdated,
        Field::Resolved,
        Field::Due,
        Field::Source,
        Field::Host,
        Field::Sla,
    ];

    /// The spelling RT uses, which is also what [`Expr`]'s `Display` prints.
    pub fn name(self) -> &'static str {
        match self {
            Field::Id => "id",
            Field::Queue => "Queue",
            Field::Status => "Status",
            Field::Priority => "Priority",
            Field::Owner => "Owner",
            Field::Requestor => "Requestor",
            Field::Customer => "Customer",
            Field::Subject => "Subject",
            Field::Content => "Content",
            Field::Created => "Created",
            Field::LastUpdated => "LastUpdated",
            Field::Resolved => "Resolved",
            Field::Due => "Due",
            Field::Source => "Source",
            Field::Host => "Host",
            Field::Sla => "SLA",
        }
    }

    pub fn kind(self) -> FieldKind {
        match self {
            Field::Id | Field::Priority => FieldKind::Integer,
            Field::Content => FieldKind::FullText,
            Field::Created | Field::LastUpdated | Field::Resolved | Field::Due => FieldKind::Date,
            _ => FieldKind::Text,
        }
    }

    /// Case-insensitive, with the aliases RT users type (`Requestors`, `Requestor.EmailAddress`,
    /// `Updated`), so pasted RT searches keep working.
    pub fn from_name(name: &str) -> Option<Field> {
        const ALIASES: [(&str, Field); 4] = [
            ("Requestors", Field::Requestor),
            ("Requestor.EmailAddress", Field::Requestor),
            ("Requestors.EmailAddress", Field::Requestor),
            ("Updated", Field::LastUpdated),
        ];
        Field::ALL
            .iter()
            .map(|f| (f.name(), *f))
            .chain(ALIASES)
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, f)| f)
    }

    /// The fields that can be empty on a ticket: nobody owns it yet, it has no customer, it is not
    /// resolved, no due date, no host, no SLA policy, or (for alert tickets) no requestor.
    pub fn nullable(self) -> bool {
        matches!(
            self,
            Field::Owner
                | Field::Requestor
                | Field::Customer
                | Field::Resolved
                | Field::Due
                | Field::Host
                | Field::Sla
        )
    }

    /// The one rule of which operators a field takes; the parser rejects anything else.
    pub fn allows(self, op: Op) -> bool {
        let kind = self.kind();
        match op {
            Op::Eq | Op::Ne => kind != FieldKind::FullText,
            Op::Lt | Op::Le | Op::Gt | Op::Ge => {
                matches!(kind, FieldKind::Integer | FieldKind::Date)
            }
            Op::Like | Op::NotLike => matches!(kind, FieldKind::Text | FieldKind::FullText),
            Op::IsNull | Op::IsNotNull => self.nullable(),
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Op {
    pub const ALL: [Op; 10] = [
        Op::Eq,
        Op::Ne,
        Op::Lt,
        Op::Le,
        Op::Gt,
        Op::Ge,
        Op::Like,
        Op::NotLike,
        Op::IsNull,
        Op::IsNotNull,
    ];

    pub fn symbol(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
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
}

impl Expr {
    /// The same tree with every span zeroed: two queries that differ only in spacing or in
    /// redundant parentheses compare equal after this.
    pub fn without_spans(&self) -> Expr {
        match self {
            Expr::And(l, r) => Expr::And(Box::new(l.without_spans()), Box::new(r.without_spans())),
            Expr::Or(l, r) => Expr::Or(Box::new(l.without_spans()), Box::new(r.without_spans())),
            Expr::Not(e) => Expr::Not(Box::new(e.without_spans())),
            Expr::Cond(c) => Expr::Cond(Cond {
                span: Span { start: 0, end: 0 },
                ..c.clone()
            }),
        }
    }

    /// The operands of the query's top-level OR chain (`A OR B OR C` gives A, B and C; any
    /// other tree gives itself): each matches a subset of the whole, so any one's count is a
    /// lower bound of the query's.
    pub fn alternatives(&self) -> Vec<&Expr> {
        match self {
            Expr::Or(l, r) => {
                let mut all = l.alternatives();
                all.extend(r.alternatives());
                all
            }
            other => vec![other],
        }
    }

    /// Binding strength as printed: OR < AND < NOT/condition. Parentheses go where an operand
    /// binds more loosely than its position needs, which also keeps left-nesting explicit.
    fn strength(&self) -> u8 {
        match self {
            Expr::Or(..) => 1,
            Expr::And(..) => 2,
            Expr::Not(_) | Expr::Cond(_) => 3,
        }
    }

    fn fmt_operand(&self, f: &mut fmt::Formatter<'_>, min: u8) -> fmt::Result {
        if self.strength() < min {
            write!(f, "({self})")
        } else {
            write!(f, "{self}")
        }
    }
}

/// Prints TQL that parses back to the same tree (spans aside), for saved searches and for
/// showing users the query as understood.
impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Or(l, r) => {
                l.fmt_operand(f, 1)?;
                f.write_str(" OR ")?;
                r.fmt_operand(f, 2)
            }
            Expr::And(l, r) => {
                l.fmt_operand(f, 2)?;
                f.write_str(" AND ")?;
                r.fmt_operand(f, 3)
            }
            Expr::Not(e) => {
                f.write_str("NOT ")?;
                e.fmt_operand(f, 3)
            }
            Expr::Cond(c) => write!(f, "{c}"),
        }
    }
}

impl fmt::Display for Cond {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.field.name(), self.op.symbol())?;
        match &self.value {
            Value::None => Ok(()),
            value => write!(f, " {value}"),
        }
    }
}

/// Text is always single-quoted (quotes doubled) so it can never be read back as a keyword.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Text(s) => write!(f, "'{}'", s.replace('\'', "''")),
            Value::Int(n) => write!(f, "{n}"),
            Value::None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cond(field: Field, op: Op, value: Value) -> Expr {
        Expr::Cond(Cond {
            field,
            op,
            value,
            span: Span { start: 0, end: 0 },
        })
    }

    #[test]
    fn every_field_is_found_by_its_own_name_in_any_case() {
        for field in Field::ALL {
            assert_eq!(Field::from_name(field.name()), Some(field));
            assert_eq!(Field::from_name(&field.name().to_uppercase()), Some(field));
            assert_eq!(Field::from_name(&field.name().to_lowercase()), Some(field));
        }
    }

    #[test]
    fn alternatives_are_the_top_level_or_chain_only() {
        let shown = |q: &str| -> Vec<String> {
            let e = crate::tql::parse(q).unwrap();
            e.alternatives().iter().map(|a| a.to_string()).collect()
        };
        assert_eq!(
            shown("Subject LIKE 'a' OR Content LIKE 'a' OR Queue = 'NOC'"),
            ["Subject LIKE 'a'", "Content LIKE 'a'", "Queue = 'NOC'"]
        );
        assert_eq!(
            shown("(Subject LIKE 'a' OR Queue = 'NOC') AND Priority = 1"),
            ["(Subject LIKE 'a' OR Queue = 'NOC') AND Priority = 1"]
        );
        assert_eq!(
            shown("NOT (Subject LIKE 'a' OR Queue = 'NOC')"),
            ["NOT (Subject LIKE 'a' OR Queue = 'NOC')"]
        );
        assert_eq!(
            shown("Priority = 1 OR (Queue = 'NOC' OR Status = 'new')"),
            ["Priority = 1", "Queue = 'NOC'", "Status = 'new'"]
        );
    }

    #[test]
    fn rt_aliases_name_the_same_fields() {
        assert_eq!(Field::from_name("requestors"), Some(Field::Requestor));
        assert_eq!(
            Field::from_name("Requestor.EmailAddress"),
            Some(Field::Requestor)
        );
        assert_eq!(Field::from_name("UPDATED"), Some(Field::LastUpdated));
        assert_eq!(Field::from_name("Told"), None);
        assert_eq!(Field::from_name("Colour"), None);
    }

    #[test]
    fn field_kinds_follow_the_contract() {
        assert_eq!(Field::Id.kind(), FieldKind::Integer);
        assert_eq!(Field::Priority.kind(), FieldKind::Integer);
        assert_eq!(Field::Content.kind(), FieldKind::FullText);
        assert_eq!(Field::Due.kind(), FieldKind::Date);
        assert_eq!(Field::Sla.kind(), FieldKind::Text);
        assert_eq!(Field::Sla.name(), "SLA");
    }

    #[test]
    fn operators_are_allowed_only_where_they_mean_something() {
        assert!(Field::Subject.allows(Op::Like));
        assert!(!Field::Priority.allows(Op::Like));
        assert!(!Field::Content.allows(Op::Eq));
        assert!(Field::Content.allows(Op::NotLike));
        assert!(!Field::Subject.allows(Op::Lt));
        assert!(Field::Created.allows(Op::Ge));
        assert!(Field::Owner.allows(Op::IsNull));
        assert!(!Field::Subject.allows(Op::IsNotNull));
    }

    #[test]
    fn display_quotes_text_and_doubles_quotes_inside() {
        let e = cond(Field::Subject, Op::Eq, Value::Text("it's".into()));
        assert_eq!(e.to_string(), "Subject = 'it''s'");
        let e = cond(Field::Due, Op::IsNotNull, Value::None);
        assert_eq!(e.to_string(), "Due IS NOT NULL");
    }

    #[test]
    fn display_parenthesises_only_where_precedence_or_left_nesting_needs_it() {
        let a = || cond(Field::Id, Op::Eq, Value::Int(1));
        let or = |l, r| Expr::Or(Box::new(l), Box::new(r));
        let and = |l, r| Expr::And(Box::new(l), Box::new(r));
        assert_eq!(
            or(or(a(), a()), a()).to_string(),
            "id = 1 OR id = 1 OR id = 1"
        );
        assert_eq!(
            or(a(), or(a(), a())).to_string(),
            "id = 1 OR (id = 1 OR id = 1)"
        );
        assert_eq!(
            and(or(a(), a()), a()).to_string(),
            "(id = 1 OR id = 1) AND id = 1"
        );
        assert_eq!(
            or(and(a(), a()), a()).to_string(),
            "id = 1 AND id = 1 OR id = 1"
        );
        assert_eq!(
            Expr::Not(Box::new(and(a(), a()))).to_string(),
            "NOT (id = 1 AND id = 1)"
        );
    }
}

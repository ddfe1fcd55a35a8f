//! Splits a query into tokens on demand. The parser pulls one token at a time, so the first
//! mistake reported is the leftmost one, whether it is a lexical one (an unclosed quote) or a
//! grammatical one (an unknown field before it).

use super::{Span, TqlError, quote_found};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    LParen,
    RParen,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// A quoted string, quotes removed and doubled quotes undone.
    Str(String),
    /// A run of ASCII digits, kept as text: `Subject = 007` must stay "007".
    Number(String),
    /// Anything else unquoted: fields, keywords, and RT-style bare values (`Status = open`).
    Word(String),
    End,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub tok: Tok,
    pub span: Span,
}

impl Token {
    /// Keywords are matched case-insensitively, as in RT.
    pub fn is_keyword(&self, keyword: &str) -> bool {
        matches!(&self.tok, Tok::Word(w) if w.eq_ignore_ascii_case(keyword))
    }
}

pub(crate) struct Lexer {
    chars: Vec<char>,
    pos: usize,
}

/// Characters that end a bare word; everything else (`@`, `.`, `-`, `_` ...) may be part of one
/// so addresses and `Requestor.EmailAddress` need no quotes.
fn ends_word(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | ')' | '=' | '!' | '<' | '>' | '\'' | '"')
}

impl Lexer {
    pub fn new(query: &str) -> Self {
        Self {
            chars: query.chars().collect(),
            pos: 0,
        }
    }

    pub fn char_count(&self) -> usize {
        self.chars.len()
    }

    /// How a token is shown in `found`: its source text, bounded; the end as words.
    pub fn describe(&self, token: &Token) -> String {
        if token.tok == Tok::End {
            return "end of query".to_owned();
        }
        let raw: String = self
            .chars
            .get(token.span.start..token.span.end)
            .unwrap_or_default()
            .iter()
            .collect();
        match token.tok {
            // Already quoted in the source; wrapping it again would only confuse.
            Tok::Str(_) if raw.chars().count() <= 40 => raw,
            _ => quote_found(&raw),
        }
    }

    fn peek_char(&self, offset: usize) -> Option<char> {
        self.chars.get(self.pos + offset).copied()
    }

    pub fn next_token(&mut self) -> Result<Token, TqlError> {
        while self.peek_char(0).is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
        let start = self.pos;
        let Some(c) = self.peek_char(0) else {
            return Ok(self.token(Tok::End, start));
        };
        if c == '\0' {
            return Err(nul_at(start));
        }
        let next = self.peek_char(1);
        let (tok, width) = match (c, next) {
            ('(', _) => (Tok::LParen, 1),
            (')', _) => (Tok::RParen, 1),
            ('=', _) => (Tok::Eq, 1),
            ('!', Some('=')) => (Tok::Ne, 2),
            ('!', _) => {
                return Err(TqlError::new(
                    start,
                    "an operator ('!' is only used in '!=')",
                    quote_found("!"),
                ));
            }
            ('<', Some('=')) => (Tok::Le, 2),
            ('<', Some('>')) => (Tok::Ne, 2),
            ('<', _) => (Tok::Lt, 1),
            ('>', Some('=')) => (Tok::Ge, 2),
            ('>', _) => (Tok::Gt, 1),
            ('\'' | '"', _) => return self.string(c),
            _ => return self.word(),
        };
        self.pos += width;
        Ok(self.token(tok, start))
    }

    fn token(&self, tok: Tok, start: usize) -> Token {
        Token {
            tok,
            span: Span {
                start,
                end: self.pos,
            },
        }
    }

    /// A string runs to the next lone quote of the same kind; a doubled quote is one quote, as in
    /// SQL and RT. Nothing inside is special, which is what keeps user text data.
    fn string(&mut self, quote: char) -> Result<Token, TqlError> {
        let start = self.pos;
        self.pos += 1;
        let mut text = String::new();
        loop {
            match (self.peek_char(0), self.peek_char(1)) {
                (None, _) => {
                    return Err(TqlError::new(
                        self.char_count(),
                        format!("a closing {quote} for the string that starts at position {start}"),
                        "end of query",
                    ));
                }
                (Some(c), Some(d)) if c == quote && d == quote => {
                    text.push(quote);
                    self.pos += 2;
                }
                (Some(c), _) if c == quote => {
                    self.pos += 1;
                    return Ok(self.token(Tok::Str(text), start));
                }
                (Some('\0'), _) => return Err(nul_at(self.pos)),
                (Some(c), _) => {
                    text.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    fn word(&mut self) -> Result<Token, TqlError> {
        let start = self.pos;
        while let Some(c) = self.peek_char(0).filter(|&c| !ends_word(c)) {
            if c == '\0' {
                return Err(nul_at(self.pos));
            }
            self.pos += 1;
        }
        let text: String = self
            .chars
            .get(start..self.pos)
            .unwrap_or_default()
            .iter()
            .collect();
        let tok = if text.chars().all(|c| c.is_ascii_digit()) {
            Tok::Number(text)
        } else {
            Tok::Word(text)
        };
        Ok(self.token(tok, start))
    }
}

/// NUL is refused anywhere in a query: FTS5 reads a MATCH phrase as a C string (one cut short
/// there is "unterminated", a 500 that schemathesis found) and PostgreSQL text cannot hold it.
fn nul_at(position: usize) -> TqlError {
    TqlError::new(position, "a character other than NUL", "NUL (U+0000)")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lex(query: &str) -> Result<Vec<Tok>, TqlError> {
        let mut lexer = Lexer::new(query);
        let mut out = Vec::new();
        loop {
            let t = lexer.next_token()?;
            if t.tok == Tok::End {
                return Ok(out);
            }
            out.push(t.tok);
        }
    }

    fn word(s: &str) -> Tok {
        Tok::Word(s.into())
    }

    #[test]
    fn operators_need_no_spaces_around_them() {
        assert_eq!(
            lex("Priority<=2").unwrap(),
            vec![word("Priority"), Tok::Le, Tok::Number("2".into())]
        );
        assert_eq!(
            lex("a<>b!=c>=d<e>f=g").unwrap(),
            vec![
                word("a"),
                Tok::Ne,
                word("b"),
                Tok::Ne,
                word("c"),
                Tok::Ge,
                word("d"),
                Tok::Lt,
                word("e"),
                Tok::Gt,
                word("f"),
                Tok::Eq,
                word("g")
            ]
        );
    }

    #[test]
    fn doubled_quotes_inside_strings_are_one_quote() {
        assert_eq!(lex("'it''s'").unwrap(), vec![Tok::Str("it's".into())]);
        assert_eq!(
            lex(r#""say ""hi""""#).unwrap(),
            vec![Tok::Str(r#"say "hi""#.into())]
        );
        assert_eq!(
            lex(r#"'a "b"'"#).unwrap(),
            vec![Tok::Str(r#"a "b""#.into())]
        );
        assert_eq!(lex("''").unwrap(), vec![Tok::Str(String::new())]);
    }

    #[test]
    fn an_unclosed_string_is_reported_at_the_end_naming_where_it_began() {
        let err = lex("Subject = 'abc").unwrap_err();
        assert_eq!(err.position, 14);
        assert_eq!(err.found, "end of query");
        assert!(err.expected.contains("position 10"), "{err}");
    }

    #[test]
    fn a_nul_is_refused_at_its_position_in_a_string_a_word_or_between_tokens() {
        for (query, position) in [
            ("Subject LIKE 'ab\0cd'", 16),
            ("Queue = NO\0C", 10),
            ("id = 1 \0", 7),
        ] {
            let err = lex(query).unwrap_err();
            assert_eq!(err.position, position, "{query:?}: {err}");
            assert_eq!(err.found, "NUL (U+0000)");
        }
    }

    #[test]
    fn a_lone_bang_is_an_error_at_its_position() {
        let err = lex("id ! 3").unwrap_err();
        assert_eq!(err.position, 3);
    }

    #[test]
    fn bare_words_keep_addresses_and_dotted_names_whole() {
        assert_eq!(
            lex("Requestor.EmailAddress = bob@example.net").unwrap(),
            vec![
                word("Requestor.EmailAddress"),
                Tok::Eq,
                word("bob@example.net")
            ]
        );
        assert_eq!(lex("42abc").unwrap(), vec![word("42abc")]);
    }

    #[test]
    fn spans_count_characters_not_bytes() {
        let mut lexer = Lexer::new("'é' x");
        lexer.next_token().unwrap();
        let t = lexer.next_token().unwrap();
        assert_eq!(t.span, Span { start: 4, end: 5 });
    }
}

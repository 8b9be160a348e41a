//! Hitachi CSCIW `Filter` and `Sort` strings: an SQL-like subset parsed
//! into a syntax tree and compiled to SQL over the `work_items` view with
//! every literal a bound parameter. Nothing a client sends is ever pasted
//! into SQL: property names are looked up in a fixed table, operators and
//! keywords come from the grammar, literals become parameters.
//!
//! ```text
//! filter     = or
//! or         = and { OR and }
//! and        = not { AND not }
//! not        = NOT not | primary
//! primary    = "(" or ")" | comparison
//! comparison = prop op literal
//!            | prop [NOT] LIKE string
//!            | prop [NOT] IN "(" literal { "," literal } ")"
//!            | prop IS [NOT] NULL
//! op         = "=" | "<>" | "!=" | "<" | ">" | "<=" | ">="
//! literal    = 'string' ('' inside for a quote) | number
//! sort       = prop [ASC | DESC] { "," prop [ASC | DESC] }
//! ```
//!
//! A quoted literal is read by its property's [`Kind`]: a number for a
//! numeric property, an instant for a date-and-time property (written with
//! an offset, as the dialect writes them), a date for `Deadline`.

use rusqlite::types::Value;

/// Filters longer than this are refused (they are meant to be short).
pub const MAX_LEN: usize = 4_000;
/// Nesting deeper than this is refused.
const MAX_DEPTH: usize = 64;

/// A WorkItem property and its column in the `work_items` view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Property {
    pub name: &'static str,
    pub kind: Kind,
}

/// What a property's column holds, which decides how a quoted literal
/// compared with it is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    /// Quoted numbers compare as numbers (clients write every value as a string).
    Number,
    /// Fixed-width UTC text; a literal with an offset, as the dialect writes
    /// instants (`2016-12-09T15:54:55+09:00`), compares as that instant.
    Instant,
    /// A date (`2026-11-30`); a literal with an offset names the date it
    /// was written on, so the deadline the dialect writes (the end of that
    /// day) finds its item.
    Date,
}

pub const PROPERTIES: [Property; 16] = [
    Property {
        name: "ActivityInstanceID",
        kind: Kind::Number,
    },
    Property {
        name: "ClosedDate",
        kind: Kind::Instant,
    },
    Property {
        name: "CreationDate",
        kind: Kind::Instant,
    },
    Property {
        name: "Deadline",
        kind: Kind::Date,
    },
    Property {
        name: "ID",
        kind: Kind::Number,
    },
    Property {
        name: "Name",
        kind: Kind::Text,
    },
    Property {
        name: "Participant",
        kind: Kind::Text,
    },
    Property {
        name: "Priority",
        kind: Kind::Number,
    },
    Property {
        name: "ProcessDefinitionID",
        kind: Kind::Number,
    },
    Property {
        name: "ProcessInstanceID",
        kind: Kind::Number,
    },
    Property {
        name: "ProcessInstanceName",
        kind: Kind::Text,
    },
    Property {
        name: "StartDate",
        kind: Kind::Instant,
    },
    Property {
        name: "StateCode",
        kind: Kind::Text,
    },
    Property {
        name: "WorkDefinitionID",
        kind: Kind::Number,
    },
    Property {
        name: "WorkDefinitionName",
        kind: Kind::Text,
    },
    Property {
        name: "WorkTypeCode",
        kind: Kind::Text,
    },
];

fn property(name: &str) -> Option<Property> {
    PROPERTIES
        .into_iter()
        .find(|p| p.name.eq_ignore_ascii_case(name))
}

/// A filter or sort the parser refused, with where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} at position {at}: {message}")]
pub struct FilterError {
    pub what: &'static str,
    pub at: usize,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    Str(String),
    Num(String),
    Op(&'static str),
    LParen,
    RParen,
    Comma,
}

fn tokenize(text: &str, what: &'static str) -> Result<Vec<(usize, Token)>, FilterError> {
    let err = |at: usize, message: String| FilterError { what, at, message };
    if text.len() > MAX_LEN {
        return Err(err(MAX_LEN, format!("longer than {MAX_LEN} bytes")));
    }
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push((at, Token::LParen));
                i += 1;
            }
            ')' => {
                out.push((at, Token::RParen));
                i += 1;
            }
            ',' => {
                out.push((at, Token::Comma));
                i += 1;
            }
            '\'' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(err(at, "unterminated string".into())),
                        Some((_, '\'')) if chars.get(i + 1).map(|c| c.1) == Some('\'') => {
                            s.push('\'');
                            i += 2;
                        }
                        Some((_, '\'')) => {
                            i += 1;
                            break;
                        }
                        Some((_, ch)) => {
                            s.push(*ch);
                            i += 1;
                        }
                    }
                }
                out.push((at, Token::Str(s)));
            }
            '=' => {
                out.push((at, Token::Op("=")));
                i += 1;
            }
            '<' | '>' | '!' => {
                let next = chars.get(i + 1).map(|c| c.1);
                let op = match (c, next) {
                    ('<', Some('>')) => "<>",
                    ('<', Some('=')) => "<=",
                    ('>', Some('=')) => ">=",
                    ('!', Some('=')) => "!=",
                    ('<', _) => "<",
                    ('>', _) => ">",
                    _ => return Err(err(at, "'!' must be followed by '='".into())),
                };
                i += op.len();
                out.push((at, Token::Op(op)));
            }
            c if c.is_ascii_digit()
                || ((c == '-' || c == '+')
                    && chars.get(i + 1).is_some_and(|n| n.1.is_ascii_digit())) =>
            {
                let start = i;
                i += 1;
                while chars
                    .get(i)
                    .is_some_and(|c| c.1.is_ascii_digit() || c.1 == '.')
                {
                    i += 1;
                }
                let s: String = chars[start..i].iter().map(|c| c.1).collect();
                if s.matches('.').count() > 1 {
                    return Err(err(at, format!("{s:?} is not a number")));
                }
                out.push((at, Token::Num(s)));
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let start = i;
                while chars
                    .get(i)
                    .is_some_and(|c| c.1.is_ascii_alphanumeric() || c.1 == '_')
                {
                    i += 1;
                }
                out.push((
                    at,
                    Token::Ident(chars[start..i].iter().map(|c| c.1).collect()),
                ));
            }
            other => return Err(err(at, format!("unexpected character {other:?}"))),
        }
    }
    Ok(out)
}

/// A compiled filter: SQL over the `work_items` view and its parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Compiled {
    pub sql: String,
    pub params: Vec<Value>,
}

/// A quoted literal as the value its property's column is compared with.
fn quoted(prop: Property, text: String) -> Value {
    let trimmed = text.trim();
    match prop.kind {
        Kind::Text => Value::Text(text),
        Kind::Number => match trimmed.parse::<i64>() {
            Ok(n) => Value::Integer(n),
            Err(_) => Value::Text(text),
        },
        Kind::Instant => match trimmed.parse::<jiff::Timestamp>() {
            Ok(ts) => Value::Text(tasklane_core::time::format_ts(ts)),
            Err(_) => Value::Text(text),
        },
        Kind::Date => match (
            trimmed.parse::<jiff::Timestamp>(),
            trimmed.get(..10).map(str::parse::<jiff::civil::Date>),
        ) {
            (Ok(_), Some(Ok(date))) => Value::Text(date.strftime("%Y-%m-%d").to_string()),
            _ => Value::Text(text),
        },
    }
}

struct Parser {
    tokens: Vec<(usize, Token)>,
    pos: usize,
    end: usize,
    params: Vec<Value>,
    depth: usize,
}

impl Parser {
    fn err(&self, message: impl Into<String>) -> FilterError {
        FilterError {
            what: "filter",
            at: self.tokens.get(self.pos).map_or(self.end, |t| t.0),
            message: message.into(),
        }
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos).map(|t| &t.1)
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Ident(w)) if w.eq_ignore_ascii_case(word))
    }

    fn eat_keyword(&mut self, word: &str) -> bool {
        if self.keyword(word) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn or(&mut self) -> Result<String, FilterError> {
        let mut sql = self.and()?;
        while self.eat_keyword("OR") {
            sql = format!("({sql} OR {})", self.and()?);
        }
        Ok(sql)
    }

    fn and(&mut self) -> Result<String, FilterError> {
        let mut sql = self.not()?;
        while self.eat_keyword("AND") {
            sql = format!("({sql} AND {})", self.not()?);
        }
        Ok(sql)
    }

    fn not(&mut self) -> Result<String, FilterError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err("nested too deeply"));
        }
        let sql = if self.eat_keyword("NOT") {
            format!("(NOT {})", self.not()?)
        } else {
            self.primary()?
        };
        self.depth -= 1;
        Ok(sql)
    }

    fn primary(&mut self) -> Result<String, FilterError> {
        if self.peek() == Some(&Token::LParen) {
            self.pos += 1;
            let inner = self.or()?;
            if self.peek() != Some(&Token::RParen) {
                return Err(self.err("expected ')'"));
            }
            self.pos += 1;
            return Ok(format!("({inner})"));
        }
        self.comparison()
    }

    fn literal(&mut self, prop: Property) -> Result<(), FilterError> {
        let value = match self.peek().cloned() {
            Some(Token::Str(s)) => quoted(prop, s),
            Some(Token::Num(n)) => match n.parse::<i64>() {
                Ok(i) => Value::Integer(i),
                Err(_) => Value::Real(
                    n.parse::<f64>()
                        .map_err(|_| self.err(format!("{n:?} is not a number")))?,
                ),
            },
            _ => return Err(self.err("expected a quoted string or a number")),
        };
        self.pos += 1;
        self.params.push(value);
        Ok(())
    }

    fn comparison(&mut self) -> Result<String, FilterError> {
        let Some(Token::Ident(name)) = self.peek().cloned() else {
            return Err(self.err("expected a WorkItem property"));
        };
        let prop = property(&name).ok_or_else(|| {
            let names: Vec<&str> = PROPERTIES.iter().map(|p| p.name).collect();
            self.err(format!(
                "unknown property {name:?} (properties: {})",
                names.join(", ")
            ))
        })?;
        self.pos += 1;
        let col = format!("\"{}\"", prop.name);
        if self.eat_keyword("IS") {
            let negated = self.eat_keyword("NOT");
            if !self.eat_keyword("NULL") {
                return Err(self.err("expected NULL"));
            }
            // Unset values are empty strings on the wire; NULL covers both.
            return Ok(if negated {
                format!("coalesce({col}, '') <> ''")
            } else {
                format!("coalesce({col}, '') = ''")
            });
        }
        let negated = self.eat_keyword("NOT");
        if self.eat_keyword("LIKE") {
            match self.peek() {
                Some(Token::Str(_)) => {}
                _ => return Err(self.err("LIKE takes a quoted pattern")),
            }
            if let Some(Token::Str(s)) = self.peek().cloned() {
                self.params.push(Value::Text(s));
            }
            self.pos += 1;
            return Ok(format!(
                "({col} {}LIKE ?)",
                if negated { "NOT " } else { "" }
            ));
        }
        if self.eat_keyword("IN") {
            if self.peek() != Some(&Token::LParen) {
                return Err(self.err("expected '(' after IN"));
            }
            self.pos += 1;
            let mut n = 0;
            loop {
                self.literal(prop)?;
                n += 1;
                match self.peek() {
                    Some(Token::Comma) => self.pos += 1,
                    Some(Token::RParen) => {
                        self.pos += 1;
                        break;
                    }
                    _ => return Err(self.err("expected ',' or ')'")),
                }
            }
            let list = vec!["?"; n].join(", ");
            return Ok(format!(
                "({col} {}IN ({list}))",
                if negated { "NOT " } else { "" }
            ));
        }
        if negated {
            return Err(self.err("NOT here must be followed by LIKE or IN"));
        }
        let op = match self.peek() {
            Some(Token::Op(op)) => *op,
            _ => return Err(self.err("expected a comparison operator")),
        };
        self.pos += 1;
        self.literal(prop)?;
        let op = if op == "!=" { "<>" } else { op };
        Ok(format!("({col} {op} ?)"))
    }
}

/// Parses and compiles a Filter. An empty filter is an error (the vendor
/// refuses empty strings; leave the field out instead).
pub fn compile_filter(text: &str) -> Result<Compiled, FilterError> {
    let tokens = tokenize(text, "filter")?;
    let mut p = Parser {
        tokens,
        pos: 0,
        end: text.len(),
        params: Vec::new(),
        depth: 0,
    };
    if p.tokens.is_empty() {
        return Err(p.err("the filter is empty"));
    }
    let sql = p.or()?;
    if p.pos != p.tokens.len() {
        return Err(p.err("unexpected text after the condition"));
    }
    Ok(Compiled {
        sql,
        params: p.params,
    })
}

/// Parses and compiles a Sort into an ORDER BY list (ID last, for ties).
pub fn compile_sort(text: &str) -> Result<String, FilterError> {
    let tokens = tokenize(text, "sort")?;
    let err = |at: usize, message: String| FilterError {
        what: "sort",
        at,
        message,
    };
    if tokens.is_empty() {
        return Err(err(0, "the sort is empty".into()));
    }
    let mut parts = Vec::new();
    let mut i = 0;
    loop {
        let (at, tok) = tokens
            .get(i)
            .cloned()
            .ok_or_else(|| err(text.len(), "expected a property".into()))?;
        let Token::Ident(name) = tok else {
            return Err(err(at, "expected a property".into()));
        };
        let prop = property(&name).ok_or_else(|| err(at, format!("unknown property {name:?}")))?;
        i += 1;
        let mut dir = "ASC";
        if let Some((_, Token::Ident(w))) = tokens.get(i) {
            if w.eq_ignore_ascii_case("DESC") {
                dir = "DESC";
                i += 1;
            } else if w.eq_ignore_ascii_case("ASC") {
                i += 1;
            }
        }
        parts.push(format!("\"{}\" {dir}", prop.name));
        match tokens.get(i) {
            None => break,
            Some((_, Token::Comma)) => i += 1,
            Some((at, _)) => return Err(err(*at, "expected ',' or the end".into())),
        }
    }
    parts.push("\"ID\" ASC".into());
    Ok(parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_compile_to_placeholders_with_bound_literals() {
        let cases: Vec<(&str, &str, Vec<Value>)> = vec![
            (
                "Participant='MyLane1'",
                "(\"Participant\" = ?)",
                vec![Value::Text("MyLane1".into())],
            ),
            (
                "participant like 'Lane%'",
                "(\"Participant\" LIKE ?)",
                vec![Value::Text("Lane%".into())],
            ),
            (
                "Priority >= 2 AND NOT (StateCode = 'f' OR ID <> '7')",
                "((\"Priority\" >= ?) AND (NOT (((\"StateCode\" = ?) OR (\"ID\" <> ?)))))",
                vec![
                    Value::Integer(2),
                    Value::Text("f".into()),
                    Value::Integer(7),
                ],
            ),
            (
                "Name = 'O''Brien'",
                "(\"Name\" = ?)",
                vec![Value::Text("O'Brien".into())],
            ),
            (
                "ID IN (1, 2,3)",
                "(\"ID\" IN (?, ?, ?))",
                vec![Value::Integer(1), Value::Integer(2), Value::Integer(3)],
            ),
            (
                "Deadline IS NULL",
                "coalesce(\"Deadline\", '') = ''",
                vec![],
            ),
            (
                "Participant NOT LIKE 'x%'",
                "(\"Participant\" NOT LIKE ?)",
                vec![Value::Text("x%".into())],
            ),
            (
                "CreationDate >= '2016-12-09T15:54:55+09:00' AND StartDate < 'soon'",
                "((\"CreationDate\" >= ?) AND (\"StartDate\" < ?))",
                vec![
                    Value::Text("2016-12-09T06:54:55Z".into()),
                    Value::Text("soon".into()),
                ],
            ),
            (
                "Deadline IN ('2026-11-30T23:59:59+09:00', '2026-12-01', 'later')",
                "(\"Deadline\" IN (?, ?, ?))",
                vec![
                    Value::Text("2026-11-30".into()),
                    Value::Text("2026-12-01".into()),
                    Value::Text("later".into()),
                ],
            ),
        ];
        for (text, sql, params) in cases {
            let c = compile_filter(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!((c.sql.as_str(), c.params), (sql, params), "{text}");
        }
    }

    #[test]
    fn anything_outside_the_grammar_is_refused() {
        for text in [
            "",
            "   ",
            "Participant = 'x'; DROP TABLE tasks",
            "Participant = 'x' --",
            "1 = 1",
            "Password = 'x'",
            "Participant = x",
            "Participant = 'unterminated",
            "(Participant = 'x'",
            "Participant = 'x')",
            "Participant == 'x'",
            "ID = 1.2.3",
            "Participant = 'a' OR",
            "NOT",
            "Participant IN ()",
            "Participant NOT = 'x'",
            "StateCode = (SELECT 'j')",
        ] {
            assert!(compile_filter(text).is_err(), "{text:?} was accepted");
        }
        let deep = format!("{}ID = 1{}", "(".repeat(100), ")".repeat(100));
        assert!(
            compile_filter(&deep)
                .unwrap_err()
                .message
                .contains("deeply")
        );
        assert!(compile_filter(&"x".repeat(MAX_LEN + 1)).is_err());
    }

    #[test]
    fn sorts_name_properties_and_directions_only() {
        assert_eq!(compile_sort("ID").unwrap(), "\"ID\" ASC, \"ID\" ASC");
        assert_eq!(
            compile_sort("priority desc, Deadline").unwrap(),
            "\"Priority\" DESC, \"Deadline\" ASC, \"ID\" ASC"
        );
        for bad in ["", "ID DESC DESC", "ID; DROP", "Secret", "ID,", "'ID'"] {
            assert!(compile_sort(bad).is_err(), "{bad:?} was accepted");
        }
    }

    mod properties {
        //! Property tests: no input makes the parser panic, everything it
        //! accepts is SQL that SQLite runs with exactly its parameters, and
        //! filters rendered from a syntax tree compile to the literals they
        //! were written with, whatever the spelling.

        use super::*;
        use proptest::prelude::*;
        use rusqlite::{Connection, params_from_iter};

        /// A table with the `work_items` view's WorkItem columns.
        fn table() -> Connection {
            let conn = Connection::open_in_memory().expect("in-memory database");
            let columns: Vec<String> = PROPERTIES
                .iter()
                .map(|p| format!("\"{}\"", p.name))
                .collect();
            conn.execute_batch(&format!(
                "CREATE TABLE work_items ({});
                 INSERT INTO work_items VALUES (1, NULL, '2026-11-22T08:30:00Z', '2026-11-30', 7,
                    'O''Brien', 'Lane1', 2, 3001, 5004, '案件', NULL, 'j', 3001, 'UTask', '0');",
                columns.join(", ")
            ))
            .expect("schema");
            conn
        }

        fn runs(conn: &Connection, c: &Compiled) -> rusqlite::Result<i64> {
            conn.query_row(
                &format!("SELECT count(*) FROM work_items WHERE {}", c.sql),
                params_from_iter(c.params.iter()),
                |r| r.get(0),
            )
        }

        #[derive(Debug, Clone)]
        enum Lit {
            Str(String),
            Int(i64),
            Decimal(u32, u16),
        }

        #[derive(Debug, Clone)]
        enum Expr {
            Compare(usize, &'static str, Lit),
            Like(usize, bool, String),
            In(usize, bool, Vec<Lit>),
            IsNull(usize, bool),
            Not(Box<Expr>),
            And(Box<Expr>, Box<Expr>),
            Or(Box<Expr>, Box<Expr>),
        }

        /// How a filter is spelled: keyword and property case, spacing.
        #[derive(Debug, Clone, Copy)]
        struct Style {
            lower: bool,
            space: &'static str,
        }

        const CANONICAL: Style = Style {
            lower: false,
            space: " ",
        };

        fn text() -> impl Strategy<Value = String> {
            "[a-zA-Z0-9 '%_.;=()-]{0,6}|[日本語案件レーン]{1,3}"
        }

        fn lit() -> impl Strategy<Value = Lit> {
            prop_oneof![
                text().prop_map(Lit::Str),
                any::<i64>().prop_map(Lit::Int),
                (any::<u32>(), any::<u16>()).prop_map(|(a, b)| Lit::Decimal(a, b)),
                (-5i64..5000).prop_map(|n| Lit::Str(n.to_string())),
            ]
        }

        fn expr() -> impl Strategy<Value = Expr> {
            let prop = 0..PROPERTIES.len();
            let op = prop::sample::select(vec!["=", "<>", "!=", "<", ">", "<=", ">="]);
            let leaf = prop_oneof![
                (prop.clone(), op, lit()).prop_map(|(p, o, l)| Expr::Compare(p, o, l)),
                (prop.clone(), any::<bool>(), text()).prop_map(|(p, n, t)| Expr::Like(p, n, t)),
                (
                    prop.clone(),
                    any::<bool>(),
                    prop::collection::vec(lit(), 1..4)
                )
                    .prop_map(|(p, n, l)| Expr::In(p, n, l)),
                (prop, any::<bool>()).prop_map(|(p, n)| Expr::IsNull(p, n)),
            ];
            leaf.prop_recursive(5, 40, 2, |inner| {
                prop_oneof![
                    inner.clone().prop_map(|e| Expr::Not(Box::new(e))),
                    (inner.clone(), inner.clone())
                        .prop_map(|(a, b)| Expr::And(Box::new(a), Box::new(b))),
                    (inner.clone(), inner).prop_map(|(a, b)| Expr::Or(Box::new(a), Box::new(b))),
                ]
            })
        }

        fn word(w: &str, style: Style) -> String {
            if style.lower {
                w.to_lowercase()
            } else {
                w.to_string()
            }
        }

        fn render_lit(l: &Lit) -> String {
            match l {
                Lit::Str(s) => format!("'{}'", s.replace('\'', "''")),
                Lit::Int(n) => n.to_string(),
                Lit::Decimal(a, b) => format!("{a}.{b}"),
            }
        }

        fn render(e: &Expr, style: Style) -> String {
            let s = style.space;
            let prop = |i: &usize| word(PROPERTIES[*i].name, style);
            let not = |n: &bool| {
                if *n {
                    format!("{}{s}", word("NOT", style))
                } else {
                    String::new()
                }
            };
            match e {
                Expr::Compare(p, op, l) => format!("{}{s}{op}{s}{}", prop(p), render_lit(l)),
                Expr::Like(p, n, t) => format!(
                    "{}{s}{}{}{s}{}",
                    prop(p),
                    not(n),
                    word("LIKE", style),
                    render_lit(&Lit::Str(t.clone()))
                ),
                Expr::In(p, n, ls) => format!(
                    "{}{s}{}{}{s}({})",
                    prop(p),
                    not(n),
                    word("IN", style),
                    ls.iter()
                        .map(render_lit)
                        .collect::<Vec<_>>()
                        .join(&format!(",{s}"))
                ),
                Expr::IsNull(p, n) => format!(
                    "{}{s}{}{s}{}{}",
                    prop(p),
                    word("IS", style),
                    not(n),
                    word("NULL", style)
                ),
                Expr::Not(inner) => format!("{}{s}({})", word("NOT", style), render(inner, style)),
                Expr::And(a, b) => format!(
                    "({}){s}{}{s}({})",
                    render(a, style),
                    word("AND", style),
                    render(b, style)
                ),
                Expr::Or(a, b) => format!(
                    "({}){s}{}{s}({})",
                    render(a, style),
                    word("OR", style),
                    render(b, style)
                ),
            }
        }

        /// The parameters a filter must bind, in order: quoted numbers
        /// compare as numbers on numeric properties; LIKE patterns as text.
        fn expected_params(e: &Expr, out: &mut Vec<Value>) {
            let bind = |p: usize, l: &Lit| match l {
                Lit::Str(s) => match (PROPERTIES[p].kind, s.trim().parse::<i64>()) {
                    (Kind::Number, Ok(n)) => Value::Integer(n),
                    _ => Value::Text(s.clone()),
                },
                Lit::Int(n) => Value::Integer(*n),
                Lit::Decimal(a, b) => Value::Real(format!("{a}.{b}").parse().expect("a decimal")),
            };
            match e {
                Expr::Compare(p, _, l) => out.push(bind(*p, l)),
                Expr::Like(_, _, t) => out.push(Value::Text(t.clone())),
                Expr::In(p, _, ls) => out.extend(ls.iter().map(|l| bind(*p, l))),
                Expr::IsNull(..) => {}
                Expr::Not(inner) => expected_params(inner, out),
                Expr::And(a, b) | Expr::Or(a, b) => {
                    expected_params(a, out);
                    expected_params(b, out);
                }
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]

            #[test]
            fn no_text_makes_the_parser_panic_and_what_it_accepts_runs(
                text in prop_oneof![
                    any::<String>(),
                    // Mostly the grammar's own words, so deep paths are reached.
                    prop::collection::vec(
                        prop::sample::select(vec![
                            "ID", "Participant", "priority", "AND", "or", "NOT", "LIKE", "IN",
                            "IS", "NULL", "ASC", "DESC", "(", ")", ",", "=", "<>", "!", "<=",
                            ">", "'x'", "'", "''", "1", "-2", "3.5", ";", "--", "\"ID\"", "DROP",
                            "SELECT", " ", "%",
                        ]),
                        0..16,
                    )
                    .prop_map(|words| words.join(" ")),
                ]
            ) {
                let conn = table();
                if let Ok(compiled) = compile_filter(&text) {
                    prop_assert_eq!(compiled.sql.matches('?').count(), compiled.params.len());
                    prop_assert!(runs(&conn, &compiled).is_ok(), "{} -> {}", text, compiled.sql);
                }
                if let Ok(order) = compile_sort(&text) {
                    let sql = format!("SELECT count(*) FROM work_items ORDER BY {order}");
                    prop_assert!(conn.prepare(&sql).is_ok(), "{} -> {}", text, order);
                }
            }

            #[test]
            fn rendered_filters_compile_to_their_literals_whatever_the_spelling(
                e in expr(),
                lower in any::<bool>(),
                space in prop::sample::select(vec![" ", "  ", "\t", "\n "]),
            ) {
                let canonical = render(&e, CANONICAL);
                let styled = render(&e, Style { lower, space });
                let compiled = compile_filter(&canonical)
                    .map_err(|err| TestCaseError::fail(format!("{canonical}: {err}")))?;
                let restyled = compile_filter(&styled)
                    .map_err(|err| TestCaseError::fail(format!("{styled}: {err}")))?;
                prop_assert_eq!(&compiled, &restyled);
                let mut params = Vec::new();
                expected_params(&e, &mut params);
                prop_assert_eq!(&compiled.params, &params);
                prop_assert!(runs(&table(), &compiled).is_ok(), "{}", compiled.sql);
            }

            #[test]
            fn rendered_sorts_order_by_their_properties_then_id(
                keys in prop::collection::vec((0..PROPERTIES.len(), 0..3u8), 1..5),
                lower in any::<bool>(),
            ) {
                let style = Style { lower, space: " " };
                let text = keys
                    .iter()
                    .map(|(p, dir)| {
                        let name = word(PROPERTIES[*p].name, style);
                        match dir {
                            0 => name,
                            1 => format!("{name} {}", word("ASC", style)),
                            _ => format!("{name} {}", word("DESC", style)),
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                let mut expected: Vec<String> = keys
                    .iter()
                    .map(|(p, dir)| {
                        format!("\"{}\" {}", PROPERTIES[*p].name, if *dir == 2 { "DESC" } else { "ASC" })
                    })
                    .collect();
                expected.push("\"ID\" ASC".into());
                prop_assert_eq!(compile_sort(&text).map_err(|e| TestCaseError::fail(e.to_string()))?, expected.join(", "));
            }
        }
    }
}

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

use rusqlite::types::Value;

/// Filters longer than this are refused (they are meant to be short).
pub const MAX_LEN: usize = 4_000;
/// Nesting deeper than this is refused.
const MAX_DEPTH: usize = 64;

/// A WorkItem property and its column in the `work_items` view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Property {
    pub name: &'static str,
    pub numeric: bool,
}

pub const PROPERTIES: [Property; 16] = [
    Property {
        name: "ActivityInstanceID",
        numeric: true,
    },
    Property {
        name: "ClosedDate",
        numeric: false,
    },
    Property {
        name: "CreationDate",
        numeric: false,
    },
    Property {
        name: "Deadline",
        numeric: false,
    },
    Property {
        name: "ID",
        numeric: true,
    },
    Property {
        name: "Name",
        numeric: false,
    },
    Property {
        name: "Participant",
        numeric: false,
    },
    Property {
        name: "Priority",
        numeric: true,
    },
    Property {
        name: "ProcessDefinitionID",
        numeric: true,
    },
    Property {
        name: "ProcessInstanceID",
        numeric: true,
    },
    Property {
        name: "ProcessInstanceName",
        numeric: false,
    },
    Property {
        name: "StartDate",
        numeric: false,
    },
    Property {
        name: "StateCode",
        numeric: false,
    },
    Property {
        name: "WorkDefinitionID",
        numeric: true,
    },
    Property {
        name: "WorkDefinitionName",
        numeric: false,
    },
    Property {
        name: "WorkTypeCode",
        numeric: false,
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
            Some(Token::Str(s)) => {
                // Numeric properties compare as numbers even when quoted,
                // as string-typed clients send them.
                match (prop.numeric, s.trim().parse::<i64>()) {
                    (true, Ok(n)) => Value::Integer(n),
                    _ => Value::Text(s),
                }
            }
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
}

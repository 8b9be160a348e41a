//! The one query type the CLI and the app use to read the replica.
//!
//! Modelled on OMFLOW's list API: conditions (`=`, `!=`, `>`, `<`, `>=`,
//! `<=`, `in`, `contains`, all ANDed), exclusions (each removes the rows it
//! matches), ordering by several columns with `-` for descending, paging by
//! start and count, and free-text search. Unlike OMFLOW, which silently
//! turns an unknown operator into `=` and drops malformed conditions, every
//! unknown column, operator or unparsable value is an error: a query never
//! returns a silently wider result. Values are always bound parameters.
//!
//! Semantics worth knowing (`docs/query.md` has the full table):
//! * a condition on an empty (NULL) field never matches, except `!=`;
//! * `contains` is a case-insensitive substring match;
//! * a date without a time means the whole day: `deadline = 2026-11-30`
//!   matches any time that day, `deadline > 2026-11-30` means from the next
//!   day on; `today`, `today+3`, `today-1` and `now` are understood;
//! * tasks that vanished from the server are left out unless the query
//!   mentions `gone`.

mod sql;

use std::fmt;
use std::str::FromStr;
use ts_rs::TS;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use sql::{all_ids, count, run};

use crate::replica::TaskRow;

/// The most rows one query may return.
pub const MAX_COUNT: u32 = 10_000;
/// Rows returned when the query does not say.
pub const DEFAULT_COUNT: u32 = 50;

/// A query over the effective view of the replica.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct Query {
    /// All must hold.
    #[serde(default)]
    pub conditions: Vec<Condition>,
    /// Rows matching any of these are removed.
    #[serde(default)]
    pub exclusions: Vec<Condition>,
    /// Sort keys, most significant first; ties are broken by id.
    #[serde(default)]
    #[ts(type = "Array<string>")]
    pub order: Vec<OrderKey>,
    #[serde(default)]
    pub start: u32,
    #[serde(default = "default_count")]
    pub count: u32,
    /// Free text, matched as substrings of title, description and comments.
    #[serde(default)]
    pub search: Option<String>,
}

fn default_count() -> u32 {
    DEFAULT_COUNT
}

impl Default for Query {
    fn default() -> Self {
        Query {
            conditions: Vec::new(),
            exclusions: Vec::new(),
            order: Vec::new(),
            start: 0,
            count: DEFAULT_COUNT,
            search: None,
        }
    }
}

impl Query {
    /// Adds a condition (builder style).
    pub fn filter(mut self, column: Column, op: Op, value: impl Into<Value>) -> Self {
        self.conditions.push(Condition {
            column,
            op,
            value: value.into(),
        });
        self
    }

    /// Adds a sort key.
    pub fn order_by(mut self, column: Column, descending: bool) -> Self {
        self.order.push(OrderKey { column, descending });
        self
    }

    pub fn search(mut self, text: impl Into<String>) -> Self {
        self.search = Some(text.into());
        self
    }

    pub fn page(mut self, start: u32, count: u32) -> Self {
        self.start = start;
        self.count = count;
        self
    }
}

/// One page of results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Page {
    /// How many rows match, ignoring paging.
    pub total: u64,
    pub start: u32,
    pub tasks: Vec<TaskRow>,
}

/// A query that cannot be run, naming the part that is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid query: {part}: {message}")]
pub struct QueryError {
    /// The offending piece as the user wrote it (a condition, a sort key...).
    pub part: String,
    pub message: String,
}

impl QueryError {
    fn new(part: impl Into<String>, message: impl Into<String>) -> Self {
        QueryError {
            part: part.into(),
            message: message.into(),
        }
    }
}

/// The columns a query can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Column {
    Id,
    Account,
    Key,
    Title,
    Description,
    /// The effective state (server state or the expected one while an action is pending).
    State,
    /// The state the server last reported.
    ServerState,
    /// The server's own status text.
    Status,
    Kind,
    Assignee,
    Group,
    Issuer,
    Deadline,
    Priority,
    Created,
    Modified,
    Process,
    Parent,
    Position,
    /// Whether the task has queued or sending ops.
    Pending,
    /// Whether the task has failed or conflicting ops.
    Attention,
    /// Whether the task vanished from the user's view on the server.
    Gone,
}

/// The type of a column, which decides the operators and values it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Int,
    Text,
    State,
    /// An instant (`created`, `modified`).
    Instant,
    /// A date or an instant (`deadline`).
    Deadline,
    Flag,
}

impl Column {
    pub const ALL: [Column; 22] = [
        Column::Id,
        Column::Account,
        Column::Key,
        Column::Title,
        Column::Description,
        Column::State,
        Column::ServerState,
        Column::Status,
        Column::Kind,
        Column::Assignee,
        Column::Group,
        Column::Issuer,
        Column::Deadline,
        Column::Priority,
        Column::Created,
        Column::Modified,
        Column::Process,
        Column::Parent,
        Column::Position,
        Column::Pending,
        Column::Attention,
        Column::Gone,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Column::Id => "id",
            Column::Account => "account",
            Column::Key => "key",
            Column::Title => "title",
            Column::Description => "description",
            Column::State => "state",
            Column::ServerState => "server_state",
            Column::Status => "status",
            Column::Kind => "kind",
            Column::Assignee => "assignee",
            Column::Group => "group",
            Column::Issuer => "issuer",
            Column::Deadline => "deadline",
            Column::Priority => "priority",
            Column::Created => "created",
            Column::Modified => "modified",
            Column::Process => "process",
            Column::Parent => "parent",
            Column::Position => "position",
            Column::Pending => "pending",
            Column::Attention => "attention",
            Column::Gone => "gone",
        }
    }

    pub fn column_type(self) -> ColumnType {
        match self {
            Column::Id | Column::Priority | Column::Position => ColumnType::Int,
            Column::State | Column::ServerState => ColumnType::State,
            Column::Created | Column::Modified => ColumnType::Instant,
            Column::Deadline => ColumnType::Deadline,
            Column::Pending | Column::Attention | Column::Gone => ColumnType::Flag,
            Column::Account
            | Column::Key
            | Column::Title
            | Column::Description
            | Column::Status
            | Column::Kind
            | Column::Assignee
            | Column::Group
            | Column::Issuer
            | Column::Process
            | Column::Parent => ColumnType::Text,
        }
    }

    /// Whether results can be ordered by this column.
    pub fn sortable(self) -> bool {
        !matches!(
            self,
            Column::Description | Column::Pending | Column::Attention | Column::Gone
        )
    }

    fn known() -> String {
        Column::ALL.map(Column::name).join(", ")
    }
}

impl FromStr for Column {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Column::ALL
            .into_iter()
            .find(|c| c.name() == s)
            .ok_or_else(|| format!("unknown column {s:?} (columns: {})", Column::known()))
    }
}

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[ts(rename = "QueryOp")]
pub enum Op {
    #[serde(rename = "=")]
    Eq,
    #[serde(rename = "!=")]
    Ne,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = "in")]
    In,
    #[serde(rename = "contains")]
    Contains,
}

impl Op {
    pub fn symbol(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Gt => ">",
            Op::Lt => "<",
            Op::Ge => ">=",
            Op::Le => "<=",
            Op::In => "in",
            Op::Contains => "contains",
        }
    }
}

/// A condition's value. Typed against its column when the query runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(untagged)]
#[ts(rename = "QueryValue")]
pub enum Value {
    Bool(bool),
    Int(i64),
    Text(String),
    List(Vec<Value>),
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Text(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Text(s)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<crate::model::State> for Value {
    fn from(s: crate::model::State) -> Self {
        Value::Text(s.as_str().to_string())
    }
}

impl<T: Into<Value>> From<Vec<T>> for Value {
    fn from(v: Vec<T>) -> Self {
        Value::List(v.into_iter().map(Into::into).collect())
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Text(s) => f.write_str(s),
            Value::List(items) => {
                let items: Vec<String> = items.iter().map(ToString::to_string).collect();
                write!(f, "({})", items.join(", "))
            }
        }
    }
}

/// `column op value`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub column: Column,
    pub op: Op,
    pub value: Value,
}

impl Condition {
    /// The task's state is a final one (done, closed, cancelled, …): the
    /// exclusion that makes a view show open tasks only.
    pub fn in_final_state() -> Condition {
        let finals = crate::model::State::ALL
            .into_iter()
            .filter(|s| s.is_final())
            .map(Value::from)
            .collect();
        Condition {
            column: Column::State,
            op: Op::In,
            value: Value::List(finals),
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.column, self.op.symbol(), self.value)
    }
}

impl FromStr for Condition {
    type Err = QueryError;

    /// Parses the CLI form: `state = open`, `title contains 審核`,
    /// `state in (open, in_progress)`, `assignee = "Hans Muster"`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let err = |message: String| QueryError::new(format!("condition {text:?}"), message);
        let s = text.trim();
        let name_end = s
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(s.len());
        if name_end == 0 {
            return Err(err("expected a column name first".into()));
        }
        let column: Column = s[..name_end].parse().map_err(err)?;
        let rest = s[name_end..].trim_start();
        let (op, after) = split_operator(rest).ok_or_else(|| {
            err(format!(
                "expected an operator (=, !=, >, <, >=, <=, in, contains) after {:?}",
                column.name()
            ))
        })?;
        let raw = after.trim();
        if raw.is_empty() {
            return Err(err(format!("missing value after {:?}", op.symbol())));
        }
        let value = if op == Op::In {
            Value::List(parse_list(raw).map_err(err)?)
        } else {
            Value::Text(unquote(raw).map_err(err)?)
        };
        Ok(Condition { column, op, value })
    }
}

fn split_operator(rest: &str) -> Option<(Op, &str)> {
    for (sym, op) in [
        ("!=", Op::Ne),
        (">=", Op::Ge),
        ("<=", Op::Le),
        ("=", Op::Eq),
        (">", Op::Gt),
        ("<", Op::Lt),
    ] {
        if let Some(after) = rest.strip_prefix(sym) {
            return Some((op, after));
        }
    }
    for (word, op) in [("contains", Op::Contains), ("in", Op::In)] {
        if rest.len() >= word.len() && rest[..word.len()].eq_ignore_ascii_case(word) {
            let after = &rest[word.len()..];
            if after.starts_with(|c: char| c.is_whitespace() || c == '(') {
                return Some((op, after));
            }
        }
    }
    None
}

/// Strips matching single or double quotes (a doubled quote inside stands
/// for one); unquoted text is taken as it is.
fn unquote(raw: &str) -> Result<String, String> {
    let mut chars = raw.chars();
    match chars.next() {
        Some(q @ ('"' | '\'')) => {
            let mut out = String::new();
            let mut closed = false;
            let mut chars = chars.peekable();
            while let Some(c) = chars.next() {
                if c == q {
                    if chars.peek() == Some(&q) {
                        out.push(q);
                        chars.next();
                    } else {
                        closed = true;
                        if chars.next().is_some() {
                            return Err(format!(
                                "unexpected text after the closing quote in {raw:?}"
                            ));
                        }
                        break;
                    }
                } else {
                    out.push(c);
                }
            }
            if closed {
                Ok(out)
            } else {
                Err(format!("unterminated quote in {raw:?}"))
            }
        }
        _ => Ok(raw.to_string()),
    }
}

/// `(a, b, "c, d")` or `a,b`: comma-separated, optionally parenthesized.
fn parse_list(raw: &str) -> Result<Vec<Value>, String> {
    let inner = match raw.strip_prefix('(') {
        Some(rest) => rest
            .strip_suffix(')')
            .ok_or_else(|| format!("missing ')' in {raw:?}"))?,
        None => raw,
    };
    let mut items = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    for c in inner.chars() {
        match (quote, c) {
            (None, '"' | '\'') => {
                quote = Some(c);
                current.push(c);
            }
            (Some(q), c) if c == q => {
                quote = None;
                current.push(c);
            }
            (None, ',') => items.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    if quote.is_some() {
        return Err(format!("unterminated quote in {raw:?}"));
    }
    items.push(current);
    items
        .iter()
        .map(|item| {
            let item = item.trim();
            if item.is_empty() {
                Err(format!("empty item in list {raw:?}"))
            } else {
                unquote(item).map(Value::Text)
            }
        })
        .collect()
}

/// A sort key: a column, ascending, or descending when written `-column`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderKey {
    pub column: Column,
    pub descending: bool,
}

impl FromStr for OrderKey {
    type Err = QueryError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let err = |message: String| QueryError::new(format!("order {text:?}"), message);
        let s = text.trim();
        let (descending, name) = match s.strip_prefix('-') {
            Some(name) => (true, name),
            None => (false, s.strip_prefix('+').unwrap_or(s)),
        };
        let column: Column = name.parse().map_err(err)?;
        if !column.sortable() {
            return Err(err(format!(
                "results cannot be ordered by {:?}",
                column.name()
            )));
        }
        Ok(OrderKey { column, descending })
    }
}

impl fmt::Display for OrderKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.descending {
            f.write_str("-")?;
        }
        f.write_str(self.column.name())
    }
}

impl Serialize for OrderKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for OrderKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Parses a comma-separated order list (`-deadline,title`).
pub fn parse_order_list(text: &str) -> Result<Vec<OrderKey>, QueryError> {
    text.split(',')
        .filter(|part| !part.trim().is_empty())
        .map(str::parse)
        .collect()
}

#[cfg(test)]
mod tests;

//! Compiling a [`Query`] to SQL over `tasks t`, with every value bound.
//!
//! Only fixed SQL fragments chosen by matching on the typed column and
//! operator are ever concatenated; user text reaches SQLite solely as
//! parameters (search text as an FTS5 phrase literal, also a parameter).

use std::collections::HashSet;

use jiff::civil::Date;
use jiff::{Timestamp, ToSpan, Zoned};
use rusqlite::types::{ToSqlOutput, Value as SqlValue};
use rusqlite::vtab::array::Array;
use rusqlite::{Connection, ToSql, params_from_iter};

use super::{Column, ColumnType, Condition, MAX_COUNT, Op, OrderKey, Query, QueryError, Value};
use crate::error::Result;
use crate::model::State;
use crate::replica::search::{self, Indexed, SearchPlan};
use crate::replica::tasks::{self, TaskRow};
use crate::time::format_ts;

/// A parameter: a plain value, or a list of ids for `rarray(?)`.
#[derive(Debug, Clone)]
enum Param {
    Value(SqlValue),
    Ids(Array),
}

impl ToSql for Param {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        match self {
            Param::Value(v) => v.to_sql(),
            Param::Ids(a) => a.to_sql(),
        }
    }
}

/// A WHERE clause under construction: conjuncts and their parameters.
#[derive(Debug, Clone, Default)]
struct Where {
    parts: Vec<String>,
    params: Vec<Param>,
}

impl Where {
    fn and(&mut self, sql: impl Into<String>, params: impl IntoIterator<Item = Param>) {
        self.parts.push(sql.into());
        self.params.extend(params);
    }

    fn sql(&self) -> String {
        if self.parts.is_empty() {
            "1".into()
        } else {
            self.parts.join(" AND ")
        }
    }
}

/// Up to this many index matches, a search is answered by looking those
/// tasks up and sorting them.
const DRIVE_BY_IDS: usize = 2_000;

/// With more matches than [`DRIVE_BY_IDS`], a search walks the requested
/// order and checks each task's text until the page is full, examining at
/// most this many tasks (plus 20 per requested row) before it gives up and
/// asks the index for every match instead.
const WALK_BUDGET: u32 = 5_000;

/// How a query finds its rows.
enum Plan {
    /// Nothing can match.
    Empty,
    /// The WHERE clause says it all.
    Sql(Where),
    /// A search whose terms are common: walk the order checking text, or
    /// filter by the full set of index matches.
    Common {
        w: Where,
        fts: String,
        /// Folded terms the index answered, for checking text during a walk.
        verify: Vec<String>,
    },
}

/// Runs `q` and returns its page of rows in order.
///
/// Two steps: first the ids of the page (the sort touches only the index
/// columns), then the rows for those ids, whose per-row pending counts would
/// otherwise be computed for every matching row before the sort.
pub fn run(conn: &Connection, q: &Query) -> Result<Vec<TaskRow>> {
    let ids = select_ids(conn, q, q.start, q.count)?;
    ids.into_iter().map(|id| tasks::row(conn, id)).collect()
}

/// The ids of every match of `q` in order (its paging ignored), at most
/// `limit`: what a virtual list scrolls over, fetching rows only for what
/// it shows.
pub fn all_ids(conn: &Connection, q: &Query, limit: u32) -> Result<Vec<i64>> {
    // The page size check is about rows; ids are cheap.
    let unpaged = Query {
        start: 0,
        count: 1,
        ..q.clone()
    };
    select_ids(conn, &unpaged, 0, limit)
}

fn select_ids(conn: &Connection, q: &Query, start: u32, count: u32) -> Result<Vec<i64>> {
    let order = order_sql(&q.order);
    Ok(match plan(conn, q)? {
        Plan::Empty => Vec::new(),
        Plan::Sql(w) => {
            let sql = ids_sql(&w, &order, start, count);
            let mut stmt = conn.prepare_cached(&sql)?;
            stmt.query_map(params_from_iter(w.params.iter()), |r| r.get::<_, i64>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?
        }
        Plan::Common { w, fts, verify } => match walk(conn, &w, &order, &verify, start, count)? {
            Some(ids) => ids,
            None => {
                let matches = search::matching_ids(conn, &fts, None)?;
                filter_in_order(
                    conn,
                    &w,
                    &order,
                    start,
                    count,
                    matches.into_iter().collect(),
                )?
            }
        },
    })
}

/// The ids of a page of a query its WHERE clause says all about.
fn ids_sql(w: &Where, order: &str, start: u32, count: u32) -> String {
    format!(
        "SELECT t.id FROM tasks t WHERE {} ORDER BY {order} LIMIT {count} OFFSET {start}",
        w.sql(),
    )
}

/// Walks the rows in the requested order, checking each one's text, until
/// the page is full. `None` when the order cannot be walked without sorting
/// everything first, or when the budget runs out (the matches are rarer
/// than the index suggested).
fn walk(
    conn: &Connection,
    w: &Where,
    order: &str,
    verify: &[String],
    start: u32,
    count: u32,
) -> Result<Option<Vec<i64>>> {
    let hit = vec![search::SCAN_TERM_SQL; verify.len()].join(" AND ");
    let sql = format!(
        "SELECT t.id, {hit} FROM tasks t WHERE {} ORDER BY {order}",
        w.sql()
    );
    // The select list's parameters come first in the statement.
    let mut params: Vec<Param> = verify.iter().flat_map(|t| scan_params(t)).collect();
    params.extend(w.params.iter().cloned());
    if !streams_in_order(conn, &sql, &params)? {
        return Ok(None);
    }
    let budget = WALK_BUDGET.saturating_add(count.saturating_add(start).saturating_mul(20));
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params_from_iter(params.iter()))?;
    let (mut ids, mut examined, mut skipped) = (Vec::new(), 0u32, 0u32);
    while ids.len() < count as usize {
        let Some(row) = rows.next()? else { break };
        examined += 1;
        if examined > budget {
            return Ok(None);
        }
        if !row.get::<_, bool>(1)? {
            continue;
        }
        if skipped < start {
            skipped += 1;
        } else {
            ids.push(row.get(0)?);
        }
    }
    Ok(Some(ids))
}

/// Whether SQLite answers `sql` by walking an index in the requested order
/// (rows arrive one by one) rather than sorting all candidates first.
fn streams_in_order(conn: &Connection, sql: &str, params: &[Param]) -> Result<bool> {
    let mut stmt = conn.prepare_cached(&format!("EXPLAIN QUERY PLAN {sql}"))?;
    let details = stmt
        .query_map(params_from_iter(params.iter()), |r| r.get::<_, String>(3))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(!details.iter().any(|d| d.contains("TEMP B-TREE")))
}

/// The page of rows, in order, among those in `matches`.
fn filter_in_order(
    conn: &Connection,
    w: &Where,
    order: &str,
    start: u32,
    count: u32,
    matches: HashSet<i64>,
) -> Result<Vec<i64>> {
    let sql = format!(
        "SELECT t.id FROM tasks t WHERE {} ORDER BY {order}",
        w.sql()
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params_from_iter(w.params.iter()))?;
    let (mut ids, mut skipped) = (Vec::new(), 0u32);
    while ids.len() < count as usize {
        let Some(row) = rows.next()? else { break };
        let id: i64 = row.get(0)?;
        if !matches.contains(&id) {
            continue;
        }
        if skipped < start {
            skipped += 1;
        } else {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// How many rows `q` matches, ignoring paging.
pub fn count(conn: &Connection, q: &Query) -> Result<u64> {
    let w = match plan(conn, q)? {
        Plan::Empty => return Ok(0),
        Plan::Sql(w) => w,
        Plan::Common { mut w, fts, .. } => {
            let matches = search::matching_ids(conn, &fts, None)?;
            w.and(
                "t.id IN rarray(?)",
                [Param::Ids(search::ids_array(&matches))],
            );
            w
        }
    };
    let sql = format!("SELECT count(*) FROM tasks t WHERE {}", w.sql());
    let n: i64 = conn
        .prepare_cached(&sql)?
        .query_row(params_from_iter(w.params.iter()), |r| r.get(0))?;
    Ok(n as u64)
}

fn plan(conn: &Connection, q: &Query) -> Result<Plan> {
    let mut w = filters(q)?;
    let Some(text) = &q.search else {
        return Ok(Plan::Sql(w));
    };
    let terms = match search::plan(conn, text)? {
        SearchPlan::All => return Ok(Plan::Sql(w)),
        SearchPlan::Nothing => return Ok(Plan::Empty),
        SearchPlan::Terms(terms) => terms,
    };
    for term in &terms.scanned {
        w.and(search::SCAN_TERM_SQL, scan_params(term));
    }
    if terms.backlog {
        // Tasks not yet indexed are matched by scanning their text; the
        // index's answer counts only for the others, whose entry is current.
        let (index_sql, index_params) = match &terms.indexed {
            Indexed::Unused => ("1".to_string(), Vec::new()),
            Indexed::NoMatch => ("0".to_string(), Vec::new()),
            Indexed::Match(fts) => (
                "t.id IN rarray(?)".to_string(),
                vec![Param::Ids(search::ids_array(&search::matching_ids(
                    conn, fts, None,
                )?))],
            ),
        };
        let scan_all = vec![search::SCAN_TERM_SQL; terms.all.len()].join(" AND ");
        let mut params = index_params;
        params.extend(terms.all.iter().flat_map(|t| scan_params(t)));
        w.and(
            format!(
                "((t.id NOT IN (SELECT task_id FROM search_backlog) AND {index_sql}) \
                 OR (t.id IN (SELECT task_id FROM search_backlog) AND {scan_all}))"
            ),
            params,
        );
        return Ok(Plan::Sql(w));
    }
    let fts = match terms.indexed {
        Indexed::Unused => return Ok(Plan::Sql(w)),
        Indexed::NoMatch => return Ok(Plan::Empty),
        Indexed::Match(fts) => fts,
    };
    let first = search::matching_ids(conn, &fts, Some(DRIVE_BY_IDS + 1))?;
    Ok(match first.len() {
        0 => Plan::Empty,
        n if n <= DRIVE_BY_IDS => {
            w.and("t.id IN rarray(?)", [Param::Ids(search::ids_array(&first))]);
            Plan::Sql(w)
        }
        _ => {
            let verify = terms
                .all
                .into_iter()
                .filter(|t| !terms.scanned.contains(t))
                .collect();
            Plan::Common { w, fts, verify }
        }
    })
}

fn scan_params(term: &str) -> Vec<Param> {
    (0..3)
        .map(|_| Param::Value(SqlValue::Text(term.to_string())))
        .collect()
}

/// Conditions, exclusions and the default "not gone" filter.
fn filters(q: &Query) -> Result<Where> {
    if q.count > MAX_COUNT {
        return Err(QueryError::new(
            format!("count {}", q.count),
            format!("at most {MAX_COUNT} rows can be asked for at once"),
        )
        .into());
    }
    let mut w = Where::default();
    for c in &q.conditions {
        let (sql, p) = predicate(c)?;
        w.and(sql, p.into_iter().map(Param::Value));
    }
    for c in &q.exclusions {
        let (sql, p) = predicate(c)?;
        // A row whose field is NULL does not match the condition, so it
        // must not be excluded: NOT NULL would drop it.
        w.and(
            format!("NOT coalesce(({sql}), 0)"),
            p.into_iter().map(Param::Value),
        );
    }
    let mentions_gone = q
        .conditions
        .iter()
        .chain(&q.exclusions)
        .any(|c| c.column == Column::Gone);
    if !mentions_gone {
        // Spelled as in the indexes' WHERE, so the partial indexes apply.
        w.and("t.gone = 0", []);
    }
    Ok(w)
}

/// The SQL expression for a column of the effective view.
fn expr(column: Column) -> &'static str {
    match column {
        Column::Id => "t.id",
        Column::Account => "(SELECT name FROM accounts WHERE id = t.account_id)",
        Column::Key => "t.remote_key",
        Column::Title => "t.title",
        Column::Description => "t.description",
        Column::State => "t.eff_state",
        Column::ServerState => "t.state",
        Column::Status => "t.status_text",
        Column::Kind => "t.kind",
        Column::Assignee => "t.eff_assignee",
        Column::Group => "t.eff_group",
        Column::Issuer => "t.issuer",
        Column::Deadline => "t.eff_deadline",
        Column::Priority => "t.priority",
        Column::Created => "t.created",
        Column::Modified => "t.modified",
        Column::Process => "t.process",
        Column::Parent => "t.parent_key",
        Column::Position => "t.position",
        Column::Pending => {
            "t.id IN (SELECT task_id FROM outbox WHERE state IN ('pending', 'sending') AND task_id IS NOT NULL)"
        }
        Column::Attention => {
            "t.id IN (SELECT task_id FROM outbox WHERE state IN ('failed', 'conflict') AND task_id IS NOT NULL)"
        }
        Column::Gone => "t.gone = 1",
    }
}

fn predicate(c: &Condition) -> Result<(String, Vec<SqlValue>), QueryError> {
    let err = |message: String| QueryError::new(format!("condition {:?}", c.to_string()), message);
    let column_type = c.column.column_type();
    let allowed = match column_type {
        ColumnType::Flag => matches!(c.op, Op::Eq | Op::Ne),
        ColumnType::State => matches!(c.op, Op::Eq | Op::Ne | Op::In),
        ColumnType::Text => true,
        ColumnType::Int | ColumnType::Instant | ColumnType::Deadline => c.op != Op::Contains,
    };
    if !allowed {
        return Err(err(format!(
            "{:?} cannot be used with {:?} ({})",
            c.op.symbol(),
            c.column.name(),
            type_name(column_type)
        )));
    }
    if c.op != Op::In && matches!(c.value, Value::List(_)) {
        return Err(err(format!(
            "{:?} takes one value, not a list",
            c.op.symbol()
        )));
    }
    let col = expr(c.column);
    match column_type {
        ColumnType::Flag => {
            let wanted = flag(&c.value).map_err(err)? == (c.op == Op::Eq);
            let sql = if wanted {
                col.to_string()
            } else {
                format!("NOT ({col})")
            };
            Ok((sql, Vec::new()))
        }
        ColumnType::Instant | ColumnType::Deadline => {
            let values = list(&c.value)
                .iter()
                .map(|v| time_value(v).map_err(err))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(time_predicate(col, c.op, &values))
        }
        ColumnType::State | ColumnType::Int | ColumnType::Text => {
            let values = list(&c.value)
                .iter()
                .map(|v| scalar(column_type, v).map_err(err))
                .collect::<Result<Vec<_>, _>>()?;
            if values.is_empty() {
                return Err(err("the list is empty".into()));
            }
            let sql = match c.op {
                Op::Eq => format!("{col} = ?"),
                // A NULL field differs from every value.
                Op::Ne => format!("{col} IS NOT ?"),
                Op::Gt => format!("{col} > ?"),
                Op::Lt => format!("{col} < ?"),
                Op::Ge => format!("{col} >= ?"),
                Op::Le => format!("{col} <= ?"),
                Op::In => format!("{col} IN ({})", vec!["?"; values.len()].join(", ")),
                Op::Contains => format!("instr(tl_fold({col}), ?) > 0"),
            };
            let values = if c.op == Op::Contains {
                values
                    .into_iter()
                    .map(|v| match v {
                        SqlValue::Text(t) => SqlValue::Text(search::fold(&t)),
                        other => other,
                    })
                    .collect()
            } else {
                values
            };
            Ok((sql, values))
        }
    }
}

fn type_name(t: ColumnType) -> &'static str {
    match t {
        ColumnType::Int => "a number",
        ColumnType::Text => "text",
        ColumnType::State => "a state",
        ColumnType::Instant => "a time",
        ColumnType::Deadline => "a date",
        ColumnType::Flag => "yes or no",
    }
}

fn list(v: &Value) -> Vec<&Value> {
    match v {
        Value::List(items) => items.iter().collect(),
        other => vec![other],
    }
}

fn flag(v: &Value) -> Result<bool, String> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::Int(0) => Ok(false),
        Value::Int(1) => Ok(true),
        Value::Text(t) => match t.to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Ok(true),
            "false" | "no" | "0" => Ok(false),
            _ => Err(format!("{t:?} is not true or false")),
        },
        other => Err(format!("{other} is not true or false")),
    }
}

fn scalar(t: ColumnType, v: &Value) -> Result<SqlValue, String> {
    match (t, v) {
        (_, Value::List(_)) => Err("lists cannot be nested".into()),
        (ColumnType::State, Value::Text(s)) => {
            let state: State = s.parse()?;
            Ok(SqlValue::Text(state.as_str().to_string()))
        }
        (ColumnType::State, other) => Err(format!("{other} is not a state")),
        (ColumnType::Int, Value::Int(i)) => Ok(SqlValue::Integer(*i)),
        (ColumnType::Int, Value::Text(s)) => s
            .trim()
            .parse::<i64>()
            .map(SqlValue::Integer)
            .map_err(|_| format!("{s:?} is not a whole number")),
        (ColumnType::Int, Value::Bool(_)) => Err(format!("{v} is not a whole number")),
        (ColumnType::Text, Value::Text(s)) => Ok(SqlValue::Text(s.clone())),
        (ColumnType::Text, Value::Int(i)) => Ok(SqlValue::Text(i.to_string())),
        (ColumnType::Text, Value::Bool(_)) => Err(format!("{v} is not text")),
        (ColumnType::Flag | ColumnType::Instant | ColumnType::Deadline, _) => {
            Err("internal: not a scalar column".into())
        }
    }
}

/// A time in a condition: a whole day, or an exact instant.
#[derive(Debug, Clone, Copy, PartialEq)]
enum TimeValue {
    Day(Date),
    At(Timestamp),
}

fn time_value(v: &Value) -> Result<TimeValue, String> {
    let Value::Text(raw) = v else {
        return Err(format!("{v} is not a date or time"));
    };
    let s = raw.trim();
    let lower = s.to_ascii_lowercase();
    if lower == "now" {
        return Ok(TimeValue::At(crate::time::now()));
    }
    if let Some(rest) = lower.strip_prefix("today") {
        let today = Zoned::now().date();
        let days: i64 = match rest.trim() {
            "" => 0,
            offset => {
                let (sign, digits) = offset.split_at(1);
                let n: i64 = digits
                    .trim()
                    .parse()
                    .map_err(|_| format!("{s:?}: expected today, today+N or today-N"))?;
                match sign {
                    "+" => n,
                    "-" => -n,
                    _ => return Err(format!("{s:?}: expected today, today+N or today-N")),
                }
            }
        };
        return today
            .checked_add(days.days())
            .map(TimeValue::Day)
            .map_err(|e| format!("{s:?}: {e}"));
    }
    if s.len() == 10
        && let Ok(d) = s.parse::<Date>()
    {
        return Ok(TimeValue::Day(d));
    }
    crate::time::parse_ts(s).map(TimeValue::At).ok_or_else(|| {
        format!(
            "{s:?} is not a date (YYYY-MM-DD), a time with an offset (RFC 3339), today[+N] or now"
        )
    })
}

fn day_bounds(d: Date) -> (SqlValue, SqlValue) {
    let next = d.tomorrow().unwrap_or(d);
    (
        SqlValue::Text(d.strftime("%Y-%m-%d").to_string()),
        SqlValue::Text(next.strftime("%Y-%m-%d").to_string()),
    )
}

/// Date values cover their whole day: the stored text of any time on day D
/// sorts at or after "D" and before "D+1".
fn time_predicate(col: &str, op: Op, values: &[TimeValue]) -> (String, Vec<SqlValue>) {
    let one = |v: TimeValue, op: Op| -> (String, Vec<SqlValue>) {
        match v {
            TimeValue::At(ts) => {
                let p = vec![SqlValue::Text(format_ts(ts))];
                let sql = match op {
                    Op::Eq | Op::In => format!("{col} = ?"),
                    Op::Ne => format!("{col} IS NOT ?"),
                    Op::Gt => format!("{col} > ?"),
                    Op::Lt => format!("{col} < ?"),
                    Op::Ge => format!("{col} >= ?"),
                    Op::Le | Op::Contains => format!("{col} <= ?"),
                };
                (sql, p)
            }
            TimeValue::Day(d) => {
                let (lo, hi) = day_bounds(d);
                match op {
                    Op::Eq | Op::In => (format!("({col} >= ? AND {col} < ?)"), vec![lo, hi]),
                    Op::Ne => (
                        format!("({col} IS NULL OR {col} < ? OR {col} >= ?)"),
                        vec![lo, hi],
                    ),
                    Op::Gt => (format!("{col} >= ?"), vec![hi]),
                    Op::Ge => (format!("{col} >= ?"), vec![lo]),
                    Op::Lt => (format!("{col} < ?"), vec![lo]),
                    Op::Le | Op::Contains => (format!("{col} < ?"), vec![hi]),
                }
            }
        }
    };
    if op == Op::In {
        let mut parts = Vec::new();
        let mut params = Vec::new();
        for v in values {
            let (sql, mut p) = one(*v, Op::Eq);
            parts.push(sql);
            params.append(&mut p);
        }
        (format!("({})", parts.join(" OR ")), params)
    } else {
        one(values[0], op)
    }
}

/// ORDER BY: empty values last whichever the direction, ties broken by id
/// so that paging is stable. Default: by deadline, then latest change first.
fn order_sql(order: &[OrderKey]) -> String {
    let defaults = [
        OrderKey {
            column: Column::Deadline,
            descending: false,
        },
        OrderKey {
            column: Column::Modified,
            descending: true,
        },
    ];
    let keys = if order.is_empty() {
        &defaults[..]
    } else {
        order
    };
    let mut parts: Vec<String> = keys
        .iter()
        .map(|k| {
            let col = expr(k.column);
            let collate = if k.column.column_type() == ColumnType::Text {
                " COLLATE NOCASE"
            } else {
                ""
            };
            let dir = if k.descending { " DESC" } else { "" };
            format!("({col} IS NULL), {col}{collate}{dir}")
        })
        .collect();
    parts.push("t.id".into());
    parts.join(", ")
}

#[cfg(test)]
mod plans {
    use super::*;
    use crate::model::{AccountKind, NewAccount, State, TaskRecord};
    use crate::replica::{Replica, accounts, tasks};

    /// Asserts that listing every id of `q` walks `tasks_by_deadline`
    /// alone: no sort, and no task row read.
    fn assert_walks_deadline_index_alone(conn: &Connection, q: &Query) {
        if let Err(why) = walks_deadline_index_alone(conn, q) {
            panic!("{why}");
        }
    }

    /// The program of listing every id of `q`: each instruction's opcode,
    /// P1 and P2.
    fn ids_program(conn: &Connection, q: &Query) -> Vec<(String, i64, i64)> {
        let Plan::Sql(w) = plan(conn, q).unwrap() else {
            panic!("a plain listing is planned as SQL");
        };
        let sql = ids_sql(&w, &order_sql(&q.order), 0, 200_000);
        conn.prepare(&format!("EXPLAIN {sql}"))
            .unwrap()
            .query_map(params_from_iter(w.params.iter()), |r| {
                Ok((r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    /// The root page of a table or index, which `OpenRead` names as P2.
    fn root(conn: &Connection, name: &str) -> i64 {
        conn.query_row(
            "SELECT rootpage FROM sqlite_master WHERE name = ?1",
            [name],
            |r| r.get(0),
        )
        .unwrap()
    }

    fn walks_deadline_index_alone(conn: &Connection, q: &Query) -> Result<(), String> {
        let program = ids_program(conn, q);
        let cursor_on = |root: i64| {
            program
                .iter()
                .find(|(op, _, p2)| op == "OpenRead" && *p2 == root)
                .map(|(_, cursor, _)| *cursor)
        };
        if cursor_on(root(conn, "tasks_by_deadline")).is_none() {
            return Err(format!("not walking tasks_by_deadline: {program:?}"));
        }
        if program.iter().any(|(op, ..)| op == "SorterOpen") {
            return Err(format!("sorts: {program:?}"));
        }
        if let Some(table) = cursor_on(root(conn, "tasks"))
            && program
                .iter()
                .any(|(op, cursor, _)| op == "Column" && *cursor == table)
        {
            return Err(format!("reads task rows: {program:?}"));
        }
        Ok(())
    }

    /// The inbox's first listing at every start — every open task, in the
    /// default order — reads `tasks_by_deadline` alone: no sort, and no
    /// task row (whose effective state is computed from JSON). Reading rows
    /// made it 0.2–0.5 s at 100,000 tasks (migration 0003).
    #[test]
    fn open_tasks_in_the_default_order_are_listed_from_the_deadline_index_alone() {
        let r = Replica::open_in_memory().unwrap();
        let q = Query {
            exclusions: vec![Condition::in_final_state()],
            ..Query::default()
        };
        assert_walks_deadline_index_alone(r.conn(), &q);
    }

    /// "Mine, open" in a replica that is mostly the user's own tasks (as a
    /// replica of the user's view is): with statistics, the planner walks
    /// the deadline index, which holds the assignee too, instead of
    /// finding the matches by assignee and sorting them all (migration
    /// 0004). Without `refresh_statistics` it sorts.
    #[test]
    fn my_open_tasks_are_walked_in_order_once_statistics_are_gathered() {
        let mut r = Replica::open_in_memory().unwrap();
        mostly_alices(&mut r);
        r.refresh_statistics().unwrap();
        assert_walks_deadline_index_alone(r.conn(), &mine());
    }

    /// The app's window reads through its own connection while the sync
    /// gathers statistics on another: `reload_statistics` hands them over.
    #[test]
    fn another_connection_plans_with_the_statistics_once_it_reloads_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("replica.sqlite3");
        let mut sync = Replica::open(&path).unwrap();
        let window = Replica::open(&path).unwrap();
        mostly_alices(&mut sync);
        assert!(walks_deadline_index_alone(window.conn(), &mine()).is_err());
        sync.refresh_statistics().unwrap();
        window.reload_statistics().unwrap();
        assert_walks_deadline_index_alone(window.conn(), &mine());
    }

    /// 2,000 open tasks, four in five of them alice's.
    fn mostly_alices(r: &mut Replica) {
        r.write(|tx| {
            let account = accounts::add(
                tx,
                &NewAccount::new("work", AccountKind::Gever).user("alice"),
            )?;
            let records: Vec<TaskRecord> = (0..2_000)
                .map(|i| {
                    let mut t = TaskRecord::new(format!("t{i}"), "task", State::Open);
                    t.assignee = Some(if i % 5 == 0 { "bob" } else { "alice" }.into());
                    t.group = Some(format!("group{}", i % 3));
                    t.deadline = Some(format!("2026-12-{:02}", 1 + i % 28).parse().unwrap());
                    t
                })
                .collect();
            tasks::upsert(tx, account.id, &records, crate::time::now())?;
            Ok(())
        })
        .unwrap();
    }

    /// Whether listing every id of `q` reads `index`.
    fn reads_index(conn: &Connection, q: &Query, index: &str) -> bool {
        let root = root(conn, index);
        ids_program(conn, q)
            .iter()
            .any(|(op, _, p2)| op == "OpenRead" && *p2 == root)
    }

    /// The assignee and group indexes leave out tasks without one
    /// (migration 0007), as a lane's unclaimed items all are. A condition
    /// on a person or a group still finds their few tasks through them.
    #[test]
    fn a_few_tasks_of_a_person_or_a_lane_are_found_through_their_index() {
        let mut r = Replica::open_in_memory().unwrap();
        r.write(|tx| {
            let account = accounts::add(
                tx,
                &NewAccount::new("lanes", AccountKind::Hitachi).user("tanaka"),
            )?;
            let records: Vec<TaskRecord> = (0..2_000)
                .map(|i| {
                    let mut t = TaskRecord::new(format!("t{i}"), "item", State::Open);
                    if i % 100 == 0 {
                        t.assignee = Some("bob".into());
                    } else {
                        t.group = Some(if i % 100 == 1 { "lane2" } else { "lane1" }.into());
                    }
                    t
                })
                .collect();
            tasks::upsert(tx, account.id, &records, crate::time::now())?;
            Ok(())
        })
        .unwrap();
        r.refresh_statistics().unwrap();
        let on = |column: Column, who: &str| Query {
            conditions: vec![Condition {
                column,
                op: Op::In,
                value: Value::List(vec![Value::Text(who.into())]),
            }],
            exclusions: vec![Condition::in_final_state()],
            ..Query::default()
        };
        for (q, index) in [
            (on(Column::Assignee, "bob"), "tasks_by_assignee"),
            (on(Column::Group, "lane2"), "tasks_by_group"),
        ] {
            assert!(reads_index(r.conn(), &q, index), "{index} not read");
            assert_eq!(r.query(&q).unwrap().len(), 20, "{index}");
        }
        // Only tasks with someone are in them: every cell of an index's
        // B-tree, interior ones too, is one entry.
        let entries = |index: &str| -> i64 {
            r.conn()
                .query_row(
                    "SELECT sum(ncell) FROM dbstat WHERE name = ?1",
                    [index],
                    |row| row.get(0),
                )
                .unwrap()
        };
        assert_eq!(entries("tasks_by_assignee"), 20);
        assert_eq!(entries("tasks_by_group"), 1_980);
        assert_eq!(entries("tasks_by_deadline"), 2_000);
    }

    /// "Mine, open" for alice, as the built-in view asks it.
    fn mine() -> Query {
        Query {
            conditions: vec![Condition {
                column: Column::Assignee,
                op: Op::In,
                value: Value::List(vec![Value::Text("alice".into()), Value::Text("me".into())]),
            }],
            exclusions: vec![Condition::in_final_state()],
            ..Query::default()
        }
    }
}

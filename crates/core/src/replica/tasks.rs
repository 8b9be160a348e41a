//! Tasks in the replica: the ingest path that writes server state, and the
//! effective read models ([`TaskRow`], [`TaskDetail`]) that overlay it with
//! the user's pending ops.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use ts_rs::TS;

use jiff::Timestamp;
use rusqlite::{CachedStatement, Connection, OptionalExtension, Row, Transaction, params};
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::Xxh3Default;

use super::accounts::conversion_error;
use super::search;
use crate::error::{Error, Result};
use crate::model::{
    Account, AccountKind, Action, Comment, HistoryEntry, ParamSpec, Payload, State, TaskRecord,
    TextFormat,
};
use crate::outbox::{self, Op, OpRequest, OpState};
use crate::time::{format_ts, parse_ts};

/// What an ingest did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, TS)]
pub struct IngestStats {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
}

/// A task as lists show it: server state overlaid with pending ops.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct TaskRow {
    /// The replica's own id for the task (what `tasklane show` takes).
    pub id: i64,
    pub account: String,
    pub key: String,
    pub title: String,
    /// The effective state: what the server said, or what a pending action
    /// is expected to make it.
    pub state: State,
    /// The state the server last reported.
    pub server_state: State,
    pub status_text: String,
    pub kind: Option<String>,
    pub assignee: Option<String>,
    pub group: Option<String>,
    pub issuer: Option<String>,
    pub deadline: Option<String>,
    pub priority: Option<i64>,
    pub created: Option<String>,
    pub modified: Option<String>,
    pub process: Option<String>,
    pub parent_key: Option<String>,
    pub position: Option<i64>,
    /// Ops queued or being sent for this task.
    pub pending: u32,
    /// Ops that failed or hit a conflict and wait for the user.
    pub attention: u32,
    /// The task vanished from the user's view on the server.
    pub gone: bool,
    /// Created locally; the server has not confirmed it yet.
    pub local_only: bool,
}

/// Everything about one task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct TaskDetail {
    #[serde(flatten)]
    pub row: TaskRow,
    pub account_kind: AccountKind,
    pub description: String,
    pub description_format: TextFormat,
    /// Comments as the user should see them: the server's, plus pending adds,
    /// edits and deletions.
    pub comments: Vec<EffectiveComment>,
    pub history: Vec<HistoryEntry>,
    /// The actions the server last offered; empty if never fetched.
    pub actions: Vec<Action>,
    /// When the offered actions were fetched (`None`: never).
    pub actions_fetched: Option<String>,
    /// This task's ops that are not finished (pending, sending, failed, conflict).
    pub ops: Vec<Op>,
    /// The server's own representation.
    #[ts(as = "serde_json::Value")]
    pub payload: Payload,
}

/// A comment in the effective view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct EffectiveComment {
    #[serde(flatten)]
    pub comment: Comment,
    /// A change the user queued that the server has not confirmed.
    pub pending: Option<PendingChange>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum PendingChange {
    Added { op_id: String },
    Edited { op_id: String },
    Deleted { op_id: String },
}

/// How an ingest hands its tasks to the search index.
#[derive(Debug)]
pub enum Indexing<'a> {
    /// Queued in the backlog, for a [`search::catch_up`] after the write.
    Later,
    /// New tasks without comments are collected with their text, for
    /// [`search::index_new`] at the end of the same transaction; others are
    /// queued. For a writer that catches up in the same transaction anyway
    /// (a pull's merge thread): it then skips writing each id to the
    /// backlog, reading the task's text back and deleting the id again.
    Collect(&'a mut Vec<search::NewEntry>),
}

/// Writes server state for `records` of one account: new tasks are
/// inserted, changed ones rewritten, unchanged ones (same digest) left
/// alone. Comments, history and actions are replaced only when the record
/// carries them. Pending ops are untouched, so the effective view stays
/// server state plus pending ops. Tasks whose text changed are queued for
/// the search index ([`search::catch_up`]).
pub fn upsert(
    tx: &Transaction<'_>,
    account_id: i64,
    records: &[TaskRecord],
    now: Timestamp,
) -> Result<IngestStats> {
    upsert_indexing(tx, account_id, records, now, &mut Indexing::Later)
}

/// [`upsert`], with new tasks indexed for search as `indexing` says.
pub fn upsert_indexing(
    tx: &Transaction<'_>,
    account_id: i64,
    records: &[TaskRecord],
    now: Timestamp,
    indexing: &mut Indexing<'_>,
) -> Result<IngestStats> {
    let synced_at = format_ts(now);
    let mut stats = IngestStats::default();
    let mut lookup = tx.prepare_cached(
        "SELECT id, digest, gone FROM tasks WHERE account_id = ?1 AND remote_key = ?2",
    )?;
    let mut new_task = NewTaskStatements::prepare(tx)?;
    let mut params_text = ParamsText::default();
    for record in records {
        validate(record)?;
        let payload = record.payload.as_str();
        let digest = digest(record, payload);
        let existing: Option<(i64, i64, bool)> = lookup
            .query_row(params![account_id, record.key], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?;
        let fresh = existing.is_none();
        let id = match existing {
            None => {
                let id = new_task.insert(account_id, record, payload, digest, &synced_at)?;
                let comments = record.comments.as_deref().unwrap_or_default();
                if !comments.is_empty() {
                    insert_comments(tx, id, comments)?;
                }
                match indexing {
                    // With comments the index wants them as stored (one
                    // per remote id, in their order): read back by the
                    // catch-up.
                    Indexing::Collect(entries) if comments.is_empty() => {
                        entries.push(search::NewEntry::new(
                            id,
                            &record.title,
                            &record.description,
                        ));
                    }
                    _ => search::enqueue(tx, id, true)?,
                }
                stats.inserted += 1;
                id
            }
            Some((id, old, gone)) => {
                let comments_changed = match &record.comments {
                    Some(comments) => replace_comments(tx, id, comments)?,
                    None => false,
                };
                if old != digest {
                    update(tx, id, record, payload, digest, &synced_at)?;
                    stats.updated += 1;
                } else {
                    if gone {
                        tx.prepare_cached("UPDATE tasks SET gone = 0 WHERE id = ?1")?
                            .execute([id])?;
                    }
                    stats.unchanged += 1;
                }
                if old != digest || comments_changed {
                    search::enqueue(tx, id, false)?;
                }
                id
            }
        };
        if let Some(history) = &record.history {
            replace_history(tx, id, history)?;
        }
        if let Some(actions) = &record.actions {
            replace_actions(tx, id, actions, fresh, &mut params_text, &synced_at)?;
        }
    }
    Ok(stats)
}

fn validate(record: &TaskRecord) -> Result<()> {
    if record.key.trim().is_empty() {
        return Err(Error::Invalid(format!(
            "task {:?} has an empty remote key",
            record.title
        )));
    }
    if record.key.starts_with("local:") {
        return Err(Error::Invalid(format!(
            "remote key {:?} uses the prefix reserved for tasks created offline",
            record.key
        )));
    }
    Ok(())
}

/// A hash of everything `tasks` stores for a record, to skip rewriting
/// unchanged rows. XXH3 rather than `DefaultHasher`: SipHash over every
/// payload was a ninth of a first sync's merging, and its algorithm may
/// change with the toolchain. (So may how std feeds a `str` or an `Option`
/// to a hasher; then every row is rewritten once, nothing worse.)
fn digest(record: &TaskRecord, payload: &str) -> i64 {
    let mut h = Xxh3Default::new();
    record.title.hash(&mut h);
    record.description.hash(&mut h);
    record.description_format.as_str().hash(&mut h);
    record.state.as_str().hash(&mut h);
    record.status_text.hash(&mut h);
    record.kind.hash(&mut h);
    record.assignee.hash(&mut h);
    record.group.hash(&mut h);
    record.issuer.hash(&mut h);
    record.deadline.map(|d| d.to_text()).hash(&mut h);
    record.priority.hash(&mut h);
    record.created.map(|t| t.as_second()).hash(&mut h);
    record.modified.map(|t| t.as_second()).hash(&mut h);
    record.process.hash(&mut h);
    record.parent_key.hash(&mut h);
    record.position.hash(&mut h);
    payload.hash(&mut h);
    h.finish() as i64
}

/// The statements that write a new task, looked up in the connection's
/// statement cache once per [`upsert_indexing`] instead of once per task:
/// each lookup hashes the SQL text twice, a few per cent of a first sync's
/// merging together.
struct NewTaskStatements<'c> {
    task: CachedStatement<'c>,
    body: CachedStatement<'c>,
}

impl<'c> NewTaskStatements<'c> {
    fn prepare(tx: &'c Transaction<'_>) -> Result<Self> {
        Ok(NewTaskStatements {
            task: tx.prepare_cached(
                "INSERT INTO tasks (account_id, remote_key, title, state, status_text, kind,
                    assignee, group_name, issuer, deadline, priority, created, modified, process,
                    parent_key, position, digest, synced_at, actions_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                    ?17, ?18, ?19)",
            )?,
            // A plain INSERT: the task was inserted just before and has no
            // body. (`INSERT OR REPLACE` may delete a row first, so SQLite
            // copied every page it touched into a statement journal, to
            // undo half a statement on error: a few per cent of a first
            // sync's merging.)
            body: tx.prepare_cached(
                "INSERT INTO task_bodies (task_id, description, description_format, payload)
                 VALUES (?1, ?2, ?3, ?4)",
            )?,
        })
    }

    /// Inserts the task and its body; returns its id.
    fn insert(
        &mut self,
        account_id: i64,
        r: &TaskRecord,
        payload: &str,
        digest: i64,
        synced_at: &str,
    ) -> Result<i64> {
        let id = self.task.insert(params![
            account_id,
            r.key,
            r.title,
            r.state.as_str(),
            r.status_text,
            r.kind,
            r.assignee,
            r.group,
            r.issuer,
            r.deadline.map(|d| d.to_text()),
            r.priority,
            r.created.map(format_ts),
            r.modified.map(format_ts),
            r.process,
            r.parent_key,
            r.position,
            digest,
            synced_at,
            // The actions, when the record carries them, are stored right
            // after.
            r.actions.as_ref().map(|_| synced_at),
        ])?;
        self.body.execute(params![
            id,
            r.description,
            r.description_format.as_str(),
            payload
        ])?;
        Ok(id)
    }
}

/// Writes a stored task's body, updating it in place (a task that came
/// from elsewhere may have none yet).
fn write_body(tx: &Transaction<'_>, id: i64, r: &TaskRecord, payload: &str) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO task_bodies (task_id, description, description_format, payload)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (task_id) DO UPDATE SET description = excluded.description,
            description_format = excluded.description_format, payload = excluded.payload",
    )?
    .execute(params![
        id,
        r.description,
        r.description_format.as_str(),
        payload
    ])?;
    Ok(())
}

fn update(
    tx: &Transaction<'_>,
    id: i64,
    r: &TaskRecord,
    payload: &str,
    digest: i64,
    synced_at: &str,
) -> Result<()> {
    let mut stmt = tx.prepare_cached(
        "UPDATE tasks SET title = ?2, state = ?3, status_text = ?4, kind = ?5, assignee = ?6,
            group_name = ?7, issuer = ?8, deadline = ?9, priority = ?10, created = ?11,
            modified = ?12, process = ?13, parent_key = ?14, position = ?15, digest = ?16,
            synced_at = ?17, gone = 0
         WHERE id = ?1",
    )?;
    stmt.execute(params![
        id,
        r.title,
        r.state.as_str(),
        r.status_text,
        r.kind,
        r.assignee,
        r.group,
        r.issuer,
        r.deadline.map(|d| d.to_text()),
        r.priority,
        r.created.map(format_ts),
        r.modified.map(format_ts),
        r.process,
        r.parent_key,
        r.position,
        digest,
        synced_at,
    ])?;
    write_body(tx, id, r, payload)
}

fn insert_comments(tx: &Transaction<'_>, task_id: i64, comments: &[Comment]) -> Result<()> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO comments (task_id, remote_id, author, text, created, modified)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (task_id, remote_id) DO UPDATE SET
            author = excluded.author, text = excluded.text,
            created = excluded.created, modified = excluded.modified",
    )?;
    for c in comments {
        stmt.execute(params![
            task_id,
            c.remote_id,
            c.author,
            c.text,
            c.created.map(format_ts),
            c.modified.map(format_ts),
        ])?;
    }
    Ok(())
}

/// Merges the server's comments by their server id; returns whether the
/// stored set changed.
fn replace_comments(tx: &Transaction<'_>, task_id: i64, comments: &[Comment]) -> Result<bool> {
    let mut current: HashMap<String, (String, Option<String>)> = HashMap::new();
    {
        let mut stmt =
            tx.prepare_cached("SELECT remote_id, text, modified FROM comments WHERE task_id = ?1")?;
        let rows = stmt.query_map([task_id], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))?;
        for row in rows {
            let (id, value) = row?;
            current.insert(id, value);
        }
    }
    let mut changed = Vec::new();
    for c in comments {
        let modified = c.modified.map(format_ts);
        let same = current
            .remove(&c.remote_id)
            .is_some_and(|(text, m)| text == c.text && m == modified);
        if !same {
            changed.push(c.clone());
        }
    }
    insert_comments(tx, task_id, &changed)?;
    let mut changed = !changed.is_empty();
    let mut delete =
        tx.prepare_cached("DELETE FROM comments WHERE task_id = ?1 AND remote_id = ?2")?;
    for gone in current.keys() {
        delete.execute(params![task_id, gone])?;
        changed = true;
    }
    Ok(changed)
}

fn replace_history(tx: &Transaction<'_>, task_id: i64, history: &[HistoryEntry]) -> Result<()> {
    tx.prepare_cached("DELETE FROM history WHERE task_id = ?1")?
        .execute([task_id])?;
    let mut stmt = tx.prepare_cached(
        "INSERT INTO history (task_id, remote_id, at, actor, action, text, changes)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for h in history {
        stmt.execute(params![
            task_id,
            h.remote_id,
            h.at.map(format_ts),
            h.actor,
            h.action,
            h.text,
            h.changes.to_string(),
        ])?;
    }
    Ok(())
}

fn replace_actions<'a>(
    tx: &Transaction<'_>,
    task_id: i64,
    actions: &'a [Action],
    fresh: bool,
    params_text: &mut ParamsText<'a>,
    fetched_at: &str,
) -> Result<()> {
    // A task inserted just now has no actions yet, and `insert` set its
    // `actions_at`: a first sync skips a lookup and a row rewrite per task.
    if !fresh {
        tx.prepare_cached("DELETE FROM task_actions WHERE task_id = ?1")?
            .execute([task_id])?;
    }
    let mut stmt = tx.prepare_cached(
        "INSERT INTO task_actions (task_id, ordinal, action_id, label, to_state, params)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for (i, a) in actions.iter().enumerate() {
        stmt.execute(params![
            task_id,
            i as i64,
            a.id,
            a.label,
            a.to_state.map(State::as_str),
            params_text.of(&a.params)?,
        ])?;
    }
    if !fresh {
        tx.prepare_cached("UPDATE tasks SET actions_at = ?2 WHERE id = ?1")?
            .execute(params![task_id, fetched_at])?;
    }
    Ok(())
}

/// The stored text of actions' parameter lists, printed once per upsert
/// instead of once per task: a listing offers every task of a kind the
/// same actions with the same parameters (an OMFLOW flow's form fields, a
/// GEVER task type's transitions), and printing them for each of 100,000
/// tasks was a few per cent of a first sync's merging.
#[derive(Default)]
struct ParamsText<'a> {
    /// The lists printed most recently, oldest first.
    known: Vec<(&'a [ParamSpec], String)>,
}

impl<'a> ParamsText<'a> {
    /// Enough for the actions of every kind of task one listing holds.
    const KEEP: usize = 32;

    fn of(&mut self, params: &'a [ParamSpec]) -> Result<&str> {
        let found = self.known.iter().position(|(known, _)| *known == params);
        let at = match found {
            Some(at) => at,
            None => {
                if self.known.len() == Self::KEEP {
                    self.known.remove(0);
                }
                self.known.push((params, serde_json::to_string(params)?));
                self.known.len() - 1
            }
        };
        Ok(&self.known[at].1)
    }
}

/// The column list [`from_row`] reads, over `tasks t`.
pub(crate) const ROW_COLUMNS: &str = "t.id, (SELECT name FROM accounts WHERE id = t.account_id),
    t.remote_key, t.title, t.eff_state, t.state, t.status_text, t.kind, t.eff_assignee,
    t.eff_group, t.issuer, t.eff_deadline, t.priority, t.created, t.modified, t.process,
    t.parent_key, t.position,
    (SELECT count(*) FROM outbox o WHERE o.task_id = t.id AND o.state IN ('pending', 'sending')),
    (SELECT count(*) FROM outbox o WHERE o.task_id = t.id AND o.state IN ('failed', 'conflict')),
    t.gone, t.local_op IS NOT NULL";

pub(crate) fn from_row(row: &Row<'_>) -> rusqlite::Result<TaskRow> {
    let state = |i: usize| -> rusqlite::Result<State> {
        let text: String = row.get(i)?;
        text.parse().map_err(|e: String| conversion_error(i, e))
    };
    Ok(TaskRow {
        id: row.get(0)?,
        account: row.get(1)?,
        key: row.get(2)?,
        title: row.get(3)?,
        state: state(4)?,
        server_state: state(5)?,
        status_text: row.get(6)?,
        kind: row.get(7)?,
        assignee: row.get(8)?,
        group: row.get(9)?,
        issuer: row.get(10)?,
        deadline: row.get(11)?,
        priority: row.get(12)?,
        created: row.get(13)?,
        modified: row.get(14)?,
        process: row.get(15)?,
        parent_key: row.get(16)?,
        position: row.get(17)?,
        pending: row.get(18)?,
        attention: row.get(19)?,
        gone: row.get(20)?,
        local_only: row.get(21)?,
    })
}

/// The effective row of one task.
pub fn row(conn: &Connection, id: i64) -> Result<TaskRow> {
    conn.prepare_cached(&format!(
        "SELECT {ROW_COLUMNS} FROM tasks t WHERE t.id = ?1"
    ))?
    .query_row([id], from_row)
    .optional()?
    .ok_or_else(|| Error::TaskNotFound(id.to_string()))
}

/// The replica id of the task with this remote key in this account.
pub fn id_by_key(conn: &Connection, account_id: i64, key: &str) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT id FROM tasks WHERE account_id = ?1 AND remote_key = ?2")?
        .query_row(params![account_id, key], |r| r.get(0))
        .optional()?)
}

/// The account a task belongs to.
pub fn account_of(conn: &Connection, id: i64) -> Result<Account> {
    let account_id: i64 = conn
        .query_row("SELECT account_id FROM tasks WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .optional()?
        .ok_or_else(|| Error::TaskNotFound(id.to_string()))?;
    super::accounts::by_id(conn, account_id)
}

/// Open tasks of an account whose details (offered actions, comments,
/// history) were never fetched or are older than the task's last change,
/// most recently changed first: what a sync fetches so the user can act on
/// them offline.
pub fn needing_details(conn: &Connection, account_id: i64, limit: usize) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT remote_key FROM tasks
         WHERE account_id = ?1 AND gone = 0 AND local_op IS NULL
           AND state NOT IN ('closed', 'cancelled', 'skipped')
           AND (actions_at IS NULL OR actions_at < synced_at)
         ORDER BY synced_at DESC, id LIMIT ?2",
    )?;
    let keys = stmt
        .query_map(
            rusqlite::params![account_id, i64::try_from(limit).unwrap_or(i64::MAX)],
            |r| r.get(0),
        )?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(keys)
}

/// The actions the server last offered on a task, and when they were
/// fetched (`None`: never, so nothing can be checked against them).
pub fn offered_actions(conn: &Connection, id: i64) -> Result<(Vec<Action>, Option<String>)> {
    let fetched: Option<String> = conn
        .query_row("SELECT actions_at FROM tasks WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .optional()?
        .ok_or_else(|| Error::TaskNotFound(id.to_string()))?;
    let mut stmt = conn.prepare_cached(
        "SELECT action_id, label, to_state, params FROM task_actions
         WHERE task_id = ?1 ORDER BY ordinal",
    )?;
    let actions = stmt
        .query_map([id], |r| {
            let to_state: Option<String> = r.get(2)?;
            let params: String = r.get(3)?;
            Ok(Action {
                id: r.get(0)?,
                label: r.get(1)?,
                to_state: to_state
                    .map(|s| s.parse().map_err(|e: String| conversion_error(2, e)))
                    .transpose()?,
                params: serde_json::from_str(&params)
                    .map_err(|e| conversion_error(3, e.to_string()))?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((actions, fetched))
}

/// The server's comments on a task.
pub fn comments(conn: &Connection, id: i64) -> Result<Vec<Comment>> {
    let mut stmt = conn.prepare_cached(
        "SELECT remote_id, author, text, created, modified FROM comments
         WHERE task_id = ?1 ORDER BY coalesce(created, ''), id",
    )?;
    let comments = stmt
        .query_map([id], |r| {
            Ok(Comment {
                remote_id: r.get(0)?,
                author: r.get(1)?,
                text: r.get(2)?,
                created: r.get::<_, Option<String>>(3)?.as_deref().and_then(parse_ts),
                modified: r.get::<_, Option<String>>(4)?.as_deref().and_then(parse_ts),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(comments)
}

fn history(conn: &Connection, id: i64) -> Result<Vec<HistoryEntry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT remote_id, at, actor, action, text, changes FROM history
         WHERE task_id = ?1 ORDER BY coalesce(at, ''), id",
    )?;
    let entries = stmt
        .query_map([id], |r| {
            let changes: String = r.get(5)?;
            Ok(HistoryEntry {
                remote_id: r.get(0)?,
                at: r.get::<_, Option<String>>(1)?.as_deref().and_then(parse_ts),
                actor: r.get(2)?,
                action: r.get(3)?,
                text: r.get(4)?,
                changes: serde_json::from_str(&changes)
                    .map_err(|e| conversion_error(5, e.to_string()))?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(entries)
}

/// One task with everything the detail view shows.
pub fn detail(conn: &Connection, id: i64) -> Result<TaskDetail> {
    let row = row(conn, id)?;
    let account = account_of(conn, id)?;
    let (description, format, payload): (String, String, String) = conn
        .query_row(
            "SELECT description, description_format, payload FROM task_bodies WHERE task_id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?
        .unwrap_or_else(|| (String::new(), "text".into(), "null".into()));
    let (actions, actions_fetched) = offered_actions(conn, id)?;
    let ops = outbox::for_task(conn, id)?;
    let comments = effective_comments(comments(conn, id)?, &ops, &account);
    Ok(TaskDetail {
        row,
        account_kind: account.kind,
        description,
        description_format: if format == "html" {
            TextFormat::Html
        } else {
            TextFormat::Text
        },
        comments,
        history: history(conn, id)?,
        actions,
        actions_fetched,
        ops,
        payload: Payload::from_json(payload)?,
    })
}

/// Overlays the task's pending comment ops on the server's comments.
fn effective_comments(
    server: Vec<Comment>,
    ops: &[Op],
    account: &Account,
) -> Vec<EffectiveComment> {
    let mut out: Vec<EffectiveComment> = server
        .into_iter()
        .map(|comment| EffectiveComment {
            comment,
            pending: None,
        })
        .collect();
    for op in ops
        .iter()
        .filter(|op| matches!(op.state, OpState::Pending | OpState::Sending))
    {
        let op_id = op.op_id.to_string();
        match &op.request {
            OpRequest::CommentAdd { text } => out.push(EffectiveComment {
                comment: Comment {
                    remote_id: format!("pending:{op_id}"),
                    author: Some(account.user_name.clone()).filter(|u| !u.is_empty()),
                    text: text.clone(),
                    created: op.created_at,
                    modified: None,
                },
                pending: Some(PendingChange::Added { op_id }),
            }),
            OpRequest::CommentEdit { comment, text } => {
                if let Some(c) = out.iter_mut().find(|c| &c.comment.remote_id == comment) {
                    c.comment.text = text.clone();
                    c.pending = Some(PendingChange::Edited { op_id });
                }
            }
            OpRequest::CommentDelete { comment } => {
                if let Some(c) = out.iter_mut().find(|c| &c.comment.remote_id == comment) {
                    c.pending = Some(PendingChange::Deleted { op_id });
                }
            }
            _ => {}
        }
    }
    out
}

/// The server state of a task as a [`TaskRecord`], with its comments,
/// history and offered actions (what `export` writes).
pub fn server_record(conn: &Connection, id: i64) -> Result<TaskRecord> {
    let mut record = conn
        .prepare_cached(
            "SELECT t.remote_key, t.title, b.description, b.description_format, t.state,
                t.status_text, t.kind, t.assignee, t.group_name, t.issuer, t.deadline, t.priority,
                t.created, t.modified, t.process, t.parent_key, t.position, b.payload,
                t.actions_at IS NOT NULL
             FROM tasks t JOIN task_bodies b ON b.task_id = t.id WHERE t.id = ?1",
        )?
        .query_row([id], |r| {
            let text = |i: usize| -> rusqlite::Result<Option<String>> { r.get(i) };
            let state: String = r.get(4)?;
            let payload: String = r.get(17)?;
            let mut record = TaskRecord::new(
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                state.parse().map_err(|e: String| conversion_error(4, e))?,
            );
            record.description = r.get(2)?;
            record.description_format = if r.get::<_, String>(3)? == "html" {
                TextFormat::Html
            } else {
                TextFormat::Text
            };
            record.status_text = r.get(5)?;
            record.kind = text(6)?;
            record.assignee = text(7)?;
            record.group = text(8)?;
            record.issuer = text(9)?;
            record.deadline = text(10)?.and_then(|d| d.parse().ok());
            record.priority = r.get(11)?;
            record.created = text(12)?.as_deref().and_then(parse_ts);
            record.modified = text(13)?.as_deref().and_then(parse_ts);
            record.process = text(14)?;
            record.parent_key = text(15)?;
            record.position = r.get(16)?;
            record.payload =
                Payload::from_json(payload).map_err(|e| conversion_error(17, e.to_string()))?;
            // Actions are exported only when they were fetched, so that an
            // import keeps "never fetched" apart from "none offered".
            if r.get::<_, bool>(18)? {
                record.actions = Some(Vec::new());
            }
            Ok(record)
        })
        .optional()?
        .ok_or_else(|| Error::TaskNotFound(id.to_string()))?;
    record.comments = Some(comments(conn, id)?);
    record.history = Some(history(conn, id)?);
    if record.actions.is_some() {
        record.actions = Some(offered_actions(conn, id)?.0);
    }
    Ok(record)
}

/// Deletes a task and everything hanging off it, including its search
/// entry (which no foreign key reaches).
pub fn delete(tx: &Transaction<'_>, id: i64) -> Result<()> {
    search::unindex(tx, id)?;
    tx.execute("DELETE FROM tasks WHERE id = ?1", [id])?;
    Ok(())
}

/// A task created offline reached the server as `key`: the placeholder
/// becomes that task. Should a pull have brought the server's task in
/// already, the placeholder's ops move over to it and the placeholder goes.
/// Returns the id of the task that now stands for it.
pub fn adopt_placeholder(tx: &Transaction<'_>, placeholder: i64, key: &str) -> Result<i64> {
    let account_id: i64 = tx.query_row(
        "SELECT account_id FROM tasks WHERE id = ?1",
        [placeholder],
        |r| r.get(0),
    )?;
    match id_by_key(tx, account_id, key)? {
        Some(existing) if existing != placeholder => {
            tx.execute(
                "UPDATE outbox SET task_id = ?2 WHERE task_id = ?1",
                params![placeholder, existing],
            )?;
            delete(tx, placeholder)?;
            crate::outbox::effect::refresh(tx, existing)?;
            Ok(existing)
        }
        _ => {
            tx.execute(
                "UPDATE tasks SET remote_key = ?2, local_op = NULL WHERE id = ?1",
                params![placeholder, key],
            )?;
            Ok(placeholder)
        }
    }
}

/// After a full listing of an account: tasks the listing did not contain
/// have left the user's view. Those with unfinished ops are kept and marked
/// gone (the user must see what became of their actions); the rest are
/// deleted. Tasks created offline and not yet on the server are left alone.
/// Returns (marked gone, deleted).
///
/// `seen` must all have been merged (each is a task of the account that
/// the server knows). Then, when the account holds exactly as many such
/// tasks as the listing named, the listing named them all and nothing
/// left: the usual outcome, found by one count instead of reading every
/// task's key (a tenth of a second at 100,000 tasks).
pub fn reconcile_gone(
    tx: &Transaction<'_>,
    account_id: i64,
    seen: &std::collections::HashSet<String>,
) -> Result<(usize, usize)> {
    let held: i64 = tx
        .prepare_cached("SELECT count(*) FROM tasks WHERE account_id = ?1 AND local_op IS NULL")?
        .query_row([account_id], |r| r.get(0))?;
    if i64::try_from(seen.len()) == Ok(held) {
        return Ok((0, 0));
    }
    let mut stmt = tx.prepare(
        "SELECT t.id, t.remote_key, t.gone,
            EXISTS (SELECT 1 FROM outbox o WHERE o.task_id = t.id
                    AND o.state IN ('pending', 'sending', 'failed', 'conflict'))
         FROM tasks t WHERE t.account_id = ?1 AND t.local_op IS NULL",
    )?;
    let rows = stmt
        .query_map([account_id], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, bool>(2)?,
                r.get::<_, bool>(3)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let (mut marked, mut deleted) = (0, 0);
    for (id, key, gone, unfinished) in rows {
        if seen.contains(&key) {
            continue;
        }
        if unfinished {
            if !gone {
                tx.execute("UPDATE tasks SET gone = 1 WHERE id = ?1", [id])?;
                marked += 1;
            }
        } else {
            delete(tx, id)?;
            deleted += 1;
        }
    }
    Ok((marked, deleted))
}

/// A task that left the user's view, found so by fetching it: kept and
/// marked gone while it has unfinished ops, deleted otherwise.
pub fn vanish(tx: &Transaction<'_>, id: i64) -> Result<()> {
    let unfinished: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM outbox o WHERE o.task_id = ?1
            AND o.state IN ('pending', 'sending', 'failed', 'conflict'))",
        [id],
        |r| r.get(0),
    )?;
    if unfinished {
        tx.execute("UPDATE tasks SET gone = 1 WHERE id = ?1", [id])?;
    } else {
        delete(tx, id)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{NewAccount, ParamKind};
    use crate::replica::{Replica, accounts};

    fn action(id: &str, params: &[&str]) -> Action {
        Action {
            id: id.into(),
            label: id.to_uppercase(),
            to_state: Some(State::Closed),
            params: params
                .iter()
                .map(|name| ParamSpec {
                    name: (*name).into(),
                    label: String::new(),
                    kind: ParamKind::Text,
                    required: true,
                    sets: None,
                    wire_type: None,
                })
                .collect(),
        }
    }

    fn offered(r: &Replica, account: i64, key: &str) -> (Vec<Action>, Option<String>) {
        let id = id_by_key(r.conn(), account, key).unwrap().unwrap();
        offered_actions(r.conn(), id).unwrap()
    }

    #[test]
    fn actions_are_stored_with_their_fetch_time_on_insert_and_replaced_on_update() {
        let mut r = Replica::open_in_memory().unwrap();
        let account = r
            .write(|tx| accounts::add(tx, &NewAccount::new("a", AccountKind::Local).user("me")))
            .unwrap()
            .id;
        let mut with = TaskRecord::new("t1", "with actions", State::Open);
        with.actions = Some(vec![action("close", &["text"]), action("skip", &[])]);
        // A second task offered the same parameters (printed once).
        let mut same = TaskRecord::new("t2", "same actions", State::Open);
        same.actions = with.actions.clone();
        let without = TaskRecord::new("t3", "never fetched", State::Open);
        let first = crate::time::parse_ts("2026-11-24T08:00:00Z").unwrap();
        r.write(|tx| {
            upsert(
                tx,
                account,
                &[with.clone(), same.clone(), without.clone()],
                first,
            )
        })
        .unwrap();

        let (actions, fetched) = offered(&r, account, "t1");
        assert_eq!(actions, with.actions.clone().unwrap());
        assert_eq!(fetched.as_deref(), Some("2026-11-24T08:00:00Z"));
        assert_eq!(offered(&r, account, "t2").0, actions);
        assert_eq!(offered(&r, account, "t3"), (Vec::new(), None));

        // The next listing offers one action less: replaced, not added to.
        with.actions = Some(vec![action("skip", &[])]);
        let later = crate::time::parse_ts("2026-11-24T09:00:00Z").unwrap();
        r.write(|tx| upsert(tx, account, &[with.clone(), without], later))
            .unwrap();
        let (actions, fetched) = offered(&r, account, "t1");
        assert_eq!(actions, with.actions.unwrap());
        assert_eq!(fetched.as_deref(), Some("2026-11-24T09:00:00Z"));
        assert_eq!(offered(&r, account, "t3"), (Vec::new(), None));
    }

    /// Every entry of the search index: term, task, column, offset.
    fn index_entries(r: &Replica) -> Vec<(String, i64, String, i64)> {
        r.conn()
            .execute_batch(
                "CREATE VIRTUAL TABLE IF NOT EXISTS temp.entries
                 USING fts5vocab (main, task_search, instance)",
            )
            .unwrap();
        r.conn()
            .prepare("SELECT term, doc, col, offset FROM temp.entries ORDER BY 1, 2, 3, 4")
            .unwrap()
            .query_map([], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
            })
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    #[test]
    fn new_tasks_collected_for_the_index_are_indexed_as_the_catch_up_would() {
        // A quarter of the synthetic tasks carry comments; a duplicate
        // comment id is stored once, and the catch-up reads it back so.
        let mut records = crate::synthetic::tasks(200, 7);
        let with_comments = records.iter().filter(|r| r.comments.is_some()).count();
        assert!(with_comments > 10, "{with_comments}");
        if let Some(comments) = records.iter_mut().find_map(|r| r.comments.as_mut()) {
            let mut again = comments[0].clone();
            again.text = "zweimal geschickt".into();
            comments.push(again);
        }
        let load = |collect: bool| {
            let mut r = Replica::open_in_memory().unwrap();
            let waiting = r
                .write(|tx| {
                    let account = accounts::add(tx, &NewAccount::new("a", AccountKind::Local))?;
                    let mut entries = Vec::new();
                    let mut indexing = if collect {
                        Indexing::Collect(&mut entries)
                    } else {
                        Indexing::Later
                    };
                    upsert_indexing(tx, account.id, &records, crate::time::now(), &mut indexing)?;
                    search::index_new(tx, &entries)?;
                    let waiting = search::backlog(tx)?;
                    search::catch_up(tx, records.len())?;
                    Ok(waiting)
                })
                .unwrap();
            assert_eq!(search::backlog(r.conn()).unwrap(), 0);
            (waiting, index_entries(&r))
        };
        let (queued, caught_up) = load(false);
        let (collected_queued, collected) = load(true);
        assert_eq!(queued, 200);
        // Only the tasks with comments went through the backlog.
        assert_eq!(collected_queued, with_comments as u64);
        assert!(caught_up.len() > 5_000, "{}", caught_up.len());
        assert_eq!(collected, caught_up);
    }

    #[test]
    fn a_full_listing_removes_what_it_left_out_keeps_what_has_ops_and_skips_the_work_when_complete()
    {
        let mut r = Replica::open_in_memory().unwrap();
        let account = r
            .write(|tx| accounts::add(tx, &NewAccount::new("a", AccountKind::Local).user("me")))
            .unwrap()
            .id;
        let records: Vec<TaskRecord> = (1..=4)
            .map(|i| TaskRecord::new(format!("t{i}"), format!("task {i}"), State::Open))
            .collect();
        r.write(|tx| upsert(tx, account, &records, crate::time::now()))
            .unwrap();
        let id = |r: &Replica, key: &str| id_by_key(r.conn(), account, key).unwrap();
        let t3 = id(&r, "t3").unwrap();
        r.write(|tx| {
            crate::outbox::queue(
                tx,
                account,
                Some(t3),
                crate::outbox::OpRequest::CommentAdd { text: "x".into() },
                crate::time::now(),
            )?;
            // A task created offline, unknown to the server: never counted.
            tx.execute(
                "UPDATE tasks SET local_op = 'op' WHERE remote_key = 't4'",
                [],
            )?;
            Ok(())
        })
        .unwrap();
        let seen = |keys: &[&str]| keys.iter().map(|k| (*k).to_string()).collect();

        // Everything the server knows was listed: nothing to do.
        let all = seen(&["t1", "t2", "t3"]);
        assert_eq!(
            r.write(|tx| reconcile_gone(tx, account, &all)).unwrap(),
            (0, 0)
        );
        // t2 and t3 left the view: t3 has an op, so it stays, marked gone.
        let some = seen(&["t1"]);
        assert_eq!(
            r.write(|tx| reconcile_gone(tx, account, &some)).unwrap(),
            (1, 1)
        );
        assert_eq!(id(&r, "t2"), None);
        assert!(row(r.conn(), t3).unwrap().gone);
        assert!(id(&r, "t4").is_some());
        // Listed again without t3, which is held and unseen: marked once.
        assert_eq!(
            r.write(|tx| reconcile_gone(tx, account, &some)).unwrap(),
            (0, 0)
        );
        assert!(row(r.conn(), t3).unwrap().gone);
    }

    #[test]
    fn params_text_prints_each_list_once_and_keeps_a_bounded_number() {
        let lists: Vec<Action> = (0..ParamsText::KEEP + 5)
            .map(|i| action("a", &[&format!("p{i}")]))
            .collect();
        let mut texts = ParamsText::default();
        for a in &lists {
            let text = texts.of(&a.params).unwrap().to_string();
            assert_eq!(text, serde_json::to_string(&a.params).unwrap());
        }
        assert_eq!(texts.known.len(), ParamsText::KEEP);
        // The oldest were let go, the newest are kept.
        assert!(
            texts
                .known
                .iter()
                .all(|(p, _)| *p != lists[0].params.as_slice())
        );
        let last = &lists[lists.len() - 1].params;
        assert_eq!(
            texts.of(last).unwrap(),
            serde_json::to_string(last).unwrap()
        );
        assert_eq!(texts.known.len(), ParamsText::KEEP);
    }
}

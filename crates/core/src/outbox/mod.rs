//! The outbox: a durable queue of what the user asked for and the server
//! has not yet confirmed.
//!
//! Every action — a transition, a comment, a form push, a quick action, a
//! claim, a new task — becomes an [`Op`] with a UUID, written in the same
//! transaction as its optimistic effect (see [`effect`]), so the UI can
//! never show an effect whose op is not durably queued, nor lose an op whose
//! effect it showed.
//!
//! An op moves through these states (anything else is refused):
//!
//! ```text
//! pending ──▶ sending ──▶ done
//!    │  ▲        │──────▶ failed ───┐   (permanent error; waits for the user)
//!    │  └────────┤──────▶ conflict ─┤   (precondition failed; waits for the user)
//!    │   retry   │                  │
//!    │  (transient error)           │ retry / edit ──▶ pending
//!    └──────────────▶ cancelled ◀───┘ discard
//! ```
//!
//! An op can also become `conflict` or `failed` straight from `pending`,
//! when its precondition, checked against fresh server state, no longer
//! holds (or the server cannot do that kind of op): nothing was sent.
//!
//! `sending` is written *before* a request leaves, so after a crash the sync
//! engine knows which ops may have reached the server and asks before
//! sending again. Ops of one task are sent in queue order; a failed or
//! conflicting op holds back the later ops of its task only.

pub mod effect;

use std::fmt;
use std::str::FromStr;
use ts_rs::TS;

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::replica::accounts::conversion_error;
use crate::replica::search;
use crate::time::{Deadline, format_ts, opt_ts, parse_ts};

/// Where an op is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum OpState {
    /// Queued; will be sent when the server is reachable and its turn comes.
    Pending,
    /// Its request may be on the wire.
    Sending,
    /// The server applied it.
    Done,
    /// The server refused it for good; waits for the user.
    Failed,
    /// Its precondition no longer holds on the server; waits for the user.
    Conflict,
    /// Withdrawn by the user before it was applied.
    Cancelled,
}

impl OpState {
    pub const ALL: [OpState; 6] = [
        OpState::Pending,
        OpState::Sending,
        OpState::Done,
        OpState::Failed,
        OpState::Conflict,
        OpState::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OpState::Pending => "pending",
            OpState::Sending => "sending",
            OpState::Done => "done",
            OpState::Failed => "failed",
            OpState::Conflict => "conflict",
            OpState::Cancelled => "cancelled",
        }
    }

    /// Whether the op's life is over.
    pub fn is_terminal(self) -> bool {
        matches!(self, OpState::Done | OpState::Cancelled)
    }

    /// Whether the op's effect is part of the effective view.
    pub fn is_in_flight(self) -> bool {
        matches!(self, OpState::Pending | OpState::Sending)
    }

    /// The state machine in the module docs.
    pub fn can_become(self, to: OpState) -> bool {
        use OpState::*;
        matches!(
            (self, to),
            // A precondition checked before sending can fail: conflict or
            // failed without ever reaching the server.
            (Pending, Sending | Cancelled | Conflict | Failed)
                | (Sending, Done | Failed | Conflict | Pending)
                | (Failed | Conflict, Pending | Cancelled)
        )
    }
}

impl fmt::Display for OpState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OpState {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OpState::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| format!("unknown op state {s:?}"))
    }
}

/// The kind of an op, as stored and shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum OpKind {
    Transition,
    CommentAdd,
    CommentEdit,
    CommentDelete,
    FormPush,
    QuickAction,
    Allocate,
    CreateTask,
}

impl OpKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OpKind::Transition => "transition",
            OpKind::CommentAdd => "comment_add",
            OpKind::CommentEdit => "comment_edit",
            OpKind::CommentDelete => "comment_delete",
            OpKind::FormPush => "form_push",
            OpKind::QuickAction => "quick_action",
            OpKind::Allocate => "allocate",
            OpKind::CreateTask => "create_task",
        }
    }
}

impl fmt::Display for OpKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One form field value for an OMFLOW push or create.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct FormValue {
    /// The field id, `FORMITM_n`.
    pub id: String,
    pub value: serde_json::Value,
    /// The field's type from the form definition, sent along because OMFLOW
    /// 1.1 refuses form items without one.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub field_type: Option<String>,
}

/// A task to create on the server.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
pub struct NewTask {
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// Task type (GEVER `task_type`).
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub assignee: Option<String>,
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub issuer: Option<String>,
    #[ts(type = "string | null")]
    #[serde(default)]
    pub deadline: Option<Deadline>,
    /// Create as a subtask of this task (remote key).
    #[serde(default)]
    pub parent_key: Option<String>,
    /// Position within a sequential parent.
    #[serde(default)]
    pub position: Option<i64>,
    /// Where to create it: an OMFLOW flow, a GEVER dossier path.
    #[serde(default)]
    pub process: Option<String>,
    /// Form values for servers that create from a form (OMFLOW).
    #[serde(default)]
    pub fields: Vec<FormValue>,
}

/// What the user asked for. Serialized with the op kind under `"op"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum OpRequest {
    /// A workflow transition (GEVER transition id, Hitachi `complete`, ...).
    Transition {
        transition: String,
        #[serde(default)]
        text: Option<String>,
        #[serde(default)]
        params: serde_json::Map<String, serde_json::Value>,
    },
    CommentAdd {
        text: String,
    },
    CommentEdit {
        /// The comment's server id.
        comment: String,
        text: String,
    },
    CommentDelete {
        comment: String,
    },
    /// OMFLOW: fill form fields and advance the ticket past this stop.
    FormPush {
        fields: Vec<FormValue>,
    },
    /// OMFLOW quick action: `action1` or `action2`.
    QuickAction {
        action: String,
    },
    /// Claim the next ready item (Hitachi allocate, or an unassigned group task).
    Allocate {
        #[serde(default)]
        participant: Option<String>,
        #[serde(default)]
        filter: Option<String>,
        #[serde(default)]
        sort: Option<String>,
        #[serde(default = "default_fetch_count")]
        fetch_count: i64,
    },
    CreateTask(NewTask),
}

fn default_fetch_count() -> i64 {
    10
}

impl OpRequest {
    pub fn kind(&self) -> OpKind {
        match self {
            OpRequest::Transition { .. } => OpKind::Transition,
            OpRequest::CommentAdd { .. } => OpKind::CommentAdd,
            OpRequest::CommentEdit { .. } => OpKind::CommentEdit,
            OpRequest::CommentDelete { .. } => OpKind::CommentDelete,
            OpRequest::FormPush { .. } => OpKind::FormPush,
            OpRequest::QuickAction { .. } => OpKind::QuickAction,
            OpRequest::Allocate { .. } => OpKind::Allocate,
            OpRequest::CreateTask(_) => OpKind::CreateTask,
        }
    }

    /// A one-line description for lists.
    pub fn summary(&self) -> String {
        match self {
            OpRequest::Transition {
                transition, text, ..
            } => match text {
                Some(t) if !t.is_empty() => format!("{transition}: {t}"),
                _ => transition.clone(),
            },
            OpRequest::CommentAdd { text } => format!("comment: {text}"),
            OpRequest::CommentEdit { comment, text } => format!("edit comment {comment}: {text}"),
            OpRequest::CommentDelete { comment } => format!("delete comment {comment}"),
            OpRequest::FormPush { fields } => {
                let ids: Vec<&str> = fields.iter().map(|f| f.id.as_str()).collect();
                format!("push {}", ids.join(", "))
            }
            OpRequest::QuickAction { action } => format!("quick action {action}"),
            OpRequest::Allocate {
                participant,
                filter,
                ..
            } => {
                let mut s = "claim next".to_string();
                if let Some(f) = filter {
                    s.push_str(&format!(" where {f}"));
                }
                if let Some(p) = participant {
                    s.push_str(&format!(" for {p}"));
                }
                s
            }
            OpRequest::CreateTask(t) => format!("create {:?}", t.title),
        }
    }
}

/// A queued user intent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Op {
    /// Queue position.
    pub seq: i64,
    pub op_id: Uuid,
    pub account_id: i64,
    /// The task it acts on; `None` for a claim of the next item.
    pub task_id: Option<i64>,
    pub kind: OpKind,
    pub request: OpRequest,
    /// The expected change to the task while the op is in flight.
    pub effect: Option<serde_json::Map<String, serde_json::Value>>,
    /// The server state the user acted on.
    pub base: Option<serde_json::Value>,
    pub state: OpState,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub error_kind: Option<String>,
    #[serde(with = "opt_ts")]
    #[ts(type = "string | null")]
    pub not_before: Option<Timestamp>,
    pub result: Option<serde_json::Value>,
    #[serde(with = "opt_ts")]
    #[ts(type = "string | null")]
    pub created_at: Option<Timestamp>,
    #[serde(with = "opt_ts")]
    #[ts(type = "string | null")]
    pub updated_at: Option<Timestamp>,
}

impl Op {
    /// The first eight characters of the UUID, as lists show it.
    pub fn short_id(&self) -> String {
        short_id(&self.op_id)
    }
}

fn short_id(op_id: &Uuid) -> String {
    op_id.simple().to_string()[..8].to_string()
}

/// Queues `request` for `task_id` (or for the account, for a claim) together
/// with its optimistic effect, in the caller's transaction.
pub fn queue(
    tx: &Transaction<'_>,
    account_id: i64,
    task_id: Option<i64>,
    request: OpRequest,
    now: Timestamp,
) -> Result<Op> {
    if let Some(op) = amend_pending_comment(tx, task_id, &request, now)? {
        return Ok(op);
    }
    let op_id = Uuid::new_v4();
    let (task_id, base) = match (&request, task_id) {
        (OpRequest::Allocate { .. }, None) => (None, Some(held(tx, account_id)?)),
        (OpRequest::Allocate { .. }, Some(_)) => {
            return Err(Error::InvalidOp(
                "a claim is made for an account, not for a task".into(),
            ));
        }
        (OpRequest::CreateTask(new), None) => {
            let id = create_placeholder(tx, account_id, new, op_id, now)?;
            (Some(id), None)
        }
        (OpRequest::CreateTask(_), Some(_)) => {
            return Err(Error::InvalidOp(
                "a new task is created in an account; give its parent as parent_key".into(),
            ));
        }
        (_, None) => {
            return Err(Error::InvalidOp(format!(
                "a {} needs a task",
                request.kind()
            )));
        }
        (_, Some(id)) => {
            check_task_account(tx, id, account_id)?;
            let mut base = effect::base(tx, id)?;
            if let (
                OpRequest::CommentEdit { comment, .. } | OpRequest::CommentDelete { comment },
                Some(fields),
            ) = (&request, base.as_object_mut())
                && let Some(text) = comment_as_seen(tx, id, comment)?
            {
                fields.insert("comment_text".into(), text.into());
            }
            (Some(id), Some(base))
        }
    };
    let effect = match task_id {
        Some(id) => effect::expected(tx, id, &request)?,
        None => effect::validate_allocate(&request).map(|()| None)?,
    };
    let stamp = format_ts(now);
    // Prepared once per connection: a bulk action queues one op per task.
    tx.prepare_cached(
        "INSERT INTO outbox (op_id, account_id, task_id, kind, payload, effect, base, state,
            created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', ?8, ?8)",
    )?
    .execute(params![
        op_id.to_string(),
        account_id,
        task_id,
        request.kind().as_str(),
        serde_json::to_string(&request)?,
        effect
            .as_ref()
            .map(|e| serde_json::Value::Object(e.clone()).to_string()),
        base.as_ref().map(|b| b.to_string()),
        stamp,
    ])?;
    if let Some(id) = task_id {
        effect::refresh(tx, id)?;
    }
    get(tx, &op_id.to_string())
}

/// Editing or deleting a comment that is itself still queued changes or
/// withdraws the queued add instead: the server never saw that comment.
fn amend_pending_comment(
    tx: &Transaction<'_>,
    task_id: Option<i64>,
    request: &OpRequest,
    now: Timestamp,
) -> Result<Option<Op>> {
    let (comment, new_text) = match request {
        OpRequest::CommentEdit { comment, text } => (comment, Some(text)),
        OpRequest::CommentDelete { comment } => (comment, None),
        _ => return Ok(None),
    };
    let Some(add_id) = comment.strip_prefix("pending:") else {
        return Ok(None);
    };
    let add = get(tx, add_id)?;
    if add.kind != OpKind::CommentAdd || add.task_id != task_id || add.task_id.is_none() {
        return Err(Error::InvalidOp(format!(
            "{comment} is not a queued comment on this task"
        )));
    }
    if add.state != OpState::Pending {
        return Err(Error::InvalidOp(format!(
            "the comment is already {}; edit it once the server has it",
            add.state
        )));
    }
    let op_ref = add.op_id.to_string();
    match new_text {
        Some(text) => edit(
            tx,
            &op_ref,
            OpRequest::CommentAdd { text: text.clone() },
            now,
        )
        .map(Some),
        None => cancel(tx, &op_ref, now).map(Some),
    }
}

fn check_task_account(conn: &Connection, task_id: i64, account_id: i64) -> Result<()> {
    let owner: Option<i64> = conn
        .prepare_cached("SELECT account_id FROM tasks WHERE id = ?1")?
        .query_row([task_id], |r| r.get(0))
        .optional()?;
    match owner {
        None => Err(Error::TaskNotFound(task_id.to_string())),
        Some(a) if a != account_id => Err(Error::InvalidOp(format!(
            "task {task_id} belongs to another account"
        ))),
        Some(_) => Ok(()),
    }
}

/// A new task shows up at once, marked local, until the server confirms it.
fn create_placeholder(
    tx: &Transaction<'_>,
    account_id: i64,
    new: &NewTask,
    op_id: Uuid,
    now: Timestamp,
) -> Result<i64> {
    if new.title.trim().is_empty() {
        return Err(Error::InvalidOp("a new task needs a title".into()));
    }
    tx.execute(
        "INSERT INTO tasks (account_id, remote_key, title, state, kind, assignee, group_name,
            issuer, deadline, process, parent_key, position, synced_at, local_op)
         VALUES (?1, ?2, ?3, 'open', ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        params![
            account_id,
            format!("local:{op_id}"),
            new.title,
            new.kind,
            new.assignee,
            new.group,
            new.issuer,
            new.deadline.map(|d| d.to_text()),
            new.process,
            new.parent_key,
            new.position,
            format_ts(now),
            op_id.to_string(),
        ],
    )?;
    let id = tx.last_insert_rowid();
    tx.execute(
        "INSERT INTO task_bodies (task_id, description) VALUES (?1, ?2)",
        params![id, new.description],
    )?;
    search::enqueue(tx, id, true)?;
    Ok(id)
}

/// The columns [`from_row`] reads, in its order.
macro_rules! op_columns {
    () => {
        "seq, op_id, account_id, task_id, kind, payload, effect, base, state,
        attempts, last_error, error_kind, not_before, result, created_at, updated_at"
    };
}

const SELECT: &str = concat!("SELECT ", op_columns!(), " FROM outbox");

fn from_row(row: &Row<'_>) -> rusqlite::Result<Op> {
    let json = |i: usize| -> rusqlite::Result<Option<serde_json::Value>> {
        row.get::<_, Option<String>>(i)?
            .map(|s| serde_json::from_str(&s).map_err(|e| conversion_error(i, e.to_string())))
            .transpose()
    };
    let op_id: String = row.get(1)?;
    let kind: String = row.get(4)?;
    let payload: String = row.get(5)?;
    let request: OpRequest =
        serde_json::from_str(&payload).map_err(|e| conversion_error(5, e.to_string()))?;
    let state: String = row.get(8)?;
    let ts = |i: usize| -> rusqlite::Result<Option<Timestamp>> {
        Ok(row
            .get::<_, Option<String>>(i)?
            .as_deref()
            .and_then(parse_ts))
    };
    Ok(Op {
        seq: row.get(0)?,
        op_id: op_id
            .parse()
            .map_err(|e: uuid::Error| conversion_error(1, e.to_string()))?,
        account_id: row.get(2)?,
        task_id: row.get(3)?,
        kind: serde_json::from_value(serde_json::Value::String(kind))
            .map_err(|e| conversion_error(4, e.to_string()))?,
        request,
        effect: match json(6)? {
            Some(serde_json::Value::Object(map)) => Some(map),
            _ => None,
        },
        base: json(7)?,
        state: state.parse().map_err(|e: String| conversion_error(8, e))?,
        attempts: row.get(9)?,
        last_error: row.get(10)?,
        error_kind: row.get(11)?,
        not_before: ts(12)?,
        result: json(13)?,
        created_at: ts(14)?,
        updated_at: ts(15)?,
    })
}

/// Finds an op by its UUID or by an unambiguous prefix of at least four
/// characters (lists show the first eight).
pub fn get(conn: &Connection, reference: &str) -> Result<Op> {
    let reference = reference.trim().to_ascii_lowercase();
    if let Ok(uuid) = reference.parse::<Uuid>() {
        return conn
            .prepare_cached(&format!("{SELECT} WHERE op_id = ?1"))?
            .query_row([uuid.to_string()], from_row)
            .optional()?
            .ok_or(Error::OpNotFound(reference));
    }
    if reference.len() < 4 || !reference.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(Error::OpNotFound(reference));
    }
    // UUIDs are stored hyphenated; the first eight characters have none.
    let mut stmt = conn.prepare_cached(&format!(
        "{SELECT} WHERE replace(op_id, '-', '') LIKE ?1 || '%' LIMIT 2"
    ))?;
    let ops = stmt
        .query_map([&reference], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    match ops.len() {
        1 => Ok(ops.into_iter().next().expect("one op")),
        0 => Err(Error::OpNotFound(reference)),
        _ => Err(Error::Invalid(format!(
            "op prefix {reference} is ambiguous; give more characters"
        ))),
    }
}

/// Ops in the given states (all ops when empty), in queue order.
pub fn list(conn: &Connection, states: &[OpState]) -> Result<Vec<Op>> {
    let ops = if states.is_empty() {
        let mut stmt = conn.prepare_cached(&format!("{SELECT} ORDER BY seq"))?;
        stmt.query_map([], from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?
    } else {
        let names: Vec<String> = states.iter().map(|s| format!("'{}'", s.as_str())).collect();
        let mut stmt = conn.prepare(&format!(
            "{SELECT} WHERE state IN ({}) ORDER BY seq",
            names.join(", ")
        ))?;
        stmt.query_map([], from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?
    };
    Ok(ops)
}

/// The unfinished ops of one task, in queue order.
pub fn for_task(conn: &Connection, task_id: i64) -> Result<Vec<Op>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{SELECT} WHERE task_id = ?1 AND state IN ('pending', 'sending', 'failed', 'conflict')
         ORDER BY seq"
    ))?;
    let ops = stmt
        .query_map([task_id], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(ops)
}

/// The ops of an account that may be sent now: pending, due, and first in
/// line for their task (no earlier op of the task still unfinished). Ops of
/// other tasks are never held back by one task's failure or conflict.
/// At most `limit`, in queue order, leaving out the ops in `skip` (the sync
/// engine's ops already tried in this run).
pub fn ready(
    conn: &Connection,
    account_id: i64,
    now: Timestamp,
    skip: &[i64],
    limit: usize,
) -> Result<Vec<Op>> {
    // `skip` travels as one JSON array parameter: never spliced into SQL.
    let skip = serde_json::to_string(skip)?;
    let mut stmt = conn.prepare_cached(&format!(
        "{SELECT} o WHERE o.account_id = ?1 AND o.state = 'pending'
           AND (o.not_before IS NULL OR o.not_before <= ?2)
           AND o.seq NOT IN (SELECT value FROM json_each(?3))
           AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.task_id = o.task_id AND p.seq < o.seq
                           AND p.state IN ('pending', 'sending', 'failed', 'conflict'))
         ORDER BY o.seq LIMIT ?4"
    ))?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let ops = stmt
        .query_map(params![account_id, format_ts(now), skip, limit], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(ops)
}

/// Ops left in `sending` (by a crash or a lost answer), which must be
/// resolved by asking the server before anything else of their task is sent.
pub fn in_doubt(conn: &Connection, account_id: i64) -> Result<Vec<Op>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{SELECT} WHERE account_id = ?1 AND state = 'sending' ORDER BY seq"
    ))?;
    let ops = stmt
        .query_map([account_id], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(ops)
}

/// The text of a comment as the user sees it: the text of the last edit of
/// it still waiting to be sent, else the server's. An edit or delete holds
/// it in its base, so that a change made on the server in between is not
/// silently overwritten (see `sync::precondition`).
fn comment_as_seen(tx: &Transaction<'_>, task_id: i64, comment: &str) -> Result<Option<String>> {
    let mut stmt = tx.prepare_cached(
        "SELECT payload ->> '$.text' FROM outbox
         WHERE task_id = ?1 AND kind = 'comment_edit' AND state IN ('pending', 'sending')
           AND payload ->> '$.comment' = ?2
         ORDER BY seq DESC LIMIT 1",
    )?;
    if let Some(text) = stmt
        .query_row(params![task_id, comment], |r| r.get::<_, Option<String>>(0))
        .optional()?
        .flatten()
    {
        return Ok(Some(text));
    }
    Ok(tx
        .query_row(
            "SELECT text FROM comments WHERE task_id = ?1 AND remote_id = ?2",
            params![task_id, comment],
            |r| r.get(0),
        )
        .optional()?)
}

/// A claim's base: the keys of the tasks the user held when it was
/// queued. None of them can be what the claim took, which tells a claim in
/// doubt apart from work the user already had.
fn held(tx: &Transaction<'_>, account: i64) -> Result<serde_json::Value> {
    let mut stmt = tx.prepare_cached(
        "SELECT t.remote_key FROM tasks t JOIN accounts a ON a.id = t.account_id
         WHERE t.account_id = ?1 AND t.assignee = a.user_name AND t.gone = 0",
    )?;
    let keys = stmt
        .query_map([account], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(serde_json::json!({ "held": keys }))
}

/// What a claim in doubt cannot have taken: the items the user held when
/// it was queued (its base) and those `account`'s other done claims took.
pub fn not_claimed_by(conn: &Connection, op: &Op) -> Result<std::collections::HashSet<String>> {
    let mut taken = claimed_keys(conn, op.account_id, &op.op_id.to_string())?;
    if let Some(held) = op
        .base
        .as_ref()
        .and_then(|b| b.get("held"))
        .and_then(|h| h.as_array())
    {
        taken.extend(held.iter().filter_map(|k| k.as_str().map(str::to_string)));
    }
    Ok(taken)
}

/// The keys of the items `account`'s done claims (allocations) took,
/// other than `except`'s.
fn claimed_keys(
    conn: &Connection,
    account: i64,
    except: &str,
) -> Result<std::collections::HashSet<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT result_key FROM outbox
         WHERE account_id = ?1 AND kind = 'allocate' AND state = 'done'
           AND result_key IS NOT NULL AND op_id != ?2",
    )?;
    let keys = stmt
        .query_map(params![account, except], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(keys)
}

/// What else changes with a state change.
#[derive(Debug, Default)]
struct Change {
    count_attempt: bool,
    error: Option<(String, String)>,
    clear_error: bool,
    not_before: Option<Timestamp>,
    result: Option<serde_json::Value>,
    result_key: Option<String>,
    request: Option<OpRequest>,
}

/// What a state change needs to know of an op before changing it.
struct Located {
    seq: i64,
    op_id: Uuid,
    task_id: Option<i64>,
    state: OpState,
}

impl Located {
    fn cannot_become(&self, to: OpState) -> Error {
        Error::OpTransition {
            op: short_id(&self.op_id),
            from: self.state.as_str(),
            to: to.as_str(),
        }
    }
}

/// Finds the op `reference` names. A full id (what the sync engine passes,
/// for every op it sends) reads three columns; a short one resolves
/// through [`get`].
fn locate(conn: &Connection, reference: &str) -> Result<Located> {
    let Ok(uuid) = reference.trim().parse::<Uuid>() else {
        let op = get(conn, reference)?;
        return Ok(Located {
            seq: op.seq,
            op_id: op.op_id,
            task_id: op.task_id,
            state: op.state,
        });
    };
    let found = conn
        .prepare_cached("SELECT seq, task_id, state FROM outbox WHERE op_id = ?1")?
        .query_row([uuid.to_string()], |r| {
            Ok((r.get::<_, i64>(0)?, r.get(1)?, r.get::<_, String>(2)?))
        })
        .optional()?;
    let (seq, task_id, state) = found.ok_or_else(|| Error::OpNotFound(uuid.to_string()))?;
    Ok(Located {
        seq,
        op_id: uuid,
        task_id,
        state: state
            .parse()
            .map_err(|e: String| Error::Invalid(format!("op {uuid}: {e}")))?,
    })
}

fn set_state(
    tx: &Transaction<'_>,
    reference: &str,
    to: OpState,
    change: Change,
    now: Timestamp,
) -> Result<Op> {
    let op = locate(tx, reference)?;
    if !op.state.can_become(to) {
        return Err(op.cannot_become(to));
    }
    let (error_kind, last_error) = change.error.clone().unzip();
    // The request and its effect are written again only when they change.
    let (payload, effect) = match &change.request {
        Some(request) => {
            let effect = match op.task_id {
                Some(id) => effect::expected(tx, id, request)?,
                None => effect::validate_allocate(request).map(|()| None)?,
            };
            (
                Some(serde_json::to_string(request)?),
                effect.map(|e| serde_json::Value::Object(e).to_string()),
            )
        }
        None => (None, None),
    };
    let changed = tx
        .prepare_cached(concat!(
            "UPDATE outbox SET state = ?2, attempts = attempts + ?3,
                error_kind = CASE WHEN ?4 IS NOT NULL THEN ?4 WHEN ?12 THEN NULL ELSE error_kind END,
                last_error = CASE WHEN ?4 IS NOT NULL THEN ?5 WHEN ?12 THEN NULL ELSE last_error END,
                not_before = ?6, result = coalesce(?7, result),
                payload = coalesce(?8, payload), effect = iif(?8 IS NULL, effect, ?9),
                updated_at = ?10, result_key = coalesce(?11, result_key)
             WHERE seq = ?1 RETURNING ",
            op_columns!()
        ))?
        .query_row(
            params![
                op.seq,
                to.as_str(),
                change.count_attempt as i64,
                error_kind,
                last_error,
                change.not_before.map(format_ts),
                change.result.as_ref().map(|r| r.to_string()),
                payload,
                effect,
                format_ts(now),
                change.result_key,
                change.clear_error,
            ],
            from_row,
        )?;
    // The task's folded effect counts pending and sending ops alike: only
    // an op entering or leaving them, or a changed request, moves it.
    let in_flight = |s: OpState| matches!(s, OpState::Pending | OpState::Sending);
    if let Some(task_id) = op.task_id
        && (change.request.is_some() || in_flight(op.state) != in_flight(to))
    {
        effect::refresh(tx, task_id)?;
    }
    Ok(changed)
}

/// The sync engine is about to send the op.
pub fn mark_sending(tx: &Transaction<'_>, op: &str, now: Timestamp) -> Result<Op> {
    set_state(
        tx,
        op,
        OpState::Sending,
        Change {
            count_attempt: true,
            ..Change::default()
        },
        now,
    )
}

/// The sync engine is about to send a batch: [`mark_sending`] for each op,
/// in one statement. Fails, naming the first, if any of them is no longer
/// pending (withdrawn meanwhile); the caller's transaction then changes
/// nothing.
pub fn mark_batch_sending(tx: &Transaction<'_>, seqs: &[i64], now: Timestamp) -> Result<()> {
    let seqs = serde_json::to_string(seqs)?;
    refuse_unless_all(tx, &seqs, OpState::Pending, OpState::Sending)?;
    // Pending and sending ops alike fold into the task's effect: nothing
    // to refresh.
    tx.prepare_cached(
        "UPDATE outbox SET state = 'sending', attempts = attempts + 1, not_before = NULL,
            updated_at = ?2
         WHERE seq IN (SELECT value FROM json_each(?1))",
    )?
    .execute(params![seqs, format_ts(now)])?;
    Ok(())
}

/// The server applied the op; `result` keeps what it answered.
pub fn mark_done(
    tx: &Transaction<'_>,
    op: &str,
    result: Option<serde_json::Value>,
    key: Option<&str>,
    now: Timestamp,
) -> Result<Op> {
    set_state(
        tx,
        op,
        OpState::Done,
        Change {
            result,
            result_key: key.map(str::to_string),
            clear_error: true,
            ..Change::default()
        },
        now,
    )
}

/// What the server answered to one op of a batch it applied.
#[derive(Debug, Clone, Copy)]
pub struct Applied<'a> {
    pub seq: i64,
    /// What it answered, kept as the op's result.
    pub result: &'a serde_json::Value,
    /// The key of what the op created, if it created something.
    pub key: Option<&'a str>,
}

/// The server applied a batch: [`mark_done`] for each op, in one statement.
/// Fails, naming the first, if any of them is no longer `sending`; the
/// caller's transaction then changes nothing.
///
/// Replay marks up to a batch of ops done between its batches, while no
/// request is in flight, so this is one statement instead of a state
/// change per op (each a lookup, an update and a refold of its task).
pub fn mark_batch_done(
    tx: &Transaction<'_>,
    applied: &[Applied<'_>],
    now: Timestamp,
) -> Result<()> {
    if applied.is_empty() {
        return Ok(());
    }
    // [[seq, result as JSON text, key], ...]: one parameter, read back by
    // json_each, however long the batch.
    let rows = serde_json::Value::Array(
        applied
            .iter()
            .map(|a| serde_json::json!([a.seq, a.result.to_string(), a.key]))
            .collect(),
    )
    .to_string();
    let seqs = serde_json::to_string(&applied.iter().map(|a| a.seq).collect::<Vec<_>>())?;
    refuse_unless_all(tx, &seqs, OpState::Sending, OpState::Done)?;
    // Only an op with an effect moves its task's folded effect when it
    // leaves the ops in flight (a comment has none).
    let refold: Vec<i64> = tx
        .prepare_cached(
            "SELECT DISTINCT task_id FROM outbox
             WHERE seq IN (SELECT value FROM json_each(?1))
               AND task_id IS NOT NULL AND effect IS NOT NULL",
        )?
        .query_map([&seqs], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let changed = tx
        .prepare_cached(
            "UPDATE outbox SET state = 'done', error_kind = NULL, last_error = NULL,
                not_before = NULL, result = d.value ->> 1,
                result_key = coalesce(d.value ->> 2, outbox.result_key), updated_at = ?2
             FROM json_each(?1) AS d
             WHERE outbox.seq = d.value ->> 0",
        )?
        .execute(params![rows, format_ts(now)])?;
    if changed != applied.len() {
        return Err(Error::Invalid(format!(
            "{} ops of a batch of {} were marked done: the batch names an op twice or one that does not exist",
            changed,
            applied.len()
        )));
    }
    for task_id in refold {
        effect::refresh(tx, task_id)?;
    }
    Ok(())
}

/// Fails, naming the first, unless every op of `seqs` (a JSON array) is
/// `expected`: a batch changes state whole or not at all.
fn refuse_unless_all(
    tx: &Transaction<'_>,
    seqs: &str,
    expected: OpState,
    to: OpState,
) -> Result<()> {
    let stuck: Option<String> = tx
        .prepare_cached(
            "SELECT op_id FROM outbox
             WHERE seq IN (SELECT value FROM json_each(?1)) AND state != ?2
             ORDER BY seq LIMIT 1",
        )?
        .query_row(params![seqs, expected.as_str()], |r| r.get(0))
        .optional()?;
    match stuck {
        Some(op_id) => Err(locate(tx, &op_id)?.cannot_become(to)),
        None => Ok(()),
    }
}

/// The server refused the op for good.
pub fn mark_failed(
    tx: &Transaction<'_>,
    op: &str,
    kind: &str,
    message: &str,
    now: Timestamp,
) -> Result<Op> {
    let change = Change {
        error: Some((kind.to_string(), message.to_string())),
        ..Change::default()
    };
    set_state(tx, op, OpState::Failed, change, now)
}

/// The op's precondition no longer holds on the server.
pub fn mark_conflict(tx: &Transaction<'_>, op: &str, reason: &str, now: Timestamp) -> Result<Op> {
    let change = Change {
        error: Some(("conflict".to_string(), reason.to_string())),
        ..Change::default()
    };
    set_state(tx, op, OpState::Conflict, change, now)
}

/// A transient failure: back to pending, not before `not_before`. An op
/// still `pending` (what failed was a read before sending it, such as the
/// precondition's fetch) stays pending and the attempt is counted here; a
/// `sending` op had its attempt counted when it was marked.
pub fn reschedule(
    tx: &Transaction<'_>,
    op: &str,
    kind: &str,
    message: &str,
    not_before: Timestamp,
    now: Timestamp,
) -> Result<Op> {
    let current = get(tx, op)?;
    if current.state == OpState::Pending {
        tx.execute(
            "UPDATE outbox SET attempts = attempts + 1, error_kind = ?2, last_error = ?3,
                not_before = ?4, updated_at = ?5
             WHERE seq = ?1 AND state = 'pending'",
            params![
                current.seq,
                kind,
                message,
                format_ts(not_before),
                format_ts(now)
            ],
        )?;
        return get(tx, op);
    }
    let change = Change {
        error: Some((kind.to_string(), message.to_string())),
        not_before: Some(not_before),
        ..Change::default()
    };
    set_state(tx, op, OpState::Pending, change, now)
}

/// The user retries a failed or conflicting op as it is.
pub fn retry(tx: &Transaction<'_>, op: &str, now: Timestamp) -> Result<Op> {
    set_state(
        tx,
        op,
        OpState::Pending,
        Change {
            clear_error: true,
            ..Change::default()
        },
        now,
    )
}

/// The user changes an op that has not been applied (pending, failed or in
/// conflict); it becomes pending with the new request. The kind cannot change.
pub fn edit(tx: &Transaction<'_>, op: &str, request: OpRequest, now: Timestamp) -> Result<Op> {
    let current = get(tx, op)?;
    if current.kind != request.kind() {
        return Err(Error::InvalidOp(format!(
            "op {} is a {}; it cannot become a {}",
            current.short_id(),
            current.kind,
            request.kind()
        )));
    }
    if matches!(request, OpRequest::CreateTask(_)) {
        return Err(Error::InvalidOp(
            "a queued new task cannot be edited; discard it and create it again".into(),
        ));
    }
    let change = Change {
        clear_error: true,
        request: Some(request),
        ..Change::default()
    };
    if current.state == OpState::Pending {
        // Editing in place: same state, new request and effect.
        return edit_pending(tx, &current, change, now);
    }
    set_state(tx, op, OpState::Pending, change, now)
}

fn edit_pending(tx: &Transaction<'_>, op: &Op, change: Change, now: Timestamp) -> Result<Op> {
    let request = change.request.expect("edit carries a request");
    let effect = match op.task_id {
        Some(id) => effect::expected(tx, id, &request)?,
        None => effect::validate_allocate(&request).map(|()| None)?,
    };
    tx.execute(
        "UPDATE outbox SET payload = ?2, effect = ?3, updated_at = ?4 WHERE seq = ?1 AND state = 'pending'",
        params![
            op.seq,
            serde_json::to_string(&request)?,
            effect.map(|e| serde_json::Value::Object(e).to_string()),
            format_ts(now),
        ],
    )?;
    if let Some(task_id) = op.task_id {
        effect::refresh(tx, task_id)?;
    }
    get(tx, &op.op_id.to_string())
}

/// The user withdraws an op that has not been applied. An op being sent
/// cannot be withdrawn: it may already have reached the server. Withdrawing
/// a new task also withdraws the ops queued on it and removes the
/// placeholder.
pub fn cancel(tx: &Transaction<'_>, op: &str, now: Timestamp) -> Result<Op> {
    let cancelled = set_state(tx, op, OpState::Cancelled, Change::default(), now)?;
    if let (OpKind::CreateTask, Some(task_id)) = (cancelled.kind, cancelled.task_id) {
        for later in for_task(tx, task_id)? {
            if later.state == OpState::Sending {
                // Cannot be sent anyway: its task never reached the server.
                tx.execute(
                    "UPDATE outbox SET state = 'cancelled', updated_at = ?2 WHERE seq = ?1",
                    params![later.seq, format_ts(now)],
                )?;
            } else {
                set_state(
                    tx,
                    &later.op_id.to_string(),
                    OpState::Cancelled,
                    Change::default(),
                    now,
                )?;
            }
        }
        crate::replica::tasks::delete(tx, task_id)?;
    }
    Ok(cancelled)
}

#[cfg(test)]
mod tests;

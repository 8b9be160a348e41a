//! A task's history: GEVER "responses" — transitions with their field
//! changes, comments (added, edited, deleted with a `comment_removed`
//! entry) — and the badge notifications they raise.

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use serde_json::{Value, json};

use crate::db::Tx;
use crate::error::{EngineError, Result};
use crate::model::Task;
use crate::tasks;
use crate::users::{self, Principal};
use tasklane_core::time::{format_ts, now};

/// One history entry of a task.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Response {
    pub id: i64,
    pub task_id: i64,
    pub response_type: String,
    pub transition: String,
    pub text: String,
    pub creator: String,
    pub created: String,
    pub modified: Option<String>,
    pub modifier: Option<String>,
    pub changes: Value,
    pub additional_data: Value,
}

/// A field change recorded with a transition.
pub fn change(field_id: &str, field_title: &str, before: Value, after: Value) -> Value {
    json!({"field_id": field_id, "field_title": field_title, "before": before, "after": after})
}

/// A fresh response id: the time in microseconds since the epoch, as GEVER
/// makes them, bumped when two responses fall into the same microsecond.
fn next_id(tx: &Tx<'_>) -> Result<i64> {
    let micros = jiff::Timestamp::now().as_microsecond();
    let last: i64 = tx
        .prepare_cached("SELECT coalesce(max(id), 0) FROM responses")?
        .query_row([], |r| r.get(0))?;
    Ok(micros.max(last + 1))
}

/// A response to record.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    pub task_id: i64,
    /// `default` (transitions, system entries), `comment`, `comment_removed`.
    pub response_type: &'a str,
    /// The transition id or event (`task-commented`, `transition-add-task`, …).
    pub transition: &'a str,
    pub text: &'a str,
    pub creator: &'a str,
    pub changes: Vec<Value>,
    pub additional_data: Value,
}

/// Records a response. Also marks the task modified.
pub fn add(tx: &Tx<'_>, entry: Entry<'_>) -> Result<Response> {
    let Entry {
        task_id,
        response_type,
        transition,
        text,
        creator,
        changes,
        additional_data,
    } = entry;
    let id = next_id(tx)?;
    let created = format_ts(now());
    tx.prepare_cached(
        "INSERT INTO responses (id, task_id, response_type, transition, text, creator, created,
            changes, additional_data)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        id,
        task_id,
        response_type,
        transition,
        text,
        creator,
        created,
        Value::Array(changes.clone()).to_string(),
        additional_data.to_string(),
    ])?;
    tasks::touch(tx, task_id)?;
    Ok(Response {
        id,
        task_id,
        response_type: response_type.into(),
        transition: transition.into(),
        text: text.into(),
        creator: creator.into(),
        created,
        modified: None,
        modifier: None,
        changes: Value::Array(changes),
        additional_data,
    })
}

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Response> {
    let json = |i: usize| -> rusqlite::Result<Value> {
        let text: String = r.get(i)?;
        serde_json::from_str(&text).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, e.into())
        })
    };
    Ok(Response {
        id: r.get(0)?,
        task_id: r.get(1)?,
        response_type: r.get(2)?,
        transition: r.get(3)?,
        text: r.get(4)?,
        creator: r.get(5)?,
        created: r.get(6)?,
        modified: r.get(7)?,
        modifier: r.get(8)?,
        changes: json(9)?,
        additional_data: json(10)?,
    })
}

const COLUMNS: &str = "id, task_id, response_type, transition, text, creator, created, modified,
    modifier, changes, additional_data";

pub fn for_task(conn: &Connection, task_id: i64) -> Result<Vec<Response>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM responses WHERE task_id = ?1 ORDER BY id"
    ))?;
    let rows = stmt
        .query_map([task_id], from_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

pub fn get(conn: &Connection, task_id: i64, id: i64) -> Result<Option<Response>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM responses WHERE task_id = ?1 AND id = ?2"
        ))?
        .query_row(params![task_id, id], from_row)
        .optional()?)
}

/// Who may change a task (GEVER "Modify portal content"): whoever may see
/// it in our model — responsible, their group or org unit inbox, issuer,
/// administrators.
pub fn may_modify(p: &Principal, t: &Task) -> bool {
    tasks::visible(p, t)
}

fn require_text(text: &str) -> Result<()> {
    if text.trim().is_empty() {
        return Err(EngineError::invalid("Property 'text' is required"));
    }
    Ok(())
}

/// GEVER `POST @responses`.
pub fn add_comment(tx: &Tx<'_>, p: &Principal, task: &Task, text: &str) -> Result<Response> {
    if !may_modify(p, task) {
        return Err(EngineError::Forbidden(
            "The current user is not allowed to add comments".into(),
        ));
    }
    require_text(text)?;
    let response = add(
        tx,
        Entry {
            task_id: task.id,
            response_type: "comment",
            transition: "task-commented",
            text,
            creator: &p.user,
            changes: Vec::new(),
            additional_data: json!({}),
        },
    )?;
    notify_parties(tx, task, &p.user, "task-commented", text)?;
    Ok(response)
}

fn require_comment(conn: &Connection, task: &Task, id: i64, verb: &str) -> Result<Response> {
    let response = get(conn, task.id, id)?
        .ok_or_else(|| EngineError::NotFound(format!("response {id} of task {}", task.id)))?;
    if response.response_type != "comment" {
        let (message, translated) = match verb {
            "edit" => (
                "only_comment_type_can_be_edited",
                "Only responses of type \"Comment\" can be edited.",
            ),
            _ => (
                "only_comment_type_can_be_deleted",
                "Only responses of type \"Comment\" can be deleted.",
            ),
        };
        return Err(EngineError::invalid_id(message, translated));
    }
    Ok(response)
}

/// GEVER `PATCH @responses/<id>`. GEVER does not check who wrote the
/// comment; neither do we (anyone who may modify the task may edit).
pub fn edit_comment(tx: &Tx<'_>, p: &Principal, task: &Task, id: i64, text: &str) -> Result<()> {
    if !may_modify(p, task) {
        return Err(EngineError::Forbidden(
            "not allowed to edit comments of this task".into(),
        ));
    }
    require_comment(tx, task, id, "edit")?;
    require_text(text)?;
    tx.execute(
        "UPDATE responses SET text = ?3, modified = ?4, modifier = ?5 WHERE task_id = ?1 AND id = ?2",
        params![task.id, id, text, format_ts(now()), p.user],
    )?;
    tasks::touch(tx, task.id)?;
    Ok(())
}

/// GEVER `DELETE @responses/<id>`: the comment goes, and a
/// `comment_removed` entry records when it had been written.
pub fn delete_comment(tx: &Tx<'_>, p: &Principal, task: &Task, id: i64) -> Result<()> {
    if !may_modify(p, task) {
        return Err(EngineError::Forbidden(
            "not allowed to delete comments of this task".into(),
        ));
    }
    let comment = require_comment(tx, task, id, "delete")?;
    tx.execute(
        "DELETE FROM responses WHERE task_id = ?1 AND id = ?2",
        params![task.id, id],
    )?;
    add(
        tx,
        Entry {
            task_id: task.id,
            response_type: "comment_removed",
            transition: "task-commented",
            text: "",
            creator: &p.user,
            changes: Vec::new(),
            additional_data: json!({"deleted_response_creation_date": comment.created}),
        },
    )?;
    Ok(())
}

/// The users a task's activity concerns: the responsible (or the members of
/// the responsible group) and the issuer.
fn parties(conn: &Connection, task: &Task) -> Result<Vec<String>> {
    let mut out = vec![task.issuer.clone()];
    match (&task.responsible.user, &task.responsible.group) {
        (Some(user), _) => out.push(user.clone()),
        (None, Some(group)) => out.extend(users::members_of(conn, group)?),
        (None, None) => {}
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Raises a badge notification for everyone the task concerns but the actor.
pub fn notify_parties(
    tx: &Tx<'_>,
    task: &Task,
    actor: &str,
    kind: &str,
    summary: &str,
) -> Result<()> {
    let recipients: Vec<String> = parties(tx, task)?
        .into_iter()
        .filter(|u| u != actor)
        .collect();
    notify(tx, &recipients, task.id, kind, actor, summary)
}

/// Raises a notification for the new responsible of a task (new or reassigned).
pub fn notify_assigned(tx: &Tx<'_>, task: &Task, actor: &str, kind: &str) -> Result<()> {
    let recipients: Vec<String> = match (&task.responsible.user, &task.responsible.group) {
        (Some(user), _) => vec![user.clone()],
        (None, Some(group)) => users::members_of(tx, group)?,
        (None, None) => Vec::new(),
    };
    let recipients: Vec<String> = recipients.into_iter().filter(|u| u != actor).collect();
    notify(tx, &recipients, task.id, kind, actor, &task.title)
}

/// Raises a badge notification of `kind` about a task for each of `users`.
pub fn notify(
    tx: &Tx<'_>,
    users: &[String],
    task_id: i64,
    kind: &str,
    actor: &str,
    summary: &str,
) -> Result<()> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO notifications (user_id, task_id, kind, actor, summary, created)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    let created = format_ts(now());
    for user in users {
        stmt.execute(params![user, task_id, kind, actor, summary, created])?;
    }
    Ok(())
}

/// A badge notification.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Notification {
    pub id: i64,
    pub task_id: i64,
    pub kind: String,
    pub actor: String,
    pub summary: String,
    pub created: String,
    pub read: bool,
}

/// A user's notifications, unread first, newest first within each.
pub fn notifications(conn: &Connection, user: &str) -> Result<Vec<Notification>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, task_id, kind, actor, summary, created, read FROM notifications
         WHERE user_id = ?1 ORDER BY read, id DESC",
    )?;
    let rows = stmt
        .query_map([user], |r| {
            Ok(Notification {
                id: r.get(0)?,
                task_id: r.get(1)?,
                kind: r.get(2)?,
                actor: r.get(3)?,
                summary: r.get(4)?,
                created: r.get(5)?,
                read: r.get(6)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Marks one notification (or, with `up_to`, all up to that id) read.
pub fn mark_read(tx: &Tx<'_>, user: &str, id: Option<i64>, up_to: Option<i64>) -> Result<usize> {
    let n = match (id, up_to) {
        (Some(id), _) => tx.execute(
            "UPDATE notifications SET read = 1 WHERE user_id = ?1 AND id = ?2",
            params![user, id],
        )?,
        (None, Some(max)) => tx.execute(
            "UPDATE notifications SET read = 1 WHERE user_id = ?1 AND id <= ?2",
            params![user, max],
        )?,
        (None, None) => 0,
    };
    Ok(n)
}

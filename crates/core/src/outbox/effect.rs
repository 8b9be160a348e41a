//! What a queued op is expected to do, and the checks made when it is queued.
//!
//! The expected effect comes from the action the server last offered: its
//! target state, and the task fields its parameters set (a new deadline, a
//! new responsible). When the task's actions were never fetched there is
//! nothing to check against offline, so the op is queued with no effect and
//! the server's precondition check decides. The effects of a task's
//! in-flight ops are folded, in queue order, into `tasks.pending_effect`,
//! from which the effective view's `eff_*` columns are computed.

use rusqlite::{Connection, Transaction, params};
use serde_json::{Map, Value};

use super::OpRequest;
use crate::error::{Error, Result};
use crate::model::{Action, ParamKind, State, TaskField};
use crate::replica::tasks;
use crate::time::Deadline;

/// The action id under which servers offer an OMFLOW-style form push.
pub const PUSH_ACTION: &str = "push";
/// The two OMFLOW quick actions.
pub const QUICK_ACTIONS: [&str; 2] = ["action1", "action2"];

/// The server state the user acts on, kept with the op for the
/// precondition check before it is sent.
pub(crate) fn base(conn: &Connection, task_id: i64) -> Result<Value> {
    Ok(conn.query_row(
        "SELECT json_object('state', state, 'status_text', status_text, 'assignee', assignee,
            'group', group_name, 'deadline', deadline, 'modified', modified, 'key', remote_key)
         FROM tasks WHERE id = ?1",
        [task_id],
        |r| {
            let text: String = r.get(0)?;
            Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
        },
    )?)
}

/// Validates `request` against the task and returns its expected effect.
pub(crate) fn expected(
    conn: &Connection,
    task_id: i64,
    request: &OpRequest,
) -> Result<Option<Map<String, Value>>> {
    match request {
        OpRequest::Transition {
            transition,
            text,
            params,
        } => {
            if transition.trim().is_empty() {
                return Err(Error::InvalidOp("a transition needs an id".into()));
            }
            let Some(action) = offered(conn, task_id, transition)? else {
                return Ok(None);
            };
            check_params(&action, params, text.as_deref())?;
            Ok(Some(effect_of(&action, params, None)))
        }
        OpRequest::CommentAdd { text } => {
            non_empty(text, "a comment")?;
            Ok(None)
        }
        OpRequest::CommentEdit { comment, text } => {
            non_empty(text, "a comment")?;
            comment_exists(conn, task_id, comment)?;
            Ok(None)
        }
        OpRequest::CommentDelete { comment } => {
            comment_exists(conn, task_id, comment)?;
            Ok(None)
        }
        OpRequest::FormPush { fields } => {
            if fields.is_empty() {
                return Err(Error::InvalidOp(
                    "a form push needs at least one field".into(),
                ));
            }
            if let Some(f) = fields.iter().find(|f| f.id.trim().is_empty()) {
                return Err(Error::InvalidOp(format!(
                    "a form field has no id (value {})",
                    f.value
                )));
            }
            let values: Map<String, Value> = fields
                .iter()
                .map(|f| (f.id.clone(), f.value.clone()))
                .collect();
            match offered(conn, task_id, PUSH_ACTION)? {
                // Real OMFLOW servers publish no form definition: a push
                // offered without field specs takes any fields.
                Some(action) if action.params.is_empty() => {
                    Ok(Some(effect_of(&action, &values, Some(State::Resolved))))
                }
                Some(action) => {
                    if let Some(unknown) = fields
                        .iter()
                        .find(|f| !action.params.iter().any(|p| p.name == f.id))
                    {
                        return Err(Error::InvalidOp(format!(
                            "the form has no field {}; its fields are {}",
                            unknown.id,
                            names(&action)
                        )));
                    }
                    check_params(&action, &values, None)?;
                    Ok(Some(effect_of(&action, &values, Some(State::Resolved))))
                }
                None => Ok(Some(state_effect(State::Resolved))),
            }
        }
        OpRequest::QuickAction { action } => {
            if !QUICK_ACTIONS.contains(&action.as_str()) {
                return Err(Error::InvalidOp(format!(
                    "a quick action is action1 or action2, not {action:?}"
                )));
            }
            match offered(conn, task_id, action)? {
                Some(a) => Ok(Some(state_effect(a.to_state.unwrap_or(State::Resolved)))),
                None => Ok(Some(state_effect(State::Resolved))),
            }
        }
        OpRequest::Allocate { .. } => Err(Error::InvalidOp(
            "a claim is made for an account, not for a task".into(),
        )),
        OpRequest::CreateTask(_) => Ok(None),
    }
}

/// Checks a claim's parameters (it has no task to check against).
pub(crate) fn validate_allocate(request: &OpRequest) -> Result<()> {
    let OpRequest::Allocate {
        participant,
        filter,
        sort,
        fetch_count,
    } = request
    else {
        return Err(Error::InvalidOp(format!(
            "a {} needs a task",
            request.kind()
        )));
    };
    for (name, value) in [
        ("participant", participant),
        ("filter", filter),
        ("sort", sort),
    ] {
        if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
            return Err(Error::InvalidOp(format!(
                "the claim's {name} is empty; leave it out instead"
            )));
        }
    }
    if *fetch_count < -1 || *fetch_count == 0 {
        return Err(Error::InvalidOp(format!(
            "fetch count must be -1 (all) or at least 1, not {fetch_count}"
        )));
    }
    Ok(())
}

/// The action with this id, if the task's actions were fetched; an error if
/// they were and it is not among them.
fn offered(conn: &Connection, task_id: i64, id: &str) -> Result<Option<Action>> {
    let (actions, fetched) = tasks::offered_actions(conn, task_id)?;
    if fetched.is_none() {
        return Ok(None);
    }
    match actions.iter().find(|a| a.id == id) {
        Some(a) => Ok(Some(a.clone())),
        None => {
            let ids: Vec<&str> = actions.iter().map(|a| a.id.as_str()).collect();
            Err(Error::InvalidOp(if ids.is_empty() {
                format!(
                    "{id} is not offered on task {task_id}: the server offers no actions on it now"
                )
            } else {
                format!(
                    "{id} is not offered on task {task_id}; offered: {}",
                    ids.join(", ")
                )
            }))
        }
    }
}

fn names(action: &Action) -> String {
    action
        .params
        .iter()
        .map(|p| p.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn non_empty(text: &str, what: &str) -> Result<()> {
    if text.trim().is_empty() {
        return Err(Error::InvalidOp(format!("{what} cannot be empty")));
    }
    Ok(())
}

fn comment_exists(conn: &Connection, task_id: i64, comment: &str) -> Result<()> {
    let found: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM comments WHERE task_id = ?1 AND remote_id = ?2)",
        params![task_id, comment],
        |r| r.get(0),
    )?;
    if found {
        Ok(())
    } else {
        Err(Error::InvalidOp(format!(
            "task {task_id} has no comment {comment}"
        )))
    }
}

fn is_blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// Required parameters are present and every given value fits its kind.
fn check_params(action: &Action, values: &Map<String, Value>, text: Option<&str>) -> Result<()> {
    for spec in &action.params {
        let value = values.get(&spec.name);
        let given = match (spec.name.as_str(), value) {
            (_, Some(v)) => !is_blank(v),
            ("text", None) => text.is_some_and(|t| !t.trim().is_empty()),
            _ => false,
        };
        if spec.required && !given {
            let label = if spec.label.is_empty() {
                &spec.name
            } else {
                &spec.label
            };
            return Err(Error::InvalidOp(format!(
                "{} needs {} ({})",
                action.label, label, spec.name
            )));
        }
        let Some(value) = value.filter(|v| !is_blank(v)) else {
            continue;
        };
        let fits = match &spec.kind {
            ParamKind::Date => value
                .as_str()
                .is_some_and(|s| s.parse::<Deadline>().is_ok()),
            ParamKind::Number => {
                value.is_number()
                    || value
                        .as_str()
                        .is_some_and(|s| s.trim().parse::<f64>().is_ok())
            }
            ParamKind::Bool => {
                value.is_boolean()
                    || value
                        .as_str()
                        .is_some_and(|s| matches!(s, "true" | "false"))
            }
            ParamKind::Choice { options } => value
                .as_str()
                .is_some_and(|s| options.iter().any(|o| o == s)),
            ParamKind::Actors | ParamKind::Documents => value.is_array() || value.is_string(),
            ParamKind::Text | ParamKind::LongText | ParamKind::Actor => true,
        };
        if !fits {
            return Err(Error::InvalidOp(format!(
                "{}: {} is not a valid {} for {}",
                action.label,
                value,
                kind_name(&spec.kind),
                spec.name
            )));
        }
    }
    Ok(())
}

fn kind_name(kind: &ParamKind) -> &'static str {
    match kind {
        ParamKind::Text | ParamKind::LongText => "text",
        ParamKind::Number => "number",
        ParamKind::Bool => "true/false",
        ParamKind::Date => "date (YYYY-MM-DD)",
        ParamKind::Actor => "user or group",
        ParamKind::Actors => "list of users",
        ParamKind::Documents => "list of documents",
        ParamKind::Choice { .. } => "choice",
    }
}

fn state_effect(state: State) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(TaskField::State.as_str().into(), state.as_str().into());
    m
}

fn effect_of(
    action: &Action,
    values: &Map<String, Value>,
    default_state: Option<State>,
) -> Map<String, Value> {
    let mut effect = Map::new();
    if let Some(state) = action.to_state.or(default_state) {
        effect.insert(TaskField::State.as_str().into(), state.as_str().into());
    }
    for spec in &action.params {
        let (Some(field), Some(value)) = (spec.sets, values.get(&spec.name)) else {
            continue;
        };
        let text = match (field, value) {
            (TaskField::Deadline, Value::String(s)) => match s.parse::<Deadline>() {
                Ok(d) => d.to_text(),
                Err(_) => continue,
            },
            (_, Value::String(s)) => s.clone(),
            (_, Value::Number(n)) => n.to_string(),
            _ => continue,
        };
        effect.insert(field.as_str().into(), Value::String(text));
    }
    effect
}

/// Recomputes a task's folded pending effect from its in-flight ops.
pub(crate) fn refresh(tx: &Transaction<'_>, task_id: i64) -> Result<()> {
    let mut stmt = tx.prepare_cached(
        "SELECT effect FROM outbox WHERE task_id = ?1 AND state IN ('pending', 'sending')
         AND effect IS NOT NULL ORDER BY seq",
    )?;
    let effects = stmt
        .query_map([task_id], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut folded = Map::new();
    for e in effects {
        if let Value::Object(map) = serde_json::from_str(&e)? {
            folded.extend(map);
        }
    }
    let value = (!folded.is_empty()).then(|| Value::Object(folded).to_string());
    // Unchanged (a comment's op has no effect) is left unwritten: the row
    // would be rewritten with every index on the effective columns.
    tx.prepare_cached(
        "UPDATE tasks SET pending_effect = ?2 WHERE id = ?1 AND pending_effect IS NOT ?2",
    )?
    .execute(params![task_id, value])?;
    Ok(())
}

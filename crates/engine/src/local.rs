//! The embedded engine as a [`Remote`], in-process: the desktop app's local
//! account (and any account of kind `local`) talks to the engine in the
//! tasklane home without HTTP.
//!
//! Exactly once comes for free here: every op runs in one write transaction
//! together with its idempotency record (the op's UUID as the key, see
//! `docs/decisions/0007-idempotency-keys.md`), so "did it take effect?" is
//! a lookup, and executing an op twice answers the first outcome.
//!
//! Tasks are the engine's GEVER-model tasks, keyed by their id. Flow steps
//! (OMFLOW-style tickets) offer `push` and the step's quick actions; other
//! tasks offer the GEVER transitions the user may run now.

use std::sync::Arc;

use rusqlite::Connection;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tasklane_core::model::{
    Action, Comment, HistoryEntry, ParamKind, ParamSpec, State, TaskRecord, TextFormat,
};
use tasklane_core::outbox::effect::{PUSH_ACTION, QUICK_ACTIONS};
use tasklane_core::outbox::{NewTask, Op, OpKind, OpRequest};
use tasklane_core::remote::{
    Applied, BoxFuture, Capabilities, ListMode, ListPage, Outcome, Remote, RemoteError,
    RemoteErrorKind,
};
use tasklane_core::time::{Deadline, format_ts, now, parse_ts};
use tasklane_dialects::gever::normalize as gever;

use crate::db::Tx;
use crate::engine::{CreateTask, Engine, create_task};
use crate::error::{EngineError, Result};
use crate::flows::{self, FieldValue};
use crate::idempotency::{self, Stored};
use crate::model::Task;
use crate::users::Principal;
use crate::{dossiers, responses, tasks, workflow, workitems};

/// Tasks per listing page.
const PAGE: i64 = 200;

/// The engine in-process, acting as one of its users.
#[derive(Debug, Clone)]
pub struct LocalRemote {
    engine: Arc<Engine>,
    user: String,
}

impl LocalRemote {
    pub fn new(engine: Arc<Engine>, user: impl Into<String>) -> Self {
        LocalRemote {
            engine,
            user: user.into(),
        }
    }

    fn principal(&self) -> Result<Principal> {
        self.engine.principal(&self.user)
    }
}

/// The engine's errors as the sync engine classifies them: the engine's
/// refusals are final; storage trouble may pass.
fn remote_error(e: EngineError) -> RemoteError {
    match e {
        EngineError::NotFound(_)
        | EngineError::Forbidden(_)
        | EngineError::InvalidTransition { .. }
        | EngineError::Invalid { .. }
        | EngineError::Conflict(_) => RemoteError::new(RemoteErrorKind::Permanent, e.to_string()),
        other => RemoteError::new(
            RemoteErrorKind::Transient { retry_after: None },
            other.to_string(),
        ),
    }
}

/// Runs engine work off the async executor (SQLite may wait on the disk).
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> std::result::Result<T, RemoteError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(result) => result.map_err(remote_error),
        Err(e) => Err(RemoteError::new(
            RemoteErrorKind::Transient { retry_after: None },
            format!("the engine worker failed: {e}"),
        )),
    }
}

fn task_id(key: &str) -> Result<i64> {
    key.parse()
        .map_err(|_| EngineError::NotFound(format!("task {key:?}")))
}

/// A listing cursor: the last id returned and when the listing began.
fn cursor(after: i64, started: &str) -> String {
    format!("{after}@{started}")
}

fn parse_cursor(text: &str) -> Option<(i64, String)> {
    let (after, started) = text.split_once('@')?;
    Some((after.parse().ok()?, started.to_string()))
}

impl Remote for LocalRemote {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            op_kinds: vec![
                OpKind::Transition,
                OpKind::CommentAdd,
                OpKind::CommentEdit,
                OpKind::CommentDelete,
                OpKind::FormPush,
                OpKind::QuickAction,
                OpKind::Allocate,
                OpKind::CreateTask,
            ],
            incremental: true,
            idempotency_keys: true,
            exhaustive_listing: true,
        }
    }

    fn list_page<'a>(
        &'a self,
        mode: &'a ListMode,
        cursor_text: Option<&'a str>,
    ) -> BoxFuture<'a, std::result::Result<ListPage, RemoteError>> {
        let this = self.clone();
        let mode = mode.clone();
        let cursor_text = cursor_text.map(str::to_string);
        Box::pin(blocking(move || {
            let (after, started) = match cursor_text.as_deref() {
                Some(c) => parse_cursor(c)
                    .ok_or_else(|| EngineError::invalid(format!("bad listing cursor {c:?}")))?,
                // A watermark from the moment the listing began: anything
                // changed while paging is listed again next time.
                None => (0, format_ts(now())),
            };
            let since = match &mode {
                ListMode::Full => None,
                ListMode::Since(w) => Some(w.clone()),
            };
            let p = this.principal()?;
            this.engine.db().read(|c| {
                let rows = tasks::visible_page(c, &p.user, after, since.as_deref(), PAGE + 1)?;
                let more = rows.len() as i64 > PAGE;
                let mut records = Vec::new();
                let mut last = after;
                for t in rows.iter().take(PAGE as usize) {
                    last = t.id;
                    records.push(record(c, &p, t)?);
                }
                Ok(ListPage {
                    tasks: records,
                    next: more.then(|| cursor(last, &started)),
                    total: None,
                    watermark: (!more).then_some(started),
                })
            })
        }))
    }

    fn fetch<'a>(
        &'a self,
        key: &'a str,
    ) -> BoxFuture<'a, std::result::Result<Option<TaskRecord>, RemoteError>> {
        let this = self.clone();
        let key = key.to_string();
        Box::pin(blocking(move || {
            let Ok(id) = key.parse::<i64>() else {
                return Ok(None);
            };
            let p = this.principal()?;
            this.engine.db().read(|c| match tasks::get(c, id)? {
                Some(t) if tasks::visible(&p, &t) => Ok(Some(record(c, &p, &t)?)),
                _ => Ok(None),
            })
        }))
    }

    fn execute<'a>(
        &'a self,
        op: &'a Op,
        task: Option<&'a TaskRecord>,
    ) -> BoxFuture<'a, std::result::Result<Outcome, RemoteError>> {
        let this = self.clone();
        let op = op.clone();
        let key = task.map(|t| t.key.clone());
        Box::pin(blocking(move || {
            let p = this.principal()?;
            let id_key = op.op_id.to_string();
            let print = fingerprint(&op.request);
            this.engine.db().write(|tx| {
                if let Some(stored) = idempotency::lookup(tx, &p.user, &id_key, &print)? {
                    return Ok(outcome_of(&stored));
                }
                let outcome = run(tx, &p, &op.request, key.as_deref())?;
                idempotency::store(tx, &p.user, &id_key, &print, &stored_of(&outcome))?;
                Ok(outcome)
            })
        }))
    }

    fn applied<'a>(
        &'a self,
        op: &'a Op,
        _task: Option<&'a TaskRecord>,
    ) -> BoxFuture<'a, std::result::Result<Applied, RemoteError>> {
        let this = self.clone();
        let id_key = op.op_id.to_string();
        Box::pin(blocking(move || {
            let stored = this
                .engine
                .db()
                .read(|c| idempotency::exists(c, &this.user, &id_key))?;
            Ok(match stored {
                Some(s) => Applied::Yes(outcome_of(&s)),
                None => Applied::No,
            })
        }))
    }
}

/// Identifies an op's request for its idempotency record.
fn fingerprint(request: &OpRequest) -> String {
    let body = serde_json::to_vec(request).unwrap_or_default();
    let digest = Sha256::digest(&body);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("local {}:{hex}", request.kind().as_str())
}

fn stored_of(outcome: &Outcome) -> Stored {
    Stored {
        status: 200,
        content_type: "application/json".into(),
        body: serde_json::to_vec(&json!({"result": outcome.result, "key": outcome.key}))
            .unwrap_or_default(),
    }
}

fn outcome_of(stored: &Stored) -> Outcome {
    let v: Value = serde_json::from_slice(&stored.body).unwrap_or(Value::Null);
    Outcome {
        result: v.get("result").cloned().unwrap_or(Value::Null),
        key: v.get("key").and_then(Value::as_str).map(str::to_string),
    }
}

fn needs_task(key: Option<&str>) -> Result<i64> {
    task_id(key.ok_or_else(|| EngineError::invalid("this action needs a task"))?)
}

/// The flow a ticket step belongs to.
fn flow_of(tx: &Connection, task: &Task) -> Result<flows::Flow> {
    let ticket_id = task
        .ticket_id
        .ok_or_else(|| EngineError::invalid(format!("task {} is not a flow step", task.id)))?;
    let ticket = flows::ticket(tx, ticket_id)?;
    flows::flow_by_uuid(tx, &ticket.flow_uuid)
}

/// Executes one op in the caller's transaction.
fn run(tx: &Tx<'_>, p: &Principal, request: &OpRequest, key: Option<&str>) -> Result<Outcome> {
    let done = |result: Value| Outcome { result, key: None };
    match request {
        OpRequest::Transition {
            transition,
            text,
            params,
        } => {
            let id = needs_task(key)?;
            let mut params = params.clone();
            if let Some(text) = text {
                params.insert("text".into(), Value::String(text.clone()));
            }
            let result = workflow::apply(tx, p, id, Some(transition), &params)?;
            Ok(done(serde_json::to_value(result)?))
        }
        OpRequest::CommentAdd { text } => {
            let task = tasks::require_visible(tx, p, needs_task(key)?)?;
            let c = responses::add_comment(tx, p, &task, text)?;
            Ok(done(json!({"comment": c.id.to_string()})))
        }
        OpRequest::CommentEdit { comment, text } => {
            let task = tasks::require_visible(tx, p, needs_task(key)?)?;
            responses::edit_comment(tx, p, &task, comment_id(comment)?, text)?;
            Ok(done(json!({"comment": comment})))
        }
        OpRequest::CommentDelete { comment } => {
            let task = tasks::require_visible(tx, p, needs_task(key)?)?;
            responses::delete_comment(tx, p, &task, comment_id(comment)?)?;
            Ok(done(json!({"comment": comment})))
        }
        OpRequest::FormPush { fields } => {
            let task = tasks::require_visible(tx, p, needs_task(key)?)?;
            let flow = flow_of(tx, &task)?;
            let values: Vec<FieldValue> = fields
                .iter()
                .map(|f| FieldValue {
                    id: f.id.clone(),
                    value: f.value.clone(),
                    field_type: f.field_type.clone(),
                })
                .collect();
            let data_no = flows::push(tx, p, &flow, task.id, &values)?;
            Ok(done(json!({"data_no": data_no})))
        }
        OpRequest::QuickAction { action } => {
            let task = tasks::require_visible(tx, p, needs_task(key)?)?;
            let flow = flow_of(tx, &task)?;
            let data_no = flows::quick_action(tx, p, &flow, task.id, action)?;
            Ok(done(json!({"data_no": data_no})))
        }
        OpRequest::Allocate {
            participant,
            filter,
            sort,
            fetch_count,
        } => {
            let participant = participant.as_deref().unwrap_or(&p.user);
            let item = workitems::allocate(
                tx,
                p,
                participant,
                filter.as_deref(),
                sort.as_deref(),
                *fetch_count,
            )?;
            Ok(match item {
                Some(item) => Outcome {
                    result: serde_json::to_value(&item)?,
                    key: Some(item.id.to_string()),
                },
                // Nothing to claim is an answer, not a failure.
                None => done(json!({"allocated": null})),
            })
        }
        OpRequest::CreateTask(new) => {
            let task = create_task(tx, p, &create_request(tx, p, new)?)?;
            Ok(Outcome {
                result: json!({"id": task.id}),
                key: Some(task.id.to_string()),
            })
        }
    }
}

fn comment_id(text: &str) -> Result<i64> {
    text.parse()
        .map_err(|_| EngineError::NotFound(format!("comment {text:?}")))
}

/// A new task from the outbox's form: into the named dossier (path), under
/// a parent, or into the user's personal dossier.
fn create_request(tx: &Tx<'_>, p: &Principal, new: &NewTask) -> Result<CreateTask> {
    let parent_id = new.parent_key.as_deref().map(task_id).transpose()?;
    let dossier_id = match (&parent_id, &new.process) {
        (Some(_), _) => None,
        (None, Some(path)) => Some(
            dossiers::by_path(tx, path)?
                .ok_or_else(|| EngineError::NotFound(format!("dossier {path:?}")))?
                .id,
        ),
        (None, None) => Some(personal_dossier(tx, p)?),
    };
    let deadline = new
        .deadline
        .map(|d| d.day().strftime("%Y-%m-%d").to_string());
    Ok(CreateTask {
        title: new.title.clone(),
        text: new.description.clone(),
        task_type: new.kind.clone(),
        responsible: new
            .assignee
            .clone()
            .or_else(|| new.group.clone())
            .unwrap_or_else(|| p.user.clone()),
        responsible_client: None,
        issuer: new.issuer.clone(),
        deadline,
        priority: 0,
        is_private: false,
        parent_id,
        dossier_id,
        position: new.position,
        related_items: Vec::new(),
    })
}

/// The user's own dossier `personal/<user>`, made on first use.
fn personal_dossier(tx: &Tx<'_>, p: &Principal) -> Result<i64> {
    let path = format!("personal/{}", p.user);
    match dossiers::by_path(tx, &path)? {
        Some(d) => Ok(d.id),
        None => Ok(dossiers::add(tx, &format!("{} · personal", p.display_name), &path, None)?.id),
    }
}

/// An engine task as tasklane sees it, with comments, history and the
/// actions the principal may take now (cheap in-process, so listings carry
/// them too and every task can be acted on offline).
pub fn record(c: &Connection, p: &Principal, t: &Task) -> Result<TaskRecord> {
    let state = gever::state_of(&t.state.review_state());
    let dossier = dossiers::get(c, t.dossier_id)?;
    let (process, kind) = if t.ticket_id.is_some() {
        let flow = flow_of(c, t)?;
        let step = flows::step(c, &flow.uuid, t.step_position.unwrap_or(1))?;
        (Some(flow.name), Some(step.name))
    } else {
        (
            Some(dossier.title.clone()),
            Some(t.task_type.token().to_string()),
        )
    };
    let all = responses::for_task(c, t.id)?;
    let comments = all
        .iter()
        .filter(|r| r.response_type == "comment")
        .map(|r| Comment {
            remote_id: r.id.to_string(),
            author: Some(r.creator.clone()),
            text: r.text.clone(),
            created: parse_ts(&r.created),
            modified: r.modified.as_deref().and_then(parse_ts),
        })
        .collect();
    let history = all
        .iter()
        .filter(|r| r.response_type != "comment")
        .map(|r| HistoryEntry {
            remote_id: Some(r.id.to_string()),
            at: parse_ts(&r.created),
            actor: Some(r.creator.clone()),
            action: if r.response_type == "comment_removed" {
                "comment_removed".into()
            } else {
                r.transition.clone()
            },
            text: r.text.clone(),
            changes: r.changes.clone(),
        })
        .collect();
    Ok(TaskRecord {
        key: t.id.to_string(),
        title: t.title.clone(),
        description: t.text.clone(),
        description_format: TextFormat::Text,
        state,
        status_text: t.state.title(false).to_string(),
        kind,
        assignee: t.responsible.user.clone(),
        group: t
            .responsible
            .group
            .clone()
            .or_else(|| t.responsible.client.clone()),
        issuer: Some(t.issuer.clone()),
        deadline: t
            .deadline
            .as_deref()
            .and_then(|d| d.parse::<Deadline>().ok()),
        priority: Some(t.priority),
        created: parse_ts(&t.created),
        modified: parse_ts(&t.modified),
        process,
        parent_key: t.parent_id.map(|id| id.to_string()),
        position: t.position,
        payload: json!({
            "id": t.id,
            "review_state": t.state.review_state(),
            "task_type": t.task_type.token(),
            "responsible": tasks::responsible_token(c, &t.responsible)?,
            "dossier": dossier.path,
            "is_private": t.is_private,
            "ticket": t.ticket_id,
        })
        .into(),
        comments: Some(comments),
        history: Some(history),
        actions: Some(actions(c, p, t)?),
    })
}

fn actions(c: &Connection, p: &Principal, t: &Task) -> Result<Vec<Action>> {
    if t.ticket_id.is_some() {
        if t.state.is_finished() || !flows::may_push(p, t) {
            return Ok(Vec::new());
        }
        let step = flows::form_of(c, p, t)?;
        let mut out = vec![Action {
            id: PUSH_ACTION.into(),
            label: step.name.clone(),
            to_state: Some(State::Resolved),
            params: step.form.iter().map(form_param).collect(),
        }];
        for q in &step.quick_actions {
            if QUICK_ACTIONS.contains(&q.id.as_str()) {
                out.push(Action {
                    id: q.id.clone(),
                    label: q.label.clone(),
                    to_state: Some(State::Resolved),
                    params: Vec::new(),
                });
            }
        }
        return Ok(out);
    }
    Ok(workflow::available(c, p, t)?
        .into_iter()
        .map(|tr| Action {
            id: tr.id.to_string(),
            label: tr.title_en.to_string(),
            to_state: tr.to.map(|s| gever::state_of(&s.review_state())),
            params: gever::transition_params(tr.id, Some(t.task_type.token())).unwrap_or_default(),
        })
        .collect())
}

fn form_param(f: &flows::FormField) -> ParamSpec {
    let kind = match f.field_type.as_str() {
        "number" => ParamKind::Number,
        "date" => ParamKind::Date,
        "textarea" | "text_long" => ParamKind::LongText,
        "checkbox" => ParamKind::Bool,
        _ => ParamKind::Text,
    };
    ParamSpec {
        name: f.id.clone(),
        label: f.label.clone(),
        kind,
        required: f.required,
        sets: None,
        wire_type: Some(f.field_type.clone()),
    }
}

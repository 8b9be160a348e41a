//! How GEVER writes tasks: the full representation (`GET <task>`), task
//! responses, summaries, the task tree and `@workflow`, with labels in the
//! language the request negotiates (NOTES §1 "Translations").

use axum::http::{HeaderMap, header};
use rusqlite::Connection;
use serde_json::{Map, Value, json};
use tasklane_dialects::gever::wire::{
    Choice, Response as WireResponse, Summary, Task as WireTask, Text, TokenOrChoice,
    TransitionLink, WorkflowHistoryEntry, WorkflowInfo,
};
use tasklane_dialects::servertime::ServerTime;

use super::Ctx;
use crate::dossiers;
use crate::error::Result;
use crate::model::{Responsible, Task, TaskState};
use crate::responses;
use crate::server::times;
use crate::tasks;
use crate::users;
use crate::workflow::{self, Transition};

/// The language of labels (state, task type and transition titles).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lang {
    De,
    En,
}

impl Lang {
    /// From `Accept-Language`: German for `de*`, English for any other
    /// language asked for; German, the site language of the seed's examples,
    /// when the request names none.
    pub(super) fn negotiate(headers: &HeaderMap) -> Lang {
        let Some(value) = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
        else {
            return Lang::De;
        };
        let mut best: Option<(f32, &str)> = None;
        for part in value.split(',') {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("").trim();
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if tag.is_empty() || q <= 0.0 {
                continue;
            }
            if best.is_none_or(|(b, _)| q > b) {
                best = Some((q, tag));
            }
        }
        match best.map(|(_, tag)| tag.to_ascii_lowercase()) {
            Some(tag) if tag.starts_with("de") || tag == "*" => Lang::De,
            Some(_) => Lang::En,
            None => Lang::De,
        }
    }

    pub(super) fn german(self) -> bool {
        self == Lang::De
    }

    pub(super) fn state(self, state: TaskState) -> &'static str {
        state.title(self.german())
    }

    pub(super) fn transition(self, t: &Transition) -> &'static str {
        if self.german() {
            t.title_de
        } else {
            t.title_en
        }
    }

    fn sequence_type(self, token: &str) -> String {
        match (token, self) {
            ("sequential", Lang::De) => "Sequenzieller Ablauf".into(),
            ("sequential", Lang::En) => "Sequential process".into(),
            ("parallel", Lang::De) => "Paralleler Ablauf".into(),
            ("parallel", Lang::En) => "Parallel process".into(),
            (other, _) => other.into(),
        }
    }
}

/// A user as a choice: `{"token": "<userid>", "title": "Muster Hans (hans.muster)"}`.
pub(super) fn user_choice(conn: &Connection, user: &str) -> Result<TokenOrChoice> {
    let title = users::find_user(conn, user)?
        .map_or(user.to_string(), |u| format!("{} ({user})", u.display_name));
    Ok(TokenOrChoice::Choice(Choice {
        token: user.into(),
        title,
    }))
}

/// The author of a response: `{"token": "peter.meier", "title": "Meier Peter"}`
/// (the seed's comment example, T: api/test_task.py).
fn author_choice(conn: &Connection, user: &str) -> Result<TokenOrChoice> {
    let title = users::find_user(conn, user)?.map_or(user.to_string(), |u| u.display_name);
    Ok(TokenOrChoice::Choice(Choice {
        token: user.into(),
        title,
    }))
}

/// An actor id as GEVER's index and actors use it: the user id, or
/// `inbox:<org unit>` / `team:<team>` (NOTES §3).
pub(super) fn actor_id(conn: &Connection, r: &Responsible) -> Result<String> {
    match &r.user {
        Some(user) => Ok(user.clone()),
        None => tasks::responsible_token(conn, r),
    }
}

/// A combined responsible token (`fd:hans.muster`) as an actor id (`hans.muster`).
fn token_as_actor(token: &str) -> String {
    match token.split_once(':') {
        Some((prefix, _)) if ["inbox", "team", "group"].contains(&prefix) => token.into(),
        Some((_, user)) => user.into(),
        None => token.into(),
    }
}

pub(super) fn actor_ref(ctx: &Ctx, id: &str) -> Value {
    json!({"@id": format!("{}/@actors/{id}", ctx.root), "identifier": id})
}

/// The path of a task below the root: its dossier, then its ancestors.
pub(super) fn task_path(conn: &Connection, task: &Task) -> Result<String> {
    let dossier = dossiers::get(conn, task.dossier_id)?;
    let mut chain = vec![task.id];
    let mut current = task.clone();
    for _ in 0..64 {
        match current.parent_id {
            Some(parent) => {
                chain.push(parent);
                current = tasks::require(conn, parent)?;
            }
            None => break,
        }
    }
    chain.reverse();
    let tail: Vec<String> = chain.iter().map(|id| format!("task-{id}")).collect();
    Ok(format!("{}/{}", dossier.path, tail.join("/")))
}

pub(super) fn task_url(ctx: &Ctx, conn: &Connection, task: &Task) -> Result<String> {
    Ok(format!("{}/{}", ctx.root, task_path(conn, task)?))
}

pub(super) fn oguid(ctx: &Ctx, id: i64) -> String {
    format!("{}:{id}", ctx.state.config.admin_unit)
}

fn uid(id: i64) -> String {
    format!("{id:032x}")
}

/// One task response as GEVER serializes it (NOTES §8; T: api/test_task.py
/// `test_adding_a_response_sucessful` gives the exact key set).
pub(super) fn response_json(
    ctx: &Ctx,
    conn: &Connection,
    url: &str,
    r: &responses::Response,
) -> Result<WireResponse> {
    let zone = &ctx.state.config.zones.gever;
    let naive = |t: &str| times::gever_naive(t, zone);
    let time = |t: &str| naive(t).and_then(|s| ServerTime::parse(&s).ok());
    let mut changes: Vec<Value> = r.changes.as_array().cloned().unwrap_or_default();
    for c in &mut changes {
        // GEVER records user ids here, not combined tokens (T: test_workflow.py reject).
        if c["field_id"] == "responsible" {
            for side in ["before", "after"] {
                if let Some(token) = c[side].as_str() {
                    c[side] = json!(token_as_actor(token));
                }
            }
        }
    }
    let mut additional = r.additional_data.clone();
    if let Some(created) = additional
        .get("deleted_response_creation_date")
        .and_then(Value::as_str)
        .and_then(naive)
    {
        // In the same form as the `created` of the response it names.
        additional["deleted_response_creation_date"] = json!(created);
    }
    let subtask = match additional.get("subtask").and_then(Value::as_i64) {
        Some(id) => tasks::get(conn, id)?
            .map(|t| summary(ctx, conn, &t))
            .transpose()?,
        None => None,
    };
    let (added_objects, subtask) = if r.transition == "transition-add-subtask" {
        (subtask.into_iter().collect(), Value::Null)
    } else {
        (Vec::new(), subtask.unwrap_or(Value::Null))
    };
    let approved = additional
        .get("approved_documents")
        .cloned()
        .unwrap_or_else(|| json!([]));
    let mut extra = Map::new();
    extra.insert("additional_data".into(), additional);
    extra.insert("approved_documents".into(), approved);
    extra.insert("subtask".into(), subtask);
    Ok(WireResponse {
        id: Some(format!("{url}/@responses/{}", r.id)),
        response_id: r.id,
        response_type: r.response_type.clone(),
        transition: r.transition.clone(),
        text: r.text.clone(),
        rendered_text: Some(String::new()),
        mimetype: Some(String::new()),
        created: time(&r.created),
        creator: Some(author_choice(conn, &r.creator)?),
        modified: r.modified.as_deref().and_then(time),
        modifier: match &r.modifier {
            Some(m) => Some(author_choice(conn, m)?),
            None => None,
        },
        changes: serde_json::from_value(Value::Array(changes)).unwrap_or_default(),
        added_objects,
        related_items: Vec::new(),
        successor_oguid: Some(String::new()),
        extra,
    })
}

/// The summary of a task in `items`, `@predecessor` and `@successors`
/// (`task_type` as its title, NOTES §4.2).
pub(super) fn summary(ctx: &Ctx, conn: &Connection, task: &Task) -> Result<Value> {
    Ok(json!({
        "@id": task_url(ctx, conn, task)?,
        "@type": "opengever.task.task",
        "title": task.title,
        "review_state": task.state.review_state(),
        "oguid": oguid(ctx, task.id),
        "task_id": task.id,
        "task_type": task.task_type.title(ctx.lang.german()),
    }))
}

fn is_sequential(task: &Task) -> bool {
    task.sequence_type.as_deref() == Some("sequential")
}

/// Whether tasks can be added to this sequential process now (GEVER's
/// `is_task_addable_in_sequential_task_container`).
fn accepts_new_steps(task: &Task) -> bool {
    is_sequential(task)
        && matches!(
            task.state,
            TaskState::Open | TaskState::InProgress | TaskState::Planned
        )
}

/// `@tasktree` from `task` down (C: api/tasktree.py): a task with children
/// that is an open sequential process takes new tasks; a planned step of
/// such a process takes new tasks before it.
pub(super) fn tree(
    ctx: &Ctx,
    conn: &Connection,
    task: &Task,
    parent: Option<&Task>,
) -> Result<Value> {
    let mut children = Vec::new();
    for child in tasks::children(conn, task.id)? {
        if tasks::visible(&ctx.p, &child) {
            children.push(tree(ctx, conn, &child, Some(task))?);
        }
    }
    let addable = !children.is_empty() && accepts_new_steps(task);
    let addable_before = task.state == TaskState::Planned && parent.is_some_and(accepts_new_steps);
    Ok(json!({
        "@id": task_url(ctx, conn, task)?,
        "@type": "opengever.task.task",
        "UID": uid(task.id),
        "title": task.title,
        "review_state": task.state.review_state(),
        "responsible_actor": actor_ref(ctx, &actor_id(conn, &task.responsible)?),
        "is_task_addable": addable,
        "is_task_addable_before": addable_before,
        "children": children,
    }))
}

/// `@tasktree` of the process a task belongs to, from its main task; empty
/// when the user may not see the main task (GEVER's search finds none).
pub(super) fn tasktree(ctx: &Ctx, conn: &Connection, task: &Task) -> Result<Value> {
    let url = task_url(ctx, conn, task)?;
    let root = tasks::root(conn, task)?;
    let children = if tasks::visible(&ctx.p, &root) {
        vec![tree(ctx, conn, &root, None)?]
    } else {
        Vec::new()
    };
    Ok(json!({"@id": format!("{url}/@tasktree"), "children": children}))
}

/// Whether a later step follows this one in its sequential process.
fn has_sequential_successor(conn: &Connection, task: &Task) -> Result<bool> {
    let Some(parent) = task.parent_id else {
        return Ok(false);
    };
    if !is_sequential(&tasks::require(conn, parent)?) {
        return Ok(false);
    }
    Ok(tasks::children(conn, parent)?
        .iter()
        .any(|s| s.id != task.id && s.position > task.position))
}

/// `GET <task>`: the full representation (with `expand` components).
pub(super) fn task_json(
    ctx: &Ctx,
    conn: &Connection,
    task: &Task,
    expand: &[String],
) -> Result<Value> {
    let german = ctx.lang.german();
    let url = task_url(ctx, conn, task)?;
    let dossier = dossiers::get(conn, task.dossier_id)?;
    let dossier_url = format!("{}/{}", ctx.root, dossier.path);
    let client = match &task.responsible.client {
        Some(c) => {
            let title = users::find_group(conn, c)?.map_or(c.clone(), |g| g.display_name);
            Some(TokenOrChoice::Choice(Choice {
                token: c.clone(),
                title,
            }))
        }
        None => None,
    };
    let mut items = Vec::new();
    for child in tasks::children(conn, task.id)? {
        if tasks::visible(&ctx.p, &child) {
            items.push(summary(ctx, conn, &child)?);
        }
    }
    let responses = responses::for_task(conn, task.id)?
        .iter()
        .map(|r| response_json(ctx, conn, &url, r))
        .collect::<Result<Vec<_>>>()?;
    let parent = match task.parent_id {
        Some(parent) => {
            let parent = tasks::require(conn, parent)?;
            let mut extra = Map::new();
            // tasklane's client keys a subtask's parent by oguid.
            extra.insert("oguid".into(), json!(oguid(ctx, parent.id)));
            extra.insert("review_state".into(), json!(parent.state.review_state()));
            Summary {
                id: task_url(ctx, conn, &parent)?,
                portal_type: Some("opengever.task.task".into()),
                title: parent.title,
                extra,
            }
        }
        None => Summary {
            id: dossier_url.clone(),
            portal_type: Some("opengever.dossier.businesscasedossier".into()),
            title: dossier.title.clone(),
            extra: Map::new(),
        },
    };
    let mut extra = Map::new();
    extra.insert("relative_path".into(), json!(task_path(conn, task)?));
    extra.insert("is_private".into(), json!(task.is_private));
    extra.insert("relatedItems".into(), json!(task.related_items));
    extra.insert("priority".into(), json!(task.priority));
    extra.insert("creator".into(), actor_ref(ctx, &task.issuer));
    extra.insert("is_remote_task".into(), json!(false));
    extra.insert("has_remote_predecessor".into(), json!(false));
    extra.insert(
        "has_sequential_successor".into(),
        json!(has_sequential_successor(conn, task)?),
    );
    extra.insert("responsible_admin_unit_url".into(), json!(ctx.root));
    extra.insert(
        "date_of_completion".into(),
        json!(task.closed_at.as_deref().map(|c| &c[..10])),
    );
    if !expand.is_empty() {
        let mut components = Map::new();
        for e in expand {
            let value = match e.as_str() {
                "tasktree" => tasktree(ctx, conn, task)?,
                "predecessor" => json!({"@id": format!("{url}/@predecessor"), "item": null}),
                "successors" => json!({"@id": format!("{url}/@successors"), "items": []}),
                "workflow" => serde_json::to_value(workflow_info(ctx, conn, task)?)?,
                _ => continue,
            };
            components.insert(e.clone(), value);
        }
        extra.insert("@components".into(), Value::Object(components));
    }
    let wire = WireTask {
        id: url,
        portal_type: "opengever.task.task".into(),
        uid: Some(uid(task.id)),
        oguid: oguid(ctx, task.id),
        title: task.title.clone(),
        text: Some(Text::Plain(task.text.clone())),
        review_state: task.state.review_state(),
        responsible: Some(TokenOrChoice::Choice(Choice {
            token: tasks::responsible_token(conn, &task.responsible)?,
            title: tasks::responsible_title(conn, &task.responsible)?,
        })),
        responsible_client: client,
        issuer: Some(user_choice(conn, &task.issuer)?),
        task_type: Some(TokenOrChoice::Choice(Choice {
            token: task.task_type.token().into(),
            title: task.task_type.title(german).into(),
        })),
        deadline: task.deadline.clone(),
        created: times::gever_utc(&task.created).and_then(|s| ServerTime::parse(&s).ok()),
        modified: times::gever_utc(&task.modified).and_then(|s| ServerTime::parse(&s).ok()),
        containing_dossier: Some(Summary {
            id: dossier_url,
            portal_type: Some("opengever.dossier.businesscasedossier".into()),
            title: dossier.title,
            extra: Map::new(),
        }),
        parent: Some(parent),
        items,
        responses,
        sequence_type: task.sequence_type.as_ref().map(|s| {
            TokenOrChoice::Choice(Choice {
                token: s.clone(),
                title: ctx.lang.sequence_type(s),
            })
        }),
        is_completed: Some(task.state.is_final()),
        is_current_user_responsible: Some(workflow::is_responsible(&ctx.p, task)),
        sequence_number: Some(task.id),
        extra,
    };
    Ok(serde_json::to_value(wire)?)
}

/// `GET <task>/@workflow`: the history and the transitions this user may run.
pub(super) fn workflow_info(ctx: &Ctx, conn: &Connection, task: &Task) -> Result<WorkflowInfo> {
    let url = task_url(ctx, conn, task)?;
    let transitions = workflow::available(conn, &ctx.p, task)?
        .into_iter()
        .map(|t| TransitionLink {
            id: format!("{url}/@workflow/{}", t.id),
            title: ctx.lang.transition(t).into(),
        })
        .collect();
    let history = workflow::history(conn, task)?
        .into_iter()
        .filter_map(|h| {
            let mut entry: WorkflowHistoryEntry = serde_json::from_value(h).ok()?;
            entry.title = entry
                .review_state
                .parse::<TaskState>()
                .ok()
                .map(|s| ctx.lang.state(s).to_string());
            entry.time = entry
                .time
                .as_ref()
                .and_then(|t| times::gever_utc(t.as_str()))
                .and_then(|s| ServerTime::parse(&s).ok());
            Some(entry)
        })
        .collect();
    Ok(WorkflowInfo {
        id: Some(format!("{url}/@workflow")),
        history,
        transitions,
    })
}

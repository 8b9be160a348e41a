//! The GEVER task workflow (`opengever_task_workflow`), as
//! `../shared/reference/gever/NOTES.md` §6 tables it: every transition, who
//! may run it (responsible R, issuer I, the inbox agencies of their org
//! units agR/agI unless the task is private, administrators adm), for which
//! task types and states, its parameters, and its side effects.

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::db::Tx;
use crate::error::{EngineError, Result};
use crate::flows;
use crate::model::{Responsible, Task, TaskState, TaskType};
use crate::responses::{self, change};
use crate::tasks::{self, NewTaskRow};
use crate::users::{self, Principal};
use rusqlite::Connection;

/// One workflow transition.
#[derive(Debug, PartialEq, Eq)]
pub struct Transition {
    pub id: &'static str,
    pub title_de: &'static str,
    pub title_en: &'static str,
    pub from: &'static [TaskState],
    /// The state afterwards; `None`: unchanged (deadline, reassign, delegate).
    pub to: Option<TaskState>,
}

use TaskState::{Cancelled, Closed, InProgress, Open, Planned, Rejected, Resolved, Skipped};

/// Every transition an API user can run. (`task-transition-open-planned` is
/// internal to GEVER and never offered.)
pub const TRANSITIONS: &[Transition] = &[
    Transition {
        id: "task-transition-open-in-progress",
        title_de: "Akzeptieren",
        title_en: "Accept",
        from: &[Open],
        to: Some(InProgress),
    },
    Transition {
        id: "task-transition-open-rejected",
        title_de: "Ablehnen",
        title_en: "Reject",
        from: &[Open],
        to: Some(Rejected),
    },
    Transition {
        id: "task-transition-open-resolved",
        title_de: "Erledigen",
        title_en: "Resolve",
        from: &[Open],
        to: Some(Resolved),
    },
    Transition {
        id: "task-transition-open-tested-and-closed",
        title_de: "Abschliessen",
        title_en: "Close",
        from: &[Open],
        to: Some(Closed),
    },
    Transition {
        id: "task-transition-open-cancelled",
        title_de: "Abbrechen",
        title_en: "Cancel",
        from: &[Open],
        to: Some(Cancelled),
    },
    Transition {
        id: "task-transition-in-progress-resolved",
        title_de: "Erledigen",
        title_en: "Resolve",
        from: &[InProgress],
        to: Some(Resolved),
    },
    Transition {
        id: "task-transition-in-progress-tested-and-closed",
        title_de: "Abschliessen",
        title_en: "Close",
        from: &[InProgress],
        to: Some(Closed),
    },
    Transition {
        id: "task-transition-in-progress-cancelled",
        title_de: "Abbrechen",
        title_en: "Cancel",
        from: &[InProgress],
        to: Some(Cancelled),
    },
    Transition {
        id: "task-transition-resolved-tested-and-closed",
        title_de: "Abschliessen",
        title_en: "Close",
        from: &[Resolved],
        to: Some(Closed),
    },
    Transition {
        id: "task-transition-resolved-in-progress",
        title_de: "Überarbeiten",
        title_en: "Revise",
        from: &[Resolved],
        to: Some(InProgress),
    },
    Transition {
        id: "task-transition-tested-and-closed-in-progress",
        title_de: "Überarbeiten",
        title_en: "Revise",
        from: &[Closed],
        to: Some(InProgress),
    },
    Transition {
        id: "task-transition-cancelled-open",
        title_de: "Wieder eröffnen",
        title_en: "Reopen",
        from: &[Cancelled],
        to: Some(Open),
    },
    Transition {
        id: "task-transition-rejected-open",
        title_de: "Wieder eröffnen",
        title_en: "Reopen",
        from: &[Rejected],
        to: Some(Open),
    },
    Transition {
        id: "task-transition-rejected-skipped",
        title_de: "Überspringen",
        title_en: "Skip",
        from: &[Rejected],
        to: Some(Skipped),
    },
    Transition {
        id: "task-transition-planned-open",
        title_de: "Starten",
        title_en: "Start",
        from: &[Planned],
        to: Some(Open),
    },
    Transition {
        id: "task-transition-planned-skipped",
        title_de: "Überspringen",
        title_en: "Skip",
        from: &[Planned],
        to: Some(Skipped),
    },
    Transition {
        id: "task-transition-skipped-open",
        title_de: "Wieder eröffnen",
        title_en: "Reopen",
        from: &[Skipped],
        to: Some(Open),
    },
    Transition {
        id: "task-transition-modify-deadline",
        title_de: "Frist ändern",
        title_en: "Modify deadline",
        from: &[Open, InProgress],
        to: None,
    },
    Transition {
        id: "task-transition-reassign",
        title_de: "Neu zuweisen",
        title_en: "Reassign",
        from: &[Open, InProgress, Planned, Resolved, Rejected],
        to: None,
    },
    Transition {
        id: "task-transition-delegate",
        title_de: "Delegieren",
        title_en: "Delegate",
        from: &[InProgress],
        to: None,
    },
];

pub fn find(id: &str) -> Option<&'static Transition> {
    TRANSITIONS.iter().find(|t| t.id == id)
}

/// The principal's roles on a task.
#[derive(Debug, Clone, Copy)]
struct Roles {
    /// Responsible: the user, or a member of the responsible group when no
    /// user is set (team, inbox, lane).
    r: bool,
    /// Inbox agency of the responsible's org unit.
    ag_r: bool,
    i: bool,
    /// Inbox agency of the issuing org unit.
    ag_i: bool,
    adm: bool,
}

/// Whether the principal is the task's responsible: the user, or a member
/// of the responsible team or lane. Members of an org unit's inbox are its
/// agents, not responsible themselves (GEVER's `is_current_user_responsible`).
pub fn is_responsible(p: &Principal, t: &Task) -> bool {
    match (&t.responsible.user, &t.responsible.group) {
        (Some(user), _) => *user == p.user,
        (None, Some(group)) => p.groups.contains(group) && !p.org_units.contains(group),
        (None, None) => false,
    }
}

impl Roles {
    fn of(p: &Principal, t: &Task) -> Self {
        let inbox_task = t.responsible.user.is_none()
            && t.responsible
                .group
                .as_ref()
                .is_some_and(|g| p.org_units.contains(g));
        Roles {
            r: is_responsible(p, t),
            ag_r: !t.is_private && (p.in_group(t.responsible.client.as_deref()) || inbox_task),
            i: t.issuer == p.user,
            ag_i: !t.is_private && p.in_group(t.issuing_org_unit.as_deref()),
            adm: p.admin,
        }
    }

    fn responsible(self) -> bool {
        self.r || self.ag_r || self.adm
    }

    fn issuer(self) -> bool {
        self.i || self.ag_i || self.adm
    }

    /// GEVER's "Modify portal content": the responsible through the local
    /// Editor role, the issuer through the dossier's roles.
    fn modify(self) -> bool {
        self.responsible() || self.issuer()
    }
}

fn all_subtasks_finished(conn: &Connection, t: &Task) -> Result<bool> {
    Ok(tasks::children(conn, t.id)?
        .iter()
        .all(|c| c.state.is_finished()))
}

/// The parent, when the task is part of a sequential process.
fn sequential_parent(conn: &Connection, t: &Task) -> Result<Option<Task>> {
    match t.parent_id {
        Some(parent) => {
            let parent = tasks::require(conn, parent)?;
            Ok((parent.sequence_type.as_deref() == Some("sequential")).then_some(parent))
        }
        None => Ok(None),
    }
}

/// A planned task of a sequential process may start when its parent is in
/// progress and every task before it is finished.
fn may_be_started(conn: &Connection, t: &Task) -> Result<bool> {
    let Some(parent) = sequential_parent(conn, t)? else {
        return Ok(false);
    };
    if parent.state != InProgress {
        return Ok(false);
    }
    let before_done = tasks::children(conn, parent.id)?
        .iter()
        .filter(|s| s.id != t.id && s.position < t.position)
        .all(|s| s.state.is_finished());
    Ok(before_done)
}

/// Whether the principal may run `tr` on `t` now.
fn allowed(conn: &Connection, p: &Principal, t: &Task, tr: &Transition) -> Result<bool> {
    if !tr.from.contains(&t.state) || !tasks::visible(p, t) {
        return Ok(false);
    }
    let ro = Roles::of(p, t);
    let ty = t.task_type;
    Ok(match tr.id {
        "task-transition-open-in-progress" => ro.responsible() && ty != TaskType::Information,
        "task-transition-open-rejected" => ro.responsible(),
        "task-transition-open-resolved" => ro.responsible() && ty.is_bidirectional(),
        "task-transition-open-tested-and-closed" => match ty {
            TaskType::Information => ro.responsible(),
            TaskType::DirectExecution => ro.responsible() || ro.issuer(),
            _ => ro.issuer(),
        },
        "task-transition-open-cancelled" => ro.issuer(),
        "task-transition-in-progress-resolved" => {
            ro.responsible() && ty != TaskType::DirectExecution && all_subtasks_finished(conn, t)?
        }
        "task-transition-in-progress-tested-and-closed" => {
            ro.responsible() && ty == TaskType::DirectExecution && all_subtasks_finished(conn, t)?
        }
        "task-transition-in-progress-cancelled" => ro.issuer(),
        "task-transition-resolved-tested-and-closed" => ro.issuer(),
        "task-transition-resolved-in-progress" => ro.i || ro.responsible(),
        "task-transition-tested-and-closed-in-progress" => {
            let parent_ok = match t.parent_id {
                Some(parent) => tasks::require(conn, parent)?.state == InProgress,
                None => true,
            };
            ro.adm && ty != TaskType::Information && parent_ok
        }
        "task-transition-cancelled-open" => ro.issuer(),
        "task-transition-rejected-open" => ro.i || ro.adm,
        "task-transition-rejected-skipped" => {
            (ro.i || ro.adm) && sequential_parent(conn, t)?.is_some()
        }
        "task-transition-planned-open" => may_be_started(conn, t)?,
        "task-transition-planned-skipped" | "task-transition-skipped-open" => ro.i || ro.adm,
        "task-transition-modify-deadline" | "task-transition-delegate" => ro.modify(),
        "task-transition-reassign" => {
            if t.state == Rejected {
                ro.adm
            } else {
                ro.modify()
            }
        }
        _ => false,
    })
}

/// The transitions the principal may run on the task now, in table order.
pub fn available(conn: &Connection, p: &Principal, t: &Task) -> Result<Vec<&'static Transition>> {
    let mut out = Vec::new();
    for tr in TRANSITIONS {
        if allowed(conn, p, t, tr)? {
            out.push(tr);
        }
    }
    Ok(out)
}

/// What `POST @workflow/<transition>` answers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActionResult {
    pub action: String,
    pub actor: String,
    pub review_state: TaskState,
    pub time: String,
    /// The new state's title.
    pub title_de: String,
    pub title_en: String,
}

/// A parameter as a token: a string, or GEVER's `{"token": …}` object.
pub fn token(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o.get("token").and_then(Value::as_str).map(String::from),
        _ => None,
    }
}

fn string_param(params: &Map<String, Value>, name: &str) -> Result<Option<String>> {
    match params.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(EngineError::field(
            name,
            "WrongType",
            "WrongType",
            format!("{other} is not text"),
        )),
    }
}

fn list_param(params: &Map<String, Value>, name: &str) -> Result<Option<Vec<String>>> {
    match params.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                token(v).ok_or_else(|| {
                    EngineError::field(name, "WrongType", "WrongType", format!("{v} is not text"))
                })
            })
            .collect::<Result<Vec<_>>>()
            .map(Some),
        Some(Value::String(s)) => Ok(Some(vec![s.clone()])),
        Some(other) => Err(EngineError::field(
            name,
            "WrongType",
            "WrongType",
            format!("{other} is not a list"),
        )),
    }
}

fn bool_param(params: &Map<String, Value>, name: &str) -> Result<bool> {
    match params.get(name) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        // The docs' own example sends the string "true" (NOTES §13).
        Some(Value::String(s)) if s == "true" => Ok(true),
        Some(Value::String(s)) if s == "false" => Ok(false),
        Some(other) => Err(EngineError::field(
            name,
            "WrongType",
            "WrongType",
            format!("{other} is not true or false"),
        )),
    }
}

fn date_param(params: &Map<String, Value>, name: &str) -> Result<Option<String>> {
    match string_param(params, name)? {
        None => Ok(None),
        Some(s) => s
            .parse::<jiff::civil::Date>()
            .map(|d| Some(d.strftime("%Y-%m-%d").to_string()))
            .map_err(|_| {
                EngineError::field(
                    name,
                    "ConstraintNotSatisfied",
                    "ConstraintNotSatisfied",
                    format!("{s:?} is not a valid date"),
                )
            }),
    }
}

/// Runs a transition (`None`: the request named none) for the principal.
pub fn apply(
    tx: &Tx<'_>,
    p: &Principal,
    task_id: i64,
    transition: Option<&str>,
    params: &Map<String, Value>,
) -> Result<ActionResult> {
    let task = tasks::require_visible(tx, p, task_id)?;
    let available = available(tx, p, &task)?;
    let Some(tr) = transition
        .and_then(find)
        .filter(|tr| available.iter().any(|a| a.id == tr.id))
    else {
        let mut valid: Vec<String> = available.iter().map(|t| t.id.to_string()).collect();
        valid.sort();
        return Err(EngineError::InvalidTransition {
            id: transition.unwrap_or("None").to_string(),
            valid,
        });
    };
    let text = string_param(params, "text")?.unwrap_or_default();
    let related = list_param(params, "relatedItems")?.unwrap_or_default();
    let pass_documents = bool_param(params, "pass_documents_to_next_task")?;
    let mut changes: Vec<Value> = Vec::new();
    let mut extra = json!({});

    match tr.id {
        "task-transition-modify-deadline" => {
            let new = date_param(params, "new_deadline")?.ok_or_else(|| {
                EngineError::field(
                    "new_deadline",
                    "RequiredMissing",
                    "RequiredMissing",
                    "Required input is missing.",
                )
            })?;
            if task.deadline.as_deref() == Some(new.as_str()) {
                return Err(EngineError::field(
                    "new_deadline",
                    "Invalid",
                    "same_deadline_error",
                    "The entered deadline is the same as the current one.",
                ));
            }
            tasks::set_deadline(tx, task.id, &new)?;
            changes.push(change(
                "deadline",
                "Deadline",
                json!(task.deadline),
                json!(new),
            ));
        }
        "task-transition-reassign" => {
            let value = params.get("responsible").and_then(token).ok_or_else(|| {
                EngineError::field(
                    "responsible",
                    "RequiredMissing",
                    "RequiredMissing",
                    "Required input is missing.",
                )
            })?;
            let client = params.get("responsible_client").and_then(token);
            let new = tasks::parse_responsible(tx, &value, client.as_deref())?;
            if new.user.is_none() && task.state != Open {
                return Err(EngineError::invalid_id(
                    "change_to_team_not_allowed",
                    "Reassigning to a team or inbox is only possible while the task is open.",
                ));
            }
            let before = tasks::responsible_token(tx, &task.responsible)?;
            tasks::set_responsible(tx, task.id, &new)?;
            changes.push(change(
                "responsible",
                "Responsible",
                json!(before),
                json!(tasks::responsible_token(tx, &new)?),
            ));
            let reassigned = tasks::require(tx, task.id)?;
            responses::notify_assigned(tx, &reassigned, &p.user, "task-transition-reassign")?;
        }
        "task-transition-delegate" => delegate(tx, p, &task, params)?,
        "task-transition-open-rejected" => {
            // The task goes back to the issuer.
            let issuer = Responsible {
                user: Some(task.issuer.clone()),
                group: None,
                client: task.issuing_org_unit.clone(),
            };
            changes.push(change(
                "responsible",
                "Responsible",
                json!(tasks::responsible_token(tx, &task.responsible)?),
                json!(tasks::responsible_token(tx, &issuer)?),
            ));
            tasks::set_responsible(tx, task.id, &issuer)?;
        }
        "task-transition-open-in-progress" if task.responsible.user.is_none() => {
            // Accepting a team task makes the accepting user the responsible.
            let me = Responsible {
                user: Some(p.user.clone()),
                group: task.responsible.group.clone(),
                client: users::org_unit_of(tx, &p.user)?,
            };
            changes.push(change(
                "responsible",
                "Responsible",
                json!(tasks::responsible_token(tx, &task.responsible)?),
                json!(tasks::responsible_token(tx, &me)?),
            ));
            tasks::set_responsible(tx, task.id, &me)?;
        }
        _ => {}
    }
    if let Some(approved) = list_param(params, "approved_documents")? {
        if !tr.id.ends_with("-resolved") || task.task_type != TaskType::Approval {
            return Err(EngineError::invalid(
                "Param 'approved_documents' is only supported for tasks of task_type 'approval'.",
            ));
        }
        let all_related: Vec<&String> = task.related_items.iter().chain(related.iter()).collect();
        if let Some(missing) = approved.iter().find(|d| !all_related.contains(d)) {
            return Err(EngineError::invalid(format!(
                "Document {missing} is neither in the task nor related to it."
            )));
        }
        extra = json!({"approved_documents": approved});
    }
    tasks::add_related(tx, task.id, &related)?;
    if let Some(to) = tr.to {
        tasks::set_state(tx, task.id, to)?;
    }
    let response = responses::add(
        tx,
        responses::Entry {
            task_id: task.id,
            response_type: "default",
            transition: tr.id,
            text: &text,
            creator: &p.user,
            changes,
            additional_data: extra,
        },
    )?;
    let after = tasks::require(tx, task.id)?;
    side_effects(tx, p, &task, &after, tr, pass_documents)?;
    if tr.to.is_some() {
        responses::notify_parties(tx, &after, &p.user, tr.id, &text)?;
    }
    let state = after.state;
    Ok(ActionResult {
        action: tr.id.to_string(),
        actor: p.user.clone(),
        review_state: state,
        time: response.created,
        title_de: state.title(true).to_string(),
        title_en: state.title(false).to_string(),
    })
}

/// What follows a transition: the next task of a sequential process opens,
/// a cancelled task's subtasks are cancelled, a flow step advances its ticket.
fn side_effects(
    tx: &Tx<'_>,
    p: &Principal,
    before: &Task,
    after: &Task,
    tr: &Transition,
    pass_documents: bool,
) -> Result<()> {
    let opens_next =
        tr.id.ends_with("-tested-and-closed") || tr.id == "task-transition-rejected-skipped";
    if opens_next && let Some(parent) = sequential_parent(tx, after)? {
        let next = tasks::children(tx, parent.id)?
            .into_iter()
            .filter(|s| s.position > after.position && s.state == Planned)
            .min_by_key(|s| s.position);
        if let Some(next) = next {
            tasks::set_state(tx, next.id, Open)?;
            responses::add(
                tx,
                responses::Entry {
                    task_id: next.id,
                    response_type: "default",
                    transition: "task-transition-planned-open",
                    text: "",
                    creator: &p.user,
                    changes: Vec::new(),
                    additional_data: json!({}),
                },
            )?;
            if pass_documents {
                tasks::add_related(tx, next.id, &after.related_items)?;
            }
            responses::notify_assigned(tx, &tasks::require(tx, next.id)?, &p.user, "task-added")?;
        }
    }
    if tr.id == "task-transition-open-cancelled" {
        cancel_subtasks(tx, p, before.id)?;
    }
    if before.ticket_id.is_some() && before.state != after.state {
        flows::after_transition(tx, p, after)?;
    }
    Ok(())
}

fn cancel_subtasks(tx: &Tx<'_>, p: &Principal, id: i64) -> Result<()> {
    for child in tasks::children(tx, id)? {
        if !child.state.is_final() {
            tasks::set_state(tx, child.id, Cancelled)?;
            responses::add(
                tx,
                responses::Entry {
                    task_id: child.id,
                    response_type: "default",
                    transition: "transition-cancel-subtask",
                    text: "",
                    creator: &p.user,
                    changes: Vec::new(),
                    additional_data: json!({}),
                },
            )?;
        }
        cancel_subtasks(tx, p, child.id)?;
    }
    Ok(())
}

/// `task-transition-delegate`: one subtask per new responsible.
fn delegate(tx: &Tx<'_>, p: &Principal, task: &Task, params: &Map<String, Value>) -> Result<()> {
    let missing = |f: &str| {
        EngineError::field(
            f,
            "RequiredMissing",
            "RequiredMissing",
            "Required input is missing.",
        )
    };
    let responsibles = list_param(params, "responsibles")?
        .filter(|l| !l.is_empty())
        .ok_or_else(|| missing("responsibles"))?;
    let title = string_param(params, "title")?
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| missing("title"))?;
    let issuer = params
        .get("issuer")
        .and_then(token)
        .ok_or_else(|| missing("issuer"))?;
    let deadline = date_param(params, "deadline")?.ok_or_else(|| missing("deadline"))?;
    let text = string_param(params, "text")?.unwrap_or_default();
    let documents = list_param(params, "documents")?.unwrap_or_default();
    // Users told about each new subtask besides its responsible (NOTES §12.12).
    let informed = list_param(params, "informed_principals")?.unwrap_or_default();
    for user in &informed {
        if users::find_user(tx, user)?.is_none() {
            return Err(EngineError::field(
                "informed_principals",
                "ConstraintNotSatisfied",
                "ConstraintNotSatisfied",
                format!("{user:?} is not a user"),
            ));
        }
    }
    let issuer = tasks::parse_responsible(tx, &issuer, None)?
        .user
        .ok_or_else(|| {
            EngineError::field(
                "issuer",
                "ConstraintNotSatisfied",
                "ConstraintNotSatisfied",
                "The issuer must be a user.",
            )
        })?;
    for value in responsibles {
        let responsible = tasks::parse_responsible(tx, &value, None)?;
        let sub = tasks::insert(
            tx,
            &NewTaskRow {
                title: title.clone(),
                text: text.clone(),
                task_type: task.task_type,
                state: Open,
                responsible,
                issuer: issuer.clone(),
                deadline: Some(deadline.clone()),
                priority: task.priority,
                is_private: task.is_private,
                parent_id: Some(task.id),
                position: None,
                dossier_id: task.dossier_id,
                ticket_id: None,
                step_position: None,
                related_items: documents.clone(),
            },
        )?;
        record_creation(tx, p, &sub)?;
        let others: Vec<String> = informed
            .iter()
            .filter(|u| **u != p.user && Some(u.as_str()) != sub.responsible.user.as_deref())
            .cloned()
            .collect();
        responses::notify(tx, &others, sub.id, "task-added", &p.user, &sub.title)?;
    }
    Ok(())
}

/// GEVER `@workflow` history entries, from the task's transition responses.
pub fn history(conn: &Connection, task: &Task) -> Result<Vec<Value>> {
    let mut out = Vec::new();
    let mut state = TaskState::Open;
    for r in responses::for_task(conn, task.id)? {
        let Some(tr) = find(&r.transition) else {
            continue;
        };
        if let Some(to) = tr.to {
            state = to;
        }
        out.push(json!({
            "action": r.transition,
            "actor": r.creator,
            "comments": r.text,
            "review_state": state.review_state(),
            "time": r.created,
            "title": state.title(false),
        }));
    }
    Ok(out)
}

/// What GEVER records when a task is created: the new task starts with no
/// responses (`GET <task>` shows `responses: []`); a subtask leaves a
/// `transition-add-subtask` entry on its parent. Either way the responsible
/// is notified (`task-added`).
pub fn record_creation(tx: &Tx<'_>, p: &Principal, task: &Task) -> Result<()> {
    if let Some(parent) = task.parent_id {
        responses::add(
            tx,
            responses::Entry {
                task_id: parent,
                response_type: "default",
                transition: "transition-add-subtask",
                text: "",
                creator: &p.user,
                changes: Vec::new(),
                additional_data: json!({ "subtask": task.id }),
            },
        )?;
    }
    responses::notify_assigned(tx, task, &p.user, "task-added")?;
    Ok(())
}

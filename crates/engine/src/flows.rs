//! Flows in the OMFLOW sense: a flow (uuid, name, api_path, API switch) has
//! ordered manual steps, each with an assignee, a form (`FORMITM_1..n`) and
//! up to two quick actions. A ticket (`data_no`) walks the steps; each visit
//! of a step is a task, whose id is the step's `data_id`, so the `data_id`
//! changes with every push (`../shared/reference/omflow/NOTES.md` §6, §9.7).
//! A push checks the step's required fields, stores the values and moves
//! the ticket on, closing it after the last step; a quick action fills its
//! configured values without the check. Work log entries are comments on the
//! ticket's tasks.

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::db::Tx;
use crate::dossiers;
use crate::error::{EngineError, Result};
use crate::model::{Responsible, Task, TaskState, TaskType};
use crate::responses;
use crate::tasks::{self, NewTaskRow};
use crate::users::Principal;
use tasklane_core::time::{format_ts, now};

/// A form field of a step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormField {
    pub id: String,
    pub label: String,
    /// OMFLOW's field type (`text`, `h_title`, `number`, `select`, …).
    #[serde(rename = "type")]
    pub field_type: String,
    #[serde(default)]
    pub required: bool,
}

/// A quick action: a label and the field values it sets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuickAction {
    /// `action1` or `action2`.
    pub id: String,
    pub label: String,
    #[serde(default)]
    pub values: Map<String, Value>,
}

/// A manual step of a flow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub position: i64,
    pub stop_uuid: String,
    pub name: String,
    pub status_text: String,
    pub assignee_user: Option<String>,
    pub assignee_group: Option<String>,
    pub form: Vec<FormField>,
    pub quick_actions: Vec<QuickAction>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Flow {
    pub uuid: String,
    pub num: i64,
    pub name: String,
    pub api_path: String,
    pub api_enabled: bool,
    pub closed_status: String,
    pub dossier_id: i64,
}

impl Flow {
    /// The uuid without dashes (OMFLOW's default api_path and work log form).
    pub fn hex(&self) -> String {
        self.uuid.replace('-', "")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ticket {
    pub id: i64,
    pub case_id: i64,
    pub flow_uuid: String,
    pub data_no: i64,
    pub title: Option<String>,
    pub position: Option<i64>,
    pub closed: bool,
    pub form_values: Map<String, Value>,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
}

/// A value a client sends for a form field.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldValue {
    pub id: String,
    pub value: Value,
    /// The type the client says the field has (OMFLOW 1.1 clients send it;
    /// the vendor's own Python sample does not, so it is optional).
    pub field_type: Option<String>,
}

fn conversion(i: usize, e: impl ToString) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, e.to_string().into())
}

const FLOW_COLUMNS: &str = "uuid, num, name, api_path, api_enabled, closed_status, dossier_id";

fn flow_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Flow> {
    Ok(Flow {
        uuid: r.get(0)?,
        num: r.get(1)?,
        name: r.get(2)?,
        api_path: r.get(3)?,
        api_enabled: r.get(4)?,
        closed_status: r.get(5)?,
        dossier_id: r.get(6)?,
    })
}

/// Creates a flow with its steps (administration and demo data).
pub fn create_flow(
    tx: &Tx<'_>,
    uuid: &str,
    name: &str,
    api_path: &str,
    steps: &[Step],
) -> Result<Flow> {
    if steps.is_empty() {
        return Err(EngineError::invalid("a flow needs at least one step"));
    }
    if !api_path
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        || api_path.is_empty()
    {
        return Err(EngineError::invalid(format!(
            "api_path {api_path:?} must be letters, digits, '-' or '_'"
        )));
    }
    let dossier = dossiers::add(tx, name, &format!("flows/{api_path}"), None)?;
    let num: i64 = tx.query_row("SELECT coalesce(max(num), 0) + 1 FROM flows", [], |r| {
        r.get(0)
    })?;
    tx.execute(
        "INSERT INTO flows (uuid, num, name, api_path, dossier_id) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![uuid, num, name, api_path, dossier.id],
    )?;
    for (i, step) in steps.iter().enumerate() {
        if step.quick_actions.len() > 2 {
            return Err(EngineError::invalid("a step has at most two quick actions"));
        }
        tx.execute(
            "INSERT INTO flow_steps (flow_uuid, position, stop_uuid, name, status_text, assignee_user,
                assignee_group, form, quick_actions)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                uuid,
                i as i64 + 1,
                step.stop_uuid,
                step.name,
                step.status_text,
                step.assignee_user,
                step.assignee_group,
                serde_json::to_string(&step.form)?,
                serde_json::to_string(&step.quick_actions)?,
            ],
        )?;
    }
    flow_by_uuid(tx, uuid)
}

pub fn flows(conn: &Connection) -> Result<Vec<Flow>> {
    let mut stmt = conn.prepare(&format!("SELECT {FLOW_COLUMNS} FROM flows ORDER BY num"))?;
    let rows = stmt
        .query_map([], flow_from_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

pub fn flow_by_uuid(conn: &Connection, uuid: &str) -> Result<Flow> {
    conn.query_row(
        &format!("SELECT {FLOW_COLUMNS} FROM flows WHERE uuid = ?1"),
        [uuid],
        flow_from_row,
    )
    .optional()?
    .ok_or_else(|| EngineError::NotFound(format!("flow {uuid}")))
}

pub fn flow_by_api_path(conn: &Connection, api_path: &str) -> Result<Option<Flow>> {
    Ok(conn
        .query_row(
            &format!("SELECT {FLOW_COLUMNS} FROM flows WHERE api_path = ?1"),
            [api_path],
            flow_from_row,
        )
        .optional()?)
}

/// Finds a flow by its uuid with or without dashes.
pub fn flow_by_any_uuid(conn: &Connection, uuid: &str) -> Result<Option<Flow>> {
    let hex = uuid.replace('-', "");
    Ok(flows(conn)?.into_iter().find(|f| f.hex() == hex))
}

pub fn steps(conn: &Connection, flow_uuid: &str) -> Result<Vec<Step>> {
    let mut stmt = conn.prepare_cached(
        "SELECT position, stop_uuid, name, status_text, assignee_user, assignee_group, form, quick_actions
         FROM flow_steps WHERE flow_uuid = ?1 ORDER BY position",
    )?;
    let rows = stmt
        .query_map([flow_uuid], |r| {
            let form: String = r.get(6)?;
            let quick: String = r.get(7)?;
            Ok(Step {
                position: r.get(0)?,
                stop_uuid: r.get(1)?,
                name: r.get(2)?,
                status_text: r.get(3)?,
                assignee_user: r.get(4)?,
                assignee_group: r.get(5)?,
                form: serde_json::from_str(&form).map_err(|e| conversion(6, e))?,
                quick_actions: serde_json::from_str(&quick).map_err(|e| conversion(7, e))?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

pub fn step(conn: &Connection, flow_uuid: &str, position: i64) -> Result<Step> {
    steps(conn, flow_uuid)?
        .into_iter()
        .find(|s| s.position == position)
        .ok_or_else(|| EngineError::NotFound(format!("step {position} of flow {flow_uuid}")))
}

const TICKET_COLUMNS: &str =
    "id, case_id, flow_uuid, data_no, title, position, closed, form_values,
    created_by, created_at, updated_at";

fn ticket_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Ticket> {
    let values: String = r.get(7)?;
    Ok(Ticket {
        id: r.get(0)?,
        case_id: r.get(1)?,
        flow_uuid: r.get(2)?,
        data_no: r.get(3)?,
        title: r.get(4)?,
        position: r.get(5)?,
        closed: r.get(6)?,
        form_values: serde_json::from_str(&values).map_err(|e| conversion(7, e))?,
        created_by: r.get(8)?,
        created_at: r.get(9)?,
        updated_at: r.get(10)?,
    })
}

pub fn ticket(conn: &Connection, id: i64) -> Result<Ticket> {
    conn.prepare_cached(&format!(
        "SELECT {TICKET_COLUMNS} FROM tickets WHERE id = ?1"
    ))?
    .query_row([id], ticket_from_row)
    .optional()?
    .ok_or_else(|| EngineError::NotFound(format!("ticket {id}")))
}

pub fn ticket_by_no(conn: &Connection, flow_uuid: &str, data_no: i64) -> Result<Option<Ticket>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {TICKET_COLUMNS} FROM tickets WHERE flow_uuid = ?1 AND data_no = ?2"
        ))?
        .query_row(params![flow_uuid, data_no], ticket_from_row)
        .optional()?)
}

/// The open task of a ticket (the visit of the step it is at).
pub fn current_task(conn: &Connection, ticket: &Ticket) -> Result<Option<Task>> {
    let Some(position) = ticket.position else {
        return Ok(None);
    };
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {} FROM tasks WHERE ticket_id = ?1 AND step_position = ?2
             AND state IN ('open', 'in-progress') ORDER BY id DESC LIMIT 1",
            tasks::COLUMNS
        ))?
        .query_row(params![ticket.id, position], tasks::from_row)
        .optional()?)
}

/// Whether the principal may push a step task: its assignee, a member of
/// its group when no one is assigned, or an administrator.
pub fn may_push(p: &Principal, task: &Task) -> bool {
    p.admin
        || match &task.responsible.user {
            Some(user) => *user == p.user,
            None => p.in_group(task.responsible.group.as_deref()),
        }
}

fn step_task(tx: &Tx<'_>, flow: &Flow, ticket: &Ticket, step: &Step) -> Result<Task> {
    let title = ticket
        .title
        .clone()
        .unwrap_or_else(|| format!("{} #{}", flow.name, ticket.data_no));
    let task = tasks::insert(
        tx,
        &NewTaskRow {
            title,
            text: step.name.clone(),
            task_type: TaskType::DirectExecution,
            state: TaskState::Open,
            responsible: Responsible {
                user: step.assignee_user.clone(),
                group: step.assignee_group.clone(),
                client: None,
            },
            issuer: ticket.created_by.clone(),
            deadline: None,
            priority: 0,
            is_private: false,
            parent_id: None,
            position: None,
            dossier_id: flow.dossier_id,
            ticket_id: Some(ticket.id),
            step_position: Some(step.position),
            related_items: Vec::new(),
        },
    )?;
    responses::add(
        tx,
        responses::Entry {
            task_id: task.id,
            response_type: "default",
            transition: "transition-add-task",
            text: &step.name,
            creator: &ticket.created_by,
            changes: Vec::new(),
            additional_data: json!({}),
        },
    )?;
    responses::notify_assigned(tx, &task, &ticket.created_by, "task-added")?;
    Ok(task)
}

fn merge_values(ticket: &mut Ticket, step: Option<&Step>, values: &[FieldValue]) -> Option<String> {
    let mut title = None;
    for v in values {
        let declared = step
            .and_then(|s| s.form.iter().find(|f| f.id.eq_ignore_ascii_case(&v.id)))
            .map(|f| f.field_type.as_str());
        if v.field_type.as_deref().or(declared) == Some("h_title") {
            title = v.value.as_str().map(String::from);
        }
        ticket
            .form_values
            .insert(v.id.to_ascii_uppercase(), v.value.clone());
    }
    title
}

fn save_ticket(tx: &Tx<'_>, t: &Ticket) -> Result<()> {
    tx.execute(
        "UPDATE tickets SET title = ?2, position = ?3, closed = ?4, form_values = ?5, updated_at = ?6
         WHERE id = ?1",
        params![
            t.id,
            t.title,
            t.position,
            t.closed,
            Value::Object(t.form_values.clone()).to_string(),
            format_ts(now()),
        ],
    )?;
    Ok(())
}

/// Opens a ticket (OMFLOW `action: "create"`): it starts at the first step.
pub fn open_ticket(
    tx: &Tx<'_>,
    p: &Principal,
    flow: &Flow,
    values: &[FieldValue],
) -> Result<Ticket> {
    require_api(flow)?;
    let first = step(tx, &flow.uuid, 1)?;
    let data_no: i64 = tx.query_row(
        "SELECT coalesce(max(data_no), 0) + 1 FROM tickets WHERE flow_uuid = ?1",
        [&flow.uuid],
        |r| r.get(0),
    )?;
    let case_id = dossiers::add_case(tx, &format!("{} #{data_no}", flow.name))?;
    let stamp = format_ts(now());
    tx.execute(
        "INSERT INTO tickets (case_id, flow_uuid, data_no, position, created_by, created_at, updated_at)
         VALUES (?1, ?2, ?3, 1, ?4, ?5, ?5)",
        params![case_id, flow.uuid, data_no, p.user, stamp],
    )?;
    let mut ticket = ticket(tx, tx.last_insert_rowid())?;
    if let Some(title) = merge_values(&mut ticket, Some(&first), values) {
        ticket.title = Some(title.clone());
        tx.execute(
            "UPDATE cases SET name = ?2 WHERE id = ?1",
            params![case_id, title],
        )?;
    }
    save_ticket(tx, &ticket)?;
    step_task(tx, flow, &ticket, &first)?;
    Ok(ticket)
}

fn require_api(flow: &Flow) -> Result<()> {
    if flow.api_enabled {
        Ok(())
    } else {
        Err(EngineError::invalid_id(
            "api_disabled",
            "該流程未啟用API呼叫。",
        ))
    }
}

/// The step task a `data_id` names, if it is the ticket's current step.
fn pushable(tx: &Tx<'_>, p: &Principal, flow: &Flow, data_id: i64) -> Result<(Task, Ticket)> {
    require_api(flow)?;
    // OMFLOW answers a stale or unknown data_id with the ORM's text.
    let gone = || {
        EngineError::NotFound(format!(
            "Omdata_{} matching query does not exist.",
            flow.hex()
        ))
    };
    let task = tasks::get(tx, data_id)?.ok_or_else(gone)?;
    let Some(ticket_id) = task.ticket_id else {
        return Err(gone());
    };
    let ticket = ticket(tx, ticket_id)?;
    if ticket.flow_uuid != flow.uuid {
        return Err(gone());
    }
    if !may_push(p, &task) {
        return Err(EngineError::Forbidden("您沒有權限進行此操作。".into()));
    }
    if !matches!(task.state, TaskState::Open | TaskState::InProgress) || ticket.closed {
        return Err(gone());
    }
    Ok((task, ticket))
}

/// Pushes a ticket past the step of `data_id` with form values (OMFLOW
/// `action: "update"`). Returns the ticket's `data_no`.
pub fn push(
    tx: &Tx<'_>,
    p: &Principal,
    flow: &Flow,
    data_id: i64,
    values: &[FieldValue],
) -> Result<i64> {
    let (task, mut ticket) = pushable(tx, p, flow, data_id)?;
    let current = step(tx, &flow.uuid, task.step_position.unwrap_or(1))?;
    if let Some(title) = merge_values(&mut ticket, Some(&current), values) {
        ticket.title = Some(title);
    }
    let missing = current.form.iter().any(|f| {
        f.required
            && ticket
                .form_values
                .get(&f.id.to_ascii_uppercase())
                .is_none_or(|v| v.is_null() || v.as_str().is_some_and(|s| s.trim().is_empty()))
    });
    if missing {
        return Err(EngineError::invalid_id(
            "required_missing",
            "缺少必填欄位。",
        ));
    }
    let summary = values
        .iter()
        .map(|v| format!("{}={}", v.id, v.value))
        .collect::<Vec<_>>()
        .join(", ");
    complete_step(tx, p, flow, &mut ticket, &task, "push", &summary)?;
    Ok(ticket.data_no)
}

/// Runs a quick action (`action1`/`action2`): its configured values, no
/// required-field check, then on to the next step.
pub fn quick_action(
    tx: &Tx<'_>,
    p: &Principal,
    flow: &Flow,
    data_id: i64,
    action: &str,
) -> Result<i64> {
    let (task, mut ticket) = pushable(tx, p, flow, data_id)?;
    let current = step(tx, &flow.uuid, task.step_position.unwrap_or(1))?;
    let quick = current
        .quick_actions
        .iter()
        .find(|q| q.id == action)
        .ok_or_else(|| {
            EngineError::invalid_id("unknown_quick_action", format!("推單失敗：{action} 不存在"))
        })?;
    for (k, v) in &quick.values {
        ticket.form_values.insert(k.to_ascii_uppercase(), v.clone());
    }
    complete_step(
        tx,
        p,
        flow,
        &mut ticket,
        &task,
        &format!("quick_action:{action}"),
        &quick.label,
    )?;
    Ok(ticket.data_no)
}

/// Closes the step task and moves the ticket on (or closes it).
fn complete_step(
    tx: &Tx<'_>,
    p: &Principal,
    flow: &Flow,
    ticket: &mut Ticket,
    task: &Task,
    how: &str,
    text: &str,
) -> Result<()> {
    tasks::set_state(tx, task.id, TaskState::Closed)?;
    responses::add(
        tx,
        responses::Entry {
            task_id: task.id,
            response_type: "default",
            transition: how,
            text,
            creator: &p.user,
            changes: Vec::new(),
            additional_data: json!({}),
        },
    )?;
    advance(tx, flow, ticket, task.step_position.unwrap_or(1))
}

fn advance(tx: &Tx<'_>, flow: &Flow, ticket: &mut Ticket, from: i64) -> Result<()> {
    let next = steps(tx, &flow.uuid)?
        .into_iter()
        .find(|s| s.position == from + 1);
    match next {
        Some(next) => {
            ticket.position = Some(next.position);
            save_ticket(tx, ticket)?;
            step_task(tx, flow, ticket, &next)?;
        }
        None => {
            ticket.position = None;
            ticket.closed = true;
            save_ticket(tx, ticket)?;
        }
    }
    Ok(())
}

/// A flow step task changed state through another dialect (a GEVER
/// transition, a Hitachi completion): closing it moves the ticket on as a
/// push without new values would (so required fields must be filled);
/// cancelling it closes the ticket.
pub fn after_transition(tx: &Tx<'_>, p: &Principal, task: &Task) -> Result<()> {
    let Some(ticket_id) = task.ticket_id else {
        return Ok(());
    };
    let mut ticket = ticket(tx, ticket_id)?;
    if ticket.closed || ticket.position != task.step_position {
        return Ok(());
    }
    let flow = flow_by_uuid(tx, &ticket.flow_uuid)?;
    match task.state {
        TaskState::Closed => {
            let current = step(tx, &flow.uuid, task.step_position.unwrap_or(1))?;
            if let Some(f) = current.form.iter().find(|f| {
                f.required && !ticket.form_values.contains_key(&f.id.to_ascii_uppercase())
            }) {
                return Err(EngineError::invalid(format!(
                    "The form field {} ({}) is required: push the form instead.",
                    f.label, f.id
                )));
            }
            let _ = p;
            advance(tx, &flow, &mut ticket, task.step_position.unwrap_or(1))
        }
        TaskState::Cancelled | TaskState::Skipped => {
            ticket.position = None;
            ticket.closed = true;
            save_ticket(tx, &ticket)
        }
        _ => Ok(()),
    }
}

/// The open `data_id`s of a ticket with their step names (OMFLOW's data-id
/// query). More than one only with parallel branches, which this engine's
/// flows do not have.
pub fn data_ids(conn: &Connection, flow: &Flow, data_no: i64) -> Result<Vec<(i64, String)>> {
    let Some(ticket) = ticket_by_no(conn, &flow.uuid, data_no)? else {
        return Ok(Vec::new());
    };
    Ok(match current_task(conn, &ticket)? {
        Some(task) => vec![(
            task.id,
            step(conn, &flow.uuid, task.step_position.unwrap_or(1))?.name,
        )],
        None => Vec::new(),
    })
}

/// A work log entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorklogEntry {
    pub id: i64,
    pub flow_hex: String,
    pub author: String,
    pub author_name: String,
    pub content: String,
    pub created: String,
}

/// Adds a work log entry to a ticket; `data_id` is checked for permission
/// (the caller may work on it), as OMFLOW does.
pub fn worklog_add(
    tx: &Tx<'_>,
    p: &Principal,
    flow: &Flow,
    data_no: i64,
    data_id: Option<i64>,
    content: &str,
) -> Result<()> {
    if content.trim().is_empty() {
        return Err(EngineError::invalid_id(
            "require_missing",
            "缺少參數：content",
        ));
    }
    let ticket = ticket_by_no(tx, &flow.uuid, data_no)?.ok_or_else(|| {
        EngineError::NotFound(format!(
            "Omdata_{} matching query does not exist.",
            flow.hex()
        ))
    })?;
    let task = match data_id {
        Some(id) => tasks::get(tx, id)?.filter(|t| t.ticket_id == Some(ticket.id)),
        None => current_task(tx, &ticket)?,
    };
    let task = task.ok_or_else(|| EngineError::Forbidden("您沒有權限進行此操作。".into()))?;
    if !(may_push(p, &task) || tasks::visible(p, &task)) {
        return Err(EngineError::Forbidden("您沒有權限進行此操作。".into()));
    }
    responses::add(
        tx,
        responses::Entry {
            task_id: task.id,
            response_type: "comment",
            transition: "task-commented",
            text: content,
            creator: &p.user,
            changes: Vec::new(),
            additional_data: json!({}),
        },
    )?;
    Ok(())
}

/// The work log of a ticket: the comments on all of its step tasks.
pub fn worklog(conn: &Connection, flow: &Flow, data_no: i64) -> Result<Vec<WorklogEntry>> {
    let Some(ticket) = ticket_by_no(conn, &flow.uuid, data_no)? else {
        return Ok(Vec::new());
    };
    let mut stmt = conn.prepare_cached(
        "SELECT r.id, r.creator, coalesce(u.display_name, r.creator), r.text, r.created
         FROM responses r JOIN tasks t ON t.id = r.task_id LEFT JOIN users u ON u.id = r.creator
         WHERE t.ticket_id = ?1 AND r.response_type = 'comment' ORDER BY r.id",
    )?;
    let rows = stmt
        .query_map([ticket.id], |r| {
            Ok(WorklogEntry {
                id: r.get(0)?,
                flow_hex: flow.hex(),
                author: r.get(1)?,
                author_name: r.get(2)?,
                content: r.get(3)?,
                created: r.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// The form and quick actions of the step a `data_id` is at (tasklane's
/// documented extension; OMFLOW itself publishes no form definitions).
pub fn form_of(conn: &Connection, p: &Principal, task: &Task) -> Result<Step> {
    if !(may_push(p, task) || tasks::visible(p, task)) {
        return Err(EngineError::Forbidden("您沒有權限進行此操作。".into()));
    }
    let ticket_id = task
        .ticket_id
        .ok_or_else(|| EngineError::NotFound(format!("task {} is not a flow step", task.id)))?;
    let ticket = ticket(conn, ticket_id)?;
    step(conn, &ticket.flow_uuid, task.step_position.unwrap_or(1))
}

//! Work items in the Hitachi CSCIW sense: every task seen as a work item of
//! a case, with a participant (a user or a lane) and a StateCode (see the
//! `work_items` view in `migrations/engine/0001_initial.sql`; the codes
//! and transitions are in `docs/decisions/0008-engine-work-item-state-codes.md`).
//!
//! Allocation picks the first ready item matching Filter and Sort, assigns
//! the participant and starts it, in one write transaction on the single
//! writer connection — so two allocations can never get the same item.
//! Complete, free and reassign are idempotent as the vendor documents:
//! asking for what is already so answers 200 and changes nothing.

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params_from_iter};
use serde::Serialize;
use serde_json::json;

use crate::db::Tx;
use crate::error::{EngineError, Result};
use crate::filter::{self, FilterError};
use crate::flows::{self, FieldValue};
use crate::model::{GroupKind, Responsible, TaskState};
use crate::responses::{self, change};
use crate::tasks;
use crate::users::{self, Principal};

/// A work item: the 16 WorkItem properties. Instants are UTC text here;
/// the dialect formats them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkItem {
    pub activity_instance_id: i64,
    pub closed_date: Option<String>,
    pub creation_date: String,
    pub deadline: Option<String>,
    pub id: i64,
    pub name: String,
    pub participant: String,
    pub priority: i64,
    pub process_definition_id: i64,
    pub process_instance_id: i64,
    pub process_instance_name: String,
    pub start_date: Option<String>,
    pub state_code: String,
    pub work_definition_id: i64,
    pub work_definition_name: String,
    pub work_type_code: String,
}

const COLUMNS: &str =
    "\"ActivityInstanceID\", \"ClosedDate\", \"CreationDate\", \"Deadline\", \"ID\",
    \"Name\", \"Participant\", \"Priority\", \"ProcessDefinitionID\", \"ProcessInstanceID\",
    \"ProcessInstanceName\", \"StartDate\", \"StateCode\", \"WorkDefinitionID\",
    \"WorkDefinitionName\", \"WorkTypeCode\"";

/// Who may see and act on a work item, for the user bound to `?1`: the
/// user who is its Participant, the members of the lane (or other group)
/// that is its Participant while no user has it, and administrators. Once
/// a person performs an item, the other lane members no longer see it, and
/// a task's GEVER issuer has no say over it here: CSCIW knows only
/// participants.
const VISIBLE: &str = "((SELECT admin FROM users WHERE id = ?1) = 1 OR w.user_id = ?1
    OR (w.user_id IS NULL
        AND w.lane IN (SELECT group_id FROM memberships WHERE user_id = ?1)))";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<WorkItem> {
    Ok(WorkItem {
        activity_instance_id: r.get(0)?,
        closed_date: r.get(1)?,
        creation_date: r.get(2)?,
        deadline: r.get(3)?,
        id: r.get(4)?,
        name: r.get(5)?,
        participant: r.get::<_, Option<String>>(6)?.unwrap_or_default(),
        priority: r.get(7)?,
        process_definition_id: r.get(8)?,
        process_instance_id: r.get(9)?,
        process_instance_name: r.get(10)?,
        start_date: r.get(11)?,
        state_code: r.get(12)?,
        work_definition_id: r.get(13)?,
        work_definition_name: r.get(14)?,
        work_type_code: r.get(15)?,
    })
}

impl From<FilterError> for EngineError {
    fn from(e: FilterError) -> Self {
        EngineError::invalid(e.to_string())
    }
}

/// One work item the principal may see.
pub fn get(conn: &Connection, p: &Principal, pi: i64, wi: i64) -> Result<WorkItem> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM work_items w WHERE w.\"ProcessInstanceID\" = ?2 AND w.\"ID\" = ?3 AND {VISIBLE}"
    ))?
    .query_row(rusqlite::params![p.user, pi, wi], from_row)
    .optional()?
    .ok_or_else(|| EngineError::NotFound(format!("work item {pi}/{wi}")))
}

/// The work items the principal may see, filtered, sorted and paged
/// (tasklane's documented list extension). `maxcount` -1 means all.
pub fn list(
    conn: &Connection,
    p: &Principal,
    filter: Option<&str>,
    sort: Option<&str>,
    offset: i64,
    maxcount: i64,
) -> Result<Vec<WorkItem>> {
    let (offset, count) = paging(offset, maxcount)?;
    let listing = Listing::new(p, filter, sort)?;
    let mut ids = listing.ids(conn, count.map(|c| c.saturating_add(offset)))?;
    ids.drain(..offset.min(ids.len()));
    listing.items(conn, &ids)
}

/// The list extension's `offset` and `maxcount` as a start and a count
/// (`None`: all).
pub fn paging(offset: i64, maxcount: i64) -> Result<(usize, Option<usize>)> {
    let invalid = || EngineError::invalid("offset must be 0 or more and maxcount -1 or more");
    let offset = usize::try_from(offset).map_err(|_| invalid())?;
    let count = match maxcount {
        -1 => None,
        n => Some(usize::try_from(n).map_err(|_| invalid())?),
    };
    Ok((offset, count))
}

/// One work-item listing: whom it is for, its filter and its order. Its
/// ids are read first and the items of a page after them, so that a
/// server can remember the order of a long listing and page through it
/// without ordering it again (`server::listings`).
#[derive(Debug)]
pub struct Listing {
    /// The visibility rule and the filter, over `work_items w`.
    where_sql: String,
    params: Vec<Value>,
    /// Ends with the ID (`compile_sort` adds it): items that sort the same
    /// keep one order from page to page.
    order: String,
}

impl Listing {
    pub fn new(p: &Principal, filter: Option<&str>, sort: Option<&str>) -> Result<Self> {
        let mut params = vec![Value::Text(p.user.clone())];
        let mut where_sql = VISIBLE.to_owned();
        if let Some(text) = filter {
            let compiled = filter::compile_filter(text)?;
            where_sql.push_str(&format!(" AND {}", compiled.sql));
            params.extend(compiled.params);
        }
        let order = match sort {
            Some(text) => filter::compile_sort(text)?,
            None => "\"ID\" ASC".into(),
        };
        Ok(Listing {
            where_sql,
            params,
            order,
        })
    }

    /// Only the items ready to be allocated (StateCode `j`).
    fn ready(mut self) -> Self {
        self.where_sql = format!("w.\"StateCode\" = 'j' AND {}", self.where_sql);
        self
    }

    /// What tells this listing apart from every other (its user included).
    pub fn key(&self) -> String {
        format!(
            "hitachi: {} ORDER BY {} {:?}",
            self.where_sql, self.order, self.params
        )
    }

    /// The listing's ids in order: the first `limit`, or all.
    pub fn ids(&self, conn: &Connection, limit: Option<usize>) -> Result<Vec<i64>> {
        // Bound, so that one prepared statement serves every page size
        // (SQLite reads a negative limit as none).
        let limit = Value::Integer(limit.map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX)));
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT w.\"ID\" FROM work_items w WHERE {} ORDER BY {} LIMIT ?",
            self.where_sql, self.order
        ))?;
        let ids = stmt
            .query_map(
                params_from_iter(self.params.iter().chain(std::iter::once(&limit))),
                |r| r.get(0),
            )?
            .collect::<rusqlite::Result<_>>()?;
        Ok(ids)
    }

    /// The items among `ids` that are (still) in the listing, in its order.
    pub fn items(&self, conn: &Connection, ids: &[i64]) -> Result<Vec<WorkItem>> {
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM work_items w WHERE {}
               AND w.\"ID\" IN (SELECT value FROM json_each(?)) ORDER BY {}",
            self.where_sql, self.order
        ))?;
        let ids = Value::Text(json!(ids).to_string());
        let items = stmt
            .query_map(
                params_from_iter(self.params.iter().chain(std::iter::once(&ids))),
                from_row,
            )?
            .collect::<rusqlite::Result<_>>()?;
        Ok(items)
    }
}

/// Allocates the first ready item matching `filter` and `sort` (among the
/// first `fetch_count` candidates; -1: all) to `participant` and starts it.
/// `None` when nothing is allocatable.
pub fn allocate(
    tx: &Tx<'_>,
    p: &Principal,
    participant: &str,
    filter: Option<&str>,
    sort: Option<&str>,
    fetch_count: i64,
) -> Result<Option<WorkItem>> {
    if fetch_count < -1 || fetch_count == 0 {
        return Err(EngineError::invalid("FetchCount must be -1 or at least 1"));
    }
    if participant != p.user && !p.admin {
        return Err(EngineError::Forbidden(format!(
            "{} may not allocate work to {participant}",
            p.user
        )));
    }
    let worker = users::principal(tx, participant)
        .map_err(|_| EngineError::invalid(format!("participant {participant:?} is not a user")))?;
    // The first candidate is the first of any FetchCount candidates. The
    // vendor adds "state is ready" to every allocation filter itself.
    let candidates = Listing::new(&worker, filter, sort)?
        .ready()
        .ids(tx, Some(1))?;
    let Some(&id) = candidates.first() else {
        return Ok(None);
    };
    let task = tasks::require(tx, id)?;
    let taken = Responsible {
        user: Some(worker.user.clone()),
        group: task.responsible.group.clone(),
        client: task.responsible.client.clone(),
    };
    tasks::set_responsible(tx, id, &taken)?;
    tasks::set_state(tx, id, TaskState::InProgress)?;
    responses::add(
        tx,
        responses::Entry {
            task_id: id,
            response_type: "default",
            transition: "task-transition-open-in-progress",
            text: "allocate",
            creator: &worker.user,
            changes: vec![change(
                "responsible",
                "Responsible",
                json!(task.responsible.group),
                json!(worker.user),
            )],
            additional_data: json!({}),
        },
    )?;
    let item = get(tx, &worker, item_case(tx, id)?, id)?;
    Ok(Some(item))
}

fn item_case(conn: &Connection, id: i64) -> Result<i64> {
    Ok(conn.query_row(
        "SELECT \"ProcessInstanceID\" FROM work_items WHERE \"ID\" = ?1",
        [id],
        |r| r.get(0),
    )?)
}

fn is_done(code: &str) -> bool {
    matches!(code, "o" | "s" | "u")
}

/// Completes a performing item. Process data for a flow step are its form
/// values (the step's required fields must be filled). Completing an item
/// that is already completed answers it unchanged.
pub fn complete(
    tx: &Tx<'_>,
    p: &Principal,
    pi: i64,
    wi: i64,
    process_data: &[(String, String)],
) -> Result<WorkItem> {
    let item = get(tx, p, pi, wi)?;
    if is_done(&item.state_code) {
        return Ok(item);
    }
    let task = tasks::require(tx, wi)?;
    if item.state_code != "f" {
        return Err(EngineError::invalid(format!(
            "work item {pi}/{wi} is not being performed (state {}); allocate it first",
            item.state_code
        )));
    }
    if task.responsible.user.as_deref() != Some(p.user.as_str()) && !p.admin {
        return Err(EngineError::Forbidden(format!(
            "work item {pi}/{wi} is {}'s",
            item.participant
        )));
    }
    match task.ticket_id {
        Some(ticket_id) => {
            let ticket = flows::ticket(tx, ticket_id)?;
            let flow = flows::flow_by_uuid(tx, &ticket.flow_uuid)?;
            let values: Vec<FieldValue> = process_data
                .iter()
                .map(|(k, v)| FieldValue {
                    id: k.clone(),
                    value: json!(v),
                    field_type: None,
                })
                .collect();
            flows::push(tx, p, &flow, wi, &values)?;
        }
        None => {
            tasks::set_state(tx, wi, TaskState::Closed)?;
            let data: serde_json::Map<String, serde_json::Value> = process_data
                .iter()
                .map(|(k, v)| (k.clone(), json!(v)))
                .collect();
            responses::add(
                tx,
                responses::Entry {
                    task_id: wi,
                    response_type: "default",
                    transition: "complete",
                    text: "",
                    creator: &p.user,
                    changes: Vec::new(),
                    additional_data: json!({"process_data": data}),
                },
            )?;
        }
    }
    get(tx, p, pi, wi)
}

/// Gives a performing item back to its lane (ready again). Freeing an item
/// that is already ready answers it unchanged.
pub fn free(tx: &Tx<'_>, p: &Principal, pi: i64, wi: i64) -> Result<WorkItem> {
    let item = get(tx, p, pi, wi)?;
    if item.state_code == "j" {
        return Ok(item);
    }
    let task = tasks::require(tx, wi)?;
    if item.state_code != "f" {
        return Err(EngineError::invalid(format!(
            "work item {pi}/{wi} is not being performed"
        )));
    }
    if task.responsible.user.as_deref() != Some(p.user.as_str()) && !p.admin {
        return Err(EngineError::Forbidden(format!(
            "work item {pi}/{wi} is {}'s",
            item.participant
        )));
    }
    let Some(lane) = task.responsible.group.clone() else {
        return Err(EngineError::invalid(format!(
            "work item {pi}/{wi} has no lane to go back to"
        )));
    };
    let back = Responsible {
        user: None,
        group: Some(lane.clone()),
        client: task.responsible.client.clone(),
    };
    tasks::set_responsible(tx, wi, &back)?;
    tasks::set_state(tx, wi, TaskState::Open)?;
    responses::add(
        tx,
        responses::Entry {
            task_id: wi,
            response_type: "default",
            transition: "free",
            text: "",
            creator: &p.user,
            changes: vec![change(
                "responsible",
                "Responsible",
                json!(task.responsible.user),
                json!(lane),
            )],
            additional_data: json!({}),
        },
    )?;
    get(tx, p, pi, wi)
}

/// Changes an item's participant. `source`, when given, must be the current
/// participant; `target` is a user or a lane (`None`: back to the lane).
pub fn reassign(
    tx: &Tx<'_>,
    p: &Principal,
    pi: i64,
    wi: i64,
    source: Option<&str>,
    target: Option<&str>,
) -> Result<WorkItem> {
    let item = get(tx, p, pi, wi)?;
    // A repeat of a reassignment that was applied finds the item where it
    // asked for it (though no longer with Source as participant): already
    // done, so 200 and nothing happens, as the vendor documents.
    let already = match target {
        Some(target) => target == item.participant,
        None => item.state_code == "j",
    };
    if already {
        return Ok(item);
    }
    if let Some(source) = source
        && source != item.participant
    {
        return Err(EngineError::invalid(format!(
            "Source {source:?} is not the participant of work item {pi}/{wi} ({:?})",
            item.participant
        )));
    }
    if is_done(&item.state_code) {
        return Err(EngineError::invalid(format!(
            "work item {pi}/{wi} is finished"
        )));
    }
    let task = tasks::require(tx, wi)?;
    let Some(target) = target else {
        return free(tx, p, pi, wi);
    };
    let new = if users::find_user(tx, target)?.is_some() {
        Responsible {
            user: Some(target.to_string()),
            group: task.responsible.group.clone(),
            client: task.responsible.client.clone(),
        }
    } else {
        match users::find_group(tx, target)? {
            Some(g) if g.kind == GroupKind::Lane || g.kind == GroupKind::Team => Responsible {
                user: None,
                group: Some(g.id),
                client: None,
            },
            _ => {
                return Err(EngineError::invalid(format!(
                    "Target {target:?} is neither a user nor a lane"
                )));
            }
        }
    };
    tasks::set_responsible(tx, wi, &new)?;
    if new.user.is_none() && task.state == TaskState::InProgress {
        tasks::set_state(tx, wi, TaskState::Open)?;
    }
    responses::add(
        tx,
        responses::Entry {
            task_id: wi,
            response_type: "default",
            transition: "task-transition-reassign",
            text: "",
            creator: &p.user,
            changes: vec![change(
                "responsible",
                "Responsible",
                json!(item.participant),
                json!(target),
            )],
            additional_data: json!({}),
        },
    )?;
    let after = tasks::require(tx, wi)?;
    responses::notify_assigned(tx, &after, &p.user, "task-transition-reassign")?;
    // The new participant may be someone the caller cannot see for; answer
    // with the item as it now is.
    let case = item_case(tx, wi)?;
    tx.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM work_items w WHERE w.\"ProcessInstanceID\" = ?1 AND w.\"ID\" = ?2"
    ))?
    .query_row(rusqlite::params![case, wi], from_row)
    .map_err(EngineError::from)
}

//! Tasks in the engine's database: reading, writing, and who may see them.

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::db::Tx;
use crate::error::{EngineError, Result};
use crate::model::{GroupKind, Responsible, Task, TaskState, TaskType};
use crate::users::{self, Principal};
use tasklane_core::time::{format_ts, now};

pub(crate) const COLUMNS: &str = "id, title, text, task_type, state, responsible_user,
    responsible_group, responsible_client, issuer, issuing_org_unit, deadline, priority,
    is_private, created, modified, started_at, closed_at, parent_id, sequence_type, position,
    dossier_id, ticket_id, step_position, related_items";

fn conversion(i: usize, e: impl ToString) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, e.to_string().into())
}

pub(crate) fn from_row(r: &Row<'_>) -> rusqlite::Result<Task> {
    let task_type: String = r.get(3)?;
    let state: String = r.get(4)?;
    let related: String = r.get(23)?;
    Ok(Task {
        id: r.get(0)?,
        title: r.get(1)?,
        text: r.get(2)?,
        task_type: task_type
            .parse()
            .map_err(|e: EngineError| conversion(3, e))?,
        state: state.parse().map_err(|e: EngineError| conversion(4, e))?,
        responsible: Responsible {
            user: r.get(5)?,
            group: r.get(6)?,
            client: r.get(7)?,
        },
        issuer: r.get(8)?,
        issuing_org_unit: r.get(9)?,
        deadline: r.get(10)?,
        priority: r.get(11)?,
        is_private: r.get(12)?,
        created: r.get(13)?,
        modified: r.get(14)?,
        started_at: r.get(15)?,
        closed_at: r.get(16)?,
        parent_id: r.get(17)?,
        sequence_type: r.get(18)?,
        position: r.get(19)?,
        dossier_id: r.get(20)?,
        ticket_id: r.get(21)?,
        step_position: r.get(22)?,
        related_items: serde_json::from_str(&related).map_err(|e| conversion(23, e))?,
    })
}

pub fn get(conn: &Connection, id: i64) -> Result<Option<Task>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM tasks WHERE id = ?1"))?
        .query_row([id], from_row)
        .optional()?)
}

/// A task that must exist.
pub fn require(conn: &Connection, id: i64) -> Result<Task> {
    get(conn, id)?.ok_or_else(|| EngineError::NotFound(format!("task {id}")))
}

/// The GEVER rule: the responsible, members of the responsible group, the
/// org unit's inbox (unless private), the issuer and their org unit's inbox
/// (unless private), and administrators see a task.
pub fn visible(p: &Principal, t: &Task) -> bool {
    p.admin
        || t.responsible.user.as_deref() == Some(p.user.as_str())
        || t.issuer == p.user
        || p.in_group(t.responsible.group.as_deref())
        || (!t.is_private
            && (p.in_group(t.responsible.client.as_deref())
                || p.in_group(t.issuing_org_unit.as_deref())))
}

/// The same rule as SQL over `tasks t` for the user bound to `?1`.
pub(crate) const VISIBLE_SQL: &str = "(
    (SELECT admin FROM users WHERE id = ?1) = 1
    OR t.responsible_user = ?1 OR t.issuer = ?1
    OR t.responsible_group IN (SELECT group_id FROM memberships WHERE user_id = ?1)
    OR (t.is_private = 0 AND (
        t.responsible_client IN (SELECT group_id FROM memberships WHERE user_id = ?1)
        OR t.issuing_org_unit IN (SELECT group_id FROM memberships WHERE user_id = ?1))))";

/// A task the principal may see; others are "not found" for them.
pub fn require_visible(conn: &Connection, p: &Principal, id: i64) -> Result<Task> {
    match get(conn, id)? {
        Some(t) if visible(p, &t) => Ok(t),
        Some(_) => Err(EngineError::Forbidden(format!("task {id}"))),
        None => Err(EngineError::NotFound(format!("task {id}"))),
    }
}

/// Everything needed to create a task.
#[derive(Debug, Clone)]
pub struct NewTaskRow {
    pub title: String,
    pub text: String,
    pub task_type: TaskType,
    pub state: TaskState,
    pub responsible: Responsible,
    pub issuer: String,
    pub deadline: Option<String>,
    pub priority: i64,
    pub is_private: bool,
    pub parent_id: Option<i64>,
    pub position: Option<i64>,
    pub dossier_id: i64,
    pub ticket_id: Option<i64>,
    pub step_position: Option<i64>,
    pub related_items: Vec<String>,
}

pub fn insert(tx: &Tx<'_>, new: &NewTaskRow) -> Result<Task> {
    if new.title.trim().is_empty() {
        return Err(EngineError::field(
            "title",
            "RequiredMissing",
            "RequiredMissing",
            "Required input is missing.",
        ));
    }
    let stamp = format_ts(now());
    let issuing_org_unit = users::org_unit_of(tx, &new.issuer)?;
    tx.prepare_cached(
        "INSERT INTO tasks (title, text, task_type, state, responsible_user, responsible_group,
            responsible_client, issuer, issuing_org_unit, deadline, priority, is_private, created,
            modified, parent_id, position, dossier_id, ticket_id, step_position, related_items,
            started_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13, ?14, ?15, ?16, ?17,
            ?18, ?19, ?20)",
    )?
    .execute(params![
        new.title,
        new.text,
        new.task_type.token(),
        new.state.as_str(),
        new.responsible.user,
        new.responsible.group,
        new.responsible.client,
        new.issuer,
        issuing_org_unit,
        new.deadline,
        new.priority,
        new.is_private,
        stamp,
        new.parent_id,
        new.position,
        new.dossier_id,
        new.ticket_id,
        new.step_position,
        serde_json::to_string(&new.related_items)?,
        (new.state == TaskState::InProgress).then(|| stamp.clone()),
    ])?;
    require(tx, tx.last_insert_rowid())
}

/// Sets a task's state, stamping `modified` and, for Hitachi, the start and
/// close times.
pub fn set_state(tx: &Tx<'_>, id: i64, state: TaskState) -> Result<()> {
    let stamp = format_ts(now());
    tx.prepare_cached(
        "UPDATE tasks SET state = ?2, modified = ?3,
            started_at = CASE WHEN ?2 = 'in-progress' AND started_at IS NULL THEN ?3
                              WHEN ?2 IN ('open', 'planned') THEN NULL ELSE started_at END,
            closed_at = CASE WHEN ?2 IN ('tested-and-closed', 'cancelled', 'skipped') THEN ?3 ELSE NULL END
         WHERE id = ?1",
    )?
    .execute(params![id, state.as_str(), stamp])?;
    Ok(())
}

pub fn set_responsible(tx: &Tx<'_>, id: i64, r: &Responsible) -> Result<()> {
    tx.prepare_cached(
        "UPDATE tasks SET responsible_user = ?2, responsible_group = ?3, responsible_client = ?4,
            modified = ?5 WHERE id = ?1",
    )?
    .execute(params![id, r.user, r.group, r.client, format_ts(now())])?;
    Ok(())
}

pub fn set_deadline(tx: &Tx<'_>, id: i64, deadline: &str) -> Result<()> {
    tx.execute(
        "UPDATE tasks SET deadline = ?2, modified = ?3 WHERE id = ?1",
        params![id, deadline, format_ts(now())],
    )?;
    Ok(())
}

pub fn set_issuer(tx: &Tx<'_>, id: i64, issuer: &str) -> Result<()> {
    let org = users::org_unit_of(tx, issuer)?;
    tx.execute(
        "UPDATE tasks SET issuer = ?2, issuing_org_unit = ?3, modified = ?4 WHERE id = ?1",
        params![id, issuer, org, format_ts(now())],
    )?;
    Ok(())
}

/// Adds document references, keeping each once.
pub fn add_related(tx: &Tx<'_>, id: i64, items: &[String]) -> Result<()> {
    if items.is_empty() {
        return Ok(());
    }
    let mut task = require(tx, id)?;
    for item in items {
        if !task.related_items.contains(item) {
            task.related_items.push(item.clone());
        }
    }
    tx.execute(
        "UPDATE tasks SET related_items = ?2, modified = ?3 WHERE id = ?1",
        params![
            id,
            serde_json::to_string(&task.related_items)?,
            format_ts(now())
        ],
    )?;
    Ok(())
}

/// Marks a task changed (a comment, a PATCH).
pub fn touch(tx: &Tx<'_>, id: i64) -> Result<()> {
    tx.prepare_cached("UPDATE tasks SET modified = ?2 WHERE id = ?1")?
        .execute(params![id, format_ts(now())])?;
    Ok(())
}

/// Direct subtasks, in process order (sequential position, then creation).
pub fn children(conn: &Connection, id: i64) -> Result<Vec<Task>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM tasks WHERE parent_id = ?1 ORDER BY coalesce(position, 1e9), id"
    ))?;
    let tasks = stmt
        .query_map([id], from_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(tasks)
}

/// The topmost ancestor (the main task) of a task.
pub fn root(conn: &Connection, task: &Task) -> Result<Task> {
    let mut current = task.clone();
    // Bounded: a malformed database with a parent cycle must not hang.
    for _ in 0..64 {
        match current.parent_id {
            Some(parent) => current = require(conn, parent)?,
            None => return Ok(current),
        }
    }
    Ok(current)
}

/// Parses a GEVER responsible value: `user`, `org:user` (combined),
/// `inbox:org`, `team:name`, or a bare group (lane) name. A plain user takes
/// `client` as their org unit, or the first org unit they belong to.
pub fn parse_responsible(
    conn: &Connection,
    value: &str,
    client: Option<&str>,
) -> Result<Responsible> {
    let value = value.trim();
    let bad = |msg: String| {
        EngineError::field(
            "responsible",
            "ConstraintNotSatisfied",
            "ConstraintNotSatisfied",
            msg,
        )
    };
    if value.is_empty() {
        return Err(EngineError::field(
            "responsible",
            "RequiredMissing",
            "RequiredMissing",
            "Required input is missing.",
        ));
    }
    let group_of_kind = |id: &str, kinds: &[GroupKind]| -> Result<String> {
        match users::find_group(conn, id)? {
            Some(g) if kinds.contains(&g.kind) => Ok(g.id),
            _ => Err(bad(format!("{value:?} is not a valid responsible"))),
        }
    };
    if let Some(org) = value.strip_prefix("inbox:") {
        let org = group_of_kind(org, &[GroupKind::OrgUnit])?;
        return Ok(Responsible {
            user: None,
            group: Some(org.clone()),
            client: Some(org),
        });
    }
    if let Some(team) = value.strip_prefix("team:") {
        let team = group_of_kind(team, &[GroupKind::Team, GroupKind::Lane])?;
        return Ok(Responsible {
            user: None,
            group: Some(team),
            client: None,
        });
    }
    if let Some((org, user)) = value.split_once(':') {
        let org = group_of_kind(org, &[GroupKind::OrgUnit])?;
        users::find_user(conn, user)?
            .ok_or_else(|| bad(format!("user {user:?} does not exist")))?;
        return Ok(Responsible {
            user: Some(user.to_string()),
            group: None,
            client: Some(org),
        });
    }
    if users::find_user(conn, value)?.is_some() {
        let client = match client.filter(|c| !c.is_empty()) {
            Some(c) => Some(group_of_kind(c, &[GroupKind::OrgUnit])?),
            None => users::org_unit_of(conn, value)?,
        };
        return Ok(Responsible {
            user: Some(value.to_string()),
            group: None,
            client,
        });
    }
    if users::find_group(conn, value)?.is_some() {
        return Ok(Responsible {
            user: None,
            group: Some(value.to_string()),
            client: None,
        });
    }
    Err(bad(format!("{value:?} is neither a user nor a group")))
}

/// GEVER's token for a responsible: `org:user`, `inbox:org`, `team:name`.
pub fn responsible_token(conn: &Connection, r: &Responsible) -> Result<String> {
    Ok(match (&r.user, &r.group, &r.client) {
        (Some(user), _, Some(client)) => format!("{client}:{user}"),
        (Some(user), _, None) => user.clone(),
        (None, Some(group), _) => match users::find_group(conn, group)?.map(|g| g.kind) {
            Some(GroupKind::OrgUnit) => format!("inbox:{group}"),
            _ => format!("team:{group}"),
        },
        (None, None, _) => String::new(),
    })
}

/// A readable label for a responsible ("Muster Hans", "Eingangskorb: Finanzdirektion").
pub fn responsible_title(conn: &Connection, r: &Responsible) -> Result<String> {
    if let Some(user) = &r.user {
        let name = users::find_user(conn, user)?.map_or(user.clone(), |u| u.display_name);
        return Ok(match &r.client {
            Some(client) => {
                let org =
                    users::find_group(conn, client)?.map_or(client.clone(), |g| g.display_name);
                format!("{org}: {name} ({user})")
            }
            None => format!("{name} ({user})"),
        });
    }
    if let Some(group) = &r.group {
        let g = users::find_group(conn, group)?;
        return Ok(match g {
            Some(g) if g.kind == GroupKind::OrgUnit => format!("Inbox: {}", g.display_name),
            Some(g) => g.display_name,
            None => group.clone(),
        });
    }
    Ok(String::new())
}

/// The tasks `user` may see with an id above `after`, in id order, at most
/// `limit` of them; only those modified at or after `since` when given.
pub fn visible_page(
    conn: &Connection,
    user: &str,
    after: i64,
    since: Option<&str>,
    limit: i64,
) -> Result<Vec<Task>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM tasks t WHERE {VISIBLE_SQL} AND t.id > ?2
           AND (?3 IS NULL OR t.modified >= ?3)
         ORDER BY t.id LIMIT ?4"
    ))?;
    let rows = stmt
        .query_map(params![user, after, since, limit], from_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

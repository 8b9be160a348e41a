//! Dossiers (GEVER's containers for tasks) and cases (what Hitachi calls a
//! process instance: a dossier or a ticket groups its work items).

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use crate::db::Tx;
use crate::error::{EngineError, Result};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dossier {
    pub id: i64,
    pub case_id: i64,
    pub title: String,
    /// Below the site root, e.g. `ordnungssystem/fuehrung/dossier-1`.
    pub path: String,
    pub org_unit: Option<String>,
}

/// Creates a case (a process instance) with a name.
pub fn add_case(tx: &Tx<'_>, name: &str) -> Result<i64> {
    tx.execute("INSERT INTO cases (name) VALUES (?1)", [name])?;
    Ok(tx.last_insert_rowid())
}

pub fn case_name(conn: &Connection, id: i64) -> Result<String> {
    Ok(conn
        .prepare_cached("SELECT name FROM cases WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?
        .unwrap_or_default())
}

/// Creates a dossier at `path` (segments of letters, digits and '-').
pub fn add(tx: &Tx<'_>, title: &str, path: &str, org_unit: Option<&str>) -> Result<Dossier> {
    let path = path.trim_matches('/');
    let valid = !path.is_empty()
        && path.split('/').all(|seg| {
            !seg.is_empty()
                && !seg.starts_with('@')
                && !seg.starts_with("task-")
                && seg
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        });
    if !valid {
        return Err(EngineError::invalid(format!(
            "{path:?} is not a valid dossier path"
        )));
    }
    let case_id = add_case(tx, title)?;
    tx.execute(
        "INSERT INTO dossiers (case_id, title, path, org_unit) VALUES (?1, ?2, ?3, ?4)",
        params![case_id, title, path, org_unit],
    )?;
    Ok(Dossier {
        id: tx.last_insert_rowid(),
        case_id,
        title: title.into(),
        path: path.into(),
        org_unit: org_unit.map(String::from),
    })
}

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Dossier> {
    Ok(Dossier {
        id: r.get(0)?,
        case_id: r.get(1)?,
        title: r.get(2)?,
        path: r.get(3)?,
        org_unit: r.get(4)?,
    })
}

pub fn get(conn: &Connection, id: i64) -> Result<Dossier> {
    conn.prepare_cached("SELECT id, case_id, title, path, org_unit FROM dossiers WHERE id = ?1")?
        .query_row([id], from_row)
        .optional()?
        .ok_or_else(|| EngineError::NotFound(format!("dossier {id}")))
}

pub fn by_path(conn: &Connection, path: &str) -> Result<Option<Dossier>> {
    Ok(conn
        .prepare_cached("SELECT id, case_id, title, path, org_unit FROM dossiers WHERE path = ?1")?
        .query_row([path.trim_matches('/')], from_row)
        .optional()?)
}

pub fn list(conn: &Connection) -> Result<Vec<Dossier>> {
    let mut stmt =
        conn.prepare("SELECT id, case_id, title, path, org_unit FROM dossiers ORDER BY id")?;
    let rows = stmt
        .query_map([], from_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

//! Import and export of normalized tasks as JSON, for demos, tests and
//! benchmarks. The format is documented in `docs/cli-json.md`:
//!
//! ```json
//! { "format": "tasklane-tasks", "version": 1,
//!   "accounts": [ { "name": "demo", "kind": "local", "user_name": "me" } ],
//!   "tasks": [ { "account": "demo", "key": "t1", "title": "…", "state": "open", … } ] }
//! ```
//!
//! An import is one transaction through the same upsert path sync uses:
//! a file with any error imports nothing.

use std::collections::HashSet;
use std::io::{Read, Write};

use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::{NewAccount, TaskRecord};
use crate::replica::{IngestStats, Replica, accounts, tasks};
use crate::time::now;

pub const FORMAT: &str = "tasklane-tasks";
pub const VERSION: u32 = 1;

/// A whole exchange file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    pub format: String,
    pub version: u32,
    #[serde(default)]
    pub accounts: Vec<NewAccount>,
    #[serde(default)]
    pub tasks: Vec<ExportedTask>,
}

/// A task and the name of its account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportedTask {
    pub account: String,
    #[serde(flatten)]
    pub task: TaskRecord,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportStats {
    pub accounts_created: u64,
    pub tasks: IngestStats,
}

/// Reads an exchange document and writes it into the replica, all or nothing.
pub fn import(replica: &mut Replica, input: impl Read) -> Result<ImportStats> {
    let doc: Document = serde_json::from_reader(std::io::BufReader::new(input))
        .map_err(|e| Error::Invalid(format!("not a valid tasklane task file: {e}")))?;
    import_document(replica, &doc)
}

pub fn import_document(replica: &mut Replica, doc: &Document) -> Result<ImportStats> {
    if doc.format != FORMAT {
        return Err(Error::Invalid(format!(
            "not a tasklane task file (format {:?}, expected {FORMAT:?})",
            doc.format
        )));
    }
    if doc.version != VERSION {
        return Err(Error::Invalid(format!(
            "task file version {} is not supported (this tasklane reads version {VERSION})",
            doc.version
        )));
    }
    let mut seen = HashSet::new();
    for (i, t) in doc.tasks.iter().enumerate() {
        if !seen.insert((t.account.as_str(), t.task.key.as_str())) {
            return Err(Error::Invalid(format!(
                "task #{i}: key {:?} appears twice for account {:?}",
                t.task.key, t.account
            )));
        }
    }
    // Group by account in order of first appearance, keeping file order
    // within each, so replica ids follow the file.
    let mut by_account: Vec<(&str, Vec<TaskRecord>)> = Vec::new();
    for t in &doc.tasks {
        match by_account.iter_mut().find(|(name, _)| *name == t.account) {
            Some((_, records)) => records.push(t.task.clone()),
            None => by_account.push((t.account.as_str(), vec![t.task.clone()])),
        }
    }
    let at = now();
    let stats = replica.write(|tx| {
        let mut stats = ImportStats::default();
        for new in &doc.accounts {
            match accounts::find(tx, &new.name)? {
                Some(existing) if existing.kind != new.kind => {
                    return Err(Error::Invalid(format!(
                        "account {:?} exists as a {} account, but the file says {}",
                        new.name, existing.kind, new.kind
                    )));
                }
                Some(_) => {}
                None => {
                    accounts::add(tx, new)?;
                    stats.accounts_created += 1;
                }
            }
        }
        for (name, records) in &by_account {
            let account = accounts::find(tx, name)?.ok_or_else(|| {
                Error::Invalid(format!(
                    "tasks refer to account {name:?}, which is neither in the file nor in the replica"
                ))
            })?;
            let s = tasks::upsert(tx, account.id, records, at)?;
            stats.tasks.inserted += s.inserted;
            stats.tasks.updated += s.updated;
            stats.tasks.unchanged += s.unchanged;
        }
        Ok(stats)
    })?;
    replica.catch_up_search()?;
    replica.refresh_statistics()?;
    Ok(stats)
}

/// Writes the server state of the replica's tasks (of one account, or all)
/// as an exchange document. Pending ops and tasks created offline are not
/// server state and are left out.
pub fn export(conn: &Connection, account: Option<&str>, mut out: impl Write) -> Result<u64> {
    let selected = match account {
        Some(name) => vec![accounts::get(conn, name)?],
        None => accounts::list(conn)?,
    };
    let header: Vec<NewAccount> = selected
        .iter()
        .map(|a| NewAccount {
            name: a.name.clone(),
            kind: a.kind,
            base_url: a.base_url.clone(),
            user_name: a.user_name.clone(),
            settings: a.settings.clone(),
        })
        .collect();
    write!(
        out,
        "{{\"format\":{},\"version\":{VERSION},\"accounts\":{},\"tasks\":[",
        serde_json::to_string(FORMAT)?,
        serde_json::to_string(&header)?
    )?;
    let mut written = 0u64;
    for a in &selected {
        let mut stmt = conn.prepare(
            "SELECT id FROM tasks WHERE account_id = ?1 AND local_op IS NULL AND gone = 0 ORDER BY id",
        )?;
        let ids = stmt
            .query_map([a.id], |r| r.get::<_, i64>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        for id in ids {
            let task = ExportedTask {
                account: a.name.clone(),
                task: tasks::server_record(conn, id)?,
            };
            if written > 0 {
                out.write_all(b",")?;
            }
            out.write_all(b"\n")?;
            serde_json::to_writer(&mut out, &task)?;
            written += 1;
        }
    }
    out.write_all(b"\n]}\n")?;
    out.flush()?;
    Ok(written)
}

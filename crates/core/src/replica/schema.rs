//! The replica's schema: migrations and the checks made before a file is
//! trusted.
//!
//! Migrations are the append-only SQL files in `migrations/replica/`,
//! applied by rusqlite_migration through SQLite's `user_version`. The
//! database is stamped with [`APPLICATION_ID`], so a tasklane replica can be
//! told apart from any other SQLite file before it is written to.

use std::path::Path;
use std::sync::LazyLock;

use rusqlite::{Connection, OpenFlags};
use rusqlite_migration::{M, Migrations};

use crate::error::{Error, Result, is_corruption};

/// "TLRP" — stamped into the SQLite header of every replica.
pub const APPLICATION_ID: i32 = 0x544C_5250;

const MIGRATION_SQL: &[&str] = &[
    include_str!("../../../../migrations/replica/0001_initial.sql"),
    include_str!("../../../../migrations/replica/0002_claimed_keys.sql"),
    include_str!("../../../../migrations/replica/0003_open_by_deadline.sql"),
    include_str!("../../../../migrations/replica/0004_deadline_covers_people.sql"),
    include_str!("../../../../migrations/replica/0005_deferred_indexes.sql"),
    include_str!("../../../../migrations/replica/0006_checks_compare.sql"),
    include_str!("../../../../migrations/replica/0007_people_indexes_skip_nobody.sql"),
];

/// The schema version this build writes.
pub const LATEST_VERSION: i64 = MIGRATION_SQL.len() as i64;

/// The migration (0-based) that edits tables' SQL in `sqlite_schema`.
const EDITS_SCHEMA_TEXT: usize = 5;

static MIGRATIONS: LazyLock<Migrations<'static>> =
    LazyLock::new(|| migrations_up_to(MIGRATION_SQL.len()));

/// The migrations up to and including `version`, for upgrade tests.
#[doc(hidden)]
pub fn migrations_up_to(version: usize) -> Migrations<'static> {
    Migrations::new(
        MIGRATION_SQL[..version]
            .iter()
            .enumerate()
            .map(|(i, sql)| match i {
                EDITS_SCHEMA_TEXT => M::up_with_hook(sql, reread_edited_schema),
                _ => M::up(sql),
            })
            .collect(),
    )
}

/// What migration 6 must leave in each table's SQL, and must not.
const EDITED_CHECKS: &[(&str, &str, &str)] = &[
    ("tasks", "CHECK (state = 'open' OR", "CHECK (state IN ("),
    (
        "outbox",
        "CHECK (kind = 'transition' OR",
        "CHECK (kind IN (",
    ),
    ("outbox", "CHECK (state = 'pending' OR", "CHECK (state IN ("),
];

/// Finishes migration 6 (SQLite's procedure for changing a constraint):
/// checks that every edit found its text, then bumps the schema version so
/// that every connection, this one included, parses the tables again. A
/// failure rolls the whole upgrade back.
fn reread_edited_schema(tx: &rusqlite::Transaction<'_>) -> rusqlite_migration::HookResult {
    for (table, wanted, replaced) in EDITED_CHECKS {
        let sql: String = tx.query_row(
            "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?1",
            [table],
            |r| r.get(0),
        )?;
        if !sql.contains(wanted) || sql.contains(replaced) {
            return Err(rusqlite_migration::HookError::Hook(format!(
                "the {table} table's constraint {replaced:?} was not found as written by \
                 migration 1"
            )));
        }
    }
    let version: i64 = tx.pragma_query_value(None, "schema_version", |r| r.get(0))?;
    tx.pragma_update(None, "schema_version", version + 1)?;
    // Parses the edited tables now, inside the upgrade's transaction.
    tx.query_row(
        "SELECT (SELECT count(*) FROM tasks WHERE 0) + (SELECT count(*) FROM outbox WHERE 0)",
        [],
        |r| r.get::<_, i64>(0),
    )?;
    Ok(())
}

/// Brings the schema to the latest version and stamps the application id.
pub(super) fn migrate(conn: &mut Connection) -> Result<()> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version < LATEST_VERSION {
        MIGRATIONS.to_latest(conn)?;
    }
    let app: i32 = conn.pragma_query_value(None, "application_id", |r| r.get(0))?;
    if app != APPLICATION_ID {
        conn.pragma_update(None, "application_id", APPLICATION_ID)?;
    }
    Ok(())
}

/// Checks, without writing a byte, that an existing non-empty file is a
/// tasklane replica this build can open.
pub(super) fn inspect(path: &Path) -> Result<()> {
    let corrupt = |e: rusqlite::Error| Error::Corrupt {
        path: path.to_path_buf(),
        detail: e.to_string(),
    };
    let conn =
        Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(|e| {
            if is_corruption(&e) {
                corrupt(e)
            } else {
                Error::Sqlite(e)
            }
        })?;
    // The first statement reads the header: a file that is not a database
    // fails here with SQLITE_NOTADB.
    let read = || -> rusqlite::Result<(i32, i64, i64)> {
        let app: i32 = conn.pragma_query_value(None, "application_id", |r| r.get(0))?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        let objects: i64 =
            conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))?;
        Ok((app, version, objects))
    };
    let (app, version, objects) = read().map_err(|e| {
        if is_corruption(&e) {
            corrupt(e)
        } else {
            Error::Sqlite(e)
        }
    })?;
    match app {
        APPLICATION_ID if version > LATEST_VERSION => Err(Error::NewerSchema {
            path: path.to_path_buf(),
            found: version,
            supported: LATEST_VERSION,
        }),
        APPLICATION_ID => Ok(()),
        // An SQLite file that was created but never given a schema.
        0 if objects == 0 && version == 0 => Ok(()),
        _ => Err(Error::Foreign {
            path: path.to_path_buf(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        MIGRATIONS.validate().unwrap();
    }

    /// `.cargo/config.toml`'s settings for the bundled SQLite reached it.
    #[test]
    fn sqlite_is_built_without_shared_page_caches_or_allocation_counters() {
        let conn = Connection::open_in_memory().unwrap();
        let mut stmt = conn.prepare("PRAGMA compile_options").unwrap();
        let options: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(|o| o.unwrap())
            .collect();
        assert!(
            options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"),
            "{options:?}"
        );
        assert!(
            !options.iter().any(|o| o == "ENABLE_MEMORY_MANAGEMENT"),
            "{options:?}"
        );
    }

    fn opcodes(conn: &Connection, sql: &str) -> Vec<String> {
        let mut stmt = conn.prepare(&format!("EXPLAIN {sql}")).unwrap();
        stmt.query_map([], |r| r.get(1))
            .unwrap()
            .map(|op| op.unwrap())
            .collect()
    }

    /// Migration 6: the states and kinds a row may hold are the ones they
    /// were, and writing a row builds no temporary B-tree for the check.
    #[test]
    fn edited_checks_accept_and_refuse_what_the_lists_did() {
        let replica = crate::Replica::open_in_memory().unwrap();
        let conn = replica.conn();
        conn.execute(
            "INSERT INTO accounts (id, name, kind, created_at) VALUES (1, 'a', 'local', 'now')",
            [],
        )
        .unwrap();
        let task = |key: &str, state: &str| {
            conn.execute(
                "INSERT INTO tasks (account_id, remote_key, title, state, digest, synced_at)
                 VALUES (1, ?1, 't', ?2, 0, '2026-11-24T00:00:00Z')",
                [key, state],
            )
        };
        for state in crate::model::State::ALL {
            task(state.as_str(), state.as_str()).unwrap();
        }
        for bad in ["bogus", "Open", "", "open "] {
            let e = task(&format!("x{bad}"), bad).unwrap_err();
            assert!(e.to_string().contains("CHECK"), "{bad:?}: {e}");
        }
        let op = |id: &str, kind: &str, state: &str| {
            conn.execute(
                "INSERT INTO outbox (op_id, account_id, kind, payload, state, created_at, updated_at)
                 VALUES (?1, 1, ?2, '{}', ?3, 'now', 'now')",
                [id, kind, state],
            )
        };
        let kinds = [
            "transition",
            "comment_add",
            "comment_edit",
            "comment_delete",
            "form_push",
            "quick_action",
            "allocate",
            "create_task",
        ];
        for (i, kind) in kinds.iter().enumerate() {
            for state in crate::outbox::OpState::ALL {
                op(&format!("{i}-{}", state.as_str()), kind, state.as_str()).unwrap();
            }
        }
        assert!(op("k", "claim", "pending").is_err());
        assert!(op("s", "transition", "queued").is_err());
        let e = conn
            .execute(
                "UPDATE outbox SET state = 'lost' WHERE op_id = '0-pending'",
                [],
            )
            .unwrap_err();
        assert!(e.to_string().contains("CHECK"), "{e}");

        for sql in [
            "INSERT INTO tasks (account_id, remote_key, title, state, digest, synced_at)
             VALUES (1, 'p', 't', 'open', 0, '')",
            "UPDATE outbox SET state = 'done' WHERE seq = 1",
        ] {
            let ops = opcodes(conn, sql);
            assert!(
                !ops.iter().any(|op| op == "OpenEphemeral"),
                "{sql}: {ops:?}"
            );
        }
    }
}

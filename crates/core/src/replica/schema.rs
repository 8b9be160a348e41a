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
];

/// The schema version this build writes.
pub const LATEST_VERSION: i64 = MIGRATION_SQL.len() as i64;

static MIGRATIONS: LazyLock<Migrations<'static>> =
    LazyLock::new(|| Migrations::new(MIGRATION_SQL.iter().map(|sql| M::up(sql)).collect()));

/// The migrations up to and including `version`, for upgrade tests.
#[doc(hidden)]
pub fn migrations_up_to(version: usize) -> Migrations<'static> {
    Migrations::new(
        MIGRATION_SQL[..version]
            .iter()
            .map(|sql| M::up(sql))
            .collect(),
    )
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
}

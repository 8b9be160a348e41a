//! The engine's database: one SQLite file with one writer connection
//! (serializing every change, which is what makes allocation atomic) and a
//! small pool of read-only connections (WAL lets them read concurrently).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex, MutexGuard};

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};
use rusqlite_migration::{M, Migrations};

use crate::error::{EngineError, Result};

/// "TLEN" — stamped into the SQLite header of every engine database.
pub const APPLICATION_ID: i32 = 0x544C_454E;

const MIGRATION_SQL: &[&str] = &[include_str!("../../../migrations/engine/0001_initial.sql")];

static MIGRATIONS: LazyLock<Migrations<'static>> =
    LazyLock::new(|| Migrations::new(MIGRATION_SQL.iter().map(|sql| M::up(sql)).collect()));

thread_local! {
    /// Set while this thread holds the writer connection (a write, or a read
    /// of an in-memory database, which has only that connection): using it
    /// again from inside would wait for itself forever, so it is an error.
    static HOLDING_WRITER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Holds the writer connection, marking the thread for the re-entry check.
fn hold<T>(db: &Database, f: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
    if HOLDING_WRITER.get() {
        return Err(EngineError::Database(
            "the database was used again from inside a transaction on the same thread; use the transaction".into(),
        ));
    }
    let mut conn = db.lock_writer();
    HOLDING_WRITER.set(true);
    let result = f(&mut conn);
    HOLDING_WRITER.set(false);
    result
}

/// How many read-only connections are kept for concurrent readers.
const READERS: usize = 16;

/// Prepared statements kept per connection.
const STATEMENT_CACHE: usize = 256;

/// The engine's database and its connections.
#[derive(Debug)]
pub struct Database {
    path: Option<PathBuf>,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    /// Bumped after every committed write: what is remembered from a read
    /// (see `server::listings`) holds while it stays the same.
    generation: AtomicU64,
}

impl Database {
    /// Opens (creating if needed) `engine.sqlite3` in `dir`.
    pub fn open(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join("engine.sqlite3");
        if path.exists() && std::fs::metadata(&path)?.len() > 0 {
            inspect(&path)?;
        }
        let mut writer = Connection::open(&path)?;
        configure(&writer)?;
        writer.pragma_update(None, "journal_mode", "WAL")?;
        writer.pragma_update(None, "synchronous", "FULL")?;
        MIGRATIONS.to_latest(&mut writer)?;
        writer.pragma_update(None, "application_id", APPLICATION_ID)?;
        Ok(Database {
            path: Some(path),
            writer: Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
            generation: AtomicU64::new(0),
        })
    }

    /// An engine that lives in memory (tests); reads share the writer.
    pub fn open_in_memory() -> Result<Self> {
        let mut writer = Connection::open_in_memory()?;
        configure(&writer)?;
        MIGRATIONS.to_latest(&mut writer)?;
        Ok(Database {
            path: None,
            writer: Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
            generation: AtomicU64::new(0),
        })
    }

    /// Changes after every write (see the field).
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    fn lock_writer(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave a transaction open
        // (it rolls back on drop), so a poisoned lock is still usable.
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` in one immediate transaction; commits if it returns `Ok`.
    /// All writes go through here, one at a time.
    pub fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        hold(self, |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let value = f(&tx)?;
            tx.commit()?;
            // After the commit: a reader that saw the old generation may
            // have seen the new data too, which only makes what it
            // remembers expire early.
            self.generation.fetch_add(1, Ordering::Release);
            Ok(value)
        })
    }

    /// Runs `f` on a read-only connection (in one read transaction, so it
    /// sees one consistent state).
    pub fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let Some(path) = &self.path else {
            return hold(self, |conn| f(conn));
        };
        let pooled = self.readers.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match pooled {
            Some(conn) => conn,
            None => {
                let conn = Connection::open_with_flags(
                    path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                configure(&conn)?;
                conn
            }
        };
        conn.execute_batch("BEGIN")?;
        let result = f(&conn);
        let _ = conn.execute_batch("COMMIT");
        let mut readers = self.readers.lock().unwrap_or_else(|p| p.into_inner());
        if readers.len() < READERS {
            readers.push(conn);
        }
        result
    }
}

fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "foreign_keys", true)?;
    conn.pragma_update(None, "cache_size", -16_384)?;
    // Every request runs a dozen small statements; preparing them again
    // each time cost more than running them (rusqlite keeps 16 by default).
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    rusqlite::vtab::array::load_module(conn)?;
    Ok(())
}

/// Refuses, without writing, a file that is not an engine database.
fn inspect(path: &Path) -> Result<()> {
    let describe = |what: &str| {
        EngineError::Database(format!("{} {what}; it was left untouched", path.display()))
    };
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| describe(&format!("cannot be opened ({e})")))?;
    let app: i32 = conn
        .pragma_query_value(None, "application_id", |r| r.get(0))
        .map_err(|e| describe(&format!("is not a database or is damaged ({e})")))?;
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let objects: i64 = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))?;
    match app {
        APPLICATION_ID if version > MIGRATION_SQL.len() as i64 => Err(describe(&format!(
            "was written by a newer tasklane (schema {version}, this build knows {})",
            MIGRATION_SQL.len()
        ))),
        APPLICATION_ID => Ok(()),
        0 if objects == 0 => Ok(()),
        _ => Err(describe(
            "belongs to another application, not a tasklane engine",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        MIGRATIONS.validate().unwrap();
    }

    #[test]
    fn a_foreign_file_is_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("engine.sqlite3");
        std::fs::write(&path, b"not a database at all, just some bytes .....").unwrap();
        let err = Database::open(dir.path()).unwrap_err();
        assert!(err.to_string().contains("untouched"), "{err}");
        assert_eq!(
            std::fs::read(&path).unwrap(),
            b"not a database at all, just some bytes ....."
        );
    }
}

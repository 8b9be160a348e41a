//! The local task replica: one SQLite file holding the user's tasks from
//! every account, the outbox of their pending actions, and sync bookkeeping.
//!
//! [`Replica`] owns the single writer connection (WAL, foreign keys on).
//! Functions in the submodules that write take a `&Transaction`, functions
//! that only read take a `&Connection`, so the types say which code may
//! write. Extra read-only connections for other threads come from
//! [`Replica::reader`].

pub mod accounts;
pub mod bulk;
pub mod checkpoint;
mod schema;
pub mod search;
pub mod sync_state;
pub mod tasks;

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use crate::error::{Error, Result, is_corruption};
use crate::query::{self, Page, Query};

pub use schema::{APPLICATION_ID, LATEST_VERSION, migrations_up_to};
pub use tasks::{IngestStats, TaskDetail, TaskRow};

/// Tasks indexed per transaction by [`Replica::catch_up_search`]: large
/// enough that the index is written in few segments, small enough that a
/// queued action never waits long for the writer.
pub const SEARCH_BATCH: usize = 20_000;

/// The local replica database.
#[derive(Debug)]
pub struct Replica {
    path: Option<PathBuf>,
    conn: Connection,
}

impl Replica {
    /// Opens (creating if needed) the replica at `path` and brings its schema
    /// up to date.
    ///
    /// A file that is not an SQLite database, belongs to another program or
    /// was written by a newer tasklane is refused with a clear error and left
    /// byte-for-byte untouched: it is inspected through a read-only
    /// connection before anything may write to it.
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        if path.exists() && std::fs::metadata(path)?.len() > 0 {
            schema::inspect(path)?;
        }
        let conn = Connection::open(path).map_err(|e| open_error(path, e))?;
        let mut replica = Replica {
            path: Some(path.to_path_buf()),
            conn,
        };
        replica.init().map_err(|e| match e {
            Error::Sqlite(e) if is_corruption(&e) => corrupt(path, &e),
            other => other,
        })?;
        Ok(replica)
    }

    /// A replica that lives only in memory, for tests.
    pub fn open_in_memory() -> Result<Self> {
        let mut replica = Replica {
            path: None,
            conn: Connection::open_in_memory()?,
        };
        replica.init()?;
        Ok(replica)
    }

    fn init(&mut self) -> Result<()> {
        configure(&self.conn, true)?;
        bulk::recover(&mut self.conn)?;
        schema::migrate(&mut self.conn)?;
        Ok(())
    }

    /// Where the database lives (`None` for an in-memory replica).
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The writer connection, for reads on the current thread.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Runs `f` in one immediate transaction on the writer connection and
    /// commits if it returns `Ok`; any error rolls everything back, so a
    /// write is applied whole or not at all.
    pub fn write<T>(&mut self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let value = f(&tx)?;
        tx.commit()?;
        Ok(value)
    }

    /// Gathers the query planner's statistics on the tasks' indexes
    /// (`ANALYZE`), reading every entry: a sampled ANALYZE sees only the
    /// first values of a column with few distinct values, such as the
    /// assignee, and takes "mine" for a rare condition. Without statistics
    /// SQLite guesses the same. About 0.1 s at 100,000 tasks; run after
    /// full pulls and imports, when the mix of tasks may have changed.
    /// Other connections plan with the result after
    /// [`Replica::reload_statistics`] (or when next opened).
    pub fn refresh_statistics(&mut self) -> Result<()> {
        self.write(|tx| {
            tx.execute_batch("PRAGMA analysis_limit = 0; ANALYZE tasks;")?;
            Ok(())
        })
    }

    /// Plans this connection's queries with the statistics another
    /// connection gathered since it was opened.
    pub fn reload_statistics(&self) -> Result<()> {
        self.conn.execute_batch("ANALYZE sqlite_schema")?;
        // Cached statements keep the plan they were prepared with.
        self.conn.flush_prepared_statement_cache();
        Ok(())
    }

    /// A new read-only connection to the same file, for another thread.
    pub fn reader(&self) -> Result<Connection> {
        let path = self
            .path
            .as_deref()
            .ok_or_else(|| Error::Invalid("an in-memory replica has no readers".into()))?;
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        configure(&conn, false)?;
        Ok(conn)
    }

    /// Runs a query over the effective view (server state plus pending ops).
    pub fn query(&self, q: &Query) -> Result<Vec<TaskRow>> {
        query::run(&self.conn, q)
    }

    /// The ids of all matches of a query in order, ignoring its paging, at
    /// most `limit`.
    pub fn ids(&self, q: &Query, limit: u32) -> Result<Vec<i64>> {
        query::all_ids(&self.conn, q, limit)
    }

    /// How many tasks a query matches, ignoring its paging.
    pub fn count(&self, q: &Query) -> Result<u64> {
        query::count(&self.conn, q)
    }

    /// A page of results together with the total count.
    pub fn page(&self, q: &Query) -> Result<Page> {
        Ok(Page {
            total: self.count(q)?,
            start: q.start,
            tasks: self.query(q)?,
        })
    }

    /// Brings the search index up to date with every task written since the
    /// last catch-up, in batches of [`SEARCH_BATCH`] per transaction so
    /// that other writers wait at most one batch. Returns how many tasks
    /// were indexed.
    pub fn catch_up_search(&mut self) -> Result<usize> {
        let mut total = 0;
        loop {
            let n = self.write(|tx| search::catch_up(tx, SEARCH_BATCH))?;
            total += n;
            if n < SEARCH_BATCH {
                break;
            }
        }
        if total >= SEARCH_BATCH {
            self.optimize_search()?;
        }
        Ok(total)
    }

    /// Merges the search index into one segment: searches then read one
    /// doclist per term instead of one per segment.
    pub fn optimize_search(&mut self) -> Result<()> {
        self.write(search::optimize)
    }

    /// One task with its comments, history, offered actions and pending ops.
    pub fn task(&self, id: i64) -> Result<TaskDetail> {
        tasks::detail(&self.conn, id)
    }
}

/// The size (bytes) the write-ahead log is cut back to after a complete
/// checkpoint; see [`configure`].
pub(crate) const LOG_SIZE_LIMIT: i64 = 32 << 20;

/// Connection settings every tasklane connection shares.
fn configure(conn: &Connection, writer: bool) -> Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.pragma_update(None, "foreign_keys", true)?;
    if writer {
        // Only switch when needed: opening an existing replica must not
        // write a byte, so that a damaged file stays as it was found.
        let mode: String = conn.pragma_query_value(None, "journal_mode", |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            conn.pragma_update(None, "journal_mode", "WAL")?;
        }
        // FULL rather than WAL's usual NORMAL: a queued action must survive a
        // power cut the moment the UI says it was queued. Commits are few
        // (ingest is batched), so the extra fsync is cheap.
        conn.pragma_update(None, "synchronous", "FULL")?;
        // SQLite reuses its log file rather than shrinking it, so a first
        // sync left a log of about 100 MB beside a 100,000-task replica for
        // as long as the app stayed open. Past this size the log is cut
        // back when it next starts over (after a complete checkpoint). A
        // merge transaction writes about 10 MB, so everyday writes never
        // grow it again.
        conn.pragma_update(None, "journal_size_limit", LOG_SIZE_LIMIT)?;
    }
    // Enough page cache to keep the narrow `tasks` table and its indexes
    // of a 100,000-task replica in memory (in KiB; allocated only as used).
    conn.pragma_update(None, "cache_size", if writer { -65_536 } else { -32_768 })?;
    // Syncing runs a few dozen distinct statements over and over;
    // rusqlite keeps 16 prepared by default, too few to stop re-preparing.
    conn.set_prepared_statement_cache_capacity(256);
    search::register_functions(conn)?;
    rusqlite::vtab::array::load_module(conn)?;
    Ok(())
}

fn open_error(path: &Path, e: rusqlite::Error) -> Error {
    if is_corruption(&e) {
        corrupt(path, &e)
    } else {
        Error::Sqlite(e)
    }
}

fn corrupt(path: &Path, e: &rusqlite::Error) -> Error {
    Error::Corrupt {
        path: path.to_path_buf(),
        detail: e.to_string(),
    }
}

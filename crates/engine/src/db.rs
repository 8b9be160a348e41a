//! The engine's database: one SQLite file with one writer connection
//! (serializing every change, which is what makes allocation atomic) and a
//! small pool of read-only connections (WAL lets them read concurrently).
//!
//! Writes share commits. Every answered change must be durable before its
//! answer leaves (`synchronous = FULL`: an fsync per commit), and with
//! several requests in flight that fsync, not the work, was what the writer
//! spent its time on. So a write that finishes while others wait for the
//! writer leaves its transaction open for them and waits: the last of the
//! group commits everyone's changes at once, and only then does any of
//! them return. Each write runs in its own savepoint, so one that fails
//! rolls back only its own changes; a commit that fails fails every write
//! of the group, none of which has answered yet.

use std::collections::HashMap;
use std::ops::Deref;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, LazyLock, Mutex, MutexGuard};

use rusqlite::{Connection, OpenFlags};
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

/// How many read-only connections are kept for concurrent readers.
const READERS: usize = 16;

/// Prepared statements kept per connection.
const STATEMENT_CACHE: usize = 256;

/// At most this many writes share one commit, so that the first of a group
/// waits a bounded time however busy the writer is.
const GROUP_LIMIT: usize = 32;

/// One write in progress, inside the write transaction of its group. It
/// reads and writes like the connection it wraps; committing and rolling
/// back are the database's business.
#[derive(Debug)]
pub struct Tx<'c> {
    conn: &'c Connection,
}

impl Deref for Tx<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        self.conn
    }
}

/// The writer connection and the group of writes its open transaction
/// holds.
#[derive(Debug)]
struct Writer {
    conn: Connection,
    /// The open group: its number and how many writes it holds.
    open: Option<(u64, usize)>,
    next_group: u64,
    /// Every group up to this number has committed or failed.
    settled: u64,
    /// Why a settled group failed, with how many of its writes have not
    /// learnt it yet.
    failed: HashMap<u64, (String, usize)>,
}

/// The engine's database and its connections.
#[derive(Debug)]
pub struct Database {
    path: Option<PathBuf>,
    writer: Mutex<Writer>,
    /// Signalled whenever a group settles.
    settled: Condvar,
    /// Writes waiting for the writer connection: while there are any, a
    /// finished write leaves its group open for them.
    queued: AtomicUsize,
    readers: Mutex<Vec<Connection>>,
    /// Bumped after every committed write: what is remembered from a read
    /// (see `server::listings`) holds while it stays the same.
    generation: AtomicU64,
}

/// The size (bytes) the write-ahead log is cut back to once checkpointed.
const LOG_SIZE_LIMIT: i64 = 32 << 20;

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
        // SQLite reuses its log rather than shrinking it: one large write
        // (an import, a bulk load) would leave a log that size on disk for
        // as long as the server runs. Past this it is cut back when it
        // starts over.
        writer.pragma_update(None, "journal_size_limit", LOG_SIZE_LIMIT)?;
        MIGRATIONS.to_latest(&mut writer)?;
        writer.pragma_update(None, "application_id", APPLICATION_ID)?;
        Ok(Database::with(Some(path), writer))
    }

    /// An engine that lives in memory (tests); reads share the writer.
    pub fn open_in_memory() -> Result<Self> {
        let mut writer = Connection::open_in_memory()?;
        configure(&writer)?;
        MIGRATIONS.to_latest(&mut writer)?;
        Ok(Database::with(None, writer))
    }

    fn with(path: Option<PathBuf>, conn: Connection) -> Self {
        Database {
            path,
            writer: Mutex::new(Writer {
                conn,
                open: None,
                next_group: 1,
                settled: 0,
                failed: HashMap::new(),
            }),
            settled: Condvar::new(),
            queued: AtomicUsize::new(0),
            readers: Mutex::new(Vec::new()),
            generation: AtomicU64::new(0),
        }
    }

    /// Changes after every write (see the field).
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    fn lock_writer(&self) -> MutexGuard<'_, Writer> {
        // Every path that can panic while holding the lock rolls its
        // transaction back first, so a poisoned lock is still usable.
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Holds the writer connection, marking the thread for the re-entry
    /// check.
    fn hold(&self) -> Result<MutexGuard<'_, Writer>> {
        if HOLDING_WRITER.get() {
            return Err(EngineError::Database(
                "the database was used again from inside a transaction on the same thread; use the transaction".into(),
            ));
        }
        self.queued.fetch_add(1, Ordering::AcqRel);
        let writer = self.lock_writer();
        self.queued.fetch_sub(1, Ordering::AcqRel);
        HOLDING_WRITER.set(true);
        Ok(writer)
    }

    /// Runs `f` as one atomic change: all of it is applied and durable when
    /// this returns `Ok`, none of it when `f` fails. All writes go through
    /// here, one at a time (see the module for how they share commits).
    pub fn write<T>(&self, f: impl FnOnce(&Tx<'_>) -> Result<T>) -> Result<T> {
        let mut w = self.hold()?;
        let held = self.write_held(&mut w, f);
        HOLDING_WRITER.set(false);
        match held {
            Held::Settled(result) => result,
            Held::InGroup(group, value) => {
                while w.settled < group {
                    w = self.settled.wait(w).unwrap_or_else(|p| p.into_inner());
                }
                match w.failed.get_mut(&group) {
                    None => Ok(value),
                    Some((why, untold)) => {
                        let e = EngineError::Database(why.clone());
                        *untold -= 1;
                        if *untold == 0 {
                            w.failed.remove(&group);
                        }
                        Err(e)
                    }
                }
            }
            Held::Panicked(panic) => {
                drop(w);
                resume_unwind(panic)
            }
        }
    }

    /// Runs `f` in the open group (opening one if needed), then leaves the
    /// group open for the writes queued behind it or commits it.
    fn write_held<T>(&self, w: &mut Writer, f: impl FnOnce(&Tx<'_>) -> Result<T>) -> Held<T> {
        let (group, members) = match w.open {
            Some(open) => open,
            None => {
                if let Err(e) = run(&w.conn, "BEGIN IMMEDIATE") {
                    return Held::Settled(Err(e));
                }
                w.next_group += 1;
                (w.next_group - 1, 0)
            }
        };
        w.open = Some((group, members));
        if let Err(e) = run(&w.conn, "SAVEPOINT write") {
            self.abort(w, members, &e);
            return Held::Settled(Err(e));
        }
        let result = match catch_unwind(AssertUnwindSafe(|| f(&Tx { conn: &w.conn }))) {
            Ok(result) => result,
            Err(panic) => {
                self.abort(
                    w,
                    members,
                    &EngineError::Database("a write panicked".into()),
                );
                return Held::Panicked(panic);
            }
        };
        // Keep this write's changes, or undo them and only them.
        let ended = match &result {
            Ok(_) => run(&w.conn, "RELEASE write"),
            Err(_) => {
                run(&w.conn, "ROLLBACK TO write").and_then(|()| run(&w.conn, "RELEASE write"))
            }
        };
        if let Err(e) = ended {
            self.abort(w, members, &e);
            return Held::Settled(Err(result.err().unwrap_or(e)));
        }
        let members = members + usize::from(result.is_ok());
        w.open = Some((group, members));
        let grouping = self.path.is_some() && members < GROUP_LIMIT;
        if grouping && self.queued.load(Ordering::Acquire) > 0 {
            // A write queued behind this one will commit the group (or
            // leave it to the next); this one has nothing to undo.
            return match result {
                Ok(value) => Held::InGroup(group, value),
                Err(e) => Held::Settled(Err(e)),
            };
        }
        let committed = if members == 0 {
            // Only failed writes: nothing to keep.
            run(&w.conn, "ROLLBACK")
        } else {
            run(&w.conn, "COMMIT")
        };
        let waiting = members - usize::from(result.is_ok());
        match committed {
            Ok(()) => {
                w.open = None;
                self.settle(w, group);
                if members > 0 {
                    // After the commit: a reader that saw the old
                    // generation may have seen the new data too, which only
                    // makes what it remembers expire early.
                    self.generation.fetch_add(1, Ordering::Release);
                }
                Held::Settled(result)
            }
            Err(e) => {
                self.abort(w, waiting, &e);
                Held::Settled(Err(result.err().unwrap_or(e)))
            }
        }
    }

    /// Rolls the open group back: its `waiting` writes (those that
    /// finished and wait for the commit) learn that it failed, and why.
    fn abort(&self, w: &mut Writer, waiting: usize, why: &EngineError) {
        if !w.conn.is_autocommit() {
            // Failing too means the connection lost the transaction itself.
            let _ = run(&w.conn, "ROLLBACK");
        }
        let Some((group, _)) = w.open.take() else {
            return;
        };
        if waiting > 0 {
            let why = format!("the change could not be saved: {why}");
            w.failed.insert(group, (why, waiting));
        }
        self.settle(w, group);
    }

    fn settle(&self, w: &mut Writer, group: u64) {
        w.settled = group;
        self.settled.notify_all();
    }

    /// Runs `f` on a read-only connection (in one read transaction, so it
    /// sees one consistent state).
    pub fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let Some(path) = &self.path else {
            // In memory, the writer is the only connection (and never
            // leaves a group open: see `write_held`).
            let w = self.hold()?;
            let result = f(&w.conn);
            HOLDING_WRITER.set(false);
            return result;
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
        run(&conn, "BEGIN")?;
        let result = f(&conn);
        let _ = run(&conn, "COMMIT");
        let mut readers = self.readers.lock().unwrap_or_else(|p| p.into_inner());
        if readers.len() < READERS {
            readers.push(conn);
        }
        result
    }
}

/// Where a write stands when it lets go of the writer.
enum Held<T> {
    /// Committed, rolled back, or failed: this is the answer.
    Settled(Result<T>),
    /// Applied in this group, which a later write will commit.
    InGroup(u64, T),
    /// `f` panicked; its group was rolled back.
    Panicked(Box<dyn std::any::Any + Send>),
}

/// Runs one statement without parameters, keeping it prepared: BEGIN,
/// COMMIT and the savepoints run for every write.
fn run(conn: &Connection, sql: &str) -> Result<()> {
    conn.prepare_cached(sql)?.execute([])?;
    Ok(())
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

    /// A database on disk (grouping is for durable commits) with a table
    /// `t (n)`, where `n` is checked by a deferred foreign key on `p`.
    fn scratch() -> (tempfile::TempDir, Database) {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::open(dir.path()).unwrap();
        db.write(|tx| {
            tx.execute_batch(
                "CREATE TABLE p (n INTEGER PRIMARY KEY);
                 INSERT INTO p VALUES (1), (2), (3);
                 CREATE TABLE t (n INTEGER REFERENCES p (n) DEFERRABLE INITIALLY DEFERRED);",
            )?;
            Ok(())
        })
        .unwrap();
        (dir, db)
    }

    #[test]
    fn a_large_log_is_cut_back_after_the_next_write() {
        let (dir, db) = scratch();
        let log = || {
            std::fs::metadata(dir.path().join("engine.sqlite3-wal"))
                .unwrap()
                .len()
        };
        let rows = LOG_SIZE_LIMIT * 3 / 2 / 4000;
        db.write(|tx| {
            tx.execute_batch("CREATE TABLE filler (b BLOB)")?;
            tx.execute(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
                 INSERT INTO filler SELECT randomblob(4000) FROM n",
                [rows],
            )?;
            Ok(())
        })
        .unwrap();
        let grown = log();
        assert!(grown > LOG_SIZE_LIMIT as u64, "{grown}");
        // That commit checkpointed the log (past 1,000 pages); the next
        // one starts it over and cuts it back.
        db.write(|tx| {
            tx.execute("INSERT INTO p VALUES (4)", [])?;
            Ok(())
        })
        .unwrap();
        assert!(log() <= LOG_SIZE_LIMIT as u64, "{}", log());
        let kept: i64 = db
            .read(|c| Ok(c.query_row("SELECT count(*) FROM filler", [], |r| r.get(0))?))
            .unwrap();
        assert_eq!(kept, rows);
    }

    fn rows(db: &Database) -> Vec<i64> {
        db.read(|c| {
            let mut stmt = c.prepare("SELECT n FROM t ORDER BY n")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .unwrap()
    }

    fn insert(tx: &Tx<'_>, n: i64) -> Result<()> {
        tx.execute("INSERT INTO t VALUES (?1)", [n])?;
        Ok(())
    }

    /// Runs `first` (a write that inserts 1 and then waits until a second
    /// write queues behind it) and `second` on another thread, and returns
    /// both answers: the second write decides the fate of their group.
    fn grouped<T: Send>(
        db: &Database,
        second: impl FnOnce(&Tx<'_>) -> Result<T> + Send,
    ) -> (Result<()>, std::thread::Result<Result<T>>) {
        let first_inside = std::sync::atomic::AtomicBool::new(false);
        let first_answered = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|s| {
            let first = s.spawn(|| {
                let answer = db.write(|tx| {
                    insert(tx, 1)?;
                    first_inside.store(true, Ordering::Release);
                    while db.queued.load(Ordering::Acquire) == 0 {
                        std::thread::yield_now();
                    }
                    Ok(())
                });
                first_answered.store(true, Ordering::Release);
                answer
            });
            let second = s.spawn(|| {
                while !first_inside.load(Ordering::Acquire) {
                    std::thread::yield_now();
                }
                // Queued while the first write holds the writer.
                db.write(|tx| {
                    assert!(
                        !first_answered.load(Ordering::Acquire),
                        "the first write answered before its group was committed"
                    );
                    second(tx)
                })
            });
            (first.join().unwrap(), second.join())
        })
    }

    #[test]
    fn a_write_that_finishes_while_another_waits_is_committed_with_it() {
        let (_dir, db) = scratch();
        let generation = db.generation();
        let group = db.lock_writer().next_group;
        let (first, second) = grouped(&db, |tx| insert(tx, 2));
        first.unwrap();
        second.unwrap().unwrap();
        assert_eq!(rows(&db), [1, 2]);
        assert_eq!(
            db.lock_writer().next_group,
            group + 1,
            "one commit for both"
        );
        assert!(db.generation() > generation);
    }

    #[test]
    fn a_failed_write_in_a_group_undoes_only_its_own_changes() {
        let (_dir, db) = scratch();
        let (first, second) = grouped(&db, |tx| -> Result<()> {
            insert(tx, 2)?;
            Err(EngineError::invalid("refused"))
        });
        first.unwrap();
        assert!(second.unwrap().unwrap_err().to_string().contains("refused"));
        assert_eq!(rows(&db), [1]);
        // The writer is free and outside any transaction again.
        db.write(|tx| insert(tx, 3)).unwrap();
        assert_eq!(rows(&db), [1, 3]);
    }

    #[test]
    fn a_commit_that_fails_fails_every_write_of_the_group_and_keeps_nothing() {
        let (_dir, db) = scratch();
        // 9 has no parent: the deferred key fails the group's commit.
        let (first, second) = grouped(&db, |tx| insert(tx, 9));
        let first = first.unwrap_err().to_string();
        assert!(first.contains("could not be saved"), "{first}");
        assert!(second.unwrap().is_err());
        assert_eq!(rows(&db), Vec::<i64>::new());
        db.write(|tx| insert(tx, 2)).unwrap();
        assert_eq!(rows(&db), [2]);
    }

    #[test]
    fn a_write_that_panics_rolls_its_group_back_and_the_writer_stays_usable() {
        let (_dir, db) = scratch();
        let (first, second) = grouped(&db, |tx| -> Result<()> {
            insert(tx, 2)?;
            panic!("a bug in a write");
        });
        assert!(
            first
                .unwrap_err()
                .to_string()
                .contains("could not be saved")
        );
        assert!(second.is_err(), "the panic reaches its own caller");
        assert_eq!(rows(&db), Vec::<i64>::new());
        db.write(|tx| insert(tx, 3)).unwrap();
        assert_eq!(rows(&db), [3]);
    }

    #[test]
    fn many_concurrent_writers_all_land_exactly_once() {
        let (_dir, db) = scratch();
        std::thread::scope(|s| {
            for thread in 0..8 {
                let db = &db;
                s.spawn(move || {
                    for i in 0..50 {
                        // Every third write fails after inserting.
                        let n = thread * 50 + i;
                        let answer = db.write(|tx| {
                            tx.execute("INSERT INTO p VALUES (?1 + 100)", [n])?;
                            insert(tx, n + 100)?;
                            if n % 3 == 0 {
                                return Err(EngineError::invalid("every third"));
                            }
                            Ok(())
                        });
                        assert_eq!(answer.is_err(), n % 3 == 0, "write {n}: {answer:?}");
                    }
                });
            }
        });
        let expected: Vec<i64> = (0..400).filter(|n| n % 3 != 0).map(|n| n + 100).collect();
        assert_eq!(rows(&db), expected);
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

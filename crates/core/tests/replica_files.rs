//! Opening replica files that are damaged, foreign or from the future:
//! always a clear error naming the file, and the file left byte for byte.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension};
use tasklane_core::model::{AccountKind, NewAccount, State, TaskRecord};
use tasklane_core::replica::{self, APPLICATION_ID, LATEST_VERSION};
use tasklane_core::{Error, ErrorKind, Query, Replica};

fn bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

/// A digest of the file, so that a failed comparison does not print megabytes.
fn digest(path: &Path) -> (usize, u64) {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let data = bytes(path);
    let mut h = DefaultHasher::new();
    data.hash(&mut h);
    (data.len(), h.finish())
}

fn filled_replica(dir: &Path) -> PathBuf {
    let path = dir.join("replica.sqlite3");
    let mut r = Replica::open(&path).unwrap();
    let records: Vec<TaskRecord> = tasklane_core::synthetic::tasks(2_000, 1);
    r.write(|tx| {
        let a =
            replica::accounts::add(tx, &NewAccount::new("work", AccountKind::Local).user("me"))?;
        replica::tasks::upsert(tx, a.id, &records, tasklane_core::time::now())
    })
    .unwrap();
    drop(r);
    path
}

fn assert_refused(path: &Path, kind_check: impl Fn(&Error) -> bool) {
    let before = digest(path);
    let err = Replica::open(path).unwrap_err();
    assert!(kind_check(&err), "unexpected error: {err:?}");
    assert_eq!(err.kind(), ErrorKind::Corrupt);
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "the message names the file: {err}"
    );
    assert!(err.to_string().contains("untouched"), "{err}");
    assert_eq!(digest(path), before, "the file is unchanged");
    assert!(
        !path.with_extension("sqlite3-wal").exists(),
        "no WAL was created"
    );
}

#[test]
fn a_file_that_is_not_a_database_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("replica.sqlite3");
    let mut noise = Vec::new();
    let mut rng = fastrand::Rng::with_seed(3);
    for _ in 0..50_000 {
        noise.push(rng.u8(..));
    }
    std::fs::write(&path, &noise).unwrap();
    assert_refused(&path, |e| matches!(e, Error::Corrupt { .. }));
    std::fs::write(&path, b"tasks: buy milk\n").unwrap();
    assert_refused(&path, |e| matches!(e, Error::Corrupt { .. }));
}

#[test]
fn another_programs_database_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("replica.sqlite3");
    let c = Connection::open(&path).unwrap();
    c.execute_batch("CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT); INSERT INTO moz_places (url) VALUES ('x');")
        .unwrap();
    drop(c);
    assert_refused(&path, |e| matches!(e, Error::Foreign { .. }));
}

#[test]
fn a_replica_from_a_newer_tasklane_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = filled_replica(dir.path());
    let c = Connection::open(&path).unwrap();
    c.pragma_update(None, "user_version", LATEST_VERSION + 1)
        .unwrap();
    c.pragma_update(None, "journal_mode", "DELETE").unwrap();
    drop(c);
    let before = digest(&path);
    let err = Replica::open(&path).unwrap_err();
    assert!(
        matches!(err, Error::NewerSchema { found, .. } if found == LATEST_VERSION + 1),
        "{err:?}"
    );
    assert!(err.to_string().contains("newer tasklane"), "{err}");
    assert_eq!(digest(&path), before);
}

#[test]
fn a_truncated_replica_is_refused_or_reported_corrupt_without_changes() {
    let dir = tempfile::tempdir().unwrap();
    // A replica as tasklane leaves it (WAL mode, checkpointed on close).
    let path = filled_replica(dir.path());
    let full = bytes(&path);
    std::fs::write(&path, &full[..full.len() / 3]).unwrap();
    let before = digest(&path);
    // Depending on what survived, opening fails or the first read does;
    // either way the error says the file is damaged and nothing is written.
    let outcome =
        Replica::open(&path).and_then(|r| r.query(&Query::default().page(0, 10_000)).map(|_| ()));
    let err = outcome.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    assert_eq!(digest(&path), before);
}

#[test]
fn damage_inside_the_file_is_reported_as_corruption_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = filled_replica(dir.path());
    let mut data = bytes(&path);
    // Scribble over pages in the middle, leaving the header intact.
    let page = 4096;
    for p in (data.len() / page / 3)..(data.len() / page * 2 / 3) {
        for b in &mut data[p * page..p * page + 64] {
            *b = 0xA5;
        }
    }
    std::fs::write(&path, &data).unwrap();
    let before = digest(&path);
    let result = Replica::open(&path).and_then(|r| {
        let q = Query::default().search("審核").page(0, 10_000);
        r.query(&q)?;
        r.query(&Query::default().page(0, 10_000))?;
        Ok(())
    });
    let err = result.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    assert_eq!(digest(&path), before, "the damaged file was not modified");
}

#[test]
fn an_empty_file_becomes_a_new_replica() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("replica.sqlite3");
    std::fs::write(&path, b"").unwrap();
    let r = Replica::open(&path).unwrap();
    let app: i32 = r
        .conn()
        .pragma_query_value(None, "application_id", |r| r.get(0))
        .unwrap();
    assert_eq!(app, APPLICATION_ID);
    let mode: String = r
        .conn()
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let fk: bool = r
        .conn()
        .pragma_query_value(None, "foreign_keys", |r| r.get(0))
        .unwrap();
    assert!(fk);
}

#[test]
fn a_replica_reopens_with_its_data_and_readers_see_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = filled_replica(dir.path());
    let r = Replica::open(&path).unwrap();
    assert_eq!(r.count(&Query::default()).unwrap(), 2_000 - count_gone(&r));
    let reader = r.reader().unwrap();
    let n: i64 = reader
        .query_row("SELECT count(*) FROM tasks", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 2_000);
    let err = reader.execute("DELETE FROM tasks", []).unwrap_err();
    assert!(err.to_string().contains("readonly"), "{err}");
    let q = Query::default().filter(
        tasklane_core::query::Column::State,
        tasklane_core::query::Op::Eq,
        State::Open,
    );
    assert!(r.count(&q).unwrap() > 0);
}

fn count_gone(r: &Replica) -> u64 {
    r.conn()
        .query_row("SELECT count(*) FROM tasks WHERE gone = 1", [], |r| {
            r.get::<_, i64>(0)
        })
        .unwrap() as u64
}

fn task_indexes(conn: &Connection) -> Vec<String> {
    conn.prepare(
        "SELECT sql FROM sqlite_master
         WHERE type = 'index' AND tbl_name = 'tasks' AND sql IS NOT NULL ORDER BY name",
    )
    .unwrap()
    .query_map([], |r| r.get(0))
    .unwrap()
    .collect::<rusqlite::Result<_>>()
    .unwrap()
}

/// FTS5's `automerge` setting of the search index, if ever set.
fn automerge(conn: &Connection) -> Option<i64> {
    conn.query_row(
        "SELECT v FROM task_search_config WHERE k = 'automerge'",
        [],
        |r| r.get(0),
    )
    .optional()
    .unwrap()
}

#[test]
fn a_first_sync_killed_with_the_inbox_indexes_set_aside_gets_them_back_on_opening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("replica.sqlite3");
    let mut r = Replica::open(&path).unwrap();
    let before = task_indexes(r.conn());
    assert!(r.write(replica::bulk::defer_indexes).unwrap());
    let records = tasklane_core::synthetic::tasks(300, 2);
    r.write(|tx| {
        let a = replica::accounts::add(tx, &NewAccount::new("work", AccountKind::Local))?;
        replica::tasks::upsert(tx, a.id, &records, tasklane_core::time::now())
    })
    .unwrap();
    // The process dies here: nothing restores the indexes, nor the search
    // index's merging.
    drop(r);
    let plain = Connection::open(&path).unwrap();
    assert!(task_indexes(&plain).is_empty());
    assert_eq!(automerge(&plain), Some(0));
    drop(plain);

    let r = Replica::open(&path).unwrap();
    assert_eq!(task_indexes(r.conn()), before);
    assert_eq!(automerge(r.conn()), Some(4));
    let waiting: i64 = r
        .conn()
        .query_row("SELECT count(*) FROM deferred_indexes", [], |r| r.get(0))
        .unwrap();
    assert_eq!(waiting, 0);
    let q = Query::default().filter(
        tasklane_core::query::Column::State,
        tasklane_core::query::Op::Eq,
        State::Open,
    );
    let open = records.iter().filter(|t| t.state == State::Open).count();
    assert_eq!(r.count(&q).unwrap(), open as u64);
}

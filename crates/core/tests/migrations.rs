//! Schema upgrades against frozen databases made by every earlier version.
//!
//! `tests/fixtures/replica/vN.sqlite3` is a replica written by schema
//! version N and then never touched again. For every fixture this checks
//! that (a) migrations 1..N still produce exactly the fixture's schema, so
//! a released migration was not edited, and (b) today's tasklane opens the
//! fixture, upgrades it and reads all of its data. When a migration N+1 is
//! added, freeze vN first:
//!
//! ```sh
//! TASKLANE_FREEZE_FIXTURE=1 cargo test -p tasklane-core --test migrations -- --ignored
//! ```

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::path::PathBuf;

use rusqlite::Connection;
use tasklane_core::model::{
    AccountKind, Action, Comment, HistoryEntry, NewAccount, State, TaskRecord,
};
use tasklane_core::outbox::{self, OpRequest};
use tasklane_core::replica::{self, LATEST_VERSION, migrations_up_to};
use tasklane_core::{Query, Replica};

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/replica")
}

fn fixtures() -> Vec<(usize, PathBuf)> {
    let mut found: Vec<(usize, PathBuf)> = std::fs::read_dir(fixture_dir())
        .unwrap()
        .filter_map(|e| {
            let path = e.ok()?.path();
            let name = path.file_name()?.to_str()?;
            let v = name
                .strip_prefix('v')?
                .strip_suffix(".sqlite3")?
                .parse()
                .ok()?;
            Some((v, path))
        })
        .collect();
    found.sort();
    found
}

fn schema(conn: &Connection) -> Vec<(String, String, Option<String>)> {
    let mut stmt = conn
        .prepare("SELECT type, name, sql FROM sqlite_master ORDER BY type, name")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn there_is_a_frozen_fixture_for_every_earlier_version() {
    let versions: Vec<usize> = fixtures().into_iter().map(|(v, _)| v).collect();
    let expected: Vec<usize> = (1..=LATEST_VERSION as usize).collect();
    // The latest version's fixture is frozen when the next migration comes;
    // until then every earlier one must be there.
    for v in 1..LATEST_VERSION as usize {
        assert!(
            versions.contains(&v),
            "tests/fixtures/replica/v{v}.sqlite3 is missing"
        );
    }
    assert!(
        versions.iter().all(|v| expected.contains(v)),
        "a fixture is newer than this build: {versions:?}"
    );
    assert!(!versions.is_empty(), "at least v1 is frozen");
}

#[test]
fn released_migrations_still_produce_the_frozen_schemas() {
    for (version, path) in fixtures() {
        let frozen =
            Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
        let mut fresh = Connection::open_in_memory().unwrap();
        migrations_up_to(version).to_latest(&mut fresh).unwrap();
        assert_eq!(
            schema(&fresh),
            schema(&frozen),
            "migrations 1..={version} no longer create the schema of v{version}: was a released migration edited?"
        );
    }
}

#[test]
fn every_frozen_version_upgrades_with_its_data() {
    for (version, path) in fixtures() {
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join("replica.sqlite3");
        std::fs::copy(&path, &copy).unwrap();
        let r = Replica::open(&copy).unwrap_or_else(|e| panic!("v{version}: {e}"));
        let v: i64 = r
            .conn()
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, LATEST_VERSION, "v{version} upgraded");
        let fresh = Replica::open_in_memory().unwrap();
        assert_eq!(
            schema(r.conn()),
            schema(fresh.conn()),
            "v{version} upgrades to the schema a new replica gets"
        );
        let check: String = r
            .conn()
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok", "v{version}");
        let all = r.query(&Query::default().page(0, 100)).unwrap();
        assert_eq!(all.len(), 3, "v{version}: every task is there");
        let found = r.query(&Query::default().search("審核")).unwrap();
        assert_eq!(found.len(), 1, "v{version}: search still works");
        let pending = all.iter().find(|t| t.key == "gever-1").unwrap();
        assert_eq!(
            pending.state,
            State::InProgress,
            "v{version}: the pending effect survived"
        );
        assert_eq!(pending.server_state, State::Open);
        let detail = r.task(pending.id).unwrap();
        assert_eq!(detail.comments.len(), 1);
        assert_eq!(detail.history.len(), 1);
        assert_eq!(detail.actions.len(), 1);
        assert_eq!(detail.ops.len(), 1);
        assert_eq!(replica::accounts::list(r.conn()).unwrap().len(), 2);
    }
}

/// Writes the fixture for the current schema version. Run it (see the
/// module docs) right before adding the next migration, then commit the file.
#[test]
#[ignore]
fn freeze_fixture_for_current_version() {
    if std::env::var_os("TASKLANE_FREEZE_FIXTURE").is_none() {
        return;
    }
    let path = fixture_dir().join(format!("v{LATEST_VERSION}.sqlite3"));
    assert!(!path.exists(), "{} is frozen already", path.display());
    std::fs::create_dir_all(fixture_dir()).unwrap();
    let mut r = Replica::open(&path).unwrap();
    let now = tasklane_core::time::now();
    r.write(|tx| {
        let gever = replica::accounts::add(
            tx,
            &NewAccount {
                name: "gever".into(),
                kind: AccountKind::Gever,
                base_url: "https://gever.example/gever".into(),
                user_name: "hans.muster".into(),
                settings: Default::default(),
            },
        )?;
        let omflow = replica::accounts::add(
            tx,
            &NewAccount {
                name: "omflow".into(),
                kind: AccountKind::Omflow,
                base_url: "https://omflow.example".into(),
                user_name: "wang".into(),
                settings: serde_json::json!({"time_zone": "Asia/Taipei"})
                    .as_object()
                    .unwrap()
                    .clone(),
            },
        )?;
        let mut t1 = TaskRecord::new("gever-1", "Vertrag prüfen", State::Open);
        t1.assignee = Some("hans.muster".into());
        t1.deadline = Some("2026-12-01".parse().unwrap());
        t1.comments = Some(vec![Comment {
            remote_id: "1569875801956269".into(),
            author: Some("peter.meier".into()),
            text: "Bitte rasch anschauen.".into(),
            created: Some("2019-05-21T13:57:42Z".parse().unwrap()),
            modified: None,
        }]);
        t1.history = Some(vec![HistoryEntry {
            remote_id: Some("1".into()),
            at: Some("2019-05-21T13:57:42Z".parse().unwrap()),
            actor: Some("zopemaster".into()),
            action: "task-commented".into(),
            text: "Lorem ipsum.".into(),
            changes: serde_json::json!([]),
        }]);
        t1.actions = Some(vec![Action {
            id: "task-transition-open-in-progress".into(),
            label: "Akzeptieren".into(),
            to_state: Some(State::InProgress),
            params: vec![],
        }]);
        let t2 = TaskRecord::new("gever-2", "Report quarterly", State::Resolved);
        replica::tasks::upsert(tx, gever.id, &[t1, t2], now)?;
        let t3 = TaskRecord::new(
            "67d4cf9a49cd434190dab899eb0219b1:1:FITEM_7",
            "審核通過的請款單",
            State::Open,
        );
        replica::tasks::upsert(tx, omflow.id, &[t3], now)?;
        let id = replica::tasks::id_by_key(tx, gever.id, "gever-1")?.unwrap();
        outbox::queue(
            tx,
            gever.id,
            Some(id),
            OpRequest::Transition {
                transition: "task-transition-open-in-progress".into(),
                text: Some("Wird gemacht".into()),
                params: Default::default(),
            },
            now,
        )?;
        replica::sync_state::record_success(tx, gever.id, Some("2026-11-22T08:00:00"), true, now)?;
        Ok(())
    })
    .unwrap();
    r.conn()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE); VACUUM;")
        .unwrap();
    r.conn()
        .pragma_update(None, "journal_mode", "DELETE")
        .unwrap();
}

//! Loading many tasks into an (almost) empty replica.
//!
//! Every task written costs a few entries in the inbox's indexes, each at
//! a random place in its B-tree. Kept up row by row while a first sync
//! loads 100,000 tasks, those indexes cost more than everything else the
//! load writes together; built once at the end (SQLite sorts the rows and
//! writes each index page once), they cost a fraction of it. So a first
//! sync's merge thread sets them aside for the length of the load
//! ([`defer_indexes`]) and builds them again when it ends, however it ends
//! ([`restore_indexes`]).
//!
//! Only a replica holding at most [`MAX_TASKS_HELD`] tasks is loaded this
//! way: meanwhile queries of the inbox read the table instead of an index,
//! which costs nothing while the table is small and little while it is
//! being filled, but would slow a full inbox for the length of the load.
//! The unique `(account, remote key)` index stays: every merged task is
//! looked up by it.
//!
//! The search index is treated alike: a load writes one FTS5 segment per
//! transaction, and FTS5's merging them step by step as they come rewrote
//! them two or three times over. It is paused for the length of the load,
//! and the load ends with one `optimize` (`sync::merge`).
//!
//! The indexes' SQL is kept in `deferred_indexes`, in the transaction that
//! drops them (and pauses merging), so a load that never finishes (the
//! process killed) loses nothing: opening the replica rebuilds them and
//! resumes merging ([`recover`]). Setting aside and rebuilding are both
//! idempotent, so two first syncs loading at once, or another process
//! opening the replica meanwhile, cost time at worst.

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::search;
use crate::error::{Error, Result};

/// The indexes a load sets aside: the inbox's, and the subtasks'.
const DEFERRABLE: [&str; 4] = [
    "tasks_by_assignee",
    "tasks_by_group",
    "tasks_by_deadline",
    "tasks_by_parent",
];

/// A replica holding more tasks than this keeps its indexes while loading.
pub const MAX_TASKS_HELD: i64 = 1_000;

/// Sets the deferrable indexes aside if the replica holds at most
/// [`MAX_TASKS_HELD`] tasks; returns whether it did (or they already were).
pub fn defer_indexes(tx: &Transaction<'_>) -> Result<bool> {
    let held: i64 = tx.query_row(
        "SELECT count(*) FROM (SELECT 1 FROM tasks LIMIT ?1)",
        [MAX_TASKS_HELD + 1],
        |r| r.get(0),
    )?;
    if held > MAX_TASKS_HELD {
        return Ok(false);
    }
    for name in DEFERRABLE {
        let sql: Option<String> = tx
            .query_row(
                "SELECT sql FROM sqlite_master
                 WHERE type = 'index' AND tbl_name = 'tasks' AND name = ?1",
                [name],
                |r| r.get(0),
            )
            .optional()?;
        let Some(sql) = sql else {
            // Set aside already, by a load running alongside.
            continue;
        };
        tx.execute(
            "INSERT INTO deferred_indexes (name, sql) VALUES (?1, ?2)
             ON CONFLICT (name) DO NOTHING",
            params![name, sql],
        )?;
        // `name` is one of our constants, never outside text.
        tx.execute_batch(&format!("DROP INDEX {name}"))?;
    }
    search::pause_merging(tx)?;
    Ok(true)
}

/// Builds every index set aside again (and resumes the search index's
/// merging); returns how many.
pub fn restore_indexes(tx: &Transaction<'_>) -> Result<usize> {
    let deferred: Vec<(String, String)> = tx
        .prepare("SELECT name, sql FROM deferred_indexes ORDER BY name")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (name, sql) in &deferred {
        // The SQL was read from this file's own schema, but the file is
        // only data: run nothing but one CREATE INDEX of a name we defer
        // (`execute` refuses a second statement).
        let expected = format!("CREATE INDEX {name} ON tasks");
        if !DEFERRABLE.contains(&name.as_str()) || !sql.starts_with(&expected) {
            return Err(Error::Invalid(format!(
                "the replica's deferred index {name:?} is not one tasklane sets aside"
            )));
        }
        tx.execute(sql, [])?;
    }
    if !deferred.is_empty() {
        search::resume_merging(tx)?;
    }
    tx.execute("DELETE FROM deferred_indexes", [])?;
    Ok(deferred.len())
}

/// Rebuilds the indexes a load set aside and never restored (its process
/// was killed). Run on the writer connection before migrating, so that
/// migrations always find the schema they were written against. Writes
/// nothing when nothing waits.
pub(super) fn recover(conn: &mut Connection) -> Result<()> {
    let waiting: bool =
        conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master
                        WHERE type = 'table' AND name = 'deferred_indexes')",
            [],
            |r| r.get(0),
        )? && conn.query_row("SELECT EXISTS (SELECT 1 FROM deferred_indexes)", [], |r| {
            r.get(0)
        })?;
    if waiting {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        restore_indexes(&tx)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Replica;
    use crate::model::{AccountKind, NewAccount};
    use crate::replica::{accounts, tasks};

    fn indexes(replica: &Replica) -> Vec<(String, String)> {
        replica
            .conn()
            .prepare(
                "SELECT name, sql FROM sqlite_master
                 WHERE type = 'index' AND tbl_name = 'tasks' AND sql IS NOT NULL ORDER BY name",
            )
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    fn waiting(replica: &Replica) -> i64 {
        replica
            .conn()
            .query_row("SELECT count(*) FROM deferred_indexes", [], |r| r.get(0))
            .unwrap()
    }

    /// The search index's merge settings (None: FTS5's default, never set).
    fn merging(replica: &Replica) -> (Option<i64>, Option<i64>) {
        let get = |k: &str| {
            replica
                .conn()
                .query_row("SELECT v FROM task_search_config WHERE k = ?1", [k], |r| {
                    r.get(0)
                })
                .optional()
                .unwrap()
        };
        (get("automerge"), get("crisismerge"))
    }

    fn with_tasks(n: usize) -> Replica {
        let mut replica = Replica::open_in_memory().unwrap();
        replica
            .write(|tx| {
                let account = accounts::add(tx, &NewAccount::new("a", AccountKind::Local))?;
                tasks::upsert(
                    tx,
                    account.id,
                    &crate::synthetic::tasks(n, 1),
                    crate::time::now(),
                )
            })
            .unwrap();
        replica
    }

    #[test]
    fn indexes_set_aside_come_back_exactly_as_they_were() {
        let mut replica = with_tasks(50);
        let before = indexes(&replica);
        assert_eq!(before.len(), 4, "{before:?}");
        assert_eq!(merging(&replica), (None, None));
        assert!(replica.write(defer_indexes).unwrap());
        assert!(indexes(&replica).is_empty(), "{:?}", indexes(&replica));
        assert_eq!(waiting(&replica), 4);
        // The search index stops merging segments meanwhile.
        assert_eq!(merging(&replica), (Some(0), Some(64)));
        // A second load starting alongside finds them set aside already.
        assert!(replica.write(defer_indexes).unwrap());
        assert_eq!(waiting(&replica), 4);
        assert_eq!(replica.write(restore_indexes).unwrap(), 4);
        assert_eq!(indexes(&replica), before);
        assert_eq!(waiting(&replica), 0);
        assert_eq!(merging(&replica), (Some(4), Some(16)));
        assert_eq!(replica.write(restore_indexes).unwrap(), 0);
    }

    #[test]
    fn a_replica_holding_more_than_a_few_tasks_keeps_its_indexes() {
        let mut replica = with_tasks(MAX_TASKS_HELD as usize + 1);
        assert!(!replica.write(defer_indexes).unwrap());
        assert_eq!(indexes(&replica).len(), 4);
        assert_eq!(waiting(&replica), 0);
        assert_eq!(merging(&replica), (None, None));
    }

    #[test]
    fn only_the_create_index_of_a_deferrable_index_is_ever_run() {
        let mut replica = with_tasks(5);
        for (name, sql) in [
            ("tasks_by_group", "DROP TABLE tasks"),
            (
                "tasks_by_group",
                "CREATE INDEX tasks_by_group ON tasks (title); DROP TABLE tasks",
            ),
            (
                "outbox_by_state",
                "CREATE INDEX outbox_by_state ON tasks (title)",
            ),
        ] {
            replica.write(defer_indexes).unwrap();
            replica
                .write(|tx| {
                    tx.execute("DELETE FROM deferred_indexes", [])?;
                    tx.execute(
                        "INSERT INTO deferred_indexes (name, sql) VALUES (?1, ?2)",
                        params![name, sql],
                    )?;
                    Ok(())
                })
                .unwrap();
            let err = replica.write(restore_indexes).unwrap_err();
            assert!(
                err.to_string().contains("not one tasklane sets aside")
                    || err.to_string().contains("Multiple statements"),
                "{sql}: {err}"
            );
            let held: i64 = replica
                .conn()
                .query_row("SELECT count(*) FROM tasks", [], |r| r.get(0))
                .unwrap();
            assert_eq!(held, 5);
        }
    }
}

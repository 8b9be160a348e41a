//! Checkpoints on a thread of their own, for a connection that writes a lot.
//!
//! In WAL mode a commit appends the pages it changed to the log; the
//! connection whose commit takes the log past 1,000 pages then copies the
//! log into the database file and syncs both (a checkpoint) before its
//! commit returns, and with `synchronous = FULL` every commit syncs the log
//! too. The merge thread of a first sync commits tens of megabytes while it
//! is the pull's critical path, and a trace of it (`strace -T`) showed a
//! sixth of its time waiting for those syncs. So while it writes, a
//! [`Checkpointer`] takes its checkpoints over: the merge connection stops
//! checkpointing and syncing, and after each of its commits a second
//! connection on another thread copies the log into the file — on the
//! other core, while the merge goes on.
//!
//! What a power cut can cost: with `synchronous = NORMAL` a commit is
//! durable once a later checkpoint or a later `FULL` commit has synced the
//! log, so the last transactions merged before the cut may be lost — whole
//! transactions, never part of one. Nothing a user did is among them:
//! queued actions are written by the replica's main connection, which
//! stays `FULL`, and its commit syncs the log with every frame before it.
//! And the pull stores its watermark only after the merge, on that main
//! connection, so merged tasks lost to a cut are listed again by the next
//! sync.

use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::JoinHandle;

use rusqlite::Connection;

use super::Replica;
use crate::error::{Error, Result};

/// Copies a writer's log into the database file after its commits.
#[derive(Debug)]
pub struct Checkpointer {
    kick: Option<SyncSender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Takes over the checkpoints of `writer`, which must be a connection
    /// of its own (the merge thread's), never the replica's main one: its
    /// commits stop waiting for the disk for as long as it stays open.
    pub fn take_over(writer: &Replica) -> Result<Self> {
        let path = writer.path().ok_or_else(|| {
            Error::Invalid("an in-memory replica has no log to checkpoint".into())
        })?;
        // Opened before the writer stops checkpointing: without this
        // connection nothing would keep the log from growing.
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let (kick, kicked) = mpsc::sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("tasklane-checkpoint".into())
            .spawn(move || run(&conn, &kicked))?;
        writer.conn().pragma_update(None, "wal_autocheckpoint", 0)?;
        writer.conn().pragma_update(None, "synchronous", "NORMAL")?;
        Ok(Checkpointer {
            kick: Some(kick),
            thread: Some(thread),
        })
    }

    /// Asks for a checkpoint of everything committed so far. Returns at
    /// once; a checkpoint already asked for and not yet begun covers this
    /// commit too.
    pub fn kick(&self) {
        if let Some(kick) = &self.kick {
            // Full: the checkpoint waiting covers this commit. Gone (it
            // cannot fail, but if it did): the main connection's next
            // commit copies the log.
            let _ = kick.try_send(());
        }
    }
}

impl Drop for Checkpointer {
    /// One last checkpoint of whatever was committed, then the thread ends.
    fn drop(&mut self) {
        drop(self.kick.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(conn: &Connection, kicked: &Receiver<()>) {
    loop {
        let last = kicked.recv().is_err();
        // PASSIVE: copies what no reader still needs and never waits for
        // the writer. A checkpoint that fails leaves the log as it was for
        // the next one (or the main connection's next commit), so there is
        // nothing to report.
        let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
        if last {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_writer_stops_checkpointing_and_the_thread_copies_its_commits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("replica.sqlite3");
        let mut writer = Replica::open(&path).unwrap();
        let checkpoints = Checkpointer::take_over(&writer).unwrap();
        let setting = |name: &str| -> i64 {
            writer
                .conn()
                .pragma_query_value(None, name, |r| r.get(0))
                .unwrap()
        };
        assert_eq!(setting("wal_autocheckpoint"), 0);
        assert_eq!(setting("synchronous"), 1, "NORMAL");
        // More than the 1,000 pages after which the writer would have
        // checkpointed itself.
        writer
            .write(|tx| {
                tx.execute_batch(
                    "CREATE TABLE filler (b BLOB);
                     WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
                     INSERT INTO filler SELECT randomblob(2000) FROM n;",
                )?;
                Ok(())
            })
            .unwrap();
        let file = || std::fs::metadata(&path).unwrap().len();
        assert!(file() < 1_000_000, "the writer copied its log: {}", file());
        drop(checkpoints);
        // The last checkpoint copied the log into the file (the writer,
        // still open, did not), and every row reads back.
        assert!(file() > 6_000_000, "{}", file());
        let rows: i64 = writer
            .conn()
            .query_row("SELECT count(*) FROM filler", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 3000);
    }

    #[test]
    fn a_large_log_is_cut_back_once_checkpointed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("replica.sqlite3");
        let mut writer = Replica::open(&path).unwrap();
        let checkpoints = Checkpointer::take_over(&writer).unwrap();
        // Half again the limit, in one transaction, as a first sync's
        // merge writes: the log grows past the limit.
        let rows = super::super::LOG_SIZE_LIMIT * 3 / 2 / 4000;
        writer
            .write(|tx| {
                tx.execute_batch("CREATE TABLE filler (b BLOB)")?;
                tx.execute(
                    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
                     INSERT INTO filler SELECT randomblob(4000) FROM n",
                    [rows],
                )?;
                Ok(())
            })
            .unwrap();
        let log = || {
            std::fs::metadata(path.with_extension("sqlite3-wal"))
                .unwrap()
                .len()
        };
        let grown = log();
        assert!(grown > super::super::LOG_SIZE_LIMIT as u64, "{grown}");
        // Copied into the file; the next commit starts the log over and
        // leaves no more of it than the limit.
        drop(checkpoints);
        assert_eq!(log(), grown, "a checkpoint alone truncates nothing");
        writer
            .write(|tx| {
                tx.execute("DELETE FROM filler WHERE rowid = 1", [])?;
                Ok(())
            })
            .unwrap();
        assert!(log() <= super::super::LOG_SIZE_LIMIT as u64, "{}", log());
        let kept: i64 = writer
            .conn()
            .query_row("SELECT count(*) FROM filler", [], |r| r.get(0))
            .unwrap();
        assert_eq!(kept, rows - 1);
    }

    #[test]
    fn an_in_memory_replica_has_nothing_to_take_over() {
        let writer = Replica::open_in_memory().unwrap();
        assert!(Checkpointer::take_over(&writer).is_err());
    }
}

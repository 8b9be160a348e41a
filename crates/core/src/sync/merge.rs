//! Merging listed tasks into the replica while the next pages download.
//!
//! A long pull is two jobs of similar size: the server preparing pages (and
//! the client decoding them), and the replica writing them — every task
//! touches several B-trees. Done in turn they add up. So once a listing
//! turns out longer than one batch, the pull hands its batches to a merge
//! thread with a writer connection of its own and goes on fetching while
//! that thread writes. The channel between them is short: a fast server
//! cannot pile more than [`QUEUED_BATCHES`] batches up in memory, a slow
//! disk makes the fetching wait. A listing of one batch (most incremental
//! pulls) is merged inline: a thread and a connection would cost more than
//! they hide.
//!
//! The merge thread commits when it has caught up: one transaction takes the
//! batch at hand and every batch already waiting, up to [`TX_TASKS`] tasks,
//! but never waits for the network with a transaction open. While the
//! replica is the slower side, transactions grow, and each index page is
//! rewritten into the WAL (and checkpointed into the file) once per
//! transaction instead of once per batch: merging 100,000 tasks in
//! transactions of 10,000 instead of 2,000 takes about 40 % less time.
//! While the server is the slower side, every batch commits on arrival.
//!
//! Each transaction also indexes its tasks for search, while the next pages
//! download, instead of leaving all of them to the catch-up after the pull;
//! after a long pull the thread merges the index's segments (a segment per
//! transaction) into one. And a first sync into an (almost) empty replica
//! loads without the inbox's indexes, and without merging those segments
//! as they come, and builds the indexes once at the end (`replica::bulk`).
//!
//! The thread's commits do not wait for the disk: a second thread copies
//! its log into the database file as it goes (`replica::checkpoint`).
//!
//! A run that stops (a crash, a dropped future, an error on either side)
//! leaves whole transactions merged and the rest to the next listing; the
//! watermark is only stored after the last one. An in-memory replica has
//! no second connection and always merges inline.

use tokio::sync::{mpsc, oneshot};

use super::notify::Seen;
use super::{SyncError, merge_page};
use crate::error::Error;
use crate::model::{Account, TaskRecord};
use crate::replica::checkpoint::Checkpointer;
use crate::replica::tasks::{Indexing, IngestStats};
use crate::replica::{Replica, SEARCH_BATCH, bulk, search};
use crate::time::now;

/// Batches waiting for the merge thread at most.
const QUEUED_BATCHES: usize = 2;

/// Tasks one merge-thread transaction takes at most, so that it holds the
/// replica's write lock (which queuing an action waits for) a few tenths
/// of a second at most.
const TX_TASKS: usize = 10_000;

/// What merging a pull's tasks added up to.
#[derive(Debug, Default)]
pub(super) struct Merged {
    pub stats: IngestStats,
    pub seen: Vec<Seen>,
}

impl Merged {
    fn add(&mut self, stats: IngestStats, seen: Vec<Seen>) {
        self.stats.inserted += stats.inserted;
        self.stats.updated += stats.updated;
        self.stats.unchanged += stats.unchanged;
        self.seen.extend(seen);
    }
}

/// Where one pull's batches are merged.
pub(super) struct Merger<'a> {
    account: &'a Account,
    /// False on a first sync, which announces nothing and so skips the
    /// per-task lookups notifications need.
    notifying: bool,
    /// Batches merged on the pull's own thread.
    inline: Merged,
    thread: Option<MergeThread>,
}

struct MergeThread {
    batches: mpsc::Sender<Vec<TaskRecord>>,
    result: oneshot::Receiver<Result<Merged, Error>>,
}

impl<'a> Merger<'a> {
    pub fn new(account: &'a Account, notifying: bool) -> Self {
        Merger {
            account,
            notifying,
            inline: Merged::default(),
            thread: None,
        }
    }

    /// Merges `batch`. With `more` batches to come (and a replica file), it
    /// goes to the merge thread, started on first use; handing it over
    /// waits only while the thread is [`QUEUED_BATCHES`] behind.
    pub async fn merge(
        &mut self,
        replica: &mut Replica,
        batch: Vec<TaskRecord>,
        more: bool,
    ) -> Result<(), SyncError> {
        if self.thread.is_none()
            && more
            && let Some(path) = replica.path()
        {
            // Opened here, not on the thread, so that a replica that cannot
            // be opened again fails the run at once.
            let writer = Replica::open(path)?;
            self.thread = Some(MergeThread::start(
                writer,
                self.account.clone(),
                self.notifying,
            )?);
        }
        let Some(thread) = &mut self.thread else {
            merge_batch(
                replica,
                self.account,
                &batch,
                self.notifying,
                &mut self.inline,
            )?;
            return Ok(());
        };
        if thread.batches.send(batch).await.is_ok() {
            return Ok(());
        }
        // The thread stopped early: its result says why.
        Err(outcome((&mut thread.result).await)
            .err()
            .unwrap_or_else(thread_lost)
            .into())
    }

    /// Waits until every batch handed over is merged.
    pub async fn finish(self) -> Result<Merged, SyncError> {
        let mut merged = self.inline;
        if let Some(MergeThread { batches, result }) = self.thread {
            drop(batches);
            let threaded = outcome(result.await)?;
            merged.add(threaded.stats, threaded.seen);
        }
        Ok(merged)
    }
}

impl MergeThread {
    fn start(writer: Replica, account: Account, notifying: bool) -> Result<Self, Error> {
        let (batches, receiver) = mpsc::channel(QUEUED_BATCHES);
        let (done, result) = oneshot::channel();
        std::thread::Builder::new()
            .name("tasklane-merge".into())
            .spawn(move || {
                // The receiver is gone when the run was dropped: nobody is
                // waiting for the outcome then.
                let _ = done.send(merge_all(writer, &account, receiver, notifying));
            })?;
        Ok(MergeThread { batches, result })
    }
}

/// The merge thread. A first sync loads without the inbox's indexes while
/// the replica is nearly empty (replica/bulk.rs); they are built again
/// however the load ends, before the thread reports. After a long pull the
/// search index's segments become one, as after a long catch-up.
fn merge_all(
    mut writer: Replica,
    account: &Account,
    batches: mpsc::Receiver<Vec<TaskRecord>>,
    notifying: bool,
) -> Result<Merged, Error> {
    // Ends with this function, after the optimize: its last checkpoint
    // copies everything the thread wrote into the database file.
    let checkpoints = Checkpointer::take_over(&writer)?;
    let deferred = !notifying && writer.write(bulk::defer_indexes)?;
    let mut merged = merge_batches(&mut writer, account, batches, notifying, &checkpoints);
    if deferred {
        let restored = writer.write(bulk::restore_indexes);
        checkpoints.kick();
        // A failed load's error comes first; its indexes then wait for the
        // next opening of the replica.
        merged = merged.and_then(|merged| restored.map(|_| merged));
    }
    let merged = merged?;
    // Every task written has a new search entry, in a segment per
    // transaction.
    let written = merged.stats.inserted + merged.stats.updated;
    if deferred || written >= SEARCH_BATCH as u64 {
        writer.optimize_search()?;
    }
    Ok(merged)
}

/// Until the pull hangs up: one transaction for the batch waited for and
/// those that arrived meanwhile (see the module comment), with their
/// search entries.
fn merge_batches(
    writer: &mut Replica,
    account: &Account,
    mut batches: mpsc::Receiver<Vec<TaskRecord>>,
    notifying: bool,
    checkpoints: &Checkpointer,
) -> Result<Merged, Error> {
    let mut merged = Merged::default();
    while let Some(first) = batches.blocking_recv() {
        let at = now();
        let committed = writer.write(|tx| {
            let mut in_tx = Merged::default();
            let mut new_entries = Vec::new();
            let mut tasks = 0;
            let mut batch = Some(first);
            while let Some(records) = batch.take() {
                let mut indexing = Indexing::Collect(&mut new_entries);
                let (stats, seen) =
                    merge_page(tx, account, &records, at, notifying, &mut indexing)?;
                in_tx.add(stats, seen);
                tasks += records.len();
                // Only batches already waiting: never wait for the
                // network with the write lock held.
                if tasks < TX_TASKS {
                    batch = batches.try_recv().ok();
                }
            }
            // New tasks from their records; changed ones (and new ones
            // with comments) from the backlog, as many as were merged:
            // whatever else waits (an inline merge's) is left to the
            // catch-up after the pull.
            search::index_new(tx, &new_entries)?;
            search::catch_up(tx, tasks)?;
            Ok(in_tx)
        })?;
        checkpoints.kick();
        merged.add(committed.stats, committed.seen);
    }
    Ok(merged)
}

/// One batch in one transaction, added to `merged`.
fn merge_batch(
    replica: &mut Replica,
    account: &Account,
    batch: &[TaskRecord],
    notifying: bool,
    merged: &mut Merged,
) -> Result<(), Error> {
    let at = now();
    let (stats, seen) =
        replica.write(|tx| merge_page(tx, account, batch, at, notifying, &mut Indexing::Later))?;
    merged.add(stats, seen);
    Ok(())
}

fn outcome(
    result: Result<Result<Merged, Error>, oneshot::error::RecvError>,
) -> Result<Merged, Error> {
    result.unwrap_or_else(|_| Err(thread_lost()))
}

fn thread_lost() -> Error {
    Error::Invalid("the replica's merge thread stopped unexpectedly".into())
}

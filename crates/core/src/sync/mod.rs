//! The sync engine: one account at a time, it
//!
//! 1. resolves ops left `sending` by a crash or a lost answer, by asking
//!    the server whether they took effect ([`Remote::applied`]) — never by
//!    sending blindly again;
//! 2. pulls the user's tasks (a full listing the first time and every
//!    [`Options::full_every`], incrementally by watermark otherwise),
//!    merges them into the replica and notifies new assignments;
//! 3. replays the outbox: per task in queue order, each op's precondition
//!    checked against the task's fresh server state, marked `sending`
//!    (committed) before its request leaves, and the task refreshed after
//!    its last op (see [`replay`]).
//!
//! Exactly once: an op is marked `sending` in its own committed transaction
//! before the request leaves, and marked `done` only after the server
//! answered. Whatever happens in between — a crash, a kill, a timeout —
//! leaves it `sending`, and step 1 of the next run asks the server. What
//! "asking" means per op kind is each dialect's [`Remote::applied`],
//! documented next to its code (`docs/decisions/0009-exactly-once.md` has
//! the table).
//!
//! Errors are handled per op where they concern one op (a conflict, a
//! permanent refusal, a transient failure with backoff), and stop the
//! account's run where they concern the account (offline: pause without
//! spending attempts; auth: stop and say so). No op can wedge the queue:
//! a conflict or failure holds back only the later ops of its own task.

pub mod backoff;
mod merge;
pub mod notify;
pub mod precondition;
mod replay;

use std::collections::HashSet;
use std::time::Duration;

use futures_util::{FutureExt, StreamExt, stream};
use jiff::{SignedDuration, Timestamp};
use rusqlite::OptionalExtension;
use serde::Serialize;

use crate::error::Error;
use crate::model::{Account, TaskRecord};
use crate::outbox::{self, Op, OpKind};
use crate::remote::{Applied, ListMode, Outcome, Remote, RemoteError, RemoteErrorKind};
use crate::replica::{Replica, sync_state, tasks};
use crate::time::{now, parse_ts};
use merge::Merger;

pub use notify::{Notification, Notifier};

/// Listed tasks merged into the replica per transaction.
const MERGE_BATCH: usize = 2_000;

/// Tasks whose fetched details are stored in one transaction (and between
/// two progress reports) while refreshing.
const REFRESH_CHUNK: usize = 25;

/// How a sync run behaves.
#[derive(Debug, Clone)]
pub struct Options {
    /// A full listing at least this often, to find tasks that left the
    /// user's view (incremental listings only report changes).
    pub full_every: Duration,
    /// At most this many listing pages in one pull (a server that never
    /// stops paging is an error, not a hang).
    pub max_pages: usize,
    /// At most this many tasks' details fetched per run (see
    /// `Run::refresh`); the rest follow in later runs.
    pub details_per_run: usize,
    /// At most this many ops go out together (one per task; see
    /// `Run::replay`).
    pub batch: usize,
    /// Requests in flight at once while replaying and refreshing — what a
    /// browser allows itself against one server.
    pub concurrency: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            full_every: Duration::from_secs(6 * 3600),
            max_pages: 10_000,
            details_per_run: 100,
            batch: 200,
            concurrency: 6,
        }
    }
}

/// Progress, for a progress bar or the app's status bar.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum Event {
    /// Asking the server about ops a previous run left in doubt.
    Resolving { account: String, ops: usize },
    /// Listing: pages and tasks so far, and the total when known.
    Pulling {
        account: String,
        full: bool,
        pages: usize,
        tasks: usize,
        total: Option<u64>,
    },
    /// Sending queued ops.
    Sending {
        account: String,
        done: usize,
        of: usize,
    },
    /// Fetching tasks' details (offered actions, comments, history).
    Refreshing {
        account: String,
        done: usize,
        of: usize,
    },
}

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    pub account: String,
    /// The pull was a full listing.
    pub full: bool,
    pub pulled: usize,
    pub inserted: usize,
    pub updated: usize,
    /// Tasks that left the user's view: kept (they have unfinished ops) / removed.
    pub gone: usize,
    pub removed: usize,
    /// Ops the server applied in this run (including ones found applied
    /// after a crash).
    pub applied: usize,
    pub conflicts: usize,
    pub failed: usize,
    /// Ops waiting for a retry after a transient failure.
    pub retrying: usize,
    /// Ops whose outcome is still unknown (left `sending` for the next run).
    pub in_doubt: usize,
    pub notifications: usize,
    /// Tasks whose details (offered actions, comments, history) were fetched.
    pub refreshed: usize,
}

/// Why an account's run stopped.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// Credentials wrong or expired even after logging in again: this
    /// account's sync stops until the user fixes them.
    #[error("the server refused the login: {0}")]
    Auth(RemoteError),
    /// The server cannot be reached; nothing was lost, the run pauses.
    #[error("offline: {0}")]
    Offline(RemoteError),
    /// The listing failed (a server error, a malformed answer).
    #[error("{0}")]
    Remote(RemoteError),
    /// The replica failed.
    #[error(transparent)]
    Store(#[from] Error),
}

impl SyncError {
    /// The stable kind, for the status bar and `sync_state`.
    pub fn kind(&self) -> &'static str {
        match self {
            SyncError::Auth(_) => "auth",
            SyncError::Offline(_) => "offline",
            SyncError::Remote(_) => "remote",
            SyncError::Store(_) => "store",
        }
    }

    fn from_remote(e: RemoteError) -> Self {
        match e.kind {
            RemoteErrorKind::Auth => SyncError::Auth(e),
            RemoteErrorKind::Offline => SyncError::Offline(e),
            _ => SyncError::Remote(e),
        }
    }
}

/// One sync run for `account`. Records its outcome in the account's sync
/// state (for the status bar) whether it succeeds or not.
pub async fn sync_account(
    replica: &mut Replica,
    account: &Account,
    remote: &dyn Remote,
    notifier: &dyn Notifier,
    progress: &(dyn Fn(Event) + Send + Sync),
    options: &Options,
) -> Result<Report, SyncError> {
    let mut run = Run {
        replica,
        account,
        remote,
        progress,
        report: Report {
            account: account.name.clone(),
            ..Report::default()
        },
        tried: HashSet::new(),
    };
    let result = run.go(notifier, options).await;
    let report = run.report;
    match &result {
        Ok(()) => Ok(report),
        Err(e) => {
            let message = e.to_string();
            let kind = e.kind();
            // Best effort: the run's error is what matters to the caller.
            let _ = replica
                .write(|tx| sync_state::record_failure(tx, account.id, kind, &message, now()));
            result.map(|()| report)
        }
    }
}

struct Run<'a> {
    replica: &'a mut Replica,
    account: &'a Account,
    remote: &'a dyn Remote,
    progress: &'a (dyn Fn(Event) + Send + Sync),
    report: Report,
    /// Ops sent in this run and not applied (an applied op is done and
    /// never ready again): none is sent twice in one run. Kept this small
    /// because every batch hands it to `outbox::ready`.
    tried: HashSet<i64>,
}

/// What to do with an op after a failed request.
enum Next {
    /// Go on with the other ops.
    Continue,
    /// Stop this account's run.
    Stop(SyncError),
}

impl Run<'_> {
    async fn go(&mut self, notifier: &dyn Notifier, options: &Options) -> Result<(), SyncError> {
        self.resolve_in_doubt().await?;
        let first_sync = sync_state::get(self.replica.conn(), self.account.id)?
            .last_success
            .is_none();
        let notifications = self.pull(options, first_sync).await?;
        for n in &notifications {
            notifier.notify(n);
        }
        self.report.notifications = notifications.len();
        self.replay(options).await?;
        self.refresh(options.details_per_run, options.concurrency)
            .await?;
        self.report.in_doubt = outbox::in_doubt(self.replica.conn(), self.account.id)?.len();
        Ok(())
    }

    fn key_of(&self, op: &Op) -> Result<Option<String>, SyncError> {
        let Some(task_id) = op.task_id else {
            return Ok(None);
        };
        let key: Option<String> = self
            .replica
            .conn()
            .prepare_cached("SELECT remote_key FROM tasks WHERE id = ?1")
            .and_then(|mut stmt| stmt.query_row([task_id], |r| r.get(0)).optional())
            .map_err(Error::from)?;
        // A task created offline has no server key until its create is done.
        Ok(key.filter(|k| !k.starts_with("local:")))
    }

    /// The task's fresh server state, or `None` when it left the view (or
    /// has no server key yet).
    async fn fresh(&self, key: Option<&str>) -> Result<Option<TaskRecord>, RemoteError> {
        match key {
            Some(key) => self.remote.fetch(key).await,
            None => Ok(None),
        }
    }

    // ---- 1. ops in doubt ------------------------------------------------

    async fn resolve_in_doubt(&mut self) -> Result<(), SyncError> {
        let ops = outbox::in_doubt(self.replica.conn(), self.account.id)?;
        if ops.is_empty() {
            return Ok(());
        }
        (self.progress)(Event::Resolving {
            account: self.account.name.clone(),
            ops: ops.len(),
        });
        for op in ops {
            match self.ask(&op).await {
                Next::Continue => {}
                Next::Stop(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Asks the server whether `op` (left `sending`) took effect, and
    /// settles it accordingly. Unreachable servers leave it in doubt.
    async fn ask(&mut self, op: &Op) -> Next {
        let key = match self.key_of(op) {
            Ok(k) => k,
            Err(e) => return Next::Stop(e),
        };
        let fresh = match self.fresh(key.as_deref()).await {
            Ok(f) => f,
            Err(e) => return self.leave_in_doubt(e),
        };
        let answer = match self.remote.applied(op, fresh.as_ref()).await {
            Ok(a) => a,
            Err(e) => return self.leave_in_doubt(e),
        };
        let op_ref = op.op_id.to_string();
        let answer = match answer {
            Applied::Claimed(items) => {
                let taken = match outbox::not_claimed_by(self.replica.conn(), op) {
                    Ok(t) => t,
                    Err(e) => return Next::Stop(e.into()),
                };
                items
                    .into_iter()
                    .find(|item| item.key.as_ref().is_some_and(|k| !taken.contains(k)))
                    .map_or(Applied::No, Applied::Yes)
            }
            other => other,
        };
        let at = now();
        let settled = match answer {
            Applied::Yes(outcome) => {
                return self.finish(op, outcome).await;
            }
            // (A claim was already resolved to Yes or No above.)
            Applied::No | Applied::Claimed(_) => self.replica.write(|tx| {
                outbox::reschedule(
                    tx,
                    &op_ref,
                    "uncertain",
                    "the server had not applied it; it will be sent again",
                    at,
                    at,
                )
                .map(|_| ())
            }),
            // A server that applies each Idempotency-Key once makes sending
            // again the way to find out: the op's id is its key.
            Applied::Unknown(_) if self.remote.capabilities().idempotency_keys => {
                self.replica.write(|tx| {
                    outbox::reschedule(
                        tx,
                        &op_ref,
                        "uncertain",
                        "sent again under the same Idempotency-Key",
                        at,
                        at,
                    )
                    .map(|_| ())
                })
            }
            Applied::Unknown(reason) => {
                self.report.conflicts += 1;
                self.replica.write(|tx| {
                    outbox::mark_conflict(
                        tx,
                        &op_ref,
                        &format!(
                            "it may or may not have reached the server, and the server's state does not tell ({reason}); check the task, then retry or discard"
                        ),
                        at,
                    )
                    .map(|_| ())
                })
            }
        };
        match settled {
            Ok(()) => Next::Continue,
            Err(e) => Next::Stop(e.into()),
        }
    }

    fn leave_in_doubt(&mut self, e: RemoteError) -> Next {
        match e.kind {
            RemoteErrorKind::Auth | RemoteErrorKind::Offline => {
                Next::Stop(SyncError::from_remote(e))
            }
            // The question failed; ask again next run (the report counts
            // what is still in doubt at the end).
            _ => Next::Continue,
        }
    }

    // ---- 2. pull ----------------------------------------------------------

    async fn pull(
        &mut self,
        options: &Options,
        first_sync: bool,
    ) -> Result<Vec<Notification>, SyncError> {
        let state = sync_state::get(self.replica.conn(), self.account.id)?;
        let caps = self.remote.capabilities();
        let full_due = state
            .last_full
            .as_deref()
            .and_then(parse_ts)
            .is_none_or(|last| {
                let age = now().duration_since(last);
                age >= SignedDuration::try_from(options.full_every).unwrap_or(SignedDuration::MAX)
                    || age < SignedDuration::ZERO
            });
        let mode = match (&state.watermark, caps.incremental, full_due) {
            (Some(w), true, false) => ListMode::Since(w.clone()),
            _ => ListMode::Full,
        };
        let full = mode == ListMode::Full;
        self.report.full = full;
        let mut cursor: Option<String> = None;
        let mut seen_keys = HashSet::new();
        let mut unmerged = Vec::new();
        let mut pages = 0;
        let remote = self.remote;
        // A first sync announces nothing: no per-task lookups for it.
        let mut merger = Merger::new(self.account, !first_sync);
        let mut page = remote
            .list_page(&mode, None)
            .await
            .map_err(SyncError::from_remote)?;
        let watermark = loop {
            pages += 1;
            let next = match page.next.take() {
                Some(next) if Some(&next) == cursor.as_ref() => {
                    return Err(SyncError::Remote(RemoteError::new(
                        RemoteErrorKind::Protocol,
                        "the server's listing did not advance (the same page cursor twice)",
                    )));
                }
                Some(_) if pages >= options.max_pages => {
                    return Err(SyncError::Remote(RemoteError::new(
                        RemoteErrorKind::Protocol,
                        format!("the listing went on past {} pages", options.max_pages),
                    )));
                }
                next => next,
            };
            self.report.pulled += page.tasks.len();
            seen_keys.extend(page.tasks.iter().map(|t| t.key.clone()));
            unmerged.extend(std::mem::take(&mut page.tasks));
            // Pages are merged a few at a time: one commit per page rewrote
            // the same index pages into the WAL over and over. A run that
            // stops before merging loses nothing; the next one lists again.
            if unmerged.len() >= MERGE_BATCH || next.is_none() {
                let batch = std::mem::take(&mut unmerged);
                merger.merge(self.replica, batch, next.is_some()).await?;
            }
            (self.progress)(Event::Pulling {
                account: self.account.name.clone(),
                full,
                pages,
                tasks: self.report.pulled,
                total: page.total,
            });
            match next {
                Some(next) => {
                    page = remote
                        .list_page(&mode, Some(&next))
                        .await
                        .map_err(SyncError::from_remote)?;
                    cursor = Some(next);
                }
                None => break page.watermark,
            }
        };
        let merged = merger.finish().await?;
        self.report.inserted += merged.stats.inserted as usize;
        self.report.updated += merged.stats.updated as usize;
        let account_id = self.account.id;
        let exhaustive = full && caps.exhaustive_listing;
        let at = now();
        let (gone, removed) = self.replica.write(|tx| {
            let counts = if exhaustive {
                tasks::reconcile_gone(tx, account_id, &seen_keys)?
            } else {
                (0, 0)
            };
            sync_state::record_success(tx, account_id, watermark.as_deref(), full, at)?;
            Ok(counts)
        })?;
        self.report.gone = gone;
        self.report.removed = removed;
        // What the merge thread did not index (an inline merge's share).
        self.replica.catch_up_search()?;
        if full {
            self.replica.refresh_statistics()?;
        }
        Ok(notify::plan(
            &self.account.name,
            &self.account.user_name,
            first_sync,
            merged.seen,
        ))
    }

    // ---- 4. refresh ------------------------------------------------------

    /// Listings give a task's fields, not what it offers: fetches the
    /// details (offered actions, comments, history) of open tasks that have
    /// none yet or changed since, most recently changed first, so the user
    /// can act on them — offline too. A task that cannot be fetched now is
    /// tried again next run; losing the connection ends the refresh, not
    /// the run (the pull and the replay are done).
    ///
    /// The tasks are fetched `concurrency` at a time, like replayed ops,
    /// and stored [`REFRESH_CHUNK`] to a transaction: one at a time, with a
    /// commit each, the details of 100 changed tasks took longer than
    /// listing the changes.
    async fn refresh(&mut self, limit: usize, concurrency: usize) -> Result<(), SyncError> {
        let keys = tasks::needing_details(self.replica.conn(), self.account.id, limit)?;
        let remote = self.remote;
        let account_id = self.account.id;
        for (at, chunk) in keys.chunks(REFRESH_CHUNK).enumerate() {
            (self.progress)(Event::Refreshing {
                account: self.account.name.clone(),
                done: at * REFRESH_CHUNK,
                of: keys.len(),
            });
            let answers = concurrently(concurrency, chunk, |key| remote.fetch(key)).await;
            let mut fetched = Vec::new();
            let mut unreachable = false;
            for answer in answers {
                match answer {
                    Ok(Some(record)) => fetched.push(record),
                    // Gone from the user's view: the next full pull says so.
                    Ok(None) => {}
                    Err(e)
                        if matches!(e.kind, RemoteErrorKind::Offline | RemoteErrorKind::Auth) =>
                    {
                        unreachable = true;
                    }
                    // Tried again next run.
                    Err(_) => {}
                }
            }
            // What arrived before the connection went is kept.
            if !fetched.is_empty() {
                self.replica
                    .write(|tx| tasks::upsert(tx, account_id, &fetched, now()))?;
                self.report.refreshed += fetched.len();
            }
            if unreachable {
                break;
            }
        }
        Ok(())
    }

    /// `op`'s precondition failed: a conflict, shown next to the current
    /// server state.
    fn conflict(&mut self, op: &Op, fresh: Option<&TaskRecord>, reason: &str) -> Next {
        self.report.conflicts += 1;
        let op_ref = op.op_id.to_string();
        let task_id = op.task_id;
        let account_id = self.account.id;
        self.settle(|tx, at| {
            match (fresh, task_id) {
                (Some(record), _) => {
                    tasks::upsert(tx, account_id, std::slice::from_ref(record), at)?;
                }
                (None, Some(id)) => tx
                    .execute("UPDATE tasks SET gone = 1 WHERE id = ?1", [id])
                    .map(|_| ())?,
                (None, None) => {}
            }
            outbox::mark_conflict(tx, &op_ref, reason, at)
        })
    }

    /// Writes one state change of `op` in a transaction.
    fn settle(
        &mut self,
        f: impl FnOnce(&rusqlite::Transaction<'_>, Timestamp) -> crate::Result<Op>,
    ) -> Next {
        let at = now();
        match self.replica.write(|tx| f(tx, at).map(|_| ())) {
            Ok(()) => Next::Continue,
            Err(e) => Next::Stop(e.into()),
        }
    }

    /// A request that never reached the server failed (the fetch for the
    /// precondition): nothing was applied.
    fn failed_before_sending(&mut self, op: &Op, e: RemoteError) -> Next {
        match e.kind {
            RemoteErrorKind::Auth | RemoteErrorKind::Offline => {
                Next::Stop(SyncError::from_remote(e))
            }
            RemoteErrorKind::Transient { retry_after } => self.retry_later(op, &e, retry_after),
            // A read that failed says nothing about the op itself.
            RemoteErrorKind::Protocol | RemoteErrorKind::Uncertain | RemoteErrorKind::Permanent => {
                self.retry_later(op, &e, None)
            }
        }
    }

    fn retry_later(&mut self, op: &Op, e: &RemoteError, retry_after: Option<Duration>) -> Next {
        let op_ref = op.op_id.to_string();
        let attempts = op.attempts + 1;
        if attempts >= backoff::MAX_ATTEMPTS {
            self.report.failed += 1;
            let message = format!("gave up after {attempts} attempts: {e}");
            return self
                .settle(|tx, at| outbox::mark_failed(tx, &op_ref, "transient", &message, at));
        }
        self.report.retrying += 1;
        let wait = backoff::delay(attempts, retry_after, fastrand::f64());
        let message = e.to_string();
        self.settle(|tx, at| {
            let not_before = at
                .checked_add(SignedDuration::try_from(wait).unwrap_or(SignedDuration::ZERO))
                .unwrap_or(at);
            outbox::reschedule(tx, &op_ref, "transient", &message, not_before, at)
        })
    }

    async fn failed_after_sending(&mut self, op: &Op, e: RemoteError) -> Next {
        let op_ref = op.op_id.to_string();
        match e.kind {
            // Not applied: back to pending without losing anything.
            RemoteErrorKind::Auth | RemoteErrorKind::Offline => {
                let message = e.to_string();
                let stop = SyncError::from_remote(e);
                match self.replica.write(|tx| {
                    let at = now();
                    outbox::reschedule(tx, &op_ref, "offline", &message, at, at).map(|_| ())
                }) {
                    Ok(()) => Next::Stop(stop),
                    Err(store) => Next::Stop(store.into()),
                }
            }
            RemoteErrorKind::Transient { retry_after } => self.retry_later(op, &e, retry_after),
            RemoteErrorKind::Permanent => {
                self.report.failed += 1;
                let message = e.to_string();
                self.settle(|tx, at| outbox::mark_failed(tx, &op_ref, "permanent", &message, at))
            }
            // It may have been applied: ask, now, instead of sending again.
            RemoteErrorKind::Uncertain | RemoteErrorKind::Protocol => self.ask(op).await,
        }
    }

    /// The key of the task `op` touched, to refresh it: a created or
    /// claimed task's new key, else the op's task's.
    fn touched_key(&self, op: &Op, new_key: Option<&str>) -> Result<Option<String>, SyncError> {
        match (new_key, op.kind) {
            (Some(k), OpKind::CreateTask | OpKind::Allocate) => Ok(Some(k.to_owned())),
            _ => self.key_of(op),
        }
    }

    /// The server applied `op` (found out by asking): mark it done and
    /// bring the task up to date.
    async fn finish(&mut self, op: &Op, outcome: Outcome) -> Next {
        self.report.applied += 1;
        let adopted = match self
            .replica
            .write(|tx| record_done(tx, op, &outcome, now()))
        {
            Ok(id) => id,
            Err(e) => return Next::Stop(e.into()),
        };
        let key = match self.touched_key(op, outcome.key.as_deref()) {
            Ok(k) => k,
            Err(e) => return Next::Stop(e),
        };
        // A failure to refresh only delays it to the next pull.
        if let Some(key) = key
            && let Ok(fresh) = self.remote.fetch(&key).await
        {
            let account_id = self.account.id;
            if let Err(e) = self.replica.write(|tx| {
                store_refreshed(tx, account_id, op.kind, adopted, fresh.as_ref(), now())
            }) {
                return Next::Stop(e.into());
            }
        }
        Next::Continue
    }
}

impl Next {
    fn into_result(self) -> Result<(), SyncError> {
        match self {
            Next::Continue => Ok(()),
            Next::Stop(e) => Err(e),
        }
    }
}

/// Runs `f` over `items`, at most `limit` at a time, answers in the
/// items' order.
///
/// `limit` requests stay in flight however the answers arrive. An ordered
/// buffer (`buffered`) counts the answers it holds back behind an earlier,
/// slower request against the limit: one request hanging until its timeout
/// on a bad network stopped every other from starting meanwhile.
async fn concurrently<'a, T, R>(
    limit: usize,
    items: &'a [T],
    mut f: impl FnMut(&'a T) -> crate::remote::BoxFuture<'a, R>,
) -> Vec<R> {
    let mut answers: Vec<(usize, R)> = stream::iter(items.iter().enumerate())
        .map(|(i, item)| f(item).map(move |answer| (i, answer)))
        .buffer_unordered(limit.max(1))
        .collect()
        .await;
    answers.sort_unstable_by_key(|(i, _)| *i);
    answers.into_iter().map(|(_, answer)| answer).collect()
}

/// Marks `op` done with the server's answer. Returns the task it concerns
/// now (see [`adopt`]).
fn record_done(
    tx: &rusqlite::Transaction<'_>,
    op: &Op,
    outcome: &Outcome,
    at: Timestamp,
) -> crate::Result<Option<i64>> {
    let op_ref = op.op_id.to_string();
    outbox::mark_done(
        tx,
        &op_ref,
        Some(outcome.result.clone()),
        outcome.key.as_deref(),
        at,
    )?;
    adopt(tx, op, outcome)
}

/// The task a done `op` concerns now: a task created offline adopts its
/// server key here.
fn adopt(tx: &rusqlite::Transaction<'_>, op: &Op, outcome: &Outcome) -> crate::Result<Option<i64>> {
    match (op.kind, op.task_id, &outcome.key) {
        (OpKind::CreateTask, Some(id), Some(key)) => {
            tasks::adopt_placeholder(tx, id, key).map(Some)
        }
        _ => Ok(op.task_id),
    }
}

/// Stores the state of a task fetched after an op of `kind` was applied; a
/// task no longer in view vanishes (except after a claim, which has no task
/// yet).
fn store_refreshed(
    tx: &rusqlite::Transaction<'_>,
    account_id: i64,
    kind: OpKind,
    adopted: Option<i64>,
    fresh: Option<&TaskRecord>,
    at: Timestamp,
) -> crate::Result<()> {
    match (fresh, adopted) {
        (Some(record), _) => {
            tasks::upsert(tx, account_id, std::slice::from_ref(record), at).map(|_| ())
        }
        (None, Some(id)) if kind != OpKind::Allocate => tasks::vanish(tx, id),
        _ => Ok(()),
    }
}

/// Upserts one listing page and reports, per task, what notifications need
/// (nothing when `notifying` is false).
fn merge_page(
    tx: &rusqlite::Transaction<'_>,
    account: &Account,
    records: &[TaskRecord],
    at: Timestamp,
    notifying: bool,
    indexing: &mut tasks::Indexing<'_>,
) -> crate::Result<(tasks::IngestStats, Vec<notify::Seen>)> {
    if !notifying {
        // A first sync announces nothing: skip the per-task lookups.
        let stats = tasks::upsert_indexing(tx, account.id, records, at, indexing)?;
        return Ok((stats, Vec::new()));
    }
    let mut before = Vec::with_capacity(records.len());
    {
        let mut stmt = tx.prepare_cached(
            "SELECT assignee FROM tasks WHERE account_id = ?1 AND remote_key = ?2",
        )?;
        for r in records {
            let old: Option<Option<String>> = stmt
                .query_row(rusqlite::params![account.id, r.key], |row| row.get(0))
                .optional()?;
            before.push(old);
        }
    }
    let stats = tasks::upsert_indexing(tx, account.id, records, at, indexing)?;
    let mut seen = Vec::with_capacity(records.len());
    let mut acted = tx.prepare_cached("SELECT EXISTS (SELECT 1 FROM outbox WHERE task_id = ?1)")?;
    for (r, old) in records.iter().zip(before) {
        let Some(task_id) = tasks::id_by_key(tx, account.id, &r.key)? else {
            continue;
        };
        let mine = r.assignee.as_deref() == Some(account.user_name.as_str());
        let newly_mine = match &old {
            Some(old_assignee) => mine && old_assignee.as_deref() != r.assignee.as_deref(),
            None => false,
        };
        seen.push(notify::Seen {
            assignment: notify::Assignment {
                task_id,
                account: account.name.clone(),
                title: r.title.clone(),
                from: r.issuer.clone().or_else(|| r.process.clone()),
                deadline: r.deadline.map(|d| d.to_text()),
            },
            state: r.state,
            issuer: r.issuer.clone(),
            new: old.is_none(),
            newly_mine,
            acted_on: acted.query_row([task_id], |row| row.get(0))?,
        });
    }
    Ok((stats, seen))
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use tokio::sync::oneshot;

    use super::concurrently;

    /// The first request is answered only once the last one has started:
    /// with an ordered buffer, the answers held back behind it would fill
    /// the limit and the last one would never start.
    #[tokio::test]
    async fn a_slow_request_does_not_hold_back_the_others() {
        let (release, released) = oneshot::channel::<()>();
        let release = Mutex::new(Some(release));
        let released = Mutex::new(Some(released));
        let items: Vec<usize> = (0..10).collect();
        let answers = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            concurrently(2, &items, |&i| {
                let waits = if i == 0 {
                    released.lock().unwrap().take()
                } else {
                    None
                };
                if i == 9
                    && let Some(release) = release.lock().unwrap().take()
                {
                    let _ = release.send(());
                }
                Box::pin(async move {
                    if let Some(released) = waits {
                        released.await.unwrap();
                    }
                    tokio::task::yield_now().await;
                    i * 10
                })
            }),
        )
        .await
        .expect("the last request never started");
        // The answers still come in the items' order.
        assert_eq!(answers, (0..10).map(|i| i * 10).collect::<Vec<_>>());
    }
}

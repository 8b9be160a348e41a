//! Step 3 of a run: the ready ops go out in batches.
//!
//! A batch holds at most one op per task — the first unfinished one — so
//! each task's ops still go out in queue order, one after the other, while
//! different tasks' ops share the durable writes (one transaction marks the
//! whole batch `sending`, one marks what the server applied `done`) and
//! travel `Options::concurrency` at a time. A crash anywhere leaves the
//! batch `sending`, and the next run asks about every op of it, exactly as
//! it would about one (step 1).
//!
//! Each op is checked against its task's fresh server state. A task is
//! fetched before its first op of the run and again before any op that
//! follows one of its own, with one exception: a comment changes nothing
//! but the task's comments, so the state fetched before it still answers a
//! following op's precondition (the server accepting the comment proved the
//! task still in view). A task the run changed is fetched once more after
//! its last op, and the replica takes that state — so a task with twenty
//! comments queued costs twenty requests and one refresh, not forty.

use std::collections::{BTreeSet, HashMap};

use super::{
    Event, Next, Options, Run, SyncError, adopt, concurrently, now, precondition, store_refreshed,
};
use crate::model::TaskRecord;
use crate::outbox::{self, Op, OpKind, OpRequest};
use crate::remote::{RemoteError, RemoteErrorKind};

/// What one replay knows about the tasks between their ops.
#[derive(Default)]
pub(super) struct Between {
    /// Task states that answer the next op's precondition, by key (`None`:
    /// the task is not in the user's view). Taken out when an op is checked
    /// against one; put back only after a comment.
    known: HashMap<String, Option<TaskRecord>>,
    /// Tasks changed by applied ops and not fetched since, with the last
    /// such op's kind and the task it concerns now: stored when next
    /// fetched, or at the end of the replay.
    stale: HashMap<String, (OpKind, Option<i64>)>,
}

impl Run<'_> {
    pub(super) async fn replay(&mut self, options: &Options) -> Result<(), SyncError> {
        let concurrency = options.concurrency.max(1);
        let mut between = Between::default();
        let mut done = 0;
        let mut of = 0;
        loop {
            let tried: Vec<i64> = self.tried.iter().copied().collect();
            let mut batch = outbox::ready(
                self.replica.conn(),
                self.account.id,
                now(),
                &tried,
                options.batch.max(1),
            )?;
            // Claims (ops without a task) one at a time: a claim in doubt is
            // told apart from the others by what the others took.
            let mut claim = false;
            batch.retain(|op| op.task_id.is_some() || !std::mem::replace(&mut claim, true));
            if batch.is_empty() {
                break;
            }
            of = of.max(done + batch.len());
            (self.progress)(Event::Sending {
                account: self.account.name.clone(),
                done,
                of,
            });
            self.tried.extend(batch.iter().map(|op| op.seq));
            done += batch.len();
            self.send_batch(batch, &mut between, concurrency).await?;
        }
        self.refresh_stale(between.stale, concurrency).await
    }

    async fn send_batch(
        &mut self,
        batch: Vec<Op>,
        between: &mut Between,
        concurrency: usize,
    ) -> Result<(), SyncError> {
        let checking = self.refuse_unsupported(batch)?;
        let unreadable = self.fetch_states(&checking, between, concurrency).await?;
        let sending = self.check_preconditions(checking, unreadable, &mut between.known)?;
        if sending.is_empty() {
            return Ok(());
        }

        // The ops may be on the wire from here on: say so durably first.
        let at = now();
        let seqs: Vec<i64> = sending.iter().map(|(op, _, _)| op.seq).collect();
        self.replica
            .write(|tx| outbox::mark_batch_sending(tx, &seqs, at))?;
        let remote = self.remote;
        let answers = concurrently(concurrency, &sending, |(op, _, fresh)| {
            remote.execute(op, fresh.as_ref())
        })
        .await;

        // What the server applied is marked done together, before anything
        // else is asked: a claim in doubt is told apart by what done claims
        // took.
        let mut applied = Vec::new();
        let mut refused = Vec::new();
        for ((op, key, fresh), answer) in sending.into_iter().zip(answers) {
            match answer {
                Ok(outcome) => applied.push((op, outcome, key, fresh)),
                Err(e) => refused.push((op, e)),
            }
        }
        let adopted = self.replica.write(|tx| {
            let done: Vec<_> = applied
                .iter()
                .map(|(op, outcome, _, _)| outbox::Applied {
                    seq: op.seq,
                    result: &outcome.result,
                    key: outcome.key.as_deref(),
                })
                .collect();
            outbox::mark_batch_done(tx, &done, now())?;
            applied
                .iter()
                .map(|(op, outcome, _, _)| adopt(tx, op, outcome))
                .collect::<crate::Result<Vec<_>>>()
        })?;
        self.report.applied += applied.len();
        for ((op, outcome, key, fresh), adopted) in applied.into_iter().zip(adopted) {
            // Done, it cannot be ready again: `ready` need not skip it.
            self.tried.remove(&op.seq);
            if let Some(touched) = self.touched_key(&op, outcome.key.as_deref())? {
                between.stale.insert(touched, (op.kind, adopted));
            }
            if let (OpKind::CommentAdd, Some(key)) = (op.kind, key) {
                between.known.insert(key, fresh);
            }
        }

        let mut stop = None;
        for (op, e) in refused {
            if let Next::Stop(e) = self.failed_after_sending(&op, e).await
                && stop.is_none()
            {
                stop = Some(e);
            }
        }
        // Applied ops are recorded; their tasks refresh in the next run.
        stop.map_or(Ok(()), Err)
    }

    /// Fails at once what the server cannot do; the rest comes back with
    /// the key of the task each op is about.
    fn refuse_unsupported(&mut self, batch: Vec<Op>) -> Result<Checking, SyncError> {
        let caps = self.remote.capabilities();
        let mut checking = Vec::with_capacity(batch.len());
        for op in batch {
            if caps.supports(op.kind) {
                let key = match op.request {
                    OpRequest::Allocate { .. } | OpRequest::CreateTask(_) => None,
                    _ => self.key_of(&op)?,
                };
                checking.push((op, key));
                continue;
            }
            self.report.failed += 1;
            let op_ref = op.op_id.to_string();
            let message = format!("this server cannot do a {}", op.kind);
            self.settle(|tx, at| outbox::mark_failed(tx, &op_ref, "permanent", &message, at))
                .into_result()?;
        }
        Ok(checking)
    }

    /// Fetches the fresh state of each task the batch is about and not yet
    /// known, once per task; a task the replay changed is stored as fetched.
    /// Returns why the tasks that could not be read could not.
    async fn fetch_states(
        &mut self,
        checking: &Checking,
        between: &mut Between,
        concurrency: usize,
    ) -> Result<HashMap<String, RemoteError>, SyncError> {
        let wanted: Vec<String> = checking
            .iter()
            .filter_map(|(_, key)| key.clone())
            .filter(|key| !between.known.contains_key(key))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let remote = self.remote;
        let fetched = concurrently(concurrency, &wanted, |key| remote.fetch(key)).await;
        let mut states = Vec::with_capacity(wanted.len());
        let mut unreadable = HashMap::new();
        for (key, result) in wanted.into_iter().zip(fetched) {
            match result {
                Ok(state) => states.push((key, state)),
                // Nothing of this batch has left yet: stopping loses nothing.
                Err(e) if matches!(e.kind, RemoteErrorKind::Auth | RemoteErrorKind::Offline) => {
                    return Err(SyncError::from_remote(e));
                }
                Err(e) => {
                    unreadable.insert(key, e);
                }
            }
        }
        let refreshed: Vec<_> = states
            .iter()
            .filter_map(|(key, state)| Some((between.stale.remove(key)?, state.as_ref())))
            .collect();
        if !refreshed.is_empty() {
            let account_id = self.account.id;
            self.replica.write(|tx| {
                let at = now();
                for ((kind, adopted), state) in &refreshed {
                    store_refreshed(tx, account_id, *kind, *adopted, *state, at)?;
                }
                Ok(())
            })?;
        }
        between.known.extend(states);
        Ok(unreadable)
    }

    /// Checks each op against its task's state (taken out of `known`:
    /// whatever happens to the op, the state no longer answers for the
    /// task's next one). What passes comes back to be sent.
    fn check_preconditions(
        &mut self,
        checking: Checking,
        mut unreadable: HashMap<String, RemoteError>,
        known: &mut HashMap<String, Option<TaskRecord>>,
    ) -> Result<Sending, SyncError> {
        let mut sending = Vec::with_capacity(checking.len());
        for (op, key) in checking {
            if let Some(e) = key.as_deref().and_then(|k| unreadable.remove(k)) {
                self.failed_before_sending(&op, e).into_result()?;
                continue;
            }
            let fresh = key.as_ref().and_then(|k| known.remove(k)).flatten();
            if let Err(precondition::Conflict(reason)) = precondition::check(&op, fresh.as_ref()) {
                self.conflict(&op, fresh.as_ref(), &reason).into_result()?;
                continue;
            }
            sending.push((op, key, fresh));
        }
        Ok(sending)
    }

    /// Fetches the tasks the replay changed since they were last fetched
    /// and stores them. A failure here only delays it to the next pull.
    async fn refresh_stale(
        &mut self,
        stale: HashMap<String, (OpKind, Option<i64>)>,
        concurrency: usize,
    ) -> Result<(), SyncError> {
        if stale.is_empty() {
            return Ok(());
        }
        let stale: Vec<_> = stale.into_iter().collect();
        let remote = self.remote;
        let states = concurrently(concurrency, &stale, |(key, _)| remote.fetch(key)).await;
        let account_id = self.account.id;
        self.replica.write(|tx| {
            let at = now();
            for ((_, (kind, adopted)), state) in stale.iter().zip(&states) {
                if let Ok(state) = state {
                    store_refreshed(tx, account_id, *kind, *adopted, state.as_ref(), at)?;
                }
            }
            Ok(())
        })?;
        Ok(())
    }
}

/// A batch's ops with the key of the task each is about.
type Checking = Vec<(Op, Option<String>)>;

/// Ops that passed their check, with their task's key and the state they
/// were checked against.
type Sending = Vec<(Op, Option<String>, Option<TaskRecord>)>;

//! The app's background sync: one thread, every account on its own
//! schedule — every `interval`, at once when asked or when actions were
//! queued, and while a server cannot be reached, again after 5 s, 10 s,
//! 20 s ... up to the interval. The same `tasklane_core::sync` engine as
//! `tasklane sync --watch`, so the exactly-once rules are one code path.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tasklane_connect::{ConnectError, Remotes};
use tasklane_core::Replica;
use tasklane_core::model::Account;
use tasklane_core::replica::{accounts, sync_state};
use tasklane_core::sync::notify::Notifier;
use tasklane_core::sync::{self, Event, Options, Report, SyncError};
use tasklane_core::time::now;
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};
use tokio::time::Instant;

use crate::app::{App, Wake};
use crate::events::AppEvent;
use crate::types::{SyncPhase, SyncProgress};

#[derive(Debug, Clone)]
pub struct Schedule {
    /// Between two syncs of an account that is reachable.
    pub interval: Duration,
    /// After actions were queued, wait this long for more (a bulk action
    /// is one sync, not one per task).
    pub gather: Duration,
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule {
            interval: Duration::from_secs(60),
            gather: Duration::from_millis(300),
        }
    }
}

/// Starts the loop on its own thread; it ends when `app` drops its sender
/// (never, in the app) or the thread's runtime cannot start.
pub fn spawn(
    app: Arc<App>,
    notifier: Arc<dyn Notifier>,
    schedule: Schedule,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    let (tx, rx) = unbounded_channel();
    app.attach_sync(tx);
    std::thread::Builder::new()
        .name("tasklane-sync".into())
        .spawn(move || {
            // The sync runs on this thread; one worker carries the HTTP
            // connections, so that the next listing page, read ahead,
            // travels while this thread decodes and merges the last.
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("tasklane-sync-io")
                .enable_all()
                .build()
            {
                Ok(r) => r,
                Err(e) => {
                    tracing::error!("the sync loop cannot start: {e}");
                    return;
                }
            };
            runtime.block_on(run(app, notifier, schedule, rx));
        })
}

async fn run(
    app: Arc<App>,
    notifier: Arc<dyn Notifier>,
    schedule: Schedule,
    mut rx: UnboundedReceiver<Wake>,
) {
    // Its own connection: a long sync never holds the one the UI reads with.
    let mut replica = match Replica::open(&app.replica_path()) {
        Ok(r) => r,
        Err(e) => {
            tracing::error!("the sync loop cannot open the replica: {e}");
            return;
        }
    };
    let mut remotes = Remotes::new(app.connector().clone(), None);
    let mut due: HashMap<i64, Instant> = HashMap::new();
    let mut offline_for: HashMap<i64, u32> = HashMap::new();
    loop {
        let all = match accounts::list(replica.conn()) {
            Ok(all) => all,
            Err(e) => {
                tracing::error!("the sync loop cannot read the accounts: {e}");
                Vec::new()
            }
        };
        let started = Instant::now();
        let ready: Vec<&Account> = all
            .iter()
            .filter(|a| due.get(&a.id).is_none_or(|t| *t <= started))
            .collect();
        for account in ready {
            let outcome =
                sync_one(&app, &mut replica, &mut remotes, notifier.as_ref(), account).await;
            let wait = match outcome {
                Outcome::Offline => {
                    let n = offline_for.entry(account.id).or_insert(0);
                    *n += 1;
                    Duration::from_secs(5u64 << (*n - 1).min(10)).min(schedule.interval)
                }
                _ => {
                    offline_for.remove(&account.id);
                    schedule.interval
                }
            };
            due.insert(account.id, Instant::now() + wait);
        }
        due.retain(|id, _| all.iter().any(|a| a.id == *id));
        let next = due
            .values()
            .min()
            .copied()
            .unwrap_or_else(|| Instant::now() + schedule.interval);
        tokio::select! {
            wake = rx.recv() => {
                let Some(wake) = wake else { return };
                // Gather what else arrives meanwhile (bulk actions).
                tokio::time::sleep(schedule.gather).await;
                let mut wakes = vec![wake];
                while let Ok(more) = rx.try_recv() {
                    wakes.push(more);
                }
                for wake in wakes {
                    match wake {
                        Wake::Now(ids) if ids.is_empty() => due.clear(),
                        Wake::Now(ids) => ids.iter().for_each(|id| { due.remove(id); }),
                        Wake::Queued(id) => { due.remove(&id); }
                    }
                }
            }
            _ = tokio::time::sleep_until(next) => {}
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Done,
    Offline,
    Failed,
}

#[tracing::instrument(level = "debug", skip_all, fields(account = %account.name))]
async fn sync_one(
    app: &App,
    replica: &mut Replica,
    remotes: &mut Remotes,
    notifier: &dyn Notifier,
    account: &Account,
) -> Outcome {
    let remote = match remotes.get(account) {
        Ok(r) => r,
        Err(e) => {
            // No password (or no keychain): the account cannot sync until
            // the user fixes it; say so where the status bar reads it.
            let kind = match e {
                ConnectError::NoPassword(_) => "auth",
                ConnectError::Secret(_) => "keychain",
                _ => "config",
            };
            let message = e.to_string();
            if let Err(e) = replica
                .write(|tx| sync_state::record_failure(tx, account.id, kind, &message, now()))
            {
                tracing::error!("cannot record the sync failure: {e}");
            }
            app.update_live(account.id, |l| l.syncing = false);
            return Outcome::Failed;
        }
    };
    let capabilities = remote.capabilities();
    app.update_live(account.id, |l| {
        l.syncing = true;
        l.capabilities = Some(capabilities);
    });
    let events = app.events().clone();
    let on_event = move |event: Event| {
        events.emit(AppEvent::SyncProgress(progress(&event)));
    };
    let result = sync::sync_account(
        replica,
        account,
        remote,
        notifier,
        &on_event,
        &Options::default(),
    )
    .await;
    let outcome = match &result {
        Ok(report) => {
            if report.full {
                // The run gathered fresh planner statistics: the window's
                // queries should use them now, not from the next start.
                app.reload_statistics();
            }
            announce(app, report);
            Outcome::Done
        }
        Err(SyncError::Offline(_)) => Outcome::Offline,
        Err(e) => {
            tracing::warn!("{}: {e}", account.name);
            if matches!(e, SyncError::Auth(_)) {
                // The password may be changed meanwhile: read it again next time.
                remotes.forget(account.id);
            }
            Outcome::Failed
        }
    };
    let online = match &result {
        Ok(_) | Err(SyncError::Auth(_)) | Err(SyncError::Remote(_)) => Some(true),
        Err(SyncError::Offline(_)) => Some(false),
        Err(SyncError::Store(_)) => None,
    };
    app.update_live(account.id, |l| {
        l.syncing = false;
        if online.is_some() {
            l.online = online;
        }
    });
    outcome
}

/// Tells the UI what a run changed.
fn announce(app: &App, report: &Report) {
    let tasks_changed =
        report.inserted + report.updated + report.gone + report.removed + report.refreshed;
    let ops_changed =
        report.applied + report.conflicts + report.failed + report.retrying + report.in_doubt;
    if tasks_changed + ops_changed > 0 {
        app.events().emit(AppEvent::ReplicaChanged(None));
    }
    if ops_changed > 0 {
        app.events().emit(AppEvent::OutboxChanged(Vec::new()));
    }
}

fn progress(event: &Event) -> SyncProgress {
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    match event {
        Event::Resolving { account, ops } => SyncProgress {
            account: account.clone(),
            phase: SyncPhase::Push,
            done: 0,
            total: Some(count(*ops)),
        },
        Event::Pulling {
            account,
            tasks,
            total,
            ..
        } => SyncProgress {
            account: account.clone(),
            phase: SyncPhase::Pull,
            done: count(*tasks),
            total: total.map(|t| u32::try_from(t).unwrap_or(u32::MAX)),
        },
        Event::Refreshing { account, done, of } => SyncProgress {
            account: account.clone(),
            phase: SyncPhase::Refresh,
            done: count(*done),
            total: Some(count(*of)),
        },
        Event::Sending { account, done, of } => SyncProgress {
            account: account.clone(),
            phase: SyncPhase::Push,
            done: count(*done),
            total: Some(count(*of)),
        },
    }
}

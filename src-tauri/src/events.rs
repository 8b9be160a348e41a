//! The events the app sends the UI (docs/app-api.md, "Events"), behind a
//! trait so the commands can be tested without a window.

use std::sync::Mutex;

use crate::types::{AccountStatus, SyncProgress};

#[derive(Debug, Clone, PartialEq)]
pub enum AppEvent {
    /// Tasks changed; `None`: many or unknown.
    ReplicaChanged(Option<Vec<i64>>),
    OutboxChanged(Vec<String>),
    SyncStatus(Box<AccountStatus>),
    SyncProgress(SyncProgress),
    OpenTask(i64),
}

impl AppEvent {
    /// The event's name on the wire.
    pub fn name(&self) -> &'static str {
        match self {
            AppEvent::ReplicaChanged(_) => "replica-changed",
            AppEvent::OutboxChanged(_) => "outbox-changed",
            AppEvent::SyncStatus(_) => "sync-status",
            AppEvent::SyncProgress(_) => "sync-progress",
            AppEvent::OpenTask(_) => "open-task",
        }
    }
}

pub trait Events: Send + Sync + std::fmt::Debug {
    fn emit(&self, event: AppEvent);
}

/// Keeps every event, for tests.
#[derive(Debug, Default)]
pub struct Recorded {
    events: Mutex<Vec<AppEvent>>,
}

impl Recorded {
    pub fn take(&self) -> Vec<AppEvent> {
        std::mem::take(&mut *self.events.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

impl Events for Recorded {
    fn emit(&self, event: AppEvent) {
        self.events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(event);
    }
}

/// Folds `replica-changed` events together: the ids of several become one
/// event; any `None` (reload everything) absorbs the rest. The shell
/// flushes this at most every 250 ms, so a sync writing thousands of tasks
/// costs the UI one reload, not thousands.
#[derive(Debug, Default)]
pub struct ChangedTasks {
    pending: Mutex<Option<Option<Vec<i64>>>>,
}

impl ChangedTasks {
    /// More than this many ids are sent as "reload".
    const MAX_IDS: usize = 500;

    pub fn add(&self, tasks: Option<Vec<i64>>) {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        *pending = Some(match (pending.take(), tasks) {
            (Some(None), _) | (_, None) => None,
            (None, Some(have)) => Self::capped(have, Vec::new()),
            (Some(Some(have)), Some(more)) => Self::capped(have, more),
        });
    }

    fn capped(mut have: Vec<i64>, more: Vec<i64>) -> Option<Vec<i64>> {
        have.extend(more);
        have.sort_unstable();
        have.dedup();
        (have.len() <= Self::MAX_IDS).then_some(have)
    }

    /// The folded event, if anything changed since the last call.
    pub fn take(&self) -> Option<AppEvent> {
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .map(AppEvent::ReplicaChanged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_fold_into_one_event_and_a_reload_absorbs_ids() {
        let c = ChangedTasks::default();
        assert_eq!(c.take(), None);
        c.add(Some(vec![3, 1]));
        c.add(Some(vec![1, 2]));
        assert_eq!(
            c.take(),
            Some(AppEvent::ReplicaChanged(Some(vec![1, 2, 3])))
        );
        assert_eq!(c.take(), None);
        c.add(Some(vec![1]));
        c.add(None);
        c.add(Some(vec![2]));
        assert_eq!(c.take(), Some(AppEvent::ReplicaChanged(None)));
        c.add(Some((0..600).collect()));
        assert_eq!(c.take(), Some(AppEvent::ReplicaChanged(None)));
    }
}

//! The app-level types' TypeScript bindings, written next to the core's
//! in `ui/src/lib/bindings/`; `tests/bindings.rs` fails when they are stale.

use std::path::Path;

use ts_rs::{ExportError, TS};

use crate::error::AppError;
use crate::types::{
    AccountStatus, AccountTest, OpenTask, OutboxChanged, Preferences, QueueItem, QueueResult,
    ReplicaChanged, SavedView, SyncProgress, TaskRelated,
};

pub fn export_all(dir: &Path) -> Result<(), ExportError> {
    let cfg = tasklane_core::bindings::config(dir);
    AppError::export_all(&cfg)?;
    TaskRelated::export_all(&cfg)?;
    QueueItem::export_all(&cfg)?;
    QueueResult::export_all(&cfg)?;
    AccountStatus::export_all(&cfg)?;
    AccountTest::export_all(&cfg)?;
    SyncProgress::export_all(&cfg)?;
    SavedView::export_all(&cfg)?;
    Preferences::export_all(&cfg)?;
    ReplicaChanged::export_all(&cfg)?;
    OutboxChanged::export_all(&cfg)?;
    OpenTask::export_all(&cfg)?;
    Ok(())
}

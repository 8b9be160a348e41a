//! TypeScript bindings for the desktop UI, generated from the Rust types
//! with ts-rs, so that the UI and the core agree on one definition of every
//! value that crosses between them. They are committed under
//! `ui/src/lib/bindings/`; `tests/bindings.rs` fails when they are stale.

use std::path::Path;

use ts_rs::{Config, ExportError, TS};

use crate::error::ErrorKind;
use crate::model::{Account, AccountSettings, NewAccount, TaskRecord};
use crate::outbox::Op;
use crate::query::{Page, Query};
use crate::remote::Capabilities;
use crate::replica::sync_state::SyncState;
use crate::replica::{IngestStats, TaskDetail, TaskRow};

/// The ts-rs settings: JSON numbers stay `number` (Tauri sends them so).
pub fn config(dir: &Path) -> Config {
    Config::new().with_large_int("number").with_out_dir(dir)
}

/// Writes the bindings of every type the UI uses (with their
/// dependencies) into `dir`.
pub fn export_all(dir: &Path) -> Result<(), ExportError> {
    let cfg = config(dir);
    TaskRow::export_all(&cfg)?;
    TaskDetail::export_all(&cfg)?;
    TaskRecord::export_all(&cfg)?;
    Page::export_all(&cfg)?;
    Query::export_all(&cfg)?;
    Op::export_all(&cfg)?;
    Account::export_all(&cfg)?;
    NewAccount::export_all(&cfg)?;
    AccountSettings::export_all(&cfg)?;
    SyncState::export_all(&cfg)?;
    Capabilities::export_all(&cfg)?;
    IngestStats::export_all(&cfg)?;
    ErrorKind::export_all(&cfg)?;
    Ok(())
}

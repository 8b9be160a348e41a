//! The app-level types of docs/app-api.md, exported to TypeScript with
//! ts-rs (`bindings.rs`), next to the core's own.

use serde::{Deserialize, Serialize};
use tasklane_core::model::Account;
use tasklane_core::outbox::{Op, OpRequest};
use tasklane_core::query::Query;
use tasklane_core::remote::Capabilities;
use tasklane_core::replica::TaskRow;
use tasklane_core::replica::sync_state::SyncState;
use ts_rs::TS;

use crate::error::AppError;

/// A task's parent (when it is in the replica) and its children by position.
#[derive(Debug, Clone, Serialize, TS)]
pub struct TaskRelated {
    pub parent: Option<TaskRow>,
    pub children: Vec<TaskRow>,
}

/// One item of a bulk action.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct QueueItem {
    pub account: String,
    pub task_id: Option<i64>,
    pub request: OpRequest,
}

/// Each bulk item is queued or refused on its own.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum QueueResult {
    Ok(Box<Op>),
    Error(AppError),
}

/// An account with how its sync is going.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct AccountStatus {
    pub account: Account,
    /// `None` until the account's remote was built once.
    pub capabilities: Option<Capabilities>,
    pub sync: SyncState,
    /// `None`: not tried yet.
    pub online: Option<bool>,
    pub syncing: bool,
    /// Ops pending or sending.
    pub queue: u32,
    /// Ops failed or in conflict.
    pub attention: u32,
}

/// What testing an account's settings found.
#[derive(Debug, Clone, Serialize, TS)]
pub struct AccountTest {
    pub ok: bool,
    pub message: String,
    /// Tasks on the first page, when the login worked.
    pub tasks: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum SyncPhase {
    Pull,
    Push,
    Refresh,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct SyncProgress {
    pub account: String,
    pub phase: SyncPhase,
    pub done: u32,
    pub total: Option<u32>,
}

/// A named query. Built-in views' names are translation keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct SavedView {
    pub id: String,
    pub name: String,
    pub query: Query,
    #[serde(default)]
    pub builtin: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
pub enum Language {
    #[default]
    #[serde(rename = "auto")]
    Auto,
    #[serde(rename = "en")]
    En,
    #[serde(rename = "zh-TW")]
    ZhTw,
    #[serde(rename = "de")]
    De,
    #[serde(rename = "ja")]
    Ja,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
pub struct Preferences {
    #[serde(default)]
    pub language: Language,
}

/// `replica-changed`: `None` means many or unknown (reload).
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct ReplicaChanged {
    pub tasks: Option<Vec<i64>>,
}

/// `outbox-changed`.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct OutboxChanged {
    pub ops: Vec<String>,
}

/// `open-task`.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct OpenTask {
    pub task_id: i64,
}

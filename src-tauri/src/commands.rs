//! The Tauri commands of docs/app-api.md: each one line over [`App`].
//! `async` so none of them runs on the window's main thread.

use std::sync::Arc;

use serde_json::{Map, Value};
use tasklane_core::model::NewAccount;
use tasklane_core::outbox::{Op, OpRequest, OpState};
use tasklane_core::query::{Page, Query};
use tasklane_core::replica::{TaskDetail, TaskRow};
use tauri::State;

use crate::app::App;
use crate::error::AppResult;
use crate::types::{
    AccountStatus, AccountTest, Preferences, QueueItem, QueueResult, SavedView, TaskRelated,
};

type AppState<'a> = State<'a, Arc<App>>;

// Tasks

#[tauri::command]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list_tasks(app: AppState<'_>, query: Query) -> AppResult<Page> {
    app.list_tasks(&query)
}

#[tauri::command]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn task_ids(app: AppState<'_>, query: Query) -> AppResult<Vec<i64>> {
    app.task_ids(&query)
}

#[tauri::command]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn tasks_by_id(app: AppState<'_>, ids: Vec<i64>) -> AppResult<Vec<TaskRow>> {
    app.tasks_by_id(&ids)
}

#[tauri::command]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn task_detail(app: AppState<'_>, id: i64) -> AppResult<TaskDetail> {
    app.task_detail(id)
}

#[tauri::command]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn task_related(app: AppState<'_>, id: i64) -> AppResult<TaskRelated> {
    app.task_related(id)
}

// Acting

#[tauri::command]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn queue_op(
    app: AppState<'_>,
    account: String,
    task_id: Option<i64>,
    request: OpRequest,
) -> AppResult<Op> {
    app.queue_op(&account, task_id, request)
}

#[tauri::command]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn queue_ops(app: AppState<'_>, items: Vec<QueueItem>) -> AppResult<Vec<QueueResult>> {
    Ok(app.queue_ops(items))
}

#[tauri::command]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn outbox(app: AppState<'_>, states: Vec<OpState>) -> AppResult<Vec<Op>> {
    app.outbox(&states)
}

#[tauri::command]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn outbox_retry(app: AppState<'_>, op: String) -> AppResult<Op> {
    app.outbox_retry(&op)
}

#[tauri::command]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn outbox_edit(app: AppState<'_>, op: String, request: OpRequest) -> AppResult<Op> {
    app.outbox_edit(&op, request)
}

#[tauri::command]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn outbox_discard(app: AppState<'_>, op: String) -> AppResult<Op> {
    app.outbox_discard(&op)
}

// Accounts and sync

#[tauri::command]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn accounts(app: AppState<'_>) -> AppResult<Vec<AccountStatus>> {
    app.accounts()
}

#[tauri::command]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn account_test(
    app: AppState<'_>,
    account: NewAccount,
    password: Option<String>,
) -> AppResult<AccountTest> {
    // Held across the network round trip: an owned handle, not the borrow.
    let app = Arc::clone(&app);
    app.account_test(&account, password.as_deref()).await
}

#[tauri::command]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn account_add(
    app: AppState<'_>,
    account: NewAccount,
    password: Option<String>,
) -> AppResult<AccountStatus> {
    app.account_add(account, password.as_deref())
}

#[tauri::command]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn account_update(
    app: AppState<'_>,
    name: String,
    settings: Map<String, Value>,
    password: Option<String>,
) -> AppResult<AccountStatus> {
    app.account_update(&name, settings, password.as_deref())
}

#[tauri::command]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn account_remove(app: AppState<'_>, name: String, force: bool) -> AppResult<()> {
    app.account_remove(&name, force)
}

#[tauri::command]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn sync_now(app: AppState<'_>, account: Option<String>) -> AppResult<()> {
    app.sync_now(account.as_deref())
}

// Views and preferences

#[tauri::command]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn views(app: AppState<'_>) -> AppResult<Vec<SavedView>> {
    app.views()
}

#[tauri::command]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn view_save(app: AppState<'_>, view: SavedView) -> AppResult<Vec<SavedView>> {
    app.view_save(view)
}

#[tauri::command]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn view_delete(app: AppState<'_>, id: String) -> AppResult<Vec<SavedView>> {
    app.view_delete(&id)
}

#[tauri::command]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn preferences(app: AppState<'_>) -> AppResult<Preferences> {
    Ok(app.preferences())
}

#[tauri::command]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn startup_task(app: AppState<'_>) -> AppResult<Option<i64>> {
    Ok(app.take_startup_task())
}

#[tauri::command]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_preferences(
    app: AppState<'_>,
    preferences: Preferences,
) -> AppResult<Preferences> {
    app.set_preferences(preferences)
}

//! The app's commands, free of Tauri: the shell (`shell.rs`) only adapts
//! them, so every command is tested here against a real replica file and
//! the real engine.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use tasklane_connect::accounts::{self as admin, Keep};
use tasklane_connect::{Connector, DEFAULT_LOCAL_USER};
use tasklane_core::Replica;
use tasklane_core::model::{Account, AccountKind, NewAccount};
use tasklane_core::outbox::{self, Op, OpRequest, OpState};
use tasklane_core::query::{Column, Condition, Op as QueryOp, OrderKey, Page, Query, Value};
use tasklane_core::remote::Capabilities;
use tasklane_core::replica::{TaskDetail, TaskRow, accounts, sync_state, tasks};
use tasklane_core::time::now;
use tasklane_dialects::Password;
use tokio::sync::mpsc::UnboundedSender;

use crate::error::{AppError, AppResult};
use crate::events::{AppEvent, Events};
use crate::settings::Settings;
use crate::types::{
    AccountStatus, AccountTest, Preferences, QueueItem, QueueResult, SavedView, TaskRelated,
};

/// At most this many ids for a virtual list (the 100,000 tasks
/// with room to spare).
pub const MAX_IDS: u32 = 200_000;

/// What the sync loop is asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wake {
    /// Sync these accounts now (all when empty).
    Now(Vec<i64>),
    /// Ops were queued for this account: send them soon.
    Queued(i64),
}

/// What the sync loop knows about an account that the replica does not.
#[derive(Debug, Clone, Default)]
pub struct Live {
    pub online: Option<bool>,
    pub syncing: bool,
    pub capabilities: Option<Capabilities>,
}

#[derive(Debug)]
pub struct App {
    home: PathBuf,
    replica: Mutex<Replica>,
    connector: Arc<Connector>,
    settings: Mutex<Settings>,
    live: Mutex<HashMap<i64, Live>>,
    events: Arc<dyn Events>,
    wake: OnceLock<UnboundedSender<Wake>>,
    /// The task `--open-task` named at launch, until the window asks.
    startup_task: Mutex<Option<i64>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere must not take every later command down with it:
    // the replica's own transactions keep the data consistent.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl App {
    /// Opens the replica in `home`. A replica without accounts (the first
    /// start) gets a local account on the embedded engine, so there is a
    /// personal list before any server is added.
    #[tracing::instrument(level = "debug", skip_all)]
    pub fn open(
        home: &Path,
        connector: Arc<Connector>,
        events: Arc<dyn Events>,
    ) -> AppResult<Arc<App>> {
        std::fs::create_dir_all(home).map_err(|e| {
            AppError::new(
                crate::error::AppErrorKind::Storage,
                format!("cannot create {}: {e}", home.display()),
            )
        })?;
        let mut replica = Replica::open(&home.join(REPLICA_FILE))?;
        if accounts::list(replica.conn())?.is_empty() {
            let personal = NewAccount::new("Personal", AccountKind::Local).user(DEFAULT_LOCAL_USER);
            admin::add(&mut replica, &connector, personal, None, Keep::Keychain)?;
        }
        Ok(Arc::new(App {
            home: home.to_path_buf(),
            replica: Mutex::new(replica),
            connector,
            settings: Mutex::new(Settings::load(home)),
            live: Mutex::new(HashMap::new()),
            events,
            wake: OnceLock::new(),
            startup_task: Mutex::new(None),
        }))
    }

    pub fn home(&self) -> &Path {
        &self.home
    }

    pub fn replica_path(&self) -> PathBuf {
        self.home.join(REPLICA_FILE)
    }

    pub fn connector(&self) -> &Arc<Connector> {
        &self.connector
    }

    pub fn events(&self) -> &Arc<dyn Events> {
        &self.events
    }

    /// Connects the sync loop; until then actions are only queued.
    pub fn attach_sync(&self, wake: UnboundedSender<Wake>) {
        let _ = self.wake.set(wake);
    }

    fn wake(&self, what: Wake) {
        if let Some(tx) = self.wake.get() {
            let _ = tx.send(what);
        }
    }

    /// Changes what the sync loop reports about an account, and tells the UI.
    #[tracing::instrument(level = "debug", skip_all)]
    pub fn update_live(&self, account_id: i64, f: impl FnOnce(&mut Live)) {
        {
            let mut live = lock(&self.live);
            f(live.entry(account_id).or_default());
        }
        let status = {
            let replica = lock(&self.replica);
            accounts::by_id(replica.conn(), account_id).and_then(|a| self.status_of(&replica, a))
        };
        match status {
            Ok(status) => self.events.emit(AppEvent::SyncStatus(Box::new(status))),
            // The account was removed meanwhile: nothing to show.
            Err(e) => tracing::debug!("no status for account {account_id}: {e}"),
        }
    }

    /// Plans the window's queries with the statistics a sync gathered on
    /// its own connection. A failure only leaves the older plans.
    pub fn reload_statistics(&self) {
        if let Err(e) = lock(&self.replica).reload_statistics() {
            tracing::warn!("cannot reload the query planner's statistics: {e}");
        }
    }

    // ---- tasks --------------------------------------------------------

    pub fn list_tasks(&self, query: &Query) -> AppResult<Page> {
        Ok(lock(&self.replica).page(query)?)
    }

    pub fn task_ids(&self, query: &Query) -> AppResult<Vec<i64>> {
        Ok(lock(&self.replica).ids(query, MAX_IDS)?)
    }

    pub fn tasks_by_id(&self, ids: &[i64]) -> AppResult<Vec<TaskRow>> {
        if ids.len() > tasklane_core::query::MAX_COUNT as usize {
            return Err(AppError::invalid(format!(
                "at most {} rows at once",
                tasklane_core::query::MAX_COUNT
            )));
        }
        let replica = lock(&self.replica);
        let mut rows = Vec::with_capacity(ids.len());
        for id in ids {
            match tasks::row(replica.conn(), *id) {
                Ok(row) => rows.push(row),
                // Deleted since the ids were fetched: left out, as documented.
                Err(tasklane_core::Error::TaskNotFound(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(rows)
    }

    pub fn task_detail(&self, id: i64) -> AppResult<TaskDetail> {
        Ok(lock(&self.replica).task(id)?)
    }

    pub fn task_related(&self, id: i64) -> AppResult<TaskRelated> {
        let replica = lock(&self.replica);
        let task = tasks::row(replica.conn(), id)?;
        let in_account = Condition {
            column: Column::Account,
            op: QueryOp::Eq,
            value: Value::Text(task.account.clone()),
        };
        let parent = match &task.parent_key {
            Some(parent_key) => replica
                .query(&Query {
                    conditions: vec![
                        in_account.clone(),
                        Condition {
                            column: Column::Key,
                            op: QueryOp::Eq,
                            value: Value::Text(parent_key.clone()),
                        },
                    ],
                    count: 1,
                    ..Query::default()
                })?
                .into_iter()
                .next(),
            None => None,
        };
        let children = replica.query(&Query {
            conditions: vec![
                in_account,
                Condition {
                    column: Column::Parent,
                    op: QueryOp::Eq,
                    value: Value::Text(task.key.clone()),
                },
            ],
            order: vec![OrderKey {
                column: Column::Position,
                descending: false,
            }],
            count: tasklane_core::query::MAX_COUNT,
            ..Query::default()
        })?;
        Ok(TaskRelated { parent, children })
    }

    // ---- acting -------------------------------------------------------

    /// Queues one action (works offline); the sync loop sends it soon.
    pub fn queue_op(
        &self,
        account: &str,
        task_id: Option<i64>,
        request: OpRequest,
    ) -> AppResult<Op> {
        let op = {
            let mut replica = lock(&self.replica);
            queue_one(&mut replica, account, task_id, request)?
        };
        self.after_queue(&[&op]);
        Ok(op)
    }

    /// Bulk: each item is queued or refused on its own, in order.
    pub fn queue_ops(&self, items: Vec<QueueItem>) -> Vec<QueueResult> {
        let results: Vec<QueueResult> = {
            let mut replica = lock(&self.replica);
            items
                .into_iter()
                .map(|item| {
                    match queue_one(&mut replica, &item.account, item.task_id, item.request) {
                        Ok(op) => QueueResult::Ok(Box::new(op)),
                        Err(e) => QueueResult::Error(e),
                    }
                })
                .collect()
        };
        let queued: Vec<&Op> = results
            .iter()
            .filter_map(|r| match r {
                QueueResult::Ok(op) => Some(op.as_ref()),
                QueueResult::Error(_) => None,
            })
            .collect();
        self.after_queue(&queued);
        results
    }

    fn after_queue(&self, ops: &[&Op]) {
        if ops.is_empty() {
            return;
        }
        let tasks: Vec<i64> = ops.iter().filter_map(|op| op.task_id).collect();
        self.events.emit(AppEvent::OutboxChanged(
            ops.iter().map(|op| op.op_id.to_string()).collect(),
        ));
        self.events.emit(AppEvent::ReplicaChanged(Some(tasks)));
        let mut accounts: Vec<i64> = ops.iter().map(|op| op.account_id).collect();
        accounts.dedup();
        for account in accounts {
            self.update_live(account, |_| {});
            self.wake(Wake::Queued(account));
        }
    }

    pub fn outbox(&self, states: &[OpState]) -> AppResult<Vec<Op>> {
        Ok(outbox::list(lock(&self.replica).conn(), states)?)
    }

    pub fn outbox_retry(&self, op: &str) -> AppResult<Op> {
        self.change_op(op, |tx, op| outbox::retry(tx, op, now()))
    }

    pub fn outbox_edit(&self, op: &str, request: OpRequest) -> AppResult<Op> {
        self.change_op(op, |tx, op| outbox::edit(tx, op, request, now()))
    }

    pub fn outbox_discard(&self, op: &str) -> AppResult<Op> {
        self.change_op(op, |tx, op| outbox::cancel(tx, op, now()))
    }

    fn change_op(
        &self,
        op: &str,
        f: impl FnOnce(&rusqlite::Transaction<'_>, &str) -> tasklane_core::Result<Op>,
    ) -> AppResult<Op> {
        let changed = lock(&self.replica).write(|tx| f(tx, op))?;
        self.after_queue(&[&changed]);
        Ok(changed)
    }

    // ---- accounts and sync ---------------------------------------------

    pub fn accounts(&self) -> AppResult<Vec<AccountStatus>> {
        let replica = lock(&self.replica);
        accounts::list(replica.conn())?
            .into_iter()
            .map(|a| Ok(self.status_of(&replica, a)?))
            .collect()
    }

    fn status_of(
        &self,
        replica: &Replica,
        account: Account,
    ) -> tasklane_core::Result<AccountStatus> {
        let (queue, attention) = op_counts(replica.conn(), account.id)?;
        let live = lock(&self.live)
            .get(&account.id)
            .cloned()
            .unwrap_or_default();
        Ok(AccountStatus {
            sync: sync_state::get(replica.conn(), account.id)?,
            account: shown(account),
            capabilities: live.capabilities,
            online: live.online,
            syncing: live.syncing,
            queue,
            attention,
        })
    }

    fn status(&self, name: &str) -> AppResult<AccountStatus> {
        let replica = lock(&self.replica);
        let account = accounts::get(replica.conn(), name)?;
        Ok(self.status_of(&replica, account)?)
    }

    /// Logs in with these settings and reads one page, storing nothing.
    /// A server that refuses or cannot be reached is a result (`ok:
    /// false` with the reason), not an error; bad settings are an error.
    pub async fn account_test(
        &self,
        new: &NewAccount,
        password: Option<&str>,
    ) -> AppResult<AccountTest> {
        admin::check(new)?;
        let draft = admin::draft(new);
        let password = match password.filter(|p| !p.is_empty()) {
            Some(p) => Some(Password::new(p)),
            // Testing a saved account again: its stored password.
            None => {
                let saved = accounts::find(lock(&self.replica).conn(), &new.name)?;
                match saved {
                    Some(saved) if saved.kind == new.kind => self.connector.password(&saved)?,
                    _ => None,
                }
            }
        };
        if new.kind != AccountKind::Local && password.is_none() {
            return Err(AppError::invalid("enter the password to test the account"));
        }
        let remote = self.connector.remote(&draft, password)?;
        Ok(match tasklane_connect::probe(remote.as_ref()).await {
            Ok(found) => AccountTest {
                ok: true,
                message: format!(
                    "Signed in as {}; the first page has {} task(s){}.",
                    if draft.user_name.is_empty() {
                        DEFAULT_LOCAL_USER
                    } else {
                        &draft.user_name
                    },
                    found.tasks,
                    match found.total {
                        Some(total) => format!(", {total} in all"),
                        None => String::new(),
                    }
                ),
                tasks: Some(u32::try_from(found.tasks).unwrap_or(u32::MAX)),
            },
            Err(e) => AccountTest {
                ok: false,
                message: AppError::from(e).message,
                tasks: None,
            },
        })
    }

    pub fn account_add(&self, new: NewAccount, password: Option<&str>) -> AppResult<AccountStatus> {
        let name = new.name.clone();
        let (account, _) = {
            let mut replica = lock(&self.replica);
            admin::add(&mut replica, &self.connector, new, password, Keep::Keychain)?
        };
        self.wake(Wake::Now(vec![account.id]));
        self.status(&name)
    }

    pub fn account_update(
        &self,
        name: &str,
        settings: serde_json::Map<String, serde_json::Value>,
        password: Option<&str>,
    ) -> AppResult<AccountStatus> {
        let account = {
            let mut replica = lock(&self.replica);
            admin::update(&mut replica, &self.connector, name, settings, password)?
        };
        self.wake(Wake::Now(vec![account.id]));
        self.status(name)
    }

    pub fn account_remove(&self, name: &str, force: bool) -> AppResult<()> {
        let (removed, leftover) = {
            let mut replica = lock(&self.replica);
            admin::remove(&mut replica, &self.connector, name, force)?
        };
        if let Some(e) = leftover {
            tracing::warn!(
                "the keychain entry of {:?} could not be removed: {e}",
                removed.name
            );
        }
        lock(&self.live).remove(&removed.id);
        self.events.emit(AppEvent::ReplicaChanged(None));
        self.events.emit(AppEvent::OutboxChanged(Vec::new()));
        Ok(())
    }

    /// Starts a sync of one account (or all) now; progress comes as events.
    pub fn sync_now(&self, account: Option<&str>) -> AppResult<()> {
        let ids = match account {
            Some(name) => vec![accounts::get(lock(&self.replica).conn(), name)?.id],
            None => Vec::new(),
        };
        self.wake(Wake::Now(ids));
        Ok(())
    }

    // ---- views and preferences -----------------------------------------

    fn account_list(&self) -> AppResult<Vec<Account>> {
        Ok(accounts::list(lock(&self.replica).conn())?)
    }

    pub fn views(&self) -> AppResult<Vec<SavedView>> {
        let accounts = self.account_list()?;
        Ok(lock(&self.settings).views(&accounts))
    }

    pub fn view_save(&self, view: SavedView) -> AppResult<Vec<SavedView>> {
        // The query must run before it is kept.
        lock(&self.replica).count(&view.query)?;
        let accounts = self.account_list()?;
        lock(&self.settings).save_view(view, &accounts)
    }

    pub fn view_delete(&self, id: &str) -> AppResult<Vec<SavedView>> {
        let accounts = self.account_list()?;
        lock(&self.settings).delete_view(id, &accounts)
    }

    /// Remembers the task the app was launched to open, for the window to
    /// ask for once it is listening (an event sent before would be lost).
    pub fn open_at_start(&self, task: i64) {
        *lock(&self.startup_task) = Some(task);
    }

    /// The task the app was launched to open, once.
    pub fn take_startup_task(&self) -> Option<i64> {
        lock(&self.startup_task).take()
    }

    pub fn preferences(&self) -> Preferences {
        lock(&self.settings).preferences()
    }

    pub fn set_preferences(&self, preferences: Preferences) -> AppResult<Preferences> {
        lock(&self.settings).set_preferences(preferences)
    }
}

/// The replica's file name in the tasklane home (shared with the CLI).
pub const REPLICA_FILE: &str = "replica.sqlite3";

fn queue_one(
    replica: &mut Replica,
    account: &str,
    task_id: Option<i64>,
    request: OpRequest,
) -> AppResult<Op> {
    Ok(replica.write(|tx| {
        let account = accounts::get(tx, account)?;
        if let Some(task) = task_id {
            let owner = tasks::account_of(tx, task)?;
            if owner.id != account.id {
                return Err(tasklane_core::Error::InvalidOp(format!(
                    "task {task} belongs to {:?}, not {:?}",
                    owner.name, account.name
                )));
            }
        }
        outbox::queue(tx, account.id, task_id, request, now())
    })?)
}

/// Ops (pending or sending, failed or in conflict) of one account.
fn op_counts(conn: &rusqlite::Connection, account_id: i64) -> tasklane_core::Result<(u32, u32)> {
    let (queue, attention): (i64, i64) = conn
        .query_row(
            "SELECT coalesce(sum(state IN ('pending', 'sending')), 0),
                    coalesce(sum(state IN ('failed', 'conflict')), 0)
             FROM outbox WHERE account_id = ?1",
            [account_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map_err(tasklane_core::Error::from)?;
    Ok((
        u32::try_from(queue).unwrap_or(u32::MAX),
        u32::try_from(attention).unwrap_or(u32::MAX),
    ))
}

/// An account as the UI sees it: the keychain entry's name is nobody's
/// business there (it is not a secret, but it is not a setting either).
fn shown(mut account: Account) -> Account {
    account.settings.remove(tasklane_connect::KEYCHAIN_ENTRY);
    account
}

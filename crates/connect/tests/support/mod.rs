//! What the sync tests share: a device (a replica file with one account),
//! the demo engine, and a proxy that breaks exchanges.

// Each test crate uses a part of this.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod proxy;

use std::sync::Arc;

use serde_json::Map;
use tasklane_core::Replica;
use tasklane_core::model::{Account, AccountKind, NewAccount};
use tasklane_core::outbox::{self, OpRequest, OpState};
use tasklane_core::remote::Remote;
use tasklane_core::replica::{accounts, tasks};
use tasklane_core::sync::notify::Recording;
use tasklane_core::sync::{self, Options, Report};
use tasklane_engine::{Engine, demo};

/// A dialect client for `user` at `url`, with the account settings given.
pub fn client_with(
    kind: AccountKind,
    url: &str,
    user: &str,
    password: &str,
    settings: serde_json::Value,
) -> Box<dyn Remote> {
    let account = Account {
        id: 1,
        name: "work".into(),
        kind,
        base_url: url.into(),
        user_name: user.into(),
        settings: settings.as_object().cloned().unwrap_or_default(),
        created_at: None,
    };
    tasklane_dialects::remote_for(&account, tasklane_dialects::Password::new(password)).unwrap()
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

pub fn demo_engine() -> Arc<Engine> {
    let engine = Engine::open_in_memory().unwrap();
    demo::load(&engine).unwrap();
    Arc::new(engine)
}

pub struct Device {
    _dir: tempfile::TempDir,
    pub replica: Replica,
    pub account: Account,
}

impl Device {
    pub fn new(kind: AccountKind, url: &str, user: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut replica = Replica::open(&dir.path().join("replica.sqlite3")).unwrap();
        let account = replica
            .write(|tx| {
                accounts::add(
                    tx,
                    &NewAccount {
                        name: "work".into(),
                        kind,
                        base_url: url.into(),
                        user_name: user.into(),
                        settings: Map::new(),
                    },
                )
            })
            .unwrap();
        Device {
            _dir: dir,
            replica,
            account,
        }
    }

    pub fn sync(&mut self, remote: &dyn Remote, notifier: &Recording) -> Report {
        self.try_sync(remote, notifier).unwrap()
    }

    /// One run that may fail (the server unreachable, an answer broken).
    pub fn try_sync(
        &mut self,
        remote: &dyn Remote,
        notifier: &Recording,
    ) -> Result<Report, sync::SyncError> {
        self.try_sync_with(remote, notifier, &Options::default())
    }

    /// One run with the options given.
    pub fn try_sync_with(
        &mut self,
        remote: &dyn Remote,
        notifier: &Recording,
        options: &Options,
    ) -> Result<Report, sync::SyncError> {
        runtime().block_on(sync::sync_account(
            &mut self.replica,
            &self.account,
            remote,
            notifier,
            &|_| {},
            options,
        ))
    }

    /// Time passes: every op waiting out a backoff is due now.
    pub fn make_due(&mut self) {
        self.replica
            .conn()
            .execute("UPDATE outbox SET not_before = NULL", [])
            .unwrap();
    }

    /// Every op of the device: (op id, state, last error).
    pub fn ops(&self) -> Vec<(String, OpState, Option<String>)> {
        outbox::list(self.replica.conn(), &[])
            .unwrap()
            .into_iter()
            .map(|op| (op.op_id.to_string(), op.state, op.last_error))
            .collect()
    }

    /// (task id, remote key, title) of every task, by id.
    pub fn tasks(&self) -> Vec<(i64, String, String)> {
        let mut stmt = self
            .replica
            .conn()
            .prepare("SELECT id, remote_key, title FROM tasks WHERE gone = 0 ORDER BY id")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    /// A task of the user's offering a parameterless transition: (task id, transition).
    pub fn actionable(&self) -> Vec<(i64, String)> {
        let mut found = Vec::new();
        for (id, _, _) in self.tasks() {
            let (actions, _) = tasks::offered_actions(self.replica.conn(), id).unwrap();
            if let Some(a) = actions
                .iter()
                .find(|a| a.params.iter().all(|p| !p.required) && a.id.contains("transition"))
            {
                found.push((id, a.id.clone()));
            }
        }
        found
    }

    pub fn queue(&mut self, task: Option<i64>, request: OpRequest) -> String {
        let account = self.account.id;
        self.replica
            .write(|tx| outbox::queue(tx, account, task, request, tasklane_core::time::now()))
            .unwrap()
            .op_id
            .to_string()
    }

    pub fn op_state(&self, op: &str) -> (OpState, Option<String>) {
        let op = outbox::get(self.replica.conn(), op).unwrap();
        (op.state, op.last_error)
    }
}

/// Comments with this text on the engine side.
pub fn comments_with(engine: &Engine, text: &str) -> i64 {
    engine
        .db()
        .read(|c| {
            Ok(c.query_row(
                "SELECT count(*) FROM responses WHERE response_type = 'comment' AND text = ?1",
                [text],
                |r| r.get(0),
            )?)
        })
        .unwrap()
}

/// Fetches every task in full once, so offered actions are known (a pull
/// lists; details come with fetches).
pub fn fetch_all(device: &mut Device, remote: &dyn Remote) {
    let rt = runtime();
    for (_, key, _) in device.tasks() {
        if let Some(record) = rt.block_on(remote.fetch(&key)).unwrap() {
            let account = device.account.id;
            device
                .replica
                .write(|tx| tasks::upsert(tx, account, &[record], tasklane_core::time::now()))
                .unwrap();
        }
    }
}

pub fn comment(text: &str) -> OpRequest {
    OpRequest::CommentAdd { text: text.into() }
}

pub fn transition(id: &str) -> OpRequest {
    OpRequest::Transition {
        transition: id.into(),
        text: None,
        params: Map::new(),
    }
}

//! Shared test harness: a real axum server on 127.0.0.1:0 that stops when
//! dropped, and builders for ops and client configurations.
#![allow(dead_code, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use serde_json::{Value, json};
use tasklane_core::outbox::{Op, OpRequest, OpState};
use tasklane_dialects::{ClientConfig, Limits, Password};
use tokio::sync::oneshot;
use uuid::Uuid;

/// A stub server on a random loopback port.
pub struct TestServer {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
}

impl TestServer {
    pub async fn start(app: Router) -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        TestServer {
            addr,
            stop: Some(stop),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A configuration for `base` with short timeouts and small pages.
pub fn config(base: &str, user: &str, password: &str) -> ClientConfig {
    ClientConfig::new(base, user, Password::new(password))
        .unwrap()
        .with_limits(Limits {
            connect_timeout: Duration::from_secs(2),
            request_timeout: Duration::from_secs(5),
            max_response_bytes: 1024 * 1024,
            page_size: 2,
            max_scan_pages: 5,
            ..Limits::default()
        })
}

/// An op as the sync engine hands it over: queued a moment ago, about the
/// task with remote key `key`.
pub fn op(request: OpRequest, key: Option<&str>) -> Op {
    let now = tasklane_core::time::now();
    Op {
        seq: 1,
        op_id: Uuid::new_v4(),
        account_id: 1,
        task_id: key.map(|_| 1),
        kind: request.kind(),
        request,
        effect: None,
        base: key.map(|k| json!({"key": k})),
        state: OpState::Sending,
        attempts: 0,
        last_error: None,
        error_kind: None,
        not_before: None,
        result: None,
        created_at: Some(now),
        updated_at: Some(now),
    }
}

/// A loopback port nothing listens on.
pub async fn closed_port() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

/// A raw server that answers every connection with `head` and `body`
/// verbatim and then closes it, for answers axum will not produce
/// (truncated bodies).
pub async fn raw_server(answer: &'static [u8]) -> SocketAddr {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            let _ = socket.read(&mut buf).await;
            let _ = socket.write_all(answer).await;
            let _ = socket.shutdown().await;
        }
    });
    addr
}

pub fn obj(v: Value) -> serde_json::Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

/// A device running the real sync engine against a stub: a replica file of
/// its own and one account, so the scenarios of the sync issue run against
/// each vendor's documented behaviour and not only against tasklane serve.
pub struct Device {
    _dir: tempfile::TempDir,
    pub replica: tasklane_core::replica::Replica,
    pub account: tasklane_core::model::Account,
}

impl Device {
    pub fn new(kind: tasklane_core::model::AccountKind, user: &str) -> Device {
        let dir = tempfile::tempdir().unwrap();
        let mut replica =
            tasklane_core::replica::Replica::open(&dir.path().join("replica.sqlite3")).unwrap();
        let account = replica
            .write(|tx| {
                tasklane_core::replica::accounts::add(
                    tx,
                    &tasklane_core::model::NewAccount {
                        name: "work".into(),
                        kind,
                        base_url: "http://127.0.0.1:9/".into(),
                        user_name: user.into(),
                        settings: serde_json::Map::new(),
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

    /// One sync run; its error, when it stops.
    pub async fn try_sync(
        &mut self,
        remote: &dyn tasklane_core::remote::Remote,
    ) -> Result<tasklane_core::sync::Report, tasklane_core::sync::SyncError> {
        tasklane_core::sync::sync_account(
            &mut self.replica,
            &self.account,
            remote,
            &tasklane_core::sync::notify::Recording::default(),
            &|_| {},
            &tasklane_core::sync::Options::default(),
        )
        .await
    }

    pub async fn sync(
        &mut self,
        remote: &dyn tasklane_core::remote::Remote,
    ) -> tasklane_core::sync::Report {
        self.try_sync(remote).await.unwrap()
    }

    /// The replica's id of the task with this server key.
    pub fn task(&self, key: &str) -> i64 {
        tasklane_core::replica::tasks::id_by_key(self.replica.conn(), self.account.id, key)
            .unwrap()
            .unwrap_or_else(|| panic!("{key} is not in the replica"))
    }

    pub fn queue(&mut self, task: Option<i64>, request: OpRequest) -> String {
        let account = self.account.id;
        self.replica
            .write(|tx| {
                tasklane_core::outbox::queue(tx, account, task, request, tasklane_core::time::now())
            })
            .unwrap()
            .op_id
            .to_string()
    }

    /// An op's state and its reason.
    pub fn op(&self, op: &str) -> (OpState, Option<String>) {
        let op = tasklane_core::outbox::get(self.replica.conn(), op).unwrap();
        (op.state, op.last_error)
    }
}

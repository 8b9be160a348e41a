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

//! A real `tasklane serve` on 127.0.0.1:0 for the conformance tests: the
//! engine (in memory, with the demo data unless told otherwise) behind the
//! full router, on its own runtime thread, stopped and joined on drop.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // each test binary uses a part; tests fail loudly

use std::net::SocketAddr;
use std::sync::Arc;

use serde_json::{Value, json};
use tasklane_engine::server::{Server, ServerConfig};
use tasklane_engine::{Engine, demo};
use tokio::sync::oneshot;

pub struct TestServer {
    pub addr: SocketAddr,
    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub url: String,
    pub server: Server,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<std::io::Result<()>>>,
}

impl TestServer {
    /// The demo data set behind the default configuration.
    pub fn demo() -> Self {
        let engine = Engine::open_in_memory().unwrap();
        demo::load(&engine).unwrap();
        Self::start(Arc::new(engine), ServerConfig::default())
    }

    pub fn start(engine: Arc<Engine>, config: ServerConfig) -> Self {
        let server = Server::new(engine, config);
        let (stop, stopped) = oneshot::channel::<()>();
        let (ready, bound) = std::sync::mpsc::channel();
        let serving = server.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
                ready.send(listener.local_addr()?).ok();
                serving
                    .serve(listener, async {
                        stopped.await.ok();
                    })
                    .await
            })
        });
        let addr = bound.recv().expect("the test server did not start");
        TestServer {
            addr,
            url: format!("http://{addr}"),
            server,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    pub fn engine(&self) -> &Arc<Engine> {
        self.server.engine()
    }

    /// Stops the server, waiting for requests in flight.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop.send(()).ok();
        }
        if let Some(thread) = self.thread.take() {
            thread.join().expect("server thread panicked").unwrap();
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// A plain HTTP client (rustls provider installed once).
pub fn client() -> reqwest::Client {
    tasklane_dialects::tls::install_default_provider();
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap()
}

/// A response's status and JSON body (`Value::Null` when empty or not JSON).
pub async fn json_of(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// OMFLOW: a security code for `user`.
pub async fn omflow_code(http: &reqwest::Client, url: &str, user: &str, password: &str) -> String {
    let (status, body) = json_of(
        http.get(format!("{url}/accounts/api/security/get/"))
            .basic_auth(user, Some(password))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], json!(200), "{body}");
    body["result"]["security"].as_str().unwrap().to_string()
}

//! A real `tasklane serve` on 127.0.0.1:0 for the conformance tests: the
//! engine (in memory, with the demo data unless told otherwise) behind the
//! full router, in the background ([`Background`]), stopped and joined on
//! drop.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // each test binary uses a part; tests fail loudly

use std::net::SocketAddr;
use std::sync::Arc;

use serde_json::{Value, json};
use tasklane_engine::server::{Background, Server, ServerConfig};
use tasklane_engine::{Engine, demo};

pub struct TestServer {
    pub addr: SocketAddr,
    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub url: String,
    pub server: Server,
    running: Background,
}

impl TestServer {
    /// The demo data set behind the default configuration.
    pub fn demo() -> Self {
        let engine = Engine::open_in_memory().unwrap();
        demo::load(&engine).unwrap();
        Self::start(Arc::new(engine), ServerConfig::default())
    }

    pub fn start(engine: Arc<Engine>, config: ServerConfig) -> Self {
        let running = Background::start(engine, config).expect("the test server did not start");
        TestServer {
            addr: running.addr,
            url: running.url(),
            server: running.server().clone(),
            running,
        }
    }

    pub fn engine(&self) -> &Arc<Engine> {
        self.server.engine()
    }

    /// Stops the server, waiting for requests in flight.
    pub fn stop(self) {
        drop(self.running);
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

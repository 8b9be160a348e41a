//! What every dialect shares: limits, request ids, the idempotency
//! announcement, and a clean shutdown.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use std::sync::Arc;

use common::{TestServer, client, json_of, omflow_code};
use serde_json::json;
use tasklane_engine::server::ServerConfig;
use tasklane_engine::{Engine, demo};

#[tokio::test]
async fn every_answer_announces_idempotency_and_carries_a_request_id() {
    let s = TestServer::demo();
    let http = client();
    for path in [
        "/accounts/api/security/get/",
        "/gever/@config",
        "/csciwws/v1/work-item",
        "/nowhere",
    ] {
        let r = http.get(format!("{}{path}", s.url)).send().await.unwrap();
        assert_eq!(
            r.headers()["x-tasklane-idempotency"],
            "1",
            "{path} answered without the announcement"
        );
        assert!(r.headers().contains_key("x-request-id"), "{path}");
    }
}

#[tokio::test]
async fn bodies_over_one_mebibyte_are_refused_with_413() {
    let s = TestServer::demo();
    let http = client();
    let code = omflow_code(&http, &s.url, "wang.xiaoming", "demo").await;
    let big = "x".repeat(1024 * 1024 + 1);
    let r = http
        .post(format!("{}/rest/my-mission/api/my-mission/list/", s.url))
        .json(&json!({"omflow_restapi": 1, "security": code, "padding": big}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 413);
    // The server closes a connection whose body it refused unread; a pooled
    // client could pick that connection for the next request and lose the
    // race with the close (IncompleteMessage), so use a fresh one.
    let r = client()
        .put(format!("{}/csciwws/v1/work-item/allocate", s.url))
        .basic_auth("tanaka", Some("demo"))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 413);
}

#[tokio::test]
async fn after_shutdown_the_port_is_closed_and_every_committed_write_is_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path()).unwrap();
    demo::load(&engine).unwrap();
    let s = TestServer::start(Arc::new(engine), ServerConfig::default());
    let http = client();
    let code = omflow_code(&http, &s.url, "wang.xiaoming", "demo").await;
    let (_, created) = json_of(
        http.post(format!(
            "{}/rest/flowmanage/api/omdata/edit/payment-request",
            s.url
        ))
        .json(&json!({
            "omflow_restapi": 1, "security": code, "action": "create",
            "formdata": [
                {"id": "FORMITM_1", "value": "停機前的請款"},
                {"id": "FORMITM_2", "value": 100},
                {"id": "FORMITM_5", "value": "written just before shutdown"},
            ],
        }))
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(created["status"], json!(200), "{created}");
    let addr = s.addr;
    s.stop();
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "still listening"
    );
    // Reopen the files the server wrote: the ticket is there.
    let reopened = Engine::open(dir.path()).unwrap();
    let titles: Vec<String> = reopened
        .db()
        .read(|c| {
            let mut stmt = c.prepare("SELECT title FROM tasks")?;
            let titles = stmt
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(titles)
        })
        .unwrap();
    assert!(titles.iter().any(|t| t == "停機前的請款"), "{titles:?}");
}

//! `tasklane serve` and the engine's admin commands, as a user runs them:
//! the real binary, a real port on 127.0.0.1, real signals.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on purpose

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

mod support;
use support::{Served, run_with_stdin, tasklane};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn http() -> reqwest::Client {
    tasklane_dialects::tls::install_default_provider();
    reqwest::Client::new()
}

async fn security(url: &str, user: &str, password: &str) -> Value {
    http()
        .get(format!("{url}/accounts/api/security/get/"))
        .basic_auth(user, Some(password))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// OMFLOW's my-mission list for a user: (data_no, stop name) per row.
async fn missions(url: &str, user: &str, flow_uuid: &str) -> Vec<(i64, String)> {
    let code = security(url, user, "demo").await["result"]["security"]
        .as_str()
        .unwrap()
        .to_string();
    let body: Value = http()
        .post(format!("{url}/rest/my-mission/api/my-mission/list/"))
        .json(&json!({
            "security": code, "omflow_restapi": 1, "start": 0, "limit": 100,
            "search_conditions": [{"column": "flow_uuid", "condition": "=", "value": flow_uuid}],
            "order_columns": ["data_no"],
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    match body["result"].as_array() {
        Some(rows) => rows
            .iter()
            .map(|r| {
                (
                    r["data_no"].as_i64().unwrap(),
                    r["stop_chart_text"].as_str().unwrap().to_string(),
                )
            })
            .collect(),
        None => Vec::new(),
    }
}

const PAYMENT_FLOW: &str = "67d4cf9a-49cd-4341-90da-b899eb0219b1";

fn vendor_sample(url: &str) -> PathBuf {
    let original = include_str!("fixtures/omflow_vendor_sample.py");
    // Exactly the edits the sample asks its user to make.
    let edited = original
        .replace("url = 'https://1.2.3.4'", &format!("url = '{url}'"))
        .replace(
            "api_path = 'some-api-path-syscom'",
            "api_path = 'payment-request'",
        )
        .replace(
            "api_id = '38ea93dc82za39as0a38ei1'",
            &format!("api_id = '{}'", PAYMENT_FLOW.replace('-', "")),
        );
    assert_ne!(original, edited);
    let path = std::env::temp_dir().join(format!("omflow_sample_{}.py", std::process::id()));
    std::fs::write(&path, edited).unwrap();
    path
}

#[test]
fn the_vendors_python_sample_approves_the_users_tickets() {
    let home = tempfile::tempdir().unwrap();
    let served = Served::start(home.path(), &[]);
    let rt = runtime();
    let before = rt.block_on(missions(&served.url, "wang.xiaoming", PAYMENT_FLOW));
    assert_eq!(before.len(), 3, "{before:?}");
    assert!(before.iter().all(|(_, stop)| stop == "指派人工"));

    let script = vendor_sample(&served.url);
    let out = Command::new("python3")
        .arg(&script)
        .args(["wang.xiaoming", "demo"])
        .output()
        .expect("python3 is needed (scripts/test.sh installs it with requests)");
    std::fs::remove_file(&script).ok();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the sample failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout.lines().filter(|l| l.ends_with(",approved.")).count(),
        3,
        "{stdout}"
    );

    // The pushes took effect: the tickets left wang's step for finance's.
    let after = rt.block_on(missions(&served.url, "wang.xiaoming", PAYMENT_FLOW));
    assert!(after.is_empty(), "{after:?}");
    let finance = rt.block_on(missions(&served.url, "lin.meiling", PAYMENT_FLOW));
    for (data_no, _) in &before {
        assert!(
            finance.contains(&(*data_no, "財務確認".to_string())),
            "ticket {data_no} not at finance: {finance:?}"
        );
    }
}

#[test]
fn sigterm_stops_cleanly_and_the_logs_hold_request_ids_but_no_secrets() {
    let home = tempfile::tempdir().unwrap();
    let served = Served::start(home.path(), &[]);
    let rt = runtime();
    let (code, token) = rt.block_on(async {
        let code = security(&served.url, "wang.xiaoming", "demo").await["result"]["security"]
            .as_str()
            .unwrap()
            .to_string();
        // A committed write just before the signal.
        let created: Value = http()
            .post(format!(
                "{}/rest/flowmanage/api/omdata/edit/payment-request",
                served.url
            ))
            .json(&json!({
                "security": code, "omflow_restapi": 1, "action": "create",
                "formdata": [
                    {"id": "FORMITM_1", "value": "SIGTERM 之前"},
                    {"id": "FORMITM_2", "value": "1"},
                ],
            }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(created["status"], json!(200), "{created}");
        let login: Value = http()
            .post(format!("{}/gever/@login", served.url))
            .header("accept", "application/json")
            .json(&json!({"login": "hans.muster", "password": "demo"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = login["token"].as_str().unwrap().to_string();
        let config = http()
            .get(format!("{}/gever/@config", served.url))
            .header("accept", "application/json")
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(config.status().as_u16(), 200);
        let hitachi = http()
            .get(format!("{}/csciwws/v1/work-item", served.url))
            .basic_auth("tanaka", Some("demo"))
            .send()
            .await
            .unwrap();
        assert_eq!(hitachi.status().as_u16(), 200);
        (code, token)
    });
    let (exit, log) = served.terminate();
    assert!(exit.success(), "exit {exit:?}\n{log}");
    assert!(
        log.contains("stopped; every committed write is on disk"),
        "{log}"
    );
    // Every request is logged with its id; no secret ever is.
    assert!(log.contains("request{id="), "{log}");
    assert!(log.contains("status=200"), "{log}");
    // The basic-auth headers sent above: wang.xiaoming:demo, tanaka:demo.
    let basic = ["d2FuZy54aWFvbWluZzpkZW1v", "dGFuYWthOmRlbW8="];
    for secret in [code.as_str(), token.as_str(), basic[0], basic[1]] {
        assert!(!log.contains(secret), "the log leaks {secret:?}:\n{log}");
    }
    let listed = tasklane(home.path())
        .args(["user", "list", "--json"])
        .output()
        .unwrap();
    assert!(listed.status.success());
    // The write before the signal is in the engine's files.
    let engine = tasklane_engine_titles(home.path());
    assert!(engine.iter().any(|t| t == "SIGTERM 之前"), "{engine:?}");
}

/// The task titles in the engine's database, read with plain SQLite.
fn tasklane_engine_titles(home: &Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(home.join("engine/engine.sqlite3")).unwrap();
    let mut stmt = conn.prepare("SELECT title FROM tasks").unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

#[test]
fn users_added_and_changed_from_the_cli_log_in_to_the_running_server() {
    let home = tempfile::tempdir().unwrap();
    let served = Served::start(home.path(), &[]);
    let rt = runtime();
    let out = run_with_stdin(
        tasklane(home.path()).args([
            "user",
            "add",
            "chen.jiahao",
            "--display-name",
            "陳家豪",
            "--group",
            "it",
            "--password-stdin",
        ]),
        "s3cret-一\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ok = rt.block_on(security(&served.url, "chen.jiahao", "s3cret-一"));
    assert_eq!(ok["status"], json!(200), "{ok}");

    // A new password works at once and the old one stops working at once,
    // although the server remembered the old one.
    let out = tasklane(home.path())
        .args(["user", "passwd", "chen.jiahao", "--password-env", "NEW_PW"])
        .env("NEW_PW", "another-one")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let old = rt.block_on(security(&served.url, "chen.jiahao", "s3cret-一"));
    assert_eq!(old["status"], json!(403), "{old}");
    let new = rt.block_on(security(&served.url, "chen.jiahao", "another-one"));
    assert_eq!(new["status"], json!(200), "{new}");

    let users: Value = serde_json::from_slice(
        &tasklane(home.path())
            .args(["user", "list", "--json"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let chen = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == "chen.jiahao")
        .unwrap();
    assert_eq!(chen["display_name"], "陳家豪");
    assert_eq!(chen["groups"], json!(["it"]));
    // No password or hash in any listing.
    assert!(!users.to_string().contains("argon2"));
}

#[test]
fn admin_commands_refuse_bad_input_with_exit_code_2() {
    let home = tempfile::tempdir().unwrap();
    // A duplicate user, an unknown group, a short password, a bad name.
    let dup = run_with_stdin(
        tasklane(home.path()).args(["user", "add", "x.y", "--password-stdin"]),
        "longenough\n",
    );
    assert!(dup.status.success());
    for (args, stdin, message) in [
        (
            vec!["user", "add", "x.y", "--password-stdin"],
            "longenough\n",
            "exists already",
        ),
        (
            vec!["user", "add", "z", "--group", "nope", "--password-stdin"],
            "longenough\n",
            "nope",
        ),
        (
            vec!["user", "add", "short", "--password-stdin"],
            "abc\n",
            "at least 4",
        ),
        (
            vec!["user", "add", "bad name", "--password-stdin"],
            "longenough\n",
            "user name",
        ),
        (
            vec!["user", "passwd", "ghost", "--password-stdin"],
            "longenough\n",
            "no user",
        ),
    ] {
        let out = run_with_stdin(tasklane(home.path()).args(&args), stdin);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(message), "{args:?}: {err}");
    }
    // The failed add with an unknown group left no half-made user behind.
    let users = String::from_utf8(
        tasklane(home.path())
            .args(["user", "list"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert!(users.contains("x.y") && !users.contains(" z "), "{users}");
    let bad_zone = tasklane(home.path())
        .args(["serve", "--omflow-zone", "Mars/Olympus"])
        .output()
        .unwrap();
    assert_eq!(bad_zone.status.code(), Some(2));
}

#[test]
fn flow_list_shows_each_flows_api_path_and_steps() {
    let home = tempfile::tempdir().unwrap();
    drop(Served::start(home.path(), &[]));
    let flows: Value = serde_json::from_slice(
        &tasklane(home.path())
            .args(["flow", "list", "--json"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let paths: Vec<&str> = flows
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["api_path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["payment-request", "procurement"]);
    assert_eq!(flows[0]["steps"][0]["assignee_user"], "wang.xiaoming");
    let text = String::from_utf8(
        tasklane(home.path())
            .args(["flow", "list"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert!(
        text.contains("payment-request") && text.contains("請款流程"),
        "{text}"
    );
}

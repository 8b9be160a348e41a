//! OMFLOW conformance, part 5: tasklane's `Idempotency-Key` extension on
//! the OMFLOW writes (push, quick action, create, work log). A repeat with
//! the same key is applied once and answered from the store with
//! `Idempotent-Replayed: true` — also when it carries a new security code,
//! as a client's retry after logging in again does; a key reused for
//! another request is a conflict; failures are not stored.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;
mod omflow_support;

use std::time::Duration;

use omflow_support::*;
use serde_json::{Value, json};

struct Sent {
    replayed: bool,
    bytes: Vec<u8>,
    env: Value,
}

async fn send(o: &Omflow, path: &str, body: &Value, key: &str) -> Sent {
    send_text(o, path, body.to_string(), key).await
}

/// POSTs a JSON text as it is, so a test controls the order of its keys.
async fn send_text(o: &Omflow, path: &str, body: String, key: &str) -> Sent {
    let r = o
        .http
        .post(o.url(path))
        .header("Idempotency-Key", key)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let replayed = match r.headers().get("idempotent-replayed") {
        None => false,
        Some(v) => {
            assert_eq!(v, "true");
            true
        }
    };
    let bytes = r.bytes().await.unwrap().to_vec();
    let env = serde_json::from_slice(&bytes).unwrap();
    Sent {
        replayed,
        bytes,
        env,
    }
}

/// A write of each kind: its path, its parameters, what success answers
/// and what it changes.
struct Write {
    name: &'static str,
    path: String,
    params: Value,
    message: &'static str,
    effect: fn(&Omflow) -> Value,
}

fn writes(o: &Omflow) -> Vec<Write> {
    vec![
        Write {
            name: "push",
            path: edit_path(PAYMENT),
            params: json!({"action": "update", "data_id": o.data_id(P1).unwrap(),
                "formdata": [{"id": "FORMITM_5", "value": "核准"}]}),
            message: msg::PUSHED,
            effect: |o| json!([o.data_id(P1), o.closed(P1)]),
        },
        Write {
            name: "quick action",
            path: edit_path(PAYMENT),
            params: json!({"action": "update", "data_id": o.data_id(P2).unwrap(),
                "quick_action": "action1"}),
            message: msg::PUSHED,
            effect: |o| json!([o.data_id(P2), o.closed(P2)]),
        },
        Write {
            name: "create",
            path: edit_path(PROCUREMENT),
            params: json!({"action": "create", "formdata": [
                {"id": "FORMITM_1", "value": "只開一張單"}]}),
            message: msg::CREATED,
            effect: |o| json!(o.ticket_count(PROCUREMENT)),
        },
        Write {
            name: "work log",
            path: WORKLOG_CREATE.into(),
            params: json!({"api_path": PAYMENT, "data_no": 3, "data_id": 0,
                "content": "只記一次"}),
            message: msg::LOGGED,
            effect: |o| json!(o.worklog_count(P3)),
        },
    ]
}

#[tokio::test]
async fn a_repeated_write_with_the_same_key_is_applied_once_and_answered_from_the_store() {
    let o = Omflow::demo();
    let code = o.code("wang.xiaoming").await;
    for (i, w) in writes(&o).into_iter().enumerate() {
        let key = format!("op-{i}");
        let body = with_code(&code, w.params.clone());
        let untouched = (w.effect)(&o);
        let first = send(&o, &w.path, &body, &key).await;
        expect(&first.env, 200, w.message);
        assert!(!first.replayed, "{}", w.name);
        let applied = (w.effect)(&o);
        assert_ne!(applied, untouched, "{} changed something", w.name);

        let again = send(&o, &w.path, &body, &key).await;
        assert!(again.replayed, "{}", w.name);
        assert_eq!(again.bytes, first.bytes, "{}: the stored answer", w.name);
        assert_eq!((w.effect)(&o), applied, "{} applied once", w.name);
    }
}

#[tokio::test]
async fn a_retry_with_a_new_security_code_is_still_a_replay() {
    // A client retries with the same key after its code expired (or the
    // server restarted) and it logged in again: only `security` differs.
    let o = Omflow::demo();
    for (i, w) in writes(&o).into_iter().enumerate() {
        let key = format!("retry-{i}");
        let old = o.code("wang.xiaoming").await;
        let first = send(&o, &w.path, &with_code(&old, w.params.clone()), &key).await;
        expect(&first.env, 200, w.message);
        let applied = (w.effect)(&o);

        o.s.server.sessions().age_all(Duration::from_secs(5 * 60));
        let new = o.code("wang.xiaoming").await;
        assert_ne!(new, old);
        let again = send(&o, &w.path, &with_code(&new, w.params.clone()), &key).await;
        assert!(again.replayed, "{}: {}", w.name, again.env);
        assert_eq!(again.bytes, first.bytes, "{}", w.name);
        assert_eq!((w.effect)(&o), applied, "{} applied once", w.name);
    }
}

#[tokio::test]
async fn a_retry_with_its_fields_written_in_another_order_is_still_a_replay() {
    let o = Omflow::demo();
    let code = o.code("wang.xiaoming").await;
    let data_id = o.data_id(P1).unwrap();
    let first_text = format!(
        r#"{{"security":"{code}","omflow_restapi":1,"action":"update","data_id":{data_id},
            "formdata":[{{"id":"FORMITM_5","value":"核准"}}]}}"#
    );
    let again_text = format!(
        r#"{{"formdata":[{{"value":"核准","id":"FORMITM_5"}}],"data_id":{data_id},
            "action":"update","omflow_restapi":1,"security":"{code}"}}"#
    );
    let first = send_text(&o, &edit_path(PAYMENT), first_text, "reordered").await;
    expect(&first.env, 200, msg::PUSHED);
    let moved_to = o.data_id(P1);
    let again = send_text(&o, &edit_path(PAYMENT), again_text, "reordered").await;
    assert!(again.replayed, "{}", again.env);
    assert_eq!(again.bytes, first.bytes);
    assert_eq!(o.data_id(P1), moved_to, "applied once");
}

#[tokio::test]
async fn the_same_key_for_a_different_request_is_a_conflict() {
    let o = Omflow::demo();
    let code = o.code("wang.xiaoming").await;
    let ws = writes(&o);
    let first = send(
        &o,
        &ws[0].path,
        &with_code(&code, ws[0].params.clone()),
        "k",
    )
    .await;
    expect(&first.env, 200, msg::PUSHED);
    let before = o.snapshot();
    for other in &ws[1..] {
        let sent = send(
            &o,
            &other.path,
            &with_code(&code, other.params.clone()),
            "k",
        )
        .await;
        assert!(!sent.replayed);
        assert_eq!(
            sent.env["status"],
            json!(409),
            "{}: {}",
            other.name,
            sent.env
        );
        let message = sent.env["message"].as_str().unwrap();
        assert!(message.contains("different request"), "{message}");
        assert_eq!(sent.env["result"], Value::Null);
    }
    // The same parameters to another flow are another request too.
    let elsewhere = send(
        &o,
        &edit_path(PROCUREMENT),
        &with_code(&code, ws[0].params.clone()),
        "k",
    )
    .await;
    assert_eq!(elsewhere.env["status"], json!(409), "{}", elsewhere.env);
    assert_eq!(o.snapshot(), before);
}

#[tokio::test]
async fn failures_are_not_stored_so_a_corrected_retry_with_the_same_key_applies() {
    let o = Omflow::demo();
    let code = o.code("wang.xiaoming").await;
    let data_id = o.data_id(P1).unwrap();
    let incomplete = with_code(
        &code,
        json!({"action": "update", "data_id": data_id, "formdata": []}),
    );
    for _ in 0..2 {
        let sent = send(&o, &edit_path(PAYMENT), &incomplete, "fix-me").await;
        assert!(!sent.replayed, "a failure is computed afresh");
        expect_failure(&sent.env, 404, msg::REQUIRED_MISSING);
    }
    let fixed = with_code(
        &code,
        json!({"action": "update", "data_id": data_id,
            "formdata": [{"id": "FORMITM_5", "value": "核准"}]}),
    );
    let sent = send(&o, &edit_path(PAYMENT), &fixed, "fix-me").await;
    assert!(!sent.replayed);
    expect(&sent.env, 200, msg::PUSHED);
    assert_ne!(o.data_id(P1), Some(data_id));
    let sent = send(&o, &edit_path(PAYMENT), &fixed, "fix-me").await;
    assert!(sent.replayed);
}

#[tokio::test]
async fn keys_belong_to_one_user() {
    let o = Omflow::demo();
    let before = o.worklog_count(P1);
    for user in ["wang.xiaoming", "lin.meiling"] {
        let code = o.code(user).await;
        let body = with_code(
            &code,
            json!({"api_path": PAYMENT, "data_no": 1, "data_id": 0, "content": "同一把鑰匙"}),
        );
        let sent = send(&o, WORKLOG_CREATE, &body, "shared-key").await;
        assert!(!sent.replayed, "{user}");
        expect(&sent.env, 200, msg::LOGGED);
    }
    assert_eq!(o.worklog_count(P1), before + 2);
}

#[tokio::test]
async fn a_malformed_key_is_refused_and_nothing_is_applied() {
    let o = Omflow::demo();
    let code = o.code("wang.xiaoming").await;
    let before = o.snapshot();
    let too_long = "k".repeat(256);
    for key in ["has space", "ключ", too_long.as_str()] {
        let body = with_code(
            &code,
            json!({"api_path": PAYMENT, "data_no": 1, "data_id": 0, "content": "x"}),
        );
        let r = o
            .http
            .post(o.url(WORKLOG_CREATE))
            .header("Idempotency-Key", key.as_bytes())
            .json(&body)
            .send()
            .await
            .unwrap();
        let env = envelope_of(r).await;
        assert_eq!(env["status"], json!(404), "{key}: {env}");
        assert!(
            env["message"].as_str().unwrap().contains("Idempotency-Key"),
            "{env}"
        );
    }
    assert_eq!(o.snapshot(), before);
}

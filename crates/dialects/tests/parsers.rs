//! Property tests for the three dialects' answer parsers, run through the
//! real clients against a server that replays generated answers: malformed,
//! truncated, oversized and wrongly typed answers give a classified error,
//! never a panic.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};
use tasklane_core::remote::{ListMode, Remote, RemoteError, RemoteErrorKind};
use tasklane_dialects::{GeverClient, HitachiClient, OmflowClient};

use common::TestServer;

/// The largest answer the clients under test accept.
const LIMIT: usize = 4096;

const OMFLOW_LIST: &str = r#"{"status":200,"message":"查詢成功。","result":[{"id":6,"flow_uuid":"67d4cf9a-49cd-4341-90da-b899eb0219b1","flow_name":"問題管理","status":"指派","level":"","title":"123","data_no":1,"data_id":4,"history":false,"stop_uuid":"FITEM_7","stop_chart_text":"指派人工","create_user_id":"system","update_user_id":null,"ticket_createtime":"2020-07-07T13:50:21.494","createtime":"2020-07-07T13:50:21.589","updatetime":"2020-07-07T13:50:21.589","assignee_id":null,"assign_group_id":1,"action":",","attachment":false,"closed":false}]}"#;

const GEVER_INDEX: &str = r#"{"@id":"http://x/fd/@globalindex","batching":{"@id":"http://x/fd/@globalindex?b_start=0","first":"http://x/fd/@globalindex?b_start=0","last":"http://x/fd/@globalindex?b_start=2","next":"http://x/fd/@globalindex?b_start=2"},"facets":{},"items_total":3,"b_start":0,"b_size":2,"items":[{"@id":"http://x/fd/dossier-23/task-1","@type":"opengever.task.task","assigned_org_unit":"fa","containing_dossier":"Anfragen 2019","created":"2016-08-31T18:27:33","deadline":"2020-01-01","is_completed":false,"issuer":"robert.ziegler","modified":"2016-08-31T18:27:33","oguid":"plone:1016273300","responsible":"inbox:fa","review_state":"task-state-in-progress","review_state_label":"In Arbeit","sequence_number":1,"task_id":14,"task_type":"For direct execution","title":"re: Direkte Anfrage"}]}"#;

const HITACHI_JSON: &str = r#"{"ActivityInstanceID":"10005","ClosedDate":"","CreationDate":"2016-12-09T15:54:55+09:00","Deadline":"","ID":"10005","Name":"","Participant":"amy","Priority":"0","ProcessDefinitionID":"3001","ProcessInstanceID":"5004","ProcessInstanceName":"案件20160609103256259","StartDate":"2016-12-09T15:58:52+09:00","StateCode":"f","WorkDefinitionID":"3001","WorkDefinitionName":"QuotationHandling_UTask1","WorkTypeCode":"0"}"#;

const HITACHI_XML: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><WorkItem><ActivityInstanceID>10005</ActivityInstanceID><ClosedDate></ClosedDate><CreationDate>2016-12-09T15:54:55+09:00</CreationDate><Deadline></Deadline><ID>10005</ID><Name></Name><Participant>amy</Participant><Priority>0</Priority><ProcessDefinitionID>3001</ProcessDefinitionID><ProcessInstanceID>5004</ProcessInstanceID><ProcessInstanceName>案件</ProcessInstanceName><StartDate>2016-12-09T15:58:52+09:00</StartDate><StateCode>f</StateCode><WorkDefinitionID>3001</WorkDefinitionID><WorkDefinitionName>Q</WorkDefinitionName><WorkTypeCode>0</WorkTypeCode></WorkItem>"#;

/// What the replay server answers next.
#[derive(Debug, Clone)]
struct Answer {
    content_type: &'static str,
    body: Vec<u8>,
}

/// How an answer was made, which decides what must come of it.
#[derive(Debug, Clone)]
enum Made {
    Truncated(Vec<u8>),
    Oversized(Vec<u8>),
    Mistyped(Vec<u8>),
    Garbage(Vec<u8>),
}

fn leaf_count(v: &Value) -> usize {
    match v {
        Value::Array(a) => a.iter().map(leaf_count).sum::<usize>().max(1),
        Value::Object(o) => o.values().map(leaf_count).sum::<usize>().max(1),
        _ => 1,
    }
}

/// Replaces the `n`-th leaf of `v` (depth first) with `with`.
fn replace_leaf(v: &mut Value, n: &mut usize, with: &Value) -> bool {
    match v {
        Value::Array(a) if !a.is_empty() => a.iter_mut().any(|x| replace_leaf(x, n, with)),
        Value::Object(o) if !o.is_empty() => o.values_mut().any(|x| replace_leaf(x, n, with)),
        _ => {
            if *n == 0 {
                *v = with.clone();
                true
            } else {
                *n -= 1;
                false
            }
        }
    }
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::from),
        Just(json!([])),
        Just(json!({"x": 1})),
    ]
}

/// Answers derived from a valid document.
fn answers(valid: &'static str, json_doc: bool) -> impl Strategy<Value = Made> {
    let bytes = valid.as_bytes().to_vec();
    let len = bytes.len();
    let truncated = (1..len).prop_map(move |cut| Made::Truncated(valid.as_bytes()[..cut].to_vec()));
    let oversized = (0usize..3).prop_map(move |extra| {
        let mut body = valid.as_bytes().to_vec();
        body.resize(LIMIT + 1 + extra * 1000, b' ');
        Made::Oversized(body)
    });
    let garbage = proptest::collection::vec(any::<u8>(), 0..300).prop_map(Made::Garbage);
    let leaves = if json_doc {
        leaf_count(&serde_json::from_str(valid).unwrap())
    } else {
        1
    };
    let mistyped = (0..leaves, scalar()).prop_map(move |(n, with)| {
        let mut doc: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        replace_leaf(&mut doc, &mut n.clone(), &with);
        Made::Mistyped(serde_json::to_vec(&doc).unwrap())
    });
    if json_doc {
        prop_oneof![truncated, oversized, garbage, mistyped].boxed()
    } else {
        prop_oneof![truncated, oversized, garbage].boxed()
    }
}

fn body(made: &Made) -> Vec<u8> {
    match made {
        Made::Truncated(b) | Made::Oversized(b) | Made::Mistyped(b) | Made::Garbage(b) => b.clone(),
    }
}

/// What each kind of answer must lead to.
fn judge<T: std::fmt::Debug>(
    made: &Made,
    result: Result<T, RemoteError>,
) -> Result<(), TestCaseError> {
    match (made, &result) {
        (Made::Truncated(_) | Made::Oversized(_), Err(e)) => {
            prop_assert_eq!(e.kind, RemoteErrorKind::Protocol, "{}", e.message)
        }
        (Made::Truncated(_) | Made::Oversized(_), Ok(v)) => {
            prop_assert!(false, "accepted a broken answer: {v:?}")
        }
        (_, Err(e)) => prop_assert!(
            !matches!(
                e.kind,
                RemoteErrorKind::Offline | RemoteErrorKind::Uncertain
            ),
            "{:?}: {}",
            e.kind,
            e.message
        ),
        (_, Ok(_)) => {}
    }
    Ok(())
}

type Replay = Arc<Mutex<Answer>>;

async fn replay(
    axum::extract::State((replay, fixed)): axum::extract::State<(
        Replay,
        &'static [(&'static str, &'static str)],
    )>,
    uri: Uri,
) -> Response {
    if let Some((_, answer)) = fixed.iter().find(|(path, _)| uri.path() == *path) {
        return ([("content-type", "application/json")], *answer).into_response();
    }
    let a = replay.lock().unwrap().clone();
    ([("content-type", a.content_type)], a.body).into_response()
}

fn limited(base: &str) -> tasklane_dialects::ClientConfig {
    let mut c = common::config(base, "amy", "pw");
    c.limits.max_response_bytes = LIMIT;
    c
}

fn run<C: Remote>(
    fixed: &'static [(&'static str, &'static str)],
    content_type: &'static str,
    strategy: impl Strategy<Value = Made>,
    make: fn(&str) -> C,
) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let state: Replay = Arc::new(Mutex::new(Answer {
        content_type,
        body: Vec::new(),
    }));
    let app = Router::new()
        .fallback(replay)
        .with_state((state.clone(), fixed));
    let server = rt.block_on(TestServer::start(app));
    let client = make(&server.url(""));
    let mut runner = TestRunner::new(Config {
        cases: 64,
        failure_persistence: None,
        ..Config::default()
    });
    let tried = std::cell::Cell::new(0u32);
    runner
        .run(&strategy, |made| {
            tried.set(tried.get() + 1);
            state.lock().unwrap().body = body(&made);
            let result = rt.block_on(async {
                match client.list_page(&ListMode::Full, None).await {
                    Ok(page) if page.tasks.is_empty() => {
                        client.fetch("5004:10005").await.map(|_| ())
                    }
                    other => other.map(|_| ()),
                }
            });
            judge(&made, result)
        })
        .unwrap();
    assert!(tried.get() >= 64, "only {} answers were tried", tried.get());
    drop(server);
}

#[test]
fn omflow_list_answers_that_are_broken_give_classified_errors_never_a_panic() {
    static FIXED: &[(&str, &str)] = &[(
        "/accounts/api/security/get/",
        r#"{"status": 200, "message": "取得成功。", "result": {"security": "code-1"}}"#,
    )];
    run(
        FIXED,
        "application/json",
        answers(OMFLOW_LIST, true),
        |base| OmflowClient::new(limited(base)).unwrap(),
    );
}

#[test]
fn gever_index_answers_that_are_broken_give_classified_errors_never_a_panic() {
    static FIXED: &[(&str, &str)] = &[(
        "/fd/@config",
        r#"{"@id": "http://x/fd/@config", "current_user": {"id": "amy", "roles": ["Member"]}}"#,
    )];
    run(
        FIXED,
        "application/json",
        answers(GEVER_INDEX, true),
        |base| GeverClient::new(limited(&format!("{base}/fd"))).unwrap(),
    );
}

#[test]
fn hitachi_work_item_answers_that_are_broken_give_classified_errors_never_a_panic() {
    // The listing reads the generated answer as a list first; where that
    // yields no tasks, `fetch` reads it as a single work item.
    static FIXED: &[(&str, &str)] = &[];
    for (valid, content_type, json_doc) in [
        (HITACHI_JSON, "application/json", true),
        (HITACHI_XML, "application/xml", false),
    ] {
        run(FIXED, content_type, answers(valid, json_doc), |base| {
            HitachiClient::new(limited(base)).unwrap()
        });
    }
}

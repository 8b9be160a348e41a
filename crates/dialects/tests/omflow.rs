//! OmflowClient against a stub that answers like OMFLOW 1.1 and its docs:
//! every answer in HTTP 200 with the outcome in the envelope's `status`
//! (numbers and strings), security codes that expire, a `data_id` that
//! changes on every push, and the empty-list 404 quirk.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tasklane_core::model::{AccountKind, State as TaskState};
use tasklane_core::outbox::{FormValue, NewTask, OpRequest, OpState};
use tasklane_core::remote::{Applied, ListMode, Remote, RemoteErrorKind};
use tasklane_dialects::OmflowClient;

use common::{Device, TestServer, config, op};

const FLOW: &str = "67d4cf9a-49cd-4341-90da-b899eb0219b1";
const FLOW_HEX: &str = "67d4cf9a49cd434190dab899eb0219b1";
const RUNNING: &str = "該單目前為執行狀態，無法進行更新/刪除。";
const EMPTY_QUIRK: &str = "查詢失敗，錯誤訊息如下：'NoneType' object has no attribute 'objects'";

#[derive(Debug, Clone)]
struct Ticket {
    id: i64,
    data_no: i64,
    data_id: i64,
    stop_uuid: String,
    title: Option<String>,
    updatetime: String,
    mine: bool,
    running: bool,
}

#[derive(Debug, Default)]
struct Stub {
    code: Option<String>,
    codes_issued: u32,
    tickets: Vec<Ticket>,
    next_id: i64,
    work_log: Vec<(String, i64, String, String)>,
    list_requests: Vec<Value>,
    edit_requests: Vec<Value>,
    idempotency_keys: Vec<String>,
    form_extension: bool,
    announce_idempotency: bool,
    list_failure: Option<String>,
    /// Answer the listing with this result instead of the rows.
    list_result: Option<Value>,
    /// Serve the user directory and the departments.
    directory: bool,
    directory_requests: u32,
}

type Shared = Arc<Mutex<Stub>>;

fn stub_with(tickets: usize) -> Shared {
    let mut stub = Stub {
        next_id: 100,
        ..Stub::default()
    };
    for n in 1..=tickets as i64 {
        stub.tickets.push(Ticket {
            id: n,
            data_no: n,
            data_id: 10 + n,
            stop_uuid: "FITEM_7".into(),
            title: Some(format!("問題 {n}")),
            updatetime: format!("2020-07-07T13:50:{:02}.589", 10 + n),
            mine: true,
            running: false,
        });
    }
    Arc::new(Mutex::new(stub))
}

fn envelope(status: Value, message: &str, result: Value) -> Value {
    json!({"status": status, "message": message, "result": result})
}

fn row(t: &Ticket) -> Value {
    json!({
        "id": t.id, "flow_uuid": FLOW, "flow_name": "問題管理", "status": "指派", "level": "",
        "title": t.title, "data_no": t.data_no, "data_id": t.data_id, "history": false,
        "stop_uuid": t.stop_uuid, "stop_chart_text": "指派人工", "create_user_id": "system",
        "update_user_id": null, "ticket_createtime": "2020-07-07T13:50:21.494",
        "createtime": "2020-07-07T13:50:21.589", "updatetime": t.updatetime,
        "assignee_id": null, "assign_group_id": 1, "action": "核准,", "attachment": false,
        "closed": false, "is_active": true, "deploy_flag": true
    })
}

/// One handler for every path, as OMFLOW's `/rest/<path>` router works:
/// always HTTP 200, the outcome in the body.
async fn omflow(State(stub): State<Shared>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let mut s = stub.lock().unwrap();
    if let Some(key) = headers.get("idempotency-key") {
        s.idempotency_keys.push(key.to_str().unwrap().to_string());
    }
    let answer = answer(&mut s, uri.path(), &headers, &body);
    let mut response = axum::Json(answer).into_response();
    if s.announce_idempotency {
        response
            .headers_mut()
            .insert("x-tasklane-idempotency", "1".parse().unwrap());
    }
    response
}

fn answer(s: &mut Stub, path: &str, headers: &HeaderMap, body: &[u8]) -> Value {
    if path == "/accounts/api/security/get/" {
        let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
        // amy:pw
        return match auth {
            Some("Basic YW15OnB3") => {
                if s.code.is_none() {
                    s.codes_issued += 1;
                    s.code = Some(format!("code-{}", s.codes_issued));
                }
                envelope(json!(200), "取得成功。", json!({"security": s.code}))
            }
            Some(_) => envelope(json!(403), "使用者不存在或未啟用。", Value::Null),
            None => envelope(
                json!(500),
                "OmUser matching query does not exist.",
                Value::Null,
            ),
        };
    }
    let req: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let known = [
        "/rest/my-mission/api/my-mission/list/",
        "/rest/flowmanage/api/omdata-worklog/create/",
        "/rest/flowmanage/api/omdata-worklog/list/",
    ];
    let edit = path.strip_prefix("/rest/flowmanage/api/omdata/edit/");
    let form = path.strip_prefix("/rest/tasklane/api/form/");
    let directory = [
        "/rest/accounts/api/user/list/",
        "/rest/accounts/api/group/list/",
    ];
    if directory.contains(&path) && s.directory {
        s.directory_requests += 1;
        // As OMFLOW's docs show them: ids as numbers, more columns than read.
        return if path.contains("/user/") {
            envelope(
                json!(200),
                "查詢成功。",
                json!([{"id": 1, "username": "admin", "nick_name": "系統管理員", "email": "", "ad_no": ""},
                       {"id": 5, "username": "amy", "nick_name": "Amy Lin", "email": "amy@example.tw", "ad_no": "A005"}]),
            )
        } else {
            envelope(
                json!(200),
                "查詢成功。",
                json!([{"id": 1, "group_no": "G001", "display_name": "資訊部", "parent_group_id": null, "description": ""}]),
            )
        };
    }
    if !known.contains(&path) && edit.is_none() && !(form.is_some() && s.form_extension) {
        return envelope(json!(403), "URL錯誤，請確認後重新發送請求。", Value::Null);
    }
    if req["security"].as_str() != s.code.as_deref() || s.code.is_none() {
        return envelope(
            json!(403),
            "安全碼過期，請重新取得新的安全碼。",
            Value::Null,
        );
    }
    match (path, edit, form) {
        ("/rest/my-mission/api/my-mission/list/", _, _) => list(s, req),
        ("/rest/flowmanage/api/omdata-worklog/create/", _, _) => {
            if req["flow_uuid"].as_str() != Some(FLOW_HEX) {
                return envelope(json!(403), "您沒有權限進行此操作。", Value::Null);
            }
            let no = req["data_no"].as_i64().unwrap();
            let text = req["content"].as_str().unwrap_or("").to_string();
            let at = tasklane_core::time::now()
                .to_zoned(jiff::tz::TimeZone::get("Asia/Taipei").unwrap())
                .strftime("%Y-%m-%d %H:%M:%S.%6f")
                .to_string();
            s.work_log.push((FLOW_HEX.into(), no, text, at));
            envelope(json!(200), "建立成功。", Value::Null)
        }
        ("/rest/flowmanage/api/omdata-worklog/list/", _, _) => {
            let no = req["data_no"].as_i64().unwrap();
            let rows: Vec<Value> = s
                .work_log
                .iter()
                .filter(|(_, n, _, _)| *n == no)
                .map(|(flow, _, text, at)| {
                    json!({"flow_uuid": flow, "create_user_id__nick_name": "Amy Lin",
                        "content": text, "createtime": at})
                })
                .collect();
            envelope(json!(200), "查詢成功。", json!(rows))
        }
        (_, Some(api_path), _) => edit_ticket(s, api_path, req),
        (_, _, Some(_)) => envelope(
            json!(200),
            "查詢成功。",
            json!({"fields": [{"id": "FORMITM_1", "label": "意見", "type": "text", "required": true}],
                "quick_actions": [{"id": "action1", "label": "核准"}]}),
        ),
        _ => envelope(json!(403), "URL錯誤，請確認後重新發送請求。", Value::Null),
    }
}

fn list(s: &mut Stub, req: Value) -> Value {
    s.list_requests.push(req.clone());
    if let Some(message) = &s.list_failure {
        return envelope(json!(404), message, Value::Null);
    }
    if let Some(result) = &s.list_result {
        return envelope(json!(200), "查詢成功。", result.clone());
    }
    let mut rows: Vec<&Ticket> = s.tickets.iter().filter(|t| t.mine).collect();
    for c in req["search_conditions"].as_array().unwrap() {
        let (col, op, value) = (
            c["column"].as_str().unwrap(),
            c["condition"].as_str().unwrap(),
            &c["value"],
        );
        rows.retain(|t| {
            let field = match col {
                "data_no" => json!(t.data_no),
                "stop_uuid" => json!(t.stop_uuid),
                "flow_uuid" => json!(FLOW),
                "updatetime" => json!(t.updatetime),
                _ => return true,
            };
            match op {
                "=" => field == *value,
                ">" => field.as_str().unwrap_or("") > value.as_str().unwrap_or(""),
                _ => true,
            }
        });
    }
    let order = req["order_columns"].as_array().unwrap();
    if order.first().and_then(Value::as_str) == Some("updatetime") {
        rows.sort_by(|a, b| (&a.updatetime, a.id).cmp(&(&b.updatetime, b.id)));
    } else {
        rows.sort_by_key(|t| t.id);
    }
    let start = req["start"].as_i64().unwrap() as usize;
    let limit = req["limit"].as_i64().unwrap() as usize;
    // `limit` is an END index (a Python slice).
    let page: Vec<Value> = rows
        .iter()
        .skip(start)
        .take(limit.saturating_sub(start))
        .map(|t| row(t))
        .collect();
    if page.is_empty() {
        return envelope(json!(404), EMPTY_QUIRK, Value::Null);
    }
    envelope(json!(200), "查詢成功。", json!(page))
}

fn edit_ticket(s: &mut Stub, api_path: &str, req: Value) -> Value {
    s.edit_requests.push(req.clone());
    if api_path != FLOW_HEX {
        return envelope(
            json!(500),
            "'NoneType' object has no attribute 'api'",
            Value::Null,
        );
    }
    match req["action"].as_str() {
        Some("create") => {
            s.next_id += 1;
            let no = s.tickets.len() as i64 + 1;
            let id = s.next_id;
            s.tickets.push(Ticket {
                id,
                data_no: no,
                data_id: id,
                stop_uuid: "FITEM_1".into(),
                title: None,
                updatetime: "2026-11-22T12:00:00.000".into(),
                mine: true,
                running: false,
            });
            envelope(json!(200), "開單成功。", json!(no))
        }
        Some("update") => {
            let data_id = req["data_id"].as_i64().unwrap_or(-1);
            if let Some(items) = req["formdata"].as_array()
                && items.iter().any(|i| i.get("type").is_none())
            {
                return json!({"status": 500, "message": "'type'"});
            }
            let next_id = s.next_id + 1;
            let Some(t) = s
                .tickets
                .iter_mut()
                .find(|t| t.data_id == data_id && t.mine)
            else {
                return envelope(
                    json!(404),
                    &format!("Omdata_{FLOW_HEX} matching query does not exist."),
                    Value::Null,
                );
            };
            if t.running {
                return envelope(json!(404), RUNNING, Value::Null);
            }
            // The stop's row becomes history; the ticket moves on with a
            // new data_id, to a stop for another group.
            t.data_id = next_id;
            t.stop_uuid = "FITEM_9".into();
            t.mine = false;
            let no = t.data_no;
            s.next_id = next_id;
            if req.get("quick_action").is_some() {
                envelope(json!(200), "推單成功。", json!(no))
            } else {
                // The documented (template) form: string status, empty result.
                json!({"status": "200", "message": "推單成功", "result": ""})
            }
        }
        _ => envelope(json!(404), "推單失敗", Value::Null),
    }
}

async fn start(stub: &Shared) -> (TestServer, OmflowClient) {
    let app = Router::new().fallback(omflow).with_state(stub.clone());
    let server = TestServer::start(app).await;
    let client = OmflowClient::new(config(&server.url(""), "amy", "pw")).unwrap();
    (server, client)
}

fn key(n: i64) -> String {
    format!("{FLOW_HEX}:{n}:FITEM_7")
}

#[tokio::test]
async fn a_full_listing_pages_with_limit_as_an_end_index_and_explicit_order() {
    let stub = stub_with(5);
    let (_server, client) = start(&stub).await;
    let mut cursor = None;
    let mut keys = Vec::new();
    let watermark = loop {
        let page = client
            .list_page(&ListMode::Full, cursor.as_deref())
            .await
            .unwrap();
        keys.extend(page.tasks.iter().map(|t| t.key.clone()));
        if page.next.is_none() {
            break page.watermark;
        }
        assert!(page.watermark.is_none(), "watermark before the last page");
        cursor = page.next;
    };
    assert_eq!(keys, (1..=5).map(key).collect::<Vec<_>>());
    let s = stub.lock().unwrap();
    let windows: Vec<(i64, i64)> = s
        .list_requests
        .iter()
        .map(|r| (r["start"].as_i64().unwrap(), r["limit"].as_i64().unwrap()))
        .collect();
    assert_eq!(windows, [(0, 2), (2, 4), (4, 6)]);
    assert!(
        s.list_requests
            .iter()
            .all(|r| r["order_columns"] == json!(["id"]))
    );
    assert!(
        s.list_requests
            .iter()
            .all(|r| r["omflow_restapi"] == json!(1))
    );
    assert_eq!(watermark.as_deref(), Some("2020-07-07T13:50:15.589"));
}

#[tokio::test]
async fn a_whole_listing_asks_for_the_next_pages_while_this_one_is_merged() {
    let stub = stub_with(5);
    let (_server, client) = start(&stub).await;
    let starts = || async {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        // Sorted: the pages read ahead travel at once, in any order.
        let mut starts = stub
            .lock()
            .unwrap()
            .list_requests
            .iter()
            .map(|r| r["start"].as_i64().unwrap())
            .collect::<Vec<_>>();
        starts.sort_unstable();
        starts
    };
    let first = client.list_page(&ListMode::Full, None).await.unwrap();
    assert_eq!(
        starts().await,
        [0, 2, 4],
        "the next two pages asked for ahead"
    );
    // Sent with the session's security code, like any request.
    assert!(
        stub.lock().unwrap().list_requests[1..]
            .iter()
            .all(|r| r["security"].as_str().is_some_and(|c| !c.is_empty()))
    );
    let second = client
        .list_page(&ListMode::Full, first.next.as_deref())
        .await
        .unwrap();
    assert_eq!(second.tasks.len(), 2);
    let third = client
        .list_page(&ListMode::Full, second.next.as_deref())
        .await
        .unwrap();
    assert_eq!((third.tasks.len(), third.next), (1, None));
    // The answers read ahead were used; the full second page sent the
    // one after the last ahead, which is what reading two ahead costs.
    assert_eq!(starts().await, [0, 2, 4, 6]);

    // An incremental listing reads nothing ahead.
    stub.lock().unwrap().list_requests.clear();
    client
        .list_page(&ListMode::Since("2020-07-07T13:00:00".into()), None)
        .await
        .unwrap();
    assert_eq!(starts().await, [0]);
}

#[tokio::test]
async fn a_listing_that_is_not_a_list_of_rows_is_a_protocol_error_that_says_so() {
    let stub = stub_with(1);
    let (_server, client) = start(&stub).await;
    for (result, says) in [
        (json!({"rows": []}), "is not a list: {\"rows\":[]}"),
        (Value::Null, "is not a list: null"),
        (json!([{"id": "x"}]), "a my-mission row is malformed"),
        (
            json!([{"id": 1, "flow_uuid": 7}]),
            "a my-mission row is malformed",
        ),
    ] {
        stub.lock().unwrap().list_result = Some(result.clone());
        let err = client.list_page(&ListMode::Full, None).await.unwrap_err();
        assert_eq!(err.kind, RemoteErrorKind::Protocol, "{result}: {err}");
        assert!(err.message.contains(says), "{result}: {err}");
    }
    // A good answer after them lists as usual.
    stub.lock().unwrap().list_result = None;
    let page = client.list_page(&ListMode::Full, None).await.unwrap();
    assert_eq!(page.tasks.len(), 1);
}

#[tokio::test]
async fn user_and_department_numbers_are_named_from_the_directory_when_the_server_gives_it() {
    // Without the lists (the stub refuses them as an unknown URL) the
    // numbers stay, and the listing works all the same.
    let stub = stub_with(1);
    let (_server, client) = start(&stub).await;
    let page = client.list_page(&ListMode::Full, None).await.unwrap();
    assert_eq!(page.tasks[0].group.as_deref(), Some("1"));

    let stub = stub_with(3);
    {
        let mut s = stub.lock().unwrap();
        s.directory = true;
    }
    let (_server, client) = start(&stub).await;
    let page = client.list_page(&ListMode::Full, None).await.unwrap();
    assert!(
        page.tasks
            .iter()
            .all(|t| t.group.as_deref() == Some("資訊部")),
        "{:?}",
        page.tasks.iter().map(|t| &t.group).collect::<Vec<_>>()
    );
    // Loaded once, not per page or per fetch.
    client.list_page(&ListMode::Full, None).await.unwrap();
    client.fetch(&key(1)).await.unwrap();
    assert_eq!(
        stub.lock().unwrap().directory_requests,
        2,
        "one user page, one department list"
    );
}

#[tokio::test]
async fn the_empty_list_failure_means_no_tasks_but_other_list_failures_are_errors() {
    let stub = stub_with(0);
    let (_server, client) = start(&stub).await;
    let page = client.list_page(&ListMode::Full, None).await.unwrap();
    assert!(page.tasks.is_empty());
    assert_eq!(page.next, None);

    stub.lock().unwrap().list_failure =
        Some("查詢失敗，錯誤訊息如下：Cannot resolve keyword 'x' into field.".into());
    let err = client.list_page(&ListMode::Full, None).await.unwrap_err();
    assert_eq!(err.kind, RemoteErrorKind::Permanent);
    assert!(
        err.message.contains("Cannot resolve keyword"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn an_incremental_listing_asks_for_rows_updated_after_the_watermark_less_a_margin() {
    let stub = stub_with(3);
    stub.lock().unwrap().tickets[2].updatetime = "2020-07-07T14:30:00.000".into();
    let (_server, client) = start(&stub).await;
    let page = client
        .list_page(&ListMode::Since("2020-07-07T14:00:00.000".into()), None)
        .await
        .unwrap();
    assert_eq!(
        page.tasks.iter().map(|t| t.key.clone()).collect::<Vec<_>>(),
        [key(3)]
    );
    assert_eq!(page.watermark.as_deref(), Some("2020-07-07T14:30:00.000"));
    let s = stub.lock().unwrap();
    let req = s.list_requests.last().unwrap();
    assert_eq!(
        req["search_conditions"],
        json!([{"column": "updatetime", "condition": ">", "value": "2020-07-07T13:58:00"}])
    );
    assert_eq!(req["order_columns"], json!(["updatetime", "id"]));
}

#[tokio::test]
async fn nothing_new_keeps_the_old_watermark() {
    let stub = stub_with(2);
    let (_server, client) = start(&stub).await;
    let page = client
        .list_page(&ListMode::Since("2030-01-01T00:00:00".into()), None)
        .await
        .unwrap();
    assert!(page.tasks.is_empty());
    assert_eq!(page.watermark.as_deref(), Some("2030-01-01T00:00:00"));
}

#[tokio::test]
async fn fetch_returns_the_stop_with_its_work_log_and_a_push_that_takes_any_fields() {
    let stub = stub_with(2);
    let (_server, client) = start(&stub).await;
    let task = client.fetch(&key(2)).await.unwrap().unwrap();
    assert_eq!(task.title, "問題 2");
    assert_eq!(task.state, TaskState::Open);
    assert_eq!(task.status_text, "指派");
    assert_eq!(task.comments, Some(vec![]));
    let actions = task.actions.unwrap();
    let ids: Vec<_> = actions.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["push", "action1"]);
    assert!(
        actions[0].params.is_empty(),
        "a real OMFLOW publishes no form"
    );
    assert_eq!(actions[1].label, "核准");
    assert!(
        client
            .fetch(&format!("{FLOW_HEX}:9:FITEM_7"))
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_push_goes_to_the_fresh_data_id_with_field_types_and_moves_the_ticket_on() {
    let stub = stub_with(1);
    stub.lock().unwrap().form_extension = true;
    let (_server, client) = start(&stub).await;
    let task = client.fetch(&key(1)).await.unwrap().unwrap();
    let push = &task.actions.as_ref().unwrap()[0];
    assert_eq!(push.params[0].name, "FORMITM_1");
    assert_eq!(push.params[0].wire_type.as_deref(), Some("text"));

    let push_op = op(
        OpRequest::FormPush {
            fields: vec![FormValue {
                id: "FORMITM_1".into(),
                value: json!("審核通過"),
                field_type: None,
            }],
        },
        Some(&task.key),
    );
    assert_eq!(
        client.applied(&push_op, Some(&task)).await.unwrap(),
        Applied::No
    );
    let outcome = client.execute(&push_op, Some(&task)).await.unwrap();
    assert_eq!(outcome.result["status"], json!("200"));
    {
        let s = stub.lock().unwrap();
        let sent = s.edit_requests.last().unwrap();
        assert_eq!(sent["data_id"], json!(11));
        assert_eq!(sent["action"], json!("update"));
        assert_eq!(
            sent["formdata"],
            json!([{"id": "FORMITM_1", "value": "審核通過", "type": "text"}])
        );
        assert_eq!(s.idempotency_keys, [push_op.op_id.to_string()]);
        assert_ne!(s.tickets[0].data_id, 11, "the data_id changed");
    }
    assert!(client.fetch(&task.key).await.unwrap().is_none());
    assert!(matches!(
        client.applied(&push_op, None).await.unwrap(),
        Applied::Yes(_)
    ));
}

#[tokio::test]
async fn replaying_a_push_with_a_stale_data_id_is_refused_for_good() {
    let stub = stub_with(1);
    let (_server, client) = start(&stub).await;
    let task = client.fetch(&key(1)).await.unwrap().unwrap();
    let push = op(
        OpRequest::QuickAction {
            action: "action1".into(),
        },
        Some(&task.key),
    );
    client.execute(&push, Some(&task)).await.unwrap();
    let err = client.execute(&push, Some(&task)).await.unwrap_err();
    assert_eq!(err.kind, RemoteErrorKind::Permanent);
    assert!(
        err.message.contains("matching query does not exist"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn envelope_failures_are_classified_by_status_and_known_texts() {
    let stub = stub_with(1);
    let (_server, client) = start(&stub).await;
    let task = client.fetch(&key(1)).await.unwrap().unwrap();
    let untyped = OpRequest::FormPush {
        fields: vec![FormValue {
            id: "FORMITM_2".into(),
            value: json!("x"),
            field_type: None,
        }],
    };
    let cases = [
        (
            true,
            OpRequest::QuickAction {
                action: "action1".into(),
            },
            RemoteErrorKind::Transient { retry_after: None },
            RUNNING,
        ),
        (false, untyped, RemoteErrorKind::Permanent, "'type'"),
    ];
    for (running, request, kind, text) in cases {
        stub.lock().unwrap().tickets[0].running = running;
        let err = client
            .execute(&op(request, Some(&task.key)), Some(&task))
            .await
            .unwrap_err();
        assert_eq!(err.kind, kind, "{text}");
        assert!(err.message.contains(text), "{}", err.message);
    }
}

#[tokio::test]
async fn comments_are_written_to_the_tickets_work_log_and_found_again() {
    let stub = stub_with(1);
    let (_server, client) = start(&stub).await;
    let task = client.fetch(&key(1)).await.unwrap().unwrap();
    let comment = op(
        OpRequest::CommentAdd {
            text: "請協助處理".into(),
        },
        Some(&task.key),
    );
    assert_eq!(
        client.applied(&comment, Some(&task)).await.unwrap(),
        Applied::No
    );
    client.execute(&comment, Some(&task)).await.unwrap();
    let again = client.fetch(&task.key).await.unwrap().unwrap();
    let comments = again.comments.clone().unwrap();
    assert_eq!(comments.len(), 1);
    assert_eq!(comments[0].text, "請協助處理");
    assert_eq!(comments[0].author.as_deref(), Some("Amy Lin"));
    assert!(matches!(
        client.applied(&comment, Some(&again)).await.unwrap(),
        Applied::Yes(_)
    ));
}

#[tokio::test]
async fn a_new_ticket_is_opened_in_its_flow_and_its_first_stop_becomes_the_key() {
    let stub = stub_with(1);
    let (_server, client) = start(&stub).await;
    let create = op(
        OpRequest::CreateTask(NewTask {
            title: "印表機故障".into(),
            description: String::new(),
            kind: None,
            assignee: None,
            group: None,
            issuer: None,
            deadline: None,
            parent_key: None,
            position: None,
            process: Some(FLOW.into()),
            fields: vec![FormValue {
                id: "FORMITM_1".into(),
                value: json!("印表機故障"),
                field_type: Some("h_title".into()),
            }],
        }),
        None,
    );
    let outcome = client.execute(&create, None).await.unwrap();
    assert_eq!(
        outcome.key.as_deref(),
        Some(&*format!("{FLOW_HEX}:2:FITEM_1"))
    );
    let sent = stub.lock().unwrap().edit_requests.last().cloned().unwrap();
    assert_eq!(sent["action"], json!("create"));
    assert!(sent.get("data_id").is_none());
    assert!(matches!(
        client.applied(&create, None).await.unwrap(),
        Applied::Unknown(_)
    ));
}

#[tokio::test]
async fn an_expired_security_code_is_renewed_and_the_call_sent_once_more() {
    let stub = stub_with(1);
    let (_server, client) = start(&stub).await;
    client.list_page(&ListMode::Full, None).await.unwrap();
    stub.lock().unwrap().code = None; // the server restarted: codes are in memory
    let page = client.list_page(&ListMode::Full, None).await.unwrap();
    assert_eq!(page.tasks.len(), 1);
    assert_eq!(stub.lock().unwrap().codes_issued, 2);
}

#[tokio::test]
async fn wrong_credentials_are_an_auth_error() {
    let stub = stub_with(1);
    let app = Router::new().fallback(omflow).with_state(stub.clone());
    let server = TestServer::start(app).await;
    let client = OmflowClient::new(config(&server.url(""), "amy", "wrong")).unwrap();
    let err = client.list_page(&ListMode::Full, None).await.unwrap_err();
    assert_eq!(err.kind, RemoteErrorKind::Auth);
    assert!(
        err.message.contains("使用者不存在或未啟用"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn ops_omflow_does_not_have_are_refused_before_anything_is_sent() {
    let stub = stub_with(1);
    let (_server, client) = start(&stub).await;
    let edit = op(
        OpRequest::CommentEdit {
            comment: "1".into(),
            text: "x".into(),
        },
        Some(&key(1)),
    );
    let err = client.execute(&edit, None).await.unwrap_err();
    assert_eq!(err.kind, RemoteErrorKind::Permanent);
    assert!(stub.lock().unwrap().edit_requests.is_empty());
    assert!(!client.capabilities().supports(edit.kind));
}

#[tokio::test]
async fn a_server_that_honours_idempotency_keys_is_trusted_with_resends() {
    let stub = stub_with(1);
    stub.lock().unwrap().announce_idempotency = true;
    let (_server, client) = start(&stub).await;
    assert!(!client.capabilities().idempotency_keys);
    client.list_page(&ListMode::Full, None).await.unwrap();
    assert!(client.capabilities().idempotency_keys);
    let push = op(
        OpRequest::QuickAction {
            action: "action1".into(),
        },
        Some(&key(1)),
    );
    assert!(
        matches!(client.applied(&push, None).await.unwrap(), Applied::Unknown(m) if m.contains("Idempotency-Key"))
    );
}

// ---- the sync issue's scenarios, against this stub ---------------------------

fn edits_of(stub: &Shared, data_id: i64) -> usize {
    stub.lock()
        .unwrap()
        .edit_requests
        .iter()
        .filter(|r| r["data_id"] == json!(data_id))
        .count()
}

fn logged(stub: &Shared, text: &str) -> usize {
    stub.lock()
        .unwrap()
        .work_log
        .iter()
        .filter(|(_, _, t, _)| t == text)
        .count()
}

fn push(value: &str) -> OpRequest {
    OpRequest::FormPush {
        fields: vec![FormValue {
            id: "FORMITM_3".into(),
            value: json!(value),
            field_type: Some("text".into()),
        }],
    }
}

#[tokio::test]
async fn sync_a_push_and_a_work_log_entry_queued_offline_reach_the_server_once() {
    let stub = stub_with(3);
    let (_server, client) = start(&stub).await;
    let mut device = Device::new(AccountKind::Omflow, "amy");
    let first = device.sync(&client).await;
    assert_eq!(first.pulled, 3, "{first:?}");
    let pushed = device.queue(Some(device.task(&key(1))), push("同意"));
    let noted = device.queue(
        Some(device.task(&key(2))),
        OpRequest::CommentAdd {
            text: "已電話聯絡".into(),
        },
    );
    device.sync(&client).await;
    assert_eq!(device.op(&pushed).0, OpState::Done);
    assert_eq!(device.op(&noted).0, OpState::Done);
    assert_eq!(edits_of(&stub, 11), 1, "one push, to the fresh data_id");
    assert_eq!(logged(&stub, "已電話聯絡"), 1);
    // The pushed ticket moved to another group's stop: out of this view.
    let again = device.sync(&client).await;
    assert_eq!(again.applied, 0, "{again:?}");
    assert_eq!(stub.lock().unwrap().edit_requests.len(), 1);
    assert_eq!(logged(&stub, "已電話聯絡"), 1);
    assert!(
        tasklane_core::replica::tasks::id_by_key(device.replica.conn(), device.account.id, &key(1))
            .unwrap()
            .is_none_or(
                |id| tasklane_core::replica::tasks::row(device.replica.conn(), id)
                    .unwrap()
                    .gone
            )
    );
}

#[tokio::test]
async fn sync_an_expired_security_code_is_renewed_mid_sync_and_the_entry_written_once() {
    let stub = stub_with(2);
    let (_server, client) = start(&stub).await;
    let mut device = Device::new(AccountKind::Omflow, "amy");
    device.sync(&client).await;
    let issued = stub.lock().unwrap().codes_issued;
    let noted = device.queue(
        Some(device.task(&key(1))),
        OpRequest::CommentAdd {
            text: "重新登入後".into(),
        },
    );
    stub.lock().unwrap().code = None; // the server restarted: codes are in memory
    device.sync(&client).await;
    assert_eq!(device.op(&noted).0, OpState::Done);
    assert!(stub.lock().unwrap().codes_issued > issued);
    assert_eq!(logged(&stub, "重新登入後"), 1);
}

#[tokio::test]
async fn sync_a_running_ticket_waits_and_goes_through_later_while_others_pass() {
    let stub = stub_with(2);
    let (_server, client) = start(&stub).await;
    let mut device = Device::new(AccountKind::Omflow, "amy");
    device.sync(&client).await;
    stub.lock().unwrap().tickets[0].running = true;
    let pushed = device.queue(Some(device.task(&key(1))), push("同意"));
    let noted = device.queue(
        Some(device.task(&key(2))),
        OpRequest::CommentAdd {
            text: "另一張單".into(),
        },
    );
    device.sync(&client).await;
    let (state, reason) = device.op(&pushed);
    assert_eq!(state, OpState::Pending, "retried later: {reason:?}");
    assert!(reason.unwrap().contains(RUNNING));
    assert_eq!(device.op(&noted).0, OpState::Done);

    // The ticket stops running; the retry is due.
    stub.lock().unwrap().tickets[0].running = false;
    device
        .replica
        .conn()
        .execute("UPDATE outbox SET not_before = NULL", [])
        .unwrap();
    device.sync(&client).await;
    assert_eq!(device.op(&pushed).0, OpState::Done);
    let pushes = stub
        .lock()
        .unwrap()
        .edit_requests
        .iter()
        .filter(|r| r["action"] == "update")
        .count();
    assert_eq!(pushes, 2, "one refused while running, one applied");
    assert!(!stub.lock().unwrap().tickets[0].mine, "moved on once");
}

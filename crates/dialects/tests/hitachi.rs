//! HitachiClient against a stub that answers like CSCIW's manual and seed:
//! XML whatever `Accept` says, every number a string, empty strings for
//! unset dates, 404 when nothing is allocatable, and no work-item list
//! (unless the stub plays tasklane's own server, which has the extension).
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tasklane_core::model::{AccountKind, AccountSettings, State as TaskState};
use tasklane_core::outbox::{OpRequest, OpState};
use tasklane_core::remote::{Applied, ListMode, Remote, RemoteErrorKind};
use tasklane_dialects::{BodyFormat, HitachiClient};

use common::{Device, TestServer, config, obj, op};

#[derive(Debug, Clone)]
struct Item {
    pi: i64,
    id: i64,
    lane: String,
    participant: String,
    state: &'static str,
    start: String,
    closed: String,
}

#[derive(Debug, Default)]
struct Stub {
    items: Vec<Item>,
    list_extension: bool,
    requests: Vec<(String, String, Option<String>, String)>,
    list_queries: Vec<HashMap<String, String>>,
    fail_next: Option<u16>,
}

type Shared = Arc<Mutex<Stub>>;

fn item(pi: i64, id: i64, lane: &str, participant: &str, state: &'static str) -> Item {
    Item {
        pi,
        id,
        lane: lane.into(),
        participant: participant.into(),
        state,
        start: if state == "f" {
            "2016-12-09T15:58:52+09:00".into()
        } else {
            String::new()
        },
        closed: String::new(),
    }
}

fn stub(items: Vec<Item>) -> Shared {
    Arc::new(Mutex::new(Stub {
        items,
        ..Stub::default()
    }))
}

fn now_jst() -> String {
    tasklane_core::time::now()
        .to_zoned(jiff::tz::TimeZone::get("Asia/Tokyo").unwrap())
        .strftime("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

/// A work item as the manual's XML example writes it.
fn work_item_xml(i: &Item) -> String {
    format!(
        "<WorkItem><ActivityInstanceID>{id}</ActivityInstanceID><ClosedDate>{closed}</ClosedDate>\
         <CreationDate>2016-12-09T15:54:55+09:00</CreationDate><Deadline></Deadline><ID>{id}</ID>\
         <Name></Name><Participant>{p}</Participant><Priority>0</Priority>\
         <ProcessDefinitionID>3001</ProcessDefinitionID><ProcessInstanceID>{pi}</ProcessInstanceID>\
         <ProcessInstanceName>案件20160609103256259</ProcessInstanceName><StartDate>{start}</StartDate>\
         <StateCode>{state}</StateCode><WorkDefinitionID>3001</WorkDefinitionID>\
         <WorkDefinitionName>QuotationHandling_UTask1</WorkDefinitionName><WorkTypeCode>0</WorkTypeCode></WorkItem>",
        id = i.id,
        closed = i.closed,
        p = i.participant,
        pi = i.pi,
        start = i.start,
        state = i.state
    )
}

fn xml(status: StatusCode, body: String) -> Response {
    let doc = format!("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>{body}");
    (status, [("content-type", "application/xml")], doc).into_response()
}

/// A field of a request body, from JSON or XML (read by hand, so that the
/// stub does not share the client's types).
fn field(content_type: &str, body: &str, name: &str) -> Option<String> {
    if content_type.contains("json") {
        let v: Value = serde_json::from_str(body).ok()?;
        return match &v[name] {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
    }
    let open = format!("<{name}>");
    let start = body.find(&open)? + open.len();
    let end = body[start..].find(&format!("</{name}>"))?;
    Some(body[start..start + end].to_string())
}

fn quoted_values(filter: &str, column: &str) -> Vec<String> {
    filter
        .split(&format!("{column}='"))
        .skip(1)
        .filter_map(|rest| rest.split('\'').next().map(str::to_string))
        .collect()
}

async fn hitachi(
    State(stub): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut s = stub.lock().unwrap();
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Basic YW15OnB3") {
        return (StatusCode::UNAUTHORIZED, "Unauthorized").into_response();
    }
    if let Some(status) = s.fail_next.take() {
        return (StatusCode::from_u16(status).unwrap(), "<html>error</html>").into_response();
    }
    let content_type = headers
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string());
    let body = String::from_utf8(body.to_vec()).unwrap();
    if content_type.is_some() && body.is_empty() {
        return StatusCode::BAD_REQUEST.into_response();
    }
    let path = uri.path().trim_start_matches("/csciwws/v1/").to_string();
    s.requests.push((
        method.to_string(),
        path.clone(),
        content_type.clone(),
        body.clone(),
    ));
    let ct = content_type.unwrap_or_default();
    let parts: Vec<&str> = path.split('/').collect();
    match (method, parts.as_slice()) {
        (Method::GET, ["work-item"]) => {
            if !s.list_extension {
                return (StatusCode::NOT_FOUND, "<html>Not Found</html>").into_response();
            }
            let q: HashMap<String, String> =
                url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
                    .into_owned()
                    .collect();
            s.list_queries.push(q.clone());
            let who = quoted_values(&q["filter"], "Participant");
            let states = quoted_values(&q["filter"], "StateCode");
            let offset: usize = q["offset"].parse().unwrap();
            let count: usize = q["maxcount"].parse().unwrap();
            let page: String = s
                .items
                .iter()
                .filter(|i| {
                    who.contains(&i.participant)
                        && (states.is_empty() || states.iter().any(|st| st == i.state))
                })
                .skip(offset)
                .take(count)
                .map(work_item_xml)
                .collect();
            xml(
                StatusCode::OK,
                format!("<WorkItemList>{page}</WorkItemList>"),
            )
        }
        (Method::PUT, ["work-item", "allocate"]) => {
            let Some(participant) = field(&ct, &body, "Participant") else {
                return StatusCode::BAD_REQUEST.into_response();
            };
            if field(&ct, &body, "FetchCount").is_none() {
                return StatusCode::BAD_REQUEST.into_response();
            }
            let lanes = quoted_values(
                &field(&ct, &body, "Filter").unwrap_or_default(),
                "Participant",
            );
            let Some(i) = s
                .items
                .iter_mut()
                .find(|i| i.state == "j" && lanes.contains(&i.participant))
            else {
                return StatusCode::NOT_FOUND.into_response();
            };
            i.participant = participant;
            i.state = "f";
            i.start = now_jst();
            let answer = work_item_xml(i);
            xml(StatusCode::OK, answer)
        }
        (m, ["work-item", pi, wi, rest @ ..]) => {
            let (pi, wi): (i64, i64) = (pi.parse().unwrap_or(-1), wi.parse().unwrap_or(-1));
            let Some(i) = s.items.iter_mut().find(|i| i.pi == pi && i.id == wi) else {
                return StatusCode::NOT_FOUND.into_response();
            };
            match (m, rest) {
                (Method::GET, []) => {}
                (Method::PUT, ["complete"]) => {
                    if i.state != "o" {
                        i.state = "o";
                        i.closed = now_jst();
                    }
                }
                (Method::PUT, ["free"]) => {
                    i.state = "j";
                    i.participant = i.lane.clone();
                }
                (Method::PUT, ["reassign"]) => {
                    i.participant = field(&ct, &body, "Target").unwrap_or_default();
                }
                (Method::PUT, ["reassign-and-perform"]) => {
                    i.participant = field(&ct, &body, "Target").unwrap_or_default();
                    i.state = "f";
                    i.start = now_jst();
                }
                _ => return StatusCode::NOT_FOUND.into_response(),
            }
            let answer = work_item_xml(i);
            xml(StatusCode::OK, answer)
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn start_with(stub: &Shared, format: BodyFormat) -> (TestServer, HitachiClient) {
    let app = Router::new().fallback(hitachi).with_state(stub.clone());
    let server = TestServer::start(app).await;
    let settings = AccountSettings {
        lane_filter: Some("Participant='MyLane1'".into()),
        ..AccountSettings::default()
    };
    let client = HitachiClient::new(
        config(&server.url(""), "amy", "pw")
            .with_settings(settings)
            .with_body_format(format),
    )
    .unwrap();
    (server, client)
}

async fn start(stub: &Shared) -> (TestServer, HitachiClient) {
    start_with(stub, BodyFormat::Json).await
}

fn allocate() -> OpRequest {
    OpRequest::Allocate {
        participant: None,
        filter: None,
        sort: Some("ID".into()),
        fetch_count: 10,
    }
}

fn transition(id: &str, params: Value) -> OpRequest {
    OpRequest::Transition {
        transition: id.into(),
        text: None,
        params: obj(params),
    }
}

#[tokio::test]
async fn allocate_claims_the_next_ready_item_of_the_lane_in_json_or_xml() {
    for format in [BodyFormat::Json, BodyFormat::Xml] {
        let stub = stub(vec![
            item(5004, 10005, "MyLane1", "MyLane1", "j"),
            item(5004, 10006, "MyLane1", "MyLane1", "j"),
        ]);
        let (_server, client) = start_with(&stub, format).await;
        let outcome = client.execute(&op(allocate(), None), None).await.unwrap();
        assert_eq!(outcome.key.as_deref(), Some("5004:10005"));
        assert_eq!(outcome.result["StateCode"], "f");
        assert_eq!(outcome.result["Participant"], "amy");
        let s = stub.lock().unwrap();
        let (method, path, ct, body) = s.requests.last().unwrap();
        assert_eq!(
            (method.as_str(), path.as_str()),
            ("PUT", "work-item/allocate")
        );
        match format {
            BodyFormat::Json => {
                assert_eq!(ct.as_deref(), Some("application/json"));
                assert_eq!(
                    serde_json::from_str::<Value>(body).unwrap(),
                    json!({"UserDescription": "amy",
                    "Participant": "amy", "Filter": "Participant='MyLane1'", "Sort": "ID", "FetchCount": "10"})
                );
            }
            BodyFormat::Xml => {
                assert_eq!(ct.as_deref(), Some("application/xml"));
                assert!(body.contains("<Parameter><UserDescription>amy</UserDescription><Participant>amy</Participant><Filter>Participant='MyLane1'</Filter><Sort>ID</Sort><FetchCount>10</FetchCount></Parameter>"), "{body}");
            }
        }
    }
}

#[tokio::test]
async fn nothing_to_allocate_is_a_claim_of_nothing_not_a_failure() {
    let stub = stub(vec![item(5004, 10005, "OtherLane", "OtherLane", "j")]);
    let (_server, client) = start(&stub).await;
    let outcome = client.execute(&op(allocate(), None), None).await.unwrap();
    assert_eq!(outcome.key, None);
    assert_eq!(outcome.result["allocated"], Value::Null);
}

#[tokio::test]
async fn fetch_reads_xml_with_string_numbers_and_knows_lanes_from_workers() {
    let stub = stub(vec![
        item(5004, 10005, "MyLane1", "MyLane1", "j"),
        item(5004, 10006, "MyLane1", "amy", "f"),
        item(5004, 10007, "MyLane1", "bob", "f"),
    ]);
    let (_server, client) = start(&stub).await;
    let ready = client.fetch("5004:10005").await.unwrap().unwrap();
    assert_eq!(
        (
            ready.state,
            ready.group.as_deref(),
            ready.assignee.as_deref()
        ),
        (TaskState::Open, Some("MyLane1"), None)
    );
    assert_eq!(
        ready.actions.as_ref().unwrap()[0].id,
        "reassign-and-perform"
    );
    let mine = client.fetch("5004:10006").await.unwrap().unwrap();
    assert_eq!(
        (mine.state, mine.assignee.as_deref()),
        (TaskState::InProgress, Some("amy"))
    );
    assert_eq!(mine.priority, Some(0));
    assert_eq!(mine.deadline, None);
    let ids: Vec<_> = mine
        .actions
        .as_ref()
        .unwrap()
        .iter()
        .map(|a| a.id.as_str())
        .collect();
    assert_eq!(ids, ["complete", "free", "reassign"]);
    assert!(
        client.fetch("5004:10007").await.unwrap().is_none(),
        "bob's work"
    );
    assert!(client.fetch("5004:99").await.unwrap().is_none());
    let s = stub.lock().unwrap();
    assert!(
        s.requests.iter().all(|(_, _, ct, _)| ct.is_none()),
        "a GET carries no Content-Type"
    );
}

#[tokio::test]
async fn completing_sends_process_data_and_is_recognised_afterwards() {
    let stub = stub(vec![item(5004, 10006, "MyLane1", "amy", "f")]);
    let (_server, client) = start(&stub).await;
    let task = client.fetch("5004:10006").await.unwrap().unwrap();
    let complete = op(
        transition("complete", json!({"approved": "yes", "amount": 1200})),
        Some(&task.key),
    );
    assert_eq!(
        client.applied(&complete, Some(&task)).await.unwrap(),
        Applied::No
    );
    let outcome = client.execute(&complete, Some(&task)).await.unwrap();
    assert_eq!(outcome.result["StateCode"], "o");
    {
        let s = stub.lock().unwrap();
        let (_, path, _, body) = s.requests.last().unwrap();
        assert_eq!(path, "work-item/5004/10006/complete");
        assert_eq!(
            serde_json::from_str::<Value>(body).unwrap(),
            json!({"UserDescription": "amy",
            "ProcessDataList": [{"Key": "amount", "Value": "1200"}, {"Key": "approved", "Value": "yes"}]})
        );
    }
    assert!(matches!(
        client.applied(&complete, None).await.unwrap(),
        Applied::Yes(_)
    ));
    assert_eq!(
        client.fetch("5004:10006").await.unwrap().unwrap().state,
        TaskState::Closed
    );
}

#[tokio::test]
async fn free_gives_the_item_back_to_its_lane_and_reassign_hands_it_on() {
    let stub = stub(vec![
        item(5004, 10006, "MyLane1", "amy", "f"),
        item(5004, 10008, "MyLane1", "amy", "f"),
    ]);
    let (_server, client) = start(&stub).await;
    let first = client.fetch("5004:10006").await.unwrap().unwrap();
    let free = op(transition("free", json!({})), Some(&first.key));
    client.execute(&free, Some(&first)).await.unwrap();
    let back = client.fetch("5004:10006").await.unwrap().unwrap();
    assert_eq!(
        (back.state, back.group.as_deref()),
        (TaskState::Open, Some("MyLane1"))
    );
    assert!(matches!(
        client.applied(&free, None).await.unwrap(),
        Applied::Yes(_)
    ));

    let second = client.fetch("5004:10008").await.unwrap().unwrap();
    let reassign = op(
        transition("reassign", json!({"Target": "bob"})),
        Some(&second.key),
    );
    client.execute(&reassign, Some(&second)).await.unwrap();
    let body = stub.lock().unwrap().requests.last().unwrap().3.clone();
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"UserDescription": "amy", "Source": "amy", "Target": "bob"})
    );
    assert!(matches!(
        client.applied(&reassign, None).await.unwrap(),
        Applied::Yes(_)
    ));
    let missing = client
        .execute(
            &op(transition("reassign", json!({})), Some(&second.key)),
            Some(&second),
        )
        .await;
    assert_eq!(missing.unwrap_err().kind, RemoteErrorKind::Permanent);
}

#[tokio::test]
async fn a_ready_item_is_taken_over_with_reassign_and_perform() {
    let stub = stub(vec![item(5004, 10007, "MyLane1", "MyLane1", "j")]);
    let (_server, client) = start(&stub).await;
    let ready = client.fetch("5004:10007").await.unwrap().unwrap();
    assert_eq!(ready.state, TaskState::Open);
    let take = op(
        transition("reassign-and-perform", json!({})),
        Some(&ready.key),
    );
    assert!(matches!(
        client.applied(&take, Some(&ready)).await.unwrap(),
        Applied::No
    ));
    client.execute(&take, Some(&ready)).await.unwrap();
    let (method, path, body) = {
        let s = stub.lock().unwrap();
        let r = s.requests.last().unwrap().clone();
        (r.0, r.1, r.3)
    };
    assert_eq!(
        (method.as_str(), path.as_str()),
        ("PUT", "work-item/5004/10007/reassign-and-perform")
    );
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"UserDescription": "amy", "Source": "MyLane1", "Target": "amy"})
    );
    let taken = client.fetch("5004:10007").await.unwrap().unwrap();
    assert_eq!(
        (taken.state, taken.assignee.as_deref()),
        (TaskState::InProgress, Some("amy"))
    );
    assert!(matches!(
        client.applied(&take, Some(&taken)).await.unwrap(),
        Applied::Yes(_)
    ));
}

#[tokio::test]
async fn a_vendor_server_without_a_list_lists_nothing_and_says_so() {
    let stub = stub(vec![item(5004, 10006, "MyLane1", "amy", "f")]);
    let (_server, client) = start(&stub).await;
    let page = client.list_page(&ListMode::Full, None).await.unwrap();
    assert!(page.tasks.is_empty());
    assert_eq!(page.next, None);
    let caps = client.capabilities();
    assert!(!caps.exhaustive_listing && !caps.incremental);
    let claim = op(allocate(), None);
    assert!(matches!(
        client.applied(&claim, None).await.unwrap(),
        Applied::Unknown(_)
    ));
}

#[tokio::test]
async fn the_list_extension_pages_by_offset_over_my_items_and_my_lanes() {
    let stub = stub(vec![
        item(5004, 1, "MyLane1", "MyLane1", "j"),
        item(5004, 2, "MyLane1", "amy", "f"),
        item(5005, 1, "MyLane1", "bob", "f"),
        item(5006, 1, "MyLane1", "MyLane1", "j"),
    ]);
    stub.lock().unwrap().list_extension = true;
    let (_server, client) = start(&stub).await;
    let first = client.list_page(&ListMode::Full, None).await.unwrap();
    let second = client
        .list_page(&ListMode::Full, first.next.as_deref())
        .await
        .unwrap();
    let keys: Vec<_> = first
        .tasks
        .iter()
        .chain(&second.tasks)
        .map(|t| t.key.as_str())
        .collect();
    assert_eq!(keys, ["5004:1", "5004:2", "5006:1"]);
    assert!(client.capabilities().exhaustive_listing);
    let q = stub.lock().unwrap().list_queries[1].clone();
    assert_eq!(
        q["filter"],
        "(Participant='amy' OR (Participant='MyLane1'))"
    );
    assert_eq!(
        (
            q["offset"].as_str(),
            q["maxcount"].as_str(),
            q["userdescription"].as_str()
        ),
        ("2", "2", "amy")
    );

    let claim = op(allocate(), None);
    assert_eq!(
        client.applied(&claim, None).await.unwrap(),
        Applied::Claimed(vec![]),
        "an older item is not this claim's"
    );
    client.execute(&claim, None).await.unwrap();
    let Applied::Claimed(items) = client.applied(&claim, None).await.unwrap() else {
        panic!("a claim is answered with the items claimed since");
    };
    let keys: Vec<_> = items.iter().map(|o| o.key.as_deref()).collect();
    assert_eq!(keys, [Some("5004:1")]);
}

#[tokio::test]
async fn a_listing_asks_for_the_next_pages_while_this_one_is_merged_and_for_none_twice() {
    let stub = stub(
        (1..=5)
            .map(|n| item(6000 + n, 1, "MyLane1", "amy", "f"))
            .collect(),
    );
    stub.lock().unwrap().list_extension = true;
    let (_server, client) = start(&stub).await;
    // Sorted: the pages read ahead travel at once, in any order.
    let offsets = || async {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let mut offsets = stub
            .lock()
            .unwrap()
            .list_queries
            .iter()
            .map(|q| q["offset"].parse::<u32>().unwrap())
            .collect::<Vec<_>>();
        offsets.sort_unstable();
        offsets
    };
    let mut page = client.list_page(&ListMode::Full, None).await.unwrap();
    assert_eq!(
        offsets().await,
        [0, 2, 4],
        "the next two pages asked for ahead"
    );
    let mut keys: Vec<String> = page.tasks.iter().map(|t| t.key.clone()).collect();
    while let Some(next) = page.next.take() {
        page = client
            .list_page(&ListMode::Full, Some(&next))
            .await
            .unwrap();
        keys.extend(page.tasks.iter().map(|t| t.key.clone()));
    }
    assert_eq!(keys, ["6001:1", "6002:1", "6003:1", "6004:1", "6005:1"]);
    // Each page once. The second, full, sent the one after the last
    // ahead (whether the third is short is not known until it arrives):
    // that one page is what reading two ahead costs a listing at most.
    assert_eq!(offsets().await, [0, 2, 4, 6]);
}

#[tokio::test]
async fn http_failures_are_classified() {
    let stub = stub(vec![item(5004, 10006, "MyLane1", "amy", "f")]);
    let (server, client) = start(&stub).await;
    for (status, kind) in [
        (500, RemoteErrorKind::Transient { retry_after: None }),
        (400, RemoteErrorKind::Permanent),
        (403, RemoteErrorKind::Permanent),
    ] {
        stub.lock().unwrap().fail_next = Some(status);
        let err = client.fetch("5004:10006").await.unwrap_err();
        assert_eq!((err.kind, err.status), (kind, Some(status)));
    }
    let wrong = HitachiClient::new(config(&server.url(""), "amy", "nope")).unwrap();
    assert_eq!(
        wrong.fetch("5004:10006").await.unwrap_err().kind,
        RemoteErrorKind::Auth
    );
    assert_eq!(
        client.fetch("10006").await.unwrap_err().kind,
        RemoteErrorKind::Permanent
    );
}

// ---- the sync issue's scenarios, against this stub ---------------------------

#[tokio::test]
async fn sync_claims_and_a_completion_queued_offline_reach_a_server_without_a_list_once() {
    let stub = stub(vec![
        item(5004, 10005, "MyLane1", "MyLane1", "j"),
        item(5004, 10006, "MyLane1", "MyLane1", "j"),
        item(5004, 10007, "MyLane1", "MyLane1", "j"),
    ]);
    let (_server, client) = start_with(&stub, BodyFormat::Xml).await;
    let mut device = Device::new(AccountKind::Hitachi, "amy");
    let first = device.sync(&client).await;
    assert_eq!(first.pulled, 0, "the vendor documents no list: {first:?}");

    // Offline: two claims. Each becomes a task of the replica.
    let claims = [
        device.queue(None, allocate()),
        device.queue(None, allocate()),
    ];
    device.sync(&client).await;
    for claim in &claims {
        assert_eq!(device.op(claim).0, OpState::Done);
    }
    let (first_item, second_item) = (device.task("5004:10005"), device.task("5004:10006"));
    {
        let s = stub.lock().unwrap();
        let mine: Vec<i64> = s
            .items
            .iter()
            .filter(|i| i.participant == "amy" && i.state == "f")
            .map(|i| i.id)
            .collect();
        assert_eq!(mine, [10005, 10006], "claimed once each");
    }

    // Completed with process data, the other given back.
    let done = device.queue(
        Some(first_item),
        transition("complete", json!({"Approved": "yes"})),
    );
    let back = device.queue(Some(second_item), transition("free", json!({})));
    device.sync(&client).await;
    assert_eq!(device.op(&done).0, OpState::Done);
    assert_eq!(device.op(&back).0, OpState::Done);
    {
        let s = stub.lock().unwrap();
        assert_eq!(s.items[0].state, "o");
        assert_eq!(
            (s.items[1].state, s.items[1].participant.as_str()),
            ("j", "MyLane1")
        );
        let puts = |end: &str| {
            s.requests
                .iter()
                .filter(|(m, p, _, _)| m == "PUT" && p.ends_with(end))
                .count()
        };
        assert_eq!(
            (puts("/allocate"), puts("/complete"), puts("/free")),
            (2, 1, 1)
        );
        let complete = s
            .requests
            .iter()
            .find(|(_, p, _, _)| p.ends_with("/complete"))
            .unwrap();
        assert!(
            complete.3.contains("<Key>Approved</Key><Value>yes</Value>"),
            "{}",
            complete.3
        );
    }
    // A listing that knows nothing does not make claimed work vanish.
    let again = device.sync(&client).await;
    assert_eq!(again.applied, 0, "{again:?}");
    assert!(
        !tasklane_core::replica::tasks::row(device.replica.conn(), first_item)
            .unwrap()
            .gone
    );
}

//! The Hitachi CSCIW dialect over real HTTP: the seed's own examples, the
//! body and answer formats, allocate / get / complete / free / reassign,
//! the "already done → 200" idempotency of §2.3, the list extension, and
//! the dialect's 400 and 401 answers (`../shared/reference/hitachi/NOTES.md`).
//! Filter/Sort are in `server_hitachi_filter.rs`, who may see and do what
//! and `Idempotency-Key` in `server_hitachi_access.rs`.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;
mod hitachi_support;

use common::TestServer;
use hitachi_support::{Csciw, Seed, key, lane_engine, send};
use reqwest::Method;
use serde_json::{Value, json};
use tasklane_dialects::hitachi::wire::{WorkItem, state};
use tasklane_engine::responses;
use tasklane_engine::server::ServerConfig;

/// The seed's allocate request bodies (manual 11.5.28), verbatim.
const SEED_XML_REQUEST: &str = r#"<?xml version="1.0" encoding="UTF-8" ?> <Parameter> <Participant>User1</Participant> <Filter>Participant='MyLane1'</Filter> <!-- Participant='MyLane1' --> <Sort>ID</Sort> <FetchCount>100</FetchCount> </Parameter>"#;
const SEED_JSON_REQUEST: &str = r#"{
"Participant" : "User1",
"Filter" : "Participant='MyLane1'",
"Sort" : "ID",
"FetchCount" : "100"
}"#;
/// The WorkItem properties in the order of the seed's answer examples.
const SEED_PROPERTIES: [&str; 16] = [
    "ActivityInstanceID",
    "ClosedDate",
    "CreationDate",
    "Deadline",
    "ID",
    "Name",
    "Participant",
    "Priority",
    "ProcessDefinitionID",
    "ProcessInstanceID",
    "ProcessInstanceName",
    "StartDate",
    "StateCode",
    "WorkDefinitionID",
    "WorkDefinitionName",
    "WorkTypeCode",
];

const LANE1_FILTER: &str = "Participant = 'Lane1'";

/// The seed's world: `User1` in `MyLane1` with three ready items.
fn seed_server() -> (TestServer, Vec<(i64, i64)>) {
    let (engine, keys) = lane_engine(
        "MyLane1",
        &["User1".to_string()],
        "案件20160609103256259",
        &[
            Seed {
                name: "QuotationHandling",
                priority: 0,
            },
            Seed {
                name: "Approval",
                priority: 5,
            },
            Seed {
                name: "Archive",
                priority: 1,
            },
        ],
    );
    // The first item has no deadline, to see how an unset date is written.
    engine
        .db()
        .write(|tx| {
            tx.execute(
                "UPDATE tasks SET deadline = NULL WHERE id = ?1",
                [keys[0].1],
            )?;
            Ok(())
        })
        .unwrap();
    (TestServer::start(engine, ServerConfig::default()), keys)
}

/// The names of the root's child elements, in document order.
fn xml_children(xml: &str) -> (String, Vec<String>) {
    let mut reader = quick_xml::Reader::from_str(xml);
    let (mut depth, mut root, mut children) = (0, String::new(), Vec::new());
    loop {
        match reader.read_event().unwrap() {
            quick_xml::events::Event::Start(e) => {
                let name = e.name().into_inner().to_owned();
                if depth == 0 {
                    root = name;
                } else if depth == 1 {
                    children.push(name);
                }
                depth += 1;
            }
            quick_xml::events::Event::Empty(e) => {
                children.push(e.name().into_inner().to_owned());
            }
            quick_xml::events::Event::End(_) => depth -= 1,
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    (root, children)
}

/// A Hitachi instant as the seed writes it: `2016-12-09T15:54:55+09:00`.
#[track_caller]
fn assert_tokyo_time(text: &str) {
    assert_eq!(text.len(), 25, "{text:?}");
    assert!(text.ends_with("+09:00"), "{text:?}");
    assert!(text.parse::<jiff::Timestamp>().is_ok(), "{text:?}");
}

/// The item called `name` among `items`.
#[track_caller]
fn named(items: &[WorkItem], name: &str) -> WorkItem {
    items
        .iter()
        .find(|i| i.name == name)
        .unwrap_or_else(|| panic!("no work item {name:?}"))
        .clone()
}

#[tokio::test]
async fn the_seed_xml_request_allocates_the_first_item_by_id_and_answers_the_seed_xml_shape() {
    let (s, keys) = seed_server();
    let c = Csciw::new(&s.url);
    let r = send(
        c.request(Method::PUT, "work-item/allocate", "User1")
            .header("content-type", "application/xml")
            .body(SEED_XML_REQUEST),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.content_type(), "application/xml; charset=utf-8");
    let xml = r.text();
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>"));
    let (root, children) = xml_children(&xml);
    assert_eq!(root, "WorkItem");
    assert_eq!(children, SEED_PROPERTIES);
    let item = r.item();
    assert_eq!(key(&item), keys[0], "Sort ID: the lowest ID first");
    assert_eq!(
        (item.participant.as_str(), item.state_code.as_str()),
        ("User1", state::PERFORMING)
    );
    assert_eq!(item.process_instance_name, "案件20160609103256259");
    assert_eq!((item.closed_date, item.deadline), (None, None));
    assert!(
        xml.contains("<ClosedDate/>") && xml.contains("<Deadline/>"),
        "{xml}"
    );
    assert_tokyo_time(item.start_date.unwrap().as_str());
    assert_tokyo_time(item.creation_date.unwrap().as_str());
    assert_eq!(c.state(keys[0].0, keys[0].1).await.participant, "User1");
}

#[tokio::test]
async fn the_seed_json_request_answers_the_seed_json_shape_with_every_value_a_string() {
    let (s, keys) = seed_server();
    let c = Csciw::new(&s.url);
    let r = send(
        c.request(Method::PUT, "work-item/allocate", "User1")
            .header("content-type", "application/json")
            .header("accept", "application/json")
            .body(SEED_JSON_REQUEST),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.content_type(), "application/json");
    let text = r.text();
    let positions: Vec<usize> = SEED_PROPERTIES
        .iter()
        .map(|p| {
            text.find(&format!("\"{p}\""))
                .unwrap_or_else(|| panic!("{p} is missing"))
        })
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "not in the seed's order: {text}"
    );
    let v = r.json();
    let map = v.as_object().unwrap();
    assert_eq!(map.len(), 16, "flat, as in the seed: {v}");
    for (name, value) in map {
        assert!(value.is_string(), "{name} is not a string: {value}");
    }
    assert_eq!(v["ID"], json!(keys[0].1.to_string()));
    assert_eq!(v["ProcessInstanceID"], json!(keys[0].0.to_string()));
    assert_eq!(v["Participant"], json!("User1"));
    assert_eq!(v["StateCode"], json!("f"));
    assert_eq!(v["Priority"], json!("0"));
    assert_eq!((&v["ClosedDate"], &v["Deadline"]), (&json!(""), &json!("")));
    assert_tokyo_time(v["StartDate"].as_str().unwrap());
    // The same request again takes the next item: allocate is not
    // "same item" idempotent.
    let again = send(
        c.request(Method::PUT, "work-item/allocate", "User1")
            .header("content-type", "application/json")
            .header("accept", "application/json")
            .body(SEED_JSON_REQUEST),
    )
    .await;
    assert_eq!(key(&again.item()), keys[1]);
}

#[tokio::test]
async fn allocate_reads_the_body_by_content_type_and_answers_by_accept_with_xml_the_default() {
    let s = TestServer::demo();
    let c = Csciw::new(&s.url);
    let json_body =
        json!({"Participant": "tanaka", "Filter": LANE1_FILTER, "FetchCount": 1}).to_string();
    let xml_body = format!(
        "<Parameter><Participant>tanaka</Participant><Filter>{LANE1_FILTER}</Filter><FetchCount>1</FetchCount></Parameter>"
    );
    let cases = [
        ("application/json", &json_body, None, true),
        (
            "application/json",
            &json_body,
            Some("application/json"),
            false,
        ),
        (
            "application/json; charset=utf-8",
            &json_body,
            Some("application/xml"),
            true,
        ),
        ("application/xml", &xml_body, None, true),
        (
            "application/xml; charset=utf-8",
            &xml_body,
            Some("*/*"),
            true,
        ),
        (
            "application/xml",
            &xml_body,
            Some("application/json"),
            false,
        ),
    ];
    for (content_type, body, accept, xml_answer) in cases {
        let mut req = c
            .request(Method::PUT, "work-item/allocate", "tanaka")
            .header("content-type", content_type)
            .body(body.clone());
        if let Some(accept) = accept {
            req = req.header("accept", accept);
        }
        let r = send(req).await;
        let case = format!("{content_type} / {accept:?}");
        assert_eq!(r.status, 200, "{case}: {}", r.text());
        assert_eq!(r.is_xml(), xml_answer, "{case}: {}", r.content_type());
        let item = r.item();
        assert_eq!(item.participant, "tanaka", "{case}");
        // Give it back so that the next case has something to take.
        let freed = c
            .act("tanaka", item.process_instance_id, item.id, "free", None)
            .await;
        assert_eq!(freed.status, 200, "{}", freed.text());
    }
}

#[tokio::test]
async fn fetch_count_is_read_as_a_number_or_as_a_string() {
    let s = TestServer::demo();
    let c = Csciw::new(&s.url);
    for fetch in [json!(1), json!("1"), json!(-1), json!("-1"), json!(" 3 ")] {
        let r = c
            .allocate(
                "tanaka",
                json!({"Participant": "tanaka", "Filter": LANE1_FILTER, "FetchCount": fetch}),
            )
            .await;
        assert_eq!(r.status, 200, "{fetch}: {}", r.text());
        let item = r.item();
        assert_eq!(
            c.act("tanaka", item.process_instance_id, item.id, "free", None)
                .await
                .status,
            200
        );
    }
    let xml = send(
        c.request(Method::PUT, "work-item/allocate", "tanaka")
            .header("content-type", "application/xml")
            .body("<Parameter><Participant>tanaka</Participant><FetchCount>-1</FetchCount></Parameter>"),
    )
    .await;
    assert_eq!(xml.item().participant, "tanaka");
}

#[tokio::test]
async fn invalid_allocate_parameters_are_answered_400_and_allocate_nothing() {
    let s = TestServer::demo();
    let c = Csciw::new(&s.url);
    let before = c.all("admin").await;
    let ok = |extra: Value| {
        let mut body = json!({"Participant": "tanaka", "FetchCount": "1"});
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                body.as_object_mut().unwrap().remove(k);
            } else {
                body[k] = v.clone();
            }
        }
        body
    };
    let cases = [
        ("empty UserDescription", ok(json!({"UserDescription": ""}))),
        (
            "blank UserDescription",
            ok(json!({"UserDescription": "  "})),
        ),
        ("FetchCount below -1", ok(json!({"FetchCount": -2}))),
        (
            "FetchCount below -1, as text",
            ok(json!({"FetchCount": "-2"})),
        ),
        ("FetchCount not a number", ok(json!({"FetchCount": "many"}))),
        ("FetchCount not whole", ok(json!({"FetchCount": 1.5}))),
        ("FetchCount missing", ok(json!({"FetchCount": null}))),
        ("Participant missing", ok(json!({"Participant": null}))),
        ("Participant empty", ok(json!({"Participant": ""}))),
        ("empty Filter", ok(json!({"Filter": ""}))),
        ("empty Sort", ok(json!({"Sort": ""}))),
        (
            "Filter not in the grammar",
            ok(json!({"Filter": "Owner = 'x'"})),
        ),
        ("Sort not in the grammar", ok(json!({"Sort": "ID;"}))),
    ];
    for (what, body) in cases {
        let r = c.allocate("tanaka", body.clone()).await;
        let message = r.error(400);
        assert!(!message.is_empty(), "{what}");
    }
    // Without a body, or with a body of another type.
    let no_body = send(
        c.request(Method::PUT, "work-item/allocate", "tanaka")
            .header("accept", "application/json"),
    )
    .await;
    no_body.error(400);
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let mut req = c
            .request(Method::PUT, "work-item/allocate", "tanaka")
            .body(ok(json!({})).to_string());
        if let Some(t) = content_type {
            req = req.header("content-type", t);
        }
        let message = send(req).await.error(400);
        assert!(
            message.contains("Content-Type"),
            "{content_type:?}: {message}"
        );
    }
    assert_eq!(c.all("admin").await, before, "nothing was allocated");
}

#[tokio::test]
async fn allocate_answers_404_when_nothing_is_allocatable() {
    let s = TestServer::demo();
    let c = Csciw::new(&s.url);
    // Lane1 has three ready items.
    for _ in 0..3 {
        let r = c
            .allocate(
                "tanaka",
                json!({"Participant": "tanaka", "Filter": LANE1_FILTER, "FetchCount": -1}),
            )
            .await;
        assert_eq!(r.item().state_code, state::PERFORMING);
    }
    let before = c.all("admin").await;
    for filter in [
        Some(LANE1_FILTER),
        None,
        // Ready items exist in Lane2, but tanaka is not in that lane.
        Some("Participant = 'Lane2'"),
        // The vendor adds "state is ready" itself: performing items never match.
        Some("StateCode = 'f'"),
    ] {
        let mut body = json!({"Participant": "tanaka", "FetchCount": "100"});
        if let Some(f) = filter {
            body["Filter"] = json!(f);
        }
        let message = c.allocate("tanaka", body).await.error(404);
        assert!(message.contains("no allocatable"), "{message}");
    }
    assert_eq!(c.all("admin").await, before);
}

#[tokio::test]
async fn allocate_honours_filter_and_sort_and_the_item_is_then_performed() {
    let s = TestServer::demo();
    let c = Csciw::new(&s.url);
    let cases = [
        (
            LANE1_FILTER,
            "Priority ASC",
            "Customer data update for case 20261101",
        ),
        (
            LANE1_FILTER,
            "Priority DESC",
            "見積承認：株式会社サンプル向け",
        ),
        (
            "Participant = 'Lane1' AND Name LIKE '検収%'",
            "ID",
            "検収報告書の作成",
        ),
    ];
    for (filter, sort, expected) in cases {
        let r = c
            .allocate(
                "suzuki",
                json!({"Participant": "suzuki", "Filter": filter, "Sort": sort, "FetchCount": "10"}),
            )
            .await;
        let item = r.item();
        assert_eq!(item.name, expected, "{filter} / {sort}");
        let now = c
            .get("suzuki", item.process_instance_id, item.id)
            .await
            .item();
        assert_eq!(
            (now.participant.as_str(), now.state_code.as_str()),
            ("suzuki", state::PERFORMING)
        );
        assert!(now.start_date.is_some() && now.closed_date.is_none());
    }
}

#[tokio::test]
async fn a_work_item_is_read_by_case_and_id_in_json_and_in_xml() {
    let s = TestServer::demo();
    let c = Csciw::new(&s.url);
    let mine = named(&c.all("tanaka").await, "作業者実行：請求書確認");
    let (pi, wi) = key(&mine);
    let as_json = c.get("tanaka", pi, wi).await;
    let as_xml = send(c.request(Method::GET, &format!("work-item/{pi}/{wi}"), "tanaka")).await;
    assert!(as_xml.is_xml());
    assert_eq!(as_json.item(), as_xml.item());
    assert_eq!(as_json.item(), mine);
    let described = send(
        c.request(Method::GET, &format!("work-item/{pi}/{wi}"), "tanaka")
            .query(&[("userdescription", "tanaka")]),
    )
    .await;
    assert_eq!(described.item(), mine);
    // Not found: another case, an unknown id, ids that are not numbers.
    for path in [
        format!("work-item/{}/{wi}", pi + 1000),
        format!("work-item/{pi}/999999"),
        format!("work-item/{pi}/abc"),
        format!("work-item/x/{wi}"),
    ] {
        let r = send(
            c.request(Method::GET, &path, "tanaka")
                .header("accept", "application/json"),
        )
        .await;
        assert!(r.error(404).contains("not found"), "{path}");
        let xml = send(c.request(Method::GET, &path, "tanaka")).await;
        assert!(xml.is_xml());
        xml.error(404);
    }
    let empty = send(
        c.request(Method::GET, &format!("work-item/{pi}/{wi}"), "tanaka")
            .query(&[("userdescription", "")]),
    )
    .await;
    assert!(empty.error(400).contains("UserDescription"));
}

#[tokio::test]
async fn complete_with_json_process_data_closes_the_item_and_keeps_the_data() {
    let s = TestServer::demo();
    let c = Csciw::new(&s.url);
    let mine = named(&c.all("tanaka").await, "作業者実行：請求書確認");
    let (pi, wi) = key(&mine);
    let r = c
        .act(
            "tanaka",
            pi,
            wi,
            "complete",
            Some(json!({
                "UserDescription": "tanaka",
                "ProcessDataList": [
                    {"Key": "approved", "Value": "yes"},
                    {"Key": "note"},
                ],
            })),
        )
        .await;
    let done = r.item();
    assert_eq!(done.state_code, state::COMPLETED);
    assert_tokyo_time(done.closed_date.as_ref().unwrap().as_str());
    assert_eq!(c.state(pi, wi).await, done);
    let data = process_data(&s, wi);
    assert_eq!(data, json!({"approved": "yes", "note": ""}));
}

#[tokio::test]
async fn complete_with_xml_process_data_answers_xml() {
    let s = TestServer::demo();
    let c = Csciw::new(&s.url);
    let mine = named(&c.all("suzuki").await, "出張申請の承認（大阪）");
    let (pi, wi) = key(&mine);
    let r = send(
        c.request(
            Method::PUT,
            &format!("work-item/{pi}/{wi}/complete"),
            "suzuki",
        )
        .header("content-type", "application/xml")
        .body(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Parameter>\
                 <ProcessDataList><Key>承認</Key><Value>可</Value></ProcessDataList>\
                 <ProcessDataList><Key>金額</Key><Value>12000</Value></ProcessDataList>\
                 </Parameter>",
        ),
    )
    .await;
    assert!(r.is_xml());
    assert_eq!(r.item().state_code, state::COMPLETED);
    assert_eq!(process_data(&s, wi), json!({"承認": "可", "金額": "12000"}));
}

#[tokio::test]
async fn complete_without_a_body_needs_no_content_type_but_a_performing_item() {
    let s = TestServer::demo();
    let c = Csciw::new(&s.url);
    let all = c.all("tanaka").await;
    // A ready item: nobody performs it yet.
    let ready = named(&all, "検収報告書の作成");
    let r = c
        .act(
            "tanaka",
            ready.process_instance_id,
            ready.id,
            "complete",
            None,
        )
        .await;
    assert!(r.error(400).contains("allocate it first"));
    assert_eq!(c.state(ready.process_instance_id, ready.id).await, ready);
    let mine = named(&all, "作業者実行：請求書確認");
    let r = c
        .act(
            "tanaka",
            mine.process_instance_id,
            mine.id,
            "complete",
            None,
        )
        .await;
    assert_eq!(r.item().state_code, state::COMPLETED);
    assert_eq!(process_data(&s, mine.id), json!({}));
}

/// The process data recorded with an item's completion.
fn process_data(s: &TestServer, wi: i64) -> Value {
    let history = s
        .engine()
        .db()
        .read(|c| responses::for_task(c, wi))
        .unwrap();
    let completions: Vec<_> = history
        .iter()
        .filter(|r| r.transition == "complete")
        .collect();
    assert_eq!(completions.len(), 1, "completed once");
    completions[0].additional_data["process_data"].clone()
}

#[tokio::test]
async fn free_gives_the_item_back_to_its_lane_ready_to_be_allocated_again() {
    let s = TestServer::demo();
    let c = Csciw::new(&s.url);
    let mine = named(&c.all("tanaka").await, "作業者実行：請求書確認");
    let (pi, wi) = key(&mine);
    let freed = c.act("tanaka", pi, wi, "free", None).await.item();
    assert_eq!(
        (freed.participant.as_str(), freed.state_code.as_str()),
        ("Lane1", state::READY)
    );
    assert_eq!((freed.start_date, freed.closed_date), (None, None));
    assert_eq!(c.state(pi, wi).await.participant, "Lane1");
    // Back in the lane: its other member sees it and can take it.
    let filter = format!("Participant = 'Lane1' AND ID = '{wi}'");
    let taken = c
        .allocate(
            "suzuki",
            json!({"Participant": "suzuki", "Filter": filter, "FetchCount": 1}),
        )
        .await
        .item();
    assert_eq!(
        (key(&taken), taken.participant.as_str()),
        ((pi, wi), "suzuki")
    );
    // An XML body is read too; it only carries UserDescription.
    let xml = send(
        c.request(Method::PUT, &format!("work-item/{pi}/{wi}/free"), "suzuki")
            .header("content-type", "application/xml")
            .body("<Parameter><UserDescription>suzuki</UserDescription></Parameter>"),
    )
    .await;
    assert_eq!(xml.item().state_code, state::READY);
}

#[tokio::test]
async fn reassign_hands_an_item_to_another_user_or_back_to_a_lane() {
    let s = TestServer::demo();
    let c = Csciw::new(&s.url);
    let mine = named(&c.all("tanaka").await, "作業者実行：請求書確認");
    let (pi, wi) = key(&mine);
    let to_suzuki = c
        .act(
            "tanaka",
            pi,
            wi,
            "reassign",
            Some(json!({"Source": "tanaka", "Target": "suzuki"})),
        )
        .await
        .item();
    assert_eq!(
        (
            to_suzuki.participant.as_str(),
            to_suzuki.state_code.as_str()
        ),
        ("suzuki", state::PERFORMING)
    );
    // It is suzuki's now: tanaka no longer sees it, suzuki does.
    c.get("tanaka", pi, wi).await.error(404);
    assert_eq!(c.get("suzuki", pi, wi).await.item().participant, "suzuki");
    for (body, needle) in [
        (json!({"Source": "tanaka", "Target": "tanaka"}), "Source"),
        (json!({"Target": "nobody"}), "neither a user nor a lane"),
        (json!({"Target": ""}), "neither a user nor a lane"),
        (
            json!({"UserDescription": "", "Target": "tanaka"}),
            "UserDescription",
        ),
    ] {
        let message = c
            .act("suzuki", pi, wi, "reassign", Some(body.clone()))
            .await
            .error(400);
        assert!(message.contains(needle), "{body}: {message}");
    }
    assert_eq!(c.state(pi, wi).await.participant, "suzuki");
    // To a lane: ready again, in that lane.
    let to_lane = c
        .act(
            "suzuki",
            pi,
            wi,
            "reassign",
            Some(json!({"Source": "suzuki", "Target": "Lane2"})),
        )
        .await
        .item();
    assert_eq!(
        (to_lane.participant.as_str(), to_lane.state_code.as_str()),
        ("Lane2", state::READY)
    );
    c.get("tanaka", pi, wi).await.error(404);
    // In XML, and without Target: back to the lane it is in.
    let taken = c
        .act(
            "suzuki",
            pi,
            wi,
            "reassign",
            Some(json!({"Target": "suzuki"})),
        )
        .await
        .item();
    assert_eq!(taken.participant, "suzuki");
    let back = send(
        c.request(
            Method::PUT,
            &format!("work-item/{pi}/{wi}/reassign"),
            "suzuki",
        )
        .header("content-type", "application/xml")
        .body("<Parameter><Source>suzuki</Source></Parameter>"),
    )
    .await;
    assert!(back.is_xml());
    let back = back.item();
    assert_eq!(
        (back.participant.as_str(), back.state_code.as_str()),
        ("Lane2", state::READY)
    );
}

#[tokio::test]
async fn reassign_and_perform_takes_a_ready_item_and_starts_it() {
    let s = TestServer::demo();
    let c = Csciw::new(&s.url);
    let ready = named(&c.all("suzuki").await, "出張旅費の精算");
    let (pi, wi) = key(&ready);
    let item = c
        .act(
            "suzuki",
            pi,
            wi,
            "reassign-and-perform",
            Some(json!({"Source": "Lane2", "Target": "suzuki"})),
        )
        .await
        .item();
    assert_eq!(
        (item.participant.as_str(), item.state_code.as_str()),
        ("suzuki", state::PERFORMING)
    );
    assert!(item.start_date.is_some(), "performing since now");
    assert_eq!(c.state(pi, wi).await, item);
}

#[tokio::test]
async fn an_operation_that_is_already_done_answers_200_and_changes_nothing() {
    let s = TestServer::demo();
    let c = Csciw::new(&s.url);
    let all = c.all("tanaka").await;
    let mine = named(&all, "作業者実行：請求書確認");
    let ready = named(&all, "検収報告書の作成");
    let history = |wi: i64| {
        s.engine()
            .db()
            .read(|conn| responses::for_task(conn, wi))
            .unwrap()
            .len()
    };
    // Each step twice with the same arguments, by someone who still sees
    // the item afterwards: the repeat finds it done.
    let steps: [(&str, &str, &WorkItem, Option<Value>); 6] = [
        ("tanaka", "free", &ready, None),
        (
            "tanaka",
            "reassign-and-perform",
            &ready,
            Some(json!({"Source": "Lane1", "Target": "tanaka"})),
        ),
        ("tanaka", "free", &ready, None),
        (
            "suzuki",
            "reassign",
            &ready,
            Some(json!({"Source": "Lane1", "Target": "suzuki"})),
        ),
        (
            "suzuki",
            "reassign",
            &ready,
            Some(json!({"Source": "suzuki"})),
        ),
        (
            "tanaka",
            "complete",
            &mine,
            Some(json!({"ProcessDataList": [{"Key": "k", "Value": "v"}]})),
        ),
    ];
    for (actor, action, item, body) in steps {
        let (pi, wi) = key(item);
        let first = c.act(actor, pi, wi, action, body.clone()).await.item();
        let (after_first, recorded) = (c.state(pi, wi).await, history(wi));
        assert_eq!(first, after_first, "{action} {body:?}");
        let again = c.act(actor, pi, wi, action, body.clone()).await;
        assert_eq!(
            again.item(),
            first,
            "{action} {body:?}: the repeat answers the item as it is"
        );
        assert_eq!(
            c.state(pi, wi).await,
            after_first,
            "{action}: nothing changed"
        );
        assert_eq!(history(wi), recorded, "{action}: nothing was recorded");
    }
    let ready_now = c.state(ready.process_instance_id, ready.id).await;
    assert_eq!(
        (
            ready_now.participant.as_str(),
            ready_now.state_code.as_str()
        ),
        ("Lane1", state::READY)
    );
    assert_eq!(
        c.state(mine.process_instance_id, mine.id).await.state_code,
        state::COMPLETED
    );
}

#[tokio::test]
async fn pages_asked_after_a_change_see_the_change() {
    // Pages after the first are slices of the whole listing's order, kept
    // only while nothing was written (server::listings).
    let s = TestServer::demo();
    let c = Csciw::new(&s.url);
    let ready = [("filter", "StateCode = 'j'"), ("sort", "ID ASC")];
    let page = |offset: &'static str, maxcount: &'static str| {
        let mut query = ready.to_vec();
        query.extend([("offset", offset), ("maxcount", maxcount)]);
        query
    };
    let all = c.list("tanaka", &page("0", "-1")).await.keys();
    assert_eq!(all.len(), 3, "Lane1's three ready items");
    assert_eq!(c.list("tanaka", &page("1", "1")).await.keys(), all[1..2]);
    assert_eq!(c.list("tanaka", &page("1", "-1")).await.keys(), all[1..]);
    // tanaka takes the first one: it is no longer ready.
    let taken = c
        .allocate(
            "tanaka",
            json!({"Participant": "tanaka", "Filter": LANE1_FILTER, "Sort": "ID ASC", "FetchCount": -1}),
        )
        .await
        .item();
    assert_eq!((taken.process_instance_id, taken.id), all[0]);
    assert_eq!(
        c.list("tanaka", &page("1", "1")).await.keys(),
        all[2..3],
        "the second page moved up"
    );
    assert_eq!(c.list("tanaka", &page("2", "1")).await.keys(), Vec::new());
    // Another user's listing is theirs, not a slice of tanaka's.
    let suzuki = c.list("suzuki", &page("0", "-1")).await.keys();
    assert_ne!(suzuki, all[1..]);
    assert_eq!(
        c.list("suzuki", &page("1", "-1")).await.keys(),
        suzuki.get(1..).unwrap_or_default()
    );
}

#[tokio::test]
async fn the_list_extension_filters_sorts_and_pages_what_the_user_may_see() {
    let s = TestServer::demo();
    let c = Csciw::new(&s.url);
    let all = c.all("tanaka").await;
    let names: Vec<&str> = all.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(
        names.len(),
        4,
        "tanaka's item and Lane1's three ready ones: {names:?}"
    );
    assert!(
        all.windows(2).all(|w| w[0].id < w[1].id),
        "ID order by default"
    );
    let ready = c
        .list(
            "tanaka",
            &[("filter", "StateCode = 'j'"), ("sort", "Priority DESC")],
        )
        .await
        .items();
    let priorities: Vec<i64> = ready.iter().map(|i| i.priority.unwrap()).collect();
    assert_eq!(priorities, [2, 1, 0]);
    assert!(
        ready
            .iter()
            .all(|i| i.participant == "Lane1" && i.start_date.is_none())
    );
    // Pages of two put together are the whole list.
    let mut paged = Vec::new();
    for offset in ["0", "2", "4"] {
        paged.extend(
            c.list("tanaka", &[("offset", offset), ("maxcount", "2")])
                .await
                .items(),
        );
    }
    assert_eq!(paged, all);
    let described = c
        .list(
            "tanaka",
            &[("userdescription", "tanaka"), ("maxcount", "1")],
        )
        .await;
    assert_eq!(described.items(), all[..1]);
    // In XML by default, the same items.
    let xml = send(c.request(Method::GET, "work-item", "tanaka")).await;
    assert!(
        xml.text().contains("<WorkItemList><WorkItem>"),
        "{}",
        xml.text()
    );
    assert_eq!(xml.items(), all);
    let none = c
        .list("tanaka", &[("filter", "Name = 'nothing like this'")])
        .await;
    assert_eq!(none.json(), json!({"WorkItem": []}));
    for (query, needle) in [
        (("offset", "-1"), "offset"),
        (("offset", "first"), "not a number"),
        (("maxcount", "-2"), "maxcount"),
        (("maxcount", "1.5"), "not a number"),
        (("filter", ""), "filter"),
        (("sort", " "), "sort"),
        (("userdescription", ""), "UserDescription"),
    ] {
        let message = c.list("tanaka", &[query]).await.error(400);
        assert!(message.contains(needle), "{query:?}: {message}");
    }
}

#[tokio::test]
async fn the_list_defaults_to_one_hundred_items() {
    let seeds: Vec<String> = (0..105).map(|i| format!("item {i:03}")).collect();
    let (engine, keys) = lane_engine(
        "BigLane",
        &["worker".to_string()],
        "case",
        &seeds
            .iter()
            .map(|name| Seed {
                name: name.as_str(),
                priority: 0,
            })
            .collect::<Vec<_>>(),
    );
    let s = TestServer::start(engine, ServerConfig::default());
    let c = Csciw::new(&s.url);
    assert_eq!(c.list("worker", &[]).await.keys(), keys[..100]);
    assert_eq!(c.list("worker", &[("maxcount", "-1")]).await.keys(), keys);
    assert_eq!(
        c.list("worker", &[("offset", "100")]).await.keys(),
        keys[100..]
    );
}

#[tokio::test]
async fn unset_dates_are_empty_strings_in_json_and_empty_elements_in_xml() {
    let (s, keys) = seed_server();
    let c = Csciw::new(&s.url);
    let (pi, wi) = keys[0];
    let json = c.get("User1", pi, wi).await.json();
    for name in ["ClosedDate", "Deadline", "StartDate"] {
        assert_eq!(json[name], json!(""), "{name}");
    }
    assert_eq!(json["Priority"], json!("0"));
    assert_eq!(json["StateCode"], json!("j"));
    let xml = send(c.request(Method::GET, &format!("work-item/{pi}/{wi}"), "User1"))
        .await
        .text();
    for name in ["ClosedDate", "Deadline", "StartDate"] {
        assert!(xml.contains(&format!("<{name}/>")), "{name}: {xml}");
    }
    let with_deadline = c.get("User1", keys[1].0, keys[1].1).await.json();
    assert_tokyo_time(with_deadline["Deadline"].as_str().unwrap());
}

#[tokio::test]
async fn malformed_json_or_xml_bodies_get_the_dialects_400() {
    let s = TestServer::demo();
    let c = Csciw::new(&s.url);
    let before = c.all("admin").await;
    let mine = named(&before, "作業者実行：請求書確認");
    let (pi, wi) = key(&mine);
    let bodies: [(&str, &[u8]); 8] = [
        ("application/json", b"{\"Participant\": \"tanaka\","),
        ("application/json", b"{\"ProcessDataList\": [{\"Key\": }]}"),
        ("application/json", b"null"),
        ("application/json", b"\xff\xfe{}"),
        (
            "application/xml",
            b"<Parameter><Participant>tanaka</Parameter>",
        ),
        (
            "application/xml",
            b"<Parameter><Participant>tanaka</Participant>",
        ),
        ("application/xml", b"<Parameter>\xff</Parameter>"),
        ("application/xml", b"not xml at all"),
    ];
    for path in [
        "work-item/allocate".to_string(),
        format!("work-item/{pi}/{wi}/complete"),
        format!("work-item/{pi}/{wi}/reassign"),
        format!("work-item/{pi}/{wi}/free"),
    ] {
        for (content_type, body) in bodies {
            for accept in ["application/json", "application/xml"] {
                let r = send(
                    c.request(Method::PUT, &path, "tanaka")
                        .header("content-type", content_type)
                        .header("accept", accept)
                        .body(body.to_vec()),
                )
                .await;
                let case = format!("{path} {content_type} {:?}", String::from_utf8_lossy(body));
                assert_eq!(r.is_xml(), accept == "application/xml", "{case}");
                let message = r.error(400);
                assert!(message.contains("cannot be read"), "{case}: {message}");
            }
        }
    }
    assert_eq!(c.all("admin").await, before, "nothing changed");
}

#[tokio::test]
async fn requests_without_valid_basic_auth_get_401_and_nothing_else() {
    let s = TestServer::demo();
    let c = Csciw::new(&s.url);
    let before = c.all("admin").await;
    let mine = named(&before, "作業者実行：請求書確認");
    let (pi, wi) = key(&mine);
    let allocate = json!({"Participant": "tanaka", "FetchCount": -1}).to_string();
    let requests = [
        (Method::GET, "work-item".to_string(), None),
        (Method::GET, format!("work-item/{pi}/{wi}"), None),
        (
            Method::PUT,
            "work-item/allocate".to_string(),
            Some(allocate),
        ),
        (Method::PUT, format!("work-item/{pi}/{wi}/complete"), None),
        (Method::PUT, format!("work-item/{pi}/{wi}/free"), None),
        (
            Method::PUT,
            format!("work-item/{pi}/{wi}/reassign"),
            Some(json!({"Target": "suzuki"}).to_string()),
        ),
    ];
    type Credentials = fn(reqwest::RequestBuilder) -> reqwest::RequestBuilder;
    let credentials: [(&str, Credentials); 6] = [
        ("none", |r| r),
        ("wrong password", |r| r.basic_auth("tanaka", Some("wrong"))),
        ("unknown user", |r| r.basic_auth("nobody", Some("demo"))),
        ("no password", |r| r.basic_auth("tanaka", None::<&str>)),
        // The in-process local user has no password and no HTTP access.
        ("local user", |r| r.basic_auth("me", Some(""))),
        ("bearer token", |r| r.bearer_auth("tanaka")),
    ];
    for (method, path, body) in &requests {
        for (what, with) in credentials {
            for accept in ["application/json", "application/xml"] {
                let mut req = with(c.anonymous(method.clone(), path)).header("accept", accept);
                if let Some(body) = body {
                    req = req
                        .header("content-type", "application/json")
                        .body(body.clone());
                }
                let r = send(req).await;
                let case = format!("{method} {path} with {what}");
                assert_eq!(
                    r.error(401),
                    "authentication required",
                    "{case}: nothing but the error"
                );
                assert_eq!(r.is_xml(), accept == "application/xml", "{case}");
                assert_eq!(
                    r.headers["www-authenticate"], "Basic realm=\"tasklane CSCIW\"",
                    "{case}"
                );
            }
        }
    }
    assert_eq!(c.all("admin").await, before, "nothing changed");
}

#[tokio::test]
async fn an_unknown_operation_on_a_work_item_is_404() {
    let s = TestServer::demo();
    let c = Csciw::new(&s.url);
    let mine = named(&c.all("tanaka").await, "作業者実行：請求書確認");
    let r = c
        .act(
            "tanaka",
            mine.process_instance_id,
            mine.id,
            "perform-magic",
            None,
        )
        .await;
    assert!(r.error(404).contains("perform-magic"));
}

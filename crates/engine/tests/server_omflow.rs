//! OMFLOW conformance, part 1: the seed document's own example requests,
//! the security code, and how request bodies are read
//! (`../shared/seeds/omflow-my-mission-api.zh-TW.md`,
//! `../shared/reference/omflow/NOTES.md` §1–§6, §9.3, §9.6, §11.8).
//! Other parts: `server_omflow_list.rs` (the my-mission list),
//! `server_omflow_edit.rs` (push, quick action, create, data-id, work log,
//! the form extension), `server_omflow_access.rs` (who sees what) and
//! `server_omflow_idempotency.rs`.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;
mod omflow_support;

use std::time::Duration;

use omflow_support::*;
use serde_json::{Value, json};
use tasklane_dialects::omflow::wire::{DataIdRow, SecurityResult, WorkLogRow};
use tasklane_engine::demo;

const FIVE_MINUTES: Duration = Duration::from_secs(5 * 60);

/// The fields of the seed document's my-mission row.
const DOCUMENTED_ROW_FIELDS: [&str; 21] = [
    "id",
    "flow_uuid",
    "flow_name",
    "status",
    "level",
    "title",
    "data_no",
    "data_id",
    "history",
    "stop_uuid",
    "stop_chart_text",
    "create_user_id",
    "update_user_id",
    "ticket_createtime",
    "createtime",
    "updatetime",
    "assignee_id",
    "assign_group_id",
    "action",
    "attachment",
    "closed",
];

/// Django's JSON form of a naive datetime: `2020-07-07T13:50:21[.494]`.
fn is_naive_json_time(v: &Value) -> bool {
    let Some(t) = v.as_str() else { return false };
    let (main, fraction) = t.split_once('.').unwrap_or((t, "000"));
    main.len() == 19
        && main.as_bytes()[10] == b'T'
        && jiff::civil::DateTime::strptime("%Y-%m-%dT%H:%M:%S", main).is_ok()
        && fraction.len() == 3
        && fraction.bytes().all(|b| b.is_ascii_digit())
}

// ---------------------------------------------------------------------------
// The seed document's examples

#[tokio::test]
async fn the_seed_security_request_answers_a_uuid_code_in_the_documented_envelope() {
    let o = Omflow::demo();
    let env = o.security_get(Some(("wang.xiaoming", "demo"))).await;
    expect(&env, 200, msg::CODE_ISSUED);
    let result: SecurityResult = serde_json::from_value(env["result"].clone()).unwrap();
    let code = uuid::Uuid::parse_str(&result.security).unwrap();
    assert_eq!(code.get_version_num(), 4, "{env}");
}

#[tokio::test]
async fn the_seed_my_mission_example_body_lists_the_users_rows_in_the_documented_shape() {
    let o = Omflow::demo();
    let code = o.code("wang.xiaoming").await;
    // The seed's example body, verbatim but for the code.
    let env = o
        .post(
            MY_MISSION,
            &json!({
                "security" : code,
                "omflow_restapi" : 1,
                "search_columns" : [],
                "search_conditions" : [],
                "exclude_conditions" : [],
                "order_columns" : [],
                "limit" : 100,
                "start" : 0
            }),
        )
        .await;
    let rows = mission_rows(&env);
    assert_eq!(
        rows.iter().map(ticket_of).collect::<Vec<_>>(),
        vec![P1, P2, P3, Q1, Q2],
        "wang's steps, in the default order (id)"
    );
    for raw in env["result"].as_array().unwrap() {
        for field in DOCUMENTED_ROW_FIELDS {
            assert!(raw.get(field).is_some(), "row lacks {field}: {raw}");
        }
        for field in ["ticket_createtime", "createtime", "updatetime"] {
            assert!(is_naive_json_time(&raw[field]), "{field}: {raw}");
        }
        assert_eq!(raw["id"], raw["data_id"], "a row is the step's data row");
    }

    let first = &env["result"][0];
    let wang = o.user_num("wang.xiaoming");
    let expected = json!({
        "flow_uuid": demo::PAYMENT_FLOW,
        "flow_name": "請款流程",
        "status": "審核中",
        "level": "",
        "title": "審核通過 請款單 #1024 出差費用",
        "data_no": 1,
        "history": false,
        "stop_uuid": "FITEM_7",
        "stop_chart_text": "指派人工",
        "create_user_id": "lin.meiling",
        "assignee_id": wang,
        "assign_group_id": null,
        "action": "核准,退回",
        "attachment": false,
        "closed": false,
    });
    for (field, value) in expected.as_object().unwrap() {
        assert_eq!(&first[field], value, "{field} of {first}");
    }
    let group_row = &env["result"][3];
    assert_eq!(group_row["stop_chart_text"], "部門審核");
    assert_eq!(group_row["action"], "同意,", "one quick action: `<label>,`");
}

#[tokio::test]
async fn the_seed_push_example_with_formdata_moves_the_ticket_to_its_next_stop() {
    let o = Omflow::demo();
    let code = o.code("wang.xiaoming").await;
    let data_id = o.data_id(P1).unwrap();
    let env = o
        .edit(
            &code,
            PAYMENT,
            json!({
                "action": "update",
                "data_id": data_id,
                "formdata": [
                    {"id": "FORMITM_5", "value": "審核通過"},
                    {"id": "FORMITM_6", "value": "請於月底前付款"},
                ]
            }),
        )
        .await;
    expect(&env, 200, msg::PUSHED);
    assert_eq!(env["result"], json!(1), "result is the ticket's data_no");

    // The new stop belongs to the finance group: wang no longer sees it.
    expect_failure(&o.data_ids(&code, P1).await, 404, msg::QUERY_FAILED);
    let lin = o.code("lin.meiling").await;
    let stops = o.data_ids(&lin, P1).await;
    expect(&stops, 200, msg::LISTED);
    let stops: Vec<DataIdRow> = serde_json::from_value(stops["result"].clone()).unwrap();
    assert_eq!(stops.len(), 1);
    assert_eq!(stops[0].stop_chart_text, "財務確認");
    assert_ne!(stops[0].data_id, data_id, "every stop has a new data_id");
    assert!(!o.listed(&code).await.contains(&P1));
    assert!(o.listed(&lin).await.contains(&P1));
    let values = o.form_values(P1);
    assert_eq!(values["FORMITM_5"], "審核通過");
    assert_eq!(values["FORMITM_6"], "請於月底前付款");
}

#[tokio::test]
async fn the_seed_quick_action_example_applies_the_action_and_advances() {
    let o = Omflow::demo();
    let code = o.code("wang.xiaoming").await;
    let data_id = o.data_id(P2).unwrap();
    let env = o
        .edit(
            &code,
            PAYMENT,
            json!({"action": "update", "data_id": data_id, "quick_action": "action2"}),
        )
        .await;
    expect(&env, 200, msg::PUSHED);
    assert_eq!(env["result"], json!(2));
    assert_eq!(o.form_values(P2)["FORMITM_5"], "退回", "action2's value");
    let lin = o.code("lin.meiling").await;
    let row = o
        .rows(
            &lin,
            json!({"search_conditions": [
            {"column": "data_no", "condition": "=", "value": 2},
            {"column": "flow_name", "condition": "=", "value": "請款流程"}]}),
        )
        .await;
    assert_eq!(row.len(), 1);
    assert_eq!(row[0].stop_chart_text.as_deref(), Some("財務確認"));
    assert_eq!(row[0].status, "財務確認中");
}

#[tokio::test]
async fn the_create_example_opens_a_ticket_and_answers_its_data_no() {
    let o = Omflow::demo();
    let code = o.code("hans.muster").await;
    let env = o
        .edit(
            &code,
            PAYMENT,
            json!({"action": "create", "formdata": [
                {"id": "FORMITM_1", "value": "差旅費請款：台中出差", "type": "h_title"},
                {"id": "FORMITM_2", "value": "4200", "type": "number"},
            ]}),
        )
        .await;
    expect(&env, 200, msg::CREATED);
    assert_eq!(env["result"], json!(5), "the next data_no of the flow");
    let wang = o.code("wang.xiaoming").await;
    let rows = o.rows(&wang, json!({})).await;
    let new = rows
        .iter()
        .find(|r| r.data_no == 5 && r.flow_name == "請款流程");
    let new = new.expect("the new ticket waits at the first stop's assignee");
    assert_eq!(new.title.as_deref(), Some("差旅費請款：台中出差"));
    assert_eq!(new.create_user_id.as_deref(), Some("hans.muster"));
    assert_eq!(new.stop_uuid, "FITEM_7");
}

#[tokio::test]
async fn the_data_id_query_answers_an_array_of_the_tickets_current_stops() {
    let o = Omflow::demo();
    let code = o.code("wang.xiaoming").await;
    let env = o.data_ids(&code, Q1).await;
    expect(&env, 200, msg::LISTED);
    let rows: Vec<DataIdRow> = serde_json::from_value(env["result"].clone()).unwrap();
    assert_eq!(
        rows,
        vec![DataIdRow {
            data_id: o.data_id(Q1).unwrap(),
            stop_chart_text: "部門審核".into()
        }]
    );
    // Also with the data_no as text, as form-encoded clients send it.
    let as_text = o
        .call(&data_id_path(PROCUREMENT), &code, json!({"data_no": "1"}))
        .await;
    assert_eq!(as_text, env);
}

#[tokio::test]
async fn work_log_entries_are_written_and_listed_in_omflows_shape() {
    let o = Omflow::demo();
    let code = o.code("wang.xiaoming").await;
    let env = o.worklog_create(&code, P1, "已聯絡申請人補件").await;
    expect(&env, 200, msg::LOGGED);
    assert_eq!(env["result"], Value::Null);

    let env = o.worklog_list(&code, P1).await;
    expect(&env, 200, msg::LISTED);
    let rows: Vec<WorkLogRow> = serde_json::from_value(env["result"].clone()).unwrap();
    let seen: Vec<(Option<&str>, &str)> = rows
        .iter()
        .map(|r| (r.author_nick_name.as_deref(), r.content.as_str()))
        .collect();
    assert_eq!(
        seen,
        vec![
            (Some("林美玲"), "發票已附上，請協助審核。"),
            (Some("王小明"), "已聯絡申請人補件"),
        ],
        "oldest first, authors by display name"
    );
    for raw in env["result"].as_array().unwrap() {
        assert_eq!(raw["flow_uuid"], hex(demo::PAYMENT_FLOW), "32 hex digits");
        let t = raw["createtime"].as_str().unwrap();
        assert!(
            jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M:%S%.f", t).is_ok()
                && t.len() == "2026-11-22 12:26:51.086477".len(),
            "str() form with a space and microseconds: {t}"
        );
    }
}

#[tokio::test]
async fn the_vendors_python_sample_works_unchanged() {
    // login(): GET with basic auth; status compared with the integer 200.
    let o = Omflow::demo();
    let env = o.security_get(Some(("wang.xiaoming", "demo"))).await;
    assert_eq!(env["status"], json!(200));
    let code = env["result"]["security"].as_str().unwrap().to_string();
    // myMissonList(): requests.post(data=dict) form-encodes it, dropping
    // the empty lists and sending the numbers as text.
    let env = o
        .post_form(
            MY_MISSION,
            &[
                ("security", &code),
                ("omflow_restapi", "1"),
                ("limit", "100"),
                ("start", "0"),
            ],
        )
        .await;
    let rows = mission_rows(&env);
    assert_eq!(rows.len(), 5);
    // approve(): matches flows by the uuid without dashes and posts
    // json.dumps(values) as the raw body, with no JSON content type and
    // form items without a type.
    let api_id = hex(demo::PAYMENT_FLOW);
    let mut approved = 0;
    for item in &rows {
        if item.flow_uuid.replace('-', "") == api_id {
            let values = json!({
                "security": code,
                "omflow_restapi": 1,
                "action": "update",
                "data_id": item.data_id,
                "formdata": [{"id": "FORMITM_5", "value": "審核通過"}]
            });
            let env = o
                .post_raw(&edit_path(PAYMENT), &values.to_string(), None)
                .await;
            expect(&env, 200, msg::PUSHED);
            approved += 1;
        }
    }
    assert_eq!(approved, 3);
    let lin = o.code("lin.meiling").await;
    assert_eq!(o.listed(&lin).await, vec![P1, P2, P3, P4]);
    assert_eq!(o.listed(&code).await, vec![Q1, Q2]);
}

// ---------------------------------------------------------------------------
// The security code

#[tokio::test]
async fn a_wrong_password_is_refused_with_403() {
    let o = Omflow::demo();
    let env = o.security_get(Some(("wang.xiaoming", "wrong"))).await;
    expect_failure(&env, 403, msg::BAD_LOGIN);
}

#[tokio::test]
async fn an_unknown_user_or_no_authorization_header_answers_500_as_omflow_1_1_does() {
    let o = Omflow::demo();
    for credentials in [Some(("nobody", "demo")), None] {
        let env = o.security_get(credentials).await;
        expect_failure(&env, 500, msg::NO_SUCH_USER);
    }
}

#[tokio::test]
async fn the_local_account_without_a_password_cannot_get_a_code() {
    let o = Omflow::demo();
    for pw in ["", "!"] {
        let env = o.security_get(Some((demo::LOCAL_USER, pw))).await;
        expect_failure(&env, 403, msg::BAD_LOGIN);
    }
}

#[tokio::test]
async fn security_get_takes_any_method_as_omflow_1_1_does() {
    // The Japanese docs say POST.
    let o = Omflow::demo();
    let get = o.code("lin.meiling").await;
    let r = o
        .http
        .post(o.url(SECURITY_GET))
        .basic_auth("lin.meiling", Some("demo"))
        .send()
        .await
        .unwrap();
    let env = envelope_of(r).await;
    expect(&env, 200, msg::CODE_ISSUED);
    assert_eq!(env["result"]["security"], get.as_str());
}

#[tokio::test]
async fn each_user_has_one_live_code_which_security_get_hands_out_again() {
    let o = Omflow::demo();
    let first = o.code("wang.xiaoming").await;
    let again = o.code("wang.xiaoming").await;
    assert_eq!(first, again);
    let other = o.code("lin.meiling").await;
    assert_ne!(first, other);
    assert_eq!(o.listed(&first).await.len(), 5);
    assert_eq!(o.listed(&other).await, vec![P4]);
}

#[tokio::test]
async fn a_code_unused_for_five_minutes_expires_and_a_new_one_replaces_it() {
    let o = Omflow::demo();
    let old = o.code("wang.xiaoming").await;
    o.s.server.sessions().age_all(FIVE_MINUTES);
    let env = o.list(&old, json!({})).await;
    expect_failure(&env, 403, msg::CODE_EXPIRED);
    let env = o.list(&old, json!({})).await;
    expect_failure(&env, 403, msg::CODE_WRONG);

    o.s.server.sessions().age_all(FIVE_MINUTES);
    let new = o.code("wang.xiaoming").await;
    assert_ne!(new, old);
    assert_eq!(o.listed(&new).await.len(), 5);
}

#[tokio::test]
async fn security_get_after_five_idle_minutes_issues_a_new_code_and_drops_the_old() {
    let o = Omflow::demo();
    let old = o.code("wang.xiaoming").await;
    o.s.server.sessions().age_all(FIVE_MINUTES);
    let new = o.code("wang.xiaoming").await;
    assert_ne!(new, old);
    let env = o.list(&old, json!({})).await;
    expect_failure(&env, 403, msg::CODE_WRONG);
}

#[tokio::test]
async fn every_use_of_a_code_slides_its_five_minute_window() {
    let o = Omflow::demo();
    let code = o.code("wang.xiaoming").await;
    let almost = Duration::from_secs(4 * 60 + 50);
    for _ in 0..3 {
        o.s.server.sessions().age_all(almost);
        expect(&o.list(&code, json!({})).await, 200, msg::LISTED);
    }
    // security/get refreshes it too.
    o.s.server.sessions().age_all(almost);
    assert_eq!(o.code("wang.xiaoming").await, code);
    o.s.server.sessions().age_all(almost);
    expect(&o.list(&code, json!({})).await, 200, msg::LISTED);
    o.s.server.sessions().age_all(FIVE_MINUTES);
    expect_failure(&o.list(&code, json!({})).await, 403, msg::CODE_EXPIRED);
}

#[tokio::test]
async fn an_unknown_empty_or_missing_code_is_refused_with_403() {
    let o = Omflow::demo();
    let _live = o.code("wang.xiaoming").await;
    for body in [
        json!({"omflow_restapi": 1, "security": "00000000-0000-4000-8000-000000000000"}),
        json!({"omflow_restapi": 1, "security": ""}),
        json!({"omflow_restapi": 1, "security": 42}),
        json!({"omflow_restapi": 1}),
    ] {
        let env = o.post(MY_MISSION, &body).await;
        expect_failure(&env, 403, msg::CODE_WRONG);
    }
}

#[tokio::test]
async fn omflow_restapi_is_checked_only_for_truthiness_and_before_the_code() {
    let o = Omflow::demo();
    let code = o.code("wang.xiaoming").await;
    for flag in [json!(1), json!("1"), json!("0"), json!(true), json!("yes")] {
        let env = o
            .post(
                MY_MISSION,
                &json!({"security": code, "omflow_restapi": flag}),
            )
            .await;
        expect(&env, 200, msg::LISTED);
    }
    for flag in [json!(0), json!(""), json!(false), Value::Null] {
        let env = o
            .post(
                MY_MISSION,
                &json!({"security": code, "omflow_restapi": flag}),
            )
            .await;
        expect_failure(&env, 403, msg::NO_RESTAPI);
    }
    let env = o.post(MY_MISSION, &json!({"security": code})).await;
    expect_failure(&env, 403, msg::NO_RESTAPI);
    let env = o.post(MY_MISSION, &json!({"security": "bogus"})).await;
    expect_failure(&env, 403, msg::NO_RESTAPI);
}

#[tokio::test]
async fn an_unroutable_rest_path_answers_403_url_error() {
    let o = Omflow::demo();
    let code = o.code("wang.xiaoming").await;
    for path in [
        "/rest/flowmanage/api/omdata/list/payment-request",
        "/rest/no/such/api/",
    ] {
        let env = o.call(path, &code, json!({})).await;
        expect_failure(&env, 403, msg::BAD_URL);
    }
}

// ---------------------------------------------------------------------------
// Request bodies

#[tokio::test]
async fn form_encoded_lists_arrive_as_repeated_names_or_a_single_value() {
    let o = Omflow::demo();
    let code = o.code("wang.xiaoming").await;
    let env = o
        .post_form(
            MY_MISSION,
            &[
                ("security", &code),
                ("omflow_restapi", "1"),
                ("order_columns", "-id"),
                ("search_columns", "data_no"),
                ("search_columns", "flow_name"),
            ],
        )
        .await;
    expect(&env, 200, msg::LISTED);
    assert_eq!(
        env["result"],
        json!([
            {"data_no": 2, "flow_name": "採購流程"},
            {"data_no": 1, "flow_name": "採購流程"},
            {"data_no": 3, "flow_name": "請款流程"},
            {"data_no": 2, "flow_name": "請款流程"},
            {"data_no": 1, "flow_name": "請款流程"},
        ])
    );
    // A condition list sent as one JSON text field.
    let conditions = json!([{"column": "flow_name", "condition": "=", "value": "採購流程"}]);
    let env = o
        .post_form(
            MY_MISSION,
            &[
                ("security", &code),
                ("omflow_restapi", "1"),
                ("search_conditions", &conditions.to_string()),
            ],
        )
        .await;
    assert_eq!(
        mission_rows(&env).iter().map(ticket_of).collect::<Vec<_>>(),
        vec![Q1, Q2]
    );
}

#[tokio::test]
async fn a_form_encoded_push_takes_formdata_as_a_json_string() {
    let o = Omflow::demo();
    let code = o.code("wang.xiaoming").await;
    let data_id = o.data_id(Q1).unwrap().to_string();
    let formdata = json!([{"id": "FORMITM_3", "value": "3", "type": "number"}]).to_string();
    let env = o
        .post_form(
            &edit_path(PROCUREMENT),
            &[
                ("security", &code),
                ("omflow_restapi", "1"),
                ("action", "update"),
                ("data_id", &data_id),
                ("formdata", &formdata),
            ],
        )
        .await;
    expect(&env, 200, msg::PUSHED);
    assert_eq!(o.form_values(Q1)["FORMITM_3"], "3");
    assert_ne!(o.data_id(Q1).unwrap().to_string(), data_id);
}

#[tokio::test]
async fn json_is_read_whatever_the_content_type_says() {
    let o = Omflow::demo();
    let code = o.code("wang.xiaoming").await;
    let body = with_code(&code, json!({"order_columns": ["id"], "limit": "2"})).to_string();
    for ct in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("application/json; charset=utf-8"),
    ] {
        let env = o.post_raw(MY_MISSION, &body, ct).await;
        assert_eq!(
            mission_rows(&env).iter().map(ticket_of).collect::<Vec<_>>(),
            vec![P1, P2],
            "content type {ct:?}"
        );
    }
}

#[tokio::test]
async fn malformed_json_answers_omflows_envelope_and_changes_nothing() {
    let o = Omflow::demo();
    let code = o.code("wang.xiaoming").await;
    let before = o.snapshot();
    let data_id = o.data_id(P1).unwrap();
    let push = with_code(
        &code,
        json!({"action": "update", "data_id": data_id,
            "formdata": [{"id": "FORMITM_5", "value": "核准"}]}),
    )
    .to_string();
    let truncated = &push[..push.len() - 3];
    let create = with_code(
        &code,
        json!({"action": "create", "formdata": [{"id": "FORMITM_1", "value": "x"}]}),
    )
    .to_string();
    // As OMFLOW 1.1: the body is not JSON and not form fields, so the
    // router finds no omflow_restapi.
    for (path, body) in [
        (edit_path(PAYMENT), truncated.to_string()),
        (edit_path(PAYMENT), create.replace('}', "")),
        (edit_path(PAYMENT), format!("[{push}]")),
        (WORKLOG_CREATE.to_string(), "{\"content\": ".to_string()),
        (MY_MISSION.to_string(), "not json at all".to_string()),
        (MY_MISSION.to_string(), String::new()),
    ] {
        for ct in [Some("application/json"), None] {
            let env = o.post_raw(&path, &body, ct).await;
            expect_failure(&env, 403, msg::NO_RESTAPI);
        }
    }
    assert_eq!(o.snapshot(), before);
}

#[tokio::test]
async fn a_request_whose_fields_do_not_fit_is_refused_whole() {
    let o = Omflow::demo();
    let code = o.code("wang.xiaoming").await;
    let before = o.snapshot();
    let data_id = o.data_id(P1).unwrap();
    for params in [
        // The second item has no id: the first is not applied either.
        json!({"action": "update", "data_id": data_id, "formdata": [
            {"id": "FORMITM_5", "value": "核准"}, {"value": "no id"}]}),
        json!({"action": "update", "data_id": data_id, "formdata": 5}),
        json!({"action": "update", "data_id": "five", "formdata": []}),
        json!({"action": "approve", "data_id": data_id}),
        json!({"data_id": data_id}),
    ] {
        let env = o.edit(&code, PAYMENT, params.clone()).await;
        assert_eq!(env["status"], json!(404), "{params} → {env}");
        assert!(
            env["message"].as_str().unwrap().starts_with("推單失敗"),
            "{env}"
        );
        assert_eq!(env["result"], Value::Null);
    }
    let env = o
        .list(&code, json!({"search_conditions": [{"column": "id"}]}))
        .await;
    assert_eq!(env["status"], json!(404), "{env}");
    assert!(
        env["message"]
            .as_str()
            .unwrap()
            .starts_with(msg::LIST_FAILED_PREFIX)
    );
    assert_eq!(o.snapshot(), before);
}

#[tokio::test]
async fn the_user_directory_and_departments_name_the_numbers_of_the_mission_list() {
    let o = Omflow::demo();
    let code = o.code("wang.xiaoming").await;
    let env = o
        .post(
            MY_MISSION,
            &json!({"security": code, "omflow_restapi": 1, "order_columns": ["id"], "start": 0, "limit": 50}),
        )
        .await;
    let rows = env["result"].as_array().unwrap().clone();

    let env = o
        .post(
            "/rest/accounts/api/user/list/",
            &json!({"security": code, "omflow_restapi": 1, "start": 0, "limit": 500}),
        )
        .await;
    expect(&env, 200, msg::LISTED);
    let users = env["result"].as_array().unwrap();
    let wang = users
        .iter()
        .find(|u| u["username"] == "wang.xiaoming")
        .expect("he is in the directory");
    assert_eq!(wang["nick_name"], "王小明");
    assert!(
        rows.iter().any(|r| r["assignee_id"] == wang["id"]),
        "his rows carry his number"
    );
    // `limit` is an end index, as in every OMFLOW list.
    let env = o
        .post(
            "/rest/accounts/api/user/list/",
            &json!({"security": code, "omflow_restapi": 1, "start": 1, "limit": 3}),
        )
        .await;
    assert_eq!(env["result"].as_array().unwrap().len(), 2);

    let env = o
        .post(
            "/rest/accounts/api/group/list/",
            &json!({"security": code, "omflow_restapi": 1, "org_no": [], "org_name": []}),
        )
        .await;
    expect(&env, 200, msg::LISTED);
    let groups = env["result"].as_array().unwrap();
    for row in rows.iter().filter(|r| !r["assign_group_id"].is_null()) {
        assert!(
            groups.iter().any(|g| g["id"] == row["assign_group_id"]),
            "every group number is a department: {row}"
        );
    }
    let env = o
        .post(
            "/rest/accounts/api/group/list/",
            &json!({"security": code, "omflow_restapi": 1, "org_name": ["財務部"]}),
        )
        .await;
    let named = env["result"].as_array().unwrap();
    assert_eq!(named.len(), 1);
    assert_eq!(named[0]["group_no"], "finance");

    // Only for signed-in callers.
    let env = o
        .post(
            "/rest/accounts/api/user/list/",
            &json!({"security": "not-a-code", "omflow_restapi": 1}),
        )
        .await;
    expect(&env, 403, msg::CODE_WRONG);
}

//! OMFLOW conformance, part 3: pushing, quick actions, opening and
//! deleting tickets, the data-id query, the work log and tasklane's form
//! extension (`../shared/reference/omflow/NOTES.md` §4–§8, §9.7–§9.9,
//! §11.3–§11.7).

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;
mod omflow_support;

use omflow_support::*;
use serde_json::{Value, json};
use tasklane_dialects::omflow::wire::{FormDefinition, FormField, QuickActionDef};
use tasklane_engine::demo;

/// OMFLOW's answer to a data_id that is not (or no longer) an open step of
/// the flow: the ORM's text, naming the flow's table.
fn gone(api_path: &str) -> String {
    format!(
        "Omdata_{} matching query does not exist.",
        hex(flow_uuid(api_path))
    )
}

const API_OFF: &str = "該流程未啟用API呼叫。";

// ---------------------------------------------------------------------------
// Push and quick action

#[tokio::test]
async fn a_stale_or_unknown_data_id_answers_that_the_row_does_not_exist() {
    let o = Omflow::demo();
    let code = o.code("wang.xiaoming").await;
    let old = o.data_id(P1).unwrap();
    let push = json!({"action": "update", "data_id": old,
        "formdata": [{"id": "FORMITM_5", "value": "核准"}]});
    expect(
        &o.edit(&code, PAYMENT, push.clone()).await,
        200,
        msg::PUSHED,
    );

    // Replaying the same push is not idempotent in OMFLOW (NOTES §9.8).
    expect_failure(&o.edit(&code, PAYMENT, push).await, 404, &gone(PAYMENT));
    let quick = json!({"action": "update", "data_id": old, "quick_action": "action1"});
    expect_failure(&o.edit(&code, PAYMENT, quick).await, 404, &gone(PAYMENT));
    let gever_task = o.scalar("SELECT min(id) FROM tasks WHERE ticket_id IS NULL");
    for data_id in [999_999, gever_task] {
        let env = o
            .edit(
                &code,
                PAYMENT,
                json!({"action": "update", "data_id": data_id, "formdata": []}),
            )
            .await;
        expect_failure(&env, 404, &gone(PAYMENT));
    }
}

#[tokio::test]
async fn a_data_id_of_another_flow_does_not_exist_in_this_one() {
    let o = Omflow::demo();
    let code = o.code("wang.xiaoming").await;
    let before = o.snapshot();
    let env = o
        .edit(
            &code,
            PAYMENT,
            json!({"action": "update", "data_id": o.data_id(Q1).unwrap(),
                "formdata": [{"id": "FORMITM_5", "value": "核准"}]}),
        )
        .await;
    expect_failure(&env, 404, &gone(PAYMENT));
    assert_eq!(o.snapshot(), before);
}

#[tokio::test]
async fn missing_required_fields_are_refused_and_nothing_is_stored() {
    let o = Omflow::demo();
    let code = o.code("wang.xiaoming").await;
    let before = o.snapshot();
    for formdata in [
        json!([]),
        json!([{"id": "FORMITM_6", "value": "只填備註"}]),
        json!([{"id": "FORMITM_5", "value": "   "}]),
        json!([{"id": "FORMITM_5", "value": null}]),
        json!([{"id": "FORMITM_5", "value": "核准"}, {"id": "FORMITM_2", "value": ""}]),
    ] {
        let env = o.push(&code, P1, formdata.clone()).await;
        expect_failure(&env, 404, msg::REQUIRED_MISSING);
    }
    assert_eq!(o.snapshot(), before, "not even FORMITM_6 was stored");
    // Field ids are matched without regard to case, as OMFLOW answers them
    // in lower case.
    let env = o
        .push(&code, P1, json!([{"id": "formitm_5", "value": "核准"}]))
        .await;
    expect(&env, 200, msg::PUSHED);
}

#[tokio::test]
async fn pushing_the_last_step_closes_the_ticket() {
    let o = Omflow::demo();
    let lin = o.code("lin.meiling").await;
    let old = o.data_id(P4).unwrap();
    let env = o
        .push(
            &lin,
            P4,
            json!([{"id": "FORMITM_7", "value": "2026-12-05", "type": "date"}]),
        )
        .await;
    expect(&env, 200, msg::PUSHED);
    assert_eq!(env["result"], json!(4));
    assert!(o.closed(P4));
    assert_eq!(o.data_id(P4), None);
    expect_failure(&o.data_ids(&lin, P4).await, 404, msg::QUERY_FAILED);
    expect_failure(&o.list(&lin, json!({})).await, 404, msg::EMPTY_LIST);
    let again = json!({"action": "update", "data_id": old, "formdata": []});
    expect_failure(&o.edit(&lin, PAYMENT, again).await, 404, &gone(PAYMENT));
    // The closed ticket's work log can still be read.
    expect(&o.worklog_list(&lin, P4).await, 200, msg::LISTED);
}

#[tokio::test]
async fn a_quick_action_sets_its_values_skips_the_required_check_and_advances() {
    let o = Omflow::demo();
    let wang = o.code("wang.xiaoming").await;
    let lin = o.code("lin.meiling").await;
    // A ticket whose required amount (FORMITM_2) was never given.
    let env = o
        .edit(
            &lin,
            PAYMENT,
            json!({"action": "create", "formdata": [{"id": "FORMITM_1", "value": "未填金額"}]}),
        )
        .await;
    expect(&env, 200, msg::CREATED);
    let t = T(PAYMENT, env["result"].as_i64().unwrap());
    expect_failure(
        &o.push(&wang, t, json!([{"id": "FORMITM_5", "value": "核准"}]))
            .await,
        404,
        msg::REQUIRED_MISSING,
    );
    expect(&o.quick_action(&wang, t, "action1").await, 200, msg::PUSHED);
    assert_eq!(o.form_values(t)["FORMITM_5"], "核准");
    assert!(o.listed(&lin).await.contains(&t), "now at the finance stop");

    expect(
        &o.quick_action(&wang, Q1, "action1").await,
        200,
        msg::PUSHED,
    );
    let values = o.form_values(Q1);
    assert_eq!(
        (&values["FORMITM_2"], &values["FORMITM_3"]),
        (&json!("同意"), &json!("1"))
    );
    let rows = o.rows(&lin, json!({})).await;
    let q1 = rows.iter().find(|r| ticket_of(r) == Q1).unwrap();
    assert_eq!(q1.stop_chart_text.as_deref(), Some("採購執行"));
    assert_eq!(q1.quick_action_labels(), [String::new(), String::new()]);

    // The last stop's quick action closes the ticket.
    expect(&o.quick_action(&lin, P4, "action1").await, 200, msg::PUSHED);
    assert_eq!(o.form_values(P4)["FORMITM_7"], "2026-12-01");
    assert!(o.closed(P4));
}

#[tokio::test]
async fn an_unknown_quick_action_is_refused_and_nothing_changes() {
    let o = Omflow::demo();
    let lin = o.code("lin.meiling").await;
    let before = o.snapshot();
    for action in ["action2", "action3", ""] {
        let env = o.quick_action(&lin, P4, action).await;
        expect_failure(&env, 404, &format!("推單失敗：{action} 不存在"));
    }
    assert_eq!(o.snapshot(), before);
}

#[tokio::test]
async fn an_h_title_field_names_the_mission_and_the_same_value_as_text_does_not() {
    let o = Omflow::demo();
    let lin = o.code("lin.meiling").await;
    let wang = o.code("wang.xiaoming").await;
    let mut created = Vec::new();
    for item in [
        json!({"id": "FORMITM_1", "value": "以 text 送出", "type": "text"}),
        json!({"id": "FORMITM_1", "value": "以 h_title 送出", "type": "h_title"}),
        // Without a type the form's own (h_title) applies.
        json!({"id": "FORMITM_1", "value": "未註明型別"}),
    ] {
        let env = o
            .edit(
                &lin,
                PAYMENT,
                json!({"action": "create", "formdata": [item]}),
            )
            .await;
        expect(&env, 200, msg::CREATED);
        created.push(env["result"].as_i64().unwrap());
    }
    let rows = o.rows(&wang, json!({"order_columns": ["id"]})).await;
    let title = |data_no: i64| {
        rows.iter()
            .find(|r| r.flow_name == "請款流程" && r.data_no == data_no)
            .unwrap()
            .title
            .clone()
    };
    assert_eq!(
        title(created[0]),
        None,
        "a text field leaves the title null"
    );
    assert_eq!(title(created[1]).as_deref(), Some("以 h_title 送出"));
    assert_eq!(title(created[2]).as_deref(), Some("未註明型別"));

    // A push may rename the ticket the same way.
    let env = o
        .push(
            &wang,
            P1,
            json!([{"id": "FORMITM_1", "value": "更名後的請款單", "type": "h_title"},
                {"id": "FORMITM_5", "value": "核准"}]),
        )
        .await;
    expect(&env, 200, msg::PUSHED);
    let rows = o.rows(&lin, json!({})).await;
    let p1 = rows.iter().find(|r| ticket_of(r) == P1).unwrap();
    assert_eq!(p1.title.as_deref(), Some("更名後的請款單"));
}

// ---------------------------------------------------------------------------
// Create, delete, flags

#[tokio::test]
async fn create_answers_the_new_data_no_numbering_each_flow_on_its_own() {
    let o = Omflow::demo();
    let code = o.code("anna.keller").await;
    for (api_path, expected) in [(PROCUREMENT, 3), (PROCUREMENT, 4), (PAYMENT, 5)] {
        let env = o
            .edit(&code, api_path, json!({"action": "create", "formdata": []}))
            .await;
        expect(&env, 200, msg::CREATED);
        assert_eq!(env["result"], json!(expected), "{api_path}");
    }
    assert_eq!(
        (o.ticket_count(PAYMENT), o.ticket_count(PROCUREMENT)),
        (5, 4)
    );
}

#[tokio::test]
async fn an_unknown_api_path_answers_500_as_omflow_1_1_does() {
    let o = Omflow::demo();
    let code = o.code("wang.xiaoming").await;
    let before = o.snapshot();
    let data_id = o.data_id(P1).unwrap();
    for (path, params) in [
        (
            edit_path("no-such-flow"),
            json!({"action": "create", "formdata": []}),
        ),
        (
            edit_path(&hex(demo::PAYMENT_FLOW)),
            json!({"action": "update", "data_id": data_id, "formdata": []}),
        ),
        (data_id_path("no-such-flow"), json!({"data_no": 1})),
        (form_path("no-such-flow"), json!({"data_id": data_id})),
    ] {
        let env = o.call(&path, &code, params).await;
        expect_failure(&env, 500, msg::UNKNOWN_API_PATH);
    }
    assert_eq!(o.snapshot(), before);
}

#[tokio::test]
async fn a_flow_with_its_api_switched_off_refuses_create_push_and_quick_action() {
    let o = Omflow::demo();
    o.sql("UPDATE flows SET api_enabled = 0 WHERE api_path = 'payment-request'");
    let code = o.code("wang.xiaoming").await;
    let before = o.snapshot();
    let create = o
        .edit(&code, PAYMENT, json!({"action": "create", "formdata": []}))
        .await;
    expect_failure(&create, 404, API_OFF);
    let push = o
        .push(&code, P1, json!([{"id": "FORMITM_5", "value": "核准"}]))
        .await;
    expect_failure(&push, 404, API_OFF);
    expect_failure(&o.quick_action(&code, P1, "action1").await, 404, API_OFF);
    assert_eq!(o.snapshot(), before);
    let other = o
        .push(&code, Q1, json!([{"id": "FORMITM_3", "value": "1"}]))
        .await;
    expect(&other, 200, msg::PUSHED);
}

#[tokio::test]
async fn update_and_delete_need_a_data_id() {
    let o = Omflow::demo();
    let code = o.code("lin.meiling").await;
    for action in ["update", "delete"] {
        let env = o
            .edit(&code, PAYMENT, json!({"action": action, "formdata": []}))
            .await;
        expect_failure(&env, 404, "缺少參數：data_id");
    }
}

#[tokio::test]
async fn the_tickets_creator_or_an_admin_may_delete_it_and_no_one_else() {
    let o = Omflow::demo();
    let delete = |t: T| json!({"action": "delete", "data_id": o.data_id(t).unwrap()});
    for user in ["wang.xiaoming", "hans.muster"] {
        let code = o.code(user).await;
        let env = o.edit(&code, PAYMENT, delete(P1)).await;
        expect_failure(&env, 403, msg::FORBIDDEN);
    }
    assert!(!o.closed(P1));
    let lin = o.code("lin.meiling").await;
    let env = o.edit(&lin, PAYMENT, delete(P1)).await;
    expect(&env, 200, msg::DELETED);
    assert_eq!(env["result"], json!(1));
    let admin = o.code("admin").await;
    expect(
        &o.edit(&admin, PAYMENT, delete(P2)).await,
        200,
        msg::DELETED,
    );
    assert!(o.closed(P1) && o.closed(P2));
    let wang = o.code("wang.xiaoming").await;
    assert_eq!(o.listed(&wang).await, vec![P3, Q1, Q2]);
}

// ---------------------------------------------------------------------------
// Data-id query

#[tokio::test]
async fn the_data_id_query_fails_as_documented_for_unknown_and_closed_tickets() {
    let o = Omflow::demo();
    let lin = o.code("lin.meiling").await;
    expect_failure(
        &o.data_ids(&lin, T(PAYMENT, 99)).await,
        404,
        msg::QUERY_FAILED,
    );
    o.push(
        &lin,
        P4,
        json!([{"id": "FORMITM_7", "value": "2026-12-05"}]),
    )
    .await;
    expect_failure(&o.data_ids(&lin, P4).await, 404, msg::QUERY_FAILED);
}

#[tokio::test]
async fn the_data_id_changes_with_every_push_and_the_data_no_stays() {
    let o = Omflow::demo();
    let wang = o.code("wang.xiaoming").await;
    let lin = o.code("lin.meiling").await;
    let before = o.data_ids(&wang, Q1).await["result"][0]["data_id"].clone();
    let env = o
        .push(&wang, Q1, json!([{"id": "FORMITM_3", "value": "3"}]))
        .await;
    assert_eq!(env["result"], json!(1), "the data_no");
    let after = o.data_ids(&lin, Q1).await;
    expect(&after, 200, msg::LISTED);
    assert_ne!(after["result"][0]["data_id"], before);
    assert_eq!(after["result"][0]["stop_chart_text"], "採購執行");
}

// ---------------------------------------------------------------------------
// Work log

#[tokio::test]
async fn the_work_log_refuses_the_dashed_flow_uuid_as_1_1_does() {
    let o = Omflow::demo();
    let code = o.code("wang.xiaoming").await;
    let dashed = json!({"flow_uuid": demo::PAYMENT_FLOW, "data_no": 1, "data_id": 0,
        "content": "用有連字號的 uuid"});
    expect_failure(
        &o.call(WORKLOG_CREATE, &code, dashed.clone()).await,
        403,
        msg::FORBIDDEN,
    );
    expect_failure(
        &o.call(WORKLOG_LIST, &code, dashed).await,
        403,
        msg::FORBIDDEN,
    );
    assert_eq!(o.worklog_count(P1), 1);

    let hexed = json!({"flow_uuid": hex(demo::PAYMENT_FLOW), "data_no": 1,
        "data_id": o.data_id(P1).unwrap(), "content": "用 32 位十六進位 uuid"});
    expect(
        &o.call(WORKLOG_CREATE, &code, hexed.clone()).await,
        200,
        msg::LOGGED,
    );
    let listed = o.call(WORKLOG_LIST, &code, hexed).await;
    expect(&listed, 200, msg::LISTED);
    assert_eq!(listed["result"].as_array().unwrap().len(), 2);
    assert_eq!(
        listed,
        o.worklog_list(&code, P1).await,
        "api_path names it too"
    );
}

#[tokio::test]
async fn a_work_log_request_without_data_no_answers_require_missing() {
    let o = Omflow::demo();
    let code = o.code("wang.xiaoming").await;
    for path in [WORKLOG_CREATE, WORKLOG_LIST] {
        let env = o
            .call(
                path,
                &code,
                json!({"api_path": PAYMENT, "data_id": 0, "content": "x"}),
            )
            .await;
        assert_eq!(env["status"], json!(404), "{env}");
        assert_eq!(
            env["result"],
            json!({"status": "require missing", "result": ["data_no"]})
        );
    }
    assert_eq!(o.worklog_count(P1), 1);
}

#[tokio::test]
async fn an_empty_work_log_entry_is_refused() {
    let o = Omflow::demo();
    let code = o.code("wang.xiaoming").await;
    for content in [json!(""), json!("  \n"), Value::Null] {
        let env = o
            .call(
                WORKLOG_CREATE,
                &code,
                json!({"api_path": PAYMENT, "data_no": 1, "data_id": 0, "content": content}),
            )
            .await;
        expect_failure(&env, 404, "缺少參數：content");
    }
    assert_eq!(o.worklog_count(P1), 1);
}

#[tokio::test]
async fn a_work_log_entry_for_an_unknown_ticket_does_not_exist() {
    let o = Omflow::demo();
    let code = o.code("wang.xiaoming").await;
    let env = o.worklog_create(&code, T(PAYMENT, 99), "不存在的單").await;
    expect_failure(&env, 404, &gone(PAYMENT));
    expect_failure(
        &o.worklog_list(&code, T(PAYMENT, 99)).await,
        403,
        msg::FORBIDDEN,
    );
}

#[tokio::test]
async fn work_log_entries_belong_to_the_ticket_and_outlive_its_pushes() {
    let o = Omflow::demo();
    let wang = o.code("wang.xiaoming").await;
    let lin = o.code("lin.meiling").await;
    expect(
        &o.worklog_create(&wang, Q1, "供應商報價已收到").await,
        200,
        msg::LOGGED,
    );
    o.push(&wang, Q1, json!([{"id": "FORMITM_3", "value": "3"}]))
        .await;
    expect(
        &o.worklog_create(&lin, Q1, "已下訂單").await,
        200,
        msg::LOGGED,
    );
    let env = o.worklog_list(&lin, Q1).await;
    let contents: Vec<&str> = env["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["content"].as_str().unwrap())
        .collect();
    assert_eq!(contents, ["供應商報價已收到", "已下訂單"]);
    // Other tickets' logs are their own.
    assert_eq!(o.worklog_count(Q2), 0);
}

#[tokio::test]
async fn a_data_id_of_another_ticket_gives_no_right_to_its_work_log() {
    let o = Omflow::demo();
    let code = o.code("wang.xiaoming").await;
    let env = o
        .call(
            WORKLOG_CREATE,
            &code,
            json!({"api_path": PAYMENT, "data_no": 4, "data_id": o.data_id(P1).unwrap(),
                "content": "借用別張單的權限"}),
        )
        .await;
    expect_failure(&env, 403, msg::FORBIDDEN);
    assert_eq!(o.worklog_count(P4), 0);
}

#[tokio::test]
async fn work_log_times_are_naive_taipei_times_with_a_space_and_microseconds() {
    let o = Omflow::demo();
    o.sql("UPDATE responses SET created = '2026-11-22T04:26:51Z' WHERE response_type = 'comment'");
    let code = o.code("wang.xiaoming").await;
    let env = o.worklog_list(&code, P1).await;
    assert_eq!(env["result"][0]["createtime"], "2026-11-22 12:26:51.000000");
}

// ---------------------------------------------------------------------------
// tasklane's form extension

#[tokio::test]
async fn the_form_extension_describes_the_stops_fields_and_quick_actions() {
    let o = Omflow::demo();
    let wang = o.code("wang.xiaoming").await;
    let env = o.form(&wang, PAYMENT, o.data_id(P1).unwrap()).await;
    expect(&env, 200, msg::LISTED);
    let form: FormDefinition = serde_json::from_value(env["result"].clone()).unwrap();
    let field = |id: &str, label: &str, ty: &str, required: bool| FormField {
        id: id.into(),
        label: label.into(),
        field_type: ty.into(),
        required,
    };
    let action = |id: &str, label: &str| QuickActionDef {
        id: id.into(),
        label: label.into(),
    };
    assert_eq!(
        form,
        FormDefinition {
            fields: vec![
                field("FORMITM_1", "標題", "h_title", false),
                field("FORMITM_2", "金額", "number", true),
                field("FORMITM_5", "審核意見", "text", true),
                field("FORMITM_6", "備註", "text", false),
            ],
            quick_actions: vec![action("action1", "核准"), action("action2", "退回")],
        }
    );
    let lin = o.code("lin.meiling").await;
    let env = o.form(&lin, PAYMENT, o.data_id(P4).unwrap()).await;
    let form: FormDefinition = serde_json::from_value(env["result"].clone()).unwrap();
    assert_eq!(
        form.fields,
        vec![field("FORMITM_7", "付款日期", "date", true)]
    );
    assert_eq!(form.quick_actions, vec![action("action1", "確認付款")]);
}

#[tokio::test]
async fn the_form_extension_answers_foreign_data_ids_as_the_push_does() {
    let o = Omflow::demo();
    let code = o.code("admin").await;
    let gever_task = o.scalar("SELECT min(id) FROM tasks WHERE ticket_id IS NULL");
    for data_id in [o.data_id(Q1).unwrap(), 999_999, gever_task] {
        let env = o.form(&code, PAYMENT, data_id).await;
        expect_failure(&env, 404, &gone(PAYMENT));
    }
}

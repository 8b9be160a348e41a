//! OMFLOW conformance, part 2: the my-mission list — paging with `limit`
//! as an end index, ordering, conditions, exclusions, columns, naive
//! Asia/Taipei datetimes, and 1.1's empty-list failure
//! (`../shared/reference/omflow/NOTES.md` §3, §9.5, §9.10–§9.11, §11.2,
//! §11.10–§11.11).

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;
mod omflow_support;

use omflow_support::*;
use serde_json::{Value, json};
use tasklane_engine::flows::{self, FieldValue};

/// wang.xiaoming's rows in id order: P1, P2, P3 (his as the step's user),
/// Q1, Q2 (his through the it group).
const WANG: [T; 5] = [P1, P2, P3, Q1, Q2];

async fn wang(o: &Omflow) -> String {
    o.code("wang.xiaoming").await
}

/// The tickets of the rows a list request answers (empty for 1.1's
/// empty-list failure).
async fn listed_by(o: &Omflow, code: &str, params: Value) -> Vec<T> {
    let env = o.list(code, params.clone()).await;
    if env["message"] == msg::EMPTY_LIST {
        expect_failure(&env, 404, msg::EMPTY_LIST);
        return Vec::new();
    }
    mission_rows(&env).iter().map(ticket_of).collect()
}

#[tokio::test]
async fn an_empty_list_is_omflow_1_1s_nonetype_failure() {
    let o = Omflow::demo();
    for user in ["hans.muster", "tanaka", "admin"] {
        let code = o.code(user).await;
        let env = o.list(&code, json!({"order_columns": ["id"]})).await;
        expect_failure(&env, 404, msg::EMPTY_LIST);
    }
}

#[tokio::test]
async fn a_filter_that_matches_nothing_answers_the_same_failure() {
    let o = Omflow::demo();
    let code = wang(&o).await;
    let env = o
        .list(
            &code,
            json!({"search_conditions": [{"column": "title", "condition": "contains", "value": "不存在"}]}),
        )
        .await;
    expect_failure(&env, 404, msg::EMPTY_LIST);
}

#[tokio::test]
async fn limit_is_an_end_index_as_the_documented_examples_show() {
    let o = Omflow::demo();
    let code = wang(&o).await;
    // The docs' examples scaled to five rows: start=0,limit=5 → 5 rows;
    // start=1,limit=5 → 4; start=5,limit=5 → none.
    for (start, limit, expected) in [
        (0, 5, WANG.to_vec()),
        (1, 5, WANG[1..].to_vec()),
        (5, 5, vec![]),
        (0, 2, vec![P1, P2]),
        (2, 4, vec![P3, Q1]),
        (4, 100, vec![Q2]),
        (3, 2, vec![]),
        (0, 0, vec![]),
    ] {
        let got = listed_by(
            &o,
            &code,
            json!({"order_columns": ["id"], "start": start, "limit": limit}),
        )
        .await;
        assert_eq!(got, expected, "start={start} limit={limit}");
    }
}

#[tokio::test]
async fn paging_with_start_k_n_and_limit_k_plus_1_n_visits_every_row_once() {
    let o = Omflow::demo();
    let code = wang(&o).await;
    let n = 2;
    let mut seen = Vec::new();
    for k in 0.. {
        let page = listed_by(
            &o,
            &code,
            json!({"order_columns": ["id"], "start": k * n, "limit": (k + 1) * n}),
        )
        .await;
        let short = page.len() < n as usize;
        seen.extend(page);
        if short {
            break;
        }
    }
    assert_eq!(seen, WANG.to_vec());
}

#[tokio::test]
async fn pages_asked_after_a_change_see_the_change() {
    // Pages after the first are slices of the whole listing's order, kept
    // only while nothing was written (server::listings).
    let o = Omflow::demo();
    let code = wang(&o).await;
    let page = |k: usize| json!({"order_columns": ["id"], "start": k * 2, "limit": (k + 1) * 2});
    assert_eq!(listed_by(&o, &code, page(0)).await, vec![P1, P2]);
    assert_eq!(listed_by(&o, &code, page(1)).await, vec![P3, Q1]);
    let env = o
        .push(&code, P1, json!([{"id": "FORMITM_5", "value": "核准"}]))
        .await;
    expect(&env, 200, msg::PUSHED);
    assert_eq!(
        listed_by(&o, &code, page(1)).await,
        vec![Q1, Q2],
        "P1 left the listing; its second page moved up"
    );
    assert_eq!(listed_by(&o, &code, page(2)).await, Vec::<T>::new());
    // Another user's listing is theirs, not a slice of wang's.
    let lin = o.code("lin.meiling").await;
    assert_ne!(listed_by(&o, &lin, page(1)).await, vec![Q1, Q2]);
}

#[tokio::test]
async fn without_start_and_limit_the_first_100_rows_are_listed() {
    let o = Omflow::demo();
    let lin = o.s.engine().principal("lin.meiling").unwrap();
    o.s.engine()
        .db()
        .write(|tx| {
            let flow = flows::flow_by_api_path(tx, PAYMENT)?.unwrap();
            for i in 0..101 {
                let title = FieldValue {
                    id: "FORMITM_1".into(),
                    value: json!(format!("批次請款 {i:03}")),
                    field_type: Some("h_title".into()),
                };
                flows::open_ticket(tx, &lin, &flow, &[title])?;
            }
            Ok(())
        })
        .unwrap();
    let code = wang(&o).await;
    let rows = o.rows(&code, json!({})).await;
    assert_eq!(rows.len(), 100);
    assert_eq!(ticket_of(&rows[0]), P1);
    let rest = o.rows(&code, json!({"start": 100, "limit": 200})).await;
    assert_eq!(rest.len(), 6, "5 demo rows + 101 new ones");
    let env = o.list(&code, json!({"start": 100})).await;
    expect_failure(&env, 404, msg::EMPTY_LIST);
}

#[tokio::test]
async fn a_negative_start_or_limit_is_refused() {
    let o = Omflow::demo();
    let code = wang(&o).await;
    for params in [
        json!({"start": -1}),
        json!({"limit": -1}),
        json!({"start": "-5", "limit": 5}),
    ] {
        let env = o.list(&code, params).await;
        expect_failure(
            &env,
            404,
            "查詢失敗，錯誤訊息如下：Negative indexing is not supported.",
        );
    }
}

#[tokio::test]
async fn order_columns_sort_ascending_and_descending_with_a_minus() {
    let o = Omflow::demo();
    let code = wang(&o).await;
    for (order, expected) in [
        (json!([]), vec![P1, P2, P3, Q1, Q2]),
        (json!(["id"]), vec![P1, P2, P3, Q1, Q2]),
        (json!(["-id"]), vec![Q2, Q1, P3, P2, P1]),
        (json!(["data_no", "id"]), vec![P1, Q1, P2, Q2, P3]),
        (json!(["-data_no", "-id"]), vec![P3, Q2, P2, Q1, P1]),
        // 採 (U+63A1) sorts before 請 (U+8ACB).
        (json!(["flow_name", "-data_no"]), vec![Q2, Q1, P3, P2, P1]),
        (json!(["-flow_name", "data_no"]), vec![P1, P2, P3, Q1, Q2]),
    ] {
        let got = listed_by(&o, &code, json!({"order_columns": order})).await;
        assert_eq!(got, expected, "order_columns {order}");
    }
}

#[tokio::test]
async fn an_unknown_column_anywhere_in_the_query_is_a_failure() {
    let o = Omflow::demo();
    let code = wang(&o).await;
    let cond = |column: &str| json!([{"column": column, "condition": "=", "value": 1}]);
    for (name, params) in [
        ("nope", json!({"order_columns": ["nope"]})),
        ("nope", json!({"order_columns": ["id", "-nope"]})),
        ("nope", json!({"search_columns": ["id", "nope"]})),
        ("nope", json!({"search_conditions": cond("nope")})),
        ("nope", json!({"exclude_conditions": cond("nope")})),
        (
            "responsible_user",
            json!({"search_conditions": cond("responsible_user")}),
        ),
        (
            "id; DROP TABLE tasks",
            json!({"order_columns": ["id; DROP TABLE tasks"]}),
        ),
        (
            "id\" OR 1=1 --",
            json!({"search_conditions": cond("id\" OR 1=1 --")}),
        ),
    ] {
        let env = o.list(&code, params.clone()).await;
        assert_eq!(env["status"], json!(404), "{params} → {env}");
        let message = env["message"].as_str().unwrap();
        assert!(
            message.starts_with(&format!(
                "{}Cannot resolve keyword '{name}' into field.",
                msg::LIST_FAILED_PREFIX
            )),
            "{message}"
        );
    }
    assert_eq!(
        listed_by(&o, &code, json!({})).await.len(),
        5,
        "tables intact"
    );
}

#[tokio::test]
async fn search_columns_choose_the_fields_of_each_row() {
    let o = Omflow::demo();
    let code = wang(&o).await;
    let env = o
        .list(
            &code,
            json!({"search_columns": ["id", "status", "level"], "order_columns": ["id"]}),
        )
        .await;
    expect(&env, 200, msg::LISTED);
    let rows = env["result"].as_array().unwrap();
    assert_eq!(rows.len(), 5);
    for row in rows {
        let mut keys: Vec<&str> = row
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        keys.sort();
        assert_eq!(keys, ["id", "level", "status"], "{row}");
    }
    assert_eq!(rows[0]["status"], "審核中");
    assert_eq!(rows[3]["status"], "待處理");
    // Ordering and filtering may use columns that are not shown.
    let env = o
        .list(
            &code,
            json!({"search_columns": ["title"], "order_columns": ["-data_no", "id"],
                "search_conditions": [{"column": "flow_name", "condition": "=", "value": "採購流程"}]}),
        )
        .await;
    assert_eq!(
        env["result"],
        json!([{"title": "採購申請：會議室投影機"}, {"title": "採購申請：筆記型電腦 ×3"}])
    );
}

#[tokio::test]
async fn each_condition_operator_filters_as_omflow_does() {
    let o = Omflow::demo();
    let code = wang(&o).await;
    let q1 = o.data_id(Q1).unwrap();
    for (column, op, value, expected) in [
        ("data_no", "=", json!(2), vec![P2, Q2]),
        ("data_no", "=", json!("2"), vec![P2, Q2]),
        ("data_no", "!=", json!(1), vec![P2, P3, Q2]),
        ("data_no", ">", json!(2), vec![P3]),
        ("data_no", "<", json!(2), vec![P1, Q1]),
        ("data_no", ">=", json!(2), vec![P2, P3, Q2]),
        ("data_no", "<=", json!(1), vec![P1, Q1]),
        ("id", ">", json!(q1.to_string()), vec![Q2]),
        (
            "status",
            "in",
            json!(["審核中", "不存在"]),
            vec![P1, P2, P3],
        ),
        ("data_no", "in", json!([1, 3]), vec![P1, P3, Q1]),
        ("data_no", "in", json!([]), vec![]),
        ("flow_name", "=", json!("採購流程"), vec![Q1, Q2]),
        ("title", "contains", json!("請款"), vec![P1, P2, P3]),
        // contains ignores case, = does not.
        ("stop_uuid", "contains", json!("fitem_3"), vec![Q1, Q2]),
        ("stop_uuid", "=", json!("fitem_3"), vec![]),
        // % and _ are text, not patterns.
        ("title", "contains", json!("%"), vec![]),
        ("stop_uuid", "contains", json!("FITEM_"), WANG.to_vec()),
        ("title", "contains", json!("#1024"), vec![P1]),
        // An operator OMFLOW does not know means an exact match.
        ("stop_uuid", "~", json!("FITEM_3"), vec![Q1, Q2]),
        ("stop_uuid", "like", json!("FITEM%"), vec![]),
        ("stop_uuid", "", json!("FITEM_7"), vec![P1, P2, P3]),
        // null matches SQL NULL, as Django's filter(x=None) does.
        ("assignee_id", "=", Value::Null, vec![Q1, Q2]),
        ("assign_group_id", "!=", Value::Null, vec![Q1, Q2]),
        ("update_user_id", "=", json!("lin.meiling"), WANG.to_vec()),
        // Flags as booleans or text.
        ("history", "=", json!(false), WANG.to_vec()),
        ("closed", "=", json!("false"), WANG.to_vec()),
        ("attachment", "=", json!(true), vec![]),
    ] {
        let got = listed_by(
            &o,
            &code,
            json!({"order_columns": ["id"],
                "search_conditions": [{"column": column, "condition": op, "value": value}]}),
        )
        .await;
        assert_eq!(got, expected, "{column} {op} {value}");
    }
}

#[tokio::test]
async fn conditions_are_anded_and_exclusions_remove_what_they_match() {
    let o = Omflow::demo();
    let code = wang(&o).await;
    let c = |column: &str, op: &str, value: Value| json!({"column": column, "condition": op, "value": value});
    for (search, exclude, expected) in [
        (
            vec![
                c("flow_name", "=", json!("請款流程")),
                c("data_no", ">", json!(1)),
            ],
            vec![],
            vec![P2, P3],
        ),
        (
            vec![],
            vec![c("flow_name", "=", json!("請款流程"))],
            vec![Q1, Q2],
        ),
        (vec![], vec![c("data_no", "in", json!([1, 2]))], vec![P3]),
        (
            vec![c("flow_name", "=", json!("請款流程"))],
            vec![c("data_no", "=", json!(2))],
            vec![P1, P3],
        ),
        // Each exclusion removes its own rows.
        (
            vec![],
            vec![
                c("data_no", "=", json!(1)),
                c("flow_name", "=", json!("採購流程")),
            ],
            vec![P2, P3],
        ),
        (
            vec![],
            vec![c("assignee_id", "=", Value::Null)],
            vec![P1, P2, P3],
        ),
        (
            vec![],
            vec![c("title", "contains", json!("採購"))],
            vec![P1, P2, P3],
        ),
    ] {
        let got = listed_by(
            &o,
            &code,
            json!({"order_columns": ["id"], "search_conditions": search,
                "exclude_conditions": exclude}),
        )
        .await;
        assert_eq!(got, expected, "search {search:?} exclude {exclude:?}");
    }
}

#[tokio::test]
async fn datetimes_are_naive_asia_taipei_times_both_ways() {
    let o = Omflow::demo();
    o.sql(
        "UPDATE tasks SET created = '2026-11-22T04:30:00Z', modified = '2026-11-22T04:30:00Z';
         UPDATE tickets SET created_at = '2026-11-21T23:59:59Z';
         UPDATE tasks SET modified = '2026-11-22T05:00:00Z'
           WHERE id = (SELECT max(t.id) FROM tasks t JOIN tickets k ON k.id = t.ticket_id
                       WHERE k.data_no = 2 AND k.flow_uuid = '67d4cf9a-49cd-4341-90da-b899eb0219b1');",
    );
    let code = wang(&o).await;
    let env = o.list(&code, json!({"order_columns": ["id"]})).await;
    let rows = env["result"].as_array().unwrap();
    assert_eq!(
        rows[0]["createtime"], "2026-11-22T12:30:00",
        "UTC+8, no offset"
    );
    assert_eq!(rows[0]["updatetime"], "2026-11-22T12:30:00");
    assert_eq!(rows[0]["ticket_createtime"], "2026-11-22T07:59:59");
    assert_eq!(rows[1]["updatetime"], "2026-11-22T13:00:00");
    let rows = mission_rows(&env);
    let read = rows[1].updatetime.as_ref().unwrap();
    assert_eq!(
        read.to_timestamp(&jiff::tz::TimeZone::get("Asia/Taipei").unwrap()),
        Some("2026-11-22T05:00:00Z".parse().unwrap()),
        "the client reads it back in the server's zone"
    );

    for (op, value, expected) in [
        ("=", "2026-11-22T13:00:00", vec![P2]),
        ("=", "2026-11-22 13:00:00", vec![P2]),
        ("=", "2026-11-22 13:00:00.000000", vec![P2]),
        (">", "2026-11-22T12:30:00", vec![P2]),
        (">", "2026-11-22 12:59:59.999", vec![P2]),
        (">", "2026-11-22T13:00:00", vec![]),
        ("<", "2026-11-22T13:00:00", vec![P1, P3, Q1, Q2]),
        ("<=", "2026-11-22T12:30:00", vec![P1, P3, Q1, Q2]),
        (">=", "2026-11-22", WANG.to_vec()),
        ("<", "2026-11-22", vec![]),
    ] {
        let got = listed_by(
            &o,
            &code,
            json!({"order_columns": ["id"],
                "search_conditions": [{"column": "updatetime", "condition": op, "value": value}]}),
        )
        .await;
        assert_eq!(got, expected, "updatetime {op} {value}");
    }
    let by_ticket_time = listed_by(
        &o,
        &code,
        json!({"search_conditions": [
            {"column": "ticket_createtime", "condition": "=", "value": "2026-11-22 07:59:59"}]}),
    )
    .await;
    assert_eq!(by_ticket_time.len(), 5);
}

#[tokio::test]
async fn an_incremental_listing_by_updatetime_finds_what_arrived_since() {
    let o = Omflow::demo();
    o.sql("UPDATE tasks SET modified = '2001-01-01T00:00:00Z'");
    let lin = o.code("lin.meiling").await;
    let rows = o.rows(&lin, json!({})).await;
    let watermark = rows[0].updatetime.clone().unwrap().to_string();
    assert_eq!(watermark, "2001-01-01T08:00:00");
    let since = json!({"search_conditions": [
        {"column": "updatetime", "condition": ">", "value": watermark}]});
    expect_failure(&o.list(&lin, since.clone()).await, 404, msg::EMPTY_LIST);

    let wang = wang(&o).await;
    let env = o
        .push(&wang, P1, json!([{"id": "FORMITM_5", "value": "核准"}]))
        .await;
    expect(&env, 200, msg::PUSHED);
    assert_eq!(listed_by(&o, &lin, since).await, vec![P1]);
}

#[tokio::test]
async fn group_steps_show_no_assignee_but_the_groups_numeric_id() {
    let o = Omflow::demo();
    let code = wang(&o).await;
    let wang_num = o.user_num("wang.xiaoming");
    let it = o.group_num("it");
    for row in o.rows(&code, json!({})).await {
        let expected = match ticket_of(&row).0 {
            PAYMENT => (Some(wang_num), None),
            _ => (None, Some(it)),
        };
        assert_eq!((row.assignee_id, row.assign_group_id), expected, "{row:?}");
    }
    let lin = o.code("lin.meiling").await;
    let rows = o.rows(&lin, json!({})).await;
    assert_eq!(
        (rows[0].assignee_id, rows[0].assign_group_id),
        (None, Some(o.group_num("finance")))
    );
}

#[tokio::test]
async fn a_pushed_step_becomes_history_and_leaves_the_list() {
    let o = Omflow::demo();
    let code = wang(&o).await;
    let old = o.data_id(Q2).unwrap();
    let env = o
        .push(&code, Q2, json!([{"id": "FORMITM_3", "value": "2"}]))
        .await;
    expect(&env, 200, msg::PUSHED);
    assert_eq!(listed_by(&o, &code, json!({})).await, vec![P1, P2, P3, Q1]);
    let history = json!({"search_conditions": [
        {"column": "history", "condition": "=", "value": true}]});
    expect_failure(&o.list(&code, history).await, 404, msg::EMPTY_LIST);
    let by_id =
        json!({"search_conditions": [{"column": "data_id", "condition": "=", "value": old}]});
    expect_failure(&o.list(&code, by_id).await, 404, msg::EMPTY_LIST);
}

#[tokio::test]
async fn rows_carry_the_api_path_the_docs_promise_for_a_later_release() {
    let o = Omflow::demo();
    let code = wang(&o).await;
    for row in o.rows(&code, json!({})).await {
        assert_eq!(row.api_path.as_deref(), Some(ticket_of(&row).0));
    }
    let only = o
        .list(
            &code,
            json!({"search_columns": ["api_path"], "order_columns": ["-id"], "limit": 1}),
        )
        .await;
    assert_eq!(only["result"], json!([{"api_path": PROCUREMENT}]));
}

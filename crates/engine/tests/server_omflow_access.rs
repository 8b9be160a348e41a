//! OMFLOW conformance, part 4: who sees and does what. For every OMFLOW
//! endpoint, each demo user reaches exactly the tickets the rules give
//! them, and a wrong, missing or expired security code reaches nothing.
//!
//! The rules: a step is in the my-mission list of its assignee user, or —
//! when it has none — of the members of its assigned group (NOTES §3,
//! §11.11); those users and administrators may push it or run its quick
//! actions; whoever may see the step's task (also the ticket's creator)
//! may query its data_id, read its form and write its work log; the work
//! log can be read by whoever could see any step of the ticket.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;
mod omflow_support;

use std::time::Duration;

use omflow_support::*;
use serde_json::{Value, json};

struct Access {
    user: &'static str,
    /// Steps in the user's my-mission list.
    listed: &'static [T],
    /// Steps the user may push or run a quick action on.
    pushes: &'static [T],
    /// Tickets whose data_id, form and work log (writing) the user reaches.
    sees: &'static [T],
    /// Tickets whose work log the user may read.
    reads_log: &'static [T],
}

const ALL: &[T] = &TICKETS;
const NONE: &[T] = &[];
const WANGS: &[T] = &[P1, P2, P3, Q1, Q2];

const fn outsider(user: &'static str) -> Access {
    Access {
        user,
        listed: NONE,
        pushes: NONE,
        sees: NONE,
        reads_log: NONE,
    }
}

const MATRIX: [Access; 8] = [
    // The administrator has no steps of their own but may act on all.
    Access {
        user: "admin",
        listed: NONE,
        pushes: ALL,
        sees: ALL,
        reads_log: ALL,
    },
    // Assignee user of the payment flow's first stop, member of the it
    // group the procurement flow's first stop is assigned to; P4's first
    // stop was his, so he still reads its log.
    Access {
        user: "wang.xiaoming",
        listed: WANGS,
        pushes: WANGS,
        sees: WANGS,
        reads_log: ALL,
    },
    // Member of the finance group (P4's stop) and creator of every demo
    // ticket.
    Access {
        user: "lin.meiling",
        listed: &[P4],
        pushes: &[P4],
        sees: ALL,
        reads_log: ALL,
    },
    outsider("hans.muster"),
    outsider("anna.keller"),
    outsider("peter.meier"),
    outsider("tanaka"),
    outsider("suzuki"),
];

#[test]
fn the_matrix_names_every_demo_user() {
    let mut users: Vec<&str> = MATRIX.iter().map(|a| a.user).collect();
    users.sort();
    let mut expected = USERS.to_vec();
    expected.sort();
    assert_eq!(users, expected);
}

#[tokio::test]
async fn each_users_my_mission_list_holds_exactly_their_steps() {
    let o = Omflow::demo();
    for a in &MATRIX {
        let code = o.code(a.user).await;
        assert_eq!(o.listed(&code).await, a.listed.to_vec(), "{}", a.user);
    }
}

#[tokio::test]
async fn only_the_assignee_a_member_of_the_assigned_group_or_an_admin_may_push() {
    let o = Omflow::demo();
    let before = o.snapshot();
    for a in &MATRIX {
        let code = o.code(a.user).await;
        for t in TICKETS {
            // Every demo step lacks a required field, so a permitted empty
            // push is refused for that — after the permission check — and
            // changes nothing either way.
            let env = o.push(&code, t, json!([])).await;
            if a.pushes.contains(&t) {
                expect_failure(&env, 404, msg::REQUIRED_MISSING);
            } else {
                expect_failure(&env, 403, msg::FORBIDDEN);
            }
        }
    }
    assert_eq!(o.snapshot(), before);
}

#[tokio::test]
async fn quick_actions_follow_the_push_rule() {
    let o = Omflow::demo();
    let before = o.snapshot();
    for a in &MATRIX {
        let code = o.code(a.user).await;
        for t in TICKETS {
            let env = o.quick_action(&code, t, "action9").await;
            if a.pushes.contains(&t) {
                expect_failure(&env, 404, "推單失敗：action9 不存在");
            } else {
                expect_failure(&env, 403, msg::FORBIDDEN);
            }
        }
    }
    assert_eq!(o.snapshot(), before);
}

#[tokio::test]
async fn permitted_pushes_by_each_kind_of_user_apply() {
    let o = Omflow::demo();
    let wang = o.code("wang.xiaoming").await;
    let lin = o.code("lin.meiling").await;
    let admin = o.code("admin").await;
    for (code, t, formdata) in [
        (&wang, P1, json!([{"id": "FORMITM_5", "value": "核准"}])),
        (&wang, Q1, json!([{"id": "FORMITM_3", "value": "2"}])),
        (
            &lin,
            P4,
            json!([{"id": "FORMITM_7", "value": "2026-12-01"}]),
        ),
        (
            &admin,
            P2,
            json!([{"id": "FORMITM_5", "value": "代理核准"}]),
        ),
    ] {
        let env = o.push(code, t, formdata).await;
        expect(&env, 200, msg::PUSHED);
        assert_eq!(env["result"], json!(t.1));
    }
    assert_eq!(o.listed(&lin).await, vec![P1, P2, Q1]);
    assert_eq!(o.listed(&wang).await, vec![P3, Q2]);
}

#[tokio::test]
async fn the_data_id_query_answers_only_for_tickets_the_user_may_see() {
    let o = Omflow::demo();
    for a in &MATRIX {
        let code = o.code(a.user).await;
        for t in TICKETS {
            let env = o.data_ids(&code, t).await;
            if a.sees.contains(&t) {
                expect(&env, 200, msg::LISTED);
                assert_eq!(env["result"][0]["data_id"], json!(o.data_id(t).unwrap()));
            } else {
                expect_failure(&env, 404, msg::QUERY_FAILED);
            }
        }
    }
}

#[tokio::test]
async fn the_form_extension_answers_only_for_steps_the_user_may_see() {
    let o = Omflow::demo();
    for a in &MATRIX {
        let code = o.code(a.user).await;
        for t in TICKETS {
            let env = o.form(&code, t.0, o.data_id(t).unwrap()).await;
            if a.sees.contains(&t) {
                expect(&env, 200, msg::LISTED);
            } else {
                expect_failure(&env, 403, msg::FORBIDDEN);
            }
        }
    }
}

#[tokio::test]
async fn the_work_log_is_written_and_read_only_by_those_the_rules_allow() {
    let o = Omflow::demo();
    let initial: Vec<usize> = TICKETS.iter().map(|t| o.worklog_count(*t)).collect();
    for a in &MATRIX {
        let code = o.code(a.user).await;
        for t in TICKETS {
            let env = o
                .worklog_create(&code, t, &format!("{} 到此一遊", a.user))
                .await;
            if a.sees.contains(&t) {
                expect(&env, 200, msg::LOGGED);
            } else {
                expect_failure(&env, 403, msg::FORBIDDEN);
            }
            let env = o.worklog_list(&code, t).await;
            if a.reads_log.contains(&t) {
                expect(&env, 200, msg::LISTED);
            } else {
                expect_failure(&env, 403, msg::FORBIDDEN);
            }
        }
    }
    for (t, before) in TICKETS.iter().zip(initial) {
        let writers = MATRIX.iter().filter(|a| a.sees.contains(t)).count();
        assert_eq!(o.worklog_count(*t), before + writers, "{t:?}");
    }
}

#[tokio::test]
async fn anyone_may_open_a_ticket_which_then_waits_for_the_first_stops_assignee() {
    let o = Omflow::demo();
    let wang = o.code("wang.xiaoming").await;
    for (i, user) in USERS.iter().enumerate() {
        let code = o.code(user).await;
        let env = o
            .edit(
                &code,
                PROCUREMENT,
                json!({"action": "create", "formdata": [
                {"id": "FORMITM_1", "value": format!("{user} 的採購申請")}]}),
            )
            .await;
        expect(&env, 200, msg::CREATED);
        let t = T(PROCUREMENT, 3 + i as i64);
        assert_eq!(env["result"], json!(t.1));
        assert!(o.listed(&wang).await.contains(&t), "waits for the it group");
        if *user != "wang.xiaoming" {
            assert!(
                !o.listed(&code).await.contains(&t),
                "{user} is not the assignee"
            );
        }
        expect(&o.data_ids(&code, t).await, 200, msg::LISTED);
    }
}

/// Every OMFLOW endpoint with parameters that would succeed for wang.
fn endpoints(o: &Omflow) -> Vec<(String, Value)> {
    let p1 = o.data_id(P1).unwrap();
    vec![
        (MY_MISSION.into(), json!({"order_columns": ["id"]})),
        (
            edit_path(PAYMENT),
            json!({"action": "create", "formdata": []}),
        ),
        (
            edit_path(PAYMENT),
            json!({"action": "update", "data_id": p1,
                "formdata": [{"id": "FORMITM_5", "value": "核准"}]}),
        ),
        (
            edit_path(PAYMENT),
            json!({"action": "update", "data_id": p1, "quick_action": "action1"}),
        ),
        (
            edit_path(PAYMENT),
            json!({"action": "delete", "data_id": p1}),
        ),
        (data_id_path(PAYMENT), json!({"data_no": 1})),
        (
            WORKLOG_CREATE.into(),
            json!({"api_path": PAYMENT, "data_no": 1, "data_id": 0, "content": "x"}),
        ),
        (
            WORKLOG_LIST.into(),
            json!({"api_path": PAYMENT, "data_no": 1, "data_id": 0}),
        ),
        (form_path(PAYMENT), json!({"data_id": p1})),
    ]
}

#[tokio::test]
async fn a_wrong_or_missing_code_gets_nothing_from_any_endpoint() {
    let o = Omflow::demo();
    let live = o.code("wang.xiaoming").await;
    let before = o.snapshot();
    for (path, params) in endpoints(&o) {
        for security in [
            json!("bogus"),
            json!(live.to_uppercase()),
            json!(""),
            Value::Null,
        ] {
            let mut body = params.clone();
            body["omflow_restapi"] = json!(1);
            if !security.is_null() {
                body["security"] = security;
            }
            let env = o.post(&path, &body).await;
            expect_failure(&env, 403, msg::CODE_WRONG);
        }
        // The right code without omflow_restapi.
        let mut body = params.clone();
        body["security"] = json!(live);
        expect_failure(&o.post(&path, &body).await, 403, msg::NO_RESTAPI);
    }
    assert_eq!(o.snapshot(), before);
}

#[tokio::test]
async fn an_expired_code_gets_nothing_from_any_endpoint() {
    let o = Omflow::demo();
    let before = o.snapshot();
    for (path, params) in endpoints(&o) {
        let code = o.code("wang.xiaoming").await;
        o.s.server.sessions().age_all(Duration::from_secs(5 * 60));
        let env = o.call(&path, &code, params).await;
        expect_failure(&env, 403, msg::CODE_EXPIRED);
    }
    assert_eq!(o.snapshot(), before);
}

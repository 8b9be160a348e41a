//! OMFLOW-style flows and Hitachi-style work items in the engine.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::sync::Arc;

use serde_json::json;
use tasklane_engine::flows::{self, FieldValue, FormField, QuickAction, Step};
use tasklane_engine::model::{GroupKind, TaskState};
use tasklane_engine::users::{self, Principal};
use tasklane_engine::{
    CreateTask, Engine, EngineError, create_task, dossiers, responses, tasks, workflow, workitems,
};

const FLOW: &str = "11111111-2222-3333-4444-555555555555";

fn engine() -> Engine {
    let e = Engine::open_in_memory().unwrap();
    setup(&e);
    e
}

fn setup(e: &Engine) {
    e.db()
        .write(|tx| {
            users::add_group(tx, "it", "資訊部", GroupKind::OrgUnit)?;
            users::add_group(tx, "Lane1", "受付", GroupKind::Lane)?;
            users::add_group(tx, "Lane2", "審査", GroupKind::Lane)?;
            for (u, g) in [
                ("wang", "it"),
                ("lin", "it"),
                ("tanaka", "Lane1"),
                ("suzuki", "Lane1"),
                ("sato", "Lane2"),
            ] {
                users::add_user(tx, u, u, None, false)?;
                users::add_member(tx, u, g)?;
            }
            users::add_user(tx, "boss", "Boss", None, false)?;
            users::add_user(tx, "root", "Root", None, true)?;
            flows::create_flow(
                tx,
                FLOW,
                "請款流程",
                "payment",
                &[
                    Step {
                        position: 0,
                        stop_uuid: "FITEM_7".into(),
                        name: "審核".into(),
                        status_text: "審核中".into(),
                        assignee_user: Some("wang".into()),
                        assignee_group: None,
                        form: vec![
                            FormField {
                                id: "FORMITM_1".into(),
                                label: "標題".into(),
                                field_type: "h_title".into(),
                                required: false,
                            },
                            FormField {
                                id: "FORMITM_5".into(),
                                label: "審核意見".into(),
                                field_type: "text".into(),
                                required: true,
                            },
                        ],
                        quick_actions: vec![QuickAction {
                            id: "action1".into(),
                            label: "核准".into(),
                            values: json!({"FORMITM_5": "核准"}).as_object().cloned().unwrap(),
                        }],
                    },
                    Step {
                        position: 0,
                        stop_uuid: "FITEM_9".into(),
                        name: "財務".into(),
                        status_text: "財務確認中".into(),
                        assignee_user: None,
                        assignee_group: Some("it".into()),
                        form: vec![FormField {
                            id: "FORMITM_7".into(),
                            label: "付款日期".into(),
                            field_type: "date".into(),
                            required: true,
                        }],
                        quick_actions: vec![],
                    },
                ],
            )?;
            Ok(())
        })
        .unwrap();
}

fn p(e: &Engine, user: &str) -> Principal {
    e.principal(user).unwrap()
}

fn value(id: &str, v: &str, ty: Option<&str>) -> FieldValue {
    FieldValue {
        id: id.into(),
        value: json!(v),
        field_type: ty.map(String::from),
    }
}

#[test]
fn a_ticket_walks_its_steps_with_a_fresh_data_id_at_each() {
    let e = engine();
    let flow = e
        .db()
        .read(|c| flows::flow_by_api_path(c, "payment"))
        .unwrap()
        .unwrap();
    let (boss, wang, lin, tanaka) = (p(&e, "boss"), p(&e, "wang"), p(&e, "lin"), p(&e, "tanaka"));
    let ticket = e
        .db()
        .write(|tx| {
            flows::open_ticket(
                tx,
                &boss,
                &flow,
                &[value("FORMITM_1", "出差費用", Some("h_title"))],
            )
        })
        .unwrap();
    assert_eq!(
        (ticket.data_no, ticket.title.as_deref(), ticket.position),
        (1, Some("出差費用"), Some(1))
    );
    let first = e.db().read(|c| flows::data_ids(c, &flow, 1)).unwrap();
    assert_eq!(first.len(), 1);
    let (data_id, stop) = first[0].clone();
    assert_eq!(stop, "審核");
    let task = e.db().read(|c| tasks::require(c, data_id)).unwrap();
    assert_eq!(
        (task.title.as_str(), task.responsible.user.as_deref()),
        ("出差費用", Some("wang"))
    );

    let refused = |r: Result<i64, EngineError>| r.unwrap_err().to_string();
    assert!(
        refused(
            e.db()
                .write(|tx| flows::push(tx, &wang, &flow, data_id, &[]))
        )
        .contains("缺少必填欄位")
    );
    assert!(matches!(
        e.db().write(|tx| flows::push(
            tx,
            &tanaka,
            &flow,
            data_id,
            &[value("FORMITM_5", "x", None)]
        )),
        Err(EngineError::Forbidden(_))
    ));
    // The vendor's sample sends items without a type: that must work.
    assert_eq!(
        e.db()
            .write(|tx| flows::push(
                tx,
                &wang,
                &flow,
                data_id,
                &[value("formitm_5", "審核通過", None)]
            ))
            .unwrap(),
        1
    );
    let second = e.db().read(|c| flows::data_ids(c, &flow, 1)).unwrap();
    assert_ne!(second[0].0, data_id, "a new data_id for the next step");
    assert_eq!(second[0].1, "財務");
    let stale = refused(
        e.db()
            .write(|tx| flows::push(tx, &wang, &flow, data_id, &[value("FORMITM_5", "x", None)])),
    );
    assert!(
        stale.contains(&format!(
            "Omdata_{} matching query does not exist.",
            flow.hex()
        )),
        "{stale}"
    );
    assert_eq!(
        e.db().read(|c| tasks::require(c, data_id)).unwrap().state,
        TaskState::Closed
    );
    // The group step: any member pushes; the last push closes the ticket.
    e.db()
        .write(|tx| {
            flows::push(
                tx,
                &lin,
                &flow,
                second[0].0,
                &[value("FORMITM_7", "2026-12-01", Some("date"))],
            )
        })
        .unwrap();
    let t = e
        .db()
        .read(|c| flows::ticket_by_no(c, FLOW, 1))
        .unwrap()
        .unwrap();
    assert!(t.closed && t.position.is_none());
    assert_eq!(t.form_values["FORMITM_5"], json!("審核通過"));
    assert!(
        e.db()
            .read(|c| flows::data_ids(c, &flow, 1))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn quick_actions_fill_their_values_and_skip_the_required_check() {
    let e = engine();
    let flow = e
        .db()
        .read(|c| flows::flow_by_api_path(c, "payment"))
        .unwrap()
        .unwrap();
    let (boss, wang) = (p(&e, "boss"), p(&e, "wang"));
    e.db()
        .write(|tx| flows::open_ticket(tx, &boss, &flow, &[]))
        .unwrap();
    let data_id = e.db().read(|c| flows::data_ids(c, &flow, 1)).unwrap()[0].0;
    assert!(
        e.db()
            .write(|tx| flows::quick_action(tx, &wang, &flow, data_id, "action2"))
            .is_err()
    );
    e.db()
        .write(|tx| flows::quick_action(tx, &wang, &flow, data_id, "action1"))
        .unwrap();
    let t = e
        .db()
        .read(|c| flows::ticket_by_no(c, FLOW, 1))
        .unwrap()
        .unwrap();
    assert_eq!(
        (t.position, &t.form_values["FORMITM_5"]),
        (Some(2), &json!("核准"))
    );
}

#[test]
fn the_work_log_belongs_to_the_ticket_and_api_switch_is_honoured() {
    let e = engine();
    let flow = e
        .db()
        .read(|c| flows::flow_by_api_path(c, "payment"))
        .unwrap()
        .unwrap();
    let (boss, wang) = (p(&e, "boss"), p(&e, "wang"));
    e.db()
        .write(|tx| flows::open_ticket(tx, &boss, &flow, &[]))
        .unwrap();
    let data_id = e.db().read(|c| flows::data_ids(c, &flow, 1)).unwrap()[0].0;
    e.db()
        .write(|tx| flows::worklog_add(tx, &wang, &flow, 1, Some(data_id), "發票已附上"))
        .unwrap();
    e.db()
        .write(|tx| flows::push(tx, &wang, &flow, data_id, &[value("FORMITM_5", "ok", None)]))
        .unwrap();
    let lin = p(&e, "lin");
    e.db()
        .write(|tx| flows::worklog_add(tx, &lin, &flow, 1, None, "已付款"))
        .unwrap();
    let log: Vec<String> = e
        .db()
        .read(|c| flows::worklog(c, &flow, 1))
        .unwrap()
        .into_iter()
        .map(|w| w.content)
        .collect();
    assert_eq!(log, vec!["發票已附上", "已付款"]);
    e.db()
        .write(|tx| {
            tx.execute("UPDATE flows SET api_enabled = 0", [])?;
            Ok(())
        })
        .unwrap();
    let flow = e
        .db()
        .read(|c| flows::flow_by_api_path(c, "payment"))
        .unwrap()
        .unwrap();
    let err = e
        .db()
        .write(|tx| flows::open_ticket(tx, &boss, &flow, &[]))
        .unwrap_err();
    assert!(err.to_string().contains("該流程未啟用API呼叫"), "{err}");
}

#[test]
fn closing_a_step_task_through_the_workflow_moves_the_ticket_on() {
    let e = engine();
    let flow = e
        .db()
        .read(|c| flows::flow_by_api_path(c, "payment"))
        .unwrap()
        .unwrap();
    let (boss, wang) = (p(&e, "boss"), p(&e, "wang"));
    e.db()
        .write(|tx| flows::open_ticket(tx, &boss, &flow, &[]))
        .unwrap();
    let data_id = e.db().read(|c| flows::data_ids(c, &flow, 1)).unwrap()[0].0;
    let close = |e: &Engine| {
        let params = Default::default();
        e.db().write(|tx| {
            workflow::apply(
                tx,
                &wang,
                data_id,
                Some("task-transition-open-tested-and-closed"),
                &params,
            )
        })
    };
    let err = close(&e).unwrap_err();
    assert!(err.to_string().contains("push the form instead"), "{err}");
    assert_eq!(
        e.db().read(|c| tasks::require(c, data_id)).unwrap().state,
        TaskState::Open,
        "nothing applied"
    );
    e.db()
        .write(|tx| {
            tx.execute(
                "UPDATE tickets SET form_values = '{\"FORMITM_5\":\"ok\"}'",
                [],
            )?;
            Ok(())
        })
        .unwrap();
    close(&e).unwrap();
    assert_eq!(
        e.db()
            .read(|c| flows::ticket_by_no(c, FLOW, 1))
            .unwrap()
            .unwrap()
            .position,
        Some(2)
    );
}

fn lane_tasks(e: &Engine, n: usize) -> Vec<i64> {
    let root = p(e, "root");
    let dossier = e
        .db()
        .write(|tx| Ok(dossiers::add(tx, "案件", "cases/c1", None)?.id))
        .unwrap();
    (0..n)
        .map(|i| {
            e.db()
                .write(|tx| {
                    create_task(
                        tx,
                        &root,
                        &CreateTask {
                            title: format!("作業 {i}"),
                            responsible: if i % 5 == 4 {
                                "Lane2".into()
                            } else {
                                "Lane1".into()
                            },
                            priority: (i % 3) as i64,
                            dossier_id: Some(dossier),
                            ..CreateTask::default()
                        },
                    )
                })
                .unwrap()
                .id
        })
        .collect()
}

#[test]
fn allocation_takes_the_first_ready_item_by_filter_and_sort_and_starts_it() {
    let e = engine();
    let ids = lane_tasks(&e, 10);
    let tanaka = p(&e, "tanaka");
    let item = e
        .db()
        .write(|tx| {
            workitems::allocate(
                tx,
                &tanaka,
                "tanaka",
                Some("Participant = 'Lane1'"),
                Some("Priority DESC"),
                10,
            )
        })
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            item.participant.as_str(),
            item.state_code.as_str(),
            item.priority
        ),
        ("tanaka", "f", 2)
    );
    assert_eq!(item.id, ids[2], "the first item of the highest priority");
    assert!(item.start_date.is_some());
    let task = e.db().read(|c| tasks::require(c, item.id)).unwrap();
    assert_eq!(
        (task.state, task.responsible.group.as_deref()),
        (TaskState::InProgress, Some("Lane1"))
    );
    // Lane2 items are not tanaka's to take; nothing matching answers None.
    let none = e
        .db()
        .write(|tx| {
            workitems::allocate(
                tx,
                &tanaka,
                "tanaka",
                Some("Participant = 'Lane2'"),
                None,
                -1,
            )
        })
        .unwrap();
    assert!(none.is_none());
    for (filter, sort, count) in [
        (Some(""), None, 1),
        (Some("Nope = 1"), None, 1),
        (None, Some("ID DESC;"), 1),
        (None, None, -2),
        (None, None, 0),
    ] {
        assert!(
            e.db()
                .write(|tx| workitems::allocate(tx, &tanaka, "tanaka", filter, sort, count))
                .is_err(),
            "{filter:?} {sort:?} {count}"
        );
    }
    assert!(matches!(
        e.db()
            .write(|tx| workitems::allocate(tx, &tanaka, "suzuki", None, None, 1)),
        Err(EngineError::Forbidden(_))
    ));
}

#[test]
fn free_complete_and_reassign_are_idempotent() {
    let e = engine();
    lane_tasks(&e, 3);
    let tanaka = p(&e, "tanaka");
    let item = e
        .db()
        .write(|tx| workitems::allocate(tx, &tanaka, "tanaka", None, None, 1))
        .unwrap()
        .unwrap();
    let (pi, wi) = (item.process_instance_id, item.id);
    let freed = e
        .db()
        .write(|tx| workitems::free(tx, &tanaka, pi, wi))
        .unwrap();
    assert_eq!(
        (freed.state_code.as_str(), freed.participant.as_str()),
        ("j", "Lane1")
    );
    let again = e
        .db()
        .write(|tx| workitems::free(tx, &tanaka, pi, wi))
        .unwrap();
    assert_eq!(again, freed, "already free: nothing happens");
    let reassigned = e
        .db()
        .write(|tx| workitems::reassign(tx, &tanaka, pi, wi, Some("Lane1"), Some("suzuki")))
        .unwrap();
    assert_eq!(
        (
            reassigned.participant.as_str(),
            reassigned.state_code.as_str()
        ),
        ("suzuki", "f")
    );
    let suzuki = p(&e, "suzuki");
    assert!(
        e.db()
            .write(|tx| workitems::reassign(tx, &suzuki, pi, wi, Some("tanaka"), Some("sato")))
            .is_err(),
        "wrong Source"
    );
    e.db()
        .write(|tx| workitems::reassign(tx, &suzuki, pi, wi, None, Some("suzuki")))
        .unwrap();
    assert!(
        e.db()
            .write(|tx| workitems::complete(tx, &tanaka, pi, wi, &[]))
            .is_err(),
        "not tanaka's"
    );
    let done = e
        .db()
        .write(|tx| workitems::complete(tx, &suzuki, pi, wi, &[("note".into(), "ok".into())]))
        .unwrap();
    assert_eq!(done.state_code, "o");
    assert!(done.closed_date.is_some());
    let again = e
        .db()
        .write(|tx| workitems::complete(tx, &suzuki, pi, wi, &[]))
        .unwrap();
    assert_eq!(again, done, "already complete: nothing happens");
    let history = e.db().read(|c| responses::for_task(c, wi)).unwrap();
    assert_eq!(
        history
            .iter()
            .filter(|r| r.transition == "complete")
            .count(),
        1
    );
}

#[test]
fn users_see_their_own_and_their_lanes_work_items_only() {
    let e = engine();
    lane_tasks(&e, 10);
    let count = |user: &str| {
        let who = p(&e, user);
        e.db()
            .read(|c| workitems::list(c, &who, None, None, 0, -1))
            .unwrap()
            .len()
    };
    assert_eq!(
        (count("tanaka"), count("sato"), count("wang"), count("root")),
        (8, 2, 0, 10)
    );
    let (tanaka, wang) = (p(&e, "tanaka"), p(&e, "wang"));
    let page = e
        .db()
        .read(|c| {
            workitems::list(
                c,
                &tanaka,
                Some("Priority >= 1"),
                Some("Priority DESC"),
                1,
                3,
            )
        })
        .unwrap();
    assert_eq!(page.len(), 3);
    assert!(page.windows(2).all(|w| w[0].priority >= w[1].priority));
    assert!(
        e.db()
            .read(|c| workitems::get(c, &wang, page[0].process_instance_id, page[0].id))
            .is_err()
    );
}

#[test]
fn concurrent_allocations_never_hand_out_the_same_item() {
    let dir = tempfile::tempdir().unwrap();
    let e = Arc::new(Engine::open(dir.path()).unwrap());
    setup(&e);
    e.db()
        .write(|tx| {
            for i in 0..50 {
                users::add_user(tx, &format!("worker{i}"), "w", None, false)?;
                users::add_member(tx, &format!("worker{i}"), "Lane1")?;
            }
            Ok(())
        })
        .unwrap();
    lane_tasks(&e, 75); // 60 in Lane1
    let handles: Vec<_> = (0..50)
        .map(|i| {
            let e = Arc::clone(&e);
            std::thread::spawn(move || {
                let me = e.principal(&format!("worker{i}")).unwrap();
                e.db()
                    .write(|tx| {
                        workitems::allocate(
                            tx,
                            &me,
                            &me.user,
                            Some("Participant = 'Lane1'"),
                            None,
                            10,
                        )
                    })
                    .unwrap()
            })
        })
        .collect();
    let mut got: Vec<i64> = handles
        .into_iter()
        .map(|h| h.join().unwrap().unwrap().id)
        .collect();
    got.sort();
    let before = got.len();
    got.dedup();
    assert_eq!(
        (before, got.len()),
        (50, 50),
        "every worker got a distinct item"
    );
}

//! Every op kind each dialect supports, queued on a device and replayed by
//! the sync engine through that dialect's client against `tasklane serve`
//! on 127.0.0.1 — and each effect checked in the engine's own database,
//! not only in what the client reports.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on purpose

mod support;

use rusqlite::types::FromSql;
use serde_json::{Value, json};
use support::{Device, client_with, comment, comments_with, demo_engine, fetch_all};
use tasklane_core::model::{AccountKind, ParamKind};
use tasklane_core::outbox::{FormValue, NewTask, OpRequest, OpState};
use tasklane_core::remote::Remote;
use tasklane_core::replica::tasks;
use tasklane_core::sync::notify::Recording;
use tasklane_engine::server::{Background, ServerConfig};
use tasklane_engine::{Engine, demo};

fn client(kind: AccountKind, url: &str, user: &str, password: &str) -> Box<dyn Remote> {
    client_with(kind, url, user, password, json!({}))
}

/// One value from the engine's database.
fn engine_value<T: FromSql>(engine: &Engine, sql: &str, params: &[&dyn rusqlite::ToSql]) -> T {
    engine
        .db()
        .read(|c| Ok(c.query_row(sql, params, |r| r.get(0))?))
        .unwrap()
}

/// The engine's task id in a GEVER (`fd:1234`) or Hitachi (`5004:1234`) key.
fn engine_id(key: &str) -> i64 {
    key.rsplit(':').next().unwrap().parse().unwrap()
}

fn key_of(device: &Device, task: i64) -> String {
    device
        .tasks()
        .into_iter()
        .find(|(id, _, _)| *id == task)
        .unwrap()
        .1
}

/// Tasks of the device offering `action`, by id.
fn offering(device: &Device, action: &str) -> Vec<i64> {
    device
        .tasks()
        .into_iter()
        .filter(|(id, _, _)| {
            let (actions, _) = tasks::offered_actions(device.replica.conn(), *id).unwrap();
            actions.iter().any(|a| a.id == action)
        })
        .map(|(id, _, _)| id)
        .collect()
}

fn assert_done(device: &Device, ops: &[&str]) {
    for op in ops {
        let (state, reason) = device.op_state(op);
        assert_eq!(state, OpState::Done, "{op}: {reason:?}");
    }
}

fn transition(id: &str, params: Value) -> OpRequest {
    OpRequest::Transition {
        transition: id.into(),
        text: Some("über tasklane".into()),
        params: params.as_object().cloned().unwrap_or_default(),
    }
}

fn new_task(title: &str) -> NewTask {
    NewTask {
        title: title.into(),
        ..NewTask::default()
    }
}

#[test]
fn gever_runs_every_op_kind_against_tasklane_serve() {
    let engine = demo_engine();
    let server = Background::start(engine.clone(), ServerConfig::default()).unwrap();
    let url = format!("{}/gever", server.url());
    let hans = client(AccountKind::Gever, &url, "hans.muster", demo::PASSWORD);
    let heard = Recording::default();
    let mut device = Device::new(AccountKind::Gever, &url, "hans.muster");
    device.sync(hans.as_ref(), &heard);
    fetch_all(&mut device, hans.as_ref());

    // A transition with a parameter, a comment, a task and a subtask at a
    // position in a sequential process.
    let postponed = offering(&device, "task-transition-modify-deadline")[0];
    let deadline = device.queue(
        Some(postponed),
        transition(
            "task-transition-modify-deadline",
            json!({"new_deadline": "2027-01-15"}),
        ),
    );
    let commented = device.tasks()[0].0;
    let added = device.queue(Some(commented), comment("ops: erster Entwurf"));
    let created = device.queue(
        None,
        OpRequest::CreateTask(NewTask {
            kind: Some("direct-execution".into()),
            assignee: Some("fd:hans.muster".into()),
            process: Some("ordnungssystem/bau/dossier-1".into()),
            ..new_task("ops: neue Aufgabe")
        }),
    );
    let (main, main_key, _) = device
        .tasks()
        .into_iter()
        .find(|(_, _, title)| title.starts_with("Sequenz:"))
        .expect("the demo's sequential process");
    let step = device.queue(
        None,
        OpRequest::CreateTask(NewTask {
            kind: Some("direct-execution".into()),
            assignee: Some("fd:hans.muster".into()),
            parent_key: Some(main_key.clone()),
            position: Some(0),
            ..new_task("ops: Schritt 0")
        }),
    );
    device.sync(hans.as_ref(), &heard);
    assert_done(&device, &[&deadline, &added, &created, &step]);
    let postponed_id = engine_id(&key_of(&device, postponed));
    assert_eq!(
        engine_value::<String>(
            &engine,
            "SELECT deadline FROM tasks WHERE id = ?1",
            &[&postponed_id]
        ),
        "2027-01-15"
    );
    assert_eq!(comments_with(&engine, "ops: erster Entwurf"), 1);
    assert_eq!(
        engine_value::<i64>(
            &engine,
            "SELECT count(*) FROM tasks WHERE title = 'ops: neue Aufgabe' AND responsible_user = 'hans.muster'",
            &[]
        ),
        1
    );
    let (parent, position): (i64, i64) = engine
        .db()
        .read(|c| {
            Ok(c.query_row(
                "SELECT parent_id, position FROM tasks WHERE title = 'ops: Schritt 0'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?)
        })
        .unwrap();
    assert_eq!(parent, engine_id(&main_key), "below task {main}");
    // GEVER's position is an index (0: first); the engine counts from 1.
    assert_eq!(position, 1, "first in the process");

    // The comment edited, then deleted, by its server id.
    let id = tasks::comments(device.replica.conn(), commented)
        .unwrap()
        .into_iter()
        .find(|c| c.text == "ops: erster Entwurf")
        .expect("the comment, refreshed with its server id")
        .remote_id;
    let edited = device.queue(
        Some(commented),
        OpRequest::CommentEdit {
            comment: id.clone(),
            text: "ops: zweiter Entwurf".into(),
        },
    );
    device.sync(hans.as_ref(), &heard);
    assert_done(&device, &[&edited]);
    assert_eq!(comments_with(&engine, "ops: erster Entwurf"), 0);
    assert_eq!(comments_with(&engine, "ops: zweiter Entwurf"), 1);
    let deleted = device.queue(Some(commented), OpRequest::CommentDelete { comment: id });
    device.sync(hans.as_ref(), &heard);
    assert_done(&device, &[&deleted]);
    assert_eq!(comments_with(&engine, "ops: zweiter Entwurf"), 0);

    // An administrator hands hans's task on with @transfer-task.
    let admin = client(AccountKind::Gever, &url, "admin", demo::ADMIN_PASSWORD);
    let mut desk = Device::new(AccountKind::Gever, &url, "admin");
    let key = key_of(&device, commented);
    let record = support::runtime()
        .block_on(admin.fetch(&key))
        .unwrap()
        .expect("an administrator sees every task");
    assert!(
        record
            .actions
            .iter()
            .flatten()
            .any(|a| a.id == "@transfer-task")
    );
    let account = desk.account.id;
    let task = desk
        .replica
        .write(|tx| {
            tasks::upsert(tx, account, &[record], tasklane_core::time::now())?;
            Ok(tasks::id_by_key(tx, account, &key)?.unwrap())
        })
        .unwrap();
    let transfer = desk.queue(
        Some(task),
        transition(
            "@transfer-task",
            json!({"old_userid": "hans.muster", "new_userid": "anna.keller"}),
        ),
    );
    desk.sync(admin.as_ref(), &heard);
    assert_done(&desk, &[&transfer]);
    assert_eq!(
        engine_value::<String>(
            &engine,
            "SELECT responsible_user FROM tasks WHERE id = ?1",
            &[&engine_id(&key)]
        ),
        "anna.keller"
    );
}

/// A value a form field of this kind takes.
fn value_for(kind: &ParamKind) -> Value {
    match kind {
        ParamKind::Number => json!("1200"),
        ParamKind::Date => json!("2026-12-01"),
        _ => json!("ops 測試"),
    }
}

/// The ticket behind an OMFLOW key (`flowhex:data_no:stop`): its step
/// position and form values.
fn ticket(engine: &Engine, key: &str) -> (Option<i64>, Value) {
    let data_no: i64 = key.split(':').nth(1).unwrap().parse().unwrap();
    let flow_hex = key.split(':').next().unwrap().to_string();
    engine
        .db()
        .read(|c| {
            Ok(c.query_row(
                "SELECT position, form_values FROM tickets
                 WHERE data_no = ?1 AND replace(flow_uuid, '-', '') = ?2",
                rusqlite::params![data_no, flow_hex],
                |r| {
                    let values: String = r.get(1)?;
                    Ok((r.get(0)?, serde_json::from_str(&values).unwrap()))
                },
            )?)
        })
        .unwrap()
}

#[test]
fn omflow_runs_every_op_kind_against_tasklane_serve() {
    let engine = demo_engine();
    let server = Background::start(engine.clone(), ServerConfig::default()).unwrap();
    let url = server.url();
    // The payment flow's api_path is not OMFLOW's default (the uuid without
    // dashes), so the account maps it, as `--api-path` does.
    let payment_hex = demo::PAYMENT_FLOW.replace('-', "");
    let wang = client_with(
        AccountKind::Omflow,
        &url,
        "wang.xiaoming",
        demo::PASSWORD,
        json!({"api_paths": {payment_hex: demo::PAYMENT_API_PATH}}),
    );
    let heard = Recording::default();
    let mut device = Device::new(AccountKind::Omflow, &url, "wang.xiaoming");
    device.sync(wang.as_ref(), &heard);
    fetch_all(&mut device, wang.as_ref());

    // A push with every field the stop asks for, a quick action on another
    // ticket, a work-log comment on a third, and a new ticket.
    let pushed = offering(&device, "push")[0];
    let (actions, _) = tasks::offered_actions(device.replica.conn(), pushed).unwrap();
    let push = actions.iter().find(|a| a.id == "push").unwrap();
    let fields: Vec<FormValue> = push
        .params
        .iter()
        .map(|p| FormValue {
            id: p.name.clone(),
            value: value_for(&p.kind),
            field_type: p.wire_type.clone(),
        })
        .collect();
    assert!(!fields.is_empty(), "{push:?}");
    let quick = *offering(&device, "action1")
        .iter()
        .find(|id| **id != pushed)
        .expect("another ticket with a quick action");
    let logged = device
        .tasks()
        .into_iter()
        .map(|(id, _, _)| id)
        .find(|id| *id != pushed && *id != quick)
        .unwrap();
    let (pushed_key, quick_key) = (key_of(&device, pushed), key_of(&device, quick));
    let (pushed_at, _) = ticket(&engine, &pushed_key);
    let (quick_at, _) = ticket(&engine, &quick_key);

    let push_op = device.queue(
        Some(pushed),
        OpRequest::FormPush {
            fields: fields.clone(),
        },
    );
    let quick_op = device.queue(
        Some(quick),
        OpRequest::QuickAction {
            action: "action1".into(),
        },
    );
    let log_op = device.queue(Some(logged), comment("ops: 已通知廠商"));
    let create_op = device.queue(
        None,
        OpRequest::CreateTask(NewTask {
            process: Some(demo::PAYMENT_FLOW.into()),
            fields: vec![
                FormValue {
                    id: "FORMITM_1".into(),
                    value: json!("ops: 出差請款"),
                    field_type: Some("h_title".into()),
                },
                FormValue {
                    id: "FORMITM_2".into(),
                    value: json!("31415"),
                    field_type: Some("number".into()),
                },
            ],
            ..new_task("ops: 出差請款")
        }),
    );
    device.sync(wang.as_ref(), &heard);
    assert_done(&device, &[&push_op, &quick_op, &log_op, &create_op]);

    let (now_at, values) = ticket(&engine, &pushed_key);
    assert_ne!(now_at, pushed_at, "the push moved the ticket on");
    for field in &fields {
        assert_eq!(values[&field.id], field.value, "{values}");
    }
    let (now_at, values) = ticket(&engine, &quick_key);
    assert_ne!(now_at, quick_at, "the quick action moved the ticket on");
    assert_eq!(values["FORMITM_5"], json!("核准"), "{values}");
    assert_eq!(comments_with(&engine, "ops: 已通知廠商"), 1);
    assert_eq!(
        engine_value::<i64>(
            &engine,
            "SELECT count(*) FROM tickets WHERE json_extract(form_values, '$.FORMITM_2') IN (31415, '31415')
             AND json_extract(form_values, '$.FORMITM_1') = 'ops: 出差請款'",
            &[]
        ),
        1
    );
}

#[test]
fn hitachi_runs_every_op_kind_against_tasklane_serve() {
    let engine = demo_engine();
    let server = Background::start(engine.clone(), ServerConfig::default()).unwrap();
    let url = server.url();
    // The lane is listed too, so its ready items can be taken over.
    let tanaka = client_with(
        AccountKind::Hitachi,
        &url,
        "tanaka",
        demo::PASSWORD,
        json!({"lane_filter": "Participant = 'Lane1'"}),
    );
    let heard = Recording::default();
    let mut device = Device::new(AccountKind::Hitachi, &url, "tanaka");
    device.sync(tanaka.as_ref(), &heard);
    fetch_all(&mut device, tanaka.as_ref());
    let mine = |engine: &Engine| -> i64 {
        engine_value(
            engine,
            "SELECT count(*) FROM tasks WHERE responsible_user = 'tanaka' AND closed_at IS NULL",
            &[],
        )
    };
    let before = mine(&engine);

    // Two claims from Lane1, and the item tanaka already works on completed
    // with process data.
    let claim = || OpRequest::Allocate {
        participant: None,
        filter: Some("Participant = 'Lane1'".into()),
        sort: Some("Priority DESC".into()),
        fetch_count: -1,
    };
    let working = offering(&device, "complete")[0];
    let working_key = key_of(&device, working);
    let claims = [device.queue(None, claim()), device.queue(None, claim())];
    let complete = device.queue(
        Some(working),
        transition("complete", json!({"Result": "approved"})),
    );
    device.sync(tanaka.as_ref(), &heard);
    assert_done(&device, &[&claims[0], &claims[1], &complete]);
    assert_eq!(mine(&engine), before - 1 + 2);
    let id = engine_id(&working_key);
    assert_eq!(
        engine_value::<i64>(
            &engine,
            "SELECT count(*) FROM tasks WHERE id = ?1 AND closed_at IS NOT NULL",
            &[&id]
        ),
        1
    );
    assert_eq!(
        engine_value::<i64>(
            &engine,
            "SELECT count(*) FROM responses
             WHERE task_id = ?1 AND json_extract(additional_data, '$.process_data.Result') = 'approved'",
            &[&id]
        ),
        1,
        "the process data reached the server"
    );

    // One claimed item given back to its lane, the other handed to suzuki,
    // and a ready one taken over directly.
    let performing = offering(&device, "free");
    assert_eq!(performing.len(), 2, "the two claimed items");
    let ready = offering(&device, "reassign-and-perform")[0];
    let keys: Vec<String> = [performing[0], performing[1], ready]
        .iter()
        .map(|t| key_of(&device, *t))
        .collect();
    let free = device.queue(Some(performing[0]), transition("free", json!({})));
    let reassign = device.queue(
        Some(performing[1]),
        transition("reassign", json!({"Target": "suzuki"})),
    );
    let take = device.queue(Some(ready), transition("reassign-and-perform", json!({})));
    device.sync(tanaka.as_ref(), &heard);
    assert_done(&device, &[&free, &reassign, &take]);
    let holder = |key: &str| -> (Option<String>, Option<String>) {
        engine
            .db()
            .read(|c| {
                Ok(c.query_row(
                    "SELECT responsible_user, responsible_group FROM tasks WHERE id = ?1",
                    [engine_id(key)],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?)
            })
            .unwrap()
    };
    assert_eq!(holder(&keys[0]), (None, Some("Lane1".into())), "freed");
    assert_eq!(holder(&keys[1]).0.as_deref(), Some("suzuki"), "reassigned");
    assert_eq!(holder(&keys[2]).0.as_deref(), Some("tanaka"), "taken");
}

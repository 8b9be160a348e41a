//! The embedded engine as an in-process `Remote`: listing, fetching, every
//! op kind, exactly-once execution by op id, and refusals classified.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::sync::Arc;

use serde_json::{Map, Value, json};
use tasklane_core::model::State;
use tasklane_core::outbox::{FormValue, NewTask, Op, OpRequest, OpState};
use tasklane_core::remote::{Applied, ListMode, Remote, RemoteErrorKind};
use tasklane_engine::{Engine, LocalRemote, demo};
use uuid::Uuid;

fn engine() -> Arc<Engine> {
    let engine = Engine::open_in_memory().unwrap();
    demo::load(&engine).unwrap();
    Arc::new(engine)
}

fn op(task: Option<i64>, request: OpRequest) -> Op {
    Op {
        seq: 1,
        op_id: Uuid::new_v4(),
        account_id: 1,
        task_id: task,
        kind: request.kind(),
        request,
        effect: None,
        base: None,
        state: OpState::Sending,
        attempts: 0,
        last_error: None,
        error_kind: None,
        not_before: None,
        result: None,
        created_at: None,
        updated_at: None,
    }
}

fn sql_count(engine: &Engine, sql: &str) -> i64 {
    engine
        .db()
        .read(|c| Ok(c.query_row(sql, [], |r| r.get(0))?))
        .unwrap()
}

/// Keys of every task `remote` lists, paging to the end; and the watermark.
async fn list_all(remote: &LocalRemote, mode: &ListMode) -> (Vec<String>, String) {
    let mut keys = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = remote.list_page(mode, cursor.as_deref()).await.unwrap();
        keys.extend(page.tasks.iter().map(|t| t.key.clone()));
        match page.next {
            Some(next) => cursor = Some(next),
            None => return (keys, page.watermark.unwrap()),
        }
    }
}

async fn task_titled(remote: &LocalRemote, title: &str) -> tasklane_core::model::TaskRecord {
    let (keys, _) = list_all(remote, &ListMode::Full).await;
    for key in keys {
        let t = remote.fetch(&key).await.unwrap().unwrap();
        if t.title == title {
            return t;
        }
    }
    panic!("no task titled {title:?}");
}

#[tokio::test]
async fn a_full_listing_is_the_users_view_and_an_incremental_one_only_what_changed() {
    let engine = engine();
    let me = LocalRemote::new(engine.clone(), "me");
    let (keys, watermark) = list_all(&me, &ListMode::Full).await;
    assert_eq!(keys.len(), 5, "me's personal list: {keys:?}");
    let first = me.fetch(&keys[0]).await.unwrap().unwrap();
    assert_eq!(first.state, State::Open);
    assert_eq!(first.assignee.as_deref(), Some("me"));
    assert!(
        first
            .actions
            .as_ref()
            .unwrap()
            .iter()
            .any(|a| a.id == "task-transition-open-in-progress"),
        "{:?}",
        first.actions
    );

    // Everything so far is older than the watermark; one change is listed.
    engine
        .db()
        .write(|tx| {
            tx.execute("UPDATE tasks SET modified = '2026-01-01T00:00:00Z'", [])?;
            Ok(())
        })
        .unwrap();
    let created = me
        .execute(
            &op(
                None,
                OpRequest::CreateTask(NewTask {
                    title: "Zahnarzttermin vereinbaren".into(),
                    description: String::new(),
                    kind: None,
                    assignee: None,
                    group: None,
                    issuer: None,
                    deadline: Some("2026-12-05".parse().unwrap()),
                    parent_key: None,
                    position: None,
                    process: None,
                    fields: Vec::new(),
                }),
            ),
            None,
        )
        .await
        .unwrap();
    let new_key = created.key.unwrap();
    let (changed, _) = list_all(&me, &ListMode::Since(watermark)).await;
    assert_eq!(changed, vec![new_key.clone()]);
    let t = me.fetch(&new_key).await.unwrap().unwrap();
    assert_eq!(t.deadline.unwrap().to_text(), "2026-12-05");
    assert_eq!(t.issuer.as_deref(), Some("me"));
    assert!(t.comments.unwrap().is_empty());
}

#[tokio::test]
async fn listings_page_through_many_tasks_without_gaps_or_repeats() {
    let engine = engine();
    let me = LocalRemote::new(engine.clone(), "me");
    for i in 0..450 {
        me.execute(
            &op(
                None,
                OpRequest::CreateTask(NewTask {
                    title: format!("Task {i}"),
                    description: String::new(),
                    kind: None,
                    assignee: None,
                    group: None,
                    issuer: None,
                    deadline: None,
                    parent_key: None,
                    position: None,
                    process: None,
                    fields: Vec::new(),
                }),
            ),
            None,
        )
        .await
        .unwrap();
    }
    let (keys, _) = list_all(&me, &ListMode::Full).await;
    let mut unique = keys.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(keys.len(), 455);
    assert_eq!(unique.len(), 455);
}

#[tokio::test]
async fn a_transition_runs_once_however_often_its_op_is_executed() {
    let engine = engine();
    let me = LocalRemote::new(engine.clone(), "me");
    let task = task_titled(&me, "Buy train ticket to Bern").await;
    let accept = op(
        Some(1),
        OpRequest::Transition {
            transition: "task-transition-open-in-progress".into(),
            text: Some("Mache ich heute.".into()),
            params: Map::new(),
        },
    );
    assert_eq!(me.applied(&accept, Some(&task)).await.unwrap(), Applied::No);
    let first = me.execute(&accept, Some(&task)).await.unwrap();
    let again = me.execute(&accept, Some(&task)).await.unwrap();
    assert_eq!(first, again, "a repeat answers the first outcome");
    assert!(matches!(
        me.applied(&accept, Some(&task)).await.unwrap(),
        Applied::Yes(_)
    ));
    let after = me.fetch(&task.key).await.unwrap().unwrap();
    assert_eq!(after.state, State::InProgress);
    let accepted: Vec<_> = after
        .history
        .unwrap()
        .into_iter()
        .filter(|h| h.action == "task-transition-open-in-progress")
        .collect();
    assert_eq!(accepted.len(), 1, "applied exactly once");
    assert_eq!(accepted[0].text, "Mache ich heute.");

    // The same op id for another request is refused, not answered.
    let mut reused = op(
        Some(1),
        OpRequest::CommentAdd {
            text: "other".into(),
        },
    );
    reused.op_id = accept.op_id;
    let err = me.execute(&reused, Some(&task)).await.unwrap_err();
    assert_eq!(err.kind, RemoteErrorKind::Permanent);
    assert!(err.message.contains("different request"), "{err}");
}

#[tokio::test]
async fn comments_are_added_edited_and_deleted_by_their_ids() {
    let engine = engine();
    let me = LocalRemote::new(engine.clone(), "me");
    let task = task_titled(&me, "會議紀錄整理").await;
    let added = me
        .execute(
            &op(
                Some(1),
                OpRequest::CommentAdd {
                    text: "草稿已完成".into(),
                },
            ),
            Some(&task),
        )
        .await
        .unwrap();
    let id = added.result["comment"].as_str().unwrap().to_string();
    me.execute(
        &op(
            Some(1),
            OpRequest::CommentEdit {
                comment: id.clone(),
                text: "草稿已完成，請過目".into(),
            },
        ),
        Some(&task),
    )
    .await
    .unwrap();
    let t = me.fetch(&task.key).await.unwrap().unwrap();
    let comments = t.comments.unwrap();
    assert_eq!(comments.len(), 1);
    assert_eq!(comments[0].remote_id, id);
    assert_eq!(comments[0].text, "草稿已完成，請過目");
    assert!(comments[0].modified.is_some());

    me.execute(
        &op(
            Some(1),
            OpRequest::CommentDelete {
                comment: id.clone(),
            },
        ),
        Some(&task),
    )
    .await
    .unwrap();
    let t = me.fetch(&task.key).await.unwrap().unwrap();
    assert!(t.comments.unwrap().is_empty());
    assert!(
        t.history
            .unwrap()
            .iter()
            .any(|h| h.action == "comment_removed")
    );
    // Deleting it again: the comment is gone, a permanent refusal.
    let err = me
        .execute(
            &op(Some(1), OpRequest::CommentDelete { comment: id }),
            Some(&task),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind, RemoteErrorKind::Permanent);
}

#[tokio::test]
async fn a_flow_step_is_pushed_with_its_form_or_a_quick_action() {
    let engine = engine();
    let wang = LocalRemote::new(engine.clone(), "wang.xiaoming");
    let (keys, _) = list_all(&wang, &ListMode::Full).await;
    let mut steps = Vec::new();
    for key in keys {
        let t = wang.fetch(&key).await.unwrap().unwrap();
        if t.process.as_deref() == Some("請款流程") && t.state == State::Open {
            steps.push(t);
        }
    }
    assert_eq!(steps.len(), 3, "{steps:?}");
    let push = steps[0]
        .actions
        .as_ref()
        .unwrap()
        .iter()
        .find(|a| a.id == "push")
        .unwrap()
        .clone();
    let review = push.params.iter().find(|p| p.name == "FORMITM_5").unwrap();
    assert!(review.required);
    assert_eq!(review.wire_type.as_deref(), Some("text"));

    // A required field missing: refused for good, nothing changed.
    let incomplete = op(
        Some(1),
        OpRequest::FormPush {
            fields: vec![FormValue {
                id: "FORMITM_6".into(),
                value: json!("備註"),
                field_type: Some("text".into()),
            }],
        },
    );
    let err = wang
        .execute(&incomplete, Some(&steps[0]))
        .await
        .unwrap_err();
    assert_eq!(err.kind, RemoteErrorKind::Permanent);
    assert_eq!(
        wang.applied(&incomplete, Some(&steps[0])).await.unwrap(),
        Applied::No
    );
    assert_eq!(
        wang.fetch(&steps[0].key).await.unwrap().unwrap().state,
        State::Open
    );

    let complete = op(
        Some(1),
        OpRequest::FormPush {
            fields: vec![FormValue {
                id: "FORMITM_5".into(),
                value: json!("審核通過"),
                field_type: Some("text".into()),
            }],
        },
    );
    let pushed = wang.execute(&complete, Some(&steps[0])).await.unwrap();
    assert!(pushed.result["data_no"].as_i64().is_some());
    let done = wang.fetch(&steps[0].key).await.unwrap().unwrap();
    assert_ne!(done.state, State::Open);
    assert!(done.actions.unwrap().is_empty(), "nothing left to do here");

    let quick = op(
        Some(1),
        OpRequest::QuickAction {
            action: "action2".into(),
        },
    );
    wang.execute(&quick, Some(&steps[1])).await.unwrap();
    assert_ne!(
        wang.fetch(&steps[1].key).await.unwrap().unwrap().state,
        State::Open
    );
    // The ticket moved to finance: lin.meiling now holds its next step.
    let lin = LocalRemote::new(engine.clone(), "lin.meiling");
    let (lin_keys, _) = list_all(&lin, &ListMode::Full).await;
    let mut at_finance = 0;
    for key in lin_keys {
        let t = lin.fetch(&key).await.unwrap().unwrap();
        if t.kind.as_deref() == Some("財務確認") && t.state == State::Open {
            at_finance += 1;
        }
    }
    assert_eq!(at_finance, 3, "the demo's one plus the two pushed");
}

#[tokio::test]
async fn allocation_claims_distinct_items_and_then_nothing() {
    let engine = engine();
    let tanaka = LocalRemote::new(engine.clone(), "tanaka");
    let claim = || {
        op(
            None,
            OpRequest::Allocate {
                participant: None,
                filter: Some("Participant = 'Lane1'".into()),
                sort: Some("Priority DESC".into()),
                fetch_count: 10,
            },
        )
    };
    let ready = sql_count(
        &engine,
        "SELECT count(*) FROM work_items WHERE lane = 'Lane1' AND StateCode = 'j'",
    );
    assert!(ready >= 2, "{ready}");
    let mut claimed = Vec::new();
    for _ in 0..ready {
        let got = tanaka.execute(&claim(), None).await.unwrap();
        claimed.push(got.key.unwrap());
    }
    let mut unique = claimed.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), claimed.len(), "{claimed:?}");
    for key in &claimed {
        let t = tanaka.fetch(key).await.unwrap().unwrap();
        assert_eq!(t.assignee.as_deref(), Some("tanaka"));
        assert_eq!(t.state, State::InProgress);
    }
    let nothing = tanaka.execute(&claim(), None).await.unwrap();
    assert_eq!(nothing.key, None);
    assert_eq!(nothing.result, json!({"allocated": Value::Null}));
}

#[tokio::test]
async fn subtasks_are_created_under_their_parent_and_dossiers_by_path() {
    let engine = engine();
    let hans = LocalRemote::new(engine.clone(), "hans.muster");
    let parent = task_titled(&hans, "Stellungnahme zum Baugesuch Müller").await;
    let sub = hans
        .execute(
            &op(
                None,
                OpRequest::CreateTask(NewTask {
                    title: "Pläne prüfen".into(),
                    description: "Fassade und Abstände.".into(),
                    kind: Some("correction".into()),
                    assignee: Some("fd:anna.keller".into()),
                    group: None,
                    issuer: None,
                    deadline: Some("2026-12-10".parse().unwrap()),
                    parent_key: Some(parent.key.clone()),
                    position: None,
                    process: None,
                    fields: Vec::new(),
                }),
            ),
            None,
        )
        .await
        .unwrap();
    let t = hans.fetch(&sub.key.unwrap()).await.unwrap().unwrap();
    assert_eq!(t.parent_key.as_deref(), Some(parent.key.as_str()));
    assert_eq!(t.assignee.as_deref(), Some("anna.keller"));
    assert_eq!(t.kind.as_deref(), Some("correction"));

    let bad = hans
        .execute(
            &op(
                None,
                OpRequest::CreateTask(NewTask {
                    title: "Irgendwo".into(),
                    description: String::new(),
                    kind: None,
                    assignee: None,
                    group: None,
                    issuer: None,
                    deadline: None,
                    parent_key: None,
                    position: None,
                    process: Some("ordnungssystem/gibt-es-nicht".into()),
                    fields: Vec::new(),
                }),
            ),
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(bad.kind, RemoteErrorKind::Permanent);
    assert!(bad.message.contains("gibt-es-nicht"), "{bad}");
}

#[tokio::test]
async fn other_peoples_tasks_are_invisible_and_untouchable() {
    let engine = engine();
    let me = LocalRemote::new(engine.clone(), "me");
    let peter = LocalRemote::new(engine.clone(), "peter.meier");
    let mine = task_titled(&me, "Buy train ticket to Bern").await;
    assert_eq!(peter.fetch(&mine.key).await.unwrap(), None);
    assert_eq!(peter.fetch("not-a-number").await.unwrap(), None);
    let before = sql_count(&engine, "SELECT count(*) FROM responses");
    let err = peter
        .execute(
            &op(
                Some(1),
                OpRequest::CommentAdd {
                    text: "hineingeschmuggelt".into(),
                },
            ),
            Some(&mine),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind, RemoteErrorKind::Permanent);
    assert_eq!(sql_count(&engine, "SELECT count(*) FROM responses"), before);
    // A transition the user is not offered: refused, naming the valid ones.
    let err = me
        .execute(
            &op(
                Some(1),
                OpRequest::Transition {
                    transition: "task-transition-resolved-tested-and-closed".into(),
                    text: None,
                    params: Map::new(),
                },
            ),
            Some(&mine),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind, RemoteErrorKind::Permanent);
}

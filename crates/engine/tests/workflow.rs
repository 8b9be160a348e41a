//! The GEVER task workflow: which transitions each role is offered for each
//! task type and state (table-driven), and what each transition does —
//! following `../shared/reference/gever/NOTES.md` §6 and the checks in §12.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use serde_json::{Value, json};
use tasklane_engine::model::{GroupKind, TaskState};
use tasklane_engine::users::{self, Principal};
use tasklane_engine::{
    CreateTask, Engine, EngineError, create_task, dossiers, responses, tasks, workflow,
};

struct World {
    e: Engine,
    dossier: i64,
}

/// hans (responsible, org ou1), carla (inbox of ou1), anna (issuer, org
/// ou2), dora (inbox of ou2), tom and tina (team "crew"), zed (stranger),
/// root (admin).
fn world() -> World {
    let e = Engine::open_in_memory().unwrap();
    let dossier = e
        .db()
        .write(|tx| {
            users::add_group(tx, "ou1", "Amt Eins", GroupKind::OrgUnit)?;
            users::add_group(tx, "ou2", "Amt Zwei", GroupKind::OrgUnit)?;
            users::add_group(tx, "crew", "Crew", GroupKind::Team)?;
            for (u, groups, admin) in [
                ("hans", vec!["ou1"], false),
                ("carla", vec!["ou1"], false),
                ("anna", vec!["ou2"], false),
                ("dora", vec!["ou2"], false),
                ("tom", vec!["crew"], false),
                ("tina", vec!["crew"], false),
                ("zed", vec![], false),
                ("root", vec![], true),
            ] {
                users::add_user(tx, u, u, None, admin)?;
                for g in groups {
                    users::add_member(tx, u, g)?;
                }
            }
            Ok(dossiers::add(tx, "D", "d/dossier-1", Some("ou2"))?.id)
        })
        .unwrap();
    World { e, dossier }
}

impl World {
    fn p(&self, user: &str) -> Principal {
        self.e.principal(user).unwrap()
    }

    fn task(&self, ty: &str, responsible: &str) -> i64 {
        let anna = self.p("anna");
        self.e
            .db()
            .write(|tx| {
                create_task(
                    tx,
                    &anna,
                    &CreateTask {
                        title: format!("{ty} task"),
                        task_type: Some(ty.into()),
                        responsible: responsible.into(),
                        deadline: Some("2026-12-01".into()),
                        dossier_id: Some(self.dossier),
                        ..CreateTask::default()
                    },
                )
            })
            .unwrap()
            .id
    }

    fn run(
        &self,
        user: &str,
        id: i64,
        transition: &str,
        params: Value,
    ) -> Result<workflow::ActionResult, EngineError> {
        let p = self.p(user);
        let params = params.as_object().cloned().unwrap_or_default();
        self.e
            .db()
            .write(|tx| workflow::apply(tx, &p, id, Some(transition), &params))
    }

    fn ok(&self, user: &str, id: i64, transition: &str, params: Value) {
        if let Err(e) = self.run(user, id, transition, params) {
            panic!("{user} {transition}: {e:?}");
        }
    }

    fn offered(&self, user: &str, id: i64) -> Vec<String> {
        let p = self.p(user);
        self.e
            .db()
            .read(|c| {
                let t = tasks::require(c, id)?;
                Ok(workflow::available(c, &p, &t)?
                    .iter()
                    .map(|t| t.id.trim_start_matches("task-transition-").to_string())
                    .collect())
            })
            .unwrap()
    }

    fn state(&self, id: i64) -> TaskState {
        self.e.db().read(|c| tasks::require(c, id)).unwrap().state
    }
}

#[test]
fn each_role_is_offered_exactly_the_transitions_the_table_allows() {
    let w = world();
    let de = |id| id; // readability in the table below
    // (task type, how to reach the state, user, offered)
    type Setup = fn(&World, i64);
    let none: Setup = |_, _| {};
    let accepted: Setup = |w, id| w.ok("hans", id, "task-transition-open-in-progress", json!({}));
    let resolved: Setup = |w, id| {
        w.ok("hans", id, "task-transition-open-in-progress", json!({}));
        w.ok(
            "hans",
            id,
            "task-transition-in-progress-resolved",
            json!({}),
        );
    };
    let rejected: Setup = |w, id| w.ok("hans", id, "task-transition-open-rejected", json!({}));
    let cancelled: Setup = |w, id| w.ok("anna", id, "task-transition-open-cancelled", json!({}));
    let closed: Setup = |w, id| {
        w.ok("hans", id, "task-transition-open-in-progress", json!({}));
        w.ok(
            "hans",
            id,
            "task-transition-in-progress-tested-and-closed",
            json!({}),
        );
    };
    let cases: Vec<(&str, Setup, &str, Vec<&str>)> = vec![
        (
            "direct-execution",
            none,
            "hans",
            vec![
                "open-in-progress",
                "open-rejected",
                "open-tested-and-closed",
                "modify-deadline",
                "reassign",
            ],
        ),
        (
            "direct-execution",
            none,
            "carla",
            vec![
                "open-in-progress",
                "open-rejected",
                "open-tested-and-closed",
                "modify-deadline",
                "reassign",
            ],
        ),
        (
            "direct-execution",
            none,
            "anna",
            vec![
                "open-tested-and-closed",
                "open-cancelled",
                "modify-deadline",
                "reassign",
            ],
        ),
        (
            "direct-execution",
            none,
            "dora",
            vec![
                "open-tested-and-closed",
                "open-cancelled",
                "modify-deadline",
                "reassign",
            ],
        ),
        ("direct-execution", none, "zed", vec![]),
        (
            "direct-execution",
            none,
            "root",
            vec![
                "open-in-progress",
                "open-rejected",
                "open-tested-and-closed",
                "open-cancelled",
                "modify-deadline",
                "reassign",
            ],
        ),
        (
            "information",
            none,
            "hans",
            vec![
                "open-rejected",
                "open-tested-and-closed",
                "modify-deadline",
                "reassign",
            ],
        ),
        (
            "information",
            none,
            "anna",
            vec!["open-cancelled", "modify-deadline", "reassign"],
        ),
        (
            "comment",
            none,
            "hans",
            vec![
                "open-in-progress",
                "open-rejected",
                "open-resolved",
                "modify-deadline",
                "reassign",
            ],
        ),
        (
            "comment",
            none,
            "anna",
            vec![
                "open-tested-and-closed",
                "open-cancelled",
                "modify-deadline",
                "reassign",
            ],
        ),
        (
            "comment",
            accepted,
            "hans",
            vec![
                "in-progress-resolved",
                "modify-deadline",
                "reassign",
                "delegate",
            ],
        ),
        (
            "comment",
            accepted,
            "anna",
            vec![
                "in-progress-cancelled",
                "modify-deadline",
                "reassign",
                "delegate",
            ],
        ),
        (
            "direct-execution",
            accepted,
            "hans",
            vec![
                "in-progress-tested-and-closed",
                "modify-deadline",
                "reassign",
                "delegate",
            ],
        ),
        (
            "approval",
            resolved,
            "hans",
            vec!["resolved-in-progress", "reassign"],
        ),
        (
            "approval",
            resolved,
            "anna",
            vec![
                "resolved-tested-and-closed",
                "resolved-in-progress",
                "reassign",
            ],
        ),
        // Rejecting hands the task back to the issuer: hans no longer sees it.
        ("report", rejected, "anna", vec!["rejected-open"]),
        ("report", rejected, "hans", vec![]),
        (
            "report",
            rejected,
            "root",
            vec!["rejected-open", "reassign"],
        ),
        ("correction", cancelled, "anna", vec!["cancelled-open"]),
        ("correction", cancelled, "hans", vec![]),
        (
            "direct-execution",
            closed,
            "root",
            vec!["tested-and-closed-in-progress"],
        ),
        ("direct-execution", closed, "anna", vec![]),
        ("information", none, "zed", vec![]),
    ];
    for (ty, setup, user, expected) in cases {
        let id = w.task(ty, "ou1:hans");
        setup(&w, id);
        let state = w.state(id);
        assert_eq!(w.offered(user, de(id)), expected, "{ty} {state:?}: {user}");
    }
}

#[test]
fn a_transition_not_offered_is_an_invalid_transition_listing_the_valid_ones() {
    let w = world();
    let id = w.task("direct-execution", "ou1:hans");
    for (user, transition) in [
        ("anna", "task-transition-open-in-progress"),
        ("hans", "task-transition-open-cancelled"),
        ("hans", "invalid-transition"),
        ("hans", "task-transition-open-planned"),
    ] {
        match w.run(user, id, transition, json!({})) {
            Err(EngineError::InvalidTransition { id: t, valid }) => {
                assert_eq!(t, transition);
                let mut sorted = valid.clone();
                sorted.sort();
                assert_eq!(valid, sorted, "sorted");
            }
            other => panic!("{user} {transition}: {other:?}"),
        }
    }
    let p = w.p("hans");
    let none =
        w.e.db()
            .write(|tx| workflow::apply(tx, &p, id, None, &Default::default()));
    assert!(matches!(none, Err(EngineError::InvalidTransition { id, .. }) if id == "None"));
    assert!(matches!(
        w.run("zed", id, "task-transition-open-in-progress", json!({})),
        Err(EngineError::Forbidden(_))
    ));
    assert_eq!(w.state(id), TaskState::Open);
}

#[test]
fn accepting_records_the_text_and_the_actor() {
    let w = world();
    let id = w.task("direct-execution", "ou1:hans");
    let result = w
        .run(
            "hans",
            id,
            "task-transition-open-in-progress",
            json!({"text": "Wird gemacht!"}),
        )
        .unwrap();
    assert_eq!(result.review_state, TaskState::InProgress);
    assert_eq!(result.title_en, "In progress");
    let last =
        w.e.db()
            .read(|c| responses::for_task(c, id))
            .unwrap()
            .pop()
            .unwrap();
    assert_eq!(
        (
            last.transition.as_str(),
            last.text.as_str(),
            last.creator.as_str()
        ),
        ("task-transition-open-in-progress", "Wird gemacht!", "hans")
    );
}

#[test]
fn modify_deadline_needs_a_valid_new_date() {
    let w = world();
    let id = w.task("direct-execution", "ou1:hans");
    let field = |r: Result<workflow::ActionResult, EngineError>| match r {
        Err(EngineError::Invalid {
            fields, message, ..
        }) => (fields[0].field.clone(), message),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        field(w.run("hans", id, "task-transition-modify-deadline", json!({}))).0,
        "new_deadline"
    );
    assert_eq!(
        field(w.run(
            "hans",
            id,
            "task-transition-modify-deadline",
            json!({"new_deadline": "not-valid"})
        ))
        .0,
        "new_deadline"
    );
    let (_, message) = field(w.run(
        "hans",
        id,
        "task-transition-modify-deadline",
        json!({"new_deadline": "2026-12-01"}),
    ));
    assert!(message.contains("same_deadline_error"), "{message}");
    w.ok(
        "hans",
        id,
        "task-transition-modify-deadline",
        json!({"new_deadline": "2026-11-23"}),
    );
    let t = w.e.db().read(|c| tasks::require(c, id)).unwrap();
    assert_eq!(t.deadline.as_deref(), Some("2026-11-23"));
    let last =
        w.e.db()
            .read(|c| responses::for_task(c, id))
            .unwrap()
            .pop()
            .unwrap();
    assert_eq!(
        last.changes,
        json!([{"field_id": "deadline", "field_title": "Deadline", "before": "2026-12-01", "after": "2026-11-23"}])
    );
}

#[test]
fn reassign_takes_every_responsible_form_and_refuses_teams_once_started() {
    let w = world();
    let id = w.task("direct-execution", "ou1:hans");
    assert!(matches!(
        w.run("hans", id, "task-transition-reassign", json!({"text": "x"})),
        Err(EngineError::Invalid { .. })
    ));
    w.ok(
        "hans",
        id,
        "task-transition-reassign",
        json!({"responsible": {"token": "ou2:dora"}}),
    );
    let t = w.e.db().read(|c| tasks::require(c, id)).unwrap();
    assert_eq!(
        (
            t.responsible.user.as_deref(),
            t.responsible.client.as_deref()
        ),
        (Some("dora"), Some("ou2"))
    );
    w.ok(
        "anna",
        id,
        "task-transition-reassign",
        json!({"responsible": "hans", "responsible_client": "ou1"}),
    );
    w.ok(
        "anna",
        id,
        "task-transition-reassign",
        json!({"responsible": "team:crew"}),
    );
    let t = w.e.db().read(|c| tasks::require(c, id)).unwrap();
    assert_eq!(
        (t.responsible.user, t.responsible.group.as_deref()),
        (None, Some("crew"))
    );
    // A team member accepting becomes the responsible.
    w.ok("tina", id, "task-transition-open-in-progress", json!({}));
    let t = w.e.db().read(|c| tasks::require(c, id)).unwrap();
    assert_eq!(t.responsible.user.as_deref(), Some("tina"));
    // In progress, a team is refused; the state is unchanged.
    assert!(matches!(
        w.run(
            "anna",
            id,
            "task-transition-reassign",
            json!({"responsible": "inbox:ou1"})
        ),
        Err(EngineError::Invalid { .. })
    ));
    assert!(matches!(
        w.run(
            "anna",
            id,
            "task-transition-reassign",
            json!({"responsible": "nobody"})
        ),
        Err(EngineError::Invalid { .. })
    ));
    assert_eq!(w.state(id), TaskState::InProgress);
}

#[test]
fn rejecting_makes_the_issuer_responsible_and_reopening_works_from_every_end_state() {
    let w = world();
    let id = w.task("report", "ou1:hans");
    w.ok(
        "hans",
        id,
        "task-transition-open-rejected",
        json!({"text": "Nicht zuständig"}),
    );
    let t = w.e.db().read(|c| tasks::require(c, id)).unwrap();
    assert_eq!(
        (t.state, t.responsible.user.as_deref()),
        (TaskState::Rejected, Some("anna"))
    );
    let last =
        w.e.db()
            .read(|c| responses::for_task(c, id))
            .unwrap()
            .pop()
            .unwrap();
    assert_eq!(last.changes[0]["field_id"], "responsible");
    assert_eq!(last.changes[0]["before"], "ou1:hans");
    assert_eq!(last.changes[0]["after"], "ou2:anna");
    w.ok("anna", id, "task-transition-rejected-open", json!({}));
    assert_eq!(w.state(id), TaskState::Open);

    let cancelled = w.task("comment", "ou1:hans");
    w.ok(
        "anna",
        cancelled,
        "task-transition-open-cancelled",
        json!({}),
    );
    w.ok(
        "anna",
        cancelled,
        "task-transition-cancelled-open",
        json!({}),
    );
    assert_eq!(w.state(cancelled), TaskState::Open);

    let resolved = w.task("comment", "ou1:hans");
    w.ok("hans", resolved, "task-transition-open-resolved", json!({}));
    w.ok(
        "anna",
        resolved,
        "task-transition-resolved-in-progress",
        json!({}),
    );
    assert_eq!(w.state(resolved), TaskState::InProgress);

    let closed = w.task("direct-execution", "ou1:hans");
    w.ok(
        "hans",
        closed,
        "task-transition-open-tested-and-closed",
        json!({}),
    );
    assert!(
        w.run(
            "anna",
            closed,
            "task-transition-tested-and-closed-in-progress",
            json!({})
        )
        .is_err()
    );
    w.ok(
        "root",
        closed,
        "task-transition-tested-and-closed-in-progress",
        json!({}),
    );
    assert_eq!(w.state(closed), TaskState::InProgress);
}

#[test]
fn closing_follows_the_task_type() {
    let w = world();
    let resolved = w.task("approval", "ou1:hans");
    w.ok("hans", resolved, "task-transition-open-resolved", json!({}));
    w.ok(
        "anna",
        resolved,
        "task-transition-resolved-tested-and-closed",
        json!({}),
    );
    let direct = w.task("direct-execution", "ou1:hans");
    w.ok(
        "hans",
        direct,
        "task-transition-open-in-progress",
        json!({}),
    );
    let r = w
        .run(
            "hans",
            direct,
            "task-transition-in-progress-tested-and-closed",
            json!({}),
        )
        .unwrap();
    assert_eq!(
        (r.review_state, r.title_en.as_str()),
        (TaskState::Closed, "Closed")
    );
    let info = w.task("information", "ou1:hans");
    w.ok(
        "hans",
        info,
        "task-transition-open-tested-and-closed",
        json!({}),
    );
    for id in [resolved, direct, info] {
        assert_eq!(w.state(id), TaskState::Closed);
    }
}

#[test]
fn approved_documents_belong_to_approval_tasks_and_their_documents() {
    let w = world();
    let other = w.task("comment", "ou1:hans");
    let err = w
        .run(
            "hans",
            other,
            "task-transition-open-resolved",
            json!({"approved_documents": ["doc-1"]}),
        )
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("only supported for tasks of task_type 'approval'"),
        "{err}"
    );
    assert_eq!(w.state(other), TaskState::Open);
    let approval = w.task("approval", "ou1:hans");
    assert!(
        w.run(
            "hans",
            approval,
            "task-transition-open-resolved",
            json!({"approved_documents": ["doc-9"]})
        )
        .is_err()
    );
    w.ok(
        "hans",
        approval,
        "task-transition-open-resolved",
        json!({"relatedItems": ["doc-1"], "approved_documents": ["doc-1"]}),
    );
    assert_eq!(w.state(approval), TaskState::Resolved);
}

#[test]
fn delegating_creates_one_subtask_per_responsible() {
    let w = world();
    let id = w.task("comment", "ou1:hans");
    w.ok("hans", id, "task-transition-open-in-progress", json!({}));
    assert!(
        w.run(
            "hans",
            id,
            "task-transition-delegate",
            json!({"responsibles": ["ou1:carla"]})
        )
        .is_err()
    );
    w.ok(
        "hans",
        id,
        "task-transition-delegate",
        json!({
            "responsibles": ["ou1:carla", "ou2:dora"], "title": "Teilaufgabe", "issuer": "hans",
            "deadline": "2026-12-20", "documents": ["doc-1"]
        }),
    );
    let children = w.e.db().read(|c| tasks::children(c, id)).unwrap();
    let who: Vec<_> = children
        .iter()
        .map(|c| c.responsible.user.clone().unwrap())
        .collect();
    assert_eq!(who, vec!["carla", "dora"]);
    assert!(
        children
            .iter()
            .all(|c| c.related_items == vec!["doc-1".to_string()] && c.issuer == "hans")
    );
    // Subtasks start without responses; the parent records each addition.
    for child in &children {
        let own = w.e.db().read(|c| responses::for_task(c, child.id)).unwrap();
        assert!(own.is_empty(), "{own:?}");
    }
    let parent = w.e.db().read(|c| responses::for_task(c, id)).unwrap();
    let added: Vec<_> = parent
        .iter()
        .filter(|r| r.transition == "transition-add-subtask")
        .map(|r| r.additional_data["subtask"].as_i64().unwrap())
        .collect();
    assert_eq!(added, children.iter().map(|c| c.id).collect::<Vec<_>>());
    // The parent cannot be resolved while its subtasks are unfinished.
    assert!(
        w.run(
            "hans",
            id,
            "task-transition-in-progress-resolved",
            json!({})
        )
        .is_err()
    );
}

#[test]
fn a_sequential_process_opens_the_next_task_when_one_closes_or_is_skipped() {
    let w = world();
    let main = w.task("direct-execution", "ou1:hans");
    w.e.db()
        .write(|tx| {
            tx.execute(
                "UPDATE tasks SET sequence_type = 'sequential' WHERE id = ?1",
                [main],
            )?;
            Ok(())
        })
        .unwrap();
    let anna = w.p("anna");
    let sub = |title: &str, position: Option<i64>| {
        w.e.db()
            .write(|tx| {
                create_task(
                    tx,
                    &anna,
                    &CreateTask {
                        title: title.into(),
                        responsible: "ou1:hans".into(),
                        parent_id: Some(main),
                        position,
                        related_items: vec![format!("doc-{title}")],
                        ..CreateTask::default()
                    },
                )
            })
            .unwrap()
    };
    let a = sub("a", None);
    let c = sub("c", None);
    let b = sub("b", Some(2)); // inserted between a and c
    let positions: Vec<(String, Option<i64>)> =
        w.e.db()
            .read(|conn| tasks::children(conn, main))
            .unwrap()
            .into_iter()
            .map(|t| (t.title, t.position))
            .collect();
    assert_eq!(
        positions,
        vec![
            ("a".into(), Some(1)),
            ("b".into(), Some(2)),
            ("c".into(), Some(3))
        ]
    );
    assert!(
        [a.id, b.id, c.id]
            .iter()
            .all(|id| w.state(*id) == TaskState::Planned)
    );
    // The main task is not in progress yet: nothing may start.
    assert!(
        !w.offered("hans", a.id)
            .contains(&"planned-open".to_string())
    );
    w.ok("hans", main, "task-transition-open-in-progress", json!({}));
    assert!(
        w.offered("hans", a.id)
            .contains(&"planned-open".to_string())
    );
    assert!(
        !w.offered("hans", b.id)
            .contains(&"planned-open".to_string()),
        "b waits for a"
    );
    w.ok("hans", a.id, "task-transition-planned-open", json!({}));
    w.ok(
        "hans",
        a.id,
        "task-transition-open-tested-and-closed",
        json!({"pass_documents_to_next_task": true}),
    );
    assert_eq!(w.state(b.id), TaskState::Open, "closing a opened b");
    let b_now = w.e.db().read(|conn| tasks::require(conn, b.id)).unwrap();
    assert!(
        b_now.related_items.contains(&"doc-a".to_string()),
        "documents passed on"
    );
    w.ok("hans", b.id, "task-transition-open-rejected", json!({}));
    w.ok("anna", b.id, "task-transition-rejected-skipped", json!({}));
    assert_eq!(w.state(b.id), TaskState::Skipped);
    assert_eq!(
        w.state(c.id),
        TaskState::Open,
        "skipping a rejected task opens the next"
    );
    // planned-skipped does not open the next one.
    let d = sub("d", None);
    let e = sub("e", None);
    w.ok("anna", d.id, "task-transition-planned-skipped", json!({}));
    assert_eq!(
        (w.state(d.id), w.state(e.id)),
        (TaskState::Skipped, TaskState::Planned)
    );
    w.ok("anna", d.id, "task-transition-skipped-open", json!({}));
    assert_eq!(w.state(d.id), TaskState::Open);
}

#[test]
fn cancelling_a_task_cancels_its_subtasks() {
    let w = world();
    let main = w.task("direct-execution", "ou1:hans");
    let anna = w.p("anna");
    let sub =
        w.e.db()
            .write(|tx| {
                create_task(
                    tx,
                    &anna,
                    &CreateTask {
                        title: "sub".into(),
                        responsible: "ou1:carla".into(),
                        parent_id: Some(main),
                        ..CreateTask::default()
                    },
                )
            })
            .unwrap();
    w.ok("anna", main, "task-transition-open-cancelled", json!({}));
    assert_eq!(w.state(sub.id), TaskState::Cancelled);
}

#[test]
fn comments_are_added_edited_and_removed_with_a_trace() {
    let w = world();
    let id = w.task("comment", "ou1:hans");
    let (hans, zed) = (w.p("hans"), w.p("zed"));
    let t = w.e.db().read(|c| tasks::require(c, id)).unwrap();
    let c =
        w.e.db()
            .write(|tx| responses::add_comment(tx, &hans, &t, "Bitte rasch anschauen."))
            .unwrap();
    assert_eq!(
        (c.response_type.as_str(), c.transition.as_str()),
        ("comment", "task-commented")
    );
    assert!(
        w.e.db()
            .write(|tx| responses::add_comment(tx, &hans, &t, "  "))
            .is_err()
    );
    assert!(matches!(
        w.e.db()
            .write(|tx| responses::add_comment(tx, &zed, &t, "x")),
        Err(EngineError::Forbidden(_))
    ));
    w.e.db()
        .write(|tx| responses::edit_comment(tx, &hans, &t, c.id, "Hat sich erledigt."))
        .unwrap();
    // A new task has no responses; accepting it records a workflow entry,
    // which is not a comment and cannot be edited as one.
    w.ok("hans", id, "task-transition-open-in-progress", json!({}));
    let accepted = w.e.db().read(|conn| responses::for_task(conn, id)).unwrap();
    let accepted = accepted
        .iter()
        .find(|r| r.response_type == "default")
        .unwrap()
        .id;
    let not_comment =
        w.e.db()
            .write(|tx| responses::edit_comment(tx, &hans, &t, accepted, "x"))
            .unwrap_err();
    assert!(
        matches!(not_comment, EngineError::Invalid { ref message, .. } if message == "only_comment_type_can_be_edited")
    );
    assert!(matches!(
        w.e.db()
            .write(|tx| responses::edit_comment(tx, &hans, &t, 42, "x")),
        Err(EngineError::NotFound(_))
    ));
    w.e.db()
        .write(|tx| responses::delete_comment(tx, &hans, &t, c.id))
        .unwrap();
    let all = w.e.db().read(|conn| responses::for_task(conn, id)).unwrap();
    assert!(all.iter().all(|r| r.id != c.id));
    let removed = all.last().unwrap();
    assert_eq!(removed.response_type, "comment_removed");
    assert_eq!(
        removed.additional_data["deleted_response_creation_date"],
        json!(c.created)
    );
    // Notifications: anna (issuer) got one for the comment.
    let anna_notes =
        w.e.db()
            .read(|conn| responses::notifications(conn, "anna"))
            .unwrap();
    assert!(
        anna_notes
            .iter()
            .any(|n| n.kind == "task-commented" && n.task_id == id)
    );
}

#[test]
fn the_visible_page_agrees_with_the_visibility_rule() {
    let w = world();
    let ids: Vec<i64> = ["team:crew", "inbox:ou1", "ou1:hans", "ou2:dora"]
        .iter()
        .map(|r| w.task("direct-execution", r))
        .collect();
    for user in ["hans", "carla", "anna", "dora", "tom", "zed", "root"] {
        let p = w.p(user);
        let expected: Vec<i64> =
            w.e.db()
                .read(|c| {
                    let mut v = Vec::new();
                    for id in &ids {
                        if tasks::visible(&p, &tasks::require(c, *id)?) {
                            v.push(*id);
                        }
                    }
                    Ok(v)
                })
                .unwrap();
        let page: Vec<i64> =
            w.e.db()
                .read(|c| tasks::visible_page(c, user, 0, None, 100))
                .unwrap()
                .iter()
                .map(|t| t.id)
                .collect();
        assert_eq!(page, expected, "{user}");
        let paged: Vec<i64> =
            w.e.db()
                .read(|c| tasks::visible_page(c, user, ids[1], None, 1))
                .unwrap()
                .iter()
                .map(|t| t.id)
                .collect();
        assert!(
            paged.len() <= 1 && paged.iter().all(|id| *id > ids[1]),
            "{user}"
        );
    }
}

#[test]
fn visibility_follows_responsibility_groups_and_privacy() {
    let w = world();
    let team = w.task("direct-execution", "team:crew");
    let inbox = w.task("direct-execution", "inbox:ou1");
    let private = w.task("direct-execution", "ou1:hans");
    w.e.db()
        .write(|tx| {
            tx.execute("UPDATE tasks SET is_private = 1 WHERE id = ?1", [private])?;
            Ok(())
        })
        .unwrap();
    let sees = |user: &str, id: i64| {
        let p = w.p(user);
        w.e.db()
            .read(|c| Ok(tasks::visible(&p, &tasks::require(c, id)?)))
            .unwrap()
    };
    let cases = [
        (team, "tom", true),
        (team, "hans", false),
        (team, "anna", true),
        (team, "dora", true),
        (inbox, "carla", true),
        (inbox, "hans", true),
        (inbox, "tom", false),
        (private, "hans", true),
        (private, "carla", false),
        (private, "dora", false),
        (private, "anna", true),
        (private, "root", true),
        (private, "zed", false),
    ];
    for (id, user, expected) in cases {
        assert_eq!(sees(user, id), expected, "{user} on task {id}");
    }
}

//! The outbox: state changes, effects, ordering, validation.

use jiff::{Timestamp, ToSpan};
use serde_json::json;

use super::*;
use crate::model::{
    AccountKind, Action, Comment, NewAccount, ParamKind, ParamSpec, State, TaskField, TaskRecord,
};
use crate::query::{Column, Op as QOp, Query};
use crate::replica::{Replica, accounts, tasks};

struct Fixture {
    r: Replica,
    work: i64,
    field: i64,
    a: i64,
    b: i64,
    f: i64,
}

fn param(name: &str, kind: ParamKind, required: bool, sets: Option<TaskField>) -> ParamSpec {
    ParamSpec {
        name: name.into(),
        label: String::new(),
        kind,
        required,
        sets,
        wire_type: None,
    }
}

fn fixture() -> Fixture {
    let mut r = Replica::open_in_memory().unwrap();
    let now = crate::time::now();
    let (work, field) = r
        .write(|tx| {
            let add =
                |name: &str, kind| accounts::add(tx, &NewAccount::new(name, kind).user("alice"));
            let work = add("work", AccountKind::Gever)?;
            let field = add("field", AccountKind::Omflow)?;
            let mut a = TaskRecord::new("a", "Bitte prüfen", State::Open);
            a.assignee = Some("alice".into());
            a.deadline = Some("2026-11-30".parse().unwrap());
            a.comments = Some(vec![Comment {
                remote_id: "c1".into(),
                author: Some("alice".into()),
                text: "first".into(),
                created: None,
                modified: None,
            }]);
            a.actions = Some(vec![
                Action {
                    id: "accept".into(),
                    label: "Accept".into(),
                    to_state: Some(State::InProgress),
                    params: vec![param("text", ParamKind::LongText, false, None)],
                },
                Action {
                    id: "reassign".into(),
                    label: "Reassign".into(),
                    to_state: None,
                    params: vec![param(
                        "responsible",
                        ParamKind::Actor,
                        true,
                        Some(TaskField::Assignee),
                    )],
                },
                Action {
                    id: "modify-deadline".into(),
                    label: "Modify deadline".into(),
                    to_state: None,
                    params: vec![param(
                        "new_deadline",
                        ParamKind::Date,
                        true,
                        Some(TaskField::Deadline),
                    )],
                },
            ]);
            let b = TaskRecord::new("b", "Never fetched", State::Open);
            tasks::upsert(tx, work.id, &[a, b], now)?;
            let mut f = TaskRecord::new("flow:1:FITEM_7", "請款單", State::Open);
            f.actions = Some(vec![
                Action {
                    id: effect::PUSH_ACTION.into(),
                    label: "Push".into(),
                    to_state: None,
                    params: vec![
                        param("FORMITM_1", ParamKind::Text, true, None),
                        param("FORMITM_2", ParamKind::Text, false, None),
                    ],
                },
                Action {
                    id: "action1".into(),
                    label: "核准".into(),
                    to_state: Some(State::Closed),
                    params: vec![],
                },
            ]);
            tasks::upsert(tx, field.id, &[f], now)?;
            Ok((work.id, field.id))
        })
        .unwrap();
    let id = |account, key| tasks::id_by_key(r.conn(), account, key).unwrap().unwrap();
    let (a, b, f) = (id(work, "a"), id(work, "b"), id(field, "flow:1:FITEM_7"));
    Fixture {
        r,
        work,
        field,
        a,
        b,
        f,
    }
}

fn transition(id: &str) -> OpRequest {
    OpRequest::Transition {
        transition: id.into(),
        text: None,
        params: Default::default(),
    }
}

fn comment(text: &str) -> OpRequest {
    OpRequest::CommentAdd { text: text.into() }
}

fn with_param(id: &str, name: &str, value: &str) -> OpRequest {
    let mut params = serde_json::Map::new();
    params.insert(name.into(), value.into());
    OpRequest::Transition {
        transition: id.into(),
        text: None,
        params,
    }
}

impl Fixture {
    fn queue(&mut self, account: i64, task: Option<i64>, req: OpRequest) -> Result<Op> {
        self.r
            .write(|tx| queue(tx, account, task, req, crate::time::now()))
    }

    fn row(&self, id: i64) -> tasks::TaskRow {
        tasks::row(self.r.conn(), id).unwrap()
    }

    fn apply(&mut self, f: impl FnOnce(&Transaction<'_>) -> Result<Op>) -> Result<Op> {
        self.r.write(f)
    }
}

fn now() -> Timestamp {
    crate::time::now()
}

#[test]
fn the_state_machine_allows_exactly_the_documented_changes() {
    use OpState::*;
    let allowed = [
        (Pending, Sending),
        (Pending, Cancelled),
        (Pending, Conflict),
        (Pending, Failed),
        (Sending, Done),
        (Sending, Failed),
        (Sending, Conflict),
        (Sending, Pending),
        (Failed, Pending),
        (Failed, Cancelled),
        (Conflict, Pending),
        (Conflict, Cancelled),
    ];
    for from in OpState::ALL {
        for to in OpState::ALL {
            assert_eq!(
                from.can_become(to),
                allowed.contains(&(from, to)),
                "{from} -> {to}"
            );
        }
    }
}

#[test]
fn a_pending_transition_shows_the_expected_state_marked_pending() {
    let mut fx = fixture();
    let op = fx.queue(fx.work, Some(fx.a), transition("accept")).unwrap();
    assert_eq!(op.state, OpState::Pending);
    assert_eq!(op.base.as_ref().unwrap()["state"], "open");
    let row = fx.row(fx.a);
    assert_eq!(row.state, State::InProgress);
    assert_eq!(row.server_state, State::Open);
    assert_eq!(row.pending, 1);
    // Queries see the effective state.
    let q = Query::default().filter(Column::State, QOp::Eq, State::InProgress);
    assert_eq!(fx.r.query(&q).unwrap().len(), 1);
    let pending = Query::default().filter(Column::Pending, QOp::Eq, true);
    assert_eq!(fx.r.query(&pending).unwrap()[0].id, fx.a);
}

#[test]
fn parameters_that_set_fields_change_the_effective_view() {
    let mut fx = fixture();
    fx.queue(
        fx.work,
        Some(fx.a),
        with_param("reassign", "responsible", "bob"),
    )
    .unwrap();
    fx.queue(
        fx.work,
        Some(fx.a),
        with_param("modify-deadline", "new_deadline", "2026-12-24"),
    )
    .unwrap();
    let row = fx.row(fx.a);
    assert_eq!(row.assignee.as_deref(), Some("bob"));
    assert_eq!(row.deadline.as_deref(), Some("2026-12-24"));
    assert_eq!(row.state, State::Open);
    assert_eq!(row.pending, 2);
    let bobs = Query::default().filter(Column::Assignee, QOp::Eq, "bob");
    assert_eq!(fx.r.query(&bobs).unwrap().len(), 1);
}

#[test]
fn a_batch_is_marked_sending_at_once_or_not_at_all() {
    let mut fx = fixture();
    let first = fx.queue(fx.work, Some(fx.a), transition("accept")).unwrap();
    let second = fx.queue(fx.work, Some(fx.b), comment("unterwegs")).unwrap();
    let withdrawn = fx
        .queue(fx.work, Some(fx.b), comment("doch nicht"))
        .unwrap();
    fx.apply(|tx| cancel(tx, &withdrawn.op_id.to_string(), now()))
        .unwrap();
    let refused =
        fx.r.write(|tx| mark_batch_sending(tx, &[first.seq, withdrawn.seq, second.seq], now()))
            .unwrap_err();
    assert!(
        matches!(
            refused,
            Error::OpTransition {
                from: "cancelled",
                to: "sending",
                ..
            }
        ),
        "{refused:?}"
    );
    let unchanged = fx.apply(|tx| get(tx, &first.op_id.to_string())).unwrap();
    assert_eq!((unchanged.state, unchanged.attempts), (OpState::Pending, 0));

    fx.r.write(|tx| mark_batch_sending(tx, &[first.seq, second.seq], now()))
        .unwrap();
    for op in [&first, &second] {
        let sent = fx.apply(|tx| get(tx, &op.op_id.to_string())).unwrap();
        assert_eq!((sent.state, sent.attempts), (OpState::Sending, 1));
        assert_eq!(sent.not_before, None);
    }
    assert_eq!(fx.row(fx.a).state, State::InProgress, "still in flight");
}

#[test]
fn a_batch_is_marked_done_at_once_or_not_at_all() {
    let mut fx = fixture();
    let accept = fx.queue(fx.work, Some(fx.a), transition("accept")).unwrap();
    let remark = fx.queue(fx.work, Some(fx.b), comment("erledigt")).unwrap();
    let unsent = fx.queue(fx.field, Some(fx.f), comment("später")).unwrap();
    fx.r.write(|tx| mark_batch_sending(tx, &[accept.seq, remark.seq], now()))
        .unwrap();
    assert_eq!(fx.row(fx.a).state, State::InProgress, "in flight");
    let state = json!({"review_state": "task-state-in-progress"});
    let created = json!({"@id": "https://gever.example/task-2/@responses/7"});
    let answer = |seq, result, key| Applied { seq, result, key };

    // One op of the batch was never sent: nothing of it is marked.
    let refused =
        fx.r.write(|tx| {
            mark_batch_done(
                tx,
                &[
                    answer(accept.seq, &state, None),
                    answer(unsent.seq, &created, None),
                ],
                now(),
            )
        })
        .unwrap_err();
    assert!(
        matches!(
            refused,
            Error::OpTransition {
                from: "pending",
                to: "done",
                ..
            }
        ),
        "{refused:?}"
    );
    // Nor when the batch names an op twice.
    let twice = fx.r.write(|tx| {
        mark_batch_done(
            tx,
            &[
                answer(accept.seq, &state, None),
                answer(accept.seq, &state, None),
            ],
            now(),
        )
    });
    assert!(matches!(twice, Err(Error::Invalid(_))), "{twice:?}");
    let unchanged = fx.apply(|tx| get(tx, &accept.op_id.to_string())).unwrap();
    assert_eq!(unchanged.state, OpState::Sending);

    fx.r.write(|tx| {
        mark_batch_done(
            tx,
            &[
                answer(accept.seq, &state, None),
                answer(remark.seq, &created, Some("7")),
            ],
            now(),
        )
    })
    .unwrap();
    let accepted = fx.apply(|tx| get(tx, &accept.op_id.to_string())).unwrap();
    assert_eq!(
        (accepted.state, accepted.attempts, accepted.result.as_ref()),
        (OpState::Done, 1, Some(&state))
    );
    let commented = fx.apply(|tx| get(tx, &remark.op_id.to_string())).unwrap();
    assert_eq!(commented.state, OpState::Done);
    assert_eq!(commented.result.as_ref(), Some(&created));
    let key: Option<String> =
        fx.r.conn()
            .query_row(
                "SELECT result_key FROM outbox WHERE seq = ?1",
                [remark.seq],
                |r| r.get(0),
            )
            .unwrap();
    assert_eq!(key.as_deref(), Some("7"));
    // The transition's effect left with it; the unsent comment still waits.
    let row = fx.row(fx.a);
    assert_eq!((row.state, row.pending), (State::Open, 0));
    assert_eq!(fx.row(fx.f).pending, 1);
}

#[test]
fn finishing_an_op_removes_its_effect_and_failures_ask_for_attention() {
    let mut fx = fixture();
    let op = fx.queue(fx.work, Some(fx.a), transition("accept")).unwrap();
    let id = op.op_id.to_string();
    let sending = fx.apply(|tx| mark_sending(tx, &id, now())).unwrap();
    assert_eq!((sending.state, sending.attempts), (OpState::Sending, 1));
    assert_eq!(fx.row(fx.a).state, State::InProgress, "still in flight");
    let failed = fx
        .apply(|tx| mark_failed(tx, &id, "permanent", "not permitted", now()))
        .unwrap();
    assert_eq!(failed.last_error.as_deref(), Some("not permitted"));
    let row = fx.row(fx.a);
    assert_eq!((row.state, row.pending, row.attention), (State::Open, 0, 1));
    fx.apply(|tx| retry(tx, &id, now())).unwrap();
    assert_eq!(fx.row(fx.a).state, State::InProgress);
    fx.apply(|tx| mark_sending(tx, &id, now())).unwrap();
    let done = fx
        .apply(|tx| {
            mark_done(
                tx,
                &id,
                Some(json!({"review_state": "task-state-in-progress"})),
                None,
                now(),
            )
        })
        .unwrap();
    assert_eq!(done.attempts, 2);
    assert_eq!(done.last_error, None);
    let row = fx.row(fx.a);
    assert_eq!((row.state, row.pending, row.attention), (State::Open, 0, 0));
    // Terminal: nothing more may happen to it.
    assert!(matches!(
        fx.apply(|tx| cancel(tx, &id, now())),
        Err(Error::OpTransition { .. })
    ));
}

#[test]
fn an_op_being_sent_cannot_be_cancelled() {
    let mut fx = fixture();
    let id = fx
        .queue(fx.work, Some(fx.a), transition("accept"))
        .unwrap()
        .op_id
        .to_string();
    fx.apply(|tx| mark_sending(tx, &id, now())).unwrap();
    let err = fx.apply(|tx| cancel(tx, &id, now())).unwrap_err();
    assert!(err.to_string().contains("sending"), "{err}");
    assert_eq!(get(fx.r.conn(), &id).unwrap().state, OpState::Sending);
}

#[test]
fn a_blocked_op_holds_back_its_own_task_only() {
    let mut fx = fixture();
    let first = fx.queue(fx.work, Some(fx.a), transition("accept")).unwrap();
    let second = fx
        .queue(
            fx.work,
            Some(fx.a),
            OpRequest::CommentAdd {
                text: "done soon".into(),
            },
        )
        .unwrap();
    let other = fx
        .queue(
            fx.work,
            Some(fx.b),
            OpRequest::CommentAdd {
                text: "hello".into(),
            },
        )
        .unwrap();
    let ready_ids = |fx: &Fixture| -> Vec<Uuid> {
        ready(fx.r.conn(), fx.work, now(), &[], usize::MAX)
            .unwrap()
            .into_iter()
            .map(|o| o.op_id)
            .collect()
    };
    assert_eq!(
        ready_ids(&fx),
        vec![first.op_id, other.op_id],
        "one op per task, in order"
    );
    let id = first.op_id.to_string();
    fx.apply(|tx| mark_sending(tx, &id, now())).unwrap();
    fx.apply(|tx| mark_conflict(tx, &id, "task was closed meanwhile", now()))
        .unwrap();
    assert_eq!(
        ready_ids(&fx),
        vec![other.op_id],
        "the conflict holds back its task only"
    );
    fx.apply(|tx| cancel(tx, &id, now())).unwrap();
    assert_eq!(
        ready_ids(&fx),
        vec![second.op_id, other.op_id],
        "discarding unblocks"
    );
}

#[test]
fn rescheduled_ops_wait_for_their_time_without_blocking_other_tasks() {
    let mut fx = fixture();
    let op = fx.queue(fx.work, Some(fx.a), transition("accept")).unwrap();
    let other = fx
        .queue(fx.work, Some(fx.b), transition("anything"))
        .unwrap();
    let id = op.op_id.to_string();
    let later = now().checked_add(60.seconds()).unwrap();
    fx.apply(|tx| mark_sending(tx, &id, now())).unwrap();
    let back = fx
        .apply(|tx| reschedule(tx, &id, "transient", "503", later, now()))
        .unwrap();
    assert_eq!((back.state, back.attempts), (OpState::Pending, 1));
    assert_eq!(fx.row(fx.a).state, State::InProgress, "still expected");
    let ready_now: Vec<_> = ready(fx.r.conn(), fx.work, now(), &[], usize::MAX).unwrap();
    assert_eq!(
        ready_now.iter().map(|o| o.op_id).collect::<Vec<_>>(),
        vec![other.op_id]
    );
    let ready_later = ready(fx.r.conn(), fx.work, later, &[], usize::MAX).unwrap();
    assert_eq!(ready_later.len(), 2);
}

#[test]
fn ready_ops_come_in_queue_order_up_to_the_limit_leaving_out_the_skipped() {
    let mut fx = fixture();
    let a1 = fx.queue(fx.work, Some(fx.a), transition("accept")).unwrap();
    let _a2 = fx
        .queue(
            fx.work,
            Some(fx.a),
            OpRequest::CommentAdd {
                text: "done".into(),
            },
        )
        .unwrap();
    let b1 = fx.queue(fx.work, Some(fx.b), transition("accept")).unwrap();
    let ids = |ops: Vec<Op>| ops.iter().map(|o| o.op_id).collect::<Vec<_>>();
    // One op per task: a's second op waits behind its first.
    let all = ready(fx.r.conn(), fx.work, now(), &[], usize::MAX).unwrap();
    assert_eq!(ids(all), vec![a1.op_id, b1.op_id]);
    let first = ready(fx.r.conn(), fx.work, now(), &[], 1).unwrap();
    assert_eq!(ids(first), vec![a1.op_id]);
    // Skipping a1 does not promote a2: a1 is still unfinished.
    let rest = ready(fx.r.conn(), fx.work, now(), &[a1.seq], 5).unwrap();
    assert_eq!(ids(rest), vec![b1.op_id]);
}

#[test]
fn a_pending_op_rescheduled_before_sending_counts_the_attempt_and_stays_pending() {
    let mut fx = fixture();
    let op = fx.queue(fx.work, Some(fx.a), transition("accept")).unwrap();
    let id = op.op_id.to_string();
    let later = now().checked_add(60.seconds()).unwrap();
    let back = fx
        .apply(|tx| reschedule(tx, &id, "transient", "fetch: 503", later, now()))
        .unwrap();
    assert_eq!((back.state, back.attempts), (OpState::Pending, 1));
    assert_eq!(back.last_error.as_deref(), Some("fetch: 503"));
    assert!(
        ready(fx.r.conn(), fx.work, now(), &[], usize::MAX)
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        ready(fx.r.conn(), fx.work, later, &[], usize::MAX)
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn ops_are_checked_against_the_offered_actions() {
    let mut fx = fixture();
    let cases: Vec<(i64, i64, OpRequest, &str)> = vec![
        (
            fx.work,
            fx.a,
            transition("close"),
            "offered: accept, reassign, modify-deadline",
        ),
        (fx.work, fx.a, transition("reassign"), "needs responsible"),
        (
            fx.work,
            fx.a,
            with_param("modify-deadline", "new_deadline", "soon"),
            "not a valid date",
        ),
        (fx.work, fx.a, transition(" "), "needs an id"),
        (
            fx.work,
            fx.a,
            OpRequest::CommentAdd { text: "  ".into() },
            "cannot be empty",
        ),
        (
            fx.work,
            fx.a,
            OpRequest::CommentEdit {
                comment: "c9".into(),
                text: "x".into(),
            },
            "has no comment c9",
        ),
        (
            fx.work,
            fx.a,
            OpRequest::CommentDelete {
                comment: "c9".into(),
            },
            "has no comment c9",
        ),
        (
            fx.field,
            fx.f,
            OpRequest::QuickAction {
                action: "action3".into(),
            },
            "action1 or action2",
        ),
        (
            fx.field,
            fx.f,
            OpRequest::QuickAction {
                action: "action2".into(),
            },
            "action2 is not offered",
        ),
        (
            fx.field,
            fx.f,
            OpRequest::FormPush { fields: vec![] },
            "at least one field",
        ),
        (
            fx.field,
            fx.f,
            OpRequest::FormPush {
                fields: vec![FormValue {
                    id: "FORMITM_9".into(),
                    value: "x".into(),
                    field_type: None,
                }],
            },
            "no field FORMITM_9",
        ),
        (
            fx.field,
            fx.f,
            OpRequest::FormPush {
                fields: vec![FormValue {
                    id: "FORMITM_2".into(),
                    value: "x".into(),
                    field_type: None,
                }],
            },
            "needs FORMITM_1",
        ),
        (
            fx.field,
            fx.a,
            transition("accept"),
            "belongs to another account",
        ),
    ];
    for (account, task, request, message) in cases {
        let summary = request.summary();
        let err = fx.queue(account, Some(task), request).unwrap_err();
        assert!(err.to_string().contains(message), "{summary}: {err}");
        assert_eq!(err.kind(), crate::ErrorKind::Invalid, "{summary}");
    }
    assert!(
        list(fx.r.conn(), &[]).unwrap().is_empty(),
        "nothing was queued"
    );
    assert!(
        fx.r.conn()
            .query_row(
                "SELECT count(*) = 0 FROM tasks WHERE pending_effect IS NOT NULL",
                [],
                |r| r.get::<_, bool>(0)
            )
            .unwrap()
    );
}

#[test]
fn without_fetched_actions_an_op_is_queued_unchecked_and_without_effect() {
    let mut fx = fixture();
    let op = fx
        .queue(fx.work, Some(fx.b), transition("whatever-the-server-says"))
        .unwrap();
    assert_eq!(op.effect, None);
    let row = fx.row(fx.b);
    assert_eq!((row.state, row.pending), (State::Open, 1));
}

#[test]
fn form_pushes_and_quick_actions_expect_the_step_to_be_done() {
    let mut fx = fixture();
    let push = OpRequest::FormPush {
        fields: vec![FormValue {
            id: "FORMITM_1".into(),
            value: "審核通過".into(),
            field_type: Some("text".into()),
        }],
    };
    fx.queue(fx.field, Some(fx.f), push).unwrap();
    assert_eq!(fx.row(fx.f).state, State::Resolved);
    fx.queue(
        fx.field,
        Some(fx.f),
        OpRequest::QuickAction {
            action: "action1".into(),
        },
    )
    .unwrap();
    assert_eq!(
        fx.row(fx.f).state,
        State::Closed,
        "later ops fold over earlier ones"
    );
}

#[test]
fn queued_comments_show_in_the_detail_and_can_be_amended_before_sending() {
    let mut fx = fixture();
    let add = fx
        .queue(
            fx.work,
            Some(fx.a),
            OpRequest::CommentAdd {
                text: "on my way".into(),
            },
        )
        .unwrap();
    fx.queue(
        fx.work,
        Some(fx.a),
        OpRequest::CommentEdit {
            comment: "c1".into(),
            text: "first!".into(),
        },
    )
    .unwrap();
    let detail = fx.r.task(fx.a).unwrap();
    let texts: Vec<(&str, bool)> = detail
        .comments
        .iter()
        .map(|c| (c.comment.text.as_str(), c.pending.is_some()))
        .collect();
    assert_eq!(texts, vec![("first!", true), ("on my way", true)]);
    let pending_id = format!("pending:{}", add.op_id);
    let amended = fx
        .queue(
            fx.work,
            Some(fx.a),
            OpRequest::CommentEdit {
                comment: pending_id.clone(),
                text: "on my way now".into(),
            },
        )
        .unwrap();
    assert_eq!(
        amended.op_id, add.op_id,
        "the queued add was changed, no new op"
    );
    assert_eq!(
        amended.request,
        OpRequest::CommentAdd {
            text: "on my way now".into()
        }
    );
    let withdrawn = fx
        .queue(
            fx.work,
            Some(fx.a),
            OpRequest::CommentDelete {
                comment: pending_id,
            },
        )
        .unwrap();
    assert_eq!(withdrawn.state, OpState::Cancelled);
    let detail = fx.r.task(fx.a).unwrap();
    assert_eq!(detail.comments.len(), 1);
    assert_eq!(detail.ops.len(), 1, "only the edit of c1 is left");
}

#[test]
fn editing_an_op_changes_its_effect_but_not_its_kind() {
    let mut fx = fixture();
    let op = fx
        .queue(
            fx.work,
            Some(fx.a),
            with_param("reassign", "responsible", "bob"),
        )
        .unwrap();
    let id = op.op_id.to_string();
    let edited = fx
        .apply(|tx| {
            edit(
                tx,
                &id,
                with_param("reassign", "responsible", "carol"),
                now(),
            )
        })
        .unwrap();
    assert_eq!(edited.state, OpState::Pending);
    assert_eq!(fx.row(fx.a).assignee.as_deref(), Some("carol"));
    let err = fx
        .apply(|tx| edit(tx, &id, OpRequest::CommentAdd { text: "x".into() }, now()))
        .unwrap_err();
    assert!(err.to_string().contains("cannot become"), "{err}");
    // A conflicting op edited becomes pending again.
    fx.apply(|tx| mark_sending(tx, &id, now())).unwrap();
    fx.apply(|tx| mark_conflict(tx, &id, "reassigned meanwhile", now()))
        .unwrap();
    let again = fx
        .apply(|tx| {
            edit(
                tx,
                &id,
                with_param("reassign", "responsible", "dave"),
                now(),
            )
        })
        .unwrap();
    assert_eq!((again.state, again.last_error), (OpState::Pending, None));
    assert_eq!(fx.row(fx.a).assignee.as_deref(), Some("dave"));
}

#[test]
fn a_new_task_shows_at_once_and_discarding_it_removes_it_and_its_ops() {
    let mut fx = fixture();
    let new = NewTask {
        title: "現場確認 Baustelle".into(),
        description: String::new(),
        kind: Some("direct-execution".into()),
        assignee: Some("alice".into()),
        group: None,
        issuer: Some("alice".into()),
        deadline: Some("2026-12-01".parse().unwrap()),
        parent_key: None,
        position: None,
        process: Some("/ordnungssystem/dossier-1".into()),
        fields: vec![],
    };
    let op = fx.queue(fx.work, None, OpRequest::CreateTask(new)).unwrap();
    let task = op.task_id.expect("a placeholder task");
    let row = fx.row(task);
    assert!(row.local_only);
    assert_eq!(row.key, format!("local:{}", op.op_id));
    let found = fx.r.query(&Query::default().search("現場")).unwrap();
    assert_eq!(found.iter().map(|r| r.id).collect::<Vec<_>>(), vec![task]);
    let comment = fx
        .queue(
            fx.work,
            Some(task),
            OpRequest::CommentAdd {
                text: "note".into(),
            },
        )
        .unwrap();
    let id = op.op_id.to_string();
    fx.apply(|tx| cancel(tx, &id, now())).unwrap();
    assert!(matches!(
        tasks::row(fx.r.conn(), task),
        Err(Error::TaskNotFound(_))
    ));
    assert_eq!(
        get(fx.r.conn(), &comment.op_id.to_string()).unwrap().state,
        OpState::Cancelled
    );
    assert!(
        fx.r.query(&Query::default().search("現場"))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn claims_belong_to_the_account_and_their_parameters_are_checked() {
    let mut fx = fixture();
    let claim = |fetch_count, filter: Option<&str>| OpRequest::Allocate {
        participant: Some("alice".into()),
        filter: filter.map(String::from),
        sort: Some("Priority DESC".into()),
        fetch_count,
    };
    let op = fx
        .queue(fx.work, None, claim(10, Some("Participant='Lane1'")))
        .unwrap();
    assert_eq!((op.task_id, op.kind), (None, OpKind::Allocate));
    assert_eq!(
        ready(fx.r.conn(), fx.work, now(), &[], usize::MAX)
            .unwrap()
            .len(),
        1
    );
    for (bad, message) in [
        (claim(-2, None), "fetch count"),
        (claim(0, None), "fetch count"),
        (claim(1, Some(" ")), "filter is empty"),
    ] {
        let err = fx.queue(fx.work, None, bad).unwrap_err();
        assert!(err.to_string().contains(message), "{err}");
    }
    let err = fx.queue(fx.work, Some(fx.a), claim(1, None)).unwrap_err();
    assert!(err.to_string().contains("not for a task"), "{err}");
}

#[test]
fn a_queue_inside_a_failing_write_leaves_no_trace() {
    let mut fx = fixture();
    let a = fx.a;
    let work = fx.work;
    let result: Result<()> = fx.r.write(|tx| {
        queue(tx, work, Some(a), transition("accept"), now())?;
        Err(Error::Invalid("something else failed".into()))
    });
    assert!(result.is_err());
    assert!(list(fx.r.conn(), &[]).unwrap().is_empty());
    assert_eq!(fx.row(a).state, State::Open);
}

#[test]
fn ops_are_found_by_uuid_or_unambiguous_prefix() {
    let mut fx = fixture();
    let op = fx.queue(fx.work, Some(fx.a), transition("accept")).unwrap();
    let full = op.op_id.to_string();
    assert_eq!(get(fx.r.conn(), &full).unwrap().seq, op.seq);
    assert_eq!(get(fx.r.conn(), &op.short_id()).unwrap().seq, op.seq);
    assert_eq!(
        get(fx.r.conn(), &op.short_id().to_uppercase()).unwrap().seq,
        op.seq
    );
    for bad in ["", "abc", "zzzzzzzz", "'; --"] {
        assert!(
            matches!(get(fx.r.conn(), bad), Err(Error::OpNotFound(_))),
            "{bad:?}"
        );
    }
}

#[test]
fn server_updates_leave_pending_effects_in_place() {
    let mut fx = fixture();
    fx.queue(fx.work, Some(fx.a), transition("accept")).unwrap();
    let mut changed = TaskRecord::new("a", "Bitte prüfen (neu)", State::Open);
    changed.assignee = Some("alice".into());
    let work = fx.work;
    fx.r.write(|tx| tasks::upsert(tx, work, &[changed], now()))
        .unwrap();
    let row = fx.row(fx.a);
    assert_eq!(row.title, "Bitte prüfen (neu)");
    assert_eq!(
        (row.state, row.server_state),
        (State::InProgress, State::Open)
    );
}

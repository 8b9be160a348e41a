//! Before an op is sent, its precondition is checked against the task's
//! fresh server state. A failed precondition makes the op a conflict with a
//! reason the user can act on; nothing is sent. This is a pure function of
//! the op and the fresh state, so it is tested without a network.
//!
//! | op kind | holds when |
//! |---|---|
//! | transition | the task is still in view and the transition is still offered |
//! | comment add | the task is still in view |
//! | comment edit / delete | the comment still exists on the server, with the text the user saw when editing (an edit made elsewhere in between is not overwritten) |
//! | form push / quick action | the ticket is still at the stop the user acted on (the stop is part of the task's key, so a moved ticket is a task no longer in view) and the action is still offered |
//! | claim | always (the server picks the item) |
//! | create | the parent, if any, is still in view |
//!
//! Where the server did not say which actions it offers, the transition is
//! sent and the server decides.

use crate::model::TaskRecord;
use crate::outbox::{Op, OpRequest};

/// Why an op cannot be sent as it is, for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict(pub String);

/// The server's word for the task's state, or the normalized one.
fn shown_state(task: &TaskRecord) -> &str {
    if task.status_text.is_empty() {
        task.state.as_str()
    } else {
        &task.status_text
    }
}

pub fn check(op: &Op, fresh: Option<&TaskRecord>) -> Result<(), Conflict> {
    let offered = |id: &str| -> Option<bool> {
        fresh
            .and_then(|t| t.actions.as_ref())
            .map(|actions| actions.iter().any(|a| a.id == id))
    };
    let in_view = || -> Result<&TaskRecord, Conflict> {
        fresh.ok_or_else(|| {
            Conflict("the task is no longer in your view on the server (it was closed, moved on or reassigned)".into())
        })
    };
    match &op.request {
        OpRequest::Allocate { .. } | OpRequest::CreateTask(_) => Ok(()),
        OpRequest::CommentAdd { .. } => in_view().map(|_| ()),
        OpRequest::Transition { transition, .. } => {
            let task = in_view()?;
            match offered(transition) {
                Some(false) => Err(Conflict(format!(
                    "\u{201c}{transition}\u{201d} is no longer offered for this task; it is now {} ({})",
                    task.state.as_str(),
                    shown_state(task)
                ))),
                _ => Ok(()),
            }
        }
        OpRequest::FormPush { .. } | OpRequest::QuickAction { .. } => {
            let task = in_view()?;
            let id = match &op.request {
                OpRequest::QuickAction { action } => action.as_str(),
                _ => "push",
            };
            match offered(id) {
                Some(false) => Err(Conflict(format!(
                    "the form can no longer be submitted here: the task is now {}",
                    shown_state(task)
                ))),
                _ => Ok(()),
            }
        }
        OpRequest::CommentEdit { comment, .. } | OpRequest::CommentDelete { comment } => {
            let task = in_view()?;
            let Some(comments) = &task.comments else {
                return Ok(());
            };
            let Some(now) = comments.iter().find(|c| &c.remote_id == comment) else {
                return Err(Conflict("the comment was deleted on the server".into()));
            };
            let seen = op
                .base
                .as_ref()
                .and_then(|b| b.get("comment_text"))
                .and_then(|t| t.as_str());
            match seen {
                Some(seen) if seen.trim() != now.text.trim() => Err(Conflict(format!(
                    "the comment was changed on the server since you edited it; it now reads \u{201c}{}\u{201d}",
                    now.text
                ))),
                _ => Ok(()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Action, Comment, State};
    use crate::outbox::{OpKind, OpState};

    fn op(request: OpRequest) -> Op {
        Op {
            seq: 1,
            op_id: uuid::Uuid::new_v4(),
            account_id: 1,
            task_id: Some(1),
            kind: request.kind(),
            request,
            effect: None,
            base: None,
            state: OpState::Pending,
            attempts: 0,
            last_error: None,
            error_kind: None,
            not_before: None,
            result: None,
            created_at: None,
            updated_at: None,
        }
    }

    fn task(actions: Option<&[&str]>, comments: Option<&[&str]>) -> TaskRecord {
        let mut t = TaskRecord::new("k", "t", State::InProgress);
        t.status_text = "task-state-in-progress".into();
        t.actions = actions.map(|ids| {
            ids.iter()
                .map(|id| Action {
                    id: id.to_string(),
                    label: id.to_string(),
                    to_state: None,
                    params: vec![],
                })
                .collect()
        });
        t.comments = comments.map(|ids| {
            ids.iter()
                .map(|id| Comment {
                    remote_id: id.to_string(),
                    author: None,
                    text: "x".into(),
                    created: None,
                    modified: None,
                })
                .collect()
        });
        t
    }

    fn transition(id: &str) -> OpRequest {
        OpRequest::Transition {
            transition: id.into(),
            text: None,
            params: Default::default(),
        }
    }

    #[test]
    fn a_transition_needs_the_task_in_view_and_the_transition_offered() {
        let close = op(transition("task-transition-in-progress-resolved"));
        assert_eq!(close.kind, OpKind::Transition);
        let offered = task(Some(&["task-transition-in-progress-resolved"]), None);
        assert!(check(&close, Some(&offered)).is_ok());
        let Err(Conflict(reason)) = check(&close, Some(&task(Some(&["other"]), None))) else {
            panic!("no conflict");
        };
        assert!(reason.contains("no longer offered"), "{reason}");
        assert!(reason.contains("task-state-in-progress"), "{reason}");
        assert!(
            check(&close, None)
                .unwrap_err()
                .0
                .contains("no longer in your view")
        );
        // Unknown offers: the server decides.
        assert!(check(&close, Some(&task(None, None))).is_ok());
    }

    #[test]
    fn an_edit_or_delete_needs_the_comment_to_exist() {
        for request in [
            OpRequest::CommentEdit {
                comment: "c2".into(),
                text: "new".into(),
            },
            OpRequest::CommentDelete {
                comment: "c2".into(),
            },
        ] {
            let op = op(request);
            assert!(check(&op, Some(&task(None, Some(&["c1", "c2"])))).is_ok());
            let err = check(&op, Some(&task(None, Some(&["c1"])))).unwrap_err();
            assert!(err.0.contains("deleted on the server"), "{}", err.0);
        }
    }

    #[test]
    fn an_edit_or_delete_of_a_comment_changed_on_the_server_since_is_a_conflict() {
        // The comments of `task` read "x".
        let fresh = task(None, Some(&["c1"]));
        for request in [
            OpRequest::CommentEdit {
                comment: "c1".into(),
                text: "mine".into(),
            },
            OpRequest::CommentDelete {
                comment: "c1".into(),
            },
        ] {
            let mut seen_x = op(request.clone());
            seen_x.base = Some(serde_json::json!({"state": "open", "comment_text": "x"}));
            assert!(check(&seen_x, Some(&fresh)).is_ok());
            let mut seen_other = op(request.clone());
            seen_other.base = Some(serde_json::json!({"comment_text": "before"}));
            let Err(Conflict(reason)) = check(&seen_other, Some(&fresh)) else {
                panic!("no conflict");
            };
            assert!(reason.contains("changed on the server"), "{reason}");
            assert!(
                reason.contains("\u{201c}x\u{201d}"),
                "the server's text: {reason}"
            );
            // Ops queued before bases held the text are sent as before.
            assert!(check(&op(request), Some(&fresh)).is_ok());
        }
    }

    #[test]
    fn a_push_or_quick_action_needs_the_stop_still_offering_it() {
        let push = op(OpRequest::FormPush { fields: vec![] });
        let quick = op(OpRequest::QuickAction {
            action: "action1".into(),
        });
        let here = task(Some(&["push", "action1"]), None);
        assert!(check(&push, Some(&here)).is_ok());
        assert!(check(&quick, Some(&here)).is_ok());
        let done = task(Some(&[]), None);
        assert!(check(&push, Some(&done)).is_err());
        assert!(check(&quick, Some(&done)).is_err());
        assert!(check(&quick, None).is_err());
    }

    #[test]
    fn claims_and_comments_on_tasks_in_view_always_go() {
        let claim = op(OpRequest::Allocate {
            participant: None,
            filter: None,
            sort: None,
            fetch_count: 10,
        });
        assert!(check(&claim, None).is_ok());
        let comment = op(OpRequest::CommentAdd { text: "hi".into() });
        assert!(check(&comment, Some(&task(Some(&[]), None))).is_ok());
        assert!(check(&comment, None).is_err());
    }
}

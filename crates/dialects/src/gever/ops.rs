//! Executing outbox ops on GEVER, and telling afterwards whether one took
//! effect.
//!
//! | op | request | success |
//! |---|---|---|
//! | transition | `POST <task>/@workflow/<id>` `{text, …params}` | 200 |
//! | `@transfer-task` | `POST <task>/@transfer-task` `{old_userid, new_userid}` | 204 |
//! | comment | `POST <task>/@responses` `{text}` | 201 |
//! | comment edit | `PATCH <task>/@responses/<id>` `{text}` | 204 |
//! | comment delete | `DELETE <task>/@responses/<id>` | 204 |
//! | new task | `POST <dossier or parent task>` `{@type, title, responsible, issuer, task_type, …}` | 201 |

use reqwest::Method;
use serde_json::{Map, Value, json};
use tasklane_core::model::{Action, HistoryEntry, ParamKind, ParamSpec, TaskRecord};
use tasklane_core::outbox::{NewTask, Op, OpRequest};
use tasklane_core::remote::{Applied, Outcome, RemoteError};
use url::Url;

use super::normalize::TRANSFER_TASK;
use super::wire::{ResponseText, SelfLink, TASK_TYPE, TaskCreate, TransferTask, TransitionRequest};
use super::{GeverClient, sub_url};
use crate::classify::{self, Effect};
use crate::transport::RESEND_SAFE;

/// A response counts as this op's if it was written at most this long
/// before the op was queued (the server's clock may run behind ours).
const CLOCK_SKEW: jiff::SignedDuration = jiff::SignedDuration::from_mins(5);

/// `@transfer-task` as an action, offered to administrators.
pub(super) fn transfer_action() -> Action {
    let actor = |name: &str, label: &str| ParamSpec {
        name: name.into(),
        label: label.into(),
        kind: ParamKind::Actor,
        required: true,
        sets: None,
        wire_type: None,
    };
    Action {
        id: TRANSFER_TASK.into(),
        label: "Aufgabe übertragen".into(),
        to_state: None,
        params: vec![
            actor("old_userid", "Bisheriger Benutzer"),
            actor("new_userid", "Neuer Benutzer"),
        ],
    }
}

impl GeverClient {
    pub(super) async fn execute_op(
        &self,
        op: &Op,
        task: Option<&TaskRecord>,
    ) -> Result<Outcome, RemoteError> {
        match &op.request {
            OpRequest::Transition {
                transition, params, ..
            } if transition == TRANSFER_TASK => {
                let url = self.op_url(op, task).await?;
                let text_of = |name: &str| {
                    params
                        .get(name)
                        .and_then(Value::as_str)
                        .map(str::to_string)
                        .ok_or_else(|| classify::permanent(format!("@transfer-task needs {name}")))
                };
                let body = TransferTask {
                    old_userid: text_of("old_userid")?,
                    new_userid: text_of("new_userid")?,
                };
                let body = serde_json::to_value(body).unwrap_or_default();
                self.write(
                    Method::POST,
                    sub_url(&url, "@transfer-task")?,
                    Some(&body),
                    op,
                    204,
                    "transferring the task",
                )
                .await
            }
            OpRequest::Transition {
                transition,
                text,
                params,
            } => {
                check_id(transition, "transition")?;
                let url = self.op_url(op, task).await?;
                let body = TransitionRequest {
                    text: text.clone().filter(|t| !t.is_empty()),
                    params: transition_params(params),
                };
                let body = serde_json::to_value(body).unwrap_or_default();
                let target = sub_url(&url, &format!("@workflow/{transition}"))?;
                self.write(
                    Method::POST,
                    target,
                    Some(&body),
                    op,
                    200,
                    "running the transition",
                )
                .await
            }
            OpRequest::CommentAdd { text } => {
                let url = self.op_url(op, task).await?;
                let body =
                    serde_json::to_value(ResponseText { text: text.clone() }).unwrap_or_default();
                self.write(
                    Method::POST,
                    sub_url(&url, "@responses")?,
                    Some(&body),
                    op,
                    201,
                    "adding the comment",
                )
                .await
            }
            OpRequest::CommentEdit { comment, text } => {
                check_response_id(comment)?;
                let url = self.op_url(op, task).await?;
                let body =
                    serde_json::to_value(ResponseText { text: text.clone() }).unwrap_or_default();
                let target = sub_url(&url, &format!("@responses/{comment}"))?;
                self.write(
                    Method::PATCH,
                    target,
                    Some(&body),
                    op,
                    204,
                    "editing the comment",
                )
                .await
            }
            OpRequest::CommentDelete { comment } => {
                check_response_id(comment)?;
                let url = self.op_url(op, task).await?;
                let target = sub_url(&url, &format!("@responses/{comment}"))?;
                self.write(
                    Method::DELETE,
                    target,
                    None,
                    op,
                    204,
                    "deleting the comment",
                )
                .await
            }
            OpRequest::CreateTask(new) => self.create(op, new).await,
            other => Err(classify::permanent(format!(
                "GEVER has no {} (it offers transitions, comments and new tasks)",
                other.kind()
            ))),
        }
    }

    async fn write(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
        op: &Op,
        expect: u16,
        what: &str,
    ) -> Result<Outcome, RemoteError> {
        let reply = self
            .send(method, url, body, Effect::Write, Some(op.op_id))
            .await?;
        if reply.status != expect && !(expect == 204 && reply.status == 200) {
            return Err(self.failure(&reply, what, Effect::Write).await);
        }
        let result = if reply.body.is_empty() {
            json!({"status": reply.status})
        } else {
            reply.json::<Value>(what)?
        };
        let key = result
            .get("oguid")
            .and_then(Value::as_str)
            .filter(|_| matches!(op.request, OpRequest::CreateTask(_)))
            .map(str::to_string);
        Ok(Outcome { result, key })
    }

    /// The URL of the task an op is about.
    async fn op_url(&self, op: &Op, task: Option<&TaskRecord>) -> Result<Url, RemoteError> {
        if let Some(id) = task
            .and_then(|t| t.payload.parse::<SelfLink>().ok())
            .and_then(|link| Url::parse(&link.id).ok())
        {
            return Ok(id);
        }
        let key = op_key(op, task)?;
        self.locate(&key).await?.ok_or_else(|| {
            classify::permanent(format!("task {key} is no longer visible to you on GEVER"))
        })
    }

    async fn create(&self, op: &Op, new: &NewTask) -> Result<Outcome, RemoteError> {
        let container = match (&new.parent_key, &new.process) {
            (Some(parent), _) => self.locate(parent).await?.ok_or_else(|| {
                classify::permanent(format!("the parent task {parent} is not visible to you"))
            })?,
            (None, Some(process)) if !process.trim().is_empty() => match Url::parse(process) {
                Ok(url) => url,
                Err(_) => self.http.url(process.trim())?,
            },
            _ => {
                return Err(classify::permanent(
                    "a new GEVER task needs a dossier (process) or a parent task",
                ));
            }
        };
        let me = self.me().await?;
        let responsible = new
            .assignee
            .clone()
            .or_else(|| new.group.clone())
            .filter(|r| !r.trim().is_empty())
            .ok_or_else(|| classify::permanent("a new GEVER task needs a responsible"))?;
        let body = TaskCreate {
            portal_type: TASK_TYPE.into(),
            title: new.title.clone(),
            responsible,
            issuer: new.issuer.clone().unwrap_or_else(|| me.id.clone()),
            responsible_client: None,
            task_type: new
                .kind
                .clone()
                .unwrap_or_else(|| "direct-execution".into()),
            deadline: new.deadline.map(|d| d.day().to_string()),
            text: Some(new.description.clone()).filter(|d| !d.is_empty()),
            position: new.position,
            extra: Map::new(),
        };
        let body = serde_json::to_value(body).unwrap_or_default();
        self.write(
            Method::POST,
            container,
            Some(&body),
            op,
            201,
            "creating the task",
        )
        .await
    }

    /// Whether an op that may have reached the server took effect.
    ///
    /// - With idempotency keys (tasklane's own server): unknown, and safe to
    ///   send again with the same key.
    /// - Transition: the task's history has this transition by this user,
    ///   written after the op was queued (less clock skew). `@transfer-task`
    ///   shows as a reassignment or issuer change by this user.
    /// - Comment: a comment with this text by this user, written after the
    ///   op was queued. Edit: the comment has the new text. Delete: the
    ///   comment is gone.
    /// - New task: a task issued by this user with this title, created after
    ///   the op was queued.
    /// - A task the user can no longer see: unknown (final transitions may
    ///   revoke the user's access, so its absence proves nothing).
    pub(super) async fn applied_op(
        &self,
        op: &Op,
        task: Option<&TaskRecord>,
    ) -> Result<Applied, RemoteError> {
        if self.http.idempotency_keys() {
            return Ok(Applied::Unknown(RESEND_SAFE.into()));
        }
        let since = op.created_at.and_then(|t| t.checked_sub(CLOCK_SKEW).ok());
        let after = |at: Option<jiff::Timestamp>| match (since, at) {
            (Some(since), Some(at)) => at >= since,
            _ => true,
        };
        if let OpRequest::CreateTask(new) = &op.request {
            return self.created(new, &after).await;
        }
        let fresh;
        let task = match task.filter(|t| t.history.is_some()) {
            Some(t) => t,
            None => {
                fresh = self.fetch_task(&op_key(op, task)?).await?;
                match fresh.as_ref() {
                    Some(t) => t,
                    None => {
                        return Ok(Applied::Unknown(
                            "the task is no longer visible to you, so its history cannot be read"
                                .into(),
                        ));
                    }
                }
            }
        };
        let me = self.me().await?;
        let history = task.history.as_deref().unwrap_or_default();
        let comments = task.comments.as_deref().unwrap_or_default();
        let by_me = |h: &&HistoryEntry| h.actor.as_deref() == Some(me.id.as_str()) && after(h.at);
        let yes = |result: Value| Applied::Yes(Outcome { result, key: None });
        Ok(match &op.request {
            OpRequest::Transition { transition, .. } => {
                let names: &[&str] = if transition == TRANSFER_TASK {
                    &["task-transition-reassign", "task-transition-change-issuer"]
                } else {
                    &[transition.as_str()]
                };
                match history
                    .iter()
                    .filter(by_me)
                    .find(|h| names.contains(&h.action.as_str()))
                {
                    Some(h) => yes(serde_json::to_value(h).unwrap_or_default()),
                    None => Applied::No,
                }
            }
            OpRequest::CommentAdd { text } => match comments.iter().find(|c| {
                c.text == *text && c.author.as_deref() == Some(me.id.as_str()) && after(c.created)
            }) {
                Some(c) => yes(serde_json::to_value(c).unwrap_or_default()),
                None => Applied::No,
            },
            OpRequest::CommentEdit { comment, text } => {
                match comments.iter().find(|c| c.remote_id == *comment) {
                    Some(c) if c.text == *text => yes(serde_json::to_value(c).unwrap_or_default()),
                    Some(_) => Applied::No,
                    None => Applied::Unknown(format!("comment {comment} no longer exists")),
                }
            }
            OpRequest::CommentDelete { comment } => {
                if comments.iter().any(|c| c.remote_id == *comment) {
                    Applied::No
                } else {
                    yes(json!({"deleted": comment}))
                }
            }
            _ => Applied::No,
        })
    }

    async fn created(
        &self,
        new: &NewTask,
        after: &impl Fn(Option<jiff::Timestamp>) -> bool,
    ) -> Result<Applied, RemoteError> {
        let me = self.me().await?;
        let index = self
            .index_page(&[
                ("filters.issuer:record", me.id.clone()),
                ("sort_on", "created".into()),
                ("sort_order", "descending".into()),
                ("b_size", "50".into()),
            ])
            .await?;
        let found = index.items.iter().find(|i| {
            i.title == new.title && after(i.created.as_ref().and_then(|t| t.to_timestamp(&self.tz)))
        });
        Ok(match found {
            Some(item) => Applied::Yes(Outcome {
                result: serde_json::to_value(item).unwrap_or_default(),
                key: Some(item.oguid.clone()),
            }),
            None => Applied::No,
        })
    }
}

/// Transition parameters as GEVER's schema wants them: the documented
/// `"true"` for `pass_documents_to_next_task` is a Bool field.
fn transition_params(params: &Map<String, Value>) -> Map<String, Value> {
    params
        .iter()
        .map(|(k, v)| {
            let v = match (k.as_str(), v) {
                ("pass_documents_to_next_task", Value::String(s)) => Value::Bool(s == "true"),
                _ => v.clone(),
            };
            (k.clone(), v)
        })
        .collect()
}

fn op_key(op: &Op, task: Option<&TaskRecord>) -> Result<String, RemoteError> {
    task.map(|t| t.key.clone())
        .or_else(|| {
            op.base
                .as_ref()
                .and_then(|b| b.get("key"))
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .ok_or_else(|| classify::permanent("the op does not say which GEVER task it is for"))
}

/// Ids that become path segments: letters, digits, `-` and `_` only.
fn check_id(id: &str, what: &str) -> Result<(), RemoteError> {
    if !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        Ok(())
    } else {
        Err(classify::permanent(format!(
            "{id:?} is not a GEVER {what} id"
        )))
    }
}

fn check_response_id(id: &str) -> Result<(), RemoteError> {
    if !id.is_empty() && id.chars().all(|c| c.is_ascii_digit()) {
        Ok(())
    } else {
        Err(classify::permanent(format!(
            "{id:?} is not a GEVER comment id"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pass_documents_is_sent_as_a_bool() {
        let mut params = Map::new();
        params.insert("pass_documents_to_next_task".into(), "true".into());
        params.insert("new_deadline".into(), "2019-11-23".into());
        let sent = transition_params(&params);
        assert_eq!(sent["pass_documents_to_next_task"], Value::Bool(true));
        assert_eq!(sent["new_deadline"], "2019-11-23");
    }

    #[test]
    fn ids_that_would_change_the_url_are_refused() {
        assert!(check_id("task-transition-open-in-progress", "transition").is_ok());
        for bad in ["", "../@transfer-task", "a/b", "x?y"] {
            assert!(check_id(bad, "transition").is_err(), "{bad}");
        }
        assert!(check_response_id("1569875801956269").is_ok());
        assert!(check_response_id("pending:abc").is_err());
    }

    #[test]
    fn transfer_is_offered_with_both_user_ids_required() {
        let a = transfer_action();
        assert_eq!(a.id, "@transfer-task");
        assert!(a.params.iter().all(|p| p.required));
    }
}

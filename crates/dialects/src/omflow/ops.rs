//! Executing outbox ops on OMFLOW, and telling afterwards whether one took
//! effect.
//!
//! | op | request |
//! |---|---|
//! | form push | `omdata/edit/<api_path>` `{action: "update", data_id, formdata: [{id, value, type}]}` |
//! | quick action | same URL, `{action: "update", data_id, quick_action}` |
//! | comment | `omdata-worklog/create/` `{api_path, flow_uuid, data_no, data_id, content}` |
//! | new task | `omdata/edit/<api_path>` `{action: "create", formdata}` |
//!
//! `data_id` changes on every push, so it is always taken from the task's
//! fresh state (or looked up by the stable key), never from the replica.

use serde_json::{Value, json};
use tasklane_core::model::TaskRecord;
use tasklane_core::outbox::effect::PUSH_ACTION;
use tasklane_core::outbox::{FormValue, NewTask, Op, OpRequest};
use tasklane_core::remote::{Applied, Outcome, RemoteError};

use super::normalize::{self, Key};
use super::session::check;
use super::wire::{
    EditAction, FormItem, MissionRow, OmDataEditRequest, RESTAPI_FLAG, WorkLogRequest, paths,
};
use super::{Condition, OmflowClient};
use crate::classify::{self, Effect};
use crate::transport::RESEND_SAFE;

/// A work-log entry counts as this op's if it was written at most this long
/// before the op was queued (the server's clock may run behind ours).
const CLOCK_SKEW: jiff::SignedDuration = jiff::SignedDuration::from_mins(5);

impl OmflowClient {
    pub(super) async fn execute_op(
        &self,
        op: &Op,
        task: Option<&TaskRecord>,
    ) -> Result<Outcome, RemoteError> {
        match &op.request {
            OpRequest::FormPush { fields } => {
                let row = self.op_row(op, task).await?;
                let items = form_items(fields, task);
                self.edit(&row, op, "pushing the ticket", |security| {
                    OmDataEditRequest {
                        security,
                        omflow_restapi: RESTAPI_FLAG,
                        action: EditAction::Update,
                        data_id: Some(row.data_id),
                        formdata: Some(items.clone()),
                        quick_action: None,
                        start_input: None,
                    }
                })
                .await
            }
            OpRequest::QuickAction { action } => {
                let row = self.op_row(op, task).await?;
                self.edit(&row, op, "running the quick action", |security| {
                    OmDataEditRequest {
                        security,
                        omflow_restapi: RESTAPI_FLAG,
                        action: EditAction::Update,
                        data_id: Some(row.data_id),
                        formdata: None,
                        quick_action: Some(action.clone()),
                        start_input: None,
                    }
                })
                .await
            }
            OpRequest::CommentAdd { text } => {
                let row = self.op_row(op, task).await?;
                let key = Key::of(&row);
                let api_path = checked_api_path(self.api_path(&key.flow_hex, Some(&row)))?;
                let make = |security: String| WorkLogRequest {
                    security,
                    omflow_restapi: RESTAPI_FLAG,
                    api_path: Some(api_path.clone()),
                    flow_uuid: Some(key.flow_hex.clone()),
                    data_no: key.data_no,
                    data_id: row.data_id,
                    content: Some(text.clone()),
                };
                let env = self
                    .session
                    .call(
                        &self.http,
                        paths::WORKLOG_CREATE,
                        make,
                        Effect::Write,
                        Some(op.op_id),
                    )
                    .await?;
                let raw = serde_json::to_value(&env).unwrap_or_default();
                check(env, "writing the work log")?;
                Ok(Outcome {
                    result: raw,
                    key: None,
                })
            }
            OpRequest::CreateTask(new) => self.create(op, new).await,
            other => Err(classify::permanent(format!(
                "OMFLOW has no {} (it offers form pushes, quick actions, work-log comments and new tickets)",
                other.kind()
            ))),
        }
    }

    /// The row an op acts on, with its current `data_id`.
    async fn op_row(&self, op: &Op, task: Option<&TaskRecord>) -> Result<MissionRow, RemoteError> {
        if let Some(row) = task.and_then(|t| t.payload.parse::<MissionRow>().ok()) {
            return Ok(row);
        }
        let key = op_key(op, task)?;
        self.row(&key).await?.ok_or_else(|| {
            classify::permanent(format!(
                "ticket {} is no longer at stop {} in your list",
                key.data_no, key.stop_uuid
            ))
        })
    }

    async fn edit(
        &self,
        row: &MissionRow,
        op: &Op,
        what: &str,
        make: impl Fn(String) -> OmDataEditRequest,
    ) -> Result<Outcome, RemoteError> {
        let key = Key::of(row);
        let api_path = checked_api_path(self.api_path(&key.flow_hex, Some(row)))?;
        let path = format!("{}{api_path}", paths::OMDATA_EDIT);
        let env = self
            .session
            .call(&self.http, &path, make, Effect::Write, Some(op.op_id))
            .await?;
        let raw = serde_json::to_value(&env).unwrap_or_default();
        check(env, what)?;
        Ok(Outcome {
            result: raw,
            key: None,
        })
    }

    async fn create(&self, op: &Op, new: &NewTask) -> Result<Outcome, RemoteError> {
        let (api_path, flow_hex) = self.flow_of(new.process.as_deref())?;
        let items: Vec<FormItem> = new.fields.iter().map(|f| item(f, None)).collect();
        let make = |security: String| OmDataEditRequest {
            security,
            omflow_restapi: RESTAPI_FLAG,
            action: EditAction::Create,
            data_id: None,
            formdata: Some(items.clone()),
            quick_action: None,
            start_input: None,
        };
        let path = format!("{}{api_path}", paths::OMDATA_EDIT);
        let env = self
            .session
            .call(&self.http, &path, make, Effect::Write, Some(op.op_id))
            .await?;
        let raw = serde_json::to_value(&env).unwrap_or_default();
        let result = check(env, "opening the ticket")?;
        // `result` is the new ticket's data_no ("" when the start node
        // validates first). Its first stop is the created task when it
        // waits for this user.
        let data_no = match &result {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        let key = match (
            data_no,
            flow_hex.as_deref().and_then(normalize::flow_dashed),
        ) {
            (Some(no), Some(dashed)) => {
                let conditions = vec![
                    Condition::new("data_no", "=", no),
                    Condition::new("flow_uuid", "=", dashed),
                ];
                match self.mission_rows(&conditions, &["id"], 0, 10).await {
                    Ok(rows) => rows.first().map(|r| Key::of(r).to_string()),
                    // The ticket exists; not finding its stop is no failure.
                    Err(e) => {
                        tracing::warn!(error = %e, "new OMFLOW ticket not looked up");
                        None
                    }
                }
            }
            _ => None,
        };
        Ok(Outcome { result: raw, key })
    }

    /// The api_path and flow (hex) a new ticket goes to. `process` may name
    /// the flow by its uuid or by its api_path.
    fn flow_of(&self, process: Option<&str>) -> Result<(String, Option<String>), RemoteError> {
        let process = process
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .ok_or_else(|| {
                classify::permanent(
                    "a new OMFLOW ticket needs its flow (process: flow uuid or api_path)",
                )
            })?;
        let hex = normalize::flow_hex(process);
        if let Some(path) = self.settings.api_paths.get(&hex) {
            return Ok((checked_api_path(path.clone())?, Some(hex)));
        }
        if let Some((flow, _)) = self.settings.api_paths.iter().find(|(_, p)| *p == process) {
            return Ok((checked_api_path(process.to_string())?, Some(flow.clone())));
        }
        if normalize::flow_dashed(&hex).is_some() {
            return Ok((hex.clone(), Some(hex)));
        }
        Ok((checked_api_path(process.to_string())?, None))
    }

    /// Whether an op that may have reached the server took effect.
    ///
    /// - With idempotency keys (tasklane's own server): unknown, and safe to
    ///   send again with the same key.
    /// - Push, quick action: applied when the ticket is no longer at that
    ///   stop in the user's list (a push always moves it on: its data_id
    ///   becomes history); not applied while the stop is still listed.
    /// - Comment: applied when the ticket's work log holds an entry with this
    ///   text written after the op was queued (less clock skew).
    /// - New ticket: unknown; OMFLOW records no request id to look for.
    pub(super) async fn applied_op(
        &self,
        op: &Op,
        task: Option<&TaskRecord>,
    ) -> Result<Applied, RemoteError> {
        if self.http.idempotency_keys() {
            return Ok(Applied::Unknown(RESEND_SAFE.into()));
        }
        match &op.request {
            OpRequest::FormPush { .. } | OpRequest::QuickAction { .. } => {
                if task.is_some() {
                    return Ok(Applied::No);
                }
                let key = op_key(op, task)?;
                Ok(match self.row(&key).await? {
                    Some(_) => Applied::No,
                    None => Applied::Yes(Outcome {
                        result: json!({"applied": format!(
                            "ticket {} is no longer at stop {}", key.data_no, key.stop_uuid)}),
                        key: None,
                    }),
                })
            }
            OpRequest::CommentAdd { text } => {
                let key = op_key(op, task)?;
                let row = match task.and_then(|t| t.payload.parse::<MissionRow>().ok()) {
                    Some(row) => row,
                    None => match self.row(&key).await? {
                        Some(row) => row,
                        None => {
                            return Ok(Applied::Unknown(
                                "the ticket has left your list, so its work log cannot be read"
                                    .into(),
                            ));
                        }
                    },
                };
                let api_path = checked_api_path(self.api_path(&key.flow_hex, Some(&row)))?;
                let entries = self.work_log(&key, &row, &api_path).await?;
                let since = op.created_at.and_then(|t| t.checked_sub(CLOCK_SKEW).ok());
                let found = entries.iter().find(|e| {
                    e.content == *text
                        && match (
                            since,
                            e.createtime.as_ref().and_then(|t| t.to_timestamp(&self.tz)),
                        ) {
                            (Some(since), Some(at)) => at >= since,
                            _ => true,
                        }
                });
                Ok(match found {
                    Some(entry) => Applied::Yes(Outcome {
                        result: serde_json::to_value(entry).unwrap_or_default(),
                        key: None,
                    }),
                    None => Applied::No,
                })
            }
            OpRequest::CreateTask(_) => Ok(Applied::Unknown(
                "OMFLOW keeps no request ids, so whether the ticket was opened cannot be told; \
                 look for it in the flow before sending again"
                    .into(),
            )),
            // Ops OMFLOW cannot execute were refused before anything was sent.
            _ => Ok(Applied::No),
        }
    }
}

/// The stable key of the task an op is about: from its fresh state, or as
/// recorded when the op was queued.
fn op_key(op: &Op, task: Option<&TaskRecord>) -> Result<Key, RemoteError> {
    let text = task
        .map(|t| t.key.clone())
        .or_else(|| {
            op.base
                .as_ref()
                .and_then(|b| b.get("key"))
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .ok_or_else(|| classify::permanent("the op does not say which OMFLOW task it is for"))?;
    Key::parse(&text)
        .ok_or_else(|| classify::permanent(format!("{text:?} is not an OMFLOW task key")))
}

/// api_paths are letters, digits, `_` and `-` (they are table names); any
/// other text could walk to another URL.
fn checked_api_path(path: String) -> Result<String, RemoteError> {
    if !path.is_empty()
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        Ok(path)
    } else {
        Err(classify::permanent(format!(
            "{path:?} is not an OMFLOW api_path (letters, digits, _ and - only)"
        )))
    }
}

/// Form values with their field types: the op's own, else the type the
/// offered push declared (OMFLOW 1.1 refuses items without one).
fn form_items(fields: &[FormValue], task: Option<&TaskRecord>) -> Vec<FormItem> {
    let push = task
        .and_then(|t| t.actions.as_ref())
        .and_then(|actions| actions.iter().find(|a| a.id == PUSH_ACTION));
    fields
        .iter()
        .map(|f| {
            let declared = push
                .and_then(|a| a.params.iter().find(|p| p.name == f.id))
                .and_then(|p| p.wire_type.clone());
            item(f, declared)
        })
        .collect()
}

fn item(f: &FormValue, declared: Option<String>) -> FormItem {
    FormItem {
        id: f.id.clone(),
        value: f.value.clone(),
        field_type: f.field_type.clone().or(declared),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_paths_cannot_leave_the_edit_url() {
        assert!(checked_api_path("some-api-path_2".into()).is_ok());
        for bad in ["", "../admin", "a/b", "a?b", "路徑"] {
            assert!(checked_api_path(bad.into()).is_err(), "{bad}");
        }
    }
}

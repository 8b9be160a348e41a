//! GEVER tasks as tasklane tasks: the state table, the transition table
//! (target states and parameters), and the mapping of `@globalindex` rows
//! and task representations onto [`TaskRecord`].

use jiff::tz::TimeZone;
use serde_json::Value;
use tasklane_core::model::{
    Action, Comment, HistoryEntry, ParamKind, ParamSpec, Payload, State, TaskField, TaskRecord,
    TextFormat,
};
use tasklane_core::time::Deadline;

use super::wire::{
    COMMENT_TYPE, GlobalIndexItem, Response, Task, Text, TokenOrChoice, WorkflowInfo,
    WorkflowSchema,
};

/// GEVER is a Swiss product: its SQL index writes naive times in the
/// server's zone, which for every known deployment is Zurich time.
pub const DEFAULT_TIME_ZONE: &str = "Europe/Zurich";

/// The id tasklane offers `@transfer-task` under: it is an endpoint, not a
/// workflow transition, and only administrators may use it.
pub const TRANSFER_TASK: &str = "@transfer-task";

/// The state table: `opengever_task_workflow` and the inbox forwarding
/// workflow onto tasklane's states. Unknown states are `other`.
pub fn state_of(review_state: &str) -> State {
    match review_state {
        "task-state-open" | "forwarding-state-open" => State::Open,
        "task-state-in-progress" => State::InProgress,
        "task-state-resolved" => State::Resolved,
        "task-state-tested-and-closed" | "forwarding-state-closed" => State::Closed,
        "task-state-cancelled" => State::Cancelled,
        "task-state-rejected" | "forwarding-state-refused" => State::Rejected,
        "task-state-planned" => State::Planned,
        "task-state-skipped" => State::Skipped,
        _ => State::Other,
    }
}

/// Where a transition leads; `None` for those that keep the state
/// (modify-deadline, reassign, delegate) and for unknown ones.
pub fn transition_target(transition: &str) -> Option<State> {
    let to = transition.strip_prefix("task-transition-")?;
    if to == "modify-deadline" || to == "reassign" || to == "delegate" {
        return None;
    }
    let target = to.rsplit('-').next()?;
    // Targets written with dashes themselves come first.
    Some(if to.ends_with("tested-and-closed") {
        State::Closed
    } else if to.ends_with("in-progress") {
        State::InProgress
    } else {
        match target {
            "open" => State::Open,
            "resolved" => State::Resolved,
            "cancelled" => State::Cancelled,
            "rejected" => State::Rejected,
            "skipped" => State::Skipped,
            "planned" => State::Planned,
            _ => return None,
        }
    })
}

fn spec(name: &str, label: &str, kind: ParamKind, required: bool) -> ParamSpec {
    ParamSpec {
        name: name.into(),
        label: label.into(),
        kind,
        required,
        sets: None,
        wire_type: None,
    }
}

fn text_param() -> ParamSpec {
    spec("text", "Text", ParamKind::LongText, false)
}

/// The parameters a known transition takes (seed "Zusätzliche Metadaten",
/// NOTES §7); `None` for transitions this table does not know, whose
/// parameters come from `@workflow-schema`.
pub fn transition_params(transition: &str, task_type: Option<&str>) -> Option<Vec<ParamSpec>> {
    let mut params = vec![text_param()];
    match transition {
        "task-transition-modify-deadline" => params.push(ParamSpec {
            sets: Some(TaskField::Deadline),
            ..spec("new_deadline", "Neue Frist", ParamKind::Date, true)
        }),
        "task-transition-reassign" => {
            params.push(ParamSpec {
                sets: Some(TaskField::Assignee),
                ..spec("responsible", "Auftragnehmer", ParamKind::Actor, true)
            });
            params.push(spec(
                "responsible_client",
                "Mandant des Auftragnehmers",
                ParamKind::Text,
                false,
            ));
        }
        "task-transition-delegate" => {
            params.push(spec(
                "responsibles",
                "Auftragnehmer",
                ParamKind::Actors,
                true,
            ));
            params.push(spec("title", "Titel", ParamKind::Text, true));
            params.push(spec("issuer", "Auftraggeber", ParamKind::Actor, true));
            params.push(spec("deadline", "Frist", ParamKind::Date, true));
            params.push(spec("documents", "Dokumente", ParamKind::Documents, false));
            params.push(spec(
                "informed_principals",
                "Info an",
                ParamKind::Actors,
                false,
            ));
        }
        "task-transition-open-resolved" | "task-transition-in-progress-resolved" => {
            if task_type == Some("approval") {
                params.push(spec(
                    "approved_documents",
                    "Genehmigte Dokumente",
                    ParamKind::Documents,
                    false,
                ));
            }
            params.push(pass_documents());
        }
        "task-transition-open-tested-and-closed"
        | "task-transition-in-progress-tested-and-closed"
        | "task-transition-resolved-tested-and-closed"
        | "task-transition-rejected-skipped" => params.push(pass_documents()),
        t if transition_target(t).is_some() => {}
        _ => return None,
    }
    Some(params)
}

fn pass_documents() -> ParamSpec {
    spec(
        "pass_documents_to_next_task",
        "Dokumente an die nächste Aufgabe übergeben",
        ParamKind::Bool,
        false,
    )
}

/// Parameters from a `@workflow-schema` answer.
pub fn schema_params(schema: &WorkflowSchema) -> Vec<ParamSpec> {
    let mut params: Vec<ParamSpec> = schema
        .properties
        .iter()
        .map(|(name, prop)| {
            let kind = match (
                prop.get("type").and_then(Value::as_str),
                prop.get("format").and_then(Value::as_str),
            ) {
                (_, Some("date" | "date-time")) => ParamKind::Date,
                (Some("boolean"), _) => ParamKind::Bool,
                (Some("integer" | "number"), _) => ParamKind::Number,
                (Some("array"), _) => ParamKind::Actors,
                _ => match prop.get("enum").and_then(Value::as_array) {
                    Some(options) => ParamKind::Choice {
                        options: options
                            .iter()
                            .filter_map(|o| o.as_str().map(str::to_string))
                            .collect(),
                    },
                    None => ParamKind::Text,
                },
            };
            ParamSpec {
                label: prop
                    .get("title")
                    .and_then(Value::as_str)
                    .unwrap_or(name)
                    .to_string(),
                ..spec(name, "", kind, schema.required.iter().any(|r| r == name))
            }
        })
        .collect();
    if !params.iter().any(|p| p.name == "text") {
        params.insert(0, text_param());
    }
    params
}

/// `responsible` as assignee or group: org unit inboxes, teams and groups
/// are groups; a user id (plain, or combined `fa:hans.muster`) is the
/// assignee.
pub fn split_responsible(token: &str) -> (Option<String>, Option<String>) {
    let token = token.trim();
    if token.is_empty() {
        return (None, None);
    }
    if ["inbox:", "team:", "group:"]
        .iter()
        .any(|p| token.starts_with(p))
    {
        return (None, Some(token.to_string()));
    }
    let user = token.rsplit_once(':').map_or(token, |(_, user)| user);
    (Some(user.to_string()), None)
}

fn deadline(text: Option<&str>) -> Option<Deadline> {
    text.and_then(|d| d.parse::<Deadline>().ok())
}

/// An `@globalindex` row as a task (no comments, history or actions).
pub fn record_from_index(item: &GlobalIndexItem, tz: &TimeZone) -> TaskRecord {
    let mut task = TaskRecord::new(
        item.oguid.clone(),
        item.title.clone(),
        state_of(&item.review_state),
    );
    task.status_text = item
        .review_state_label
        .clone()
        .filter(|l| !l.is_empty())
        .unwrap_or_else(|| item.review_state.clone());
    task.kind = item.task_type.clone();
    (task.assignee, task.group) = split_responsible(item.responsible.as_deref().unwrap_or(""));
    task.issuer = item.issuer.clone();
    task.deadline = deadline(item.deadline.as_deref());
    task.created = item.created.as_ref().and_then(|t| t.to_timestamp(tz));
    task.modified = item.modified.as_ref().and_then(|t| t.to_timestamp(tz));
    task.process = item.containing_dossier.clone().filter(|d| !d.is_empty());
    task.payload = Payload::of(item);
    task
}

/// A task representation and its `@workflow` as a task with comments,
/// history and the actions this user may run now.
pub fn record_from_task(
    t: &Task,
    workflow: &WorkflowInfo,
    actions: Vec<Action>,
    tz: &TimeZone,
) -> TaskRecord {
    let mut task = TaskRecord::new(t.oguid.clone(), t.title.clone(), state_of(&t.review_state));
    // The newest history entry names the current state in the user's language.
    task.status_text = workflow
        .history
        .last()
        .filter(|h| h.review_state == t.review_state)
        .and_then(|h| h.title.clone())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| t.review_state.clone());
    match &t.text {
        Some(Text::Plain(s)) => task.description = s.clone(),
        Some(Text::Rich(r)) => {
            task.description = r.data.clone();
            if r.content_type.contains("html") {
                task.description_format = TextFormat::Html;
            }
        }
        None => {}
    }
    task.kind = t.task_type.as_ref().map(|k| k.title().to_string());
    (task.assignee, task.group) = split_responsible(
        t.responsible
            .as_ref()
            .map(TokenOrChoice::token)
            .unwrap_or(""),
    );
    task.issuer = t.issuer.as_ref().map(|i| i.token().to_string());
    task.deadline = deadline(t.deadline.as_deref());
    task.created = t.created.as_ref().and_then(|c| c.to_timestamp(tz));
    task.modified = t.modified.as_ref().and_then(|m| m.to_timestamp(tz));
    task.process = t
        .containing_dossier
        .as_ref()
        .map(|d| d.title.clone())
        .filter(|d| !d.is_empty());
    task.parent_key = t
        .parent
        .as_ref()
        .filter(|p| p.portal_type.as_deref() == Some(super::wire::TASK_TYPE))
        .and_then(|p| p.extra.get("oguid"))
        .and_then(Value::as_str)
        .map(str::to_string);
    task.comments = Some(comments(&t.responses, tz));
    task.history = Some(history(&t.responses, tz));
    task.actions = Some(actions);
    task.payload = Payload::of(t);
    task
}

fn actor(v: &Option<TokenOrChoice>) -> Option<String> {
    v.as_ref().map(|a| a.token().to_string())
}

/// The responses that are comments.
pub fn comments(responses: &[Response], tz: &TimeZone) -> Vec<Comment> {
    responses
        .iter()
        .filter(|r| r.response_type == COMMENT_TYPE)
        .map(|r| Comment {
            remote_id: r.response_id.to_string(),
            author: actor(&r.creator),
            text: r.text.clone(),
            created: r.created.as_ref().and_then(|t| t.to_timestamp(tz)),
            modified: r.modified.as_ref().and_then(|t| t.to_timestamp(tz)),
        })
        .collect()
}

/// Every response, comments included, as history.
pub fn history(responses: &[Response], tz: &TimeZone) -> Vec<HistoryEntry> {
    responses
        .iter()
        .map(|r| HistoryEntry {
            remote_id: Some(r.response_id.to_string()),
            at: r.created.as_ref().and_then(|t| t.to_timestamp(tz)),
            actor: actor(&r.creator),
            action: if r.transition.is_empty() {
                r.response_type.clone()
            } else {
                r.transition.clone()
            },
            text: r.text.clone(),
            changes: serde_json::to_value(&r.changes).unwrap_or_default(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_state_has_its_place_and_unknown_ones_are_other() {
        let table = [
            ("task-state-open", State::Open),
            ("task-state-in-progress", State::InProgress),
            ("task-state-resolved", State::Resolved),
            ("task-state-tested-and-closed", State::Closed),
            ("task-state-cancelled", State::Cancelled),
            ("task-state-rejected", State::Rejected),
            ("task-state-planned", State::Planned),
            ("task-state-skipped", State::Skipped),
            ("forwarding-state-open", State::Open),
            ("forwarding-state-refused", State::Rejected),
            ("forwarding-state-closed", State::Closed),
            ("dossier-state-active", State::Other),
        ];
        for (id, state) in table {
            assert_eq!(state_of(id), state, "{id}");
        }
    }

    #[test]
    fn transitions_lead_where_the_workflow_definition_says() {
        let table = [
            ("task-transition-open-in-progress", Some(State::InProgress)),
            ("task-transition-open-rejected", Some(State::Rejected)),
            ("task-transition-open-resolved", Some(State::Resolved)),
            (
                "task-transition-in-progress-resolved",
                Some(State::Resolved),
            ),
            (
                "task-transition-open-tested-and-closed",
                Some(State::Closed),
            ),
            (
                "task-transition-in-progress-tested-and-closed",
                Some(State::Closed),
            ),
            (
                "task-transition-resolved-tested-and-closed",
                Some(State::Closed),
            ),
            ("task-transition-open-cancelled", Some(State::Cancelled)),
            (
                "task-transition-in-progress-cancelled",
                Some(State::Cancelled),
            ),
            (
                "task-transition-resolved-in-progress",
                Some(State::InProgress),
            ),
            (
                "task-transition-tested-and-closed-in-progress",
                Some(State::InProgress),
            ),
            ("task-transition-cancelled-open", Some(State::Open)),
            ("task-transition-rejected-open", Some(State::Open)),
            ("task-transition-skipped-open", Some(State::Open)),
            ("task-transition-planned-open", Some(State::Open)),
            ("task-transition-planned-skipped", Some(State::Skipped)),
            ("task-transition-rejected-skipped", Some(State::Skipped)),
            ("task-transition-modify-deadline", None),
            ("task-transition-reassign", None),
            ("task-transition-delegate", None),
            ("dossier-transition-resolve", None),
        ];
        for (id, to) in table {
            assert_eq!(transition_target(id), to, "{id}");
        }
    }

    #[test]
    fn parameters_that_change_fields_say_which() {
        let deadline = transition_params("task-transition-modify-deadline", None).unwrap();
        let new_deadline = deadline.iter().find(|p| p.name == "new_deadline").unwrap();
        assert!(new_deadline.required);
        assert_eq!(new_deadline.sets, Some(TaskField::Deadline));
        let reassign = transition_params("task-transition-reassign", None).unwrap();
        let responsible = reassign.iter().find(|p| p.name == "responsible").unwrap();
        assert_eq!(responsible.sets, Some(TaskField::Assignee));
        let approve = transition_params("task-transition-open-resolved", Some("approval")).unwrap();
        assert!(approve.iter().any(|p| p.name == "approved_documents"));
        let resolve = transition_params("task-transition-open-resolved", Some("report")).unwrap();
        assert!(!resolve.iter().any(|p| p.name == "approved_documents"));
        assert!(transition_params("task-transition-something-new", None).is_none());
    }

    #[test]
    fn responsibles_split_into_users_and_groups() {
        for (token, assignee, group) in [
            ("fa:regular_user", Some("regular_user"), None),
            ("john.doe", Some("john.doe"), None),
            ("inbox:fa", None, Some("inbox:fa")),
            ("team:1", None, Some("team:1")),
            ("", None, None),
        ] {
            let (a, g) = split_responsible(token);
            assert_eq!((a.as_deref(), g.as_deref()), (assignee, group), "{token}");
        }
    }
}

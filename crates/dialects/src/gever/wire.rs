//! OneGov GEVER's REST payloads for tasks, as documented (seed
//! `gever-task-api.de.txt`, the `docs/public/dev-manual/api` pages) and as
//! the server code and tests show them (NOTES).
//!
//! Tolerances the servers force: datetimes with or without an offset
//! (`@globalindex` and task responses drop it), choice fields as a plain
//! token or as `{token, title}`, a response's `creator` as a user id or a
//! `{token, title}` object, `batching` absent, `null` or an object, and
//! errors in two shapes ([`ErrorBody`]). Objects keep unknown keys in
//! `extra`, so what a server sends survives a round trip.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::lenient;
use crate::servertime::{self, ServerTime};

/// The portal type of tasks.
pub const TASK_TYPE: &str = "opengever.task.task";
/// The portal type of inbox forwardings, which also appear in listings.
pub const FORWARDING_TYPE: &str = "opengever.inbox.forwarding";

/// A choice value: `{"token": "fa:regular_user", "title": "Finanzamt: …"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub token: String,
    #[serde(default, deserialize_with = "lenient::text::deserialize")]
    pub title: String,
}

/// A choice as a server writes it (an object) or a client may send it (a
/// bare token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TokenOrChoice {
    Token(String),
    Choice(Choice),
}

impl TokenOrChoice {
    pub fn token(&self) -> &str {
        match self {
            TokenOrChoice::Token(t) => t,
            TokenOrChoice::Choice(c) => &c.token,
        }
    }

    /// The title when there is one, else the token.
    pub fn title(&self) -> &str {
        match self {
            TokenOrChoice::Choice(c) if !c.title.is_empty() => &c.title,
            other => other.token(),
        }
    }
}

/// A task's `text`: plain text, or since API 2025.2.0 rich text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Text {
    Plain(String),
    Rich(RichText),
}

/// `{"data", "content-type": "text/html", "encoding": "utf8"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RichText {
    #[serde(default)]
    pub data: String,
    #[serde(rename = "content-type", default)]
    pub content_type: String,
    #[serde(default)]
    pub encoding: String,
}

/// A link with a title (`containing_dossier`, `parent`, items).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    #[serde(rename = "@id")]
    pub id: String,
    #[serde(rename = "@type", default, skip_serializing_if = "Option::is_none")]
    pub portal_type: Option<String>,
    #[serde(default, deserialize_with = "lenient::text::deserialize")]
    pub title: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `GET <task>`: a task's full representation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    #[serde(rename = "@id")]
    pub id: String,
    #[serde(rename = "@type")]
    pub portal_type: String,
    #[serde(rename = "UID", default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// `<admin unit>:<int id>`, the stable key.
    pub oguid: String,
    #[serde(default, deserialize_with = "lenient::text::deserialize")]
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<Text>,
    pub review_state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responsible: Option<TokenOrChoice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responsible_client: Option<TokenOrChoice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<TokenOrChoice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_type: Option<TokenOrChoice>,
    /// `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<String>,
    #[serde(
        default,
        with = "servertime::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub created: Option<ServerTime>,
    #[serde(
        default,
        with = "servertime::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub modified: Option<ServerTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub containing_dossier: Option<Summary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<Summary>,
    #[serde(default)]
    pub items: Vec<Value>,
    /// The task's whole history: transitions and comments.
    #[serde(default)]
    pub responses: Vec<Response>,
    /// `null`, or `{token: "sequential" | "parallel"}`.
    #[serde(default)]
    pub sequence_type: Option<TokenOrChoice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_completed: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_current_user_responsible: Option<bool>,
    #[serde(
        default,
        with = "lenient::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub sequence_number: Option<i64>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One field change recorded in a response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub field_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_title: Option<String>,
    #[serde(default)]
    pub before: Value,
    #[serde(default)]
    pub after: Value,
}

/// A task response: a transition, a comment, a removed comment, … — the
/// objects of `@responses` and of a task's `responses`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Response {
    #[serde(rename = "@id", default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Creation time in microseconds since the epoch.
    #[serde(with = "lenient::int")]
    pub response_id: i64,
    /// `default`, `comment`, `comment_removed`, …
    #[serde(default, deserialize_with = "lenient::text::deserialize")]
    pub response_type: String,
    /// `task-commented`, a transition id, `transition-add-subtask`, …
    #[serde(default, deserialize_with = "lenient::text::deserialize")]
    pub transition: String,
    #[serde(default, deserialize_with = "lenient::text::deserialize")]
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rendered_text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mimetype: Option<String>,
    #[serde(default, with = "servertime::opt")]
    pub created: Option<ServerTime>,
    /// A user id (task GET) or `{token, title}` (`@responses`).
    #[serde(default)]
    pub creator: Option<TokenOrChoice>,
    #[serde(default, with = "servertime::opt")]
    pub modified: Option<ServerTime>,
    #[serde(default)]
    pub modifier: Option<TokenOrChoice>,
    #[serde(default)]
    pub changes: Vec<Change>,
    #[serde(default)]
    pub added_objects: Vec<Value>,
    #[serde(default)]
    pub related_items: Vec<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub successor_oguid: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The response types that are comments.
pub const COMMENT_TYPE: &str = "comment";

/// `POST <task>/@responses` and `PATCH <task>/@responses/<id>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseText {
    pub text: String,
}

/// `GET <task>/@workflow`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkflowInfo {
    #[serde(rename = "@id", default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default)]
    pub history: Vec<WorkflowHistoryEntry>,
    /// Only the transitions this user may run now.
    #[serde(default)]
    pub transitions: Vec<TransitionLink>,
}

/// One entry of `@workflow`'s history; also the answer to a transition
/// POST (then with `transition_response` where the transition returns one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkflowHistoryEntry {
    /// `null` for the initial state.
    #[serde(default)]
    pub action: Option<String>,
    #[serde(default)]
    pub actor: Option<String>,
    #[serde(default, deserialize_with = "lenient::text::deserialize")]
    pub comments: String,
    pub review_state: String,
    #[serde(default, with = "servertime::opt")]
    pub time: Option<ServerTime>,
    /// The new state's translated title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transition_response: Option<Value>,
}

/// The answer to `POST <task>/@workflow/<transition>`.
pub type TransitionResult = WorkflowHistoryEntry;

/// `{"@id": ".../@workflow/<id>", "title": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransitionLink {
    #[serde(rename = "@id")]
    pub id: String,
    #[serde(default, deserialize_with = "lenient::text::deserialize")]
    pub title: String,
}

impl TransitionLink {
    /// The transition id: the last segment of `@id`.
    pub fn transition_id(&self) -> &str {
        self.id
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or("")
    }
}

/// The body of `POST <task>/@workflow/<transition>`: `text` plus the
/// transition's parameters (`new_deadline`, `responsible`, …).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransitionRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(flatten)]
    pub params: Map<String, Value>,
}

/// `GET <task>/@workflow-schema/<transition>`: a JSON schema for the
/// transition's form; empty when it takes nothing beyond `text`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkflowSchema {
    #[serde(default)]
    pub properties: Map<String, Value>,
    #[serde(default)]
    pub required: Vec<String>,
    #[serde(default)]
    pub fieldsets: Vec<Value>,
}

/// `POST <task>/@transfer-task` (204).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferTask {
    pub old_userid: String,
    pub new_userid: String,
}

/// `POST <dossier or task>`: a new task (into a task: a subtask; into a
/// sequential task: at `position`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskCreate {
    #[serde(rename = "@type")]
    pub portal_type: String,
    pub title: String,
    pub responsible: String,
    pub issuer: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responsible_client: Option<String>,
    pub task_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<i64>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `batching` links; `prev` and `next` only where they exist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batching {
    #[serde(rename = "@id")]
    pub id: String,
    pub first: String,
    pub last: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// `GET /@globalindex`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GlobalIndex {
    #[serde(rename = "@id", default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default)]
    pub items: Vec<GlobalIndexItem>,
    #[serde(with = "lenient::int")]
    pub items_total: i64,
    #[serde(
        default,
        with = "lenient::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub b_start: Option<i64>,
    #[serde(
        default,
        with = "lenient::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub b_size: Option<i64>,
    #[serde(default)]
    pub facets: Map<String, Value>,
    /// Left out (or `null`) when everything fits on one page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batching: Option<Batching>,
}

/// The `@id` of a task's payload (its URL); the rest is not decoded.
#[derive(Debug, Deserialize)]
pub struct SelfLink {
    #[serde(rename = "@id")]
    pub id: String,
}

/// `{"@id": ".../@actors/<id>", "identifier": "<id>"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActorRef {
    #[serde(rename = "@id", default)]
    pub id: String,
    pub identifier: String,
}

/// One row of `@globalindex` (the SQL task index). Datetimes are naive;
/// `task_type` is the translated title; `responsible` a plain id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GlobalIndexItem {
    #[serde(rename = "@id")]
    pub id: String,
    #[serde(rename = "@type", default)]
    pub portal_type: String,
    pub oguid: String,
    #[serde(default, deserialize_with = "lenient::text::deserialize")]
    pub title: String,
    pub review_state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_state_label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_org_unit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuing_org_unit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub containing_dossier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub containing_subdossier: Option<String>,
    #[serde(default, with = "servertime::opt")]
    pub created: Option<ServerTime>,
    #[serde(default, with = "servertime::opt")]
    pub modified: Option<ServerTime>,
    #[serde(default)]
    pub deadline: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_completed: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_private: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_subtask: Option<bool>,
    #[serde(default)]
    pub issuer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer_fullname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer_actor: Option<ActorRef>,
    #[serde(default)]
    pub responsible: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responsible_fullname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responsible_actor: Option<ActorRef>,
    #[serde(default)]
    pub predecessor_id: Option<Value>,
    #[serde(
        default,
        with = "lenient::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub sequence_number: Option<i64>,
    #[serde(
        default,
        with = "lenient::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub task_id: Option<i64>,
    /// The translated title (`"For direct execution"`), not the token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_type: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `GET /@config` (the parts tasklane reads; the rest stays in `extra`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    #[serde(rename = "@id", default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_unit: Option<String>,
    /// `null` for an anonymous request.
    #[serde(default)]
    pub current_user: Option<CurrentUser>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `@config`'s `current_user`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fullname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `POST /@login`. `Debug` hides the password.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginRequest {
    pub login: String,
    pub password: String,
}

impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest")
            .field("login", &self.login)
            .field("password", &"***")
            .finish()
    }
}

/// The answer to `@login`: a JWT for `Authorization: Bearer`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginResponse {
    pub token: String,
}

impl std::fmt::Debug for LoginResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LoginResponse { token: *** }")
    }
}

/// `GET /@notifications/<userid>`: batched, unread first. Older docs show
/// a bare array, which [`Notifications::List`] accepts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Notifications {
    Batched(NotificationPage),
    List(Vec<Notification>),
}

impl Notifications {
    pub fn items(&self) -> &[Notification] {
        match self {
            Notifications::Batched(page) => &page.items,
            Notifications::List(items) => items,
        }
    }
}

/// One page of notifications.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotificationPage {
    #[serde(rename = "@id", default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default)]
    pub items: Vec<Notification>,
    #[serde(
        default,
        with = "lenient::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub items_total: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batching: Option<Batching>,
}

/// One notification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    #[serde(rename = "@id", default)]
    pub id: String,
    #[serde(with = "lenient::int")]
    pub notification_id: i64,
    #[serde(default)]
    pub actor_id: Option<String>,
    #[serde(default)]
    pub actor_label: Option<String>,
    #[serde(default, with = "servertime::opt")]
    pub created: Option<ServerTime>,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub link: Option<String>,
    /// The task's oguid.
    #[serde(default)]
    pub oguid: Option<String>,
    #[serde(default)]
    pub read: bool,
}

/// An error answer, in either of GEVER's shapes (or an OAuth token error).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ErrorBody {
    /// `{"error": {"type", "message"}}` from services (@workflow, @login).
    Service { error: ErrorDetail },
    /// `{"type", "message"[, "translated_message", "additional_metadata"]}`
    /// from exceptions.
    Exception(ExceptionError),
    /// `{"error": "invalid_token", "error_description": "…"}`.
    OAuth {
        error: String,
        #[serde(default)]
        error_description: String,
    },
}

/// The inner object of a service error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// `"Bad Request"` (with a space), `"Invalid credentials"`, …
    #[serde(rename = "type")]
    pub error_type: String,
    #[serde(default, deserialize_with = "lenient::text::deserialize")]
    pub message: String,
}

/// An exception error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExceptionError {
    /// `BadRequest`, `NotFound`, `Unauthorized`, `Forbidden`, …
    #[serde(rename = "type")]
    pub error_type: String,
    #[serde(default, deserialize_with = "lenient::text::deserialize")]
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub translated_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_metadata: Option<Value>,
}

impl ErrorBody {
    /// The most helpful text for a person: the translated message, or the
    /// per-field messages of a validation error, else the raw message.
    pub fn user_message(&self) -> String {
        match self {
            ErrorBody::Service { error } => error.message.clone(),
            ErrorBody::OAuth {
                error,
                error_description,
            } => {
                if error_description.is_empty() {
                    error.clone()
                } else {
                    error_description.clone()
                }
            }
            ErrorBody::Exception(e) => {
                let fields: Vec<String> = e
                    .additional_metadata
                    .as_ref()
                    .and_then(|m| m.get("fields"))
                    .and_then(Value::as_array)
                    .map(|fields| {
                        fields
                            .iter()
                            .filter_map(|f| {
                                let text = f.get("translated_message")?.as_str()?;
                                Some(match f.get("field").and_then(Value::as_str) {
                                    Some(name) => format!("{name}: {text}"),
                                    None => text.to_string(),
                                })
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                if !fields.is_empty() {
                    fields.join("; ")
                } else {
                    e.translated_message
                        .clone()
                        .filter(|t| !t.is_empty())
                        .unwrap_or_else(|| e.message.clone())
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_transition_answer_and_workflow_listing_parse() {
        let answer: TransitionResult = serde_json::from_str(
            r#"{ "action": "task-transition-open-in-progress", "actor": "philippe.gross", "comments": "", "review_state": "task-state-in-progress", "time": "2019-01-24T16:12:12+00:00", "title": "In Arbeit" }"#,
        )
        .unwrap();
        assert_eq!(answer.review_state, "task-state-in-progress");
        let wf: WorkflowInfo = serde_json::from_str(
            r#"{ "@id": "http://example.org/ordnungssystem/fuehrung/dossier-1/task-5/@workflow", "history": [], "transitions": [ { "@id": "http://example.org/ordnungssystem/fuehrung/dossier-1/task-5/@workflow/task-transition-modify-deadline", "title": "Frist ändern" }, { "@id": "http://example.org/ordnungssystem/fuehrung/dossier-1/task-5/@workflow/task-transition-open-in-progress", "title": "Akzeptieren" } ] }"#,
        )
        .unwrap();
        let ids: Vec<_> = wf.transitions.iter().map(|t| t.transition_id()).collect();
        assert_eq!(
            ids,
            [
                "task-transition-modify-deadline",
                "task-transition-open-in-progress"
            ]
        );
    }

    #[test]
    fn the_seed_comment_answer_parses_with_its_creator_object() {
        let r: Response = serde_json::from_str(
            r#"{ "@id": "http://example.org/ordnungssystem/fuehrung/dossier-1/task-5/@responses/1569875801956269", "added_objects": [], "changes": [], "created": "2019-05-21T13:57:42+00:00", "creator": { "title": "Meier Peter", "token": "peter.meier" }, "mimetype": "", "modified": null, "modifier": null, "related_items": [], "rendered_text": "", "response_id": 1569875801956269, "response_type": "comment", "successor_oguid": "", "text": "Bitte rasch anschauen. Danke.", "transition": "task-commented" }"#,
        )
        .unwrap();
        assert_eq!(
            r.creator.as_ref().map(TokenOrChoice::token),
            Some("peter.meier")
        );
        assert_eq!(r.response_id, 1569875801956269);
        let plain: Response = serde_json::from_str(
            r#"{"response_id": 1, "response_type": "default", "creator": "zopemaster", "created": "2019-05-21T13:57:42", "text": "Lorem ipsum.", "transition": "task-commented"}"#,
        )
        .unwrap();
        assert_eq!(
            plain.creator.as_ref().map(TokenOrChoice::token),
            Some("zopemaster")
        );
        assert!(plain.created.unwrap().offset().is_none());
    }

    #[test]
    fn the_documented_globalindex_answer_parses_with_null_batching() {
        let index: GlobalIndex = serde_json::from_str(
            r#"{"batching": null, "facets": {}, "items_total": 1, "items": [{ "@id": "http://localhost:8080/ordnungssystem/dossier-23/task-1", "@type": "opengever.task.task", "assigned_org_unit": "fa", "containing_dossier": "Anfragen 2019", "containing_subdossier": "", "created": "2016-08-31T18:27:33", "deadline": "2020-01-01", "is_completed": false, "is_private": true, "is_subtask": false, "issuer": "robert.ziegler", "issuer_fullname": "Ziegler Robert", "issuer_actor": { "@id": "http://localhost:8080/@actors/robert.ziegler", "identifier": "robert.ziegler" }, "issuing_org_unit": "fa", "modified": "2016-08-31T18:27:33", "oguid": "plone:1016273300", "predecessor_id": null, "responsible": "inbox:fa", "responsible_actor": { "@id": "http://localhost:8080/@actors/inbox:fa", "identifier": "inbox:fa" }, "review_state": "task-state-in-progress", "review_state_label": "In Arbeit", "sequence_number": 1, "task_id": 14, "task_type": "For direct execution", "title": "re: Direkte Anfrage" }]}"#,
        )
        .unwrap();
        assert!(index.batching.is_none());
        assert_eq!(index.items[0].oguid, "plone:1016273300");
    }

    #[test]
    fn both_error_shapes_give_the_servers_message() {
        for (body, message) in [
            (
                r#"{"error":{"type":"Bad Request","message":"Invalid transition 'x'."}}"#,
                "Invalid transition 'x'.",
            ),
            (
                r#"{"type":"NotFound","message":"Resource not found: http://x/task-9"}"#,
                "Resource not found: http://x/task-9",
            ),
            (
                r#"{"type":"BadRequest","message":"only_comment_type_can_be_edited","translated_message":"Only responses of type \"Comment\" can be edited.","additional_metadata":{}}"#,
                "Only responses of type \"Comment\" can be edited.",
            ),
            (
                r#"{"type":"BadRequest","message":"[('new_deadline', same_deadline_error)]","translated_message":"Inputs not valid","additional_metadata":{"fields":[{"field":"new_deadline","type":"ValidationError","translated_message":"The entered deadline is the same as the current one."}]}}"#,
                "new_deadline: The entered deadline is the same as the current one.",
            ),
            (
                r#"{"error":"invalid_token","error_description":"Access token expired"}"#,
                "Access token expired",
            ),
        ] {
            let e: ErrorBody = serde_json::from_str(body).unwrap();
            assert_eq!(e.user_message(), message, "{body}");
        }
    }

    #[test]
    fn login_bodies_never_show_secrets_in_debug_output() {
        let req = LoginRequest {
            login: "amy".into(),
            password: "hunter2".into(),
        };
        let res = LoginResponse {
            token: "eyJhbGciOi".into(),
        };
        let shown = format!("{req:?} {res:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("eyJhbGciOi"),
            "{shown}"
        );
    }
}

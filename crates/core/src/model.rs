//! The normalized task model every server dialect maps onto.
//!
//! A [`TaskRecord`] is a task as its server last reported it, already
//! normalized: one stable key per task (see `docs/decisions/0002-task-identity.md`),
//! one of nine [`State`]s next to the server's own status text, and the raw
//! payload kept for anything the normalized fields do not carry.

use std::fmt;
use std::str::FromStr;
use ts_rs::TS;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

pub use crate::payload::Payload;
use crate::time::{Deadline, opt_ts};

/// Which kind of server an account talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    /// tasklane's own embedded engine, in-process.
    Local,
    Omflow,
    Gever,
    Hitachi,
}

impl AccountKind {
    pub const ALL: [AccountKind; 4] = [
        AccountKind::Local,
        AccountKind::Omflow,
        AccountKind::Gever,
        AccountKind::Hitachi,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AccountKind::Local => "local",
            AccountKind::Omflow => "omflow",
            AccountKind::Gever => "gever",
            AccountKind::Hitachi => "hitachi",
        }
    }
}

impl fmt::Display for AccountKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AccountKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AccountKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                format!("unknown account kind {s:?} (expected local, omflow, gever or hitachi)")
            })
    }
}

/// The normalized state of a task. Each dialect maps its own states onto
/// these in one table; the server's own status text is always kept beside.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Open,
    InProgress,
    Resolved,
    Closed,
    Cancelled,
    Rejected,
    Planned,
    Skipped,
    /// A server state without a sensible mapping; the status text says what it is.
    Other,
}

impl State {
    pub const ALL: [State; 9] = [
        State::Open,
        State::InProgress,
        State::Resolved,
        State::Closed,
        State::Cancelled,
        State::Rejected,
        State::Planned,
        State::Skipped,
        State::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Open => "open",
            State::InProgress => "in_progress",
            State::Resolved => "resolved",
            State::Closed => "closed",
            State::Cancelled => "cancelled",
            State::Rejected => "rejected",
            State::Planned => "planned",
            State::Skipped => "skipped",
            State::Other => "other",
        }
    }

    /// Whether work on the task is over (nothing more is expected of anyone).
    pub fn is_final(self) -> bool {
        matches!(self, State::Closed | State::Cancelled | State::Skipped)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for State {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        State::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<_> = State::ALL.iter().map(|s| s.as_str()).collect();
                format!("unknown state {s:?} (expected one of {})", names.join(", "))
            })
    }
}

/// The task fields an action can change before the server confirms it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum TaskField {
    State,
    Assignee,
    Group,
    Deadline,
}

impl TaskField {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskField::State => "state",
            TaskField::Assignee => "assignee",
            TaskField::Group => "group",
            TaskField::Deadline => "deadline",
        }
    }
}

/// How a description is written. Only GEVER's `rendered_text` is HTML, and
/// the UI sanitizes it; everything else is shown as plain text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum TextFormat {
    #[default]
    Text,
    Html,
}

impl TextFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            TextFormat::Text => "text",
            TextFormat::Html => "html",
        }
    }
}

/// A configured server account. Never holds a secret: passwords and tokens
/// live in the OS keychain only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Account {
    pub id: i64,
    pub name: String,
    pub kind: AccountKind,
    pub base_url: String,
    pub user_name: String,
    /// Per-kind settings (time zone, api_path map, lane filter, CA file, ...).
    pub settings: serde_json::Map<String, serde_json::Value>,
    #[serde(with = "opt_ts")]
    #[ts(type = "string | null")]
    pub created_at: Option<Timestamp>,
}

/// What it takes to add an account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct NewAccount {
    pub name: String,
    pub kind: AccountKind,
    #[serde(default)]
    pub base_url: String,
    #[serde(default)]
    pub user_name: String,
    #[serde(default)]
    pub settings: serde_json::Map<String, serde_json::Value>,
}

impl NewAccount {
    /// An account with no server address, user or settings yet.
    pub fn new(name: impl Into<String>, kind: AccountKind) -> Self {
        NewAccount {
            name: name.into(),
            kind,
            base_url: String::new(),
            user_name: String::new(),
            settings: serde_json::Map::new(),
        }
    }

    /// Sets the user name (builder style).
    pub fn user(mut self, user_name: impl Into<String>) -> Self {
        self.user_name = user_name.into();
        self
    }
}

/// The per-kind settings of an account, a typed view of
/// [`Account::settings`]. Never a secret: passwords and tokens live in the
/// OS keychain only.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
pub struct AccountSettings {
    /// IANA time zone of the server's naive datetimes (OMFLOW sends local
    /// times without an offset; default `Asia/Taipei`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// OMFLOW: flow uuid (without dashes) → the flow's api_path, which the
    /// my-mission list does not carry.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub api_paths: std::collections::BTreeMap<String, String>,
    /// Hitachi: the participant id to allocate work to (default: the user name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participant: Option<String>,
    /// Hitachi: the filter selecting the lanes to list and claim from,
    /// e.g. `Participant='Lane1'`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lane_filter: Option<String>,
    /// Hitachi: the sort order for claiming, e.g. `Priority DESC`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
    /// A CA certificate (PEM) to trust for this server, for on-premise
    /// servers with their own certificate authority.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_cert: Option<String>,
    /// GEVER: `basic` (default) or `jwt` (log in through `@login`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<String>,
    /// GEVER: the org units whose inbox the user works from; their tasks
    /// (responsible `inbox:<ou>`) are listed besides the user's own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inboxes: Vec<String>,
}

impl AccountSettings {
    /// Reads the typed settings out of an account's settings map.
    pub fn from_map(map: &serde_json::Map<String, serde_json::Value>) -> Result<Self, String> {
        serde_json::from_value(serde_json::Value::Object(map.clone()))
            .map_err(|e| format!("invalid account settings: {e}"))
    }

    /// Checks what the types cannot: every inbox names an org unit id.
    pub fn check(&self) -> Result<(), String> {
        for ou in &self.inboxes {
            if inbox_org_unit(ou) != Some(ou.as_str()) {
                return Err(format!("inbox {ou:?} is not an org unit id such as fd"));
            }
        }
        Ok(())
    }

    /// The settings as a map, for [`NewAccount::settings`].
    pub fn to_map(&self) -> serde_json::Map<String, serde_json::Value> {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => serde_json::Map::new(),
        }
    }
}

/// The GEVER org unit an inbox setting names (`fd`, `afi`; `inbox:fd` is
/// taken too, and spaces around it), or `None` when it is no org unit id.
pub fn inbox_org_unit(text: &str) -> Option<&str> {
    let text = text.trim();
    let ou = text.strip_prefix("inbox:").unwrap_or(text);
    let valid = !ou.is_empty()
        && ou
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'));
    valid.then_some(ou)
}

/// A task as its server last reported it, normalized.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct TaskRecord {
    /// The stable remote key (GEVER oguid, OMFLOW flow+ticket+stop, Hitachi
    /// case+work item, engine task id).
    pub key: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub description_format: TextFormat,
    pub state: State,
    /// The server's own word for the state, shown next to the normalized one.
    #[serde(default)]
    pub status_text: String,
    /// Task type or kind (GEVER task_type, OMFLOW flow step, Hitachi work definition).
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub assignee: Option<String>,
    /// The group, org unit inbox, team or BPMN lane the task is assigned to.
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub issuer: Option<String>,
    #[ts(type = "string | null")]
    #[serde(default)]
    pub deadline: Option<Deadline>,
    #[serde(default)]
    pub priority: Option<i64>,
    #[serde(default, with = "opt_ts")]
    #[ts(type = "string | null")]
    pub created: Option<Timestamp>,
    #[serde(default, with = "opt_ts")]
    #[ts(type = "string | null")]
    pub modified: Option<Timestamp>,
    /// Process, flow or dossier the task belongs to.
    #[serde(default)]
    pub process: Option<String>,
    #[serde(default)]
    pub parent_key: Option<String>,
    /// Position in a sequential process.
    #[serde(default)]
    pub position: Option<i64>,
    /// The server's own representation, kept verbatim.
    #[serde(default)]
    #[ts(as = "serde_json::Value")]
    pub payload: Payload,
    /// Comments, when the listing carried them; `None` keeps what the replica has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comments: Option<Vec<Comment>>,
    /// History entries, when fetched; `None` keeps what the replica has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<HistoryEntry>>,
    /// The actions the server offers this user now, when fetched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actions: Option<Vec<Action>>,
}

impl TaskRecord {
    /// A record with only the required fields set; handy for tests and builders.
    pub fn new(key: impl Into<String>, title: impl Into<String>, state: State) -> Self {
        TaskRecord {
            key: key.into(),
            title: title.into(),
            description: String::new(),
            description_format: TextFormat::Text,
            state,
            status_text: String::new(),
            kind: None,
            assignee: None,
            group: None,
            issuer: None,
            deadline: None,
            priority: None,
            created: None,
            modified: None,
            process: None,
            parent_key: None,
            position: None,
            payload: Payload::default(),
            comments: None,
            history: None,
            actions: None,
        }
    }
}

/// A comment on a task, as the server holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Comment {
    /// The server's id for the comment (GEVER response_id, OMFLOW work log id).
    pub remote_id: String,
    #[serde(default)]
    pub author: Option<String>,
    pub text: String,
    #[serde(default, with = "opt_ts")]
    #[ts(type = "string | null")]
    pub created: Option<Timestamp>,
    #[serde(default, with = "opt_ts")]
    #[ts(type = "string | null")]
    pub modified: Option<Timestamp>,
}

/// One entry of a task's history: a transition, a reassignment, a removed comment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct HistoryEntry {
    #[serde(default)]
    pub remote_id: Option<String>,
    #[serde(default, with = "opt_ts")]
    #[ts(type = "string | null")]
    pub at: Option<Timestamp>,
    #[serde(default)]
    pub actor: Option<String>,
    /// The transition id or event name as the server names it.
    pub action: String,
    #[serde(default)]
    pub text: String,
    /// Field changes `[{field, before, after}]` when the server lists them.
    #[serde(default)]
    pub changes: serde_json::Value,
}

/// An action the server offers on a task: a workflow transition, an OMFLOW
/// form push or quick action, a Hitachi completion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Action {
    pub id: String,
    pub label: String,
    /// The normalized state the task is expected in afterwards, when known.
    #[serde(default)]
    pub to_state: Option<State>,
    #[serde(default)]
    pub params: Vec<ParamSpec>,
}

/// One parameter an action takes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ParamSpec {
    pub name: String,
    #[serde(default)]
    pub label: String,
    pub kind: ParamKind,
    #[serde(default)]
    pub required: bool,
    /// The task field this parameter sets, so a queued action can show its
    /// expected effect (e.g. GEVER `new_deadline` sets the deadline).
    #[serde(default)]
    pub sets: Option<TaskField>,
    /// The server's own type name, sent back with the value where the
    /// protocol wants it (OMFLOW form items carry a `type`).
    #[serde(default)]
    pub wire_type: Option<String>,
}

/// The kind of value a parameter takes, which decides how the UI asks for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ParamKind {
    Text,
    LongText,
    Number,
    Bool,
    Date,
    /// A user, group, team or lane.
    Actor,
    /// Several actors (GEVER delegate `responsibles`).
    Actors,
    /// Document references (GEVER `approved_documents`).
    Documents,
    Choice {
        options: Vec<String>,
    },
}

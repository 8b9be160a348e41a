//! The engine's task model: GEVER's states and task types, and who a task
//! is for.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{EngineError, Result};

/// A task's state in the GEVER task workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TaskState {
    Open,
    InProgress,
    Resolved,
    Rejected,
    Planned,
    Closed,
    Cancelled,
    Skipped,
}

impl TaskState {
    pub const ALL: [TaskState; 8] = [
        TaskState::Open,
        TaskState::InProgress,
        TaskState::Resolved,
        TaskState::Rejected,
        TaskState::Planned,
        TaskState::Closed,
        TaskState::Cancelled,
        TaskState::Skipped,
    ];

    /// The name stored in the database, as in GEVER's `task-state-<name>`.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::Open => "open",
            TaskState::InProgress => "in-progress",
            TaskState::Resolved => "resolved",
            TaskState::Rejected => "rejected",
            TaskState::Planned => "planned",
            TaskState::Closed => "tested-and-closed",
            TaskState::Cancelled => "cancelled",
            TaskState::Skipped => "skipped",
        }
    }

    /// GEVER's `review_state`.
    pub fn review_state(self) -> String {
        format!("task-state-{}", self.as_str())
    }

    /// GEVER's state titles (German, English).
    pub fn title(self, german: bool) -> &'static str {
        match (self, german) {
            (TaskState::Open, true) => "Offen",
            (TaskState::Open, false) => "Open",
            (TaskState::InProgress, true) => "In Arbeit",
            (TaskState::InProgress, false) => "In progress",
            (TaskState::Resolved, true) => "Erledigt",
            (TaskState::Resolved, false) => "Resolved",
            (TaskState::Rejected, true) => "Abgelehnt",
            (TaskState::Rejected, false) => "Rejected",
            (TaskState::Planned, true) => "Geplant",
            (TaskState::Planned, false) => "Planned",
            (TaskState::Closed, true) => "Abgeschlossen",
            (TaskState::Closed, false) => "Closed",
            (TaskState::Cancelled, true) => "Abgebrochen",
            (TaskState::Cancelled, false) => "Cancelled",
            (TaskState::Skipped, true) => "Übersprungen",
            (TaskState::Skipped, false) => "Skipped",
        }
    }

    /// Final: nothing more happens (GEVER `FINAL_TASK_STATES`, `is_completed`).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            TaskState::Closed | TaskState::Cancelled | TaskState::Skipped
        )
    }

    /// Finished for parent-task checks (GEVER `FINISHED_TASK_STATES`).
    pub fn is_finished(self) -> bool {
        self.is_final() || self == TaskState::Rejected
    }

    /// States in which a task can be edited, reassigned and get a new deadline.
    pub fn is_editable(self) -> bool {
        matches!(
            self,
            TaskState::Open | TaskState::InProgress | TaskState::Planned | TaskState::Resolved
        )
    }
}

impl FromStr for TaskState {
    type Err = EngineError;

    fn from_str(s: &str) -> Result<Self> {
        let s = s.strip_prefix("task-state-").unwrap_or(s);
        TaskState::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| EngineError::invalid(format!("unknown task state {s:?}")))
    }
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// GEVER's task types; the category decides the workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TaskType {
    DirectExecution,
    Information,
    Comment,
    Approval,
    Correction,
    Report,
}

impl TaskType {
    pub const ALL: [TaskType; 6] = [
        TaskType::DirectExecution,
        TaskType::Information,
        TaskType::Comment,
        TaskType::Approval,
        TaskType::Correction,
        TaskType::Report,
    ];

    pub fn token(self) -> &'static str {
        match self {
            TaskType::DirectExecution => "direct-execution",
            TaskType::Information => "information",
            TaskType::Comment => "comment",
            TaskType::Approval => "approval",
            TaskType::Correction => "correction",
            TaskType::Report => "report",
        }
    }

    /// GEVER's titles (German, English).
    pub fn title(self, german: bool) -> &'static str {
        match (self, german) {
            (TaskType::DirectExecution, true) => "Zur direkten Erledigung",
            (TaskType::DirectExecution, false) => "For direct execution",
            (TaskType::Information, true) => "Zur Kenntnisnahme",
            (TaskType::Information, false) => "For your information",
            (TaskType::Comment, true) => "Zur Stellungnahme",
            (TaskType::Comment, false) => "To comment",
            (TaskType::Approval, true) => "Zur Genehmigung",
            (TaskType::Approval, false) => "For your approval",
            (TaskType::Correction, true) => "Zur Prüfung / Korrektur",
            (TaskType::Correction, false) => "For your review",
            (TaskType::Report, true) => "Zum Bericht / Antrag",
            (TaskType::Report, false) => "To report / request",
        }
    }

    /// Comment, approval, correction and report go back to the issuer.
    pub fn is_bidirectional(self) -> bool {
        !matches!(self, TaskType::DirectExecution | TaskType::Information)
    }
}

impl FromStr for TaskType {
    type Err = EngineError;

    fn from_str(s: &str) -> Result<Self> {
        TaskType::ALL
            .into_iter()
            .find(|t| t.token() == s)
            .ok_or_else(|| {
                EngineError::field(
                    "task_type",
                    "ConstraintNotSatisfied",
                    "ConstraintNotSatisfied",
                    format!("{s:?} is not a task type"),
                )
            })
    }
}

/// A group's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupKind {
    /// A GEVER org unit, whose members form its inbox (`inbox:<id>`).
    OrgUnit,
    /// A GEVER team (`team:<id>`).
    Team,
    /// A BPMN lane (Hitachi participant).
    Lane,
}

impl GroupKind {
    pub fn as_str(self) -> &'static str {
        match self {
            GroupKind::OrgUnit => "org_unit",
            GroupKind::Team => "team",
            GroupKind::Lane => "lane",
        }
    }
}

impl FromStr for GroupKind {
    type Err = EngineError;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "org_unit" => Ok(GroupKind::OrgUnit),
            "team" => Ok(GroupKind::Team),
            "lane" => Ok(GroupKind::Lane),
            _ => Err(EngineError::invalid(format!("unknown group kind {s:?}"))),
        }
    }
}

/// Who a task is for: a user, a group, or a user acting for an org unit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Responsible {
    pub user: Option<String>,
    pub group: Option<String>,
    /// GEVER `responsible_client`: the org unit the responsible acts for.
    pub client: Option<String>,
}

/// An engine task.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub id: i64,
    pub title: String,
    pub text: String,
    pub task_type: TaskType,
    pub state: TaskState,
    pub responsible: Responsible,
    pub issuer: String,
    pub issuing_org_unit: Option<String>,
    pub deadline: Option<String>,
    pub priority: i64,
    pub is_private: bool,
    pub created: String,
    pub modified: String,
    pub started_at: Option<String>,
    pub closed_at: Option<String>,
    pub parent_id: Option<i64>,
    pub sequence_type: Option<String>,
    pub position: Option<i64>,
    pub dossier_id: i64,
    pub ticket_id: Option<i64>,
    pub step_position: Option<i64>,
    pub related_items: Vec<String>,
}

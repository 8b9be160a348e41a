//! The engine's front door: the database, authentication, and the task
//! creation every dialect shares.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use jiff::ToSpan;

use crate::db::{Database, Tx};
use crate::dossiers;
use crate::error::{EngineError, Result};
use crate::model::Task;
use crate::model::{TaskState, TaskType};
use crate::tasks::{self, NewTaskRow};
use crate::users::{self, Principal};
use crate::workflow;

/// How long a verified password is remembered, so that HTTP basic auth on
/// every request does not cost an argon2 verification each time.
const AUTH_CACHE_TTL: Duration = Duration::from_secs(300);

/// The embedded task engine.
#[derive(Debug)]
pub struct Engine {
    db: Database,
    /// user → (keyed hash of the password that verified, the stored argon2
    /// hash it verified against, when). The hash key is random per process,
    /// so nothing here outlives it or helps guess; keeping the stored hash
    /// makes a password change (even by another process) end the entry.
    auth_cache: Mutex<HashMap<String, (u64, String, Instant)>>,
    hasher: RandomState,
}

/// What it takes to create a task (GEVER `POST <dossier or task>`).
#[derive(Debug, Clone, Default)]
pub struct CreateTask {
    pub title: String,
    pub text: String,
    /// Defaults to `direct-execution`.
    pub task_type: Option<String>,
    /// A GEVER responsible value (`user`, `org:user`, `inbox:org`, `team:x`, lane).
    pub responsible: String,
    pub responsible_client: Option<String>,
    /// Defaults to the creator.
    pub issuer: Option<String>,
    /// `YYYY-MM-DD`; defaults to five days from today, as GEVER does.
    pub deadline: Option<String>,
    pub priority: i64,
    pub is_private: bool,
    /// Creating into a task makes a subtask of it.
    pub parent_id: Option<i64>,
    /// Otherwise into this dossier.
    pub dossier_id: Option<i64>,
    /// Position within a sequential parent (default: at the end).
    pub position: Option<i64>,
    pub related_items: Vec<String>,
}

impl Engine {
    /// Opens (creating if needed) the engine in `dir`.
    pub fn open(dir: &Path) -> Result<Self> {
        Ok(Self::with(Database::open(dir)?))
    }

    /// An engine in memory, for tests.
    pub fn open_in_memory() -> Result<Self> {
        Ok(Self::with(Database::open_in_memory()?))
    }

    fn with(db: Database) -> Self {
        Engine {
            db,
            auth_cache: Mutex::new(HashMap::new()),
            hasher: RandomState::new(),
        }
    }

    pub fn db(&self) -> &Database {
        &self.db
    }

    /// Checks a user's password; `None` when the user is unknown, cannot
    /// log in, or the password is wrong.
    pub fn authenticate(&self, user: &str, password: &str) -> Result<Option<Principal>> {
        let digest = self.hasher.hash_one((user, password));
        // One read for both: this runs for every request.
        let found = self.db.read(|c| match users::password_hash(c, user)? {
            Some(hash) => Ok(Some((hash, users::principal(c, user)?))),
            None => Ok(None),
        })?;
        let Some((hash, principal)) = found else {
            return Ok(None);
        };
        let cached = {
            let cache = self.auth_cache.lock().unwrap_or_else(|p| p.into_inner());
            cache.get(user).is_some_and(|(d, stored, at)| {
                *d == digest && *stored == hash && at.elapsed() < AUTH_CACHE_TTL
            })
        };
        if !cached {
            if !users::verify_password(&hash, password) {
                return Ok(None);
            }
            let mut cache = self.auth_cache.lock().unwrap_or_else(|p| p.into_inner());
            cache.insert(user.to_string(), (digest, hash, Instant::now()));
        }
        Ok(Some(principal))
    }

    /// Forgets remembered passwords (after a password change).
    pub fn forget_credentials(&self, user: &str) {
        let mut cache = self.auth_cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.remove(user);
    }

    /// The principal for a user who needs no password (the in-process local user).
    pub fn principal(&self, user: &str) -> Result<Principal> {
        self.db.read(|c| users::principal(c, user))
    }

    pub fn set_password(&self, user: &str, password: &str) -> Result<()> {
        self.db
            .write(|tx| users::set_password(tx, user, password))?;
        self.forget_credentials(user);
        Ok(())
    }
}

/// Creates a task as GEVER does: into a dossier, or as a subtask; inside a
/// sequential main task it is planned, at `position` (default: last).
pub fn create_task(tx: &Tx<'_>, p: &Principal, new: &CreateTask) -> Result<Task> {
    let task_type: TaskType = match &new.task_type {
        Some(t) => t.parse()?,
        None => TaskType::DirectExecution,
    };
    let responsible =
        tasks::parse_responsible(tx, &new.responsible, new.responsible_client.as_deref())?;
    let issuer = match &new.issuer {
        Some(i) => tasks::parse_responsible(tx, i, None)?.user.ok_or_else(|| {
            EngineError::field(
                "issuer",
                "ConstraintNotSatisfied",
                "ConstraintNotSatisfied",
                "The issuer must be a user.",
            )
        })?,
        None => p.user.clone(),
    };
    let deadline = match &new.deadline {
        Some(d) => Some(
            d.parse::<jiff::civil::Date>()
                .map_err(|_| {
                    EngineError::field(
                        "deadline",
                        "ConstraintNotSatisfied",
                        "ConstraintNotSatisfied",
                        format!("{d:?} is not a date"),
                    )
                })?
                .strftime("%Y-%m-%d")
                .to_string(),
        ),
        None => jiff::Zoned::now()
            .date()
            .checked_add(5.days())
            .ok()
            .map(|d| d.strftime("%Y-%m-%d").to_string()),
    };
    let (dossier_id, parent, state, position) = match new.parent_id {
        Some(parent_id) => {
            let parent = tasks::require_visible(tx, p, parent_id)?;
            let sequential = parent.sequence_type.as_deref() == Some("sequential");
            let position = if sequential {
                let siblings = tasks::children(tx, parent.id)?;
                let last = siblings
                    .iter()
                    .filter_map(|s| s.position)
                    .max()
                    .unwrap_or(0);
                let at = new.position.unwrap_or(last + 1).clamp(1, last + 1);
                tx.execute(
                    "UPDATE tasks SET position = position + 1 WHERE parent_id = ?1 AND position >= ?2",
                    rusqlite::params![parent.id, at],
                )?;
                Some(at)
            } else {
                None
            };
            let state = if sequential {
                TaskState::Planned
            } else {
                TaskState::Open
            };
            (parent.dossier_id, Some(parent.id), state, position)
        }
        None => {
            let dossier = new
                .dossier_id
                .ok_or_else(|| EngineError::invalid("a task is created in a dossier or a task"))?;
            dossiers::get(tx, dossier)?;
            (dossier, None, TaskState::Open, None)
        }
    };
    let task = tasks::insert(
        tx,
        &NewTaskRow {
            title: new.title.clone(),
            text: new.text.clone(),
            task_type,
            state,
            responsible,
            issuer,
            deadline,
            priority: new.priority,
            is_private: new.is_private,
            parent_id: parent,
            position,
            dossier_id,
            ticket_id: None,
            step_position: None,
            related_items: new.related_items.clone(),
        },
    )?;
    workflow::record_creation(tx, p, &task)?;
    Ok(task)
}

//! Errors of the core crate.
//!
//! Two layers, as at every tasklane boundary: [`Error`] carries the detail a
//! developer needs, [`ErrorKind`] is the small stable classification the CLI
//! (exit codes) and the app (typed `{kind, message}` errors) branch on.

use std::path::PathBuf;
use ts_rs::TS;

use crate::query::QueryError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file is not an SQLite database, or SQLite found it damaged.
    #[error(
        "the replica database {path} is unreadable or damaged ({detail}); it was left untouched — move it aside and sync again"
    )]
    Corrupt { path: PathBuf, detail: String },

    /// A valid SQLite database that belongs to some other program.
    #[error(
        "{path} is an SQLite database of another application, not a tasklane replica; it was left untouched"
    )]
    Foreign { path: PathBuf },

    /// Written by a newer tasklane: refusing is the only safe answer, since
    /// this build cannot know what the newer schema means.
    #[error(
        "the replica database {path} has schema version {found}, but this tasklane knows versions up to {supported}; use a newer tasklane (the file was left untouched)"
    )]
    NewerSchema {
        path: PathBuf,
        found: i64,
        supported: i64,
    },

    #[error(transparent)]
    Query(#[from] QueryError),

    #[error("no task {0}")]
    TaskNotFound(String),

    #[error("no account named {0:?}")]
    AccountNotFound(String),

    #[error("an account named {0:?} already exists")]
    AccountExists(String),

    #[error("no outbox op {0}")]
    OpNotFound(String),

    /// An outbox op was asked to move to a state its current state does not allow.
    #[error("op {op} is {from}; it cannot become {to}")]
    OpTransition {
        op: String,
        from: &'static str,
        to: &'static str,
    },

    /// The user's action is not valid for this task (unknown transition,
    /// missing parameter, ...). The message is meant for the user.
    #[error("{0}")]
    InvalidOp(String),

    /// Bad input data other than a query: an import file, an account setting.
    #[error("{0}")]
    Invalid(String),

    #[error("storage error: {0}")]
    Sqlite(#[from] rusqlite::Error),

    #[error("schema migration failed: {0}")]
    Migration(#[from] rusqlite_migration::Error),

    #[error("{0}")]
    Io(#[from] std::io::Error),

    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// The stable classification of an [`Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The request itself is wrong: a bad query, an invalid op, bad input data.
    Invalid,
    /// The thing asked for does not exist.
    NotFound,
    /// The request clashes with the current state (an op already being sent, a duplicate name).
    Conflict,
    /// The database file cannot be used: damaged, foreign or from a newer version.
    Corrupt,
    /// Anything else going wrong underneath (I/O, SQLite errors other than corruption).
    Storage,
}

impl Error {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Corrupt { .. } | Error::Foreign { .. } | Error::NewerSchema { .. } => {
                ErrorKind::Corrupt
            }
            Error::Query(_) | Error::InvalidOp(_) | Error::Invalid(_) | Error::Json(_) => {
                ErrorKind::Invalid
            }
            Error::TaskNotFound(_) | Error::AccountNotFound(_) | Error::OpNotFound(_) => {
                ErrorKind::NotFound
            }
            Error::AccountExists(_) | Error::OpTransition { .. } => ErrorKind::Conflict,
            Error::Sqlite(e) if is_corruption(e) => ErrorKind::Corrupt,
            Error::Sqlite(_) | Error::Migration(_) | Error::Io(_) => ErrorKind::Storage,
        }
    }
}

/// Whether SQLite says the file itself is bad (as opposed to a bad statement).
pub(crate) fn is_corruption(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
    )
}

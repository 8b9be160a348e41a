//! tasklane-core: the domain model, the local task replica, the outbox of
//! user actions and the query engine shared by the CLI and the desktop app.
//!
//! The front door is [`Replica`]: it owns the SQLite file, creates and
//! upgrades its schema, and offers the reads (through [`Query`]) and writes
//! (task ingest, outbox ops) everything else builds on. Nothing here talks to
//! a network; servers are reached through the dialect crates.

pub mod bindings;
pub mod error;
pub mod exchange;
pub mod model;
pub mod outbox;
pub mod payload;
pub mod query;
pub mod remote;
pub mod replica;
pub mod sync;
pub mod synthetic;
pub mod time;

pub use error::{Error, ErrorKind, Result};
pub use model::{
    Account, AccountKind, AccountSettings, Action, Comment, HistoryEntry, NewAccount, ParamKind,
    ParamSpec, State, TaskField, TaskRecord,
};
pub use outbox::{Op, OpRequest, OpState};
pub use query::{Query, QueryError};
pub use replica::Replica;

//! tasklane-engine: tasklane's own task engine — users and groups, tasks
//! with the GEVER task model and workflow, OMFLOW-style flows and tickets,
//! Hitachi-style work items — in its own SQLite database, and the axum
//! server (`tasklane serve`) that speaks all three dialects.

pub mod db;
pub mod demo;
pub mod dossiers;
mod engine;
pub mod error;
pub mod filter;
pub mod flows;
pub mod idempotency;
pub mod local;
pub mod model;
pub mod responses;
pub mod server;
pub mod tasks;
pub mod users;
pub mod workflow;
pub mod workitems;

pub use engine::{CreateTask, Engine, create_task};
pub use error::{EngineError, Result};
pub use local::LocalRemote;

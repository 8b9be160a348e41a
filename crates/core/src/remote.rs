//! The seam between tasklane and a task server.
//!
//! A [`Remote`] is one account's server, seen through its dialect: it lists
//! the user's tasks page by page, fetches one task's full state, executes
//! one outbox op, and answers whether an op that may have reached the
//! server took effect. Implementations: the HTTP clients for OMFLOW, GEVER
//! and Hitachi CSCIW (tasklane-dialects) and the embedded engine in-process
//! (tasklane-engine). The sync engine is written against this trait only.
//!
//! Futures are boxed so that accounts of any kind can be held as
//! `Box<dyn Remote>`; the allocation is nothing next to a network round trip.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;
use ts_rs::TS;

use serde::{Deserialize, Serialize};

use crate::model::TaskRecord;
use crate::outbox::{Op, OpKind};

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a server supports, so that the UI offers only that.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Capabilities {
    /// The op kinds this server can execute.
    pub op_kinds: Vec<OpKind>,
    /// Listings can be incremental (by watermark) rather than always full.
    pub incremental: bool,
    /// The server applies a request at most once per `Idempotency-Key`, so an
    /// op in doubt can simply be sent again with the same key.
    pub idempotency_keys: bool,
    /// A full listing is the user's whole view: a task missing from it has
    /// left the user's view (is "gone").
    pub exhaustive_listing: bool,
}

impl Capabilities {
    pub fn supports(&self, kind: OpKind) -> bool {
        self.op_kinds.contains(&kind)
    }
}

/// How much to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListMode {
    /// Everything in the user's view.
    Full,
    /// What changed since this watermark (as returned by an earlier listing).
    Since(String),
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ListPage {
    /// Tasks, normalized. Comments, history and actions are usually `None`
    /// in listings; [`Remote::fetch`] fills them.
    pub tasks: Vec<TaskRecord>,
    /// Where the next page starts; `None` after the last page.
    pub next: Option<String>,
    /// How many tasks the listing has in all, when the server says.
    pub total: Option<u64>,
    /// On the last page: the watermark to store once every page is ingested.
    pub watermark: Option<String>,
}

/// What a successful op did.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Outcome {
    /// The server's answer, kept with the op for the user to see.
    pub result: serde_json::Value,
    /// The remote key of the task the op created or claimed, if any.
    pub key: Option<String>,
}

/// Whether an op that may have reached the server took effect.
#[derive(Debug, Clone, PartialEq)]
pub enum Applied {
    /// It did; nothing must be sent again.
    Yes(Outcome),
    /// It did not; it can be sent (again).
    No,
    /// The server's state does not tell; the reason, for the user.
    Unknown(String),
    /// A claim (allocation): the items the user was given since the op was
    /// queued, oldest first. Other claims queued with it may have taken
    /// some of them; the sync engine knows which, and the op took effect
    /// exactly when one is left over.
    Claimed(Vec<Outcome>),
}

/// A failure talking to a server, classified for the sync engine.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct RemoteError {
    pub kind: RemoteErrorKind,
    /// What to tell the user: the server's own message where it sent one.
    pub message: String,
    /// The HTTP status, when there was a response.
    pub status: Option<u16>,
}

impl fmt::Display for RemoteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.status {
            Some(status) => write!(f, "{} (HTTP {status})", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl RemoteError {
    pub fn new(kind: RemoteErrorKind, message: impl Into<String>) -> Self {
        RemoteError {
            kind,
            message: message.into(),
            status: None,
        }
    }

    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }
}

/// The classes of failure, by what the sync engine must do about them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RemoteErrorKind {
    /// Credentials wrong, or expired even after logging in again: stop this
    /// account's sync and tell the user.
    Auth,
    /// The server cannot be reached (no route, DNS failure, connection
    /// refused); nothing was sent. Pause without counting an attempt.
    Offline,
    /// Nothing was applied; try again later (5xx, 429, a timeout before the
    /// request was sent, OMFLOW "ticket is running").
    Transient {
        /// The server's `Retry-After`, when it gave one.
        #[serde(with = "opt_secs")]
        retry_after: Option<Duration>,
    },
    /// The server refused for good (validation, not permitted, not found):
    /// the same request will fail the same way.
    Permanent,
    /// The request may have been applied (a timeout or reset after it was
    /// sent): ask the server before sending again.
    Uncertain,
    /// The server's answer could not be understood (malformed, truncated,
    /// oversized, wrong types). For a read, try again later; for a write,
    /// treat as [`RemoteErrorKind::Uncertain`].
    Protocol,
}

mod opt_secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(d) => s.serialize_some(&d.as_secs_f64()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<f64>::deserialize(d)?
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(Duration::from_secs_f64))
    }
}

/// One account's server.
pub trait Remote: Send + Sync {
    /// What this server supports.
    fn capabilities(&self) -> Capabilities;

    /// One page of the user's tasks. `cursor` is `None` for the first page
    /// and the previous page's `next` after that.
    fn list_page<'a>(
        &'a self,
        mode: &'a ListMode,
        cursor: Option<&'a str>,
    ) -> BoxFuture<'a, Result<ListPage, RemoteError>>;

    /// One task's full current state — fields, comments, history and the
    /// actions offered to this user now — or `None` when it is no longer in
    /// the user's view.
    fn fetch<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<TaskRecord>, RemoteError>>;

    /// Sends one op. `task` is the task's server state when the op is
    /// about a task — fetched by the sync engine to check the op's
    /// precondition, before this op or before the comments this run just
    /// added to it, which change no handle — so dialects can use volatile
    /// handles such as an OMFLOW `data_id`.
    fn execute<'a>(
        &'a self,
        op: &'a Op,
        task: Option<&'a TaskRecord>,
    ) -> BoxFuture<'a, Result<Outcome, RemoteError>>;

    /// After a crash or an uncertain error: did `op` take effect? `task` is
    /// the task's fresh state, when the op is about a task (`None` also when
    /// the task left the user's view).
    fn applied<'a>(
        &'a self,
        op: &'a Op,
        task: Option<&'a TaskRecord>,
    ) -> BoxFuture<'a, Result<Applied, RemoteError>>;
}

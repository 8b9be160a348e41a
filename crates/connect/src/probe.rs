//! `tasklane account test`: log in, fetch one page, and say what was found
//! or exactly why not.

use serde::Serialize;
use tasklane_core::model::State;
use tasklane_core::remote::{Capabilities, ListMode, Remote, RemoteError};

/// What one page of an account's listing showed.
#[derive(Debug, Clone, Serialize)]
pub struct Probe {
    /// Tasks on the first page.
    pub tasks: usize,
    /// All tasks in the listing, when the server says.
    pub total: Option<u64>,
    /// Whether the listing goes on past the first page.
    pub more: bool,
    /// Up to five titles, to recognise the account by.
    pub sample: Vec<String>,
    /// Open or in-progress tasks on the first page.
    pub active: usize,
    pub capabilities: Capabilities,
}

/// Logs in (the first request does) and lists the first page.
pub async fn probe(remote: &dyn Remote) -> Result<Probe, RemoteError> {
    let page = remote.list_page(&ListMode::Full, None).await?;
    Ok(Probe {
        tasks: page.tasks.len(),
        total: page.total,
        more: page.next.is_some(),
        sample: page.tasks.iter().take(5).map(|t| t.title.clone()).collect(),
        active: page
            .tasks
            .iter()
            .filter(|t| matches!(t.state, State::Open | State::InProgress))
            .count(),
        capabilities: remote.capabilities(),
    })
}

//! Names for the numbers of the my-mission list.
//!
//! A row's `assignee_id` and `assign_group_id` are database ids. The user
//! directory (`user/list/`) and the departments (`group/list/`) say whom
//! and what they stand for, so tasks carry the login name (which the
//! account's own user name is compared with: "my tasks", notifications)
//! and the department's display name. A server that refuses those lists
//! leaves the numbers as they are.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use tasklane_core::model::TaskRecord;

use super::wire::MissionRow;

/// How long a loaded directory is trusted: an id it does not know makes it
/// load again only after this long (new users are rare; a server that
/// refuses the lists is not asked on every page).
pub(super) const TTL: Duration = Duration::from_secs(10 * 60);
/// Users per `user/list/` page, and the most pages read.
pub(super) const USER_PAGE: i64 = 500;
pub(super) const MAX_USER_PAGES: i64 = 40;

#[derive(Debug, Default)]
pub(super) struct Directory {
    /// User id → login name.
    pub users: HashMap<i64, String>,
    /// Department id → display name.
    pub groups: HashMap<i64, String>,
    pub loaded: Option<Instant>,
}

impl Directory {
    /// Whether the directory should be (re)loaded before naming `rows`.
    pub fn needs_loading(&self, rows: &[MissionRow]) -> bool {
        if self.loaded.is_some_and(|at| at.elapsed() < TTL) {
            return false;
        }
        rows.iter().any(|r| {
            r.assignee_id
                .is_some_and(|id| !self.users.contains_key(&id))
                || r.assign_group_id
                    .is_some_and(|id| !self.groups.contains_key(&id))
        })
    }

    /// Replaces `task`'s numbers with the names the directory knows.
    pub fn name(&self, task: &mut TaskRecord, row: &MissionRow) {
        if let Some(name) = row.assignee_id.and_then(|id| self.users.get(&id)) {
            task.assignee = Some(name.clone());
        }
        if let Some(name) = row.assign_group_id.and_then(|id| self.groups.get(&id)) {
            task.group = Some(name.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(assignee: Option<i64>, group: Option<i64>) -> MissionRow {
        let mut row: MissionRow = serde_json::from_value(serde_json::json!({
            "flow_uuid": "8d1f3c5e-0b6a-4d8e-9f27-3a5b7c9d1e2f", "flow_name": "請款",
            "id": 7, "data_no": 3, "data_id": 7, "stop_uuid": "s1", "status": "",
        }))
        .unwrap_or_else(|e| panic!("row: {e}"));
        row.assignee_id = assignee;
        row.assign_group_id = group;
        row
    }

    #[test]
    fn known_numbers_become_names_and_unknown_ones_stay_numbers() {
        let dir = Directory {
            users: HashMap::from([(5, "wang.xiaoming".to_string())]),
            groups: HashMap::from([(4, "財務部".to_string())]),
            loaded: Some(Instant::now()),
        };
        let mut task = TaskRecord::new("k", "t", tasklane_core::model::State::Open);
        task.assignee = Some("5".into());
        task.group = Some("4".into());
        dir.name(&mut task, &row(Some(5), Some(4)));
        assert_eq!(task.assignee.as_deref(), Some("wang.xiaoming"));
        assert_eq!(task.group.as_deref(), Some("財務部"));

        let mut other = TaskRecord::new("k", "t", tasklane_core::model::State::Open);
        other.assignee = Some("9".into());
        dir.name(&mut other, &row(Some(9), None));
        assert_eq!(other.assignee.as_deref(), Some("9"));
    }

    #[test]
    fn an_unknown_number_loads_the_directory_again_only_once_it_is_stale() {
        let mut dir = Directory::default();
        assert!(dir.needs_loading(&[row(Some(5), None)]));
        assert!(!dir.needs_loading(&[row(None, None)]));
        dir.loaded = Some(Instant::now());
        assert!(!dir.needs_loading(&[row(Some(5), None)]));
        dir.loaded = Instant::now().checked_sub(TTL + Duration::from_secs(1));
        assert!(dir.needs_loading(&[row(Some(5), None)]));
        dir.users.insert(5, "wang".into());
        assert!(!dir.needs_loading(&[row(Some(5), None)]));
    }
}

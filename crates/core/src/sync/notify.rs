//! New assignments, for desktop notifications.
//!
//! After a pull, tasks that are new in the user's view (or newly assigned
//! to the user) and still to be done raise a notification — except on an
//! account's first sync (everything would be "new"), for tasks the user
//! issued, and for tasks the user acted on (a claim, a create). More than
//! [`SUMMARY_OVER`] at once become one summary.

use std::sync::Mutex;

use serde::Serialize;

use crate::model::State;

/// More new assignments than this at once are summarised in one notification.
pub const SUMMARY_OVER: usize = 3;

/// One newly assigned task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assignment {
    /// The replica's task id (a click opens it).
    pub task_id: i64,
    pub account: String,
    pub title: String,
    /// Who issued it, or else the process / flow it belongs to.
    pub from: Option<String>,
    /// The deadline as text (a date or a date and time).
    pub deadline: Option<String>,
}

/// What the desktop is told.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Notification {
    /// One new task.
    Task(Assignment),
    /// Several at once: how many, and the account(s) they came from.
    Summary {
        account: String,
        count: usize,
        task_ids: Vec<i64>,
    },
}

impl Notification {
    /// The notification's title and body, as shown.
    pub fn text(&self) -> (String, String) {
        match self {
            Notification::Task(a) => {
                let mut body = Vec::new();
                if let Some(from) = &a.from {
                    body.push(from.clone());
                }
                if let Some(deadline) = &a.deadline {
                    body.push(format!("⏰ {deadline}"));
                }
                body.push(a.account.clone());
                (a.title.clone(), body.join(" · "))
            }
            Notification::Summary { account, count, .. } => (
                format!("{count} new tasks"),
                format!("{account}: {count} tasks were assigned to you or your groups"),
            ),
        }
    }
}

/// Where notifications go: the desktop (notify-rust) in the app and CLI, a
/// recording in tests.
pub trait Notifier: Send + Sync {
    fn notify(&self, notification: &Notification);
}

/// Notifies nobody.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Notifier for Silent {
    fn notify(&self, _: &Notification) {}
}

/// Keeps every notification, for tests.
#[derive(Debug, Default)]
pub struct Recording {
    seen: Mutex<Vec<Notification>>,
}

impl Recording {
    pub fn take(&self) -> Vec<Notification> {
        std::mem::take(&mut *self.seen.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

impl Notifier for Recording {
    fn notify(&self, notification: &Notification) {
        self.seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(notification.clone());
    }
}

/// A task as the pull saw it change, to decide whether it is news.
#[derive(Debug, Clone)]
pub struct Seen {
    pub assignment: Assignment,
    pub state: State,
    pub issuer: Option<String>,
    /// The task was not in the replica before this pull.
    pub new: bool,
    /// Its assignee became the user in this pull (it was someone else's or a group's).
    pub newly_mine: bool,
    /// The user has ops on it (acted on it, claimed it, created it).
    pub acted_on: bool,
}

/// The notifications for what one pull saw. `first_sync` silences all.
pub fn plan(account: &str, user: &str, first_sync: bool, seen: Vec<Seen>) -> Vec<Notification> {
    if first_sync {
        return Vec::new();
    }
    let news: Vec<Assignment> = seen
        .into_iter()
        .filter(|s| s.new || s.newly_mine)
        .filter(|s| matches!(s.state, State::Open | State::InProgress | State::Planned))
        .filter(|s| !s.acted_on)
        .filter(|s| s.issuer.as_deref() != Some(user))
        .map(|s| s.assignment)
        .collect();
    if news.len() > SUMMARY_OVER {
        vec![Notification::Summary {
            account: account.to_string(),
            count: news.len(),
            task_ids: news.iter().map(|a| a.task_id).collect(),
        }]
    } else {
        news.into_iter().map(Notification::Task).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(id: i64, issuer: &str) -> Seen {
        Seen {
            assignment: Assignment {
                task_id: id,
                account: "work".into(),
                title: format!("task {id}"),
                from: Some(issuer.into()),
                deadline: Some("2026-12-01".into()),
            },
            state: State::Open,
            issuer: Some(issuer.into()),
            new: true,
            newly_mine: false,
            acted_on: false,
        }
    }

    #[test]
    fn new_open_tasks_from_others_notify_one_by_one_up_to_three() {
        let n = plan("work", "me", false, vec![seen(1, "boss"), seen(2, "boss")]);
        assert_eq!(n.len(), 2);
        let (title, body) = n[0].text();
        assert_eq!(title, "task 1");
        assert!(
            body.contains("boss") && body.contains("2026-12-01"),
            "{body}"
        );
    }

    #[test]
    fn more_than_three_become_one_summary() {
        let all = (1..=5).map(|i| seen(i, "boss")).collect();
        let n = plan("work", "me", false, all);
        assert_eq!(
            n,
            vec![Notification::Summary {
                account: "work".into(),
                count: 5,
                task_ids: vec![1, 2, 3, 4, 5]
            }]
        );
    }

    #[test]
    fn first_syncs_own_tasks_acted_on_closed_and_old_tasks_are_silent() {
        assert!(plan("work", "me", true, vec![seen(1, "boss")]).is_empty());
        let mut own = seen(2, "me");
        own.issuer = Some("me".into());
        let mut acted = seen(3, "boss");
        acted.acted_on = true;
        let mut closed = seen(4, "boss");
        closed.state = State::Closed;
        let mut old = seen(5, "boss");
        old.new = false;
        let mut reassigned = seen(6, "boss");
        reassigned.new = false;
        reassigned.newly_mine = true;
        let n = plan(
            "work",
            "me",
            false,
            vec![own, acted, closed, old, reassigned],
        );
        assert_eq!(n.len(), 1);
        assert!(matches!(&n[0], Notification::Task(a) if a.task_id == 6));
    }
}

//! Hitachi work items as tasklane tasks: the state table, the remote key
//! `<ProcessInstanceID>:<ID>` and the actions a work item offers.

use jiff::tz::TimeZone;
use tasklane_core::model::{Action, ParamKind, ParamSpec, Payload, State, TaskField, TaskRecord};
use tasklane_core::time::Deadline;

use super::wire::{WorkItem, state};

/// CSCIW runs in Japan; dates usually carry `+09:00`, and this zone reads
/// the ones that do not.
pub const DEFAULT_TIME_ZONE: &str = "Asia/Tokyo";

/// Transition ids tasklane offers on work items.
pub mod actions {
    pub const COMPLETE: &str = "complete";
    pub const FREE: &str = "free";
    pub const REASSIGN: &str = "reassign";
    /// Take a ready item from its lane and start it.
    pub const TAKE: &str = "reassign-and-perform";
}

/// The state table: the documented letters, plus tasklane engine's letters
/// for the closed states. Unknown letters are `other`.
pub fn state_of(code: &str) -> State {
    match code {
        state::INITIAL => State::Planned,
        state::READY => State::Open,
        state::EXECUTING | state::PERFORMING => State::InProgress,
        state::COMPLETED => State::Closed,
        state::SKIPPED => State::Skipped,
        state::CANCELLED => State::Cancelled,
        _ => State::Other,
    }
}

/// The server's word for a state code, for `status_text`.
fn state_text(code: &str) -> String {
    let name = match code {
        state::INITIAL => "初期",
        state::READY => "実行開始可能",
        state::EXECUTING => "自動実行",
        state::PERFORMING => "作業者実行",
        state::COMPLETED => "実行済",
        state::SKIPPED => "実行省略",
        state::CANCELLED => "実行取消",
        _ => return code.to_string(),
    };
    format!("{name} ({code})")
}

pub fn key_of(item: &WorkItem) -> String {
    format!("{}:{}", item.process_instance_id, item.id)
}

/// `(ProcessInstanceID, ID)` from a key.
pub fn parse_key(key: &str) -> Option<(i64, i64)> {
    let (pi, wi) = key.split_once(':')?;
    Some((pi.parse().ok()?, wi.parse().ok()?))
}

/// A work item as a task. A ready item's participant is its lane (the
/// group); otherwise the participant is the person working on it.
pub fn record(item: &WorkItem, tz: &TimeZone) -> TaskRecord {
    let title = if item.name.trim().is_empty() {
        item.work_definition_name.clone()
    } else {
        item.name.clone()
    };
    let mut task = TaskRecord::new(key_of(item), title, state_of(&item.state_code));
    task.status_text = state_text(&item.state_code);
    task.kind = Some(item.work_definition_name.clone()).filter(|k| !k.is_empty());
    let participant = Some(item.participant.clone()).filter(|p| !p.is_empty());
    if matches!(item.state_code.as_str(), state::READY | state::INITIAL) {
        task.group = participant;
    } else {
        task.assignee = participant;
    }
    task.priority = item.priority;
    task.deadline = item
        .deadline
        .as_ref()
        .and_then(|d| d.to_timestamp(tz))
        .map(Deadline::At);
    task.created = item.creation_date.as_ref().and_then(|d| d.to_timestamp(tz));
    task.modified = [&item.closed_date, &item.start_date, &item.creation_date]
        .into_iter()
        .flatten()
        .filter_map(|d| d.to_timestamp(tz))
        .max();
    task.process = Some(item.process_instance_name.clone()).filter(|p| !p.is_empty());
    task.payload = Payload::of(item);
    task
}

/// What `me` may do with the item now: take it while it is ready; while
/// performing it, complete it, give it back to its lane, or hand it on.
pub fn offered(item: &WorkItem, me: &str) -> Vec<Action> {
    let action = |id: &str, label: &str, to: Option<State>, params: Vec<ParamSpec>| Action {
        id: id.into(),
        label: label.into(),
        to_state: to,
        params,
    };
    match item.state_code.as_str() {
        state::READY => vec![action(
            actions::TAKE,
            "着手",
            Some(State::InProgress),
            vec![],
        )],
        state::PERFORMING if item.participant == me => vec![
            action(actions::COMPLETE, "完了", Some(State::Closed), vec![]),
            action(actions::FREE, "返却", Some(State::Open), vec![]),
            action(
                actions::REASSIGN,
                "作業者の変更",
                None,
                vec![ParamSpec {
                    name: "Target".into(),
                    label: "作業者".into(),
                    kind: ParamKind::Actor,
                    required: true,
                    sets: Some(TaskField::Assignee),
                    wire_type: None,
                }],
            ),
        ],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(code: &str, participant: &str) -> WorkItem {
        serde_json::from_value(serde_json::json!({
            "ActivityInstanceID": "10005", "ClosedDate": "", "CreationDate": "2016-12-09T15:54:55+09:00",
            "Deadline": "", "ID": "10005", "Name": "", "Participant": participant, "Priority": "0",
            "ProcessDefinitionID": "3001", "ProcessInstanceID": "5004",
            "ProcessInstanceName": "案件20160609103256259", "StartDate": "2016-12-09T15:58:52+09:00",
            "StateCode": code, "WorkDefinitionID": "3001",
            "WorkDefinitionName": "QuotationHandling_UTask1", "WorkTypeCode": "0"
        }))
        .unwrap()
    }

    #[test]
    fn state_codes_map_through_one_table() {
        for (code, state) in [
            ("i", State::Planned),
            ("j", State::Open),
            ("e", State::InProgress),
            ("f", State::InProgress),
            ("o", State::Closed),
            ("s", State::Skipped),
            ("u", State::Cancelled),
            ("z", State::Other),
            ("", State::Other),
        ] {
            assert_eq!(state_of(code), state, "{code:?}");
        }
    }

    #[test]
    fn a_ready_items_participant_is_its_lane_and_a_performing_ones_its_worker() {
        let tz = TimeZone::get(DEFAULT_TIME_ZONE).unwrap();
        let ready = record(&item("j", "MyLane1"), &tz);
        assert_eq!(
            (ready.group.as_deref(), ready.assignee.as_deref()),
            (Some("MyLane1"), None)
        );
        let performing = record(&item("f", "User1"), &tz);
        assert_eq!(
            (performing.group.as_deref(), performing.assignee.as_deref()),
            (None, Some("User1"))
        );
        assert_eq!(performing.key, "5004:10005");
        assert_eq!(performing.title, "QuotationHandling_UTask1");
        assert_eq!(performing.status_text, "作業者実行 (f)");
        assert_eq!(
            tasklane_core::time::format_ts(performing.modified.unwrap()),
            "2016-12-09T06:58:52Z"
        );
    }

    #[test]
    fn only_the_worker_may_complete_free_or_hand_on_an_item() {
        let ids = |a: Vec<Action>| a.into_iter().map(|a| a.id).collect::<Vec<_>>();
        assert_eq!(
            ids(offered(&item("f", "User1"), "User1")),
            ["complete", "free", "reassign"]
        );
        assert!(offered(&item("f", "User2"), "User1").is_empty());
        assert_eq!(
            ids(offered(&item("j", "Lane"), "User1")),
            ["reassign-and-perform"]
        );
        assert_eq!(parse_key("5004:10005"), Some((5004, 10005)));
        assert_eq!(parse_key("5004"), None);
    }
}

//! OMFLOW rows as tasklane tasks: the remote key, the state table, the
//! offered actions and the work log as comments.
//!
//! A my-mission row is one stop of one ticket waiting for the user (or the
//! user's group). Its key is `<flow uuid without dashes>:<data_no>:<stop>`
//! (decision 0002): `data_id` and the row `id` change on every push.

use jiff::tz::TimeZone;
use tasklane_core::model::{Action, Comment, ParamKind, ParamSpec, Payload, State, TaskRecord};
use tasklane_core::outbox::effect::{PUSH_ACTION, QUICK_ACTIONS};

use super::wire::{FormDefinition, FormField, MissionRow, WorkLogRow};

/// OMFLOW servers run on Taiwan time unless configured otherwise
/// (Django `TIME_ZONE`, `USE_TZ` off).
pub const DEFAULT_TIME_ZONE: &str = "Asia/Taipei";

/// The state table. OMFLOW has no workflow states of its own, only each
/// flow's status texts (translatable, flow-specific) and `closed`: a row
/// is work waiting at a manual stop until its ticket closes.
pub fn state_of(row: &MissionRow) -> State {
    if row.closed {
        State::Closed
    } else {
        State::Open
    }
}

/// A flow uuid in the key's form: lower-case hex without dashes.
pub fn flow_hex(flow_uuid: &str) -> String {
    flow_uuid
        .chars()
        .filter(|c| *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// 32 hex digits back in the dashed form the my-mission list uses.
pub fn flow_dashed(hex: &str) -> Option<String> {
    let hex = flow_hex(hex);
    if hex.len() != 32 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    Some(format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    ))
}

/// The parts of a remote key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub flow_hex: String,
    pub data_no: i64,
    pub stop_uuid: String,
}

impl Key {
    pub fn of(row: &MissionRow) -> Key {
        Key {
            flow_hex: flow_hex(&row.flow_uuid),
            data_no: row.data_no,
            stop_uuid: row.stop_uuid.clone(),
        }
    }

    pub fn parse(key: &str) -> Option<Key> {
        let mut parts = key.splitn(3, ':');
        let flow = parts.next()?;
        let data_no = parts.next()?.parse().ok()?;
        let stop = parts.next()?;
        if flow.is_empty() || stop.is_empty() {
            return None;
        }
        Some(Key {
            flow_hex: flow_hex(flow),
            data_no,
            stop_uuid: stop.to_string(),
        })
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.flow_hex, self.data_no, self.stop_uuid)
    }
}

/// A row as a task. Comments and actions are left to [`Remote::fetch`].
///
/// `assignee_id` and `assign_group_id` are numeric ids (the list carries no
/// names), so they are kept as text: the user's own rows are the ones
/// listed, whoever the number stands for.
///
/// [`Remote::fetch`]: tasklane_core::remote::Remote::fetch
pub fn record(row: &MissionRow, tz: &TimeZone) -> TaskRecord {
    let state = state_of(row);
    let title = match row.title.as_deref().map(str::trim) {
        Some(t) if !t.is_empty() => t.to_string(),
        _ => format!("{} #{}", row.flow_name, row.data_no),
    };
    let mut task = TaskRecord::new(Key::of(row).to_string(), title, state);
    task.status_text = if row.status.trim().is_empty() {
        row.stop_chart_text.clone().unwrap_or_default()
    } else {
        row.status.clone()
    };
    task.kind = row.stop_chart_text.clone().filter(|s| !s.is_empty());
    task.assignee = row.assignee_id.map(|id| id.to_string());
    task.group = row.assign_group_id.map(|id| id.to_string());
    task.issuer = row.create_user_id.clone().filter(|s| !s.is_empty());
    task.created = row
        .ticket_createtime
        .as_ref()
        .or(row.createtime.as_ref())
        .and_then(|t| t.to_timestamp(tz));
    task.modified = row
        .updatetime
        .as_ref()
        .or(row.createtime.as_ref())
        .and_then(|t| t.to_timestamp(tz));
    task.process = Some(row.flow_name.clone()).filter(|s| !s.is_empty());
    task.payload = Payload::of(row);
    task
}

/// Work-log entries as comments. OMFLOW 1.1 lists them without an id, so
/// such entries get one from their time and position.
pub fn comments(rows: &[WorkLogRow], tz: &TimeZone) -> Vec<Comment> {
    rows.iter()
        .enumerate()
        .map(|(i, row)| Comment {
            remote_id: match (row.id, &row.createtime) {
                (Some(id), _) => id.to_string(),
                (None, Some(t)) => format!("{}#{i}", t.as_str()),
                (None, None) => format!("#{i}"),
            },
            author: row.author_nick_name.clone(),
            text: row.content.clone(),
            created: row.createtime.as_ref().and_then(|t| t.to_timestamp(tz)),
            modified: None,
        })
        .collect()
}

/// What a stop offers: the push (with the form's fields when the server
/// publishes them, otherwise without params, which accepts any fields) and
/// the quick actions configured for it. Each ends the user's part at this
/// stop, hence `resolved`.
pub fn actions(row: &MissionRow, form: Option<&FormDefinition>) -> Vec<Action> {
    let mut actions = vec![Action {
        id: PUSH_ACTION.to_string(),
        label: "推單 (push)".to_string(),
        to_state: Some(State::Resolved),
        params: form
            .map(|f| f.fields.iter().map(param).collect())
            .unwrap_or_default(),
    }];
    let labels = row.quick_action_labels();
    for (id, row_label) in QUICK_ACTIONS.iter().zip(labels) {
        let defined = form.and_then(|f| f.quick_actions.iter().find(|q| q.id == *id));
        let label = match defined {
            Some(q) if !q.label.is_empty() => q.label.clone(),
            _ => row_label,
        };
        if label.is_empty() && defined.is_none() {
            continue;
        }
        actions.push(Action {
            id: (*id).to_string(),
            label: if label.is_empty() {
                (*id).to_string()
            } else {
                label
            },
            to_state: Some(State::Resolved),
            params: Vec::new(),
        });
    }
    actions
}

fn param(field: &FormField) -> ParamSpec {
    let kind = match field.field_type.as_str() {
        "textarea" | "editor" => ParamKind::LongText,
        "number" | "integer" | "float" => ParamKind::Number,
        "date" | "datetime" => ParamKind::Date,
        "checkbox" => ParamKind::Bool,
        "user" | "group" | "member" => ParamKind::Actor,
        _ => ParamKind::Text,
    };
    ParamSpec {
        name: field.id.clone(),
        label: field.label.clone(),
        kind,
        required: field.required,
        sets: None,
        wire_type: Some(field.field_type.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::omflow::wire::QuickActionDef;

    fn row(json: serde_json::Value) -> MissionRow {
        let mut base = serde_json::json!({
            "id": 6, "flow_uuid": "67d4cf9a-49cd-4341-90da-b899eb0219b1", "flow_name": "問題管理",
            "status": "指派", "level": "", "title": "123", "data_no": 1, "data_id": 4,
            "history": false, "stop_uuid": "FITEM_7", "stop_chart_text": "指派人工",
            "create_user_id": "system", "update_user_id": null,
            "ticket_createtime": "2020-07-07T13:50:21.494", "createtime": "2020-07-07T13:50:21.589",
            "updatetime": "2020-07-07T13:50:21.589", "assignee_id": null, "assign_group_id": 1,
            "action": ",", "attachment": false, "closed": false
        });
        if let (Some(b), Some(o)) = (base.as_object_mut(), json.as_object()) {
            b.extend(o.clone());
        }
        serde_json::from_value(base).unwrap()
    }

    #[test]
    fn the_seed_row_becomes_an_open_group_task_keyed_by_flow_ticket_and_stop() {
        let tz = TimeZone::get(DEFAULT_TIME_ZONE).unwrap();
        let task = record(&row(serde_json::json!({})), &tz);
        assert_eq!(task.key, "67d4cf9a49cd434190dab899eb0219b1:1:FITEM_7");
        assert_eq!(task.state, State::Open);
        assert_eq!(task.status_text, "指派");
        assert_eq!(task.group.as_deref(), Some("1"));
        assert_eq!(task.assignee, None);
        assert_eq!(task.kind.as_deref(), Some("指派人工"));
        assert_eq!(
            tasklane_core::time::format_ts(task.modified.unwrap()),
            "2020-07-07T05:50:21Z"
        );
        assert_eq!(task.payload.parse::<MissionRow>().unwrap().data_id, 4);
    }

    #[test]
    fn closed_rows_are_closed_and_everything_else_is_open() {
        for (closed, state) in [(true, State::Closed), (false, State::Open)] {
            assert_eq!(state_of(&row(serde_json::json!({"closed": closed}))), state);
        }
    }

    #[test]
    fn keys_round_trip_and_flows_convert_between_forms() {
        let key = Key::parse("67d4cf9a49cd434190dab899eb0219b1:12:FITEM_15-FITEM_2").unwrap();
        assert_eq!(key.data_no, 12);
        assert_eq!(key.stop_uuid, "FITEM_15-FITEM_2");
        assert_eq!(
            key.to_string(),
            "67d4cf9a49cd434190dab899eb0219b1:12:FITEM_15-FITEM_2"
        );
        assert_eq!(
            flow_dashed(&key.flow_hex).as_deref(),
            Some("67d4cf9a-49cd-4341-90da-b899eb0219b1")
        );
        for bad in ["", "abc", "abc:x:FITEM_1", ":1:FITEM_1", "abc:1:"] {
            assert!(Key::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn a_stop_offers_its_push_and_only_the_configured_quick_actions() {
        let r = row(serde_json::json!({"action": "核准,"}));
        let ids: Vec<_> = actions(&r, None).into_iter().map(|a| a.id).collect();
        assert_eq!(ids, ["push", "action1"]);
        let form = FormDefinition {
            fields: vec![FormField {
                id: "FORMITM_1".into(),
                label: "意見".into(),
                field_type: "text".into(),
                required: true,
            }],
            quick_actions: vec![QuickActionDef {
                id: "action2".into(),
                label: "退回".into(),
            }],
        };
        let offered = actions(&r, Some(&form));
        assert_eq!(offered[0].params[0].wire_type.as_deref(), Some("text"));
        assert!(offered[0].params[0].required);
        let labels: Vec<_> = offered.iter().map(|a| a.label.as_str()).collect();
        assert_eq!(labels, ["推單 (push)", "核准", "退回"]);
    }
}

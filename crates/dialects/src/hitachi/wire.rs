//! Hitachi CSCIW BPMN連携's REST payloads (manual chapter 11.5; seed
//! `hitachi-bpmn-allocate-api.ja.txt`, section 11.5.28), in JSON and XML.
//!
//! Every value is written as a string (`"ID": "10005"`), unset ones as
//! `""`; request bodies are flat JSON objects or XML under `<Parameter>`.
//! Lists follow the Java (JAXB) convention the server is built on: a list
//! field is the field name repeated, as an XML element per entry and as a
//! JSON array — `ProcessDataList` in a completion, `WorkItem` in a listing.
//!
//! The work-item listing is tasklane's documented extension
//! `GET /csciwws/v1/work-item?userdescription=&filter=&sort=&offset=&maxcount=`,
//! answering `{"WorkItem": [...]}` or `<WorkItemList><WorkItem>…</WorkItem></WorkItemList>`.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::lenient;
use crate::servertime::{self, ServerTime};

/// Where the API lives, below the server's root.
pub mod paths {
    /// The REST service's context root and API version.
    pub const ROOT: &str = "csciwws/v1/";
    /// `work-item` (list), `work-item/{pi}/{wi}` (one), plus `/complete`,
    /// `/free`, `/reassign`, `/reassign-and-perform`.
    pub const WORK_ITEM: &str = "work-item";
    pub const ALLOCATE: &str = "work-item/allocate";
}

/// Work item state codes (manual 付録C.3). Only `i`, `j`, `e` and `f` are
/// documented; the closed states' letters are not, so tasklane's engine
/// uses `o`, `s` and `u` (the process-instance letters for completed and
/// terminated) and clients treat any other letter as unknown.
pub mod state {
    /// 初期: created, participant not yet resolved.
    pub const INITIAL: &str = "i";
    /// 実行開始可能: ready; `Participant` is the lane.
    pub const READY: &str = "j";
    /// 自動実行: executed automatically.
    pub const EXECUTING: &str = "e";
    /// 作業者実行: taken by a person; `Participant` is that person.
    pub const PERFORMING: &str = "f";
    /// tasklane's engine: completed (実行済).
    pub const COMPLETED: &str = "o";
    /// tasklane's engine: skipped (実行省略).
    pub const SKIPPED: &str = "s";
    /// tasklane's engine: cancelled (実行取消).
    pub const CANCELLED: &str = "u";
}

/// A work item (作業) with the 16 documented properties.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "WorkItem")]
pub struct WorkItem {
    #[serde(
        rename = "ActivityInstanceID",
        default,
        with = "lenient::opt_int_as_text"
    )]
    pub activity_instance_id: Option<i64>,
    #[serde(rename = "ClosedDate", default, with = "servertime::empty_as_none")]
    pub closed_date: Option<ServerTime>,
    #[serde(rename = "CreationDate", default, with = "servertime::empty_as_none")]
    pub creation_date: Option<ServerTime>,
    #[serde(rename = "Deadline", default, with = "servertime::empty_as_none")]
    pub deadline: Option<ServerTime>,
    /// Unique within its case only.
    #[serde(rename = "ID", with = "lenient::int_as_text")]
    pub id: i64,
    /// The work key (作業キー).
    #[serde(rename = "Name", default, with = "lenient::text")]
    pub name: String,
    /// A user id, or a lane name while the item is ready.
    #[serde(rename = "Participant", default, with = "lenient::text")]
    pub participant: String,
    #[serde(rename = "Priority", default, with = "lenient::opt_int_as_text")]
    pub priority: Option<i64>,
    #[serde(
        rename = "ProcessDefinitionID",
        default,
        with = "lenient::opt_int_as_text"
    )]
    pub process_definition_id: Option<i64>,
    /// The case (案件).
    #[serde(rename = "ProcessInstanceID", with = "lenient::int_as_text")]
    pub process_instance_id: i64,
    /// The case key (案件キー).
    #[serde(rename = "ProcessInstanceName", default, with = "lenient::text")]
    pub process_instance_name: String,
    #[serde(rename = "StartDate", default, with = "servertime::empty_as_none")]
    pub start_date: Option<ServerTime>,
    /// See [`state`].
    #[serde(rename = "StateCode", default, with = "lenient::text")]
    pub state_code: String,
    #[serde(
        rename = "WorkDefinitionID",
        default,
        with = "lenient::opt_int_as_text"
    )]
    pub work_definition_id: Option<i64>,
    #[serde(rename = "WorkDefinitionName", default, with = "lenient::text")]
    pub work_definition_name: String,
    #[serde(rename = "WorkTypeCode", default, with = "lenient::text")]
    pub work_type_code: String,
}

/// The work-item listing (tasklane's extension).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "WorkItemList")]
pub struct WorkItemList {
    #[serde(rename = "WorkItem", default)]
    pub items: Vec<WorkItem>,
}

/// `PUT /v1/work-item/allocate`: give the next ready item matching
/// `Filter` to `Participant` and start it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Parameter")]
pub struct AllocateParameter {
    #[serde(
        rename = "UserDescription",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub user_description: Option<String>,
    #[serde(rename = "Participant")]
    pub participant: String,
    /// An SQL condition including the lane, e.g. `Participant='MyLane1'`.
    #[serde(rename = "Filter", default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    #[serde(rename = "Sort", default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
    /// Candidates fetched at once; -1 for all. Written as a string, as in
    /// the manual's JSON example.
    #[serde(rename = "FetchCount", with = "lenient::int_as_text")]
    pub fetch_count: i64,
}

/// One process data entry (プロセスデータ).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessData {
    #[serde(rename = "Key")]
    pub key: String,
    #[serde(rename = "Value", default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// `PUT /v1/work-item/{pi}/{wi}/complete`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename = "Parameter")]
pub struct CompleteParameter {
    #[serde(
        rename = "UserDescription",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub user_description: Option<String>,
    #[serde(
        rename = "ProcessDataList",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub process_data: Vec<ProcessData>,
}

/// `PUT /v1/work-item/{pi}/{wi}/reassign` (and `reassign-and-perform`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename = "Parameter")]
pub struct ReassignParameter {
    #[serde(
        rename = "UserDescription",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub user_description: Option<String>,
    /// The current participant; left out when unset.
    #[serde(rename = "Source", default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The new participant; left out to unset it.
    #[serde(rename = "Target", default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

/// `PUT /v1/work-item/{pi}/{wi}/free` (the body is optional).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename = "Parameter")]
pub struct FreeParameter {
    #[serde(
        rename = "UserDescription",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub user_description: Option<String>,
}

/// The root element names used in XML.
pub mod roots {
    pub const PARAMETER: &str = "Parameter";
    pub const WORK_ITEM: &str = "WorkItem";
    pub const WORK_ITEM_LIST: &str = "WorkItemList";
}

/// `value` as an XML document under `root`, with the XML declaration.
pub fn to_xml<T: Serialize>(value: &T, root: &str) -> Result<String, quick_xml::SeError> {
    let body = quick_xml::se::to_string_with_root(root, value)?;
    Ok(format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>{body}"
    ))
}

/// An XML document as `T` (the root element's name is not checked).
pub fn from_xml<T: DeserializeOwned>(text: &str) -> Result<T, quick_xml::DeError> {
    quick_xml::de::from_str(text)
}

/// A single work item in JSON: flat, as the seed shows, or wrapped as
/// `{"WorkItem": {...}}`, as other endpoints may write it.
pub fn work_item_from_json(bytes: &[u8]) -> Result<WorkItem, serde_json::Error> {
    let value: serde_json::Value = serde_json::from_slice(bytes)?;
    match value {
        serde_json::Value::Object(mut map)
            if map.get("WorkItem").is_some_and(|v| v.is_object()) =>
        {
            serde_json::from_value(map.remove("WorkItem").unwrap_or_default())
        }
        other => serde_json::from_value(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED_JSON: &str = r#"{
"ActivityInstanceID" : "10005",
"ClosedDate" : "",
"CreationDate" : "2016-12-09T15:54:55+09:00",
"Deadline" : "",
"ID" : "10005",
"Name" : "",
"Participant" : "User1",
"Priority" : "0",
"ProcessDefinitionID" : "3001",
"ProcessInstanceID" : "5004",
"ProcessInstanceName" : "案件20160609103256259",
"StartDate" : "2016-12-09T15:58:52+09:00",
"StateCode" : "f",
"WorkDefinitionID" : "3001",
"WorkDefinitionName" : "QuotationHandling_UTask1",
"WorkTypeCode" : "0"
}"#;

    const SEED_XML: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?> <WorkItem> <ActivityInstanceID>10005</ActivityInstanceID> <ClosedDate></ClosedDate> <CreationDate>2016-12-09T15:54:55+09:00</CreationDate> <Deadline></Deadline> <ID>10005</ID> <Name></Name> <Participant>User1</Participant> <Priority>0</Priority> <ProcessDefinitionID>3001</ProcessDefinitionID> <ProcessInstanceID>5004</ProcessInstanceID> <ProcessInstanceName>案件20160609103256259</ProcessInstanceName> <StartDate>2016-12-09T15:58:52+09:00</StartDate> <StateCode>f</StateCode> <WorkDefinitionID>3001</WorkDefinitionID> <WorkDefinitionName>QuotationHandling_UTask1</WorkDefinitionName> <WorkTypeCode>0</WorkTypeCode> </WorkItem>"#;

    #[test]
    fn the_seed_answer_reads_the_same_from_json_and_xml() {
        let from_json = work_item_from_json(SEED_JSON.as_bytes()).unwrap();
        let from_xml: WorkItem = from_xml(SEED_XML).unwrap();
        assert_eq!(from_json, from_xml);
        assert_eq!(from_json.id, 10005);
        assert_eq!(from_json.process_instance_id, 5004);
        assert_eq!(from_json.closed_date, None);
        assert_eq!(from_json.state_code, "f");
        assert_eq!(from_json.name, "");
    }

    #[test]
    fn a_work_item_is_written_back_byte_for_byte() {
        let item = work_item_from_json(SEED_JSON.as_bytes()).unwrap();
        let written: serde_json::Value = serde_json::to_value(&item).unwrap();
        let seed: serde_json::Value = serde_json::from_str(SEED_JSON).unwrap();
        assert_eq!(written, seed);
        let xml = to_xml(&item, roots::WORK_ITEM).unwrap();
        let compact: String = SEED_XML.replace("> <", "><").replace("?> ", "?>");
        assert_eq!(
            xml,
            compact
                .replace("<ClosedDate></ClosedDate>", "<ClosedDate/>")
                .replace("<Deadline></Deadline>", "<Deadline/>")
                .replace("<Name></Name>", "<Name/>")
        );
    }

    #[test]
    fn the_seed_allocate_bodies_parse_and_are_written_as_documented() {
        let from_xml: AllocateParameter = from_xml(r#"<?xml version="1.0" encoding="UTF-8" ?> <Parameter> <Participant>User1</Participant> <Filter>Participant='MyLane1'</Filter> <!-- Participant='MyLane1' --> <Sort>ID</Sort> <FetchCount>100</FetchCount> </Parameter>"#).unwrap();
        let from_json: AllocateParameter = serde_json::from_str(
            r#"{
"Participant" : "User1",
"Filter" : "Participant='MyLane1'",
"Sort" : "ID",
"FetchCount" : "100"
}"#,
        )
        .unwrap();
        assert_eq!(from_xml, from_json);
        let numeric: AllocateParameter =
            serde_json::from_str(r#"{"Participant": "User1", "FetchCount": 1}"#).unwrap();
        assert_eq!(numeric.fetch_count, 1);
        assert_eq!(
            serde_json::to_string(&from_json).unwrap(),
            r#"{"Participant":"User1","Filter":"Participant='MyLane1'","Sort":"ID","FetchCount":"100"}"#
        );
        assert!(to_xml(&from_json, roots::PARAMETER).unwrap().ends_with(
            "<Parameter><Participant>User1</Participant><Filter>Participant='MyLane1'</Filter><Sort>ID</Sort><FetchCount>100</FetchCount></Parameter>"
        ));
    }

    #[test]
    fn lists_repeat_their_element_in_xml_and_are_arrays_in_json() {
        let item = work_item_from_json(SEED_JSON.as_bytes()).unwrap();
        let list = WorkItemList {
            items: vec![item.clone(), item],
        };
        let xml = to_xml(&list, roots::WORK_ITEM_LIST).unwrap();
        assert_eq!(xml.matches("<WorkItem>").count(), 2);
        assert_eq!(from_xml::<WorkItemList>(&xml).unwrap(), list);
        let json = serde_json::to_value(&list).unwrap();
        assert_eq!(json["WorkItem"].as_array().map(Vec::len), Some(2));
        let empty: WorkItemList = from_xml("<WorkItemList/>").unwrap();
        assert!(empty.items.is_empty());
        let complete = CompleteParameter {
            user_description: Some("amy".into()),
            process_data: vec![
                ProcessData {
                    key: "a".into(),
                    value: Some("1".into()),
                },
                ProcessData {
                    key: "b".into(),
                    value: None,
                },
            ],
        };
        let xml = to_xml(&complete, roots::PARAMETER).unwrap();
        assert!(xml.contains("<ProcessDataList><Key>a</Key><Value>1</Value></ProcessDataList><ProcessDataList><Key>b</Key></ProcessDataList>"), "{xml}");
        assert_eq!(from_xml::<CompleteParameter>(&xml).unwrap(), complete);
    }
}

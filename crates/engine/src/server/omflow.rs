//! The OMFLOW dialect (`../shared/reference/omflow/NOTES.md`).
//!
//! Every answer is an envelope `{status, message, result}` inside HTTP 200.
//! Bodies are read as JSON whatever the Content-Type, falling back to form
//! fields — the vendor's own sample posts form-encoded lists and raw JSON
//! without a content type, and must work unchanged. `/rest/` calls carry a
//! security code from `/accounts/api/security/get/` (basic auth), which
//! expires after five minutes without use; one live code per user.
//!
//! Faithful quirks: an empty my-mission list is OMFLOW 1.1's 404 with
//! `'NoneType' object has no attribute 'objects'`; `limit` is an end index;
//! an unknown condition operator means `=`; a stale `data_id` answers the
//! ORM's "matching query does not exist". Deliberate differences: form
//! items without a `type` are accepted (OMFLOW 1.1 fails with `'type'`), as
//! the vendor's own sample sends none; form-encoded bodies may carry list
//! parameters (repeated names, or JSON text) and `formdata` as JSON text
//! (1.1 fails on both); a malformed condition fails the query instead of
//! being dropped silently, which would widen the result; messages are
//! always zh-Hant (1.1 follows `Accept-Language`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri, header};
use axum::routing::{any, post};
use rusqlite::types::Value as SqlValue;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use tasklane_dialects::omflow::wire::{
    self, DataIdQuery, DataIdRow, EditAction, Envelope, FormDefinition, FormDefinitionRequest,
    FormField, GroupListRequest, GroupRow, MissionListRequest, OmDataEditRequest, QuickActionDef,
    SecurityResult, UserListRequest, UserRow, WorkLogRequest, WorkLogRow, status,
};
use tasklane_dialects::servertime::ServerTime;

use super::{Answer, AppState, auth, blocking, fingerprint, idempotency_key, mutate, times};
use crate::error::EngineError;
use crate::flows::{self, FieldValue};
use crate::model::TaskState;
use crate::tasks;
use crate::users::{self, Principal};

type St = std::sync::Arc<AppState>;

/// A security code lives this long without use.
pub const CODE_LIFETIME: Duration = Duration::from_secs(5 * 60);

/// Live security codes: code → (user, last use). In memory, as OMFLOW keeps
/// them: a restart logs everyone out.
#[derive(Debug, Default)]
pub struct Sessions {
    codes: Mutex<HashMap<String, (String, Instant)>>,
}

enum CodeCheck {
    Valid(String),
    Expired,
    Unknown,
}

impl Sessions {
    /// The user's live code (refreshed), or a new one replacing any old.
    fn issue(&self, user: &str) -> String {
        let mut codes = self.codes.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let live = codes
            .iter()
            .find(|(_, (u, at))| u == user && now.duration_since(*at) < CODE_LIFETIME)
            .map(|(code, _)| code.clone());
        let code = live.unwrap_or_else(|| {
            codes.retain(|_, (u, _)| u != user);
            uuid::Uuid::new_v4().to_string()
        });
        codes.insert(code.clone(), (user.to_string(), now));
        code
    }

    /// Checks a code and slides its expiry.
    fn check(&self, code: &str) -> CodeCheck {
        let mut codes = self.codes.lock().unwrap_or_else(|p| p.into_inner());
        match codes.get_mut(code) {
            None => CodeCheck::Unknown,
            Some((_, at)) if at.elapsed() >= CODE_LIFETIME => {
                codes.remove(code);
                CodeCheck::Expired
            }
            Some((user, at)) => {
                *at = Instant::now();
                CodeCheck::Valid(user.clone())
            }
        }
    }

    /// Makes every code look older (tests of expiry).
    #[doc(hidden)]
    pub fn age_all(&self, by: Duration) {
        let mut codes = self.codes.lock().unwrap_or_else(|p| p.into_inner());
        for (_, at) in codes.values_mut() {
            *at = at.checked_sub(by).unwrap_or(*at);
        }
    }
}

pub fn routes() -> Router<St> {
    Router::new()
        .route("/accounts/api/security/get/", any(security_get))
        .route("/rest/my-mission/api/my-mission/list/", post(mission_list))
        .route(
            "/rest/flowmanage/api/omdata/edit/{api_path}",
            post(omdata_edit),
        )
        .route(
            "/rest/flowmanage/api/omdata-data-id/get/{api_path}/",
            post(data_ids),
        )
        .route(
            "/rest/flowmanage/api/omdata-worklog/create/",
            post(worklog_create),
        )
        .route(
            "/rest/flowmanage/api/omdata-worklog/list/",
            post(worklog_list),
        )
        .route("/rest/tasklane/api/form/{api_path}/", post(form))
        .route("/rest/accounts/api/user/list/", post(user_list))
        .route("/rest/accounts/api/group/list/", post(group_list))
        .route("/rest/{*rest}", any(unroutable))
}

fn envelope(code: i64, message: &str, result: Option<Value>) -> Answer {
    Answer::json(
        200,
        &Envelope {
            status: code.into(),
            message: message.to_string(),
            result,
        },
    )
}

fn ok(message: &str, result: Value) -> Answer {
    envelope(status::OK, message, Some(result))
}

fn failure(code: i64, message: &str) -> Answer {
    envelope(code, message, Some(Value::Null))
}

/// OMFLOW's words for the engine's errors.
fn error_answer(e: EngineError) -> Answer {
    match e {
        EngineError::NotFound(m) => failure(status::FAILED, &m),
        EngineError::Forbidden(m) if m.contains('。') => failure(status::FORBIDDEN, &m),
        EngineError::Forbidden(_) => failure(status::FORBIDDEN, "您沒有權限進行此操作。"),
        EngineError::Invalid { translated, .. } => failure(status::FAILED, &translated),
        EngineError::InvalidTransition { .. } => failure(status::FAILED, "推單失敗"),
        EngineError::Conflict(m) => failure(409, &m),
        other => {
            tracing::error!(error = %other, "OMFLOW request failed");
            failure(status::ERROR, "推單失敗：伺服器內部錯誤")
        }
    }
}

fn answer(result: Result<Answer, EngineError>) -> Answer {
    result.unwrap_or_else(error_answer)
}

/// The body's fields: JSON first whatever the Content-Type, then form
/// fields (repeated names become lists), as OMFLOW reads them.
fn body_fields(headers: &HeaderMap, body: &[u8]) -> Map<String, Value> {
    if let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) {
        return map;
    }
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    let mut map = Map::new();
    if form && let Ok(pairs) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(body) {
        for (k, v) in pairs {
            match map.get_mut(&k) {
                Some(Value::Array(items)) => items.push(Value::String(v)),
                Some(existing) => {
                    let first = existing.take();
                    *existing = Value::Array(vec![first, Value::String(v)]);
                }
                None => {
                    map.insert(k, Value::String(v));
                }
            }
        }
        for name in LIST_PARAMS {
            if let Some(value) = map.get_mut(name) {
                *value = form_list(value.take());
            }
        }
    }
    map
}

/// The parameters OMFLOW takes as lists.
const LIST_PARAMS: [&str; 4] = [
    "search_columns",
    "search_conditions",
    "exclude_conditions",
    "order_columns",
];

/// A list parameter from form fields, which cannot nest: a single value is
/// a one-item list, an empty one no item, and a JSON text (a condition, or
/// a whole list) is read as JSON.
fn form_list(value: Value) -> Value {
    let items = match value {
        Value::Array(items) => items,
        single => vec![single],
    };
    let mut list = Vec::new();
    for item in items {
        match item {
            Value::String(s) if s.trim().is_empty() => {}
            Value::String(s) => match serde_json::from_str::<Value>(&s) {
                Ok(Value::Array(inner)) => list.extend(inner),
                Ok(object @ Value::Object(_)) => list.push(object),
                _ => list.push(Value::String(s)),
            },
            other => list.push(other),
        }
    }
    Value::Array(list)
}

/// What every `/rest/` call checks first: `omflow_restapi` and the code.
fn rest_user(state: &AppState, fields: &Map<String, Value>) -> Result<Principal, Answer> {
    let flag = match fields.get("omflow_restapi") {
        Some(Value::Number(n)) => n.as_f64().is_some_and(|n| n != 0.0),
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Bool(b)) => *b,
        Some(Value::Array(items)) => !items.is_empty(),
        Some(Value::Object(map)) => !map.is_empty(),
        None | Some(Value::Null) => false,
    };
    if !flag {
        return Err(failure(status::FORBIDDEN, "缺少參數：omflow_restapi"));
    }
    let code = fields.get("security").and_then(Value::as_str).unwrap_or("");
    match state.sessions.check(code) {
        CodeCheck::Valid(user) => state.engine.principal(&user).map_err(error_answer),
        CodeCheck::Expired => Err(failure(
            status::FORBIDDEN,
            "安全碼過期，請重新取得新的安全碼。",
        )),
        CodeCheck::Unknown => Err(failure(
            status::FORBIDDEN,
            "安全碼錯誤，請確認安全碼或重新取得新的安全碼。",
        )),
    }
}

fn parse<T: DeserializeOwned>(mut fields: Map<String, Value>, what: &str) -> Result<T, Answer> {
    // `rest_user` has checked the flag; any truthy form passes, numeric or not.
    fields.remove("omflow_restapi");
    serde_json::from_value(Value::Object(fields))
        .map_err(|e| failure(status::FAILED, &format!("{what}失敗，錯誤訊息如下：{e}")))
}

/// OMFLOW 1.1's answer to an unknown user name or no credentials at all.
fn no_such_user() -> Answer {
    failure(status::ERROR, "OmUser matching query does not exist.")
}

async fn security_get(State(state): State<St>, headers: HeaderMap) -> Answer {
    let result = blocking(move || {
        let Some((user, password)) = auth::basic(&headers) else {
            return no_such_user();
        };
        match state.engine.authenticate(&user, &password) {
            Ok(Some(p)) => ok(
                "取得成功。",
                json!(SecurityResult {
                    security: state.sessions.issue(&p.user)
                }),
            ),
            // As OMFLOW 1.1: a known user with a wrong password (or none
            // set) is refused with 403, an unknown one fails the lookup.
            Ok(None) => match state.engine.db().read(|c| users::find_user(c, &user)) {
                Ok(Some(_)) => failure(status::FORBIDDEN, "使用者不存在或未啟用。"),
                Ok(None) => no_such_user(),
                Err(e) => error_answer(e),
            },
            Err(e) => error_answer(e),
        }
    })
    .await;
    answer(result)
}

/// The columns of a my-mission row, and which hold times or flags.
const MISSION_COLUMNS: &[&str] = &[
    "id",
    "flow_uuid",
    "flow_name",
    "status",
    "level",
    "title",
    "data_no",
    "data_id",
    "history",
    "stop_uuid",
    "stop_chart_text",
    "create_user_id",
    "update_user_id",
    "ticket_createtime",
    "createtime",
    "updatetime",
    "assignee_id",
    "assign_group_id",
    "action",
    "attachment",
    "closed",
    "api_path",
];
const TIME_COLUMNS: &[&str] = &["ticket_createtime", "createtime", "updatetime"];
const FLAG_COLUMNS: &[&str] = &["history", "attachment", "closed"];

fn unknown_column(name: &str) -> Answer {
    failure(
        status::FAILED,
        &format!(
            "查詢失敗，錯誤訊息如下：Cannot resolve keyword '{name}' into field. Choices are: {}",
            MISSION_COLUMNS.join(", ")
        ),
    )
}

fn column(name: &str) -> Result<&'static str, Answer> {
    MISSION_COLUMNS
        .iter()
        .find(|c| **c == name)
        .copied()
        .ok_or_else(|| unknown_column(name))
}

/// A condition value as SQL: times read in the server's zone, flags as 0/1.
fn sql_value(state: &AppState, col: &str, v: &Value) -> SqlValue {
    match v {
        // Django's filter(x=None) means IS NULL.
        Value::Null => SqlValue::Null,
        Value::Bool(b) => SqlValue::Integer(i64::from(*b)),
        Value::Number(n) => n
            .as_i64()
            .map_or(SqlValue::Real(n.as_f64().unwrap_or(0.0)), SqlValue::Integer),
        Value::String(s) if TIME_COLUMNS.contains(&col) => SqlValue::Text(
            times::omflow_to_utc(s, &state.config.zones.omflow).unwrap_or_else(|| s.clone()),
        ),
        Value::String(s) if FLAG_COLUMNS.contains(&col) => SqlValue::Integer(i64::from(matches!(
            s.to_ascii_lowercase().as_str(),
            "true" | "1"
        ))),
        Value::String(s) => match s.parse::<i64>() {
            Ok(n)
                if matches!(
                    col,
                    "id" | "data_no" | "data_id" | "assignee_id" | "assign_group_id"
                ) =>
            {
                SqlValue::Integer(n)
            }
            _ => SqlValue::Text(s.clone()),
        },
        other => SqlValue::Text(other.to_string()),
    }
}

/// One condition as SQL over `missions m`.
fn condition_sql(
    state: &AppState,
    c: &wire::Condition,
    params: &mut Vec<SqlValue>,
) -> Result<String, Answer> {
    let col = column(&c.column)?;
    let q = format!("m.\"{col}\"");
    Ok(match c.condition.as_str() {
        ">" | "<" | ">=" | "<=" => {
            params.push(sql_value(state, col, &c.value));
            format!("{q} {} ?", c.condition)
        }
        "!=" => {
            params.push(sql_value(state, col, &c.value));
            format!("{q} IS NOT ?")
        }
        "in" => {
            let items = match &c.value {
                Value::Array(items) => items.clone(),
                other => vec![other.clone()],
            };
            if items.is_empty() {
                return Ok("0".into());
            }
            for item in &items {
                params.push(sql_value(state, col, item));
            }
            format!("{q} IN ({})", vec!["?"; items.len()].join(", "))
        }
        "contains" => {
            let text = match &c.value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let escaped = text
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            params.push(SqlValue::Text(format!("%{escaped}%")));
            format!("{q} LIKE ? ESCAPE '\\'")
        }
        // "=", and — as OMFLOW does with an operator it does not know —
        // anything else means an exact match (IS: null matches NULL).
        _ => {
            params.push(sql_value(state, col, &c.value));
            format!("{q} IS ?")
        }
    })
}

fn mission_rows(
    state: &AppState,
    p: &Principal,
    req: &MissionListRequest,
) -> Result<Vec<Map<String, Value>>, Answer> {
    if req.start < 0 || req.limit < 0 {
        return Err(failure(
            status::FAILED,
            "查詢失敗，錯誤訊息如下：Negative indexing is not supported.",
        ));
    }
    let mut params = vec![SqlValue::Text(p.user.clone())];
    // Over `missions m`: the rows of the user's steps, and the conditions.
    let mut where_sql = String::from(
        "m.history = 0 AND (m.responsible_user = ?1 OR (m.responsible_user IS NULL
           AND m.responsible_group IN (SELECT group_id FROM memberships WHERE user_id = ?1)))",
    );
    for c in &req.search_conditions {
        where_sql.push_str(&format!(" AND ({})", condition_sql(state, c, &mut params)?));
    }
    for c in &req.exclude_conditions {
        where_sql.push_str(&format!(
            " AND NOT coalesce(({}), 0)",
            condition_sql(state, c, &mut params)?
        ));
    }
    let order = if req.order_columns.is_empty() {
        vec!["id".to_string()]
    } else {
        req.order_columns.clone()
    };
    let mut keys = Vec::new();
    for key in &order {
        let (desc, name) = match key.strip_prefix('-') {
            Some(name) => (true, name),
            None => (false, key.as_str()),
        };
        keys.push(format!(
            "m.\"{}\"{}",
            column(name)?,
            if desc { " DESC" } else { "" }
        ));
    }
    keys.push("m.id".into());
    let order = keys.join(", ");
    for c in &req.search_columns {
        column(c)?;
    }
    let zone = state.config.zones.omflow.clone();
    let db = state.engine.db();
    // Read before the transaction starts: see `Database::generation`.
    let generation = db.generation();
    let start = usize::try_from(req.start).unwrap_or(usize::MAX);
    let count = usize::try_from(req.limit - req.start).unwrap_or(0);
    let rows = db
        .read(|conn| {
            let listing = format!("omflow: {where_sql} ORDER BY {order} {params:?}");
            let ids = state
                .listings
                .page(&listing, generation, start, Some(count), |limit| {
                    // Bound: one prepared statement for every page size
                    // (a negative limit is none).
                    let limit = SqlValue::Integer(
                        limit.map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX)),
                    );
                    let mut stmt = conn.prepare_cached(&format!(
                        "SELECT m.id FROM missions m WHERE {where_sql} ORDER BY {order} LIMIT ?"
                    ))?;
                    let ids = stmt
                        .query_map(
                            rusqlite::params_from_iter(params.iter().chain([&limit])),
                            |r| r.get(0),
                        )?
                        .collect::<rusqlite::Result<Vec<i64>>>()?;
                    Ok(ids)
                })?;
            // The page's rows, the conditions checked again: a write between
            // reading the generation and this transaction may have moved a
            // row out of the listing (the next page then lists afresh).
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT * FROM missions m WHERE {where_sql}
                   AND m.id IN (SELECT value FROM json_each(?)) ORDER BY {order}"
            ))?;
            let mut with_ids = params.clone();
            with_ids.push(SqlValue::Text(json!(ids).to_string()));
            let names: Vec<String> = stmt.column_names().iter().map(|s| s.to_string()).collect();
            let rows = stmt
                .query_map(rusqlite::params_from_iter(with_ids.iter()), |r| {
                    let mut row = Map::new();
                    for (i, name) in names.iter().enumerate() {
                        if !MISSION_COLUMNS.contains(&name.as_str()) {
                            continue;
                        }
                        let v: SqlValue = r.get(i)?;
                        let value = match (v, name.as_str()) {
                            (SqlValue::Text(t), n) if TIME_COLUMNS.contains(&n) => {
                                times::omflow(&t, &zone).map_or(Value::Null, Value::String)
                            }
                            (SqlValue::Integer(i), n) if FLAG_COLUMNS.contains(&n) => {
                                Value::Bool(i != 0)
                            }
                            (SqlValue::Integer(i), _) => json!(i),
                            (SqlValue::Text(t), _) => Value::String(t),
                            (SqlValue::Real(f), _) => json!(f),
                            (SqlValue::Null, _) => Value::Null,
                            (SqlValue::Blob(_), _) => Value::Null,
                        };
                        row.insert(name.clone(), value);
                    }
                    Ok(row)
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
        .map_err(error_answer)?;
    Ok(rows
        .into_iter()
        .map(|row| {
            if req.search_columns.is_empty() {
                row
            } else {
                row.into_iter()
                    .filter(|(k, _)| req.search_columns.contains(k))
                    .collect()
            }
        })
        .collect())
}

async fn mission_list(State(state): State<St>, headers: HeaderMap, body: Bytes) -> Answer {
    answer(
        blocking(move || {
            let fields = body_fields(&headers, &body);
            let p = match rest_user(&state, &fields) {
                Ok(p) => p,
                Err(a) => return a,
            };
            let req: MissionListRequest = match parse(fields, "查詢") {
                Ok(r) => r,
                Err(a) => return a,
            };
            match mission_rows(&state, &p, &req) {
                // OMFLOW 1.1 answers an empty list with this error.
                Ok(rows) if rows.is_empty() => envelope(
                    status::FAILED,
                    "查詢失敗，錯誤訊息如下：'NoneType' object has no attribute 'objects'",
                    Some(Value::Null),
                ),
                Ok(rows) => ok(
                    "查詢成功。",
                    Value::Array(rows.into_iter().map(Value::Object).collect()),
                ),
                Err(a) => a,
            }
        })
        .await,
    )
}

fn field_values(items: Option<Vec<wire::FormItem>>) -> Vec<FieldValue> {
    items
        .unwrap_or_default()
        .into_iter()
        .map(|i| FieldValue {
            id: i.id,
            value: i.value,
            field_type: i.field_type,
        })
        .collect()
}

fn envelope_ok(a: &Answer) -> bool {
    serde_json::from_slice::<Envelope>(&a.body).is_ok_and(|e| e.status.code() == Some(status::OK))
}

/// OMFLOW 1.1's answer to an api_path no flow has.
fn unknown_api_path() -> Answer {
    failure(status::ERROR, "'NoneType' object has no attribute 'api'")
}

/// OMFLOW's answer to a data_id that is no open row of the flow: the ORM's
/// text, naming the flow's table.
fn no_such_row(flow: &flows::Flow) -> EngineError {
    EngineError::NotFound(format!(
        "Omdata_{} matching query does not exist.",
        flow.hex()
    ))
}

/// What identifies a write for its idempotency record: the path and the
/// fields, without the security code — a client retrying after it logged
/// in again (the code expired, the server restarted) sends a new code with
/// the same request, which must be answered from the record.
fn write_fingerprint(uri: &Uri, fields: &Map<String, Value>) -> String {
    let mut fields = fields.clone();
    fields.remove("security");
    let canonical = serde_json::to_vec(&sorted(Value::Object(fields))).unwrap_or_default();
    fingerprint("POST", uri.path(), &canonical)
}

/// A value with every object's keys in order, so that equal fields give
/// equal bytes whatever order the client wrote them in — also if a
/// dependency switches on serde_json's `preserve_order`.
fn sorted(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

async fn omdata_edit(
    State(state): State<St>,
    Path(api_path): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    answer(
        blocking(move || {
            let fields = body_fields(&headers, &body);
            let p = match rest_user(&state, &fields) {
                Ok(p) => p,
                Err(a) => return Ok(a),
            };
            let print = write_fingerprint(&uri, &fields);
            let req: OmDataEditRequest = match parse(fields, "推單") {
                Ok(r) => r,
                Err(a) => return Ok(a),
            };
            let Some(flow) = state
                .engine
                .db()
                .read(|c| flows::flow_by_api_path(c, &api_path))?
            else {
                return Ok(unknown_api_path());
            };
            let key = idempotency_key(&headers)?;
            mutate(
                &state,
                &p,
                key.as_deref(),
                &print,
                envelope_ok,
                |tx| match req.action {
                    EditAction::Create => {
                        let ticket =
                            flows::open_ticket(tx, &p, &flow, &field_values(req.formdata))?;
                        Ok(ok("開單成功。", json!(ticket.data_no)))
                    }
                    EditAction::Update => {
                        let data_id = req
                            .data_id
                            .ok_or_else(|| EngineError::invalid("缺少參數：data_id"))?;
                        let data_no = match &req.quick_action {
                            Some(action) => flows::quick_action(tx, &p, &flow, data_id, action)?,
                            None => {
                                flows::push(tx, &p, &flow, data_id, &field_values(req.formdata))?
                            }
                        };
                        Ok(ok("推單成功。", json!(data_no)))
                    }
                    EditAction::Delete => {
                        let data_id = req
                            .data_id
                            .ok_or_else(|| EngineError::invalid("缺少參數：data_id"))?;
                        Ok(ok(
                            "刪單成功。",
                            json!(delete_ticket(tx, &p, &flow, data_id)?),
                        ))
                    }
                },
            )
        })
        .await
        .and_then(|r| r),
    )
}

/// Deletes (closes and cancels) a ticket: its creator or an administrator.
fn delete_ticket(
    tx: &crate::db::Tx<'_>,
    p: &Principal,
    flow: &flows::Flow,
    data_id: i64,
) -> Result<i64, EngineError> {
    let gone = || no_such_row(flow);
    let task = tasks::get(tx, data_id)?.ok_or_else(gone)?;
    let ticket = flows::ticket(tx, task.ticket_id.ok_or_else(gone)?)?;
    if ticket.flow_uuid != flow.uuid {
        return Err(gone());
    }
    if !(p.admin || ticket.created_by == p.user) {
        return Err(EngineError::Forbidden("您沒有權限進行此操作。".into()));
    }
    if let Some(current) = flows::current_task(tx, &ticket)? {
        tasks::set_state(tx, current.id, TaskState::Cancelled)?;
    }
    tx.execute(
        "UPDATE tickets SET closed = 1, position = NULL WHERE id = ?1",
        [ticket.id],
    )?;
    Ok(ticket.data_no)
}

async fn data_ids(
    State(state): State<St>,
    Path(api_path): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    answer(
        blocking(move || {
            let fields = body_fields(&headers, &body);
            let p = match rest_user(&state, &fields) {
                Ok(p) => p,
                Err(a) => return Ok(a),
            };
            let req: DataIdQuery = match parse(fields, "查詢") {
                Ok(r) => r,
                Err(a) => return Ok(a),
            };
            let Some(flow) = state
                .engine
                .db()
                .read(|c| flows::flow_by_api_path(c, &api_path))?
            else {
                return Ok(unknown_api_path());
            };
            let rows = state.engine.db().read(|c| {
                let mut out = Vec::new();
                for (data_id, stop) in flows::data_ids(c, &flow, req.data_no)? {
                    let task = tasks::require(c, data_id)?;
                    if flows::may_push(&p, &task) || tasks::visible(&p, &task) {
                        out.push(DataIdRow {
                            data_id,
                            stop_chart_text: stop,
                        });
                    }
                }
                Ok(out)
            })?;
            Ok(if rows.is_empty() {
                failure(status::FAILED, "查詢失敗。")
            } else {
                ok("查詢成功。", json!(rows))
            })
        })
        .await
        .and_then(|r| r),
    )
}

/// The flow a work-log request names: by api_path, or by its uuid in the
/// 32-hex form (the dashed form is refused, as OMFLOW 1.1 does).
fn worklog_flow(state: &AppState, req: &WorkLogRequest) -> Result<flows::Flow, Answer> {
    let found = state.engine.db().read(|c| {
        if let Some(path) = &req.api_path {
            return flows::flow_by_api_path(c, path);
        }
        match &req.flow_uuid {
            Some(uuid) if !uuid.contains('-') => flows::flow_by_any_uuid(c, uuid),
            _ => Ok(None),
        }
    });
    match found {
        Ok(Some(flow)) => Ok(flow),
        Ok(None) => Err(failure(status::FORBIDDEN, "您沒有權限進行此操作。")),
        Err(e) => Err(error_answer(e)),
    }
}

fn worklog_request(fields: Map<String, Value>) -> Result<WorkLogRequest, Answer> {
    if !fields.contains_key("data_no") {
        return Err(envelope(
            status::FAILED,
            "缺少必要參數。",
            Some(json!({"status": "require missing", "result": ["data_no"]})),
        ));
    }
    let mut fields = fields;
    fields.entry("data_id").or_insert(json!(0));
    parse(fields, "建立")
}

async fn worklog_create(
    State(state): State<St>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    answer(
        blocking(move || {
            let fields = body_fields(&headers, &body);
            let p = match rest_user(&state, &fields) {
                Ok(p) => p,
                Err(a) => return Ok(a),
            };
            let print = write_fingerprint(&uri, &fields);
            let req = match worklog_request(fields) {
                Ok(r) => r,
                Err(a) => return Ok(a),
            };
            let flow = match worklog_flow(&state, &req) {
                Ok(f) => f,
                Err(a) => return Ok(a),
            };
            let key = idempotency_key(&headers)?;
            let data_id = (req.data_id != 0).then_some(req.data_id);
            let content = req.content.clone().unwrap_or_default();
            mutate(&state, &p, key.as_deref(), &print, envelope_ok, |tx| {
                flows::worklog_add(tx, &p, &flow, req.data_no, data_id, &content)?;
                Ok(envelope(status::OK, "建立成功。", Some(Value::Null)))
            })
        })
        .await
        .and_then(|r| r),
    )
}

async fn worklog_list(State(state): State<St>, headers: HeaderMap, body: Bytes) -> Answer {
    answer(
        blocking(move || {
            let fields = body_fields(&headers, &body);
            let p = match rest_user(&state, &fields) {
                Ok(p) => p,
                Err(a) => return Ok(a),
            };
            let req = match worklog_request(fields) {
                Ok(r) => r,
                Err(a) => return Ok(a),
            };
            let flow = match worklog_flow(&state, &req) {
                Ok(f) => f,
                Err(a) => return Ok(a),
            };
            let zone = state.config.zones.omflow.clone();
            let rows = state.engine.db().read(|c| {
                let Some(ticket) = flows::ticket_by_no(c, &flow.uuid, req.data_no)? else {
                    return Ok(None);
                };
                // The caller must be able to see one of the ticket's tasks.
                let visible: bool = c.query_row(
                    &format!(
                        "SELECT EXISTS (SELECT 1 FROM tasks t WHERE t.ticket_id = ?2 AND {})",
                        tasks::VISIBLE_SQL
                    ),
                    rusqlite::params![p.user, ticket.id],
                    |r| r.get(0),
                )?;
                if !visible {
                    return Ok(None);
                }
                Ok(Some(flows::worklog(c, &flow, req.data_no)?))
            })?;
            let Some(rows) = rows else {
                return Ok(failure(status::FORBIDDEN, "您沒有權限進行此操作。"));
            };
            let rows: Vec<WorkLogRow> = rows
                .into_iter()
                .map(|w| WorkLogRow {
                    id: Some(w.id),
                    flow_uuid: Some(w.flow_hex),
                    author_nick_name: Some(w.author_name),
                    content: w.content,
                    createtime: times::omflow_spaced(&w.created, &zone)
                        .and_then(|t| ServerTime::parse(&t).ok()),
                    substitute_nick_name: None,
                })
                .collect();
            Ok(ok("查詢成功。", json!(rows)))
        })
        .await
        .and_then(|r| r),
    )
}

async fn form(
    State(state): State<St>,
    Path(api_path): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    answer(
        blocking(move || {
            let fields = body_fields(&headers, &body);
            let p = match rest_user(&state, &fields) {
                Ok(p) => p,
                Err(a) => return Ok(a),
            };
            let req: FormDefinitionRequest = match parse(fields, "查詢") {
                Ok(r) => r,
                Err(a) => return Ok(a),
            };
            let Some(flow) = state
                .engine
                .db()
                .read(|c| flows::flow_by_api_path(c, &api_path))?
            else {
                return Ok(unknown_api_path());
            };
            // A data_id that is no step of this flow is answered as a push
            // answers it (never "not a flow step", which would tell other
            // users' tasks exist).
            let step = state.engine.db().read(|c| {
                let task = tasks::get(c, req.data_id)?.ok_or_else(|| no_such_row(&flow))?;
                let ticket_id = task.ticket_id.ok_or_else(|| no_such_row(&flow))?;
                if flows::ticket(c, ticket_id)?.flow_uuid != flow.uuid {
                    return Err(no_such_row(&flow));
                }
                flows::form_of(c, &p, &task)
            })?;
            Ok(ok(
                "查詢成功。",
                json!(FormDefinition {
                    fields: step
                        .form
                        .into_iter()
                        .map(|f| FormField {
                            id: f.id,
                            label: f.label,
                            field_type: f.field_type,
                            required: f.required
                        })
                        .collect(),
                    quick_actions: step
                        .quick_actions
                        .into_iter()
                        .map(|q| QuickActionDef {
                            id: q.id,
                            label: q.label
                        })
                        .collect(),
                }),
            ))
        })
        .await
        .and_then(|r| r),
    )
}

/// The user directory: every user's numeric id (what `assignee_id` holds),
/// login name and display name, paged like the my-mission list. Any
/// signed-in user may read it, as in OMFLOW, where the directory feeds
/// every user picker. [INFER]
async fn user_list(State(state): State<St>, headers: HeaderMap, body: Bytes) -> Answer {
    answer(
        blocking(move || {
            let fields = body_fields(&headers, &body);
            if let Err(a) = rest_user(&state, &fields) {
                return Ok(a);
            }
            let req: UserListRequest = match parse(fields, "查詢") {
                Ok(r) => r,
                Err(a) => return Ok(a),
            };
            if req.start < 0 || req.limit < 0 {
                return Ok(failure(
                    status::FAILED,
                    "查詢失敗，錯誤訊息如下：Negative indexing is not supported.",
                ));
            }
            let rows = state.engine.db().read(|c| {
                let mut stmt = c.prepare_cached(
                    "SELECT num, id, display_name FROM users ORDER BY num LIMIT ?1 OFFSET ?2",
                )?;
                let rows = stmt
                    .query_map([(req.limit - req.start).max(0), req.start], |r| {
                        Ok(UserRow {
                            id: r.get(0)?,
                            username: r.get(1)?,
                            nick_name: r.get(2)?,
                            email: String::new(),
                            ad_no: String::new(),
                        })
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                Ok(rows)
            })?;
            Ok(ok("查詢成功。", json!(rows)))
        })
        .await
        .and_then(|r| r),
    )
}

/// The departments (groups, teams and lanes), by `org_no` (the group's
/// id) or `org_name` (its display name); both empty: all.
async fn group_list(State(state): State<St>, headers: HeaderMap, body: Bytes) -> Answer {
    answer(
        blocking(move || {
            let fields = body_fields(&headers, &body);
            if let Err(a) = rest_user(&state, &fields) {
                return Ok(a);
            }
            let req: GroupListRequest = match parse(fields, "查詢") {
                Ok(r) => r,
                Err(a) => return Ok(a),
            };
            let rows = state.engine.db().read(|c| {
                let mut stmt =
                    c.prepare_cached("SELECT num, id, display_name FROM groups ORDER BY num")?;
                let rows = stmt
                    .query_map([], |r| {
                        Ok(GroupRow {
                            id: r.get(0)?,
                            group_no: r.get(1)?,
                            display_name: r.get(2)?,
                            parent_group_id: None,
                            description: String::new(),
                        })
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                Ok(rows)
            })?;
            let all = req.org_no.is_empty() && req.org_name.is_empty();
            let rows: Vec<GroupRow> = rows
                .into_iter()
                .filter(|g| {
                    all || req.org_no.contains(&g.group_no)
                        || req.org_name.contains(&g.display_name)
                })
                .collect();
            Ok(ok("查詢成功。", json!(rows)))
        })
        .await
        .and_then(|r| r),
    )
}

async fn unroutable() -> Answer {
    failure(status::FORBIDDEN, "URL錯誤，請確認後重新發送請求。")
}

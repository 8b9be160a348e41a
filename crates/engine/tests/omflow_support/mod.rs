//! What the OMFLOW conformance tests share: the demo server, calls that
//! add the security code and `omflow_restapi`, the demo's tickets, and
//! reads of the engine's own tables for effects OMFLOW does not expose
//! (form values, closed tickets).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // each test binary uses a part; tests fail loudly

use serde_json::{Map, Value, json};
use tasklane_dialects::omflow::wire::{self, Envelope, MissionRow};
use tasklane_engine::demo;
use tasklane_engine::{flows, users};

use crate::common::{TestServer, client, json_of, omflow_code};

pub const SECURITY_GET: &str = "/accounts/api/security/get/";
pub const MY_MISSION: &str = "/rest/my-mission/api/my-mission/list/";
pub const WORKLOG_CREATE: &str = "/rest/flowmanage/api/omdata-worklog/create/";
pub const WORKLOG_LIST: &str = "/rest/flowmanage/api/omdata-worklog/list/";

pub const PAYMENT: &str = demo::PAYMENT_API_PATH;
pub const PROCUREMENT: &str = demo::PROCUREMENT_API_PATH;

/// The messages OMFLOW answers with (zh-Hant, its default locale).
pub mod msg {
    pub const CODE_ISSUED: &str = "取得成功。";
    pub const LISTED: &str = "查詢成功。";
    pub const PUSHED: &str = "推單成功。";
    pub const CREATED: &str = "開單成功。";
    pub const DELETED: &str = "刪單成功。";
    pub const LOGGED: &str = "建立成功。";
    pub const QUERY_FAILED: &str = "查詢失敗。";
    pub const EMPTY_LIST: &str =
        "查詢失敗，錯誤訊息如下：'NoneType' object has no attribute 'objects'";
    pub const LIST_FAILED_PREFIX: &str = "查詢失敗，錯誤訊息如下：";
    pub const CODE_WRONG: &str = "安全碼錯誤，請確認安全碼或重新取得新的安全碼。";
    pub const CODE_EXPIRED: &str = "安全碼過期，請重新取得新的安全碼。";
    pub const NO_RESTAPI: &str = "缺少參數：omflow_restapi";
    pub const BAD_URL: &str = "URL錯誤，請確認後重新發送請求。";
    pub const FORBIDDEN: &str = "您沒有權限進行此操作。";
    pub const REQUIRED_MISSING: &str = "缺少必填欄位。";
    pub const UNKNOWN_API_PATH: &str = "'NoneType' object has no attribute 'api'";
    pub const BAD_LOGIN: &str = "使用者不存在或未啟用。";
    pub const NO_SUCH_USER: &str = "OmUser matching query does not exist.";
}

/// A demo ticket: its flow's api_path and its data_no.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct T(pub &'static str, pub i64);

/// Payment tickets 1–3 wait for wang.xiaoming (the step's assignee user);
/// 4 is past that step and waits for the finance group (lin.meiling).
pub const P1: T = T(PAYMENT, 1);
pub const P2: T = T(PAYMENT, 2);
pub const P3: T = T(PAYMENT, 3);
pub const P4: T = T(PAYMENT, 4);
/// Procurement tickets wait for the it group (wang.xiaoming).
pub const Q1: T = T(PROCUREMENT, 1);
pub const Q2: T = T(PROCUREMENT, 2);
pub const TICKETS: [T; 6] = [P1, P2, P3, P4, Q1, Q2];

/// Every demo user who can log in over HTTP.
pub const USERS: [&str; 8] = [
    "admin",
    "hans.muster",
    "anna.keller",
    "peter.meier",
    "wang.xiaoming",
    "lin.meiling",
    "tanaka",
    "suzuki",
];

pub fn password(user: &str) -> &'static str {
    if user == "admin" {
        demo::ADMIN_PASSWORD
    } else {
        demo::PASSWORD
    }
}

/// The 32-hex form of a flow uuid (work log, default api_path).
pub fn hex(uuid: &str) -> String {
    uuid.replace('-', "")
}

pub fn flow_uuid(api_path: &str) -> &'static str {
    match api_path {
        PAYMENT => demo::PAYMENT_FLOW,
        PROCUREMENT => demo::PROCUREMENT_FLOW,
        other => panic!("no demo flow {other}"),
    }
}

/// The demo server and a client for it.
pub struct Omflow {
    pub s: TestServer,
    pub http: reqwest::Client,
}

impl Omflow {
    pub fn demo() -> Self {
        Omflow {
            s: TestServer::demo(),
            http: client(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.s.url)
    }

    /// A security code for a demo user.
    pub async fn code(&self, user: &str) -> String {
        omflow_code(&self.http, &self.s.url, user, password(user)).await
    }

    /// `GET /accounts/api/security/get/` with these credentials.
    pub async fn security_get(&self, credentials: Option<(&str, &str)>) -> Value {
        let mut req = self.http.get(self.url(SECURITY_GET));
        if let Some((user, pw)) = credentials {
            req = req.basic_auth(user, Some(pw));
        }
        envelope_of(req.send().await.unwrap()).await
    }

    /// POSTs `body` as JSON as it is (no code added).
    pub async fn post(&self, path: &str, body: &Value) -> Value {
        envelope_of(
            self.http
                .post(self.url(path))
                .json(body)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// POSTs form fields (`application/x-www-form-urlencoded`), as Python's
    /// `requests.post(url, data=dict)` does.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Value {
        envelope_of(
            self.http
                .post(self.url(path))
                .form(fields)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// POSTs a body as it is, with the given Content-Type or none at all
    /// (Python's `requests.post(url, data=json.dumps(values))`).
    pub async fn post_raw(&self, path: &str, body: &str, content_type: Option<&str>) -> Value {
        let mut req = self.http.post(self.url(path)).body(body.to_string());
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        envelope_of(req.send().await.unwrap()).await
    }

    /// POSTs `params` with `security` and `omflow_restapi: 1` added.
    pub async fn call(&self, path: &str, code: &str, params: Value) -> Value {
        self.post(path, &with_code(code, params)).await
    }

    pub async fn list(&self, code: &str, params: Value) -> Value {
        self.call(MY_MISSION, code, params).await
    }

    /// The user's rows, with an explicit order so the answer is stable.
    pub async fn rows(&self, code: &str, params: Value) -> Vec<MissionRow> {
        let mut params = params;
        params
            .as_object_mut()
            .unwrap()
            .entry("order_columns")
            .or_insert(json!(["id"]));
        let env = self.list(code, params).await;
        if env["message"] == msg::EMPTY_LIST {
            return Vec::new();
        }
        mission_rows(&env)
    }

    /// The demo tickets in a user's my-mission list.
    pub async fn listed(&self, code: &str) -> Vec<T> {
        let mut found: Vec<T> = self
            .rows(code, json!({}))
            .await
            .iter()
            .map(ticket_of)
            .collect();
        found.sort();
        found
    }

    pub async fn edit(&self, code: &str, api_path: &str, params: Value) -> Value {
        self.call(&edit_path(api_path), code, params).await
    }

    /// A push of `formdata` to the ticket's current step.
    pub async fn push(&self, code: &str, t: T, formdata: Value) -> Value {
        let data_id = self.data_id(t).expect("the ticket is open");
        self.edit(
            code,
            t.0,
            json!({"action": "update", "data_id": data_id, "formdata": formdata}),
        )
        .await
    }

    pub async fn quick_action(&self, code: &str, t: T, action: &str) -> Value {
        let data_id = self.data_id(t).expect("the ticket is open");
        self.edit(
            code,
            t.0,
            json!({"action": "update", "data_id": data_id, "quick_action": action}),
        )
        .await
    }

    pub async fn data_ids(&self, code: &str, t: T) -> Value {
        self.call(&data_id_path(t.0), code, json!({"data_no": t.1}))
            .await
    }

    pub async fn worklog_create(&self, code: &str, t: T, content: &str) -> Value {
        self.call(
            WORKLOG_CREATE,
            code,
            json!({"api_path": t.0, "data_no": t.1, "data_id": 0, "content": content}),
        )
        .await
    }

    pub async fn worklog_list(&self, code: &str, t: T) -> Value {
        self.call(
            WORKLOG_LIST,
            code,
            json!({"api_path": t.0, "data_no": t.1, "data_id": 0}),
        )
        .await
    }

    pub async fn form(&self, code: &str, api_path: &str, data_id: i64) -> Value {
        self.call(&form_path(api_path), code, json!({"data_id": data_id}))
            .await
    }

    // Reads of the engine's own tables.

    fn ticket(&self, t: T) -> flows::Ticket {
        self.s
            .engine()
            .db()
            .read(|c| flows::ticket_by_no(c, flow_uuid(t.0), t.1))
            .unwrap()
            .expect("a demo ticket")
    }

    /// The data_id of the ticket's current step (`None` once closed).
    pub fn data_id(&self, t: T) -> Option<i64> {
        let ticket = self.ticket(t);
        self.s
            .engine()
            .db()
            .read(|c| flows::current_task(c, &ticket))
            .unwrap()
            .map(|task| task.id)
    }

    /// The form values stored on the ticket.
    pub fn form_values(&self, t: T) -> Map<String, Value> {
        self.ticket(t).form_values
    }

    pub fn closed(&self, t: T) -> bool {
        self.ticket(t).closed
    }

    /// OMFLOW's numeric id of a user (`assignee_id`).
    pub fn user_num(&self, user: &str) -> i64 {
        let found = self.s.engine().db().read(|c| users::find_user(c, user));
        found.unwrap().expect("a demo user").num
    }

    /// OMFLOW's numeric id of a group (`assign_group_id`).
    pub fn group_num(&self, group: &str) -> i64 {
        let found = self.s.engine().db().read(|c| users::find_group(c, group));
        found.unwrap().expect("a demo group").num
    }

    pub fn ticket_count(&self, api_path: &str) -> i64 {
        self.s
            .engine()
            .db()
            .read(|c| {
                Ok(c.query_row(
                    "SELECT count(*) FROM tickets WHERE flow_uuid = ?1",
                    [flow_uuid(api_path)],
                    |r| r.get(0),
                )?)
            })
            .unwrap()
    }

    /// Work log entries of a ticket, as the engine stores them.
    pub fn worklog_count(&self, t: T) -> usize {
        let flow = self
            .s
            .engine()
            .db()
            .read(|c| flows::flow_by_uuid(c, flow_uuid(t.0)))
            .unwrap();
        self.s
            .engine()
            .db()
            .read(|c| flows::worklog(c, &flow, t.1))
            .unwrap()
            .len()
    }

    /// What a denied request must leave untouched: every ticket's step,
    /// closed flag, form values and work log, and the ticket counts.
    pub fn snapshot(&self) -> Value {
        let tickets: Vec<Value> = TICKETS
            .iter()
            .map(|t| {
                json!([
                    t.0,
                    t.1,
                    self.data_id(*t),
                    self.closed(*t),
                    self.form_values(*t),
                    self.worklog_count(*t)
                ])
            })
            .collect();
        json!({"tickets": tickets,
            "counts": [self.ticket_count(PAYMENT), self.ticket_count(PROCUREMENT)]})
    }

    /// One number from the engine's tables.
    pub fn scalar(&self, sql: &str) -> i64 {
        self.s
            .engine()
            .db()
            .read(|c| Ok(c.query_row(sql, [], |r| r.get(0))?))
            .unwrap()
    }

    /// Runs SQL against the engine (to set times, switch a flow's API off).
    pub fn sql(&self, sql: &str) {
        self.s
            .engine()
            .db()
            .write(|tx| {
                tx.execute_batch(sql)?;
                Ok(())
            })
            .unwrap();
    }
}

pub fn edit_path(api_path: &str) -> String {
    format!("/rest/flowmanage/api/omdata/edit/{api_path}")
}

pub fn data_id_path(api_path: &str) -> String {
    format!("/rest/flowmanage/api/omdata-data-id/get/{api_path}/")
}

pub fn form_path(api_path: &str) -> String {
    format!("/rest/tasklane/api/form/{api_path}/")
}

pub fn with_code(code: &str, params: Value) -> Value {
    let mut body = params;
    let map = body.as_object_mut().expect("params are an object");
    map.insert("security".into(), json!(code));
    map.insert("omflow_restapi".into(), json!(1));
    body
}

/// An answer's envelope: HTTP 200 whatever happened, a JSON body that
/// tasklane's client reads as an [`Envelope`], and an integer status.
pub async fn envelope_of(response: reqwest::Response) -> Value {
    let (http, body) = json_of(response).await;
    assert_eq!(http, 200, "OMFLOW answers HTTP 200 even for errors: {body}");
    let env: Envelope = serde_json::from_value(body.clone())
        .unwrap_or_else(|e| panic!("not an OMFLOW envelope ({e}): {body}"));
    assert!(
        matches!(env.status, wire::Status::Number(_)),
        "status is written as an integer, as live OMFLOW 1.1 does: {body}"
    );
    body
}

/// Asserts the envelope's status and message.
#[track_caller]
pub fn expect(env: &Value, status: i64, message: &str) {
    assert_eq!(
        (env["status"].as_i64(), env["message"].as_str()),
        (Some(status), Some(message)),
        "{env}"
    );
}

/// Asserts a failure as OMFLOW 1.1 writes it: status, message, `result: null`.
#[track_caller]
pub fn expect_failure(env: &Value, status: i64, message: &str) {
    expect(env, status, message);
    assert_eq!(env.get("result"), Some(&Value::Null), "{env}");
}

/// The rows of a successful my-mission answer, read with tasklane's own
/// wire type (so the client provably parses them).
#[track_caller]
pub fn mission_rows(env: &Value) -> Vec<MissionRow> {
    expect(env, 200, msg::LISTED);
    serde_json::from_value(env["result"].clone())
        .unwrap_or_else(|e| panic!("rows the client cannot read ({e}): {env}"))
}

pub fn ticket_of(row: &MissionRow) -> T {
    let api_path = match row.flow_uuid.as_str() {
        demo::PAYMENT_FLOW => PAYMENT,
        demo::PROCUREMENT_FLOW => PROCUREMENT,
        other => panic!("a row of an unknown flow {other}"),
    };
    T(api_path, row.data_no)
}

pub fn titles(rows: &[MissionRow]) -> Vec<String> {
    rows.iter()
        .map(|r| r.title.clone().unwrap_or_default())
        .collect()
}

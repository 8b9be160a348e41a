//! GeverClient against a stub that answers like OneGov GEVER's docs, code
//! and tests describe it: naive datetimes from the index and in responses,
//! `batching` objects, `{token, title}` choices, 401 for missing rights,
//! and errors in both shapes.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tasklane_core::model::{AccountKind, AccountSettings, State as TaskState, TaskField};
use tasklane_core::outbox::{NewTask, OpRequest, OpState};
use tasklane_core::remote::{Applied, ListMode, ListPage, Remote, RemoteErrorKind};
use tasklane_core::time::format_ts;
use tasklane_dialects::{GeverClient, Limits};

use common::{Device, TestServer, config, obj, op};

#[derive(Debug, Clone)]
struct GTask {
    int_id: i64,
    path: String,
    title: String,
    state: String,
    portal_type: &'static str,
    responsible: String,
    deadline: String,
    modified: String,
    created: String,
    responses: Vec<Value>,
}

#[derive(Debug, Default)]
struct Stub {
    base: String,
    tasks: Vec<GTask>,
    jwt_tokens: Vec<String>,
    tokens_issued: u32,
    index_queries: Vec<HashMap<String, String>>,
    writes: Vec<(String, String, Value)>,
    idempotency_keys: Vec<String>,
    next_response: i64,
    fail_next: Option<(u16, Option<&'static str>, &'static str)>,
    slow_writes: Option<Duration>,
    created: Vec<Value>,
    /// Whether task GETs honour `?expand=workflow` (plone.restapi does;
    /// off by default so the fallback to `@workflow` is what most tests see).
    expands_workflow: bool,
    /// `GET <task>/@workflow` requests answered.
    workflow_reads: u32,
    /// The most items `@globalindex` answers per page, whatever `b_size`
    /// asks for (a server's own limit).
    max_batch: Option<usize>,
}

type Shared = Arc<Mutex<Stub>>;

fn task(n: i64, state: &str, responsible: &str, modified: &str) -> GTask {
    GTask {
        int_id: 1000 + n,
        path: format!("/fd/dossier-1/task-{n}"),
        title: format!("Aufgabe {n}"),
        state: state.into(),
        portal_type: "opengever.task.task",
        responsible: responsible.into(),
        deadline: "2026-11-30".into(),
        modified: modified.into(),
        created: "2026-11-01T09:00:00".into(),
        responses: Vec::new(),
    }
}

fn stub(tasks: Vec<GTask>) -> Shared {
    Arc::new(Mutex::new(Stub {
        tasks,
        next_response: 1_569_875_801_956_269,
        ..Stub::default()
    }))
}

fn error(status: u16, body: Value) -> Response {
    (StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response()
}

fn unauthorized() -> Response {
    error(
        401,
        json!({"type": "Unauthorized", "message": "You are not authorized to access this resource."}),
    )
}

fn not_found(url: &str) -> Response {
    error(
        404,
        json!({"type": "NotFound", "message": format!("Resource not found: {url}")}),
    )
}

fn now_naive() -> String {
    tasklane_core::time::now()
        .to_zoned(jiff::tz::TimeZone::get("Europe/Zurich").unwrap())
        .strftime("%Y-%m-%dT%H:%M:%S")
        .to_string()
}

/// Workflow guards for the responsible, as `opengever_task_workflow` has them.
fn transitions(state: &str) -> &'static [&'static str] {
    match state {
        "task-state-open" => &[
            "task-transition-modify-deadline",
            "task-transition-open-in-progress",
            "task-transition-reassign",
            "task-transition-open-rejected",
            "task-transition-open-escalate",
        ],
        "task-state-in-progress" => &[
            "task-transition-modify-deadline",
            "task-transition-reassign",
            "task-transition-in-progress-tested-and-closed",
        ],
        _ => &[],
    }
}

fn target(transition: &str, current: &str) -> String {
    match transition {
        "task-transition-open-in-progress" => "task-state-in-progress".into(),
        "task-transition-open-rejected" => "task-state-rejected".into(),
        "task-transition-in-progress-tested-and-closed" => "task-state-tested-and-closed".into(),
        _ => current.into(),
    }
}

fn representation(base: &str, t: &GTask) -> Value {
    json!({
        "@id": format!("{base}{}", t.path), "@type": t.portal_type, "UID": format!("uid{}", t.int_id),
        "oguid": format!("fd:{}", t.int_id), "title": t.title, "review_state": t.state,
        "responsible": {"token": format!("fd:{}", t.responsible), "title": "Finanzamt: Lin Amy (amy)"},
        "responsible_client": {"token": "fd", "title": "Finanzamt"},
        "issuer": {"token": "robert.ziegler", "title": "Ziegler Robert"},
        "task_type": {"token": "direct-execution", "title": "Zur direkten Erledigung"},
        "deadline": t.deadline, "text": "Bitte prüfen.",
        "created": "2026-11-01T08:00:00+00:00", "modified": format!("{}+00:00", t.modified),
        "containing_dossier": {"@id": format!("{base}/fd/dossier-1"), "title": "Ein Dossier mit Tasks"},
        "items": [], "responses": t.responses, "sequence_type": null, "is_completed": false,
    })
}

fn index_item(base: &str, t: &GTask) -> Value {
    json!({
        "@id": format!("{base}{}", t.path), "@type": t.portal_type, "assigned_org_unit": "fd",
        "containing_dossier": "Ein Dossier mit Tasks", "containing_subdossier": "",
        "created": t.created, "deadline": t.deadline, "is_completed": false,
        "is_private": false, "is_subtask": false, "issuer": "robert.ziegler",
        "issuer_fullname": "Ziegler Robert", "issuing_org_unit": "fd", "modified": t.modified,
        "oguid": format!("fd:{}", t.int_id), "predecessor_id": null, "responsible": t.responsible,
        "review_state": t.state, "review_state_label": "Offen", "sequence_number": t.int_id,
        "task_id": t.int_id, "task_type": "For direct execution", "title": t.title
    })
}

fn user_of(s: &Stub, headers: &HeaderMap) -> Option<&'static str> {
    match headers.get("authorization")?.to_str().ok()? {
        "Basic YW15OnB3" => Some("amy"),      // amy:pw
        "Basic cm9vdDpwdw==" => Some("root"), // root:pw
        bearer => {
            let token = bearer.strip_prefix("Bearer ")?;
            s.jwt_tokens.iter().any(|t| t == token).then_some("amy")
        }
    }
}

async fn gever(
    State(stub): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let slow = {
        let s = stub.lock().unwrap();
        s.slow_writes.filter(|_| method != Method::GET)
    };
    if let Some(delay) = slow {
        tokio::time::sleep(delay).await;
    }
    let mut s = stub.lock().unwrap();
    if let Some((status, retry, body)) = s.fail_next.take() {
        let mut response = (StatusCode::from_u16(status).unwrap(), body).into_response();
        if let Some(r) = retry {
            response
                .headers_mut()
                .insert("retry-after", r.parse().unwrap());
        }
        return response;
    }
    if let Some(key) = headers.get("idempotency-key") {
        s.idempotency_keys.push(key.to_str().unwrap().into());
    }
    let path = uri.path().to_string();
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if path == "/fd/@login" {
        if body["login"] == "amy" && body["password"] == "pw" {
            s.tokens_issued += 1;
            let token = format!("jwt-{}", s.tokens_issued);
            s.jwt_tokens = vec![token.clone()];
            return axum::Json(json!({"token": token})).into_response();
        }
        return error(
            401,
            json!({"error": {"type": "Invalid credentials", "message": "Wrong login and/or password."}}),
        );
    }
    let user = user_of(&s, &headers);
    if path == "/fd/@config" {
        let current = user.map(|u| {
            json!({"@id": format!("{}/fd/@users/{u}", s.base), "id": u, "username": u,
                "fullname": "Lin Amy", "roles": if u == "root" { json!(["Member", "Manager"]) } else { json!(["Member"]) }})
        });
        return axum::Json(
            json!({"@id": format!("{}/fd/@config", s.base), "admin_unit": "fd",
            "application_type": "gever", "current_user": current}),
        )
        .into_response();
    }
    let Some(user) = user else {
        return unauthorized();
    };
    if path == "/fd/@globalindex" {
        return globalindex(&mut s, &uri);
    }
    if method == Method::POST && path == "/fd/dossier-1" {
        return create(&mut s, "/fd/dossier-1", body);
    }
    let base = s.base.clone();
    let Some(i) = s.tasks.iter().position(|t| path.starts_with(&t.path)) else {
        return not_found(&format!("{base}{path}"));
    };
    let rest = path[s.tasks[i].path.len()..].to_string();
    // amy only sees tasks she is responsible for; root sees everything.
    if user == "amy" && s.tasks[i].responsible != "amy" {
        return unauthorized();
    }
    if method != Method::GET {
        s.writes
            .push((method.to_string(), path.clone(), body.clone()));
    }
    let t = &mut s.tasks[i];
    match (method.clone(), rest.as_str()) {
        (Method::GET, "") => {
            let mut repr = representation(&base, t);
            let expand = uri.query().unwrap_or("").contains("expand=workflow");
            if expand && s.expands_workflow {
                let t = &s.tasks[i];
                repr["@components"] = json!({"workflow": workflow(&base, t)});
            }
            axum::Json(repr).into_response()
        }
        (Method::POST, "") => {
            let parent = t.path.clone();
            create(&mut s, &parent, body)
        }
        (Method::GET, "/@workflow") => {
            let answer = workflow(&base, t);
            s.workflow_reads += 1;
            axum::Json(answer).into_response()
        }
        (Method::GET, "/@workflow-schema/task-transition-open-escalate") => axum::Json(json!({
            "properties": {"reason": {"type": "string", "title": "Grund"}},
            "required": ["reason"], "fieldsets": []}))
        .into_response(),
        (Method::POST, r) if r.starts_with("/@workflow/") => {
            let id = &r["/@workflow/".len()..];
            if !transitions(&t.state).contains(&id) {
                let mut valid: Vec<&str> = transitions(&t.state).to_vec();
                valid.sort();
                return error(
                    400,
                    json!({"error": {"type": "Bad Request", "message":
                    format!("Invalid transition '{id}'.\nValid transitions are:\n{}", valid.join("\n"))}}),
                );
            }
            let mut changes = Vec::new();
            if id == "task-transition-modify-deadline" {
                match body["new_deadline"].as_str() {
                    None => {
                        return error(
                            400,
                            json!({"type": "BadRequest",
                        "message": "[('new_deadline', RequiredMissing('new_deadline'))]",
                        "translated_message": "Inputs not valid",
                        "additional_metadata": {"fields": [{"field": "new_deadline",
                            "type": "RequiredMissing", "translated_message": "Required input is missing."}]}}),
                        );
                    }
                    Some(d) if d == t.deadline => {
                        return error(
                            400,
                            json!({"type": "BadRequest",
                        "message": "[('new_deadline', same_deadline_error)]",
                        "translated_message": "Inputs not valid",
                        "additional_metadata": {"fields": [{"field": "new_deadline", "type": "Invalid",
                            "translated_message": "The entered deadline is the same as the current one."}]}}),
                        );
                    }
                    Some(d) => {
                        changes.push(json!({"field_id": "deadline", "field_title": "Frist", "before": t.deadline, "after": d}));
                        t.deadline = d.into();
                    }
                }
            }
            if id == "task-transition-reassign" {
                let Some(r) = body["responsible"].as_str() else {
                    return error(
                        400,
                        json!({"type": "BadRequest", "message": "responsible is required"}),
                    );
                };
                t.responsible = r.rsplit(':').next().unwrap().into();
            }
            t.state = target(id, &t.state);
            t.modified = now_naive();
            let response_id = s.next_response;
            s.next_response += 1;
            let t = &mut s.tasks[i];
            t.responses.push(json!({"response_id": response_id, "response_type": "default",
                "creator": user, "created": now_naive(), "text": body["text"].as_str().unwrap_or(""),
                "transition": id, "changes": changes, "added_objects": [], "related_items": []}));
            axum::Json(
                json!({"action": id, "actor": user, "comments": "", "review_state": t.state,
                "time": "2026-11-22T10:00:00+00:00", "title": "In Arbeit"}),
            )
            .into_response()
        }
        (Method::POST, "/@responses") => {
            let Some(text) = body["text"].as_str().filter(|t| !t.is_empty()) else {
                return error(
                    400,
                    json!({"message": "Property 'text' is required", "type": "BadRequest"}),
                );
            };
            let id = s.next_response;
            s.next_response += 1;
            let t = &mut s.tasks[i];
            let response = json!({"@id": format!("{base}{}/@responses/{id}", t.path),
                "added_objects": [], "changes": [], "created": now_naive(),
                "creator": {"title": "Lin Amy", "token": user}, "mimetype": "", "modified": null,
                "modifier": null, "related_items": [], "rendered_text": "", "response_id": id,
                "response_type": "comment", "successor_oguid": "", "text": text,
                "transition": "task-commented"});
            t.responses.push(response.clone());
            t.modified = now_naive();
            (StatusCode::CREATED, axum::Json(response)).into_response()
        }
        (m, r) if r.starts_with("/@responses/") && (m == Method::PATCH || m == Method::DELETE) => {
            let id: i64 = r["/@responses/".len()..].parse().unwrap_or(-1);
            let Some(pos) = t
                .responses
                .iter()
                .position(|x| x["response_id"] == json!(id))
            else {
                return not_found(&format!("{base}{path}"));
            };
            if t.responses[pos]["response_type"] != "comment" {
                return error(
                    400,
                    json!({"type": "BadRequest", "message": "only_comment_type_can_be_edited",
                    "translated_message": "Only responses of type \"Comment\" can be edited.", "additional_metadata": {}}),
                );
            }
            if m == Method::PATCH {
                t.responses[pos]["text"] = body["text"].clone();
                t.responses[pos]["modified"] = json!(now_naive());
            } else {
                let removed = t.responses.remove(pos);
                t.responses.push(
                    json!({"response_id": id + 1_000_000, "response_type": "comment_removed",
                    "creator": user, "created": now_naive(), "text": "", "transition": "",
                    "additional_data": {"deleted_response_creation_date": removed["created"]}}),
                );
            }
            StatusCode::NO_CONTENT.into_response()
        }
        (Method::POST, "/@transfer-task") => {
            if user != "root" {
                return unauthorized();
            }
            if body["old_userid"] == t.responsible.as_str() {
                t.responsible = body["new_userid"].as_str().unwrap().into();
            }
            t.responses.push(
                json!({"response_id": 7, "response_type": "default", "creator": user,
                "created": now_naive(), "text": "", "transition": "task-transition-reassign"}),
            );
            StatusCode::NO_CONTENT.into_response()
        }
        _ => not_found(&format!("{base}{path}")),
    }
}

/// `GET <task>/@workflow`, also the `workflow` component of an expansion.
fn workflow(base: &str, t: &GTask) -> Value {
    let links: Vec<Value> = transitions(&t.state)
        .iter()
        .map(|id| json!({"@id": format!("{base}{}/@workflow/{id}", t.path), "title": id}))
        .collect();
    json!({"@id": format!("{base}{}/@workflow", t.path),
        "history": [{"action": null, "actor": "robert.ziegler", "comments": "",
            "review_state": t.state, "time": "2026-11-01T08:00:00+00:00", "title": "Offen"}],
        "transitions": links})
}

fn create(s: &mut Stub, container: &str, body: Value) -> Response {
    s.created.push(body.clone());
    let n = s.tasks.len() as i64 + 1;
    let mut t = task(
        n,
        if container.contains("task-") {
            "task-state-planned"
        } else {
            "task-state-open"
        },
        body["responsible"].as_str().unwrap(),
        &now_naive(),
    );
    t.path = format!("{container}/task-{n}");
    t.title = body["title"].as_str().unwrap().into();
    t.created = now_naive();
    let response = representation(&s.base, &t);
    s.tasks.push(t);
    let mut r = (StatusCode::CREATED, axum::Json(response)).into_response();
    r.headers_mut().insert(
        "location",
        format!("{}/fd/dossier-1", s.base).parse().unwrap(),
    );
    r
}

fn globalindex(s: &mut Stub, uri: &Uri) -> Response {
    let query: HashMap<String, String> =
        url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    s.index_queries.push(query.clone());
    let mut items: Vec<&GTask> = s.tasks.iter().collect();
    for (k, v) in &query {
        let Some(col) = k
            .strip_prefix("filters.")
            .and_then(|k| k.strip_suffix(":record"))
        else {
            continue;
        };
        items.retain(|t| match col {
            "responsible" => t.responsible == *v,
            "admin_unit_id" => v == "fd",
            "int_id" => t.int_id.to_string() == *v,
            "issuer" => v == "amy" || v == "robert.ziegler",
            _ => true,
        });
    }
    items.sort_by(|a, b| b.modified.cmp(&a.modified).then(b.int_id.cmp(&a.int_id)));
    let start: usize = query
        .get("b_start")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let size: usize = query
        .get("b_size")
        .and_then(|v| v.parse().ok())
        .unwrap_or(25)
        .min(s.max_batch.unwrap_or(usize::MAX));
    let total = items.len();
    let page: Vec<Value> = items
        .iter()
        .skip(start)
        .take(size)
        .map(|t| index_item(&s.base, t))
        .collect();
    let mut answer = json!({"@id": format!("{}/fd/@globalindex", s.base), "items": page,
        "items_total": total, "b_start": start, "b_size": size, "facets": {}});
    if total > size {
        let link = |b: usize| format!("{}/fd/@globalindex?b_size={size}&b_start={b}", s.base);
        let mut batching =
            json!({"@id": link(start), "first": link(0), "last": link((total - 1) / size * size)});
        if start + size < total {
            batching["next"] = json!(link(start + size));
        }
        if start > 0 {
            batching["prev"] = json!(link(start.saturating_sub(size)));
        }
        answer["batching"] = batching;
    }
    axum::Json(answer).into_response()
}

async fn start_as(
    stub: &Shared,
    user: &str,
    settings: AccountSettings,
) -> (TestServer, GeverClient) {
    let app = Router::new().fallback(gever).with_state(stub.clone());
    let server = TestServer::start(app).await;
    stub.lock().unwrap().base = server.url("");
    let client =
        GeverClient::new(config(&server.url("/fd"), user, "pw").with_settings(settings)).unwrap();
    (server, client)
}

async fn start(stub: &Shared) -> (TestServer, GeverClient) {
    start_as(stub, "amy", AccountSettings::default()).await
}

fn three_tasks() -> Vec<GTask> {
    let mut forwarding = task(3, "forwarding-state-open", "amy", "2026-11-20T12:00:00");
    forwarding.portal_type = "opengever.inbox.forwarding";
    vec![
        task(1, "task-state-open", "amy", "2026-11-20T10:00:00"),
        task(2, "task-state-in-progress", "amy", "2026-11-20T11:00:00"),
        forwarding,
        task(4, "task-state-open", "someone.else", "2026-11-20T13:00:00"),
    ]
}

#[tokio::test]
async fn a_full_listing_pages_through_the_users_tasks_newest_first() {
    let stub = stub(three_tasks());
    let (_server, client) = start(&stub).await;
    let first = client.list_page(&ListMode::Full, None).await.unwrap();
    assert_eq!(first.total, Some(3));
    assert!(first.watermark.is_none());
    let second = client
        .list_page(&ListMode::Full, first.next.as_deref())
        .await
        .unwrap();
    assert_eq!(second.next, None);
    let keys: Vec<_> = first
        .tasks
        .iter()
        .chain(&second.tasks)
        .map(|t| t.key.as_str())
        .collect();
    assert_eq!(keys, ["fd:1003", "fd:1002", "fd:1001"]);
    let states: Vec<_> = first
        .tasks
        .iter()
        .chain(&second.tasks)
        .map(|t| t.state)
        .collect();
    assert_eq!(
        states,
        [TaskState::Open, TaskState::InProgress, TaskState::Open]
    );
    // 12:00 naive, Zurich winter time.
    assert_eq!(second.watermark.as_deref(), Some("2026-11-20T11:00:00Z"));
    let q = &stub.lock().unwrap().index_queries[1];
    assert_eq!(q["filters.responsible:record"], "amy");
    assert_eq!(
        (q["sort_on"].as_str(), q["sort_order"].as_str()),
        ("modified", "descending")
    );
    assert_eq!(q["b_start"], "2");
}

/// How many `@globalindex` pages the stub answered, once the requests in
/// flight have had time to arrive.
async fn index_pages_asked(stub: &Shared) -> Vec<String> {
    tokio::time::sleep(Duration::from_millis(200)).await;
    stub.lock()
        .unwrap()
        .index_queries
        .iter()
        .map(|q| q.get("b_start").cloned().unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn a_whole_listing_asks_for_the_next_page_while_this_one_is_merged_and_for_none_twice() {
    let stub = stub(three_tasks());
    let (_server, client) = start(&stub).await;
    let first = client.list_page(&ListMode::Full, None).await.unwrap();
    // The second page was asked for before the caller asks for it ...
    assert_eq!(index_pages_asked(&stub).await, ["0", "2"]);
    let second = client
        .list_page(&ListMode::Full, first.next.as_deref())
        .await
        .unwrap();
    // ... and its answer is the one used: nothing asked again, nothing
    // asked after the last page.
    assert_eq!(second.tasks.len(), 1);
    assert_eq!(second.next, None);
    assert_eq!(index_pages_asked(&stub).await, ["0", "2"]);

    // A listing that starts over does not get the old answer: asked again.
    let again = client.list_page(&ListMode::Full, None).await.unwrap();
    assert_eq!(again.tasks.len(), 2);
    assert_eq!(index_pages_asked(&stub).await, ["0", "2", "0", "2"]);
    let key_of = |page: &tasklane_core::remote::ListPage| {
        page.tasks.iter().map(|t| t.key.clone()).collect::<Vec<_>>()
    };
    assert_eq!(key_of(&again), key_of(&first));
    // Nor, starting over while the second page waits read ahead, that page.
    let over = client.list_page(&ListMode::Full, None).await.unwrap();
    assert_eq!(key_of(&over), key_of(&first));
    assert_eq!(
        index_pages_asked(&stub).await,
        ["0", "2", "0", "2", "0", "2"]
    );

    // An incremental listing usually ends on its first page: no reading
    // ahead there.
    stub.lock().unwrap().index_queries.clear();
    client
        .list_page(&ListMode::Since("2026-11-20T09:00:00Z".into()), None)
        .await
        .unwrap();
    assert_eq!(index_pages_asked(&stub).await, ["0"]);
}

/// `n` (at most 9) open tasks of amy's, changed an hour apart.
fn open_tasks_of_amy(n: i64) -> Vec<GTask> {
    (1..=n)
        .map(|n| {
            task(
                n,
                "task-state-open",
                "amy",
                &format!("2026-11-20T1{n}:00:00"),
            )
        })
        .collect()
}

/// The `b_start`s asked for so far, sorted: pages read ahead travel at
/// once and arrive in any order.
async fn pages_asked_sorted(stub: &Shared) -> Vec<String> {
    let mut asked = index_pages_asked(stub).await;
    asked.sort();
    asked
}

/// Lists the pages after `first` to the end; returns how many tasks all
/// of them held.
async fn list_rest(client: &GeverClient, first: ListPage) -> usize {
    let mut listed = first.tasks.len();
    let mut next = first.next;
    while let Some(cursor) = next {
        let page = client
            .list_page(&ListMode::Full, Some(&cursor))
            .await
            .unwrap();
        listed += page.tasks.len();
        next = page.next;
    }
    listed
}

#[tokio::test]
async fn two_pages_travel_ahead_and_none_past_the_total() {
    // Seven tasks of amy's, two to a page: pages at 0, 2, 4 and 6.
    let stub = stub(open_tasks_of_amy(7));
    let (_server, client) = start(&stub).await;
    let first = client.list_page(&ListMode::Full, None).await.unwrap();
    assert_eq!(
        pages_asked_sorted(&stub).await,
        ["0", "2", "4"],
        "the next two pages asked for ahead"
    );
    assert_eq!(list_rest(&client, first).await, 7);
    // Each page once; the total is known, so nothing past it.
    assert_eq!(pages_asked_sorted(&stub).await, ["0", "2", "4", "6"]);
}

#[tokio::test]
async fn pages_read_ahead_start_where_a_server_that_pages_in_fewer_puts_them() {
    let stub = stub(open_tasks_of_amy(5));
    // Asked for two at a time, the server answers one.
    stub.lock().unwrap().max_batch = Some(1);
    let (_server, client) = start(&stub).await;
    let first = client.list_page(&ListMode::Full, None).await.unwrap();
    assert_eq!(list_rest(&client, first).await, 5);
    // Every page read ahead was one the listing then claimed: each start
    // asked for once, none between or past them.
    assert_eq!(pages_asked_sorted(&stub).await, ["0", "1", "2", "3", "4"]);
}

#[tokio::test]
async fn an_incremental_listing_stops_at_the_watermark_less_a_margin() {
    let stub = stub(three_tasks());
    let (_server, client) = start(&stub).await;
    // 11:30 Zurich; the 11:00 task is older than the 10-minute margin.
    let page = client
        .list_page(&ListMode::Since("2026-11-20T10:30:00Z".into()), None)
        .await
        .unwrap();
    assert_eq!(
        page.tasks
            .iter()
            .map(|t| t.key.as_str())
            .collect::<Vec<_>>(),
        ["fd:1003"]
    );
    assert_eq!(page.next, None);
    assert_eq!(page.watermark.as_deref(), Some("2026-11-20T11:00:00Z"));
}

#[tokio::test]
async fn fetch_reads_comments_history_and_the_transitions_offered_now() {
    let mut tasks = three_tasks();
    tasks[0].responses = vec![
        json!({"response_id": 1, "response_type": "comment", "creator": "robert.ziegler",
            "created": "2026-11-02T09:00:00", "text": "Bitte rasch.", "transition": "task-commented",
            "changes": [], "added_objects": [], "related_items": [], "date_of_completion": null, "modified": null, "modifier": null}),
        json!({"response_id": 2, "response_type": "default", "creator": "robert.ziegler",
            "created": "2026-11-02T09:05:00+00:00", "text": "", "transition": "task-transition-modify-deadline",
            "changes": [{"field_id": "deadline", "before": "2026-11-20", "after": "2026-11-30"}]}),
    ];
    let stub = stub(tasks);
    let (_server, client) = start(&stub).await;
    let task = client.fetch("fd:1001").await.unwrap().unwrap();
    assert_eq!(task.status_text, "Offen");
    assert_eq!(task.assignee.as_deref(), Some("amy"));
    assert_eq!(task.kind.as_deref(), Some("Zur direkten Erledigung"));
    assert_eq!(task.process.as_deref(), Some("Ein Dossier mit Tasks"));
    let comments = task.comments.as_ref().unwrap();
    assert_eq!(comments.len(), 1);
    assert_eq!(
        format_ts(comments[0].created.unwrap()),
        "2026-11-02T08:00:00Z"
    );
    assert_eq!(task.history.as_ref().unwrap().len(), 2);
    let actions = task.actions.as_ref().unwrap();
    let find = |id: &str| actions.iter().find(|a| a.id == id).unwrap();
    let deadline = find("task-transition-modify-deadline");
    assert!(
        deadline
            .params
            .iter()
            .any(|p| p.name == "new_deadline" && p.required && p.sets == Some(TaskField::Deadline))
    );
    let reassign = find("task-transition-reassign");
    assert!(
        reassign
            .params
            .iter()
            .any(|p| p.name == "responsible" && p.sets == Some(TaskField::Assignee))
    );
    assert_eq!(
        find("task-transition-open-in-progress").to_state,
        Some(TaskState::InProgress)
    );
    let unknown = find("task-transition-open-escalate");
    assert!(
        unknown
            .params
            .iter()
            .any(|p| p.name == "reason" && p.required && p.label == "Grund")
    );
    assert!(
        !actions.iter().any(|a| a.id == "@transfer-task"),
        "amy is no administrator"
    );
}

#[tokio::test]
async fn the_workflow_comes_embedded_where_the_server_expands_it_and_is_asked_for_otherwise() {
    let stub = stub(three_tasks());
    let (_server, client) = start(&stub).await;
    let asked = client.fetch("fd:1001").await.unwrap().unwrap();
    assert_eq!(stub.lock().unwrap().workflow_reads, 1);

    stub.lock().unwrap().expands_workflow = true;
    let embedded = client.fetch("fd:1001").await.unwrap().unwrap();
    assert_eq!(
        stub.lock().unwrap().workflow_reads,
        1,
        "the embedded component was used"
    );
    assert_eq!(embedded.actions, asked.actions);
    assert_eq!(embedded.history, asked.history);
    assert!(
        embedded
            .payload
            .parse::<serde_json::Value>()
            .unwrap()
            .get("@components")
            .is_none(),
        "the component does not travel on in the payload"
    );
}

#[tokio::test]
async fn a_task_is_found_by_oguid_without_a_listing_and_an_invisible_one_is_none() {
    let stub = stub(three_tasks());
    let (_server, client) = start(&stub).await;
    assert_eq!(
        client.fetch("fd:1002").await.unwrap().unwrap().title,
        "Aufgabe 2"
    );
    let lookup = stub.lock().unwrap().index_queries[0].clone();
    assert_eq!(lookup["filters.int_id:record"], "1002");
    assert_eq!(lookup["filters.admin_unit_id:record"], "fd");
    assert!(
        client.fetch("fd:1004").await.unwrap().is_none(),
        "not amy's: 401 on GET"
    );
    assert!(client.fetch("fd:9999").await.unwrap().is_none());
    assert_eq!(
        client.fetch("no-oguid").await.unwrap_err().kind,
        RemoteErrorKind::Permanent
    );
}

#[tokio::test]
async fn a_transition_is_posted_with_its_parameters_and_recognised_afterwards() {
    let stub = stub(three_tasks());
    let (_server, client) = start(&stub).await;
    let task = client.fetch("fd:1001").await.unwrap().unwrap();
    let change = op(
        OpRequest::Transition {
            transition: "task-transition-modify-deadline".into(),
            text: Some("Mehr Zeit".into()),
            params: obj(json!({"new_deadline": "2026-12-15"})),
        },
        Some(&task.key),
    );
    assert_eq!(
        client.applied(&change, Some(&task)).await.unwrap(),
        Applied::No
    );
    let outcome = client.execute(&change, Some(&task)).await.unwrap();
    assert_eq!(outcome.result["action"], "task-transition-modify-deadline");
    {
        let s = stub.lock().unwrap();
        let (method, path, body) = s.writes.last().unwrap();
        assert_eq!(
            (method.as_str(), path.as_str()),
            (
                "POST",
                "/fd/dossier-1/task-1/@workflow/task-transition-modify-deadline"
            )
        );
        assert_eq!(
            body,
            &json!({"text": "Mehr Zeit", "new_deadline": "2026-12-15"})
        );
        assert_eq!(s.idempotency_keys, [change.op_id.to_string()]);
    }
    let after = client.fetch("fd:1001").await.unwrap().unwrap();
    assert_eq!(after.deadline.unwrap().to_text(), "2026-12-15");
    assert!(matches!(
        client.applied(&change, Some(&after)).await.unwrap(),
        Applied::Yes(_)
    ));
    assert!(matches!(
        client.applied(&change, None).await.unwrap(),
        Applied::Yes(_)
    ));
}

#[tokio::test]
async fn refused_transitions_carry_the_servers_message_in_either_error_shape() {
    let stub = stub(three_tasks());
    let (_server, client) = start(&stub).await;
    let task = client.fetch("fd:1001").await.unwrap().unwrap();
    for (transition, params, text) in [
        (
            "task-transition-resolved-in-progress",
            json!({}),
            "Invalid transition 'task-transition-resolved-in-progress'",
        ),
        (
            "task-transition-modify-deadline",
            json!({}),
            "new_deadline: Required input is missing.",
        ),
        (
            "task-transition-modify-deadline",
            json!({"new_deadline": "2026-11-30"}),
            "The entered deadline is the same as the current one.",
        ),
    ] {
        let request = OpRequest::Transition {
            transition: transition.into(),
            text: None,
            params: obj(params),
        };
        let err = client
            .execute(&op(request, Some(&task.key)), Some(&task))
            .await
            .unwrap_err();
        assert_eq!(err.kind, RemoteErrorKind::Permanent, "{transition}");
        assert_eq!(err.status, Some(400));
        assert!(err.message.contains(text), "{}", err.message);
    }
}

#[tokio::test]
async fn comments_are_added_edited_and_deleted_through_responses() {
    let stub = stub(three_tasks());
    let (_server, client) = start(&stub).await;
    let task = client.fetch("fd:1001").await.unwrap().unwrap();
    let add = op(
        OpRequest::CommentAdd {
            text: "Bitte rasch anschauen. Danke.".into(),
        },
        Some(&task.key),
    );
    assert_eq!(
        client.applied(&add, Some(&task)).await.unwrap(),
        Applied::No
    );
    let added = client.execute(&add, Some(&task)).await.unwrap();
    let id = added.result["response_id"].to_string();
    assert!(matches!(
        client.applied(&add, None).await.unwrap(),
        Applied::Yes(_)
    ));

    let edit = op(
        OpRequest::CommentEdit {
            comment: id.clone(),
            text: "Hat sich erledigt.".into(),
        },
        Some(&task.key),
    );
    assert_eq!(client.applied(&edit, None).await.unwrap(), Applied::No);
    client.execute(&edit, None).await.unwrap();
    let after = client.fetch("fd:1001").await.unwrap().unwrap();
    assert_eq!(
        after.comments.as_ref().unwrap()[0].text,
        "Hat sich erledigt."
    );
    assert!(matches!(
        client.applied(&edit, Some(&after)).await.unwrap(),
        Applied::Yes(_)
    ));

    let delete = op(
        OpRequest::CommentDelete {
            comment: id.clone(),
        },
        Some(&task.key),
    );
    client.execute(&delete, None).await.unwrap();
    let gone = client.fetch("fd:1001").await.unwrap().unwrap();
    assert!(gone.comments.as_ref().unwrap().is_empty());
    assert!(
        gone.history
            .as_ref()
            .unwrap()
            .iter()
            .any(|h| h.action == "comment_removed")
    );
    assert!(matches!(
        client.applied(&delete, Some(&gone)).await.unwrap(),
        Applied::Yes(_)
    ));

    let missing = op(
        OpRequest::CommentEdit {
            comment: "12345".into(),
            text: "x".into(),
        },
        Some(&task.key),
    );
    let err = client.execute(&missing, None).await.unwrap_err();
    assert_eq!(
        (err.kind, err.status),
        (RemoteErrorKind::Permanent, Some(404))
    );
}

#[tokio::test]
async fn a_missing_permission_is_permanent_while_the_credentials_still_work() {
    let stub = stub(three_tasks());
    let (_server, client) = start(&stub).await;
    let transfer = OpRequest::Transition {
        transition: "@transfer-task".into(),
        text: None,
        params: obj(json!({"old_userid": "amy", "new_userid": "robert.ziegler"})),
    };
    let task = client.fetch("fd:1001").await.unwrap().unwrap();
    let err = client
        .execute(&op(transfer.clone(), Some(&task.key)), Some(&task))
        .await
        .unwrap_err();
    assert_eq!(
        (err.kind, err.status),
        (RemoteErrorKind::Permanent, Some(401))
    );

    let (_server2, admin) = start_as(&stub, "root", AccountSettings::default()).await;
    let seen = admin.fetch("fd:1001").await.unwrap().unwrap();
    assert!(
        seen.actions
            .as_ref()
            .unwrap()
            .iter()
            .any(|a| a.id == "@transfer-task")
    );
    let done = op(transfer, Some(&seen.key));
    admin.execute(&done, Some(&seen)).await.unwrap();
    assert_eq!(stub.lock().unwrap().tasks[0].responsible, "robert.ziegler");
    assert!(matches!(
        admin.applied(&done, None).await.unwrap(),
        Applied::Yes(_)
    ));
}

#[tokio::test]
async fn new_tasks_and_subtasks_at_a_position_are_created_and_keyed_by_oguid() {
    let stub = stub(three_tasks());
    let (_server, client) = start(&stub).await;
    let new = |parent: Option<&str>, position: Option<i64>| NewTask {
        title: "Bitte Dokument reviewen".into(),
        description: String::new(),
        kind: Some("direct-execution".into()),
        assignee: Some("fd:amy".into()),
        group: None,
        issuer: None,
        deadline: Some("2026-12-01".parse().unwrap()),
        parent_key: parent.map(str::to_string),
        position,
        process: Some("dossier-1".into()),
        fields: Vec::new(),
    };
    let create = op(OpRequest::CreateTask(new(None, None)), None);
    assert_eq!(client.applied(&create, None).await.unwrap(), Applied::No);
    let top = client.execute(&create, None).await.unwrap();
    assert_eq!(top.key.as_deref(), Some("fd:1005"));
    let subtask = NewTask {
        title: "Teilaufgabe".into(),
        ..new(Some("fd:1001"), Some(2))
    };
    let sub = client
        .execute(&op(OpRequest::CreateTask(subtask), None), None)
        .await
        .unwrap();
    assert_eq!(sub.key.as_deref(), Some("fd:1006"));
    {
        let s = stub.lock().unwrap();
        assert_eq!(
            s.created[0],
            json!({"@type": "opengever.task.task", "title": "Bitte Dokument reviewen",
        "responsible": "fd:amy", "issuer": "amy", "task_type": "direct-execution", "deadline": "2026-12-01"})
        );
        assert_eq!(s.created[1]["position"], json!(2));
        assert!(s.tasks[5].path.starts_with("/fd/dossier-1/task-1/"));
    }
    assert!(
        matches!(client.applied(&create, None).await.unwrap(), Applied::Yes(o) if o.key.as_deref() == Some("fd:1005"))
    );
}

#[tokio::test]
async fn a_jwt_is_renewed_once_when_it_expires_and_wrong_credentials_are_auth_errors() {
    let stub = stub(three_tasks());
    let jwt = AccountSettings {
        auth: Some("jwt".into()),
        ..AccountSettings::default()
    };
    let (server, client) = start_as(&stub, "amy", jwt.clone()).await;
    client.list_page(&ListMode::Full, None).await.unwrap();
    stub.lock().unwrap().jwt_tokens.clear(); // expired
    assert_eq!(
        client.list_page(&ListMode::Full, None).await.unwrap().total,
        Some(3)
    );
    assert_eq!(stub.lock().unwrap().tokens_issued, 2);

    let wrong =
        GeverClient::new(config(&server.url("/fd"), "amy", "nope").with_settings(jwt)).unwrap();
    let err = wrong.list_page(&ListMode::Full, None).await.unwrap_err();
    assert_eq!(err.kind, RemoteErrorKind::Auth);
    assert!(
        err.message.contains("Wrong login and/or password."),
        "{}",
        err.message
    );
    let basic = GeverClient::new(config(&server.url("/fd"), "amy", "nope")).unwrap();
    assert_eq!(
        basic.fetch("fd:1001").await.unwrap_err().kind,
        RemoteErrorKind::Auth
    );
}

#[tokio::test]
async fn failures_are_classified_by_what_the_server_may_have_done() {
    let stub = stub(three_tasks());
    let (server, client) = start(&stub).await;
    let task = client.fetch("fd:1001").await.unwrap().unwrap();
    let comment = op(OpRequest::CommentAdd { text: "x".into() }, Some(&task.key));

    stub.lock().unwrap().fail_next = Some((503, Some("30"), "maintenance"));
    let err = client.fetch("fd:1001").await.unwrap_err();
    assert_eq!(
        err.kind,
        RemoteErrorKind::Transient {
            retry_after: Some(Duration::from_secs(30))
        }
    );
    stub.lock().unwrap().fail_next = Some((429, Some("5"), "slow down"));
    assert_eq!(
        client
            .execute(&comment, Some(&task))
            .await
            .unwrap_err()
            .kind,
        RemoteErrorKind::Transient {
            retry_after: Some(Duration::from_secs(5))
        }
    );
    stub.lock().unwrap().fail_next = Some((200, None, "{\"@id\": "));
    assert_eq!(
        client.fetch("fd:1001").await.unwrap_err().kind,
        RemoteErrorKind::Protocol
    );

    let quick = |server: &TestServer| {
        let mut c = config(&server.url("/fd"), "amy", "pw");
        c.limits = Limits {
            request_timeout: Duration::from_millis(300),
            ..c.limits.clone()
        };
        GeverClient::new(c).unwrap()
    };
    let impatient = quick(&server);
    stub.lock().unwrap().slow_writes = Some(Duration::from_secs(2));
    let err = impatient.execute(&comment, Some(&task)).await.unwrap_err();
    assert_eq!(err.kind, RemoteErrorKind::Uncertain, "{}", err.message);
    stub.lock().unwrap().slow_writes = None;

    let tiny = {
        let mut c = config(&server.url("/fd"), "amy", "pw");
        c.limits.max_response_bytes = 64;
        GeverClient::new(c).unwrap()
    };
    let err = tiny.list_page(&ListMode::Full, None).await.unwrap_err();
    assert_eq!(err.kind, RemoteErrorKind::Protocol);
    assert!(
        err.message.contains("larger than 64 bytes"),
        "{}",
        err.message
    );

    let port = common::closed_port().await;
    let offline =
        GeverClient::new(config(&format!("http://127.0.0.1:{port}/fd"), "amy", "pw")).unwrap();
    assert_eq!(
        offline
            .list_page(&ListMode::Full, None)
            .await
            .unwrap_err()
            .kind,
        RemoteErrorKind::Offline
    );

    let truncated = common::raw_server(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"@id\": \"x\", \"current_user\"",
    )
    .await;
    let cut = GeverClient::new(config(&format!("http://{truncated}/fd"), "amy", "pw")).unwrap();
    let err = cut.list_page(&ListMode::Full, None).await.unwrap_err();
    assert_eq!(err.kind, RemoteErrorKind::Protocol, "{}", err.message);
}

// ---- the sync issue's scenarios, against this stub ---------------------------

/// The writes the stub received to `path_end`, with `text` if given.
fn writes_to(stub: &Shared, path_end: &str, text: Option<&str>) -> usize {
    stub.lock()
        .unwrap()
        .writes
        .iter()
        .filter(|(m, p, b)| {
            m == "POST" && p.ends_with(path_end) && text.is_none_or(|t| b["text"] == t)
        })
        .count()
}

#[tokio::test]
async fn sync_actions_queued_offline_reach_the_server_once() {
    let stub = stub(three_tasks());
    let (_server, client) = start(&stub).await;
    let mut device = Device::new(AccountKind::Gever, "amy");
    let first = device.sync(&client).await;
    assert!(first.pulled >= 3, "{first:?}");
    let comment = device.queue(
        Some(device.task("fd:1001")),
        OpRequest::CommentAdd {
            text: "Rückfrage gestellt".into(),
        },
    );
    let close = device.queue(
        Some(device.task("fd:1002")),
        OpRequest::Transition {
            transition: "task-transition-in-progress-tested-and-closed".into(),
            text: Some("Erledigt".into()),
            params: Default::default(),
        },
    );
    device.sync(&client).await;
    assert_eq!(device.op(&comment).0, OpState::Done);
    assert_eq!(device.op(&close).0, OpState::Done);
    assert_eq!(
        writes_to(&stub, "/@responses", Some("Rückfrage gestellt")),
        1
    );
    assert_eq!(
        writes_to(
            &stub,
            "/@workflow/task-transition-in-progress-tested-and-closed",
            None
        ),
        1
    );
    assert_eq!(
        stub.lock().unwrap().tasks[1].state,
        "task-state-tested-and-closed"
    );
    // Nothing is sent twice.
    let again = device.sync(&client).await;
    assert_eq!(again.applied, 0, "{again:?}");
    assert_eq!(stub.lock().unwrap().writes.len(), 2);
}

#[tokio::test]
async fn sync_two_devices_accept_the_same_task_and_the_second_sees_a_conflict() {
    let stub = stub(three_tasks());
    let (_server, client) = start(&stub).await;
    let mut laptop = Device::new(AccountKind::Gever, "amy");
    let mut phone = Device::new(AccountKind::Gever, "amy");
    laptop.sync(&client).await;
    phone.sync(&client).await;
    let accept = || OpRequest::Transition {
        transition: "task-transition-open-in-progress".into(),
        text: None,
        params: Default::default(),
    };
    let won = laptop.queue(Some(laptop.task("fd:1001")), accept());
    let lost = phone.queue(Some(phone.task("fd:1001")), accept());
    laptop.sync(&client).await;
    phone.sync(&client).await;
    assert_eq!(laptop.op(&won).0, OpState::Done);
    let (state, reason) = phone.op(&lost);
    assert_eq!(state, OpState::Conflict);
    assert!(reason.unwrap().contains("no longer offered"));
    assert_eq!(
        writes_to(&stub, "/@workflow/task-transition-open-in-progress", None),
        1
    );
}

#[tokio::test]
async fn sync_a_comment_edited_on_the_server_first_is_not_overwritten() {
    let stub = stub(three_tasks());
    let (_server, client) = start(&stub).await;
    let mut device = Device::new(AccountKind::Gever, "amy");
    device.sync(&client).await;
    let task = device.task("fd:1001");
    device.queue(
        Some(task),
        OpRequest::CommentAdd {
            text: "Entwurf".into(),
        },
    );
    device.sync(&client).await;
    let comment = tasklane_core::replica::tasks::comments(device.replica.conn(), task)
        .unwrap()
        .into_iter()
        .find(|c| c.text == "Entwurf")
        .expect("the comment with its server id")
        .remote_id;
    // Someone changes it on the server; then the user edits what they saw.
    {
        let mut s = stub.lock().unwrap();
        let r = s.tasks[0]
            .responses
            .iter_mut()
            .find(|r| r["text"] == "Entwurf")
            .unwrap();
        r["text"] = json!("Vom Sekretariat ergänzt");
    }
    let edit = device.queue(
        Some(task),
        OpRequest::CommentEdit {
            comment,
            text: "Meine Fassung".into(),
        },
    );
    device.sync(&client).await;
    let (state, reason) = device.op(&edit);
    assert_eq!(state, OpState::Conflict, "{reason:?}");
    let s = stub.lock().unwrap();
    assert!(
        s.tasks[0]
            .responses
            .iter()
            .any(|r| r["text"] == "Vom Sekretariat ergänzt")
    );
    assert!(!s.writes.iter().any(|(m, _, _)| m == "PATCH"));
}

#[tokio::test]
async fn sync_an_expired_jwt_is_renewed_mid_sync_and_nothing_is_sent_twice() {
    let stub = stub(three_tasks());
    let settings = AccountSettings {
        auth: Some("jwt".into()),
        ..AccountSettings::default()
    };
    let (_server, client) = start_as(&stub, "amy", settings).await;
    let mut device = Device::new(AccountKind::Gever, "amy");
    device.sync(&client).await;
    let op = device.queue(
        Some(device.task("fd:1002")),
        OpRequest::CommentAdd {
            text: "nach Ablauf".into(),
        },
    );
    stub.lock().unwrap().jwt_tokens.clear(); // the token expired
    device.sync(&client).await;
    assert_eq!(device.op(&op).0, OpState::Done);
    assert_eq!(stub.lock().unwrap().tokens_issued, 2);
    assert_eq!(writes_to(&stub, "/@responses", Some("nach Ablauf")), 1);
}

#[tokio::test]
async fn sync_a_poison_op_fails_alone_with_the_servers_message() {
    let stub = stub(three_tasks());
    let (_server, client) = start(&stub).await;
    let mut device = Device::new(AccountKind::Gever, "amy");
    device.sync(&client).await;
    let (one, two) = (device.task("fd:1001"), device.task("fd:1002"));
    // The same deadline again: refused for good by the server.
    let poison = device.queue(
        Some(one),
        OpRequest::Transition {
            transition: "task-transition-modify-deadline".into(),
            text: None,
            params: obj(json!({"new_deadline": "2026-11-30"})),
        },
    );
    let behind = device.queue(
        Some(one),
        OpRequest::CommentAdd {
            text: "hinter dem Fehler".into(),
        },
    );
    let other = device.queue(
        Some(two),
        OpRequest::CommentAdd {
            text: "anderer Auftrag".into(),
        },
    );
    device.sync(&client).await;
    let (state, reason) = device.op(&poison);
    assert_eq!(state, OpState::Failed);
    assert!(reason.unwrap().contains("same as the current one"));
    assert_eq!(device.op(&behind).0, OpState::Pending);
    assert_eq!(device.op(&other).0, OpState::Done);
    assert_eq!(writes_to(&stub, "/@responses", Some("anderer Auftrag")), 1);
    assert_eq!(
        writes_to(&stub, "/@responses", Some("hinter dem Fehler")),
        0
    );
}

#[tokio::test]
async fn an_inbox_the_user_works_from_is_listed_after_their_own_tasks() {
    let mut tasks = three_tasks();
    tasks.push(task(
        5,
        "task-state-open",
        "inbox:fd",
        "2026-11-20T09:00:00",
    ));
    let stub = stub(tasks);
    let settings = AccountSettings {
        inboxes: vec!["fd".into()],
        ..AccountSettings::default()
    };
    let (_server, client) = start_as(&stub, "amy", settings).await;
    for mode in [
        ListMode::Full,
        ListMode::Since("2026-11-20T07:00:00Z".into()),
    ] {
        let mut cursor = None;
        let mut keys = Vec::new();
        let watermark = loop {
            let page = client.list_page(&mode, cursor.as_deref()).await.unwrap();
            assert_eq!(page.total, None, "two parts: no single total");
            keys.extend(page.tasks.iter().map(|t| t.key.clone()));
            if page.next.is_none() {
                break page.watermark;
            }
            assert!(page.watermark.is_none(), "watermark before the last page");
            cursor = page.next;
        };
        assert_eq!(
            keys,
            ["fd:1003", "fd:1002", "fd:1001", "fd:1005"],
            "{mode:?}"
        );
        assert!(watermark.is_some());
    }
    let asked: Vec<String> = stub
        .lock()
        .unwrap()
        .index_queries
        .iter()
        .filter_map(|q| q.get("filters.responsible:record").cloned())
        .collect();
    assert!(asked.contains(&"inbox:fd".to_string()), "{asked:?}");
}

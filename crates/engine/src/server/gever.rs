//! The OneGov GEVER dialect below the site root
//! (`../shared/reference/gever/NOTES.md`, seed `gever-task-api.de.txt`).
//!
//! Objects are addressed by path — `<root>/<dossier path>/task-<id>[/task-<id>…]`
//! — followed by `@`-endpoints. Authentication is HTTP basic or a Bearer
//! token from `POST @login`; missing rights answer 401, as GEVER does.
//! Errors come in GEVER's two shapes: `{"error": {"type", "message"}}` from
//! `@workflow` and `@login`, `{"type", "message"[, "translated_message",
//! "additional_metadata"]}` from everything else.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::routing::{any, get, post};
use rusqlite::Connection;
use rusqlite::types::Value as SqlValue;
use serde_json::{Map, Value, json};
use tasklane_dialects::gever::wire::{
    Batching, Choice, GlobalIndex, GlobalIndexItem, Response as WireResponse, Summary,
    Task as WireTask, Text, TokenOrChoice, TransitionLink, WorkflowInfo,
};
use tasklane_dialects::servertime::ServerTime;

use super::{
    Answer, AppState, auth, base_url, blocking, fingerprint, idempotency_key, mutate, times,
};
use crate::dossiers::{self, Dossier};
use crate::engine::{CreateTask, create_task};
use crate::error::{EngineError, Result};
use crate::model::{Task, TaskState};
use crate::responses::{self, Entry};
use crate::tasks;
use crate::users::{self, Principal};
use crate::workflow;

type St = Arc<AppState>;

pub fn routes() -> Router<St> {
    Router::new()
        .route("/@login", post(login))
        .route("/@login-renew", post(login_renew))
        .route("/@logout", post(logout))
        .route("/@config", get(config))
        .route("/@globalindex", get(globalindex))
        .route("/@notifications/{user}", any(notifications))
        .route("/@notifications/{user}/{id}", any(notification))
        .route("/{*path}", any(object))
}

/// A request's context: who asks, and the URLs to answer with.
struct Ctx {
    p: Principal,
    /// `http://host/gever`
    root: String,
    state: St,
}

fn shape_a(status: u16, kind: &str, message: &str) -> Answer {
    Answer::json(
        status,
        &json!({"error": {"type": kind, "message": message}}),
    )
}

fn shape_b(status: u16, kind: &str, message: &str) -> Answer {
    Answer::json(status, &json!({"type": kind, "message": message}))
}

fn unauthorized() -> Answer {
    shape_b(
        401,
        "Unauthorized",
        "You are not authorized to access this resource.",
    )
    .with_header("WWW-Authenticate", "Basic realm=\"tasklane GEVER\"")
}

/// GEVER's answer for an engine error.
fn error_answer(e: EngineError, url: &str) -> Answer {
    match e {
        EngineError::NotFound(_) => shape_b(404, "NotFound", &format!("Resource not found: {url}")),
        EngineError::Forbidden(m) => shape_b(401, "Unauthorized", &m),
        EngineError::InvalidTransition { id, valid } => shape_a(
            400,
            "Bad Request",
            &format!(
                "Invalid transition '{id}'.\nValid transitions are:\n{}",
                valid.join("\n")
            ),
        ),
        EngineError::Invalid {
            message,
            translated,
            fields,
        } => {
            if message == translated && fields.is_empty() {
                shape_b(400, "BadRequest", &message)
            } else {
                let mut metadata = Map::new();
                if !fields.is_empty() {
                    metadata.insert("fields".into(), json!(fields));
                }
                Answer::json(
                    400,
                    &json!({"type": "BadRequest", "message": message, "translated_message": translated,
                            "additional_metadata": metadata}),
                )
            }
        }
        EngineError::Conflict(m) => shape_b(409, "Conflict", &m),
        other => {
            tracing::error!(error = %other, "GEVER request failed");
            shape_b(500, "InternalError", "An internal error occurred.")
        }
    }
}

/// Authenticates (basic or Bearer) — every endpoint but `@login` needs it.
fn authenticate(state: &St, headers: &HeaderMap) -> std::result::Result<Principal, Answer> {
    let user = match auth::bearer(headers) {
        Some(token) => state.tokens.verify(&token),
        None => match auth::basic_principal(&state.engine, headers) {
            Ok(p) => p.map(|p| p.user),
            Err(e) => return Err(error_answer(e, "")),
        },
    };
    match user {
        Some(user) => state.engine.principal(&user).map_err(|_| unauthorized()),
        None => Err(unauthorized()),
    }
}

fn context(state: St, headers: &HeaderMap) -> std::result::Result<Ctx, Answer> {
    let p = authenticate(&state, headers)?;
    let root = format!("{}{}", base_url(headers), state.config.gever_root);
    Ok(Ctx { p, root, state })
}

fn flatten(r: Result<std::result::Result<Answer, Answer>>) -> Answer {
    match r {
        Ok(Ok(a)) | Ok(Err(a)) => a,
        Err(e) => error_answer(e, ""),
    }
}

async fn login(State(state): State<St>, body: Bytes) -> Answer {
    flatten(
        blocking(move || {
            let creds: Option<(String, String)> =
                serde_json::from_slice::<Value>(&body).ok().and_then(|v| {
                    Some((
                        v.get("login")?.as_str()?.to_string(),
                        v.get("password")?.as_str()?.to_string(),
                    ))
                });
            let Some((login, password)) = creds.filter(|(l, p)| !l.is_empty() && !p.is_empty())
            else {
                return Ok(shape_a(
                    400,
                    "Missing credentials",
                    "Login and password must be provided in body.",
                ));
            };
            match state.engine.authenticate(&login, &password) {
                Ok(Some(p)) => Ok(Answer::json(
                    200,
                    &json!({"token": state.tokens.issue(&p.user)}),
                )),
                Ok(None) => Ok(shape_a(
                    401,
                    "Invalid credentials",
                    "Wrong login and/or password.",
                )),
                Err(e) => Err(error_answer(e, "")),
            }
        })
        .await,
    )
}

async fn login_renew(State(state): State<St>, headers: HeaderMap) -> Answer {
    flatten(
        blocking(move || {
            let ctx = context(state, &headers)?;
            Ok(Answer::json(
                200,
                &json!({"token": ctx.state.tokens.issue(&ctx.p.user)}),
            ))
        })
        .await,
    )
}

async fn logout(State(state): State<St>, headers: HeaderMap) -> Answer {
    flatten(blocking(move || context(state, &headers).map(|_| Answer::empty(204))).await)
}

fn roles(p: &Principal) -> Vec<String> {
    if p.admin {
        vec![
            "Member".into(),
            "Authenticated".into(),
            "Administrator".into(),
            "Manager".into(),
        ]
    } else {
        vec!["Member".into(), "Authenticated".into()]
    }
}

async fn config(State(state): State<St>, headers: HeaderMap) -> Answer {
    flatten(
        blocking(move || {
            let ctx = context(state, &headers)?;
            Ok(Answer::json(
                200,
                &json!({
                    "@id": format!("{}/@config", ctx.root),
                    "admin_unit": ctx.state.config.admin_unit,
                    "current_user": {
                        "id": ctx.p.user, "username": ctx.p.user, "fullname": ctx.p.display_name,
                        "email": "", "roles": roles(&ctx.p),
                    },
                    "features": {},
                    "pass_documents_to_next_task_default_value": false,
                }),
            ))
        })
        .await,
    )
}

// ---------------------------------------------------------------------------
// URLs and representations

fn user_choice(conn: &Connection, user: &str) -> Result<TokenOrChoice> {
    let title = users::find_user(conn, user)?
        .map_or(user.to_string(), |u| format!("{} ({user})", u.display_name));
    Ok(TokenOrChoice::Choice(Choice {
        token: user.into(),
        title,
    }))
}

/// The path of a task below the root: its dossier, then its ancestors.
fn task_path(conn: &Connection, task: &Task) -> Result<String> {
    let dossier = dossiers::get(conn, task.dossier_id)?;
    let mut chain = vec![task.id];
    let mut current = task.clone();
    for _ in 0..64 {
        match current.parent_id {
            Some(parent) => {
                chain.push(parent);
                current = tasks::require(conn, parent)?;
            }
            None => break,
        }
    }
    chain.reverse();
    let tail: Vec<String> = chain.iter().map(|id| format!("task-{id}")).collect();
    Ok(format!("{}/{}", dossier.path, tail.join("/")))
}

fn task_url(ctx: &Ctx, conn: &Connection, task: &Task) -> Result<String> {
    Ok(format!("{}/{}", ctx.root, task_path(conn, task)?))
}

fn oguid(ctx: &Ctx, id: i64) -> String {
    format!("{}:{id}", ctx.state.config.admin_unit)
}

fn uid(id: i64) -> String {
    format!("{id:032x}")
}

fn response_json(
    ctx: &Ctx,
    conn: &Connection,
    url: &str,
    r: &responses::Response,
) -> Result<WireResponse> {
    let zone = &ctx.state.config.zones.gever;
    let time = |t: &str| times::gever_naive(t, zone).and_then(|s| ServerTime::parse(&s).ok());
    let changes = serde_json::from_value(r.changes.clone()).unwrap_or_default();
    let mut extra = Map::new();
    extra.insert("additional_data".into(), r.additional_data.clone());
    Ok(WireResponse {
        id: Some(format!("{url}/@responses/{}", r.id)),
        response_id: r.id,
        response_type: r.response_type.clone(),
        transition: r.transition.clone(),
        text: r.text.clone(),
        rendered_text: Some(String::new()),
        mimetype: Some(String::new()),
        created: time(&r.created),
        creator: Some(user_choice(conn, &r.creator)?),
        modified: r.modified.as_deref().and_then(time),
        modifier: match &r.modifier {
            Some(m) => Some(user_choice(conn, m)?),
            None => None,
        },
        changes,
        added_objects: Vec::new(),
        related_items: Vec::new(),
        successor_oguid: Some(String::new()),
        extra,
    })
}

fn summary(ctx: &Ctx, conn: &Connection, task: &Task) -> Result<Value> {
    Ok(json!({
        "@id": task_url(ctx, conn, task)?,
        "@type": "opengever.task.task",
        "title": task.title,
        "review_state": task.state.review_state(),
        "oguid": oguid(ctx, task.id),
        "task_id": task.id,
        "task_type": task.task_type.title(false),
    }))
}

fn is_current_user_responsible(p: &Principal, task: &Task) -> bool {
    workflow::is_responsible(p, task)
}

fn tree(ctx: &Ctx, conn: &Connection, task: &Task) -> Result<Value> {
    let mut children = Vec::new();
    for child in tasks::children(conn, task.id)? {
        if tasks::visible(&ctx.p, &child) {
            children.push(tree(ctx, conn, &child)?);
        }
    }
    let sequential = task.sequence_type.as_deref() == Some("sequential");
    Ok(json!({
        "@id": task_url(ctx, conn, task)?,
        "@type": "opengever.task.task",
        "UID": uid(task.id),
        "title": task.title,
        "review_state": task.state.review_state(),
        "responsible_actor": {"identifier": tasks::responsible_token(conn, &task.responsible)?},
        "is_task_addable": !task.state.is_final(),
        "is_task_addable_before": sequential,
        "children": children,
    }))
}

/// `GET <task>`: the full representation (with `expand` components).
fn task_json(ctx: &Ctx, conn: &Connection, task: &Task, expand: &[String]) -> Result<Value> {
    let url = task_url(ctx, conn, task)?;
    let dossier = dossiers::get(conn, task.dossier_id)?;
    let dossier_url = format!("{}/{}", ctx.root, dossier.path);
    let client = match &task.responsible.client {
        Some(c) => {
            let title = users::find_group(conn, c)?.map_or(c.clone(), |g| g.display_name);
            Some(TokenOrChoice::Choice(Choice {
                token: c.clone(),
                title,
            }))
        }
        None => None,
    };
    let mut items = Vec::new();
    for child in tasks::children(conn, task.id)? {
        if tasks::visible(&ctx.p, &child) {
            items.push(summary(ctx, conn, &child)?);
        }
    }
    let responses = responses::for_task(conn, task.id)?
        .iter()
        .map(|r| response_json(ctx, conn, &url, r))
        .collect::<Result<Vec<_>>>()?;
    let parent = match task.parent_id {
        Some(parent) => {
            let parent = tasks::require(conn, parent)?;
            Summary {
                id: task_url(ctx, conn, &parent)?,
                portal_type: Some("opengever.task.task".into()),
                title: parent.title,
                extra: Map::new(),
            }
        }
        None => Summary {
            id: dossier_url.clone(),
            portal_type: Some("opengever.dossier.businesscasedossier".into()),
            title: dossier.title.clone(),
            extra: Map::new(),
        },
    };
    let mut extra = Map::new();
    extra.insert("relative_path".into(), json!(task_path(conn, task)?));
    extra.insert("is_private".into(), json!(task.is_private));
    extra.insert("relatedItems".into(), json!(task.related_items));
    extra.insert("priority".into(), json!(task.priority));
    extra.insert(
        "creator".into(),
        json!({"@id": format!("{}/@actors/{}", ctx.root, task.issuer), "identifier": task.issuer}),
    );
    extra.insert("is_remote_task".into(), json!(false));
    extra.insert("has_remote_predecessor".into(), json!(false));
    extra.insert("has_sequential_successor".into(), json!(false));
    extra.insert("responsible_admin_unit_url".into(), json!(ctx.root));
    extra.insert(
        "date_of_completion".into(),
        json!(task.closed_at.as_deref().map(|c| &c[..10])),
    );
    if !expand.is_empty() {
        let mut components = Map::new();
        for e in expand {
            let value = match e.as_str() {
                "tasktree" => {
                    json!({"@id": format!("{url}/@tasktree"), "children": [tree(ctx, conn, &tasks::root(conn, task)?)?]})
                }
                "predecessor" => json!({"@id": format!("{url}/@predecessor"), "item": null}),
                "successors" => json!({"@id": format!("{url}/@successors"), "items": []}),
                "workflow" => serde_json::to_value(workflow_info(ctx, conn, task)?)?,
                _ => continue,
            };
            components.insert(e.clone(), value);
        }
        extra.insert("@components".into(), Value::Object(components));
    }
    let wire = WireTask {
        id: url,
        portal_type: "opengever.task.task".into(),
        uid: Some(uid(task.id)),
        oguid: oguid(ctx, task.id),
        title: task.title.clone(),
        text: Some(Text::Plain(task.text.clone())),
        review_state: task.state.review_state(),
        responsible: Some(TokenOrChoice::Choice(Choice {
            token: tasks::responsible_token(conn, &task.responsible)?,
            title: tasks::responsible_title(conn, &task.responsible)?,
        })),
        responsible_client: client,
        issuer: Some(user_choice(conn, &task.issuer)?),
        task_type: Some(TokenOrChoice::Choice(Choice {
            token: task.task_type.token().into(),
            title: task.task_type.title(false).into(),
        })),
        deadline: task.deadline.clone(),
        created: times::gever_utc(&task.created).and_then(|s| ServerTime::parse(&s).ok()),
        modified: times::gever_utc(&task.modified).and_then(|s| ServerTime::parse(&s).ok()),
        containing_dossier: Some(Summary {
            id: dossier_url,
            portal_type: Some("opengever.dossier.businesscasedossier".into()),
            title: dossier.title,
            extra: Map::new(),
        }),
        parent: Some(parent),
        items,
        responses,
        sequence_type: task.sequence_type.as_ref().map(|s| {
            TokenOrChoice::Choice(Choice {
                token: s.clone(),
                title: s.clone(),
            })
        }),
        is_completed: Some(task.state.is_final()),
        is_current_user_responsible: Some(is_current_user_responsible(&ctx.p, task)),
        sequence_number: Some(task.id),
        extra,
    };
    Ok(serde_json::to_value(wire)?)
}

fn workflow_info(ctx: &Ctx, conn: &Connection, task: &Task) -> Result<WorkflowInfo> {
    let url = task_url(ctx, conn, task)?;
    let transitions = workflow::available(conn, &ctx.p, task)?
        .into_iter()
        .map(|t| TransitionLink {
            id: format!("{url}/@workflow/{}", t.id),
            title: t.title_de.into(),
        })
        .collect();
    let history = workflow::history(conn, task)?
        .into_iter()
        .filter_map(|h| serde_json::from_value(h).ok())
        .collect();
    Ok(WorkflowInfo {
        id: Some(format!("{url}/@workflow")),
        history,
        transitions,
    })
}

// ---------------------------------------------------------------------------
// Objects

enum Target {
    Dossier(Dossier),
    Task(Box<Task>),
}

/// Resolves `<dossier path>/task-<id>/…` to a dossier or task, checking
/// that the chain of tasks is the one the path names.
fn resolve(conn: &Connection, segments: &[&str]) -> Result<Option<Target>> {
    let split = segments
        .iter()
        .position(|s| s.starts_with("task-"))
        .unwrap_or(segments.len());
    let dossier_path = segments[..split].join("/");
    let Some(dossier) = dossiers::by_path(conn, &dossier_path)? else {
        return Ok(None);
    };
    let mut parent: Option<i64> = None;
    let mut found = None;
    for seg in &segments[split..] {
        let Some(id) = seg
            .strip_prefix("task-")
            .and_then(|n| n.parse::<i64>().ok())
        else {
            return Ok(None);
        };
        let Some(task) = tasks::get(conn, id)? else {
            return Ok(None);
        };
        if task.dossier_id != dossier.id || task.parent_id != parent {
            return Ok(None);
        }
        parent = Some(task.id);
        found = Some(task);
    }
    Ok(Some(match found {
        Some(task) => Target::Task(Box::new(task)),
        None => Target::Dossier(dossier),
    }))
}

fn body_json(body: &[u8]) -> Result<Map<String, Value>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(EngineError::invalid(
            "The request body must be a JSON object.",
        )),
        Err(e) => Err(EngineError::invalid(format!(
            "The request body is not valid JSON: {e}"
        ))),
    }
}

fn query_list(uri: &Uri, name: &str) -> Vec<String> {
    url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .filter(|(k, _)| k == name)
        .flat_map(|(_, v)| {
            v.split(',')
                .map(|s| s.trim().to_string())
                .collect::<Vec<_>>()
        })
        .filter(|s| !s.is_empty())
        .collect()
}

async fn object(
    State(state): State<St>,
    Path(path): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let url = format!("{}{}", base_url(&headers), uri.path());
    flatten(
        blocking(move || {
            let ctx = context(state, &headers)?;
            let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
            let at = segments
                .iter()
                .position(|s| s.starts_with('@'))
                .unwrap_or(segments.len());
            let (object, endpoint) = segments.split_at(at);
            let target = ctx
                .state
                .engine
                .db()
                .read(|c| resolve(c, object))
                .map_err(|e| error_answer(e, &url))?;
            let Some(target) = target else {
                return Err(error_answer(EngineError::NotFound(url.clone()), &url));
            };
            dispatch(&ctx, target, &method, endpoint, &uri, &headers, &body)
                .map_err(|e| error_answer(e, &url))
        })
        .await,
    )
}

fn dispatch(
    ctx: &Ctx,
    target: Target,
    method: &Method,
    endpoint: &[&str],
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Answer> {
    let db = ctx.state.engine.db();
    let key = idempotency_key(headers)?;
    let print = fingerprint(method.as_str(), uri.path(), body);
    let succeeded = |a: &Answer| a.status < 300;
    let task = match target {
        Target::Dossier(dossier) => {
            return match (method.as_str(), endpoint) {
                ("GET", []) => db.read(|c| dossier_json(ctx, c, &dossier)),
                ("POST", []) => mutate(
                    &ctx.state,
                    &ctx.p,
                    key.as_deref(),
                    &print,
                    succeeded,
                    |tx| create(ctx, tx, body, None, Some(dossier.id)),
                ),
                _ => Err(EngineError::NotFound(uri.path().into())),
            };
        }
        Target::Task(task) => *task,
    };
    if !tasks::visible(&ctx.p, &task) {
        return Err(EngineError::Forbidden(
            "You are not authorized to access this resource.".into(),
        ));
    }
    let id = task.id;
    match (method.as_str(), endpoint) {
        ("GET", []) => {
            let expand = query_list(uri, "expand");
            db.read(|c| Ok(Answer::json(200, &task_json(ctx, c, &task, &expand)?)))
        }
        ("PATCH", []) => mutate(
            &ctx.state,
            &ctx.p,
            key.as_deref(),
            &print,
            succeeded,
            |tx| patch(ctx, tx, &task, body, headers),
        ),
        ("POST", []) => mutate(
            &ctx.state,
            &ctx.p,
            key.as_deref(),
            &print,
            succeeded,
            |tx| create(ctx, tx, body, Some(id), None),
        ),
        ("GET", ["@workflow"]) => {
            db.read(|c| Ok(Answer::json(200, &workflow_info(ctx, c, &task)?)))
        }
        ("POST", ["@workflow"]) => {
            let valid = db.read(|c| workflow::available(c, &ctx.p, &task))?;
            let mut valid: Vec<String> = valid.iter().map(|t| t.id.to_string()).collect();
            valid.sort();
            Err(EngineError::InvalidTransition {
                id: "None".into(),
                valid,
            })
        }
        ("POST", ["@workflow", transition]) => {
            let params = body_json(body)?;
            mutate(
                &ctx.state,
                &ctx.p,
                key.as_deref(),
                &print,
                succeeded,
                |tx| {
                    let result = workflow::apply(tx, &ctx.p, id, Some(transition), &params)?;
                    Ok(Answer::json(
                        200,
                        &json!({"action": result.action, "actor": result.actor, "comments": "",
                            "review_state": result.review_state.review_state(), "time": times::gever_utc(&result.time),
                            "title": result.title_en}),
                    ))
                },
            )
        }
        ("GET", ["@workflow-schema"]) => Ok(shape_a(400, "BadRequest", "Missing transition")),
        ("GET", ["@workflow-schema", transition]) => Ok(match workflow::find(transition) {
            Some(t) => Answer::json(200, &schema(t.id)),
            None => shape_a(
                400,
                "BadRequest",
                &format!("Invalid transition '{transition}'"),
            ),
        }),
        ("POST", ["@responses"]) => {
            let text = body_json(body)?
                .get("text")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            mutate(
                &ctx.state,
                &ctx.p,
                key.as_deref(),
                &print,
                succeeded,
                |tx| {
                    let r = responses::add_comment(tx, &ctx.p, &task, &text)?;
                    let url = task_url(ctx, tx, &task)?;
                    Ok(Answer::json(201, &response_json(ctx, tx, &url, &r)?)
                        .with_header("Location", url))
                },
            )
        }
        ("GET", ["@responses", rid]) => {
            let rid: i64 = rid
                .parse()
                .map_err(|_| EngineError::NotFound(format!("response {rid}")))?;
            db.read(|c| {
                let r = responses::get(c, id, rid)?
                    .ok_or_else(|| EngineError::NotFound(format!("response {rid}")))?;
                let url = task_url(ctx, c, &task)?;
                Ok(Answer::json(200, &response_json(ctx, c, &url, &r)?))
            })
        }
        ("PATCH", ["@responses", rid]) => {
            let rid: i64 = rid
                .parse()
                .map_err(|_| EngineError::NotFound(format!("response {rid}")))?;
            let text = body_json(body)?
                .get("text")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            mutate(
                &ctx.state,
                &ctx.p,
                key.as_deref(),
                &print,
                succeeded,
                |tx| {
                    responses::edit_comment(tx, &ctx.p, &task, rid, &text)?;
                    Ok(Answer::empty(204))
                },
            )
        }
        ("DELETE", ["@responses", rid]) => {
            let rid: i64 = rid
                .parse()
                .map_err(|_| EngineError::NotFound(format!("response {rid}")))?;
            mutate(
                &ctx.state,
                &ctx.p,
                key.as_deref(),
                &print,
                succeeded,
                |tx| {
                    responses::delete_comment(tx, &ctx.p, &task, rid)?;
                    Ok(Answer::empty(204))
                },
            )
        }
        ("GET", ["@tasktree"]) => db.read(|c| {
            let url = task_url(ctx, c, &task)?;
            let root = tasks::root(c, &task)?;
            Ok(Answer::json(
                200,
                &json!({"@id": format!("{url}/@tasktree"), "children": [tree(ctx, c, &root)?]}),
            ))
        }),
        ("GET", ["@predecessor"]) => db.read(|c| {
            Ok(Answer::json(
                200,
                &json!({"@id": format!("{}/@predecessor", task_url(ctx, c, &task)?), "item": null}),
            ))
        }),
        ("GET", ["@successors"]) => db.read(|c| {
            Ok(Answer::json(
                200,
                &json!({"@id": format!("{}/@successors", task_url(ctx, c, &task)?), "items": []}),
            ))
        }),
        ("POST", ["@transfer-task"]) => {
            let fields = body_json(body)?;
            mutate(
                &ctx.state,
                &ctx.p,
                key.as_deref(),
                &print,
                succeeded,
                |tx| transfer(ctx, tx, &task, &fields),
            )
        }
        ("POST", ["@close-task"]) => mutate(
            &ctx.state,
            &ctx.p,
            key.as_deref(),
            &print,
            succeeded,
            |tx| close_task(ctx, tx, id),
        ),
        _ => Err(EngineError::NotFound(uri.path().into())),
    }
}

fn dossier_json(ctx: &Ctx, conn: &Connection, dossier: &Dossier) -> Result<Answer> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {} FROM tasks WHERE dossier_id = ?1 AND parent_id IS NULL ORDER BY id",
        tasks::COLUMNS
    ))?;
    let all = stmt
        .query_map([dossier.id], tasks::from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut items = Vec::new();
    for t in all.iter().filter(|t| tasks::visible(&ctx.p, t)) {
        items.push(summary(ctx, conn, t)?);
    }
    Ok(Answer::json(
        200,
        &json!({"@id": format!("{}/{}", ctx.root, dossier.path), "@type": "opengever.dossier.businesscasedossier",
                "title": dossier.title, "review_state": "dossier-state-active", "items": items}),
    ))
}

fn token_field(fields: &Map<String, Value>, name: &str) -> Option<String> {
    fields.get(name).and_then(workflow::token)
}

/// `POST <dossier or task>`: creates a task (a subtask when posted into one).
fn create(
    ctx: &Ctx,
    tx: &rusqlite::Transaction<'_>,
    body: &[u8],
    parent: Option<i64>,
    dossier: Option<i64>,
) -> Result<Answer> {
    let fields = body_json(body)?;
    match fields.get("@type").and_then(Value::as_str) {
        Some("opengever.task.task") => {}
        other => {
            return Err(EngineError::invalid(format!(
                "Cannot create content of type {other:?} here."
            )));
        }
    }
    let position = match fields.get("position") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) if n.is_i64() => n.as_i64(),
        Some(Value::String(s)) if s.trim().parse::<i64>().is_ok() => s.trim().parse().ok(),
        Some(_) => return Err(EngineError::invalid("Could not parse `position` attribute")),
    };
    let text = match fields.get("text") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Object(o)) => o
            .get("data")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        _ => String::new(),
    };
    let new = CreateTask {
        title: fields
            .get("title")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        text,
        task_type: token_field(&fields, "task_type"),
        responsible: token_field(&fields, "responsible").unwrap_or_default(),
        responsible_client: token_field(&fields, "responsible_client"),
        issuer: token_field(&fields, "issuer"),
        deadline: fields
            .get("deadline")
            .and_then(Value::as_str)
            .map(String::from),
        priority: fields.get("priority").and_then(Value::as_i64).unwrap_or(0),
        is_private: fields
            .get("is_private")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        parent_id: parent,
        dossier_id: dossier,
        position,
        related_items: fields
            .get("relatedItems")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(workflow::token).collect())
            .unwrap_or_default(),
    };
    let task = create_task(tx, &ctx.p, &new)?;
    let url = task_url(ctx, tx, &task)?;
    Ok(Answer::json(201, &task_json(ctx, tx, &task, &[])?).with_header("Location", url))
}

/// `PATCH <task>`: open tasks only; the responsible and privacy cannot change here.
fn patch(
    ctx: &Ctx,
    tx: &rusqlite::Transaction<'_>,
    task: &Task,
    body: &[u8],
    headers: &HeaderMap,
) -> Result<Answer> {
    let fields = body_json(body)?;
    if task.state != TaskState::Open {
        return Err(EngineError::Forbidden(
            "Only open tasks can be edited.".into(),
        ));
    }
    let current = tasks::responsible_token(tx, &task.responsible)?;
    let asks_other_responsible = token_field(&fields, "responsible")
        .is_some_and(|r| r != current && Some(r.as_str()) != task.responsible.user.as_deref())
        || token_field(&fields, "responsible_client")
            .is_some_and(|c| Some(c.as_str()) != task.responsible.client.as_deref());
    if asks_other_responsible {
        return Err(EngineError::invalid_id(
            "change_responsible_not_allowed",
            "It is not allowed to change the responsible here. Use \"Reassign\" instead",
        ));
    }
    if fields
        .get("is_private")
        .and_then(Value::as_bool)
        .is_some_and(|p| p != task.is_private)
    {
        return Err(EngineError::invalid(
            "It's not allowed to change the is_private option of an existing task.",
        ));
    }
    let mut changes = Vec::new();
    if let Some(title) = fields
        .get("title")
        .and_then(Value::as_str)
        .filter(|t| *t != task.title)
    {
        if title.trim().is_empty() {
            return Err(EngineError::field(
                "title",
                "RequiredMissing",
                "RequiredMissing",
                "Required input is missing.",
            ));
        }
        tx.execute(
            "UPDATE tasks SET title = ?2 WHERE id = ?1",
            rusqlite::params![task.id, title],
        )?;
        changes.push(responses::change(
            "title",
            "Title",
            json!(task.title),
            json!(title),
        ));
    }
    let text = match fields.get("text") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Object(o)) => o.get("data").and_then(Value::as_str).map(String::from),
        _ => None,
    };
    if let Some(text) = text.filter(|t| *t != task.text) {
        tx.execute(
            "UPDATE tasks SET text = ?2 WHERE id = ?1",
            rusqlite::params![task.id, text],
        )?;
        changes.push(responses::change(
            "text",
            "Text",
            json!(task.text),
            json!(text),
        ));
    }
    if let Some(deadline) = fields.get("deadline").and_then(Value::as_str) {
        let d: jiff::civil::Date = deadline.parse().map_err(|_| {
            EngineError::field(
                "deadline",
                "ConstraintNotSatisfied",
                "ConstraintNotSatisfied",
                format!("{deadline:?} is not a date"),
            )
        })?;
        let d = d.strftime("%Y-%m-%d").to_string();
        if Some(&d) != task.deadline.as_ref() {
            tasks::set_deadline(tx, task.id, &d)?;
            changes.push(responses::change(
                "deadline",
                "Deadline",
                json!(task.deadline),
                json!(d),
            ));
        }
    }
    if let Some(items) = fields.get("relatedItems").and_then(Value::as_array) {
        let items: Vec<String> = items.iter().filter_map(workflow::token).collect();
        tasks::add_related(tx, task.id, &items)?;
        changes.push(responses::change(
            "relatedItems",
            "Related items",
            json!(task.related_items),
            json!(items),
        ));
    }
    if !changes.is_empty() {
        responses::add(
            tx,
            Entry {
                task_id: task.id,
                response_type: "default",
                transition: "task-transition-edit",
                text: "",
                creator: &ctx.p.user,
                changes,
                additional_data: json!({}),
            },
        )?;
    }
    let prefers_body = headers
        .get("prefer")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("return=representation"));
    if prefers_body {
        let fresh = tasks::require(tx, task.id)?;
        Ok(Answer::json(200, &task_json(ctx, tx, &fresh, &[])?))
    } else {
        Ok(Answer::empty(204))
    }
}

/// `@workflow-schema/<transition>`: the parameters a form needs.
fn schema(transition: &str) -> Value {
    let text = json!({"type": "string", "title": "Response", "widget": "textarea"});
    let (properties, required): (Value, Vec<&str>) = match transition {
        "task-transition-modify-deadline" => (
            json!({"new_deadline": {"type": "string", "format": "date", "title": "New deadline"}, "text": text}),
            vec!["new_deadline"],
        ),
        "task-transition-reassign" => (
            json!({"responsible": {"type": "string", "title": "Responsible"},
                   "responsible_client": {"type": "string", "title": "Responsible client"}, "text": text}),
            vec!["responsible"],
        ),
        "task-transition-delegate" => (
            json!({"responsibles": {"type": "array", "items": {"type": "string"}, "title": "Responsibles"},
                   "title": {"type": "string", "title": "Title"}, "issuer": {"type": "string", "title": "Issuer"},
                   "deadline": {"type": "string", "format": "date", "title": "Deadline"},
                   "documents": {"type": "array", "items": {"type": "string"}, "title": "Documents"}, "text": text}),
            vec!["responsibles", "title", "issuer", "deadline"],
        ),
        t if t.ends_with("-resolved") => (
            json!({"text": text, "approved_documents": {"type": "array", "items": {"type": "string"}, "title": "Approved documents"},
                   "pass_documents_to_next_task": {"type": "boolean", "title": "Pass documents to next task"}}),
            vec![],
        ),
        t if t.ends_with("-tested-and-closed") || t.ends_with("-skipped") => (
            json!({"text": text, "pass_documents_to_next_task": {"type": "boolean", "title": "Pass documents to next task"}}),
            vec![],
        ),
        _ => (json!({"text": text}), vec![]),
    };
    json!({"properties": properties, "required": required, "fieldsets": []})
}

/// `@transfer-task`: administrators replace a user as issuer and/or responsible.
fn transfer(
    ctx: &Ctx,
    tx: &rusqlite::Transaction<'_>,
    task: &Task,
    fields: &Map<String, Value>,
) -> Result<Answer> {
    if !ctx.p.admin {
        return Err(EngineError::Forbidden(
            "You are not allowed to transfer tasks.".into(),
        ));
    }
    let get = |name: &str| -> Result<String> {
        fields
            .get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .ok_or_else(|| EngineError::invalid(format!("Property '{name}' is required")))
    };
    let (old, new) = (get("old_userid")?, get("new_userid")?);
    for user in [&old, &new] {
        if users::find_user(tx, user)?.is_none() {
            return Err(EngineError::invalid(format!(
                "userid '{user}' does not exist"
            )));
        }
    }
    if old == new {
        return Err(EngineError::invalid(
            "'old_userid' and 'new_userid' should not be the same",
        ));
    }
    if task.responsible.user.as_deref() == Some(old.as_str()) {
        let mut r = task.responsible.clone();
        r.user = Some(new.clone());
        tasks::set_responsible(tx, task.id, &r)?;
        responses::add(
            tx,
            Entry {
                task_id: task.id,
                response_type: "default",
                transition: "task-transition-reassign",
                text: "",
                creator: &ctx.p.user,
                changes: vec![responses::change(
                    "responsible",
                    "Responsible",
                    json!(old),
                    json!(new),
                )],
                additional_data: json!({}),
            },
        )?;
    }
    if task.issuer == old {
        tasks::set_issuer(tx, task.id, &new)?;
        responses::add(
            tx,
            Entry {
                task_id: task.id,
                response_type: "default",
                transition: "task-transition-change-issuer",
                text: "",
                creator: &ctx.p.user,
                changes: vec![responses::change(
                    "issuer",
                    "Issuer",
                    json!(old),
                    json!(new),
                )],
                additional_data: json!({}),
            },
        )?;
    }
    Ok(Answer::empty(204))
}

/// `@close-task`: walks the task to a final state with the transitions the
/// user may run (subtasks first).
fn close_task(ctx: &Ctx, tx: &rusqlite::Transaction<'_>, id: i64) -> Result<Answer> {
    for child in tasks::children(tx, id)? {
        if !child.state.is_final() && tasks::visible(&ctx.p, &child) {
            close_task(ctx, tx, child.id)?;
        }
    }
    let preference = [
        "tested-and-closed",
        "resolved",
        "rejected-open",
        "cancelled",
        "open-in-progress",
    ];
    for _ in 0..6 {
        let task = tasks::require(tx, id)?;
        if task.state.is_final() {
            return Ok(Answer::empty(204));
        }
        let available = workflow::available(tx, &ctx.p, &task)?;
        let next = preference.iter().find_map(|want| {
            available
                .iter()
                .find(|t| t.id.ends_with(want) && t.to.is_some())
        });
        let Some(next) = next else { break };
        workflow::apply(tx, &ctx.p, id, Some(next.id), &Map::new())?;
    }
    Err(EngineError::Forbidden(
        "The task cannot be closed by you.".into(),
    ))
}

// ---------------------------------------------------------------------------
// @globalindex

/// The SQL for one filter column and value; `None` for unknown columns,
/// which GEVER ignores.
fn filter_sql(ctx: &Ctx, column: &str, value: &str, params: &mut Vec<SqlValue>) -> Option<String> {
    let text = |params: &mut Vec<SqlValue>, v: &str| {
        params.push(SqlValue::Text(v.to_string()));
        "?".to_string()
    };
    Some(match column {
        "responsible" => match value.split_once(':') {
            Some(("inbox", org)) => format!(
                "(t.responsible_group = {} AND t.responsible_user IS NULL)",
                text(params, org)
            ),
            Some(("team", team)) => format!("t.responsible_group = {}", text(params, team)),
            Some((_, user)) => format!("t.responsible_user = {}", text(params, user)),
            // A single user also matches their teams.
            None => {
                let a = text(params, value);
                let b = text(params, value);
                format!("(t.responsible_user = {a} OR (t.responsible_user IS NULL AND t.responsible_group IN
                        (SELECT group_id FROM memberships WHERE user_id = {b})))")
            }
        },
        "issuer" => format!("t.issuer = {}", text(params, value)),
        "review_state" => format!(
            "t.state = {}",
            text(params, value.strip_prefix("task-state-").unwrap_or(value))
        ),
        "task_type" => format!("t.task_type = {}", text(params, value)),
        "title" => format!("t.title = {}", text(params, value)),
        "assigned_org_unit" => format!("t.responsible_client = {}", text(params, value)),
        "issuing_org_unit" => format!("t.issuing_org_unit = {}", text(params, value)),
        "is_private" => format!(
            "t.is_private = {}",
            i64::from(value == "true" || value == "1")
        ),
        "is_subtask" => format!(
            "(t.parent_id IS NOT NULL) = {}",
            i64::from(value == "true" || value == "1")
        ),
        "is_completed" => format!(
            "(t.state IN ('tested-and-closed', 'cancelled', 'skipped')) = {}",
            i64::from(value == "true" || value == "1")
        ),
        "admin_unit_id" => (if value == ctx.state.config.admin_unit {
            "1"
        } else {
            "0"
        })
        .to_string(),
        "int_id" | "task_id" | "sequence_number" => match value.parse::<i64>() {
            Ok(n) => {
                params.push(SqlValue::Integer(n));
                "t.id = ?".into()
            }
            Err(_) => "0".into(),
        },
        "oguid" => match value.rsplit_once(':') {
            Some((unit, n)) if unit == ctx.state.config.admin_unit && n.parse::<i64>().is_ok() => {
                params.push(SqlValue::Integer(n.parse().unwrap_or(0)));
                "t.id = ?".into()
            }
            _ => "0".into(),
        },
        "deadline" | "completed" => {
            let col = if column == "deadline" {
                "t.deadline"
            } else {
                "substr(t.closed_at, 1, 10)"
            };
            match value.split_once(" TO ") {
                Some((from, to)) => {
                    let mut parts = Vec::new();
                    if from.trim() != "*" {
                        parts.push(format!("{col} >= {}", text(params, from.trim())));
                    }
                    if to.trim() != "*" {
                        parts.push(format!("{col} <= {}", text(params, to.trim())));
                    }
                    if parts.is_empty() {
                        "1".into()
                    } else {
                        format!("({})", parts.join(" AND "))
                    }
                }
                None => format!("{col} = {}", text(params, value)),
            }
        }
        _ => return None,
    })
}

fn sort_sql(sort_on: Option<&str>) -> &'static str {
    match sort_on {
        Some("modified") | None => "t.modified",
        Some("created") => "t.created",
        Some("deadline") => "t.deadline",
        Some("title") => "t.title",
        Some("review_state") => "t.state",
        Some("responsible") => "coalesce(t.responsible_user, t.responsible_group)",
        Some("issuer") => "t.issuer",
        Some("task_type") => "t.task_type",
        // An unknown column falls back to the task id.
        Some(_) => "t.id",
    }
}

async fn globalindex(State(state): State<St>, uri: Uri, headers: HeaderMap) -> Answer {
    let url = format!("{}{}", base_url(&headers), uri);
    flatten(
        blocking(move || {
            let ctx = context(state, &headers)?;
            index_answer(&ctx, &uri, &url).map_err(|e| error_answer(e, &url))
        })
        .await,
    )
}

fn index_answer(ctx: &Ctx, uri: &Uri, url: &str) -> Result<Answer> {
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let int = |name: &str, default: i64| -> Result<i64> {
        match get(name) {
            None => Ok(default),
            Some(v) => v.trim().parse().map_err(|_| {
                EngineError::invalid(format!("The parameter '{name}' must be a number."))
            }),
        }
    };
    let b_size = int("b_size", 25)?;
    let b_start = int("b_start", 0)?;
    if b_size < 0 {
        return Err(EngineError::invalid(
            "The parameter 'b_size' can't be negative.",
        ));
    }
    if b_start < 0 {
        return Err(EngineError::invalid(
            "The parameter 'b_start' can't be negative.",
        ));
    }
    let mut params = vec![SqlValue::Text(ctx.p.user.clone())];
    let mut wheres = vec![tasks::VISIBLE_SQL.to_string()];
    // filters.<col>:record[:list]=v, exclusions with a leading '-'.
    let mut grouped: Vec<(String, bool, Vec<String>)> = Vec::new();
    for (k, v) in &pairs {
        let Some(spec) = k.strip_prefix("filters.") else {
            continue;
        };
        let column = spec.split(':').next().unwrap_or("");
        let (negated, column) = match column.strip_prefix('-') {
            Some(c) => (true, c.to_string()),
            None => (false, column.to_string()),
        };
        match grouped
            .iter_mut()
            .find(|(c, n, _)| *c == column && *n == negated)
        {
            Some((_, _, values)) => values.push(v.clone()),
            None => grouped.push((column, negated, vec![v.clone()])),
        }
    }
    for (column, negated, values) in grouped {
        let mut alternatives = Vec::new();
        for v in values {
            if let Some(sql) = filter_sql(ctx, &column, &v, &mut params) {
                alternatives.push(sql);
            }
        }
        if alternatives.is_empty() {
            continue;
        }
        let any = format!("({})", alternatives.join(" OR "));
        wheres.push(if negated { format!("NOT {any}") } else { any });
    }
    if let Some(search) = get("search")
        .map(|s| s.trim().trim_end_matches('*').to_string())
        .filter(|s| !s.is_empty())
    {
        let escaped = search
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let like = format!("%{escaped}%");
        for _ in 0..4 {
            params.push(SqlValue::Text(like.clone()));
        }
        wheres.push(
            "(t.title LIKE ? ESCAPE '\\' OR t.text LIKE ? ESCAPE '\\' OR CAST(t.id AS TEXT) LIKE ? ESCAPE '\\'
              OR coalesce(t.responsible_user, t.responsible_group) LIKE ? ESCAPE '\\')"
                .into(),
        );
    }
    let order_col = sort_sql(get("sort_on").as_deref());
    let direction = match get("sort_order").as_deref() {
        Some("ascending") => "ASC",
        _ => "DESC",
    };
    let where_sql = wheres.join(" AND ");
    let conn_answer = ctx.state.engine.db().read(|c| {
        let total: i64 = c.query_row(
            &format!("SELECT count(*) FROM tasks t WHERE {where_sql}"),
            rusqlite::params_from_iter(params.iter()),
            |r| r.get(0),
        )?;
        let mut stmt = c.prepare_cached(&format!(
            "SELECT {} FROM tasks t WHERE {where_sql} ORDER BY {order_col} {direction}, t.id {direction} LIMIT {b_size} OFFSET {b_start}",
            prefixed_columns()
        ))?;
        let found = stmt
            .query_map(rusqlite::params_from_iter(params.iter()), tasks::from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut items = Vec::new();
        for t in &found {
            items.push(index_item(ctx, c, t)?);
        }
        Ok((total, items))
    })?;
    let (total, items) = conn_answer;
    let batching = (total > b_size).then(|| batching(url, total, b_start, b_size));
    Ok(Answer::json(
        200,
        &GlobalIndex {
            id: Some(url.to_string()),
            items,
            items_total: total,
            b_start: Some(b_start),
            b_size: Some(b_size),
            facets: Map::new(),
            batching,
        },
    ))
}

fn prefixed_columns() -> String {
    tasks::COLUMNS
        .split(',')
        .map(|c| format!("t.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The documented `batching` object: first, last, and prev/next when they exist.
fn batching(url: &str, total: i64, b_start: i64, b_size: i64) -> Batching {
    let at = |start: i64| -> String {
        let mut u = url::Url::parse(url)
            .unwrap_or_else(|_| url::Url::parse("http://localhost/").expect("valid"));
        let kept: Vec<(String, String)> = u
            .query_pairs()
            .filter(|(k, _)| k != "b_start")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        u.query_pairs_mut()
            .clear()
            .extend_pairs(kept)
            .append_pair("b_start", &start.to_string());
        u.to_string()
    };
    let size = b_size.max(1);
    let last = ((total - 1).max(0) / size) * size;
    Batching {
        id: url.to_string(),
        first: at(0),
        last: at(last),
        prev: (b_start > 0).then(|| at((b_start - size).max(0))),
        next: (b_start + size < total).then(|| at(b_start + size)),
    }
}

fn index_item(ctx: &Ctx, conn: &Connection, t: &Task) -> Result<GlobalIndexItem> {
    let zone = &ctx.state.config.zones.gever;
    let naive = |s: &str| times::gever_naive(s, zone).and_then(|n| ServerTime::parse(&n).ok());
    let dossier = dossiers::get(conn, t.dossier_id)?;
    let actor = |id: &str| tasklane_dialects::gever::wire::ActorRef {
        id: format!("{}/@actors/{id}", ctx.root),
        identifier: id.to_string(),
    };
    let responsible = tasks::responsible_token(conn, &t.responsible)?;
    let issuer_name = users::find_user(conn, &t.issuer)?.map(|u| u.display_name);
    Ok(GlobalIndexItem {
        id: task_url(ctx, conn, t)?,
        portal_type: "opengever.task.task".into(),
        oguid: oguid(ctx, t.id),
        title: t.title.clone(),
        review_state: t.state.review_state(),
        review_state_label: Some(t.state.title(false).into()),
        assigned_org_unit: t.responsible.client.clone(),
        issuing_org_unit: t.issuing_org_unit.clone(),
        containing_dossier: Some(dossier.title),
        containing_subdossier: None,
        created: naive(&t.created),
        modified: naive(&t.modified),
        deadline: t.deadline.clone(),
        is_completed: Some(t.state.is_final()),
        is_private: Some(t.is_private),
        is_subtask: Some(t.parent_id.is_some()),
        issuer: Some(t.issuer.clone()),
        issuer_fullname: issuer_name,
        issuer_actor: Some(actor(&t.issuer)),
        responsible_fullname: Some(tasks::responsible_title(conn, &t.responsible)?),
        responsible_actor: Some(actor(&responsible)),
        responsible: Some(responsible),
        predecessor_id: None,
        sequence_number: Some(t.id),
        task_id: Some(t.id),
        task_type: Some(t.task_type.title(false).into()),
        extra: Map::new(),
    })
}

// ---------------------------------------------------------------------------
// @notifications

fn notification_json(ctx: &Ctx, conn: &Connection, n: &responses::Notification) -> Result<Value> {
    let task = tasks::get(conn, n.task_id)?;
    let label = match n.kind.as_str() {
        "task-added" => "Task added",
        "task-transition-reassign" => "Task reassigned",
        "task-commented" => "Task commented",
        _ => "Task modified",
    };
    Ok(json!({
        "@id": format!("{}/@notifications/{}/{}", ctx.root, ctx.p.user, n.id),
        "notification_id": n.id,
        "actor_id": n.actor,
        "actor_label": users::find_user(conn, &n.actor)?.map(|u| u.display_name),
        "created": times::gever_utc(&n.created),
        "label": label,
        "summary": n.summary,
        "title": task.as_ref().map(|t| t.title.clone()),
        "link": format!("{}/@@resolve_notification?notification_id={}", ctx.root, n.id),
        "oguid": oguid(ctx, n.task_id),
        "read": n.read,
    }))
}

fn own(ctx: &Ctx, user: &str) -> std::result::Result<(), Answer> {
    if user == ctx.p.user {
        Ok(())
    } else {
        Err(shape_b(
            401,
            "Unauthorized",
            "It's not allowed to access notifications of other users.",
        ))
    }
}

async fn notifications(
    State(state): State<St>,
    Path(user): Path<String>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    flatten(
        blocking(move || {
            let ctx = context(state, &headers)?;
            own(&ctx, &user)?;
            let db = ctx.state.engine.db();
            match method.as_str() {
                "GET" => db
                    .read(|c| {
                        let items = responses::notifications(c, &user)?
                            .iter()
                            .map(|n| notification_json(&ctx, c, n))
                            .collect::<Result<Vec<_>>>()?;
                        Ok(Answer::json(200, &json!({"@id": format!("{}/@notifications/{user}", ctx.root),
                            "items_total": items.len(), "items": items})))
                    })
                    .map_err(|e| error_answer(e, "")),
                "POST" => {
                    let fields = body_json(&body).map_err(|e| error_answer(e, ""))?;
                    if fields.get("mark_all_notifications_as_read") != Some(&Value::Bool(true)) {
                        return Err(shape_b(400, "BadRequest", "Property 'mark_all_notifications_as_read' is required and must be true."));
                    }
                    let latest = match fields.get("latest_client_side_notification") {
                        Some(Value::Number(n)) if n.is_i64() => n.as_i64(),
                        Some(_) => return Err(shape_b(400, "BadRequest", "Property 'latest_client_side_notification' must be an integer.")),
                        None => Some(i64::MAX),
                    };
                    db.write(|tx| responses::mark_read(tx, &user, None, latest).map(|_| Answer::empty(204)))
                        .map_err(|e| error_answer(e, ""))
                }
                _ => Err(shape_b(405, "MethodNotAllowed", "Method not allowed.")),
            }
        })
        .await,
    )
}

async fn notification(
    State(state): State<St>,
    Path((user, id)): Path<(String, i64)>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    flatten(
        blocking(move || {
            let ctx = context(state, &headers)?;
            own(&ctx, &user)?;
            let db = ctx.state.engine.db();
            let found = db
                .read(|c| {
                    let all = responses::notifications(c, &user)?;
                    Ok(all.into_iter().find(|n| n.id == id))
                })
                .map_err(|e| error_answer(e, ""))?;
            let Some(n) = found else {
                return Err(shape_b(
                    404,
                    "NotFound",
                    &format!("Notification {id} not found"),
                ));
            };
            match method.as_str() {
                "GET" => db
                    .read(|c| Ok(Answer::json(200, &notification_json(&ctx, c, &n)?)))
                    .map_err(|e| error_answer(e, "")),
                "PATCH" => {
                    let fields = body_json(&body).map_err(|e| error_answer(e, ""))?;
                    if fields.get("read") == Some(&Value::Bool(true)) {
                        db.write(|tx| responses::mark_read(tx, &user, Some(id), None))
                            .map_err(|e| error_answer(e, ""))?;
                    }
                    Ok(Answer::empty(204))
                }
                _ => Err(shape_b(405, "MethodNotAllowed", "Method not allowed.")),
            }
        })
        .await,
    )
}

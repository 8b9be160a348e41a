//! The OneGov GEVER dialect below the site root
//! (`../shared/reference/gever/NOTES.md`, seed `gever-task-api.de.txt`).
//!
//! Objects are addressed by path — `<root>/<dossier path>/task-<id>[/task-<id>…]`
//! — followed by `@`-endpoints. Authentication is HTTP basic or a Bearer
//! token from `POST @login`; missing rights answer 401, as GEVER does.
//! Errors come in GEVER's two shapes: `{"error": {"type", "message"}}` from
//! `@workflow` and `@login`, `{"type", "message"[, "translated_message",
//! "additional_metadata"]}` from everything else.

mod index;
mod notifications;
mod repr;

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, Method, Request, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use rusqlite::Connection;
use serde_json::{Map, Value, json};

use super::{Answer, AppState, auth, base_url, blocking, fingerprint, idempotency_key, mutate};
use crate::dossiers::{self, Dossier};
use crate::engine::{CreateTask, create_task};
use crate::error::{EngineError, Result};
use crate::model::{Task, TaskState};
use crate::responses::{self, Entry};
use crate::server::times;
use crate::tasks;
use crate::users::{self, Principal};
use crate::workflow;
use repr::{Lang, summary, task_json, task_url, tasktree, workflow_info};

type St = Arc<AppState>;

pub fn routes() -> Router<St> {
    Router::new()
        .route("/@login", post(login))
        .route("/@login-renew", post(login_renew))
        .route("/@logout", post(logout))
        .route("/@config", get(config))
        .route("/@globalindex", get(globalindex))
        .route("/@notifications", any(notifications::endpoint))
        .route("/@notifications/{*rest}", any(notifications::endpoint))
        .route("/{*path}", any(object))
        .layer(middleware::from_fn(require_json))
}

/// Only requests that accept JSON reach the API: without
/// `Accept: application/json` GEVER hands the request to its HTML UI
/// (NOTES §0.1), which tasklane does not have, so it answers 406.
async fn require_json(request: Request<Body>, next: Next) -> Response {
    let accepts_json = request
        .headers()
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|range| {
            range
                .split(';')
                .next()
                .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
        });
    if accepts_json {
        next.run(request).await
    } else {
        Answer::text(
            406,
            "text/plain; charset=utf-8",
            "This is an API: send `Accept: application/json` (tasklane has no HTML interface).\n"
                .into(),
        )
        .into_response()
    }
}

/// A request's context: who asks, the URLs to answer with, and the
/// language of labels.
struct Ctx {
    p: Principal,
    /// `http://host/gever`
    root: String,
    lang: Lang,
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
    Ok(Ctx {
        p,
        root,
        lang: Lang::negotiate(headers),
        state,
    })
}

fn oguid_of(ctx: &Ctx, id: i64) -> String {
    repr::oguid(ctx, id)
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
                    &json!({"token": state.tokens.issue_valid_for(&p.user, state.config.gever_token_lifetime_secs)}),
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
                &json!({"token": ctx.state.tokens.issue_valid_for(&ctx.p.user, ctx.state.config.gever_token_lifetime_secs)}),
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
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    // The original URI keeps the site root that nesting strips off.
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

/// Runs a mutating request in one transaction, at most once per
/// `Idempotency-Key`, and without notifications when it carries
/// `X-GEVER-SuppressNotifications: true` (NOTES §0.8).
fn write(
    ctx: &Ctx,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    f: impl FnOnce(&crate::db::Tx<'_>) -> Result<Answer>,
) -> Result<Answer> {
    let key = idempotency_key(headers)?;
    let print = fingerprint(method.as_str(), uri.path(), body);
    let quiet = headers
        .get("x-gever-suppressnotifications")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    let answer = mutate(
        &ctx.state,
        &ctx.p,
        key.as_deref(),
        &print,
        |a| a.status < 300,
        |tx| {
            if !quiet {
                return f(tx);
            }
            let last: i64 = tx
                .prepare_cached("SELECT coalesce(max(id), 0) FROM notifications")?
                .query_row([], |r| r.get(0))?;
            let answer = f(tx)?;
            tx.prepare_cached("DELETE FROM notifications WHERE id > ?1")?
                .execute([last])?;
            Ok(answer)
        },
    )?;
    Ok(with_replayed_location(answer))
}

/// A replayed creation keeps its `Location` (stored answers keep only the
/// body): the new object's `@id`, or for a comment the task's URL.
fn with_replayed_location(answer: Answer) -> Answer {
    let replayed = answer
        .headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("idempotent-replayed") && v == "true");
    if !replayed || answer.status != 201 {
        return answer;
    }
    let id = serde_json::from_slice::<Value>(&answer.body)
        .ok()
        .and_then(|b| b.get("@id").and_then(Value::as_str).map(String::from));
    match id {
        Some(id) => {
            let location = match id.split_once("/@responses/") {
                Some((task, _)) => task.to_string(),
                None => id,
            };
            answer.with_header("Location", location)
        }
        None => answer,
    }
}

/// The text of a comment request.
fn comment_text(body: &[u8]) -> Result<String> {
    Ok(body_json(body)?
        .get("text")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string())
}

fn response_id(rid: &str) -> Result<i64> {
    rid.parse()
        .map_err(|_| EngineError::NotFound(format!("response {rid}")))
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
    let mutating = |f: &dyn Fn(&crate::db::Tx<'_>) -> Result<Answer>| {
        write(ctx, method, uri, headers, body, f)
    };
    let task = match target {
        Target::Dossier(dossier) => {
            return match (method.as_str(), endpoint) {
                ("GET", []) => db.read(|c| dossier_json(ctx, c, &dossier)),
                ("POST", []) => mutating(&|tx| create(ctx, tx, body, None, Some(dossier.id))),
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
    let json_at = |f: &dyn Fn(&Connection, &str) -> Result<Value>| {
        db.read(|c| Ok(Answer::json(200, &f(c, &task_url(ctx, c, &task)?)?)))
    };
    match (method.as_str(), endpoint) {
        ("GET", []) => {
            let expand = query_list(uri, "expand");
            db.read(|c| Ok(Answer::json(200, &task_json(ctx, c, &task, &expand)?)))
        }
        ("PATCH", []) => mutating(&|tx| patch(ctx, tx, &task, body, headers)),
        ("POST", []) => mutating(&|tx| create(ctx, tx, body, Some(id), None)),
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
            mutating(&|tx| {
                let result = workflow::apply(tx, &ctx.p, id, Some(transition), &params)?;
                Ok(Answer::json(
                    200,
                    &json!({
                        "action": result.action,
                        "actor": result.actor,
                        "comments": "",
                        "review_state": result.review_state.review_state(),
                        "time": times::gever_utc(&result.time),
                        "title": ctx.lang.state(result.review_state),
                    }),
                ))
            })
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
            let text = comment_text(body)?;
            mutating(&|tx| {
                let r = responses::add_comment(tx, &ctx.p, &task, &text)?;
                let url = task_url(ctx, tx, &task)?;
                Ok(Answer::json(201, &repr::response_json(ctx, tx, &url, &r)?)
                    .with_header("Location", url))
            })
        }
        ("GET", ["@responses", rid]) => {
            let rid = response_id(rid)?;
            json_at(&|c, url| {
                let r = responses::get(c, id, rid)?
                    .ok_or_else(|| EngineError::NotFound(format!("response {rid}")))?;
                Ok(serde_json::to_value(repr::response_json(ctx, c, url, &r)?)?)
            })
        }
        ("PATCH", ["@responses", rid]) => {
            let rid = response_id(rid)?;
            let text = comment_text(body)?;
            mutating(&|tx| {
                responses::edit_comment(tx, &ctx.p, &task, rid, &text)?;
                Ok(Answer::empty(204))
            })
        }
        ("DELETE", ["@responses", rid]) => {
            let rid = response_id(rid)?;
            mutating(&|tx| {
                responses::delete_comment(tx, &ctx.p, &task, rid)?;
                Ok(Answer::empty(204))
            })
        }
        ("GET", ["@tasktree"]) => db.read(|c| Ok(Answer::json(200, &tasktree(ctx, c, &task)?))),
        // One admin unit: no task has a remote predecessor or successors.
        ("GET", ["@predecessor"]) => {
            json_at(&|_, url| Ok(json!({"@id": format!("{url}/@predecessor"), "item": null})))
        }
        ("GET", ["@successors"]) => {
            json_at(&|_, url| Ok(json!({"@id": format!("{url}/@successors"), "items": []})))
        }
        ("POST", ["@transfer-task"]) => {
            // The permission is checked before the body is read, as Zope does.
            if !ctx.p.admin {
                return Err(EngineError::Forbidden(
                    "You are not allowed to transfer tasks.".into(),
                ));
            }
            let fields = body_json(body)?;
            mutating(&|tx| transfer(ctx, tx, &task, &fields))
        }
        ("POST", ["@close-task"]) => mutating(&|tx| close_task(ctx, tx, id)),
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

/// `informed_principals`: users notified of a new task (schema field, NOTES §4.1).
fn informed_principals(conn: &Connection, fields: &Map<String, Value>) -> Result<Vec<String>> {
    let values: Vec<String> = match fields.get("informed_principals") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items.iter().filter_map(workflow::token).collect(),
        Some(other) => workflow::token(other).into_iter().collect(),
    };
    for user in &values {
        if users::find_user(conn, user)?.is_none() {
            return Err(EngineError::field(
                "informed_principals",
                "ConstraintNotSatisfied",
                "ConstraintNotSatisfied",
                format!("{user:?} is not a user"),
            ));
        }
    }
    Ok(values)
}

/// `POST <dossier or task>`: creates a task (a subtask when posted into one).
fn create(
    ctx: &Ctx,
    tx: &crate::db::Tx<'_>,
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
    // GEVER's `position` is an index into the process (0 = first); the
    // engine counts steps from 1.
    let position = match fields.get("position") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) if n.is_i64() => n.as_i64(),
        Some(Value::String(s)) if s.trim().parse::<i64>().is_ok() => s.trim().parse().ok(),
        Some(_) => return Err(EngineError::invalid("Could not parse `position` attribute")),
    }
    .map(|index| index.max(0) + 1);
    let informed = informed_principals(tx, &fields)?;
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
    let others: Vec<String> = informed
        .into_iter()
        .filter(|u| *u != ctx.p.user && Some(u.as_str()) != task.responsible.user.as_deref())
        .collect();
    responses::notify(tx, &others, task.id, "task-added", &ctx.p.user, &task.title)?;
    let url = task_url(ctx, tx, &task)?;
    Ok(Answer::json(201, &task_json(ctx, tx, &task, &[])?).with_header("Location", url))
}

/// `PATCH <task>`: open tasks only; the responsible and privacy cannot change here.
fn patch(
    ctx: &Ctx,
    tx: &crate::db::Tx<'_>,
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
    tx: &crate::db::Tx<'_>,
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
fn close_task(ctx: &Ctx, tx: &crate::db::Tx<'_>, id: i64) -> Result<Answer> {
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
// Site-root listings

async fn globalindex(
    State(state): State<St>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Answer {
    let url = format!("{}{}", base_url(&headers), uri);
    flatten(
        blocking(move || {
            let ctx = context(state, &headers)?;
            index::answer(&ctx, &uri, &url).map_err(|e| error_answer(e, &url))
        })
        .await,
    )
}

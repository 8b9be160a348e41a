//! `@notifications`: the current user's badge notifications (NOTES §9, C:
//! api/notifications.py) — listed unread first and batched, read one by
//! one, or all up to the newest one a client has seen.

use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, Method, Uri};
use rusqlite::{Connection, OptionalExtension};
use serde_json::{Value, json};

use super::index::{batch_params, batching, canonical};
use super::{Ctx, St, body_json, context, error_answer, flatten, oguid_of, shape_b};
use crate::error::Result;
use crate::responses::{self, Notification};
use crate::server::{Answer, base_url, blocking, times};
use crate::{tasks, users};

fn label(kind: &str) -> &'static str {
    match kind {
        "task-added" => "Task opened",
        "task-transition-reassign" => "Task reassigned",
        "task-commented" => "Task commented",
        _ => "Task modified",
    }
}

fn notification_json(ctx: &Ctx, conn: &Connection, n: &Notification) -> Result<Value> {
    let task = tasks::get(conn, n.task_id)?;
    Ok(json!({
        "@id": format!("{}/@notifications/{}/{}", ctx.root, ctx.p.user, n.id),
        "notification_id": n.id,
        "actor_id": n.actor,
        "actor_label": users::find_user(conn, &n.actor)?.map(|u| u.display_name),
        "created": times::gever_utc(&n.created),
        "label": label(&n.kind),
        "summary": n.summary,
        "title": task.as_ref().map(|t| t.title.clone()),
        "link": format!("{}/@@resolve_notification?notification_id={}", ctx.root, n.id),
        "oguid": oguid_of(ctx, n.task_id),
        "read": n.read,
    }))
}

fn bad_request(message: &str) -> Answer {
    shape_b(400, "BadRequest", message)
}

fn others() -> Answer {
    shape_b(
        401,
        "Unauthorized",
        "It's not allowed to access notifications of other users.",
    )
}

/// Whose notification an id is, if it exists.
fn owner_of(conn: &Connection, id: i64) -> Result<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT user_id FROM notifications WHERE id = ?1",
            [id],
            |r| r.get(0),
        )
        .optional()?)
}

/// `/@notifications[/<user>[/<id>]]` — every method, every depth, so that
/// a wrong number of path segments gets GEVER's own answer.
pub(super) async fn endpoint(
    State(state): State<St>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let url = format!("{}{}", base_url(&headers), uri);
    flatten(
        blocking(move || {
            let ctx = context(state, &headers)?;
            let params: Vec<String> = uri
                .path()
                .split('/')
                .skip_while(|s| *s != "@notifications")
                .skip(1)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect();
            respond(&ctx, &method, &params, &uri, &url, &body)
        })
        .await,
    )
}

fn respond(
    ctx: &Ctx,
    method: &Method,
    params: &[String],
    uri: &Uri,
    url: &str,
    body: &[u8],
) -> std::result::Result<Answer, Answer> {
    let db = ctx.state.engine.db();
    let fail = |e| error_answer(e, url);
    match method.as_str() {
        "GET" => {
            let (user, id) = match params {
                [user] => (user, None),
                [user, id] => (user, Some(id)),
                _ => {
                    return Err(bad_request(
                        "Must supply user ID as URL and optional the notification id as path parameter.",
                    ));
                }
            };
            if *user != ctx.p.user {
                return Err(others());
            }
            match id {
                Some(id) => {
                    let n = one(ctx, id)?;
                    db.read(|c| Ok(Answer::json(200, &notification_json(ctx, c, &n)?)))
                        .map_err(fail)
                }
                None => list(ctx, uri, url).map_err(fail),
            }
        }
        "PATCH" => {
            let [user, id] = params else {
                return Err(bad_request(
                    "Must supply user ID and the notification id as path parameter.",
                ));
            };
            if *user != ctx.p.user {
                return Err(others());
            }
            let fields = body_json(body).map_err(fail)?;
            let n = one(ctx, id)?;
            if fields.get("read") == Some(&Value::Bool(true)) {
                db.write(|tx| responses::mark_read(tx, &ctx.p.user, Some(n.id), None))
                    .map_err(fail)?;
            }
            Ok(Answer::empty(204))
        }
        "POST" => {
            let [user] = params else {
                return Err(bad_request("Must supply user ID as path parameter."));
            };
            if *user != ctx.p.user {
                return Err(others());
            }
            let fields = body_json(body).map_err(fail)?;
            if fields.get("mark_all_notifications_as_read") != Some(&Value::Bool(true)) {
                return Err(bad_request(
                    "Property 'mark_all_notifications_as_read' is required and must be true.",
                ));
            }
            let Some(latest) = fields
                .get("latest_client_side_notification")
                .and_then(Value::as_i64)
            else {
                return Err(bad_request(
                    "Property 'latest_client_side_notification' is required and must be an integer.",
                ));
            };
            let mine = db.read(|c| owner_of(c, latest)).map_err(fail)?;
            if mine.as_deref() != Some(ctx.p.user.as_str()) {
                return Err(bad_request(&format!(
                    "User has no notification with notification_id {latest}."
                )));
            }
            db.write(|tx| responses::mark_read(tx, &ctx.p.user, None, Some(latest)))
                .map_err(fail)?;
            Ok(Answer::empty(204))
        }
        _ => Err(shape_b(405, "MethodNotAllowed", "Method not allowed.")),
    }
}

/// One of the user's notifications; someone else's is refused, an unknown
/// (or non-numeric) id is not found.
fn one(ctx: &Ctx, id: &str) -> std::result::Result<Notification, Answer> {
    let not_found = || {
        shape_b(
            404,
            "NotFound",
            &format!(
                "Resource not found: {}/@notifications/{}/{id}",
                ctx.root, ctx.p.user
            ),
        )
    };
    let Ok(id) = id.parse::<i64>() else {
        return Err(not_found());
    };
    let db = ctx.state.engine.db();
    let owner = db
        .read(|c| owner_of(c, id))
        .map_err(|e| error_answer(e, ""))?;
    match owner {
        None => Err(not_found()),
        Some(owner) if owner != ctx.p.user => Err(others()),
        Some(_) => db
            .read(|c| {
                Ok(responses::notifications(c, &ctx.p.user)?
                    .into_iter()
                    .find(|n| n.id == id))
            })
            .map_err(|e| error_answer(e, ""))?
            .ok_or_else(not_found),
    }
}

/// The user's notifications, unread first, batched like every listing.
fn list(ctx: &Ctx, uri: &Uri, url: &str) -> Result<Answer> {
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let (b_start, b_size) = batch_params(&pairs)?;
    ctx.state.engine.db().read(|c| {
        let all = responses::notifications(c, &ctx.p.user)?;
        let total = i64::try_from(all.len()).unwrap_or(i64::MAX);
        let items = all
            .iter()
            .skip(usize::try_from(b_start).unwrap_or(usize::MAX))
            .take(usize::try_from(b_size).unwrap_or(usize::MAX))
            .map(|n| notification_json(ctx, c, n))
            .collect::<Result<Vec<_>>>()?;
        let mut body = json!({"@id": canonical(url), "items_total": total, "items": items});
        if let Some(links) = batching(url, total, b_start, b_size) {
            body["batching"] = serde_json::to_value(links)?;
        }
        Ok(Answer::json(200, &body))
    })
}

//! The Hitachi CSCIW dialect below `/csciwws/v1`
//! (`../shared/reference/hitachi/NOTES.md`, seed `hitachi-bpmn-allocate-api.ja.txt`).
//!
//! Bodies are XML (root `<Parameter>`) or JSON (flat) by `Content-Type`;
//! answers are JSON when `Accept` asks for it and XML otherwise (XML is the
//! vendor's default). All values are strings on the wire. Optional bodies
//! may be left out, and then no `Content-Type` is sent. `GET work-item`
//! (filter, sort, offset, maxcount) is tasklane's documented extension: the
//! vendor's list endpoint is not in the available manual pages.
//!
//! The vendor's error body is undocumented; tasklane answers
//! `{"Message": "…"}` in JSON or `<Error><Message>…</Message></Error>` in XML.
//!
//! A user sees and acts on the work items whose Participant is that user or
//! a lane (group) the user belongs to; administrators on all. An item one
//! may not see is answered 404, as if it did not exist. Besides the
//! vendor's 200, 400, 404 and 500, tasklane answers 401 without valid
//! basic auth, 403 to allocating for another participant (administrators
//! may), 409 to an `Idempotency-Key` reused for another request, and 413
//! to bodies over 1 MiB. A repeat of complete, free or reassign that finds
//! the item already so answers 200 and changes nothing (NOTES §2.3); once
//! an item is reassigned away, only its `Idempotency-Key` can replay that.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, Uri, header};
use axum::routing::{get, put};
use serde::de::DeserializeOwned;
use tasklane_dialects::hitachi::wire::{
    self, AllocateParameter, CompleteParameter, ReassignParameter, WorkItem as WireItem,
    WorkItemList, roots,
};
use tasklane_dialects::servertime::ServerTime;

use super::{Answer, AppState, auth, blocking, fingerprint, idempotency_key, mutate, times};
use crate::error::EngineError;
use crate::users::Principal;
use crate::workitems::{self, WorkItem};

type St = Arc<AppState>;

pub fn routes() -> Router<St> {
    Router::new()
        .route("/csciwws/v1/work-item", get(list))
        .route("/csciwws/v1/work-item/allocate", put(allocate))
        .route("/csciwws/v1/work-item/{pi}/{wi}", get(one))
        .route("/csciwws/v1/work-item/{pi}/{wi}/{action}", put(act))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Xml,
}

fn wants(headers: &HeaderMap) -> Format {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if accept.contains("json") {
        Format::Json
    } else {
        Format::Xml
    }
}

#[derive(serde::Serialize)]
#[serde(rename = "Error")]
struct ErrorBody {
    #[serde(rename = "Message")]
    message: String,
}

fn error(format: Format, status: u16, message: &str) -> Answer {
    let body = ErrorBody {
        message: message.to_string(),
    };
    match format {
        Format::Json => Answer::json(status, &body),
        Format::Xml => Answer::text(
            status,
            "application/xml; charset=utf-8",
            wire::to_xml(&body, "Error").unwrap_or_default(),
        ),
    }
}

fn error_answer(format: Format, e: EngineError) -> Answer {
    match e {
        EngineError::NotFound(m) => error(format, 404, &format!("{m} was not found")),
        EngineError::Forbidden(m) => error(format, 403, &m),
        EngineError::Invalid { translated, .. } => error(format, 400, &translated),
        EngineError::InvalidTransition { id, .. } => {
            error(format, 400, &format!("{id} is not possible now"))
        }
        EngineError::Conflict(m) => error(format, 409, &m),
        other => {
            tracing::error!(error = %other, "Hitachi request failed");
            error(format, 500, "internal processing error")
        }
    }
}

fn principal(state: &AppState, headers: &HeaderMap, format: Format) -> Result<Principal, Answer> {
    match auth::basic_principal(&state.engine, headers) {
        Ok(Some(p)) => Ok(p),
        Ok(None) => Err(error(format, 401, "authentication required")
            .with_header("WWW-Authenticate", "Basic realm=\"tasklane CSCIW\"")),
        Err(e) => Err(error_answer(format, e)),
    }
}

fn to_wire(item: WorkItem, state: &AppState) -> WireItem {
    let zone = &state.config.zones.hitachi;
    let time = |t: Option<&str>| ServerTime::parse(&times::hitachi(t, zone)).ok();
    WireItem {
        activity_instance_id: Some(item.activity_instance_id),
        closed_date: time(item.closed_date.as_deref()),
        creation_date: time(Some(&item.creation_date)),
        deadline: ServerTime::parse(&times::hitachi_deadline(item.deadline.as_deref(), zone)).ok(),
        id: item.id,
        name: item.name,
        participant: item.participant,
        priority: Some(item.priority),
        process_definition_id: Some(item.process_definition_id),
        process_instance_id: item.process_instance_id,
        process_instance_name: item.process_instance_name,
        start_date: time(item.start_date.as_deref()),
        state_code: item.state_code,
        work_definition_id: Some(item.work_definition_id),
        work_definition_name: item.work_definition_name,
        work_type_code: item.work_type_code,
    }
}

fn item_answer(format: Format, item: &WireItem) -> Answer {
    match format {
        Format::Json => Answer::json(200, item),
        Format::Xml => Answer::text(
            200,
            "application/xml; charset=utf-8",
            wire::to_xml(item, roots::WORK_ITEM).unwrap_or_default(),
        ),
    }
}

/// A request body by its Content-Type; `None` when there is none.
fn body<T: DeserializeOwned>(
    headers: &HeaderMap,
    bytes: &[u8],
    format: Format,
) -> Result<Option<T>, Answer> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let parsed = if content_type.contains("json") {
        serde_json::from_slice(bytes).map_err(|e| e.to_string())
    } else if content_type.contains("xml") {
        std::str::from_utf8(bytes)
            .map_err(|e| e.to_string())
            .and_then(|text| wire::from_xml(text).map_err(|e| e.to_string()))
    } else {
        return Err(error(
            format,
            400,
            "Content-Type must be application/json or application/xml",
        ));
    };
    parsed.map(Some).map_err(|e| {
        error(
            format,
            400,
            &format!("the request body cannot be read: {e}"),
        )
    })
}

/// `UserDescription` may be left out, but never empty.
fn check_description(description: Option<&str>, format: Format) -> Result<(), Answer> {
    match description {
        Some(d) if d.trim().is_empty() => Err(error(
            format,
            400,
            "UserDescription must not be an empty string",
        )),
        _ => Ok(()),
    }
}

fn flatten(r: Result<Result<Answer, Answer>, EngineError>, format: Format) -> Answer {
    match r {
        Ok(Ok(a)) | Ok(Err(a)) => a,
        Err(e) => error_answer(format, e),
    }
}

#[derive(Debug, serde::Deserialize)]
struct ListQuery {
    userdescription: Option<String>,
    filter: Option<String>,
    sort: Option<String>,
    offset: Option<String>,
    maxcount: Option<String>,
}

async fn list(State(state): State<St>, headers: HeaderMap, Query(q): Query<ListQuery>) -> Answer {
    let format = wants(&headers);
    flatten(
        blocking(move || {
            let p = principal(&state, &headers, format)?;
            check_description(q.userdescription.as_deref(), format)?;
            let number = |v: &Option<String>, default: i64| -> Result<i64, Answer> {
                match v {
                    None => Ok(default),
                    Some(s) => s
                        .trim()
                        .parse()
                        .map_err(|_| error(format, 400, &format!("{s:?} is not a number"))),
                }
            };
            let offset = number(&q.offset, 0)?;
            let maxcount = number(&q.maxcount, 100)?;
            for (name, v) in [("filter", &q.filter), ("sort", &q.sort)] {
                if v.as_deref().is_some_and(|s| s.trim().is_empty()) {
                    return Err(error(
                        format,
                        400,
                        &format!("{name} must not be an empty string"),
                    ));
                }
            }
            let db = state.engine.db();
            // Read before the transaction starts: see `Database::generation`.
            let generation = db.generation();
            let items = db
                .read(|c| {
                    let (offset, count) = workitems::paging(offset, maxcount)?;
                    let listing =
                        workitems::Listing::new(&p, q.filter.as_deref(), q.sort.as_deref())?;
                    let ids = state.listings.page(
                        &listing.key(),
                        generation,
                        offset,
                        count,
                        |limit| listing.ids(c, limit),
                    )?;
                    // Checked again: a write just before this transaction
                    // may have moved an item out of the listing.
                    listing.items(c, &ids)
                })
                .map_err(|e| error_answer(format, e))?;
            let list = WorkItemList {
                items: items.into_iter().map(|i| to_wire(i, &state)).collect(),
            };
            Ok(match format {
                Format::Json => Answer::json(200, &list),
                Format::Xml => Answer::text(
                    200,
                    "application/xml; charset=utf-8",
                    wire::to_xml(&list, roots::WORK_ITEM_LIST).unwrap_or_default(),
                ),
            })
        })
        .await,
        format,
    )
}

async fn one(
    State(state): State<St>,
    headers: HeaderMap,
    Path((pi, wi)): Path<(String, String)>,
    Query(q): Query<ListQuery>,
) -> Answer {
    let format = wants(&headers);
    flatten(
        blocking(move || {
            let p = principal(&state, &headers, format)?;
            check_description(q.userdescription.as_deref(), format)?;
            let (pi, wi) = ids(&pi, &wi, format)?;
            let item = state
                .engine
                .db()
                .read(|c| workitems::get(c, &p, pi, wi))
                .map_err(|e| error_answer(format, e))?;
            Ok(item_answer(format, &to_wire(item, &state)))
        })
        .await,
        format,
    )
}

fn ids(pi: &str, wi: &str, format: Format) -> Result<(i64, i64), Answer> {
    match (pi.parse(), wi.parse()) {
        (Ok(pi), Ok(wi)) => Ok((pi, wi)),
        _ => Err(error(
            format,
            404,
            &format!("work item {pi}/{wi} was not found"),
        )),
    }
}

async fn allocate(
    State(state): State<St>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    bytes: Bytes,
) -> Answer {
    let format = wants(&headers);
    flatten(
        blocking(move || {
            let p = principal(&state, &headers, format)?;
            let Some(req) = body::<AllocateParameter>(&headers, &bytes, format)? else {
                return Err(error(
                    format,
                    400,
                    "Participant and FetchCount are required",
                ));
            };
            check_description(req.user_description.as_deref(), format)?;
            if req.participant.trim().is_empty() {
                return Err(error(format, 400, "Participant is required"));
            }
            if req.fetch_count < -1 {
                return Err(error(format, 400, "FetchCount must be -1 or more"));
            }
            for (name, v) in [("Filter", &req.filter), ("Sort", &req.sort)] {
                if v.as_deref().is_some_and(|s| s.trim().is_empty()) {
                    return Err(error(
                        format,
                        400,
                        &format!("{name} must not be an empty string"),
                    ));
                }
            }
            let key = idempotency_key(&headers).map_err(|e| error_answer(format, e))?;
            let print = fingerprint(method.as_str(), uri.path(), &bytes);
            let fetch = if req.fetch_count == 0 {
                1
            } else {
                req.fetch_count
            };
            let answer = mutate(
                &state,
                &p,
                key.as_deref(),
                &print,
                |a| a.status == 200,
                |tx| {
                    let item = workitems::allocate(
                        tx,
                        &p,
                        &req.participant,
                        req.filter.as_deref(),
                        req.sort.as_deref(),
                        fetch,
                    )?;
                    Ok(match item {
                        Some(item) => item_answer(format, &to_wire(item, &state)),
                        // Nothing ready matched: the documented 404.
                        None => error(format, 404, "no allocatable work item was found"),
                    })
                },
            )
            .map_err(|e| error_answer(format, e))?;
            Ok(answer)
        })
        .await,
        format,
    )
}

async fn act(
    State(state): State<St>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Path((pi, wi, action)): Path<(String, String, String)>,
    bytes: Bytes,
) -> Answer {
    let format = wants(&headers);
    flatten(
        blocking(move || {
            let p = principal(&state, &headers, format)?;
            let (pi, wi) = ids(&pi, &wi, format)?;
            let key = idempotency_key(&headers).map_err(|e| error_answer(format, e))?;
            let print = fingerprint(method.as_str(), uri.path(), &bytes);
            let succeeded = |a: &Answer| a.status == 200;
            let done = |r: Result<WorkItem, EngineError>| {
                r.map(|i| item_answer(format, &to_wire(i, &state)))
            };
            let answer = match action.as_str() {
                "complete" => {
                    let req: Option<CompleteParameter> = body(&headers, &bytes, format)?;
                    check_description(
                        req.as_ref().and_then(|r| r.user_description.as_deref()),
                        format,
                    )?;
                    let data: Vec<(String, String)> = req
                        .map(|r| {
                            r.process_data
                                .into_iter()
                                .map(|d| (d.key, d.value.unwrap_or_default()))
                                .collect()
                        })
                        .unwrap_or_default();
                    mutate(&state, &p, key.as_deref(), &print, succeeded, |tx| {
                        done(workitems::complete(tx, &p, pi, wi, &data))
                    })
                }
                "free" => {
                    let req: Option<wire::FreeParameter> = body(&headers, &bytes, format)?;
                    check_description(
                        req.as_ref().and_then(|r| r.user_description.as_deref()),
                        format,
                    )?;
                    mutate(&state, &p, key.as_deref(), &print, succeeded, |tx| {
                        done(workitems::free(tx, &p, pi, wi))
                    })
                }
                "reassign" | "reassign-and-perform" => {
                    let req: Option<ReassignParameter> = body(&headers, &bytes, format)?;
                    check_description(
                        req.as_ref().and_then(|r| r.user_description.as_deref()),
                        format,
                    )?;
                    let (source, target) =
                        req.map(|r| (r.source, r.target)).unwrap_or((None, None));
                    let perform = action == "reassign-and-perform";
                    mutate(&state, &p, key.as_deref(), &print, succeeded, |tx| {
                        let item = workitems::reassign(
                            tx,
                            &p,
                            pi,
                            wi,
                            source.as_deref(),
                            target.as_deref(),
                        )?;
                        if perform && item.state_code == "f" {
                            let task = crate::tasks::require(tx, wi)?;
                            if task.state == crate::model::TaskState::Open {
                                crate::tasks::set_state(
                                    tx,
                                    wi,
                                    crate::model::TaskState::InProgress,
                                )?;
                            }
                        }
                        done(workitems::get(tx, &p, pi, wi).or(Ok(item)))
                    })
                }
                other => {
                    return Err(error(
                        format,
                        404,
                        &format!("{other} is not an operation on work items"),
                    ));
                }
            };
            answer.map_err(|e| error_answer(format, e))
        })
        .await,
        format,
    )
}

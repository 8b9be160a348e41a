//! Hitachi CSCIW BPMN連携 (Japan): the work-item REST API.
//!
//! [`HitachiClient`] claims work (`allocate`), fetches one work item,
//! completes it with process data, gives it back to its lane (`free`),
//! hands it to someone else (`reassign`) or takes a ready one
//! (`reassign-and-perform`). Every request carries `UserDescription`, the
//! audit label the server writes to its trace: the user's login name.
//!
//! Listing: the vendor documents no work-item list. tasklane's own server
//! offers the extension described in [`wire`]; where a server answers it
//! with 404, 405 or 501 the listing is empty and not exhaustive, and the
//! sync engine keeps the tasks it knows fresh with `fetch` (tasks claimed
//! through `allocate` become known from the op's outcome).
//!
//! Answers may be XML whatever `Accept` says; each is read by its content.
//! Request bodies are JSON unless the account says `body_format: "xml"`.

pub mod normalize;
pub mod wire;

use std::sync::atomic::{AtomicU8, Ordering};

use base64::Engine as _;
use jiff::tz::TimeZone;
use reqwest::Method;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tasklane_core::model::TaskRecord;
use tasklane_core::outbox::{Op, OpKind, OpRequest};
use tasklane_core::remote::{
    Applied, BoxFuture, Capabilities, ListMode, ListPage, Outcome, Remote, RemoteError,
};

use crate::classify::{self, Effect};
use crate::config::{BodyFormat, ClientConfig, ConfigError, Password};
use crate::transport::{Http, RESEND_SAFE, Reply};
use normalize::actions;
use wire::{
    AllocateParameter, CompleteParameter, FreeParameter, ProcessData, ReassignParameter, WorkItem,
    WorkItemList, paths, roots, state,
};

const LIST_UNKNOWN: u8 = 0;
const LIST_OFFERED: u8 = 1;
const LIST_ABSENT: u8 = 2;

/// A claim counts as this op's if the item was started at most this long
/// before the op was queued (the server's clock may run behind ours).
const CLOCK_SKEW: jiff::SignedDuration = jiff::SignedDuration::from_mins(5);

/// tasklane's client for one Hitachi CSCIW account.
#[derive(Debug)]
pub struct HitachiClient {
    http: Http,
    authorization: Option<Password>,
    /// `UserDescription`: never empty (the server refuses "").
    user_description: String,
    /// Who work is allocated to.
    participant: String,
    lane_filter: Option<String>,
    sort: Option<String>,
    body_format: BodyFormat,
    tz: TimeZone,
    list: AtomicU8,
}

impl HitachiClient {
    pub fn new(config: ClientConfig) -> Result<Self, ConfigError> {
        let tz = config.time_zone(normalize::DEFAULT_TIME_ZONE)?;
        let password = config.password.expose();
        // The manual documents no authentication; servers sit behind a web
        // server that usually asks for Basic auth.
        let authorization = (!password.is_empty()).then(|| {
            Password::new(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD
                    .encode(format!("{}:{password}", config.user_name))
            ))
        });
        let participant = config
            .settings
            .participant
            .clone()
            .filter(|p| !p.trim().is_empty())
            .unwrap_or_else(|| config.user_name.clone());
        Ok(HitachiClient {
            http: Http::new(&config, "application/json")?,
            authorization,
            user_description: config.user_name.clone(),
            participant,
            lane_filter: config
                .settings
                .lane_filter
                .clone()
                .filter(|f| !f.trim().is_empty()),
            sort: config
                .settings
                .sort
                .clone()
                .filter(|s| !s.trim().is_empty()),
            body_format: config.body_format,
            tz,
            list: AtomicU8::new(LIST_UNKNOWN),
        })
    }

    fn url(&self, path: &str) -> Result<url::Url, RemoteError> {
        self.http.url(&format!("{}{path}", paths::ROOT))
    }

    /// A request carrying the account's credentials.
    fn request(&self, method: Method, url: url::Url) -> reqwest::RequestBuilder {
        let req = self.http.request(method, url);
        match &self.authorization {
            Some(auth) => req.header(AUTHORIZATION, auth.expose()),
            None => req,
        }
    }

    async fn send(
        &self,
        method: Method,
        url: url::Url,
        body: Option<(String, &'static str)>,
        effect: Effect,
        op: Option<uuid::Uuid>,
    ) -> Result<Reply, RemoteError> {
        let mut req = self.request(method, url);
        // Without a body, no Content-Type may be sent (manual 11.1).
        if let Some((text, content_type)) = body {
            req = req.header(CONTENT_TYPE, content_type).body(text);
        }
        self.http.send(req, effect, op).await
    }

    /// A request body in the account's format.
    fn body<T: Serialize>(&self, value: &T) -> Result<(String, &'static str), RemoteError> {
        match self.body_format {
            BodyFormat::Json => serde_json::to_string(value)
                .map(|t| (t, "application/json"))
                .map_err(|e| classify::permanent(format!("cannot write the request: {e}"))),
            BodyFormat::Xml => wire::to_xml(value, roots::PARAMETER)
                .map(|t| (t, "application/xml"))
                .map_err(|e| classify::permanent(format!("cannot write the request: {e}"))),
        }
    }

    async fn get_item(&self, pi: i64, wi: i64) -> Result<Option<WorkItem>, RemoteError> {
        let mut url = self.url(&format!("{}/{pi}/{wi}", paths::WORK_ITEM))?;
        url.query_pairs_mut()
            .append_pair("userdescription", &self.user_description);
        let reply = self
            .send(Method::GET, url, None, Effect::Read, None)
            .await?;
        match reply.status {
            200 => parse_item(&reply).map(Some),
            404 => Ok(None),
            _ => Err(reply.unexpected("Hitachi work item", Effect::Read)),
        }
    }

    /// The listing filter: items of this user, and ready items of the
    /// user's lanes.
    fn list_filter(&self, extra: Option<&str>) -> String {
        let mine = format!("Participant='{}'", self.participant.replace('\'', "''"));
        let scope = match &self.lane_filter {
            Some(lanes) => format!("({mine} OR ({lanes}))"),
            None => mine,
        };
        match extra {
            Some(extra) => format!("{scope} AND {extra}"),
            None => scope,
        }
    }

    /// One page of the listing extension, or `None` where there is none.
    async fn list_items(
        &self,
        filter: &str,
        offset: i64,
        count: i64,
    ) -> Result<Option<Vec<WorkItem>>, RemoteError> {
        if self.list.load(Ordering::Relaxed) == LIST_ABSENT {
            return Ok(None);
        }
        let url = self.list_url(filter, offset, count)?;
        let reply = match self.http.claim(url.as_str()).await {
            Some(reply) => reply,
            None => {
                self.send(Method::GET, url, None, Effect::Read, None)
                    .await?
            }
        };
        match reply.status {
            200 => {
                self.list.store(LIST_OFFERED, Ordering::Relaxed);
                parse::<WorkItemList>(&reply, "Hitachi work-item list").map(|l| Some(l.items))
            }
            404 | 405 | 501 => {
                tracing::info!("this Hitachi server has no work-item list; listing nothing");
                self.list.store(LIST_ABSENT, Ordering::Relaxed);
                Ok(None)
            }
            _ => Err(reply.unexpected("Hitachi work-item list", Effect::Read)),
        }
    }

    fn list_url(&self, filter: &str, offset: i64, count: i64) -> Result<url::Url, RemoteError> {
        let mut url = self.url(paths::WORK_ITEM)?;
        url.query_pairs_mut()
            .append_pair("userdescription", &self.user_description)
            .append_pair("filter", filter)
            .append_pair("sort", "ProcessInstanceID, ID")
            .append_pair("offset", &offset.to_string())
            .append_pair("maxcount", &count.to_string());
        Ok(url)
    }

    async fn list(&self, cursor: Option<&str>) -> Result<ListPage, RemoteError> {
        let offset = match cursor {
            None => 0,
            Some(c) => c.parse::<i64>().ok().filter(|o| *o >= 0).ok_or_else(|| {
                classify::permanent(format!("invalid Hitachi listing cursor {c:?}"))
            })?,
        };
        let n = i64::from(self.http.limits().page());
        let filter = self.list_filter(None);
        let Some(items) = self.list_items(&filter, offset, n).await? else {
            return Ok(ListPage::default());
        };
        let full = i64::try_from(items.len()).unwrap_or(i64::MAX) >= n;
        // The next pages are sure to be asked for (every listing here is
        // whole, until a page comes back short): they travel while this one
        // is read and merged.
        if full {
            for k in 1..=i64::from(self.http.limits().pages_ahead()) {
                let url = self.list_url(&filter, offset + k * n, n)?;
                let req = self.request(Method::GET, url.clone());
                self.http.read_ahead(url.into(), req);
            }
        }
        Ok(ListPage {
            tasks: items
                .iter()
                .map(|i| normalize::record(i, &self.tz))
                .collect(),
            next: full.then(|| (offset + n).to_string()),
            total: None,
            watermark: None,
        })
    }

    async fn fetch_task(&self, key: &str) -> Result<Option<TaskRecord>, RemoteError> {
        let (pi, wi) = normalize::parse_key(key).ok_or_else(|| {
            classify::permanent(format!("{key:?} is not a Hitachi work item key"))
        })?;
        let Some(item) = self.get_item(pi, wi).await? else {
            return Ok(None);
        };
        // Someone else's work in progress has left this user's view.
        if item.state_code == state::PERFORMING && item.participant != self.participant {
            return Ok(None);
        }
        let mut task = normalize::record(&item, &self.tz);
        task.actions = Some(normalize::offered(&item, &self.participant));
        Ok(Some(task))
    }

    async fn put(
        &self,
        path: &str,
        body: Option<(String, &'static str)>,
        op: &Op,
        what: &str,
    ) -> Result<Reply, RemoteError> {
        let url = self.url(path)?;
        let reply = self
            .send(Method::PUT, url, body, Effect::Write, Some(op.op_id))
            .await?;
        if !reply.is_success() {
            return Err(reply.unexpected(what, Effect::Write));
        }
        Ok(reply)
    }

    async fn execute_op(&self, op: &Op, task: Option<&TaskRecord>) -> Result<Outcome, RemoteError> {
        match &op.request {
            OpRequest::Allocate {
                participant,
                filter,
                sort,
                fetch_count,
            } => {
                let body = AllocateParameter {
                    user_description: Some(self.user_description.clone()),
                    participant: participant
                        .clone()
                        .unwrap_or_else(|| self.participant.clone()),
                    filter: filter.clone().or_else(|| self.lane_filter.clone()),
                    sort: sort.clone().or_else(|| self.sort.clone()),
                    fetch_count: *fetch_count,
                };
                let url = self.url(paths::ALLOCATE)?;
                let reply = self
                    .send(
                        Method::PUT,
                        url,
                        Some(self.body(&body)?),
                        Effect::Write,
                        Some(op.op_id),
                    )
                    .await?;
                match reply.status {
                    200 => {
                        let item = parse_item(&reply)?;
                        Ok(Outcome {
                            result: serde_json::to_value(&item).unwrap_or_default(),
                            key: Some(normalize::key_of(&item)),
                        })
                    }
                    // "No data found": nothing ready matched, which is a
                    // normal answer to "give me the next item".
                    404 => Ok(Outcome {
                        result: json!({"allocated": null, "message": "no ready work item matched"}),
                        key: None,
                    }),
                    _ => Err(reply.unexpected("allocating work", Effect::Write)),
                }
            }
            OpRequest::Transition {
                transition, params, ..
            } => {
                let (pi, wi) = item_of(op, task)?;
                let base = format!("{}/{pi}/{wi}", paths::WORK_ITEM);
                let current = task.and_then(|t| t.assignee.clone().or_else(|| t.group.clone()));
                let (path, body) = match transition.as_str() {
                    actions::COMPLETE => (
                        format!("{base}/complete"),
                        self.body(&CompleteParameter {
                            user_description: Some(self.user_description.clone()),
                            process_data: process_data(params),
                        })?,
                    ),
                    actions::FREE => (
                        format!("{base}/free"),
                        self.body(&FreeParameter {
                            user_description: Some(self.user_description.clone()),
                        })?,
                    ),
                    actions::REASSIGN => {
                        let target = params
                            .get("Target")
                            .and_then(Value::as_str)
                            .filter(|t| !t.trim().is_empty())
                            .ok_or_else(|| classify::permanent("reassign needs a Target"))?;
                        (
                            format!("{base}/reassign"),
                            self.body(&ReassignParameter {
                                user_description: Some(self.user_description.clone()),
                                source: current,
                                target: Some(target.to_string()),
                            })?,
                        )
                    }
                    actions::TAKE => (
                        format!("{base}/reassign-and-perform"),
                        self.body(&ReassignParameter {
                            user_description: Some(self.user_description.clone()),
                            source: current,
                            target: Some(self.participant.clone()),
                        })?,
                    ),
                    other => {
                        return Err(classify::permanent(format!(
                            "Hitachi work items have no transition {other:?} (complete, free, reassign, reassign-and-perform)"
                        )));
                    }
                };
                let reply = self.put(&path, Some(body), op, transition).await?;
                let result = if reply.body.trim_ascii().is_empty() {
                    json!({"status": reply.status})
                } else {
                    parse_item(&reply)
                        .map(|i| serde_json::to_value(i).unwrap_or_default())
                        .unwrap_or_else(
                            |_| json!({"status": reply.status, "body": reply.snippet()}),
                        )
                };
                Ok(Outcome { result, key: None })
            }
            other => Err(classify::permanent(format!(
                "Hitachi CSCIW has no {} (it offers allocate, complete, free and reassign)",
                other.kind()
            ))),
        }
    }

    /// Whether an op that may have reached the server took effect.
    ///
    /// - With idempotency keys (tasklane's own server): unknown, and safe to
    ///   send again with the same key.
    /// - complete: the item is closed (or has a closed date). free: the item
    ///   is ready again. reassign: its participant is the target. take
    ///   (reassign-and-perform): it is performing and ours. (The server
    ///   itself treats these PUTs as idempotent, so "no" is safe to resend.)
    /// - allocate: every item performing for us that started after the op
    ///   was queued (found through the listing), as `Applied::Claimed`: the
    ///   sync engine takes away those the user already held and those other
    ///   claims took, and the claim took effect if one is left
    ///   (decisions/0009). Unknown where the server has no item list.
    async fn applied_op(&self, op: &Op, task: Option<&TaskRecord>) -> Result<Applied, RemoteError> {
        if self.http.idempotency_keys() {
            return Ok(Applied::Unknown(RESEND_SAFE.into()));
        }
        let since = op.created_at.and_then(|t| t.checked_sub(CLOCK_SKEW).ok());
        match &op.request {
            OpRequest::Allocate { participant, .. } => {
                let who = participant
                    .clone()
                    .unwrap_or_else(|| self.participant.clone());
                let filter = format!(
                    "Participant='{}' AND StateCode='{}'",
                    who.replace('\'', "''"),
                    state::PERFORMING
                );
                let Some(items) = self.list_items(&filter, 0, 100).await? else {
                    return Ok(Applied::Unknown(
                        "this server has no work-item list, so a claim cannot be looked up".into(),
                    ));
                };
                // Every item given to the user since the op was queued:
                // other claims queued with this one may have taken some
                // of them, which only the sync engine knows.
                let mut claimed: Vec<(jiff::Timestamp, &WorkItem)> = items
                    .iter()
                    .filter(|i| i.participant == who)
                    .filter_map(|i| {
                        let at = i.start_date.as_ref()?.to_timestamp(&self.tz)?;
                        (at >= since?).then_some((at, i))
                    })
                    .collect();
                claimed.sort_by_key(|(at, i)| (*at, i.id));
                Ok(Applied::Claimed(
                    claimed
                        .into_iter()
                        .map(|(_, item)| Outcome {
                            result: serde_json::to_value(item).unwrap_or_default(),
                            key: Some(normalize::key_of(item)),
                        })
                        .collect(),
                ))
            }
            OpRequest::Transition {
                transition, params, ..
            } => {
                let (pi, wi) = item_of(op, task)?;
                let Some(item) = self.get_item(pi, wi).await? else {
                    return Ok(Applied::Unknown(format!(
                        "work item {pi}:{wi} no longer exists"
                    )));
                };
                let done = match transition.as_str() {
                    actions::COMPLETE => {
                        normalize::state_of(&item.state_code).is_final()
                            || item.closed_date.is_some()
                    }
                    actions::FREE => item.state_code == state::READY,
                    actions::REASSIGN => {
                        params.get("Target").and_then(Value::as_str)
                            == Some(item.participant.as_str())
                    }
                    actions::TAKE => {
                        item.state_code == state::PERFORMING && item.participant == self.participant
                    }
                    _ => false,
                };
                Ok(if done {
                    Applied::Yes(Outcome {
                        result: serde_json::to_value(&item).unwrap_or_default(),
                        key: None,
                    })
                } else {
                    Applied::No
                })
            }
            _ => Ok(Applied::No),
        }
    }
}

/// Transition params as process data; values that are not strings are
/// written as JSON text.
fn process_data(params: &serde_json::Map<String, Value>) -> Vec<ProcessData> {
    params
        .iter()
        .map(|(k, v)| ProcessData {
            key: k.clone(),
            value: match v {
                Value::Null => None,
                Value::String(s) => Some(s.clone()),
                other => Some(other.to_string()),
            },
        })
        .collect()
}

fn item_of(op: &Op, task: Option<&TaskRecord>) -> Result<(i64, i64), RemoteError> {
    let key = task
        .map(|t| t.key.clone())
        .or_else(|| {
            op.base
                .as_ref()
                .and_then(|b| b.get("key"))
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .ok_or_else(|| classify::permanent("the op does not say which work item it is for"))?;
    normalize::parse_key(&key)
        .ok_or_else(|| classify::permanent(format!("{key:?} is not a Hitachi work item key")))
}

/// An answer in XML or JSON, whichever it is.
fn parse<T: DeserializeOwned>(reply: &Reply, what: &str) -> Result<T, RemoteError> {
    if reply.is_xml() {
        let text = std::str::from_utf8(&reply.body)
            .map_err(|e| classify::protocol(format!("{what}: not UTF-8 ({e})")))?;
        wire::from_xml(text).map_err(|e| {
            classify::protocol(format!("{what}: unexpected XML ({e})")).with_status(reply.status)
        })
    } else {
        reply.json(what)
    }
}

fn parse_item(reply: &Reply) -> Result<WorkItem, RemoteError> {
    if reply.is_xml() {
        parse(reply, "Hitachi work item")
    } else {
        wire::work_item_from_json(&reply.body).map_err(|e| {
            classify::protocol(format!("Hitachi work item: unexpected answer ({e})"))
                .with_status(reply.status)
        })
    }
}

impl Remote for HitachiClient {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            op_kinds: vec![OpKind::Allocate, OpKind::Transition],
            incremental: false,
            idempotency_keys: self.http.idempotency_keys(),
            exhaustive_listing: self.list.load(Ordering::Relaxed) == LIST_OFFERED,
        }
    }

    fn list_page<'a>(
        &'a self,
        _mode: &'a ListMode,
        cursor: Option<&'a str>,
    ) -> BoxFuture<'a, Result<ListPage, RemoteError>> {
        // No watermark exists, so every listing is full.
        Box::pin(self.list(cursor))
    }

    fn fetch<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<TaskRecord>, RemoteError>> {
        Box::pin(self.fetch_task(key))
    }

    fn execute<'a>(
        &'a self,
        op: &'a Op,
        task: Option<&'a TaskRecord>,
    ) -> BoxFuture<'a, Result<Outcome, RemoteError>> {
        Box::pin(self.execute_op(op, task))
    }

    fn applied<'a>(
        &'a self,
        op: &'a Op,
        task: Option<&'a TaskRecord>,
    ) -> BoxFuture<'a, Result<Applied, RemoteError>> {
        Box::pin(self.applied_op(op, task))
    }
}

//! OneGov GEVER (4teamwork, Switzerland): the task REST API.
//!
//! [`GeverClient`] lists the tasks the user is responsible for through
//! `@globalindex`, fetches one task (its representation with the full
//! history in `responses`, and `@workflow` for the transitions this user
//! may run now), runs transitions, writes, edits and deletes comments
//! through `@responses`, transfers tasks and creates tasks and subtasks.
//!
//! Authentication is HTTP Basic, or a JWT from `@login` when the account's
//! `auth` setting is `jwt` (renewed, and the request retried once, on 401).
//! GEVER answers a missing permission with 401 as well, so a 401 that
//! persists is checked against `@config`: a server that still knows the
//! user means "not permitted" (permanent), otherwise the credentials are
//! wrong (auth).
//!
//! Incremental listing: GEVER has no changes feed, so listings are sorted
//! by `modified` descending and paged down to the watermark less a margin.
//! Tasks are addressed by their `@id` URL, which changes when a dossier
//! moves; the stable key is the `oguid`, resolved to a URL through the
//! listings already seen or the index (`admin_unit_id` and `int_id`).

pub mod normalize;
mod ops;
pub mod wire;

use std::collections::HashMap;
use std::sync::Mutex;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use reqwest::Method;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use serde_json::Value;
use tasklane_core::model::{Action, TaskRecord};
use tasklane_core::outbox::{Op, OpKind};
use tasklane_core::remote::{
    Applied, BoxFuture, Capabilities, ListMode, ListPage, Outcome, Remote, RemoteError,
    RemoteErrorKind,
};
use tasklane_core::time::{format_ts, parse_ts};
use url::Url;
use uuid::Uuid;

use crate::classify::{self, Effect};
use crate::config::{ClientConfig, ConfigError, Password};
use crate::transport::{Http, Reply};
use wire::{
    Config, CurrentUser, ErrorBody, GlobalIndex, GlobalIndexItem, LoginRequest, LoginResponse,
    Task, WorkflowInfo, WorkflowSchema,
};

/// Tasks modified this long before the watermark are listed again: the
/// index is written in the server's transaction, which may commit after a
/// later one.
const WATERMARK_MARGIN: jiff::SignedDuration = jiff::SignedDuration::from_mins(10);

/// Roles that may use `@transfer-task` (`opengever.api.TransferAssignment`).
const TRANSFER_ROLES: [&str; 3] = ["Administrator", "Manager", "LimitedAdmin"];

#[derive(Debug)]
enum Auth {
    Basic(Password),
    Jwt {
        password: Password,
        token: tokio::sync::Mutex<Option<Password>>,
    },
}

/// tasklane's client for one GEVER account.
#[derive(Debug)]
pub struct GeverClient {
    http: Http,
    user: String,
    auth: Auth,
    tz: TimeZone,
    me: tokio::sync::Mutex<Option<CurrentUser>>,
    /// oguid → the task's current URL, from listings and lookups. Kept as
    /// the server wrote it and parsed when used: a listing names every
    /// task, a session acts on a few.
    locations: Mutex<HashMap<String, String>>,
    /// Org units whose inbox is listed after the user's own tasks.
    inboxes: Vec<String>,
}

impl GeverClient {
    pub fn new(config: ClientConfig) -> Result<Self, ConfigError> {
        use base64::Engine as _;
        let tz = config.time_zone(normalize::DEFAULT_TIME_ZONE)?;
        let auth = match config.settings.auth.as_deref() {
            None | Some("basic") => Auth::Basic(Password::new(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!(
                    "{}:{}",
                    config.user_name,
                    config.password.expose()
                ))
            ))),
            Some("jwt") => Auth::Jwt {
                password: config.password.clone(),
                token: tokio::sync::Mutex::new(None),
            },
            Some(other) => {
                return Err(ConfigError::Setting(format!(
                    "auth is \"basic\" or \"jwt\", not {other:?}"
                )));
            }
        };
        Ok(GeverClient {
            http: Http::new(&config, "application/json")?,
            user: config.user_name,
            auth,
            tz,
            me: tokio::sync::Mutex::new(None),
            locations: Mutex::new(HashMap::new()),
            inboxes: config.settings.inboxes,
        })
    }

    /// The `Authorization` value; logs in first (JWT) when needed.
    async fn authorization(&self, renew: bool) -> Result<String, RemoteError> {
        match &self.auth {
            Auth::Basic(header) => Ok(header.expose().to_string()),
            Auth::Jwt { password, token } => {
                let mut guard = token.lock().await;
                if !renew && let Some(t) = guard.as_ref() {
                    return Ok(format!("Bearer {}", t.expose()));
                }
                let t = self.log_in(password).await?;
                let header = format!("Bearer {t}");
                *guard = Some(Password::new(t));
                Ok(header)
            }
        }
    }

    async fn log_in(&self, password: &Password) -> Result<String, RemoteError> {
        let body = LoginRequest {
            login: self.user.clone(),
            password: password.expose().to_string(),
        };
        let req = self
            .http
            .request(Method::POST, self.http.url("@login")?)
            .json(&body);
        let reply = self.http.send(req, Effect::Read, None).await?;
        match reply.status {
            200 => Ok(reply.json::<LoginResponse>("GEVER @login")?.token),
            // 400 missing credentials, 401 wrong ones, 501 no JWT plugin:
            // nothing a retry changes.
            400 | 401 | 501 => Err(RemoteError::new(
                RemoteErrorKind::Auth,
                format!("GEVER refused the login: {}", error_message(&reply)),
            )
            .with_status(reply.status)),
            _ => Err(reply.unexpected("GEVER @login", Effect::Read)),
        }
    }

    /// Sends one request with credentials; with a JWT, a 401 renews the
    /// token and the request is sent once more.
    async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
        effect: Effect,
        op: Option<Uuid>,
    ) -> Result<Reply, RemoteError> {
        self.http.same_origin(&url)?;
        let mut renew = false;
        loop {
            let mut req = self
                .http
                .request(method.clone(), url.clone())
                .header(AUTHORIZATION, self.authorization(renew).await?);
            if let Some(body) = body {
                req = req.header(CONTENT_TYPE, "application/json").json(body);
            }
            let reply = self.http.send(req, effect, op).await?;
            if reply.status == 401 && matches!(self.auth, Auth::Jwt { .. }) && !renew {
                renew = true;
                continue;
            }
            return Ok(reply);
        }
    }

    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        url: Url,
        what: &str,
    ) -> Result<T, RemoteError> {
        let reply = self
            .send(Method::GET, url, None, Effect::Read, None)
            .await?;
        self.json_of(reply, what).await
    }

    /// A GET's answer as JSON of type `T`, or its classified failure.
    async fn json_of<T: serde::de::DeserializeOwned>(
        &self,
        reply: Reply,
        what: &str,
    ) -> Result<T, RemoteError> {
        if reply.status != 200 {
            return Err(self.failure(&reply, what, Effect::Read).await);
        }
        reply.json(what)
    }

    /// The classified error for a failed answer, with the server's message.
    async fn failure(&self, reply: &Reply, what: &str, effect: Effect) -> RemoteError {
        let message = format!("{what}: {}", error_message(reply));
        if reply.status == 401 {
            return match self.whoami().await {
                Ok(Some(_)) => RemoteError::new(
                    RemoteErrorKind::Permanent,
                    format!("{message} (not permitted for this user)"),
                )
                .with_status(401),
                Ok(None) => RemoteError::new(
                    RemoteErrorKind::Auth,
                    format!("{message} (GEVER does not accept the credentials)"),
                )
                .with_status(401),
                Err(e) => e,
            };
        }
        classify::from_status(reply.status, &reply.headers, message, effect)
    }

    /// The user as the server sees this client now (`None`: anonymous).
    async fn whoami(&self) -> Result<Option<CurrentUser>, RemoteError> {
        let reply = self
            .send(
                Method::GET,
                self.http.url("@config")?,
                None,
                Effect::Read,
                None,
            )
            .await?;
        if reply.status == 401 {
            return Ok(None);
        }
        if reply.status != 200 {
            return Err(reply.unexpected("GEVER @config", Effect::Read));
        }
        Ok(reply.json::<Config>("GEVER @config")?.current_user)
    }

    /// The logged-in user, asked once per client.
    async fn me(&self) -> Result<CurrentUser, RemoteError> {
        let mut guard = self.me.lock().await;
        if let Some(me) = guard.as_ref() {
            return Ok(me.clone());
        }
        let me = self.whoami().await?.ok_or_else(|| {
            RemoteError::new(
                RemoteErrorKind::Auth,
                "GEVER does not accept the credentials (@config shows no current user)",
            )
        })?;
        *guard = Some(me.clone());
        Ok(me)
    }

    fn remember(&self, oguid: &str, id: &str) {
        let mut map = self.locations.lock().unwrap_or_else(|p| p.into_inner());
        map.insert(oguid.to_string(), id.to_string());
    }

    fn forget(&self, oguid: &str) {
        let mut map = self.locations.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(oguid);
    }

    fn known_location(&self, oguid: &str) -> Option<Url> {
        let map = self.locations.lock().unwrap_or_else(|p| p.into_inner());
        map.get(oguid).and_then(|id| Url::parse(id).ok())
    }

    async fn index_page(&self, query: &[(&str, String)]) -> Result<GlobalIndex, RemoteError> {
        let url = self.index_url(query)?;
        let index: GlobalIndex = self.get_json(url, "GEVER @globalindex").await?;
        self.remember_all(&index);
        Ok(index)
    }

    fn index_url(&self, query: &[(&str, String)]) -> Result<Url, RemoteError> {
        let mut url = self.http.url("@globalindex")?;
        url.query_pairs_mut()
            .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        Ok(url)
    }

    /// Sends the GET of `url` ahead of its turn ([`Http::read_ahead`]).
    async fn read_ahead(&self, url: Url) {
        // Without a token at hand the page is asked for in turn.
        let Ok(authorization) = self.authorization(false).await else {
            return;
        };
        let req = self
            .http
            .request(Method::GET, url.clone())
            .header(AUTHORIZATION, authorization);
        self.http.read_ahead(url.into(), req);
    }

    fn remember_all(&self, index: &GlobalIndex) {
        let mut map = self.locations.lock().unwrap_or_else(|p| p.into_inner());
        for item in &index.items {
            map.insert(item.oguid.clone(), item.id.clone());
        }
    }

    /// The current URL of the task with this oguid, or `None` when the user
    /// cannot see it (any more).
    async fn locate(&self, oguid: &str) -> Result<Option<Url>, RemoteError> {
        if let Some(url) = self.known_location(oguid) {
            return Ok(Some(url));
        }
        let (unit, int_id) = oguid
            .rsplit_once(':')
            .filter(|(u, i)| !u.is_empty() && i.parse::<u64>().is_ok())
            .ok_or_else(|| classify::permanent(format!("{oguid:?} is not a GEVER oguid")))?;
        // The index filters on any column of its task table; an unknown
        // column is ignored, which the check on items_total notices.
        let index = self
            .index_page(&[
                ("filters.admin_unit_id:record", unit.to_string()),
                ("filters.int_id:record", int_id.to_string()),
                ("b_size", "5".into()),
            ])
            .await?;
        if let Some(url) = self.known_location(oguid) {
            return Ok(Some(url));
        }
        if index.items_total <= 1 {
            return Ok(None);
        }
        let me = self.me().await?;
        let size = i64::from(self.http.limits().page());
        for page in 0..i64::from(self.http.limits().max_scan_pages) {
            let index = self
                .index_page(&[
                    ("filters.responsible:record", me.id.clone()),
                    ("b_start", (page * size).to_string()),
                    ("b_size", size.to_string()),
                ])
                .await?;
            if let Some(url) = self.known_location(oguid) {
                return Ok(Some(url));
            }
            if (page + 1) * size >= index.items_total || index.items.is_empty() {
                break;
            }
        }
        Ok(None)
    }

    /// One page of the listing: the user's own tasks (teams included),
    /// then each configured inbox's, each paged newest first. The cursor
    /// says which of them and where.
    async fn list(&self, mode: &ListMode, cursor: Option<&str>) -> Result<ListPage, RemoteError> {
        let Cursor {
            part,
            start: b_start,
            mut newest,
        } = parse_cursor(cursor)?;
        let responsible = match part {
            0 => self.me().await?.id,
            n => match self.inboxes.get(n - 1) {
                Some(ou) => format!("inbox:{ou}"),
                None => {
                    return Err(classify::permanent(format!(
                        "invalid GEVER listing cursor {cursor:?}: no inbox {n}"
                    )));
                }
            },
        };
        let size = i64::from(self.http.limits().page());
        let page_url = |start: i64| {
            self.index_url(&[
                ("filters.responsible:record", responsible.clone()),
                ("sort_on", "modified".into()),
                ("sort_order", "descending".into()),
                ("b_start", start.to_string()),
                ("b_size", size.to_string()),
            ])
        };
        let url = page_url(b_start)?;
        let reply = match self.http.claim(url.as_str()).await {
            Some(reply) => reply,
            None => {
                self.send(Method::GET, url, None, Effect::Read, None)
                    .await?
            }
        };
        let index: GlobalIndex = self.json_of(reply, "GEVER @globalindex").await?;
        // The next pages of a whole listing are sure to be asked for: they
        // travel while this one is read and merged. They start where this
        // page's length says, which is `size` unless the server pages in
        // fewer.
        let length = i64::try_from(index.items.len()).unwrap_or(0);
        let seen = b_start + length;
        if *mode == ListMode::Full && length > 0 {
            let ahead = i64::from(self.http.limits().pages_ahead());
            for start in (0..ahead).map(|k| seen + k * length) {
                if start >= index.items_total {
                    break;
                }
                self.read_ahead(page_url(start)?).await;
            }
        }
        self.remember_all(&index);
        let cutoff = match mode {
            ListMode::Full => None,
            ListMode::Since(wm) => parse_ts(wm).and_then(|t| t.checked_sub(WATERMARK_MARGIN).ok()),
        };
        let mut tasks = Vec::new();
        let mut reached_cutoff = false;
        for item in &index.items {
            let modified = modified_at(item, &self.tz);
            if let (Some(cutoff), Some(m)) = (cutoff, modified)
                && m < cutoff
            {
                reached_cutoff = true;
                break;
            }
            if let Some(m) = modified
                && newest.is_none_or(|n| m > n)
            {
                newest = Some(m);
            }
            tasks.push(normalize::record_from_index(item, &self.tz));
        }
        let more_here = !reached_cutoff && !index.items.is_empty() && seen < index.items_total;
        let next = if more_here {
            Some(Cursor {
                part,
                start: seen,
                newest,
            })
        } else if part < self.inboxes.len() {
            Some(Cursor {
                part: part + 1,
                start: 0,
                newest,
            })
        } else {
            None
        };
        let watermark = newest.map(format_ts).or_else(|| match mode {
            ListMode::Since(wm) => Some(wm.clone()),
            ListMode::Full => None,
        });
        Ok(ListPage {
            tasks,
            total: match mode {
                // The whole listing's size is known only with one part.
                ListMode::Full if self.inboxes.is_empty() => u64::try_from(index.items_total).ok(),
                _ => None,
            },
            watermark: if next.is_none() { watermark } else { None },
            next: next.map(|c| c.to_string()),
        })
    }

    /// The task representation with its `@workflow` component embedded
    /// (`?expand=workflow`, so one request instead of two), or `None` when
    /// the user cannot see it.
    async fn task_at(&self, oguid: &str) -> Result<Option<(Url, Task)>, RemoteError> {
        for attempt in 0..2 {
            let Some(url) = self.locate(oguid).await? else {
                return Ok(None);
            };
            let mut expanded = url.clone();
            expanded.query_pairs_mut().append_pair("expand", "workflow");
            let reply = self
                .send(Method::GET, expanded, None, Effect::Read, None)
                .await?;
            match reply.status {
                200 => {
                    let task: Task = reply.json("GEVER task")?;
                    self.remember(&task.oguid, &task.id);
                    return Ok(Some((url, task)));
                }
                // Moved (a new @id) or gone: look it up once more.
                404 if attempt == 0 => self.forget(oguid),
                404 => return Ok(None),
                401 => {
                    let err = self.failure(&reply, "GEVER task", Effect::Read).await;
                    return match err.kind {
                        RemoteErrorKind::Permanent => Ok(None),
                        _ => Err(err),
                    };
                }
                _ => return Err(self.failure(&reply, "GEVER task", Effect::Read).await),
            }
        }
        Ok(None)
    }

    async fn fetch_task(&self, oguid: &str) -> Result<Option<TaskRecord>, RemoteError> {
        let Some((url, mut task)) = self.task_at(oguid).await? else {
            return Ok(None);
        };
        // A server that does not expand the component is asked for it.
        let workflow: WorkflowInfo = match take_component(&mut task, "workflow") {
            Some(workflow) => workflow,
            None => {
                self.get_json(sub_url(&url, "@workflow")?, "GEVER @workflow")
                    .await?
            }
        };
        let actions = self.actions(&url, &task, &workflow).await?;
        Ok(Some(normalize::record_from_task(
            &task, &workflow, actions, &self.tz,
        )))
    }

    /// The transitions offered now, with their parameters, plus
    /// `@transfer-task` for administrators.
    async fn actions(
        &self,
        url: &Url,
        task: &Task,
        workflow: &WorkflowInfo,
    ) -> Result<Vec<Action>, RemoteError> {
        let task_type = task.task_type.as_ref().map(|t| t.token());
        let mut actions = Vec::new();
        for link in &workflow.transitions {
            let id = link.transition_id().to_string();
            let params = match normalize::transition_params(&id, task_type) {
                Some(params) => params,
                None => {
                    let schema_url = sub_url(url, &format!("@workflow-schema/{id}"))?;
                    match self
                        .get_json::<WorkflowSchema>(schema_url, "GEVER @workflow-schema")
                        .await
                    {
                        Ok(schema) => normalize::schema_params(&schema),
                        Err(e)
                            if matches!(
                                e.kind,
                                RemoteErrorKind::Permanent | RemoteErrorKind::Protocol
                            ) =>
                        {
                            tracing::warn!(error = %e, transition = %id, "no schema; offering text only");
                            normalize::schema_params(&WorkflowSchema {
                                properties: Default::default(),
                                required: Vec::new(),
                                fieldsets: Vec::new(),
                            })
                        }
                        Err(e) => return Err(e),
                    }
                }
            };
            actions.push(Action {
                to_state: normalize::transition_target(&id),
                label: if link.title.is_empty() {
                    id.clone()
                } else {
                    link.title.clone()
                },
                id,
                params,
            });
        }
        let me = self.me().await?;
        if me
            .roles
            .iter()
            .any(|r| TRANSFER_ROLES.contains(&r.as_str()))
        {
            actions.push(ops::transfer_action());
        }
        Ok(actions)
    }
}

fn modified_at(item: &GlobalIndexItem, tz: &TimeZone) -> Option<Timestamp> {
    item.modified.as_ref().and_then(|t| t.to_timestamp(tz))
}

/// `<task URL>/<segment>`.
fn sub_url(task: &Url, segment: &str) -> Result<Url, RemoteError> {
    let mut url = task.clone();
    url.set_query(None);
    let path = format!("{}/{segment}", url.path().trim_end_matches('/'));
    url.set_path(&path);
    Ok(url)
}

/// Takes an expanded component out of a representation (so it does not
/// travel on in the task's payload); `None` when it is absent or not
/// shaped as expected.
fn take_component<T: serde::de::DeserializeOwned>(task: &mut Task, name: &str) -> Option<T> {
    let Some(Value::Object(components)) = task.extra.get_mut("@components") else {
        return None;
    };
    let component = components.remove(name)?;
    if components.is_empty() {
        task.extra.remove("@components");
    }
    serde_json::from_value(component)
        .inspect_err(|e| tracing::warn!(error = %e, name, "unreadable expanded component"))
        .ok()
}

/// The message of an error answer, in either of GEVER's shapes.
fn error_message(reply: &Reply) -> String {
    match serde_json::from_slice::<ErrorBody>(&reply.body) {
        Ok(body) => body.user_message(),
        Err(_) => {
            let snippet = reply.snippet();
            if snippet.is_empty() {
                format!("HTTP {}", reply.status)
            } else {
                snippet
            }
        }
    }
}

/// Where a listing goes on: which part (0: the user's own tasks, n: the
/// n-th inbox), from which index entry, and the newest change seen so far.
/// Written `[part:]start[|newest]`; none at all is the very start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Cursor {
    part: usize,
    start: i64,
    newest: Option<Timestamp>,
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.part > 0 {
            write!(f, "{}:", self.part)?;
        }
        write!(f, "{}", self.start)?;
        if let Some(newest) = self.newest {
            write!(f, "|{}", format_ts(newest))?;
        }
        Ok(())
    }
}

fn parse_cursor(cursor: Option<&str>) -> Result<Cursor, RemoteError> {
    let Some(text) = cursor else {
        return Ok(Cursor::default());
    };
    let invalid = || classify::permanent(format!("invalid GEVER listing cursor {text:?}"));
    let (head, newest) = match text.split_once('|') {
        Some((h, t)) => (h, Some(parse_ts(t).ok_or_else(invalid)?)),
        None => (text, None),
    };
    let (part, start) = match head.split_once(':') {
        Some((p, s)) => (p.parse::<usize>().map_err(|_| invalid())?, s),
        None => (0, head),
    };
    let start = start
        .parse::<i64>()
        .ok()
        .filter(|s| *s >= 0)
        .ok_or_else(invalid)?;
    Ok(Cursor {
        part,
        start,
        newest,
    })
}

impl Remote for GeverClient {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            op_kinds: vec![
                OpKind::Transition,
                OpKind::CommentAdd,
                OpKind::CommentEdit,
                OpKind::CommentDelete,
                OpKind::CreateTask,
            ],
            incremental: true,
            idempotency_keys: self.http.idempotency_keys(),
            exhaustive_listing: true,
        }
    }

    fn list_page<'a>(
        &'a self,
        mode: &'a ListMode,
        cursor: Option<&'a str>,
    ) -> BoxFuture<'a, Result<ListPage, RemoteError>> {
        Box::pin(self.list(mode, cursor))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_urls_hang_below_the_task() {
        let task = Url::parse("http://example.org/fd/dossier-1/task-5").unwrap();
        assert_eq!(
            sub_url(&task, "@workflow/task-transition-reassign")
                .unwrap()
                .as_str(),
            "http://example.org/fd/dossier-1/task-5/@workflow/task-transition-reassign"
        );
    }

    #[test]
    fn cursors_carry_the_part_the_batch_start_and_the_newest_time_seen() {
        let first = parse_cursor(None).unwrap();
        assert_eq!((first.part, first.start, first.newest), (0, 0, None));
        let own = parse_cursor(Some("100|2016-08-31T16:27:33Z")).unwrap();
        assert_eq!((own.part, own.start), (0, 100));
        assert_eq!(format_ts(own.newest.unwrap()), "2016-08-31T16:27:33Z");
        assert_eq!(own.to_string(), "100|2016-08-31T16:27:33Z");
        let inbox = parse_cursor(Some("2:25|2016-08-31T16:27:33Z")).unwrap();
        assert_eq!((inbox.part, inbox.start), (2, 25));
        assert_eq!(inbox.to_string(), "2:25|2016-08-31T16:27:33Z");
        for bad in ["-5", "x:5", "1:", "5|yesterday"] {
            assert!(parse_cursor(Some(bad)).is_err(), "{bad}");
        }
    }
}

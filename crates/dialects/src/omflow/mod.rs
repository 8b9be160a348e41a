//! OMFLOW (Syscom, Taiwan): the my-mission API.
//!
//! [`OmflowClient`] lists the user's my-mission rows, fetches one stop with
//! its work log and offered actions, pushes forms, runs quick actions,
//! writes work-log entries as comments and opens tickets. The payloads are
//! in [`wire`]; the state table and the mapping onto tasks in [`normalize`];
//! the security code in `session`; the ops in `ops`.
//!
//! Listing: `POST /rest/my-mission/api/my-mission/list/` with explicit
//! `order_columns`, paged `start = k*n, limit = (k+1)*n` (`limit` is an end
//! index). Incremental listings ask for `updatetime > watermark - margin`.
//! OMFLOW 1.1 answers an empty list with the failure
//! `'NoneType' object has no attribute 'objects'`; exactly that failure
//! means "no tasks".

mod directory;
pub mod normalize;
mod ops;
mod session;
pub mod wire;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use jiff::tz::TimeZone;
use serde_json::Value;
use serde_json::value::RawValue;
use tasklane_core::model::{AccountSettings, TaskRecord};
use tasklane_core::outbox::{Op, OpKind};
use tasklane_core::remote::{
    Applied, BoxFuture, Capabilities, ListMode, ListPage, Outcome, Remote, RemoteError,
    RemoteErrorKind,
};

use crate::classify::{self, Effect};
use crate::config::{ClientConfig, ConfigError};
use crate::servertime::ServerTime;
use crate::transport::Http;
use directory::Directory;
use normalize::Key;
use session::{EMPTY_LIST_QUIRK, Session, check, check_as};
use wire::{
    Condition, Envelope, FormDefinition, FormDefinitionRequest, GroupListRequest, GroupRow,
    MissionListRequest, MissionRow, RESTAPI_FLAG, UserListRequest, UserRow, WorkLogRequest,
    WorkLogRow, paths, status,
};

/// Rows changed this long before the watermark are listed again, so that a
/// row committed late with an earlier `updatetime` is not missed.
const WATERMARK_MARGIN: jiff::SignedDuration = jiff::SignedDuration::from_mins(2);
/// How long a form definition (or its absence) is trusted.
const FORM_TTL: Duration = Duration::from_secs(10 * 60);

/// tasklane's client for one OMFLOW account.
#[derive(Debug)]
pub struct OmflowClient {
    http: Http,
    session: Session,
    settings: AccountSettings,
    tz: TimeZone,
    forms: Mutex<FormCache>,
    directory: Mutex<Directory>,
}

#[derive(Debug, Default)]
struct FormCache {
    /// When the server last answered the extension as unroutable (a real
    /// OMFLOW); it is not asked again for a while.
    unsupported: Option<Instant>,
    by_stop: HashMap<(String, String), (Instant, FormDefinition)>,
}

impl OmflowClient {
    pub fn new(config: ClientConfig) -> Result<Self, ConfigError> {
        let tz = config.time_zone(normalize::DEFAULT_TIME_ZONE)?;
        Ok(OmflowClient {
            http: Http::new(&config, "application/json")?,
            session: Session::new(config.user_name.clone(), config.password.clone()),
            settings: config.settings,
            tz,
            forms: Mutex::new(FormCache::default()),
            directory: Mutex::new(Directory::default()),
        })
    }

    /// The api_path of a flow: the row's own (promised for later releases),
    /// the account's mapping, or OMFLOW's default, the uuid without dashes.
    fn api_path(&self, flow_hex: &str, row: Option<&MissionRow>) -> String {
        if let Some(path) = row
            .and_then(|r| r.api_path.as_deref())
            .filter(|p| !p.is_empty())
        {
            return path.to_string();
        }
        self.settings
            .api_paths
            .get(flow_hex)
            .cloned()
            .unwrap_or_else(|| flow_hex.to_string())
    }

    async fn mission_rows(
        &self,
        conditions: &[Condition],
        order: &[&str],
        start: i64,
        limit: i64,
    ) -> Result<Vec<MissionRow>, RemoteError> {
        let make = mission_list(conditions, order, start, limit);
        // The rows are read from the answer's text at once: through a
        // `Value` tree first, a long listing cost twice the decoding.
        let env: Envelope<Box<RawValue>> = self
            .session
            .read(&self.http, paths::MY_MISSION_LIST, make)
            .await?;
        if env.status.code() == Some(status::FAILED) && env.message.contains(EMPTY_LIST_QUIRK) {
            return Ok(Vec::new());
        }
        let Some(result) = check_as(env, "listing my missions")? else {
            return Err(classify::protocol(
                "the my-mission list is not a list: null",
            ));
        };
        if !result.get().starts_with('[') {
            return Err(classify::protocol(format!(
                "the my-mission list is not a list: {}",
                short(result.get())
            )));
        }
        let rows: Vec<MissionRow> = serde_json::from_str(result.get())
            .map_err(|e| classify::protocol(format!("a my-mission row is malformed: {e}")))?;
        Ok(rows.into_iter().filter(|r| !r.history).collect())
    }

    /// Sends the request of [`Self::mission_rows`] ahead of its turn.
    async fn read_ahead_rows(
        &self,
        conditions: &[Condition],
        order: &[&str],
        start: i64,
        limit: i64,
    ) {
        let make = mission_list(conditions, order, start, limit);
        self.session
            .read_ahead(&self.http, paths::MY_MISSION_LIST, make)
            .await;
    }

    /// The row of one stop, if it is in the user's list.
    async fn row(&self, key: &Key) -> Result<Option<MissionRow>, RemoteError> {
        let mut conditions = vec![
            Condition::new("data_no", "=", key.data_no),
            Condition::new("stop_uuid", "=", key.stop_uuid.as_str()),
        ];
        if let Some(dashed) = normalize::flow_dashed(&key.flow_hex) {
            conditions.push(Condition::new("flow_uuid", "=", dashed));
        }
        let rows = self.mission_rows(&conditions, &["id"], 0, 50).await?;
        Ok(rows.into_iter().find(|r| Key::of(r) == *key))
    }

    async fn list(&self, mode: &ListMode, cursor: Option<&str>) -> Result<ListPage, RemoteError> {
        let (page, mut newest) = parse_cursor(cursor)?;
        let n = i64::from(self.http.limits().page());
        let since = match mode {
            ListMode::Full => None,
            ListMode::Since(wm) => ServerTime::parse(wm).ok(),
        };
        let (conditions, order): (Vec<Condition>, &[&str]) = match &since {
            None => (Vec::new(), &["id"]),
            Some(wm) => {
                let from = wm
                    .civil()
                    .checked_sub(WATERMARK_MARGIN)
                    .map_err(|e| classify::permanent(format!("watermark {wm}: {e}")))?;
                let from = ServerTime::naive(from);
                (
                    vec![Condition::new("updatetime", ">", from.as_str())],
                    &["updatetime", "id"],
                )
            }
        };
        let rows = self
            .mission_rows(&conditions, order, page * n, (page + 1) * n)
            .await?;
        let full_page = i64::try_from(rows.len()).unwrap_or(i64::MAX) >= n;
        // The next pages of a whole listing are sure to be asked for (until
        // one comes back short): they travel while this one is read and
        // merged.
        if since.is_none() && full_page {
            for next in (1..=i64::from(self.http.limits().pages_ahead())).map(|k| page + k) {
                self.read_ahead_rows(&conditions, order, next * n, (next + 1) * n)
                    .await;
            }
        }
        for row in &rows {
            if let Some(t) = &row.updatetime
                && newest.as_ref().is_none_or(|n| t.civil() > n.civil())
            {
                newest = Some(t.clone());
            }
        }
        self.know_names_of(&rows).await;
        let tasks = rows.iter().map(|r| self.record(r)).collect();
        let newest_text = newest.as_ref().map(|t| t.as_str().to_string());
        Ok(ListPage {
            tasks,
            next: full_page.then(|| match &newest_text {
                Some(t) => format!("{}|{t}", page + 1),
                None => (page + 1).to_string(),
            }),
            total: None,
            watermark: if full_page {
                None
            } else {
                newest_text.or_else(|| since.map(|s| s.as_str().to_string()))
            },
        })
    }

    /// Makes sure the directory can name the numbers of `rows`.
    async fn know_names_of(&self, rows: &[MissionRow]) {
        if !self.directory().needs_loading(rows) {
            return;
        }
        let loaded = self.load_directory().await;
        let mut dir = self.directory();
        match loaded {
            Ok(fresh) => *dir = fresh,
            Err(e) => {
                // Numbers instead of names, and not asked again for a while.
                tracing::warn!(error = %e, "OMFLOW user and department lists not readable");
                dir.loaded = Some(Instant::now());
            }
        }
    }

    /// A row as a task, its user and department numbers named (after
    /// [`Self::know_names_of`]).
    fn record(&self, row: &MissionRow) -> TaskRecord {
        let mut task = normalize::record(row, &self.tz);
        self.directory().name(&mut task, row);
        task
    }

    fn directory(&self) -> std::sync::MutexGuard<'_, Directory> {
        self.directory.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The user directory (paged) and the departments.
    async fn load_directory(&self) -> Result<Directory, RemoteError> {
        let mut dir = Directory::default();
        for page in 0..directory::MAX_USER_PAGES {
            let make = |security: String| UserListRequest {
                security,
                omflow_restapi: RESTAPI_FLAG,
                order_columns: vec!["id".into()],
                start: page * directory::USER_PAGE,
                limit: (page + 1) * directory::USER_PAGE,
            };
            let env = self
                .session
                .call(&self.http, paths::USER_LIST, make, Effect::Read, None)
                .await?;
            let rows: Vec<UserRow> = serde_json::from_value(check(env, "listing users")?)
                .map_err(|e| classify::protocol(format!("the user list is malformed: {e}")))?;
            let full = i64::try_from(rows.len()).unwrap_or(i64::MAX) >= directory::USER_PAGE;
            dir.users
                .extend(rows.into_iter().map(|u| (u.id, u.username)));
            if !full {
                break;
            }
        }
        let make = |security: String| GroupListRequest {
            security,
            omflow_restapi: RESTAPI_FLAG,
            org_no: Vec::new(),
            org_name: Vec::new(),
        };
        let env = self
            .session
            .call(&self.http, paths::GROUP_LIST, make, Effect::Read, None)
            .await?;
        let groups: Vec<GroupRow> = serde_json::from_value(check(env, "listing departments")?)
            .map_err(|e| classify::protocol(format!("the department list is malformed: {e}")))?;
        dir.groups
            .extend(groups.into_iter().map(|g| (g.id, g.display_name)));
        dir.loaded = Some(Instant::now());
        Ok(dir)
    }

    async fn fetch_task(&self, key: &str) -> Result<Option<TaskRecord>, RemoteError> {
        let key = Key::parse(key)
            .ok_or_else(|| classify::permanent(format!("{key:?} is not an OMFLOW task key")))?;
        let Some(row) = self.row(&key).await? else {
            return Ok(None);
        };
        let api_path = self.api_path(&key.flow_hex, Some(&row));
        self.know_names_of(std::slice::from_ref(&row)).await;
        let mut task = self.record(&row);
        task.comments = match self.work_log(&key, &row, &api_path).await {
            Ok(rows) => Some(normalize::comments(&rows, &self.tz)),
            Err(e) if is_fatal(&e) => return Err(e),
            Err(e) => {
                tracing::warn!(error = %e, "OMFLOW work log not readable; comments kept");
                None
            }
        };
        let form = self.form(&api_path, &row).await?;
        task.actions = Some(normalize::actions(&row, form.as_ref()));
        Ok(Some(task))
    }

    async fn work_log(
        &self,
        key: &Key,
        row: &MissionRow,
        api_path: &str,
    ) -> Result<Vec<WorkLogRow>, RemoteError> {
        let make = |security: String| WorkLogRequest {
            security,
            omflow_restapi: RESTAPI_FLAG,
            api_path: Some(api_path.to_string()),
            flow_uuid: Some(key.flow_hex.clone()),
            data_no: key.data_no,
            data_id: row.data_id,
            content: None,
        };
        let env = self
            .session
            .call(&self.http, paths::WORKLOG_LIST, make, Effect::Read, None)
            .await?;
        match check(env, "reading the work log")? {
            Value::Null => Ok(Vec::new()),
            value => serde_json::from_value(value)
                .map_err(|e| classify::protocol(format!("the work log is malformed: {e}"))),
        }
    }

    /// The stop's form from tasklane's extension, when the server has it.
    async fn form(
        &self,
        api_path: &str,
        row: &MissionRow,
    ) -> Result<Option<FormDefinition>, RemoteError> {
        let stop = (api_path.to_string(), row.stop_uuid.clone());
        {
            let cache = self.forms.lock().unwrap_or_else(|p| p.into_inner());
            if cache.unsupported.is_some_and(|t| t.elapsed() < FORM_TTL) {
                return Ok(None);
            }
            if let Some((at, form)) = cache.by_stop.get(&stop)
                && at.elapsed() < FORM_TTL
            {
                return Ok(Some(form.clone()));
            }
        }
        let make = |security: String| FormDefinitionRequest {
            security,
            omflow_restapi: RESTAPI_FLAG,
            data_id: row.data_id,
        };
        let path = format!("{}{api_path}/", paths::TASKLANE_FORM);
        let env = match self
            .session
            .call(&self.http, &path, make, Effect::Read, None)
            .await
        {
            Ok(env) => env,
            // A server (or proxy) without the route at all.
            Err(e) if matches!(e.status, Some(404 | 405 | 501)) => {
                self.forms_unsupported();
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        match env.status.code() {
            Some(status::OK) => {
                let form: FormDefinition = serde_json::from_value(env.result.unwrap_or_default())
                    .map_err(|e| {
                    classify::protocol(format!("the form definition is malformed: {e}"))
                })?;
                let mut cache = self.forms.lock().unwrap_or_else(|p| p.into_inner());
                cache.by_stop.insert(stop, (Instant::now(), form.clone()));
                Ok(Some(form))
            }
            // Real OMFLOW: "URL錯誤" (unroutable), still 403 after a fresh code.
            Some(status::FORBIDDEN) => {
                self.forms_unsupported();
                Ok(None)
            }
            _ => Ok(None),
        }
    }

    fn forms_unsupported(&self) {
        let mut cache = self.forms.lock().unwrap_or_else(|p| p.into_inner());
        cache.unsupported = Some(Instant::now());
    }
}

/// Errors that make a whole fetch fail rather than only its comments.
fn is_fatal(e: &RemoteError) -> bool {
    !matches!(
        e.kind,
        RemoteErrorKind::Permanent | RemoteErrorKind::Protocol
    )
}

/// `"<page>"` or `"<page>|<newest updatetime so far>"`.
fn parse_cursor(cursor: Option<&str>) -> Result<(i64, Option<ServerTime>), RemoteError> {
    let Some(cursor) = cursor else {
        return Ok((0, None));
    };
    let (page, newest) = match cursor.split_once('|') {
        Some((p, t)) => (p, Some(t)),
        None => (cursor, None),
    };
    let page = page
        .parse::<i64>()
        .ok()
        .filter(|p| *p >= 0)
        .ok_or_else(|| classify::permanent(format!("invalid OMFLOW listing cursor {cursor:?}")))?;
    let newest = newest.and_then(|t| ServerTime::parse(t).ok());
    Ok((page, newest))
}

/// The my-mission list request, given a security code.
fn mission_list<'a>(
    conditions: &'a [Condition],
    order: &'a [&str],
    start: i64,
    limit: i64,
) -> impl Fn(String) -> MissionListRequest + 'a {
    move |security| MissionListRequest {
        security,
        omflow_restapi: RESTAPI_FLAG,
        search_columns: Vec::new(),
        search_conditions: conditions.to_vec(),
        exclude_conditions: Vec::new(),
        order_columns: order.iter().map(|s| s.to_string()).collect(),
        limit,
        start,
    }
}

fn short(text: &str) -> String {
    match text.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

impl Remote for OmflowClient {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            op_kinds: vec![
                OpKind::FormPush,
                OpKind::QuickAction,
                OpKind::CommentAdd,
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
    fn cursors_carry_the_page_and_the_newest_time_seen() {
        assert_eq!(parse_cursor(None).unwrap(), (0, None));
        let (page, newest) = parse_cursor(Some("3|2020-07-07T13:50:21.589")).unwrap();
        assert_eq!(page, 3);
        assert_eq!(newest.unwrap().as_str(), "2020-07-07T13:50:21.589");
        assert!(parse_cursor(Some("-1")).is_err());
        assert!(parse_cursor(Some("x")).is_err());
    }
}

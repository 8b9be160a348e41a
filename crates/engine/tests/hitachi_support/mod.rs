//! Talking CSCIW to a [`TestServer`](crate::common::TestServer): requests
//! below `/csciwws/v1` with basic auth, and answers read back through
//! tasklane's own Hitachi wire types — so every test that reads an answer
//! also proves that tasklane's client understands the server.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // each test binary uses a part; tests fail loudly

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::Value;
use tasklane_dialects::hitachi::wire::{self, WorkItem, WorkItemList};

/// The dialect's root below the server's URL.
pub const ROOT: &str = "/csciwws/v1";

/// The demo password of `user`.
pub fn password(user: &str) -> &'static str {
    if user == "admin" { "admin" } else { "demo" }
}

/// An answer, read completely.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub async fn of(response: reqwest::Response) -> Self {
        Reply {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.bytes().await.unwrap().to_vec(),
        }
    }

    pub fn content_type(&self) -> &str {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    pub fn is_xml(&self) -> bool {
        self.content_type().starts_with("application/xml")
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }

    /// The body as JSON (the answer must be JSON).
    pub fn json(&self) -> Value {
        assert!(
            self.content_type().starts_with("application/json"),
            "not JSON ({}): {}",
            self.content_type(),
            self.text()
        );
        serde_json::from_slice(&self.body).unwrap()
    }

    /// The one work item of a 200 answer, read as tasklane's client reads it.
    pub fn item(&self) -> WorkItem {
        assert_eq!(self.status, 200, "{}", self.text());
        if self.is_xml() {
            wire::from_xml(&self.text()).unwrap()
        } else {
            wire::work_item_from_json(&self.body).unwrap()
        }
    }

    /// The work items of a 200 list answer.
    pub fn items(&self) -> Vec<WorkItem> {
        assert_eq!(self.status, 200, "{}", self.text());
        let list: WorkItemList = if self.is_xml() {
            wire::from_xml(&self.text()).unwrap()
        } else {
            serde_json::from_slice(&self.body).unwrap()
        };
        list.items
    }

    /// The (case, item) pairs of a 200 list answer, in order.
    pub fn keys(&self) -> Vec<(i64, i64)> {
        self.items()
            .iter()
            .map(|i| (i.process_instance_id, i.id))
            .collect()
    }

    /// Asserts the dialect's error shape with `status` — `{"Message": "…"}`
    /// and nothing else in JSON, `<Error><Message>…</Message></Error>` in
    /// XML — and returns the message.
    #[track_caller]
    pub fn error(&self, status: u16) -> String {
        assert_eq!(self.status, status, "{}", self.text());
        if self.is_xml() {
            let text = self.text();
            let start = text.find("<Error><Message>").expect("an <Error><Message>");
            let end = text.find("</Message></Error>").expect("</Message></Error>");
            assert!(
                text.ends_with("</Message></Error>"),
                "more than the error: {text}"
            );
            text[start + "<Error><Message>".len()..end].to_string()
        } else {
            let v = self.json();
            let map = v.as_object().expect("an object");
            assert_eq!(map.len(), 1, "more than the message: {v}");
            map["Message"]
                .as_str()
                .expect("a string message")
                .to_string()
        }
    }
}

/// A CSCIW client for tests: `url` is the server's base URL.
#[derive(Debug, Clone)]
pub struct Csciw {
    pub url: String,
    pub http: reqwest::Client,
}

impl Csciw {
    pub fn new(url: &str) -> Self {
        Csciw {
            url: url.to_string(),
            http: crate::common::client(),
        }
    }

    /// A request to `path` (below `/csciwws/v1/`) as `user`, with that
    /// user's demo password.
    pub fn request(&self, method: Method, path: &str, user: &str) -> reqwest::RequestBuilder {
        self.anonymous(method, path)
            .basic_auth(user, Some(password(user)))
    }

    /// A request without credentials.
    pub fn anonymous(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{ROOT}/{path}", self.url))
    }

    /// `PUT work-item/allocate` with a JSON body, answered in JSON.
    pub async fn allocate(&self, user: &str, body: Value) -> Reply {
        send(
            self.request(Method::PUT, "work-item/allocate", user)
                .header("accept", "application/json")
                .json(&body),
        )
        .await
    }

    /// `GET work-item/{pi}/{wi}`, answered in JSON.
    pub async fn get(&self, user: &str, pi: i64, wi: i64) -> Reply {
        send(
            self.request(Method::GET, &format!("work-item/{pi}/{wi}"), user)
                .header("accept", "application/json"),
        )
        .await
    }

    /// `PUT work-item/{pi}/{wi}/{action}` with an optional JSON body
    /// (without one, no Content-Type is sent), answered in JSON.
    pub async fn act(
        &self,
        user: &str,
        pi: i64,
        wi: i64,
        action: &str,
        body: Option<Value>,
    ) -> Reply {
        let mut req = self
            .request(Method::PUT, &format!("work-item/{pi}/{wi}/{action}"), user)
            .header("accept", "application/json");
        if let Some(body) = body {
            req = req.json(&body);
        }
        send(req).await
    }

    /// The list extension `GET work-item?…`, answered in JSON.
    pub async fn list(&self, user: &str, query: &[(&str, &str)]) -> Reply {
        send(
            self.request(Method::GET, "work-item", user)
                .header("accept", "application/json")
                .query(query),
        )
        .await
    }

    /// Every work item `user` may see, in ID order.
    pub async fn all(&self, user: &str) -> Vec<WorkItem> {
        self.list(user, &[("maxcount", "-1")]).await.items()
    }

    /// One item as the administrator sees it (to check effects).
    pub async fn state(&self, pi: i64, wi: i64) -> WorkItem {
        self.get("admin", pi, wi).await.item()
    }
}

pub async fn send(req: reqwest::RequestBuilder) -> Reply {
    Reply::of(req.send().await.unwrap()).await
}

/// The process instance and id of an item.
pub fn key(item: &WorkItem) -> (i64, i64) {
    (item.process_instance_id, item.id)
}

/// A ready work item to seed: its name (the task title) and priority.
#[derive(Debug, Clone, Copy)]
pub struct Seed<'a> {
    pub name: &'a str,
    pub priority: i64,
}

/// An engine with `users` (password `demo`) in the lane `lane`, `admin`
/// (password `admin`), and one ready item per seed in the lane, all in one
/// case named `case`. Returns the engine and the items' (case, id) pairs
/// in seed order.
pub fn lane_engine(
    lane: &str,
    users: &[String],
    case: &str,
    seeds: &[Seed<'_>],
) -> (std::sync::Arc<tasklane_engine::Engine>, Vec<(i64, i64)>) {
    use tasklane_engine::model::GroupKind;
    use tasklane_engine::{CreateTask, Engine, create_task, dossiers, users as accounts};

    let engine = Engine::open_in_memory().unwrap();
    // One argon2 hash shared by everyone: hashing per user would dominate
    // the setup of the bigger tests.
    let demo_hash = accounts::hash_password("demo").unwrap();
    let keys = engine
        .db()
        .write(|tx| {
            accounts::add_user(tx, "admin", "Administrator", Some("admin"), true)?;
            accounts::add_group(tx, lane, lane, GroupKind::Lane)?;
            for user in users {
                accounts::add_user(tx, user, user, None, false)?;
                accounts::add_member(tx, user, lane)?;
            }
            tx.execute(
                "UPDATE users SET password_hash = ?1 WHERE id <> 'admin'",
                [&demo_hash],
            )?;
            let admin = accounts::principal(tx, "admin")?;
            let dossier = dossiers::add(tx, case, "cases/seeded", None)?;
            seeds
                .iter()
                .map(|seed| {
                    let task = create_task(
                        tx,
                        &admin,
                        &CreateTask {
                            title: seed.name.into(),
                            responsible: lane.into(),
                            priority: seed.priority,
                            dossier_id: Some(dossier.id),
                            ..CreateTask::default()
                        },
                    )?;
                    Ok((dossier.case_id, task.id))
                })
                .collect::<tasklane_engine::Result<Vec<_>>>()
        })
        .unwrap();
    (std::sync::Arc::new(engine), keys)
}

//! The GEVER side of the conformance tests: a demo server and requests as
//! a GEVER client makes them (`Accept: application/json`, basic auth as a
//! demo user), answers with their status, headers and JSON body, and the
//! demo tasks found by title.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // each test binary uses a part; tests fail loudly

use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};

use crate::common::{TestServer, client};

/// The password of a demo user.
pub fn password(user: &str) -> &'static str {
    if user == "admin" { "admin" } else { "demo" }
}

/// An answer: status, headers and body (JSON when it is JSON, else `Null`).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A demo server and a client for its GEVER dialect.
pub struct Gever {
    pub server: TestServer,
    pub http: reqwest::Client,
    /// `http://127.0.0.1:<port>/gever`
    pub root: String,
}

impl Gever {
    pub fn demo() -> Self {
        let server = TestServer::demo();
        let root = format!("{}/gever", server.url);
        Gever {
            server,
            http: client(),
            root,
        }
    }

    /// An absolute URL: `path` below the site root, or already absolute.
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}/{}", self.root, path.trim_start_matches('/'))
        }
    }

    /// A request as `user` (basic auth), asking for JSON.
    pub fn call(&self, method: Method, user: &str, path: &str) -> RequestBuilder {
        self.anonymous(method, path)
            .basic_auth(user, Some(password(user)))
    }

    /// A request without credentials, asking for JSON.
    pub fn anonymous(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, self.url(path))
            .header("Accept", "application/json")
    }

    pub async fn send(&self, request: RequestBuilder) -> Reply {
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
            text,
        }
    }

    pub async fn get(&self, user: &str, path: &str) -> Reply {
        self.send(self.call(Method::GET, user, path)).await
    }

    pub async fn post(&self, user: &str, path: &str, body: Value) -> Reply {
        self.send(self.call(Method::POST, user, path).json(&body))
            .await
    }

    pub async fn patch(&self, user: &str, path: &str, body: Value) -> Reply {
        self.send(self.call(Method::PATCH, user, path).json(&body))
            .await
    }

    pub async fn delete(&self, user: &str, path: &str) -> Reply {
        self.send(self.call(Method::DELETE, user, path)).await
    }

    /// Runs a transition as `user` and insists that it worked.
    pub async fn transition(&self, user: &str, task: &str, transition: &str, body: Value) {
        let r = self
            .post(user, &format!("{task}/@workflow/{transition}"), body)
            .await;
        assert_eq!(r.status, 200, "{user} {transition} on {task}: {}", r.text);
    }

    /// The URL of the demo task with this title (found as the administrator).
    pub async fn task(&self, title: &str) -> String {
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("filters.title:record", title)
            .finish();
        let r = self.get("admin", &format!("@globalindex?{query}")).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["items_total"], json!(1), "{title}: {}", r.body);
        r.body["items"][0]["@id"].as_str().unwrap().to_string()
    }

    /// Creates a task in `container` as `user`; its URL.
    pub async fn create(&self, user: &str, container: &str, fields: Value) -> String {
        let mut body = json!({"@type": "opengever.task.task", "task_type": "direct-execution"});
        for (k, v) in fields.as_object().unwrap() {
            body[k] = v.clone();
        }
        let r = self.post(user, container, body).await;
        assert_eq!(r.status, 201, "{}", r.text);
        r.body["@id"].as_str().unwrap().to_string()
    }

    /// The `review_state` of a task as the administrator sees it.
    pub async fn state(&self, task: &str) -> String {
        let r = self.get("admin", task).await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.body["review_state"].as_str().unwrap().to_string()
    }

    /// The last response of a task's history.
    pub async fn last_response(&self, task: &str) -> Value {
        let r = self.get("admin", task).await;
        r.body["responses"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()
            .clone()
    }
}

/// The procurement dossier (org unit fd) and the building dossier (bau).
pub const BESCHAFFUNG: &str = "ordnungssystem/finanzen/dossier-2";
pub const BAU: &str = "ordnungssystem/bau/dossier-1";

/// The demo's GEVER tasks by title.
pub mod titles {
    /// comment, open; peter → fd:hans.muster (bau dossier)
    pub const STELLUNGNAHME: &str = "Stellungnahme zum Baugesuch Müller";
    /// direct-execution, in progress; anna → fd:hans.muster
    pub const VERTRAG: &str = "Vertrag mit Lieferant Huber AG prüfen";
    /// information, open; anna → fd:hans.muster
    pub const KENNTNISNAHME: &str = "Zur Kenntnisnahme: Protokoll Gemeinderat vom 12. November";
    /// approval, resolved; hans → fd:anna.keller
    pub const BUDGET: &str = "Genehmigung Budget 2027";
    /// correction, open; peter → inbox:fd
    pub const PERSONALREGLEMENT: &str = "Review: Änderung Personalreglement";
    /// report, rejected by peter, back with its issuer hans (bau dossier)
    pub const BERICHT: &str = "Bericht Quartal 3";
    /// direct-execution, closed; anna → fd:hans.muster
    pub const OFFERTE: &str = "Offerte Druckerei einholen";
    /// direct-execution, cancelled; anna → fd:hans.muster
    pub const SITZUNGSZIMMER: &str = "Sitzungszimmer reservieren";
    /// direct-execution, open; anna → team:sekretariat
    pub const OFFSITE: &str = "Plan the team offsite agenda";
    /// sequential main task, in progress; hans → fd:hans.muster (bau dossier)
    pub const SEQUENZ: &str = "Sequenz: Bewilligung Baugesuch Müller";
    /// step 1, in progress; hans → bau:peter.meier
    pub const SCHRITT_1: &str = "Schritt 1: Vorprüfung";
    /// step 2, planned; hans → fd:hans.muster
    pub const SCHRITT_2: &str = "Schritt 2: Unterschrift Gemeindepräsidentin";
    /// step 3, planned; hans → fd:anna.keller
    pub const SCHRITT_3: &str = "Schritt 3: Versand an Bauherrschaft";
    /// direct-execution, closed; admin → fd:hans.muster
    pub const ARCHIVIERUNG: &str = "Archivierung Dossier 2019";
}

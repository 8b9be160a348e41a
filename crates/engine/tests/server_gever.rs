//! GEVER conformance, the contract's own examples and the API's edges: the
//! seed document's example requests and answers, authentication (basic,
//! `@login` tokens), `Accept` handling, `@config`, the two error shapes,
//! and round trips through tasklane's own client types.
//!
//! Sources: `../shared/seeds/gever-task-api.de.txt` and
//! `../shared/reference/gever/NOTES.md` (§0–§12).

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;
mod gever_support;

use std::sync::Arc;

use base64::Engine as _;
use reqwest::Method;
use serde_json::{Value, json};
use tasklane_dialects::gever::wire::{
    Config, ErrorBody, LoginResponse, Response as WireResponse, Task as WireTask, TransitionResult,
    WorkflowInfo, WorkflowSchema,
};
use tasklane_engine::server::ServerConfig;
use tasklane_engine::{Engine, demo};

use common::{TestServer, client};
use gever_support::{BAU, BESCHAFFUNG, Gever, titles::*};

fn keys(v: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    keys
}

// ---------------------------------------------------------------------------
// The seed document's examples

#[tokio::test]
async fn seed_creating_a_task_in_a_container_answers_201_with_its_location_and_representation() {
    let g = Gever::demo();
    let r = g
        .post(
            "hans.muster",
            BESCHAFFUNG,
            json!({"@type": "opengever.task.task", "title": "Bitte Dokument reviewen",
                   "responsible": "hans.muster", "issuer": "hans.muster",
                   "responsible_client": "fd", "task_type": "direct-execution"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["@id"].as_str().unwrap();
    let prefix = g.url(&format!("{BESCHAFFUNG}/task-"));
    assert!(id.starts_with(&prefix), "{id}");
    assert!(id[prefix.len()..].parse::<u64>().is_ok(), "{id}");
    assert_eq!(r.header("location"), Some(id));
    assert_eq!(r.body["@type"], "opengever.task.task");
    let task: WireTask = serde_json::from_value(r.body.clone()).unwrap();
    assert_eq!(task.title, "Bitte Dokument reviewen");
    assert_eq!(task.review_state, "task-state-open");
}

#[tokio::test]
async fn seed_workflow_get_lists_history_and_the_users_transitions_with_german_titles() {
    let g = Gever::demo();
    let task = g
        .create(
            "anna.keller",
            BESCHAFFUNG,
            json!({"title": "Bitte Dokument reviewen", "responsible": "fd:hans.muster", "issuer": "anna.keller"}),
        )
        .await;
    let r = g.get("hans.muster", &format!("{task}/@workflow")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["@id"], format!("{task}/@workflow"));
    assert_eq!(r.body["history"], json!([]));
    let offered: Vec<(String, String)> = r.body["transitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["@id"].as_str().unwrap().to_string(),
                t["title"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // The seed's three (its user may not reject or close; ours may).
    for (transition, title) in [
        ("task-transition-modify-deadline", "Frist ändern"),
        ("task-transition-open-in-progress", "Akzeptieren"),
        ("task-transition-reassign", "Neu zuweisen"),
    ] {
        let link = (format!("{task}/@workflow/{transition}"), title.to_string());
        assert!(offered.contains(&link), "{link:?} not in {offered:?}");
    }
    serde_json::from_value::<WorkflowInfo>(r.body).unwrap();
}

#[tokio::test]
async fn seed_running_a_transition_answers_the_action_with_the_new_states_title() {
    let g = Gever::demo();
    let task = g.task(STELLUNGNAHME).await;
    let r = g
        .post(
            "hans.muster",
            &format!("{task}/@workflow/task-transition-open-in-progress"),
            json!({"text": "Ok, wird gemacht!"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        keys(&r.body),
        [
            "action",
            "actor",
            "comments",
            "review_state",
            "time",
            "title"
        ]
    );
    assert_eq!(r.body["action"], "task-transition-open-in-progress");
    assert_eq!(r.body["actor"], "hans.muster");
    assert_eq!(r.body["comments"], "");
    assert_eq!(r.body["review_state"], "task-state-in-progress");
    assert_eq!(r.body["title"], "In Arbeit");
    let time = r.body["time"].as_str().unwrap();
    assert!(time.ends_with("+00:00") && time.len() == 25, "{time}");
    serde_json::from_value::<TransitionResult>(r.body).unwrap();
}

#[tokio::test]
async fn seed_comments_are_added_edited_and_deleted_through_responses() {
    let g = Gever::demo();
    let task = g.task(STELLUNGNAHME).await;
    let r = g
        .post(
            "peter.meier",
            &format!("{task}/@responses"),
            json!({"text": "Bitte rasch anschauen. Danke."}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    // Every key of the seed's answer is there (plus GEVER's newer ones).
    for key in [
        "@id",
        "added_objects",
        "changes",
        "created",
        "creator",
        "mimetype",
        "modified",
        "modifier",
        "related_items",
        "rendered_text",
        "response_id",
        "response_type",
        "successor_oguid",
        "text",
        "transition",
    ] {
        assert!(r.body.get(key).is_some(), "{key} missing: {}", r.body);
    }
    assert_eq!(
        r.body["creator"],
        json!({"title": "Meier Peter", "token": "peter.meier"})
    );
    assert_eq!(r.body["response_type"], "comment");
    assert_eq!(r.body["transition"], "task-commented");
    let id = r.body["response_id"].as_i64().unwrap();
    assert_eq!(r.body["@id"], format!("{task}/@responses/{id}"));

    let url = format!("{task}/@responses/{id}");
    let edited = g
        .patch("peter.meier", &url, json!({"text": "Hat sich erledigt."}))
        .await;
    assert_eq!(edited.status, 204, "{}", edited.text);
    assert!(edited.text.is_empty());
    assert_eq!(
        g.get("peter.meier", &url).await.body["text"],
        "Hat sich erledigt."
    );
    let deleted = g.delete("peter.meier", &url).await;
    assert_eq!(deleted.status, 204, "{}", deleted.text);
    assert_eq!(g.get("peter.meier", &url).await.status, 404);
}

#[tokio::test]
async fn seed_the_task_history_and_its_containing_dossier_are_in_the_representation() {
    let g = Gever::demo();
    let vertrag = g.task(VERTRAG).await;
    let r = g.get("hans.muster", &vertrag).await;
    let responses = r.body["responses"].as_array().unwrap();
    let kinds: Vec<(&str, &str)> = responses
        .iter()
        .map(|x| {
            (
                x["transition"].as_str().unwrap(),
                x["text"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("task-transition-open-in-progress", "Wird gemacht."),
            (
                "task-commented",
                "Die Rechtsabteilung schaut sich Klausel 7 an."
            ),
        ]
    );
    assert_eq!(r.body["containing_dossier"]["@id"], g.url(BESCHAFFUNG));
    assert_eq!(r.body["containing_dossier"]["title"], "Beschaffung 2026");
    assert!(r.body["oguid"].as_str().unwrap().starts_with("tl:"));
    assert_eq!(r.body["UID"].as_str().unwrap().len(), 32);
}

#[tokio::test]
async fn seed_tasktree_predecessor_and_successors_have_the_documented_shapes() {
    let g = Gever::demo();
    let main = g.task(SEQUENZ).await;
    let step = g.task(SCHRITT_2).await;
    let r = g.get("hans.muster", &format!("{step}/@tasktree")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body["@id"],
        format!("{step}/@tasktree"),
        "the asked task's URL"
    );
    let root = &r.body["children"][0];
    assert_eq!(root["@id"], main, "the tree starts at the main task");
    for key in [
        "@id",
        "@type",
        "children",
        "is_task_addable",
        "is_task_addable_before",
        "review_state",
        "title",
    ] {
        assert!(root.get(key).is_some(), "{key}: {root}");
    }
    assert_eq!(root["children"].as_array().unwrap().len(), 3);

    let r = g.get("hans.muster", &format!("{step}/@predecessor")).await;
    assert_eq!(
        r.body,
        json!({"@id": format!("{step}/@predecessor"), "item": null})
    );
    let r = g.get("hans.muster", &format!("{main}/@successors")).await;
    assert_eq!(
        r.body,
        json!({"@id": format!("{main}/@successors"), "items": []})
    );
    let r = g
        .get(
            "hans.muster",
            &format!("{main}?expand=tasktree,predecessor,successors"),
        )
        .await;
    let components = &r.body["@components"];
    assert_eq!(components["tasktree"]["children"][0]["@id"], main);
    assert_eq!(components["predecessor"]["item"], Value::Null);
    assert_eq!(components["successors"]["items"], json!([]));
}

#[tokio::test]
async fn seed_transfer_task_replaces_a_user_for_administrators() {
    let g = Gever::demo();
    let task = g.task(VERTRAG).await; // anna → hans
    let r = g
        .post(
            "admin",
            &format!("{task}/@transfer-task"),
            json!({"old_userid": "hans.muster", "new_userid": "anna.keller"}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let got = g.get("admin", &task).await;
    assert_eq!(got.body["responsible"]["token"], "fd:anna.keller");
    assert_eq!(got.body["issuer"]["token"], "anna.keller");
}

// ---------------------------------------------------------------------------
// Accept, authentication and @config

#[tokio::test]
async fn requests_that_do_not_accept_json_never_reach_the_api() {
    let g = Gever::demo();
    let task = g.task(VERTRAG).await;
    for accept in [None, Some("text/html"), Some("*/*")] {
        let mut request = g.http.get(&task).basic_auth("hans.muster", Some("demo"));
        if let Some(accept) = accept {
            request = request.header("Accept", accept);
        }
        let r = g.send(request).await;
        assert_eq!(r.status, 406, "{accept:?}: {}", r.text);
        assert!(
            !r.text.contains("Vertrag"),
            "no data without JSON: {}",
            r.text
        );
    }
    for accept in ["application/json", "text/html, application/json;q=0.9"] {
        let r = g
            .send(
                g.http
                    .get(&task)
                    .basic_auth("hans.muster", Some("demo"))
                    .header("Accept", accept),
            )
            .await;
        assert_eq!(r.status, 200, "{accept}");
        assert_eq!(r.header("content-type"), Some("application/json"));
    }
}

/// The 401 every refused login gets: Zope's `Unauthorized`, exception shape.
fn assert_unauthorized(r: &gever_support::Reply) {
    assert_eq!(r.status, 401, "{}", r.text);
    assert_eq!(r.body["type"], "Unauthorized", "{}", r.text);
    assert!(r.body["message"].is_string());
    assert!(matches!(
        serde_json::from_value::<ErrorBody>(r.body.clone()).unwrap(),
        ErrorBody::Exception(_)
    ));
}

#[tokio::test]
async fn basic_auth_admits_users_with_their_password_only() {
    let g = Gever::demo();
    let task = g.task(VERTRAG).await;
    assert_eq!(g.get("hans.muster", &task).await.status, 200);
    assert_unauthorized(&g.send(g.anonymous(Method::GET, &task)).await);
    for (user, password) in [("hans.muster", "wrong"), ("nobody", "demo"), ("me", "")] {
        let r = g
            .send(
                g.anonymous(Method::GET, &task)
                    .basic_auth(user, Some(password)),
            )
            .await;
        assert_unauthorized(&r);
        assert!(r.header("www-authenticate").unwrap().starts_with("Basic"));
    }
    let garbage = g
        .send(
            g.anonymous(Method::GET, &task)
                .header("Authorization", "Basic !!!"),
        )
        .await;
    assert_unauthorized(&garbage);
}

#[tokio::test]
async fn login_hands_out_a_token_that_works_as_bearer() {
    let g = Gever::demo();
    let r = g
        .send(
            g.anonymous(Method::POST, "@login")
                .json(&json!({"login": "anna.keller", "password": "demo"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let login: LoginResponse = serde_json::from_value(r.body.clone()).unwrap();
    let r = g
        .send(
            g.anonymous(Method::GET, "@config")
                .bearer_auth(&login.token),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["current_user"]["id"], "anna.keller");

    let renewed = g
        .send(
            g.anonymous(Method::POST, "@login-renew")
                .bearer_auth(&login.token),
        )
        .await;
    assert_eq!(renewed.status, 200, "{}", renewed.text);
    assert!(renewed.body["token"].as_str().unwrap().split('.').count() == 3);
    let out = g
        .send(
            g.anonymous(Method::POST, "@logout")
                .bearer_auth(&login.token),
        )
        .await;
    assert_eq!(out.status, 204);
}

#[tokio::test]
async fn login_refuses_wrong_and_missing_credentials_in_the_service_shape() {
    let g = Gever::demo();
    let login = |body: Value| g.send(g.anonymous(Method::POST, "@login").json(&body));
    let r = login(json!({"login": "anna.keller", "password": "nope"})).await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.body,
        json!({"error": {"type": "Invalid credentials", "message": "Wrong login and/or password."}})
    );
    for body in [
        json!({"login": "anna.keller"}),
        json!({"password": "demo"}),
        json!({}),
    ] {
        let r = login(body).await;
        assert_eq!(r.status, 400);
        assert_eq!(
            r.body,
            json!({"error": {"type": "Missing credentials", "message": "Login and password must be provided in body."}})
        );
    }
}

#[tokio::test]
async fn tampered_foreign_and_expired_tokens_are_refused() {
    let g = Gever::demo();
    let r = g
        .send(
            g.anonymous(Method::POST, "@login")
                .json(&json!({"login": "hans.muster", "password": "demo"})),
        )
        .await;
    let token = r.body["token"].as_str().unwrap().to_string();
    let parts: Vec<&str> = token.split('.').collect();
    // The same signature over claims naming someone else.
    let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(r#"{"sub":"admin","iat":0,"exp":99999999999}"#);
    let forged = format!("{}.{claims}.{}", parts[0], parts[2]);
    // A token from another server (another key).
    let other = Gever::demo();
    let foreign = other
        .send(
            other
                .anonymous(Method::POST, "@login")
                .json(&json!({"login": "hans.muster", "password": "demo"})),
        )
        .await
        .body["token"]
        .as_str()
        .unwrap()
        .to_string();
    for bad in [forged.as_str(), foreign.as_str(), "not.a.token", ""] {
        let r = g
            .send(g.anonymous(Method::GET, "@config").bearer_auth(bad))
            .await;
        assert_unauthorized(&r);
    }

    // A server whose tokens expire the moment they are issued.
    let engine = Engine::open_in_memory().unwrap();
    demo::load(&engine).unwrap();
    let config = ServerConfig {
        gever_token_lifetime_secs: 0,
        ..ServerConfig::default()
    };
    let s = TestServer::start(Arc::new(engine), config);
    let http = client();
    let issued = http
        .post(format!("{}/gever/@login", s.url))
        .header("Accept", "application/json")
        .json(&json!({"login": "hans.muster", "password": "demo"}))
        .send()
        .await
        .unwrap();
    assert_eq!(issued.status().as_u16(), 200);
    let expired = issued.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let r = http
        .get(format!("{}/gever/@config", s.url))
        .header("Accept", "application/json")
        .bearer_auth(expired)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(r.json::<Value>().await.unwrap()["type"], "Unauthorized");
}

#[tokio::test]
async fn config_describes_the_current_user() {
    let g = Gever::demo();
    for (user, fullname, admin) in [
        ("anna.keller", "Keller Anna", false),
        ("admin", "Administrator", true),
    ] {
        let r = g.get(user, "@config").await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["@id"], g.url("@config"));
        assert_eq!(r.body["admin_unit"], "tl");
        let config: Config = serde_json::from_value(r.body.clone()).unwrap();
        let me = config.current_user.unwrap();
        assert_eq!(me.id, user);
        assert_eq!(me.username.as_deref(), Some(user));
        assert_eq!(me.fullname.as_deref(), Some(fullname));
        assert_eq!(
            me.roles.iter().any(|r| r == "Administrator"),
            admin,
            "{:?}",
            me.roles
        );
        assert!(r.body["features"].is_object());
        assert_eq!(r.body["pass_documents_to_next_task_default_value"], false);
    }
    assert_unauthorized(&g.send(g.anonymous(Method::GET, "@config")).await);
}

// ---------------------------------------------------------------------------
// Errors

#[tokio::test]
async fn unknown_paths_are_not_found_in_the_exception_shape() {
    let g = Gever::demo();
    let vertrag = g.task(VERTRAG).await;
    let bau_task = g.task(STELLUNGNAHME).await;
    let id = bau_task.rsplit('/').next().unwrap();
    for path in [
        g.url("ordnungssystem/nirgendwo"),
        g.url(&format!("{BESCHAFFUNG}/task-999999")),
        // A real task under the wrong dossier.
        g.url(&format!("{BESCHAFFUNG}/{id}")),
        g.url(&format!("{BESCHAFFUNG}/task-abc")),
        format!("{vertrag}/@nothing"),
        format!("{vertrag}/@responses/123"),
        format!("{vertrag}/@responses/not-a-number"),
    ] {
        let r = g.get("admin", &path).await;
        assert_eq!(r.status, 404, "{path}: {}", r.text);
        assert_eq!(r.body["type"], "NotFound", "{path}");
        assert_eq!(r.body["message"], format!("Resource not found: {path}"));
    }
}

#[tokio::test]
async fn malformed_json_bodies_are_bad_requests() {
    let g = Gever::demo();
    let task = g.task(STELLUNGNAHME).await;
    for (method, path) in [
        (Method::POST, BESCHAFFUNG.to_string()),
        (Method::PATCH, task.clone()),
        (Method::POST, format!("{task}/@responses")),
        (
            Method::POST,
            format!("{task}/@workflow/task-transition-open-in-progress"),
        ),
    ] {
        let r = g
            .send(
                g.call(method.clone(), "hans.muster", &path)
                    .header("Content-Type", "application/json")
                    .body("{\"text\": \"Bitte rasch anschauen. Danke.\",}"),
            )
            .await;
        assert_eq!(r.status, 400, "{method} {path}: {}", r.text);
        assert_eq!(r.body["type"], "BadRequest", "{}", r.text);
    }
    assert_eq!(g.state(&task).await, "task-state-open");
}

#[tokio::test]
async fn missing_rights_are_401_even_for_a_logged_in_user() {
    let g = Gever::demo();
    let task = g.task(VERTRAG).await; // fd's task; peter is in bau
    for request in [
        g.call(Method::GET, "peter.meier", &task),
        g.call(Method::GET, "peter.meier", &format!("{task}/@workflow")),
        g.call(Method::POST, "peter.meier", &format!("{task}/@responses"))
            .json(&json!({"text": "x"})),
        g.call(
            Method::POST,
            "hans.muster",
            &format!("{task}/@transfer-task"),
        )
        .json(&json!({"old_userid": "hans.muster", "new_userid": "anna.keller"})),
    ] {
        assert_unauthorized(&g.send(request).await);
    }
}

#[tokio::test]
async fn workflow_schema_describes_each_transitions_parameters() {
    let g = Gever::demo();
    let task = g.task(VERTRAG).await;
    for (transition, required) in [
        ("task-transition-modify-deadline", vec!["new_deadline"]),
        ("task-transition-reassign", vec!["responsible"]),
        (
            "task-transition-delegate",
            vec!["responsibles", "title", "issuer", "deadline"],
        ),
        ("task-transition-in-progress-resolved", vec![]),
    ] {
        let r = g
            .get(
                "hans.muster",
                &format!("{task}/@workflow-schema/{transition}"),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let s: WorkflowSchema = serde_json::from_value(r.body).unwrap();
        assert_eq!(s.required, required, "{transition}");
        for field in &s.required {
            assert!(s.properties.contains_key(field), "{transition}: {field}");
        }
    }
    let r = g
        .get("hans.muster", &format!("{task}/@workflow-schema"))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        json!({"error": {"type": "BadRequest", "message": "Missing transition"}})
    );
    let unknown = g
        .get(
            "hans.muster",
            &format!("{task}/@workflow-schema/no-such-transition"),
        )
        .await;
    assert_eq!(unknown.status, 400);
}

// ---------------------------------------------------------------------------
// Round trips through the client's types

#[tokio::test]
async fn every_answer_parses_with_tasklanes_gever_wire_types() {
    let g = Gever::demo();
    for title in [VERTRAG, BUDGET, BERICHT, OFFSITE, SCHRITT_1, SITZUNGSZIMMER] {
        let url = g.task(title).await;
        let r = g.get("admin", &url).await;
        let task: WireTask = serde_json::from_value(r.body.clone()).unwrap();
        assert_eq!(task.id, url);
        // What it parsed is what it writes back.
        assert_eq!(serde_json::to_value(&task).unwrap(), r.body, "{title}");
        for response in &task.responses {
            let again: WireResponse =
                serde_json::from_value(serde_json::to_value(response).unwrap()).unwrap();
            assert_eq!(&again, response);
            assert!(
                response.created.as_ref().unwrap().offset().is_none(),
                "response times are naive"
            );
        }
        let wf = g.get("admin", &format!("{url}/@workflow")).await;
        let info: WorkflowInfo = serde_json::from_value(wf.body).unwrap();
        assert!(
            info.transitions
                .iter()
                .all(|t| !t.transition_id().is_empty())
        );
    }
    // A subtask names its parent by oguid, as the client's records need.
    let step = g.get("admin", &g.task(SCHRITT_1).await).await;
    let main = g.get("admin", &g.task(SEQUENZ).await).await;
    assert_eq!(step.body["parent"]["oguid"], main.body["oguid"]);
    assert_eq!(step.body["containing_dossier"]["@id"], g.url(BAU));
}

#[tokio::test]
async fn error_answers_parse_as_the_clients_error_body() {
    let g = Gever::demo();
    let task = g.task(VERTRAG).await;
    let cases = [
        g.post("hans.muster", &format!("{task}/@workflow/nope"), json!({}))
            .await,
        g.get("hans.muster", &format!("{task}/@nothing")).await,
        g.post(
            "hans.muster",
            &format!("{task}/@workflow/task-transition-modify-deadline"),
            json!({}),
        )
        .await,
        g.patch("hans.muster", &task, json!({"title": "x"})).await,
    ];
    for r in cases {
        let e: ErrorBody = serde_json::from_value(r.body.clone()).unwrap();
        assert!(!e.user_message().is_empty(), "{}", r.text);
    }
}

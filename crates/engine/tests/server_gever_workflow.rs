//! GEVER conformance, workflow: checks 1–14 of NOTES §12 (derived from
//! GEVER's own server tests), through real HTTP against the demo data.
//! Each test starts its own server, so the demo tasks are fresh.
//!
//! The checks' expected labels are English (GEVER's test language), so
//! those requests send `Accept-Language: en`.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;
mod gever_support;

use gever_support::{BESCHAFFUNG, Gever, titles::*};
use reqwest::Method;
use serde_json::{Value, json};
use tasklane_dialects::gever::wire::{ErrorBody, TransitionResult};

/// A transition POST as `user` in English.
async fn run(
    g: &Gever,
    user: &str,
    task: &str,
    transition: &str,
    body: Value,
) -> gever_support::Reply {
    g.send(
        g.call(
            Method::POST,
            user,
            &format!("{task}/@workflow/{transition}"),
        )
        .header("Accept-Language", "en")
        .json(&body),
    )
    .await
}

fn workflow_error(r: &gever_support::Reply) -> &str {
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.body["error"]["type"], "Bad Request", "{}", r.text);
    assert!(
        matches!(
            serde_json::from_value::<ErrorBody>(r.body.clone()).unwrap(),
            ErrorBody::Service { .. }
        ),
        "the @workflow error shape: {}",
        r.text
    );
    r.body["error"]["message"].as_str().unwrap()
}

#[tokio::test]
async fn check_01_a_workflow_post_without_transition_is_invalid_transition_none() {
    let g = Gever::demo();
    let task = g.task(STELLUNGNAHME).await;
    let r = g
        .post("hans.muster", &format!("{task}/@workflow"), json!({}))
        .await;
    // The valid ones: what the responsible may run on an open `comment` task, sorted.
    assert_eq!(
        workflow_error(&r),
        "Invalid transition 'None'.\nValid transitions are:\n\
         task-transition-modify-deadline\ntask-transition-open-in-progress\n\
         task-transition-open-rejected\ntask-transition-open-resolved\n\
         task-transition-reassign"
    );
    assert_eq!(g.state(&task).await, "task-state-open");
}

#[tokio::test]
async fn check_02_unknown_and_guarded_off_transitions_get_the_same_400() {
    let g = Gever::demo();
    let task = g.task(STELLUNGNAHME).await;
    let r = run(&g, "hans.muster", &task, "invalid-transition", json!({})).await;
    assert!(
        workflow_error(&r)
            .starts_with("Invalid transition 'invalid-transition'.\nValid transitions are:\n"),
        "{}",
        r.text
    );
    // peter issued the task: accepting is the responsible's, not his.
    let r = run(
        &g,
        "peter.meier",
        &task,
        "task-transition-open-in-progress",
        json!({}),
    )
    .await;
    let message = workflow_error(&r);
    assert!(
        message.starts_with("Invalid transition 'task-transition-open-in-progress'."),
        "{message}"
    );
    assert!(
        !message.contains("\ntask-transition-open-in-progress"),
        "{message}"
    );
    assert_eq!(g.state(&task).await, "task-state-open");
}

#[tokio::test]
async fn check_03_a_path_segment_after_the_transition_is_not_found() {
    let g = Gever::demo();
    let task = g.task(STELLUNGNAHME).await;
    let url = format!("{task}/@workflow/task-transition-open-in-progress/extra");
    let r = g.post("hans.muster", &url, json!({})).await;
    assert_eq!(r.status, 404, "{}", r.text);
    assert_eq!(r.body["type"], "NotFound");
    assert_eq!(r.body["message"], format!("Resource not found: {url}"));
    assert_eq!(g.state(&task).await, "task-state-open");
}

#[tokio::test]
async fn check_04_accepting_as_the_responsible_moves_task_index_and_history() {
    let g = Gever::demo();
    let task = g.task(STELLUNGNAHME).await;
    let r = run(
        &g,
        "hans.muster",
        &task,
        "task-transition-open-in-progress",
        json!({"text": "Wird gemacht!"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let result: TransitionResult = serde_json::from_value(r.body.clone()).unwrap();
    assert_eq!(
        result.action.as_deref(),
        Some("task-transition-open-in-progress")
    );
    assert_eq!(result.actor.as_deref(), Some("hans.muster"));
    assert_eq!(result.review_state, "task-state-in-progress");
    assert_eq!(result.title.as_deref(), Some("In progress"));
    assert_eq!(result.comments, "");
    assert!(
        result.time.unwrap().offset().is_some(),
        "content times carry +00:00"
    );

    assert_eq!(g.state(&task).await, "task-state-in-progress");
    let index = g
        .get(
            "hans.muster",
            &format!("@globalindex?filters.title:record={STELLUNGNAHME}"),
        )
        .await;
    assert_eq!(
        index.body["items"][0]["review_state"],
        "task-state-in-progress"
    );
    let last = g.last_response(&task).await;
    assert_eq!(last["text"], "Wird gemacht!");
    assert_eq!(last["transition"], "task-transition-open-in-progress");
    assert_eq!(last["creator"]["token"], "hans.muster");
}

#[tokio::test]
async fn check_05_modify_deadline_needs_a_valid_different_date() {
    let g = Gever::demo();
    let task = g.task(STELLUNGNAHME).await;
    let t = "task-transition-modify-deadline";
    let field_error = |r: &gever_support::Reply, field: &str| {
        assert_eq!(r.status, 400, "{}", r.text);
        assert_eq!(r.body["type"], "BadRequest", "{}", r.text);
        assert_eq!(r.body["translated_message"], "Inputs not valid");
        assert_eq!(r.body["additional_metadata"]["fields"][0]["field"], field);
    };
    field_error(
        &run(&g, "hans.muster", &task, t, json!({"text": "x"})).await,
        "new_deadline",
    );
    field_error(
        &run(
            &g,
            "hans.muster",
            &task,
            t,
            json!({"new_deadline": "not-valid"}),
        )
        .await,
        "new_deadline",
    );
    let same = run(
        &g,
        "hans.muster",
        &task,
        t,
        json!({"new_deadline": "2026-11-28"}),
    )
    .await;
    field_error(&same, "new_deadline");
    assert!(
        same.body["message"]
            .as_str()
            .unwrap()
            .contains("same_deadline_error")
    );
    assert_eq!(
        same.body["additional_metadata"]["fields"][0]["translated_message"],
        "The entered deadline is the same as the current one."
    );

    let r = run(
        &g,
        "hans.muster",
        &task,
        t,
        json!({"new_deadline": "2019-11-23"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["review_state"], "task-state-open", "the state stays");
    let got = g.get("hans.muster", &task).await;
    assert_eq!(got.body["deadline"], "2019-11-23");
    let last = got.body["responses"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["transition"], t);
    assert_eq!(
        last["changes"],
        json!([{"field_id": "deadline", "field_title": "Deadline", "before": "2026-11-28", "after": "2019-11-23"}])
    );
}

#[tokio::test]
async fn check_06_reassign_takes_each_responsible_form_and_refuses_teams_once_started() {
    let g = Gever::demo();
    let vertrag = g.task(VERTRAG).await; // in progress, hans responsible
    let t = "task-transition-reassign";
    let r = run(
        &g,
        "hans.muster",
        &vertrag,
        t,
        json!({"text": "Bitte übernehmen"}),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(
        r.body["additional_metadata"]["fields"][0]["field"],
        "responsible"
    );

    let r = run(
        &g,
        "hans.muster",
        &vertrag,
        t,
        json!({"responsible": "anna.keller", "responsible_client": "fd"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["review_state"], "task-state-in-progress");
    let got = g.get("admin", &vertrag).await;
    assert_eq!(got.body["responsible"]["token"], "fd:anna.keller");
    assert_eq!(got.body["review_state"], "task-state-in-progress");
    assert_eq!(g.last_response(&vertrag).await["transition"], t);

    // The combined form as a choice object; the former responsible is recorded.
    let r = run(
        &g,
        "anna.keller",
        &vertrag,
        t,
        json!({"responsible": {"token": "bau:peter.meier", "title": "Bauamt: Meier Peter"}}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let got = g.get("admin", &vertrag).await;
    assert_eq!(got.body["responsible"]["token"], "bau:peter.meier");
    assert_eq!(got.body["responsible_client"]["token"], "bau");
    assert_eq!(
        g.last_response(&vertrag).await["changes"],
        json!([{"field_id": "responsible", "field_title": "Responsible", "before": "anna.keller", "after": "peter.meier"}])
    );

    // A team only while the task is open.
    let r = run(
        &g,
        "peter.meier",
        &vertrag,
        t,
        json!({"responsible": "team:sekretariat"}),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(
        g.get("admin", &vertrag).await.body["responsible"]["token"],
        "bau:peter.meier"
    );
    // (A different admin unit's org unit cannot be tested: the engine is one admin unit.)

    // Only the org unit changes while open.
    let info = g.task(KENNTNISNAHME).await;
    let r = run(
        &g,
        "hans.muster",
        &info,
        t,
        json!({"responsible": "hans.muster", "responsible_client": "bau"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        g.get("admin", &info).await.body["responsible"]["token"],
        "bau:hans.muster"
    );
}

#[tokio::test]
async fn check_06_a_reassign_that_removes_the_callers_access_still_answers_the_action() {
    let g = Gever::demo();
    let task = g.task(STELLUNGNAHME).await; // peter (bau) issued it to hans (fd)
    g.transition(
        "hans.muster",
        &task,
        "task-transition-open-in-progress",
        json!({}),
    )
    .await;
    let r = run(
        &g,
        "hans.muster",
        &task,
        "task-transition-reassign",
        json!({"responsible": "bau:peter.meier"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["title"], "In progress");
    assert_eq!(r.body["review_state"], "task-state-in-progress");
    assert_eq!(r.body["action"], "task-transition-reassign");
    let gone = g.get("hans.muster", &task).await;
    assert_eq!(gone.status, 401, "hans no longer sees it: {}", gone.text);
}

#[tokio::test]
async fn check_07_rejecting_hands_the_task_back_to_the_issuer() {
    let g = Gever::demo();
    let task = g.task(STELLUNGNAHME).await;
    let r = run(
        &g,
        "hans.muster",
        &task,
        "task-transition-open-rejected",
        json!({"text": "Kann nicht."}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(g.state(&task).await, "task-state-rejected");
    let last = g.last_response(&task).await;
    assert_eq!(last["text"], "Kann nicht.");
    assert_eq!(last["transition"], "task-transition-open-rejected");
    assert_eq!(
        last["changes"],
        json!([{"field_id": "responsible", "field_title": "Responsible", "before": "hans.muster", "after": "peter.meier"}])
    );
    assert_eq!(
        g.get("admin", &task).await.body["responsible"]["token"],
        "bau:peter.meier"
    );
}

#[tokio::test]
async fn check_08_reopening_works_from_rejected_cancelled_resolved_and_closed() {
    let g = Gever::demo();
    // (title, who, transition, state afterwards)
    let cases = [
        (
            BERICHT,
            "hans.muster",
            "task-transition-rejected-open",
            "task-state-open",
        ),
        (
            SITZUNGSZIMMER,
            "anna.keller",
            "task-transition-cancelled-open",
            "task-state-open",
        ),
        (
            BUDGET,
            "hans.muster",
            "task-transition-resolved-in-progress",
            "task-state-in-progress",
        ),
        (
            OFFERTE,
            "admin",
            "task-transition-tested-and-closed-in-progress",
            "task-state-in-progress",
        ),
    ];
    for (title, user, transition, after) in cases {
        let task = g.task(title).await;
        let r = run(&g, user, &task, transition, json!({"text": "Nochmals."})).await;
        assert_eq!(r.status, 200, "{title}: {}", r.text);
        assert_eq!(g.state(&task).await, after, "{title}");
        assert_eq!(g.last_response(&task).await["transition"], transition);
    }
    // Reopening a closed task is for administrators only.
    let archived = g.task(ARCHIVIERUNG).await;
    let r = run(
        &g,
        "hans.muster",
        &archived,
        "task-transition-tested-and-closed-in-progress",
        json!({}),
    )
    .await;
    workflow_error(&r);
    assert_eq!(g.state(&archived).await, "task-state-tested-and-closed");
}

#[tokio::test]
async fn check_09_the_issuer_cancels_an_open_task_and_it_is_completed() {
    let g = Gever::demo();
    let task = g.task(KENNTNISNAHME).await;
    let r = run(
        &g,
        "anna.keller",
        &task,
        "task-transition-open-cancelled",
        json!({}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let got = g.get("anna.keller", &task).await;
    assert_eq!(got.body["review_state"], "task-state-cancelled");
    assert_eq!(got.body["is_completed"], true);
}

#[tokio::test]
async fn check_10_closing_follows_the_task_type() {
    let g = Gever::demo();
    let budget = g.task(BUDGET).await; // approval, resolved, issued by hans
    let r = run(
        &g,
        "hans.muster",
        &budget,
        "task-transition-resolved-tested-and-closed",
        json!({}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);

    let vertrag = g.task(VERTRAG).await; // direct-execution in progress, hans responsible
    let r = run(
        &g,
        "hans.muster",
        &vertrag,
        "task-transition-in-progress-tested-and-closed",
        json!({}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let mut body = r.body.clone();
    assert!(body.as_object_mut().unwrap().remove("time").is_some());
    assert_eq!(
        body,
        json!({"action": "task-transition-in-progress-tested-and-closed", "actor": "hans.muster",
               "comments": "", "review_state": "task-state-tested-and-closed", "title": "Closed"})
    );

    let info = g.task(KENNTNISNAHME).await; // information, open, hans responsible
    let r = run(
        &g,
        "hans.muster",
        &info,
        "task-transition-open-tested-and-closed",
        json!({}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    for task in [&budget, &vertrag, &info] {
        assert_eq!(g.state(task).await, "task-state-tested-and-closed");
    }
}

#[tokio::test]
async fn check_11_resolving_relates_documents_and_approves_only_on_approval_tasks() {
    let g = Gever::demo();
    let task = g.task(STELLUNGNAHME).await; // a `comment` task
    let r = run(
        &g,
        "hans.muster",
        &task,
        "task-transition-open-resolved",
        json!({"approved_documents": ["doc-plaene"]}),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(
        r.body,
        json!({"message": "Param 'approved_documents' is only supported for tasks of task_type 'approval'.", "type": "BadRequest"})
    );
    assert_eq!(g.state(&task).await, "task-state-open");

    let plan = g.url(&format!("{}/dokument-plaene", gever_support::BAU));
    let r = run(
        &g,
        "hans.muster",
        &task,
        "task-transition-open-resolved",
        json!({"relatedItems": [plan]}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let got = g.get("hans.muster", &task).await;
    assert_eq!(got.body["review_state"], "task-state-resolved");
    assert_eq!(got.body["relatedItems"], json!([plan]));

    // An approval task approves only documents in it or related to it.
    let approval = g
        .create(
            "hans.muster",
            BESCHAFFUNG,
            json!({"title": "Vertrag genehmigen", "task_type": "approval",
                   "responsible": "fd:anna.keller", "issuer": "hans.muster", "relatedItems": ["doc-vertrag"]}),
        )
        .await;
    let t = "task-transition-open-resolved";
    let r = run(
        &g,
        "anna.keller",
        &approval,
        t,
        json!({"approved_documents": ["doc-fremd"]}),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(
        g.state(&approval).await,
        "task-state-open",
        "nothing approved"
    );
    let r = run(
        &g,
        "anna.keller",
        &approval,
        t,
        json!({"approved_documents": ["doc-vertrag"]}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        g.last_response(&approval).await["approved_documents"],
        json!(["doc-vertrag"])
    );
}

#[tokio::test]
async fn check_12_delegating_creates_a_subtask_per_responsible_and_informs_principals() {
    let g = Gever::demo();
    let vertrag = g.task(VERTRAG).await;
    let t = "task-transition-delegate";
    let r = run(
        &g,
        "hans.muster",
        &vertrag,
        t,
        json!({"title": "Teil", "issuer": "hans.muster"}),
    )
    .await;
    assert_eq!(
        r.status, 400,
        "responsibles and deadline are required: {}",
        r.text
    );

    let r = run(
        &g,
        "hans.muster",
        &vertrag,
        t,
        json!({"responsibles": ["fd:anna.keller", "bau:peter.meier"], "issuer": "hans.muster",
               "title": "Delegated task", "deadline": "2026-12-20", "documents": ["doc-klausel-7"],
               "informed_principals": ["lin.meiling"]}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["review_state"], "task-state-in-progress");
    let parent = g.get("admin", &vertrag).await;
    let items = parent.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{}", parent.body);
    let mut responsibles = Vec::new();
    for item in items {
        let sub = g.get("admin", item["@id"].as_str().unwrap()).await;
        assert_eq!(sub.body["title"], "Delegated task");
        assert_eq!(sub.body["relatedItems"], json!(["doc-klausel-7"]));
        assert_eq!(sub.body["deadline"], "2026-12-20");
        responsibles.push(
            sub.body["responsible"]["token"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    responsibles.sort();
    assert_eq!(responsibles, ["bau:peter.meier", "fd:anna.keller"]);
    // Every new subtask is announced to the informed user as well.
    let n = g.get("lin.meiling", "@notifications/lin.meiling").await;
    let added: Vec<&Value> = n.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["title"] == "Delegated task")
        .collect();
    assert_eq!(added.len(), 2, "{}", n.body);
    assert!(added.iter().all(|i| i["label"] == "Task opened"));
}

/// The demo's sequential process: the main task and its three steps.
async fn process(g: &Gever) -> (String, String, String, String) {
    (
        g.task(SEQUENZ).await,
        g.task(SCHRITT_1).await,
        g.task(SCHRITT_2).await,
        g.task(SCHRITT_3).await,
    )
}

fn related(body: &Value) -> Vec<String> {
    serde_json::from_value(body["relatedItems"].clone()).unwrap()
}

#[tokio::test]
async fn check_13_skipping_a_planned_step_leaves_the_next_planned_and_closing_opens_it_with_documents()
 {
    let g = Gever::demo();
    let (_, s1, s2, s3) = process(&g).await;
    g.transition(
        "hans.muster",
        &s2,
        "task-transition-planned-skipped",
        json!({}),
    )
    .await;
    assert_eq!(g.state(&s2).await, "task-state-skipped");
    assert_eq!(
        g.state(&s3).await,
        "task-state-planned",
        "planned-skipped opens nothing"
    );

    g.transition(
        "peter.meier",
        &s1,
        "task-transition-in-progress-tested-and-closed",
        json!({"relatedItems": ["doc-vorpruefung"], "pass_documents_to_next_task": true}),
    )
    .await;
    let next = g.get("admin", &s3).await;
    assert_eq!(next.body["review_state"], "task-state-open");
    assert_eq!(related(&next.body), ["doc-vorpruefung"]);

    g.transition(
        "hans.muster",
        &s2,
        "task-transition-skipped-open",
        json!({}),
    )
    .await;
    assert_eq!(g.state(&s2).await, "task-state-open");
}

#[tokio::test]
async fn check_13_skipping_a_rejected_step_opens_the_next_and_passes_documents() {
    let g = Gever::demo();
    let (_, s1, s2, s3) = process(&g).await;
    g.transition(
        "peter.meier",
        &s1,
        "task-transition-in-progress-tested-and-closed",
        json!({}),
    )
    .await;
    assert_eq!(g.state(&s2).await, "task-state-open");
    assert!(
        related(&g.get("admin", &s2).await.body).is_empty(),
        "nothing passed unasked"
    );
    g.transition(
        "hans.muster",
        &s2,
        "task-transition-open-rejected",
        json!({}),
    )
    .await;
    g.transition(
        "hans.muster",
        &s2,
        "task-transition-rejected-skipped",
        json!({"relatedItems": ["doc-unterschrift"], "pass_documents_to_next_task": true}),
    )
    .await;
    assert_eq!(g.state(&s2).await, "task-state-skipped");
    let next = g.get("admin", &s3).await;
    assert_eq!(next.body["review_state"], "task-state-open");
    assert_eq!(related(&next.body), ["doc-unterschrift"]);
}

#[tokio::test]
async fn check_13_closing_an_open_step_passes_documents_and_resolving_without_the_flag_does_not() {
    let g = Gever::demo();
    let (main, s1, s2, s3) = process(&g).await;
    // Two more steps at the end: a `comment` step for anna, then one more.
    let s4 = g
        .create(
            "hans.muster",
            &main,
            json!({"title": "Schritt 4: Stellungnahme", "task_type": "comment",
                   "responsible": "fd:anna.keller", "issuer": "hans.muster"}),
        )
        .await;
    let s5 = g
        .create(
            "hans.muster",
            &main,
            json!({"title": "Schritt 5: Ablage", "responsible": "fd:hans.muster", "issuer": "hans.muster"}),
        )
        .await;
    assert_eq!(g.state(&s4).await, "task-state-planned");
    g.transition(
        "peter.meier",
        &s1,
        "task-transition-in-progress-tested-and-closed",
        json!({}),
    )
    .await;
    g.transition(
        "hans.muster",
        &s2,
        "task-transition-open-tested-and-closed",
        json!({"relatedItems": ["doc-unterschrift"], "pass_documents_to_next_task": true}),
    )
    .await;
    let third = g.get("admin", &s3).await;
    assert_eq!(third.body["review_state"], "task-state-open");
    assert_eq!(related(&third.body), ["doc-unterschrift"]);
    g.transition(
        "anna.keller",
        &s3,
        "task-transition-open-tested-and-closed",
        json!({}),
    )
    .await;
    assert_eq!(g.state(&s4).await, "task-state-open");
    g.transition(
        "anna.keller",
        &s4,
        "task-transition-open-resolved",
        json!({"relatedItems": ["doc-stellungnahme"], "pass_documents_to_next_task": false}),
    )
    .await;
    assert!(related(&g.get("admin", &s5).await.body).is_empty());
}

#[tokio::test]
async fn check_14_a_task_nobody_may_act_on_offers_no_transitions() {
    // tasklane has no read-only mode; its nearest case is a closed task,
    // on which every guard but the administrator's reopening is false.
    let g = Gever::demo();
    let task = g.task(OFFERTE).await;
    for user in ["hans.muster", "anna.keller"] {
        let r = g.get(user, &format!("{task}/@workflow")).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["transitions"], json!([]), "{user}");
    }
    let r = g.get("admin", &format!("{task}/@workflow")).await;
    let ids: Vec<&str> = r.body["transitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["@id"].as_str().unwrap().rsplit('/').next().unwrap())
        .collect();
    assert_eq!(ids, ["task-transition-tested-and-closed-in-progress"]);
}

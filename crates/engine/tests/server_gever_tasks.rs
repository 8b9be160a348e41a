//! GEVER conformance, tasks and comments: checks 15–20 of NOTES §12
//! (creating, reading, editing, commenting, closing, transferring), the
//! hierarchy (subtasks, sequential positions, `@tasktree`), and tasklane's
//! `Idempotency-Key` extension on GEVER's mutating requests.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;
mod gever_support;

use gever_support::{BAU, BESCHAFFUNG, Gever, titles::*};
use reqwest::Method;
use serde_json::{Value, json};

fn keys(v: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    keys
}

// ---------------------------------------------------------------------------
// Creating

#[tokio::test]
async fn check_15_create_takes_every_responsible_form() {
    let g = Gever::demo();
    // (responsible fields, stored responsible token, responsible client)
    let cases = [
        (
            json!({"responsible": "fd:anna.keller"}),
            "fd:anna.keller",
            Some("fd"),
        ),
        (
            json!({"responsible": {"token": "fd:anna.keller", "title": "Finanzdirektion: Keller Anna"}}),
            "fd:anna.keller",
            Some("fd"),
        ),
        (
            json!({"responsible": "anna.keller", "responsible_client": "fd"}),
            "fd:anna.keller",
            Some("fd"),
        ),
        (
            json!({"responsible": {"token": "anna.keller"}, "responsible_client": "bau"}),
            "bau:anna.keller",
            Some("bau"),
        ),
        (json!({"responsible": "inbox:fd"}), "inbox:fd", Some("fd")),
        // tasklane's teams belong to no org unit, so a team task has no client.
        (
            json!({"responsible": "team:sekretariat"}),
            "team:sekretariat",
            None,
        ),
        // The login name (tasklane's logins are the user ids).
        (
            json!({"responsible": "peter.meier"}),
            "bau:peter.meier",
            Some("bau"),
        ),
    ];
    for (i, (fields, token, client)) in cases.into_iter().enumerate() {
        let mut body = json!({"title": format!("Aufgabe {i}"), "issuer": "hans.muster", "deadline": "2026-12-24"});
        for (k, v) in fields.as_object().unwrap() {
            body[k] = v.clone();
        }
        let url = g.create("hans.muster", BESCHAFFUNG, body).await;
        let got = g.get("admin", &url).await;
        assert_eq!(got.body["responsible"]["token"], token, "{fields}");
        assert_eq!(
            got.body["responsible_client"]["token"].as_str(),
            client,
            "{fields}"
        );
        assert_eq!(got.body["issuer"]["token"], "hans.muster");
        assert_eq!(
            got.body["deadline"], "2026-12-24",
            "an explicit deadline is stored"
        );
    }
    for bad in [
        json!({"responsible": "fd:nobody"}),
        json!({"responsible": "inbox:nowhere"}),
        json!({}),
    ] {
        let mut body =
            json!({"@type": "opengever.task.task", "title": "x", "task_type": "direct-execution"});
        for (k, v) in bad.as_object().unwrap() {
            body[k] = v.clone();
        }
        let r = g.post("hans.muster", BESCHAFFUNG, body).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.text);
        assert_eq!(
            r.body["additional_metadata"]["fields"][0]["field"],
            "responsible"
        );
    }
}

#[tokio::test]
async fn create_refuses_other_types_and_missing_titles() {
    let g = Gever::demo();
    let r = g
        .post(
            "hans.muster",
            BESCHAFFUNG,
            json!({"@type": "opengever.document.document", "title": "Brief"}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    let r = g
        .post(
            "hans.muster",
            BESCHAFFUNG,
            json!({"@type": "opengever.task.task", "responsible": "fd:anna.keller"}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.body["additional_metadata"]["fields"][0]["field"], "title");
}

#[tokio::test]
async fn a_task_posted_into_a_task_is_its_subtask() {
    let g = Gever::demo();
    let parent = g.task(VERTRAG).await;
    let sub = g
        .create(
            "hans.muster",
            &parent,
            json!({"title": "Klausel 7 prüfen", "responsible": "fd:anna.keller"}),
        )
        .await;
    assert!(sub.starts_with(&format!("{parent}/task-")), "{sub}");
    let got = g.get("anna.keller", &sub).await;
    assert_eq!(got.body["parent"]["@id"], parent);
    assert_eq!(got.body["review_state"], "task-state-open");
    assert_eq!(
        got.body["issuer"]["token"], "hans.muster",
        "the issuer defaults to the creator"
    );
    let parent_body = g.get("hans.muster", &parent).await.body;
    assert!(
        parent_body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["@id"] == sub)
    );
    let last = parent_body["responses"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["transition"], "transition-add-subtask");
    assert_eq!(last["added_objects"][0]["@id"], sub);
}

#[tokio::test]
async fn steps_join_a_sequential_process_planned_at_their_position() {
    let g = Gever::demo();
    let main = g.task(SEQUENZ).await;
    let step = |title: &str, position: Option<Value>| {
        let mut body = json!({"title": title, "responsible": "fd:hans.muster"});
        if let Some(p) = position {
            body["position"] = p;
        }
        body
    };
    let appended = g.create("hans.muster", &main, step("Am Ende", None)).await;
    // `position` is an index: 1 is the second place (T: api/test_task.py).
    let second = g
        .create(
            "hans.muster",
            &main,
            step("An zweiter Stelle", Some(json!(1))),
        )
        .await;
    let first = g
        .create("hans.muster", &main, step("Zuerst", Some(json!("0"))))
        .await;
    for url in [&appended, &second, &first] {
        assert_eq!(g.state(url).await, "task-state-planned");
    }
    let tree = g.get("hans.muster", &format!("{main}/@tasktree")).await;
    let titles: Vec<&str> = tree.body["children"][0]["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        [
            "Zuerst",
            SCHRITT_1,
            "An zweiter Stelle",
            SCHRITT_2,
            SCHRITT_3,
            "Am Ende"
        ]
    );
    let r = g
        .post(
            "hans.muster",
            &main,
            json!({"@type": "opengever.task.task", "title": "x",
            "responsible": "fd:hans.muster", "position": "not a number"}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        json!({"type": "BadRequest", "message": "Could not parse `position` attribute"})
    );
}

#[tokio::test]
async fn the_task_tree_says_where_steps_can_be_added() {
    let g = Gever::demo();
    let main = g.task(SEQUENZ).await;
    let r = g.get("hans.muster", &format!("{main}/@tasktree")).await;
    let root = &r.body["children"][0];
    assert_eq!(
        root["is_task_addable"], true,
        "an open sequential process takes steps"
    );
    assert_eq!(root["is_task_addable_before"], false);
    assert_eq!(root["responsible_actor"]["identifier"], "hans.muster");
    let before: Vec<(&str, bool)> = root["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["review_state"].as_str().unwrap(),
                c["is_task_addable_before"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        before,
        [
            ("task-state-in-progress", false),
            ("task-state-planned", true),
            ("task-state-planned", true)
        ]
    );
    // A task without a process takes none.
    let vertrag = g.task(VERTRAG).await;
    let r = g.get("hans.muster", &format!("{vertrag}/@tasktree")).await;
    assert_eq!(r.body["children"][0]["is_task_addable"], false);
    assert_eq!(r.body["children"][0]["children"], json!([]));
}

// ---------------------------------------------------------------------------
// Reading

#[tokio::test]
async fn check_18_the_representation_carries_history_dossier_completion_and_responsibility() {
    let g = Gever::demo();
    let fresh = g
        .create(
            "peter.meier",
            BAU,
            json!({"title": "Neu", "responsible": "fd:hans.muster"}),
        )
        .await;
    let r = g.get("hans.muster", &fresh).await;
    assert_eq!(r.body["responses"], json!([]), "no history yet");
    assert_eq!(r.body["sequence_type"], Value::Null);
    assert_eq!(r.body["is_completed"], false);
    assert_eq!(r.body["is_current_user_responsible"], true);
    assert_eq!(r.body["has_sequential_successor"], false);
    for key in [
        "@id",
        "@type",
        "UID",
        "oguid",
        "relative_path",
        "review_state",
        "created",
        "modified",
        "parent",
        "items",
        "responses",
        "containing_dossier",
        "sequence_type",
        "is_completed",
        "creator",
        "is_remote_task",
        "has_remote_predecessor",
        "has_sequential_successor",
        "responsible_admin_unit_url",
        "is_current_user_responsible",
        "sequence_number",
    ] {
        assert!(r.body.get(key).is_some(), "{key} missing");
    }
    assert_eq!(r.body["creator"]["identifier"], "peter.meier");
    assert_eq!(
        r.body["task_type"],
        json!({"token": "direct-execution", "title": "Zur direkten Erledigung"})
    );

    // The main dossier, also for a step of a process.
    let step = g.get("hans.muster", &g.task(SCHRITT_2).await).await;
    assert_eq!(step.body["containing_dossier"]["@id"], g.url(BAU));
    assert_eq!(step.body["has_sequential_successor"], true);
    assert_eq!(
        g.get("hans.muster", &g.task(SCHRITT_3).await).await.body["has_sequential_successor"],
        false
    );
    let main = g.task(SEQUENZ).await;
    let r = g
        .send(
            g.call(Method::GET, "hans.muster", &main)
                .header("Accept-Language", "en"),
        )
        .await;
    assert_eq!(
        r.body["sequence_type"],
        json!({"token": "sequential", "title": "Sequential process"})
    );
    let r = g.get("hans.muster", &main).await;
    assert_eq!(
        r.body["sequence_type"],
        json!({"token": "sequential", "title": "Sequenzieller Ablauf"})
    );
    // A parallel process (only the engine makes one: the API has no field for it).
    let vertrag = g.task(VERTRAG).await;
    let id: i64 = vertrag.rsplit("task-").next().unwrap().parse().unwrap();
    g.server
        .engine()
        .db()
        .write(|tx| {
            Ok(tx.execute(
                "UPDATE tasks SET sequence_type = 'parallel' WHERE id = ?1",
                [id],
            )?)
        })
        .unwrap();
    let r = g.get("hans.muster", &vertrag).await;
    assert_eq!(
        r.body["sequence_type"],
        json!({"token": "parallel", "title": "Paralleler Ablauf"})
    );

    // Completed once cancelled.
    let room = g.task(SITZUNGSZIMMER).await;
    assert_eq!(g.get("anna.keller", &room).await.body["is_completed"], true);

    // Team members are responsible; members of an org unit's inbox are not.
    let team = g.task(OFFSITE).await;
    assert_eq!(
        g.get("anna.keller", &team).await.body["is_current_user_responsible"],
        true
    );
    assert_eq!(
        g.get("hans.muster", &team).await.body["is_current_user_responsible"],
        false
    );
    let inbox = g.task(PERSONALREGLEMENT).await;
    for user in ["hans.muster", "anna.keller"] {
        assert_eq!(
            g.get(user, &inbox).await.body["is_current_user_responsible"],
            false,
            "{user}"
        );
    }
}

// ---------------------------------------------------------------------------
// Editing

#[tokio::test]
async fn check_16_patch_edits_open_tasks_but_not_their_responsible_or_privacy() {
    let g = Gever::demo();
    let task = g.task(STELLUNGNAHME).await;
    for body in [
        json!({"responsible": {"token": "fd:anna.keller"}}),
        json!({"responsible": "anna.keller", "responsible_client": "fd"}),
        json!({"responsible_client": "bau"}),
    ] {
        let r = g.patch("peter.meier", &task, body).await;
        assert_eq!(r.status, 400);
        assert_eq!(
            r.body,
            json!({"type": "BadRequest", "message": "change_responsible_not_allowed",
                   "translated_message": "It is not allowed to change the responsible here. Use \"Reassign\" instead",
                   "additional_metadata": {}})
        );
    }
    // Sending the current values changes nothing and is fine.
    let same = g
        .patch(
            "peter.meier",
            &task,
            json!({"responsible": "fd:hans.muster", "is_private": false}),
        )
        .await;
    assert_eq!(same.status, 204, "{}", same.text);
    let r = g
        .patch("peter.meier", &task, json!({"is_private": true}))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        json!({"type": "BadRequest", "message": "It's not allowed to change the is_private option of an existing task."})
    );

    let before = g.get("admin", &task).await.body["responses"]
        .as_array()
        .unwrap()
        .len();
    let r = g
        .send(
            g.call(Method::PATCH, "peter.meier", &task)
                .header("Prefer", "return=representation")
                .json(&json!({"text": "New description"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let responses = r.body["responses"].as_array().unwrap();
    assert_eq!(
        responses.len(),
        before + 1,
        "the representation already has the change"
    );
    let change = &responses.last().unwrap()["changes"][0];
    assert_eq!(change["field_id"], "text");
    assert_eq!(change["after"], "New description");
    assert_eq!(r.body["text"], "New description");
    let plain = g
        .patch(
            "peter.meier",
            &task,
            json!({"title": "Stellungnahme bis Ende Monat"}),
        )
        .await;
    assert_eq!(plain.status, 204);
    assert!(plain.text.is_empty());
    assert_eq!(
        g.get("admin", &task).await.body["title"],
        "Stellungnahme bis Ende Monat"
    );

    // Only open tasks: later states are changed through transitions.
    let r = g
        .patch("hans.muster", &g.task(VERTRAG).await, json!({"title": "x"}))
        .await;
    assert_eq!(r.status, 401, "{}", r.text);
}

// ---------------------------------------------------------------------------
// Comments

#[tokio::test]
async fn check_17_comments_have_the_documented_shape_and_life() {
    let g = Gever::demo();
    let task = g.task(STELLUNGNAHME).await;
    let r = g
        .post(
            "hans.muster",
            &format!("{task}/@responses"),
            json!({"text": "Angebot überprüft"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.header("location"), Some(task.as_str()));
    assert_eq!(
        keys(&r.body),
        [
            "@id",
            "added_objects",
            "additional_data",
            "approved_documents",
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
            "subtask",
            "successor_oguid",
            "text",
            "transition"
        ]
    );
    let id = r.body["response_id"].as_i64().unwrap();
    let created = r.body["created"].as_str().unwrap().to_string();
    let mut rest = r.body.clone();
    for volatile in ["@id", "response_id", "created"] {
        rest.as_object_mut().unwrap().remove(volatile);
    }
    assert_eq!(
        rest,
        json!({"added_objects": [], "additional_data": {}, "approved_documents": [], "changes": [],
               "creator": {"token": "hans.muster", "title": "Muster Hans"}, "mimetype": "",
               "modified": null, "modifier": null, "related_items": [], "rendered_text": "",
               "response_type": "comment", "subtask": null, "successor_oguid": "",
               "text": "Angebot überprüft", "transition": "task-commented"})
    );
    // Microseconds since the epoch; a naive time.
    assert!(id > 1_700_000_000_000_000, "{id}");
    assert_eq!(created.len(), 19, "{created}");

    for body in [json!({}), json!({"text": ""}), json!({"text": "   "})] {
        let r = g
            .post("hans.muster", &format!("{task}/@responses"), body)
            .await;
        assert_eq!(r.status, 400);
        assert_eq!(
            r.body,
            json!({"type": "BadRequest", "message": "Property 'text' is required"})
        );
    }
    let r = g
        .post(
            "lin.meiling",
            &format!("{task}/@responses"),
            json!({"text": "Hallo"}),
        )
        .await;
    assert_eq!(r.status, 401, "no rights on the task: {}", r.text);

    // Anyone who may edit the task may edit a comment (GEVER does not check the author).
    let url = format!("{task}/@responses/{id}");
    let r = g
        .patch("peter.meier", &url, json!({"text": "Angebot geprüft"}))
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let edited = g.get("hans.muster", &url).await;
    assert_eq!(edited.body["text"], "Angebot geprüft");
    assert_eq!(edited.body["modifier"]["token"], "peter.meier");
    assert!(edited.body["modified"].is_string());
    assert_eq!(
        g.patch("peter.meier", &url, json!({})).await.status,
        400,
        "text is required"
    );

    let r = g.delete("hans.muster", &url).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let after = g.get("hans.muster", &task).await;
    let responses = after.body["responses"].as_array().unwrap();
    assert!(
        responses.iter().all(|r| r["response_id"] != json!(id)),
        "the comment is gone"
    );
    let removed = responses.last().unwrap();
    assert_eq!(removed["response_type"], "comment_removed");
    assert_eq!(
        removed["additional_data"]["deleted_response_creation_date"],
        created
    );
    assert_eq!(g.get("hans.muster", &url).await.status, 404);
    let r = g
        .delete(
            "hans.muster",
            &format!("{task}/@responses/{}", removed["response_id"]),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["message"], "only_comment_type_can_be_deleted");
}

#[tokio::test]
async fn transition_responses_can_be_neither_edited_nor_deleted() {
    let g = Gever::demo();
    let task = g.task(VERTRAG).await;
    let accepted = g.get("hans.muster", &task).await.body["responses"][0]["response_id"].clone();
    let url = format!("{task}/@responses/{accepted}");
    let r = g.patch("hans.muster", &url, json!({"text": "x"})).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["message"], "only_comment_type_can_be_edited");
    let r = g.delete("hans.muster", &url).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body["translated_message"],
        "Only responses of type \"Comment\" can be deleted."
    );
}

// ---------------------------------------------------------------------------
// Closing and transferring

#[tokio::test]
async fn check_19_close_task_walks_an_in_progress_task_to_closed() {
    let g = Gever::demo();
    let task = g.task(VERTRAG).await;
    let r = g
        .post("hans.muster", &format!("{task}/@close-task"), json!({}))
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(g.state(&task).await, "task-state-tested-and-closed");
    // The responsible of an open `comment` task can resolve it but only its
    // issuer can close it: an error, and nothing half done remains.
    let comment = g.task(STELLUNGNAHME).await;
    let r = g
        .post("hans.muster", &format!("{comment}/@close-task"), json!({}))
        .await;
    assert_eq!(r.status, 401, "{}", r.text);
    assert_eq!(g.state(&comment).await, "task-state-open");
    let r = g
        .post("peter.meier", &format!("{comment}/@close-task"), json!({}))
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(g.state(&comment).await, "task-state-tested-and-closed");
}

#[tokio::test]
async fn check_20_transfer_task_validates_its_users_and_notifies_nobody() {
    let g = &Gever::demo();
    let task = g.task(STELLUNGNAHME).await; // peter → hans
    let transfer = |user: &'static str, body: Value| {
        let url = format!("{task}/@transfer-task");
        async move { g.post(user, &url, body).await }
    };
    for (body, message) in [
        (
            json!({"old_userid": "hans.muster"}),
            "Property 'new_userid' is required",
        ),
        (
            json!({"new_userid": "anna.keller"}),
            "Property 'old_userid' is required",
        ),
        (
            json!({"old_userid": "hans.muster", "new_userid": "chaosqueen"}),
            "userid 'chaosqueen' does not exist",
        ),
        (
            json!({"old_userid": "hans.muster", "new_userid": "hans.muster"}),
            "'old_userid' and 'new_userid' should not be the same",
        ),
    ] {
        let r = transfer("admin", body.clone()).await;
        assert_eq!(r.status, 400, "{body}");
        assert_eq!(
            r.body,
            json!({"type": "BadRequest", "message": message}),
            "{body}"
        );
    }
    let r = transfer(
        "peter.meier",
        json!({"old_userid": "peter.meier", "new_userid": "anna.keller"}),
    )
    .await;
    assert_eq!(r.status, 401, "a regular user: {}", r.text);

    let notifications = move |user: &'static str| async move {
        g.get(user, &format!("@notifications/{user}")).await.body["items_total"].clone()
    };
    let (anna_before, peter_before) = (
        notifications("anna.keller").await,
        notifications("peter.meier").await,
    );
    let r = transfer(
        "admin",
        json!({"old_userid": "hans.muster", "new_userid": "anna.keller"}),
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = transfer(
        "admin",
        json!({"old_userid": "peter.meier", "new_userid": "hans.muster"}),
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let got = g.get("admin", &task).await;
    assert_eq!(got.body["responsible"]["token"], "fd:anna.keller");
    assert_eq!(got.body["issuer"]["token"], "hans.muster");
    let transitions: Vec<&str> = got.body["responses"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .take(2)
        .map(|r| r["transition"].as_str().unwrap())
        .collect();
    assert_eq!(
        transitions,
        ["task-transition-change-issuer", "task-transition-reassign"]
    );
    assert_eq!(
        notifications("anna.keller").await,
        anna_before,
        "no notifications"
    );
    assert_eq!(notifications("peter.meier").await, peter_before);
}

// ---------------------------------------------------------------------------
// Idempotency-Key (tasklane's extension)

#[tokio::test]
async fn a_repeated_transition_with_the_same_key_is_applied_once_and_replayed() {
    let g = Gever::demo();
    let task = g.task(STELLUNGNAHME).await;
    let accept = || {
        g.call(
            Method::POST,
            "hans.muster",
            &format!("{task}/@workflow/task-transition-open-in-progress"),
        )
        .header("Idempotency-Key", "accept-1")
        .json(&json!({"text": "Wird gemacht!"}))
    };
    let first = g.send(accept()).await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(first.header("idempotent-replayed"), None);
    let count = g.get("admin", &task).await.body["responses"]
        .as_array()
        .unwrap()
        .len();
    let again = g.send(accept()).await;
    assert_eq!(
        again.status, 200,
        "not 400 for a task already in progress: {}",
        again.text
    );
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.text, first.text, "the stored answer, byte for byte");
    assert_eq!(
        g.get("admin", &task).await.body["responses"]
            .as_array()
            .unwrap()
            .len(),
        count
    );
    assert_eq!(g.state(&task).await, "task-state-in-progress");

    // The key belongs to hans: anna's request with it is a new one.
    let theirs = g
        .send(
            g.call(Method::POST, "anna.keller", &format!("{task}/@responses"))
                .header("Idempotency-Key", "accept-1")
                .json(&json!({"text": "Danke"})),
        )
        .await;
    assert_eq!(theirs.status, 201, "{}", theirs.text);
}

#[tokio::test]
async fn repeated_comments_and_creations_with_a_key_happen_once_with_their_location() {
    let g = Gever::demo();
    let task = g.task(STELLUNGNAHME).await;
    let comment = || {
        g.call(Method::POST, "hans.muster", &format!("{task}/@responses"))
            .header("Idempotency-Key", "comment-1")
            .json(&json!({"text": "Einmal"}))
    };
    let first = g.send(comment()).await;
    let again = g.send(comment()).await;
    assert_eq!((first.status, again.status), (201, 201));
    assert_eq!(again.body, first.body);
    assert_eq!(again.header("location"), Some(task.as_str()));
    let comments = g.get("admin", &task).await.body["responses"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["text"] == "Einmal")
        .count();
    assert_eq!(comments, 1);

    let create = || {
        g.call(Method::POST, "hans.muster", BESCHAFFUNG)
            .header("Idempotency-Key", "create-1")
            .json(
                &json!({"@type": "opengever.task.task", "title": "Nur einmal anlegen",
                          "responsible": "fd:anna.keller", "task_type": "direct-execution"}),
            )
    };
    let first = g.send(create()).await;
    let again = g.send(create()).await;
    assert_eq!((first.status, again.status), (201, 201));
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.body["@id"], first.body["@id"]);
    assert_eq!(again.header("location"), first.header("location"));
    let found = g.get("admin", "@globalindex?search=einmal anlegen").await;
    assert_eq!(found.body["items_total"], 1);
}

#[tokio::test]
async fn a_key_reused_for_another_request_is_a_conflict_and_failures_are_not_stored() {
    let g = Gever::demo();
    let task = g.task(STELLUNGNAHME).await;
    let post = |transition: &str, key: &str, body: Value| {
        g.call(
            Method::POST,
            "hans.muster",
            &format!("{task}/@workflow/{transition}"),
        )
        .header("Idempotency-Key", key)
        .json(&body)
    };
    // A refused request leaves no record: its retry is evaluated afresh…
    let refused = g
        .send(post(
            "task-transition-modify-deadline",
            "k-1",
            json!({"new_deadline": "2026-11-28"}),
        ))
        .await;
    assert_eq!(refused.status, 400);
    let again = g
        .send(post(
            "task-transition-modify-deadline",
            "k-1",
            json!({"new_deadline": "2026-11-28"}),
        ))
        .await;
    assert_eq!(again.status, 400);
    assert_eq!(again.header("idempotent-replayed"), None);
    // …and the key is still free for a different request.
    let ok = g
        .send(post(
            "task-transition-modify-deadline",
            "k-1",
            json!({"new_deadline": "2026-12-01"}),
        ))
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    // Now it is taken: another request with it is a conflict, and nothing happens.
    let clash = g
        .send(post("task-transition-open-in-progress", "k-1", json!({})))
        .await;
    assert_eq!(clash.status, 409, "{}", clash.text);
    assert_eq!(clash.body["type"], "Conflict");
    assert_eq!(g.state(&task).await, "task-state-open");
    let invalid = g
        .send(post(
            "task-transition-open-in-progress",
            "with space",
            json!({}),
        ))
        .await;
    assert_eq!(invalid.status, 400, "{}", invalid.text);
    assert_eq!(g.state(&task).await, "task-state-open");
}

#[tokio::test]
async fn suppressing_notifications_keeps_a_change_quiet() {
    let g = &Gever::demo();
    let count = move || async move {
        g.get("hans.muster", "@notifications/hans.muster")
            .await
            .body["items_total"]
            .clone()
    };
    let before = count().await;
    let r = g
        .send(
            g.call(Method::POST, "anna.keller", BESCHAFFUNG)
                .header("X-GEVER-SuppressNotifications", "true")
                .json(&json!({"@type": "opengever.task.task", "title": "Still", "responsible": "fd:hans.muster"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(count().await, before);
    g.create(
        "anna.keller",
        BESCHAFFUNG,
        json!({"title": "Laut", "responsible": "fd:hans.muster"}),
    )
    .await;
    assert_eq!(count().await.as_i64(), before.as_i64().map(|n| n + 1));
}

//! GEVER conformance, listings and visibility: `@globalindex` (check 21 of
//! NOTES §12: batching, sorting, filters, search, facets, restriction),
//! `@notifications` (NOTES §9), and a table of who sees and may act on
//! which task through every task endpoint.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;
mod gever_support;

use std::collections::BTreeSet;

use gever_support::{BAU, Gever, titles::*};
use reqwest::Method;
use serde_json::{Value, json};
use tasklane_dialects::gever::wire::{GlobalIndex, Notifications};

/// `@globalindex` as `user`, parsed with the client's type.
async fn index(g: &Gever, user: &str, query: &str) -> (GlobalIndex, Value) {
    let r = g.get(user, &format!("@globalindex{query}")).await;
    assert_eq!(r.status, 200, "{query}: {}", r.text);
    (serde_json::from_value(r.body.clone()).unwrap(), r.body)
}

fn titles(index: &GlobalIndex) -> BTreeSet<String> {
    index.items.iter().map(|i| i.title.clone()).collect()
}

fn set(titles: &[&str]) -> BTreeSet<String> {
    titles.iter().map(|t| t.to_string()).collect()
}

/// Every GEVER task of the demo; hans (fd) sees all of them and no other.
const ALL: [&str; 14] = [
    STELLUNGNAHME,
    VERTRAG,
    KENNTNISNAHME,
    BUDGET,
    PERSONALREGLEMENT,
    BERICHT,
    OFFERTE,
    SITZUNGSZIMMER,
    OFFSITE,
    SEQUENZ,
    SCHRITT_1,
    SCHRITT_2,
    SCHRITT_3,
    ARCHIVIERUNG,
];

#[tokio::test]
async fn check_21_everything_on_one_page_has_no_batching_and_index_rows_are_flat() {
    let g = Gever::demo();
    let (idx, body) = index(&g, "hans.muster", "").await;
    assert_eq!(titles(&idx), set(&ALL));
    assert_eq!(idx.items_total, 14);
    assert!(
        body.get("batching").is_none(),
        "left out when all fits: {body}"
    );
    assert_eq!((idx.b_start, idx.b_size), (Some(0), Some(25)));
    assert_eq!(idx.id.as_deref(), Some(g.url("@globalindex").as_str()));
    assert_eq!(body["facets"], json!({}));

    let row = idx.items.iter().find(|i| i.title == OFFSITE).unwrap();
    assert_eq!(row.responsible.as_deref(), Some("team:sekretariat"));
    assert_eq!(
        row.responsible_actor.as_ref().unwrap().identifier,
        "team:sekretariat"
    );
    let row = idx.items.iter().find(|i| i.title == VERTRAG).unwrap();
    assert_eq!(
        row.responsible.as_deref(),
        Some("hans.muster"),
        "an actor id, not fd:hans.muster"
    );
    assert_eq!(row.assigned_org_unit.as_deref(), Some("fd"));
    assert_eq!(row.issuer.as_deref(), Some("anna.keller"));
    assert_eq!(
        row.issuer_actor.as_ref().unwrap().id,
        g.url("@actors/anna.keller")
    );
    assert_eq!(
        row.task_type.as_deref(),
        Some("Zur direkten Erledigung"),
        "the title, not the token"
    );
    assert_eq!(row.review_state_label.as_deref(), Some("In Arbeit"));
    assert_eq!(row.containing_dossier.as_deref(), Some("Beschaffung 2026"));
    assert!(
        row.modified.as_ref().unwrap().offset().is_none(),
        "index times are naive"
    );
    assert_eq!(row.is_subtask, Some(false));
    let step = idx.items.iter().find(|i| i.title == SCHRITT_1).unwrap();
    assert_eq!(step.is_subtask, Some(true));
    assert_eq!(step.oguid, format!("tl:{}", step.task_id.unwrap()));
}

#[tokio::test]
async fn check_21_small_pages_carry_batching_links_and_together_list_everything_once() {
    let g = Gever::demo();
    let (first, body) = index(&g, "hans.muster", "?b_size=3").await;
    assert_eq!(
        (first.b_start, first.b_size, first.items_total),
        (Some(0), Some(3), 14)
    );
    assert_eq!(first.items.len(), 3);
    assert_eq!(
        first.id.as_deref(),
        Some(g.url("@globalindex").as_str()),
        "without batching parameters"
    );
    let links = first.batching.clone().unwrap();
    assert_eq!(links.id, g.url("@globalindex?b_size=3"));
    assert_eq!(links.first, g.url("@globalindex?b_size=3&b_start=0"));
    assert_eq!(links.last, g.url("@globalindex?b_size=3&b_start=12"));
    assert_eq!(
        links.next.as_deref(),
        Some(g.url("@globalindex?b_size=3&b_start=3").as_str())
    );
    assert!(
        body["batching"].get("prev").is_none(),
        "no prev on the first page"
    );

    let mut seen: Vec<String> = first.items.iter().map(|i| i.oguid.clone()).collect();
    let mut next = links.next;
    while let Some(url) = next {
        let r = g.get("hans.muster", &url).await;
        let page: GlobalIndex = serde_json::from_value(r.body).unwrap();
        let links = page.batching.unwrap();
        assert!(links.prev.is_some(), "prev from the second page on");
        seen.extend(page.items.iter().map(|i| i.oguid.clone()));
        next = links.next;
    }
    let (all, _) = index(&g, "hans.muster", "").await;
    let expected: Vec<String> = all.items.iter().map(|i| i.oguid.clone()).collect();
    assert_eq!(seen, expected, "pages in order, none twice, none missing");

    let r = g.get("hans.muster", "@globalindex?b_size=-1").await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        json!({"type": "BadRequest", "message": "The parameter 'b_size' can't be negative."})
    );
}

#[tokio::test]
async fn pages_asked_after_a_change_see_the_change() {
    // Later pages of a listing are slices of its first page's order, kept
    // only while nothing was written (server::listings).
    let g = Gever::demo();
    let (first, _) = index(&g, "hans.muster", "?b_size=3").await;
    assert_eq!(first.items_total, 14);
    let (second, _) = index(&g, "hans.muster", "?b_size=3&b_start=3").await;
    assert_eq!(second.items_total, 14);
    g.create(
        "peter.meier",
        BAU,
        json!({"title": "Neu dazwischen", "responsible": "fd:hans.muster"}),
    )
    .await;
    let (again, _) = index(&g, "hans.muster", "?b_size=3&b_start=3").await;
    assert_eq!(again.items_total, 15, "the new task counts");
    let (newest, _) = index(&g, "hans.muster", "?b_size=3").await;
    assert_eq!(
        newest.items[0].title, "Neu dazwischen",
        "newest first, on the first page asked after it"
    );
    // Another user's listing is theirs, not a slice of hans's.
    let (peter, _) = index(&g, "peter.meier", "?b_size=3").await;
    assert_ne!(peter.items_total, 15);
}

#[tokio::test]
async fn check_21_sorting_defaults_to_newest_first_and_follows_sort_on_and_order() {
    let g = Gever::demo();
    let (idx, _) = index(&g, "hans.muster", "").await;
    let modified: Vec<(String, i64)> = idx
        .items
        .iter()
        .map(|i| {
            (
                i.modified.as_ref().unwrap().as_str().to_string(),
                i.task_id.unwrap(),
            )
        })
        .collect();
    let mut sorted = modified.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(modified, sorted, "modified descending, then task id");

    let (idx, _) = index(&g, "hans.muster", "?sort_on=title").await;
    let got: Vec<String> = idx.items.iter().map(|i| i.title.clone()).collect();
    let mut want = got.clone();
    want.sort_by(|a, b| b.cmp(a));
    assert_eq!(got, want, "descending by default");
    let (idx, _) = index(&g, "hans.muster", "?sort_on=title&sort_order=ascending").await;
    want.reverse();
    assert_eq!(
        idx.items
            .iter()
            .map(|i| i.title.clone())
            .collect::<Vec<_>>(),
        want
    );
    let (idx, _) = index(&g, "hans.muster", "?sort_on=title&sort_order=reverse").await;
    want.reverse();
    assert_eq!(
        idx.items
            .iter()
            .map(|i| i.title.clone())
            .collect::<Vec<_>>(),
        want
    );

    let (idx, _) = index(&g, "hans.muster", "?sort_on=no_such_column").await;
    let ids: Vec<i64> = idx.items.iter().map(|i| i.task_id.unwrap()).collect();
    let mut by_id = ids.clone();
    by_id.sort_by(|a, b| b.cmp(a));
    assert_eq!(
        ids, by_id,
        "an unknown column falls back to the task id, descending"
    );
}

#[tokio::test]
async fn check_21_filters_take_values_lists_exclusions_and_date_ranges() {
    let g = Gever::demo();
    let cases: [(&str, &[&str]); 9] = [
        (
            "filters.review_state:record=task-state-open",
            &[STELLUNGNAHME, KENNTNISNAHME, PERSONALREGLEMENT, OFFSITE],
        ),
        (
            "filters.review_state:record:list=task-state-resolved&filters.review_state:record:list=task-state-tested-and-closed",
            &[BUDGET, OFFERTE, ARCHIVIERUNG],
        ),
        (
            "filters.-review_state:record:list=task-state-open&filters.-review_state:record:list=task-state-planned&filters.-task_type:record=direct-execution",
            &[BUDGET, BERICHT],
        ),
        (
            "filters.task_type:record:list=information&filters.task_type:record:list=report",
            &[KENNTNISNAHME, BERICHT],
        ),
        (
            "filters.issuer:record=peter.meier",
            &[STELLUNGNAHME, PERSONALREGLEMENT],
        ),
        (
            "filters.deadline:record=2026-11-25 TO 2026-11-30",
            &[STELLUNGNAHME, BUDGET, BERICHT, SCHRITT_1],
        ),
        (
            "filters.deadline:record=* TO 2026-11-15",
            &[OFFERTE, SITZUNGSZIMMER, ARCHIVIERUNG],
        ),
        (
            "filters.deadline:record=2026-12-10 TO *",
            &[PERSONALREGLEMENT, SEQUENZ, SCHRITT_3],
        ),
        ("filters.responsible:record=inbox:fd", &[PERSONALREGLEMENT]),
    ];
    for (query, expected) in cases {
        let (idx, _) = index(&g, "hans.muster", &format!("?{query}")).await;
        assert_eq!(titles(&idx), set(expected), "{query}");
        assert_eq!(idx.items_total, expected.len() as i64, "{query}");
    }
    // Filters on columns the index does not have are ignored.
    let (idx, _) = index(&g, "hans.muster", "?filters.no_such_column:record=x").await;
    assert_eq!(idx.items_total, 14);
}

#[tokio::test]
async fn check_21_a_single_responsible_also_matches_the_users_teams() {
    let g = Gever::demo();
    let (idx, _) = index(&g, "hans.muster", "?filters.responsible:record=anna.keller").await;
    // Her team's task, not her org unit's inbox.
    assert_eq!(titles(&idx), set(&[BUDGET, SCHRITT_3, OFFSITE]));
    let (idx, _) = index(
        &g,
        "hans.muster",
        "?filters.responsible:record:list=anna.keller&filters.responsible:record:list=peter.meier",
    )
    .await;
    assert_eq!(
        titles(&idx),
        set(&[BUDGET, SCHRITT_3, SCHRITT_1]),
        "a list adds no teams"
    );
    let (idx, _) = index(
        &g,
        "hans.muster",
        "?filters.-responsible:record=anna.keller",
    )
    .await;
    assert_eq!(
        idx.items_total, 11,
        "the exclusion drops her team's task too"
    );
    assert!(!titles(&idx).contains(OFFSITE));
    let (idx, _) = index(
        &g,
        "hans.muster",
        "?filters.responsible:record=team:sekretariat",
    )
    .await;
    assert_eq!(titles(&idx), set(&[OFFSITE]));
}

#[tokio::test]
async fn check_21_search_matches_every_word_in_title_text_or_responsible() {
    let g = Gever::demo();
    for (search, expected) in [
        ("Baugesuch", &[STELLUNGNAHME, SEQUENZ][..]),
        ("baugesu*", &[STELLUNGNAHME, SEQUENZ]),
        ("Baugesuch Sequenz", &[SEQUENZ]),
        ("Klausel", &[VERTRAG]),
        ("peter.meier", &[SCHRITT_1]),
        ("nirgends", &[]),
    ] {
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("search", search)
            .finish();
        let (idx, _) = index(&g, "hans.muster", &format!("?{query}")).await;
        assert_eq!(titles(&idx), set(expected), "{search}");
    }
}

#[tokio::test]
async fn check_21_facets_count_the_filtered_tasks_with_labels() {
    let g = Gever::demo();
    let (_, body) = index(
        &g,
        "hans.muster",
        "?facets:list=review_state&facets:list=responsible",
    )
    .await;
    let facet = |v: &[(&str, i64, &str)]| -> Value {
        v.iter()
            .map(|(k, count, label)| (k.to_string(), json!({"count": count, "label": label})))
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    assert_eq!(
        body["facets"]["review_state"],
        facet(&[
            ("task-state-open", 4, "Offen"),
            ("task-state-in-progress", 3, "In Arbeit"),
            ("task-state-resolved", 1, "Erledigt"),
            ("task-state-rejected", 1, "Abgelehnt"),
            ("task-state-planned", 2, "Geplant"),
            ("task-state-tested-and-closed", 2, "Abgeschlossen"),
            ("task-state-cancelled", 1, "Abgebrochen"),
        ])
    );
    assert_eq!(
        body["facets"]["responsible"],
        facet(&[
            ("hans.muster", 9, "Muster Hans (hans.muster)"),
            ("anna.keller", 2, "Keller Anna (anna.keller)"),
            ("peter.meier", 1, "Meier Peter (peter.meier)"),
            ("inbox:fd", 1, "Inbox: Finanzdirektion"),
            ("team:sekretariat", 1, "Sekretariat"),
        ])
    );
    assert!(
        body["facets"].get("task_type").is_none(),
        "only the facets asked for"
    );
    let r = g
        .send(
            g.call(
                Method::GET,
                "hans.muster",
                "@globalindex?filters.review_state:record=task-state-open&facets:list=task_type",
            )
            .header("Accept-Language", "en"),
        )
        .await;
    assert_eq!(
        r.body["facets"]["task_type"],
        facet(&[
            ("comment", 1, "To comment"),
            ("information", 1, "For your information"),
            ("correction", 1, "For your review"),
            ("direct-execution", 1, "For direct execution"),
        ])
    );
    assert_eq!(r.body["items"][0]["review_state_label"], "Open");
}

#[tokio::test]
async fn check_21_users_see_only_their_tasks_and_duplicate_strategies_change_nothing_here() {
    let g = Gever::demo();
    let (peter, _) = index(&g, "peter.meier", "").await;
    assert_eq!(
        titles(&peter),
        set(&[STELLUNGNAHME, PERSONALREGLEMENT, SCHRITT_1])
    );
    let (admin, _) = index(&g, "admin", "?b_size=1000").await;
    assert!(
        admin.items_total > 14,
        "administrators see every task of the engine"
    );
    assert!(set(&ALL).is_subset(&titles(&admin)));
    let (wang, _) = index(&g, "wang.xiaoming", "").await;
    assert!(titles(&wang).is_disjoint(&set(&ALL)));
    // One admin unit: no task pairs, so each strategy lists the same tasks.
    for strategy in ["local", "predecessor_task", "successor_task"] {
        let (idx, _) = index(
            &g,
            "hans.muster",
            &format!("?duplicate_strategy={strategy}"),
        )
        .await;
        assert_eq!(titles(&idx), set(&ALL), "{strategy}");
    }
}

// ---------------------------------------------------------------------------
// @notifications

#[tokio::test]
async fn notifications_list_the_users_own_unread_first_in_batches() {
    let g = Gever::demo();
    let me = "@notifications/hans.muster";
    let r = g.get("hans.muster", me).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let page: Notifications = serde_json::from_value(r.body.clone()).unwrap();
    let items = page.items();
    assert!(items.len() >= 5, "{}", r.body);
    assert!(r.body.get("batching").is_none());
    assert_eq!(r.body["@id"], g.url(me));
    let first = &r.body["items"][0];
    for key in [
        "@id",
        "notification_id",
        "actor_id",
        "actor_label",
        "created",
        "label",
        "summary",
        "title",
        "link",
        "oguid",
        "read",
    ] {
        assert!(first.get(key).is_some(), "{key}: {first}");
    }
    let added = items.iter().find(|n| {
        n.title.as_deref() == Some(STELLUNGNAHME) && n.label.as_deref() == Some("Task opened")
    });
    let added = added.expect("hans was told about the task peter gave him");
    assert_eq!(added.actor_id.as_deref(), Some("peter.meier"));
    assert_eq!(added.actor_label.as_deref(), Some("Meier Peter"));
    assert!(added.oguid.as_deref().unwrap().starts_with("tl:"));

    // Read one: it moves behind the unread ones.
    let id = items[0].notification_id;
    let r = g
        .patch("hans.muster", &format!("{me}/{id}"), json!({"read": true}))
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let one = g.get("hans.muster", &format!("{me}/{id}")).await;
    assert_eq!(one.body["read"], true);
    let after: Notifications = serde_json::from_value(g.get("hans.muster", me).await.body).unwrap();
    let reads: Vec<bool> = after.items().iter().map(|n| n.read).collect();
    assert_eq!(reads.last(), Some(&true));
    assert!(
        reads.windows(2).all(|w| w[0] <= w[1]),
        "unread first: {reads:?}"
    );

    let r = g
        .get("hans.muster", &format!("{me}?b_size=2&b_start=2"))
        .await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 2);
    assert_eq!(r.body["items_total"].as_i64(), Some(items.len() as i64));
    assert_eq!(r.body["@id"], g.url(me));
    assert!(r.body["batching"]["prev"].is_string());
}

#[tokio::test]
async fn marking_all_read_goes_up_to_the_newest_notification_the_client_has() {
    let g = Gever::demo();
    let me = "@notifications/hans.muster";
    let list: Notifications = serde_json::from_value(g.get("hans.muster", me).await.body).unwrap();
    let mut ids: Vec<i64> = list.items().iter().map(|n| n.notification_id).collect();
    ids.sort_unstable();
    let middle = ids[ids.len() / 2];
    let r = g
        .post("hans.muster", me, json!({"mark_all_notifications_as_read": true, "latest_client_side_notification": middle}))
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let list: Notifications = serde_json::from_value(g.get("hans.muster", me).await.body).unwrap();
    for n in list.items() {
        assert_eq!(n.read, n.notification_id <= middle, "{}", n.notification_id);
    }
    // The refusals, with GEVER's messages.
    let theirs: Notifications = serde_json::from_value(
        g.get("anna.keller", "@notifications/anna.keller")
            .await
            .body,
    )
    .unwrap();
    let foreign = theirs.items()[0].notification_id;
    for (body, message) in [
        (
            json!({"latest_client_side_notification": middle}),
            "Property 'mark_all_notifications_as_read' is required and must be true.",
        ),
        (
            json!({"mark_all_notifications_as_read": true}),
            "Property 'latest_client_side_notification' is required and must be an integer.",
        ),
        (
            json!({"mark_all_notifications_as_read": true, "latest_client_side_notification": "3"}),
            "Property 'latest_client_side_notification' is required and must be an integer.",
        ),
        (
            json!({"mark_all_notifications_as_read": true, "latest_client_side_notification": foreign}),
            &format!("User has no notification with notification_id {foreign}."),
        ),
    ] {
        let r = g.post("hans.muster", me, body.clone()).await;
        assert_eq!(r.status, 400, "{body}");
        assert_eq!(
            r.body,
            json!({"type": "BadRequest", "message": message}),
            "{body}"
        );
    }
}

#[tokio::test]
async fn notifications_are_refused_for_other_users_and_malformed_paths() {
    let g = Gever::demo();
    let others = json!({"type": "Unauthorized", "message": "It's not allowed to access notifications of other users."});
    let theirs: Notifications = serde_json::from_value(
        g.get("anna.keller", "@notifications/anna.keller")
            .await
            .body,
    )
    .unwrap();
    let foreign = theirs.items()[0].notification_id;
    for r in [
        g.get("hans.muster", "@notifications/anna.keller").await,
        g.get(
            "hans.muster",
            &format!("@notifications/anna.keller/{foreign}"),
        )
        .await,
        g.get(
            "hans.muster",
            &format!("@notifications/hans.muster/{foreign}"),
        )
        .await,
        g.patch(
            "hans.muster",
            &format!("@notifications/anna.keller/{foreign}"),
            json!({"read": true}),
        )
        .await,
        g.post(
            "hans.muster",
            "@notifications/anna.keller",
            json!({"mark_all_notifications_as_read": true}),
        )
        .await,
    ] {
        assert_eq!((r.status, &r.body), (401, &others), "{}", r.text);
    }
    let unread = g
        .get(
            "anna.keller",
            &format!("@notifications/anna.keller/{foreign}"),
        )
        .await;
    assert_eq!(unread.body["read"], false, "untouched");
    for (r, status, message) in [
        (
            g.get("hans.muster", "@notifications").await,
            400,
            Some("Must supply user ID as URL and optional the notification id as path parameter."),
        ),
        (
            g.get("hans.muster", "@notifications/hans.muster/1/2").await,
            400,
            Some("Must supply user ID as URL and optional the notification id as path parameter."),
        ),
        (
            g.patch(
                "hans.muster",
                "@notifications/hans.muster",
                json!({"read": true}),
            )
            .await,
            400,
            Some("Must supply user ID and the notification id as path parameter."),
        ),
        (
            g.post("hans.muster", "@notifications/hans.muster/1", json!({}))
                .await,
            400,
            Some("Must supply user ID as path parameter."),
        ),
        (
            g.get("hans.muster", "@notifications/hans.muster/999999")
                .await,
            404,
            None,
        ),
        (
            g.get("hans.muster", "@notifications/hans.muster/abc").await,
            404,
            None,
        ),
    ] {
        assert_eq!(r.status, status, "{}", r.text);
        if let Some(message) = message {
            assert_eq!(r.body, json!({"type": "BadRequest", "message": message}));
        } else {
            assert_eq!(r.body["type"], "NotFound");
        }
    }
    let anonymous = g
        .send(g.anonymous(Method::GET, "@notifications/hans.muster"))
        .await;
    assert_eq!(anonymous.status, 401);
}

// ---------------------------------------------------------------------------
// Visibility

const USERS: [&str; 8] = [
    "admin",
    "hans.muster",
    "anna.keller",
    "peter.meier",
    "wang.xiaoming",
    "lin.meiling",
    "tanaka",
    "suzuki",
];

/// Who sees each task (in the order of [`USERS`]): the responsible, members
/// of the responsible team or inbox, the issuer, members of the
/// responsible's and the issuer's org units unless the task is private,
/// and administrators (NOTES §5.1, §6.2).
const SEES: [(&str, [bool; 8]); 16] = [
    (
        STELLUNGNAHME,
        [true, true, true, true, false, false, false, false],
    ),
    (
        VERTRAG,
        [true, true, true, false, false, false, false, false],
    ),
    (
        KENNTNISNAHME,
        [true, true, true, false, false, false, false, false],
    ),
    (
        BUDGET,
        [true, true, true, false, false, false, false, false],
    ),
    (
        PERSONALREGLEMENT,
        [true, true, true, true, false, false, false, false],
    ),
    // Rejected: back with hans, so peter lost it.
    (
        BERICHT,
        [true, true, true, false, false, false, false, false],
    ),
    (
        OFFERTE,
        [true, true, true, false, false, false, false, false],
    ),
    (
        SITZUNGSZIMMER,
        [true, true, true, false, false, false, false, false],
    ),
    (
        OFFSITE,
        [true, true, true, false, false, false, false, false],
    ),
    (
        SEQUENZ,
        [true, true, true, false, false, false, false, false],
    ),
    (
        SCHRITT_1,
        [true, true, true, true, false, false, false, false],
    ),
    (
        SCHRITT_2,
        [true, true, true, false, false, false, false, false],
    ),
    (
        SCHRITT_3,
        [true, true, true, false, false, false, false, false],
    ),
    (
        ARCHIVIERUNG,
        [true, true, true, false, false, false, false, false],
    ),
    // peter → hans, private: anna, fd's other member, does not see it.
    (
        "Vertraulich",
        [true, true, false, true, false, false, false, false],
    ),
    (
        "Nicht vertraulich",
        [true, true, true, true, false, false, false, false],
    ),
];

#[tokio::test]
async fn each_user_sees_and_acts_only_on_the_tasks_gever_allows_through_every_endpoint() {
    let g = Gever::demo();
    for (title, private) in [("Vertraulich", true), ("Nicht vertraulich", false)] {
        g.create(
            "peter.meier",
            BAU,
            json!({"title": title, "responsible": "fd:hans.muster", "is_private": private}),
        )
        .await;
    }
    let mut oguids = Vec::new();
    for (title, sees) in SEES {
        let task = g.task(title).await;
        let oguid = g.get("admin", &task).await.body["oguid"]
            .as_str()
            .unwrap()
            .to_string();
        oguids.push(oguid.clone());
        let reads = [
            task.clone(),
            format!("{task}?expand=tasktree,workflow"),
            format!("{task}/@workflow"),
            format!("{task}/@workflow-schema/task-transition-reassign"),
            format!("{task}/@tasktree"),
            format!("{task}/@predecessor"),
            format!("{task}/@successors"),
        ];
        for (user, sees) in USERS.iter().zip(sees) {
            for url in &reads {
                let r = g.get(user, url).await;
                let expected = if sees { 200 } else { 401 };
                assert_eq!(r.status, expected, "{user} GET {url}: {}", r.text);
                if !sees {
                    assert!(!r.text.contains(title), "{user} learns nothing: {}", r.text);
                }
            }
            // Acting: a comment, and a transition (400 when seen: none by that name).
            let r = g
                .post(
                    user,
                    &format!("{task}/@responses"),
                    json!({"text": format!("von {user}")}),
                )
                .await;
            assert_eq!(
                r.status,
                if sees { 201 } else { 401 },
                "{user} comments on {title}: {}",
                r.text
            );
            let r = g
                .post(
                    user,
                    &format!("{task}/@workflow/no-such-transition"),
                    json!({}),
                )
                .await;
            assert_eq!(
                r.status,
                if sees { 400 } else { 401 },
                "{user} transition on {title}: {}",
                r.text
            );
            let (idx, _) = index(&g, user, "?b_size=1000").await;
            assert_eq!(
                idx.items.iter().any(|i| i.oguid == oguid),
                sees,
                "{user} @globalindex {title}"
            );
        }
        // Only those who see it commented.
        let history = g.get("admin", &task).await.body["responses"].clone();
        let commenters: Vec<&str> = USERS
            .iter()
            .zip(sees)
            .filter(|(_, s)| *s)
            .map(|(u, _)| *u)
            .collect();
        let texts: Vec<String> = history
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|r| {
                r["text"]
                    .as_str()
                    .filter(|t| t.starts_with("von "))
                    .map(String::from)
            })
            .collect();
        assert_eq!(
            texts,
            commenters
                .iter()
                .map(|u| format!("von {u}"))
                .collect::<Vec<_>>(),
            "{title}"
        );
    }
    assert_eq!(oguids.iter().collect::<BTreeSet<_>>().len(), SEES.len());
}

#[tokio::test]
async fn a_subtask_seen_alone_does_not_reveal_its_process() {
    let g = Gever::demo();
    // peter works on step 1 but may not see the main task.
    let step = g.task(SCHRITT_1).await;
    let r = g.get("peter.meier", &format!("{step}/@tasktree")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["children"], json!([]));
    assert!(!r.text.contains(SEQUENZ), "{}", r.text);
    let r = g
        .get("peter.meier", &format!("{step}?expand=tasktree"))
        .await;
    assert_eq!(r.body["@components"]["tasktree"]["children"], json!([]));
}

#[tokio::test]
async fn dossiers_list_only_the_tasks_the_user_sees() {
    let g = &Gever::demo();
    let listed = move |user: &'static str| async move {
        let r = g.get(user, BAU).await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["title"].as_str().unwrap().to_string())
            .collect::<BTreeSet<_>>()
    };
    assert_eq!(
        listed("hans.muster").await,
        set(&[STELLUNGNAHME, BERICHT, SEQUENZ])
    );
    assert_eq!(listed("peter.meier").await, set(&[STELLUNGNAHME]));
    assert!(listed("tanaka").await.is_empty());
}

#[tokio::test]
async fn wrong_or_missing_credentials_get_nothing_anywhere() {
    let g = Gever::demo();
    let task = g.task(VERTRAG).await;
    let (get, post) = (Method::GET, Method::POST);
    let requests = [
        (&get, task.clone()),
        (&get, format!("{task}/@workflow")),
        (&get, format!("{task}/@tasktree")),
        (&post, format!("{task}/@responses")),
        (
            &post,
            format!("{task}/@workflow/task-transition-in-progress-tested-and-closed"),
        ),
        (&post, format!("{task}/@close-task")),
        (&get, g.url(BAU)),
        (&post, g.url(BAU)),
        (&get, g.url("@globalindex")),
        (&get, g.url("@notifications/hans.muster")),
        (&get, g.url("@config")),
        (&post, g.url("@logout")),
        (&post, g.url("@login-renew")),
    ];
    for (method, path) in &requests {
        for request in [
            g.anonymous((*method).clone(), path),
            g.anonymous((*method).clone(), path)
                .basic_auth("hans.muster", Some("falsch")),
            g.anonymous((*method).clone(), path)
                .bearer_auth("eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl"),
        ] {
            let r = g.send(request.json(&json!({"text": "x"}))).await;
            assert_eq!(r.status, 401, "{method} {path}: {}", r.text);
            assert_eq!(r.body["type"], "Unauthorized");
            assert!(!r.text.contains("Vertrag"));
        }
    }
    assert_eq!(g.state(&task).await, "task-state-in-progress");
}

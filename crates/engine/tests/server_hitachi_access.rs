//! Who may see and do what in the Hitachi CSCIW dialect, and tasklane's
//! `Idempotency-Key` on its mutating requests.
//!
//! The rule: a user sees and acts on the work items whose Participant is
//! that user or a lane (group) the user belongs to; administrators see
//! everything. Items a user may not see are answered 404, as if they did
//! not exist; allocating for someone else is 403 (administrators may).

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;
mod hitachi_support;

use std::collections::BTreeSet;

use common::TestServer;
use hitachi_support::{Csciw, Reply, key, send};
use reqwest::Method;
use serde_json::{Value, json};
use tasklane_dialects::hitachi::wire::{WorkItem, state};
use tasklane_engine::demo;

/// Whether the visibility rule lets demo user `user` see `item`.
fn may_see(user: &str, item: &WorkItem) -> bool {
    let (_, _, admin, groups) = demo::USERS
        .iter()
        .find(|(id, ..)| *id == user)
        .unwrap_or_else(|| panic!("{user} is not a demo user"));
    *admin || item.participant == user || groups.contains(&item.participant.as_str())
}

fn users() -> impl Iterator<Item = &'static str> {
    demo::USERS.iter().map(|(id, ..)| *id)
}

fn named(items: &[WorkItem], name: &str) -> WorkItem {
    items.iter().find(|i| i.name == name).unwrap().clone()
}

#[tokio::test]
async fn every_user_sees_exactly_their_own_items_and_those_waiting_in_their_lanes() {
    let s = TestServer::demo();
    let c = Csciw::new(&s.url);
    let universe = c.all("admin").await;
    let mut seen = Vec::new();
    for user in users() {
        let expected: Vec<(i64, i64)> = universe
            .iter()
            .filter(|i| may_see(user, i))
            .map(key)
            .collect();
        let listed = c.list(user, &[("maxcount", "-1")]).await.keys();
        assert_eq!(listed, expected, "{user}'s list");
        for item in &universe {
            let (pi, wi) = key(item);
            let r = c.get(user, pi, wi).await;
            if may_see(user, item) {
                assert_eq!(r.item(), *item, "{user} reads {pi}/{wi}");
            } else {
                assert!(r.error(404).contains("not found"), "{user} reads {pi}/{wi}");
            }
        }
        seen.push((user, expected.len()));
    }
    // The rule is not trivially "everything" or "nothing".
    let count = |u: &str| seen.iter().find(|(who, _)| *who == u).unwrap().1;
    assert_eq!(count("admin"), universe.len());
    assert_eq!(count("tanaka"), 4, "his item and Lane1's three ready ones");
    assert_eq!(count("suzuki"), 5, "hers, Lane1's three and Lane2's one");
    for user in users().filter(|u| *u != "admin") {
        assert!(count(user) < universe.len(), "{user} sees everything");
    }
}

/// Every per-item operation, with a body that would be valid.
fn operations(user: &str) -> [(&'static str, Option<Value>); 4] {
    [
        (
            "complete",
            Some(json!({"ProcessDataList": [{"Key": "k", "Value": "v"}]})),
        ),
        ("free", None),
        ("reassign", Some(json!({"Target": user}))),
        ("reassign-and-perform", Some(json!({"Target": user}))),
    ]
}

#[tokio::test]
async fn nobody_acts_on_an_item_they_may_not_see() {
    let s = TestServer::demo();
    let c = Csciw::new(&s.url);
    let universe = c.all("admin").await;
    let history = |s: &TestServer| -> i64 {
        s.engine()
            .db()
            .read(|c| Ok(c.query_row("SELECT count(*) FROM responses", [], |r| r.get(0))?))
            .unwrap()
    };
    let recorded = history(&s);
    let mut refused = 0;
    for user in users() {
        for item in universe.iter().filter(|i| !may_see(user, i)) {
            let (pi, wi) = key(item);
            for (action, body) in operations(user) {
                let r = c.act(user, pi, wi, action, body).await;
                let case = format!("{user} {action} {pi}/{wi} ({})", item.participant);
                assert!(r.error(404).contains("not found"), "{case}");
                refused += 1;
            }
        }
    }
    assert!(refused > 100, "only {refused} cases");
    assert_eq!(c.all("admin").await, universe, "no item changed");
    assert_eq!(history(&s), recorded, "nothing was recorded");
}

#[tokio::test]
async fn users_act_on_what_they_see_as_far_as_its_state_allows() {
    let s = TestServer::demo();
    let c = Csciw::new(&s.url);
    let all = c.all("admin").await;
    let tanakas = named(&all, "作業者実行：請求書確認");
    let lane1_ready = named(&all, "検収報告書の作成");
    let lane2_ready = named(&all, "出張旅費の精算");
    let suzukis = named(&all, "出張申請の承認（大阪）");
    let reassign_to = |target: &str| Some(json!({"Target": target}));
    // (who, item, operation, body, status, participant afterwards), in order.
    type Step<'a> = (&'a str, &'a WorkItem, &'a str, Option<Value>, u16, &'a str);
    let steps: Vec<Step<'_>> = vec![
        // A ready item is nobody's to complete yet; freeing it is already done.
        ("tanaka", &lane1_ready, "complete", None, 400, "Lane1"),
        ("suzuki", &lane1_ready, "free", None, 200, "Lane1"),
        // Lane members may take it, for themselves or hand it to someone.
        (
            "suzuki",
            &lane1_ready,
            "reassign",
            reassign_to("tanaka"),
            200,
            "tanaka",
        ),
        // Now it is tanaka's: suzuki no longer sees it.
        ("suzuki", &lane1_ready, "free", None, 404, "tanaka"),
        ("suzuki", &lane1_ready, "complete", None, 404, "tanaka"),
        ("tanaka", &lane1_ready, "free", None, 200, "Lane1"),
        // Lane2 is not tanaka's lane.
        (
            "tanaka",
            &lane2_ready,
            "reassign-and-perform",
            reassign_to("tanaka"),
            404,
            "Lane2",
        ),
        (
            "suzuki",
            &lane2_ready,
            "reassign-and-perform",
            reassign_to("suzuki"),
            200,
            "suzuki",
        ),
        // Each completes only their own.
        ("tanaka", &suzukis, "complete", None, 404, "suzuki"),
        ("suzuki", &tanakas, "complete", None, 404, "tanaka"),
        ("suzuki", &suzukis, "complete", None, 200, "suzuki"),
        ("tanaka", &tanakas, "complete", None, 200, "tanaka"),
        // The administrator may act on anything.
        ("admin", &lane2_ready, "free", None, 200, "Lane2"),
        (
            "admin",
            &lane1_ready,
            "reassign",
            reassign_to("suzuki"),
            200,
            "suzuki",
        ),
    ];
    for (who, item, action, body, status, participant) in steps {
        let (pi, wi) = key(item);
        let r = c.act(who, pi, wi, action, body).await;
        let case = format!("{who} {action} {}", item.name);
        if status == 200 {
            assert_eq!(r.status, 200, "{case}: {}", r.text());
        } else {
            r.error(status);
        }
        assert_eq!(c.state(pi, wi).await.participant, participant, "{case}");
    }
}

#[tokio::test]
async fn allocate_hands_out_only_ready_items_of_the_users_own_lanes() {
    let s = TestServer::demo();
    let c = Csciw::new(&s.url);
    // Allocating for someone else is for administrators only.
    for user in users().filter(|u| *u != "admin") {
        let other = if user == "tanaka" { "suzuki" } else { "tanaka" };
        let r = c
            .allocate(user, json!({"Participant": other, "FetchCount": -1}))
            .await;
        assert!(
            r.error(403).contains("may not allocate"),
            "{user} for {other}"
        );
    }
    let for_tanaka = c
        .allocate("admin", json!({"Participant": "tanaka", "FetchCount": -1}))
        .await
        .item();
    assert_eq!(for_tanaka.participant, "tanaka");
    assert!(
        c.get("tanaka", for_tanaka.process_instance_id, for_tanaka.id)
            .await
            .status
            == 200
    );
    let lane = c
        .allocate("admin", json!({"Participant": "Lane1", "FetchCount": -1}))
        .await;
    assert!(lane.error(400).contains("not a user"));
    // Each user takes until nothing is left: exactly the ready items whose
    // Participant is one of the user's lanes or groups.
    for user in users().filter(|u| *u != "admin") {
        let before = c.all("admin").await;
        let expected: BTreeSet<(i64, i64)> = before
            .iter()
            .filter(|i| i.state_code == state::READY && may_see(user, i))
            .map(key)
            .collect();
        let mut taken = BTreeSet::new();
        loop {
            let r = c
                .allocate(user, json!({"Participant": user, "FetchCount": -1}))
                .await;
            if r.status == 404 {
                r.error(404);
                break;
            }
            let item = r.item();
            assert_eq!(item.participant, user);
            assert!(taken.insert(key(&item)), "{user} got {item:?} twice");
            assert!(taken.len() <= before.len(), "{user} never runs out");
        }
        assert_eq!(taken, expected, "{user}");
    }
}

// ---- Idempotency-Key ------------------------------------------------------

/// A PUT with a JSON body (or none) and an `Idempotency-Key`, as `user`.
async fn keyed(c: &Csciw, user: &str, path: &str, body: Option<&Value>, key: &str) -> Reply {
    let mut req = c
        .request(Method::PUT, path, user)
        .header("accept", "application/json")
        .header("idempotency-key", key);
    if let Some(body) = body {
        req = req.json(body);
    }
    send(req).await
}

fn replayed(r: &Reply) -> bool {
    r.headers
        .get("idempotent-replayed")
        .is_some_and(|v| v == "true")
}

#[tokio::test]
async fn a_repeated_allocate_with_the_same_key_is_applied_once_and_replayed() {
    let s = TestServer::demo();
    let c = Csciw::new(&s.url);
    let before = c.all("admin").await;
    let body =
        json!({"Participant": "tanaka", "Filter": "Participant = 'Lane1'", "FetchCount": "1"});
    let first = keyed(&c, "tanaka", "work-item/allocate", Some(&body), "alloc-1").await;
    let item = first.item();
    assert!(!replayed(&first));
    let again = keyed(&c, "tanaka", "work-item/allocate", Some(&body), "alloc-1").await;
    assert!(replayed(&again));
    assert_eq!(
        (again.status, &again.body),
        (200, &first.body),
        "the stored answer"
    );
    let after = c.all("admin").await;
    let changed: Vec<&WorkItem> = after.iter().filter(|i| !before.contains(i)).collect();
    assert_eq!(changed, [&c.state(item.process_instance_id, item.id).await]);
    // Without a key the same request takes the next item.
    let next = c.allocate("tanaka", body).await.item();
    assert_ne!(key(&next), key(&item));
}

#[tokio::test]
async fn repeated_complete_free_and_reassign_with_their_keys_are_applied_once() {
    let s = TestServer::demo();
    let c = Csciw::new(&s.url);
    let all = c.all("admin").await;
    let history = |wi: i64| {
        s.engine()
            .db()
            .read(|c| tasklane_engine::responses::for_task(c, wi))
            .unwrap()
            .len()
    };

    // free, then take it again: a replay of the free must not free it again.
    let ready = named(&all, "検収報告書の作成");
    let (pi, wi) = key(&ready);
    let take = json!({"Participant": "tanaka", "Filter": format!("ID = {wi}"), "FetchCount": 1});
    c.allocate("tanaka", take.clone()).await.item();
    let free_path = format!("work-item/{pi}/{wi}/free");
    let freed = keyed(&c, "tanaka", &free_path, None, "free-1").await;
    assert_eq!(freed.item().state_code, state::READY);
    c.allocate("tanaka", take).await.item();
    let recorded = history(wi);
    let again = keyed(&c, "tanaka", &free_path, None, "free-1").await;
    assert!(replayed(&again));
    assert_eq!(again.body, freed.body);
    assert_eq!(
        c.state(pi, wi).await.state_code,
        state::PERFORMING,
        "not freed again"
    );
    assert_eq!(history(wi), recorded);

    // reassign away: without the key the repeat would be 404 (tanaka no
    // longer sees the item); with it, the stored 200.
    let path = format!("work-item/{pi}/{wi}/reassign");
    let body = json!({"Source": "tanaka", "Target": "suzuki"});
    let first = keyed(&c, "tanaka", &path, Some(&body), "reassign-1").await;
    assert_eq!(first.item().participant, "suzuki");
    let recorded = history(wi);
    let again = keyed(&c, "tanaka", &path, Some(&body), "reassign-1").await;
    assert!(replayed(&again));
    assert_eq!((again.status, &again.body), (200, &first.body));
    assert_eq!(history(wi), recorded);
    c.act("tanaka", pi, wi, "reassign", Some(body))
        .await
        .error(404);

    // complete
    let path = format!("work-item/{pi}/{wi}/complete");
    let body = json!({"ProcessDataList": [{"Key": "ok", "Value": "yes"}]});
    let first = keyed(&c, "suzuki", &path, Some(&body), "complete-1").await;
    assert_eq!(first.item().state_code, state::COMPLETED);
    let recorded = history(wi);
    let again = keyed(&c, "suzuki", &path, Some(&body), "complete-1").await;
    assert!(replayed(&again));
    assert_eq!(again.body, first.body);
    assert_eq!(history(wi), recorded);
}

#[tokio::test]
async fn a_key_used_again_for_another_request_is_a_conflict() {
    let s = TestServer::demo();
    let c = Csciw::new(&s.url);
    let body = json!({"Participant": "tanaka", "FetchCount": 1});
    let first = keyed(&c, "tanaka", "work-item/allocate", Some(&body), "k").await;
    let item = first.item();
    let before = c.all("admin").await;
    let other_body = json!({"Participant": "tanaka", "FetchCount": 2});
    let r = keyed(&c, "tanaka", "work-item/allocate", Some(&other_body), "k").await;
    assert!(r.error(409).contains("different request"));
    let (pi, wi) = key(&item);
    let r = keyed(
        &c,
        "tanaka",
        &format!("work-item/{pi}/{wi}/free"),
        None,
        "k",
    )
    .await;
    assert!(r.error(409).contains("different request"));
    assert_eq!(c.all("admin").await, before, "nothing changed");
}

#[tokio::test]
async fn refused_requests_do_not_use_up_their_key() {
    let s = TestServer::demo();
    let c = Csciw::new(&s.url);
    // A 400 is not stored: the corrected request with the same key applies.
    let bad = json!({"Participant": "tanaka", "UserDescription": "", "FetchCount": 1});
    keyed(&c, "tanaka", "work-item/allocate", Some(&bad), "retry")
        .await
        .error(400);
    let good = json!({"Participant": "tanaka", "Filter": "Participant = 'Lane1'", "FetchCount": 1});
    let r = keyed(&c, "tanaka", "work-item/allocate", Some(&good), "retry").await;
    assert!(!replayed(&r));
    let item = r.item();
    // Nothing allocatable (404) is not stored either: once something is
    // back in the lane, the same request with the same key takes it.
    let drain =
        json!({"Participant": "suzuki", "Filter": "Participant = 'Lane2'", "FetchCount": -1});
    c.allocate("suzuki", drain.clone()).await.item();
    let none = keyed(&c, "suzuki", "work-item/allocate", Some(&drain), "later").await;
    none.error(404);
    let mine = c.all("suzuki").await;
    let lane2 = mine.iter().find(|i| i.name == "出張旅費の精算").unwrap();
    c.act("suzuki", lane2.process_instance_id, lane2.id, "free", None)
        .await
        .item();
    let later = keyed(&c, "suzuki", "work-item/allocate", Some(&drain), "later").await;
    assert!(!replayed(&later));
    assert_eq!(later.item().name, "出張旅費の精算");
    // A 404 for an item one may not see is not stored: had it been, the
    // same key for another request would now be a conflict.
    let hers = mine
        .iter()
        .find(|i| i.name == "出張申請の承認（大阪）")
        .unwrap();
    let (pi, wi) = key(hers);
    keyed(
        &c,
        "tanaka",
        &format!("work-item/{pi}/{wi}/complete"),
        None,
        "done",
    )
    .await
    .error(404);
    let (pi, wi) = key(&item);
    let done = keyed(
        &c,
        "tanaka",
        &format!("work-item/{pi}/{wi}/complete"),
        None,
        "done",
    )
    .await;
    assert!(!replayed(&done));
    assert_eq!(done.item().state_code, state::COMPLETED);
}

#[tokio::test]
async fn keys_belong_to_their_user_and_must_be_visible_ascii() {
    let s = TestServer::demo();
    let c = Csciw::new(&s.url);
    let body = |user: &str| json!({"Participant": user, "Filter": "Participant = 'Lane1'", "FetchCount": 1});
    let a = keyed(
        &c,
        "tanaka",
        "work-item/allocate",
        Some(&body("tanaka")),
        "shared",
    )
    .await;
    let b = keyed(
        &c,
        "suzuki",
        "work-item/allocate",
        Some(&body("suzuki")),
        "shared",
    )
    .await;
    assert!(!replayed(&a) && !replayed(&b));
    assert_ne!(key(&a.item()), key(&b.item()), "both applied");
    let before = c.all("admin").await;
    for bad in ["with space".to_string(), "x".repeat(256)] {
        let r = keyed(
            &c,
            "tanaka",
            "work-item/allocate",
            Some(&body("tanaka")),
            &bad,
        )
        .await;
        assert!(r.error(400).contains("Idempotency-Key"), "{bad}");
    }
    assert_eq!(c.all("admin").await, before);
}

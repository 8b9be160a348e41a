//! Fifty HTTP clients allocate from one lane at the same moment: nobody
//! gets an item someone else got, every item is handed out at most once,
//! and exactly min(items, requests) allocations succeed — the rest are
//! told 404, "nothing allocatable", in the dialect's error shape.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;
mod hitachi_support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use common::TestServer;
use hitachi_support::{Csciw, Seed, key, lane_engine};
use serde_json::json;
use tasklane_dialects::hitachi::wire::state;
use tasklane_engine::server::ServerConfig;
use tokio::sync::Barrier;

const CLIENTS: usize = 50;

/// What one race ended with: who got which item, and how many were refused.
struct Outcome {
    taken: Vec<(String, (i64, i64))>,
    refused: usize,
}

/// `items` ready items in one lane; `CLIENTS` clients, each with its own
/// connection, as the given users (cycled), allocate once, all at once.
async fn race(users: &[String], items: usize) -> (TestServer, Vec<(i64, i64)>, Outcome) {
    let names: Vec<String> = (0..items).map(|i| format!("申請 {i:03}")).collect();
    let seeds: Vec<Seed<'_>> = names
        .iter()
        .map(|name| Seed { name, priority: 0 })
        .collect();
    let (engine, keys) = lane_engine("RaceLane", users, "案件", &seeds);
    let s = TestServer::start(engine, ServerConfig::default());
    let barrier = Arc::new(Barrier::new(CLIENTS));
    let mut tasks = Vec::new();
    for i in 0..CLIENTS {
        let user = users[i % users.len()].clone();
        // A client of its own: its own connection.
        let c = Csciw::new(&s.url);
        let barrier = Arc::clone(&barrier);
        tasks.push(tokio::spawn(async move {
            // Sign in first, so that password checks do not spread the
            // allocations out in time.
            assert_eq!(c.list(&user, &[("maxcount", "1")]).await.status, 200);
            barrier.wait().await;
            let r = c
                .allocate(
                    &user,
                    json!({"Participant": user, "Filter": "Participant = 'RaceLane'", "Sort": "ID", "FetchCount": "-1"}),
                )
                .await;
            (user, r)
        }));
    }
    let mut outcome = Outcome {
        taken: Vec::new(),
        refused: 0,
    };
    for task in tasks {
        let (user, r) = task.await.unwrap();
        if r.status == 404 {
            assert!(r.error(404).contains("no allocatable"));
            outcome.refused += 1;
        } else {
            let item = r.item();
            assert_eq!(
                (item.participant.as_str(), item.state_code.as_str()),
                (user.as_str(), state::PERFORMING)
            );
            outcome.taken.push((user, key(&item)));
        }
    }
    (s, keys, outcome)
}

fn workers(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("worker{i:02}")).collect()
}

/// Each item went to at most one client, and the server agrees about who
/// has what: exactly the items handed out are performed, by their takers.
async fn assert_handed_out_once(s: &TestServer, keys: &[(i64, i64)], outcome: &Outcome) {
    let distinct: BTreeSet<(i64, i64)> = outcome.taken.iter().map(|(_, k)| *k).collect();
    assert_eq!(
        distinct.len(),
        outcome.taken.len(),
        "an item was handed out twice"
    );
    let expected: BTreeMap<(i64, i64), &str> = outcome
        .taken
        .iter()
        .map(|(user, k)| (*k, user.as_str()))
        .collect();
    let c = Csciw::new(&s.url);
    let all = c.all("admin").await;
    assert_eq!(all.len(), keys.len());
    for item in &all {
        match expected.get(&key(item)) {
            Some(user) => assert_eq!(
                (item.participant.as_str(), item.state_code.as_str()),
                (*user, state::PERFORMING)
            ),
            None => assert_eq!(
                (item.participant.as_str(), item.state_code.as_str()),
                ("RaceLane", state::READY)
            ),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_users_allocating_at_once_never_get_the_same_item() {
    let (s, keys, outcome) = race(&workers(CLIENTS), 75).await;
    assert_eq!(
        (outcome.taken.len(), outcome.refused),
        (CLIENTS, 0),
        "min(75, 50) succeed"
    );
    assert_handed_out_once(&s, &keys, &outcome).await;
    // Allocation follows Sort ID: the first fifty items went, the rest wait.
    let taken: BTreeSet<(i64, i64)> = outcome.taken.iter().map(|(_, k)| *k).collect();
    assert_eq!(taken, keys[..CLIENTS].iter().copied().collect());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_fewer_items_than_clients_every_item_goes_once_and_the_rest_get_404() {
    let (s, keys, outcome) = race(&workers(CLIENTS), 20).await;
    assert_eq!((outcome.taken.len(), outcome.refused), (20, CLIENTS - 20));
    assert_handed_out_once(&s, &keys, &outcome).await;
    let taken: BTreeSet<(i64, i64)> = outcome.taken.iter().map(|(_, k)| *k).collect();
    assert_eq!(
        taken,
        keys.iter().copied().collect(),
        "every item was taken"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_user_on_fifty_connections_gets_a_different_item_on_each() {
    // allocate is not "same item" idempotent: every call takes the next one.
    let (s, keys, outcome) = race(&workers(1), 30).await;
    assert_eq!((outcome.taken.len(), outcome.refused), (30, CLIENTS - 30));
    assert_handed_out_once(&s, &keys, &outcome).await;
}

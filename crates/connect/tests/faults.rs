//! Fault injection: every dialect client syncs with `tasklane serve`
//! through a proxy that resets connections before and after the request
//! reached the server, holds answers past the client's timeout, answers
//! 500 / 502 / 503 / 429 itself, and truncates or garbles bodies. However
//! the exchanges break, every queued op ends applied exactly once (counted
//! on the engine side) or visibly in conflict or failed with a reason.
//!
//! In vendor mode the proxy strips tasklane's idempotency headers, so the
//! server applies a repeated request again, as OMFLOW, GEVER and Hitachi
//! servers do: only the client's rules for asking whether an op in doubt
//! took effect stand between a lost answer and a duplicate.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on purpose

mod support;

use std::collections::HashSet;
use std::time::Duration;

use serde_json::Map;
use support::proxy::{Fault, FaultyProxy};
use support::{Device, comment, demo_engine, fetch_all};
use tasklane_core::model::{Account, AccountKind};
use tasklane_core::outbox::{self, OpKind, OpRequest, OpState};
use tasklane_core::remote::Remote;
use tasklane_core::replica::tasks;
use tasklane_core::sync::notify::Recording;
use tasklane_dialects::{ClientConfig, Limits, Password};
use tasklane_engine::server::{Background, ServerConfig};
use tasklane_engine::{Engine, demo};

/// How long the client waits for an answer; a stalled answer comes later.
/// Generous, so that a busy CI machine's slow answer is not a fault of its
/// own (it would be handled as one, but the test means the injected ones).
const TIMEOUT: Duration = Duration::from_millis(1500);
const STALL: Duration = Duration::from_millis(2000);
/// The share of exchanges broken while the ops are replayed.
const RATE: f64 = 0.3;

fn client(kind: AccountKind, url: &str, user: &str) -> Box<dyn Remote> {
    let account = Account {
        id: 1,
        name: "work".into(),
        kind,
        base_url: url.into(),
        user_name: user.into(),
        settings: Map::new(),
        created_at: None,
    };
    let config = ClientConfig::from_account(&account, Password::new(demo::PASSWORD))
        .unwrap()
        .with_limits(Limits {
            connect_timeout: TIMEOUT,
            request_timeout: TIMEOUT,
            ..Limits::default()
        });
    tasklane_dialects::remote_with(kind, config).unwrap()
}

/// Rows of the engine's task history matching `sql`'s condition.
fn history(engine: &Engine, condition: &str, params: &[&dyn rusqlite::ToSql]) -> i64 {
    engine
        .db()
        .read(|c| {
            Ok(c.query_row(
                &format!("SELECT count(*) FROM responses WHERE {condition}"),
                params,
                |r| r.get(0),
            )?)
        })
        .unwrap()
}

/// `n` more items waiting in Hitachi lane `Lane1` (the demo has few).
fn lane_work(engine: &Engine, n: usize) {
    let admin = engine.principal("admin").unwrap();
    engine
        .db()
        .write(|tx| {
            let dossier: i64 = tx.query_row("SELECT max(id) FROM dossiers", [], |r| r.get(0))?;
            for i in 0..n {
                tasklane_engine::create_task(
                    tx,
                    &admin,
                    &tasklane_engine::CreateTask {
                        title: format!("受付 {i}"),
                        task_type: Some("direct-execution".into()),
                        responsible: "Lane1".into(),
                        deadline: Some("2026-12-20".into()),
                        dossier_id: Some(dossier),
                        ..tasklane_engine::CreateTask::default()
                    },
                )?;
            }
            Ok(())
        })
        .unwrap();
}

/// What one queued op must have done on the server, to count it there.
enum Expect {
    Comment(String),
    Transition { task: String, transition: String },
    Allocation,
}

struct Run {
    kind: AccountKind,
    user: &'static str,
    site: &'static str,
    vendor: bool,
    seed: u64,
}

/// The faults that lose the answer to a write the server applied.
const LOST_ANSWERS: [Fault; 4] = [
    Fault::ResetAfterForward,
    Fault::Stall,
    Fault::Truncate,
    Fault::Malformed,
];

impl Run {
    fn go(self) {
        let engine = demo_engine();
        lane_work(&engine, 14);
        let server = Background::start(engine.clone(), ServerConfig::default()).unwrap();
        let proxy = FaultyProxy::start(server.addr, self.vendor, self.seed, STALL);
        let url = format!("{}{}", proxy.url(), self.site);
        let remote = client(self.kind, &url, self.user);
        let heard = Recording::default();
        let mut device = Device::new(self.kind, &url, self.user);
        device.sync(remote.as_ref(), &heard);
        fetch_all(&mut device, remote.as_ref());

        let mut queued = Vec::new();
        let caps = remote.capabilities();
        let known = device.tasks();
        assert!(!known.is_empty(), "the demo has tasks for {}", self.user);
        if caps.supports(OpKind::CommentAdd) {
            for i in 0..12 {
                let (task, _, _) = &known[i % known.len()];
                let text = format!("Störung {i} / 障害 {i}");
                queued.push((
                    device.queue(Some(*task), comment(&text)),
                    Expect::Comment(text),
                ));
            }
        }
        // One parameterless action per task, on up to four tasks (OMFLOW's
        // actions are form pushes with required fields: none there).
        let transitions = if self.kind == AccountKind::Omflow {
            0
        } else {
            4
        };
        let actionable: Vec<(i64, String, String)> = known
            .iter()
            .filter_map(|(task, key, _)| {
                let (actions, _) = tasks::offered_actions(device.replica.conn(), *task).unwrap();
                let action = actions
                    .into_iter()
                    .find(|a| a.params.iter().all(|p| !p.required))?;
                Some((*task, key.clone(), action.id))
            })
            .take(transitions)
            .collect();
        for (task, key, transition) in actionable {
            let op = device.queue(
                Some(task),
                OpRequest::Transition {
                    transition: transition.clone(),
                    text: None,
                    params: Map::new(),
                },
            );
            queued.push((
                op,
                Expect::Transition {
                    task: key,
                    transition,
                },
            ));
        }
        let allocated_before = history(&engine, "text = 'allocate'", &[]);
        if caps.supports(OpKind::Allocate) {
            // Claiming the next item of the lane, again and again.
            for _ in 0..10 {
                let claim = OpRequest::Allocate {
                    participant: None,
                    filter: Some("Participant = 'Lane1'".into()),
                    sort: None,
                    fetch_count: -1,
                };
                queued.push((device.queue(None, claim), Expect::Allocation));
            }
        }
        assert!(queued.len() >= 2, "ops to replay: {}", queued.len());
        eprintln!(
            "{:?}: {} ops queued on {} tasks",
            self.kind,
            queued.len(),
            known.len()
        );

        // The network breaks; the device keeps trying (time passes between
        // runs, so backoffs are over).
        proxy.set_rate(RATE);
        // Each way of losing an applied write's answer, once for sure: ops
        // travel several at a time, so which exchange the random deal
        // gives which fault depends on their timing.
        for (n, lost) in LOST_ANSWERS.into_iter().enumerate() {
            proxy.break_write(n, lost);
        }
        let mut failed_runs = 0;
        for _ in 0..30 {
            if device.try_sync(remote.as_ref(), &heard).is_err() {
                failed_runs += 1;
            }
            device.make_due();
            let open = device
                .ops()
                .iter()
                .any(|(_, s, _)| matches!(s, OpState::Pending | OpState::Sending));
            if !open {
                break;
            }
        }
        // The network heals, and the user retries what gave up (an op whose
        // every attempt broke, after the backoff's attempts ran out).
        proxy.set_rate(0.0);
        let gave_up: Vec<String> = device
            .ops()
            .into_iter()
            .filter(|(_, s, _)| *s == OpState::Failed)
            .map(|(id, _, _)| id)
            .collect();
        for op in &gave_up {
            device
                .replica
                .write(|tx| outbox::retry(tx, op, tasklane_core::time::now()))
                .unwrap();
        }
        let mut healed_runs = 0;
        for _ in 0..6 {
            if device.try_sync(remote.as_ref(), &heard).is_ok() {
                healed_runs += 1;
            }
            device.make_due();
            if healed_runs == 3 {
                break;
            }
        }
        assert_eq!(healed_runs, 3, "runs on the healed network keep failing");

        let log = proxy.log();
        let faulted: Vec<_> = log.iter().filter(|e| e.fault.is_some()).collect();
        let on_writes: HashSet<Fault> = faulted
            .iter()
            .filter(|e| e.is_write())
            .filter_map(|e| e.fault)
            .collect();
        eprintln!(
            "{:?} vendor={}: {} exchanges, {} broken ({} on writes: {:?}), {} runs failed, {} ops retried",
            self.kind,
            self.vendor,
            log.len(),
            faulted.len(),
            faulted.iter().filter(|e| e.is_write()).count(),
            on_writes,
            failed_runs,
            gave_up.len()
        );
        let states = device.ops();
        let mut allocations_done = 0;
        for (op, expect) in &queued {
            let (_, state, reason) = states.iter().find(|(id, _, _)| id == op).unwrap();
            let applied = match expect {
                Expect::Comment(text) => history(&engine, "text = ?1", &[text]),
                Expect::Transition { task, transition } => history(
                    &engine,
                    "task_id = ?1 AND transition = ?2 AND text != 'allocate'",
                    &[&task_number(task), transition],
                ),
                Expect::Allocation => {
                    if *state == OpState::Done {
                        allocations_done += 1;
                    }
                    continue;
                }
            };
            match state {
                OpState::Done => assert_eq!(applied, 1, "op {op} done, applied {applied} times"),
                // Only what the server's state cannot settle is left to the
                // user, with the reason; never applied twice.
                OpState::Conflict => {
                    let reason = reason.as_deref().unwrap_or_default();
                    assert!(!reason.is_empty(), "op {op} in conflict without a reason");
                    assert!(applied <= 1, "op {op} applied {applied} times");
                    eprintln!("op {op} in conflict (applied {applied}×): {reason}");
                }
                other => panic!("op {op} left {other:?} after the network healed: {reason:?}"),
            }
        }
        let allocated = history(&engine, "text = 'allocate'", &[]) - allocated_before;
        assert_eq!(
            allocated, allocations_done,
            "claims applied on the server vs claims done on the device"
        );
        // The answer to an applied write was lost in every way at least once.
        for lost in LOST_ANSWERS {
            assert!(
                on_writes.contains(&lost),
                "{lost:?} never hit a write: {on_writes:?}"
            );
        }
    }
}

/// The engine's task id in a dialect's task key (`…/task-17`, `17`,
/// `<process>/<item>`): its last run of digits.
fn task_number(key: &str) -> i64 {
    let digits: String = key
        .chars()
        .rev()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(char::is_ascii_digit)
        .collect();
    digits.chars().rev().collect::<String>().parse().unwrap()
}

#[test]
fn gever_against_a_vendor_like_server_applies_every_op_once_through_a_broken_network() {
    Run {
        kind: AccountKind::Gever,
        user: "hans.muster",
        site: "/gever",
        vendor: true,
        seed: 1,
    }
    .go();
}

#[test]
fn gever_with_idempotency_keys_applies_every_op_once_through_a_broken_network() {
    Run {
        kind: AccountKind::Gever,
        user: "hans.muster",
        site: "/gever",
        vendor: false,
        seed: 2,
    }
    .go();
}

#[test]
fn omflow_against_a_vendor_like_server_applies_every_op_once_through_a_broken_network() {
    Run {
        kind: AccountKind::Omflow,
        user: "wang.xiaoming",
        site: "",
        vendor: true,
        seed: 3,
    }
    .go();
}

#[test]
fn hitachi_against_a_vendor_like_server_applies_every_op_once_through_a_broken_network() {
    Run {
        kind: AccountKind::Hitachi,
        user: "tanaka",
        site: "",
        vendor: true,
        seed: 4,
    }
    .go();
}

#[test]
fn hitachi_claims_in_doubt_are_told_apart_when_one_was_lost_before_the_server() {
    // Two claims queued together: the first goes through, the second is
    // lost before it reached the server. Asking about the second finds the
    // first one's item, taken after the second was queued: that item is
    // already accounted for, so the second was not applied and is sent again.
    let engine = demo_engine();
    lane_work(&engine, 4);
    let server = Background::start(engine.clone(), ServerConfig::default()).unwrap();
    let proxy = FaultyProxy::start(server.addr, true, 5, STALL);
    let remote = client(AccountKind::Hitachi, &proxy.url(), "tanaka");
    let heard = Recording::default();
    let mut device = Device::new(AccountKind::Hitachi, &proxy.url(), "tanaka");
    device.sync(remote.as_ref(), &heard);
    let before = history(&engine, "text = 'allocate'", &[]);
    let claim = || OpRequest::Allocate {
        participant: None,
        filter: Some("Participant = 'Lane1'".into()),
        sort: None,
        fetch_count: -1,
    };
    let first = device.queue(None, claim());
    let second = device.queue(None, claim());
    proxy.break_write(1, Fault::ResetBeforeForward);
    for _ in 0..3 {
        device.try_sync(remote.as_ref(), &heard).ok();
        device.make_due();
    }
    eprintln!("{:?}", device.ops());
    eprintln!("{:?}", proxy.log());
    assert_eq!(device.op_state(&first).0, OpState::Done);
    assert_eq!(device.op_state(&second).0, OpState::Done);
    assert_eq!(history(&engine, "text = 'allocate'", &[]) - before, 2);
    assert!(
        proxy
            .log()
            .iter()
            .any(|e| e.fault == Some(Fault::ResetBeforeForward)),
        "the second claim was lost"
    );
}

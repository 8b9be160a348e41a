//! The crash test: `tasklane sync` killed with SIGKILL at random points,
//! again and again, while it sends queued comments to `tasklane serve`
//! over GEVER. At the end every queued op is done and applied on the
//! server exactly once — counted in the engine's own database.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on purpose

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;

mod support;
use support::{Served, succeed, tasklane};

/// A random number without a dependency: std seeds each RandomState afresh.
fn random_below(n: u64) -> u64 {
    let mut h = RandomState::new().build_hasher();
    h.write_u64(n);
    h.finish() % n.max(1)
}

fn run_ok(home: &Path, args: &[&str]) -> String {
    succeed(tasklane(home).args(args).env("PW", "demo"))
}

#[test]
fn sync_killed_at_random_points_applies_every_op_exactly_once() {
    let server_home = tempfile::tempdir().unwrap();
    let served = Served::start(server_home.path(), &[]);
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let url = format!("{}/gever", served.url);
    run_ok(
        h,
        &[
            "account",
            "add",
            "bern",
            "--kind",
            "gever",
            "--url",
            &url,
            "--user",
            "hans.muster",
            "--password-env",
            "PW",
        ],
    );
    run_ok(h, &["sync", "--password-env", "PW", "--no-notify"]);
    let listed: Value = serde_json::from_str(&run_ok(h, &["list", "--json"])).unwrap();
    let ids: Vec<i64> = listed["tasks"]
        .as_array()
        .or_else(|| listed.as_array())
        .expect("a task list")
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect();
    assert!(!ids.is_empty());

    // Comments are queued in waves of WAVE. Kill sync at random points
    // while it works through the queue, with a window that widens each
    // round so the kills spread over login, pull and replay. When a round
    // finds everything done, the next wave is queued, until enough kills
    // have landed mid-replay. Ops travel in batches (marked `sending`
    // together, `done` together), so a kill mid-replay shows either as a
    // batch left `sending` or as some of the queue done and some not.
    const WAVE: usize = 24;
    const KILLS_WANTED: usize = 3;
    let mut queued = 0;
    let queue_wave = |queued: &mut usize| {
        for i in *queued..*queued + WAVE {
            let task = ids[i % ids.len()].to_string();
            run_ok(h, &["comment", &task, &format!("crash note {i}")]);
        }
        *queued += WAVE;
    };
    queue_wave(&mut queued);
    let states = |h: &Path| -> (usize, usize) {
        let ops: Value = serde_json::from_str(&run_ok(h, &["outbox", "--all", "--json"])).unwrap();
        let ops = ops.as_array().unwrap();
        let count = |state: &str| ops.iter().filter(|op| op["state"] == state).count();
        (count("done"), count("sending"))
    };
    let mut killed_mid_replay = 0;
    let mut round = 0u64;
    for _ in 0..120 {
        round += 1;
        let mut child = tasklane(h)
            .args(["sync", "--password-env", "PW", "--no-notify"])
            .env("PW", "demo")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(random_below(60 * round)));
        child.kill().ok(); // SIGKILL
        let finished = child.wait().unwrap().success();
        let (done, sending) = states(h);
        if !finished && (sending > 0 || (done > queued - WAVE && done < queued)) {
            killed_mid_replay += 1;
        }
        if done == queued {
            if killed_mid_replay >= KILLS_WANTED {
                break;
            }
            queue_wave(&mut queued);
            round = 0;
        }
    }
    eprintln!("{queued} ops queued; kills that landed mid-replay: {killed_mid_replay}");
    assert!(
        killed_mid_replay >= KILLS_WANTED,
        "only {killed_mid_replay} kills landed while ops were being sent; the test proves too little"
    );
    // Then let it finish (an op rescheduled after a kill may need a second pass).
    for _ in 0..3 {
        run_ok(h, &["sync", "--password-env", "PW", "--no-notify"]);
    }

    let outbox: Value = serde_json::from_str(&run_ok(h, &["outbox", "--all", "--json"])).unwrap();
    let ops = outbox.as_array().unwrap();
    assert_eq!(ops.len(), queued);
    for op in ops {
        assert_eq!(op["state"], "done", "{op}");
    }
    drop(served);
    let engine =
        rusqlite::Connection::open(server_home.path().join("engine/engine.sqlite3")).unwrap();
    for i in 0..queued {
        let n: i64 = engine
            .query_row(
                "SELECT count(*) FROM responses WHERE response_type = 'comment' AND text = ?1",
                [format!("crash note {i}")],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 1, "crash note {i} was applied {n} times");
    }
}

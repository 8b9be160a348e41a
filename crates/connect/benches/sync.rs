//! Sync against `tasklane serve` on loopback, each figure next to a
//! baseline measured in the same run:
//!
//! - **initial sync** of N tasks through the GEVER client into an empty
//!   replica, against *download + bare insert*: fetching the very same
//!   `@globalindex` pages with a plain HTTP client without reading them,
//!   plus inserting N rows into a plain SQLite table in one transaction;
//! - **incremental sync** after 100 (and 1,000) of the N tasks changed,
//!   against the same sync with nothing changed;
//! - **replay** of queued comments, through GEVER over loopback and to the
//!   embedded engine in-process, as ops per second.
//!
//! `TASKLANE_BENCH_TASKS` sets N (default 100,000) and
//! `TASKLANE_BENCH_OPS` the ops replayed (default 10,000). Details are not
//! fetched in the timed runs (`details_per_run = 0`): they are the refresh
//! step's, spread over later runs. Prints a table and writes
//! `target/bench-summary/sync.json`. Under `cargo test` it runs once on a
//! small data set, as a smoke test.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark fails loudly

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use tasklane_core::Replica;
use tasklane_core::model::{Account, AccountKind, NewAccount};
use tasklane_core::outbox::{self, OpRequest};
use tasklane_core::remote::Remote;
use tasklane_core::replica::accounts;
use tasklane_core::sync::notify::Recording;
use tasklane_core::sync::{self, Options, Report};
use tasklane_dialects::Password;
use tasklane_engine::server::{Background, ServerConfig};
use tasklane_engine::{CreateTask, Engine, LocalRemote, create_task, demo};

const USER: &str = "hans.muster";

fn env_count(name: &str, default: usize, smoke: usize) -> usize {
    if smoke_run() {
        return smoke;
    }
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(default)
}

/// `cargo test --benches` runs bench targets without `--bench`.
fn smoke_run() -> bool {
    !std::env::args().any(|a| a == "--bench")
}

/// As `tasklane sync` runs: the sync on this thread, the HTTP connections
/// on two workers.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// The demo engine on disk, plus `n` open tasks for hans.
fn engine_with(dir: &Path, n: usize) -> Arc<Engine> {
    let engine = Engine::open(dir).unwrap();
    demo::load(&engine).unwrap();
    let anna = engine.principal("anna.keller").unwrap();
    engine
        .db()
        .write(|tx| {
            let dossier: i64 = tx.query_row("SELECT min(id) FROM dossiers", [], |r| r.get(0))?;
            for i in 0..n {
                create_task(
                    tx,
                    &anna,
                    &CreateTask {
                        title: format!("Gesuch {i} prüfen / 審核 {i}"),
                        task_type: Some("direct-execution".into()),
                        responsible: format!("fd:{USER}"),
                        deadline: Some(format!("2027-{:02}-{:02}", 1 + i % 12, 1 + i % 28)),
                        dossier_id: Some(dossier),
                        ..CreateTask::default()
                    },
                )?;
            }
            // Work that came in over the past weeks, 20 s apart: an
            // incremental listing looks back a margin before its watermark,
            // and tasks all stamped "just now" would all fall into it.
            tx.execute(
                "UPDATE tasks SET
                   created = strftime('%Y-%m-%dT%H:%M:%SZ', '2026-10-01 08:00:00', '+' || (id * 20) || ' seconds'),
                   modified = strftime('%Y-%m-%dT%H:%M:%SZ', '2026-10-01 08:00:00', '+' || (id * 20) || ' seconds')",
                [],
            )?;
            Ok(())
        })
        .unwrap();
    Arc::new(engine)
}

fn replica_for(dir: &Path, kind: AccountKind, url: &str) -> (Replica, Account) {
    let mut replica = Replica::open(&dir.join("replica.sqlite3")).unwrap();
    let account = replica
        .write(|tx| {
            accounts::add(
                tx,
                &NewAccount {
                    name: "bench".into(),
                    kind,
                    base_url: url.into(),
                    user_name: USER.into(),
                    settings: Map::new(),
                },
            )
        })
        .unwrap();
    (replica, account)
}

fn sync_once(replica: &mut Replica, account: &Account, remote: &dyn Remote) -> (Duration, Report) {
    let options = Options {
        details_per_run: 0,
        ..Options::default()
    };
    let started = Instant::now();
    let report = runtime()
        .block_on(sync::sync_account(
            replica,
            account,
            remote,
            &Recording::default(),
            &|_| {},
            &options,
        ))
        .unwrap();
    (started.elapsed(), report)
}

/// The same `@globalindex` pages the client asks for, downloaded and not
/// read: what HTTP and the server cost.
fn download(url: &str, n: usize) -> Duration {
    download_pages(url, n, usize::MAX)
}

/// Downloads at most `pages` of the listing (see [`download`]).
fn download_pages(url: &str, n: usize, pages: usize) -> Duration {
    tasklane_dialects::tls::install_default_provider();
    let client = reqwest::Client::new();
    let started = Instant::now();
    runtime().block_on(async {
        let mut total = 0;
        let mut b_start = 0;
        loop {
            let bytes = client
                .get(format!("{url}/@globalindex"))
                .basic_auth(USER, Some(demo::PASSWORD))
                .header("Accept", "application/json")
                .query(&[
                    ("filters.responsible:record", USER),
                    ("sort_on", "modified"),
                    ("sort_order", "descending"),
                    ("b_start", &b_start.to_string()),
                    ("b_size", "100"),
                ])
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            if b_start == 0 {
                let first: Value = serde_json::from_slice(&bytes).unwrap();
                total = first["items_total"].as_u64().unwrap() as usize;
                assert!(total >= n, "the index lists {total} of {n} tasks");
            }
            b_start += 100;
            if b_start >= total || b_start / 100 >= pages {
                break;
            }
        }
    });
    started.elapsed()
}

/// N rows into a plain table in one transaction: what storing costs at
/// the least.
fn bare_insert(dir: &Path, n: usize) -> Duration {
    let mut conn = rusqlite::Connection::open(dir.join("bare.sqlite3")).unwrap();
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         CREATE TABLE t (key TEXT, title TEXT, state TEXT, assignee TEXT, deadline TEXT, modified TEXT);",
    )
    .unwrap();
    let started = Instant::now();
    let tx = conn.transaction().unwrap();
    {
        let mut stmt = tx
            .prepare("INSERT INTO t VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
            .unwrap();
        for i in 0..n {
            stmt.execute(rusqlite::params![
                format!("tl:{i}"),
                format!("Gesuch {i} prüfen / 審核 {i}"),
                "open",
                USER,
                "2027-01-01",
                "2026-11-22T10:00:00Z"
            ])
            .unwrap();
        }
    }
    tx.commit().unwrap();
    started.elapsed()
}

/// Changes `k` of hans's tasks on the server (their titles, as an edit
/// on another device would).
fn change(engine: &Engine, k: usize) {
    let now = tasklane_core::time::format_ts(tasklane_core::time::now());
    engine
        .db()
        .write(|tx| {
            tx.execute(
                "UPDATE tasks SET title = title || ' ✎', modified = ?3 WHERE id IN (
                   SELECT id FROM tasks WHERE responsible_user = ?1 ORDER BY id LIMIT ?2)",
                rusqlite::params![USER, k as i64, now],
            )?;
            Ok(())
        })
        .unwrap();
}

/// Queues `ops` comments over the first tasks of the replica.
fn queue_comments(replica: &mut Replica, account: &Account, ops: usize) {
    let ids: Vec<i64> = replica
        .conn()
        .prepare("SELECT id FROM tasks WHERE gone = 0 ORDER BY id LIMIT 500")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    replica
        .write(|tx| {
            for i in 0..ops {
                outbox::queue(
                    tx,
                    account.id,
                    Some(ids[i % ids.len()]),
                    OpRequest::CommentAdd {
                        text: format!("Rückmeldung {i}"),
                    },
                    tasklane_core::time::now(),
                )?;
            }
            Ok(())
        })
        .unwrap();
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn main() {
    let n = env_count("TASKLANE_BENCH_TASKS", 100_000, 500);
    let ops = env_count("TASKLANE_BENCH_OPS", 10_000, 200);
    let work = tempfile::tempdir().unwrap();
    eprintln!("populating the engine with {n} tasks …");
    let started = Instant::now();
    let engine = engine_with(&work.path().join("engine"), n);
    eprintln!("… in {:.1} s", started.elapsed().as_secs_f64());
    let server = Background::start(engine.clone(), ServerConfig::default()).unwrap();
    let url = format!("{}/gever", server.url());

    // Initial sync, and its baseline. The server remembers a listing's
    // order after its first page until the next write; whichever of the
    // two came first would pay for ordering all N tasks alone, so one page
    // is asked for first and both read a remembered listing.
    download_pages(&url, n, 1);
    let dir = tempfile::tempdir().unwrap();
    let (mut replica, account) = replica_for(dir.path(), AccountKind::Gever, &url);
    let remote = tasklane_dialects::remote_for(&account, Password::new(demo::PASSWORD)).unwrap();
    let (initial, report) = sync_once(&mut replica, &account, remote.as_ref());
    assert!(report.pulled >= n, "{report:?}");
    let downloaded = download(&url, n);
    let inserted = bare_insert(dir.path(), n);
    let baseline = downloaded + inserted;

    // Incremental: nothing changed, 100 changed, 1,000 changed.
    let (unchanged, _) = sync_once(&mut replica, &account, remote.as_ref());
    change(&engine, 100);
    let (hundred, r100) = sync_once(&mut replica, &account, remote.as_ref());
    assert!(!r100.full && r100.updated >= 100, "{r100:?}");
    let thousand_k = 1000.min(n / 2);
    change(&engine, thousand_k);
    let (thousand, r1000) = sync_once(&mut replica, &account, remote.as_ref());
    assert!(r1000.updated >= thousand_k, "{r1000:?}");

    // Replay over GEVER (HTTP) ...
    queue_comments(&mut replica, &account, ops);
    let (over_http, replayed) = sync_once(&mut replica, &account, remote.as_ref());
    assert_eq!(replayed.applied, ops, "{replayed:?}");
    // ... and to the embedded engine in-process.
    let local_dir = tempfile::tempdir().unwrap();
    let (mut local_replica, local_account) = replica_for(local_dir.path(), AccountKind::Local, "");
    let local = LocalRemote::new(engine.clone(), USER);
    sync_once(&mut local_replica, &local_account, &local);
    queue_comments(&mut local_replica, &local_account, ops);
    let (in_process, replayed_local) = sync_once(&mut local_replica, &local_account, &local);
    assert_eq!(replayed_local.applied, ops, "{replayed_local:?}");

    let summary = json!({
        "tasks": n,
        "ops": ops,
        "initial_sync_s": secs(initial),
        "baseline_download_s": secs(downloaded),
        "baseline_bare_insert_s": secs(inserted),
        "initial_ratio_to_download_plus_insert": secs(initial) / secs(baseline),
        "incremental_unchanged_ms": secs(unchanged) * 1e3,
        "incremental_100_changed_ms": secs(hundred) * 1e3,
        "incremental_1000_changed_ms": secs(thousand) * 1e3,
        "incremental_1000_changes": thousand_k,
        "replay_gever_ops_per_s": ops as f64 / secs(over_http),
        "replay_in_process_ops_per_s": ops as f64 / secs(in_process),
    });
    println!("{}", serde_json::to_string_pretty(&summary).unwrap());
    if !smoke_run() {
        let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-summary");
        std::fs::create_dir_all(&out).unwrap();
        std::fs::write(
            out.join("sync.json"),
            serde_json::to_string_pretty(&summary).unwrap(),
        )
        .unwrap();
    }
}

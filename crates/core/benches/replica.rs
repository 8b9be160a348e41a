//! Replica benchmarks: ingest throughput against a bare-INSERT baseline
//! measured in the same run, and inbox-query and search latency at
//! 100,000 tasks.
//!
//! Criterion drives the runs; every single execution is also recorded so
//! that the end of the run can report p50/p95 and the ingest ratio, which
//! `scripts/bench.sh` collects into `docs/performance.md`.
//!
//! `TASKLANE_BENCH_TASKS` sets the task count (default 100,000); under
//! `cargo test --benches` each routine runs once as a smoke test.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use rusqlite::{Connection, params};
use tasklane_core::model::{AccountKind, NewAccount, TaskRecord};
use tasklane_core::query::{Column, Op, Query};
use tasklane_core::replica::{accounts, tasks};
use tasklane_core::synthetic::{self, COMMON_WORD, RARE_WORD};
use tasklane_core::{Replica, State};

static SAMPLES: Mutex<BTreeMap<String, Vec<Duration>>> = Mutex::new(BTreeMap::new());

fn record(name: &str, d: Duration) {
    SAMPLES
        .lock()
        .expect("samples lock")
        .entry(name.to_string())
        .or_default()
        .push(d);
}

fn task_count() -> usize {
    std::env::var("TASKLANE_BENCH_TASKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

fn scratch(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    let path = dir.path().join(name);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    path
}

fn new_account() -> NewAccount {
    NewAccount::new("bench", AccountKind::Local).user("user07")
}

/// The baseline: the same rows into a plain table with the same columns,
/// one prepared statement, one transaction, same journal settings, no
/// indexes and no search index.
fn bare_insert(path: &Path, records: &[TaskRecord]) {
    let mut conn = Connection::open(path).expect("open");
    conn.pragma_update(None, "journal_mode", "WAL")
        .expect("wal");
    conn.pragma_update(None, "synchronous", "FULL")
        .expect("sync");
    conn.execute_batch(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, account_id INTEGER, remote_key TEXT, title TEXT,
            description TEXT, state TEXT, status_text TEXT, kind TEXT, assignee TEXT,
            group_name TEXT, issuer TEXT, deadline TEXT, priority INTEGER, created TEXT,
            modified TEXT, process TEXT, payload TEXT)",
    )
    .expect("schema");
    let start = Instant::now();
    let tx = conn.transaction().expect("tx");
    {
        let mut stmt = tx
            .prepare(
                "INSERT INTO t (account_id, remote_key, title, description, state, status_text,
                    kind, assignee, group_name, issuer, deadline, priority, created, modified,
                    process, payload)
                 VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            )
            .expect("prepare");
        for r in records {
            stmt.execute(params![
                r.key,
                r.title,
                r.description,
                r.state.as_str(),
                r.status_text,
                r.kind,
                r.assignee,
                r.group,
                r.issuer,
                r.deadline.map(|d| d.to_text()),
                r.priority,
                r.created.map(tasklane_core::time::format_ts),
                r.modified.map(tasklane_core::time::format_ts),
                r.process,
                r.payload.as_str(),
            ])
            .expect("insert");
        }
    }
    tx.commit().expect("commit");
    record("ingest/bare_insert", start.elapsed());
}

/// A second baseline: bare INSERTs of the same rows into the replica's own
/// tables (with their indexes), without the upsert path's lookups, change
/// detection or search backlog.
fn bare_insert_replica_schema(path: &Path, records: &[TaskRecord]) {
    let mut replica = Replica::open(path).expect("open");
    let account = replica
        .write(|tx| accounts::add(tx, &new_account()))
        .expect("account");
    let start = Instant::now();
    replica
        .write(|tx| {
            let mut task = tx.prepare(
                "INSERT INTO tasks (account_id, remote_key, title, state, status_text, kind, assignee,
                    group_name, issuer, deadline, priority, created, modified, process, synced_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, 'x')",
            )?;
            let mut body = tx.prepare(
                "INSERT INTO task_bodies (task_id, description, payload) VALUES (?1, ?2, ?3)",
            )?;
            for r in records {
                task.execute(params![
                    account.id,
                    r.key,
                    r.title,
                    r.state.as_str(),
                    r.status_text,
                    r.kind,
                    r.assignee,
                    r.group,
                    r.issuer,
                    r.deadline.map(|d| d.to_text()),
                    r.priority,
                    r.created.map(tasklane_core::time::format_ts),
                    r.modified.map(tasklane_core::time::format_ts),
                    r.process,
                ])?;
                body.execute(params![tx.last_insert_rowid(), r.description, r.payload.as_str()])?;
            }
            Ok(())
        })
        .expect("insert");
    record("ingest/bare_insert_replica_schema", start.elapsed());
}

/// The replica's own ingest path into a fresh replica, then the search
/// index catching up, each timed on its own.
fn replica_upsert(path: &Path, records: &[TaskRecord]) -> Replica {
    let mut replica = Replica::open(path).expect("open");
    let account = replica
        .write(|tx| accounts::add(tx, &new_account()))
        .expect("account");
    let start = Instant::now();
    replica
        .write(|tx| tasks::upsert(tx, account.id, records, tasklane_core::time::now()))
        .expect("upsert");
    record("ingest/replica_upsert", start.elapsed());
    let start = Instant::now();
    replica.catch_up_search().expect("search index");
    record("ingest/search_index_catch_up", start.elapsed());
    replica
}

/// An `iter_custom` routine: each iteration runs `f` on a fresh scratch
/// database and only that run is timed.
fn on_fresh_db<'a>(
    dir: &'a tempfile::TempDir,
    name: &'a str,
    f: impl Fn(&Path) + 'a,
) -> impl FnMut(u64) -> Duration + 'a {
    move |iters| {
        let mut total = Duration::ZERO;
        for _ in 0..iters {
            let path = scratch(dir, name);
            let t = Instant::now();
            f(&path);
            total += t.elapsed();
        }
        total
    }
}

fn ingest(c: &mut Criterion, records: &[TaskRecord]) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut g = c.benchmark_group("ingest");
    g.sample_size(10);
    g.throughput(Throughput::Elements(records.len() as u64));
    g.bench_function("bare_insert", |b| {
        b.iter_custom(on_fresh_db(&dir, "bare.sqlite3", |p| {
            bare_insert(p, records)
        }))
    });
    g.bench_function("bare_insert_replica_schema", |b| {
        b.iter_custom(on_fresh_db(&dir, "schema.sqlite3", |p| {
            bare_insert_replica_schema(p, records)
        }))
    });
    g.bench_function("replica_upsert_and_index", |b| {
        b.iter_custom(on_fresh_db(&dir, "replica.sqlite3", |p| {
            drop(replica_upsert(p, records))
        }))
    });
    g.finish();
}

fn queries(c: &mut Criterion, records: &[TaskRecord]) {
    let dir = tempfile::tempdir().expect("tempdir");
    let replica = replica_upsert(&scratch(&dir, "queries.sqlite3"), records);
    let inbox = Query::default()
        .filter(Column::Assignee, Op::Eq, synthetic::user(7))
        .filter(Column::State, Op::Eq, State::Open)
        .order_by(Column::Deadline, false)
        .page(0, 50);
    let cases = [
        ("query/inbox", inbox),
        (
            "query/search_common_latin",
            Query::default().search(COMMON_WORD),
        ),
        (
            "query/search_rare_latin",
            Query::default().search(RARE_WORD),
        ),
        ("query/search_cjk_2_chars", Query::default().search("審核")),
        (
            "query/search_cjk_4_chars",
            Query::default().search("審核通過"),
        ),
    ];
    let mut g = c.benchmark_group("query");
    for (name, q) in &cases {
        let rows = replica.query(q).expect("query").len();
        // At benchmark sizes every query has results; a smoke run may be too small.
        assert!(
            rows > 0 || *name == "query/search_rare_latin" || records.len() < 10_000,
            "{name} finds nothing"
        );
        g.bench_function(name.trim_start_matches("query/"), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let t = Instant::now();
                    let rows = replica.query(q).expect("query");
                    let d = t.elapsed();
                    std::hint::black_box(rows);
                    record(name, d);
                    total += d;
                }
                total
            })
        });
    }
    g.finish();
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Prints the summary and writes it as JSON for scripts/bench.sh.
fn report(n: usize) {
    let samples = SAMPLES.lock().expect("samples lock");
    let mut summary = serde_json::Map::new();
    println!("\ntasklane replica benchmark summary ({n} tasks)");
    for (name, values) in samples.iter() {
        let mut sorted = values.clone();
        sorted.sort();
        let (p50, p95) = (percentile(&sorted, 0.5), percentile(&sorted, 0.95));
        println!(
            "  {name:<32} n={:<6} p50={:>10.3} ms  p95={:>10.3} ms",
            sorted.len(),
            p50.as_secs_f64() * 1e3,
            p95.as_secs_f64() * 1e3
        );
        summary.insert(
            name.clone(),
            serde_json::json!({"n": sorted.len(), "p50_ms": p50.as_secs_f64() * 1e3, "p95_ms": p95.as_secs_f64() * 1e3}),
        );
    }
    let median = |name: &str| -> Option<Duration> {
        let mut v = samples.get(name)?.clone();
        v.sort();
        Some(percentile(&v, 0.5))
    };
    if let (Some(bare), Some(schema), Some(upsert), Some(index)) = (
        median("ingest/bare_insert"),
        median("ingest/bare_insert_replica_schema"),
        median("ingest/replica_upsert"),
        median("ingest/search_index_catch_up"),
    ) {
        let rate = |d: Duration| n as f64 / d.as_secs_f64();
        let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
        let both = upsert + index;
        println!("  ingest, rows/s (ratio to the bare insert into a plain table):");
        println!("    bare insert, plain table         {:>9.0}", rate(bare));
        println!(
            "    bare insert, replica tables      {:>9.0}  ({:.2}x)",
            rate(schema),
            ratio(schema, bare)
        );
        println!(
            "    replica upsert                   {:>9.0}  ({:.2}x)",
            rate(upsert),
            ratio(upsert, bare)
        );
        println!("    search index catch-up            {:>9.0}", rate(index));
        println!(
            "    upsert + search index            {:>9.0}  ({:.2}x)",
            rate(both),
            ratio(both, bare)
        );
        summary.insert(
            "ingest".into(),
            serde_json::json!({
                "bare_plain_rows_per_s": rate(bare),
                "bare_replica_schema_rows_per_s": rate(schema),
                "upsert_rows_per_s": rate(upsert),
                "search_index_rows_per_s": rate(index),
                "upsert_and_index_rows_per_s": rate(both),
                "ratio_upsert": ratio(upsert, bare),
                "ratio_upsert_and_index": ratio(both, bare),
                "ratio_schema_baseline": ratio(schema, bare),
            }),
        );
    }
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-summary");
    if std::fs::create_dir_all(&out).is_ok() {
        let doc = serde_json::json!({"tasks": n, "results": summary});
        let _ = std::fs::write(
            out.join("replica.json"),
            serde_json::to_string_pretty(&doc).unwrap_or_default(),
        );
    }
}

fn main() {
    let n = task_count();
    let records = synthetic::tasks(n, 42);
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .configure_from_args();
    ingest(&mut c, &records);
    queries(&mut c, &records);
    c.final_summary();
    report(n);
}

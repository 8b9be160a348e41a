//! Sync against `tasklane serve` on loopback, each figure next to a
//! baseline measured in the same run:
//!
//! - **initial sync** of N tasks through each dialect's client (GEVER,
//!   OMFLOW, Hitachi) into an empty replica, against *download + bare
//!   insert*: fetching the very same pages (`@globalindex`, the my-mission
//!   list, the work-item list) with a plain HTTP client without reading
//!   them, one request at a time, plus inserting N rows into a plain
//!   SQLite table in one transaction; then the next sync through the same
//!   dialect with nothing changed. Beside it, the same download with as
//!   many requests in flight as the clients keep by reading pages ahead
//!   (decisions/0023), so that what reading ahead gains is not taken for
//!   cheaper processing;
//! - **incremental sync** (GEVER) after 100 (and 1,000) of the N tasks
//!   changed, against the same sync with nothing changed;
//! - **details of 100 changed tasks** (GEVER), fetched by a sync as it
//!   does, against fetching them one at a time;
//! - **replay** of queued comments, through GEVER over loopback and to the
//!   embedded engine in-process, as ops per second.
//!
//! The engine holds N tasks for each dialect's user: GEVER tasks for
//! hans.muster, OMFLOW payment tickets waiting at wang.xiaoming's step,
//! Hitachi work items ready in tanaka's lane. `TASKLANE_BENCH_TASKS` sets
//! N (default 100,000), `TASKLANE_BENCH_OPS` the ops replayed (default
//! 10,000), `TASKLANE_BENCH_DIALECTS` (e.g. `hitachi`, or `gever,omflow`)
//! the initial syncs run, the others and what follows GEVER's skipped (for
//! profiling one dialect's sync alone), and `TASKLANE_BENCH_PAGES_AHEAD`
//! the pages the clients read ahead (default 2). Details are not
//! fetched in the other timed runs (`details_per_run = 0`): they are the
//! refresh step's, spread over later runs. Prints a table and writes
//! `target/bench-summary/sync.json`. Under `cargo test` it runs once on a
//! small data set, as a smoke test.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark fails loudly

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use tasklane_core::Replica;
use tasklane_core::model::{Account, AccountKind, AccountSettings, NewAccount};
use tasklane_core::outbox::{self, OpRequest};
use tasklane_core::remote::Remote;
use tasklane_core::replica::accounts;
use tasklane_core::sync::notify::Recording;
use tasklane_core::sync::{self, Options, Report};
use tasklane_dialects::{ClientConfig, Limits, Password};
use tasklane_engine::flows::{self, FieldValue};
use tasklane_engine::server::{Background, ServerConfig};
use tasklane_engine::{CreateTask, Engine, LocalRemote, create_task, demo};

const USER: &str = "hans.muster";

/// The CSCIW lane whose ready items tanaka lists, and his lane filter.
const LANE: &str = "Lane1";
const LANE_FILTER: &str = "Participant='Lane1'";

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

/// The demo engine on disk, plus `n` tasks for each dialect's user.
fn engine_with(dir: &Path, n: usize) -> Arc<Engine> {
    let engine = Engine::open(dir).unwrap();
    demo::load(&engine).unwrap();
    let anna = engine.principal("anna.keller").unwrap();
    let lin = engine.principal("lin.meiling").unwrap();
    let admin = engine.principal("admin").unwrap();
    let payment = engine
        .db()
        .read(|c| flows::flow_by_uuid(c, demo::PAYMENT_FLOW))
        .unwrap();
    engine
        .db()
        .write(|tx| {
            let dossier: i64 = tx.query_row("SELECT min(id) FROM dossiers", [], |r| r.get(0))?;
            // The i-th task of a kind, due within the year.
            let task = |by, i: usize, title: String, responsible: String, priority| {
                create_task(
                    tx,
                    by,
                    &CreateTask {
                        title,
                        task_type: Some("direct-execution".into()),
                        responsible,
                        deadline: Some(format!("2027-{:02}-{:02}", 1 + i % 12, 1 + i % 28)),
                        priority,
                        dossier_id: Some(dossier),
                        ..CreateTask::default()
                    },
                )
            };
            for i in 0..n {
                let title = format!("Gesuch {i} prüfen / 審核 {i}");
                task(&anna, i, title, format!("fd:{USER}"), 0)?;
            }
            // Payment requests waiting at wang.xiaoming's first step.
            for i in 0..n {
                let field = |id: &str, ty: &str, value: String| FieldValue {
                    id: id.into(),
                    value: json!(value),
                    field_type: Some(ty.into()),
                };
                flows::open_ticket(
                    tx,
                    &lin,
                    &payment,
                    &[
                        field("FORMITM_1", "h_title", format!("請款單 #{i} 出差費用")),
                        field("FORMITM_2", "number", (100 + i % 9_000).to_string()),
                    ],
                )?;
            }
            // Work ready in the lane tanaka lists through his lane filter.
            for i in 0..n {
                let title = format!("見積承認 {i}：株式会社サンプル向け");
                task(&admin, i, title, LANE.into(), (i % 4) as i64)?;
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

/// The dialects an initial sync is measured through.
#[derive(Debug, Clone, Copy)]
enum Dialect {
    Gever,
    Omflow,
    Hitachi,
}

impl Dialect {
    const ALL: [Dialect; 3] = [Dialect::Gever, Dialect::Omflow, Dialect::Hitachi];

    fn name(self) -> &'static str {
        match self {
            Dialect::Gever => "gever",
            Dialect::Omflow => "omflow",
            Dialect::Hitachi => "hitachi",
        }
    }

    /// The dialects `TASKLANE_BENCH_DIALECTS` names, all by default.
    fn chosen() -> Vec<Dialect> {
        let Ok(names) = std::env::var("TASKLANE_BENCH_DIALECTS") else {
            return Dialect::ALL.to_vec();
        };
        let chosen: Vec<Dialect> = Dialect::ALL
            .into_iter()
            .filter(|d| names.split(',').any(|n| n.trim() == d.name()))
            .collect();
        assert!(
            !chosen.is_empty(),
            "TASKLANE_BENCH_DIALECTS={names:?} names no dialect"
        );
        chosen
    }

    fn kind(self) -> AccountKind {
        match self {
            Dialect::Gever => AccountKind::Gever,
            Dialect::Omflow => AccountKind::Omflow,
            Dialect::Hitachi => AccountKind::Hitachi,
        }
    }

    fn user(self) -> &'static str {
        match self {
            Dialect::Gever => USER,
            Dialect::Omflow => "wang.xiaoming",
            Dialect::Hitachi => "tanaka",
        }
    }

    /// The dialect's base URL on the server, as the demo accounts use it.
    fn url(self, server: &str) -> String {
        match self {
            Dialect::Gever => format!("{server}/gever"),
            Dialect::Omflow | Dialect::Hitachi => server.to_owned(),
        }
    }

    fn settings(self) -> Map<String, Value> {
        let settings = match self {
            Dialect::Gever => AccountSettings::default(),
            Dialect::Omflow => AccountSettings {
                api_paths: [(
                    demo::PAYMENT_FLOW.replace('-', ""),
                    demo::PAYMENT_API_PATH.to_owned(),
                )]
                .into(),
                ..AccountSettings::default()
            },
            Dialect::Hitachi => AccountSettings {
                lane_filter: Some(LANE_FILTER.into()),
                ..AccountSettings::default()
            },
        };
        settings.to_map()
    }

    /// The listing request for page `page`, as the dialect's client sends it.
    fn page(
        self,
        client: &reqwest::Client,
        url: &str,
        security: &str,
        page: usize,
    ) -> reqwest::RequestBuilder {
        let start = page * PAGE;
        match self {
            Dialect::Gever => client
                .get(format!("{url}/@globalindex"))
                .basic_auth(self.user(), Some(demo::PASSWORD))
                .query(&[
                    ("filters.responsible:record", self.user()),
                    ("sort_on", "modified"),
                    ("sort_order", "descending"),
                    ("b_start", &start.to_string()),
                    ("b_size", &PAGE.to_string()),
                ]),
            Dialect::Omflow => client
                .post(format!("{url}/rest/my-mission/api/my-mission/list/"))
                .json(&json!({
                    "security": security,
                    "omflow_restapi": 1,
                    "search_columns": [],
                    "search_conditions": [],
                    "exclude_conditions": [],
                    "order_columns": ["id"],
                    "limit": start + PAGE,
                    "start": start,
                })),
            Dialect::Hitachi => client
                .get(format!("{url}/csciwws/v1/work-item"))
                .basic_auth(self.user(), Some(demo::PASSWORD))
                .query(&[
                    ("userdescription", self.user()),
                    (
                        "filter",
                        // As the client writes it (`list_filter`).
                        &format!("(Participant='{}' OR ({LANE_FILTER}))", self.user()),
                    ),
                    ("sort", "ProcessInstanceID, ID"),
                    ("offset", &start.to_string()),
                    ("maxcount", &PAGE.to_string()),
                ]),
        }
        .header("Accept", "application/json")
    }
}

/// Tasks per listing page, the clients' default.
const PAGE: usize = 100;

fn replica_for(
    dir: &Path,
    kind: AccountKind,
    url: &str,
    user: &str,
    settings: Map<String, Value>,
) -> (Replica, Account) {
    let mut replica = Replica::open(&dir.join("replica.sqlite3")).unwrap();
    let account = replica
        .write(|tx| {
            accounts::add(
                tx,
                &NewAccount {
                    name: "bench".into(),
                    kind,
                    base_url: url.into(),
                    user_name: user.into(),
                    settings,
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
    sync_with(replica, account, remote, &options)
}

fn sync_with(
    replica: &mut Replica,
    account: &Account,
    remote: &dyn Remote,
    options: &Options,
) -> (Duration, Report) {
    let started = Instant::now();
    let report = runtime()
        .block_on(sync::sync_account(
            replica,
            account,
            remote,
            &Recording::default(),
            &|_| {},
            options,
        ))
        .unwrap();
    (started.elapsed(), report)
}

/// The details of 100 changed tasks fetched by a sync (whose pull finds
/// nothing new by then), `concurrency` at a time.
fn refresh_details(
    engine: &Engine,
    replica: &mut Replica,
    account: &Account,
    remote: &dyn Remote,
    concurrency: usize,
) -> Duration {
    change(engine, 100);
    sync_once(replica, account, remote);
    let options = Options {
        details_per_run: 100,
        concurrency,
        ..Options::default()
    };
    let (took, report) = sync_with(replica, account, remote, &options);
    assert_eq!(report.refreshed, 100, "{report:?}");
    took
}

/// The same listing pages the dialect's client asks for (`pages` of
/// them), downloaded and not read: what HTTP and the server cost. One
/// request at a time, as a plain client asks; or `in_flight` at once, as
/// the dialect clients do by reading pages ahead.
fn download(dialect: Dialect, url: &str, pages: usize, in_flight: usize) -> Duration {
    tasklane_dialects::tls::install_default_provider();
    let client = reqwest::Client::new();
    let started = Instant::now();
    runtime().block_on(async {
        // OMFLOW's client logs in for a security code first; so does this.
        let security = match dialect {
            Dialect::Omflow => {
                let answer: Value = client
                    .get(format!("{url}/accounts/api/security/get/"))
                    .basic_auth(dialect.user(), Some(demo::PASSWORD))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                answer["result"]["security"].as_str().unwrap().to_owned()
            }
            Dialect::Gever | Dialect::Hitachi => String::new(),
        };
        let mut waiting = std::collections::VecDeque::new();
        for page in 0..pages {
            let req = dialect.page(&client, url, &security, page);
            waiting.push_back(tokio::spawn(async move {
                let answer = req.send().await.unwrap();
                assert!(answer.status().is_success(), "{answer:?}");
                answer.bytes().await.unwrap();
            }));
            if waiting.len() >= in_flight {
                waiting.pop_front().unwrap().await.unwrap();
            }
        }
        for w in waiting {
            w.await.unwrap();
        }
    });
    started.elapsed()
}

/// The clients' limits: the default ones, with
/// `TASKLANE_BENCH_PAGES_AHEAD` pages read ahead if set (`1` is how the
/// clients read before decisions/0023, for comparing).
fn limits() -> Limits {
    let mut limits = Limits::default();
    if let Some(ahead) = std::env::var("TASKLANE_BENCH_PAGES_AHEAD")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        limits.pages_ahead = ahead;
    }
    limits
}

/// A dialect's client for `account`, held to [`limits`].
fn remote(account: &Account) -> Box<dyn Remote> {
    let config = ClientConfig::from_account(account, Password::new(demo::PASSWORD))
        .unwrap()
        .with_limits(limits());
    tasklane_dialects::remote_with(account.kind, config).unwrap()
}

/// The listing requests a dialect client has in flight at most: those it
/// reads ahead (it waits for the page it reads among them).
fn in_flight() -> usize {
    limits().pages_ahead.max(1) as usize
}

/// The pages a client reads to list `pulled` tasks: GEVER knows the total
/// from the first page, the others read until a page comes back short.
fn pages_listed(dialect: Dialect, pulled: usize) -> usize {
    match dialect {
        Dialect::Gever => pulled.div_ceil(PAGE).max(1),
        Dialect::Omflow | Dialect::Hitachi => pulled / PAGE + 1,
    }
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

/// An initial sync through `dialect` and its baseline, measured in turn.
struct Initial {
    replica: Replica,
    account: Account,
    remote: Box<dyn Remote>,
    sync: Duration,
    download: Duration,
    /// The same download with as many requests in flight as the client
    /// keeps while it reads ahead.
    download_in_flight: Duration,
    insert: Duration,
    /// A second sync right after, nothing changed.
    again: Duration,
    /// Keeps the replica's directory while the replica is in use.
    _dir: tempfile::TempDir,
}

fn initial_sync(dialect: Dialect, server: &str, n: usize) -> Initial {
    let url = dialect.url(server);
    // The server remembers a listing's order once a page after the first
    // was asked for, until the next write; whichever of sync and download
    // came first would pay for ordering all N tasks alone, so two pages are
    // asked for first and both read a remembered listing (the same for
    // every dialect).
    download(dialect, &url, 2, 1);
    let dir = tempfile::tempdir().unwrap();
    let (mut replica, account) = replica_for(
        dir.path(),
        dialect.kind(),
        &url,
        dialect.user(),
        dialect.settings(),
    );
    let remote = remote(&account);
    let (sync, report) = sync_once(&mut replica, &account, remote.as_ref());
    assert!(report.pulled >= n, "{}: {report:?}", dialect.name());
    let pages = pages_listed(dialect, report.pulled);
    let download_in_flight = download(dialect, &url, pages, in_flight());
    let download = download(dialect, &url, pages, 1);
    let insert = bare_insert(dir.path(), n);
    let (again, _) = sync_once(&mut replica, &account, remote.as_ref());
    Initial {
        replica,
        account,
        remote,
        sync,
        download,
        download_in_flight,
        insert,
        again,
        _dir: dir,
    }
}

fn main() {
    let n = env_count("TASKLANE_BENCH_TASKS", 100_000, 500);
    let ops = env_count("TASKLANE_BENCH_OPS", 10_000, 200);
    let work = tempfile::tempdir().unwrap();
    eprintln!("populating the engine with {n} tasks per dialect …");
    let started = Instant::now();
    let engine = engine_with(&work.path().join("engine"), n);
    eprintln!("… in {:.1} s", started.elapsed().as_secs_f64());
    let server = Background::start(engine.clone(), ServerConfig::default()).unwrap();

    // Initial sync through each dialect, each next to its baseline.
    let mut initial = Map::new();
    let mut gever = None;
    for dialect in Dialect::chosen() {
        let run = initial_sync(dialect, &server.url(), n);
        let baseline = run.download + run.insert;
        let in_flight_baseline = run.download_in_flight + run.insert;
        eprintln!(
            "initial sync through {}: {:.2} s, {:.2}x download + insert \
             ({:.2}x with {} requests in flight); next sync {:.0} ms",
            dialect.name(),
            secs(run.sync),
            secs(run.sync) / secs(baseline),
            secs(run.sync) / secs(in_flight_baseline),
            in_flight(),
            secs(run.again) * 1e3
        );
        initial.insert(
            dialect.name().into(),
            json!({
                "initial_sync_s": secs(run.sync),
                "baseline_download_s": secs(run.download),
                "baseline_bare_insert_s": secs(run.insert),
                "initial_ratio_to_download_plus_insert": secs(run.sync) / secs(baseline),
                "download_in_flight_s": secs(run.download_in_flight),
                "requests_in_flight": in_flight(),
                "initial_ratio_to_download_in_flight_plus_insert":
                    secs(run.sync) / secs(in_flight_baseline),
                "next_sync_unchanged_ms": secs(run.again) * 1e3,
            }),
        );
        if let Dialect::Gever = dialect {
            gever = Some(run);
        }
    }
    let Some(Initial {
        mut replica,
        account,
        remote,
        ..
    }) = gever
    else {
        println!("{}", serde_json::to_string_pretty(&initial).unwrap());
        return;
    };

    // Incremental: nothing changed, 100 changed, 1,000 changed.
    let (unchanged, _) = sync_once(&mut replica, &account, remote.as_ref());
    change(&engine, 100);
    let (hundred, r100) = sync_once(&mut replica, &account, remote.as_ref());
    assert!(!r100.full && r100.updated >= 100, "{r100:?}");
    let thousand_k = 1000.min(n / 2);
    change(&engine, thousand_k);
    let (thousand, r1000) = sync_once(&mut replica, &account, remote.as_ref());
    assert!(r1000.updated >= thousand_k, "{r1000:?}");

    // The details of 100 changed tasks, one at a time (the baseline) and
    // as a sync fetches them.
    let details_serial = refresh_details(&engine, &mut replica, &account, remote.as_ref(), 1);
    let details = refresh_details(
        &engine,
        &mut replica,
        &account,
        remote.as_ref(),
        Options::default().concurrency,
    );

    // Replay over GEVER (HTTP) ...
    queue_comments(&mut replica, &account, ops);
    let (over_http, replayed) = sync_once(&mut replica, &account, remote.as_ref());
    assert_eq!(replayed.applied, ops, "{replayed:?}");
    // ... and to the embedded engine in-process.
    let local_dir = tempfile::tempdir().unwrap();
    let (mut local_replica, local_account) =
        replica_for(local_dir.path(), AccountKind::Local, "", USER, Map::new());
    let local = LocalRemote::new(engine.clone(), USER);
    sync_once(&mut local_replica, &local_account, &local);
    queue_comments(&mut local_replica, &local_account, ops);
    let (in_process, replayed_local) = sync_once(&mut local_replica, &local_account, &local);
    assert_eq!(replayed_local.applied, ops, "{replayed_local:?}");

    let summary = json!({
        "tasks": n,
        "ops": ops,
        "initial": initial,
        "incremental_unchanged_ms": secs(unchanged) * 1e3,
        "incremental_100_changed_ms": secs(hundred) * 1e3,
        "incremental_1000_changed_ms": secs(thousand) * 1e3,
        "incremental_1000_changes": thousand_k,
        "details_100_one_at_a_time_ms": secs(details_serial) * 1e3,
        "details_100_ms": secs(details) * 1e3,
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

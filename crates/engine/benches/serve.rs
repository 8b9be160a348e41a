//! Server throughput on loopback: the Hitachi CSCIW list extension and
//! allocate under concurrent clients, each against a baseline measured in
//! the same run — a bare axum handler answering a fixed body of the same
//! size over the same HTTP client and concurrency. The ratio is what the
//! engine and the dialect cost on top of HTTP itself.
//!
//! The engine is on disk (WAL, `synchronous = FULL`, as `tasklane serve`
//! runs it). Allocation takes ready items from one lane; between batches
//! (outside the timing) the taken items are put back, so every request
//! allocates. Every request's latency is recorded too, so the run ends
//! with p50/p95 and the ratios, also written to
//! `target/bench-summary/serve.json`.
//!
//! `TASKLANE_BENCH_CLIENTS` sets the concurrency (default 8); under
//! `cargo test --benches` each routine runs once as a smoke test.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::{get, put};
use criterion::{Criterion, Throughput};
use tasklane_engine::model::GroupKind;
use tasklane_engine::server::{Server, ServerConfig};
use tasklane_engine::{CreateTask, Engine, create_task, dossiers, users};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

const LANE: &str = "BenchLane";
/// Items each user sees in the list (one page).
const PAGE: usize = 50;
const PASSWORD: &str = "bench";

static SAMPLES: Mutex<BTreeMap<String, Vec<Duration>>> = Mutex::new(BTreeMap::new());
static RATES: Mutex<BTreeMap<String, Vec<f64>>> = Mutex::new(BTreeMap::new());

fn clients() -> usize {
    std::env::var("TASKLANE_BENCH_CLIENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(8)
}

fn user(i: usize) -> String {
    format!("bench{i:02}")
}

/// A server on 127.0.0.1:0 on its own two-thread runtime, as `tasklane
/// serve` runs; stopped on drop.
struct Running {
    url: String,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    fn start(router: Router) -> Self {
        let (stop, stopped) = oneshot::channel::<()>();
        let (ready, bound) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("server runtime");
            runtime.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
                ready.send(listener.local_addr().expect("address")).ok();
                axum::serve(listener, router)
                    .with_graceful_shutdown(async {
                        stopped.await.ok();
                    })
                    .await
                    .expect("serve");
            });
        });
        let addr = bound.recv().expect("the server did not start");
        Running {
            url: format!("http://{addr}"),
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop.send(()).ok();
        }
        if let Some(thread) = self.thread.take() {
            thread.join().ok();
        }
    }
}

/// An engine on disk: `n` users in one lane, `PAGE` ready items for the
/// list, and `pool` more for allocation.
fn engine(dir: &tempfile::TempDir, n: usize) -> Arc<Engine> {
    let engine = Engine::open(dir.path()).expect("engine");
    let hash = users::hash_password(PASSWORD).expect("hash");
    engine
        .db()
        .write(|tx| {
            users::add_user(tx, "admin", "Administrator", None, true)?;
            users::add_group(tx, LANE, LANE, GroupKind::Lane)?;
            for i in 0..n {
                users::add_user(tx, &user(i), &user(i), None, false)?;
                users::add_member(tx, &user(i), LANE)?;
            }
            tx.execute("UPDATE users SET password_hash = ?1", [&hash])?;
            dossiers::add(tx, "案件 benchmark", "cases/bench", None)?;
            Ok(())
        })
        .expect("users");
    add_items(&engine, PAGE);
    Arc::new(engine)
}

/// Adds `n` ready items to the lane, in one transaction.
fn add_items(engine: &Engine, n: usize) {
    engine
        .db()
        .write(|tx| {
            let admin = users::principal(tx, "admin")?;
            let dossier: i64 = tx.query_row(
                "SELECT id FROM dossiers WHERE path = 'cases/bench'",
                [],
                |r| r.get(0),
            )?;
            for i in 0..n {
                create_task(
                    tx,
                    &admin,
                    &CreateTask {
                        title: format!("見積承認 {i:05}: 株式会社サンプル向け"),
                        text: "見積書の金額と条件を確認してください。".into(),
                        responsible: LANE.into(),
                        priority: (i % 4) as i64,
                        dossier_id: Some(dossier),
                        ..CreateTask::default()
                    },
                )?;
            }
            Ok(())
        })
        .expect("items");
}

/// Puts every allocated item back into the lane, and returns how many are
/// ready now.
fn reset(engine: &Engine) -> usize {
    engine
        .db()
        .write(|tx| {
            tx.execute(
                "UPDATE tasks SET state = 'open', responsible_user = NULL, started_at = NULL
                 WHERE responsible_group = ?1 AND responsible_user IS NOT NULL",
                [LANE],
            )?;
            tx.execute("DELETE FROM responses WHERE text = 'allocate'", [])?;
            Ok(tx.query_row(
                "SELECT count(*) FROM tasks WHERE responsible_group = ?1",
                [LANE],
                |r| r.get::<_, i64>(0),
            )? as usize)
        })
        .expect("reset")
}

fn http_client() -> reqwest::Client {
    tasklane_dialects::tls::install_default_provider();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

/// One kind of request a benchmark sends.
#[derive(Clone)]
enum Request {
    List,
    Allocate,
}

impl Request {
    fn build(&self, http: &reqwest::Client, url: &str, who: &str) -> reqwest::RequestBuilder {
        match self {
            Request::List => http
                .get(format!("{url}/csciwws/v1/work-item"))
                .query(&[("maxcount", PAGE.to_string()), ("filter", "StateCode = 'j'".into())]),
            Request::Allocate => http
                .put(format!("{url}/csciwws/v1/work-item/allocate"))
                .header("content-type", "application/json")
                .body(format!(
                    r#"{{"Participant": "{who}", "Filter": "Participant = '{LANE}'", "Sort": "Priority DESC", "FetchCount": "-1"}}"#
                )),
        }
        .basic_auth(who, Some(PASSWORD))
        .header("accept", "application/json")
    }
}

/// Sends `total` requests from `clients` concurrent clients (each with its
/// own connection, each for its own user) and returns the wall time.
async fn burst(
    name: &str,
    clients: &[reqwest::Client],
    url: &str,
    request: &Request,
    total: u64,
) -> Duration {
    let n = clients.len() as u64;
    let start = Instant::now();
    let mut tasks = Vec::new();
    for (i, http) in clients.iter().enumerate() {
        let share = total / n + u64::from((i as u64) < total % n);
        let (http, url, request, who) = (http.clone(), url.to_string(), request.clone(), user(i));
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(share as usize);
            for _ in 0..share {
                let t = Instant::now();
                let response = request.build(&http, &url, &who).send().await.expect("send");
                assert_eq!(response.status().as_u16(), 200, "{who}");
                let body = response.bytes().await.expect("body");
                latencies.push(t.elapsed());
                std::hint::black_box(body);
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.expect("client"));
    }
    let elapsed = start.elapsed();
    SAMPLES
        .lock()
        .expect("samples")
        .entry(name.to_string())
        .or_default()
        .extend(all);
    if total >= n {
        RATES
            .lock()
            .expect("rates")
            .entry(name.to_string())
            .or_default()
            .push(total as f64 / elapsed.as_secs_f64());
    }
    elapsed
}

/// A bare axum server answering `list` and `allocate` with fixed bodies.
fn baseline(list_body: Vec<u8>, item_body: Vec<u8>) -> Running {
    let json = |body: Vec<u8>| {
        move || {
            let body = body.clone();
            async move { ([("content-type", "application/json")], body) }
        }
    };
    Running::start(
        Router::new()
            .route("/csciwws/v1/work-item", get(json(list_body)))
            .route("/csciwws/v1/work-item/allocate", put(json(item_body))),
    )
}

fn serve(c: &mut Criterion) {
    let n = clients();
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = engine(&dir, n);
    let server = Server::new(Arc::clone(&engine), ServerConfig::default());
    let real = Running::start(server.router());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("client runtime");
    let http: Vec<reqwest::Client> = (0..n).map(|_| http_client()).collect();

    // The baseline answers what the engine answers, byte for byte.
    let (list_body, item_body) = rt.block_on(async {
        let list = Request::List
            .build(&http[0], &real.url, &user(0))
            .send()
            .await
            .expect("list");
        let list = list.bytes().await.expect("list body").to_vec();
        let item = Request::Allocate
            .build(&http[0], &real.url, &user(0))
            .send()
            .await
            .expect("allocate");
        assert_eq!(item.status().as_u16(), 200);
        (list, item.bytes().await.expect("item body").to_vec())
    });
    reset(&engine);
    let items: serde_json::Value = serde_json::from_slice(&list_body).expect("list JSON");
    assert_eq!(items["WorkItem"].as_array().map(Vec::len), Some(PAGE));
    println!(
        "list answer: {} bytes ({PAGE} items); allocate answer: {} bytes; {n} clients",
        list_body.len(),
        item_body.len()
    );
    let bare = baseline(list_body, item_body);
    // Sign everyone in once, so that argon2 does not land in a sample.
    rt.block_on(burst("warm-up", &http, &real.url, &Request::List, n as u64));

    let mut g = c.benchmark_group("serve");
    g.throughput(Throughput::Elements(1));
    for (name, url, request) in [
        ("list/baseline", &bare.url, Request::List),
        ("list/engine", &real.url, Request::List),
        ("allocate/baseline", &bare.url, Request::Allocate),
        ("allocate/engine", &real.url, Request::Allocate),
    ] {
        g.bench_function(name, |b| {
            b.iter_custom(|iters| {
                if name == "allocate/engine" {
                    // Enough ready items for the whole batch (not timed).
                    let ready = reset(&engine);
                    if (ready as u64) < iters + PAGE as u64 {
                        add_items(&engine, iters as usize + PAGE - ready);
                    }
                }
                rt.block_on(burst(name, &http, url, &request, iters))
            })
        });
    }
    g.finish();
    reset(&engine);
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn median(values: &[f64]) -> Option<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied()
}

/// Prints the summary and writes it as JSON.
fn report() {
    let samples = SAMPLES.lock().expect("samples");
    let rates = RATES.lock().expect("rates");
    let mut summary = serde_json::Map::new();
    println!(
        "\ntasklane server benchmark summary ({} clients)",
        clients()
    );
    for (name, values) in samples.iter().filter(|(name, _)| *name != "warm-up") {
        let mut sorted = values.clone();
        sorted.sort();
        let (p50, p95) = (percentile(&sorted, 0.5), percentile(&sorted, 0.95));
        let rate = rates.get(name).and_then(|r| median(r)).unwrap_or(0.0);
        println!(
            "  {name:<20} {rate:>9.0} req/s  latency p50={:>7.3} ms  p95={:>7.3} ms  (n={})",
            p50.as_secs_f64() * 1e3,
            p95.as_secs_f64() * 1e3,
            sorted.len()
        );
        summary.insert(
            name.clone(),
            serde_json::json!({
                "requests_per_s": rate,
                "p50_ms": p50.as_secs_f64() * 1e3,
                "p95_ms": p95.as_secs_f64() * 1e3,
                "n": sorted.len(),
            }),
        );
    }
    for what in ["list", "allocate"] {
        let rate = |name: String| rates.get(&name).and_then(|r| median(r));
        if let (Some(base), Some(engine)) = (
            rate(format!("{what}/baseline")),
            rate(format!("{what}/engine")),
        ) {
            let ratio = base / engine;
            println!("  {what}: the engine takes {ratio:.2}x the baseline's time per request");
            summary.insert(
                format!("{what}/ratio"),
                serde_json::json!({"baseline_over_engine": ratio}),
            );
        }
    }
    // A smoke run (`--test`) times no batch: keep the last real summary.
    if rates.is_empty() {
        return;
    }
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-summary");
    if std::fs::create_dir_all(&out).is_ok() {
        let doc = serde_json::json!({"clients": clients(), "results": summary});
        let _ = std::fs::write(
            out.join("serve.json"),
            serde_json::to_string_pretty(&doc).unwrap_or_default(),
        );
    }
}

fn main() {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .sample_size(20)
        .configure_from_args();
    serve(&mut c);
    c.final_summary();
    report();
}

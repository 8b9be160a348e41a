//! `tasklane serve`: the embedded engine over HTTP in the OMFLOW, GEVER and
//! Hitachi CSCIW dialects, on one port.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use jiff::tz::TimeZone;
use tasklane_engine::server::{Server, ServerConfig, Zones};
use tasklane_engine::{Engine, demo};

use crate::home::{Home, UsageError};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to listen. Use 0.0.0.0 only behind a TLS-terminating proxy:
    /// the server itself speaks plain HTTP.
    #[arg(long, default_value = "127.0.0.1:8765")]
    addr: SocketAddr,
    /// The engine's data directory (default: `engine` in the tasklane home).
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Load the demo data set when the engine is empty (see the README).
    #[arg(long)]
    demo: bool,
    /// The path GEVER is served below.
    #[arg(long, default_value = "/gever", value_name = "PATH")]
    gever_root: String,
    /// GEVER's admin unit id, the first part of every oguid.
    #[arg(long, default_value = "tl", value_name = "ID")]
    admin_unit: String,
    /// The zone OMFLOW's naive datetimes are written in.
    #[arg(long, default_value = "Asia/Taipei", value_name = "IANA")]
    omflow_zone: String,
    /// The zone GEVER's naive index and response datetimes are written in.
    #[arg(long, default_value = "Europe/Zurich", value_name = "IANA")]
    gever_zone: String,
    /// The zone of Hitachi CSCIW's datetimes.
    #[arg(long, default_value = "Asia/Tokyo", value_name = "IANA")]
    hitachi_zone: String,
}

/// The engine's data directory: `--data`, else `<home>/engine`.
pub fn engine_dir(home: &Home, data: Option<PathBuf>) -> PathBuf {
    data.unwrap_or_else(|| home.engine_dir())
}

pub fn open_engine(home: &Home, data: Option<PathBuf>) -> anyhow::Result<Engine> {
    let dir = engine_dir(home, data);
    Engine::open(&dir).with_context(|| format!("cannot open the engine in {}", dir.display()))
}

fn zone(flag: &str, name: &str) -> anyhow::Result<TimeZone> {
    TimeZone::get(name)
        .map_err(|_| UsageError(format!("--{flag}: unknown time zone {name:?}")).into())
}

fn config(args: &Args) -> anyhow::Result<ServerConfig> {
    let root = args.gever_root.trim_end_matches('/');
    if !root.starts_with('/') || root.len() < 2 || root.contains(['{', '}', '*', '?', '#']) {
        return Err(UsageError(format!(
            "--gever-root must be a path like /gever, not {:?}",
            args.gever_root
        ))
        .into());
    }
    Ok(ServerConfig {
        gever_root: root.to_string(),
        admin_unit: args.admin_unit.clone(),
        zones: Zones {
            omflow: zone("omflow-zone", &args.omflow_zone)?,
            gever: zone("gever-zone", &args.gever_zone)?,
            hitachi: zone("hitachi-zone", &args.hitachi_zone)?,
        },
        ..ServerConfig::default()
    })
}

/// Logs to standard error; `TASKLANE_LOG` (e.g. `debug`) overrides the level.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TASKLANE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

pub fn run(home: &Home, args: Args) -> anyhow::Result<()> {
    let config = config(&args)?;
    let engine = open_engine(home, args.data.clone())?;
    if args.demo {
        if demo::is_empty(&engine)? {
            demo::load(&engine).context("cannot load the demo data")?;
            eprintln!("loaded the demo data set (users and passwords: see the README)");
        } else {
            eprintln!("the engine holds data already; --demo adds nothing");
        }
    }
    init_logging();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve(Arc::new(engine), config, args.addr))
}

async fn serve(engine: Arc<Engine>, config: ServerConfig, addr: SocketAddr) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    let gever_root = config.gever_root.clone();
    // Scripts and tests read this line to find the port (`--addr …:0`).
    println!("tasklane serve: listening on http://{local}");
    println!("  OMFLOW:         http://{local}/");
    println!("  OneGov GEVER:   http://{local}{gever_root}/");
    println!("  Hitachi CSCIW:  http://{local}/csciwws/v1/");
    Server::new(engine, config)
        .serve(listener, shutdown_signal())
        .await
        .context("the server failed")?;
    tracing::info!("stopped; every committed write is on disk");
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM; requests in flight then finish.
async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

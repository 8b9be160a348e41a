//! The Tauri side: the window, plugins, tray, events and the sync loop
//! wired around [`App`].

use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tasklane_connect::{Connector, DesktopNotifier, Keychain, SecretStore};
use tauri::{AppHandle, Emitter, Manager};

use crate::app::App;
use crate::demo::{self, Demo};
use crate::events::{AppEvent, ChangedTasks, Events};
use crate::sync_loop::{self, Schedule};
use crate::tray::{self, Tray};
use crate::types::{OpenTask, OutboxChanged, ReplicaChanged};

/// `tasklane-app [--home DIR] [--demo]`.
#[derive(Debug, clap::Parser)]
#[command(name = "tasklane-app", version, about = "The tasklane desktop app")]
pub struct Args {
    /// Where tasklane keeps its files (default: $TASKLANE_HOME, else the
    /// OS data directory; with --demo, its `demo` folder).
    #[arg(long, value_name = "DIR")]
    pub home: Option<PathBuf>,
    /// Serve the demo data on a loopback port and show it through a local
    /// account and one account per server dialect.
    #[arg(long)]
    pub demo: bool,
    /// With --demo: use this running `tasklane serve --demo` (its root URL)
    /// instead of starting a server inside the app.
    #[arg(long, value_name = "URL", requires = "demo")]
    pub server: Option<String>,
    /// Seconds between background syncs of each account.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(5..=86_400))]
    pub sync_interval: u64,
    /// Open this task (a second instance passes it to the first).
    #[arg(long, value_name = "ID")]
    pub open_task: Option<i64>,
}

fn home(args: &Args) -> PathBuf {
    if let Some(dir) = &args.home {
        return dir.clone();
    }
    if let Some(dir) = std::env::var_os("TASKLANE_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let data = directories::ProjectDirs::from("", "", "tasklane")
        .map(|p| p.data_dir().to_path_buf())
        .unwrap_or_else(|| PathBuf::from(".tasklane"));
    if args.demo { data.join("demo") } else { data }
}

/// The app's events, sent to the window. `replica-changed` is folded and
/// sent at most every 250 ms.
#[derive(Debug)]
struct WindowEvents {
    handle: AppHandle,
    changed: Arc<ChangedTasks>,
    tray: OnceLock<Arc<Tray>>,
}

impl WindowEvents {
    fn start(handle: AppHandle) -> Arc<Self> {
        let events = Arc::new(WindowEvents {
            handle,
            changed: Arc::new(ChangedTasks::default()),
            tray: OnceLock::new(),
        });
        let flusher = Arc::downgrade(&events);
        let spawned = std::thread::Builder::new()
            .name("tasklane-events".into())
            .spawn(move || {
                while let Some(events) = flusher.upgrade() {
                    if let Some(AppEvent::ReplicaChanged(tasks)) = events.changed.take() {
                        events.send("replica-changed", ReplicaChanged { tasks });
                    }
                    drop(events);
                    std::thread::sleep(Duration::from_millis(250));
                }
            });
        if let Err(e) = spawned {
            tracing::error!("cannot start the event thread: {e}");
        }
        events
    }

    fn send<P: serde::Serialize + Clone>(&self, name: &str, payload: P) {
        if let Err(e) = self.handle.emit(name, payload) {
            tracing::warn!("cannot send {name}: {e}");
        }
    }
}

impl Events for WindowEvents {
    fn emit(&self, event: AppEvent) {
        match event {
            AppEvent::ReplicaChanged(tasks) => self.changed.add(tasks),
            AppEvent::OutboxChanged(ops) => self.send("outbox-changed", OutboxChanged { ops }),
            AppEvent::SyncStatus(status) => {
                if let Some(tray) = self.tray.get() {
                    tray.update(&status);
                }
                self.send("sync-status", *status)
            }
            AppEvent::SyncProgress(progress) => self.send("sync-progress", progress),
            AppEvent::OpenTask(task_id) => self.send("open-task", OpenTask { task_id }),
        }
    }
}

/// Keeps the demo's server alive as long as the app.
struct DemoServer(#[allow(dead_code)] Mutex<Option<Demo>>);

fn init_logging() {
    use tracing_subscriber::fmt::format::FmtSpan;
    let (filter, spans) = match tracing_subscriber::EnvFilter::try_from_env("TASKLANE_LOG") {
        // Asked for: every span's end with its duration too, so that
        // `TASKLANE_LOG=tasklane_app=debug` says how long each command and
        // each account's sync took (how a slow start is traced).
        Ok(filter) => (filter, FmtSpan::CLOSE),
        // The demo server's per-request lines are for `tasklane serve`.
        Err(_) => (
            tracing_subscriber::EnvFilter::new("info,tower_http=warn"),
            FmtSpan::NONE,
        ),
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_span_events(spans)
        .try_init();
}

/// Runs the app; returns when its last window closed or it was quit.
pub fn run(args: Args) -> Result<(), String> {
    init_logging();
    let home = home(&args);
    let demo = if args.demo {
        let demo = demo::start(&home, args.server.as_deref()).map_err(|e| e.message)?;
        tracing::info!("demo server at {}", demo.url);
        Some(demo)
    } else {
        None
    };
    let connector = match &demo {
        Some(demo) => demo.connector.clone(),
        None => {
            let secrets: Arc<dyn SecretStore> = Arc::new(Keychain);
            Arc::new(Connector::new(home.join("engine"), secrets))
        }
    };
    let startup_task = args.open_task;
    let schedule = Schedule {
        interval: Duration::from_secs(args.sync_interval),
        ..Schedule::default()
    };
    let mut builder = tauri::Builder::default();
    // One window per home: starting the app again focuses it (and opens
    // the task asked for). The demo is its own sandbox and may run beside.
    if demo.is_none() {
        builder = builder.plugin(tauri_plugin_single_instance::init(|handle, argv, _cwd| {
            tray::show_main(handle);
            if let Some(task_id) = open_task_arg(&argv)
                && let Err(e) = handle.emit("open-task", OpenTask { task_id })
            {
                tracing::warn!("cannot send open-task: {e}");
            }
        }));
    }
    builder
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .invoke_handler(tauri::generate_handler![
            crate::commands::list_tasks,
            crate::commands::task_ids,
            crate::commands::tasks_by_id,
            crate::commands::task_detail,
            crate::commands::task_related,
            crate::commands::queue_op,
            crate::commands::queue_ops,
            crate::commands::outbox,
            crate::commands::outbox_retry,
            crate::commands::outbox_edit,
            crate::commands::outbox_discard,
            crate::commands::accounts,
            crate::commands::account_test,
            crate::commands::account_add,
            crate::commands::account_update,
            crate::commands::account_remove,
            crate::commands::sync_now,
            crate::commands::views,
            crate::commands::view_save,
            crate::commands::view_delete,
            crate::commands::preferences,
            crate::commands::set_preferences,
            crate::commands::startup_task,
        ])
        .setup(move |tauri_app| {
            let handle = tauri_app.handle().clone();
            if let Some(window) = tauri_app.get_webview_window("main") {
                crate::webview::tune(&window);
            }
            let events = WindowEvents::start(handle.clone());
            let app = App::open(&home, connector, events.clone()).map_err(|e| {
                format!("cannot open tasklane in {}: {}", home.display(), e.message)
            })?;
            if let Some(task) = startup_task {
                app.open_at_start(task);
            }
            tauri_app.manage(app.clone());
            tauri_app.manage(DemoServer(Mutex::new(demo)));
            match tray::build(&handle, app.clone()) {
                Ok(tray) => {
                    let _ = events.tray.set(tray);
                }
                // A desktop without a tray still has the window.
                Err(e) => tracing::warn!("no tray icon: {e}"),
            }
            let clicked = {
                let handle = handle.clone();
                let app = app.clone();
                Arc::new(move |task: Option<i64>| {
                    tray::show_main(&handle);
                    if let Some(task) = task {
                        app.events().emit(AppEvent::OpenTask(task));
                    }
                })
            };
            let notifier = Arc::new(DesktopNotifier::clickable(clicked));
            sync_loop::spawn(app, notifier, schedule)?;
            Ok(())
        })
        .run(tauri::generate_context!())
        .map_err(|e| format!("the app stopped: {e}"))
}

/// `--open-task N` (or `--open-task=N`) in a second instance's arguments.
fn open_task_arg(argv: &[String]) -> Option<i64> {
    let mut args = argv.iter();
    while let Some(arg) = args.next() {
        if arg == "--open-task" {
            return args.next()?.parse().ok();
        }
        if let Some(value) = arg.strip_prefix("--open-task=") {
            return value.parse().ok();
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_instance_names_the_task_to_open_either_way() {
        let argv = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            open_task_arg(&argv(&["tasklane-app", "--open-task", "42"])),
            Some(42)
        );
        assert_eq!(
            open_task_arg(&argv(&["tasklane-app", "--open-task=7"])),
            Some(7)
        );
        assert_eq!(
            open_task_arg(&argv(&["tasklane-app", "--open-task", "x"])),
            None
        );
        assert_eq!(open_task_arg(&argv(&["tasklane-app"])), None);
    }
}

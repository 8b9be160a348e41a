//! The app's commands against a real replica file, the embedded engine and
//! the demo server on a loopback port, with the real sync loop — the
//! window aside (tests/e2e drives that).

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::sync::Arc;
use std::time::{Duration, Instant};

use tasklane_app::app::App;
use tasklane_app::demo;
use tasklane_app::error::AppErrorKind;
use tasklane_app::events::{AppEvent, Recorded};
use tasklane_app::sync_loop::{self, Schedule};
use tasklane_app::types::{
    AccountStatus, Language, Preferences, QueueItem, QueueResult, SavedView,
};
use tasklane_connect::{Connector, MemorySecrets};
use tasklane_core::model::{AccountKind, NewAccount};
use tasklane_core::outbox::{OpRequest, OpState};
use tasklane_core::query::{Column, Condition, Op as QueryOp, Query, Value};
use tasklane_core::sync::notify::Recording;

fn local_app(home: &std::path::Path) -> (Arc<App>, Arc<Recorded>) {
    let connector = Arc::new(Connector::new(
        home.join("engine"),
        Arc::new(MemorySecrets::default()),
    ));
    let events = Arc::new(Recorded::default());
    (App::open(home, connector, events.clone()).unwrap(), events)
}

/// The demo: engine, server and accounts, the app over them, and its
/// sync loop (which syncs every account at once on start).
struct Running {
    app: Arc<App>,
    events: Arc<Recorded>,
    heard: Arc<Recording>,
    _demo: demo::Demo,
    _home: tempfile::TempDir,
}

fn demo_app() -> Running {
    let home = tempfile::tempdir().unwrap();
    let demo = demo::start(home.path(), None).unwrap();
    let events = Arc::new(Recorded::default());
    let app = App::open(home.path(), demo.connector.clone(), events.clone()).unwrap();
    let heard = Arc::new(Recording::default());
    sync_loop::spawn(
        app.clone(),
        heard.clone(),
        Schedule {
            interval: Duration::from_secs(3600),
            gather: Duration::from_millis(50),
        },
    )
    .unwrap();
    let running = Running {
        app,
        events,
        heard,
        _demo: demo,
        _home: home,
    };
    running.wait_for("every account's first sync", |all| {
        all.iter()
            .all(|s| s.sync.last_success.is_some() && !s.syncing)
    });
    running
}

impl Running {
    fn wait_for(&self, what: &str, done: impl Fn(&[AccountStatus]) -> bool) -> Vec<AccountStatus> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let all = self.app.accounts().unwrap();
            if done(&all) {
                return all;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}: {all:#?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn search(&self, text: &str) -> Vec<i64> {
        self.app
            .task_ids(&Query {
                search: Some(text.into()),
                ..Query::default()
            })
            .unwrap()
    }

    fn in_account(&self, name: &str) -> Vec<tasklane_core::replica::TaskRow> {
        self.app
            .list_tasks(&Query {
                conditions: vec![Condition {
                    column: Column::Account,
                    op: QueryOp::Eq,
                    value: Value::Text(name.into()),
                }],
                count: 1000,
                ..Query::default()
            })
            .unwrap()
            .tasks
    }
}

#[test]
fn a_first_start_has_a_personal_list_on_the_embedded_engine() {
    let home = tempfile::tempdir().unwrap();
    let (app, _) = local_app(home.path());
    let all = app.accounts().unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].account.kind, AccountKind::Local);
    assert_eq!(all[0].account.user_name, "me");
    assert_eq!((all[0].queue, all[0].attention), (0, 0));
    assert_eq!(all[0].online, None, "not tried yet");
    assert!(home.path().join("replica.sqlite3").exists());
    // Opening again adds nothing.
    drop(app);
    let (again, _) = local_app(home.path());
    assert_eq!(again.accounts().unwrap().len(), 1);
}

#[test]
fn the_task_named_at_launch_is_handed_to_the_window_once() {
    let home = tempfile::tempdir().unwrap();
    let (app, _) = local_app(home.path());
    assert_eq!(app.take_startup_task(), None);
    app.open_at_start(42);
    assert_eq!(app.take_startup_task(), Some(42));
    assert_eq!(
        app.take_startup_task(),
        None,
        "a reload does not open it again"
    );
}

#[test]
fn the_demo_syncs_every_dialect_and_finds_chinese_japanese_and_german_text() {
    let run = demo_app();
    let all = run.app.accounts().unwrap();
    let kinds: Vec<AccountKind> = all.iter().map(|s| s.account.kind).collect();
    for kind in [
        AccountKind::Local,
        AccountKind::Omflow,
        AccountKind::Gever,
        AccountKind::Hitachi,
    ] {
        assert!(kinds.contains(&kind), "{kinds:?}");
    }
    for status in &all {
        assert!(status.capabilities.is_some(), "{status:#?}");
        if status.account.kind != AccountKind::Local {
            assert_eq!(status.online, Some(true), "{status:#?}");
            assert!(
                !run.in_account(&status.account.name).is_empty(),
                "{} has no tasks",
                status.account.name
            );
        }
        // Every open task can be acted on offline: its offered actions
        // were fetched with the first sync.
        for task in run.in_account(&status.account.name) {
            if !task.state.is_final() {
                let detail = run.app.task_detail(task.id).unwrap();
                assert!(
                    detail.actions_fetched.is_some(),
                    "{}: {}",
                    status.account.name,
                    task.title
                );
            }
        }
        // The keychain entry's name is not shown to the UI.
        assert!(!status.account.settings.contains_key("keychain_entry"));
    }
    assert!(!run.search("請款").is_empty(), "Chinese");
    assert!(!run.search("作業").is_empty(), "Japanese");
    // No notifications on an account's first sync.
    assert!(run.heard.take().is_empty());
    // The UI heard about the status changes.
    let events = run.events.take();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, AppEvent::SyncStatus(s) if s.syncing))
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, AppEvent::SyncProgress(_)))
    );
}

#[test]
fn a_comment_queued_in_the_app_reaches_the_gever_server_once() {
    let run = demo_app();
    let task = run.in_account("GEVER Zürich")[0].clone();
    run.events.take();
    let op = run
        .app
        .queue_op(
            "GEVER Zürich",
            Some(task.id),
            OpRequest::CommentAdd {
                text: "<b>bold</b> <script>alert(1)</script> Grüezi".into(),
            },
        )
        .unwrap();
    let events = run.events.take();
    assert!(events.contains(&AppEvent::OutboxChanged(vec![op.op_id.to_string()])));
    assert!(events.contains(&AppEvent::ReplicaChanged(Some(vec![task.id]))));
    // The loop was woken: the op is sent without waiting for the interval.
    run.wait_for("the comment to be sent", |all| {
        all.iter().all(|s| s.queue == 0 && !s.syncing)
    });
    let done = run.app.outbox(&[OpState::Done]).unwrap();
    assert_eq!(done.len(), 1, "{done:#?}");
    let detail = run.app.task_detail(task.id).unwrap();
    let ours: Vec<_> = detail
        .comments
        .iter()
        .filter(|c| c.comment.text.contains("Grüezi"))
        .collect();
    assert_eq!(ours.len(), 1, "{:#?}", detail.comments);
    assert!(ours[0].pending.is_none(), "confirmed by the server");
}

#[test]
fn bulk_actions_queue_each_item_or_refuse_it_alone() {
    let run = demo_app();
    let gever = run.in_account("GEVER Zürich");
    let omflow = run.in_account("OMFLOW 台北");
    let comment = |text: &str| OpRequest::CommentAdd { text: text.into() };
    let results = run.app.queue_ops(vec![
        QueueItem {
            account: "GEVER Zürich".into(),
            task_id: Some(gever[0].id),
            request: comment("eins"),
        },
        // A task of another account.
        QueueItem {
            account: "GEVER Zürich".into(),
            task_id: Some(omflow[0].id),
            request: comment("zwei"),
        },
        QueueItem {
            account: "no such account".into(),
            task_id: Some(gever[0].id),
            request: comment("drei"),
        },
    ]);
    assert!(matches!(&results[0], QueueResult::Ok(_)), "{results:?}");
    assert!(
        matches!(&results[1], QueueResult::Error(e) if e.kind == AppErrorKind::Invalid),
        "{results:?}"
    );
    assert!(
        matches!(&results[2], QueueResult::Error(e) if e.kind == AppErrorKind::NotFound),
        "{results:?}"
    );
}

#[test]
fn testing_an_account_reports_a_refused_login_as_a_result_and_stores_nothing() {
    let run = demo_app();
    let gever = run
        .app
        .accounts()
        .unwrap()
        .into_iter()
        .find(|s| s.account.kind == AccountKind::Gever)
        .unwrap()
        .account;
    let new = NewAccount {
        name: "another".into(),
        kind: AccountKind::Gever,
        base_url: gever.base_url.clone(),
        user_name: "anna.keller".into(),
        settings: Default::default(),
    };
    let wrong = block_on(run.app.account_test(&new, Some("not-the-password"))).unwrap();
    assert!(!wrong.ok);
    assert!(!wrong.message.is_empty());
    let right = block_on(run.app.account_test(&new, Some("demo"))).unwrap();
    assert!(right.ok, "{right:?}");
    assert!(right.tasks.unwrap() > 0);
    assert!(
        run.app
            .accounts()
            .unwrap()
            .iter()
            .all(|s| s.account.name != "another")
    );
    // Bad settings are an error, not a result.
    let no_url = NewAccount {
        base_url: String::new(),
        ..new.clone()
    };
    let err = block_on(run.app.account_test(&no_url, Some("demo"))).unwrap_err();
    assert_eq!(err.kind, AppErrorKind::Invalid);
}

#[test]
fn an_account_with_unsent_actions_is_removed_only_when_forced() {
    let home = tempfile::tempdir().unwrap();
    let (app, events) = local_app(home.path());
    let op = app
        .queue_op(
            "Personal",
            None,
            OpRequest::CreateTask(
                serde_json::from_value(serde_json::json!({ "title": "Ein Brief" })).unwrap(),
            ),
        )
        .unwrap();
    assert_eq!(app.accounts().unwrap()[0].queue, 1);
    let refused = app.account_remove("Personal", false).unwrap_err();
    assert_eq!(refused.kind, AppErrorKind::Conflict);
    assert!(refused.message.contains("1 action"), "{}", refused.message);
    // Discarding it is possible, and is told.
    events.take();
    let discarded = app.outbox_discard(&op.op_id.to_string()).unwrap();
    assert_eq!(discarded.state, OpState::Cancelled);
    assert!(
        events.take().iter().any(
            |e| matches!(e, AppEvent::OutboxChanged(ops) if ops == &vec![op.op_id.to_string()])
        )
    );
    app.queue_op(
        "Personal",
        None,
        OpRequest::CreateTask(
            serde_json::from_value(serde_json::json!({ "title": "Noch einer" })).unwrap(),
        ),
    )
    .unwrap();
    app.account_remove("Personal", true).unwrap();
    assert!(app.accounts().unwrap().is_empty());
}

#[test]
fn adding_an_account_checks_its_settings_before_storing_anything() {
    let home = tempfile::tempdir().unwrap();
    let (app, _) = local_app(home.path());
    let bad = [
        NewAccount::new("x", AccountKind::Gever).user("hans"),
        NewAccount {
            base_url: "not a url".into(),
            ..NewAccount::new("x", AccountKind::Omflow).user("hans")
        },
        NewAccount {
            base_url: "https://gever.example.org".into(),
            ..NewAccount::new("x", AccountKind::Gever)
        },
    ];
    for new in bad {
        let err = app.account_add(new.clone(), Some("pw")).unwrap_err();
        assert_eq!(err.kind, AppErrorKind::Invalid, "{new:?}: {err:?}");
    }
    let dup = app
        .account_add(NewAccount::new("Personal", AccountKind::Local), None)
        .unwrap_err();
    assert_eq!(dup.kind, AppErrorKind::Conflict);
    let added = app
        .account_add(
            NewAccount {
                base_url: "https://gever.example.org/gever".into(),
                ..NewAccount::new("Bern", AccountKind::Gever).user("hans.muster")
            },
            Some("s3cret"),
        )
        .unwrap();
    assert_eq!(added.account.name, "Bern");
    assert!(!added.account.settings.contains_key("keychain_entry"));
    // The password is in no file in the home.
    for entry in walk(home.path()) {
        let bytes = std::fs::read(&entry).unwrap();
        assert!(
            !bytes.windows(6).any(|w| w == b"s3cret"),
            "{} holds the password",
            entry.display()
        );
    }
    // Changing settings keeps the password (the keychain entry stays).
    let mut settings = serde_json::Map::new();
    settings.insert("time_zone".into(), "Europe/Zurich".into());
    let changed = app.account_update("Bern", settings, None).unwrap();
    assert_eq!(changed.account.settings["time_zone"], "Europe/Zurich");
    let mut wrong = serde_json::Map::new();
    wrong.insert("time_zone".into(), "Mars/Olympus".into());
    assert_eq!(
        app.account_update("Bern", wrong, None).unwrap_err().kind,
        AppErrorKind::Invalid
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[test]
fn views_and_preferences_are_kept_and_a_damaged_file_is_set_aside() {
    let home = tempfile::tempdir().unwrap();
    let (app, _) = local_app(home.path());
    let builtin: Vec<String> = app.views().unwrap().iter().map(|v| v.id.clone()).collect();
    assert_eq!(
        builtin,
        [
            "inbox",
            "mine-open",
            "groups-unclaimed",
            "overdue",
            "needs-attention"
        ]
    );
    // Every built-in view runs.
    for view in app.views().unwrap() {
        app.list_tasks(&view.query).unwrap();
    }
    let mine = SavedView {
        id: "urgent".into(),
        name: "Dringend 急件".into(),
        query: Query {
            conditions: vec![Condition {
                column: Column::Priority,
                op: QueryOp::Ge,
                value: Value::Int(3),
            }],
            ..Query::default()
        },
        builtin: true,
    };
    let views = app.view_save(mine.clone()).unwrap();
    let saved = views.iter().find(|v| v.id == "urgent").unwrap();
    assert!(!saved.builtin, "a user view is never built in");
    // A query that cannot run is refused.
    let broken = SavedView {
        id: "broken".into(),
        query: Query {
            conditions: vec![Condition {
                column: Column::State,
                op: QueryOp::Contains,
                value: Value::Text("open".into()),
            }],
            ..Query::default()
        },
        ..mine.clone()
    };
    assert_eq!(
        app.view_save(broken).unwrap_err().kind,
        AppErrorKind::Invalid
    );
    assert_eq!(
        app.view_delete("inbox").unwrap_err().kind,
        AppErrorKind::Invalid
    );
    app.set_preferences(Preferences {
        language: Language::Ja,
    })
    .unwrap();
    drop(app);
    let (again, _) = local_app(home.path());
    assert!(again.views().unwrap().iter().any(|v| v.id == "urgent"));
    assert_eq!(again.preferences().language, Language::Ja);
    let views = again.view_delete("urgent").unwrap();
    assert!(views.iter().all(|v| v.id != "urgent"));
    drop(again);
    std::fs::write(home.path().join("app-settings.json"), b"{ not json").unwrap();
    let (fresh, _) = local_app(home.path());
    assert_eq!(fresh.preferences(), Preferences::default());
    assert!(home.path().join("app-settings.json.damaged").exists());
}

#[test]
fn rows_by_id_skip_missing_ids_and_related_tasks_come_by_position() {
    let run = demo_app();
    let gever = run.in_account("GEVER Zürich");
    let ids: Vec<i64> = gever.iter().map(|t| t.id).take(3).collect();
    let mut asked = ids.clone();
    asked.insert(1, 999_999_999);
    let rows = run.app.tasks_by_id(&asked).unwrap();
    assert_eq!(rows.iter().map(|r| r.id).collect::<Vec<_>>(), ids);
    assert_eq!(
        run.app.task_detail(999_999_999).unwrap_err().kind,
        AppErrorKind::NotFound
    );
    // Subtasks made in the app come back from the engine under their
    // parent. The parent is not sequential, so the engine (like GEVER)
    // gives them no position: they come in the order they were made.
    let personal = run.in_account("Personal");
    let parent = &personal[0];
    for (title, position) in [("Zweiter Schritt", 2), ("第一步", 1)] {
        let child = serde_json::json!({
            "title": title, "parent_key": parent.key, "position": position
        });
        run.app
            .queue_op(
                "Personal",
                None,
                OpRequest::CreateTask(serde_json::from_value(child).unwrap()),
            )
            .unwrap();
    }
    run.wait_for("the subtasks to be created", |all| {
        all.iter().all(|s| s.queue == 0 && !s.syncing)
    });
    let related = run.app.task_related(parent.id).unwrap();
    let titles: Vec<&str> = related.children.iter().map(|c| c.title.as_str()).collect();
    let positions: Vec<Option<i64>> = related.children.iter().map(|c| c.position).collect();
    assert_eq!(titles, ["Zweiter Schritt", "第一步"]);
    assert_eq!(positions, [None, None]);
    let child = run.app.task_related(related.children[0].id).unwrap();
    assert_eq!(child.parent.map(|p| p.id), Some(parent.id));
    assert!(child.children.is_empty());
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

//! The sync engine end to end: a real replica file, the embedded engine
//! in-process and `tasklane serve` on 127.0.0.1 reached through the dialect
//! clients. Every scenario counts effects on the engine side.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on purpose

mod support;

use std::sync::Arc;
use std::time::Duration;

use serde_json::Map;
use support::{Device, comment, comments_with, demo_engine, fetch_all, runtime, transition};
use tasklane_core::model::{Account, AccountKind, TaskRecord};
use tasklane_core::outbox::{self, Op, OpRequest, OpState};
use tasklane_core::remote::{
    Applied, BoxFuture, Capabilities, ListMode, ListPage, Outcome, Remote, RemoteError,
};
use tasklane_core::replica::tasks;
use tasklane_core::sync::notify::{Notification, Recording};
use tasklane_dialects::Password;
use tasklane_engine::server::{Background, ServerConfig};
use tasklane_engine::{Engine, LocalRemote, demo};

#[test]
fn offline_actions_on_the_embedded_engine_are_applied_once_and_never_resent() {
    let engine = demo_engine();
    let remote = LocalRemote::new(engine.clone(), "hans.muster");
    let mut device = Device::new(AccountKind::Local, "", "hans.muster");
    let heard = Recording::default();
    let first = device.sync(&remote, &heard);
    assert!(first.full && first.pulled > 0, "{first:?}");
    assert!(heard.take().is_empty(), "no notifications on a first sync");
    fetch_all(&mut device, &remote);

    // Offline: thirty comments across the tasks, and a transition.
    let tasks = device.tasks();
    let mut ops = Vec::new();
    for i in 0..30 {
        let (id, _, _) = &tasks[i % tasks.len()];
        ops.push(device.queue(Some(*id), comment(&format!("field note {i}"))));
    }
    let (task, action) = device
        .actionable()
        .into_iter()
        .next()
        .expect("an actionable task");
    let transition_op = device.queue(Some(task), transition(&action));

    let report = device.sync(&remote, &heard);
    assert_eq!(report.applied, 31, "{report:?}");
    for op in ops.iter().chain([&transition_op]) {
        assert_eq!(device.op_state(op).0, OpState::Done);
    }
    for i in 0..30 {
        assert_eq!(comments_with(&engine, &format!("field note {i}")), 1);
    }
    // A second run sends nothing again.
    let again = device.sync(&remote, &heard);
    assert_eq!(again.applied, 0, "{again:?}");
    for i in 0..30 {
        assert_eq!(comments_with(&engine, &format!("field note {i}")), 1);
    }
}

#[test]
fn an_op_left_sending_by_a_crash_is_asked_about_before_anything_is_resent() {
    let engine = demo_engine();
    let remote = LocalRemote::new(engine.clone(), "hans.muster");
    let mut device = Device::new(AccountKind::Local, "", "hans.muster");
    let heard = Recording::default();
    device.sync(&remote, &heard);
    let task = device.tasks()[0].0;
    let rt = runtime();

    // Crash after the request reached the server, before `done` was written.
    let reached = device.queue(Some(task), comment("reached the server"));
    let op = device
        .replica
        .write(|tx| outbox::mark_sending(tx, &reached, tasklane_core::time::now()))
        .unwrap();
    let key = device.tasks()[0].1.clone();
    let fresh = rt.block_on(remote.fetch(&key)).unwrap();
    rt.block_on(remote.execute(&op, fresh.as_ref())).unwrap();

    // Crash after `sending` was written, before the request left.
    let lost = device.queue(Some(task), comment("never left"));
    device
        .replica
        .write(|tx| outbox::mark_sending(tx, &lost, tasklane_core::time::now()))
        .unwrap();

    let report = device.sync(&remote, &heard);
    assert_eq!(device.op_state(&reached).0, OpState::Done);
    assert_eq!(device.op_state(&lost).0, OpState::Done);
    assert_eq!(report.applied, 2, "{report:?}");
    assert_eq!(comments_with(&engine, "reached the server"), 1);
    assert_eq!(comments_with(&engine, "never left"), 1);
}

/// `tasklane serve` on a loopback port, and a GEVER client for `user`.
fn gever(server: &Background, user: &str) -> Box<dyn Remote> {
    let account = Account {
        id: 1,
        name: "work".into(),
        kind: AccountKind::Gever,
        base_url: format!("{}/gever", server.url()),
        user_name: user.into(),
        settings: Map::new(),
        created_at: None,
    };
    tasklane_dialects::remote_for(&account, Password::new(demo::PASSWORD)).unwrap()
}

#[test]
fn two_devices_act_on_the_same_task_over_gever_one_wins_the_other_sees_a_conflict() {
    let server = Background::start(demo_engine(), ServerConfig::default()).unwrap();
    let remote = gever(&server, "hans.muster");
    let heard = Recording::default();
    let url = format!("{}/gever", server.url());
    let mut laptop = Device::new(AccountKind::Gever, &url, "hans.muster");
    let mut phone = Device::new(AccountKind::Gever, &url, "hans.muster");
    laptop.sync(remote.as_ref(), &heard);
    phone.sync(remote.as_ref(), &heard);
    fetch_all(&mut laptop, remote.as_ref());
    fetch_all(&mut phone, remote.as_ref());
    let (task, action) = laptop
        .actionable()
        .into_iter()
        .next()
        .expect("an actionable task");
    let key = laptop.tasks().into_iter().find(|t| t.0 == task).unwrap().1;
    let phone_task = phone.tasks().into_iter().find(|t| t.1 == key).unwrap().0;

    let won = laptop.queue(Some(task), transition(&action));
    let lost = phone.queue(Some(phone_task), transition(&action));
    let other = phone.queue(Some(phone_task), comment("after the transition"));
    laptop.sync(remote.as_ref(), &heard);
    assert_eq!(laptop.op_state(&won).0, OpState::Done);

    let report = phone.sync(remote.as_ref(), &heard);
    let (state, reason) = phone.op_state(&lost);
    assert_eq!(state, OpState::Conflict, "{report:?}");
    let reason = reason.unwrap();
    assert!(
        reason.contains("no longer offered") || reason.contains("no longer in your view"),
        "{reason}"
    );
    // The later op of that task waits behind the conflict.
    assert_eq!(phone.op_state(&other).0, OpState::Pending);
    // Discarding the conflict lets it go.
    phone
        .replica
        .write(|tx| outbox::cancel(tx, &lost, tasklane_core::time::now()))
        .unwrap();
    phone.sync(remote.as_ref(), &heard);
    assert_eq!(phone.op_state(&other).0, OpState::Done);
    assert_eq!(
        comments_with(server.server().engine(), "after the transition"),
        1
    );
}

#[test]
fn a_poison_op_fails_alone_while_the_others_go_through() {
    let server = Background::start(demo_engine(), ServerConfig::default()).unwrap();
    let remote = gever(&server, "hans.muster");
    let heard = Recording::default();
    let url = format!("{}/gever", server.url());
    let mut device = Device::new(AccountKind::Gever, &url, "hans.muster");
    device.sync(remote.as_ref(), &heard);
    fetch_all(&mut device, remote.as_ref());
    // A new deadline equal to the old one is refused by the server for good.
    let (poisoned, deadline) = device
        .tasks()
        .into_iter()
        .find_map(|(id, _, _)| {
            let (actions, _) = tasks::offered_actions(device.replica.conn(), id).unwrap();
            let row = tasks::row(device.replica.conn(), id).unwrap();
            actions
                .iter()
                .any(|a| a.id == "task-transition-modify-deadline")
                .then_some(())
                .and(row.deadline.map(|d| (id, d)))
        })
        .expect("a task whose deadline hans may change");
    let mut params = Map::new();
    params.insert("new_deadline".into(), serde_json::json!(deadline));
    let poison = device.queue(
        Some(poisoned),
        OpRequest::Transition {
            transition: "task-transition-modify-deadline".into(),
            text: Some("same day".into()),
            params,
        },
    );
    let other = device
        .tasks()
        .into_iter()
        .find(|t| t.0 != poisoned)
        .unwrap()
        .0;
    let tasks = [(poisoned, (), ()), (other, (), ())];
    let after_poison = device.queue(Some(tasks[0].0), comment("behind the poison"));
    let good = device.queue(Some(tasks[1].0), comment("on another task"));
    let report = device.sync(remote.as_ref(), &heard);
    let (state, reason) = device.op_state(&poison);
    assert_eq!(state, OpState::Failed, "{report:?}");
    let reason = reason.unwrap();
    assert!(
        reason.to_lowercase().contains("deadline"),
        "the server's own message: {reason}"
    );
    assert_eq!(device.op_state(&good).0, OpState::Done);
    assert_eq!(device.op_state(&after_poison).0, OpState::Pending);
    assert_eq!(
        comments_with(server.server().engine(), "on another task"),
        1
    );
}

/// Files a task for `responsible` as `issuer`, on the engine directly.
fn assign(engine: &Engine, issuer: &str, responsible: &str, title: &str) {
    assign_all(engine, issuer, responsible, [title.to_string()]);
}

/// Files one task per title for `responsible` as `issuer`, in one write.
fn assign_all(
    engine: &Engine,
    issuer: &str,
    responsible: &str,
    titles: impl IntoIterator<Item = String>,
) {
    engine
        .db()
        .write(|tx| {
            let dossier: i64 = tx.query_row("SELECT min(id) FROM dossiers", [], |r| r.get(0))?;
            let p = tasklane_engine::users::principal(tx, issuer)?;
            for title in titles {
                tasklane_engine::create_task(
                    tx,
                    &p,
                    &tasklane_engine::CreateTask {
                        title,
                        responsible: responsible.into(),
                        deadline: Some("2026-12-24".into()),
                        dossier_id: Some(dossier),
                        ..tasklane_engine::CreateTask::default()
                    },
                )?;
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn new_assignments_notify_after_the_first_sync_one_by_one_or_as_a_summary() {
    let engine = demo_engine();
    let server = Background::start(engine.clone(), ServerConfig::default()).unwrap();
    let remote = gever(&server, "hans.muster");
    let url = format!("{}/gever", server.url());
    let mut device = Device::new(AccountKind::Gever, &url, "hans.muster");
    let heard = Recording::default();
    device.sync(remote.as_ref(), &heard);
    assert!(heard.take().is_empty(), "none on the first sync");

    assign(
        &engine,
        "anna.keller",
        "fd:hans.muster",
        "Budget 2027 prüfen",
    );
    // His own task is no news to him.
    assign(&engine, "hans.muster", "fd:hans.muster", "Selbst erfasst");
    device.sync(remote.as_ref(), &heard);
    let heard_now = heard.take();
    assert_eq!(heard_now.len(), 1, "{heard_now:?}");
    let Notification::Task(a) = &heard_now[0] else {
        panic!("{heard_now:?}");
    };
    assert_eq!(a.title, "Budget 2027 prüfen");
    assert_eq!(a.deadline.as_deref(), Some("2026-12-24"));
    let (_, body) = heard_now[0].text();
    assert!(
        body.contains("anna.keller") || body.contains("Keller"),
        "{body}"
    );

    for i in 0..5 {
        assign(
            &engine,
            "anna.keller",
            "fd:hans.muster",
            &format!("Gesuch {i}"),
        );
    }
    device.sync(remote.as_ref(), &heard);
    let heard_now = heard.take();
    assert!(
        matches!(
            heard_now.as_slice(),
            [Notification::Summary { count: 5, .. }]
        ),
        "{heard_now:?}"
    );
    // Nothing new, nothing said.
    device.sync(remote.as_ref(), &heard);
    assert!(heard.take().is_empty());
}

#[test]
fn an_expired_omflow_security_code_mid_sync_is_renewed_and_the_work_log_sent_once() {
    let engine = demo_engine();
    let server = Background::start(engine.clone(), ServerConfig::default()).unwrap();
    let account = Account {
        id: 1,
        name: "taipei".into(),
        kind: AccountKind::Omflow,
        base_url: server.url(),
        user_name: "wang.xiaoming".into(),
        settings: Map::new(),
        created_at: None,
    };
    let remote = tasklane_dialects::remote_for(&account, Password::new(demo::PASSWORD)).unwrap();
    let mut device = Device::new(AccountKind::Omflow, &server.url(), "wang.xiaoming");
    let heard = Recording::default();
    let first = device.sync(remote.as_ref(), &heard);
    assert!(first.pulled > 0, "{first:?}");
    // The list's user and department numbers arrive as names: his own
    // tasks carry his login name, group work the department's name.
    let named: Vec<(Option<String>, Option<String>)> = {
        let mut stmt = device
            .replica
            .conn()
            .prepare("SELECT assignee, group_name FROM tasks")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    assert!(
        named
            .iter()
            .any(|(a, _)| a.as_deref() == Some("wang.xiaoming")),
        "{named:?}"
    );
    for (assignee, group) in &named {
        for name in [assignee, group].into_iter().flatten() {
            assert!(
                name.parse::<i64>().is_err(),
                "a number, not a name: {named:?}"
            );
        }
    }
    let task = device.tasks()[0].0;
    let op = device.queue(Some(task), comment("已電話聯絡廠商"));
    // The code the client holds expires (OMFLOW: 5 minutes idle).
    server
        .server()
        .sessions()
        .age_all(Duration::from_secs(6 * 60));
    let report = device.sync(remote.as_ref(), &heard);
    assert_eq!(device.op_state(&op).0, OpState::Done, "{report:?}");
    assert!(report.pulled > 0);
    assert_eq!(comments_with(&engine, "已電話聯絡廠商"), 1);
}

#[test]
fn over_gever_an_op_in_doubt_is_resent_under_its_idempotency_key_and_applied_once() {
    let engine = demo_engine();
    let server = Background::start(engine.clone(), ServerConfig::default()).unwrap();
    let remote = gever(&server, "hans.muster");
    let url = format!("{}/gever", server.url());
    let mut device = Device::new(AccountKind::Gever, &url, "hans.muster");
    let heard = Recording::default();
    device.sync(remote.as_ref(), &heard);
    let (task, key, _) = device.tasks()[0].clone();
    let op = device.queue(Some(task), comment("sent, answer lost"));
    let sending = device
        .replica
        .write(|tx| outbox::mark_sending(tx, &op, tasklane_core::time::now()))
        .unwrap();
    // The request reaches the server; the answer never comes back.
    let rt = runtime();
    let fresh = rt.block_on(remote.fetch(&key)).unwrap();
    rt.block_on(remote.execute(&sending, fresh.as_ref()))
        .unwrap();
    assert_eq!(comments_with(&engine, "sent, answer lost"), 1);

    // A new process (a fresh client) finds it in doubt.
    let restarted = gever(&server, "hans.muster");
    let report = device.sync(restarted.as_ref(), &heard);
    assert_eq!(device.op_state(&op).0, OpState::Done, "{report:?}");
    assert_eq!(comments_with(&engine, "sent, answer lost"), 1);
}

/// The server id of the comment with this text in the device's replica.
fn comment_id(device: &Device, text: &str) -> String {
    device
        .replica
        .conn()
        .query_row(
            "SELECT remote_id FROM comments WHERE text = ?1",
            [text],
            |r| r.get(0),
        )
        .unwrap()
}

#[test]
fn a_comment_edited_on_the_server_before_the_local_edit_is_not_overwritten() {
    let engine = demo_engine();
    let server = Background::start(engine.clone(), ServerConfig::default()).unwrap();
    let remote = gever(&server, "hans.muster");
    let heard = Recording::default();
    let url = format!("{}/gever", server.url());
    let mut laptop = Device::new(AccountKind::Gever, &url, "hans.muster");
    let mut phone = Device::new(AccountKind::Gever, &url, "hans.muster");
    laptop.sync(remote.as_ref(), &heard);
    let (task, key, _) = laptop.tasks()[0].clone();
    laptop.queue(Some(task), comment("Erster Entwurf"));
    laptop.sync(remote.as_ref(), &heard);
    phone.sync(remote.as_ref(), &heard);
    fetch_all(&mut phone, remote.as_ref());
    let phone_task = phone.tasks().into_iter().find(|t| t.1 == key).unwrap().0;
    let id = comment_id(&laptop, "Erster Entwurf");
    assert_eq!(comment_id(&phone, "Erster Entwurf"), id);

    // The phone corrects it twice before it is online; the second edit
    // builds on the first, so neither is a conflict.
    let edit = |text: &str| OpRequest::CommentEdit {
        comment: id.clone(),
        text: text.into(),
    };
    let first = phone.queue(Some(phone_task), edit("Vom Telefon korrigiert"));
    let second = phone.queue(Some(phone_task), edit("Vom Telefon nochmals korrigiert"));
    // Meanwhile the laptop, offline, edits the text it saw.
    let stale = laptop.queue(Some(task), edit("Vom Laptop korrigiert"));
    phone.sync(remote.as_ref(), &heard);
    assert_eq!(phone.op_state(&first).0, OpState::Done);
    assert_eq!(phone.op_state(&second).0, OpState::Done);

    laptop.sync(remote.as_ref(), &heard);
    let (state, reason) = laptop.op_state(&stale);
    assert_eq!(state, OpState::Conflict);
    let reason = reason.unwrap();
    assert!(
        reason.contains("changed on the server") && reason.contains("nochmals"),
        "{reason}"
    );
    let on_server: String = engine
        .db()
        .read(|c| {
            Ok(c.query_row(
                "SELECT text FROM responses WHERE text LIKE 'Vom %'",
                [],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    assert_eq!(on_server, "Vom Telefon nochmals korrigiert");
}

#[test]
fn an_expired_gever_token_mid_sync_is_renewed_through_login_and_nothing_is_sent_twice() {
    let engine = demo_engine();
    let config = ServerConfig {
        gever_token_lifetime_secs: 1,
        ..ServerConfig::default()
    };
    let server = Background::start(engine.clone(), config).unwrap();
    let url = format!("{}/gever", server.url());
    let mut settings = Map::new();
    settings.insert("auth".into(), "jwt".into());
    let account = Account {
        id: 1,
        name: "work".into(),
        kind: AccountKind::Gever,
        base_url: url.clone(),
        user_name: "hans.muster".into(),
        settings,
        created_at: None,
    };
    let remote = tasklane_dialects::remote_for(&account, Password::new(demo::PASSWORD)).unwrap();
    let mut device = Device::new(AccountKind::Gever, &url, "hans.muster");
    let heard = Recording::default();
    device.sync(remote.as_ref(), &heard);
    let tasks = device.tasks();
    let ops: Vec<String> = (0..6)
        .map(|i| {
            let (task, _, _) = &tasks[i % tasks.len()];
            device.queue(Some(*task), comment(&format!("Nach Ablauf {i}")))
        })
        .collect();
    // The token the client holds runs out (tokens live one second here).
    std::thread::sleep(Duration::from_millis(2100));
    let report = device.sync(remote.as_ref(), &heard);
    assert!(report.pulled > 0, "{report:?}");
    for (i, op) in ops.iter().enumerate() {
        assert_eq!(device.op_state(op).0, OpState::Done, "{report:?}");
        assert_eq!(comments_with(&engine, &format!("Nach Ablauf {i}")), 1);
    }
}

/// Passes everything through to the engine, counting the fetches of each
/// task and the most in flight at once; with `broken_page` set, that
/// listing page (counted from 1) comes back with a task the replica must
/// refuse; with `fetch_delay`, each fetch first waits that long; from the
/// `offline_after`-th fetch on, the network is gone.
struct Observed<'a> {
    inner: &'a dyn Remote,
    fetched: std::sync::Mutex<std::collections::HashMap<String, usize>>,
    broken_page: Option<usize>,
    listed: std::sync::atomic::AtomicUsize,
    fetch_delay: Duration,
    offline_after: usize,
    in_flight: std::sync::atomic::AtomicUsize,
    most_in_flight: std::sync::atomic::AtomicUsize,
}

impl<'a> Observed<'a> {
    fn new(inner: &'a dyn Remote) -> Self {
        Observed {
            inner,
            fetched: Default::default(),
            broken_page: None,
            listed: Default::default(),
            fetch_delay: Duration::ZERO,
            offline_after: usize::MAX,
            in_flight: Default::default(),
            most_in_flight: Default::default(),
        }
    }
}

impl Remote for Observed<'_> {
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    fn list_page<'a>(
        &'a self,
        mode: &'a ListMode,
        cursor: Option<&'a str>,
    ) -> BoxFuture<'a, Result<ListPage, RemoteError>> {
        Box::pin(async move {
            let mut page = self.inner.list_page(mode, cursor).await?;
            let n = 1 + self
                .listed
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if self.broken_page == Some(n)
                && let Some(task) = page.tasks.last_mut()
            {
                task.key = "local:not-a-server-key".into();
            }
            Ok(page)
        })
    }
    fn fetch<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<TaskRecord>, RemoteError>> {
        use std::sync::atomic::Ordering::SeqCst;
        let calls = {
            let mut fetched = self.fetched.lock().unwrap();
            *fetched.entry(key.into()).or_default() += 1;
            fetched.values().sum::<usize>()
        };
        Box::pin(async move {
            if calls > self.offline_after {
                return Err(RemoteError::new(
                    tasklane_core::remote::RemoteErrorKind::Offline,
                    "connection refused",
                ));
            }
            let now = self.in_flight.fetch_add(1, SeqCst) + 1;
            self.most_in_flight.fetch_max(now, SeqCst);
            if !self.fetch_delay.is_zero() {
                tokio::time::sleep(self.fetch_delay).await;
            }
            let answer = self.inner.fetch(key).await;
            self.in_flight.fetch_sub(1, SeqCst);
            answer
        })
    }
    fn execute<'a>(
        &'a self,
        op: &'a Op,
        task: Option<&'a TaskRecord>,
    ) -> BoxFuture<'a, Result<Outcome, RemoteError>> {
        self.inner.execute(op, task)
    }
    fn applied<'a>(
        &'a self,
        op: &'a Op,
        task: Option<&'a TaskRecord>,
    ) -> BoxFuture<'a, Result<Applied, RemoteError>> {
        self.inner.applied(op, task)
    }
}

#[test]
fn a_tasks_queued_comments_go_out_without_a_fetch_between_them_and_it_is_refreshed_once_after() {
    let engine = demo_engine();
    let local = LocalRemote::new(engine.clone(), "hans.muster");
    let mut device = Device::new(AccountKind::Local, "", "hans.muster");
    let heard = Recording::default();
    device.sync(&local, &heard);
    fetch_all(&mut device, &local);
    let (task, action) = device.actionable().into_iter().next().unwrap();
    let (_, key, _) = device
        .tasks()
        .into_iter()
        .find(|(id, _, _)| *id == task)
        .unwrap();
    let (other, other_key, _) = device
        .tasks()
        .into_iter()
        .find(|(id, _, _)| *id != task)
        .unwrap();

    // Five comments then a transition on one task, one comment on another.
    for i in 0..5 {
        device.queue(Some(task), comment(&format!("in a row {i}")));
    }
    device.queue(Some(task), transition(&action));
    device.queue(Some(other), comment("on its own"));
    let counting = Observed::new(&local);
    let report = device.sync(&counting, &heard);
    assert_eq!(report.applied, 7, "{report:?}");
    let fetched = counting.fetched.into_inner().unwrap();
    // Once to check the first comment (the comments after it and the
    // transition are checked against that state), once after the
    // transition, which changed the task.
    assert_eq!(fetched.get(&key), Some(&2), "{fetched:?}");
    assert_eq!(fetched.get(&other_key), Some(&2), "{fetched:?}");

    // The replica holds what the server holds: every comment, the new state.
    let stored = tasks::server_record(device.replica.conn(), task).unwrap();
    let comments = stored.comments.unwrap_or_default();
    for i in 0..5 {
        let text = format!("in a row {i}");
        assert_eq!(comments_with(&engine, &text), 1);
        assert!(
            comments.iter().any(|c| c.text == text),
            "{text} not in the replica"
        );
    }
    let server = runtime().block_on(local.fetch(&key)).unwrap().unwrap();
    assert_eq!(stored.state, server.state);
    assert_ne!(stored.actions, None);
}

#[test]
fn a_gever_inbox_the_user_works_from_is_synced_besides_their_own_tasks() {
    let server = Background::start(demo_engine(), ServerConfig::default()).unwrap();
    let url = format!("{}/gever", server.url());
    let titles = |settings: serde_json::Value| -> Vec<String> {
        let remote = support::client_with(
            AccountKind::Gever,
            &url,
            "hans.muster",
            demo::PASSWORD,
            settings,
        );
        let mut device = Device::new(AccountKind::Gever, &url, "hans.muster");
        device.sync(remote.as_ref(), &Recording::default());
        device.tasks().into_iter().map(|(_, _, t)| t).collect()
    };
    // The demo files a review to the inbox of hans's org unit fd.
    let inbox_task = "Review: Änderung Personalreglement";
    let own = titles(serde_json::json!({}));
    assert!(!own.iter().any(|t| t == inbox_task), "{own:?}");
    let with_inbox = titles(serde_json::json!({"inboxes": ["fd"]}));
    assert!(with_inbox.iter().any(|t| t == inbox_task), "{with_inbox:?}");
    for title in &own {
        assert!(with_inbox.contains(title), "{title} is still listed");
    }
}

/// Always a full listing, no details: what a long pull does.
fn full_pull(
    device: &mut Device,
    remote: &dyn Remote,
    heard: &Recording,
) -> Result<tasklane_core::sync::Report, tasklane_core::sync::SyncError> {
    let options = tasklane_core::sync::Options {
        full_every: Duration::ZERO,
        details_per_run: 0,
        ..tasklane_core::sync::Options::default()
    };
    device.try_sync_with(remote, heard, &options)
}

/// An engine where anna.keller has filed 4,500 tasks for hans.muster —
/// more than two merge batches of 2,000, so the later ones go to the merge
/// thread while pages are still coming — and a device of his that has
/// never synced.
fn long_listing() -> (Arc<Engine>, LocalRemote, Device, Recording) {
    let engine = demo_engine();
    assign_all(
        &engine,
        "anna.keller",
        "fd:hans.muster",
        (0..4_500).map(|i| format!("Stapel {i}")),
    );
    let local = LocalRemote::new(engine.clone(), "hans.muster");
    let device = Device::new(AccountKind::Local, "", "hans.muster");
    (engine, local, device, Recording::default())
}

fn inbox_indexes(device: &Device) -> i64 {
    device
        .replica
        .conn()
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'index'
             AND name IN ('tasks_by_assignee', 'tasks_by_group', 'tasks_by_deadline', 'tasks_by_parent')",
            [],
            |r| r.get(0),
        )
        .unwrap()
}

#[test]
fn a_listing_longer_than_a_merge_batch_is_merged_whole_while_it_downloads() {
    let (engine, local, mut device, heard) = long_listing();
    let report = full_pull(&mut device, &local, &heard).unwrap();
    let stored = device.tasks();
    assert!(stored.len() > 4_500, "{}", stored.len());
    assert_eq!(report.pulled, stored.len(), "{report:?}");
    assert_eq!(report.inserted, stored.len(), "{report:?}");
    assert!(heard.take().is_empty(), "none on the first sync");
    // Searchable at once: the search index caught up after the merge.
    let hits = device
        .replica
        .query(&tasklane_core::query::Query {
            search: Some("Stapel 4499".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(hits.len(), 1, "{hits:?}");
    // Every task has exactly one entry in the search index, none waits.
    let entries: i64 = device
        .replica
        .conn()
        .query_row("SELECT count(*) FROM task_search_docsize", [], |r| r.get(0))
        .unwrap();
    assert_eq!(entries, stored.len() as i64);
    assert_eq!(
        tasklane_core::replica::search::backlog(device.replica.conn()).unwrap(),
        0
    );
    // The first sync loaded without the inbox's indexes; they are back.
    assert_eq!(inbox_indexes(&device), 4);
    let waiting: i64 = device
        .replica
        .conn()
        .query_row("SELECT count(*) FROM deferred_indexes", [], |r| r.get(0))
        .unwrap();
    assert_eq!(waiting, 0);

    // A later full listing merges on the thread too, and still announces
    // the one new assignment among thousands of known tasks.
    assign(&engine, "anna.keller", "fd:hans.muster", "Neu im Stapel");
    let report = full_pull(&mut device, &local, &heard).unwrap();
    assert_eq!((report.inserted, report.updated), (1, 0), "{report:?}");
    let heard_now = heard.take();
    assert!(
        matches!(heard_now.as_slice(), [Notification::Task(a)] if a.title == "Neu im Stapel"),
        "{heard_now:?}"
    );
}

#[test]
fn a_task_the_replica_refuses_late_in_a_long_listing_fails_the_run_and_keeps_whole_batches() {
    let (_engine, local, mut device, heard) = long_listing();
    // Pages hold 200 tasks: page 15 falls into the second batch, merged on
    // the thread.
    let breaking = Observed {
        broken_page: Some(15),
        ..Observed::new(&local)
    };
    let err = full_pull(&mut device, &breaking, &heard).unwrap_err();
    assert_eq!(err.kind(), "store", "{err}");
    assert!(err.to_string().contains("reserved"), "{err}");
    // The transaction holding the broken batch was rolled back whole: the
    // first batch stands unless it waited for the thread alongside the
    // broken one and went into the same transaction.
    let kept = device.tasks().len();
    assert!(kept == 2_000 || kept == 0, "{kept}");
    // The merge thread built the inbox's indexes again on its way out.
    assert_eq!(inbox_indexes(&device), 4);
    // The next run, with the server's answer intact, takes the rest.
    let report = full_pull(&mut device, &local, &heard).unwrap();
    assert_eq!(device.tasks().len(), report.pulled, "{report:?}");
}

#[test]
fn details_of_listed_tasks_are_fetched_several_at_a_time_and_kept_when_the_network_goes() {
    let server = Background::start(demo_engine(), ServerConfig::default()).unwrap();
    let url = format!("{}/gever", server.url());
    let gever = || {
        support::client_with(
            AccountKind::Gever,
            &url,
            "hans.muster",
            demo::PASSWORD,
            serde_json::json!({}),
        )
    };
    let needing = |device: &Device| {
        tasks::needing_details(device.replica.conn(), device.account.id, 1_000).unwrap()
    };

    // GEVER's listing carries no actions: a first sync fetches each open
    // task's details, several at once.
    let remote = gever();
    let slow = Observed {
        fetch_delay: Duration::from_millis(30),
        ..Observed::new(remote.as_ref())
    };
    let mut device = Device::new(AccountKind::Gever, &url, "hans.muster");
    let report = device.sync(&slow, &Recording::default());
    let most = slow
        .most_in_flight
        .load(std::sync::atomic::Ordering::SeqCst);
    assert!(report.refreshed >= 3, "{report:?}");
    assert!(
        (2..=tasklane_core::sync::Options::default().concurrency).contains(&most),
        "{most} fetches at once"
    );
    assert!(needing(&device).is_empty(), "{:?}", needing(&device));

    // The network goes after two fetches: those two are kept, the rest
    // waits for the next run, which fetches it.
    let remote = gever();
    let cut = Observed {
        offline_after: 2,
        ..Observed::new(remote.as_ref())
    };
    let mut device = Device::new(AccountKind::Gever, &url, "hans.muster");
    let report = device.sync(&cut, &Recording::default());
    assert_eq!(report.refreshed, 2, "{report:?}");
    let left = needing(&device).len();
    assert!(left >= 1, "nothing left to fetch");
    let report = device.sync(remote.as_ref(), &Recording::default());
    assert_eq!(report.refreshed, left, "{report:?}");
    assert!(needing(&device).is_empty());
}

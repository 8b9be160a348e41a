//! Import and export of normalized tasks.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use tasklane_core::exchange::{self, Document, FORMAT, VERSION};
use tasklane_core::outbox::{self, OpRequest};
use tasklane_core::replica::{accounts, tasks};
use tasklane_core::{Query, Replica};

fn demo_document(n: usize) -> Document {
    let doc = serde_json::json!({
        "format": FORMAT,
        "version": VERSION,
        "accounts": [{"name": "demo", "kind": "local", "user_name": "me"}],
        "tasks": [],
    });
    let mut doc: Document = serde_json::from_value(doc).unwrap();
    doc.tasks = tasklane_core::synthetic::tasks(n, 11)
        .into_iter()
        .map(|task| exchange::ExportedTask {
            account: "demo".into(),
            task,
        })
        .collect();
    doc
}

fn export_string(r: &Replica) -> String {
    let mut out = Vec::new();
    exchange::export(r.conn(), None, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn export_then_import_reproduces_the_server_state() {
    let mut a = Replica::open_in_memory().unwrap();
    let stats = exchange::import_document(&mut a, &demo_document(300)).unwrap();
    assert_eq!((stats.accounts_created, stats.tasks.inserted), (1, 300));
    let first = export_string(&a);
    let mut b = Replica::open_in_memory().unwrap();
    let stats = exchange::import(&mut b, first.as_bytes()).unwrap();
    assert_eq!(stats.tasks.inserted, 300);
    assert_eq!(
        export_string(&b),
        first,
        "a second round trip changes nothing"
    );
    // Importing the same file again changes nothing either.
    let again = exchange::import(&mut b, first.as_bytes()).unwrap();
    assert_eq!(
        (
            again.tasks.inserted,
            again.tasks.updated,
            again.tasks.unchanged
        ),
        (0, 0, 300)
    );
    assert_eq!(
        b.count(&Query::default()).unwrap(),
        a.count(&Query::default()).unwrap()
    );
}

#[test]
fn exports_leave_out_pending_ops_and_offline_tasks() {
    let mut r = Replica::open_in_memory().unwrap();
    exchange::import_document(&mut r, &demo_document(5)).unwrap();
    let before = export_string(&r);
    let account = accounts::get(r.conn(), "demo").unwrap();
    let task = tasks::id_by_key(r.conn(), account.id, "synthetic:0")
        .unwrap()
        .unwrap();
    r.write(|tx| {
        outbox::queue(
            tx,
            account.id,
            Some(task),
            OpRequest::CommentAdd {
                text: "queued".into(),
            },
            tasklane_core::time::now(),
        )?;
        outbox::queue(
            tx,
            account.id,
            None,
            OpRequest::CreateTask(
                serde_json::from_value(serde_json::json!({"title": "offline"})).unwrap(),
            ),
            tasklane_core::time::now(),
        )
    })
    .unwrap();
    assert_eq!(export_string(&r), before);
}

#[test]
fn a_bad_file_imports_nothing_and_says_why() {
    let good = serde_json::to_value(demo_document(3)).unwrap();
    let mutate = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut v = good.clone();
        f(&mut v);
        v.to_string()
    };
    let cases: Vec<(String, &str)> = vec![
        (
            "{\"format\": \"tasklane-tasks\", \"version\": 1, \"tasks\": [".into(),
            "not a valid tasklane task file",
        ),
        ("[]".into(), "not a valid tasklane task file"),
        (
            mutate(&|v| v["format"] = "csv".into()),
            "not a tasklane task file",
        ),
        (
            mutate(&|v| v["version"] = 99.into()),
            "version 99 is not supported",
        ),
        (
            mutate(&|v| v["tasks"][2]["key"] = v["tasks"][0]["key"].clone()),
            "appears twice",
        ),
        (
            mutate(&|v| v["tasks"][1]["account"] = "nowhere".into()),
            "account \"nowhere\"",
        ),
        (
            mutate(&|v| v["tasks"][1]["state"] = "finished".into()),
            "unknown variant `finished`",
        ),
        (
            mutate(&|v| v["tasks"][1]["deadline"] = "next week".into()),
            "neither a date",
        ),
        (
            mutate(&|v| v["tasks"][1]["key"] = "".into()),
            "empty remote key",
        ),
        (
            mutate(&|v| v["tasks"][1]["key"] = "local:x".into()),
            "reserved",
        ),
        (
            mutate(&|v| v["accounts"][0]["kind"] = "jira".into()),
            "unknown variant `jira`",
        ),
    ];
    for (text, message) in cases {
        let mut r = Replica::open_in_memory().unwrap();
        let err = exchange::import(&mut r, text.as_bytes()).unwrap_err();
        assert!(
            err.to_string().contains(message),
            "expected {message:?} in: {err}"
        );
        assert!(
            accounts::list(r.conn()).unwrap().is_empty(),
            "{message}: nothing imported"
        );
        let n: i64 = r
            .conn()
            .query_row("SELECT count(*) FROM tasks", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 0, "{message}: nothing imported");
    }
}

#[test]
fn an_import_into_an_account_of_another_kind_is_refused() {
    let mut r = Replica::open_in_memory().unwrap();
    exchange::import_document(&mut r, &demo_document(2)).unwrap();
    let mut doc = demo_document(2);
    doc.accounts[0].kind = tasklane_core::AccountKind::Gever;
    let err = exchange::import_document(&mut r, &doc).unwrap_err();
    assert!(
        err.to_string().contains("exists as a local account"),
        "{err}"
    );
}

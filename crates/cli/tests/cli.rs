//! The `tasklane` binary end to end, over a replica in a temporary home.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use tasklane_core::outbox::{self, OpRequest};
use tasklane_core::replica::{accounts, tasks};
use tasklane_core::{Replica, State};
use unicode_width::UnicodeWidthStr;

struct Home {
    dir: tempfile::TempDir,
}

fn demo_file() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../demo/inbox.json")
}

impl Home {
    fn new() -> Self {
        Home {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn with_demo() -> Self {
        let home = Home::new();
        home.ok(&["import", demo_file().to_str().unwrap()]);
        home
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_tasklane"))
            .arg("--home")
            .arg(self.dir.path())
            .args(args)
            .env_remove("TASKLANE_HOME")
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        serde_json::from_str(&self.ok(&all)).unwrap()
    }

    fn replica_path(&self) -> PathBuf {
        self.dir.path().join("replica.sqlite3")
    }
}

fn titles(page: &Value) -> Vec<String> {
    page["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn list_filters_searches_and_pages_the_demo_inbox() {
    let home = Home::with_demo();
    let all = home.json(&["list", "--count", "100"]);
    assert_eq!(all["total"], 20);
    assert_eq!(all["start"], 0);
    let row = &all["tasks"][0];
    for field in [
        "id",
        "account",
        "key",
        "title",
        "state",
        "server_state",
        "status_text",
        "kind",
        "assignee",
        "group",
        "issuer",
        "deadline",
        "priority",
        "created",
        "modified",
        "process",
        "parent_key",
        "position",
        "pending",
        "attention",
        "gone",
        "local_only",
    ] {
        assert!(row.get(field).is_some(), "list --json rows carry {field}");
    }
    assert_eq!(
        titles(&home.json(&["list", "--search", "審核"])),
        vec!["審核通過 請款單 #1024"]
    );
    assert_eq!(
        titles(&home.json(&["list", "--search", "作業"])),
        vec!["作業者実行：請求書確認"]
    );
    let open_zurich = home.json(&[
        "list",
        "--where",
        "account = zurich",
        "--where",
        "state = open",
        "--exclude",
        "kind = information",
        "--order=-deadline",
    ]);
    assert_eq!(
        titles(&open_zurich),
        vec![
            "Review: Änderung Personalreglement",
            "Stellungnahme zum Baugesuch Müller"
        ]
    );
    let paged = home.json(&["list", "--order", "title", "--start", "2", "--count", "2"]);
    assert_eq!(paged["total"], 20);
    assert_eq!(paged["tasks"].as_array().unwrap().len(), 2);
}

#[test]
fn the_table_aligns_chinese_and_japanese_titles() {
    let home = Home::with_demo();
    let text = home.ok(&["list", "--count", "100"]);
    let lines: Vec<&str> = text.lines().take_while(|l| !l.is_empty()).collect();
    assert!(lines.len() > 10);
    // The ACCOUNT column starts at the same display column on every line,
    // whatever the width of the titles before it.
    let header_at = lines[0][..lines[0].find("ACCOUNT").unwrap()].width();
    for line in &lines[1..] {
        let account = ["taipei", "zurich", "osaka", "personal"]
            .into_iter()
            .filter_map(|a| line.find(&format!("  {a}  ")).map(|i| i + 2))
            .min()
            .unwrap_or_else(|| panic!("no account in {line:?}"));
        assert_eq!(line[..account].width(), header_at, "misaligned: {line:?}");
    }
}

#[test]
fn an_invalid_query_exits_2_and_names_the_bad_part() {
    let home = Home::with_demo();
    let cases = [
        (
            vec!["list", "--where", "titel = x"],
            "condition \"titel = x\": unknown column \"titel\"",
        ),
        (
            vec!["list", "--where", "state = opne"],
            "unknown state \"opne\"",
        ),
        (vec!["list", "--order", "-nope"], "order \"-nope\""),
        (
            vec!["list", "--exclude", "deadline contains 11"],
            "\"contains\" cannot be used with \"deadline\"",
        ),
        (vec!["list", "--count", "20000"], "at most 10000"),
        (vec!["show", "abc"], "not a task id"),
    ];
    for (args, message) in cases {
        let out = home.run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}: no partial output");
    }
}

#[test]
fn show_prints_a_task_and_missing_ones_are_clear_errors() {
    let home = Home::with_demo();
    let all = home.json(&["list", "--search", "Baugesuch"]);
    let id = all["tasks"][0]["id"].as_i64().unwrap().to_string();
    let text = home.ok(&["show", &id]);
    for expected in [
        "Stellungnahme zum Baugesuch Müller",
        "Akzeptieren",
        "Bitte bis Ende Monat",
        "fd:12345",
    ] {
        assert!(text.contains(expected), "show lacks {expected:?}:\n{text}");
    }
    let detail = home.json(&["show", &id]);
    assert_eq!(detail["actions"].as_array().unwrap().len(), 4);
    assert_eq!(detail["comments"][0]["pending"], Value::Null);
    let out = home.run(&["show", "9999"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no task 9999"));
}

fn queue_accept(path: &Path) -> (i64, String) {
    let mut r = Replica::open(path).unwrap();
    let account = accounts::get(r.conn(), "zurich").unwrap();
    let id = tasks::id_by_key(r.conn(), account.id, "fd:12345")
        .unwrap()
        .unwrap();
    let op = r
        .write(|tx| {
            outbox::queue(
                tx,
                account.id,
                Some(id),
                OpRequest::Transition {
                    transition: "task-transition-open-in-progress".into(),
                    text: Some("Wird gemacht".into()),
                    params: Default::default(),
                },
                tasklane_core::time::now(),
            )
        })
        .unwrap();
    (id, op.short_id())
}

#[test]
fn the_outbox_lists_queued_ops_and_cancels_them() {
    let home = Home::with_demo();
    assert!(home.ok(&["outbox"]).contains("empty"));
    let (task, op) = queue_accept(&home.replica_path());
    let listed = home.ok(&["outbox"]);
    assert!(
        listed.contains(&op) && listed.contains("pending"),
        "{listed}"
    );
    let ops = home.json(&["outbox"]);
    assert_eq!(ops[0]["kind"], "transition");
    assert_eq!(ops[0]["request"]["op"], "transition");
    assert_eq!(ops[0]["state"], "pending");
    let row = home.json(&["show", &task.to_string()]);
    assert_eq!(row["state"], "in_progress");
    assert_eq!(row["server_state"], "open");
    let table = home.ok(&["list", "--where", "pending = true"]);
    assert!(table.contains("in_progress*"), "{table}");

    assert!(home.ok(&["outbox", "cancel", &op]).contains("Cancelled"));
    assert!(home.ok(&["outbox"]).contains("empty"));
    assert_eq!(home.json(&["outbox", "--all"])[0]["state"], "cancelled");
    assert_eq!(home.json(&["show", &task.to_string()])["state"], "open");
    let again = home.run(&["outbox", "cancel", &op]);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("it cannot become cancelled"));
    let unknown = home.run(&["outbox", "cancel", "0000ffff"]);
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no outbox op"));
}

#[test]
fn a_damaged_replica_is_named_and_left_alone() {
    let home = Home::new();
    std::fs::create_dir_all(home.dir.path()).unwrap();
    std::fs::write(home.replica_path(), vec![0x42u8; 8192]).unwrap();
    let out = home.run(&["list"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(home.replica_path().to_str().unwrap()),
        "{stderr}"
    );
    assert!(stderr.contains("untouched"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        std::fs::read(home.replica_path()).unwrap(),
        vec![0x42u8; 8192]
    );
}

#[test]
fn export_and_import_round_trip_through_files() {
    let home = Home::with_demo();
    let file = home.dir.path().join("out.json");
    home.ok(&["export", "--output", file.to_str().unwrap()]);
    let other = Home::new();
    assert!(
        other
            .ok(&["import", file.to_str().unwrap()])
            .contains("20 new")
    );
    // Ids are the replica's own; everything else must survive the trip.
    let content = |h: &Home| -> Vec<String> {
        let mut rows: Vec<String> = h.json(&["list", "--count", "100"])["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                let mut t = t.clone();
                t.as_object_mut().unwrap().remove("id");
                t.to_string()
            })
            .collect();
        rows.sort();
        rows
    };
    let (theirs, ours) = (content(&other), content(&home));
    assert_eq!(theirs.len(), ours.len());
    for (a, b) in theirs.iter().zip(&ours) {
        assert!(a == b, "differs after export and import:\n{a}\n{b}");
    }
    let zurich = home.ok(&["export", "--account", "zurich"]);
    let doc: Value = serde_json::from_str(&zurich).unwrap();
    assert_eq!(doc["tasks"].as_array().unwrap().len(), 7);
    let bad = home.dir.path().join("bad.json");
    std::fs::write(&bad, "{\"format\": \"tasklane-tasks\"").unwrap();
    let out = home.run(&["import", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing was imported"));
}

#[test]
fn state_values_match_the_core_names() {
    // The documented JSON uses the core's state names verbatim.
    let home = Home::with_demo();
    let all = home.json(&["list", "--count", "100"]);
    for t in all["tasks"].as_array().unwrap() {
        let s = t["state"].as_str().unwrap();
        assert!(s.parse::<State>().is_ok(), "{s}");
    }
}

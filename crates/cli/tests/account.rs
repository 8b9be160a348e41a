//! `tasklane account`, as a user runs it: the real binary against a real
//! `tasklane serve --demo` on 127.0.0.1, with the password in a real
//! Secret Service (GNOME Keyring on a private session bus) or, on a
//! machine without one, given through the environment.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on purpose

use std::path::Path;

use serde_json::Value;

mod support;
use support::{Served, SessionKeyring, run_with_stdin, tasklane, text};

/// Every file under `dir`, read as bytes (the replica with its WAL, the
/// engine, anything else tasklane wrote).
fn all_bytes(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in walk(dir) {
        out.push((entry.display().to_string(), std::fs::read(&entry).unwrap()));
    }
    out
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
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

fn assert_nowhere_on_disk(dir: &Path, secret: &str) {
    for (name, bytes) in all_bytes(dir) {
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{secret:?} was written to {name}"
        );
    }
}

fn accounts_json(home: &Path) -> Vec<Value> {
    let out = tasklane(home)
        .args(["account", "list", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice::<Value>(&out.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn with_a_keychain_the_password_lives_only_there_and_every_dialect_logs_in() {
    let Some(keyring) = SessionKeyring::start() else {
        return;
    };
    let server_home = tempfile::tempdir().unwrap();
    let served = Served::start(server_home.path(), &[]);
    let home = tempfile::tempdir().unwrap();
    let with_bus = |args: &[&str]| {
        let mut cmd = tasklane(home.path());
        cmd.args(args)
            .env("DBUS_SESSION_BUS_ADDRESS", keyring.address());
        cmd
    };
    let gever_url = format!("{}/gever", served.url);
    let accounts = [
        ("taipei", "omflow", served.url.as_str(), "wang.xiaoming"),
        ("bern", "gever", gever_url.as_str(), "hans.muster"),
        ("osaka", "hitachi", served.url.as_str(), "suzuki"),
    ];
    let before = keyring.item_count();
    for (name, kind, url, user) in accounts {
        let out = run_with_stdin(
            with_bus(&[
                "account",
                "add",
                name,
                "--kind",
                kind,
                "--url",
                url,
                "--user",
                user,
                "--password-stdin",
            ])
            .env("TASKLANE_LOG", "trace"),
            "demo\n",
        );
        assert!(out.status.success(), "{name}: {}", text(&out.stderr));
        assert!(text(&out.stdout).contains("the password is in the keychain"));
        let out = with_bus(&["account", "test", name]).output().unwrap();
        let stdout = text(&out.stdout);
        assert!(
            out.status.success(),
            "{name}: {}{stdout}",
            text(&out.stderr)
        );
        assert!(
            stdout.contains(&format!("{name}: logged in to")),
            "{stdout}"
        );
        // Every demo user has work waiting.
        assert!(!stdout.contains("has 0 tasks"), "{stdout}");
    }
    assert_eq!(keyring.item_count(), before + 3);

    let listed = accounts_json(home.path());
    assert_eq!(listed.len(), 3);
    assert!(listed.iter().all(|a| a["keychain"] == true));
    // The password is in no file tasklane wrote: not the replica, its WAL,
    // nor anything else.
    assert_nowhere_on_disk(home.path(), "demo");
    for (name, bytes) in all_bytes(home.path()) {
        let s = String::from_utf8_lossy(&bytes);
        assert!(!s.contains("\"password\""), "{name}");
    }

    // A changed password replaces the keychain entry; the wrong one is
    // reported as a refused login.
    let out = run_with_stdin(
        &mut with_bus(&["account", "passwd", "bern", "--password-stdin"]),
        "wrong-password\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(keyring.item_count(), before + 3);
    let out = with_bus(&["account", "test", "bern"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("bern: the server refused the login"), "{err}");
    assert!(!err.contains("wrong-password"), "{err}");

    // Removing the account removes its keychain entry.
    let out = with_bus(&["account", "remove", "bern"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(keyring.item_count(), before + 2);
    assert_eq!(accounts_json(home.path()).len(), 2);

    let (_, log) = served.terminate();
    assert!(!log.contains("wrong-password"));
}

#[test]
fn without_a_keychain_the_command_says_so_and_password_env_serves_headless_use() {
    let server_home = tempfile::tempdir().unwrap();
    let served = Served::start(server_home.path(), &[]);
    let home = tempfile::tempdir().unwrap();
    let add = |extra: &[&str]| {
        let mut cmd = tasklane(home.path());
        cmd.args([
            "account",
            "add",
            "taipei",
            "--kind",
            "omflow",
            "--url",
            &served.url,
            "--user",
            "wang.xiaoming",
        ])
        .args(extra)
        .env("OMFLOW_PW", "demo");
        cmd
    };
    // No keychain and a password typed in: refused, nothing stored.
    let out = run_with_stdin(&mut add(&["--password-stdin"]), "demo\n");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let err = text(&out.stderr);
    assert!(err.contains("no keychain is available"), "{err}");
    assert!(err.contains("--password-env"), "{err}");
    assert!(accounts_json(home.path()).is_empty());

    // With --password-env: added, and said that nothing was stored.
    let out = add(&["--password-env", "OMFLOW_PW"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("the password was not stored"));
    let listed = accounts_json(home.path());
    assert_eq!(listed[0]["keychain"], false);

    // Testing needs the password again; without it the reason is exact.
    let out = tasklane(home.path())
        .args(["account", "test", "taipei"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("no password for account \"taipei\""),
        "{}",
        text(&out.stderr)
    );
    let out = tasklane(home.path())
        .args([
            "account",
            "test",
            "taipei",
            "--password-env",
            "OMFLOW_PW",
            "--json",
        ])
        .env("OMFLOW_PW", "demo")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let probe: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(probe["tasks"].as_u64().unwrap() >= 1, "{probe}");
    assert!(
        probe["sample"]
            .as_array()
            .unwrap()
            .iter()
            .all(Value::is_string)
    );
    assert_nowhere_on_disk(home.path(), "demo");

    // The wrong password: a refused login, said as such.
    let out = tasklane(home.path())
        .args(["account", "test", "taipei", "--password-env", "OMFLOW_PW"])
        .env("OMFLOW_PW", "not-the-password")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("refused the login"),
        "{}",
        text(&out.stderr)
    );

    // A server that is gone: said as such, quickly.
    drop(served);
    let out = tasklane(home.path())
        .args(["account", "test", "taipei", "--password-env", "OMFLOW_PW"])
        .env("OMFLOW_PW", "demo")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("cannot be reached"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_local_account_needs_no_server_and_no_password() {
    let home = tempfile::tempdir().unwrap();
    let out = tasklane(home.path())
        .args(["account", "add", "personal", "--kind", "local"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = tasklane(home.path())
        .args(["account", "test", "personal"])
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        stdout.contains("personal: logged in to the embedded engine as me"),
        "{stdout}"
    );
    assert!(stdout.contains("has 0 tasks"), "{stdout}");
    assert!(home.path().join("engine/engine.sqlite3").exists());
    let listed = accounts_json(home.path());
    assert_eq!(listed[0]["kind"], "local");
    assert_eq!(listed[0]["user"], "me");
}

#[test]
fn bad_settings_are_refused_with_exit_code_2_and_nothing_is_stored() {
    let home = tempfile::tempdir().unwrap();
    let pem = home.path().join("not-a-cert.pem");
    std::fs::write(&pem, "hello").unwrap();
    let pem = pem.to_str().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["--kind", "omflow", "--user", "u"], "--url is needed"),
        (
            &["--kind", "gever", "--url", "https://g.example"],
            "--user is needed",
        ),
        (
            &[
                "--kind",
                "omflow",
                "--url",
                "ftp://x.example",
                "--user",
                "u",
            ],
            "only http and https",
        ),
        (
            &[
                "--kind",
                "omflow",
                "--url",
                "https://u:p@x.example",
                "--user",
                "u",
            ],
            "must not contain a user name",
        ),
        (
            &[
                "--kind",
                "omflow",
                "--url",
                "https://x.example",
                "--user",
                "u",
                "--tz",
                "Mars/Olympus",
            ],
            "time_zone",
        ),
        (
            &[
                "--kind",
                "omflow",
                "--url",
                "https://x.example",
                "--user",
                "u",
                "--api-path",
                "nothing",
            ],
            "FLOW_UUID=PATH",
        ),
        (
            &[
                "--kind",
                "omflow",
                "--url",
                "https://x.example",
                "--user",
                "u",
                "--api-path",
                "zz=a/b",
            ],
            "not a flow uuid",
        ),
        (
            &[
                "--kind",
                "hitachi",
                "--url",
                "https://x.example",
                "--user",
                "u",
                "--ca-cert",
                pem,
            ],
            "not a PEM certificate",
        ),
        (
            &["--kind", "local", "--url", "https://x.example"],
            "no --url",
        ),
    ];
    for (extra, message) in cases {
        let out = run_with_stdin(
            tasklane(home.path())
                .args(["account", "add", "x"])
                .args(*extra)
                .arg("--password-stdin"),
            "pw\n",
        );
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {err}");
        assert!(err.contains(message), "{extra:?}: {err}");
    }
    assert!(accounts_json(home.path()).is_empty());
    // Unknown accounts are named.
    let out = tasklane(home.path())
        .args(["account", "test", "nope"])
        .output()
        .unwrap();
    assert!(text(&out.stderr).contains("nope"), "{}", text(&out.stderr));
}

#[test]
fn every_setting_of_account_add_is_kept_and_used() {
    let server_home = tempfile::tempdir().unwrap();
    let served = Served::start(server_home.path(), &[]);
    let home = tempfile::tempdir().unwrap();
    let add = |args: &[&str]| {
        let out = tasklane(home.path())
            .args(["account", "add"])
            .args(args)
            .args(["--url", &served.url, "--password-env", "PW"])
            .env("PW", "demo")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
    };
    let test = |name: &str| -> Value {
        let out = tasklane(home.path())
            .args(["account", "test", name, "--password-env", "PW", "--json"])
            .env("PW", "demo")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    // Hitachi: who tanaka works as, which lanes he sees and claims from,
    // in which order, and the server's time zone.
    add(&[
        "osaka",
        "--kind",
        "hitachi",
        "--user",
        "tanaka",
        "--participant",
        "tanaka",
        "--lane-filter",
        "Participant = 'Lane1'",
        "--sort",
        "Priority DESC",
        "--tz",
        "Asia/Tokyo",
    ]);
    // Without the lane filter only his own item is listed.
    add(&["osaka-own", "--kind", "hitachi", "--user", "tanaka"]);
    // OMFLOW: a flow's api_path and the server's time zone.
    add(&[
        "taipei",
        "--kind",
        "omflow",
        "--user",
        "wang.xiaoming",
        "--tz",
        "Asia/Taipei",
        "--api-path",
        "67d4cf9a-49cd-4341-90da-b899eb0219b1=payment-request",
    ]);
    // GEVER: the inboxes hans works from; an id that is no org unit is refused.
    add(&[
        "bern",
        "--kind",
        "gever",
        "--user",
        "hans.muster",
        "--inbox",
        "fd",
        "--inbox",
        "inbox:bau",
    ]);
    let out = tasklane(home.path())
        .args([
            "account",
            "add",
            "nowhere",
            "--kind",
            "gever",
            "--user",
            "hans.muster",
        ])
        .args([
            "--url",
            &served.url,
            "--password-env",
            "PW",
            "--inbox",
            "fd;DROP",
        ])
        .env("PW", "demo")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));

    let listed = accounts_json(home.path());
    let settings =
        |name: &str| listed.iter().find(|a| a["name"] == name).unwrap()["settings"].clone();
    assert_eq!(
        settings("osaka"),
        serde_json::json!({"participant": "tanaka", "lane_filter": "Participant = 'Lane1'",
            "sort": "Priority DESC", "time_zone": "Asia/Tokyo"})
    );
    assert_eq!(
        settings("taipei"),
        serde_json::json!({"time_zone": "Asia/Taipei",
            "api_paths": {"67d4cf9a49cd434190dab899eb0219b1": "payment-request"}})
    );
    assert_eq!(
        settings("bern"),
        serde_json::json!({"inboxes": ["fd", "bau"]})
    );
    assert!(!listed.iter().any(|a| a["name"] == "nowhere"));
    let lanes = test("osaka")["tasks"].as_u64().unwrap();
    let own = test("osaka-own")["tasks"].as_u64().unwrap();
    assert!(
        lanes > own,
        "the lane filter lists Lane1's items too: {lanes} vs {own}"
    );
    assert!(test("taipei")["tasks"].as_u64().unwrap() >= 1);
}

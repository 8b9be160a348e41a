//! Desktop notifications for real: `tasklane sync` calls `Notify` on a
//! private session D-Bus, where python-dbusmock plays the notification
//! daemon and dbus-monitor records the call.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on purpose

mod support;
use support::{NotificationBus, Served, succeed, tasklane};

fn run_ok(cmd: &mut std::process::Command) -> String {
    succeed(cmd.env("PW", "demo"))
}

#[test]
fn a_task_assigned_by_a_colleague_raises_one_notify_call_with_its_title() {
    let Some(bus) = NotificationBus::start() else {
        return;
    };
    let server_home = tempfile::tempdir().unwrap();
    let served = Served::start(server_home.path(), &[]);
    let url = format!("{}/gever", served.url);
    let hans = tempfile::tempdir().unwrap();
    let anna = tempfile::tempdir().unwrap();
    for (home, user) in [(hans.path(), "hans.muster"), (anna.path(), "anna.keller")] {
        run_ok(tasklane(home).args([
            "account",
            "add",
            "bern",
            "--kind",
            "gever",
            "--url",
            &url,
            "--user",
            user,
            "--password-env",
            "PW",
        ]));
    }
    let sync = |home: &std::path::Path| {
        let mut cmd = tasklane(home);
        cmd.args(["sync", "--password-env", "PW"])
            .env("DBUS_SESSION_BUS_ADDRESS", bus.address());
        run_ok(&mut cmd)
    };
    // Hans's first sync: everything is new, nothing is announced.
    sync(hans.path());
    sync(anna.path());
    // Anna files a task for Hans from her own tasklane.
    run_ok(tasklane(anna.path()).args([
        "create",
        "--account",
        "bern",
        "--title",
        "Stellungnahme Bauamt",
        "--assignee",
        "fd:hans.muster",
        "--deadline",
        "2026-12-24",
        "--process",
        "ordnungssystem/finanzen/dossier-2",
    ]));
    let out = sync(anna.path());
    assert!(out.contains("1 action sent"), "{out}");
    // Hans hears of it.
    sync(hans.path());
    let seen = bus.finish();
    let calls = seen.matches("member=Notify").count();
    assert_eq!(calls, 1, "{seen}");
    assert!(seen.contains("string \"tasklane\""), "{seen}");
    assert!(seen.contains("Stellungnahme Bauamt"), "{seen}");
    assert!(seen.contains("2026-12-24"), "{seen}");
}

//! What the CLI tests share: the real `tasklane` binary, a real
//! `tasklane serve --demo` on 127.0.0.1, and a private session D-Bus with
//! GNOME Keyring as the OS keychain. Every process started here is ended by
//! its PID when its handle drops.

#![allow(dead_code)] // each test file uses a different part

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The `tasklane` binary with its own home; the caller's environment
/// cannot leak in a home or a session bus.
pub fn tasklane(home: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tasklane"));
    cmd.arg("--home")
        .arg(home)
        .env_remove("TASKLANE_HOME")
        // No keychain unless a test brings one (see `SessionKeyring`).
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/tasklane-test-bus",
        );
    cmd
}

/// Runs `tasklane` with `stdin` fed to it.
pub fn run_with_stdin(cmd: &mut Command, stdin: &str) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A `tasklane serve --demo` on a free port, killed (by its PID) on drop.
pub struct Served {
    child: Option<Child>,
    pub url: String,
    stderr: Option<std::thread::JoinHandle<String>>,
}

impl Served {
    pub fn start(home: &Path, extra: &[&str]) -> Self {
        let mut child = tasklane(home)
            .args(["serve", "--addr", "127.0.0.1:0", "--demo"])
            .args(extra)
            .env("TASKLANE_LOG", "debug")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().expect("serve printed nothing").unwrap();
        let url = first
            .strip_prefix("tasklane serve: listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .to_string();
        // Keep draining both pipes so the server never blocks on a full one.
        std::thread::spawn(move || lines.for_each(drop));
        let mut err = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            err.read_to_string(&mut text).ok();
            text
        });
        Served {
            child: Some(child),
            url,
            stderr: Some(stderr),
        }
    }

    /// Sends SIGTERM and waits: the exit status and everything logged.
    pub fn terminate(mut self) -> (std::process::ExitStatus, String) {
        let mut child = self.child.take().unwrap();
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let exit = child.wait().unwrap();
        (exit, self.stderr.take().unwrap().join().unwrap())
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().ok();
            child.wait().ok();
        }
    }
}

/// A private session bus with GNOME Keyring serving the Secret Service
/// on it: the OS keychain as a desktop session has it, without touching
/// the user's own. `None` where the programs are not installed and the
/// run is not CI (CI installs them through scripts/test.sh, and there a
/// missing program fails the test).
pub struct SessionKeyring {
    bus: Child,
    keyring: Child,
    pub address: String,
    _home: tempfile::TempDir,
}

impl SessionKeyring {
    pub fn start() -> Option<Self> {
        let available = ["dbus-daemon", "gnome-keyring-daemon", "dbus-send"]
            .iter()
            .all(|p| {
                Command::new("which")
                    .arg(p)
                    .output()
                    .is_ok_and(|o| o.status.success())
            });
        if !available {
            assert!(
                std::env::var_os("CI").is_none(),
                "dbus-daemon, dbus-send and gnome-keyring-daemon must be installed (scripts/test.sh does)"
            );
            eprintln!("skipping: no dbus-daemon / gnome-keyring-daemon here");
            return None;
        }
        let home = tempfile::tempdir().unwrap();
        let mut bus = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--nopidfile", "--print-address=1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(bus.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let address = line.trim().to_string();
        assert!(address.starts_with("unix:"), "dbus-daemon said {line:?}");
        let runtime = home.path().join("run");
        std::fs::create_dir_all(&runtime).unwrap();
        let mut keyring = Command::new("gnome-keyring-daemon")
            .args(["--foreground", "--components=secrets", "--unlock"])
            .env("DBUS_SESSION_BUS_ADDRESS", &address)
            .env("HOME", home.path())
            .env("XDG_DATA_HOME", home.path().join("data"))
            .env("XDG_RUNTIME_DIR", &runtime)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // The login keyring is created with this password and unlocked.
        let mut stdin = keyring.stdin.take().unwrap();
        stdin.write_all(b"keyring-test-login").unwrap();
        drop(stdin);
        let started = SessionKeyring {
            bus,
            keyring,
            address,
            _home: home,
        };
        started.wait_for_secret_service();
        Some(started)
    }

    fn wait_for_secret_service(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let out = Command::new("dbus-send")
                .args([
                    &format!("--bus={}", self.address),
                    "--print-reply",
                    "--dest=org.freedesktop.DBus",
                    "/org/freedesktop/DBus",
                    "org.freedesktop.DBus.NameHasOwner",
                    "string:org.freedesktop.secrets",
                ])
                .output()
                .unwrap();
            if text(&out.stdout).contains("boolean true") {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "gnome-keyring-daemon did not take org.freedesktop.secrets"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Every secret item the keyring holds, as `secret-tool`-free proof:
    /// the attributes of each item under the login collection.
    pub fn item_count(&self) -> usize {
        let out = Command::new("dbus-send")
            .args([
                &format!("--bus={}", self.address),
                "--print-reply",
                "--dest=org.freedesktop.secrets",
                "/org/freedesktop/secrets/collection/login",
                "org.freedesktop.DBus.Properties.Get",
                "string:org.freedesktop.Secret.Collection",
                "string:Items",
            ])
            .output()
            .unwrap();
        text(&out.stdout)
            .matches("/org/freedesktop/secrets/collection/login/")
            .count()
    }
}

impl Drop for SessionKeyring {
    fn drop(&mut self) {
        for child in [&mut self.keyring, &mut self.bus] {
            child.kill().ok();
            child.wait().ok();
        }
    }
}

/// A private session bus with python-dbusmock's notification daemon on it,
/// and dbus-monitor recording every `Notify` call. `None` where the
/// programs are missing and the run is not CI.
pub struct NotificationBus {
    bus: Child,
    daemon: Child,
    monitor: Child,
    pub address: String,
    log: Option<std::thread::JoinHandle<String>>,
}

impl NotificationBus {
    pub fn start() -> Option<Self> {
        let mock = Command::new("/usr/bin/python3")
            .args(["-c", "import dbusmock"])
            .output()
            .is_ok_and(|o| o.status.success());
        let tools = ["dbus-daemon", "dbus-monitor", "dbus-send"]
            .iter()
            .all(|p| {
                Command::new("which")
                    .arg(p)
                    .output()
                    .is_ok_and(|o| o.status.success())
            });
        if !(mock && tools) {
            assert!(
                std::env::var_os("CI").is_none(),
                "dbus and python3-dbusmock must be installed (scripts/test.sh does)"
            );
            eprintln!("skipping: no python3-dbusmock / dbus tools here");
            return None;
        }
        let mut bus = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--nopidfile", "--print-address=1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(bus.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let address = line.trim().to_string();
        let daemon = Command::new("/usr/bin/python3")
            .args(["-m", "dbusmock", "--template", "notification_daemon"])
            .env("DBUS_SESSION_BUS_ADDRESS", &address)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut monitor = Command::new("dbus-monitor")
            .args([
                "--address",
                &address,
                "type='method_call',interface='org.freedesktop.Notifications',member='Notify'",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut out = monitor.stdout.take().unwrap();
        let log = std::thread::spawn(move || {
            let mut text = String::new();
            out.read_to_string(&mut text).ok();
            text
        });
        let started = NotificationBus {
            bus,
            daemon,
            monitor,
            address,
            log: Some(log),
        };
        started.wait_for("org.freedesktop.Notifications");
        Some(started)
    }

    fn wait_for(&self, name: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let out = Command::new("dbus-send")
                .args([
                    &format!("--bus={}", self.address),
                    "--print-reply",
                    "--dest=org.freedesktop.DBus",
                    "/org/freedesktop/DBus",
                    "org.freedesktop.DBus.NameHasOwner",
                    &format!("string:{name}"),
                ])
                .output()
                .unwrap();
            if text(&out.stdout).contains("boolean true") {
                // Give dbus-monitor a moment to register its match rule.
                std::thread::sleep(Duration::from_millis(200));
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{name} did not appear on the bus"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops everything and returns what dbus-monitor saw.
    pub fn finish(mut self) -> String {
        // Let the last call reach the monitor's output before it stops.
        std::thread::sleep(Duration::from_millis(300));
        self.stop();
        self.log
            .take()
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default()
    }

    fn stop(&mut self) {
        for child in [&mut self.monitor, &mut self.daemon, &mut self.bus] {
            child.kill().ok();
            child.wait().ok();
        }
    }
}

impl Drop for NotificationBus {
    fn drop(&mut self) {
        self.stop();
    }
}

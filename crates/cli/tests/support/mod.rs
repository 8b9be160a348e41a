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
    // A command that refuses its arguments exits before reading its input,
    // and the write then meets a closed pipe.
    if let Err(e) = child.stdin.take().unwrap().write_all(stdin.as_bytes()) {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
    }
    child.wait_with_output().unwrap()
}

/// Runs `cmd`, fails the test unless it succeeds, and returns its output.
pub fn succeed(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{cmd:?}: {}", text(&out.stderr));
    text(&out.stdout)
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

/// Whether `programs` are installed. Outside CI a missing one skips the
/// test; in CI (scripts/test.sh installs them) it fails it.
fn installed(programs: &[&str], python_module: Option<&str>) -> bool {
    let found = programs.iter().all(|p| {
        Command::new("which")
            .arg(p)
            .output()
            .is_ok_and(|o| o.status.success())
    }) && python_module.is_none_or(|m| {
        Command::new("/usr/bin/python3")
            .args(["-c", &format!("import {m}")])
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "{programs:?} {python_module:?} must be installed (scripts/test.sh does)"
        );
        eprintln!("skipping: {programs:?} {python_module:?} are not all installed here");
    }
    found
}

/// A private session D-Bus, ended (by its PID) on drop.
struct PrivateBus {
    daemon: Child,
    address: String,
}

impl PrivateBus {
    fn start() -> Self {
        let mut daemon = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--nopidfile", "--print-address=1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(daemon.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let address = line.trim().to_string();
        assert!(address.starts_with("unix:"), "dbus-daemon said {line:?}");
        PrivateBus { daemon, address }
    }

    /// Waits until some program owns `name` on the bus.
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
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{name} did not appear on the bus"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for PrivateBus {
    fn drop(&mut self) {
        self.daemon.kill().ok();
        self.daemon.wait().ok();
    }
}

/// A private session bus with GNOME Keyring serving the Secret Service
/// on it: the OS keychain as a desktop session has it, without touching
/// the user's own. `None` where the programs are not installed and the
/// run is not CI.
pub struct SessionKeyring {
    keyring: Child,
    bus: PrivateBus,
    _home: tempfile::TempDir,
}

impl SessionKeyring {
    pub fn start() -> Option<Self> {
        if !installed(&["dbus-daemon", "dbus-send", "gnome-keyring-daemon"], None) {
            return None;
        }
        let home = tempfile::tempdir().unwrap();
        let bus = PrivateBus::start();
        let runtime = home.path().join("run");
        std::fs::create_dir_all(&runtime).unwrap();
        let mut keyring = Command::new("gnome-keyring-daemon")
            .args(["--foreground", "--components=secrets", "--unlock"])
            .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
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
        bus.wait_for("org.freedesktop.secrets");
        Some(SessionKeyring {
            keyring,
            bus,
            _home: home,
        })
    }

    /// The session bus the keyring serves on.
    pub fn address(&self) -> &str {
        &self.bus.address
    }

    /// How many secret items the login collection holds (read over D-Bus,
    /// as proof of what tasklane stored there).
    pub fn item_count(&self) -> usize {
        let out = Command::new("dbus-send")
            .args([
                &format!("--bus={}", self.bus.address),
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
        // Before the bus (a field, dropped after this).
        self.keyring.kill().ok();
        self.keyring.wait().ok();
    }
}

/// A private session bus with python-dbusmock's notification daemon on it,
/// and dbus-monitor recording every `Notify` call. `None` where the
/// programs are missing and the run is not CI.
pub struct NotificationBus {
    daemon: Child,
    monitor: Child,
    bus: PrivateBus,
    log: Option<std::thread::JoinHandle<String>>,
}

impl NotificationBus {
    pub fn start() -> Option<Self> {
        if !installed(
            &["dbus-daemon", "dbus-monitor", "dbus-send"],
            Some("dbusmock"),
        ) {
            return None;
        }
        let bus = PrivateBus::start();
        let daemon = Command::new("/usr/bin/python3")
            .args(["-m", "dbusmock", "--template", "notification_daemon"])
            .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut monitor = Command::new("dbus-monitor")
            .args([
                "--address",
                &bus.address,
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
        bus.wait_for("org.freedesktop.Notifications");
        // Give dbus-monitor a moment to register its match rule.
        std::thread::sleep(Duration::from_millis(200));
        Some(NotificationBus {
            daemon,
            monitor,
            bus,
            log: Some(log),
        })
    }

    /// The session bus the notification daemon serves on.
    pub fn address(&self) -> &str {
        &self.bus.address
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
        for child in [&mut self.monitor, &mut self.daemon] {
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

#!/usr/bin/env bash
# The end-to-end tests in the real app window: tauri-driver starts
# WebKitGTK's WebDriver, which drives the production build of the app
# (the UI embedded), under a virtual X server in a private D-Bus session.
# Usage: tests/e2e/run.sh [FILE.test.mjs]...   (after cargo build -p tasklane-app -p tasklane)
#        TASKLANE_APP=path/to/tasklane-app tests/e2e/run.sh
#        TASKLANE_E2E_LOG=info tests/e2e/run.sh   (every WebDriver command logged)
source "$(dirname "$0")/../../scripts/lib/setup.sh"
cd "$TASKLANE_ROOT"

ensure_packages "${E2E_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
ensure_tauri_driver
npm_ci tests/e2e

export TASKLANE_APP="${TASKLANE_APP:-$TASKLANE_ROOT/target/debug/tasklane-app}"
[ -x "$TASKLANE_APP" ] || die "no app at $TASKLANE_APP: build it first (cargo build -p tasklane-app)"
export TAURI_DRIVER="$TAURI_DRIVER_BIN"
export TASKLANE_CLI="${TASKLANE_CLI:-$TASKLANE_ROOT/target/debug/tasklane}"
[ -x "$TASKLANE_CLI" ] || die "no CLI at $TASKLANE_CLI: build it first (cargo build -p tasklane)"
rm -rf target/e2e && mkdir -p target/e2e
# In the private session: a mock notification daemon (python-dbusmock,
# Debian's python3) that records Notify calls for the tests to assert, and
# xvfb-run -a on a free display. Each test file stops the driver's whole
# process group (and with it WebKitWebDriver and the app) after.
cd tests/e2e
files=("$@")
[ ${#files[@]} -gt 0 ] || files=(./*.test.mjs)
dbus-run-session -- bash -c '
  /usr/bin/python3 -m dbusmock --template notification_daemon >/dev/null 2>&1 &
  mock=$!
  trap "kill $mock 2>/dev/null" EXIT
  for _ in $(seq 100); do
    gdbus introspect --session --dest org.freedesktop.Notifications \
      --object-path /org/freedesktop/Notifications >/dev/null 2>&1 && break
    sleep 0.1
  done
  xvfb-run -a -s "-screen 0 1400x900x24" \
    node --test --test-concurrency=1 --test-reporter=spec "$@"
' bash "${files[@]}"

#!/usr/bin/env bash
# The end-to-end tests in the real app window: tauri-driver starts
# WebKitGTK's WebDriver, which drives the production build of the app
# (the UI embedded), under a virtual X server in a private D-Bus session.
# Usage: tests/e2e/run.sh     (after the app is built: cargo build -p tasklane-app)
#        TASKLANE_APP=path/to/tasklane-app tests/e2e/run.sh
source "$(dirname "$0")/../../scripts/lib/setup.sh"
cd "$TASKLANE_ROOT"

ensure_packages "${E2E_PACKAGES[@]}" dbus dbus-x11
ensure_tauri_driver
npm_ci tests/e2e

export TASKLANE_APP="${TASKLANE_APP:-$TASKLANE_ROOT/target/debug/tasklane-app}"
[ -x "$TASKLANE_APP" ] || die "no app at $TASKLANE_APP: build it first (cargo build -p tasklane-app)"
export TAURI_DRIVER="$TAURI_DRIVER_BIN"
rm -rf target/e2e && mkdir -p target/e2e
# xvfb-run -a picks a free display; each test file stops the driver's
# whole process group (and with it WebKitWebDriver and the app) after.
cd tests/e2e
dbus-run-session -- xvfb-run -a -s "-screen 0 1400x900x24" \
  node --test --test-concurrency=1 --test-reporter=spec ./*.test.mjs

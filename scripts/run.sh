#!/usr/bin/env bash
# Installs what is missing, builds tasklane and opens the desktop app on the
# demo: the embedded engine with demo data, serving OMFLOW, GEVER and
# Hitachi CSCIW on a loopback port, and the app signed in to each of them.
# Usage: scripts/run.sh            (demo data in target/demo-home)
#        TASKLANE_HOME=DIR scripts/run.sh
# Without a display (an SSH session, a container) it shows the demo inbox
# in the terminal instead.
source "$(dirname "$0")/lib/setup.sh"
cd "$TASKLANE_ROOT"

ensure_packages "${BUILD_PACKAGES[@]}" "${FONT_PACKAGES[@]}"
ensure_rust
ensure_node
npm_ci ui
build_ui

say "building tasklane (the app and the CLI)"
cargo build --release --locked -p tasklane -p tasklane-app
tasklane="$TASKLANE_ROOT/target/release/tasklane"
export TASKLANE_HOME="${TASKLANE_HOME:-$TASKLANE_ROOT/target/demo-home}"

if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; then
  say "opening the demo (its files are in $TASKLANE_HOME/app)"
  exec "$TASKLANE_ROOT/target/release/tasklane-app" --demo --home "$TASKLANE_HOME/app"
fi

say "no display: the demo inbox in the terminal instead"
say "loading the demo inbox into $TASKLANE_HOME"
"$tasklane" import demo/inbox.json

say "your inbox: tasklane list --exclude 'state in (closed, cancelled)'"
"$tasklane" list --exclude 'state in (closed, cancelled)'
say "searching in Chinese: tasklane list --search 審核"
"$tasklane" list --search 審核
say "searching in Japanese: tasklane list --search 作業"
"$tasklane" list --search 作業
first="$("$tasklane" list --search Baugesuch --json | sed -n 's/^ *"id": \([0-9]*\),$/\1/p' | head -n1)"
say "one task in full: tasklane show $first"
"$tasklane" show "$first"

cat <<MSG

Try it yourself (the demo lives in $TASKLANE_HOME):
  export TASKLANE_HOME="$TASKLANE_HOME"
  $tasklane list --where 'state = open' --order=-priority
  $tasklane list --search 見積 --json
  $tasklane --help
MSG

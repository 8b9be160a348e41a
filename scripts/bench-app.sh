#!/usr/bin/env bash
# Measures the desktop app: cold start to an interactive inbox and the
# resident memory of its process tree while scrolling, with 100,000 tasks
# next to an empty home (same run). Prints and writes
# target/bench-summary/app.json; docs/performance.md records the figures.
# Usage: scripts/bench-app.sh [TASKS]      (default 100000)
#        TASKLANE_PROFILE=release scripts/bench-app.sh   (default: debug build)
source "$(dirname "$0")/lib/setup.sh"
cd "$TASKLANE_ROOT"

tasks="${1:-100000}"
profile="${TASKLANE_PROFILE:-debug}"
ensure_packages "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}" "${E2E_PACKAGES[@]}" "${FONT_PACKAGES[@]}"
ensure_rust
ensure_node
ensure_tauri_driver
npm_ci ui
npm_ci tests/e2e
build_ui
if [ "$profile" = release ]; then
  cargo build --release --locked -p tasklane -p tasklane-app
else
  cargo build --locked -p tasklane -p tasklane-app
fi
bin="$TASKLANE_ROOT/target/$profile"

work="$TASKLANE_ROOT/target/bench-app"
rm -rf "$work" && mkdir -p "$work/full" "$work/empty"
say "generating $tasks tasks"
python3 - "$tasks" > "$work/tasks.json" <<'PY'
import json, random, sys
n = int(sys.argv[1]); rnd = random.Random(7)
words = ["Bericht", "Vertrag", "請款單", "審核", "見積書", "作業", "review", "invoice",
         "Baugesuch", "採購", "会議", "Protokoll", "budget", "出張", "Offerte"]
states = ["open", "in_progress", "open", "planned", "resolved", "closed"]
accounts = [
    {"name": "zurich", "kind": "gever", "base_url": "http://127.0.0.1:9/gever", "user_name": "hans.muster", "settings": {}},
    {"name": "taipei", "kind": "omflow", "base_url": "http://127.0.0.1:9/", "user_name": "wang.xiaoming", "settings": {}},
    {"name": "tokyo", "kind": "hitachi", "base_url": "http://127.0.0.1:9/", "user_name": "tanaka", "settings": {}},
]
tasks = []
for i in range(n):
    a = accounts[i % 3]
    day = 1 + i % 28
    tasks.append({
        "account": a["name"], "key": f"k{i}",
        "title": " ".join(rnd.choice(words) for _ in range(3)) + f" #{i}",
        "state": rnd.choice(states), "deadline": f"2026-12-{day:02d}",
        "priority": i % 5, "created": "2026-11-01T08:00:00Z", "modified": "2026-11-20T08:00:00Z",
        "assignee": a["user_name"] if i % 4 else None, "group": "fd" if i % 4 == 0 else None,
    })
json.dump({"format": "tasklane-tasks", "version": 1, "accounts": accounts, "tasks": tasks}, sys.stdout, ensure_ascii=False)
PY
"$bin/tasklane" --home "$work/full" import "$work/tasks.json"

export TASKLANE_APP="$bin/tasklane-app" TAURI_DRIVER="$TAURI_DRIVER_BIN"
say "measuring ($profile build)"
(cd tests/e2e && dbus-run-session -- xvfb-run -a -s "-screen 0 1400x900x24" \
  node bench-app.mjs "$work/full" "$work/empty")

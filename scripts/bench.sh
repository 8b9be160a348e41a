#!/usr/bin/env bash
# Runs the benchmarks at full size and prints the summary that
# docs/performance.md records. Takes a few minutes.
# Usage: scripts/bench.sh [criterion filter]
source "$(dirname "$0")/lib/setup.sh"
cd "$TASKLANE_ROOT"

ensure_packages "${BUILD_PACKAGES[@]}"
ensure_rust

cargo bench --locked -p tasklane-core --bench replica -- "$@"
say "summary written to target/bench-summary/replica.json"
cargo bench --locked -p tasklane-engine --bench serve -- "$@"
say "summary written to target/bench-summary/serve.json"

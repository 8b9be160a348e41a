#!/usr/bin/env bash
# Installs what is missing and runs every check and test tasklane has.
# Usage: scripts/test.sh
source "$(dirname "$0")/lib/setup.sh"
cd "$TASKLANE_ROOT"

ensure_packages "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}" "${E2E_PACKAGES[@]}" "${FONT_PACKAGES[@]}" dpkg-dev
ensure_rust
ensure_node
ensure_python_requests
npm_ci ui

started=$SECONDS
# Each step says when it started, so a slow CI run shows where the time went.
step() { say "$* [$((SECONDS - started)) s]"; }
# The app embeds the UI's bundle, so it is built before any Rust step.
build_ui

step "format (cargo fmt --check)"
cargo fmt --all --check

step "lint (cargo clippy -D warnings)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "tests"
cargo test --workspace --locked

# The benchmarks run once each (the replica's on a small replica), so a
# broken benchmark fails here; scripts/bench.sh runs them at full size.
step "benchmarks (smoke run)"
# --workspace, not -p: with one package selected Cargo unifies features
# differently and rebuilds half the dependencies.
TASKLANE_BENCH_TASKS=2000 cargo test --workspace --locked --bench '*'

step "UI: type checks (svelte-check, strict)"
(cd ui && npm run --silent check)

step "UI: component tests"
(cd ui && npm test --silent)

step "end-to-end: the real app window (tests/e2e)"
tests/e2e/run.sh

step "packaging: the .deb (debug build) and what is in it"
scripts/package.sh --debug
tests/package/check-deb.sh target/debug/bundle/deb/tasklane_*_amd64.deb

say "all checks passed in $((SECONDS - started)) s"

#!/usr/bin/env bash
# Builds tasklane's Debian package (.deb) with the Tauri bundler; no
# AppImage (its bundler downloads tools from the internet).
# Usage: scripts/package.sh            release build: target/release/bundle/deb/
#        scripts/package.sh --debug    debug build (fast; what the tests check)
source "$(dirname "$0")/lib/setup.sh"
cd "$TASKLANE_ROOT"

profile=release
flags=()
if [ "${1:-}" = "--debug" ]; then
  profile=debug
  flags=(--debug)
fi

ensure_packages "${BUILD_PACKAGES[@]}" dpkg-dev
ensure_rust
ensure_node
npm_ci ui
npm_ci scripts/packaging
build_ui

say "bundling the .deb ($profile)"
# The Tauri CLI, pinned in scripts/packaging/package-lock.json.
(cd src-tauri && node ../scripts/packaging/tauri.cjs build "${flags[@]}" --bundles deb --ci)
ls "$TASKLANE_ROOT/target/$profile/bundle/deb/"*.deb

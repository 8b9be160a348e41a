#!/usr/bin/env bash
# Builds tasklane's Debian package (.deb) with the Tauri bundler; no
# AppImage (its bundler downloads tools from the internet).
# Usage: scripts/package.sh            release build: target/release/bundle/deb/
#        scripts/package.sh --debug    debug build (fast; what the tests check)
#
# The debug package bundles the binary the test build made (the one the
# end-to-end tests drove). `tauri build` would build the app on its own, and
# with other packages and targets selected Cargo unifies dependency features
# differently and compiles much of the Tauri/WebKit stack a second time.
source "$(dirname "$0")/lib/setup.sh"
cd "$TASKLANE_ROOT"

profile=release
[ "${1:-}" = "--debug" ] && profile=debug

ensure_packages "${BUILD_PACKAGES[@]}" dpkg-dev
ensure_rust
ensure_node
npm_ci ui
npm_ci scripts/packaging
build_ui

say "bundling the .deb ($profile)"
# The Tauri CLI, pinned in scripts/packaging/package-lock.json.
tauri() { (cd src-tauri && node ../scripts/packaging/tauri.cjs "$@"); }
if [ "$profile" = debug ]; then
  cargo test --workspace --locked --no-run
  tauri bundle --debug --bundles deb --ci
else
  tauri build --bundles deb --ci
fi
ls "$TASKLANE_ROOT/target/$profile/bundle/deb/"*.deb

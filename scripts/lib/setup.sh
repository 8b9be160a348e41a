# Shared by scripts/run.sh and scripts/test.sh: install what is missing,
# from the distribution's packages and the language registries only.
# Idempotent: a second run finds everything present and changes nothing.

set -euo pipefail

TASKLANE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export TASKLANE_ROOT

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Runs a command as root: directly when we are root, else through sudo.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "need root to run: $* (install sudo or run as root)"
  fi
}

APT_UPDATED=0

# ensure_packages PKG...: installs the Debian/Ubuntu packages not yet installed.
ensure_packages() {
  if ! command -v dpkg-query >/dev/null 2>&1; then
    say "not a Debian/Ubuntu system: make sure these are installed: $*"
    return 0
  fi
  local missing=()
  for pkg in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$pkg")
    fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing system packages: ${missing[*]}"
  if [ "$APT_UPDATED" -eq 0 ]; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    APT_UPDATED=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# ensure_rust: cargo, plus rustfmt and clippy for the checks.
ensure_rust() {
  if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
  fi
  command -v cargo >/dev/null 2>&1 || die "Rust is not installed: see https://rustup.rs (tasklane needs Rust 1.95 or newer)"
  local have want="1.95.0"
  have="$(rustc --version | awk '{print $2}')"
  if [ "$(printf '%s\n%s\n' "$want" "$have" | sort -V | head -n1)" != "$want" ]; then
    die "tasklane needs Rust $want or newer, found $have"
  fi
  for component in rustfmt clippy; do
    if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
      command -v rustup >/dev/null 2>&1 || die "cargo $component is missing and rustup is not available"
      say "adding the Rust component $component"
      rustup component add "$component"
    fi
  done
}

# The system packages every build needs: a C compiler for the bundled
# SQLite, and what the desktop app (Tauri 2 on WebKitGTK) links against.
BUILD_PACKAGES=(build-essential pkg-config libwebkit2gtk-4.1-dev libssl-dev
  libayatana-appindicator3-dev librsvg2-dev)
# What the tests run for real: a private session D-Bus with GNOME Keyring
# as the Secret Service (the OS keychain), and a mock notification daemon.
TEST_PACKAGES=(dbus dbus-x11 gnome-keyring python3-dbusmock)
# What the end-to-end tests drive the real app window with: WebKitGTK's
# WebDriver under a virtual X server.
E2E_PACKAGES=(webkit2gtk-driver xvfb xauth)
# Glyphs for the Chinese and Japanese the demo data (and the UI's own
# translations) are written in; a minimal Debian has none and shows boxes.
FONT_PACKAGES=(fonts-noto-cjk)

# ensure_node: Node.js 20.19+ with npm, for the UI (ui/). Debian's own nodejs
# is too old for Vite, so a missing or old Node is an error with directions
# rather than an install from outside the package registries.
ensure_node() {
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    die "Node.js 20.19 or newer with npm is needed for the UI: see https://nodejs.org (or your distribution's nodejs 20+ package)"
  fi
  local have want="20.19.0"
  have="$(node --version | sed 's/^v//')"
  if [ "$(printf '%s\n%s\n' "$want" "$have" | sort -V | head -n1)" != "$want" ]; then
    die "the UI needs Node.js $want or newer, found $have"
  fi
}

# npm_ci DIR: installs DIR's npm packages exactly as its lockfile says, when
# they are missing or the lockfile changed since the last install.
npm_ci() {
  local dir="$1" stamp="$1/node_modules/.tasklane-lock"
  if [ -f "$stamp" ] && cmp -s "$dir/package-lock.json" "$stamp"; then
    return 0
  fi
  say "installing npm packages in $dir"
  (cd "$dir" && npm ci --no-audit --no-fund)
  cp "$dir/package-lock.json" "$stamp"
}

# ensure_python_requests: python3 with `requests`, which the OMFLOW vendor's
# own Python sample needs (a test runs it against `tasklane serve`).
# Debian's python3 gets Debian's package; another python3 on PATH (pyenv,
# a venv) gets the pinned release from PyPI.
ensure_python_requests() {
  command -v python3 >/dev/null 2>&1 || ensure_packages python3
  python3 -c 'import requests' 2>/dev/null && return 0
  if [ "$(command -v python3)" = /usr/bin/python3 ]; then
    ensure_packages python3-requests
  else
    say "installing the Python package requests"
    python3 -m pip install --quiet --disable-pip-version-check 'requests==2.32.5'
  fi
  python3 -c 'import requests' || die "python3 cannot import requests"
}

# build_ui: the UI's production bundle in ui/dist, which the app embeds
# (a Rust build of src-tauri needs it to exist).
build_ui() {
  say "building the UI (ui/dist)"
  (cd "$TASKLANE_ROOT/ui" && npm run --silent build)
}

# ensure_tauri_driver: tauri-driver (the WebDriver front for Tauri apps),
# built from crates.io into target/tools; sets TAURI_DRIVER_BIN.
TAURI_DRIVER_VERSION=2.1.0
ensure_tauri_driver() {
  local root="$TASKLANE_ROOT/target/tools"
  TAURI_DRIVER_BIN="$root/bin/tauri-driver"
  if [ -x "$TAURI_DRIVER_BIN" ] && "$TAURI_DRIVER_BIN" --help >/dev/null 2>&1; then
    return 0
  fi
  say "installing tauri-driver $TAURI_DRIVER_VERSION"
  cargo install --quiet --locked --root "$root" tauri-driver --version "$TAURI_DRIVER_VERSION"
}

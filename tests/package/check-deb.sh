#!/usr/bin/env bash
# Checks a tasklane .deb: its control data, and — unpacked into a scratch
# root — the binary (which must run), the desktop entry and the icons.
# Usage: tests/package/check-deb.sh PATH.deb
set -euo pipefail
deb="${1:?usage: check-deb.sh PATH.deb}"
fail() { printf 'check-deb: %s\n' "$*" >&2; exit 1; }

field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = tasklane ] || fail "Package is $(field Package)"
[ "$(field Architecture)" = amd64 ] || fail "Architecture is $(field Architecture)"
for dep in libwebkit2gtk-4.1-0 libgtk-3-0 libayatana-appindicator3-1; do
  field Depends | grep -q "$dep" || fail "Depends lacks $dep: $(field Depends)"
done

root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
dpkg-deb -x "$deb" "$root"

bin="$root/usr/bin/tasklane-app"
[ -x "$bin" ] || fail "no executable usr/bin/tasklane-app"
"$bin" --help | grep -q -- "--demo" || fail "usr/bin/tasklane-app --help does not run"

desktop="$root/usr/share/applications/tasklane.desktop"
[ -f "$desktop" ] || fail "no desktop entry"
grep -q '^Exec=tasklane-app' "$desktop" || fail "the desktop entry does not start tasklane-app"
grep -q '^Icon=tasklane-app' "$desktop" || fail "the desktop entry names no icon"
grep -q '^Type=Application' "$desktop" || fail "the desktop entry is not an application"

for size in 32x32 128x128 512x512; do
  icon="$root/usr/share/icons/hicolor/$size/apps/tasklane-app.png"
  [ -f "$icon" ] || fail "no $size icon"
  head -c 8 "$icon" | od -An -tx1 | grep -q "89 50 4e 47" || fail "the $size icon is not a PNG"
done
echo "check-deb: $(basename "$deb") has the binary, the desktop entry and the icons"

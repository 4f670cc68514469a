#!/usr/bin/env bash
# The desktop app in a real window: builds the real cgo binary (X11 build), then, under Xvfb and a
# private D-Bus session, runs it against a real server, a real agent service and simulated printers
# (the Go helper gui/xvfbtest, build tag xvfb), captures every screen with
# `xwd -root -silent | /usr/bin/convert xwd:- …` into docs/screenshots/gui-*.png, fails if a capture is
# blank, and prints the app's idle RSS. Exits non-zero on any failure. See docs/gui.md.
set -euo pipefail
cd "$(dirname "$0")/../.."

for tool in xvfb-run dbus-run-session xwd /usr/bin/convert; do
  command -v "$tool" >/dev/null || { echo "50-gui-xvfb: $tool is missing (scripts/install-deps.sh)" >&2; exit 1; }
done

# Keep Go's caches where they are although the run below gets a throwaway HOME.
export GOCACHE="$(go env GOCACHE)" GOMODCACHE="$(go env GOMODCACHE)" GOPATH="$(go env GOPATH)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=docs/screenshots
mkdir -p "$out"
rm -f "$out"/gui-*.png

# -tags x11: Fyne 2.8 also builds its Wayland backend by default, which needs Wayland headers that
# these machines do not have; the X11 build runs on X11 and under XWayland.
echo "50-gui-xvfb: building the printdock binary (cgo; cold build ~3 min)"
go build -tags x11 -o "$tmp/printdock" ./cmd/printdock

echo "50-gui-xvfb: capturing screens under Xvfb"
LANG=en_US.UTF-8 HOME="$tmp" dbus-run-session -- \
  xvfb-run -a -s "-screen 0 1280x800x24" \
  go test -tags xvfb -count=1 -timeout 10m -run TestScreenshots -v ./gui/xvfbtest \
  -args -binary "$tmp/printdock" -out "$PWD/$out" 2>&1 | tee "$tmp/run.log"
status=${PIPESTATUS[0]}
if [ "$status" -ne 0 ]; then
  echo "50-gui-xvfb: the screenshot run failed" >&2
  exit "$status"
fi

# Independent check of what landed on disk: every expected screen exists and is not blank.
fail=0
for name in signin status printers jobs settings logged-out inprocess; do
  f="$out/gui-$name.png"
  if [ ! -s "$f" ]; then
    echo "50-gui-xvfb: $f is missing" >&2
    fail=1
    continue
  fi
  sd=$(/usr/bin/convert "$f" -format '%[fx:standard_deviation]' info:)
  size=$(/usr/bin/convert "$f" -format '%wx%h' info:)
  if awk -v s="$sd" 'BEGIN { exit !(s < 0.02) }'; then
    echo "50-gui-xvfb: $f is blank (standard deviation $sd)" >&2
    fail=1
  else
    echo "50-gui-xvfb: $f ${size} std dev $sd"
  fi
done
grep -h "idle RSS" "$tmp/run.log" || { echo "50-gui-xvfb: no RSS measurement" >&2; fail=1; }
exit "$fail"

#!/usr/bin/env bash
# The whole printdock test suite on a fresh Debian 12 machine with Go 1.26: installs what it needs,
# then runs every test against real parts (SQLite, PostgreSQL, Secret Service, Chromium, Xvfb, QEMU).
# A missing real part fails the run (PRINTDOCK_REQUIRE_REAL=1) instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."
export PRINTDOCK_REQUIRE_REAL="${PRINTDOCK_REQUIRE_REAL:-1}"
start=$(date +%s)
step() { printf '\n=== %s (%ss)\n' "$*" "$(( $(date +%s) - start ))"; }

step "apt packages"
scripts/install-deps.sh

# Keep Go's caches where they are even though the keyring session below gets a throwaway HOME.
export GOCACHE="$(go env GOCACHE)" GOMODCACHE="$(go env GOMODCACHE)" GOPATH="$(go env GOPATH)"

step "gofmt and go vet"
unformatted=$(gofmt -l $(git ls-files '*.go') 2>/dev/null || true)
if [ -n "$unformatted" ]; then echo "gofmt needed: $unformatted"; exit 1; fi
go vet ./...
GOOS=windows CGO_ENABLED=0 go vet ./protocol/... ./printer/... ./keystore/... ./agent/... ./cmd/printdock-agent/ ./cmd/printdock-server/
GOOS=windows CGO_ENABLED=0 go build -o /dev/null ./cmd/printdock-agent
# The Windows desktop app (cgo with mingw-w64; docs/windows.md)
CC=x86_64-w64-mingw32-gcc CGO_ENABLED=1 GOOS=windows go vet ./cmd/printdock/ ./gui/...

tmp=$(mktemp -d); chmod 755 "$tmp"
cleanup() { [ -x scripts/pg-throwaway.sh ] && scripts/pg-throwaway.sh stop "$tmp/pg" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

if [ -x scripts/pg-throwaway.sh ]; then
  step "throwaway PostgreSQL"
  PRINTDOCK_TEST_POSTGRES_URL=$(scripts/pg-throwaway.sh start "$tmp/pg")
  export PRINTDOCK_TEST_POSTGRES_URL
fi

step "go test -race ./... (inside a D-Bus session with an unlocked gnome-keyring)"
mkdir -p "$tmp/home"
HOME="$tmp/home" dbus-run-session -- sh -c \
  'echo -n pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null && exec go test -race -timeout 15m -count=1 ./...'

for s in scripts/test.d/*.sh; do
  [ -e "$s" ] || continue
  step "$s"
  "$s"
done
step "all tests passed"

#!/usr/bin/env bash
# The chaos suite's short form (cmd/printdock-chaos --short): real printdock-server and printdock-agent
# processes, simulated printers over tcp://, and one fault per scenario (kill -9 of the server, a
# PostgreSQL restart, a link cut in a network namespace, full disks on tmpfs, a replica killed behind
# nginx). Each scenario counts what the printers received: every accepted job exactly once, no refused
# job. Needs root (network namespaces, tmpfs mounts), iproute2, nginx and PostgreSQL
# (scripts/install-deps.sh); without root it fails when PRINTDOCK_REQUIRE_REAL=1 (the test command) and
# otherwise says it skipped. Bounded: the whole run is killed after PRINTDOCK_CHAOS_TIMEOUT (300 s).
set -euo pipefail
cd "$(dirname "$0")/../.."
name=80-chaos
limit=${PRINTDOCK_CHAOS_TIMEOUT:-300}
# A missing part fails the test command (PRINTDOCK_REQUIRE_REAL=1) and is a skip elsewhere.
skip() {
	[ "${PRINTDOCK_REQUIRE_REAL:-}" != 1 ] || { echo "$name: FAIL: $* (PRINTDOCK_REQUIRE_REAL=1)" >&2; exit 1; }
	echo "$name: SKIP: $*"; exit 0
}
[ "$(id -u)" -eq 0 ] || skip "needs root for network namespaces and tmpfs mounts"
command -v ip >/dev/null || skip "ip missing (apt install iproute2)"
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || skip "nginx missing (apt install nginx)"
ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 || skip "PostgreSQL server binaries missing (apt install postgresql)"
start=$(date +%s)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/printdock-chaos.XXXXXX")
chmod 755 "$tmp" # PostgreSQL runs as the postgres user under it
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/printdock-chaos" ./cmd/printdock-chaos
set +e
timeout --kill-after=10 "$limit" "$tmp/printdock-chaos" --short --keep "$tmp/run" >"$tmp/table.md"
rc=$?
set -e
cat "$tmp/table.md"
if [ "$rc" -ne 0 ]; then
	for f in "$tmp"/run/*/*.log; do
		[ -f "$f" ] && { echo "--- $f (tail)"; tail -n 20 "$f"; }
	done
	[ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] && echo "$name: FAIL: did not finish within ${limit}s" >&2
	echo "$name: FAIL (exit $rc)" >&2
	exit 1
fi
echo "$name: ok in $(( $(date +%s) - start ))s"

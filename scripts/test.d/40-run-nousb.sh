#!/usr/bin/env bash
# `make run` with only Go (README): a fresh clone of the committed HEAD runs the README's run command
# non-interactively (PRINTDOCK_RUN_ONCE=1) with libusb's headers and its pkg-config entry hidden in a
# private mount namespace (unshare -m; bind mounts over /usr/include/libusb-1.0 and over the pkg-config
# directory, whose copy lacks libusb-1.0.pc), a fresh data directory and a free port. It passes when the
# build says once that it drops USB support, the binaries carry the nousb tag, the first label printed
# and its preview PNG exists, all within a bounded time. The Go build and module caches stay warm: only
# libusb is hidden. Exits non-zero on failure; without unshare (util-linux) or the right to make a mount
# namespace it fails when PRINTDOCK_REQUIRE_REAL=1 (the test command) and otherwise says it skipped.
set -euo pipefail
cd "$(dirname "$0")/../.."
start=$(date +%s)
name=40-run-nousb
limit=${PRINTDOCK_RUN_NOUSB_TIMEOUT:-600}

skip() {
	if [ "${PRINTDOCK_REQUIRE_REAL:-}" = 1 ]; then
		echo "$name: FAIL: $* (PRINTDOCK_REQUIRE_REAL=1)" >&2
		exit 1
	fi
	echo "$name: SKIP: $*"
	exit 0
}
fail() { echo "$name: FAIL: $*" >&2; exit 1; }

command -v unshare >/dev/null || skip "unshare missing (apt install util-linux)"
command -v make >/dev/null || skip "make missing (apt install make)"
ns=(unshare -m --propagation private)
[ "$(id -u)" -eq 0 ] || ns=(unshare -r -m --propagation private)
"${ns[@]}" true 2>/dev/null || skip "cannot create a mount namespace here (${ns[*]})"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/printdock-run-nousb.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
head=$(git rev-parse HEAD)
git clone --quiet --no-checkout "$PWD" "$tmp/repo"
git -C "$tmp/repo" checkout --quiet --detach "$head"

# A port nobody listens on.
port=""
for _ in $(seq 1 50); do
	p=$((20000 + RANDOM % 30000))
	if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then port=$p; break; fi
done
[ -n "$port" ] || fail "no free port found"

# What hides libusb: an empty directory for the headers, a copy of the pkg-config directory without
# libusb-1.0.pc for its entry. Where libusb is not installed there is nothing to hide.
pcdir=$(pkg-config --variable=pcfiledir libusb-1.0 2>/dev/null || true)
mkdir -p "$tmp/empty" "$tmp/pc"
if [ -n "$pcdir" ]; then
	cp -a "$pcdir/." "$tmp/pc/"
	rm -f "$tmp/pc/libusb-1.0.pc"
fi

cat >"$tmp/inner.sh" <<'INNER'
set -euo pipefail
[ -d /usr/include/libusb-1.0 ] && mount --bind "$TMPD/empty" /usr/include/libusb-1.0
[ -n "$PCDIR" ] && mount --bind "$TMPD/pc" "$PCDIR"
if pkg-config --exists libusb-1.0 || [ -e /usr/include/libusb-1.0/libusb.h ]; then
	echo "libusb still visible inside the namespace" >&2
	exit 97
fi
cd "$TMPD/repo"
exec make run
INNER

log=$tmp/run.log
set +e
TMPD=$tmp PCDIR=$pcdir GOCACHE=$(go env GOCACHE) GOMODCACHE=$(go env GOMODCACHE) \
	PRINTDOCK_RUN_ONCE=1 PRINTDOCK_DATA="$tmp/data" PRINTDOCK_LISTEN="127.0.0.1:$port" PRINTDOCK_ADMIN_KEY= \
	timeout --kill-after=10 "$limit" "${ns[@]}" bash "$tmp/inner.sh" </dev/null >"$log" 2>&1
rc=$?
set -e
sed 's/^/  | /' "$log"
[ "$rc" -ne 124 ] && [ "$rc" -ne 137 ] || fail "make run did not finish within ${limit}s"
[ "$rc" -eq 0 ] || fail "make run exited $rc"
n=$(grep -c "building without USB printer support" "$log" || true)
[ "$n" -eq 1 ] || fail "the build said $n times (want once) that it drops USB support"
for b in printdock-server printdock-agent; do
	go version -m "$tmp/repo/bin/$b" | grep -q -- '-tags=nousb' || fail "bin/$b was not built with the nousb tag"
done
grep -q "First label:  job .* printed on sim://demo" "$log" || fail "no first label in the output"
png=$tmp/data/first-label.png
[ -s "$png" ] || fail "no preview at $png"
[ "$(head -c 8 "$png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "$png is not a PNG"
echo "$name: ok: first label and preview ($(stat -c %s "$png") bytes) without libusb, in $(( $(date +%s) - start ))s"

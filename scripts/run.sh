#!/usr/bin/env bash
# Runs the product on this machine, end to end (`make run`):
#   1. printdock-server on its embedded SQLite default (127.0.0.1:8080, data in ./printdock-data);
#      on an empty store it creates the first portal and administrator and keeps the bootstrap
#      credentials in ./printdock-data/demo-admin.json (mode 0600) for later runs;
#   2. a print client secret issued through the REST API, and printdock-agent logged in with it (the secret
#      goes through stdin only; file keystore in ./printdock-data/agent);
#   3. printdock-agent with a simulated Zebra (sim://demo);
#   4. a first label submitted through the REST API, waited for until it is done, and its PNG preview.
# Ctrl-C stops the agent and the server. Needs only Go (and bash, coreutils): no curl, no jq.
#
# Environment: PRINTDOCK_LISTEN (default 127.0.0.1:8080), PRINTDOCK_DATA (default ./printdock-data),
# PRINTDOCK_ADMIN_KEY (an administrator's API key, for a data directory this script did not create),
# PRINTDOCK_RUN_ONCE=1 (non-interactive: stop the agent and the server and exit 0 once the first label
# printed and its preview is written; for tests and CI).
# Without libusb's headers (pkg-config libusb-1.0, Debian's libusb-1.0-0-dev) the binaries are built
# without USB printer support (the nousb build tag), which this script says in one line.
set -euo pipefail
cd "$(dirname "$0")/.."

LISTEN=${PRINTDOCK_LISTEN:-127.0.0.1:8080}
DATA=${PRINTDOCK_DATA:-./printdock-data}
HOST=${LISTEN%:*}
PORT=${LISTEN##*:}
BASE="http://$LISTEN"
AGENT_DIR="$DATA/agent"
ADMIN_FILE="$DATA/demo-admin.json"
PRINTER_URI="sim://demo"

say() { printf '\033[1mrun:\033[0m %s\n' "$*"; }
die() { printf 'run: %s\n' "$*" >&2; exit 1; }

# http METHOD PATH [BODY] — one request over bash's /dev/tcp (HTTP/1.0: no chunked answers). Sets
# HTTP_STATUS and HTTP_BODY. The bearer is $ADMIN_KEY; it never appears in a command line.
http() {
	local method=$1 path=$2 body=${3:-} resp
	exec 3<>"/dev/tcp/$HOST/$PORT" || return 1
	{
		printf '%s %s HTTP/1.0\r\nHost: %s\r\n' "$method" "$path" "$LISTEN"
		[ -n "${ADMIN_KEY:-}" ] && printf 'Authorization: Bearer %s\r\n' "$ADMIN_KEY"
		if [ -n "$body" ]; then
			printf 'Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s' "${#body}" "$body"
		else
			printf '\r\n'
		fi
	} >&3
	resp=$(cat <&3)
	exec 3<&-
	# The status from the first line by parameter expansion: a pipe into head would end the writer with
	# SIGPIPE (status 141 under pipefail) whenever head exits before a large answer is written.
	local first=${resp%%$'\r\n'*}
	first=${first#* }
	HTTP_STATUS=${first%% *}
	HTTP_BODY=${resp#*$'\r\n\r\n'}
}

# field NAME — the first string or scalar value of "NAME" in the JSON on stdin.
# (sed reads all its input and bash keeps the first line: a pipe into head, or a sed that quits early,
# could end the writer before it with SIGPIPE, status 141 under pipefail.)
field() {
	local v
	v=$(sed -n "s/.*\"$1\": *\"\{0,1\}\([^\",}]*\)\"\{0,1\}.*/\1/p")
	if [ -n "$v" ]; then printf '%s\n' "${v%%$'\n'*}"; fi
}

mkdir -p bin
say "building printdock-server and printdock-agent"
TAGS=()
if ! pkg-config --exists libusb-1.0 2>/dev/null; then
	say "libusb-1.0 headers not found (apt install libusb-1.0-0-dev): building without USB printer support"
	TAGS=(-tags nousb)
fi
go build "${TAGS[@]}" -o bin/ ./cmd/printdock-server ./cmd/printdock-agent

umask 077
mkdir -p "$DATA"
chmod 700 "$DATA"

# 1. The server. An empty store gets its first portal and administrator now; the credentials are kept
# for later runs of this demo (readable by this user only; delete the file once you have stored them).
if [ ! -f "$DATA/printdock.db" ]; then
	say "empty store: creating the first portal and administrator"
	bin/printdock-server init --data-dir "$DATA" --admin-email admin@localhost --json >"$ADMIN_FILE.tmp"
	mv "$ADMIN_FILE.tmp" "$ADMIN_FILE"
	chmod 600 "$ADMIN_FILE"
fi
if [ -z "${PRINTDOCK_ADMIN_KEY:-}" ] && [ ! -f "$ADMIN_FILE" ]; then
	die "$DATA has a store this script did not create: set PRINTDOCK_ADMIN_KEY to an administrator's API key (or move $DATA away)"
fi
ADMIN_KEY=${PRINTDOCK_ADMIN_KEY:-$(field admin_api_key <"$ADMIN_FILE")}

PIDS=()
cleanup() {
	trap - INT TERM EXIT
	if [ ${#PIDS[@]} -gt 0 ]; then
		say "stopping"
		kill -TERM "${PIDS[@]}" 2>/dev/null || true
		wait "${PIDS[@]}" 2>/dev/null || true
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if http GET /healthz 2>/dev/null; then
	die "something already listens on $LISTEN (another make run?); stop it or set PRINTDOCK_LISTEN"
fi
bin/printdock-server serve --data-dir "$DATA" --listen "$LISTEN" 2>>"$DATA/server.log" &
PIDS+=($!)
say "server starting on $BASE (log: $DATA/server.log)"
for _ in $(seq 1 200); do
	if http GET /healthz 2>/dev/null && [ "$HTTP_STATUS" = 200 ]; then break; fi
	kill -0 "${PIDS[0]}" 2>/dev/null || die "the server did not start; see $DATA/server.log"
	sleep 0.1
done
[ "${HTTP_STATUS:-}" = 200 ] || die "the server does not answer on $BASE"

# 2. The agent's login: a new print client secret unless the agent already holds a working one.
AGENT=(bin/printdock-agent --state-dir "$AGENT_DIR" --keystore file)
state=$("${AGENT[@]}" status --json 2>/dev/null | field state || true)
if [ "$state" != connecting ] && [ "$state" != connected ]; then
	say "issuing a print client secret and logging the agent in"
	http POST /api/v1/print-client-secrets '{"description":"demo agent (sim://demo)"}'
	[ "$HTTP_STATUS" = 201 ] || die "issuing a print client secret failed (HTTP $HTTP_STATUS)" # the body may hold the secret
	secret=$(printf '%s' "$HTTP_BODY" | field secret)
	HTTP_BODY=""
	printf '%s\n' "$secret" | "${AGENT[@]}" login --server "$BASE" >/dev/null
	unset secret
fi

# 3. The agent with a simulated Zebra.
"${AGENT[@]}" --printer "$PRINTER_URI" run 2>>"$DATA/agent.log" &
PIDS+=($!)
say "agent running with printer $PRINTER_URI (log: $DATA/agent.log)"
PRINTER_ID=""
for _ in $(seq 1 300); do
	http GET /api/v1/printers
	items=$(printf '%s' "$HTTP_BODY" | sed 's/},{/}\n{/g')
	PRINTER_ID=$(printf '%s\n' "$items" | grep -F "\"uri\":\"$PRINTER_URI\"" | grep -F '"online":true' | field id || true)
	[ -n "$PRINTER_ID" ] && break
	kill -0 "${PIDS[1]}" 2>/dev/null || die "the agent stopped; see $DATA/agent.log"
	sleep 0.1
done
[ -n "$PRINTER_ID" ] || die "the agent's printer did not come online; see $DATA/agent.log"

# 4. A first label through the REST API, as a WMS would send it.
LABEL=$(printf '%s\n' '^XA' '^PW812' '^LL1218' '^CF0,60' '^FO50,60^FDprintdock demo^FS' '^FO50,140^GB712,4,4^FS' \
	'^CF0,40' "^FO50,180^FDShip to: Warehouse 3, dock 7^FS" "^FO50,240^FDSent: $(date '+%Y-%m-%d %H:%M:%S')^FS" \
	'^BY3^FO50,320^BCN,160,Y,N,N^FDPD-0001-DEMO^FS' '^FO50,600^BQN,2,8^FDQA,https://example.com/parcel/PD-0001^FS' '^XZ')
body=$(printf '{"content_type":"raw","content_base64":"%s","title":"printdock demo label","copies":1,"idempotency_key":"demo-%s"}' \
	"$(printf '%s' "$LABEL" | base64 -w0)" "$(date +%s%N)")
http POST "/api/v1/printers/$PRINTER_ID/jobs" "$body"
[ "$HTTP_STATUS" = 201 ] || [ "$HTTP_STATUS" = 200 ] || die "submitting the label failed (HTTP $HTTP_STATUS): $HTTP_BODY"
JOB_ID=$(printf '%s' "$HTTP_BODY" | field id)
say "label submitted: job $JOB_ID"
jstate=""
for _ in $(seq 1 300); do
	http GET "/api/v1/jobs/$JOB_ID"
	resp=$HTTP_BODY
	jstate=$(printf '%s' "$resp" | field state)
	case "$jstate" in done | failed | cancelled | expired) break ;; esac
	sleep 0.1
done
[ "$jstate" = done ] || die "the label did not print (state ${jstate:-unknown}): $resp"
PREVIEW="$DATA/first-label.png"
"${AGENT[@]}" preview --job "$JOB_ID" --out "$PREVIEW" >/dev/null
chmod 644 "$PREVIEW"

cat <<EOF

  printdock is running.
  First label:  job $JOB_ID printed on $PRINTER_URI
  Preview:      $(cd "$(dirname "$PREVIEW")" && pwd)/$(basename "$PREVIEW")
  Portal:       $BASE/
  Sign in as:   the admin e-mail and password in $ADMIN_FILE (mode 0600)
  Agent:        bin/printdock-agent --state-dir $AGENT_DIR status | jobs | printers | test-print
  REST API:     Authorization: Bearer <admin_api_key from $ADMIN_FILE>

  Ctrl-C stops the agent and the server.
EOF
if [ "${PRINTDOCK_RUN_ONCE:-}" = 1 ]; then
	exit 0 # the EXIT trap stops the agent and the server
fi
wait

#!/usr/bin/env bash
# printdock REST API with curl (and jq): issue a print client secret, submit a ZPL label, poll the job
# until it is printed, and cancel a job that is still queued. See docs/integration.md.
#
# Environment:
#   PRINTDOCK_URL              the server (default http://127.0.0.1:8080)
#   PRINTDOCK_API_KEY          a personal API key (pdu_…) or an OAuth access token (pdt_…); required
#   PRINTDOCK_PRINTER          the name of the printer to print on; required
#   PRINTDOCK_SECRET_FILE      where to write the new print client secret (default ./print-client-secret.txt)
#   PRINTDOCK_OFFLINE_PRINTER  the name of a printer whose agent is offline, to show a cancellation (optional)
#   PRINTDOCK_LABEL            the ZPL file to print (default label.zpl next to this directory)
set -euo pipefail

url=${PRINTDOCK_URL:-http://127.0.0.1:8080}
: "${PRINTDOCK_API_KEY:?set PRINTDOCK_API_KEY to a personal API key (pdu_…)}"
: "${PRINTDOCK_PRINTER:?set PRINTDOCK_PRINTER to the name of a printer}"
secret_file=${PRINTDOCK_SECRET_FILE:-print-client-secret.txt}
label=${PRINTDOCK_LABEL:-$(dirname "$0")/../label.zpl}

# api METHOD PATH [JSON]: calls the API and prints the answer; exits with the API's error otherwise.
api() {
	local out code
	out=$(mktemp)
	code=$(curl -sS -o "$out" -w '%{http_code}' -X "$1" "$url$2" \
		-H "Authorization: Bearer $PRINTDOCK_API_KEY" -H 'Content-Type: application/json' \
		${3:+--data-binary "$3"})
	if [ "$code" -ge 300 ]; then
		echo "$1 $2: HTTP $code: $(jq -r '.error.code + ": " + .error.message' "$out" 2>/dev/null || cat "$out")" >&2
		rm -f "$out"
		exit 1
	fi
	cat "$out"
	rm -f "$out"
}

# 1. Issue a print client secret for a new agent installation. The answer is the only time the secret
#    is shown: keep it (here: a file only you can read) and install the agent with it.
key=$(api POST /api/v1/print-client-secrets '{"description":"packing desk 1 (curl example)"}')
(umask 077 && jq -r .secret <<<"$key" >"$secret_file.tmp" && mv "$secret_file.tmp" "$secret_file")
echo "issued print client secret $(jq -r .id <<<"$key") ($(jq -r .prefix <<<"$key")…), written to $secret_file"

# printer_id NAME [online]: the ID of the printer called NAME (waiting until it is online when asked).
printer_id() {
	for _ in $(seq 240); do
		id=$(api GET /api/v1/printers | jq -r --arg n "$1" --arg o "${2:-}" \
			'[.items[] | select(.name == $n and ($o == "" or .online))][0].id // empty')
		if [ -n "$id" ]; then echo "$id"; return; fi
		sleep 0.5
	done
	echo "printer $1 not found${2:+ online}" >&2
	exit 1
}

# 2. Submit a ZPL label. The idempotency key makes a retry after a timeout safe: the same key returns
#    the same job instead of printing twice.
printer=$(printer_id "$PRINTDOCK_PRINTER" online)
job=$(api POST "/api/v1/printers/$printer/jobs" "$(jq -n --arg c "$(base64 -w0 <"$label")" \
	--arg k "order-1042-$(date +%s%N)" \
	'{content_type: "raw", content_base64: $c, title: "Order 1042", copies: 1, idempotency_key: $k}')")
job_id=$(jq -r .id <<<"$job")
echo "submitted job $job_id to $PRINTDOCK_PRINTER ($printer): $(jq -r .state <<<"$job")"

# 3. Poll the job until it is finished: done, failed, cancelled or expired.
for _ in $(seq 240); do
	state=$(api GET "/api/v1/jobs/$job_id" | jq -r .state)
	case $state in
	done) echo "job $job_id done"; break ;;
	failed | cancelled | expired) echo "job $job_id $state" >&2; exit 1 ;;
	esac
	sleep 0.5
done
[ "$state" = done ] || { echo "job $job_id still $state" >&2; exit 1; }

# 4. Cancel a job that is still queued (its printer's agent is offline): 200, cancelled. A job already
#    sent to its agent answers 202 (the agent decides; poll it); printing or finished is 409 conflict.
if [ -n "${PRINTDOCK_OFFLINE_PRINTER:-}" ]; then
	offline=$(printer_id "$PRINTDOCK_OFFLINE_PRINTER")
	queued=$(api POST "/api/v1/printers/$offline/jobs" "$(jq -n --arg c "$(base64 -w0 <"$label")" \
		'{content_base64: $c, title: "Order 1043"}')" | jq -r .id)
	echo "submitted job $queued to $PRINTDOCK_OFFLINE_PRINTER: $(api GET "/api/v1/jobs/$queued" | jq -r .state)"
	echo "cancelled job $queued: $(api DELETE "/api/v1/jobs/$queued" | jq -r .state)"
fi

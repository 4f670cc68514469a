#!/usr/bin/env python3
"""printdock REST API from Python (standard library only): issue a print client secret, submit a ZPL
label, poll the job until it is printed, and cancel a job that is still queued. See docs/integration.md.

Environment: PRINTDOCK_URL (default http://127.0.0.1:8080), PRINTDOCK_API_KEY (pdu_… or pdt_…, required),
PRINTDOCK_PRINTER (printer name, required), PRINTDOCK_SECRET_FILE (default ./print-client-secret.txt),
PRINTDOCK_OFFLINE_PRINTER (a printer whose agent is offline, optional), PRINTDOCK_LABEL (ZPL file).
"""
import base64
import json
import os
import pathlib
import sys
import time
import urllib.error
import urllib.request

URL = os.environ.get("PRINTDOCK_URL", "http://127.0.0.1:8080").rstrip("/")
API_KEY = os.environ["PRINTDOCK_API_KEY"]
PRINTER = os.environ["PRINTDOCK_PRINTER"]
SECRET_FILE = os.environ.get("PRINTDOCK_SECRET_FILE", "print-client-secret.txt")
LABEL = os.environ.get("PRINTDOCK_LABEL", str(pathlib.Path(__file__).parent.parent / "label.zpl"))
TERMINAL = {"done", "failed", "cancelled", "expired"}


class APIError(Exception):
    """An error answer: {"error": {"code", "message"}}."""

    def __init__(self, status, code, message):
        super().__init__(f"HTTP {status} {code}: {message}")
        self.status, self.code = status, code


def api(method, path, body=None):
    """Calls the API and returns the decoded JSON answer; raises APIError on an error answer."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(URL + path, data=data, method=method, headers={
        "Authorization": "Bearer " + API_KEY, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            raw = resp.read()
            return json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        try:
            err = json.load(e)["error"]
        except (ValueError, KeyError):
            err = {"code": "http_error", "message": e.reason}
        raise APIError(e.code, err["code"], err["message"]) from None


def printer_id(name, online=False, timeout=120):
    """The ID of the printer called name (waiting until it is online when asked)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for p in api("GET", "/api/v1/printers")["items"]:
            if p["name"] == name and (p["online"] or not online):
                return p["id"]
        time.sleep(0.5)
    sys.exit(f"printer {name} not found" + (" online" if online else ""))


def submit(printer, content, title, idempotency_key=None):
    body = {"content_type": "raw", "content_base64": base64.b64encode(content).decode(), "title": title}
    if idempotency_key:
        body["idempotency_key"] = idempotency_key
    return api("POST", f"/api/v1/printers/{printer}/jobs", body)


def main():
    # 1. Issue a print client secret for a new agent installation. The answer is the only time the
    #    secret is shown: keep it (here: a file only you can read) and install the agent with it.
    key = api("POST", "/api/v1/print-client-secrets", {"description": "packing desk 1 (Python example)"})
    tmp = SECRET_FILE + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key["secret"] + "\n")
    os.replace(tmp, SECRET_FILE)
    print(f"issued print client secret {key['id']} ({key['prefix']}…), written to {SECRET_FILE}")

    # 2. Submit a ZPL label. The idempotency key makes a retry after a timeout safe: the same key
    #    returns the same job instead of printing twice.
    label = pathlib.Path(LABEL).read_bytes()
    printer = printer_id(PRINTER, online=True)
    job = submit(printer, label, "Order 1042", f"order-1042-{time.time_ns()}")
    print(f"submitted job {job['id']} to {PRINTER} ({printer}): {job['state']}")

    # 3. Poll the job until it is finished: done, failed, cancelled or expired.
    deadline = time.monotonic() + 120
    while job["state"] not in TERMINAL and time.monotonic() < deadline:
        time.sleep(0.5)
        job = api("GET", f"/api/v1/jobs/{job['id']}")
    if job["state"] != "done":
        sys.exit(f"job {job['id']} {job['state']}: {job.get('reason', '')}")
    print(f"job {job['id']} done")

    # 4. Cancel a job that is still queued (its printer's agent is offline): 200, cancelled. A job already
    #    sent to its agent answers 202 (the agent decides; poll it); printing or finished is 409 conflict.
    offline_name = os.environ.get("PRINTDOCK_OFFLINE_PRINTER")
    if offline_name:
        queued = submit(printer_id(offline_name), label, "Order 1043")
        print(f"submitted job {queued['id']} to {offline_name}: {queued['state']}")
        try:
            cancelled = api("DELETE", f"/api/v1/jobs/{queued['id']}")
            print(f"cancelled job {queued['id']}: {cancelled['state']}")
        except APIError as e:
            if e.code != "conflict":
                raise
            print(f"job {queued['id']} could not be cancelled any more: {e}")


if __name__ == "__main__":
    try:
        main()
    except APIError as e:
        sys.exit(str(e))

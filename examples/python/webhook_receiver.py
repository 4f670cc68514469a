#!/usr/bin/env python3
"""A printdock webhook receiver (Python standard library only).

It verifies every delivery's Standard Webhooks signature (webhook-id, webhook-timestamp, webhook-signature:
"v1," + base64 HMAC-SHA256 of "<id>.<timestamp>.<body>" keyed with the base64 part of the whsec_ secret),
refuses old or future timestamps (replays), answers 204 to a verified delivery and 401 otherwise, and
prints one line per verified event. Deliveries are retried until they are answered 2xx; webhook-id is the
same for every attempt, so a receiver that must act once keeps the ids it has handled.

  PRINTDOCK_WEBHOOK_SECRET=whsec_… PRINTDOCK_WEBHOOK_LISTEN=127.0.0.1:8099 python3 webhook_receiver.py
"""
import base64
import hashlib
import hmac
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

TOLERANCE = 5 * 60  # seconds


def verify(secret, headers, body):
    """Returns the parsed event if the signature is valid, else None."""
    msg_id = headers.get("webhook-id")
    ts = headers.get("webhook-timestamp")
    sigs = headers.get("webhook-signature")
    if not msg_id or not ts or not sigs:
        return None
    try:
        if abs(time.time() - int(ts)) > TOLERANCE:
            return None
        key = base64.b64decode(secret[6:] if secret.startswith("whsec_") else secret)
    except ValueError:
        return None
    signed = msg_id.encode() + b"." + ts.encode() + b"." + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    for sig in sigs.split(" "):  # several signatures while a secret is being rotated
        version, _, value = sig.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return json.loads(body)
    return None


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        event = verify(os.environ["PRINTDOCK_WEBHOOK_SECRET"], self.headers, body)
        if event is None:
            self.send_response(401)
            self.end_headers()
            return
        print("verified", self.headers["webhook-id"], event["type"], json.dumps(event["data"]), flush=True)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def main():
    host, _, port = os.environ.get("PRINTDOCK_WEBHOOK_LISTEN", "127.0.0.1:8099").rpartition(":")
    server = HTTPServer((host, int(port)), Handler)
    print("listening on", server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())

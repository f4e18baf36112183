#!/usr/bin/env python3
"""A partner's webhook receiver for a milk node, with Python's standard library only.

The node posts a brand chain's committed events, oldest first, in batches:

    POST <your url>
    Milk-Signature: t=<unix ms>,v1=<hex HMAC-SHA256(key, "<t>.<body>")>
    {"webhook": "wh_...", "chain": "cinema", "events": [{"id": ..., "kind": ..., ...}, ...]}

where the HMAC key is the 32 bytes the secret's 64 hex digits spell.

A batch counts as delivered only when you answer 2xx; otherwise the node sends it again,
later, so the same event may arrive twice: keep the ids you have handled and skip them.

This receiver checks each request's signature (in constant time) and its age, answers 401
to anything that fails, prints each new event as one JSON line on standard output, and
answers 204. Run it with the secret `milk partner add-webhook` printed:

    MILK_WEBHOOK_SECRET=<secret> python3 examples/webhook_receiver.py --port 9000
"""

import argparse
import hashlib
import hmac
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# How old a signed request may be: a replayed capture is refused after this.
MAX_AGE_MS = 5 * 60 * 1000
# The largest body read.
MAX_BODY = 8 * 1024 * 1024


def verify(secret: bytes, header: str, body: bytes, now_ms: int) -> bool:
    """True if `header` signs `body` with `secret` and is at most MAX_AGE_MS old."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        sent_ms = int(fields["t"])
        claimed = fields["v1"]
    except (KeyError, ValueError):
        return False
    if abs(now_ms - sent_ms) > MAX_AGE_MS:
        return False
    expected = hmac.new(secret, f"{sent_ms}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, claimed)


class Receiver(BaseHTTPRequestHandler):
    secret = b""
    seen = set()

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            return self.answer(413)
        body = self.rfile.read(length)
        signature = self.headers.get("Milk-Signature", "")
        if not verify(self.secret, signature, body, int(time.time() * 1000)):
            print(json.dumps({"refused": "bad or stale signature"}), flush=True)
            return self.answer(401)
        try:
            events = json.loads(body)["events"]
        except (ValueError, KeyError, TypeError):
            return self.answer(400)
        for event in events:
            if event["id"] in Receiver.seen:
                continue  # delivered before: the node retries until it hears 2xx
            Receiver.seen.add(event["id"])
            print(json.dumps(event), flush=True)
        self.answer(204)

    def answer(self, status: int):
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass  # standard output carries events only


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    secret = os.environ.get("MILK_WEBHOOK_SECRET", "")
    if not secret:
        sys.exit("set MILK_WEBHOOK_SECRET to the secret `milk partner add-webhook` printed")
    try:
        Receiver.secret = bytes.fromhex(secret)
    except ValueError:
        sys.exit("MILK_WEBHOOK_SECRET must be the 64 hex digits `milk partner add-webhook` printed")
    server = ThreadingHTTPServer((args.host, args.port), Receiver)
    print(json.dumps({"listening": f"http://{args.host}:{server.server_port}"}), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()

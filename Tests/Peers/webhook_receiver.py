#!/usr/bin/env python3
"""A webhook receiver for the tests: verifies every request with the public `standardwebhooks` library
(the Standard Webhooks reference implementation, an independent oracle) and logs it as one JSON line.

Prints "PORT <n>" once listening, then serves until its stdin closes (the test stopped it, or the test process
died: no orphan outlives a crashed test run). Faults on demand:
  --fail-first N           answer 503 to the first N requests
  --answer-after S         answer each request S seconds after it arrived (logged on arrival)
  --tls-cert C --tls-key K serve HTTPS with that (self-signed) certificate
  --hang-type T --hang-count K   hold the first K requests of event type T without answering for --hang-seconds,
                                 then drop the connection
"""
import argparse
import json
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, default=0)
parser.add_argument("--secret", required=True)
parser.add_argument("--log", required=True)
parser.add_argument("--fail-first", type=int, default=0)
parser.add_argument("--hang-type", default="")
parser.add_argument("--hang-count", type=int, default=0)
parser.add_argument("--hang-seconds", type=float, default=60)
parser.add_argument("--answer-after", type=float, default=0)
parser.add_argument("--tls-cert", default="")
parser.add_argument("--tls-key", default="")
args = parser.parse_args()
# The test process may spawn us from a thread that blocks signals; take SIGTERM/SIGINT as usual.
signal.pthread_sigmask(signal.SIG_UNBLOCK, signal.valid_signals())

verifier = Webhook(args.secret)
lock = threading.Lock()
state = {"requests": 0, "hung": 0}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        headers = {k.lower(): v for k, v in self.headers.items()}
        entry = {"id": headers.get("webhook-id"), "timestamp": headers.get("webhook-timestamp"),
                 "signature": headers.get("webhook-signature"), "user_agent": headers.get("user-agent"),
                 "content_type": headers.get("content-type"), "path": self.path}
        try:
            payload = verifier.verify(body, headers)
            entry["verified"] = True
            entry["type"] = payload.get("type")
            entry["body"] = payload
        except (WebhookVerificationError, Exception) as error:  # any failure is a failed verification
            entry["verified"] = False
            entry["error"] = repr(error)
            try:
                entry["type"] = json.loads(body).get("type")
            except Exception:
                entry["type"] = None
        with lock:
            state["requests"] += 1
            n = state["requests"]
            hang = entry["type"] == args.hang_type and state["hung"] < args.hang_count
            if hang:
                state["hung"] += 1
        entry["n"] = n
        if hang:
            status = 0
        elif not entry["verified"]:
            status = 400
        elif n <= args.fail_first:
            status = 503
        else:
            status = 200
        entry["answered"] = status
        with lock, open(args.log, "a") as log:
            log.write(json.dumps(entry) + "\n")
        if hang:
            time.sleep(args.hang_seconds)
            self.close_connection = True
            return
        if args.answer_after > 0:
            time.sleep(args.answer_after)
        reply = b"ok" if status == 200 else b"no"
        self.send_response(status)
        self.send_header("content-length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)


server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
server.daemon_threads = True
if args.tls_cert:
    import ssl
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.tls_cert, args.tls_key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
print(f"PORT {server.server_address[1]}", flush=True)
threading.Thread(target=server.serve_forever, daemon=True).start()
sys.stdin.read()

"""A fault-injecting HTTP proxy in front of a real OpenAI-compatible server, for tests.

Usage: python3 fault_proxy.py UPSTREAM_URL PORT_FILE FAULTS
  UPSTREAM_URL  e.g. http://127.0.0.1:8080
  PORT_FILE     the proxy listens on 127.0.0.1 at a free port and writes it here
  FAULTS        comma-separated, applied to the first requests in order, one each:
                429 (with Retry-After: 1), 500, stall (no answer for 30 s), reset (connection
                closed without an answer), malformed (200 with a broken JSON body), 401 (every
                request from then on), ok (pass through). After the list, requests pass through.
GET /stats returns {"requests": n, "faults": {kind: n}} as JSON.
With FAULT_PROXY_LOG set, every request answered by the upstream appends a line to that file,
"<sha256 of the request body> <status>", once its answer is sent: what a client was charged for.
"""

import hashlib
import json
import os
import socket
import sys
import threading
import time
import urllib.error
import urllib.request

import peer_http

upstream, port_file, spec = sys.argv[1], sys.argv[2], sys.argv[3]
faults = [f for f in spec.split(",") if f]
lock = threading.Lock()
state = {"requests": 0, "faults": {}, "denied": False}


def next_fault():
    with lock:
        state["requests"] += 1
        if state["denied"]:
            kind = "401"
        elif faults:
            kind = faults.pop(0)
            if kind == "401":
                state["denied"] = True
        else:
            kind = "ok"
        if kind != "ok":
            state["faults"][kind] = state["faults"].get(kind, 0) + 1
        return kind


class Handler(peer_http.Handler):
    def do_GET(self):
        if self.path == "/stats":
            with lock:
                body = json.dumps({"requests": state["requests"], "faults": state["faults"]}).encode()
            self.reply(200, body)
        else:
            self.reply(404, b"{}")

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        kind = next_fault()
        if kind == "429":
            return self.reply(429, b'{"error": {"message": "rate limited"}}', [("Retry-After", "1")])
        if kind == "500":
            return self.reply(500, b'{"error": {"message": "internal error"}}')
        if kind == "401":
            return self.reply(401, b'{"error": {"message": "invalid api key"}}')
        if kind == "stall":
            time.sleep(30)
            return
        if kind == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            self.close_connection = True
            self.connection.close()
            return
        request = urllib.request.Request(
            upstream + self.path, data=body, method="POST", headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=600) as response:
                status, data = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, data = error.code, error.read()
        if kind == "malformed":
            data = data[: len(data) // 2]
        self.reply(status, data)
        if os.environ.get("FAULT_PROXY_LOG") and kind == "ok":
            with lock, open(os.environ["FAULT_PROXY_LOG"], "a") as log:
                log.write(f"{hashlib.sha256(body).hexdigest()} {status}\n")


peer_http.serve(Handler, port_file)

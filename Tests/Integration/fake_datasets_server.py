"""A stand-in for the Hugging Face datasets-server rows API, for tests (the real one is online).

Usage: python3 fake_datasets_server.py ROWS_JSONL PORT_FILE DATASET FAULTS
  ROWS_JSONL  the split's rows, one JSON object per line; a row with "__truncate": true is
              served with its conversation cut short and listed in truncated_cells
  PORT_FILE   the server listens on 127.0.0.1 at a free port and writes it here
  DATASET     the only dataset name it knows (others get 404)
  FAULTS      comma-separated, applied to the first requests in order: 500, 429 (Retry-After: 1)
GET /rows?dataset=&config=&split=&offset=&length= as the real API (length at most 100).
GET /stats returns {"requests": n, "faults": {kind: n}, "auth": [distinct Authorization headers]}.
"""

import json
import sys
import threading
import urllib.parse

import peer_http

rows_file, port_file, dataset, spec = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
with open(rows_file) as f:
    rows = [json.loads(line) for line in f if line.strip()]
faults = [f for f in spec.split(",") if f]
lock = threading.Lock()
state = {"requests": 0, "faults": {}, "auth": []}


class Handler(peer_http.Handler):
    def reply(self, status, payload, headers=()):
        super().reply(status, json.dumps(payload).encode(), headers)

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        if url.path == "/stats":
            with lock:
                return self.reply(200, state)
        if url.path != "/rows":
            return self.reply(404, {"error": "Not found"})
        with lock:
            state["requests"] += 1
            auth = self.headers.get("Authorization")
            if auth and auth not in state["auth"]:
                state["auth"].append(auth)
            kind = faults.pop(0) if faults else "ok"
            if kind != "ok":
                state["faults"][kind] = state["faults"].get(kind, 0) + 1
        if kind == "500":
            return self.reply(500, {"error": "Internal error"})
        if kind == "429":
            return self.reply(429, {"error": "Too many requests"}, [("Retry-After", "1")])
        query = urllib.parse.parse_qs(url.query)
        if query.get("dataset", [""])[0] != dataset:
            return self.reply(404, {"error": "The dataset does not exist."})
        offset, length = int(query["offset"][0]), int(query["length"][0])
        if length > 100:
            return self.reply(422, {"error": "length must be <= 100"})
        page = []
        for index in range(offset, min(offset + length, len(rows))):
            row = dict(rows[index])
            truncated = []
            if row.pop("__truncate", False):
                row["conversation_a"] = "[{\"role\": \"user\", \"content\": \"Trunc"
                truncated = ["conversation_a"]
            page.append({"row_idx": index, "row": row, "truncated_cells": truncated})
        self.reply(
            200,
            {"features": [], "rows": page, "num_rows_total": len(rows), "num_rows_per_page": 100, "partial": False},
        )


peer_http.serve(Handler, port_file)

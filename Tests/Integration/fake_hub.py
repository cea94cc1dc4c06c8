"""A stand-in for the Hugging Face Hub's resolve endpoint, for tests (the real one is online).

Usage: python3 fake_hub.py SPEC_JSON PORT_FILE
  SPEC_JSON  {"repos": {"org/name": {"commit": 40 hex, "files": {name: local path},
             "gated": bool}}, "token": accepted bearer token, "faults": [...]}
  faults, applied to the first requests in order (the stats say which hit):
    "429"      answer 429 with Retry-After: 1
    "500"      answer 500
    "drop"     a download (GET of the bytes) sends half of what it should, then closes
    "ignore-range"  a download answers 200 with the whole file even when a Range was asked
    "corrupt"  a download sends bytes with one flipped (its X-Linked-Etag no longer matches)
    "small-size"  a HEAD says the file has 1 MiB (X-Linked-Size); the download sends it all
HEAD/GET /{org}/{name}/resolve/{revision}/{file}: as the Hub, a 302 to /cdn/{sha256} with
X-Repo-Commit, X-Linked-Etag, X-Linked-Size and ETag (the storage host is "localhost", the Hub "127.0.0.1"); 401 GatedRepo without the token for a gated
repo, 401 RepoNotFound for an unknown repo, 404 RevisionNotFound / EntryNotFound.
GET /cdn/{sha256}: the bytes, honouring Range (206, Content-Range).
GET /stats: {"requests", "heads", "downloads", "bytes_sent", "ranges", "auth", "cdn_auth" (downloads
that carried a token: the storage host must not get one), "faults"}.
"""

import hashlib
import json
import sys
import threading
import urllib.parse

import peer_http

spec_file, port_file = sys.argv[1], sys.argv[2]
with open(spec_file) as f:
    spec = json.load(f)
faults = list(spec.get("faults", []))
blobs = {}  # sha256 -> bytes
files = {}  # (repo, file) -> sha256
for repo, entry in spec["repos"].items():
    for name, path in entry["files"].items():
        data = open(path, "rb").read()
        sha = hashlib.sha256(data).hexdigest()
        blobs[sha] = data
        files[(repo, name)] = sha
lock = threading.Lock()
state = {"requests": 0, "heads": 0, "downloads": 0, "bytes_sent": 0, "ranges": [], "auth": [], "cdn_auth": 0, "faults": {}}


class Handler(peer_http.Handler):
    def fault(self, kinds):
        """Takes the next fault if it applies to this request."""
        with lock:
            state["requests"] += 1
            auth = self.headers.get("Authorization")
            if auth and auth not in state["auth"]:
                state["auth"].append(auth)
            if faults and faults[0] in kinds:
                kind = faults.pop(0)
                state["faults"][kind] = state["faults"].get(kind, 0) + 1
                return kind
        return None

    def do_HEAD(self):
        url = urllib.parse.urlparse(self.path)
        if url.path.startswith("/cdn/"):
            data = blobs.get(url.path[5:])
            return self.plain(200 if data is not None else 404, [("Content-Length-Of-Blob", str(len(data or b"")))])
        self.resolve()

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        if url.path == "/stats":
            with lock:
                body = json.dumps(state).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if url.path.startswith("/cdn/"):
            return self.download(url.path[5:])
        self.resolve()

    def plain(self, status, headers=(), body=b""):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def resolve(self):
        if self.command == "HEAD":
            with lock:
                state["heads"] += 1
        kind = self.fault({"429", "500", "small-size"})
        if kind == "429":
            return self.plain(429, [("Retry-After", "1")], b"slow down")
        if kind == "500":
            return self.plain(500, [], b"oops")
        parts = urllib.parse.unquote(urllib.parse.urlparse(self.path).path).lstrip("/").split("/")
        if len(parts) < 5 or parts[2] != "resolve":
            return self.plain(404, [("X-Error-Code", "EntryNotFound")])
        repo, revision, name = parts[0] + "/" + parts[1], parts[3], "/".join(parts[4:])
        entry = spec["repos"].get(repo)
        if entry is None:
            return self.plain(401, [("X-Error-Code", "RepoNotFound"), ("X-Error-Message", "Repository not found")])
        if entry.get("gated") and self.headers.get("Authorization") != "Bearer " + spec.get("token", ""):
            message = f"Access to model {repo} is restricted. You must have access to it and be authenticated."
            return self.plain(401, [("X-Error-Code", "GatedRepo"), ("X-Error-Message", message)])
        if revision not in ("main", entry["commit"]):
            return self.plain(404, [("X-Error-Code", "RevisionNotFound")])
        sha = files.get((repo, name))
        if sha is None:
            return self.plain(404, [("X-Error-Code", "EntryNotFound")])
        headers = [
            ("X-Repo-Commit", entry["commit"]),
            ("X-Linked-Etag", f'"{sha}"'),
            ("X-Linked-Size", str(1 << 20 if kind == "small-size" else len(blobs[sha]))),
            ("ETag", f'"{sha}"'),
            # Another host, as the Hub's redirect to its storage (localhost for 127.0.0.1): a
            # client must not follow it for the metadata, nor send the token there.
            ("Location", f"http://localhost:{self.server.server_address[1]}/cdn/{sha}"),
        ]
        self.plain(302, headers)

    def download(self, sha):
        data = blobs.get(sha)
        if data is None:
            return self.plain(404)
        kind = self.fault({"429", "500", "drop", "ignore-range", "corrupt"})
        if kind == "429":
            return self.plain(429, [("Retry-After", "1")], b"slow down")
        if kind == "500":
            return self.plain(500, [], b"oops")
        asked = self.headers.get("Range", "")
        with lock:
            state["downloads"] += 1
            state["cdn_auth"] += 1 if self.headers.get("Authorization") else 0
            state["ranges"].append(asked)
        start = 0
        if asked.startswith("bytes=") and kind != "ignore-range":
            start = int(asked[6:].split("-")[0])
        if start >= len(data) and start > 0:
            return self.plain(416, [("Content-Range", f"bytes */{len(data)}")])
        body = data[start:]
        if kind == "corrupt":
            body = bytes([body[0] ^ 0xFF]) + body[1:]
        self.send_response(206 if start > 0 else 200)
        if start > 0:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Type", "application/octet-stream")
        self.end_headers()
        sent = body[: len(body) // 2] if kind == "drop" else body
        written = 0
        try:
            for k in range(0, len(sent), 65536):
                self.wfile.write(sent[k : k + 65536])
                written += len(sent[k : k + 65536])
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a full disk)
            self.close_connection = True
        with lock:
            state["bytes_sent"] += written
        if kind == "drop":
            self.wfile.flush()
            self.close_connection = True


peer_http.serve(Handler, port_file)

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
that carried a token: the storage host must not get one), "faults", "datasets", "deleted", "lfs_puts"}.

The upload side, as the Hub's API (every call but the LFS PUT needs "Bearer <token>"):
  POST /api/repos/create {"type": "dataset", "organization", "name", "private"}: 200, 409 when it
       exists, 400 for a name in the spec's "refuse" list
  POST /api/datasets/{repo}/preupload/{rev}: uploadMode "lfs" for files larger than the spec's
       "lfs_threshold" (default 1024 bytes), else "regular"
  POST /datasets/{repo}.git/info/lfs/objects/batch: an upload action (PUT /lfs/{repo}/{oid}) and a
       verify action for each object the repository does not hold yet; none for one it holds
  PUT /lfs/{repo}/{oid}: the bytes, checked against the oid (fault "drop-upload": reads half, then
       closes the connection)
  POST /lfs-verify/{repo}/{oid}: 200 when held
  POST /api/datasets/{repo}/commit/{rev}: NDJSON header, file (base64) and lfsFile lines; all or
       nothing (fault "commit-422": refused)
  DELETE /api/repos/delete {"type", "organization", "name"}
"""

import base64
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
state = {"requests": 0, "heads": 0, "downloads": 0, "bytes_sent": 0, "ranges": [], "auth": [], "cdn_auth": 0, "faults": {},
         "datasets": {}, "deleted": [], "lfs_puts": 0, "commits": 0}
lfs = {}  # (repo, oid) -> bytes: each repository's LFS storage (deleted with it)


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

    # The upload API.

    def body(self):
        length = int(self.headers.get("Content-Length", "0"))
        return self.rfile.read(length) if length else b""

    def authorised(self):
        if self.headers.get("Authorization") != "Bearer " + spec.get("token", ""):
            self.reply(401, json.dumps({"error": "Invalid credentials in Authorization header"}).encode())
            return False
        return True

    def do_POST(self):
        path = urllib.parse.urlparse(self.path).path
        if path.startswith("/lfs-verify/"):
            self.body()
            owner, name, oid = path[12:].split("/")
            return self.reply(200 if (f"{owner}/{name}", oid) in lfs else 404, b"{}")
        kind = self.fault({"500", "commit-422"} if "/commit/" in path else {"500"})
        data = self.body()
        if kind == "500":
            return self.reply(500, b'{"error": "oops"}')
        if not self.authorised():
            return
        if path == "/api/repos/create":
            request = json.loads(data)
            repo = f"{request['organization']}/{request['name']}"
            if repo in spec.get("refuse", []):
                return self.reply(400, json.dumps({"error": f"The repository name {repo} is reserved"}).encode())
            with lock:
                if repo in state["datasets"]:
                    return self.reply(409, json.dumps({"error": "You already created this dataset repo"}).encode())
                state["datasets"][repo] = {"files": {}, "private": request.get("private", False)}
            return self.reply(200, json.dumps({"url": f"http://127.0.0.1/datasets/{repo}"}).encode())
        parts = path.strip("/").split("/")
        if path.endswith("/info/lfs/objects/batch"):
            repo = "/".join(parts[1:3])[: -len(".git")]
            request = json.loads(data)
            objects = []
            for item in request["objects"]:
                entry = {"oid": item["oid"], "size": item["size"]}
                if (repo, item["oid"]) not in lfs:
                    entry["actions"] = {
                        "upload": {"href": f"/lfs/{repo}/{item['oid']}", "header": {}},
                        "verify": {"href": f"/lfs-verify/{repo}/{item['oid']}"},
                    }
                objects.append(entry)
            return self.reply(200, json.dumps({"transfer": "basic", "objects": objects}).encode())
        if len(parts) >= 6 and parts[:2] == ["api", "datasets"] and parts[4] == "preupload":
            limit = spec.get("lfs_threshold", 1024)
            files = [
                {"path": f["path"], "uploadMode": "lfs" if f["size"] > limit else "regular", "shouldIgnore": False}
                for f in json.loads(data)["files"]
            ]
            return self.reply(200, json.dumps({"files": files}).encode())
        if len(parts) >= 6 and parts[:2] == ["api", "datasets"] and parts[4] == "commit":
            repo = "/".join(parts[2:4])
            if kind == "commit-422":
                return self.reply(422, json.dumps({"error": "Invalid commit (injected)"}).encode())
            files = {}
            for line in data.decode().splitlines():
                item = json.loads(line)
                value = item["value"]
                if item["key"] == "file":
                    files[value["path"]] = hashlib.sha256(base64.b64decode(value["content"])).hexdigest()
                elif item["key"] == "lfsFile":
                    if (repo, value["oid"]) not in lfs:
                        return self.reply(422, json.dumps({"error": f"LFS object {value['oid']} missing"}).encode())
                    files[value["path"]] = value["oid"]
            with lock:
                if repo not in state["datasets"]:
                    return self.reply(404, json.dumps({"error": "Repository not found"}).encode())
                state["datasets"][repo]["files"].update(files)
                state["commits"] += 1
                oid = hashlib.sha1(str(state["commits"]).encode()).hexdigest()
            return self.reply(200, json.dumps({"commitOid": oid, "commitUrl": f"/datasets/{repo}/commit/{oid}"}).encode())
        self.reply(404, b'{"error": "not found"}')

    def do_PUT(self):
        path = urllib.parse.urlparse(self.path).path
        if not path.startswith("/lfs/"):
            return self.reply(404, b"{}")
        owner, name, oid = path[5:].split("/")
        length = int(self.headers.get("Content-Length", "0"))
        if self.fault({"drop-upload"}):
            self.rfile.read(length // 2)
            self.close_connection = True
            self.connection.shutdown(2)
            return
        data = self.rfile.read(length)
        with lock:
            state["lfs_puts"] += 1
        if hashlib.sha256(data).hexdigest() != oid:
            return self.reply(400, b'{"error": "the bytes do not match the oid"}')
        lfs[(f"{owner}/{name}", oid)] = data
        self.reply(200, b"{}")

    def do_DELETE(self):
        request = json.loads(self.body() or b"{}")
        if not self.authorised():
            return
        repo = f"{request.get('organization')}/{request.get('name')}"
        with lock:
            if state["datasets"].pop(repo, None) is None:
                return self.reply(404, b'{"error": "Repository not found"}')
            state["deleted"].append(repo)
            for key in [key for key in lfs if key[0] == repo]:
                del lfs[key]
        self.reply(200, b"{}")

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

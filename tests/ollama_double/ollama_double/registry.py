"""A small OCI-style model registry speaking the protocol `ollama pull`/`push` use (fact sheet §4).

Blob GETs answer 307 to a separate data URL, as registry.ollama.ai does (it redirects to a CDN).
Test controls live under /_double/: POST /_double/config with any of
  revision (int)        which revision of the revised tags (smollm2:latest) to serve
  blob_mode             "redirect" (default), "location" (200 + Location), "direct" (200, no Location: registry:2)
  cdn_host              host[:port] for the 307 Location (default: the Host the client used)
  corrupt (bool)        serve blob bodies with one byte flipped
  interrupt (int)       the next blob body stops after this many bytes (once)
  interrupt_every (int) every blob body stops after this many bytes, until set back to null
  rate (int)            blob bodies are sent at this many bytes per second (0: full speed)
and GET/DELETE /_double/requests for the log of requests seen (method, path, a few headers).
"""
import hashlib
import itertools
import json
import re
import sys
import threading
import time

from . import catalog
from .httpbase import Handler, Server, split_hostport
from .store import MANIFEST_MEDIA_TYPE

_MANIFEST = re.compile(r"^/v2/(?P<repo>[^/]+/[^/]+)/manifests/(?P<ref>[^/]+)$")
_BLOB = re.compile(r"^/v2/(?P<repo>[^/]+/[^/]+)/blobs/(?P<digest>sha256:[0-9a-f]{64})$")
_UPLOAD = re.compile(r"^/v2/(?P<repo>[^/]+/[^/]+)/blobs/uploads/(?P<id>[0-9]*)$")
_DATA = re.compile(r"^/_double/blobs/(?P<digest>sha256:[0-9a-f]{64})$")


class RegistryState:
    def __init__(self, revision=1):
        self.lock = threading.Lock()
        self.config = {"revision": revision, "blob_mode": "redirect", "cdn_host": None, "corrupt": False, "interrupt": None,
                       "interrupt_every": None, "rate": 0}
        self.requests = []
        self.pushed_manifests = {}
        self.pushed_blobs = {}
        self.uploads = {}
        self.upload_ids = itertools.count(1)

    def manifest(self, repo, tag):
        with self.lock:
            pushed = self.pushed_manifests.get((repo.lower(), tag.lower()))
            revision = self.config["revision"]
        if pushed is not None:
            return pushed
        art = catalog.lookup(repo, tag, revision)
        return art.manifest if art else None

    def blob(self, digest):
        with self.lock:
            if digest in self.pushed_blobs:
                return self.pushed_blobs[digest]
            revision = self.config["revision"]
        return catalog.all_blobs(revision).get(digest)


class RegistryHandler(Handler):
    def _log(self):
        entry = {"method": self.command, "path": self.path}
        for header in ("Accept", "User-Agent", "Range", "Authorization"):
            if self.headers.get(header):
                entry[header.lower()] = self.headers[header]
        with self.server.state.lock:
            self.server.state.requests.append(entry)

    def _error(self, status, code, message):
        body = json.dumps({"errors": [{"code": code, "message": message, "detail": {}}]}).encode()
        self.send_bytes(status, body, "application/json; charset=utf-8")

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        state = self.server.state
        path = self.path.split("?", 1)[0]
        if path.startswith("/_double/") and not _DATA.match(path):
            return self._control_get(path)
        self._log()
        if path in ("/v2", "/v2/"):
            return self.send_bytes(200, b"{}", "application/json; charset=utf-8")
        m = _MANIFEST.match(path)
        if m:
            raw = state.manifest(m["repo"], m["ref"])
            if raw is None:
                return self._error(404, "MANIFEST_UNKNOWN", "manifest unknown")
            digest = "sha256:" + hashlib.sha256(raw).hexdigest()
            return self.send_bytes(200, raw, MANIFEST_MEDIA_TYPE, {"Docker-Content-Digest": digest})
        m = _BLOB.match(path)
        if m:
            return self._blob(m["digest"])
        m = _DATA.match(path)
        if m:
            return self._data(m["digest"])
        self._error(404, "NAME_UNKNOWN", "repository name not known to registry")

    def _blob(self, digest):
        state = self.server.state
        data = state.blob(digest)
        if data is None:
            return self._error(404, "BLOB_UNKNOWN", "blob unknown to registry")
        if self.command == "HEAD":
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Docker-Content-Digest", digest)
            self.end_headers()
            return
        with state.lock:
            mode, cdn = state.config["blob_mode"], state.config["cdn_host"]
        url = "http://%s/_double/blobs/%s" % (cdn or self.headers.get("Host"), digest)
        if mode == "redirect":
            return self.send_bytes(307, b"", None, {"Location": url})
        headers = {"Location": url} if mode == "location" else {}
        self._send_blob(digest, data, headers)

    def _data(self, digest):
        data = self.server.state.blob(digest)
        if data is None:
            return self._error(404, "BLOB_UNKNOWN", "blob unknown to registry")
        # Behind a same-host redirect the client needs a Location on the final 200 (fact sheet §4).
        self._send_blob(digest, data, {"Location": "http://%s%s" % (self.headers.get("Host"), self.path)})

    def _send_blob(self, digest, data, headers):
        state = self.server.state
        with state.lock:
            corrupt, interrupt = state.config["corrupt"], state.config["interrupt"]
            if interrupt is not None and self.command == "GET":
                state.config["interrupt"] = None
            elif interrupt is None:
                interrupt = state.config["interrupt_every"]
        if corrupt:
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        status, body = 200, data
        rng = re.match(r"bytes=(\d+)-(\d*)$", self.headers.get("Range") or "")
        if rng:
            start = int(rng[1])
            end = int(rng[2]) if rng[2] else len(data) - 1
            body = data[start:end + 1]
            status = 206
            headers = dict(headers, **{"Content-Range": "bytes %d-%d/%d" % (start, start + len(body) - 1, len(data))})
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command == "HEAD":
            return
        if interrupt is not None:
            self.wfile.write(body[:interrupt])
            self.wfile.flush()
            self.close_connection = True
            return
        with state.lock:
            rate = state.config["rate"]
        if not rate:
            self.wfile.write(body)
            return
        step = max(1, rate // 20)
        for start in range(0, len(body), step):
            self.wfile.write(body[start:start + step])
            self.wfile.flush()
            time.sleep(step / rate)

    def _control_get(self, path):
        state = self.server.state
        with state.lock:
            payload = {"/_double/config": state.config, "/_double/requests": state.requests}.get(path)
            body = json.dumps(payload).encode() if payload is not None else None
        if body is None:
            return self._error(404, "NOT_FOUND", "not found")
        self.send_bytes(200, body, "application/json")

    def do_DELETE(self):
        if self.path == "/_double/requests":
            with self.server.state.lock:
                self.server.state.requests.clear()
            return self.send_bytes(200)
        self._error(405, "UNSUPPORTED", "method not allowed")

    def do_POST(self):
        state = self.server.state
        if self.path == "/_double/config":
            changes = json.loads(self.read_body() or b"{}")
            with state.lock:
                state.config.update(changes)
                body = json.dumps(state.config).encode()
            return self.send_bytes(200, body, "application/json")
        self._log()
        m = _UPLOAD.match(self.path)
        if m and not m["id"]:
            self.read_body()
            upload = next(state.upload_ids)
            with state.lock:
                state.uploads[upload] = b""
            location = "/v2/%s/blobs/uploads/%d" % (m["repo"], upload)
            return self.send_bytes(202, b"", None, {"Location": location, "Docker-Upload-UUID": str(upload)})
        self._error(404, "NAME_UNKNOWN", "repository name not known to registry")

    def do_PATCH(self):
        self._log()
        state = self.server.state
        m = _UPLOAD.match(self.path)
        if not m or not m["id"] or int(m["id"]) not in state.uploads:
            return self._error(404, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry")
        data = self.read_body()
        with state.lock:
            state.uploads[int(m["id"])] += data
            size = len(state.uploads[int(m["id"])])
        self.send_bytes(202, b"", None, {"Location": self.path, "Range": "0-%d" % max(size - 1, 0)})

    def do_PUT(self):
        self._log()
        state = self.server.state
        path, unused_sep, query = self.path.partition("?")
        m = _UPLOAD.match(path)
        if m and m["id"]:
            upload = int(m["id"])
            data = state.uploads.pop(upload, b"") + self.read_body()
            digest = dict(p.split("=", 1) for p in query.split("&") if "=" in p).get("digest", "").replace("%3A", ":")
            if "sha256:" + hashlib.sha256(data).hexdigest() != digest:
                return self._error(400, "DIGEST_INVALID", "provided digest did not match uploaded content")
            with state.lock:
                state.pushed_blobs[digest] = data
            return self.send_bytes(201, b"", None, {"Location": "/v2/%s/blobs/%s" % (m["repo"], digest)})
        m = _MANIFEST.match(path)
        if m:
            raw = self.read_body()
            with state.lock:
                state.pushed_manifests[(m["repo"].lower(), m["ref"].lower())] = raw
            return self.send_bytes(201, b"", None, {"Docker-Content-Digest": "sha256:" + hashlib.sha256(raw).hexdigest()})
        self._error(404, "NAME_UNKNOWN", "repository name not known to registry")


def make_server(host="127.0.0.1", port=0, revision=1):
    server = Server((host, port), RegistryHandler)
    server.state = RegistryState(revision)
    return server


def main(argv):
    """`registry [--listen HOST:PORT] [--revision N]`: serve the fake models until interrupted."""
    listen, revision = "0.0.0.0:5000", 1
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg == "--listen" and args:
            listen = args.pop(0)
        elif arg == "--revision" and args:
            revision = int(args.pop(0))
        else:
            print("usage: registry [--listen HOST:PORT] [--revision N]", file=sys.stderr)
            return 2
    host, port = split_hostport(listen, 5000)
    server = make_server(host, port, revision)
    print("registry listening on %s:%d" % server.server_address[:2], file=sys.stderr, flush=True)
    server.serve_until_stopped()
    return 0

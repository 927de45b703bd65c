"""Pull and push over the registry protocol, the way server/images.go and server/download.go do."""
import http.client
import json
import os
import socket
import time
import urllib.parse

from . import VERSION
from .names import DEFAULT_HOST
from .store import MANIFEST_MEDIA_TYPE, sha256_file

MIN_PART = 100 * 1000 * 1000
MAX_PART = 1000 * 1000 * 1000
MAX_PARTS = 16
MAX_RETRIES = 6
TICK = 0.06


class TransferError(Exception):
    pass


class Cancelled(Exception):
    """The client that asked for the transfer went away."""


def user_agent():
    return "ollama/%s (amd64 linux) Go/go1.24.0" % VERSION


def registry_base(name, insecure):
    """Base URL for a name's registry; OLLAMA_DOUBLE_REGISTRY stands in for registry.ollama.ai."""
    if name.scheme == "http" and not insecure:
        raise TransferError("insecure protocol http")
    override = os.environ.get("OLLAMA_DOUBLE_REGISTRY", "").strip().strip("\"'")
    if override and name.host.lower() == DEFAULT_HOST:
        return override.rstrip("/")
    return "%s://%s" % ("http" if insecure else name.scheme, name.host)


def _request(method, url, headers=None, body=None, follow=True):
    """One request (following redirects that stay on the same hostname); returns (response, final url)."""
    origin = urllib.parse.urlsplit(url).hostname
    for unused_hop in range(11):
        parts = urllib.parse.urlsplit(url)
        cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        conn = cls(parts.hostname, parts.port, timeout=30)
        target = parts.path + ("?" + parts.query if parts.query else "")
        try:
            conn.request(method, target, body=body, headers=dict({"User-Agent": user_agent()}, **(headers or {})))
            resp = conn.getresponse()
        except OSError as exc:
            conn.close()
            raise TransferError('%s "%s": %s' % (method.capitalize(), url, _net_error(exc, parts))) from exc
        location = resp.getheader("Location")
        if follow and resp.status in (301, 302, 303, 307, 308) and location:
            nxt = urllib.parse.urljoin(url, location)
            if urllib.parse.urlsplit(nxt).hostname == origin:
                resp.read()
                conn.close()
                url = nxt
                continue
        return resp, url
    raise TransferError("stopped after 10 redirects")


def _net_error(exc, parts):
    """Go's net/http wording for a failed dial, which is what callers of the real server match on."""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if isinstance(exc, socket.gaierror):
        return "dial tcp: lookup %s: no such host" % parts.hostname
    if isinstance(exc, ConnectionRefusedError):
        return "dial tcp %s:%d: connect: connection refused" % (parts.hostname, port)
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "dial tcp %s:%d: i/o timeout" % (parts.hostname, port)
    return str(exc) or type(exc).__name__


def fetch_manifest(base, name):
    url = "%s/v2/%s/%s/manifests/%s" % (base, name.namespace, name.model, name.tag)
    try:
        resp, unused_url = _request("GET", url, {"Accept": MANIFEST_MEDIA_TYPE})
    except TransferError as exc:
        raise TransferError("pull model manifest: %s" % exc) from exc
    body = resp.read()
    if resp.status == 404:
        raise TransferError("pull model manifest: file does not exist")
    if resp.status >= 400:
        raise TransferError("pull model manifest: %d: %s" % (resp.status, body.decode("utf-8", "replace")))
    return body


class _Download:
    def __init__(self, store, base, name, layer, progress):
        self.store = store
        self.layer = layer
        self.digest = layer["digest"]
        self.url = "%s/v2/%s/%s/blobs/%s" % (base, name.namespace, name.model, self.digest)
        self.progress = progress
        self.status = "pulling %s" % self.digest[7:19]
        self.total = 0
        self.completed = 0
        self.last_tick = 0.0
        self.reported = -1

    def report(self, force=False):
        now = time.monotonic()
        if (force and self.reported != self.completed) or now - self.last_tick >= TICK:
            self.last_tick = now
            self.reported = self.completed
            self.progress(self.status, self.digest, self.total, self.completed)

    def direct_url(self):
        resp, final = _request("GET", self.url)
        # Only the headers matter here; the body (if any) is left unread, as upstream does.
        resp.close()
        if resp.status not in (200, 307):
            raise TransferError("unexpected status code %d" % resp.status)
        location = resp.getheader("Location")
        if not location:
            raise TransferError("http: no Location header in response")
        return urllib.parse.urljoin(final, location)

    def run(self):
        head, unused_url = _request("HEAD", self.url)
        head.read()
        if head.status >= 400:
            raise TransferError("%d: %s" % (head.status, head.reason))
        self.total = int(head.getheader("Content-Length") or 0)
        direct = self.direct_url()
        size = min(max(self.total // MAX_PARTS, MIN_PART), MAX_PART)
        parts = [(offset, min(size, self.total - offset)) for offset in range(0, self.total, size)]
        data_path = self.store.blob_path(self.digest) + "-partial"
        completed = self._resumable(data_path, parts)
        if completed is None:
            completed = [0] * len(parts)
            with open(data_path, "wb") as f:
                f.truncate(self.total)
        self.completed = sum(completed)
        for index, (offset, length) in enumerate(parts):
            if completed[index] < length:
                self._part(direct, data_path, index, offset, length, completed[index])
        os.replace(data_path, self.store.blob_path(self.digest))
        for index in range(len(parts)):
            _remove(data_path + "-%d" % index)
        self.report(force=True)

    def _resumable(self, data_path, parts):
        """Bytes done per part of an earlier pull of this blob (its -partial-N files), or None to start over."""
        try:
            if os.path.getsize(data_path) != self.total:
                return None
            completed = []
            for index, (offset, length) in enumerate(parts):
                with open(data_path + "-%d" % index) as meta:
                    part = json.load(meta)
                if (part.get("Offset"), part.get("Size")) != (offset, length) or not 0 <= part.get("Completed", -1) <= length:
                    return None
                completed.append(part["Completed"])
            return completed
        except (OSError, ValueError, TypeError):
            return None

    def _part(self, url, data_path, index, offset, length, done):
        meta_path = data_path + "-%d" % index

        def record():
            with open(meta_path, "w") as meta:
                json.dump({"N": index, "Offset": offset, "Size": length, "Completed": done}, meta)
        for attempt in range(MAX_RETRIES):
            record()
            headers = {"Range": "bytes=%d-%d" % (offset + done, offset + length - 1)}
            try:
                # Ranged GETs go straight to the direct URL; no auth headers travel there.
                resp, unused_url = _request("GET", url, headers, follow=False)
                if resp.status >= 400:
                    raise TransferError("%d: %s" % (resp.status, resp.reason))
                with open(data_path, "r+b") as f:
                    f.seek(offset + done)
                    while done < length:
                        chunk = resp.read(min(64 * 1024, length - done))
                        if not chunk:
                            raise http.client.IncompleteRead(b"")
                        f.write(chunk)
                        done += len(chunk)
                        self.completed += len(chunk)
                        self.report()
                return
            except (OSError, http.client.HTTPException, TransferError) as exc:
                # What arrived stays: the next attempt, or the next pull, asks only for the rest.
                record()
                if attempt == MAX_RETRIES - 1:
                    raise TransferError("%s part %d attempt %d failed: unexpected EOF" % (self.digest[7:19], index, attempt)) from exc
                time.sleep(0.05 * (attempt + 1))


def _remove(path):
    try:
        os.remove(path)
    except OSError:
        pass


def pull(store, name, insecure, emit, noprune=False):
    """Pull `name` into `store`, calling emit(dict) for each progress message (raises TransferError)."""
    base = registry_base(name, insecure)
    emit({"status": "pulling manifest"})
    raw = fetch_manifest(base, name)
    try:
        manifest = json.loads(raw)
    except ValueError as exc:
        raise TransferError("pull model manifest: %s" % exc) from exc
    layers = list(manifest.get("layers") or []) + [manifest["config"]]

    def progress(status, digest, total, completed):
        msg = {"status": status, "digest": digest}
        if total:
            msg["total"] = total
        if completed:
            msg["completed"] = completed
        emit(msg)

    store.ensure()
    for layer in layers:
        if store.has_blob(layer["digest"]):
            progress("pulling %s" % layer["digest"][7:19], layer["digest"], layer["size"], layer["size"])
            continue
        try:
            _Download(store, base, name, layer, progress).run()
        except (OSError, http.client.HTTPException) as exc:
            raise TransferError(str(exc) or type(exc).__name__) from exc

    emit({"status": "verifying sha256 digest"})
    for layer in layers:
        path = store.blob_path(layer["digest"])
        got = sha256_file(path)
        if got != layer["digest"]:
            _remove(path)
            raise TransferError("digest mismatch, file must be downloaded again: want %s, got %s" % (layer["digest"], got))

    try:
        old = store.get(name)
    except FileNotFoundError:
        old = None
    emit({"status": "writing manifest"})
    store.write_manifest(name, raw)
    unused = set(old.digests()) - {layer["digest"] for layer in layers} if old else set()
    if unused and not noprune:
        emit({"status": "removing unused layers"})
        store.remove_unused(unused)
    emit({"status": "success"})


def push(store, name, insecure, emit):
    """Push a local model: blob HEAD, POST/PATCH/PUT uploads, then the manifest."""
    emit({"status": "retrieving manifest"})
    base = registry_base(name, insecure)
    try:
        entry = store.get(name)
    except FileNotFoundError as exc:
        raise TransferError("open %s: no such file or directory" % store.manifest_path(name)) from exc
    repo = "%s/%s" % (entry.name.namespace, entry.name.model)
    for layer in entry.layers() + [entry.manifest["config"]]:
        digest, size = layer["digest"], layer["size"]
        status = "pushing %s" % digest[7:19]
        head, unused_url = _request("HEAD", "%s/v2/%s/blobs/%s" % (base, repo, digest))
        head.read()
        if head.status != 200:
            emit({"status": status, "digest": digest, "total": size})
            _upload(base, repo, digest, store.read_blob(digest))
        emit({"status": status, "digest": digest, "total": size, "completed": size})
    emit({"status": "pushing manifest"})
    resp, unused_url = _request("PUT", "%s/v2/%s/manifests/%s" % (base, repo, entry.name.tag), {"Content-Type": MANIFEST_MEDIA_TYPE}, entry.raw)
    body = resp.read()
    if resp.status >= 400:
        raise TransferError("%d: %s" % (resp.status, body.decode("utf-8", "replace")))
    emit({"status": "success"})


def _upload(base, repo, digest, data):
    resp, final = _request("POST", "%s/v2/%s/blobs/uploads/" % (base, repo), body=b"")
    resp.read()
    location = resp.getheader("Location") or resp.getheader("Docker-Upload-Location")
    if resp.status >= 400 or not location:
        raise TransferError("%d: %s" % (resp.status, resp.reason))
    url = urllib.parse.urljoin(final, location)
    resp, unused_url = _request("PATCH", url, {"Content-Type": "application/octet-stream"}, data)
    resp.read()
    url = urllib.parse.urljoin(url, resp.getheader("Location") or url)
    sep = "&" if "?" in url else "?"
    resp, unused_url = _request("PUT", url + sep + "digest=" + digest, {"Content-Length": "0"}, b"")
    resp.read()
    if resp.status >= 400:
        raise TransferError("%d: %s" % (resp.status, resp.reason))

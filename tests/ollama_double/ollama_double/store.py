"""The on-disk model store: manifests/<host>/<namespace>/<model>/<tag> and blobs/sha256-<hex>."""
import hashlib
import json
import os
import re
import tempfile

from .names import Name
from .wire import go_json

MANIFEST_MEDIA_TYPE = "application/vnd.docker.distribution.manifest.v2+json"
CONFIG_MEDIA_TYPE = "application/vnd.docker.container.image.v1+json"
MEDIA_PREFIX = "application/vnd.ollama.image."
_DIGEST = re.compile(r"sha256[:-][0-9a-fA-F]{64}\Z")


class InvalidDigest(ValueError):
    def __init__(self):
        super().__init__("invalid digest format")


def default_models_dir():
    return os.path.join(os.path.expanduser("~"), ".ollama", "models")


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


class Entry:
    """One installed model, as /api/tags and friends see it."""

    def __init__(self, name, path, raw):
        self.name = name
        self.path = path
        self.raw = raw
        self.manifest = json.loads(raw)
        self.digest = hashlib.sha256(raw).hexdigest()
        self.modified_ns = os.stat(path).st_mtime_ns
        layers = self.manifest.get("layers") or []
        self.size = sum(layer.get("size", 0) for layer in layers) + self.manifest.get("config", {}).get("size", 0)

    def layers(self):
        return self.manifest.get("layers") or []

    def digests(self):
        found = [layer["digest"] for layer in self.layers()]
        config = self.manifest.get("config") or {}
        if config.get("digest"):
            found.append(config["digest"])
        return found

    def layer(self, kind):
        for layer in self.layers():
            if layer.get("mediaType") == MEDIA_PREFIX + kind:
                return layer
        return None


class Store:
    def __init__(self, root):
        self.root = root
        self.blobs = os.path.join(root, "blobs")
        self.manifests = os.path.join(root, "manifests")

    def ensure(self):
        os.makedirs(self.blobs, exist_ok=True)
        os.makedirs(self.manifests, exist_ok=True)

    # blobs

    def blob_path(self, digest):
        if not _DIGEST.match(digest or ""):
            raise InvalidDigest()
        return os.path.join(self.blobs, "sha256-" + digest[7:])

    def has_blob(self, digest):
        return os.path.exists(self.blob_path(digest))

    def read_blob(self, digest):
        with open(self.blob_path(digest), "rb") as f:
            return f.read()

    def write_blob(self, data):
        """Store bytes; returns (digest, whether the blob was new)."""
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        path = self.blob_path(digest)
        if os.path.exists(path):
            return digest, False
        self.ensure()
        self._atomic_write(path, data)
        return digest, True

    def write_blob_stream(self, chunks):
        """Store a streamed upload; returns its digest (the caller decides whether to keep it)."""
        self.ensure()
        fd, tmp = tempfile.mkstemp(prefix="sha256-", suffix="-partial", dir=self.blobs)
        h = hashlib.sha256()
        with os.fdopen(fd, "wb") as f:
            for chunk in chunks:
                h.update(chunk)
                f.write(chunk)
        digest = "sha256:" + h.hexdigest()
        os.replace(tmp, self.blob_path(digest))
        return digest

    def new_layer(self, data, media_type):
        """A layer for the bytes, with the status line the server reports for it."""
        digest, created = self.write_blob(data)
        verb = "creating new layer" if created else "using existing layer"
        return {"mediaType": media_type, "digest": digest, "size": len(data)}, "%s %s" % (verb, digest)

    # manifests

    def manifest_path(self, name):
        return os.path.join(self.manifests, name.host, name.namespace, name.model, name.tag)

    def resolve(self, name):
        """The installed spelling of `name` when one matches case-insensitively, part by part."""
        path = self.manifests
        parts = []
        for part in name.parts():
            try:
                entries = os.listdir(path)
            except OSError:
                entries = []
            match = part if part in entries else next((e for e in sorted(entries) if e.lower() == part.lower()), part)
            parts.append(match)
            path = os.path.join(path, match)
        return Name(*parts, scheme=name.scheme)

    def get(self, name):
        """The Entry of an installed model; raises FileNotFoundError."""
        name = self.resolve(name)
        path = self.manifest_path(name)
        with open(path, "rb") as f:
            raw = f.read()
        return Entry(name, path, raw)

    def write_manifest(self, name, raw):
        path = self.manifest_path(name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self._atomic_write(path, raw)

    def build_manifest(self, config_layer, layers):
        doc = {"schemaVersion": 2, "mediaType": MANIFEST_MEDIA_TYPE, "config": config_layer, "layers": layers}
        return go_json(doc).encode("utf-8")

    def entries(self):
        found = []
        if not os.path.isdir(self.manifests):
            return found
        for host in sorted(os.listdir(self.manifests)):
            for ns in self._dirs(self.manifests, host):
                for model in self._dirs(self.manifests, host, ns):
                    for tag in self._files(self.manifests, host, ns, model):
                        name = Name(host, ns, model, tag)
                        if not name.is_valid():
                            continue
                        path = self.manifest_path(name)
                        try:
                            with open(path, "rb") as f:
                                found.append(Entry(name, path, f.read()))
                        except (OSError, ValueError):
                            continue
        return found

    def delete_manifest(self, entry):
        os.remove(entry.path)
        # Like upstream, drop the directories the manifest leaves empty.
        parent = os.path.dirname(entry.path)
        while parent != self.manifests:
            try:
                os.rmdir(parent)
            except OSError:
                break
            parent = os.path.dirname(parent)

    def referenced(self):
        used = set()
        for entry in self.entries():
            used.update(entry.digests())
        return used

    def remove_unused(self, digests):
        """Delete those of `digests` that no manifest references any more."""
        used = self.referenced()
        for digest in digests:
            if digest not in used:
                try:
                    os.remove(self.blob_path(digest))
                except OSError:
                    pass

    def prune(self):
        """Startup clean-up: rename legacy `sha256:` files, delete partial and unreferenced blobs."""
        if not os.path.isdir(self.blobs):
            return
        used = self.referenced()
        for fname in os.listdir(self.blobs):
            path = os.path.join(self.blobs, fname)
            if fname.startswith("sha256:"):
                fixed = os.path.join(self.blobs, fname.replace(":", "-", 1))
                os.replace(path, fixed)
                path, fname = fixed, os.path.basename(fixed)
            digest = fname.replace("-", ":", 1)
            if not _DIGEST.match(digest) or digest not in used:
                try:
                    os.remove(path)
                except OSError:
                    pass

    @staticmethod
    def _dirs(*parts):
        path = os.path.join(*parts)
        return sorted(e for e in os.listdir(path) if os.path.isdir(os.path.join(path, e))) if os.path.isdir(path) else []

    @staticmethod
    def _files(*parts):
        path = os.path.join(*parts)
        return sorted(e for e in os.listdir(path) if os.path.isfile(os.path.join(path, e)))

    @staticmethod
    def _atomic_write(path, data):
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)

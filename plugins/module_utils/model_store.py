# Copyright (c) 2025, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""An Ollama models directory on disk: list, verify, copy between stores and pack into bundles.

Layout (docs/ollama-behaviour.md section 3): manifests/<host>/<namespace>/<model>/<tag> and
blobs/sha256-<hex>. A bundle is an uncompressed tar of such files with a SHA256SUMS member
(sha256sum format) listing every other member.

Internal to llmops.ollama, not a public API: it may change in any release (plugins/module_utils/README.md).
"""

import hashlib
import io
import json
import os
import re
import tarfile
import tempfile

from ansible_collections.llmops.ollama.plugins.module_utils.model_name import InvalidModelName, ModelName

SUMS_MEMBER = 'SHA256SUMS'
_DIGEST = re.compile(r'sha256:[0-9a-f]{64}\Z')
_CHUNK = 1024 * 1024


class StoreError(Exception):
    pass


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(_CHUNK), b''):
            digest.update(chunk)
    return digest.hexdigest()


def blob_file(digest):
    """Relative path of a blob: the colon of the digest becomes a dash."""
    return 'blobs/' + digest.replace(':', '-')


class Model(object):
    """One manifest: its name, raw bytes (whose sha256 is the digest Ollama shows) and blobs."""

    def __init__(self, name, raw):
        self.name = name
        self.raw = raw
        self.digest = hashlib.sha256(raw).hexdigest()
        try:
            doc = json.loads(raw.decode('utf-8'))
            layers = list(doc.get('layers') or []) + [doc['config']]
            self.blobs = [(layer['digest'], int(layer['size'])) for layer in layers]
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise StoreError('model %s: manifest %s is not a valid manifest (%s)' % (name.display, name.manifest_path, e))
        for digest, unused_size in self.blobs:
            if not isinstance(digest, str) or not _DIGEST.match(digest):
                raise StoreError('model %s: manifest %s names an invalid digest %r' % (name.display, name.manifest_path, digest))

    @property
    def size(self):
        return sum(size for unused_digest, size in self.blobs)

    def summary(self):
        return {'name': self.name.display, 'manifest': self.name.manifest_path, 'digest': self.digest, 'size': self.size,
                'blobs': [digest for digest, unused_size in self.blobs]}


def select(models, wanted):
    """The models matching the names in `wanted` (all when empty); a name matching nothing is an error."""
    if not wanted:
        return list(models)
    chosen = []
    for text in wanted:
        try:
            name = ModelName.parse(text)
        except InvalidModelName as e:
            raise StoreError(str(e))
        found = [m for m in models if m.name.matches(name)]
        if not found:
            raise StoreError('model %s is not in the store (it holds: %s)'
                             % (name.display, ', '.join(sorted(m.name.display for m in models)) or 'nothing'))
        chosen.extend(m for m in found if m not in chosen)
    return chosen


class Store(object):
    """A models directory on this host."""

    def __init__(self, root):
        self.root = root

    def path(self, relative):
        return os.path.join(self.root, relative)

    def models(self):
        base = self.path('manifests')
        found = []
        if not os.path.isdir(base):
            return found
        for dirpath, unused_dirs, files in os.walk(base):
            parts = os.path.relpath(dirpath, base).split(os.sep)
            if len(parts) != 3:
                continue
            for tag in files:
                name = ModelName(host=parts[0], namespace=parts[1], model=parts[2], tag=tag)
                with open(os.path.join(dirpath, tag), 'rb') as f:
                    found.append(Model(name, f.read()))
        return sorted(found, key=lambda m: m.name.fullname)

    def has_blob(self, digest, size):
        path = self.path(blob_file(digest))
        return os.path.isfile(path) and os.path.getsize(path) == size

    def problems(self, models):
        """One line per missing or corrupt blob, naming the model and the digest."""
        checked = {}
        lines = []
        for model in models:
            for digest, size in model.blobs:
                if digest not in checked:
                    checked[digest] = self._blob_problem(digest, size)
                if checked[digest]:
                    lines.append('model %s: blob %s %s' % (model.name.display, digest, checked[digest]))
        return lines

    def _blob_problem(self, digest, size):
        path = self.path(blob_file(digest))
        if not os.path.isfile(path):
            return 'is missing (%s)' % path
        if os.path.getsize(path) != size:
            return 'has %d bytes, the manifest says %d (%s)' % (os.path.getsize(path), size, path)
        got = 'sha256:' + sha256_file(path)
        if got != digest:
            return 'is corrupt: its content hashes to %s (%s)' % (got, path)
        return None

    def manifest_differs(self, model):
        path = self.path(model.name.manifest_path)
        if not os.path.isfile(path):
            return True
        with open(path, 'rb') as f:
            return f.read() != model.raw

    # -- writing: new files get the owner of the store directory (Ollama's service user) -----------------------------

    def _owner(self):
        st = os.stat(self.root)
        return st.st_uid, st.st_gid

    def _make_dirs(self, relative_dir):
        uid, gid = self._owner()
        path = self.root
        for part in relative_dir.split('/'):
            path = os.path.join(path, part)
            if not os.path.isdir(path):
                os.mkdir(path, 0o755)
                _chown(path, uid, gid)

    def _inside(self, relative):
        """The absolute path of a store file; StoreError when it would resolve outside the store (a "..", a link)."""
        root = os.path.realpath(self.root)
        target = os.path.realpath(self.path(relative))
        if os.path.commonpath([root, target]) != root or target == root:
            raise StoreError('refusing to write %s: it resolves to %s, outside the store %s' % (relative, target, root))
        return target

    def write_stream(self, relative, stream, expected_digest=None):
        """Write a file atomically from a stream; with expected_digest the content must hash to it."""
        # Checked before any directory is made (a ".." would make them outside), and again after (a link among them).
        self._inside(relative)
        self._make_dirs(os.path.dirname(relative))
        target = self._inside(relative)
        fd, tmp = tempfile.mkstemp(prefix='.' + os.path.basename(relative) + '-', dir=os.path.dirname(target))
        digest = hashlib.sha256()
        try:
            with os.fdopen(fd, 'wb') as out:
                for chunk in iter(lambda: stream.read(_CHUNK), b''):
                    digest.update(chunk)
                    out.write(chunk)
            if expected_digest is not None and 'sha256:' + digest.hexdigest() != expected_digest:
                raise StoreError('content hashes to sha256:%s' % digest.hexdigest())
            os.chmod(tmp, 0o644)
            _chown(tmp, *self._owner())
            os.rename(tmp, target)
        except BaseException:
            _remove(tmp)
            raise

    def write_manifest(self, model):
        self.write_stream(model.name.manifest_path, io.BytesIO(model.raw))


def _chown(path, uid, gid):
    if os.geteuid() == 0:
        os.chown(path, uid, gid)


def _remove(path):
    try:
        os.remove(path)
    except OSError:
        pass


class DirectorySource(object):
    """Another models directory as the source of an import."""

    def __init__(self, root):
        if not os.path.isdir(os.path.join(root, 'manifests')):
            raise StoreError('%s is not an Ollama models directory (no manifests/ in it)' % root)
        self.store = Store(root)

    def models(self):
        return self.store.models()

    def open_blob(self, digest):
        return open(self.store.path(blob_file(digest)), 'rb')

    def close(self):
        pass


class BundleSource(object):
    """A bundle tar: manifests are checked against SHA256SUMS, blobs against their digest while copied."""

    def __init__(self, path):
        try:
            self.tar = tarfile.open(path, 'r:')
        except (tarfile.TarError, IOError, OSError) as e:
            raise StoreError('cannot read bundle %s: %s' % (path, e))
        self.path = path
        self.members = dict((m.name, m) for m in self.tar.getmembers() if m.isfile())
        if SUMS_MEMBER not in self.members:
            raise StoreError('bundle %s has no %s member: not a bundle made by model-bundle.yml' % (path, SUMS_MEMBER))
        self.sums = parse_sums(self.tar.extractfile(self.members[SUMS_MEMBER]).read().decode('utf-8'))

    def models(self):
        found = []
        for member_name in sorted(self.members):
            parts = member_name.split('/')
            if parts[0] != 'manifests':
                continue
            # A member name becomes a path in the store: anything but four valid name parts (no "..") is refused.
            try:
                if len(parts) != 5:
                    raise InvalidModelName('a manifest is manifests/<host>/<namespace>/<model>/<tag>')
                name = ModelName.from_parts(*parts[1:])
            except InvalidModelName as e:
                raise StoreError('bundle %s: member %r is not a manifest path (%s): refusing the bundle, nothing was written'
                                 % (self.path, member_name, e))
            raw = self.tar.extractfile(self.members[member_name]).read()
            want = self.sums.get(member_name)
            if want != hashlib.sha256(raw).hexdigest():
                raise StoreError('bundle %s: manifest %s does not match %s (%s): the bundle is damaged'
                                 % (self.path, member_name, SUMS_MEMBER, 'not listed' if want is None else 'sha256 differs'))
            found.append(Model(name, raw))
        return found

    def open_blob(self, digest):
        member = self.members.get(blob_file(digest))
        if member is None:
            raise StoreError('is not in the bundle')
        return self.tar.extractfile(member)

    def close(self):
        self.tar.close()


def open_source(path, checksum=None):
    """The source of an import. A bundle with a pinned checksum (sha256 hex) is hashed whole before anything in it is
    read: its own SHA256SUMS only shows that it is intact, the pin shows that it is the bundle that was made."""
    if os.path.isdir(path):
        if checksum:
            raise StoreError('checksum pins a bundle file, and %s is a directory: leave checksum out' % path)
        return DirectorySource(path)
    if os.path.isfile(path):
        actual = sha256_file(path) if checksum else None
        if actual != checksum:
            raise StoreError('bundle %s hashes to sha256:%s, not the pinned sha256:%s: refusing it, nothing was written '
                             '(a different or altered bundle; copy the right one, or pin the checksum its maker published)'
                             % (path, actual, checksum))
        return BundleSource(path)
    raise StoreError('import source %s does not exist' % path)


def parse_sums(text):
    sums = {}
    for line in text.splitlines():
        if line.strip():
            digest, unused_sep, name = line.partition('  ')
            sums[name] = digest
    return sums


def plan_import(store, models):
    """Blobs (digest, size) missing from the store and models whose manifest is new or different."""
    missing, seen = [], set()
    for model in models:
        for digest, size in model.blobs:
            if digest not in seen and not store.has_blob(digest, size):
                missing.append((digest, size))
            seen.add(digest)
    return missing, [m for m in models if store.manifest_differs(m)]


def import_models(store, source, models, missing, manifests):
    """Copy the missing blobs (each verified), then the manifests, so no manifest names an absent blob."""
    owners = {}
    for model in models:
        for digest, unused_size in model.blobs:
            owners.setdefault(digest, model)
    for digest, unused_size in missing:
        try:
            with source.open_blob(digest) as stream:
                store.write_stream(blob_file(digest), stream, expected_digest=digest)
        except (StoreError, IOError, OSError) as e:
            raise StoreError('model %s: blob %s %s; nothing of it was written' % (owners[digest].name.display, digest, e))
    for model in manifests:
        store.write_manifest(model)


def bundle_sums(store, models):
    """SHA256SUMS text for a bundle of these models (blob digests come from the checked blobs themselves)."""
    lines, seen = [], set()
    for model in models:
        lines.append((model.name.manifest_path, model.digest))
        for digest, unused_size in model.blobs:
            if digest not in seen:
                seen.add(digest)
                lines.append((blob_file(digest), digest[len('sha256:'):]))
    return ''.join('%s  %s\n' % (digest, name) for name, digest in sorted(lines))


def existing_sums(path):
    """SHA256SUMS of an existing bundle, or None."""
    try:
        with tarfile.open(path, 'r:') as tar:
            return tar.extractfile(tar.getmember(SUMS_MEMBER)).read().decode('utf-8')
    except (tarfile.TarError, IOError, OSError, KeyError, AttributeError):
        return None


def write_bundle(store, models, sums, dest):
    """Write the tar atomically (deterministic headers) and dest.sha256 beside it; returns the tar's sha256."""
    directory = os.path.dirname(os.path.abspath(dest))
    fd, tmp = tempfile.mkstemp(prefix='.' + os.path.basename(dest) + '-', dir=directory)
    os.close(fd)
    try:
        with tarfile.open(tmp, 'w:', format=tarfile.PAX_FORMAT) as tar:
            _add(tar, SUMS_MEMBER, io.BytesIO(sums.encode('utf-8')), len(sums.encode('utf-8')))
            for name in sorted(parse_sums(sums)):
                path = store.path(name)
                with open(path, 'rb') as f:
                    _add(tar, name, f, os.path.getsize(path))
        os.chmod(tmp, 0o644)
        digest = sha256_file(tmp)
        os.rename(tmp, dest)
    except BaseException:
        _remove(tmp)
        raise
    # A new file renamed into place: an open() would follow a link planted at <dest>.sha256 (/var/tmp is shared).
    fd, tmp = tempfile.mkstemp(prefix='.' + os.path.basename(dest) + '.sha256-', dir=directory)
    try:
        with os.fdopen(fd, 'w') as f:
            f.write('%s  %s\n' % (digest, os.path.basename(dest)))
        os.chmod(tmp, 0o644)
        os.rename(tmp, dest + '.sha256')
    except BaseException:
        _remove(tmp)
        raise
    return digest


def _add(tar, name, stream, size):
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o644
    info.mtime = 0
    tar.addfile(info, stream)

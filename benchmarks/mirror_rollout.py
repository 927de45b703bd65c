# Copyright (c) 2025, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Bytes served by upstream and wall time to roll one model out to N hosts, without and with a model mirror.

    .venv/bin/python benchmarks/mirror_rollout.py [--hosts 1,2,4] [--model qwen2.5:0.5b] [--wan-rate BYTES_PER_S]
        [--json FILE]

Everything runs on loopback: the double's registry is "upstream", its blob bodies slowed to --wan-rate (a WAN link);
each "host" is an Ollama double with its own models directory in a temporary directory. Without the mirror, every host
pulls from upstream. With it, one more double fills the mirror's store from upstream, and the hosts pull from a
stand-in of the model_mirror role's nginx (a stdlib server in this script answering the role's locations: manifest
files, blob HEAD, GET with Location, ranged GETs of /blobs/sha256-<hex>) at LAN speed. Hosts pull one after another,
as a `serial: 1` rollout does. Upstream bytes are the bytes of the ranged blob GETs in upstream's request log (the
bytes a client keeps); wall time includes the mirror fill.

Not a timed test: the figures depend on the machine; docs/performance.md records them.
"""
import argparse
import contextlib
import http.server
import json
import os
import re
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tests', 'ollama_double'))

from ollama_double.testing import running_double, running_registry  # noqa: E402 pylint: disable=wrong-import-position

_MANIFEST = re.compile(r'^/v2/([^/]+)/([^/]+)/manifests/([^/]+)$')
_V2_BLOB = re.compile(r'^/v2/[^/]+/[^/]+/blobs/sha256:([0-9a-f]{64})$')
_BLOB = re.compile(r'^/blobs/(sha256-[0-9a-f]{64})$')


def call(method, url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={'Content-Type': 'application/json'})
    with urllib.request.urlopen(request, timeout=600) as response:
        raw = response.read()
    return json.loads(raw) if raw.strip() else None


def pull(ollama, name, insecure=False):
    result = call('POST', ollama + '/api/pull', {'model': name, 'insecure': insecure, 'stream': False})
    if result.get('status') != 'success':
        raise RuntimeError('pull %s failed: %s' % (name, result))


def upstream_bytes(registry):
    total = 0
    for entry in call('GET', registry + '/_double/requests'):
        match = re.match(r'bytes=(\d+)-(\d+)$', entry.get('range', ''))
        if match:
            total += int(match.group(2)) - int(match.group(1)) + 1
    return total


class MirrorHandler(http.server.BaseHTTPRequestHandler):
    """The locations of roles/model_mirror/templates/model-mirror.conf.j2, for one models directory."""

    protocol_version = 'HTTP/1.1'

    def log_message(self, *args):
        pass

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        store = self.server.store
        manifest, v2_blob, blob = _MANIFEST.match(self.path), _V2_BLOB.match(self.path), _BLOB.match(self.path)
        if manifest:
            return self._file(os.path.join(store, 'manifests', 'registry.ollama.ai', *manifest.groups()),
                              'application/vnd.docker.distribution.manifest.v2+json')
        if v2_blob:
            location = '/blobs/sha256-' + v2_blob.group(1)
            return self._file(os.path.join(store, location.lstrip('/')), 'application/octet-stream', location)
        if blob:
            return self._file(os.path.join(store, 'blobs', blob.group(1)), 'application/octet-stream')
        self._send(404, b'')

    def _file(self, path, content_type, location=None):
        try:
            with open(path, 'rb') as f:
                data = f.read()
        except OSError:
            return self._send(404, b'')
        status, body, headers = 200, data, {'Content-Type': content_type, 'Accept-Ranges': 'bytes'}
        if location:
            headers['Location'] = location
        match = re.match(r'bytes=(\d+)-(\d*)$', self.headers.get('Range') or '')
        if match:
            start = int(match.group(1))
            end = int(match.group(2)) if match.group(2) else len(data) - 1
            status, body = 206, data[start:end + 1]
            headers['Content-Range'] = 'bytes %d-%d/%d' % (start, start + len(body) - 1, len(data))
        self._send(status, body, headers)

    def _send(self, status, body, headers=None):
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(body)


@contextlib.contextmanager
def running_mirror(store):
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), MirrorHandler)
    server.store = store
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield '127.0.0.1:%d' % server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def rollout(registry, hosts, model, with_mirror, workdir):
    """Returns (upstream bytes, wall seconds) for one rollout to `hosts` fresh hosts."""
    call('DELETE', registry + '/_double/requests')
    env = {'OLLAMA_DOUBLE_REGISTRY': registry}
    with contextlib.ExitStack() as stack:
        doubles = [stack.enter_context(running_double(os.path.join(workdir, 'host%d' % i), env=env)) for i in range(hosts)]
        filler = stack.enter_context(running_double(os.path.join(workdir, 'mirror'), env=env)) if with_mirror else None
        mirror = stack.enter_context(running_mirror(os.path.join(workdir, 'mirror'))) if with_mirror else None
        started = time.perf_counter()
        if with_mirror:
            pull(filler, model)
            source = '%s/library/%s' % (mirror, model)
            for double in doubles:
                pull(double, source, insecure=True)
        else:
            for double in doubles:
                pull(double, model)
        elapsed = time.perf_counter() - started
    return upstream_bytes(registry), elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--hosts', default='1,2,4')
    parser.add_argument('--model', default='qwen2.5:0.5b')
    parser.add_argument('--wan-rate', type=int, default=200000, help='upstream blob bytes per second (0: unlimited)')
    parser.add_argument('--json', help='also write the results to this file')
    args = parser.parse_args()
    counts = [int(n) for n in args.hosts.split(',')]
    rows = []
    with running_registry() as registry:
        call('POST', registry + '/_double/config', {'rate': args.wan_rate})
        for hosts in counts:
            for with_mirror in (False, True):
                with tempfile.TemporaryDirectory() as workdir:
                    sent, seconds = rollout(registry, hosts, args.model, with_mirror, workdir)
                rows.append({'hosts': hosts, 'mirror': with_mirror, 'upstream_bytes': sent, 'wall_s': round(seconds, 3)})
    report = {'model': args.model, 'wan_rate_bytes_per_s': args.wan_rate, 'results': rows}
    print(json.dumps(report, indent=2))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(report, f, indent=2)
    print('\n| Hosts | Mirror | Bytes from upstream | Wall time (s) |')
    print('|---|---|---|---|')
    for row in rows:
        print('| %d | %s | %d | %.2f |' % (row['hosts'], 'yes' if row['mirror'] else 'no', row['upstream_bytes'], row['wall_s']))


if __name__ == '__main__':
    main()

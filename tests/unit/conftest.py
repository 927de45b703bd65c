# Copyright (c) 2025, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures shared by the unit tests: the Ollama double and its fake registry, stub servers, and a module runner."""

import contextlib
import hashlib
import http.server
import io
import json
import os
import sys
import threading
import urllib.request

import pytest

from ansible.module_utils.common import warnings
from ansible.module_utils.testing import patch_module_args

DOUBLE_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'ollama_double')
sys.path.insert(0, os.path.abspath(DOUBLE_ROOT))

from ollama_double.testing import running_double, running_registry  # noqa: E402 pylint: disable=wrong-import-position


# ansible-test units runs everything under tests/unit with ansible-core alone; a test that needs a collection of the
# `ansible` package (community.general, community.crypto) is marked so, skipped there, and run by the harness's pytest
# step (tests/harness/unit.sh: pytest -m needs_ansible_package), which has the whole package: each test runs once.
ANSIBLE_PACKAGE = all(any(os.path.isdir(os.path.join(path, 'ansible_collections', 'community', name)) for path in sys.path)
                      for name in ('general', 'crypto'))


def pytest_configure(config):
    config.addinivalue_line('markers', 'needs_ansible_package: needs collections of the ansible package (community.*); '
                                       'run by the pytest step, skipped by ansible-test units')


def pytest_collection_modifyitems(config, items):
    if ANSIBLE_PACKAGE:
        return
    skip = pytest.mark.skip(reason='needs the ansible package\'s collections (community.general, community.crypto), which '
                                   'ansible-test units does not install; the pytest step runs it')
    for item in items:
        if item.get_closest_marker('needs_ansible_package'):
            item.add_marker(skip)


def http_json(method, url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={'Content-Type': 'application/json'})
    with urllib.request.urlopen(request, timeout=30) as response:
        raw = response.read()
    return json.loads(raw) if raw.strip() else None


class Registry(str):
    """Base URL of the fake registry, with its test controls."""

    @property
    def hostport(self):
        return self.split('://', 1)[1]

    def configure(self, **config):
        http_json('POST', self + '/_double/config', config)

    def requests(self):
        return http_json('GET', self + '/_double/requests')

    def clear_requests(self):
        http_json('DELETE', self + '/_double/requests')

    def manifest_digest(self, repo, tag):
        """sha256 of the manifest as the registry serves it (what /api/tags shows after a pull)."""
        with urllib.request.urlopen('%s/v2/%s/manifests/%s' % (self, repo, tag), timeout=30) as response:
            return hashlib.sha256(response.read()).hexdigest()


class Ollama(str):
    """Base URL of a running double, with helpers to look at its API and its store on disk."""

    models_dir = None

    def tags(self):
        return http_json('GET', self + '/api/tags')['models']

    def names(self):
        return sorted(m['name'] for m in self.tags())

    def digest(self, name):
        for model in self.tags():
            if model['name'] == name:
                return model['digest']
        return None

    def pull(self, name):
        http_json('POST', self + '/api/pull', {'model': name, 'stream': False})

    def load(self, name, keep_alive='5m'):
        http_json('POST', self + '/api/generate', {'model': name, 'keep_alive': keep_alive})

    def manifests(self):
        """Every manifest file in the store, as host/namespace/model/tag."""
        root = os.path.join(self.models_dir, 'manifests')
        found = []
        for dirpath, dummy, filenames in os.walk(root):
            found.extend(os.path.relpath(os.path.join(dirpath, f), root) for f in filenames)
        return sorted(found)


@pytest.fixture(scope='session')
def registry_url():
    with running_registry() as url:
        yield Registry(url)


@pytest.fixture
def registry(registry_url):
    """The session registry, reset to its defaults around each test."""
    defaults = dict(revision=1, blob_mode='redirect', cdn_host=None, corrupt=False, interrupt=None, interrupt_every=None, rate=0)
    registry_url.configure(**defaults)
    yield registry_url
    registry_url.configure(**defaults)


@pytest.fixture
def start_ollama(tmp_path, registry):
    """Factory: start_ollama(env=None) -> Ollama, a fresh double whose default registry is the fake one."""
    with contextlib.ExitStack() as stack:
        def start(env=None, name='models'):
            models_dir = tmp_path / name
            full = {'OLLAMA_DOUBLE_REGISTRY': registry}
            full.update(env or {})
            url = Ollama(stack.enter_context(running_double(models_dir, env=full)))
            url.models_dir = str(models_dir)
            return url
        yield start


@pytest.fixture
def ollama(start_ollama):
    return start_ollama()


@pytest.fixture
def closed_port():
    """A loopback URL where nothing listens."""
    import socket
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    return 'http://127.0.0.1:%d' % port


class StubHandler(http.server.BaseHTTPRequestHandler):
    """Answers from a table {(method, path): (status, headers, body lines)} and records requests."""

    routes = {}
    seen = []

    def _answer(self):
        length = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(length) if length else b''
        self.seen.append({'method': self.command, 'path': self.path, 'headers': dict(self.headers), 'body': body})
        route = self.routes.get((self.command, self.path)) or self.routes.get(('*', '*'))
        if route is None:
            status, headers, chunks = 404, {'Content-Type': 'text/plain'}, [b'404 page not found']
        else:
            status, headers, chunks = route(self) if callable(route) else route
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header('Content-Length', str(sum(len(c) for c in chunks)))
        self.end_headers()
        for chunk in chunks:
            self.wfile.write(chunk)
            self.wfile.flush()

    do_GET = do_POST = do_DELETE = do_HEAD = _answer

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass


@pytest.fixture
def stub():
    """A stub HTTP server: set `stub.routes[(method, path)] = (status, headers, [chunks])`; `stub.seen` lists requests."""
    handler = type('Handler', (StubHandler,), {'routes': {}, 'seen': []})
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    # Clients that time out on purpose break the connection: not worth a traceback.
    server.handle_error = lambda request, client_address: None
    thread = threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.05}, daemon=True)
    thread.start()

    class Stub(str):
        routes = handler.routes
        seen = handler.seen

    yield Stub('http://127.0.0.1:%d' % server.server_address[1])
    server.shutdown()
    server.server_close()


class Answers:
    """Canned stub answers."""

    @staticmethod
    def json(status, body):
        return status, {'Content-Type': 'application/json'}, [json.dumps(body).encode()]

    @staticmethod
    def ndjson(status, *messages):
        return status, {'Content-Type': 'application/x-ndjson'}, [json.dumps(m).encode() + b'\n' for m in messages]

    @staticmethod
    def text(status, text):
        return status, {'Content-Type': 'text/plain'}, [text.encode()]


@pytest.fixture
def answers():
    return Answers


class ModuleResult(dict):
    @property
    def failed(self):
        return bool(self.get('failed'))


def _run_module(module, args, check=False, diff=False):
    args = dict(args, _ansible_check_mode=check, _ansible_diff=diff)
    # Each real module run is a new process: no warnings or deprecations carried over from the last one.
    warnings._global_warnings.clear()  # pylint: disable=protected-access
    warnings._global_deprecations.clear()  # pylint: disable=protected-access
    out = io.StringIO()
    with patch_module_args(args), contextlib.redirect_stdout(out):
        with pytest.raises(SystemExit):
            module.main()
    return ModuleResult(json.loads(out.getvalue()))


@pytest.fixture
def run_module():
    """run_module(module, args, check=False, diff=False): main() as Ansible runs it; returns the result dict."""
    return _run_module

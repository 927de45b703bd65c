"""Fixtures: a fake registry (one per session) and Ollama doubles on ephemeral loopback ports."""
import http.client
import json
import os
import sys
import urllib.parse

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from ollama_double.testing import running_double, running_registry  # noqa: E402


class Api:
    """Minimal HTTP client returning (status, headers, body) so tests see exactly what the server sent."""

    def __init__(self, base):
        self.base = base
        parts = urllib.parse.urlsplit(base)
        self.host, self.port = parts.hostname, parts.port

    def raw(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp.status, resp, data

    def json(self, method, path, body=None, headers=None):
        status, unused_resp, data = self.raw(method, path, body, headers)
        return status, json.loads(data) if data else None

    def lines(self, path, body):
        status, resp, data = self.raw("POST", path, body)
        return status, [json.loads(line) for line in data.splitlines() if line.strip()]

    def post(self, path, body):
        return self.json("POST", path, body)


@pytest.fixture(scope="session")
def registry_url():
    with running_registry() as url:
        yield url


@pytest.fixture
def registry(registry_url):
    """The session registry, reset to defaults around each test."""
    api = Api(registry_url)
    defaults = {"revision": 1, "blob_mode": "redirect", "cdn_host": None, "corrupt": False, "interrupt": None, "rate": 0}
    api.post("/_double/config", defaults)
    api.raw("DELETE", "/_double/requests")
    yield api
    api.post("/_double/config", defaults)


@pytest.fixture
def start_double(tmp_path, registry_url):
    """Factory: start_double(env=None, models=None) -> Api of a fresh double (stopped after the test)."""
    stack = []

    def start(env=None, models=None):
        full = {"OLLAMA_DOUBLE_REGISTRY": registry_url}
        full.update(env or {})
        ctx = running_double(models or (tmp_path / "models"), env=full)
        url = ctx.__enter__()
        stack.append(ctx)
        api = Api(url)
        api.url = url
        return api

    yield start
    for ctx in reversed(stack):
        ctx.__exit__(None, None, None)


@pytest.fixture
def double(start_double):
    return start_double()


@pytest.fixture(scope="module")
def loaded(tmp_path_factory, registry_url):
    """A module-wide double with smollm2:135m and all-minilm pulled (tests must not delete them)."""
    models = tmp_path_factory.mktemp("models")
    with running_double(models, env={"OLLAMA_DOUBLE_REGISTRY": registry_url}) as url:
        api = Api(url)
        api.url = url
        for name in ("smollm2:135m", "all-minilm"):
            status, body = api.post("/api/pull", {"model": name, "stream": False})
            if status != 200:
                raise RuntimeError(body)
        yield api

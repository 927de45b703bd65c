"""Fixtures: a fake registry (one per session) and Ollama doubles on ephemeral loopback ports."""
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from ollama_double.testing import Api, running_double, running_registry  # noqa: E402


@pytest.fixture(scope="session")
def registry_url():
    with running_registry() as url:
        yield url


@pytest.fixture
def registry(registry_url):
    """The session registry, reset to defaults around each test."""
    api = Api(registry_url)
    defaults = {"revision": 1, "blob_mode": "redirect", "cdn_host": None, "corrupt": False, "interrupt": None, "interrupt_every": None, "rate": 0}
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

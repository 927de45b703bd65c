"""Helpers for tests elsewhere in the collection:

    sys.path.insert(0, "tests/ollama_double")
    from ollama_double.testing import running_double, running_registry

    with running_registry() as registry, running_double(tmp_path, env={"OLLAMA_DOUBLE_REGISTRY": registry}) as url:
        ...  # url is e.g. "http://127.0.0.1:41234"; url.process, url.log() are there too
"""
import contextlib
import http.client
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.parse

from . import registry as registry_module

PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class DoubleURL(str):
    """The base URL of a running double, carrying its process and captured stderr."""

    process = None
    lines = None

    def log(self):
        return "".join(self.lines)


def spawn(models_dir, env=None, args=("serve",)):
    """Start `ollama serve` of this checkout on a free loopback port; returns the Popen with `.lines` (stderr)."""
    full = dict(os.environ)
    full.update({"OLLAMA_HOST": "127.0.0.1:0", "OLLAMA_MODELS": str(models_dir), "PYTHONPATH": PACKAGE_ROOT})
    full.update({k: str(v) for k, v in (env or {}).items()})
    proc = subprocess.Popen([sys.executable, "-m", "ollama_double"] + list(args), env=full, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    proc.lines = []
    ready = threading.Event()

    def drain():
        for line in proc.stderr:
            proc.lines.append(line)
            if "Listening on" in line:
                ready.set()
        ready.set()

    threading.Thread(target=drain, daemon=True).start()
    ready.wait(20)
    return proc


@contextlib.contextmanager
def running_double(models_dir, env=None):
    """Run the double in a subprocess (its environment is read at start, like the real server)."""
    proc = spawn(models_dir, env)
    try:
        match = None
        deadline = time.monotonic() + 20
        while match is None and time.monotonic() < deadline:
            match = re.search(r"Listening on (\S+) \(version", "".join(proc.lines))
            if match is None:
                if proc.poll() is not None:
                    break
                time.sleep(0.02)
        if match is None:
            raise RuntimeError("ollama double did not start:\n" + "".join(proc.lines))
        url = DoubleURL("http://" + match.group(1))
        url.process, url.lines = proc, proc.lines
        yield url
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextlib.contextmanager
def running_registry(revision=1):
    """Run the fake model registry in a thread on a free loopback port; yields its base URL."""
    server = registry_module.make_server("127.0.0.1", 0, revision)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield "http://127.0.0.1:%d" % server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


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

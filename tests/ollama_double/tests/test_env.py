"""Environment variables and test knobs (fact sheet §5)."""
import os
import threading
import time

import pytest

from ollama_double import envconfig
from ollama_double.cli import parse_time
from ollama_double.testing import spawn


@pytest.mark.parametrize("value,expected", [
    ("", ("http", "127.0.0.1", 11434)),
    ("0.0.0.0", ("http", "0.0.0.0", 11434)),
    ("0.0.0.0:8080", ("http", "0.0.0.0", 8080)),
    ("http://h", ("http", "h", 80)),
    ("https://h", ("https", "h", 443)),
    ("'127.0.0.1:1234'", ("http", "127.0.0.1", 1234)),
    ("[::1]:9000", ("http", "::1", 9000)),
    ("h:notaport", ("http", "h", 11434)),
])
def test_ollama_host(monkeypatch, value, expected):
    monkeypatch.setenv("OLLAMA_HOST", value)
    assert envconfig.host() == expected


def test_keep_alive_env(monkeypatch):
    monkeypatch.setenv("OLLAMA_KEEP_ALIVE", "10m")
    assert envconfig.keep_alive_ns() == 600 * 10 ** 9
    monkeypatch.setenv("OLLAMA_KEEP_ALIVE", "30")
    assert envconfig.keep_alive_ns() == 30 * 10 ** 9
    monkeypatch.setenv("OLLAMA_KEEP_ALIVE", "-1")
    assert envconfig.keep_alive_ns() == 2 ** 63 - 1


def test_listening_line_and_models_dir(tmp_path, start_double):
    api = start_double({"OLLAMA_KEEP_ALIVE": "1h"}, models=tmp_path / "custom")
    assert "Listening on 127.0.0.1:%d (version 0.32.15)" % api.port in api.url.log()
    assert (tmp_path / "custom" / "blobs").is_dir() and (tmp_path / "custom" / "manifests").is_dir()
    api.post("/api/pull", {"model": "smollm2:135m", "stream": False})
    api.post("/api/generate", {"model": "smollm2:135m"})
    expires = api.json("GET", "/api/ps")[1]["models"][0]["expires_at"]
    assert 3500 < parse_time(expires) - time.time() <= 3600


@pytest.mark.parametrize("processor,vram", [("gpu", "all"), ("cpu", 0), ("60", "part")])
def test_processor_knob(start_double, processor, vram):
    api = start_double({"OLLAMA_DOUBLE_PROCESSOR": processor})
    api.post("/api/pull", {"model": "all-minilm", "stream": False})
    api.post("/api/embed", {"model": "all-minilm", "input": "x"})
    m = api.json("GET", "/api/ps")[1]["models"][0]
    expected = {"all": m["size"], 0: 0, "part": m["size"] * 60 // 100}[vram]
    assert m["size_vram"] == expected


def test_tokens_per_second_and_max_queue(start_double):
    api = start_double({"OLLAMA_DOUBLE_TOKENS_PER_SECOND": "40", "OLLAMA_NUM_PARALLEL": "1", "OLLAMA_MAX_QUEUE": "1"})
    api.post("/api/pull", {"model": "smollm2:135m", "stream": False})
    results = []

    def gen():
        results.append(api.post("/api/generate", {"model": "smollm2:135m", "prompt": "x", "stream": False}))

    threads = [threading.Thread(target=gen) for unused_index in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(status for status, unused_body in results)
    assert codes == [200, 200, 503]
    busy = next(body for status, body in results if status == 503)
    assert busy == {"error": "server busy, please try again.  maximum pending requests exceeded"}
    ok = next(body for status, body in results if status == 200)
    assert ok["eval_count"] / ok["eval_duration"] * 1e9 == pytest.approx(40)


def test_cors_and_host_guard(start_double):
    api = start_double({"OLLAMA_ORIGINS": "http://allowed.example"})
    status, resp, unused_data = api.raw("GET", "/api/version", headers={"Origin": "http://allowed.example"})
    assert status == 200 and resp.getheader("Access-Control-Allow-Origin") == "http://allowed.example"
    assert api.raw("GET", "/api/version", headers={"Origin": "http://evil.example"})[0] == 403
    status, resp, unused_data = api.raw("GET", "/api/version", headers={"Origin": "http://localhost:3000"})
    assert status == 200 and resp.getheader("Access-Control-Allow-Origin") == "http://localhost:3000"
    status, resp, unused_data = api.raw("OPTIONS", "/api/chat", headers={"Origin": "http://allowed.example",
                                                                         "Access-Control-Request-Method": "POST"})
    assert status == 204 and "POST" in resp.getheader("Access-Control-Allow-Methods")
    assert api.raw("GET", "/api/version", headers={"Host": "evil.example"})[0] == 403
    assert api.raw("GET", "/api/version", headers={"Host": "localhost:1"})[0] == 200
    assert api.raw("GET", "/api/version", headers={"Host": "box.local"})[0] == 200


def test_fail_start_knob(tmp_path):
    proc = spawn(tmp_path, {"OLLAMA_DOUBLE_FAIL_START": "1"})
    assert proc.wait(10) == 1
    assert "Error:" in "".join(proc.lines)


def test_start_delay_knob(tmp_path):
    started = time.monotonic()
    proc = spawn(tmp_path, {"OLLAMA_DOUBLE_START_DELAY": "1.5"})
    try:
        listening = time.monotonic() - started
        assert any("Listening on" in line for line in proc.lines), proc.lines
        assert listening >= 1.5
        # Running all along: a slow start, not a crash.
        assert proc.poll() is None
        assert any("OLLAMA_DOUBLE_START_DELAY" in line for line in proc.lines)
    finally:
        proc.terminate()
        proc.wait(10)


def test_fail_load_knob(start_double):
    api = start_double({"OLLAMA_DOUBLE_FAIL_LOAD": "cudaMalloc failed: out of memory"})
    api.post("/api/pull", {"model": "smollm2:135m", "stream": False})
    expected = {"error": "llama runner process has terminated: cudaMalloc failed: out of memory"}
    # Streamed or not, the load fails before any output: a plain 500, and the server keeps running.
    for path, body in (("/api/generate", {"model": "smollm2:135m", "prompt": "hi"}),
                       ("/api/chat", {"model": "smollm2:135m", "messages": [{"role": "user", "content": "hi"}]}),
                       ("/api/generate", {"model": "smollm2:135m", "prompt": "hi", "stream": False})):
        assert api.json("POST", path, body) == (500, expected)
    assert api.json("GET", "/api/ps")[1]["models"] == []
    assert api.json("GET", "/api/version")[0] == 200
    assert 'level=ERROR source=sched.go:478 msg="error loading llama server"' in api.url.log()


def test_version_override(start_double):
    api = start_double({"OLLAMA_DOUBLE_VERSION": "0.13.5"})
    assert api.json("GET", "/api/version")[1] == {"version": "0.13.5"}
    assert os.environ.get("OLLAMA_DOUBLE_VERSION") is None


@pytest.mark.parametrize("stamp,expected", [
    ("2026-12-02T11:36:33Z", 1796211393.0),
    ("2026-12-02T11:36:33.250Z", 1796211393.25),
    ("2026-12-02T12:36:33.123456789+01:00", 1796211393.123456789),
    ("2026-12-02T11:36:33+00:00", 1796211393.0),
])
def test_parse_time_with_and_without_fractional_seconds(stamp, expected):
    # Whole-second mtimes (an image made by `docker commit`) give stamps without a fraction: `ollama list` read them.
    assert parse_time(stamp) == pytest.approx(expected)

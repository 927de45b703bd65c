"""The on-disk store and pulls over the registry protocol (fact sheet §1, §3, §4)."""
import hashlib
import http.client
import json
import os
import signal
import socket
import threading
import time

from ollama_double import catalog
from ollama_double.testing import Api, spawn


def statuses(lines):
    return [line.get("status") or line.get("error") for line in lines]


def test_pull_stream_and_store_layout(double, registry, tmp_path):
    status, lines = double.lines("/api/pull", {"model": "smollm2:135m"})
    assert status == 200
    seen = statuses(lines)
    assert seen[0] == "pulling manifest" and seen[-3:] == ["verifying sha256 digest", "writing manifest", "success"]
    art = catalog.lookup("library/smollm2", "135m")
    manifest = json.loads(art.manifest)
    digests = [layer["digest"] for layer in manifest["layers"]] + [manifest["config"]["digest"]]
    pulled = [line for line in lines if line["status"].startswith("pulling ") and "digest" in line]
    assert list(dict.fromkeys(line["digest"] for line in pulled)) == digests
    for line in pulled:
        assert line["status"] == "pulling " + line["digest"][7:19]
        assert "completed" not in line or 0 < line["completed"] <= line["total"]
    path = tmp_path / "models" / "manifests" / "registry.ollama.ai" / "library" / "smollm2" / "135m"
    assert path.read_bytes() == art.manifest  # byte for byte
    tags = double.json("GET", "/api/tags")[1]["models"]
    assert tags[0]["digest"] == hashlib.sha256(art.manifest).hexdigest()
    assert tags[0]["size"] == sum(len(b) for b in art.blobs.values())
    for digest in digests:
        assert (tmp_path / "models" / "blobs" / ("sha256-" + digest[7:])).exists()
    assert not [f for f in os.listdir(tmp_path / "models" / "blobs") if "partial" in f]
    # Protocol details the registry saw.
    reqs = registry.json("GET", "/_double/requests")[1]
    first = reqs[0]
    assert first["method"] == "GET" and first["path"] == "/v2/library/smollm2/manifests/135m"
    assert first["accept"] == "application/vnd.docker.distribution.manifest.v2+json"
    assert first["user-agent"] == "ollama/0.32.15 (amd64 linux) Go/go1.24.0"
    methods = [(r["method"], r["path"].split("/")[-2] if "blobs" in r["path"] else "") for r in reqs[1:4]]
    assert methods[0] == ("HEAD", "blobs") and methods[1] == ("GET", "blobs")
    assert any(r.get("range", "").startswith("bytes=0-") for r in reqs)
    # Re-pull: already there, every status still reported, one line per layer.
    status, again = double.lines("/api/pull", {"model": "smollm2:135m"})
    assert statuses(again)[-1] == "success"
    assert all(line["completed"] == line["total"] for line in again if "digest" in line)


def test_pull_errors(double, registry):
    status, lines = double.lines("/api/pull", {"model": "smollm2:missing"})
    assert status == 200 and lines[-1] == {"error": "pull model manifest: file does not exist"}
    assert double.post("/api/pull", {"model": "smollm2:missing", "stream": False}) == (
        500, {"error": "pull model manifest: file does not exist"})
    assert double.post("/api/pull", {"model": "bad name"}) == (400, {"error": "invalid model name"})
    host = registry.base.split("://")[1]
    status, lines = double.lines("/api/pull", {"model": "http://%s/library/smollm2:135m" % host})
    assert lines[-1] == {"error": "insecure protocol http"}
    assert double.json("GET", "/api/tags")[1]["models"] == []


def test_pull_from_an_unreachable_registry_uses_go_dial_errors(double):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = "127.0.0.1:%d" % s.getsockname()[1]
    status, lines = double.lines("/api/pull", {"model": "%s/library/smollm2:135m" % closed, "insecure": True})
    assert lines[-1] == {"error": 'pull model manifest: Get "http://%s/v2/library/smollm2/manifests/135m": '
                                  'dial tcp %s: connect: connection refused' % (closed, closed)}
    status, lines = double.lines("/api/pull", {"model": "no-such-host.invalid/library/smollm2:135m"})
    assert lines[-1]["error"].endswith("dial tcp: lookup no-such-host.invalid: no such host")


def test_pull_insecure_custom_host_and_stream_false(double, registry):
    host = registry.base.split("://")[1]
    assert double.post("/api/pull", {"model": "%s/library/qwen2.5:0.5b" % host, "insecure": True, "stream": False}) == (
        200, {"status": "success"})
    assert double.json("GET", "/api/tags")[1]["models"][0]["name"] == "%s/library/qwen2.5:0.5b" % host


def test_blob_redirect_rules(double, registry):
    host = registry.base.split("://")[1]
    # 307 to another hostname: not followed; the Location is the direct URL.
    registry.post("/_double/config", {"cdn_host": "localhost:" + host.split(":")[1]})
    assert double.post("/api/pull", {"model": "all-minilm", "stream": False})[0] == 200
    # 200 carrying a Location header also works.
    registry.post("/_double/config", {"blob_mode": "location", "cdn_host": None})
    assert double.post("/api/pull", {"model": "qwen2.5:0.5b", "stream": False})[0] == 200
    # A plain registry:2 (200 without Location) fails like upstream.
    registry.post("/_double/config", {"blob_mode": "direct"})
    assert double.post("/api/pull", {"model": "smollm2:135m", "stream": False}) == (
        500, {"error": "http: no Location header in response"})


def test_digest_mismatch(double, registry):
    registry.post("/_double/config", {"corrupt": True})
    status, body = double.post("/api/pull", {"model": "all-minilm", "stream": False})
    assert status == 500 and body["error"].startswith("digest mismatch, file must be downloaded again: want sha256:")
    assert double.json("GET", "/api/tags")[1]["models"] == []


def test_flaky_connection_is_retried(double, registry):
    registry.post("/_double/config", {"interrupt": 1000})
    assert double.post("/api/pull", {"model": "all-minilm", "stream": False}) == (200, {"status": "success"})


def test_failed_pull_is_resumed_by_the_next_pull(tmp_path, double, registry, registry_url):
    # Every attempt gets 1000 more bytes: the pull gives up after its retries, the bytes it has stay. The blob
    # URL on another host name, so that the ranged GETs are the only bodies.
    cdn = registry_url.split("://")[1].replace("127.0.0.1", "localhost")
    registry.post("/_double/config", {"interrupt_every": 1000, "cdn_host": cdn})
    registry.raw("DELETE", "/_double/requests")
    status, body = double.post("/api/pull", {"model": "all-minilm", "stream": False})
    assert status == 500 and "unexpected EOF" in body["error"]
    blobs = tmp_path / "models" / "blobs"
    assert sorted(f[71:] for f in os.listdir(blobs) if "partial" in f) == ["-partial", "-partial-0"]
    first = [r for r in registry.json("GET", "/_double/requests")[1] if r.get("range")]
    cut = first[0]["path"]
    assert [r["range"].split("-")[0] for r in first if r["path"] == cut] == ["bytes=%d" % (1000 * n) for n in range(6)]
    registry.post("/_double/config", {"interrupt_every": None})
    registry.raw("DELETE", "/_double/requests")
    assert double.post("/api/pull", {"model": "all-minilm", "stream": False}) == (200, {"status": "success"})
    again = [r["range"] for r in registry.json("GET", "/_double/requests")[1] if r.get("range") and r["path"] == cut]
    assert len(again) == 1 and again[0].startswith("bytes=6000-")
    assert not [f for f in os.listdir(blobs) if "partial" in f]


def test_interrupted_pull_then_restart(tmp_path, registry, registry_url):
    models = tmp_path / "models"
    registry.post("/_double/config", {"rate": 200000})
    proc = spawn(models, {"OLLAMA_DOUBLE_REGISTRY": registry_url})
    try:
        url = next(line for line in proc.lines if "Listening on" in line).split("Listening on ")[1].split()[0]
        api = Api("http://" + url)

        def pull_until_killed():
            try:
                api.raw("POST", "/api/pull", {"model": "smollm2:135m"})
            except (OSError, http.client.HTTPException):
                pass

        threading.Thread(target=pull_until_killed, daemon=True).start()
        deadline = time.monotonic() + 10
        while not any("partial" in f for f in (os.listdir(models / "blobs") if (models / "blobs").exists() else [])):
            assert time.monotonic() < deadline
            time.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert not (models / "manifests" / "registry.ollama.ai" / "library" / "smollm2" / "135m").exists()
    registry.post("/_double/config", {"rate": 0})
    proc = spawn(models, {"OLLAMA_DOUBLE_REGISTRY": registry_url})
    try:
        url = next(line for line in proc.lines if "Listening on" in line).split("Listening on ")[1].split()[0]
        api = Api("http://" + url)
        assert not [f for f in os.listdir(models / "blobs") if "partial" in f]  # pruned at startup
        assert api.post("/api/pull", {"model": "smollm2:135m", "stream": False}) == (200, {"status": "success"})
    finally:
        proc.terminate()
        proc.wait()


def test_restart_keeps_models_and_prunes(tmp_path, start_double):
    api = start_double()
    api.post("/api/pull", {"model": "smollm2:135m", "stream": False})
    digest = api.json("GET", "/api/tags")[1]["models"][0]["digest"]
    stray = tmp_path / "models" / "blobs" / ("sha256-" + "1" * 64)
    stray.write_bytes(b"x")
    again = start_double()
    assert again.json("GET", "/api/tags")[1]["models"][0]["digest"] == digest
    assert not stray.exists()
    stray.write_bytes(b"x")
    start_double({"OLLAMA_NOPRUNE": "1"})
    assert stray.exists()


def test_new_revision_changes_digest(double, registry):
    double.post("/api/pull", {"model": "smollm2", "stream": False})
    before = double.json("GET", "/api/tags")[1]["models"][0]["digest"]
    registry.post("/_double/config", {"revision": 2})
    status, lines = double.lines("/api/pull", {"model": "smollm2"})
    assert "removing unused layers" in statuses(lines)
    after = double.json("GET", "/api/tags")[1]["models"][0]["digest"]
    assert before != after

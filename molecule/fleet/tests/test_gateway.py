"""Checks of the fleet's gateway (fleet-gateway, role gateway), from the controller through its TLS port on the
scenario's network.

Every serving host serves smollm2:135m and support-bot; fleet-d12-native also all-minilm (embeddings),
fleet-d13-native also qwen2.5:0.5b and answers slower (2 tokens/s). Which serving host answered is read from
the serving hosts' access logs, where every request from the gateway carries the gateway's key name.
"""
import concurrent.futures
import json
import os
import re
import shlex
import ssl
import subprocess
import threading
import time

import pytest
import testinfra

GATEWAY = testinfra.get_host("docker://fleet-gateway")
NAMES = ["fleet-d12-native", "fleet-d13-native", "fleet-d13-compose"]
SERVING = dict((name, testinfra.get_host("docker://" + name)) for name in NAMES)
HOST_A, HOST_B = "fleet-d12-native", "fleet-d13-native"
BASE = "https://" + GATEWAY.interface("eth0").addresses[0]
KEY = "sk-fleet-test-0123456789abcdef"
ADMIN_KEY = "sk-fleet-admin-fedcba9876543210"
USER = ("alice", "alice-inference-pw-0123")
LOG = "/var/log/nginx/ollama-proxy.access.log"
OUT = os.path.join(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent"), "rollouts")
SHARED, BOT, ONLY_A, ONLY_B = "smollm2:135m", "support-bot:latest", "all-minilm:latest", "qwen2.5:0.5b"
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


@pytest.fixture(scope="module")
def tls():
    """Trusts the gateway's own (self-signed) certificate, which names its address on the test network."""
    return ssl.create_default_context(cadata=GATEWAY.file("/etc/nginx/ollama-proxy/tls/selfsigned.crt").content_string)


@pytest.fixture(scope="module")
def http(tls):
    httpx = pytest.importorskip("httpx")
    with httpx.Client(base_url=BASE, verify=tls, timeout=30) as client:
        yield client


def auth(key=KEY):
    return {"Authorization": "Bearer " + key}


def generate(http, model, key=KEY, tokens=2):
    if model == ONLY_A:  # an embedding model
        return http.post("/api/embed", headers=auth(key), json={"model": model, "input": "hi"})
    return http.post("/api/generate", headers=auth(key),
                     json={"model": model, "prompt": "hi", "stream": False, "options": {"num_predict": tokens}})


def log_entries(name):
    lines = SERVING[name].check_output("cat %s" % LOG).splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def landed(action):
    """Run action(); return {serving host: [(uri, status)]} of the requests the gateway sent meanwhile."""
    before = dict((name, len(log_entries(name))) for name in SERVING)
    action()
    time.sleep(0.5)
    return dict((name, [(e["uri"], e["status"]) for e in log_entries(name)[before[name]:] if e["api_key"] == "gateway"])
                for name in SERVING)


def healthz(http):
    reply = http.get("/healthz")
    return reply.status_code, reply.json()


def drain_command(hosts, state):
    """playbooks/drain.yml as users run it."""
    return ["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], os.path.join(REPO, "playbooks", "drain.yml"),
            "-e", json.dumps({"gateway_drain_hosts": hosts, "gateway_drain_state": state})]


def test_each_model_lands_on_a_host_that_has_it(http):
    def send():
        for model in (ONLY_A, ONLY_B, ONLY_A, ONLY_B):
            assert generate(http, model).status_code == 200
    seen = landed(send)
    assert seen == {HOST_A: [("/api/embed", 200)] * 2, HOST_B: [("/api/generate", 200)] * 2, "fleet-d13-compose": []}


def test_a_model_on_every_host_is_spread_over_them(http):
    seen = landed(lambda: [generate(http, SHARED).raise_for_status() for unused in range(6)])
    assert sum(len(requests) for requests in seen.values()) == 6
    assert len([name for name in NAMES if seen[name]]) >= 2, seen


def ollama_process(name):
    """(main PID of the serving host's Ollama, prefix that runs a command in its network namespace)."""
    host = SERVING[name]
    if name == "fleet-d13-compose":
        pid = host.check_output("docker inspect --format '{{.State.Pid}}' ollama")
        return pid, "nsenter --target %s --net " % pid
    return host.check_output("systemctl show --property=MainPID --value ollama"), ""


def hold(name, held):
    """Stop (held=True) or continue a serving host's Ollama where it is; its connections stay open."""
    SERVING[name].check_output("kill -%s %s" % ("STOP" if held else "CONT", ollama_process(name)[0]))


def unread_request_bytes(name):
    """Bytes that reached the held Ollama and wait unread: a request the serving host is forwarding to it."""
    unused_pid, prefix = ollama_process(name)
    lines = SERVING[name].check_output(prefix + "ss -Htn state established '( sport = :11434 )'").splitlines()
    if name == "fleet-d13-compose":
        # Inside the container, Docker's health check (`ollama list`) connects from loopback; the proxy's requests
        # come through the published port, from the bridge.
        lines = [line for line in lines if not line.split()[3].startswith(("127.", "[::1]"))]
    return sum(int(line.split()[0]) for line in lines)


HAPROXY_ADMIN = r'''
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect("/run/haproxy/admin.sock")
s.sendall(sys.argv[1].encode() + b"\n")
print(b"".join(iter(lambda: s.recv(65536), b"")).decode())
'''


def health_checks(enabled):
    """HAProxy's active checks of every serving host on or off (its admin socket, as an operator would)."""
    for name in NAMES:
        GATEWAY.check_output("python3 -c %s '%s health host_{0}/{0}'".format(host_id(name))
                             % (shlex.quote(HAPROXY_ADMIN), "enable" if enabled else "disable"))


def test_new_requests_go_to_the_hosts_with_the_fewest_running(http, tls):
    """leastconn: while one host of a model's pool works on a request, new requests for that model go to the others.
    The checks are off meanwhile: a held Ollama fails them (they would take its host out, and their own requests
    would wait on it beside the one this test looks for)."""
    httpx = pytest.importorskip("httpx")
    health_checks(False)
    held = list(NAMES)
    for name in held:
        hold(name, True)
    stream = {}

    def long_request():
        with httpx.Client(base_url=BASE, verify=tls, timeout=120) as client:
            reply = client.post("/api/generate", headers=auth(), json={"model": SHARED, "prompt": "a long story", "stream": False})
        stream.update(status=reply.status_code)

    worker = threading.Thread(target=long_request)
    try:
        worker.start()
        deadline = time.monotonic() + 20
        busy = []
        while not busy and time.monotonic() < deadline:
            time.sleep(0.5)
            busy = [name for name in NAMES if unread_request_bytes(name) > 0]
        assert len(busy) == 1, busy
        for name in NAMES:
            if name != busy[0]:
                hold(name, False)
                held.remove(name)
        # Round robin would send two of these six to the busy host, where they would wait.
        seen = landed(lambda: [generate(http, SHARED).raise_for_status() for unused in range(6)])
    finally:
        for name in held:
            hold(name, False)
        health_checks(True)
    worker.join()
    assert stream["status"] == 200
    assert sum(len(requests) for requests in seen.values()) == 6 and seen[busy[0]] == [], seen


@pytest.mark.parametrize("spelling", ["SmolLM2:135m", "library/smollm2:135m", "registry.ollama.ai/library/smollm2:135m"])
def test_model_names_match_as_ollama_matches_them(http, spelling):
    assert generate(http, spelling).status_code == 200


def test_unknown_model_gets_ollamas_404(http):
    reply = generate(http, "nope:1b")
    assert reply.status_code == 404
    assert reply.json() == {"error": "model 'nope:1b' not found"}
    assert reply.headers["content-type"].startswith("application/json")


def test_unknown_model_gets_openais_404(http):
    reply = http.post("/v1/chat/completions", headers=auth(), json={"model": "nope:1b", "messages": [{"role": "user", "content": "hi"}]})
    assert reply.status_code == 404
    assert reply.json()["error"]["type"] == "not_found_error"
    assert "nope:1b" in reply.json()["error"]["message"]


def test_model_lists_are_the_fleets_union(http):
    tags = http.get("/api/tags", headers=auth()).json()["models"]
    assert sorted(m["name"] for m in tags) == sorted([SHARED, BOT, ONLY_A, ONLY_B])
    assert all(m["digest"] for m in tags)
    ids = [m["id"] for m in http.get("/v1/models", headers=auth()).json()["data"]]
    assert sorted(ids) == sorted([SHARED, BOT, ONLY_A, ONLY_B])
    assert http.get("/v1/models/" + ONLY_B, headers=auth()).json()["id"] == ONLY_B


def test_requests_without_a_model_go_to_any_host(http):
    reply = http.get("/api/version", headers=auth())
    assert reply.status_code == 200 and reply.json()["version"]


def test_ollama_client_streams_through_the_gateway(tls):
    ollama = pytest.importorskip("ollama")
    client = ollama.Client(host=BASE, headers=auth(), verify=tls)
    start, times, text = time.monotonic(), [], ""
    for chunk in client.generate(model=ONLY_B, prompt="tell me a story", stream=True, options={"num_predict": 8}):
        times.append(time.monotonic() - start)
        text += chunk["response"]
    assert text and len(times) >= 8
    # Paced at 2 tokens/s on fleet-d13-native: chunks held back anywhere would arrive together.
    assert times[-2] - times[0] > 2, times
    chat = list(client.chat(model=BOT, messages=[{"role": "user", "content": "hi"}], stream=True, options={"num_predict": 8}))
    assert len(chat) > 2 and chat[-1]["done"]


def test_openai_client_streams_through_the_gateway(tls):
    openai = pytest.importorskip("openai")
    httpx = pytest.importorskip("httpx")
    client = openai.OpenAI(base_url=BASE + "/v1", api_key=KEY, max_retries=0, timeout=30, http_client=httpx.Client(verify=tls))
    assert sorted(m.id for m in client.models.list()) == sorted([SHARED, BOT, ONLY_A, ONLY_B])
    start, times = time.monotonic(), []
    for unused_chunk in client.chat.completions.create(model=ONLY_B, messages=[{"role": "user", "content": "hi"}], max_tokens=8,
                                                       stream=True):
        times.append(time.monotonic() - start)
    assert len(times) >= 8
    assert times[-2] - times[0] > 2, times
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="nope:1b", messages=[{"role": "user", "content": "hi"}])


@pytest.mark.parametrize("headers", [{}, auth("sk-not-a-valid-key-000000"), {"Authorization": "Basic YWxpY2U6d3Jvbmc="}],
                         ids=["none", "unknown key", "wrong password"])
def test_wrong_or_missing_credentials_are_refused_at_the_gateway(http, headers):
    replies = []
    seen = landed(lambda: replies.append(http.post("/api/generate", headers=headers, json={"model": SHARED, "prompt": "hi"})))
    assert replies[0].status_code == 401
    assert seen == dict((name, []) for name in NAMES)


def test_users_pass_like_keys(http):
    reply = http.post("/api/generate", auth=USER, json={"model": SHARED, "prompt": "hi", "stream": False, "options": {"num_predict": 2}})
    assert reply.status_code == 200


def test_inference_credentials_cannot_manage_models(http):
    assert http.post("/api/pull", headers=auth(), json={"model": SHARED}).status_code == 403
    # Admin routes check passwords against the admins' file only, as on the serving hosts.
    assert http.request("DELETE", "/api/delete", auth=USER, json={"model": SHARED}).status_code == 401
    # An admin key gets past the gateway's check (a model no host declares is then not found).
    assert http.post("/api/pull", headers=auth(ADMIN_KEY), json={"model": "nope:1b"}).status_code == 404


def test_serving_hosts_see_the_gateways_key_not_the_users(http):
    generate(http, SHARED).raise_for_status()
    gateway_address = GATEWAY.interface("eth0").addresses[0]
    for name in SERVING:
        from_gateway = [e for e in log_entries(name) if e["remote_addr"] == gateway_address]
        assert from_gateway
        assert {e["api_key"] for e in from_gateway} == {"gateway"}
        assert {e["user"] for e in from_gateway} == {""}


def test_gateway_log_names_the_credential_and_the_serving_host(http):
    generate(http, ONLY_B).raise_for_status()
    entry = json.loads(GATEWAY.check_output("tail -n 1 %s" % LOG))
    assert entry["api_key"] == "fleet-app" and entry["status"] == 200
    assert entry["serving_host"] == HOST_B
    assert KEY not in GATEWAY.file(LOG).content_string
    # The log has it; the client is not told.
    assert "x-llmops-serving-host" not in generate(http, ONLY_B).headers


def test_healthz_counts_serving_hosts_without_names(http):
    status, body = healthz(http)
    assert status == 200
    assert body == {"status": "ok", "serving_hosts": 3, "up": 3, "drained": 0, "down": 0}
    text = http.get("/healthz").text
    assert "fleet-" not in text and "0.3" not in text


def haproxy_log(since):
    """What the gateway's HAProxy logged (server states and their reasons) since a journal cursor or time."""
    return GATEWAY.check_output("journalctl -o cat --no-pager -t haproxy --since '%s'" % since)


def host_id(name):
    """The id the gateway's routing table (and HAProxy) gives a serving host."""
    routes = json.loads(GATEWAY.file("/etc/nginx/llmops-gateway/routes.json").content_string)
    return [host["id"] for host in routes["hosts"] if host["name"] == name][0]


def until(predicate, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


def test_a_stopped_serving_host_is_routed_around(http):
    since = GATEWAY.check_output("date '+%Y-%m-%d %H:%M:%S'")
    SERVING[HOST_B].check_output("systemctl stop nginx")
    try:
        # Refused connections are retried on another host at once: not one of these fails, before or after the
        # health check takes the host out.
        seen = landed(lambda: [generate(http, SHARED).raise_for_status() for unused in range(9)])
        assert sum(len(requests) for requests in seen.values()) == 9 and seen[HOST_B] == []
        assert until(lambda: healthz(http)[1]["down"] == 1, 6)
        assert healthz(http) == (200, {"status": "ok", "serving_hosts": 3, "up": 2, "drained": 0, "down": 1})
        assert "host_{0}/{0} is DOWN".format(host_id(HOST_B)) in haproxy_log(since)
        reply = generate(http, ONLY_B)
        assert reply.status_code == 503
        assert reply.headers["retry-after"] == "5" and reply.headers["x-llmops-error"] == "no-serving-host"
        assert reply.json() == {"error": "no serving host is available for this model right now; try again in a few seconds"}
    finally:
        SERVING[HOST_B].check_output("systemctl start nginx")
    assert until(lambda: healthz(http)[1]["up"] == 3, 6)
    assert "host_{0}/{0} is UP".format(host_id(HOST_B)) in haproxy_log(since)


def test_the_gateway_limits_each_client_and_the_serving_hosts_do_not_limit_the_gateway(http):
    """Past its burst (20) a client gets 429 from the gateway itself; what the gateway sends on is never refused."""
    before = dict((name, len(log_entries(name))) for name in SERVING)
    log_before = len(GATEWAY.check_output("cat %s" % LOG).splitlines())

    def version(unused):
        return http.get("/api/version", headers=auth()).status_code
    # 60 short requests, 15 at a time: far more than 10/s plus a burst of 20.
    with concurrent.futures.ThreadPoolExecutor(max_workers=15) as pool:
        codes = list(pool.map(version, range(60)))
    assert 429 in codes and 200 in codes and set(codes) <= {200, 429}, codes
    gateway_log = [json.loads(line) for line in GATEWAY.check_output("cat %s" % LOG).splitlines()[log_before:] if line.strip()]
    refused = [e for e in gateway_log if e["status"] == 429]
    # Refused at the gateway: no serving host was asked.
    assert len(refused) == codes.count(429) and all(e["upstream_addr"] == "" for e in refused)
    time.sleep(0.5)
    forwarded = [e for name in SERVING for e in log_entries(name)[before[name]:]
                 if e["api_key"] == "gateway" and e["uri"] == "/api/version"]
    assert len(forwarded) == codes.count(200) and {e["status"] for e in forwarded} == {200}
    time.sleep(3)  # let the bucket refill for the next test


def test_serving_hosts_certificates_are_verified(http):
    """A serving host presenting a certificate the gateway did not pin gets no request."""
    host = SERVING[HOST_B]
    tls_dir = "/etc/nginx/ollama-proxy/tls"
    host.check_output("cp %s/selfsigned.crt /root/pinned.crt && cp %s/selfsigned.key /root/pinned.key" % (tls_dir, tls_dir))
    try:
        host.check_output("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=fleet-d13-native "
                          "-addext subjectAltName=DNS:fleet-d13-native -keyout %s/selfsigned.key -out %s/selfsigned.crt 2>/dev/null"
                          % (tls_dir, tls_dir))
        since = GATEWAY.check_output("date '+%Y-%m-%d %H:%M:%S'")
        # A restart, not a reload: no idle connection or cached TLS session of the old certificate survives.
        host.check_output("systemctl restart nginx")
        # Refused on the first request (the TLS handshake fails), out of rotation at the next checks.
        assert generate(http, ONLY_B).status_code == 503
        assert until(lambda: "host_{0}/{0} is DOWN".format(host_id(HOST_B)) in haproxy_log(since), 6)
        assert "SSL handshake failure" in haproxy_log(since)
    finally:
        host.check_output("cp /root/pinned.crt %s/selfsigned.crt && cp /root/pinned.key %s/selfsigned.key && systemctl restart nginx"
                          % (tls_dir, tls_dir))
    assert until(lambda: healthz(http)[1]["up"] == 3, 6)
    assert generate(http, ONLY_B).status_code == 200


def test_a_drained_host_gets_no_new_requests_and_running_streams_finish(http, tls):
    httpx = pytest.importorskip("httpx")
    stream, first_chunk = {}, threading.Event()

    def long_stream():
        with httpx.Client(base_url=BASE, verify=tls, timeout=120) as client:
            with client.stream("POST", "/api/generate", headers=auth(), json={"model": ONLY_B, "prompt": "a long story"}) as reply:
                lines = []
                for line in reply.iter_lines():
                    if line:
                        lines.append(json.loads(line))
                        first_chunk.set()
        stream.update(status=reply.status_code, lines=lines, ended=time.monotonic())

    worker = threading.Thread(target=long_stream)
    worker.start()
    assert first_chunk.wait(30)
    # Hold the stream where it is: fleet-d13-native's server stops mid-answer, the connection stays open.
    SERVING[HOST_B].check_output("systemctl kill --signal=SIGSTOP ollama")
    try:
        drain = subprocess.Popen(drain_command([HOST_B], "drained"), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                 env=dict(os.environ, PYTHONUNBUFFERED="1"))
        # The drain puts the host in maintenance in HAProxy, which keeps serving the held stream, and waits for it.
        output = ""
        for line in drain.stdout:
            output += line
            if re.search(r"RETRYING: \[fleet-gateway\]: .*Wait for the requests the drained hosts were serving to finish", line):
                break
        else:
            pytest.fail("the drain did not wait for the running stream: %s" % output)
        assert healthz(http)[1]["drained"] == 1
    finally:
        SERVING[HOST_B].check_output("systemctl kill --signal=SIGCONT ollama")
    output += drain.communicate(timeout=180)[0]
    drained_at = time.monotonic()
    worker.join()
    try:
        assert drain.returncode == 0, output
        assert drained_at >= stream["ended"]
        assert stream["status"] == 200 and stream["lines"][-1]["done"]
        assert stream["lines"][-1]["eval_count"] == len(stream["lines"]) - 1 >= 10
        seen = landed(lambda: [generate(http, SHARED).raise_for_status() for unused in range(6)])
        assert sum(len(requests) for requests in seen.values()) == 6 and seen[HOST_B] == []
        reply = generate(http, ONLY_B)
        assert reply.status_code == 503
        assert "no serving host is available for this model" in reply.json()["error"]
        assert healthz(http)[1]["drained"] == 1
        # A reload keeps the drain: HAProxy's configuration was rendered with it.
        assert " disabled" in GATEWAY.file("/etc/haproxy/haproxy.cfg").content_string
        GATEWAY.check_output("systemctl reload haproxy")
        assert until(lambda: healthz(http)[1]["drained"] == 1, 3)
    finally:
        subprocess.run(drain_command([HOST_B], "active"), check=True, capture_output=True)
    seen = landed(lambda: [generate(http, ONLY_B).raise_for_status() for unused in range(2)])
    assert len(seen[HOST_B]) == 2


def test_the_rolling_upgrade_dropped_no_request():
    with open(os.path.join(OUT, "gateway-client.json")) as handle:
        client = json.load(handle)
    failed = [r for r in client["results"] if r["status"] != 200]
    assert len(client["results"]) > 20, client
    assert failed == []
    with open(os.path.join(OUT, "good.json")) as handle:
        rows = json.load(handle)["hosts"]
    assert sorted((r["host"], r["status"]) for r in rows) == sorted((name, "upgraded") for name in NAMES)
    # Every host is back in rotation, none left drained (the later rollouts put theirs back too).
    assert json.loads(GATEWAY.file("/etc/nginx/llmops-gateway/drained.json").content_string) == []
    assert " disabled" not in GATEWAY.file("/etc/haproxy/haproxy.cfg").content_string


def test_the_gateways_secrets_are_root_only():
    backend = GATEWAY.file("/etc/nginx/llmops-gateway/backend.conf")
    assert backend.user == "root" and backend.mode & 0o027 == 0
    assert "sk-fleet-gateway-" in backend.content_string
    assert "sk-fleet-gateway-" not in GATEWAY.file("/etc/nginx/llmops-gateway/routes.json").content_string

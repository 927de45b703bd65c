"""Checks of the proxy scenario, run from the outside client (proxy-client) and the controller.

proxy-server runs the Ollama double on 127.0.0.1:11434 behind nginx_proxy (TLS on 443 with a certificate
from the scenario's CA, port 80 redirecting) and UFW; proxy-client sits on the same Docker network and
trusts that CA; the controller reaches the proxy through 127.0.0.1:28471 (published 443) for the OpenAI
Python client.
"""
import json
import re
import ssl
import time

import pytest
import testinfra

SERVER = testinfra.get_host("docker://proxy-server")
CLIENT = testinfra.get_host("docker://proxy-client")
URL = "https://proxy-server"
PUBLISHED = "https://127.0.0.1:28471"
CA = "/etc/proxy-test-ca.crt"  # on proxy-client

USER = ("alice", "alice-inference-pw")
ADMIN = ("root-admin", "admin-pw-3f9c-7d21e0b4")
KEY = "sk-test-inference-0123456789abcdef"
ADMIN_KEY = "sk-test-admin-fedcba9876543210"
MODEL = "smollm2:135m"


def curl(*args):
    """Run curl on the client; returns (status, body)."""
    cmd = CLIENT.run("curl -sS --cacert " + CA + " --max-time 20 -o /tmp/body -w '%%{http_code}' %s && cat /tmp/body" % " ".join(args))
    assert cmd.rc == 0, cmd.stderr
    # the status code is printed first, then the body
    return int(cmd.stdout[:3]), cmd.stdout[3:]


def q(text):
    return "'" + text.replace("'", "'\\''") + "'"


def basic(user):
    return "-u " + q("%s:%s" % user)


def bearer(key):
    return "-H " + q("Authorization: Bearer " + key)


def test_no_credentials_401():
    assert curl(URL + "/api/tags")[0] == 401


def test_wrong_password_401():
    assert curl(basic(("alice", "wrong")), URL + "/api/tags")[0] == 401


def test_unknown_bearer_key_401():
    assert curl(bearer(KEY[:-1] + "X"), URL + "/api/tags")[0] == 401


def test_bearer_key_is_case_sensitive():
    assert curl(bearer(KEY.upper()), URL + "/api/tags")[0] == 401


def test_right_password_200():
    status, body = curl(basic(USER), URL + "/api/tags")
    assert status == 200
    assert MODEL in [m["name"] for m in json.loads(body)["models"]]


def test_bearer_key_v1_models():
    status, body = curl(bearer(KEY), URL + "/v1/models")
    assert status == 200
    assert MODEL in [m["id"] for m in json.loads(body)["data"]]


@pytest.fixture(scope="module")
def trusted_http_client():
    """An HTTP client for the controller that trusts the scenario's CA (read from proxy-client)."""
    httpx = pytest.importorskip("httpx")
    context = ssl.create_default_context(cadata=CLIENT.file(CA).content_string)
    with httpx.Client(verify=context) as client:
        yield client


def test_openai_client_through_the_proxy(trusted_http_client):
    openai = pytest.importorskip("openai")
    client = openai.OpenAI(base_url=PUBLISHED + "/v1", api_key=KEY, max_retries=0, timeout=20,
                           http_client=trusted_http_client)
    assert MODEL in [m.id for m in client.models.list()]
    reply = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}],
                                           max_tokens=8)
    assert reply.choices[0].message.content
    chunks = list(client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}],
                                                 max_tokens=8, stream=True))
    assert len(chunks) > 1


def test_openai_client_wrong_key_refused(trusted_http_client):
    openai = pytest.importorskip("openai")
    client = openai.OpenAI(base_url=PUBLISHED + "/v1", api_key="sk-not-a-valid-key-000000", max_retries=0,
                           http_client=trusted_http_client)
    with pytest.raises(openai.AuthenticationError):
        client.models.list()


@pytest.fixture
def ollama_stopped():
    """Ollama killed behind the proxy (nginx keeps running), started again afterwards."""
    SERVER.check_output("systemctl kill --signal=SIGKILL proxy-test-ollama && systemctl stop proxy-test-ollama")
    try:
        yield
    finally:
        SERVER.check_output("systemctl start proxy-test-ollama && for i in $(seq 50); do "
                            "curl -sf -o /dev/null 127.0.0.1:11434/ && exit 0; sleep 0.2; done; exit 1")


def headers_and_body(*args):
    """curl on the client with the response headers: (status, {lower-case name: value}, body)."""
    cmd = CLIENT.run("curl -sS --cacert " + CA + " --max-time 20 -D /tmp/headers -o /tmp/body -w '%%{http_code}' %s"
                     " && echo && cat /tmp/headers && echo && cat /tmp/body" % " ".join(args))
    assert cmd.rc == 0, cmd.stderr
    status, rest = cmd.stdout.split("\n", 1)
    head, body = rest.split("\r\n\r\n", 1)
    headers = dict(line.split(": ", 1) for line in head.splitlines()[1:] if ": " in line)
    return int(status), {k.lower(): v.strip() for k, v in headers.items()}, body.strip()


def test_ollama_down_answers_503_in_each_apis_shape(ollama_stopped, trusted_http_client):
    generate = "-H 'Content-Type: application/json' -d " + q(json.dumps({"model": MODEL, "prompt": "hi", "stream": False}))
    status, headers, body = headers_and_body(bearer(KEY), generate, URL + "/api/generate")
    assert status == 503
    assert headers["content-type"] == "application/json"
    assert headers["x-llmops-error"] == "ollama-unavailable"
    assert headers["retry-after"] == "5"
    assert headers["strict-transport-security"].startswith("max-age=")
    assert json.loads(body) == {"error": "Ollama is not answering on this host, try again in a few seconds"}
    status, headers, body = headers_and_body(bearer(KEY), URL + "/v1/models")
    assert (status, headers["x-llmops-error"]) == (503, "ollama-unavailable")
    error = json.loads(body)["error"]
    assert (error["type"], error["code"]) == ("server_error", "ollama_unavailable")
    # The official clients read it as an error with its message, not as a page they cannot parse.
    openai = pytest.importorskip("openai")
    client = openai.OpenAI(base_url=PUBLISHED + "/v1", api_key=KEY, max_retries=0, timeout=20,
                           http_client=trusted_http_client)
    with pytest.raises(openai.InternalServerError) as raised:
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}], max_tokens=4)
    assert raised.value.status_code == 503
    assert raised.value.body["code"] == "ollama_unavailable"
    # Load balancers see it too, still without names or versions.
    assert curl(URL + "/healthz") == (503, "unavailable\n")


STREAM_SCRIPT = r"""
import base64, http.client, json, ssl, sys, time
context = ssl.create_default_context(cafile="%s")
conn = http.client.HTTPSConnection("proxy-server", 443, timeout=30, context=context)
body = json.dumps({"model": "%s", "prompt": "tell me a story", "options": {"num_predict": 12}})
auth = base64.b64encode(b"%s:%s").decode()
start = time.monotonic()
conn.request("POST", "/api/generate", body, {"Authorization": "Basic " + auth})
resp = conn.getresponse()
times = []
while True:
    line = resp.readline()
    if not line:
        break
    times.append(time.monotonic() - start)
print(json.dumps({"status": resp.status, "type": resp.getheader("Content-Type"), "times": times}))
"""


def test_streamed_generate_arrives_in_chunks():
    script = STREAM_SCRIPT % (CA, MODEL, USER[0], USER[1])
    result = json.loads(CLIENT.check_output("python3 -c %s" % q(script)))
    assert result["status"] == 200
    assert result["type"].startswith("application/x-ndjson")
    times = result["times"]
    assert len(times) >= 5
    # Paced at 20 tokens/s: buffered whole, every line would arrive at the same moment.
    assert times[-1] - times[0] > 0.3, times
    assert len({round(t, 2) for t in times}) >= 5, times


@pytest.mark.parametrize("method,path", [("DELETE", "/api/delete"), ("POST", "/api/pull")])
def test_inference_key_cannot_manage_models(method, path):
    status, body = curl("-X", method, bearer(KEY), "-d", q('{"model":"no-such-model:latest"}'), URL + path)
    assert status == 403
    assert json.loads(body) == {"error": "forbidden"}


def test_inference_user_cannot_manage_models():
    status, unused_body = curl("-X DELETE", basic(USER), "-d", q('{"model":"no-such-model:latest"}'), URL + "/api/delete")
    assert status == 401


@pytest.mark.parametrize("credential", [bearer(ADMIN_KEY), basic(ADMIN)])
def test_admin_credentials_reach_ollama(credential):
    # Ollama's own answer (404 for a model it does not have) shows the request got through.
    status, body = curl("-X DELETE", credential, "-d", q('{"model":"no-such-model:latest"}'), URL + "/api/delete")
    assert status == 404
    assert "not found" in json.loads(body)["error"]
    status, body = curl("-X POST", credential, "-d", q('{"model":"%s","stream":false}' % MODEL), URL + "/api/pull")
    assert status == 200
    assert json.loads(body) == {"status": "success"}


def test_admin_user_can_infer_too():
    assert curl(basic(ADMIN), URL + "/api/version")[0] == 200


def test_unknown_routes_closed():
    assert curl(basic(USER), URL + "/")[0] == 404
    assert curl(basic(USER), URL + "/api/experimental/anything")[0] == 404


def test_healthz_unauthenticated_only_ok():
    for url in (URL, "http://proxy-server"):
        status, body = curl(url + "/healthz")
        assert (status, body) == (200, "ok\n"), url


def test_plain_http_redirects_to_https():
    cmd = CLIENT.run("curl -sS --max-time 10 -o /dev/null -w '%{http_code} %{redirect_url}' "
                     "'http://proxy-server/api/tags?x=1'")
    assert cmd.stdout == "301 https://proxy-server/api/tags?x=1"


def test_redirect_goes_to_the_proxy_name_not_the_request_host():
    # 127.0.0.1 is a name the proxy answers for; the redirect still names the canonical host.
    cmd = CLIENT.run("curl -sS --max-time 10 -o /dev/null -w '%{http_code} %{redirect_url}' "
                     "-H 'Host: 127.0.0.1' 'http://proxy-server/api/tags'")
    assert cmd.stdout == "301 https://proxy-server/api/tags"


@pytest.mark.parametrize("url", ["http://proxy-server/healthz", "https://proxy-server/healthz"])
def test_unknown_host_name_gets_no_answer(url):
    # A Host (and SNI) the proxy does not serve: the connection closes without a response (curl 52).
    cmd = CLIENT.run("curl -sS -k --max-time 10 -H 'Host: evil.example' %s" % url)
    assert cmd.rc == 52, (cmd.rc, cmd.stdout, cmd.stderr)
    cmd = CLIENT.run("curl -sS -k --max-time 10 --resolve evil.example:443:$(getent hosts proxy-server | cut -d' ' -f1) "
                     "https://evil.example/healthz")
    assert cmd.rc == 52, (cmd.rc, cmd.stdout, cmd.stderr)


def test_hsts_on_https_answers():
    headers = CLIENT.check_output("curl -sS --cacert %s --max-time 10 -D - -o /dev/null -u %s %s/api/version"
                                  % (CA, q("%s:%s" % USER), URL))
    assert "strict-transport-security: max-age=31536000" in headers.lower()
    headers = CLIENT.check_output("curl -sS --cacert %s --max-time 10 -D - -o /dev/null %s/api/version" % (CA, URL))
    assert "strict-transport-security: max-age=31536000" in headers.lower()  # on a 401 too


@pytest.mark.parametrize("method,path", [("DELETE", "/v1/models"), ("PUT", "/v1/chat/completions"),
                                         ("PATCH", "/api/chat"), ("OPTIONS", "/api/generate")])
def test_inference_routes_take_only_get_head_post(method, path):
    status, body = curl("-X", method, bearer(KEY), URL + path)
    assert status == 405
    # In the shape of the API the path belongs to: Ollama's on /api, OpenAI's error object on /v1.
    if path.startswith("/v1/"):
        assert json.loads(body) == {"error": {"message": "method not allowed", "type": "invalid_request_error",
                                              "param": None, "code": None}}
    else:
        assert json.loads(body) == {"error": "method not allowed"}


TIMING_SCRIPT = r"""
import base64, http.client, json, ssl, statistics, time
context = ssl.create_default_context(cafile="%s")
def once(user):
    conn = http.client.HTTPSConnection("proxy-server", 443, timeout=30, context=context)
    conn.connect()
    auth = base64.b64encode(("%%s:wrong-password-0123456789" %% user).encode()).decode()
    start = time.perf_counter()
    conn.request("GET", "/api/version", headers={"Authorization": "Basic " + auth})
    status = conn.getresponse().status
    elapsed = time.perf_counter() - start
    conn.close()
    assert status == 401, status
    return elapsed
known, unknown = [], []
for _ in range(60):
    known.append(once("alice"))
    unknown.append(once("nobody-by-that-name"))
    time.sleep(0.12)  # two requests a round: stay under the 20 r/s rate limit
print(json.dumps({"known": statistics.median(known), "unknown": statistics.median(unknown)}))
"""


def test_401_takes_as_long_for_a_known_as_for_an_unknown_user():
    # With bcrypt a wrong password for a known name took ~40x longer than for an unknown one.
    result = json.loads(CLIENT.check_output("python3 -c %s" % q(TIMING_SCRIPT % CA)))
    ratio = result["known"] / result["unknown"]
    assert 0.5 < ratio < 2, result


IPV6_CLIENTS = {
    # source address on proxy-server's loopback -> the /64 the limits count it against
    "2001:db8:1:2::5": "2001:db8:1:2",
    "2001:db8:1:2::6": "2001:db8:1:2",
    "2001:db8:1:3::5": "2001:db8:1:3",
    "2001:db8::5": "2001:db8:0:0",
    "2001:db8:0:0:1::5": "2001:db8:0:0",
    "2001:db8::1:2:3:4": "2001:db8:0:0",
    "2001:db8::1:0:0:0:5": "2001:db8:0:1",
}


def test_ipv6_clients_are_limited_per_64():
    SERVER.run_expect([0], "sysctl -qw net.ipv6.conf.lo.disable_ipv6=0")
    for address in IPV6_CLIENTS:
        SERVER.run("ip -6 addr add %s/128 dev lo" % address)
    try:
        for address in IPV6_CLIENTS:
            cmd = SERVER.run("curl -sS -k --max-time 10 -o /dev/null -w '%%{http_code}' --interface %s "
                             "-H 'Host: localhost' %s 'https://[2001:db8:1:2::5]/api/version'" % (address, bearer(KEY)))
            assert cmd.stdout == "200", (address, cmd.stdout, cmd.stderr)
        time.sleep(0.5)
        entries = [json.loads(line) for line in
                   SERVER.file("/var/log/nginx/ollama-proxy.access.log").content_string.splitlines()]
        wanted = {ipaddress_text(addr): prefix for addr, prefix in IPV6_CLIENTS.items()}
        seen = {e["remote_addr"]: e["client"] for e in entries if e["remote_addr"] in wanted}
        assert seen == wanted
    finally:
        for address in IPV6_CLIENTS:
            SERVER.run("ip -6 addr del %s/128 dev lo" % address)


def ipaddress_text(address):
    """How nginx writes an address in $remote_addr (RFC 5952, as Python's ipaddress does)."""
    import ipaddress
    return str(ipaddress.IPv6Address(address))


def test_rate_limit_zones_count_the_client_key():
    conf = SERVER.check_output("nginx -T 2>/dev/null")
    assert "limit_req_zone $ollama_proxy_limited_client zone=ollama_proxy_req_by_client:" in conf
    assert "limit_conn_zone $ollama_proxy_limited_client zone=ollama_proxy_conn" in conf
    # Only the fleet gateway's key is exempt; everybody else is counted by the client key.
    limited = re.search(r"map \$ollama_proxy_key_role \$ollama_proxy_limited_client \{(.*?)\}", conf, re.S)
    assert limited, "no map for $ollama_proxy_limited_client"
    assert re.findall(r"^\s*(\S+)\s+(\S+);", limited.group(1), re.M) == [
        ("gateway", '""'), ("default", "$ollama_proxy_client")]


def test_serves_the_given_certificate():
    served = SERVER.check_output("openssl s_client -connect 127.0.0.1:443 -servername proxy-server "
                                 "</dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256 -subject -issuer")
    installed = SERVER.check_output("openssl x509 -noout -fingerprint -sha256 -subject -issuer "
                                    "-in /etc/nginx/ollama-proxy/tls/server.crt")
    assert served == installed
    assert "CN = proxy-server" in served and "CN = proxy-test CA" in served
    key = SERVER.file("/etc/nginx/ollama-proxy/tls/server.key")
    assert (key.user, key.group, key.mode) == ("root", "root", 0o600)
    assert not SERVER.file("/etc/nginx/ollama-proxy/tls/selfsigned.crt").exists
    # Without the scenario's CA, curl does not trust it (60: certificate problem): it is the given one.
    assert CLIENT.run("curl -sS --max-time 10 -o /dev/null https://proxy-server/healthz").rc == 60


def test_ollama_port_unreachable_from_client():
    cmd = CLIENT.run("curl -sS --max-time 3 -o /dev/null http://proxy-server:11434/")
    assert cmd.rc != 0


def test_ssh_reachable_from_client():
    script = ("import socket; s = socket.create_connection(('proxy-server', 22), timeout=5); "
              "print(s.recv(64).decode().strip())")
    assert CLIENT.check_output("python3 -c %s" % q(script)).startswith("SSH-2.0")


def test_ufw_rules():
    status = SERVER.check_output("ufw status verbose")
    assert "Status: active" in status
    assert "Default: deny (incoming), allow (outgoing)" in status
    assert "Logging: on (low)" in status
    lines = [" ".join(line.split()) for line in status.splitlines()]
    assert any(line.startswith("22/tcp ALLOW IN Anywhere") for line in lines)
    assert any(line.startswith("22/tcp (v6) ALLOW IN Anywhere (v6)") for line in lines)
    assert any(line.startswith("11434/tcp DENY IN Anywhere") for line in lines)
    assert any(line.startswith("11434/tcp (v6) DENY IN Anywhere (v6)") for line in lines)
    # the proxy port: only from the scenario network, never from anywhere
    for port in ("80", "443"):
        assert [line for line in lines if line.startswith(port + "/tcp ALLOW IN")]
        assert not [line for line in lines if line.startswith(port + "/tcp") and "Anywhere" in line]
    # SSH and the Ollama deny come before the proxy's allow rules
    order = [line.split()[0] for line in lines if line[:1].isdigit()]
    assert order.index("22/tcp") < order.index("80/tcp")
    assert order.index("11434/tcp") < order.index("80/tcp")
    # a stale managed rule was pruned, a rule added by hand was kept
    assert "10.9.9.0/24" not in status
    assert "10.9.8.0/24" in status
    assert "IPV6=yes" in SERVER.file("/etc/default/ufw").content_string
    assert "-A DOCKER-USER -j ufw-user-forward" in SERVER.check_output("iptables -S DOCKER-USER")


def test_secret_files_modes():
    for path, group in [("/etc/nginx/ollama-proxy/users.htpasswd", "www-data"),
                        ("/etc/nginx/ollama-proxy/admins.htpasswd", "www-data"),
                        ("/etc/nginx/ollama-proxy/api-keys.conf", "root")]:
        f = SERVER.file(path)
        assert (f.user, f.group, f.mode) == ("root", group, 0o640), path
    users = SERVER.file("/etc/nginx/ollama-proxy/users.htpasswd").content_string
    admins = SERVER.file("/etc/nginx/ollama-proxy/admins.htpasswd").content_string
    assert sorted(line.split(":")[0] for line in users.splitlines()) == ["alice", "root-admin"]
    assert [line.split(":")[0] for line in admins.splitlines()] == ["root-admin"]
    # {SSHA}: nginx checks it in microseconds; alice's bcrypt entry seeded in prepare was rewritten
    assert all(line.split(":", 1)[1].startswith("{SSHA}") for line in users.splitlines() + admins.splitlines())
    assert "retired" not in users  # dropped from the list: removed


def test_access_log_is_json_without_credentials():
    curl(bearer(KEY), URL + "/api/version")
    time.sleep(0.5)
    lines = SERVER.file("/var/log/nginx/ollama-proxy.access.log").content_string.splitlines()
    entries = [json.loads(line) for line in lines]
    assert any(e["api_key"] == "app" and e["uri"] == "/api/version" for e in entries)
    text = "\n".join(lines)
    for secret in (KEY, ADMIN_KEY, USER[1], ADMIN[1], "Bearer", "Basic "):
        assert secret not in text


def test_streaming_settings_in_config():
    conf = SERVER.check_output("nginx -T 2>/dev/null")
    for directive in ("proxy_buffering off;", "proxy_cache off;", "proxy_http_version 1.1;",
                      'proxy_set_header Host "localhost:11434";', "proxy_read_timeout 600s;",
                      "client_max_body_size 100m;", "limit_req_status 429;"):
        assert directive in conf


def test_past_the_burst_429():
    # 40 requests at once from one client: 20 r/s with a burst of 10 must refuse some with 429.
    codes = CLIENT.check_output(
        "curl -s --cacert " + CA + " --max-time 20 -Z --parallel-max 20 %s -o /dev/null -w '%%{http_code}\\n' '%s/api/version?[1-40]'"
        % (bearer(KEY), URL)).split()
    assert len(codes) == 40
    assert "429" in codes
    assert "200" in codes
    assert set(codes) <= {"200", "429"}
    time.sleep(1.5)  # let the bucket refill for whatever runs next


ECHO_HEADERS = r"""
import http.server, json
class Echo(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps(dict((k.lower(), v) for k, v in self.headers.items())).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", 11434), Echo).handle_request()
"""


def test_ollama_sees_the_client_address_not_what_the_client_claims(ollama_stopped):
    """In Ollama's place, a server that answers with the headers it got, for one request."""
    SERVER.check_output("systemd-run --unit proxy-test-echo --collect python3 -c %s" % q(ECHO_HEADERS))
    try:
        for unused in range(50):
            if SERVER.run("ss -Hltn 'sport = :11434' | grep -q .").rc == 0:
                break
            time.sleep(0.1)
        status, body = curl(bearer(KEY), "-H 'X-Forwarded-For: 6.6.6.6'", "-H 'X-Real-IP: 6.6.6.6'",
                            "-H 'Forwarded: for=6.6.6.6'", URL + "/api/version")
    finally:
        SERVER.run("systemctl stop proxy-test-echo")
    client_address = CLIENT.interface("eth0").addresses[0]
    seen = json.loads(body)
    assert status == 200
    assert seen["x-forwarded-for"] == client_address and seen["x-real-ip"] == client_address
    assert "forwarded" not in seen and "6.6.6.6" not in body
    assert "authorization" not in seen


@pytest.mark.parametrize("cipher", ["AES128-SHA", "AES256-SHA256", "ECDHE-RSA-AES128-SHA", "ECDHE-RSA-AES256-SHA384",
                                    "AES128-GCM-SHA256"])
def test_tls_1_2_offers_no_cbc_sha1_or_static_rsa_suite(cipher):
    # @SECLEVEL=0: the client offers the suite whatever its own policy; the refusal must be the server's.
    cmd = CLIENT.run("openssl s_client -connect proxy-server:443 -servername proxy-server -tls1_2 -cipher %s:@SECLEVEL=0 "
                     "</dev/null 2>&1" % cipher)
    assert cmd.rc != 0 and "alert handshake failure" in cmd.stdout, cmd.stdout


def test_tls_1_2_takes_an_aead_suite_with_forward_secrecy_and_issues_no_session_ticket():
    cmd = CLIENT.run("openssl s_client -connect proxy-server:443 -servername proxy-server -tls1_2 "
                     "-cipher ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256 </dev/null 2>&1")
    assert cmd.rc == 0, cmd.stdout
    assert re.search(r"Cipher is ECDHE-(RSA|ECDSA)-AES128-GCM-SHA256", cmd.stdout), cmd.stdout
    assert "TLS session ticket" not in cmd.stdout


def test_an_api_key_reaches_admin_routes_only_with_the_admin_role():
    assert curl(bearer(KEY), "-X DELETE -d '{\"model\":\"nope:1\"}'", URL + "/api/delete")[0] == 403
    assert curl(bearer(ADMIN_KEY), "-X DELETE -d '{\"model\":\"nope:1\"}'", URL + "/api/delete")[0] == 404


def test_only_root_and_the_proxy_user_reach_ollama_on_loopback():
    """Ollama's API has no credentials: a local user other than root and nginx's is refused (firewall role)."""
    url = "http://127.0.0.1:11434/api/version"
    for user in ("root", "www-data"):
        assert SERVER.run("runuser -u %s -- curl -sS -m 5 -o /dev/null -w '%%{http_code}' %s" % (user, url)).stdout == "200"
    refused = SERVER.run("runuser -u nobody -- curl -sS -m 5 -o /dev/null %s" % url)
    # Refused at once (curl 7: could not connect, 56: reset), not left to time out.
    assert refused.rc in (7, 56), (refused.rc, refused.stderr)
    # Both families, above UFW's own "allow all on loopback" rule.
    for command, chain in (("iptables", "ufw-before-output"), ("ip6tables", "ufw6-before-output")):
        rules = SERVER.check_output("%s -S %s" % (command, chain)).splitlines()
        owner = [i for i, rule in enumerate(rules) if "--uid-owner" in rule and "--dport 11434" in rule]
        reject = [i for i, rule in enumerate(rules) if "--dport 11434" in rule and "REJECT" in rule]
        loopback = rules.index("-A %s -o lo -j ACCEPT" % chain)
        assert len(owner) == 2 and reject and max(owner) < reject[0] < loopback, rules


def test_health_checks_of_a_host_with_ollama_down_stay_out_of_the_access_log(ollama_stopped):
    """A load balancer asks /healthz every second: with Ollama down, its 503s must not fill the log either."""
    log = "/var/log/nginx/ollama-proxy.access.log"
    before = len(SERVER.file(log).content_string.splitlines())
    for unused in range(3):
        status, body = curl(URL + "/healthz")
        assert (status, body.strip()) == (503, "unavailable")
    assert len(SERVER.file(log).content_string.splitlines()) == before

"""The gateway's routing table: pools per set of hosts, model keys as Ollama matches names."""
import json
import pathlib
import shutil
import subprocess

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.llmops.ollama.plugins.filter.gateway import (
    gateway_mark_drained, gateway_model_key, gateway_routes, gateway_vrrp_address, haproxy_sessions,
)

GATEWAY_JS = pathlib.Path(__file__).resolve().parents[4] / "roles" / "gateway" / "files" / "gateway.js"


def backend(name, models, drained=False, max_connections=2):
    return dict(name=name, address="10.0.0.%d" % (ord(name[-1]) - 96), port=443, tls_name=name, models=models, drained=drained,
                max_connections=max_connections)


@pytest.mark.parametrize("name,key", [
    ("llama3.2", "llama3.2:latest"),
    ("Llama3.2:3B", "llama3.2:3b"),
    ("library/llama3.2:3b", "llama3.2:3b"),
    ("registry.ollama.ai/library/llama3.2:3b", "llama3.2:3b"),
    ("https://registry.ollama.ai/library/llama3.2", "llama3.2:latest"),
    ("acme/support-bot", "acme/support-bot:latest"),
    ("mirror:5000/library/smollm2:135m", "mirror:5000/library/smollm2:135m"),
])
def test_model_key(name, key):
    assert gateway_model_key(name) == key


def test_pools_group_hosts_by_the_models_they_share():
    routes = gateway_routes([backend("a", ["smollm2:135m", "support-bot"]), backend("b", ["smollm2:135m", "qwen2.5:0.5b"]),
                             backend("c", ["qwen2.5:0.5b", "Support-Bot:latest"], drained=True)])
    pools = dict((pool["id"], pool["hosts"]) for pool in routes["pools"])
    assert pools[routes["any_pool"]] == ["h0", "h1", "h2"]
    assert pools[routes["models"]["smollm2:135m"]] == ["h0", "h1"]
    assert pools[routes["models"]["support-bot:latest"]] == ["h0", "h2"]
    assert pools[routes["models"]["qwen2.5:0.5b"]] == ["h1", "h2"]
    assert [h["drained"] for h in routes["hosts"]] == [False, False, True]
    assert [h["max_connections"] for h in routes["hosts"]] == [2, 2, 2]
    # One upstream per distinct set of hosts, not per model.
    assert len(routes["pools"]) == 4


def test_a_model_on_every_host_uses_the_pool_of_all():
    routes = gateway_routes([backend("a", ["m"]), backend("b", ["m"])])
    assert routes["models"] == {"m:latest": routes["any_pool"]}
    assert len(routes["pools"]) == 1


@pytest.mark.parametrize("backends,message", [
    ([], "no serving hosts"),
    ([dict(backend("a", []), address="")], "has no address"),
    ([backend("a", [""])], "a model name is empty"),
    ([backend("a", ["m"], max_connections=0)], "max_connections must be a whole number of 1 or more"),
])
def test_bad_input_says_what_is_wrong(backends, message):
    with pytest.raises(AnsibleFilterError, match=message):
        gateway_routes(backends)


@pytest.mark.skipif(not shutil.which("node"), reason="needs Node.js to run the gateway's JavaScript")
def test_the_gateways_javascript_keys_models_the_same_way(tmp_path):
    """files/gateway.js computes the key from each request; it must agree with the filter."""
    names = ["llama3.2", "Llama3.2:3B", "library/llama3.2:3b", "registry.ollama.ai/library/llama3.2:3b",
             "https://registry.ollama.ai/library/llama3.2", "acme/support-bot", "mirror:5000/library/smollm2:135m",
             " smollm2:135m "]
    source = GATEWAY_JS.read_text()
    body = source[source.index("function modelKey"):source.index("function isOpenAI")]
    script = tmp_path / "key.js"
    script.write_text(body + "\nconsole.log(JSON.stringify(%s.map(modelKey)));\n" % json.dumps(names))
    keys = json.loads(subprocess.check_output(["node", str(script)], text=True))
    assert keys == [gateway_model_key(name) for name in names]


def _run_gateway_js(tmp_path, code):
    """Runs code (Node.js) after the whole of files/gateway.js, with a routing table of two hosts; returns its JSON."""
    source = GATEWAY_JS.read_text().replace("import fs from 'fs';", "")
    source = source.replace(source[source.index("var ROUTES ="):source.index(";", source.index("var ROUTES =")) + 1],
                            "var ROUTES = {hosts: [{id: 'h0'}, {id: 'h1'}], pools: [], models: {}, any_pool: 'p0'};")
    source = source.replace("export default", "var exported =")
    script = tmp_path / "gateway_test.js"
    script.write_text(source + "\n" + code)
    return json.loads(subprocess.check_output(["node", str(script)], text=True))


@pytest.mark.skipif(not shutil.which("node"), reason="needs Node.js to run the gateway's JavaScript")
@pytest.mark.parametrize("uri,body,expected", [
    ("/api/chat", '{"model": "smollm2:135m"}', "smollm2:135m"),
    ("/api/pull", '{"name": "qwen2.5"}', "qwen2.5"),
    ("/v1/models/acme%2Fbot", "", "acme%2Fbot"),
    ("/api/version", "", ""),
    # Ollama reads JSON keys without regard to case: a second spelling would run another model than the routed one.
    ("/api/generate", '{"model": "a", "MODEL": "b"}', "error:\"MODEL\": write the field as \"model\""),
    ("/api/generate", '{"Name": "b"}', "error:\"Name\": write the field as \"name\""),
    ("/api/generate", '{"model": "a"} trailing', "error:the request body is not valid JSON"),
    ("/api/generate", '["a"]', "error:the request body must be a JSON object"),
])
def test_the_model_a_request_names_or_why_it_is_refused(tmp_path, uri, body, expected):
    code = ("var r = {uri: %s, requestText: %s};\n"
            "try { console.log(JSON.stringify(requestedModel(r))); }\n"
            "catch (e) { console.log(JSON.stringify('error:' + e.message)); }\n" % (json.dumps(uri), json.dumps(body)))
    assert _run_gateway_js(tmp_path, code) == expected


@pytest.mark.skipif(not shutil.which("node"), reason="needs Node.js to run the gateway's JavaScript")
def test_healthz_counts_hosts_as_haproxy_sees_them(tmp_path):
    csv = ("# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status\n"
           "host_h0,h0,0,0,0,0,,0,0,0,,0,,0,0,0,0,UP\n"
           "host_h0,BACKEND,0,0,0,0,,0,0,0,,0,,0,0,0,0,UP\n"
           "host_h1,h1,0,0,0,0,,0,0,0,,0,,0,0,0,0,MAINT\n"
           "host_h2,h2,0,0,0,0,,0,0,0,,0,,0,0,0,0,DOWN 1/2\n"
           "host_h3,h3,0,0,0,0,,0,0,0,,0,,0,0,0,0,UP 1/2\n"
           "pool_p0,h0,0,0,0,0,,0,0,0,,0,,0,0,0,0,UP\n")
    states = _run_gateway_js(tmp_path, "console.log(JSON.stringify(hostStates(%s)));" % json.dumps(csv))
    # A host on its way down (UP 1/2) still serves; one on its way up (DOWN 1/2) does not yet. Pools are not hosts.
    assert states == {"up": 2, "drained": 1, "down": 1}


def test_a_drain_marks_exactly_the_hosts_named():
    hosts = gateway_routes([backend("a", ["m"]), backend("b", ["m"], drained=True), backend("c", ["m"])])["hosts"]
    assert [h["drained"] for h in gateway_mark_drained(hosts, ["a", "c"])] == [True, False, True]
    assert [h["drained"] for h in gateway_mark_drained(hosts, [])] == [False, False, False]


def test_requests_in_progress_are_summed_over_every_backend_of_the_servers():
    csv = ("# pxname,svname,qcur,qmax,scur,smax\n"
           "host_h0,h0,0,0,0,1\n"
           "pool_p0,h0,0,0,2,3\n"
           "pool_p0_admin,h0,0,0,1,1\n"
           "pool_p0,h1,0,0,5,5\n"
           "pool_p0,BACKEND,0,0,7,8\n")
    assert haproxy_sessions(csv, ["h0"]) == 3
    assert haproxy_sessions(csv, ["h0", "h1"]) == 8
    assert haproxy_sessions(csv, ["h9"]) == 0


@pytest.mark.parametrize("text,message", [("", "sent no state"), ("<html>503</html>", "not HAProxy")])
def test_a_state_that_is_not_haproxys_csv_is_refused(text, message):
    with pytest.raises(AnsibleFilterError, match=message):
        haproxy_sessions(text, ["h0"])


FACTS = {"interfaces": ["lo", "eth0", "br-x1"],
         "lo": {"ipv4": {"address": "127.0.0.1"}},
         "eth0": {"ipv4": {"address": "172.20.0.5"}},
         "br_x1": {"ipv4": {"address": "10.9.0.1"}}}


def test_vrrp_runs_on_the_interface_in_the_floating_addresss_network():
    assert gateway_vrrp_address(FACTS, "172.20.0.100/16") == {"interface": "eth0", "address": "172.20.0.5"}
    # Facts name an interface with a dash with an underscore.
    assert gateway_vrrp_address(FACTS, "10.9.0.200/24") == {"interface": "br-x1", "address": "10.9.0.1"}


@pytest.mark.parametrize("address,message", [
    ("192.168.7.10/24", "no interface of this host has an address in 192.168.7.0/24"),
    ("172.20.0.100", "with the prefix of its network"),
    ("fd00::1/64", "with the prefix of its network"),
    ("not-an-address", "must be an IPv4 address with its prefix"),
])
def test_a_floating_address_the_host_cannot_carry_is_refused(address, message):
    with pytest.raises(AnsibleFilterError, match=message):
        gateway_vrrp_address(FACTS, address)

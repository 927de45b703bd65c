"""The gateway's routing table: pools per set of hosts, model keys as Ollama matches names."""
import json
import pathlib
import shutil
import subprocess

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.llmops.ollama.plugins.filter.gateway import gateway_model_key, gateway_routes

GATEWAY_JS = pathlib.Path(__file__).resolve().parents[4] / "roles" / "gateway" / "files" / "gateway.js"


def backend(name, models, drained=False):
    return dict(name=name, address="10.0.0.%d" % (ord(name[-1]) - 96), port=443, tls_name=name, models=models, drained=drained)


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

"""Compose mode on Debian 13: the container, its volume and its published address."""
import json

testinfra_hosts = ["ansible://ollama_servers"]


def inspect(host, what, name):
    return json.loads(host.check_output("docker %s inspect %s", what, name))[0]


def test_container_healthy_from_pinned_image(host):
    container = inspect(host, "container", "ollama")
    assert container["Config"]["Image"] == "ollama/ollama:0.32.15"
    assert container["State"]["Health"]["Status"] == "healthy"
    assert container["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped"
    assert "OLLAMA_KEEP_ALIVE=15m" in container["Config"]["Env"]


def test_health_probed_every_second_while_starting(host):
    # Debian 13's Docker 26 has start_interval (API 1.44): healthy right after the server answers.
    healthcheck = inspect(host, "container", "ollama")["Config"]["Healthcheck"]
    assert (healthcheck["StartInterval"], healthcheck["StartPeriod"], healthcheck["Interval"]) == (10**9, 10 * 10**9, 10 * 10**9)


def test_port_published_on_loopback_only(host):
    bindings = inspect(host, "container", "ollama")["HostConfig"]["PortBindings"]["11434/tcp"]
    assert bindings == [{"HostIp": "127.0.0.1", "HostPort": "11434"}]
    assert host.socket("tcp://127.0.0.1:11434").is_listening
    assert not host.socket("tcp://0.0.0.0:11434").is_listening


def test_models_live_in_the_named_volume(host):
    volume = inspect(host, "volume", "ollama")
    mounts = inspect(host, "container", "ollama")["Mounts"]
    assert {"Name": "ollama", "Destination": "/root/.ollama"}.items() <= next(m for m in mounts if m["Type"] == "volume").items()
    manifest = volume["Mountpoint"] + "/models/manifests/registry.ollama.ai/library/qwen2.5/0.5b"
    assert host.file(manifest).is_file


def test_api_answers(host):
    assert json.loads(host.check_output("curl -sf http://127.0.0.1:11434/api/version")) == {"version": "0.32.15"}
    names = [m["name"] for m in json.loads(host.check_output("curl -sf http://127.0.0.1:11434/api/tags"))["models"]]
    assert "qwen2.5:0.5b" in names


def test_compose_file_is_private(host):
    compose = host.file("/opt/ollama-compose/compose.yaml")
    assert compose.mode == 0o640 and compose.user == "root"
    assert '"127.0.0.1:11434:11434"' in compose.content_string

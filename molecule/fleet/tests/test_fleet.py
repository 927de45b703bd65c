"""Checks of the fleet scenario: three serving hosts managed over SSH as a sudo user, converged by site.yml
from bare and rolled by playbooks/upgrade.yml (side_effect.yml wrote the reports and the hosts' state after
each rollout under the ephemeral directory's rollouts/).
"""
import datetime
import json
import os
import re
import subprocess

import pytest
import testinfra

SERVING = ["fleet-d12-native", "fleet-d13-native", "fleet-d13-compose"]
CLIENT = testinfra.get_host("docker://fleet-mirror")
OUT = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "rollouts")
KEY = "sk-fleet-test-0123456789abcdef"
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
DOUBLE_BROKEN_ERROR = "libggml-base.so"


def load(name):
    with open(os.path.join(OUT, name), encoding="utf-8") as handle:
        return json.load(handle)


def when(text):
    """An ISO time (Ansible's or Docker's, with nanoseconds) as an aware datetime."""
    text = text.rstrip("Z")
    if "." in text:
        head, fraction = text.split(".", 1)
        text = "%s.%s" % (head, fraction[:6])
    return datetime.datetime.fromisoformat(text).replace(tzinfo=datetime.timezone.utc)


def digests(state):
    return {m["name"]: m["digest"] for m in state["tags"]["models"]}


@pytest.mark.parametrize("name", SERVING)
def test_managed_over_ssh_as_a_sudo_user(name):
    config = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "instance_config.yml")
    with open(config, encoding="utf-8") as handle:
        text = handle.read()
    block = text.split("- instance: " + name, 1)[1].split("- instance:", 1)[0]
    assert "connection: ssh" in block and "user: molecule" in block
    host = testinfra.get_host("docker://" + name)
    assert host.file("/etc/sudoers.d/molecule").exists


@pytest.mark.parametrize("name", SERVING)
def test_every_host_serves_its_models_through_its_proxy(name):
    body = CLIENT.check_output("curl -sS -k --max-time 20 -H %s https://%s/api/tags"
                               % ("'Authorization: Bearer %s'" % KEY, name))
    models = {m["name"] for m in json.loads(body)["models"]}
    assert {"smollm2:135m", "support-bot:latest"} <= models
    # The mirror's name is not left behind as a second copy.
    assert not [m for m in models if m.startswith("fleet-mirror")]
    assert CLIENT.run("curl -sS -k --max-time 10 -o /dev/null -w '%%{http_code}' https://%s/api/tags" % name).stdout == "401"
    assert CLIENT.run("curl -sS --max-time 5 http://%s:11434/api/version" % name).rc != 0


def test_rolling_upgrade_reaches_every_host_one_batch_at_a_time():
    report = {row["host"]: row for row in load("good.json")["hosts"]}
    before, after = load("before.json"), load("after-good.json")
    assert set(report) == set(SERVING)
    for name in SERVING:
        assert before[name]["version"]["version"] == "0.31.2"
        assert after[name]["version"]["version"] == "0.32.15"
        assert report[name]["status"] == "upgraded", report[name]
        assert report[name]["reason"] == "0.31.2 -> 0.32.15"
        # Models intact: the same digests before and after, nothing pulled again.
        assert digests(after[name]) == digests(before[name])
        # On the GPU after the upgrade.
        assert [m["size_vram"] == m["size"] for m in after[name]["ps"]["models"]] == [True]
    # Each host's server restarted inside its own batch, and the batches did not overlap: at no moment
    # was more than one host down.
    windows = sorted((when(report[n]["started"]), when(report[n]["finished"]), n) for n in SERVING)
    for (unused_start, end, unused_name), (next_start, unused_end, unused_next) in zip(windows, windows[1:]):
        assert end <= next_start, windows
    for start, end, name in windows:
        assert start <= when(after[name]["started"]) <= end, (name, after[name]["started"], start, end)


def test_broken_build_stops_at_the_canary_which_is_rolled_back():
    report = {row["host"]: row for row in load("broken.json")["hosts"]}
    canary = SERVING[0]
    assert report[canary]["status"] == "rolled back", report[canary]
    assert DOUBLE_BROKEN_ERROR in report[canary]["reason"]
    for name in SERVING[1:]:
        assert report[name]["status"] == "not touched", report[name]
    state = load("after-broken.json")
    for name in SERVING:
        assert state[name]["version"]["version"] == "0.32.15"
    previous = load("after-good.json")
    for name in SERVING[1:]:
        assert state[name]["started"] == previous[name]["started"], "%s was restarted" % name
    with open(os.path.join(OUT, "broken.log"), encoding="utf-8") as handle:
        log = handle.read()
    assert "Rollout stopped: %s: rolled back" % canary in log
    untouched = [row["host"] for row in load("broken.json")["hosts"] if row["status"] == "not touched"]
    assert sorted(untouched) == sorted(SERVING[1:])
    assert "Not touched: %s" % ", ".join(untouched) in log


def test_host_that_falls_back_to_the_cpu_is_rolled_back():
    report = {row["host"]: row for row in load("cpu.json")["hosts"]}
    assert list(report) == ["fleet-d13-native"]
    assert report["fleet-d13-native"]["status"] == "rolled back", report
    assert "GPU" in report["fleet-d13-native"]["reason"]
    state = load("after-cpu.json")["fleet-d13-native"]
    assert state["version"]["version"] == "0.32.15"
    assert [m["size_vram"] == m["size"] for m in state["ps"]["models"]] == [True]
    host = testinfra.get_host("docker://fleet-d13-native")
    assert "OLLAMA_DOUBLE_PROCESSOR=gpu" in host.check_output("systemctl show ollama -p Environment")


@pytest.mark.parametrize("name", ["fleet-d12-native", "fleet-d13-native"])
def test_native_files_owned_as_installed(name):
    host = testinfra.get_host("docker://" + name)
    assert host.file("/opt/ollama").user == "root"
    dropin = host.file("/etc/systemd/system/ollama.service.d/override.conf")
    assert (dropin.user, dropin.mode) == ("root", 0o644)
    # The example inventory's OLLAMA_MODELS.
    models = host.file("/srv/ollama/models")
    assert models.user == "ollama"
    # Nothing the run wrote belongs to the SSH user.
    assert host.run("find /opt/ollama /etc/systemd/system/ollama.service.d /etc/nginx /srv/ollama -user molecule").stdout == ""


def test_compose_host_keeps_its_models_in_the_host_directory():
    """OLLAMA_MODELS (the example inventory's /srv/ollama/models) is bind-mounted: the models outlive the container."""
    host = testinfra.get_host("docker://fleet-d13-compose")
    mounts = json.loads(host.check_output("docker inspect ollama --format '{{json .Mounts}}'"))
    assert [(m["Type"], m["Source"]) for m in mounts if m["Destination"] == "/srv/ollama/models"] == [
        ("bind", "/srv/ollama/models")]
    assert host.check_output("find /srv/ollama/models/manifests -path '*/smollm2/135m' -type f")
    assert host.check_output("docker exec ollama printenv OLLAMA_MODELS") == "/srv/ollama/models"


def model_names(host):
    return {m["name"] for m in json.loads(host.check_output("curl -sS http://127.0.0.1:11434/api/tags"))["models"]}


def put_model_back(host):
    """As ollama_model does with a source: pull from the mirror, copy to the short name, drop the mirror's name."""
    mirrored = "fleet-mirror:5000/library/smollm2:135m"
    host.check_output("curl -sS -X POST http://127.0.0.1:11434/api/pull -d '%s'"
                      % json.dumps({"model": mirrored, "insecure": True, "stream": False}))
    host.check_output("curl -sS -X POST http://127.0.0.1:11434/api/copy -d '%s'"
                      % json.dumps({"source": mirrored, "destination": "smollm2:135m"}))
    host.run("curl -sS -X DELETE http://127.0.0.1:11434/api/delete -d '%s'" % json.dumps({"model": mirrored}))


def test_tags_apply_one_part_of_the_stack():
    """--tags ollama_models on one host puts a deleted model back and does nothing else: the inventory still pins
    0.31.2 while the rollouts left 0.32.15 running, and the install is not run to put it back."""
    name = "fleet-d12-native"
    host = testinfra.get_host("docker://" + name)
    record = "/etc/llmops-ollama/last-converge.json"
    record_before = host.file(record).content_string
    version_before = json.loads(host.check_output("curl -sS http://127.0.0.1:11434/api/version"))["version"]
    assert version_before == "0.32.15"
    host.check_output("curl -sS -X DELETE http://127.0.0.1:11434/api/delete -d '{\"model\": \"smollm2:135m\"}'")
    try:
        assert "smollm2:135m" not in model_names(host)

        run = subprocess.run(["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"],
                              os.path.join(REPO, "playbooks", "site.yml"), "--limit", name, "--tags", "ollama_models"],
                             capture_output=True, text=True, check=False)
        assert run.returncode == 0, run.stdout[-3000:]
        tasks = re.findall(r"^TASK \[([^\]]+)\]", run.stdout, re.M)
        assert "llmops.ollama.ollama : Put each declared model in place" in tasks
        # The input checks run with any part of the role.
        assert "llmops.ollama.ollama : Check the install mode, version and keep count" in tasks
        assert not [t for t in tasks if t.split(" : ")[0] in ("llmops.ollama.nvidia_driver", "llmops.ollama.firewall",
                                                              "llmops.ollama.nginx_proxy", "llmops.ollama.gateway")], tasks
        assert "llmops.ollama.ollama : Install the pinned release" not in tasks
        assert re.search(r"^%s\s+: ok=\d+\s+changed=1\s" % re.escape(name), run.stdout, re.M), run.stdout[-1500:]

        assert "smollm2:135m" in model_names(host)
        assert json.loads(host.check_output("curl -sS http://127.0.0.1:11434/api/version"))["version"] == version_before
        # A partial run is not a converge: the record of the last one stays.
        assert host.file(record).content_string == record_before
    finally:
        # The gateway's tests route to this host's models.
        if "smollm2:135m" not in model_names(host):
            put_model_back(host)

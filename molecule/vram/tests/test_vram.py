"""GPU memory sizing: the plan in the drop-in and in the server's behaviour, on the host whose models fit."""
import glob
import json
import os
import subprocess

testinfra_hosts = ["ansible://ollama_servers"]

# The plan for a 24564 MiB card and smollm2:135m + all-minilm:22m (docs/vram-sizing.md); NUM_PARALLEL is given.
PLANNED = ('OLLAMA_CONTEXT_LENGTH=8192', 'OLLAMA_FLASH_ATTENTION=true', 'OLLAMA_KV_CACHE_TYPE=f16',
           'OLLAMA_MAX_LOADED_MODELS=2', 'OLLAMA_NUM_PARALLEL=2')


def api(host, path, body=None):
    if body is None:
        return json.loads(host.check_output("curl -sf http://127.0.0.1:11434%s", path))
    return json.loads(host.check_output("curl -sf -d %s http://127.0.0.1:11434%s", json.dumps(body), path))


def test_fake_gpu_reported(host):
    assert host.check_output("nvidia-smi").startswith("NVIDIA GeForce RTX 4090, GPU-5f2b2a1e")


def test_plan_lands_in_the_dropin(host):
    dropin = host.file("/etc/systemd/system/ollama.service.d/override.conf").content_string
    for setting in PLANNED:
        assert 'Environment="%s"' % setting in dropin, setting


def test_running_server_has_the_plan(host):
    environment = host.check_output("systemctl show ollama --property=Environment")
    for setting in PLANNED:
        assert setting in environment, setting


def test_server_loads_with_the_planned_context(host):
    api(host, "/api/generate", {"model": "smollm2:135m", "prompt": "", "keep_alive": "1m"})
    loaded = dict((m["name"], m) for m in api(host, "/api/ps")["models"])
    # The double's own default is 4096: 8192 comes from the plan.
    assert loaded["smollm2:135m"]["context_length"] == 8192
    assert loaded["smollm2:135m"]["size_vram"] == loaded["smollm2:135m"]["size"]


def test_fleet_report_shows_the_gpu_and_the_plan(host, tmp_path):
    """llmops.ollama.report, by its collection name and in --check, reads the card and the plan of the last converge."""
    out = tmp_path / "reports"
    run = subprocess.run(["ansible-playbook", "llmops.ollama.report", "-i", os.environ["MOLECULE_INVENTORY_FILE"], "--check",
                          "-e", "ollama_report_dir=%s" % out], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    [report] = glob.glob(str(out / "fleet-*.json"))
    with open(report, encoding="utf-8") as handle:
        row = next(r for r in json.load(handle)["hosts"] if r["host"] == "vram-fit")
    [gpu] = row["gpus"]
    assert (gpu["name"], gpu["memory_total_mib"], gpu["driver_version"]) == ("NVIDIA GeForce RTX 4090", 24564, "550.54.15")
    assert row["driver"] == "550.54.15" and row["gpu_message"].startswith("1 GPU")
    plan = row["last_converge"]["vram_plan"]
    for setting in PLANNED:
        name, value = setting.split("=", 1)
        assert str(plan["settings"][name]).lower() == value.lower(), (name, plan["settings"])

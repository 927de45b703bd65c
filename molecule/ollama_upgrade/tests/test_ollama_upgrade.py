"""After 0.13.5 -> 0.32.15 -> broken 0.33.0-rc2 (rolled back) -> 0.31.2 -> 0.32.15."""
import json

testinfra_hosts = ["ansible://ollama_servers"]


def api(host, path):
    return json.loads(host.check_output("curl -sf http://127.0.0.1:11434%s", path))


def test_final_version_active_and_answering(host):
    assert host.check_output("readlink /opt/ollama/current") == "/opt/ollama/0.32.15"
    assert api(host, "/api/version") == {"version": "0.32.15"}
    assert host.service("ollama").is_running


def test_models_kept_byte_for_byte(host):
    before = {m["name"]: m["digest"] for m in json.loads(host.file("/root/models-before-upgrade.json").content_string)}
    after = {m["name"]: m["digest"] for m in api(host, "/api/tags")["models"]}
    assert before and after == before


def test_broken_release_was_tried_and_failed(host):
    journal = host.check_output("journalctl -u ollama --no-pager -o cat")
    assert "unable to initialize inference backend" in journal
    assert "Listening on 127.0.0.1:11434 (version 0.32.15)" in journal


def test_old_versions_pruned_to_the_kept_count(host):
    installed = host.check_output("ls /opt/ollama").split()
    versions = sorted(name for name in installed if name[0].isdigit())
    # The active version and at most ollama_versions_kept (2) others.
    assert "0.32.15" in versions and len(versions) <= 3
    assert "0.13.5" not in versions

"""Native mode: what the role leaves on a Debian 12 host, checked from inside it."""
import json

testinfra_hosts = ["ansible://ollama_servers"]

VERSION = "0.32.15"


def api(host, path):
    return json.loads(host.check_output("curl -sf http://127.0.0.1:11434%s", path))


def test_service_user_as_install_sh_creates_it(host):
    user = host.user("ollama")
    assert user.exists
    assert user.home == "/usr/share/ollama"
    assert user.shell == "/bin/false"
    assert user.group == "ollama"
    assert "video" in user.groups


def test_release_installed_per_version_behind_one_link(host):
    assert host.check_output("readlink /opt/ollama/current") == f"/opt/ollama/{VERSION}"
    assert host.check_output("readlink /usr/local/bin/ollama") == "/opt/ollama/current/bin/ollama"
    binary = host.file(f"/opt/ollama/{VERSION}/bin/ollama")
    assert binary.is_file and binary.mode & 0o111
    assert host.file(f"/opt/ollama/{VERSION}/lib/ollama").is_directory
    assert not host.file(f"/opt/ollama/.downloads/{VERSION}-ollama-linux-amd64.tar.zst").exists


def test_unit_is_upstreams_and_settings_live_in_the_dropin(host):
    unit = host.file("/etc/systemd/system/ollama.service")
    assert unit.mode == 0o644
    assert "ExecStart=/usr/local/bin/ollama serve" in unit.content_string
    assert "OLLAMA_" not in unit.content_string
    dropin = host.file("/etc/systemd/system/ollama.service.d/override.conf").content_string
    for line in ('Environment="OLLAMA_HOST=127.0.0.1:11434"', 'Environment="OLLAMA_KEEP_ALIVE=10m"',
                 'Environment="OLLAMA_NUM_PARALLEL=2"', 'Environment="OLLAMA_FLASH_ATTENTION=true"',
                 'Environment="OLLAMA_MODELS=/data/ollama/models"', "Restart=always", "ProtectSystem=full"):
        assert line in dropin
    assert "NoNewPrivileges=" not in dropin  # CUDA's setuid nvidia-modprobe must work


def test_service_running_with_dropin_applied(host):
    service = host.service("ollama")
    assert service.is_running and service.is_enabled
    environment = host.check_output("systemctl show ollama --property=Environment")
    assert "OLLAMA_KEEP_ALIVE=10m" in environment
    assert host.check_output("systemctl show ollama --property=Restart") == "Restart=always"


def test_listens_on_loopback_only(host):
    assert host.socket("tcp://127.0.0.1:11434").is_listening
    assert not host.socket("tcp://0.0.0.0:11434").is_listening


def test_api_answers_with_pinned_version(host):
    assert api(host, "/api/version") == {"version": VERSION}
    assert host.check_output("ollama -v") == f"ollama version is {VERSION}"


def test_custom_models_directory_owned_by_service_user(host):
    models = host.file("/data/ollama/models")
    assert models.user == "ollama" and models.group == "ollama"
    assert host.file("/data").mode & 0o001 and host.file("/data/ollama").mode & 0o001
    assert host.file("/data/ollama/models/manifests/registry.ollama.ai/library/smollm2/135m").is_file


def test_models_present(host):
    names = {model["name"] for model in api(host, "/api/tags")["models"]}
    assert {"smollm2:135m", "support-bot:latest"} <= names

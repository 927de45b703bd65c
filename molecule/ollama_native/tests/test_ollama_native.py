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


# Values of vars/ollama.yml: characters that systemd, environment files and URLs treat specially.
PROXY = 'http://proxy-user:Pr0xy-S3cret%25$x"y\\z@proxy.invalid:3128'
TOKEN = "Site-T0ken-5e8d$HOME%h"
QUOTING = "100% \"quoted\" \\back\\slash $HOME ${X} %h 'single'"


def server_environment(host):
    pid = host.check_output("systemctl show --property=MainPID --value ollama")
    raw = host.file(f"/proc/{pid}/environ").content.decode()
    return dict(item.split("=", 1) for item in raw.split("\0") if item)


def test_secrets_only_in_a_root_only_environment_file(host):
    secret = host.file("/etc/ollama/secret.env")
    assert (secret.user, secret.group, secret.mode) == ("root", "root", 0o600)
    lines = secret.content_string.splitlines()
    assert f"HTTPS_PROXY='{PROXY}'" in lines and f"LLMOPS_SITE_TOKEN='{TOKEN}'" in lines
    dropin = host.file("/etc/systemd/system/ollama.service.d/override.conf")
    assert dropin.mode == 0o644
    assert "EnvironmentFile=/etc/ollama/secret.env" in dropin.content_string.splitlines()
    for text in ("Pr0xy-S3cret", "Site-T0ken", "HTTPS_PROXY="):
        assert text not in dropin.content_string
    shown = host.check_output("systemctl show ollama --property=Environment")
    assert "Pr0xy-S3cret" not in shown and "Site-T0ken" not in shown
    assert host.check_output("systemctl show ollama --property=EnvironmentFiles").startswith(
        "EnvironmentFiles=/etc/ollama/secret.env ")


def test_dropin_values_are_escaped_for_systemd(host):
    dropin = host.file("/etc/systemd/system/ollama.service.d/override.conf").content_string.splitlines()
    assert "Environment=\"LLMOPS_QUOTING_CHECK=100%% \\\"quoted\\\" \\\\back\\\\slash $HOME ${X} %%h 'single'\"" in dropin
    # systemd read it back as written: % not expanded, quotes and backslashes kept.
    shown = host.check_output("systemctl show ollama --property=Environment")
    assert "\"LLMOPS_QUOTING_CHECK=100% \\\"quoted\\\" \\\\back\\\\slash \\$HOME \\${X} %h 'single'\"" in shown


def test_server_gets_every_value_verbatim(host):
    environment = server_environment(host)
    assert environment["LLMOPS_QUOTING_CHECK"] == QUOTING
    assert environment["LLMOPS_MULTILINE_CHECK"] == "first line\nsecond line\\n stays"
    assert environment["HTTPS_PROXY"] == PROXY
    assert environment["LLMOPS_SITE_TOKEN"] == TOKEN
    assert environment["OLLAMA_KEEP_ALIVE"] == "10m"

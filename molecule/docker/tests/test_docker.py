"""Verify the docker role on Debian 13 with the distribution's docker.io and compose v2."""
import json


def _read(host, path):
    return host.file(path).content_string.strip()


def test_engine_installed_pinned_and_held(host):
    assert host.package("docker.io").is_installed
    assert host.package("docker.io").version.startswith("26.1.")
    assert host.package("docker-compose").is_installed
    assert host.package("docker-cli").version.startswith("26.1.")
    pref = host.file("/etc/apt/preferences.d/docker.pref")
    assert pref.contains("Package: docker.io docker-cli")
    assert pref.contains("Pin: version 26.1.*")
    selections = host.check_output("dpkg --get-selections docker.io docker-cli docker-compose")
    assert all(line.split()[1] == "hold" for line in selections.splitlines())


def test_no_docker_repository_in_distribution_mode(host):
    assert not host.file("/etc/apt/sources.list.d/docker.sources").exists


def test_daemon_json_merged(host):
    config = json.loads(host.file("/etc/docker/daemon.json").content_string)
    assert config["labels"] == ["preexisting=kept"]          # pre-existing key kept
    assert config["log-opts"]["labels"] == "team"            # nested pre-existing key kept
    assert config["log-opts"]["max-size"] == "10m"           # nested key merged in
    assert config["storage-driver"] == "vfs"
    assert config["max-concurrent-downloads"] == 4           # from side_effect


def test_docker_answers(host):
    assert host.service("docker").is_running
    assert host.service("docker").is_enabled
    info = host.check_output("docker info --format '{{.Driver}} {{.LoggingDriver}}'")
    assert info == "vfs json-file"
    assert host.check_output("docker compose version --short").startswith("2.")


def test_restart_only_on_change(host):
    converge_pid = _read(host, "/root/dockerd-pid-converge")
    before = _read(host, "/root/dockerd-pid-before-change")
    after = _read(host, "/root/dockerd-pid-after-change")
    assert converge_pid == before, "the idempotence run restarted dockerd"
    assert before != after, "a changed daemon option did not restart dockerd"
    assert after == host.check_output("systemctl show --property MainPID --value docker")


def test_user_in_docker_group(host):
    assert "docker" in host.user("molecule-admin").groups


def test_unparsable_daemon_json_stops_both_roles_untouched(host):
    for role in ("docker", "nvidia_container_toolkit"):
        record = json.loads(host.file("/root/daemon-json-broken-%s.json" % role).content_string)
        assert record["outcome"].startswith(
            "%s: /etc/docker/daemon.json exists but cannot be read as a JSON object (Expecting" % role)
        assert "nothing was changed" in record["outcome"]
        assert record["content"] == '{"labels": ["preexisting=kept"],'

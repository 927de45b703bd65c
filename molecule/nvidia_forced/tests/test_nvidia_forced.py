"""Forced path of nvidia_driver, docker (Docker's repository mode) and nvidia_container_toolkit
against the local apt repository of test doubles (tests/fixtures/apt-repo)."""
import json

import pytest


def test_debian_nonfree_sources(host):
    sources = host.file("/etc/apt/sources.list.d/debian-nonfree.sources")
    assert sources.contains("^Components: contrib non-free non-free-firmware$")
    assert sources.contains("^Signed-By: /etc/apt/keyrings/llmops-test-archive.asc$")
    assert sources.contains("^URIs: http://127.0.0.1:8765/debian$")


@pytest.mark.parametrize("name", ["nvidia-open-kernel-dkms", "nvidia-smi", "libcuda1", "libnvidia-ml1",
                                  "nvidia-persistenced"])
def test_driver_branch_pinned_and_held(host, name):
    pkg = host.package(name)
    assert pkg.is_installed
    assert pkg.version == "535.999.1-1", "branch pin ignored: 550 is available too"
    assert host.check_output("dpkg --get-selections %s" % name).split()[1] == "hold"


def test_driver_flavour_selection(host):
    # server-open: open kernel module, headless (no nvidia-driver metapackage, no X.org).
    assert not host.package("nvidia-kernel-dkms").is_installed
    assert not host.package("nvidia-driver").is_installed


def test_driver_pin_file(host):
    pref = host.file("/etc/apt/preferences.d/nvidia-driver.pref")
    assert pref.contains("^Pin: version 535\\.\\*$")
    assert pref.contains("^Pin-Priority: 1001$")
    assert pref.contains("^Package: nvidia-\\* libnvidia-\\*")


def test_nouveau_blacklisted(host):
    conf = host.file("/etc/modprobe.d/blacklist-nouveau.conf")
    assert conf.contains("^blacklist nouveau$")
    assert conf.contains("^options nouveau modeset=0$")


def test_persistenced_enabled(host):
    assert host.service("nvidia-persistenced").is_enabled


def test_docker_repository_mode(host):
    sources = host.file("/etc/apt/sources.list.d/docker.sources")
    assert sources.contains("^URIs: http://127.0.0.1:8765/docker/linux/debian$")
    assert sources.contains("^Suites: bookworm$")
    assert sources.contains("^Components: stable$")
    assert sources.contains("^Signed-By: /etc/apt/keyrings/docker.asc$")
    assert host.file("/etc/apt/keyrings/docker.asc").contains("BEGIN PGP PUBLIC KEY BLOCK")
    assert host.file("/etc/apt/preferences.d/docker.pref").contains("^Pin: version 5:28.3.3-\\*$")
    for name in ["docker-ce", "docker-ce-cli"]:
        assert host.package(name).version == "5:28.3.3-1~debian.12~bookworm", "docker pin ignored"
    for name in ["docker-ce", "docker-ce-cli", "containerd.io", "docker-buildx-plugin", "docker-compose-plugin"]:
        assert host.check_output("dpkg --get-selections %s" % name).split()[1] == "hold"


def test_toolkit_repository(host):
    sources = host.file("/etc/apt/sources.list.d/nvidia-container-toolkit.sources")
    assert sources.contains("^URIs: http://127.0.0.1:8765/libnvidia-container/stable/deb/amd64/$")
    assert sources.contains("^Suites: /$")
    assert sources.contains("^Signed-By: /etc/apt/keyrings/nvidia-container-toolkit.asc$")
    assert host.file("/etc/apt/preferences.d/nvidia-container-toolkit.pref").contains("^Pin: version 1.17.8-\\*$")


@pytest.mark.parametrize("name", ["nvidia-container-toolkit", "nvidia-container-toolkit-base",
                                  "libnvidia-container-tools", "libnvidia-container1"])
def test_toolkit_pinned_and_held(host, name):
    assert host.package(name).version == "1.17.8-1", "toolkit pin ignored: 1.18.0 is available too"
    assert host.check_output("dpkg --get-selections %s" % name).split()[1] == "hold"


def test_daemon_json_merged(host):
    config = json.loads(host.file("/etc/docker/daemon.json").content_string)
    assert config["labels"] == ["preexisting=kept"]                      # pre-existing key kept
    assert config["log-opts"] == {"max-size": "10m", "max-file": "3"}    # docker role's keys kept
    assert config["runtimes"]["nvidia"] == {"path": "nvidia-container-runtime", "args": []}
    assert config["default-runtime"] == "nvidia"
    assert config["features"] == {"cdi": True}


def test_cdi(host):
    assert host.file("/etc/cdi/nvidia.yaml").contains("kind: nvidia.com/gpu")
    assert host.service("nvidia-cdi-generate.service").is_enabled
    assert host.service("nvidia-cdi-generate.path").is_enabled
    assert host.file("/etc/systemd/system/nvidia-cdi-generate.service").contains(
        "ExecStart=/usr/bin/nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml")


def test_gpu_container_check_ran(host):
    log = host.file("/var/log/docker-cli-double.log").content_string
    assert "run --rm --device nvidia.com/gpu=all local/test-double:latest nvidia-smi -L" in log


def test_docker_running(host):
    assert host.service("docker").is_running
    assert host.service("docker").is_enabled

"""No NVIDIA GPU: nothing installed, no repositories, pins or blacklist written."""
import pytest


@pytest.mark.parametrize("path", [
    "/etc/apt/sources.list.d/debian-nonfree.sources",
    "/etc/apt/sources.list.d/nvidia-cuda.sources",
    "/etc/apt/sources.list.d/nvidia-container-toolkit.sources",
    "/etc/apt/preferences.d/nvidia-driver.pref",
    "/etc/apt/preferences.d/nvidia-container-toolkit.pref",
    "/etc/apt/keyrings/nvidia-container-toolkit.asc",
    "/etc/modprobe.d/blacklist-nouveau.conf",
    "/etc/docker/daemon.json",
    "/etc/systemd/system/nvidia-cdi-generate.service",
])
def test_nothing_written(host, path):
    assert not host.file(path).exists


def test_no_nvidia_packages(host):
    listed = host.check_output("dpkg-query -W -f='${Package} ${Status}\\n'")
    installed = [line.split()[0] for line in listed.splitlines() if line.endswith("installed")]
    assert not [name for name in installed if "nvidia" in name or name.startswith("libcuda")]


def test_no_nvidia_in_apt_sources(host):
    assert host.run("grep -rqi nvidia /etc/apt/sources.list /etc/apt/sources.list.d").rc != 0

"""Forced nvidia_driver install of the real packages from Debian's archive (deb.debian.org)."""
import re

import pytest

# What each test host's release ships and what its flavour selects.
EXPECTED = {
    "12": {"codename": "bookworm", "branch": "535", "kernel_module": "nvidia-kernel-dkms",
           "not_installed": ["nvidia-open-kernel-dkms", "nvidia-driver", "xserver-xorg-video-nvidia"]},
    "13": {"codename": "trixie", "branch": "550", "kernel_module": "nvidia-open-kernel-dkms",
           "not_installed": ["nvidia-kernel-dkms", "nvidia-driver", "xserver-xorg-video-nvidia"]},
}
HELD = ["nvidia-smi", "libcuda1", "libnvidia-ml1", "nvidia-persistenced"]


@pytest.fixture()
def release(host):
    return EXPECTED[host.system_info.release.split(".")[0]]


def test_nonfree_sources_from_debian(host, release):
    sources = host.file("/etc/apt/sources.list.d/debian-nonfree.sources")
    assert sources.mode == 0o644
    assert sources.contains("^URIs: http://deb.debian.org/debian$")
    assert sources.contains("^Suites: {0} {0}-updates$".format(release["codename"]))
    assert sources.contains("^Components: contrib non-free non-free-firmware$")
    assert sources.contains("^Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg$")


def test_driver_packages_on_the_branch_and_held(host, release):
    for name in [release["kernel_module"]] + HELD:
        pkg = host.package(name)
        assert pkg.is_installed, name
        assert pkg.version.startswith(release["branch"] + "."), "%s %s" % (name, pkg.version)
        assert host.check_output("dpkg --get-selections %s" % name).split()[1] == "hold", name


def test_flavour_is_headless(host, release):
    for name in release["not_installed"]:
        assert not host.package(name).is_installed, name


def test_branch_pin_wins_in_apt(host, release):
    pref = host.file("/etc/apt/preferences.d/nvidia-driver.pref")
    assert pref.contains(r"^Pin: version %s\.\*$" % release["branch"])
    policy = host.check_output("apt-cache policy nvidia-smi")
    candidate = re.search(r"^  Candidate: (\S+)$", policy, re.M).group(1)
    assert candidate.startswith(release["branch"] + "."), policy
    assert re.search(r"^ \*{0,3} +%s 1001$" % re.escape(candidate), policy, re.M), policy


def test_an_upgrade_leaves_the_driver_alone(host):
    # What unattended-upgrades would do: nothing NVIDIA may be upgraded, removed or newly installed.
    simulated = host.check_output("apt-get --simulate --quiet dist-upgrade")
    assert not [line for line in simulated.splitlines()
                if line.startswith(("Inst ", "Remv ")) and "nvidia" in line], simulated


def test_nouveau_blacklisted(host):
    conf = host.file("/etc/modprobe.d/blacklist-nouveau.conf")
    assert conf.contains("^blacklist nouveau$")
    assert conf.contains("^options nouveau modeset=0$")


def test_kernel_module_source_registered_with_dkms(host, release):
    # Built for a kernel once its headers are there (on a GPU host: the running kernel's).
    status = host.check_output("dkms status")
    assert re.search(r"^nvidia-current(-open)?/%s\.\S+: added$" % release["branch"], status, re.M), status


def test_nvidia_smi_installed(host):
    assert host.file("/usr/bin/nvidia-smi").exists


def test_persistenced_enabled(host):
    assert host.service("nvidia-persistenced").is_enabled

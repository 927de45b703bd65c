# Copyright (c) 2026, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Wall time of site.yml over SSH for fleets of 1, 2 and 4 hosts: a fresh converge, a no-op re-run with the
recommended controller settings (inventory/example/ansible.cfg) and a no-op re-run with Ansible's defaults.

    .venv/bin/python benchmarks/fleet_converge.py [--hosts 1,2,4] [--batches JSON] [--keep]
                                                  [--out FILE.json] [--png FILE.png]

For each fleet size it starts that many bare Debian 12 systemd containers (bench-fleet-1..N, through
tests/harness/molecule/start-hosts.yml via benchmarks/fleet_hosts.yml), each managed over SSH as the user
"molecule" with passwordless sudo, beside one mirror host (bench-fleet-mirror, tests/harness/molecule/mirror.yml)
that serves the Ollama double's releases and models. It writes an inventory for native mode (the release mirror,
the release pins, one small model, an API key for the proxy) and times each `ansible-playbook site.yml` with
time.monotonic(). Per host it reads from PLAY RECAP the tasks run (ok=) and the changes (changed=).

Run it from the repository root after `source tests/harness/lib.sh` and once
`python tests/ollama_double/build_artifacts.py --out build/ollama-artifacts --images --save`.
Everything it starts is named bench-fleet-* and removed at the end, or on Ctrl-C (--keep leaves the last
fleet running). Not a timed test: docs/performance.md records the figures.
"""
import argparse
import configparser
import json
import os
import platform
import re
import resource
import shutil
import signal
import subprocess
import sys
import time

from chart import Canvas  # benchmarks/chart.py, beside this file

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PREFIX = "bench-fleet-"
NETWORK = "bench-fleet"
LABEL = "llmops-test-network=" + NETWORK
MIRROR = PREFIX + "mirror"
IMAGE = "llmops/debian12-systemd:latest"
SSH_USER = "molecule"
OLLAMA_VERSION = "0.32.15"
MODEL = "smollm2:135m"
API_KEY = "sk-bench-fleet-0123456789abcdef"
RECAP = re.compile(r"^(?P<host>\S+)\s*:\s*ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
                   r"\s+failed=(?P<failed>\d+)\s+skipped=(?P<skipped>\d+)\s+rescued=(?P<rescued>\d+)\s+ignored=(?P<ignored>\d+)")
RUNS = (
    ("fresh", "recommended", "fresh converge"),
    ("noop_recommended", "recommended", "no-op re-run, recommended settings"),
    ("noop_defaults", "defaults", "no-op re-run, Ansible defaults"),
)


class BenchError(Exception):
    """A step failed; the message says which and where its log is."""


def ansible_env(config):
    """The environment of one ansible-playbook: only the given ansible.cfg decides the settings."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    env.update({
        "ANSIBLE_CONFIG": config,
        "ANSIBLE_COLLECTIONS_PATH": os.environ.get("ANSIBLE_COLLECTIONS_PATH", os.path.join(REPO, ".ansible", "collections")),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "REPO_ROOT": REPO,
    })
    return env


def ansible_playbook():
    beside = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    return beside if os.path.exists(beside) else "ansible-playbook"


def busy_cpu_seconds():
    """CPU time the whole machine has spent busy since boot (/proc/stat: all but idle and iowait), in seconds."""
    with open("/proc/stat", encoding="ascii") as handle:
        fields = [int(value) for value in handle.readline().split()[1:9]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def run_playbook(argv, config, log, usage=None):
    """Runs ansible-playbook ARGV; returns (seconds, return code, {host: recap counts}). USAGE, a dict, gets the
    CPU the machine spent during the run (controller, hosts and Docker together: they share its cores here) and
    the controller's part (ansible-playbook and the processes it waited for)."""
    with open(log, "w", encoding="utf-8") as handle:
        busy_before, children_before = busy_cpu_seconds(), resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.monotonic()
        proc = subprocess.run([ansible_playbook()] + argv, cwd=REPO, env=ansible_env(config),
                              stdout=handle, stderr=subprocess.STDOUT, check=False)
        seconds = time.monotonic() - start
        busy_after, children_after = busy_cpu_seconds(), resource.getrusage(resource.RUSAGE_CHILDREN)
    if usage is not None:
        cores = os.cpu_count() or 1
        usage["cpu_busy_seconds"] = round(busy_after - busy_before, 1)
        usage["cpu_utilisation"] = round((busy_after - busy_before) / (seconds * cores), 3)
        usage["controller_cpu_seconds"] = round(children_after.ru_utime + children_after.ru_stime
                                                - children_before.ru_utime - children_before.ru_stime, 1)
    recap = {}
    with open(log, encoding="utf-8") as handle:
        in_recap = False
        for line in handle:
            in_recap = in_recap or line.startswith("PLAY RECAP")
            match = RECAP.match(line) if in_recap else None
            if match:
                recap[match.group("host")] = {key: int(value) for key, value in match.groupdict().items() if key != "host"}
    return seconds, proc.returncode, recap


def tail(log, lines=25):
    with open(log, encoding="utf-8") as handle:
        return "".join(handle.readlines()[-lines:])


def write_configs(workdir, size):
    """ansible.cfg files for the two settings under test: the example's, and Ansible's defaults."""
    recommended = configparser.ConfigParser(interpolation=None)
    recommended.read(os.path.join(REPO, "inventory", "example", "ansible.cfg"))
    recommended.remove_option("defaults", "inventory")
    # A fact cache and SSH control sockets of this fleet only: the fresh converge starts with neither. An
    # earlier run's cache would hold the addresses of containers long gone (smart gathering trusts it for a day).
    for leftover in ("facts-%d" % size, "cp-%d" % size):
        shutil.rmtree(os.path.join(workdir, leftover), ignore_errors=True)
    recommended.set("defaults", "fact_caching_connection", os.path.join(workdir, "facts-%d" % size))
    recommended.set("defaults", "host_key_checking", "False")
    recommended.set("ssh_connection", "control_path_dir", os.path.join(workdir, "cp-%d" % size))
    recommended.set("ssh_connection", "ssh_args", recommended.get("ssh_connection", "ssh_args")
                    + " -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null")
    defaults = configparser.ConfigParser(interpolation=None)
    # Ansible's defaults (pipelining off, forks 5, no fact cache) and no SSH connection sharing; the host
    # keys of fresh containers are not checked in either.
    defaults["defaults"] = {"host_key_checking": "False", "interpreter_python": "auto_silent"}
    defaults["ssh_connection"] = {"ssh_args": "-o ControlMaster=no -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"}
    paths = {}
    for name, config in (("recommended", recommended), ("defaults", defaults)):
        paths[name] = os.path.join(workdir, "ansible-%s.cfg" % name)
        with open(paths[name], "w", encoding="utf-8") as handle:
            config.write(handle)
    return paths


def release_pins():
    out = subprocess.run([sys.executable, os.path.join(REPO, "tests", "harness", "release_checksums.py"),
                          os.path.join(REPO, "build", "ollama-artifacts")], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def address(name):
    out = subprocess.run(["docker", "inspect", "-f", "{{json .NetworkSettings.Networks}}", name],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout)[NETWORK]["IPAddress"]


def write_inventory(workdir, hosts, key):
    """The fleet in native mode, everything from the mirror, as molecule/fleet's group_vars set it."""
    inventory = {
        "ollama_servers": {
            "hosts": {name: {"ansible_host": address(name)} for name in hosts},
            "vars": {
                "ansible_connection": "ssh",
                "ansible_user": SSH_USER,
                "ansible_ssh_private_key_file": key,
                "ansible_become": True,
                "ollama_version": OLLAMA_VERSION,
                "ollama_install_mode": "native",
                "ollama_release_base_url": "http://%s:8080/releases" % MIRROR,
                "ollama_release_checksums": release_pins(),
                # The double reports models in GPU memory, as a GPU host does, so the health gate checks it.
                "ollama_extra_environment": {"OLLAMA_DOUBLE_PROCESSOR": "gpu"},
                "ollama_health_gpu_model": MODEL,
                "ollama_settings_auto": True,
                "ollama_settings": {"OLLAMA_KEEP_ALIVE": "24h"},
                "ollama_models": [{"name": MODEL, "source": "%s:5000/library/%s" % (MIRROR, MODEL), "insecure": True}],
                "nginx_proxy_api_keys": [{"name": "bench", "key": API_KEY}],
                "firewall_proxy_sources": ["172.16.0.0/12", "192.168.0.0/16", "10.0.0.0/8"],
            },
        },
        "mirror": {"hosts": {MIRROR: {"ansible_connection": "community.docker.docker", "ansible_user": "root"}}},
    }
    path = os.path.join(workdir, "inventory.json")
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(inventory, handle, indent=2)
    return path


def ours():
    """Containers this benchmark started: its label and its name prefix, nothing else."""
    out = subprocess.run(["docker", "ps", "--all", "--filter", "label=" + LABEL, "--format", "{{.Names}}"],
                         check=True, capture_output=True, text=True)
    return [name for name in out.stdout.split() if name.startswith(PREFIX)]


def remove(names, network=False):
    if names:
        subprocess.run(["docker", "rm", "--force", "--volumes"] + names, check=False, capture_output=True)
    if network:
        subprocess.run(["docker", "network", "rm", NETWORK], check=False, capture_output=True)


def start_hosts(workdir, platforms, config):
    spec = {"test_hosts": platforms, "test_network": NETWORK,
            "test_ssh_key": os.path.join(workdir, "ssh", "id_ed25519"), "test_ssh_user": SSH_USER}
    spec_path = os.path.join(workdir, "hosts-spec.json")
    with open(spec_path, "w", encoding="utf-8") as handle:
        json.dump(spec, handle)
    log = os.path.join(workdir, "start-%s.log" % platforms[0]["name"])
    # On a loaded machine `systemctl is-system-running --wait` can come before systemd's bus exists
    # ("Failed to connect to bus"): start such hosts again.
    for attempt in range(3):
        unused_seconds, rc, unused_recap = run_playbook(["benchmarks/fleet_hosts.yml", "-e", "@" + spec_path], config, log)
        if not rc:
            return spec["test_ssh_key"]
        remove([platform_["name"] for platform_ in platforms])
        print("starting the hosts failed (attempt %d, %s)" % (attempt + 1, log), flush=True)
    raise BenchError("starting the hosts failed (%s):\n%s" % (log, tail(log)))


def start_mirror(workdir, config):
    start_hosts(workdir, [{"name": MIRROR, "image": IMAGE, "groups": ["mirror"]}], config)
    inventory = os.path.join(workdir, "mirror.json")
    with open(inventory, "w", encoding="utf-8") as handle:
        json.dump({"mirror": {"hosts": {MIRROR: {"ansible_connection": "community.docker.docker"}}}}, handle)
    log = os.path.join(workdir, "mirror.log")
    unused_seconds, rc, unused_recap = run_playbook(["-i", inventory, "tests/harness/molecule/mirror.yml"], config, log)
    if rc:
        raise BenchError("setting up the mirror failed (%s):\n%s" % (log, tail(log)))


def measure(workdir, size, batches):
    """Starts SIZE bare hosts, times the three runs of site.yml on them; returns the size's results."""
    configs = write_configs(workdir, size)
    hosts = ["%s%d" % (PREFIX, index) for index in range(1, size + 1)]
    key = start_hosts(workdir, [{"name": name, "image": IMAGE, "ssh_port": 22, "groups": ["ollama_servers"]}
                                for name in hosts], configs["defaults"])
    inventory = write_inventory(workdir, hosts, key)
    argv = ["-i", inventory, "site.yml"]
    if batches is not None:
        argv += ["-e", json.dumps({"ollama_rollout_batches": batches})]
    result = {"hosts": size, "runs": {}}
    for run, settings, title in RUNS:
        log = os.path.join(workdir, "%d-%s.log" % (size, run))
        print("%d host(s): %s ..." % (size, title), flush=True)
        load = os.getloadavg()[0]
        usage = {}
        seconds, rc, recap = run_playbook(argv, configs[settings], log, usage)
        result["runs"][run] = {
            "settings": settings, "seconds": round(seconds, 1), "rc": rc, "load_average_before": round(load, 2),
            **usage,
            "log": os.path.relpath(log, REPO),
            "per_host": {host: recap.get(host) for host in hosts},
            "tasks_run_per_host": max((recap[host]["ok"] for host in hosts if host in recap), default=None),
            "changed_total": sum(recap[host]["changed"] for host in hosts if host in recap),
        }
        counts = ", ".join("%s %s/%s" % (host, (recap.get(host) or {}).get("ok"), (recap.get(host) or {}).get("changed"))
                           for host in hosts)
        print("  %.1f s (CPU busy %.0f%%), rc=%d, per host ok/changed: %s" % (seconds, 100 * usage["cpu_utilisation"], rc, counts),
              flush=True)
        if rc:
            raise BenchError("%s on %d host(s) failed (%s):\n%s" % (title, size, log, tail(log)))
    fresh = result["runs"]["fresh"]["seconds"]
    result["noop_recommended_over_fresh"] = round(result["runs"]["noop_recommended"]["seconds"] / fresh, 3)
    result["noop_defaults_over_fresh"] = round(result["runs"]["noop_defaults"]["seconds"] / fresh, 3)
    result["idempotent"] = all(result["runs"][run]["changed_total"] == 0 for run in ("noop_recommended", "noop_defaults"))
    return result


def targets(sizes):
    """The issue's targets: 4 hosts in at most 2x the time of 1 host; a no-op re-run in at most half the fresh time."""
    by_size = {entry["hosts"]: entry for entry in sizes}
    found = {"noop_at_most_half_of_fresh": {str(size): entry["noop_recommended_over_fresh"] <= 0.5
                                            for size, entry in by_size.items()}}
    if 1 in by_size and 4 in by_size:
        ratio = by_size[4]["runs"]["fresh"]["seconds"] / by_size[1]["runs"]["fresh"]["seconds"]
        found["fresh_4_over_1"] = round(ratio, 3)
        found["fresh_4_at_most_2x_of_1"] = ratio <= 2
        # The least the 4-host converge could take on this machine: the CPU work it did, spread over all cores.
        fresh_4 = by_size[4]["runs"]["fresh"]
        if "cpu_busy_seconds" in fresh_4:
            found["fresh_4_cpu_floor_over_1"] = round(
                fresh_4["cpu_busy_seconds"] / (os.cpu_count() or 1) / by_size[1]["runs"]["fresh"]["seconds"], 3)
    return found


COLOURS = {"fresh": (52, 101, 164), "noop_recommended": (78, 154, 6), "noop_defaults": (245, 121, 0)}


def chart(sizes, path):
    """Grouped bars: per fleet size, the fresh converge and both no-op re-runs, in seconds."""
    width, height, top, bottom, left = 720, 420, 90, 50, 40
    canvas = Canvas(width, height)
    canvas.text(left, 14, "site.yml wall time over SSH (seconds) by fleet size", scale=3)
    x = left
    for run, unused_settings, title in RUNS:
        title = title.replace("no-op re-run, ", "no-op, ")
        canvas.rect(x, 48, 14, 14, COLOURS[run])
        canvas.text(x + 20, 50, title)
        x += 20 + Canvas.text_width(title) + 24
    longest = max(entry["runs"][run]["seconds"] for entry in sizes for run, unused, unused_title in RUNS) or 1
    plot = height - top - bottom
    canvas.rect(left, height - bottom, width - 2 * left, 2, (0, 0, 0))
    group = (width - 2 * left) // len(sizes)
    bar_width = min(60, group // 4)
    for position, entry in enumerate(sizes):
        origin = left + position * group + (group - 3 * bar_width) // 2
        for index, (run, unused_settings, unused_title) in enumerate(RUNS):
            seconds = entry["runs"][run]["seconds"]
            bar_height = max(1, int(plot * seconds / longest))
            x = origin + index * bar_width
            canvas.rect(x + 2, height - bottom - bar_height, bar_width - 4, bar_height, COLOURS[run])
            label = "%.0f" % seconds
            canvas.text(x + (bar_width - Canvas.text_width(label)) // 2, height - bottom - bar_height - 14, label)
        caption = "%d host%s" % (entry["hosts"], "" if entry["hosts"] == 1 else "s")
        canvas.text(left + position * group + (group - Canvas.text_width(caption, 3)) // 2, height - bottom + 14, caption, scale=3)
    with open(path, "wb") as handle:
        handle.write(canvas.png())


def machine():
    ansible = subprocess.run([ansible_playbook(), "--version"], capture_output=True, text=True, check=False).stdout
    return {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
            "ansible": ansible.splitlines()[0] if ansible else None, "host_image": IMAGE,
            "load_average_at_start": [round(value, 2) for value in os.getloadavg()]}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--hosts", default="1,2,4", help="fleet sizes, comma-separated (default 1,2,4)")
    parser.add_argument("--batches", type=json.loads, default=None,
                        help="ollama_rollout_batches as JSON, e.g. '[\"100%%\"]' (default: site.yml's own)")
    parser.add_argument("--keep", action="store_true", help="leave the last fleet and the mirror running")
    parser.add_argument("--out", default="build/benchmarks/fleet_converge.json")
    parser.add_argument("--png", default="build/benchmarks/fleet_converge.png", help="chart; empty for none")
    parser.add_argument("--workdir", default="build/benchmarks/fleet_converge", help="inventories, keys and logs")
    return parser.parse_args()


def main():
    args = parse_args()
    sizes = [int(size) for size in args.hosts.split(",")]
    if not os.path.isdir(os.path.join(REPO, "build", "ollama-artifacts", "v" + OLLAMA_VERSION)):
        sys.exit("build/ollama-artifacts/v%s is missing: run python tests/ollama_double/build_artifacts.py "
                 "--out build/ollama-artifacts --images --save first" % OLLAMA_VERSION)
    workdir = os.path.abspath(args.workdir)
    os.makedirs(workdir, exist_ok=True)
    for path in (args.out, args.png):
        if path:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    leftovers = ours()
    if leftovers:
        print("removing the leftovers of an earlier run: %s" % " ".join(leftovers), flush=True)
        remove(leftovers)
    report = {"machine": machine(), "command": " ".join([os.path.relpath(sys.argv[0], REPO)] + sys.argv[1:]),
              "ollama_version": OLLAMA_VERSION, "install_mode": "native", "model": MODEL,
              "rollout_batches": args.batches if args.batches is not None else "site.yml default",
              "sizes": []}
    failed = None
    try:
        print("starting the mirror ...", flush=True)
        start_mirror(workdir, write_configs(workdir, 0)["defaults"])
        for size in sizes:
            try:
                report["sizes"].append(measure(workdir, size, args.batches))
            finally:
                if not (args.keep and size == sizes[-1]):
                    remove([name for name in ours() if name != MIRROR])
    except BenchError as error:
        failed = str(error)
        report["error"] = failed
    finally:
        if not args.keep:
            remove(ours(), network=True)
    if report["sizes"]:
        report["targets"] = targets(report["sizes"])
        if args.png:
            chart(report["sizes"], args.png)
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=2)
    print(json.dumps({"sizes": [{"hosts": entry["hosts"], **{run: entry["runs"][run]["seconds"] for run, unused, unused_title in RUNS}}
                                for entry in report["sizes"]], "targets": report.get("targets")}, indent=2))
    print("results: %s%s" % (args.out, ", chart: %s" % args.png if args.png and report["sizes"] else ""))
    if failed:
        sys.exit(failed)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("interrupted: the bench-fleet-* containers and network are removed (unless --keep)")

# Copyright (c) 2026, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Latency the fleet gateway adds to a request: the same requests straight to a serving host's proxy and through
the gateway, alternating, on the hosts of a Molecule scenario (the product's roles as site.yml converges them:
nginx_proxy with TLS on the serving hosts, the gateway role on the gateway hosts).

    source tests/harness/lib.sh
    python benchmarks/gateway_latency.py [--scenario fleet|gateway_ha] [--requests N] [--keep] [--out FILE.json]

fleet: one gateway in front of three serving hosts. gateway_ha: two gateways behind their floating address, two
serving hosts paced at 20 tokens/s (the generation's figures include that pacing on both paths alike).
It creates and converges the scenario's hosts (several minutes) unless they are up already, drains every serving
host but one from the gateways (playbooks/drain.yml) so both paths end on the same host, measures, puts them back,
and destroys the hosts unless --keep. Cases: GET /api/version (the whole answer) and a streamed generation of 4
tokens (first chunk and whole stream). One keep-alive TLS connection per path, requests alternate between direct
and gateway so the machine's noise hits both alike, and they are paced under the proxies' default rate limit
(10 requests/s per credential). Prints median and p99 per case and the difference; not a timed test
(docs/performance.md).
"""
import argparse
import http.client
import json
import os
import platform
import ssl
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCENARIOS = {
    # The scenario's inference key (valid on every host), its model, the gateways, the serving host both paths end on
    # and the others (drained meanwhile); the floating address where the gateways share one.
    "fleet": {"key": "sk-fleet-test-0123456789abcdef", "model": "support-bot", "gateways": ["fleet-gateway"],
              "direct": "fleet-d12-native", "others": ["fleet-d13-native", "fleet-d13-compose"], "address": None},
    "gateway_ha": {"key": "sk-ha-app-0123456789abcdef", "model": "smollm2:135m", "gateways": ["ha-gw1", "ha-gw2"],
                   "direct": "ha-serve1", "others": ["ha-serve2"], "address": "10.231.0.250"},
}
PACE = 0.11  # seconds between two requests with the same credential


def docker(*args):
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=True).stdout.strip()


def address(container):
    return docker("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}", container).split()[0]


def molecule(scenario, command):
    subprocess.run(["molecule", command, "-s", scenario], check=True, stdout=subprocess.DEVNULL)


def holder(scenario):
    """The gateway that answers on the scenario's gateway address: the one holding the floating address, or the only one."""
    for name in scenario["gateways"]:
        if not scenario["address"] or scenario["address"] + "/" in docker("exec", name, "ip", "-4", "-o", "addr", "show"):
            return name
    sys.exit("no gateway holds %s" % scenario["address"])


def drain(scenario, hosts, state):
    """playbooks/drain.yml on every gateway, reached with docker exec from an inventory of its own."""
    inventory = os.path.join(REPO, "build", "benchmarks", "gateway_latency_inventory.json")
    os.makedirs(os.path.dirname(inventory), exist_ok=True)
    gateways = dict((name, {"ansible_connection": "community.docker.docker", "ansible_user": "root"})
                    for name in scenario["gateways"])
    with open(inventory, "w") as handle:
        json.dump({"ollama_gateways": {"hosts": gateways}}, handle)
    subprocess.run(["ansible-playbook", "-i", inventory, os.path.join(REPO, "playbooks", "drain.yml"),
                    "-e", json.dumps({"gateway_drain_hosts": hosts, "gateway_drain_state": state})],
                   check=True, stdout=subprocess.DEVNULL)


def connection(host, certificate):
    """A keep-alive TLS connection to host's address that trusts exactly its (self-signed) certificate."""
    context = ssl.create_default_context(cadata=certificate)
    # The certificate names the host; the connection dials its address on the scenario network.
    context.check_hostname = False
    return http.client.HTTPSConnection(host, 443, timeout=30, context=context)


def timed(connection, key, host_header, method, path, body=None):
    """(seconds to the first byte of the body, seconds to its end) of one request."""
    headers = {"Authorization": "Bearer " + key, "Host": host_header}
    if body is not None:
        headers["Content-Type"] = "application/json"
    start = time.perf_counter()
    connection.request(method, path, body=body, headers=headers)
    reply = connection.getresponse()
    first = reply.read(1)
    first_at = time.perf_counter() - start
    rest = reply.read()
    if reply.status != 200 or not first:
        raise RuntimeError("%s %s answered %s: %s" % (method, path, reply.status, (first + rest)[:200]))
    return first_at, time.perf_counter() - start


def summary(samples):
    ordered = sorted(samples)
    return {"median_ms": round(statistics.median(ordered) * 1000, 2),
            "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 2),
            "samples": len(ordered)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="fleet", help="whose hosts (default fleet)")
    parser.add_argument("--requests", type=int, default=200, help="requests per case and path")
    parser.add_argument("--keep", action="store_true", help="leave the scenario's hosts up")
    parser.add_argument("--out", default="build/benchmarks/gateway_latency.json")
    args = parser.parse_args()
    scenario = SCENARIOS[args.scenario]
    key = scenario["key"]

    up = subprocess.run(["docker", "inspect", scenario["gateways"][0]], capture_output=True, check=False).returncode == 0
    if not up:
        for command in ("create", "prepare", "converge"):
            molecule(args.scenario, command)
    drain(scenario, scenario["others"], "drained")
    try:
        gateway, direct = holder(scenario), scenario["direct"]
        certificates = {name: docker("exec", name, "cat", "/etc/nginx/ollama-proxy/tls/selfsigned.crt")
                        for name in (gateway, direct)}
        paths = {"direct": (address(direct), direct, direct),
                 "gateway": (scenario["address"] or address(gateway), gateway, gateway)}
        connections = {path: connection(host, certificates[name]) for path, (host, name, unused) in paths.items()}
        generate = json.dumps({"model": scenario["model"], "prompt": "hi", "stream": True, "options": {"num_predict": 4}})
        cases = {"version": ("GET", "/api/version", None), "generate": ("POST", "/api/generate", generate)}
        samples = {case: {path: {"first": [], "total": []} for path in paths} for case in cases}
        for case, (method, url, body) in cases.items():
            for path in paths:  # warm-up: TLS handshake, keep-alive to the serving host
                timed(connections[path], key, paths[path][2], method, url, body)
        for index in range(args.requests):
            for case, (method, url, body) in cases.items():
                for path in (("direct", "gateway") if index % 2 else ("gateway", "direct")):
                    started = time.perf_counter()
                    first, total = timed(connections[path], key, paths[path][2], method, url, body)
                    samples[case][path]["first"].append(first)
                    samples[case][path]["total"].append(total)
                    time.sleep(max(0.0, PACE - (time.perf_counter() - started)))
    finally:
        drain(scenario, scenario["others"], "active")
        if not args.keep and not up:
            molecule(args.scenario, "destroy")

    machine = {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
               "load_average_at_end": [round(value, 2) for value in os.getloadavg()]}
    report = {"scenario": args.scenario, "machine": machine, "requests": args.requests, "cases": {}}
    print("%-34s %12s %12s %12s %12s %10s" % ("case", "direct p50", "gateway p50", "direct p99", "gateway p99", "added p50"))
    for case in cases:
        for measure in ("first", "total"):
            if case == "version" and measure == "first":
                continue
            direct, gateway = summary(samples[case]["direct"][measure]), summary(samples[case]["gateway"][measure])
            added = round(gateway["median_ms"] - direct["median_ms"], 2)
            name = "%s (%s)" % (case, "first chunk" if measure == "first" else "whole answer")
            report["cases"][name] = {"direct": direct, "gateway": gateway, "added_median_ms": added}
            print("%-34s %10.2fms %10.2fms %10.2fms %10.2fms %8.2fms" % (name, direct["median_ms"], gateway["median_ms"],
                                                                         direct["p99_ms"], gateway["p99_ms"], added))
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w") as handle:
        json.dump(report, handle, indent=2)
    print("results: %s" % args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

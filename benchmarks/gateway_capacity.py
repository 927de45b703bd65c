# Copyright (c) 2026, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the gateway's capacity limits do under load, against plain least connections, on the hosts of the
`gateway_ha` Molecule scenario: ha-serve1 runs one request at a time (OLLAMA_NUM_PARALLEL=1), ha-serve2 two, both at
20 tokens/s, so the fleet's capacity is 3 generations at once; a generation of 10 tokens takes 0.5 s, so about
6 requests/s.

    source tests/harness/lib.sh
    python benchmarks/gateway_capacity.py [--loads 0.5,1,1.5,2,3] [--seconds 15] [--keep] [--out FILE.json] [--png FILE.png]

It creates and converges the scenario's hosts (several minutes) unless they are up, then for each mode converges the
gateways again (site.yml --limit ollama_gateways --tags gateway):
  least-connections  gateway_capacity_factor 1000: no limit at the gateway, the host with the fewest requests in
                     progress gets the next one and queues it in its Ollama (what the gateway did before);
  capacity           gateway_capacity_factor 1: at most OLLAMA_NUM_PARALLEL requests per host, the rest wait at the
                     gateway for the first free host (gateway_queue_timeout 20 s), then 503 with Retry-After.
Rate and connection limits are lifted on the gateways for the run. For each offered load (a multiple of the
fleet's capacity, open-loop: requests start on a schedule whatever the answers do), it reports the p50 and p99
latency of the answered requests, the errors, and the most requests each serving host had at once (HAProxy's smax,
counters cleared before each load). Prints a table; writes JSON and a PNG; not a timed test (docs/performance.md).
"""
import argparse
import concurrent.futures
import json
import os
import platform
import ssl
import statistics
import subprocess
import sys
import time

from chart import Canvas  # benchmarks/chart.py, beside this file

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCENARIO = "gateway_ha"
VIP = "10.231.0.250"
KEY = "sk-ha-app-0123456789abcdef"
GATEWAYS = ["ha-gw1", "ha-gw2"]
SERVING = ["ha-serve1", "ha-serve2"]
CAPACITY = 3            # generations at once, fleet-wide: 1 + 2
SERVICE_SECONDS = 0.5   # 10 tokens at 20 tokens/s
MODES = (("least-connections", 1000), ("capacity", 1))
COLOURS = {"least-connections": (245, 121, 0), "capacity": (52, 101, 164)}


def docker(*args, check=True):
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check).stdout.strip()


def molecule(command):
    subprocess.run(["molecule", command, "-s", SCENARIO], check=True, stdout=subprocess.DEVNULL)


def ephemeral():
    found = subprocess.run(["bash", "-c", "ls -td $HOME/.ansible/tmp/molecule.*.%s | head -1" % SCENARIO],
                           capture_output=True, text=True, check=True).stdout.strip()
    if not found:
        sys.exit("no Molecule state for %s: run without hosts up, or molecule converge -s %s" % (SCENARIO, SCENARIO))
    return found


def converge_gateways(factor):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ephemeral(), "ansible.cfg"))
    subprocess.run(["ansible-playbook", "-i", os.path.join(ephemeral(), "inventory", "ansible_inventory.yml"),
                    os.path.join(REPO, "playbooks", "site.yml"), "--limit", "ollama_gateways", "--tags", "gateway",
                    "-e", json.dumps({"gateway_capacity_factor": factor, "gateway_queue_timeout": "20s",
                                      "nginx_proxy_rate_limit_rate": "1000r/s", "nginx_proxy_rate_limit_burst": 1000,
                                      "nginx_proxy_conn_limit": 0, "nginx_proxy_conn_limit_per_credential": 0})],
                   check=True, stdout=subprocess.DEVNULL, env=env)


def active_gateway():
    for name in GATEWAYS:
        if VIP in docker("exec", name, "ip", "-4", "-o", "addr", "show"):
            return name
    sys.exit("no gateway holds %s" % VIP)


HAPROXY = r"""
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect("/run/haproxy/admin.sock")
s.sendall(sys.argv[1].encode() + b"\n")
print(b"".join(iter(lambda: s.recv(65536), b"")).decode())
"""


def haproxy(gateway, command):
    return docker("exec", gateway, "python3", "-c", HAPROXY, command)


def most_at_once(gateway):
    """Per serving host, the most requests HAProxy had on it at once in its inference pool (smax)."""
    routes = json.loads(docker("exec", gateway, "cat", "/etc/nginx/llmops-gateway/routes.json"))
    names = dict((host["id"], host["name"]) for host in routes["hosts"])
    lines = haproxy(gateway, "show stat").lstrip("# ").splitlines()
    header = lines[0].split(",")
    most = dict((name, 0) for name in SERVING)
    for line in lines[1:]:
        row = dict(zip(header, line.split(",")))
        if row.get("pxname", "").startswith("pool_") and not row["pxname"].endswith("_admin") and row["svname"] in names:
            most[names[row["svname"]]] = max(most[names[row["svname"]]], int(row["smax"] or 0))
    return most


def tls_context():
    pems = "".join(docker("exec", name, "cat", "/etc/nginx/ollama-proxy/tls/selfsigned.crt") + "\n" for name in GATEWAYS)
    return ssl.create_default_context(cadata=pems)


def one_request(context):
    import http.client  # pylint: disable=import-outside-toplevel
    body = json.dumps({"model": "smollm2:135m", "prompt": "hi", "stream": False, "options": {"num_predict": 10}})
    start = time.monotonic()
    try:
        conn = http.client.HTTPSConnection(VIP, 443, timeout=90, context=context)
        conn.request("POST", "/api/generate", body, {"Authorization": "Bearer " + KEY, "Content-Type": "application/json"})
        status = conn.getresponse().status
        conn.close()
    except OSError as error:
        status = type(error).__name__
    return status, time.monotonic() - start


def offered(context, rate, seconds):
    """Requests started every 1/rate s for `seconds`, each on its own connection; [(status, latency)]."""
    futures = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=400) as pool:
        start = time.monotonic()
        for index in range(int(rate * seconds)):
            delay = start + index / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            futures.append(pool.submit(one_request, context))
        return [future.result() for future in futures]


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))] if ordered else None


def chart(report, path):
    """p99 latency (bars, seconds) per offered load, one bar per mode; errors written above."""
    width, height, top, bottom, left = 760, 440, 90, 60, 50
    canvas = Canvas(width, height)
    canvas.text(left, 14, "gateway: p99 latency (s) and errors by offered load", scale=3)
    x = left
    for mode, unused_factor in MODES:
        canvas.rect(x, 48, 14, 14, COLOURS[mode])
        canvas.text(x + 20, 50, mode)
        x += 20 + Canvas.text_width(mode) + 24
    loads = report["loads"]
    longest = max(r["p99_s"] or 0 for run in report["modes"].values() for r in run) or 1
    plot = height - top - bottom
    canvas.rect(left, height - bottom, width - 2 * left, 2, (0, 0, 0))
    group = (width - 2 * left) // len(loads)
    bar_width = min(60, group // 3)
    for position, load in enumerate(loads):
        origin = left + position * group + (group - 2 * bar_width) // 2
        for index, (mode, unused_factor) in enumerate(MODES):
            row = report["modes"][mode][position]
            bar_height = max(1, int(plot * (row["p99_s"] or 0) / longest))
            x = origin + index * bar_width
            canvas.rect(x + 2, height - bottom - bar_height, bar_width - 4, bar_height, COLOURS[mode])
            label = "%.1f" % (row["p99_s"] or 0)
            canvas.text(x + (bar_width - Canvas.text_width(label)) // 2, height - bottom - bar_height - 28, label)
            errors = "E%d" % row["errors"]
            canvas.text(x + (bar_width - Canvas.text_width(errors)) // 2, height - bottom - bar_height - 14, errors)
        caption = "%sX" % ("%g" % load)
        canvas.text(left + position * group + (group - Canvas.text_width(caption, 3)) // 2, height - bottom + 14, caption, scale=3)
    with open(path, "wb") as handle:
        handle.write(canvas.png())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", default="0.5,1,1.5,2,3", help="offered loads, multiples of the fleet's capacity")
    parser.add_argument("--seconds", type=float, default=15, help="seconds of load per level")
    parser.add_argument("--keep", action="store_true", help="leave the hosts up")
    parser.add_argument("--out", default="build/benchmarks/gateway_capacity.json")
    parser.add_argument("--png", default="build/benchmarks/gateway_capacity.png", help="chart; empty for none")
    args = parser.parse_args()
    loads = [float(value) for value in args.loads.split(",")]
    created = not docker("ps", "-q", "--filter", "name=^ha-gw1$")
    if created:
        molecule("converge")
    report = {"machine": "%s, %d cores" % (platform.machine(), os.cpu_count() or 0), "capacity": CAPACITY,
              "service_seconds": SERVICE_SECONDS, "seconds_per_load": args.seconds, "loads": loads, "modes": {}}
    context = tls_context()
    try:
        for mode, factor in MODES:
            converge_gateways(factor)
            time.sleep(3)
            rows = []
            for load in loads:
                gateway = active_gateway()
                haproxy(gateway, "clear counters")
                rate = load * CAPACITY / SERVICE_SECONDS
                results = offered(context, rate, args.seconds)
                answered = [latency for status, latency in results if status == 200]
                errors = [status for status, unused in results if status != 200]
                row = {"load": load, "rate_per_s": round(rate, 2), "requests": len(results), "answered": len(answered),
                       "errors": len(errors), "error_kinds": dict((str(k), errors.count(k)) for k in set(errors)),
                       "p50_s": round(statistics.median(answered), 3) if answered else None,
                       "p99_s": round(percentile(answered, 0.99), 3) if answered else None,
                       "most_at_once": most_at_once(gateway)}
                rows.append(row)
                print("%-18s load %4.1fx (%5.1f/s): p50 %6s s  p99 %6s s  errors %3d %s  most at once %s" % (
                    mode, load, rate, row["p50_s"], row["p99_s"], row["errors"], row["error_kinds"] or "",
                    row["most_at_once"]), flush=True)
                time.sleep(3)
            report["modes"][mode] = rows
    finally:
        converge_gateways(2)
        if created and not args.keep:
            molecule("destroy")
    for path in (args.out, args.png):
        if path:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(args.out, "w") as handle:
        json.dump(report, handle, indent=2)
        handle.write("\n")
    if args.png:
        chart(report, args.png)
    print("results: %s%s" % (args.out, ", chart: %s" % args.png if args.png else ""))


if __name__ == "__main__":
    main()

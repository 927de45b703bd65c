# Copyright (c) 2026, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Latency of one authenticated request through nginx, by credential: a bearer API key (an nginx map, as the
nginx_proxy role writes it), basic auth with {SSHA} (what the role stores now) and basic auth with bcrypt at
passlib's default cost (what it stored before); and the time of a 401 for a known and for an unknown user name
with each scheme (a difference tells an attacker which names exist).

    .venv/bin/python benchmarks/auth_latency.py [--requests N] [--bcrypt-requests M] [--out FILE.json]

Needs Debian's nginx on this machine (`apt-get install nginx-light`): it starts a private nginx on loopback
with the same auth directives the role renders (auth_basic with an htpasswd file, a bearer-key map that turns
basic auth off) proxying to a second nginx server that answers at once, so the figures are the cost of the credential
check itself. Requests alternate between the cases within one run, one keep-alive connection each, so the
machine's noise hits every case alike. Not a timed test: docs/performance.md records the figures.
"""
import argparse
import base64
import http.client
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from passlib.hash import bcrypt, ldap_salted_sha1

PORT = 28531
PASSWORD = "Zq4v8TfR2mXc7LpW9nBs3kHd"  # 24 random characters, as the role's docs recommend
KEY = "sk-bench-0123456789abcdef0123456789abcdef"

CONFIG = """
worker_processes 1;
error_log {prefix}/error.log warn;
pid {prefix}/nginx.pid;
events {{ worker_connections 256; }}
http {{
    access_log off;
    map $http_authorization $key_role {{
        default "";
        "~^[Bb]earer +{key}$" "inference";
    }}
    map $key_role $auth_realm {{
        ""      "Ollama";
        default off;
    }}
    # Stands in for Ollama: answers at once.
    upstream backend {{
        server 127.0.0.1:{backend_port};
        keepalive 8;
    }}
    server {{
        listen 127.0.0.1:{backend_port};
        location / {{
            return 200 '{{"version":"0.0.0"}}';
        }}
    }}
    server {{
        listen 127.0.0.1:{port};
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Authorization "";
        # auth_basic runs in the access phase, before the proxied content.
        location /ssha/ {{
            auth_basic $auth_realm;
            auth_basic_user_file {prefix}/ssha.htpasswd;
            proxy_pass http://backend;
        }}
        location /bcrypt/ {{
            auth_basic $auth_realm;
            auth_basic_user_file {prefix}/bcrypt.htpasswd;
            proxy_pass http://backend;
        }}
    }}
}}
"""


def basic(user, password):
    return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()


CASES = {
    # name: (path, Authorization header, expected status)
    "bearer key": ("/ssha/api/version", "Bearer " + KEY, 200),
    "basic {SSHA}": ("/ssha/api/version", basic("alice", PASSWORD), 200),
    "basic bcrypt": ("/bcrypt/api/version", basic("alice", PASSWORD), 200),
    "401 {SSHA} known user": ("/ssha/api/version", basic("alice", "wrong-" + PASSWORD), 401),
    "401 {SSHA} unknown user": ("/ssha/api/version", basic("nobody", "wrong-" + PASSWORD), 401),
    "401 bcrypt known user": ("/bcrypt/api/version", basic("alice", "wrong-" + PASSWORD), 401),
    "401 bcrypt unknown user": ("/bcrypt/api/version", basic("nobody", "wrong-" + PASSWORD), 401),
}


def start_nginx(prefix):
    with open(os.path.join(prefix, "ssha.htpasswd"), "w", encoding="utf-8") as handle:
        handle.write("alice:%s\n" % ldap_salted_sha1.hash(PASSWORD))
    with open(os.path.join(prefix, "bcrypt.htpasswd"), "w", encoding="utf-8") as handle:
        # passlib's default cost, what community.general.htpasswd wrote with hash_scheme=bcrypt
        handle.write("alice:%s\n" % bcrypt.using(ident="2y").hash(PASSWORD))
    conf = os.path.join(prefix, "nginx.conf")
    with open(conf, "w", encoding="utf-8") as handle:
        handle.write(CONFIG.format(prefix=prefix, port=PORT, backend_port=PORT + 1, key=KEY))
    subprocess.run(["nginx", "-p", prefix, "-c", conf, "-g", "daemon on;"], check=True)
    for unused_attempt in range(50):
        try:
            http.client.HTTPConnection("127.0.0.1", PORT, timeout=1).request("GET", "/")
            return conf
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("nginx did not start: see %s/error.log" % prefix)


def measure(cases, requests):
    connections = {name: http.client.HTTPConnection("127.0.0.1", PORT, timeout=30) for name in cases}
    times = {name: [] for name in cases}
    for unused_round in range(requests):
        for name in cases:
            path, authorization, expected = CASES[name]
            conn = connections[name]
            start = time.perf_counter()
            conn.request("GET", path, headers={"Authorization": authorization})
            response = conn.getresponse()
            response.read()
            times[name].append(time.perf_counter() - start)
            if response.status != expected:
                raise RuntimeError("%s: status %s, expected %s" % (name, response.status, expected))
    return times


def summary(samples):
    ordered = sorted(samples)
    return {"median_ms": round(statistics.median(ordered) * 1000, 3),
            "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 3)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--requests", type=int, default=500, help="requests per bearer and {SSHA} case (default 500)")
    parser.add_argument("--bcrypt-requests", type=int, default=20,
                        help="requests per bcrypt case (default 20: each costs a few hundred ms)")
    parser.add_argument("--out", default="build/benchmarks/auth_latency.json")
    args = parser.parse_args()
    if not shutil.which("nginx"):
        sys.exit("auth_latency: nginx is not installed here: apt-get install nginx-light")
    prefix = tempfile.mkdtemp(prefix="auth-latency-")
    os.chmod(prefix, 0o755)  # nginx workers run as www-data
    conf = start_nginx(prefix)
    try:
        fast = [name for name in CASES if "bcrypt" not in name]
        slow = [name for name in CASES if "bcrypt" in name]
        measure(list(CASES), 3)  # warm-up
        times = measure(fast, args.requests)
        times.update(measure(slow, args.bcrypt_requests))
    finally:
        with open(os.path.join(prefix, "nginx.pid"), encoding="utf-8") as handle:
            os.kill(int(handle.read()), signal.SIGQUIT)
    results = {name: summary(samples) for name, samples in times.items()}
    median = {name: value["median_ms"] for name, value in results.items()}
    ratios = {
        "basic {SSHA} / bearer key": round(median["basic {SSHA}"] / median["bearer key"], 2),
        "basic bcrypt / bearer key": round(median["basic bcrypt"] / median["bearer key"], 2),
        "401 known / unknown user, {SSHA}": round(median["401 {SSHA} known user"] / median["401 {SSHA} unknown user"], 2),
        "401 known / unknown user, bcrypt": round(median["401 bcrypt known user"] / median["401 bcrypt unknown user"], 2),
    }
    report = {"machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
              "nginx": subprocess.run(["nginx", "-v"], capture_output=True, text=True, check=False).stderr.strip(),
              "requests_per_case": {"bearer and {SSHA}": args.requests, "bcrypt": args.bcrypt_requests},
              "config": conf, "latency": results, "ratios": ratios,
              "401 known - unknown user, {SSHA}, ms": round(median["401 {SSHA} known user"] - median["401 {SSHA} unknown user"], 3)}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=2)
    print("%-28s %10s %10s" % ("case", "median ms", "p99 ms"))
    for name, value in results.items():
        print("%-28s %10.3f %10.3f" % (name, value["median_ms"], value["p99_ms"]))
    for name, value in ratios.items():
        print("%-36s %6.2fx" % (name, value))
    print("%-36s %6.3f ms" % ("401 known - unknown user, {SSHA}", report["401 known - unknown user, {SSHA}, ms"]))
    print("wrote", args.out)


if __name__ == "__main__":
    main()

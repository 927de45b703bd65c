# Copyright (c) 2025, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Wall time per call of `ollama_model state=present` on a model already installed, against the naive
`command: ollama pull NAME` a playbook would otherwise run (which pulls again every time and always reports changed).

Both run against the Ollama double and its fake registry on loopback, after one pull, in one of two ways:

    PYTHONPATH=tests/ollama_double .venv/bin/python benchmarks/model_present.py [--runs N] [--model NAME]
        [--mode adhoc|playbook|both] [--registry-latency MS]

- adhoc (default): N `ansible localhost -m ...` runs of each, timed from outside: each figure includes Ansible's start-up.
- playbook: ONE ansible-playbook run with N `ollama_model` tasks and N `command: ollama pull` tasks, alternating, timed
  per task by the ansible.posix.json callback (task start to end on the host): the per-task cost inside a play.

--registry-latency adds that many milliseconds before every request reaches the fake registry (a forwarding proxy in
this script; the registry itself has no such option, and its `rate` only slows blob bodies, which a pull of an
installed model never fetches), to stand in for a remote registry such as registry.ollama.ai.

Not a timed test: the figures depend on the machine; docs/performance.md records them.
"""
import argparse
import contextlib
import datetime
import http.client
import http.server
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tests', 'ollama_double'))

from ollama_double.testing import running_double, running_registry  # noqa: E402 pylint: disable=wrong-import-position

MODULE_LABEL = 'ollama_model state=present'
NAIVE_LABEL = 'command: ollama pull'


def timed(argv, env):
    started = time.perf_counter()
    proc = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit('%s failed:\n%s' % (' '.join(argv), proc.stdout))
    return elapsed, proc.stdout


@contextlib.contextmanager
def delayed(upstream, latency):
    """A loopback HTTP forwarder to `upstream` that waits `latency` seconds before each request; yields its URL."""
    if not latency:
        yield upstream
        return
    target = urllib.parse.urlsplit(upstream)

    class Forward(http.server.BaseHTTPRequestHandler):
        protocol_version = 'HTTP/1.0'

        def forward(self):
            time.sleep(latency)
            length = int(self.headers.get('Content-Length') or 0)
            body = self.rfile.read(length) if length else None
            conn = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
            # Host stays the forwarder's, so the registry's redirects come back through it.
            conn.request(self.command, self.path, body=body, headers=dict(self.headers.items()))
            answer = conn.getresponse()
            data = answer.read()
            self.send_response(answer.status)
            for key, value in answer.getheaders():
                # A HEAD answer's Content-Length is the size of the body a GET would get.
                if key.lower() not in ('transfer-encoding', 'connection') and (key.lower() != 'content-length' or self.command == 'HEAD'):
                    self.send_header(key, value)
            if self.command != 'HEAD':
                self.send_header('Content-Length', str(len(data)))
            self.end_headers()
            if self.command != 'HEAD':
                self.wfile.write(data)
            conn.close()

        do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = forward

        def log_message(self, *args):  # pylint: disable=arguments-differ
            pass

    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Forward)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield 'http://127.0.0.1:%d' % server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def run_adhoc(args, ansible, env, url, cli):
    module = [ansible, 'localhost', '-m', 'llmops.ollama.ollama_model', '-a', 'name=%s state=present url=%s' % (args.model, url)]
    naive = [ansible, 'localhost', '-m', 'ansible.builtin.command', '-a', '%s pull %s' % (cli, args.model)]

    first, output = timed(module, env)
    if 'CHANGED' not in output:
        sys.exit('the first call should have pulled %s:\n%s' % (args.model, output))
    results = {}
    for label, argv, expected in ((MODULE_LABEL, module, 'SUCCESS'), (NAIVE_LABEL, naive, 'CHANGED')):
        times = []
        for dummy in range(args.runs):
            elapsed, output = timed(argv, env)
            if expected not in output:
                sys.exit('unexpected result of %s:\n%s' % (' '.join(argv), output))
            times.append(elapsed)
        results[label] = statistics.median(times)

    print('== adhoc: one `ansible localhost -m ...` per call, wall time of the whole command')
    print('first pull (ollama_model, model absent): %.3f s' % first)
    report(results, args.runs, 'per call')


def playbook_text(args, url, cli):
    """One play: pull once (model absent), then N module tasks and N command tasks, alternating."""
    tasks = [{'name': 'first pull', 'llmops.ollama.ollama_model': {'name': args.model, 'url': url}, 'register': 'first'},
             {'name': 'check the first pull', 'ansible.builtin.assert': {'that': ['first is changed']}}]
    for index in range(args.runs):
        tasks.append({'name': 'module %02d' % index, 'llmops.ollama.ollama_model': {'name': args.model, 'url': url}})
        tasks.append({'name': 'command %02d' % index, 'ansible.builtin.command': '%s pull %s' % (cli, args.model)})
    play = {'name': 'model_present benchmark', 'hosts': 'localhost', 'connection': 'local', 'gather_facts': False,
            'vars': {'ansible_python_interpreter': sys.executable}, 'tasks': tasks}
    return json.dumps([play], indent=1)  # JSON is YAML


def seconds(duration):
    def parse(text):
        return datetime.datetime.strptime(text.rstrip('Z'), '%Y-%m-%dT%H:%M:%S.%f')
    return (parse(duration['end']) - parse(duration['start'])).total_seconds()


def run_playbook(args, env, url, cli):
    playbook_cmd = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')
    with tempfile.TemporaryDirectory() as work:
        path = os.path.join(work, 'model_present.yml')
        with open(path, 'w') as f:
            f.write(playbook_text(args, url, cli))
        env = dict(env, ANSIBLE_STDOUT_CALLBACK='ansible.posix.json')
        env.pop('ANSIBLE_CALLBACKS_ENABLED', None)  # no other callback in the way
        started = time.perf_counter()
        proc = subprocess.run([playbook_cmd, '-i', 'localhost,', path], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, check=False)
        total = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit('the benchmark playbook failed:\n%s\n%s' % (proc.stdout[-4000:], proc.stderr[-4000:]))
    report_json = json.loads(proc.stdout[proc.stdout.index('{'):])
    times = {MODULE_LABEL: [], NAIVE_LABEL: []}
    first = None
    for task in report_json['plays'][0]['tasks']:
        name, result = task['task']['name'], task['hosts']['localhost']
        if name == 'first pull':
            first = seconds(task['task']['duration'])
        elif name.startswith('module '):
            if result.get('changed'):
                sys.exit('%s reported changed on an installed model: %s' % (name, result))
            times[MODULE_LABEL].append(seconds(task['task']['duration']))
        elif name.startswith('command '):
            if not result.get('changed'):
                sys.exit('%s did not report changed: %s' % (name, result))
            times[NAIVE_LABEL].append(seconds(task['task']['duration']))
    print('== playbook: one ansible-playbook run, %d tasks of each kind alternating, per-task time (ansible.posix.json)'
          % args.runs)
    print('whole playbook: %.3f s; first pull (ollama_model, model absent): %.3f s' % (total, first))
    report(dict((label, statistics.median(values)) for label, values in times.items()), args.runs, 'per task',
           spread=dict((label, (min(values), max(values))) for label, values in times.items()))


def report(results, runs, unit, spread=None):
    for label, median in results.items():
        extra = ' (min %.3f, max %.3f)' % spread[label] if spread else ''
        print('%-30s median %.3f s %s over %d%s' % (label, median, unit, runs, extra))
    mine, theirs = results[MODULE_LABEL], results[NAIVE_LABEL]
    print('ratio command / ollama_model: %.2f' % (theirs / mine))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', 1)[0])
    parser.add_argument('--runs', type=int, default=10, help='calls (adhoc) or tasks (playbook) of each kind (default 10)')
    parser.add_argument('--model', default='smollm2:135m', help='model of the fake registry (default smollm2:135m)')
    parser.add_argument('--mode', choices=('adhoc', 'playbook', 'both'), default='adhoc',
                        help='adhoc: `ansible localhost -m` per call (default); playbook: one playbook, per-task times; both')
    parser.add_argument('--registry-latency', type=float, default=0, metavar='MS',
                        help='milliseconds added before each request to the fake registry (default 0)')
    args = parser.parse_args()

    ansible = os.path.join(os.path.dirname(sys.executable), 'ansible')
    cli = os.path.join(ROOT, 'tests', 'ollama_double', 'bin', 'ollama')
    modes = ('adhoc', 'playbook') if args.mode == 'both' else (args.mode,)
    for mode in modes:
        # A fresh store, registry and server per mode, so each starts with the model absent.
        with tempfile.TemporaryDirectory() as models, running_registry() as registry, \
                delayed(registry, args.registry_latency / 1000.0) as reachable_registry, \
                running_double(models, env={'OLLAMA_DOUBLE_REGISTRY': reachable_registry}) as url:
            env = dict(os.environ, OLLAMA_HOST=url, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.ansible', 'collections'),
                       ANSIBLE_LOCALHOST_WARNING='false', ANSIBLE_INVENTORY_UNPARSED_WARNING='false', ANSIBLE_NOCOLOR='1')
            if args.registry_latency:
                print('registry latency: %g ms per request' % args.registry_latency)
            if mode == 'adhoc':
                run_adhoc(args, ansible, env, url, cli)
            else:
                run_playbook(args, env, url, cli)


if __name__ == '__main__':
    main()

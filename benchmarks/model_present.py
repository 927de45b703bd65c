# Copyright (c) 2025, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Wall time per call of `ollama_model state=present` on a model already installed, against the naive
`command: ollama pull NAME` a playbook would otherwise run (which pulls again every time and always reports changed).

Both run through `ansible localhost` against the Ollama double and its fake registry, after one pull:

    PYTHONPATH=tests/ollama_double .venv/bin/python benchmarks/model_present.py [--runs N] [--model NAME]

Not a timed test: the figures depend on the machine; docs/performance.md records them.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tests', 'ollama_double'))

from ollama_double.testing import running_double, running_registry  # noqa: E402 pylint: disable=wrong-import-position


def timed(argv, env):
    started = time.perf_counter()
    proc = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit('%s failed:\n%s' % (' '.join(argv), proc.stdout))
    return elapsed, proc.stdout


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', 1)[0])
    parser.add_argument('--runs', type=int, default=10, help='calls of each kind (default 10)')
    parser.add_argument('--model', default='smollm2:135m', help='model of the fake registry (default smollm2:135m)')
    args = parser.parse_args()

    ansible = os.path.join(os.path.dirname(sys.executable), 'ansible')
    cli = os.path.join(ROOT, 'tests', 'ollama_double', 'bin', 'ollama')
    with tempfile.TemporaryDirectory() as models, running_registry() as registry, \
            running_double(models, env={'OLLAMA_DOUBLE_REGISTRY': registry}) as url:
        env = dict(os.environ, OLLAMA_HOST=url, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.ansible', 'collections'),
                   ANSIBLE_LOCALHOST_WARNING='false', ANSIBLE_INVENTORY_UNPARSED_WARNING='false', ANSIBLE_NOCOLOR='1')
        module = [ansible, 'localhost', '-m', 'llmops.ollama.ollama_model', '-a', 'name=%s state=present url=%s' % (args.model, url)]
        naive = [ansible, 'localhost', '-m', 'ansible.builtin.command', '-a', '%s pull %s' % (cli, args.model)]

        first, output = timed(module, env)
        if 'CHANGED' not in output:
            sys.exit('the first call should have pulled %s:\n%s' % (args.model, output))
        results = {}
        for label, argv, expected in (('ollama_model state=present', module, 'SUCCESS'), ('command: ollama pull', naive, 'CHANGED')):
            times = []
            for dummy in range(args.runs):
                elapsed, output = timed(argv, env)
                if expected not in output:
                    sys.exit('unexpected result of %s:\n%s' % (' '.join(argv), output))
                times.append(elapsed)
            results[label] = statistics.median(times)

    print('first pull (ollama_model, model absent): %.3f s' % first)
    for label, median in results.items():
        print('%-30s median %.3f s per call over %d calls' % (label, median, args.runs))
    mine, theirs = results['ollama_model state=present'], results['command: ollama pull']
    print('ratio command / ollama_model: %.2f' % (theirs / mine))


if __name__ == '__main__':
    main()

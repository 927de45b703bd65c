"""The project's test command: the steps of a layer, several at a time, with the time of each.

    run_tests.py [fast|full] [scenario ...] [--jobs N]

Layers:
  fast  pytest unit tests, changelog fragments, role and module docs, ansible-lint, the collection built and
        installed offline, ansible-test sanity and units
  full  the machine's set-up, fast, every Molecule scenario end to end, the README's demo converged twice,
        and the time budget (docs/testing.md) checked against what this run took; with scenarios named,
        the set-up and those scenarios only

Steps run in lanes (--jobs, default LLMOPS_TEST_JOBS or 3): a step starts when the steps it needs have passed
and a lane is free, the one at the head of the longest chain of work first (its budget plus the longest chain of
steps that need it: the image build before the unit tests, because every scenario waits for it). The test hosts spend much of their time waiting
(systemd, apt, sleeps in the scenarios): on a 2-core machine three steps at a time keep both cores busy (two left
them idle 13% of the run, docs/testing.md).
Each step's output goes to build/logs/<step>.log; the console gets one line when a step starts and one when it
ends. Every step runs even after another failed (a step whose prerequisite failed is not run, and says so).
The summary lists the time of every step, the end of each failed step's log, and `harness: N passed, M failed`;
build/test-times.json keeps the figures.

Standard library only: the full layer starts before the virtualenv exists.
"""
import argparse
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..', '..'))
LOGS = os.path.join(ROOT, 'build', 'logs')
TIMES = os.path.join(ROOT, 'build', 'test-times.json')
sys.path.insert(0, HERE)
import test_budget  # noqa: E402  (beside this file)

DEFAULT_JOBS = 3


class Step:
    def __init__(self, key, title, command, needs=(), locks=(), layer='fast'):
        self.key = key            # short name: log file, budget row, JSON
        self.title = title        # what the console says
        self.command = command    # argv, run from the repository root
        self.needs = set(needs)   # keys that must have passed first
        self.locks = set(locks)   # resources no other running step may hold
        self.layer = layer
        self.state = 'waiting'    # waiting, running, passed, failed, not run
        self.started = self.ended = None
        self.process = None

    @property
    def seconds(self):
        return round(self.ended - self.started, 1) if self.started and self.ended else None

    @property
    def log(self):
        return os.path.join(LOGS, self.key + '.log')


def harness(script, *args):
    return ['bash', os.path.join('tests', 'harness', script)] + list(args)


def scenarios_in_repository():
    molecule = os.path.join(ROOT, 'molecule')
    return sorted(name for name in os.listdir(molecule) if os.path.isfile(os.path.join(molecule, name, 'molecule.yml')))


def plan(layer, scenarios):
    """The steps of a layer, with what each needs. `full` with scenarios named runs the set-up and those alone."""
    venv = Step('setup-venv', 'set-up: the Python environment (.venv) and the collection link', harness('setup.sh', 'venv'),
                layer='setup')
    if layer == 'fast':
        steps = [venv]
    else:
        # The machine's set-up is part of the run (CI starts from a fresh clone): its steps are timed too.
        steps = [
            Step('setup-packages', 'set-up: Debian packages and the Docker engine', harness('setup.sh', 'packages', 'tests'),
                 layer='setup'),
            venv,
            Step('setup-images', 'set-up: the test-host images', harness('setup.sh', 'images'),
                 needs=['setup-packages'], layer='setup'),
            Step('artifacts', "build the Ollama double's releases and images",
                 harness('venv-run.sh', 'python', 'tests/ollama_double/build_artifacts.py', '--out',
                         'build/ollama-artifacts', '--images', '--save'),
                 needs=['setup-venv', 'setup-images'], layer='setup'),
        ]
    if not scenarios:
        needs = ['setup-venv']
        steps += [
            Step('unit', 'pytest: unit tests', harness('unit.sh'), needs=needs),
            Step('changelog', 'changelog fragments (antsibull-changelog lint, trial release)',
                 harness('changelog.sh', 'check'), needs=needs),
            Step('docs', 'role and module docs: defaults agree with argument specs, generated tables and pages',
                 harness('venv-run.sh', 'bash', '-c',
                         'python tests/tools/role_docs.py --check && python tests/tools/module_docs.py --check'),
                 needs=needs),
            Step('lint', 'ansible-lint (production profile)', harness('venv-run.sh', 'ansible-lint'), needs=needs),
            Step('collection', 'collection build and offline install', harness('collection.sh'), needs=needs),
            Step('sanity', 'ansible-test sanity', harness('sanity.sh', 'sanity'), needs=needs, locks=['ansible-test']),
            Step('units', 'ansible-test units', harness('sanity.sh', 'units'), needs=needs, locks=['ansible-test']),
        ]
    if layer == 'full':
        for scenario in scenarios or scenarios_in_repository():
            steps.append(Step('molecule-' + scenario, 'molecule test -s ' + scenario,
                              harness('venv-run.sh', 'molecule', 'test', '-s', scenario),
                              needs=['artifacts'], layer='scenario'))
        if not scenarios:
            steps.append(Step('demo', 'demo: README quick start, converged twice', harness('demo.sh', 'test'),
                              needs=['artifacts'], layer='scenario'))
    return steps


def chain_lengths(steps, budget):
    """Per step: its budget plus the longest chain of budgets of the steps that need it, directly or not."""
    needed_by = {s.key: [t for t in steps if s.key in t.needs] for s in steps}
    lengths = {}

    def length(step):
        if step.key not in lengths:
            lengths[step.key] = budget.get(step.key, 0) + max([length(t) for t in needed_by[step.key]] or [0])
        return lengths[step.key]
    for step in steps:
        length(step)
    return lengths


class Runner:
    def __init__(self, steps, jobs, budget):
        self.steps = steps
        self.jobs = jobs
        self.priority = chain_lengths(steps, budget)
        self.lock = threading.Condition()
        self.free = jobs
        self.held = set()
        self.started = time.time()

    def say(self, text):
        stamp = time.strftime('%H:%M:%S')
        elapsed = int(time.time() - self.started)
        print('%s +%4ds  %s' % (stamp, elapsed, text), flush=True)

    def ready(self):
        """Steps that can start now, the head of the longest chain first."""
        passed = {s.key for s in self.steps if s.state == 'passed'}
        candidates = [s for s in self.steps if s.state == 'waiting' and s.needs <= passed]
        return sorted(candidates, key=lambda s: -self.priority[s.key])

    def blocked(self):
        """Waiting steps that can never start: a step they need failed or was not run."""
        broken = {s.key for s in self.steps if s.state in ('failed', 'not run')}
        return [s for s in self.steps if s.state == 'waiting' and s.needs & broken]

    def run_step(self, step):
        os.makedirs(LOGS, exist_ok=True)
        with open(step.log, 'w') as log:
            log.write('$ %s\n' % ' '.join(shlex.quote(part) for part in step.command))
            log.flush()
            # A session of its own: stopping the harness stops the step's whole process tree.
            step.process = subprocess.Popen(step.command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
            code = step.process.wait()
        with self.lock:
            step.ended = time.time()
            step.state = 'passed' if code == 0 else 'failed'
            self.free += 1
            self.held -= step.locks
            self.say('%-6s %s (%ss)%s' % ('ok' if code == 0 else 'FAILED', step.title, step.seconds,
                                          '' if code == 0 else ', log: ' + os.path.relpath(step.log, ROOT)))
            self.lock.notify_all()

    def run(self):
        with self.lock:
            while True:
                for step in self.blocked():
                    step.state = 'not run'
                    self.say('skip   %s: it needs %s, which did not pass' % (
                        step.title, ', '.join(sorted(step.needs))))
                for step in self.ready():
                    if not self.free or step.locks & self.held:
                        continue
                    step.state = 'running'
                    step.started = time.time()
                    self.free -= 1
                    self.held |= step.locks
                    self.say('start  %s' % step.title)
                    threading.Thread(target=self.run_step, args=(step,), daemon=True).start()
                if all(s.state in ('passed', 'failed', 'not run') for s in self.steps):
                    break
                self.lock.wait()
        return time.time() - self.started

    def stop(self, signum, unused_frame):
        """Stop every running step (SIGINT, SIGTERM) and leave with the signal's status."""
        for step in self.steps:
            if step.process and step.process.poll() is None:
                try:
                    os.killpg(step.process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        self.say('stopped by signal %d' % signum)
        os._exit(128 + signum)


# Lines of Ansible's profile_tasks callback (timestamps) and blank lines hide the cause in a failed log.
NOISE = re.compile(r'^\S+ [0-9]+ \S+ [0-9]+ +[0-9:]+ \+0000 \(|^\s*$')


def tail(path, count=60):
    try:
        with open(path, errors='replace') as handle:
            lines = [line.rstrip('\n') for line in handle if not NOISE.search(line)]
    except OSError:
        return []
    return lines[-count:]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('layer', nargs='?', default='full', choices=['fast', 'full'])
    parser.add_argument('scenarios', nargs='*', help='Molecule scenarios (default: all, and the demo)')
    parser.add_argument('--jobs', '-j', type=int, default=int(os.environ.get('LLMOPS_TEST_JOBS', DEFAULT_JOBS)),
                        help='steps at a time (default LLMOPS_TEST_JOBS or %d)' % DEFAULT_JOBS)
    args = parser.parse_args()
    if args.jobs < 1:
        parser.error('--jobs must be 1 or more')
    unknown = sorted(set(args.scenarios) - set(scenarios_in_repository()))
    if unknown:
        parser.error('no such scenario: %s (molecule/*/molecule.yml)' % ', '.join(unknown))

    budget = test_budget.read()
    steps = plan(args.layer, args.scenarios)
    runner = Runner(steps, args.jobs, budget.seconds)
    signal.signal(signal.SIGINT, runner.stop)
    signal.signal(signal.SIGTERM, runner.stop)
    runner.say('%s layer: %d steps, %d at a time; logs in build/logs/' % (args.layer, len(steps), args.jobs))
    wall = runner.run()

    print('\n==> summary')
    for step in steps:
        limit = budget.seconds.get(step.key)
        took = '%ss' % step.seconds if step.seconds is not None else '-'
        print('%7s  %-6s %-8s %s' % (took, step.state, '(%ss)' % limit if limit else '', step.title))
    print('%7ss  wall time, %d at a time' % (int(wall), args.jobs))
    failed = [s for s in steps if s.state != 'passed']
    for step in failed:
        if step.state == 'failed':
            print('--- last lines of %s (%s) ---' % (step.title, os.path.relpath(step.log, ROOT)))
            print('\n'.join(tail(step.log)))

    report = {
        'layer': args.layer,
        'scenarios': args.scenarios,
        'jobs': args.jobs,
        'started': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(runner.started)),
        'wall_seconds': round(wall, 1),
        'cpus': os.cpu_count(),
        'steps': [{'key': s.key, 'title': s.title, 'state': s.state, 'seconds': s.seconds,
                   'started_at': round(s.started - runner.started, 1) if s.started else None,
                   'budget_seconds': budget.seconds.get(s.key)} for s in steps],
    }
    # The budget is for the whole suite on this kind of machine: a partial run is not held to it.
    verdict = None
    if args.layer == 'full' and not args.scenarios:
        verdict = budget.check(wall, {s.key: s.seconds for s in steps if s.seconds is not None})
        report['budget'] = verdict
    os.makedirs(os.path.dirname(TIMES), exist_ok=True)
    with open(TIMES, 'w') as handle:
        json.dump(report, handle, indent=2)
        handle.write('\n')

    for step in failed:
        print('FAILED: %s' % step.title if step.state == 'failed' else 'NOT RUN: %s' % step.title)
    if verdict:
        print(verdict['message'])
    passed = sum(1 for s in steps if s.state == 'passed')
    budget_failed = bool(verdict and not verdict['ok'])
    print('harness: %d passed, %d failed%s' % (passed, len(steps) - passed + budget_failed,
                                               ', over the time budget' if budget_failed else ''))
    return 0 if not failed and not budget_failed else 1


if __name__ == '__main__':
    sys.exit(main())

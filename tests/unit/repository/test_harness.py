# Copyright (c) 2026, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""tests/harness/run_tests.py and test_budget.py: the budget table is read, every step has a row, the check fails
with the step names when a run is over, and the scheduler keeps its promises (needs, lanes, locks)."""

import importlib.util
import os
import sys
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
HARNESS = os.path.join(ROOT, 'tests', 'harness')


def _load(name):
    sys.path.insert(0, HARNESS)
    try:
        spec = importlib.util.spec_from_file_location(name, os.path.join(HARNESS, name + '.py'))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(HARNESS)


test_budget = _load('test_budget')
run_tests = _load('run_tests')


def test_every_step_of_make_test_has_a_budget_row():
    budget = test_budget.read()
    keys = {step.key for step in run_tests.plan('full', [])}
    assert keys - set(budget.seconds) == set()
    # Rows for steps that no longer exist are dead weight in the table.
    assert set(budget.seconds) - keys == set()
    # The whole run's budget is the 35 minutes, the margin a sentence of the doc.
    assert budget.total == 35 * 60
    assert 0 < budget.margin <= 0.2


def test_the_step_budgets_fit_the_whole_budget_in_the_default_lanes():
    # Not a schedule, a sanity bound: the steps' budgets, as many at a time as make test runs, must fit the whole run.
    budget = test_budget.read()
    assert sum(budget.seconds.values()) / run_tests.DEFAULT_JOBS <= budget.total


def _budget(tmp_path, rows, total=100, margin=10):
    doc = tmp_path / 'testing.md'
    doc.write_text('# Testing\n\n<!-- BEGIN BUDGET -->\n| Step | Budget (s) |\n|---|---|\n'
                   + ''.join('| `%s` | %d |\n' % row for row in rows)
                   + '| **whole run** | **%d** |\n\nA run may exceed it by a margin of %d%%.\n<!-- END BUDGET -->\n'
                   % (total, margin))
    return test_budget.read(str(doc))


def test_a_run_within_the_margin_passes_and_names_slow_steps(tmp_path):
    budget = _budget(tmp_path, [('unit', 30), ('molecule-fleet', 60)])
    verdict = budget.check(105, {'unit': 40, 'molecule-fleet': 50})
    assert verdict['ok']
    assert verdict['limit_seconds'] == 110
    assert [o['key'] for o in verdict['over']] == ['unit']
    assert 'unit 40s (budget 30s)' in verdict['message']


def test_a_run_over_the_margin_fails_with_the_steps_that_went_over(tmp_path):
    budget = _budget(tmp_path, [('unit', 30), ('molecule-fleet', 60)])
    verdict = budget.check(111, {'unit': 20, 'molecule-fleet': 91})
    assert not verdict['ok']
    assert 'molecule-fleet 91s (budget 60s)' in verdict['message']
    assert 'unit' not in verdict['message'].split('Steps over their own budget:')[1]


def test_a_step_without_a_budget_row_fails_the_check(tmp_path):
    budget = _budget(tmp_path, [('unit', 30)])
    verdict = budget.check(10, {'unit': 5, 'molecule-new': 5})
    assert not verdict['ok']
    assert verdict['unbudgeted'] == ['molecule-new']


def _run(tmp_path, monkeypatch, steps_spec, jobs):
    monkeypatch.setattr(run_tests, 'LOGS', str(tmp_path / 'logs'))
    record, steps = [], []
    lock = threading.Lock()
    original = run_tests.Runner.run_step

    def watched(runner, step):
        with lock:
            record.append(('start', step.key, time.monotonic()))
        original(runner, step)
        with lock:
            record.append(('end', step.key, time.monotonic()))
    monkeypatch.setattr(run_tests.Runner, 'run_step', watched)
    for key, seconds, kwargs in steps_spec:
        fail = kwargs.pop('fail', False)
        steps.append(run_tests.Step(key, key, [sys.executable, '-c', 'import sys, time; time.sleep(%s); sys.exit(%d)'
                                               % (seconds, 1 if fail else 0)], **kwargs))
    runner = run_tests.Runner(steps, jobs, {})
    runner.run()
    return {s.key: s for s in steps}, record


def _overlap(record, a, b):
    times = {(kind, key): t for kind, key, t in record}
    return times[('start', a)] < times[('end', b)] and times[('start', b)] < times[('end', a)]


def test_steps_run_side_by_side_in_lanes_and_wait_for_what_they_need(tmp_path, monkeypatch):
    steps, record = _run(tmp_path, monkeypatch, [
        ('setup', 0.2, {}),
        ('a', 0.5, {'needs': ['setup']}),
        ('b', 0.5, {'needs': ['setup']}),
        ('c', 0.1, {'needs': ['setup']}),
    ], jobs=2)
    assert all(s.state == 'passed' for s in steps.values())
    assert _overlap(record, 'a', 'b')
    starts = {key: t for kind, key, t in record if kind == 'start'}
    ends = {key: t for kind, key, t in record if kind == 'end'}
    assert min(starts['a'], starts['b'], starts['c']) >= ends['setup']
    # Never more than two at once.
    running, most = 0, 0
    for kind, unused_key, unused_t in sorted(record, key=lambda r: r[2]):
        running += 1 if kind == 'start' else -1
        most = max(most, running)
    assert most == 2


def test_locked_steps_never_run_together(tmp_path, monkeypatch):
    steps, record = _run(tmp_path, monkeypatch, [
        ('sanity', 0.3, {'locks': ['ansible-test']}),
        ('units', 0.3, {'locks': ['ansible-test']}),
        ('lint', 0.3, {}),
    ], jobs=3)
    assert all(s.state == 'passed' for s in steps.values())
    assert not _overlap(record, 'sanity', 'units')
    assert _overlap(record, 'sanity', 'lint') or _overlap(record, 'units', 'lint')


def test_the_head_of_the_longest_chain_starts_first():
    steps = run_tests.plan('full', [])
    lengths = run_tests.chain_lengths(steps, {'artifacts': 10, 'unit': 300, 'molecule-fleet': 800})
    # The double's artifacts are short but every scenario waits for them.
    assert lengths['artifacts'] == 810
    assert lengths['unit'] == 300
    assert lengths['setup-venv'] == 810


def test_a_failed_step_stops_what_needs_it_and_nothing_else(tmp_path, monkeypatch):
    steps, unused_record = _run(tmp_path, monkeypatch, [
        ('artifacts', 0.1, {'fail': True}),
        ('molecule-fleet', 0.1, {'needs': ['artifacts']}),
        ('lint', 0.1, {}),
    ], jobs=2)
    assert steps['artifacts'].state == 'failed'
    assert steps['molecule-fleet'].state == 'not run'
    assert steps['lint'].state == 'passed'
    assert os.path.exists(steps['artifacts'].log)

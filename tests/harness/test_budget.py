"""The test suite's time budget, as docs/testing.md states it, and the check that defends it.

The table between `<!-- BEGIN BUDGET -->` and `<!-- END BUDGET -->` in docs/testing.md gives each step of
`make test` its seconds on a fresh clone of the reference machine (2 cores), and the whole run's wall time.
run_tests.py reads it to start the longest steps first and, after a whole `make test`, fails the run when its
wall time exceeds the whole budget by more than the margin, naming the steps that went over their own.

    python tests/harness/test_budget.py build/test-times.json   # the check alone, on a kept run
"""
import json
import os
import re
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
DOC = os.path.join(ROOT, 'docs', 'testing.md')
ROW = re.compile(r'^\|\s*`([a-z0-9_-]+)`\s*\|\s*([0-9]+)\s*\|')
TOTAL = re.compile(r'^\|\s*\*\*whole run\*\*\s*\|\s*\*\*([0-9]+)\*\*\s*\|')
MARGIN = re.compile(r'margin of ([0-9]+) ?%')


class Budget:
    def __init__(self, seconds, total, margin):
        self.seconds = seconds  # step key -> seconds
        self.total = total      # the whole run's wall time, seconds
        self.margin = margin    # fraction of total allowed on top

    def check(self, wall, measured):
        """{'ok', 'wall_seconds', 'limit_seconds', 'over': [steps over their budget], 'message'}."""
        limit = self.total * (1 + self.margin)
        over = [{'key': key, 'seconds': measured[key], 'budget_seconds': self.seconds[key]}
                for key in sorted(measured) if key in self.seconds and measured[key] > self.seconds[key]]
        unbudgeted = sorted(key for key in measured if key not in self.seconds)
        named = ', '.join('%s %ds (budget %ds)' % (o['key'], o['seconds'], o['budget_seconds']) for o in over)
        ok = wall <= limit
        if ok:
            message = 'time budget: %ds of %ds (+%d%% margin: %ds)%s' % (
                wall, self.total, self.margin * 100, limit, '; over their own budget: ' + named if over else '')
        else:
            message = ('time budget: the run took %ds, over the budget of %ds plus its %d%% margin (%ds). '
                       'Steps over their own budget: %s. Make them faster, or change the budget in docs/testing.md '
                       'with the measurements that justify it.') % (
                wall, self.total, self.margin * 100, limit, named or 'none (every step is slower a little)')
        if unbudgeted:
            message += '; steps without a budget in docs/testing.md: ' + ', '.join(unbudgeted)
            ok = False
        return {'ok': ok, 'wall_seconds': round(wall, 1), 'budget_seconds': self.total,
                'limit_seconds': round(limit, 1), 'over': over, 'unbudgeted': unbudgeted, 'message': message}


def read(path=DOC):
    with open(path, encoding='utf-8') as handle:
        text = handle.read()
    try:
        table = text.split('<!-- BEGIN BUDGET -->', 1)[1].split('<!-- END BUDGET -->', 1)[0]
    except IndexError:
        raise SystemExit('%s has no budget table (<!-- BEGIN BUDGET --> ... <!-- END BUDGET -->)' % path)
    seconds, total = {}, None
    for line in table.splitlines():
        row = ROW.match(line)
        if row:
            seconds[row.group(1)] = int(row.group(2))
        whole = TOTAL.match(line)
        if whole:
            total = int(whole.group(1))
    margin = MARGIN.search(table)
    if total is None or margin is None:
        raise SystemExit('the budget table in %s needs a **whole run** row and a "margin of N%%" sentence' % path)
    return Budget(seconds, total, int(margin.group(1)) / 100.0)


def main(argv):
    if len(argv) != 2:
        raise SystemExit('usage: test_budget.py build/test-times.json')
    with open(argv[1]) as handle:
        times = json.load(handle)
    verdict = read().check(times['wall_seconds'], {s['key']: s['seconds'] for s in times['steps']
                                                   if s['seconds'] is not None})
    print(verdict['message'])
    return 0 if verdict['ok'] else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv))

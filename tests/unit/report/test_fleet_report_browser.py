# Copyright (c) 2026, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet report's HTML in a real browser: Debian's headless Chromium renders the page built from recorded facts
by the playbook's filters; the DOM after its script ran has one row per host and the drifted cells marked.
The screenshot stays in build/report/fleet-report-unit.png.
"""

import json
import os

import pytest

from ansible_collections.llmops.ollama.plugins.filter.fleet_report import fleet_report, fleet_report_html

from .chromium import CHROMIUM, FleetPage, dump_dom, screenshot

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..', '..', '..'))

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason='chromium is not installed (tests/harness/setup.sh installs it)')


@pytest.fixture(scope='module')
def page(tmp_path_factory):
    with open(os.path.join(HERE, 'fleet_facts.json'), encoding='utf-8') as handle:
        recorded = json.load(handle)
    report = fleet_report(recorded['hosts'], recorded['pins'], generated_at=recorded['generated_at'])
    path = tmp_path_factory.mktemp('report') / 'fleet.html'
    path.write_text(fleet_report_html(report), encoding='utf-8')
    return str(path)


def test_one_row_per_host_and_drifted_cells_marked(page):
    dom = FleetPage(dump_dom(page))
    assert dom.ready
    assert [host for host, unused in dom.rows] == ['gpu-a', 'gpu-b', 'gpu-c', 'gpu-d']
    assert dom.drifted() == {'gpu-a': set(), 'gpu-b': {'certificate'}, 'gpu-c': {'ollama_version', 'models', 'loaded'},
                             'gpu-d': set()}
    assert dom.unreachable == ['gpu-d']
    assert dom.summary == {'hosts': 4, 'reachable': 3, 'unreachable': 1, 'drifted': 2, 'models_on_cpu': 1,
                           'ollama_down': 0, 'gpus': 3}


def test_columns_sort_in_the_browser(page):
    ascending = [host for host, unused in FleetPage(dump_dom(page, '#sort=tokens_per_second')).rows]
    descending = [host for host, unused in FleetPage(dump_dom(page, '#sort=-tokens_per_second')).rows]
    # gpu-b has no figure (-1) and gpu-d is unreachable (no cell): both sort before the measured hosts.
    assert ascending[-2:] == ['gpu-c', 'gpu-a']
    assert descending[:2] == ['gpu-a', 'gpu-c']


def test_screenshot(page):
    png = screenshot(page, os.path.join(ROOT, 'build', 'report', 'fleet-report-unit.png'))
    with open(png, 'rb') as handle:
        assert handle.read(8) == b'\x89PNG\r\n\x1a\n'

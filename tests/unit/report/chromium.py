# Copyright (c) 2026, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Open a fleet report page in headless Chromium: the DOM after its script ran, parsed, and a screenshot.

Shared by the unit tests and molecule/fleet/tests/test_report.py.
"""

import html.parser
import os
import shutil
import subprocess
import tempfile

CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser')


def _run(args, url, timeout=120):
    with tempfile.TemporaryDirectory() as profile:
        command = [CHROMIUM, '--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
                   '--user-data-dir=' + profile, '--window-size=1400,900'] + args + [url]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=True)


def dump_dom(path, fragment=''):
    """The page's DOM as Chromium serialises it after the scripts ran."""
    return _run(['--dump-dom'], 'file://' + os.path.abspath(path) + fragment).stdout


def screenshot(path, png):
    os.makedirs(os.path.dirname(os.path.abspath(png)), exist_ok=True)
    _run(['--screenshot=' + os.path.abspath(png)], 'file://' + os.path.abspath(path))
    return png


class FleetPage(html.parser.HTMLParser):
    """rows: [(host, {column: classes})] in table order; ready: the page's script ran to its end."""

    def __init__(self, dom):
        super().__init__()
        self.rows, self.ready, self.unreachable, self._list = [], False, [], None
        self.summary = {}
        self._summary_key = None
        self.feed(dom)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == 'body':
            self.ready = attrs.get('data-ready') == 'true'
        elif tag == 'tr' and 'data-host' in attrs:
            self.rows.append((attrs['data-host'], {}))
        elif tag == 'td' and self.rows and 'data-column' in attrs:
            self.rows[-1][1][attrs['data-column']] = set((attrs.get('class') or '').split())
        elif tag == 'ul':
            self._list = attrs.get('id')
        elif tag == 'div' and (attrs.get('id') or '').startswith('summary-'):
            self._summary_key = attrs['id'][len('summary-'):]

    def handle_endtag(self, tag):
        if tag == 'ul':
            self._list = None
        elif tag == 'div':
            self._summary_key = None

    def handle_data(self, data):
        if self._list == 'unreachable' and data.strip() and data.strip() != 'none':
            self.unreachable.append(data.split(':', 1)[0].strip())
        if self._summary_key and data.strip().isdigit() and self._summary_key not in self.summary:
            self.summary[self._summary_key] = int(data)

    def drifted(self):
        """{host: columns carrying the drift class}."""
        return {host: {c for c, classes in cells.items() if 'drift' in classes} for host, cells in self.rows}

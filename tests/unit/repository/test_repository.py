# Copyright (c) 2026, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Guards over the repository's own files: self-contained documentation, no unsafe settings in the roles."""

import os
import re

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
SKIPPED_DIRS = {'.git', '.ansible', '.venv', 'build', '__pycache__', '.cache', 'node_modules'}
TEXT_SUFFIXES = ('.md', '.py', '.yml', '.yaml', '.j2', '.sh', '.cfg', '.ini', '.toml', '.txt', '.json')


def _text_files(top=ROOT):
    for directory, dirs, files in os.walk(top):
        dirs[:] = [name for name in dirs if name not in SKIPPED_DIRS]
        for name in files:
            if name.endswith(TEXT_SUFFIXES) or name in ('Makefile', 'README'):
                yield os.path.join(directory, name)


def _read(path):
    with open(path, encoding='utf-8', errors='replace') as handle:
        return handle.read()


def test_nothing_points_outside_the_repository_for_ollama_behaviour():
    # Built from parts so that this file does not match itself.
    outside = re.compile(re.escape('../' + 'shared') + '|' + re.escape('shared' + '/docs') + '|ollama-' + 'facts')
    offenders = [os.path.relpath(path, ROOT) for path in _text_files() if outside.search(_read(path))]
    assert offenders == []


def test_the_double_and_the_modules_follow_a_specification_in_the_repository():
    behaviour = os.path.join(ROOT, 'docs', 'ollama-behaviour.md')
    text = _read(behaviour)
    for section in ('HTTP API', 'Model names', 'on disk', 'Registry protocol', 'Environment variables',
                    'installation layout', 'Releases'):
        assert section in text
    assert 'docs/ollama-behaviour.md' in _read(os.path.join(ROOT, 'tests', 'ollama_double', 'README.md'))
    assert 'ollama-behaviour.md' in _read(os.path.join(ROOT, 'docs', 'testing.md'))

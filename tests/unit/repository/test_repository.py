# Copyright (c) 2026, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Guards over the repository's own files: self-contained documentation, no unsafe settings in the roles."""

import os
import re

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
SKIPPED_DIRS = {'.git', '.ansible', '.venv', 'build', '__pycache__', '.cache', 'node_modules'}
TEXT_SUFFIXES = ('.md', '.py', '.yml', '.yaml', '.j2', '.sh', '.cfg', '.ini', '.toml', '.txt', '.json')


def _text_files(top=ROOT):
    for directory, dirs, files in os.walk(top):
        # tests/output is ansible-test's own scratch space.
        dirs[:] = [name for name in dirs if name not in SKIPPED_DIRS
                   and os.path.join(directory, name) != os.path.join(ROOT, 'tests', 'output')]
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


def _role_task_files():
    roles = os.path.join(ROOT, 'roles')
    for role in sorted(os.listdir(roles)):
        for sub in ('tasks', 'handlers'):
            directory = os.path.join(roles, role, sub)
            if os.path.isdir(directory):
                for name in sorted(os.listdir(directory)):
                    if name.endswith(('.yml', '.yaml')):
                        yield os.path.join(directory, name)


def _tasks(path):
    def walk(tasks):
        for task in tasks or []:
            yield task
            for key in ('block', 'rescue', 'always'):
                yield from walk(task.get(key))
    with open(path, encoding='utf-8') as handle:
        return list(walk(yaml.safe_load(handle)))


def test_no_role_task_turns_package_signature_checks_off():
    offenders = []
    for path in _role_task_files():
        for task in _tasks(path):
            for module in ('ansible.builtin.dnf', 'ansible.builtin.yum', 'ansible.builtin.package', 'ansible.builtin.apt',
                           'ansible.builtin.dnf5', 'dnf', 'yum', 'apt', 'package'):
                args = task.get(module)
                if isinstance(args, dict) and (args.get('disable_gpg_check') not in (None, False)
                                               or args.get('allow_unauthenticated') not in (None, False)):
                    offenders.append('%s: %s' % (os.path.relpath(path, ROOT), task.get('name')))
    assert offenders == []


def test_epel_key_is_imported_before_epel_is_installed():
    tasks = _tasks(os.path.join(ROOT, 'roles', 'nvidia_driver', 'tasks', 'setup-RedHat.yml'))
    key = [i for i, task in enumerate(tasks) if 'nvidia_driver_epel_gpg_key_url' in str(task.get('ansible.builtin.rpm_key'))]
    epel = [i for i, task in enumerate(tasks) if 'nvidia_driver_epel_rpm_url' in str(task.get('ansible.builtin.dnf'))]
    assert key and epel and key[0] < epel[0]

# Copyright (c) 2026, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Runs small playbooks against localhost in check mode, with the facts of another platform.

The roles' input checks only read facts and variables, so a faked platform is enough to prove that they accept
or refuse it before anything changes on the host.
"""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))

PLATFORMS = {
    'debian12': {'distribution': 'Debian', 'distribution_major_version': '12', 'distribution_version': '12.12',
                 'distribution_release': 'bookworm', 'os_family': 'Debian'},
    'debian13': {'distribution': 'Debian', 'distribution_major_version': '13', 'distribution_version': '13.2',
                 'distribution_release': 'trixie', 'os_family': 'Debian'},
    'ubuntu2404': {'distribution': 'Ubuntu', 'distribution_major_version': '24', 'distribution_version': '24.04',
                   'distribution_release': 'noble', 'os_family': 'Debian'},
    'rhel9': {'distribution': 'RedHat', 'distribution_major_version': '9', 'distribution_version': '9.6',
              'distribution_release': 'Plow', 'os_family': 'RedHat'},
}


def _collections_path():
    # In a checkout the collection is linked under .ansible/collections; ansible-test runs it in place.
    parts = ROOT.split(os.sep)
    if parts[-3:-2] == ['ansible_collections']:
        return os.sep.join(parts[:-3])
    return os.path.join(ROOT, '.ansible', 'collections')


@pytest.fixture
def run_playbook(tmp_path):
    """run_playbook(yaml_text, platform, architecture='x86_64', extra_vars=None, check=True) -> CompletedProcess."""
    def run(playbook, platform, architecture='x86_64', extra_vars=None, check=True):
        facts = dict(PLATFORMS[platform], architecture=architecture, kernel='6.1.0-test-amd64',
                     machine=architecture, system='Linux')
        path = tmp_path / 'playbook.yml'
        path.write_text(playbook)
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=_collections_path(), ANSIBLE_NOCOLOR='1',
                   ANSIBLE_RETRY_FILES_ENABLED='0', ANSIBLE_LOCAL_TEMP=str(tmp_path / 'tmp'),
                   ANSIBLE_HOME=str(tmp_path / 'ansible-home'))
        variables = dict(extra_vars or {}, ansible_facts=facts, ansible_python_interpreter=sys.executable,
                         repo_root=ROOT, scratch=str(tmp_path))
        command = [sys.executable, '-m', 'ansible.cli.playbook', '-i', 'localhost,', '-c', 'local',
                   '-e', json.dumps(variables), str(path)] + (['--check'] if check else [])
        return subprocess.run(command, env=env, cwd=str(tmp_path), capture_output=True, text=True, timeout=300,
                              check=False)
    return run


@pytest.fixture
def run_repo_playbook(tmp_path):
    """run_repo_playbook(relative_path, inventory, extra_vars) -> CompletedProcess: one of the collection's playbooks."""
    def run(playbook, inventory, extra_vars):
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=_collections_path(), ANSIBLE_NOCOLOR='1',
                   ANSIBLE_RETRY_FILES_ENABLED='0', ANSIBLE_LOCAL_TEMP=str(tmp_path / 'tmp'),
                   ANSIBLE_HOME=str(tmp_path / 'ansible-home'))
        variables = dict(extra_vars, ansible_python_interpreter=sys.executable)
        command = [sys.executable, '-m', 'ansible.cli.playbook', '-i', inventory, '-c', 'local',
                   '-e', json.dumps(variables), os.path.join(ROOT, playbook)]
        return subprocess.run(command, env=env, cwd=str(tmp_path), capture_output=True, text=True, timeout=300,
                              check=False)
    return run

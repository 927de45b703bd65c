# Copyright (c) 2026, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""daemon.json: only a missing file is empty; one that cannot be read or parsed stops both roles, untouched.

The roles' daemon.json tasks run in check mode against a file in a scratch directory (the molecule scenario
`docker` covers the real /etc/docker/daemon.json with dockerd running).
"""

import pytest

PLAYBOOK = '''
- name: Merge into daemon.json
  hosts: all
  gather_facts: false
  tasks:
    - name: Run the role's daemon.json tasks
      ansible.builtin.include_role:
        name: llmops.ollama.{role}
        tasks_from: {tasks}
      vars:
        {path_var}: "{{{{ scratch }}}}/daemon.json"
        docker_daemon_options: {{log-driver: json-file}}
        _docker_fresh_in_check: true
        _nvidia_container_toolkit_fresh_in_check: true

    - name: Say that it went through
      ansible.builtin.debug:
        msg: MERGED
'''

ROLES = {
    'docker': ('daemon.yml', '_docker_daemon_json'),
    'nvidia_container_toolkit': ('docker.yml', '_nvidia_container_toolkit_daemon_json'),
}


def _playbook(role):
    tasks, path_var = ROLES[role]
    return PLAYBOOK.format(role=role, tasks=tasks, path_var=path_var)


@pytest.mark.parametrize('role', sorted(ROLES))
@pytest.mark.parametrize('content, reason', [
    ('{"labels": ["kept"],', 'Expecting'),
    ('["not", "an", "object"]', 'it holds JSON that is not an object'),
])
def test_unparsable_daemon_json_fails_and_stays_untouched(run_playbook, tmp_path, role, content, reason):
    daemon_json = tmp_path / 'daemon.json'
    daemon_json.write_text(content)
    result = run_playbook(_playbook(role), 'debian13')
    assert result.returncode != 0
    assert '%s exists but cannot be read as a JSON object' % daemon_json in result.stdout
    assert reason in result.stdout
    assert 'MERGED' not in result.stdout
    assert daemon_json.read_text() == content


@pytest.mark.parametrize('role', sorted(ROLES))
def test_unreadable_daemon_json_fails(run_playbook, tmp_path, role):
    (tmp_path / 'daemon.json').mkdir()
    result = run_playbook(_playbook(role), 'debian13')
    assert result.returncode != 0
    assert 'exists but cannot be read as a JSON object' in result.stdout
    assert 'MERGED' not in result.stdout


@pytest.mark.parametrize('role', sorted(ROLES))
@pytest.mark.parametrize('content', [None, '', '{"labels": ["kept"]}'])
def test_missing_empty_or_valid_daemon_json_is_merged(run_playbook, tmp_path, role, content):
    if content is not None:
        (tmp_path / 'daemon.json').write_text(content)
    result = run_playbook(_playbook(role), 'debian13')
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'MERGED' in result.stdout

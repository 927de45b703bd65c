# Copyright (c) 2026, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""firewall and nginx_proxy know apt, UFW and www-data only: elsewhere they stop first, in one line."""

import pytest

# The roles' handlers name community.general modules, which Ansible resolves when it includes a role. They come
# with the `ansible` package (the harness's venv, where the pytest step runs this); ansible-test's unit-test venv
# has ansible-core alone.

PLAYBOOK = '''
- name: Run the role
  hosts: all
  gather_facts: false
  tasks:
    - name: Include it
      ansible.builtin.include_role:
        name: llmops.ollama.{role}
'''

MESSAGES = {
    'firewall': 'firewall: Debian and Ubuntu only (apt, UFW); this host is RedHat (RedHat family)',
    'nginx_proxy': 'nginx_proxy: Debian and Ubuntu only (apt, www-data); this host is RedHat (RedHat family)',
}


@pytest.mark.needs_ansible_package
@pytest.mark.parametrize('role', sorted(MESSAGES))
def test_role_refuses_a_rhel_host_in_its_first_task(run_playbook, role):
    result = run_playbook(PLAYBOOK.format(role=role), 'rhel9')
    assert result.returncode != 0
    assert MESSAGES[role] in result.stdout
    tasks = [line for line in result.stdout.splitlines() if line.startswith('TASK [')]
    # Nothing but the include and the platform check ran.
    assert tasks[-1].startswith('TASK [llmops.ollama.%s : Check that this host is Debian or Ubuntu' % role), tasks
    assert not any('Check the input before anything changes' in line for line in tasks)

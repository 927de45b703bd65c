# Copyright (c) 2026, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The example inventory the README tells users to copy passes every role's input checks as shipped."""

import pytest

PLAYBOOK = '''
- name: The example inventory against every role's argument specs and input checks
  hosts: all
  gather_facts: false
  vars_files:
    - "{{ repo_root }}/inventory/example/group_vars/ollama_servers.yml"
  tasks:
    - name: Check the example's variables against each role's argument spec
      ansible.builtin.validate_argument_spec:
        argument_spec: "{{ (lookup('ansible.builtin.file', repo_root ~ '/roles/' ~ item ~ '/meta/argument_specs.yml')
                            | from_yaml).argument_specs.main.options }}"
      loop: [nvidia_driver, docker, nvidia_container_toolkit, ollama, firewall, nginx_proxy]

    - name: Run the driver role's checks (no GPU under the fake sysfs, so it stops after them)
      ansible.builtin.include_role:
        name: llmops.ollama.nvidia_driver
      vars:
        nvidia_driver_pci_devices_path: "{{ scratch }}"

    - name: Run the ollama role's input checks
      ansible.builtin.include_role:
        name: llmops.ollama.ollama
        tasks_from: validate.yml

    - name: Say that every check passed
      ansible.builtin.debug:
        msg: EXAMPLE-INVENTORY-VALID
'''


@pytest.mark.parametrize('platform', ['debian12', 'debian13'])
@pytest.mark.parametrize('install_mode', ['native', 'compose'])
def test_example_inventory_passes_the_input_checks_on_debian(run_playbook, platform, install_mode):
    result = run_playbook(PLAYBOOK, platform, extra_vars={'ollama_install_mode': install_mode})
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'EXAMPLE-INVENTORY-VALID' in result.stdout


def test_the_driver_check_refuses_a_branch_debian_does_not_ship(run_playbook):
    # What the example used to pin: the guard above must be able to fail.
    result = run_playbook(PLAYBOOK, 'debian12', extra_vars={'nvidia_driver_branch': '580'})
    assert result.returncode != 0
    assert "Debian 12's archive only has branch 535" in result.stdout

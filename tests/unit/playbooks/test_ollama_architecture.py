# Copyright (c) 2026, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ollama role installs the release built for the host's architecture, and refuses one Ollama does not ship."""

import pytest

PLAYBOOK = '''
- name: The ollama role's checks and the release asset it would download
  hosts: all
  gather_facts: false
  tasks:
    - name: Run the ollama role's input checks
      ansible.builtin.include_role:
        name: llmops.ollama.ollama
        tasks_from: validate.yml
        public: true

    - name: Show the asset
      ansible.builtin.debug:
        msg: "ASSET={{ _ollama_asset }}"
'''


@pytest.mark.parametrize('architecture, asset', [('x86_64', 'ollama-linux-amd64.tar.zst'),
                                                 ('aarch64', 'ollama-linux-arm64.tar.zst')])
def test_known_architectures_get_their_release(run_playbook, architecture, asset):
    result = run_playbook(PLAYBOOK, 'debian12', architecture=architecture)
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'ASSET=%s' % asset in result.stdout


@pytest.mark.parametrize('architecture', ['riscv64', 'ppc64le', 'armv7l'])
def test_unknown_architecture_fails_naming_it_and_the_shipped_ones(run_playbook, architecture):
    result = run_playbook(PLAYBOOK, 'debian12', architecture=architecture)
    assert result.returncode != 0
    assert 'no Ollama release for architecture %s: upstream ships Linux builds for amd64 and arm64' % architecture \
        in result.stdout
    assert 'ASSET=' not in result.stdout

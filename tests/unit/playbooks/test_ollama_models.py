# Copyright (c) 2026, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ollama_models entries: every ollama_model option reaches the module, any other key is refused."""

import os

import pytest
import yaml

from ansible_collections.llmops.ollama.plugins.modules import ollama_model

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))

MODELS_PLAYBOOK = '''
- name: Apply ollama_models
  hosts: all
  gather_facts: false
  tasks:
    - name: Run the ollama role's model tasks
      ansible.builtin.include_role:
        name: llmops.ollama.ollama
        tasks_from: models.yml
      vars:
        _ollama_was_installed: true
'''

ROLE_PLAYBOOK = '''
- name: Run the ollama role
  hosts: all
  gather_facts: false
  roles:
    - role: llmops.ollama.ollama
'''


def _module_options():
    captured = {}

    class Capture(Exception):
        pass

    def fake_module(argument_spec, **kwargs):
        captured.update(argument_spec)
        raise Capture()

    original = ollama_model.AnsibleModule
    ollama_model.AnsibleModule = fake_module
    try:
        with pytest.raises(Capture):
            ollama_model.main()
    finally:
        ollama_model.AnsibleModule = original
    return captured


def test_spec_task_and_module_agree_on_the_entry_options():
    module = set(_module_options()) - {'url'}
    with open(os.path.join(ROOT, 'roles', 'ollama', 'meta', 'argument_specs.yml')) as handle:
        spec = yaml.safe_load(handle)['argument_specs']['main']['options']['ollama_models']['options']
    with open(os.path.join(ROOT, 'roles', 'ollama', 'tasks', 'models.yml')) as handle:
        task = yaml.safe_load(handle)[0]['llmops.ollama.ollama_model']
    # vram is for the role's GPU memory plan alone, digest for its health gate.
    assert set(spec) - {'vram', 'digest'} == module
    assert set(task) - {'url'} == module
    for option in module - {'name'}:
        assert task[option] == '{{ item.%s | default(omit) }}' % option
    module_spec = _module_options()
    for option, entry in spec.items():
        if option in ('vram', 'digest'):
            continue
        assert entry['type'] == module_spec[option]['type'], option
        assert entry.get('no_log', False) == module_spec[option].get('no_log', False), option


def test_pull_options_reach_the_module(run_playbook, ollama, tmp_path):
    progress = tmp_path / 'pull-progress.log'
    models = [{'name': 'smollm2:135m', 'progress_file': str(progress), 'pull_timeout': 120, 'timeout': 20}]
    result = run_playbook(MODELS_PLAYBOOK, 'debian12', check=False,
                          extra_vars={'ollama_api_url': str(ollama), 'ollama_models': models})
    assert result.returncode == 0, result.stdout + result.stderr
    assert ollama.names() == ['smollm2:135m']
    lines = progress.read_text().splitlines()
    assert any('smollm2:135m' in line and 'pulling manifest' in line for line in lines), lines
    assert any('success' in line for line in lines), lines


def test_credentials_reach_the_module_and_stay_out_of_the_output(run_playbook, stub, answers):
    stub.routes[('*', '*')] = answers.json(401, {'error': 'unauthorized'})
    models = [{'name': 'smollm2:135m', 'api_token': 'tok-3f9a7c-secret'}]
    result = run_playbook(MODELS_PLAYBOOK, 'debian12', check=False,
                          extra_vars={'ollama_api_url': str(stub), 'ollama_models': models})
    assert result.returncode != 0
    assert stub.seen and all(seen['headers'].get('Authorization') == 'Bearer tok-3f9a7c-secret' for seen in stub.seen)
    assert 'tok-3f9a7c-secret' not in result.stdout + result.stderr


@pytest.mark.parametrize('entry, message', [
    ({'name': 'smollm2:135m', 'pul_timeout': 60}, 'pul_timeout'),
    ({'name': 'smollm2:135m', 'url': 'http://elsewhere:11434'}, 'url'),
    ({'source': 'mirror:5000/library/smollm2:135m'}, 'name'),
    ({'name': 'bot', 'from': 'smollm2:135m', 'messages': [{'role': 'user', 'text': 'hi'}]}, 'text'),
])
def test_unknown_or_missing_entry_keys_fail_the_argument_spec(run_playbook, entry, message):
    result = run_playbook(ROLE_PLAYBOOK, 'debian12', extra_vars={'ollama_models': [entry]})
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert 'Validating arguments against arg spec' in output
    assert message in output

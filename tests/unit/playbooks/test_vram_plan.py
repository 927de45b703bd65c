# Copyright (c) 2026, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ollama role's GPU memory plan and preflight (tasks/vram.yml) on the example inventory, in check mode."""

import json

import pytest

PLAYBOOK = '''
- name: The ollama role's GPU memory tasks on the example inventory
  hosts: all
  gather_facts: false
  vars_files:
    - "{{ repo_root }}/inventory/example/group_vars/ollama_servers.yml"
  tasks:
    - name: Run the GPU memory tasks
      ansible.builtin.include_role:
        name: llmops.ollama.ollama
        tasks_from: vram.yml
        public: true
      vars:
        ollama_api_url: http://127.0.0.1:9

    - name: Show the settings the role would write
      ansible.builtin.debug:
        msg: "PLANNED {{ _ollama_settings | to_json }}"
'''
SMI = {
    '24gb': 'NVIDIA GeForce RTX 4090, GPU-5f2b2a1e-8c1f-4b7e-9f4e-2a9f0d1c3b4a, 24564, 1, 8.9, 550.54.15',
    '2gb': 'NVIDIA T400, GPU-0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d, 2048, 1, 7.5, 550.54.15',
    '2gpus': ('NVIDIA L4, GPU-11111111-2222-3333-4444-555555555555, 23034, 0, 8.9, 550.54.15\n'
              'NVIDIA L4, GPU-66666666-7777-8888-9999-000000000000, 23034, 0, 8.9, 550.54.15'),
}


def fake_smi(tmp_path, card):
    script = tmp_path / 'nvidia-smi'
    script.write_text("#!/bin/sh\nprintf '%%s\\n' '%s'\n" % SMI[card].replace('\n', "' '"))
    script.chmod(0o755)
    return str(script)


def planned(stdout):
    line = [text for text in stdout.splitlines() if '"msg": "PLANNED ' in text][0]
    return json.loads(json.loads(line.split(': ', 1)[1]).split(' ', 1)[1])


def test_example_inventory_is_sized_for_a_24gb_card(run_playbook, tmp_path):
    result = run_playbook(PLAYBOOK, 'debian12', extra_vars={'ollama_nvidia_smi': fake_smi(tmp_path, '24gb')})
    assert result.returncode == 0, result.stdout + result.stderr
    settings = planned(result.stdout)
    # llama3.2:3b (+ support-bot on it) and nomic-embed-text: all three fit at once with 4 requests each.
    assert {k: settings[k] for k in ('OLLAMA_NUM_PARALLEL', 'OLLAMA_MAX_LOADED_MODELS', 'OLLAMA_CONTEXT_LENGTH',
                                     'OLLAMA_KV_CACHE_TYPE', 'OLLAMA_FLASH_ATTENTION')} == {
        'OLLAMA_NUM_PARALLEL': 4, 'OLLAMA_MAX_LOADED_MODELS': 3, 'OLLAMA_CONTEXT_LENGTH': 8192,
        'OLLAMA_KV_CACHE_TYPE': 'f16', 'OLLAMA_FLASH_ATTENTION': True}
    assert settings['OLLAMA_KEEP_ALIVE'] == '24h'  # the inventory's own settings stay
    assert '1 GPU, 24564 MiB' in result.stdout


def test_given_setting_wins_over_the_plan(run_playbook, tmp_path):
    result = run_playbook(PLAYBOOK, 'debian12', extra_vars={
        'ollama_nvidia_smi': fake_smi(tmp_path, '24gb'),
        'ollama_settings': {'OLLAMA_NUM_PARALLEL': 1, 'OLLAMA_KV_CACHE_TYPE': 'q8_0', 'OLLAMA_FLASH_ATTENTION': True}})
    assert result.returncode == 0, result.stdout + result.stderr
    settings = planned(result.stdout)
    assert settings['OLLAMA_NUM_PARALLEL'] == 1 and settings['OLLAMA_KV_CACHE_TYPE'] == 'q8_0'
    assert settings['OLLAMA_CONTEXT_LENGTH'] == 8192
    assert 'OLLAMA_FLASH_ATTENTION, OLLAMA_KV_CACHE_TYPE, OLLAMA_NUM_PARALLEL given' in result.stdout


def test_without_auto_the_plan_is_shown_not_applied(run_playbook, tmp_path):
    result = run_playbook(PLAYBOOK, 'debian12', extra_vars={'ollama_nvidia_smi': fake_smi(tmp_path, '24gb'),
                                                            'ollama_settings_auto': False})
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'OLLAMA_NUM_PARALLEL' not in planned(result.stdout)
    assert 'Plan, not applied (ollama_settings_auto is false): OLLAMA_CONTEXT_LENGTH=8192' in result.stdout


def test_no_gpu_changes_nothing(run_playbook, tmp_path):
    result = run_playbook(PLAYBOOK, 'debian12', extra_vars={'ollama_nvidia_smi': str(tmp_path / 'absent')})
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'OLLAMA_NUM_PARALLEL' not in planned(result.stdout)
    assert 'no NVIDIA GPU found' in result.stdout


def test_preflight_refuses_a_card_too_small_in_one_line(run_playbook, tmp_path):
    result = run_playbook(PLAYBOOK, 'debian12', extra_vars={'ollama_nvidia_smi': fake_smi(tmp_path, '2gb')})
    assert result.returncode != 0
    assert ('"msg": "ollama_models on localhost: llama3.2:3b, support-bot cannot fit in GPU memory even at context 2048, '
            'KV cache q4_0, 1 request(s) at a time: llama3.2:3b needs 2.6 GiB, support-bot needs 2.6 GiB, but 1 GPU(s) '
            'have 2.0 GiB (1.8 GiB with 10% headroom); fits: nomic-embed-text"') in result.stdout
    assert 'PLANNED' not in result.stdout


@pytest.mark.parametrize('variables, left_out', [
    ({'ollama_install_mode': 'compose', 'ollama_compose_gpu_devices': ['1']},
     'GPU 0 (NVIDIA L4, GPU-11111111-2222-3333-4444-555555555555) left out: the container reserves only 1 '
     '(ollama_compose_gpu_devices)'),
    ({'ollama_extra_environment': {'CUDA_VISIBLE_DEVICES': 'GPU-11111111-2222-3333-4444-555555555555'}},
     'GPU 1 (NVIDIA L4, GPU-66666666-7777-8888-9999-000000000000) left out: '
     'CUDA_VISIBLE_DEVICES=GPU-11111111-2222-3333-4444-555555555555 hides it'),
])
def test_only_the_gpus_the_server_can_use_are_sized(run_playbook, tmp_path, variables, left_out):
    result = run_playbook(PLAYBOOK, 'debian12', extra_vars=dict(variables, ollama_nvidia_smi=fake_smi(tmp_path, '2gpus')))
    assert result.returncode == 0, result.stdout + result.stderr
    assert '2 GPUs, 46068 MiB' in result.stdout
    assert '"%s"' % left_out in result.stdout
    assert 'of 20.2 GiB usable (22.5 GiB on 1 GPU(s), 10% headroom)' in result.stdout


def test_gpu_that_matches_none_fails_in_one_line(run_playbook, tmp_path):
    result = run_playbook(PLAYBOOK, 'debian12', extra_vars={'ollama_nvidia_smi': fake_smi(tmp_path, '2gpus'),
                                                            'ollama_settings': {'CUDA_VISIBLE_DEVICES': '2'}})
    assert result.returncode != 0
    assert ('GPUs of the Ollama server: CUDA_VISIBLE_DEVICES names GPU 2, which matches none of the 2 GPU(s) the '
            'server can see: 0 = GPU 0 (NVIDIA L4, GPU-11111111-2222-3333-4444-555555555555), ') in result.stdout
    assert 'PLANNED' not in result.stdout

# Copyright (c) 2026, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""compose.yaml as the ollama role renders it: GPU reservation (all, a count, device ids) and baked-in models.

molecule/ollama_compose feeds the same variables through the role on a Docker host and checks them with
`docker compose config`; this test covers the input checks and every branch quickly.
"""

import pytest
import yaml

PLAYBOOK = '''
- name: Render compose.yaml with the role's variables
  hosts: all
  gather_facts: false
  tasks:
    - name: Run the ollama role's input checks and keep its variables
      ansible.builtin.include_role:
        name: llmops.ollama.ollama
        tasks_from: validate.yml
        public: true

    - name: Render the compose file
      ansible.builtin.template:
        src: "{{ repo_root }}/roles/ollama/templates/compose.yaml.j2"
        dest: "{{ scratch }}/compose.yaml"
        mode: "0600"
      vars:
        _ollama_compose_image: ollama/ollama:0.32.15
'''


def render(run_playbook, tmp_path, **variables):
    variables.setdefault('ollama_install_mode', 'compose')
    result = run_playbook(PLAYBOOK, 'debian13', check=False, extra_vars=variables)
    return result, (yaml.safe_load((tmp_path / 'compose.yaml').read_text()) if result.returncode == 0 else None)


@pytest.mark.parametrize('devices, expected', [
    ('all', {'count': 'all'}),
    (2, {'count': 2}),
    ('1', {'count': 1}),
    (['0', 2, 'GPU-8f6c2b1e-0a4d-4f7e-9c1b-3a5d6e7f8a9b'],
     {'device_ids': ['0', '2', 'GPU-8f6c2b1e-0a4d-4f7e-9c1b-3a5d6e7f8a9b']}),
])
def test_gpu_reservation_takes_the_chosen_gpus(run_playbook, tmp_path, devices, expected):
    result, compose = render(run_playbook, tmp_path, ollama_compose_gpus=True, ollama_compose_gpu_devices=devices)
    assert result.returncode == 0, result.stdout + result.stderr
    reservation = compose['services']['ollama']['deploy']['resources']['reservations']['devices']
    assert reservation == [dict(expected, driver='nvidia', capabilities=['gpu'])]


@pytest.mark.parametrize('api_version, probed_every_second', [('1.44', True), ('1.51', True), ('1.43', False), ('', False)])
def test_start_interval_only_where_docker_knows_it(run_playbook, tmp_path, api_version, probed_every_second):
    result, compose = render(run_playbook, tmp_path, _ollama_docker_api_version={'rc': 0 if api_version else 1, 'stdout': api_version})
    assert result.returncode == 0, result.stdout + result.stderr
    healthcheck = compose['services']['ollama']['healthcheck']
    assert healthcheck.get('start_interval') == ('1s' if probed_every_second else None)
    assert (healthcheck['interval'], healthcheck['start_period']) == ('10s', '10s')


def test_no_reservation_without_gpus(run_playbook, tmp_path):
    result, compose = render(run_playbook, tmp_path, ollama_compose_gpus=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'deploy' not in compose['services']['ollama']


@pytest.mark.parametrize('devices', [0, '-1', 'some', [], ['0', 'GPU 1'], {'count': 1}])
def test_bad_gpu_selection_is_refused(run_playbook, tmp_path, devices):
    result = render(run_playbook, tmp_path, ollama_compose_gpus=True, ollama_compose_gpu_devices=devices)[0]
    assert result.returncode != 0
    assert 'ollama_compose_gpu_devices must be all, a number of GPUs, or a list of GPU indexes or UUIDs' in result.stdout


def test_models_in_image_mount_no_volume(run_playbook, tmp_path):
    result, compose = render(run_playbook, tmp_path, ollama_compose_models_in_image=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'volumes' not in compose['services']['ollama'] and 'volumes' not in compose


def test_models_in_a_volume_by_default(run_playbook, tmp_path):
    result, compose = render(run_playbook, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert compose['services']['ollama']['volumes'] == ['ollama:/root/.ollama']
    assert compose['volumes'] == {'ollama': {'name': 'ollama'}}


def test_models_in_image_refuse_pulled_models(run_playbook, tmp_path):
    result = render(run_playbook, tmp_path, ollama_compose_models_in_image=True,
                    ollama_models=[{'name': 'smollm2:135m'}])[0]
    assert result.returncode != 0
    assert 'ollama_models must be empty with ollama_compose_models_in_image' in result.stdout


@pytest.mark.parametrize('settings, volumes', [
    ({}, ['ollama:/root/.ollama']),
    ({'OLLAMA_MODELS': '/srv/ollama/models'}, ['ollama:/root/.ollama', '/srv/ollama/models:/srv/ollama/models']),
])
def test_models_directory_of_the_host_is_mounted_at_the_same_path(run_playbook, tmp_path, settings, volumes):
    result, compose = render(run_playbook, tmp_path, ollama_compose_gpus=False, ollama_settings=settings)
    assert result.returncode == 0, result.stdout + result.stderr
    assert compose['services']['ollama']['volumes'] == volumes
    assert compose['services']['ollama']['environment'].get('OLLAMA_MODELS') == settings.get('OLLAMA_MODELS')

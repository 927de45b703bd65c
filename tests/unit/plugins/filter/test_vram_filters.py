# Copyright (c) 2026, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""vram_plan and vram_gap filters: /api/show results as the role registers them."""

import json
import urllib.request

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.llmops.ollama.plugins.filter.vram import vram_gap, vram_plan


def show(url, name):
    request = urllib.request.Request(url + '/api/show', data=json.dumps({'model': name}).encode(), method='POST')
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


GPU = [{'index': 0, 'name': 'NVIDIA L4', 'uuid': 'GPU-1', 'memory_total_mib': 23034, 'memory_used_mib': 0,
        'compute_capability': '8.9', 'driver_version': '550.54.15'}]


def test_plan_uses_registered_show_results_over_the_table(ollama):
    ollama.pull('qwen2.5:0.5b')
    answer = show(ollama, 'qwen2.5:0.5b')
    tags = ollama.tags()
    shown = [{'item': 'qwen2.5:0.5b', 'json': answer}, {'item': 'missing:1', 'failed': True, 'status': 404}]
    result = vram_plan([{'name': 'qwen2.5:0.5b'}], GPU, shown=shown, tags=tags)
    model = result['models'][0]
    assert model['metadata_from'] == '/api/show'
    assert model['weights_bytes'] == [m['size'] for m in tags if m['name'] == 'qwen2.5:0.5b'][0]
    # qwen2.5 0.5B: 24 layers x 2 KV heads x 64 (896 / 14) x 2 x 2 bytes.
    assert model['kv_bytes_per_token']['f16'] == 24 * 2 * 64 * 2 * 2
    assert result['settings']['OLLAMA_NUM_PARALLEL'] == 4


def test_bad_vram_entry_is_one_filter_error():
    with pytest.raises(AnsibleFilterError, match='ollama_models vram: x: vram metadata needs size'):
        vram_plan([{'name': 'x', 'vram': {'block_count': 2, 'embedding_length': 8, 'head_count': 2}}], GPU)


def test_gap_without_plan_lists_running_models():
    assert vram_gap([{'name': 'a:1', 'size': 1024, 'size_vram': 0}], {})['spilled'] == ['a:1']


TWO_GPUS = [dict(GPU[0], index=0, uuid='GPU-aaaa'), dict(GPU[0], index=1, uuid='GPU-bbbb')]
SMALL = [{'name': 'qwen2.5:0.5b'}]


def sized(**options):
    result = vram_plan(SMALL, TWO_GPUS, **options)
    return result['gpu_count'], [reason.split(' left out: ')[1] for reason in result['reasons'] if ' left out: ' in reason]


def test_native_server_sees_every_gpu_but_those_cuda_visible_devices_hides():
    assert sized() == (2, [])
    # compose's reservation does not apply to a native server.
    assert sized(compose_gpu_devices=['1']) == (2, [])
    assert sized(settings={'CUDA_VISIBLE_DEVICES': 'GPU-bbbb'}) == (1, ['CUDA_VISIBLE_DEVICES=GPU-bbbb hides it'])
    # ollama_extra_environment wins, as it does in the server's environment.
    assert sized(settings={'CUDA_VISIBLE_DEVICES': '1'}, environment={'CUDA_VISIBLE_DEVICES': '0,1'}) == (2, [])


def test_compose_server_sees_the_gpus_its_container_reserves():
    assert sized(install_mode='compose') == (2, [])
    assert sized(install_mode='compose', compose_gpu_devices=1) == (
        1, ['the container reserves the first 1 GPU(s) (ollama_compose_gpu_devices)'])
    assert sized(install_mode='compose', compose_gpu_devices=['GPU-bbbb']) == (
        1, ['the container reserves only GPU-bbbb (ollama_compose_gpu_devices)'])
    assert sized(install_mode='compose', compose_gpus=False, compose_gpu_devices=['0'])[0] == 0
    # The container's GPU 0 is the host's GPU 1.
    result = vram_plan(SMALL, TWO_GPUS, install_mode='compose', compose_gpu_devices=['1'],
                       environment={'CUDA_VISIBLE_DEVICES': '0'})
    assert result['gpu_count'] == 1 and 'GPU 0 (NVIDIA L4, GPU-aaaa) left out' in result['reasons'][0]


def test_gpu_that_matches_nothing_is_one_filter_error():
    with pytest.raises(AnsibleFilterError, match=r'^GPUs of the Ollama server: CUDA_VISIBLE_DEVICES names GPU 2, which '
                                                 r'matches none of the 2 GPU\(s\) the server can see: 0 = GPU 0'):
        vram_plan(SMALL, TWO_GPUS, settings={'CUDA_VISIBLE_DEVICES': '0,2'})

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

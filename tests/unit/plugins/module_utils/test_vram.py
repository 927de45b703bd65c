# Copyright (c) 2026, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""GPU memory estimate and plan on recorded nvidia-smi outputs and model metadata of several architectures."""

import os
import re

import pytest

from ansible_collections.llmops.ollama.plugins.module_utils.vram import (
    GIB, KV_BYTES, MIB, VramError, canonical_name, compare, complete_metadata, estimate, gib, kv_bytes_per_token,
    metadata_from_show, parse_nvidia_smi, plan, select_gpus, table_metadata,
)

DOC = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', '..', 'docs', 'vram-sizing.md')

# `nvidia-smi --query-gpu=name,uuid,memory.total,memory.used,compute_cap,driver_version --format=csv,noheader,nounits`
SMI_24GB = 'NVIDIA GeForce RTX 4090, GPU-5f2b2a1e-8c1f-4b7e-9f4e-2a9f0d1c3b4a, 24564, 1, 8.9, 550.54.15\n'
SMI_80GB = 'NVIDIA A100-SXM4-80GB, GPU-0c3e9b7a-1d2f-4e5a-8b6c-7d8e9f0a1b2c, 81920, 0, 8.0, 535.104.05\n'
SMI_2X48GB = ('NVIDIA RTX 6000 Ada Generation, GPU-11111111-2222-3333-4444-555555555555, 49140, 1, 8.9, 550.54.15\n'
              'NVIDIA RTX 6000 Ada Generation, GPU-66666666-7777-8888-9999-000000000000, 49140, 3, 8.9, 550.54.15\n')
SMI_NO_GPU = ''
SMI_OLD_DRIVER = 'Tesla P100-PCIE-16GB, GPU-abcdef00-1111-2222-3333-444444444444, 16384, 0, [N/A], 470.82.01\n'

# /api/show of llama3.1:8b (grouped-query attention: 32 query heads share 8 KV heads), trimmed to what sizing reads.
SHOW_LLAMA31_8B = {
    'details': {'format': 'gguf', 'family': 'llama', 'parameter_size': '8.0B', 'quantization_level': 'Q4_K_M'},
    'model_info': {
        'general.architecture': 'llama', 'general.parameter_count': 8030261248, 'llama.block_count': 32,
        'llama.context_length': 131072, 'llama.embedding_length': 4096, 'llama.attention.head_count': 32,
        'llama.attention.head_count_kv': 8, 'llama.vocab_size': 128256, 'llama.feed_forward_length': 14336,
    },
}
# nomic-embed-text: an encoder; no KV cache.
SHOW_NOMIC = {
    'details': {'family': 'nomic-bert', 'quantization_level': 'F16'},
    'model_info': {
        'general.architecture': 'nomic-bert', 'nomic-bert.block_count': 12, 'nomic-bert.context_length': 2048,
        'nomic-bert.embedding_length': 768, 'nomic-bert.attention.head_count': 12, 'nomic-bert.pooling_type': 1,
    },
}
# llama3.3:70b: 80 layers, 64 query heads sharing 8 KV heads; 39.6 GiB of Q4_K_M weights alone exceed a 24 GB card.
SHOW_LLAMA33_70B = {
    'details': {'format': 'gguf', 'family': 'llama', 'parameter_size': '70.6B', 'quantization_level': 'Q4_K_M'},
    'model_info': {
        'general.architecture': 'llama', 'general.parameter_count': 70553706496, 'llama.block_count': 80,
        'llama.context_length': 131072, 'llama.embedding_length': 8192, 'llama.attention.head_count': 64,
        'llama.attention.head_count_kv': 8, 'llama.vocab_size': 128256, 'llama.feed_forward_length': 28672,
    },
}
# What the role registers for a model the server has: the /api/show answer, and its /api/tags entry (name as
# Ollama lists it, size in bytes).
RECORDED = {
    'llama3.1:8b': (SHOW_LLAMA31_8B, {'name': 'llama3.1:8b', 'size': 4920753328}),
    'nomic-embed-text': (SHOW_NOMIC, {'name': 'nomic-embed-text:latest', 'size': 274302450}),
    'llama3.3:70b': (SHOW_LLAMA33_70B, {'name': 'llama3.3:70b', 'size': 42520397704}),
}
LLAMA70 = [{'name': 'llama3.3:70b'}]
CHAT_AND_EMBED = [{'name': 'llama3.1:8b'}, {'name': 'nomic-embed-text'}]
MIXED = [{'name': 'llama3.1:8b'}, {'name': 'qwen2.5:32b'}, {'name': 'nomic-embed-text'}]


def settings(parallel, loaded, context, kv):
    return {'OLLAMA_NUM_PARALLEL': parallel, 'OLLAMA_MAX_LOADED_MODELS': loaded, 'OLLAMA_CONTEXT_LENGTH': context,
            'OLLAMA_KV_CACHE_TYPE': kv, 'OLLAMA_FLASH_ATTENTION': True}


def test_nvidia_smi_one_24gb_card():
    gpus = parse_nvidia_smi(SMI_24GB)
    assert gpus == [{'index': 0, 'name': 'NVIDIA GeForce RTX 4090', 'uuid': 'GPU-5f2b2a1e-8c1f-4b7e-9f4e-2a9f0d1c3b4a',
                     'memory_total_mib': 24564, 'memory_used_mib': 1, 'compute_capability': '8.9',
                     'driver_version': '550.54.15'}]


def test_nvidia_smi_two_cards_each_reported():
    gpus = parse_nvidia_smi(SMI_2X48GB)
    assert [(g['index'], g['uuid'][-4:], g['memory_total_mib'], g['memory_used_mib']) for g in gpus] == [
        (0, '5555', 49140, 1), (1, '0000', 49140, 3)]


def test_nvidia_smi_unknown_values_and_no_gpu():
    assert parse_nvidia_smi(SMI_OLD_DRIVER)[0]['compute_capability'] is None
    assert parse_nvidia_smi(SMI_NO_GPU) == []
    with pytest.raises(VramError, match='has 2 fields, expected 6'):
        parse_nvidia_smi('NVIDIA H100, 81559\n')


def test_kv_cache_per_token_matches_published_configs():
    llama8 = metadata_from_show(SHOW_LLAMA31_8B, 4920753328)
    # 32 layers x 8 KV heads x 128 (4096 / 32) x K and V x 2 bytes = 128 KiB per token at f16.
    assert kv_bytes_per_token(llama8, 'f16') == 128 * 1024
    assert kv_bytes_per_token(llama8, 'q8_0') == 68 * 1024
    assert kv_bytes_per_token(llama8, 'q4_0') == 36 * 1024
    # Llama 3.1's release figures for a 128k (128000-token) cache: 15.62 GiB for 8B, 39.06 GiB for 70B.
    assert round(kv_bytes_per_token(llama8) * 128000 / GIB, 2) == 15.62
    assert round(kv_bytes_per_token(table_metadata('llama3.1:70b')) * 128000 / GIB, 2) == 39.06
    # Llama 2 7B had no GQA (32 KV heads): half a MiB per token.
    llama2 = complete_metadata('llama2', {'block_count': 32, 'embedding_length': 4096, 'head_count': 32, 'size': 1})
    assert kv_bytes_per_token(llama2) == 512 * 1024
    # Gemma 2 sets its head size (256) apart from embedding / heads (224).
    assert kv_bytes_per_token(table_metadata('gemma2:9b')) == 2 * 42 * 8 * 256 * 2


def test_embedding_model_has_no_kv_cache():
    nomic = metadata_from_show(SHOW_NOMIC, 274302450)
    assert nomic['embedding'] is True
    assert kv_bytes_per_token(nomic) == 0
    assert estimate(nomic, 8192, parallel=4)['context'] == 2048


def test_estimate_terms_for_llama31_8b_at_8k():
    terms = estimate(metadata_from_show(SHOW_LLAMA31_8B, 4920753328), 8192)
    assert terms['weights'] == 4920753328
    assert terms['kv_cache'] == 8192 * 128 * 1024 == GIB
    # Output logits (4 bytes x 512 tokens x (4096 + 128256)) outweigh the hidden state with flash attention.
    assert terms['graph'] == 4 * 512 * (4096 + 128256)
    assert terms['cuda'] == 457 * 1024 * 1024
    assert round(terms['total'] / GIB, 2) == 6.28


def test_weights_from_parameters_within_two_percent_of_the_published_download():
    for name, params in (('llama3.1:8b', 8.03), ('qwen2.5:7b', 7.62), ('llama3.1:70b', 70.6)):
        published = table_metadata(name)['size']
        computed = complete_metadata(name, {'block_count': 1, 'embedding_length': 1, 'head_count': 1,
                                            'parameters_b': params, 'quantization': 'Q4_K_M'})['size']
        assert abs(computed - published) / float(published) < 0.02, name


def test_plan_24gb_chat_and_embedding_keeps_f16_and_four_requests():
    result = plan(parse_nvidia_smi(SMI_24GB), CHAT_AND_EMBED)
    assert result['fits'] is True
    assert result['settings'] == settings(4, 2, 8192, 'f16')
    assert set(result['chosen'].values()) == {'plan'}
    assert [m['metadata_from'] for m in result['models']] == ['table', 'table']


def test_plan_24gb_mixed_set_quantizes_the_cache_and_swaps_models():
    result = plan(parse_nvidia_smi(SMI_24GB), MIXED)
    assert result['fits'] is True
    assert result['settings'] == settings(2, 1, 8192, 'q8_0')
    assert any('at most 1 loaded' in reason for reason in result['reasons'])
    assert any('q8_0 KV cache' in reason for reason in result['reasons'])


def test_plan_80gb_holds_the_mixed_set_together():
    result = plan(parse_nvidia_smi(SMI_80GB), MIXED)
    assert result['settings'] == settings(4, 3, 8192, 'f16')
    assert round(result['estimate_bytes'] / GIB, 1) == 37.3


def test_plan_two_48gb_cards_hold_a_70b_model_with_a_long_context():
    result = plan(parse_nvidia_smi(SMI_2X48GB), LLAMA70, context_length=32768)
    assert result['vram_total_bytes'] == 2 * 49140 * 1024 * 1024
    # 32768 tokens x 4 requests x 320 KiB = 40 GiB of f16 cache next to 39.6 GiB of weights.
    assert result['settings'] == settings(4, 1, 32768, 'f16')
    assert round(result['estimate_bytes'] / GIB, 1) == 80.8


def test_plan_70b_model_cannot_fit_24gb():
    result = plan(parse_nvidia_smi(SMI_24GB), LLAMA70 + [{'name': 'all-minilm'}])
    assert result['fits'] is False
    assert result['settings'] == {}
    assert result['error'] == (
        'llama3.3:70b cannot fit in GPU memory even at context 2048, KV cache q4_0, 1 request(s) at a time: '
        'llama3.3:70b needs 40.5 GiB, but 1 GPU(s) have 24.0 GiB (21.6 GiB with 10% headroom); fits: all-minilm')


def test_plan_without_gpu_leaves_settings_alone():
    result = plan(parse_nvidia_smi(SMI_NO_GPU), LLAMA70)
    assert result['fits'] is True
    assert result['settings'] == {}
    assert 'no NVIDIA GPU' in result['reasons'][0]


def test_given_settings_win_and_are_reported():
    given = {'OLLAMA_NUM_PARALLEL': 1, 'OLLAMA_KV_CACHE_TYPE': 'f16', 'OLLAMA_HOST': '0.0.0.0:11434'}
    result = plan(parse_nvidia_smi(SMI_24GB), MIXED, settings=given)
    assert result['settings'] == settings(1, 1, 8192, 'f16')
    assert result['chosen']['OLLAMA_NUM_PARALLEL'] == 'given in ollama_settings'
    assert result['chosen']['OLLAMA_KV_CACHE_TYPE'] == 'given in ollama_settings'
    assert result['chosen']['OLLAMA_CONTEXT_LENGTH'] == 'plan'


def test_given_context_too_large_fails_with_it():
    alone = plan(parse_nvidia_smi(SMI_24GB), [{'name': 'qwen2.5:32b'}], settings={'OLLAMA_CONTEXT_LENGTH': 32768})
    assert alone['settings'] == dict(settings(1, 1, 32768, 'q4_0'), OLLAMA_CONTEXT_LENGTH=32768)
    given = {'OLLAMA_CONTEXT_LENGTH': 32768, 'OLLAMA_NUM_PARALLEL': 2}
    result = plan(parse_nvidia_smi(SMI_24GB), [{'name': 'qwen2.5:32b'}], settings=given)
    assert result['fits'] is False
    assert 'even at context 32768, KV cache q4_0, 2 request(s) at a time: qwen2.5:32b needs 23.7 GiB' in result['error']


def test_old_gpu_without_flash_attention_keeps_f16():
    # Without flash attention the attention scores (context x 33 heads x 4 bytes per batch token) dominate.
    pascal = parse_nvidia_smi(SMI_OLD_DRIVER.replace('[N/A]', '6.0'))
    result = plan(pascal, [{'name': 'llama3.1:8b'}], context_length=16384)
    assert result['settings'] == {'OLLAMA_NUM_PARALLEL': 2, 'OLLAMA_MAX_LOADED_MODELS': 1,
                                  'OLLAMA_CONTEXT_LENGTH': 16384, 'OLLAMA_KV_CACHE_TYPE': 'f16'}
    ampere = parse_nvidia_smi(SMI_OLD_DRIVER.replace('[N/A]', '8.0'))
    assert plan(ampere, [{'name': 'llama3.1:8b'}], context_length=16384)['settings'] == settings(4, 1, 16384, 'f16')


def test_model_metadata_sources():
    entries = [
        # A custom model sized by its base model.
        {'name': 'support-bot', 'modelfile_content': 'FROM llama3.1:8b\nSYSTEM hi\n', 'parameters': {'num_ctx': 16384}},
        # A mirror path known by its source.
        {'name': 'qwen', 'source': 'mirror:5000/library/qwen2.5:7b'},
        # Metadata given in the inventory.
        {'name': 'team/private:1', 'vram': {'parameters_b': 13, 'quantization': 'Q8_0', 'block_count': 40,
                                            'embedding_length': 5120, 'head_count': 40}},
        {'name': 'mystery:1'},
        {'name': 'gone:1', 'state': 'absent'},
    ]
    shown = {canonical_name('qwen'): dict(table_metadata('qwen2.5:7b'), size=123)}
    result = plan(parse_nvidia_smi(SMI_80GB), entries, shown=shown)
    by_name = dict((m['name'], m) for m in result['models'])
    assert by_name['support-bot']['metadata_from'] == 'table'
    assert by_name['support-bot']['context'] == 16384
    assert by_name['qwen']['metadata_from'] == '/api/show'
    assert by_name['qwen']['weights_bytes'] == 123
    assert by_name['team/private:1']['weights_bytes'] == int(13e9 * 8.5 / 8)
    assert by_name['team/private:1']['kv_bytes_per_token']['f16'] == 2 * 40 * 40 * 128 * 2
    assert result['unknown_models'] == ['mystery:1']
    with pytest.raises(VramError, match='needs head_count'):
        plan(parse_nvidia_smi(SMI_80GB), [{'name': 'x', 'vram': {'size': 1, 'block_count': 2, 'embedding_length': 8}}])


def test_canonical_names():
    assert canonical_name('registry.ollama.ai/library/Llama3.1:8B') == 'llama3.1:8b'
    assert canonical_name('mirror:5000/library/smollm2') == 'smollm2:latest'
    assert canonical_name('team/model:1') == 'team/model:1'
    assert table_metadata('llama3.1')['block_count'] == 32


def test_compare_reports_spill_and_estimate_gap():
    result = plan(parse_nvidia_smi(SMI_24GB), [{'name': 'llama3.1:8b'}])
    expected = result['models'][0]['total_bytes']
    gap = compare(result, [{'name': 'llama3.1:8b', 'size': expected, 'size_vram': expected - GIB}])
    assert gap['spilled'] == ['llama3.1:8b']
    assert gap['lines'] == ['llama3.1:8b: 9.3 GiB loaded, 8.3 GiB in GPU memory, plan estimated 9.3 GiB (+0%), '
                            '1.0 GiB ON THE CPU']
    assert compare(result, [{'name': 'other:1', 'size': GIB, 'size_vram': GIB}]) == {
        'lines': ['other:1: 1.0 GiB loaded, 1.0 GiB in GPU memory'], 'spilled': []}


ADA_0 = 'GPU 0 (NVIDIA RTX 6000 Ada Generation, GPU-11111111-2222-3333-4444-555555555555)'
ADA_1 = 'GPU 1 (NVIDIA RTX 6000 Ada Generation, GPU-66666666-7777-8888-9999-000000000000)'


@pytest.mark.parametrize('reserved, visible, indexes', [
    ('all', None, [0, 1]),
    # compose's count takes the first GPUs; 0 stands for ollama_compose_gpus: false.
    (1, None, [0]),
    ('2', None, [0, 1]),
    (0, None, []),
    # compose's device_ids: nvidia-smi indexes or UUIDs, in either case.
    (['1'], None, [1]),
    (['GPU-66666666-7777-8888-9999-000000000000'], None, [1]),
    (['gpu-11111111-2222-3333-4444-555555555555', 1], None, [0, 1]),
    # CUDA_VISIBLE_DEVICES: indexes or UUIDs; CUDA stops at a negative index.
    ('all', '1', [1]),
    ('all', 'GPU-11111111-2222-3333-4444-555555555555', [0]),
    ('all', ' 0 , GPU-66666666-7777-8888-9999-000000000000 ', [0, 1]),
    ('all', '1,-1,0', [1]),
    ('all', '-1', []),
    ('all', 0, [0]),
    # In a container the reserved GPUs are numbered from 0: index 0 there is GPU 1 of the host.
    (['1'], '0', [1]),
])
def test_select_gpus_the_server_can_use(reserved, visible, indexes):
    used, left_out = select_gpus(parse_nvidia_smi(SMI_2X48GB), reserved, visible)
    assert [gpu['index'] for gpu in used] == indexes
    assert len(left_out) == 2 - len(indexes)


def test_select_gpus_says_why_each_gpu_is_left_out():
    gpus = parse_nvidia_smi(SMI_2X48GB)
    assert select_gpus(gpus, 1)[1] == [
        ADA_1 + ' left out: the container reserves the first 1 GPU(s) (ollama_compose_gpu_devices)']
    assert select_gpus(gpus, ['0'])[1] == [ADA_1 + ' left out: the container reserves only 0 (ollama_compose_gpu_devices)']
    assert select_gpus(gpus, 0)[1] == [ADA_0 + ' left out: the container reserves no GPU (ollama_compose_gpus is false)',
                                       ADA_1 + ' left out: the container reserves no GPU (ollama_compose_gpus is false)']
    visible = 'GPU-66666666-7777-8888-9999-000000000000'
    assert select_gpus(gpus, 'all', visible)[1] == [ADA_0 + ' left out: CUDA_VISIBLE_DEVICES=%s hides it' % visible]


@pytest.mark.parametrize('reserved, visible, message', [
    (['2'], None, 'ollama_compose_gpu_devices names GPU 2, which matches none of the 2 GPU(s) the server can see: '
                  '0 = %s, 1 = %s' % (ADA_0, ADA_1)),
    (3, None, 'ollama_compose_gpu_devices reserves 3 GPUs, but nvidia-smi lists 2: %s, %s' % (ADA_0, ADA_1)),
    ('all', 'GPU-5f2b2a1e-8c1f-4b7e-9f4e-2a9f0d1c3b4a', 'CUDA_VISIBLE_DEVICES names GPU GPU-5f2b2a1e-8c1f-4b7e-9f4e-'
                                                        '2a9f0d1c3b4a, which matches none of the 2 GPU(s)'),
    # Index 1 of a container that reserves one GPU does not exist.
    (['1'], '1', 'CUDA_VISIBLE_DEVICES names GPU 1, which matches none of the 1 GPU(s) the server can see: 0 = ' + ADA_1),
])
def test_select_gpus_refuses_an_id_that_matches_no_gpu(reserved, visible, message):
    with pytest.raises(VramError) as error:
        select_gpus(parse_nvidia_smi(SMI_2X48GB), reserved, visible)
    assert str(error.value).startswith(message)


@pytest.mark.parametrize('reserved, visible, variable', [
    (['0:1'], None, 'ollama_compose_gpu_devices'),
    ('all', 'MIG-4e1b9c2a-5d3f-5a6b-8c7d-9e0f1a2b3c4d', 'CUDA_VISIBLE_DEVICES'),
])
def test_select_gpus_sizes_whole_gpus_for_mig_instances(reserved, visible, variable):
    # nvidia-smi --query-gpu lists whole GPUs: a MIG instance is not refused, its GPUs are sized whole.
    gpus = parse_nvidia_smi(SMI_2X48GB)
    used, notes = select_gpus(gpus, reserved, visible)
    assert used == gpus
    assert len(notes) == 1 and notes[0].startswith(variable + ' names MIG instances')


def test_select_gpus_without_gpu_checks_nothing():
    # A compose host without an NVIDIA runtime may still reserve GPUs by id: nothing to size, nothing to refuse.
    assert select_gpus([], ['0', 'GPU-8f6c2b1e-0a4d-4f7e-9c1b-3a5d6e7f8a9b'], '3') == ([], [])


def test_plan_sizes_only_the_gpus_left_to_the_server():
    used, left_out = select_gpus(parse_nvidia_smi(SMI_2X48GB), ['1'])
    result = plan(used, LLAMA70, context_length=32768, left_out=left_out)
    assert (result['gpu_count'], result['vram_total_bytes']) == (1, 49140 * MIB)
    # One card instead of two (4 requests, f16): the 70B keeps 32768 tokens only with a q4_0 cache and one request.
    assert result['settings'] == settings(1, 1, 32768, 'q4_0')
    assert result['reasons'][0] == ADA_0 + ' left out: the container reserves only 1 (ollama_compose_gpu_devices)'
    assert result['models'][0]['cuda_bytes'] == 457 * MIB
    used, left_out = select_gpus(parse_nvidia_smi(SMI_2X48GB), 'all', '-1')
    nothing = plan(used, LLAMA70, left_out=left_out)
    assert nothing['settings'] == {}
    assert nothing['reasons'][-1] == 'no GPU left to the server: Ollama runs on the CPU, settings left to ollama_settings'


def test_kv_types_are_the_ones_ollama_accepts():
    assert sorted(KV_BYTES) == ['f16', 'q4_0', 'q8_0']


def plan_from_show(smi, names, **options):
    """The plan for a server that has the models: sized from its /api/show answers and /api/tags sizes, as the
    vram_plan filter does with the role's registered results (module_utils tests cannot import controller code)."""
    shown = dict((canonical_name(name), metadata_from_show(RECORDED[name][0], RECORDED[name][1]['size'])) for name in names)
    return plan(parse_nvidia_smi(smi), [{'name': name} for name in names], shown=shown, **options)


@pytest.mark.parametrize('smi, names, context, expected, together', [
    # GQA chat model and encoder on 24 GB: both loaded at once, f16 cache, four requests each.
    (SMI_24GB, ['llama3.1:8b', 'nomic-embed-text'], 8192, settings(4, 2, 8192, 'f16'), '10.0 GiB'),
    (SMI_80GB, ['llama3.3:70b', 'llama3.1:8b', 'nomic-embed-text'], 8192, settings(4, 3, 8192, 'f16'), '60.4 GiB'),
    # 32768 tokens: the cache is quantized before parallelism is given up.
    (SMI_80GB, ['llama3.3:70b', 'llama3.1:8b', 'nomic-embed-text'], 32768, settings(2, 3, 32768, 'q8_0'), '61.2 GiB'),
    (SMI_2X48GB, ['llama3.3:70b'], 32768, settings(4, 1, 32768, 'f16'), '80.8 GiB'),
    (SMI_2X48GB, ['llama3.3:70b', 'llama3.1:8b', 'nomic-embed-text'], 32768, settings(4, 3, 32768, 'q8_0'),
     '77.4 GiB'),
])
def test_plan_from_recorded_show_answers(smi, names, context, expected, together):
    result = plan_from_show(smi, names, context_length=context)
    assert result['fits'] is True
    assert result['settings'] == expected
    assert gib(result['estimate_bytes']) == together
    assert [m['metadata_from'] for m in result['models']] == ['/api/show'] * len(names)


def test_plan_from_recorded_show_answers_sizes_the_models_by_their_shape():
    by_name = dict((m['name'], m) for m in plan_from_show(SMI_80GB, list(RECORDED))['models'])
    # 80 layers x 8 KV heads x 128 (8192 / 64) x K and V x 2 bytes; the encoder keeps no cache.
    assert by_name['llama3.3:70b']['kv_bytes_per_token'] == {'f16': 320 * 1024, 'q8_0': 170 * 1024, 'q4_0': 90 * 1024}
    assert by_name['llama3.3:70b']['weights_bytes'] == 42520397704
    assert by_name['llama3.1:8b']['kv_bytes_per_token']['f16'] == 128 * 1024
    assert by_name['nomic-embed-text']['kv_bytes_per_token']['f16'] == 0
    assert by_name['nomic-embed-text']['context'] == 2048


def test_plan_from_recorded_show_answers_refuses_the_70b_on_24gb():
    result = plan_from_show(SMI_24GB, ['llama3.3:70b', 'llama3.1:8b', 'nomic-embed-text'])
    assert result['fits'] is False
    assert result['settings'] == {}
    assert result['error'] == (
        'llama3.3:70b cannot fit in GPU memory even at context 2048, KV cache q4_0, 1 request(s) at a time: '
        'llama3.3:70b needs 40.5 GiB, but 1 GPU(s) have 24.0 GiB (21.6 GiB with 10% headroom); '
        'fits: llama3.1:8b, nomic-embed-text')


def test_plan_from_recorded_show_answers_without_gpu():
    result = plan_from_show(SMI_NO_GPU, list(RECORDED))
    assert (result['fits'], result['settings'], result['models']) == (True, {}, [])
    assert result['reasons'] == ['no NVIDIA GPU found: Ollama runs on the CPU, settings left to ollama_settings']


def worked_examples():
    """The rows of the worked examples table in docs/vram-sizing.md, each as its cells."""
    with open(DOC, encoding='utf-8') as handle:
        section = handle.read().split('\n## Worked examples\n', 1)[1].split('\n## ', 1)[0]
    lines = [line for line in section.splitlines() if line.startswith('|')]
    return [[cell.strip() for cell in line.strip('|').split(' | ')] for line in lines[2:]]


def as_documented(result):
    """The Plan and Estimate cells of a worked example, as the doc writes them for this plan."""
    if not result['fits']:
        context, kv, parallel, needs = re.search(
            r'even at context ([0-9]+), KV cache (\w+), ([0-9]+) request\(s\) at a time: \S+ needs ([0-9.]+ GiB)',
            result['error']).groups()
        return 'refused: needs %s even at %s / %s / %s' % (needs, context, kv, parallel), '-'
    return (' '.join('%s=%s' % (name.replace('OLLAMA_', ''), str(value).lower())
                     for name, value in result['settings'].items()),
            '%s of %.1f' % (gib(result['estimate_bytes']), result['vram_usable_bytes'] / float(GIB)))


def test_worked_examples_in_the_doc_match_the_plan():
    rows = worked_examples()
    assert len(rows) >= 7
    wrong = []
    for row in rows:
        memory, models, planned, together = row
        # "(24564)" or "(2 x 49140)": the cards' memory.total; flash attention capable like all the examples.
        cards = re.search(r'\((?:([0-9]+) x )?([0-9]+)\)', memory)
        assert cards, 'no "(MiB)" or "(N x MiB)" in the row: %s' % ' | '.join(row)
        count, mib = cards.groups()
        context = re.search(r'ollama_vram_context_length: ([0-9]+)', memory)
        result = plan(parse_nvidia_smi(SMI_80GB.replace('81920', mib) * int(count or 1)),
                      [{'name': name} for name in models.split(', ')],
                      context_length=int(context.group(1)) if context else 8192)
        computed = as_documented(result)
        # A remark in parentheses may follow the settings.
        if computed != (planned.split(' (', 1)[0], together):
            wrong.append('%s\n  computed: %s | %s' % (' | '.join(row), computed[0], computed[1]))
    assert not wrong, 'docs/vram-sizing.md worked examples differ from the plan:\n' + '\n'.join(wrong)

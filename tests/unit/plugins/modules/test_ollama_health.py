# Copyright (c) 2025, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import threading
import time

import pytest

from ansible_collections.llmops.ollama.plugins.modules import ollama_health


@pytest.fixture
def health(run_module):
    def run(url, check=False, **args):
        return run_module(ollama_health, dict(args, url=url), check=check)
    return run


def assert_failed(result, *fragments):
    assert result.get('failed') is True, result
    assert result.get('changed') is not True
    assert '\n' not in result['msg'], result['msg']
    for fragment in fragments:
        assert fragment in result['msg'], result['msg']


def test_healthy_server(health, ollama):
    for check in (False, True):
        result = health(ollama, check=check)
        assert result['changed'] is False and result['reachable'] is True
        assert result['attempts'] == 1 and result['version'] == '0.32.15'
        assert result['models'] == [] and result['missing_models'] == []
        assert 'generation' not in result and 'gpu' not in result


@pytest.mark.parametrize('args', [{'version': '0.32.15'}, {'version_constraint': '>=0.12'}, {'version_constraint': '>=0.30,<0.33'}])
def test_version_ok(health, ollama, args):
    assert health(ollama, **args)['changed'] is False


@pytest.mark.parametrize('args, fragments', [
    ({'version': '0.12.3'}, ['runs version 0.32.15, expected 0.12.3', 'journalctl -u ollama']),
    ({'version_constraint': '<0.30'}, ['runs version 0.32.15, which does not meet version_constraint <0.30']),
])
def test_version_mismatch(health, ollama, args, fragments):
    assert_failed(health(ollama, **args), *fragments)


def test_bad_constraint_fails_before_waiting(health, closed_port):
    result = health(closed_port, version_constraint='latest please')
    assert_failed(result, 'invalid version constraint')
    assert result['attempts'] == 0


def test_expected_models(health, ollama):
    ollama.pull('smollm2:135m')
    assert health(ollama, models=['SmolLM2:135m', 'registry.ollama.ai/library/smollm2:135m'])['missing_models'] == []
    result = health(ollama, models=['smollm2:135m', 'qwen2.5:0.5b', 'all-minilm'])
    assert_failed(result, 'models missing on %s: qwen2.5:0.5b, all-minilm (installed: smollm2:135m)' % ollama, 'ollama_model')
    assert result['missing_models'] == ['qwen2.5:0.5b', 'all-minilm']


def test_invalid_model_name(health, closed_port):
    assert_failed(health(closed_port, models=['bad name']), "invalid model name 'bad name'")


def test_generation_on_gpu(health, start_ollama):
    ollama = start_ollama(env={'OLLAMA_DOUBLE_PROCESSOR': 'gpu', 'OLLAMA_DOUBLE_TOKENS_PER_SECOND': '400'})
    ollama.pull('smollm2:135m')
    result = health(ollama, model='SmolLM2:135m', require_gpu=True, min_tokens_per_second=100, num_predict=8, keep_alive='10m')
    assert result['changed'] is False, result.get('msg')
    generation = result['generation']
    assert generation['model'] == 'smollm2:135m' and generation['eval_count'] == 8
    assert generation['tokens_per_second'] == round(generation['eval_count'] * 1e9 / generation['eval_duration'], 2)
    assert 300 < generation['tokens_per_second'] < 500
    assert result['gpu']['processor'] == '100% GPU' and result['gpu']['percent'] == 100
    assert result['gpu']['size_vram'] == result['gpu']['size'] > 0


def test_silent_cpu_fallback_is_caught(health, start_ollama):
    ollama = start_ollama(env={'OLLAMA_DOUBLE_PROCESSOR': 'cpu'})
    ollama.pull('smollm2:135m')
    result = health(ollama, model='smollm2:135m', require_gpu=True)
    assert_failed(result, 'smollm2:135m runs on the CPU', 'size_vram 0 of', 'nvidia-smi', 'journalctl -u ollama', 'docker logs')
    assert result['gpu']['processor'] == '100% CPU'
    # Without require_gpu the same server is healthy.
    assert health(ollama, model='smollm2:135m')['changed'] is False


def test_partial_offload(health, start_ollama):
    ollama = start_ollama(env={'OLLAMA_DOUBLE_PROCESSOR': '48'})
    ollama.pull('smollm2:135m')
    result = health(ollama, model='smollm2:135m', require_gpu=True)
    assert_failed(result, 'only partly in GPU memory', '52%/48% CPU/GPU', 'nvidia-smi')


def test_too_slow(health, start_ollama):
    ollama = start_ollama(env={'OLLAMA_DOUBLE_TOKENS_PER_SECOND': '50'})
    ollama.pull('smollm2:135m')
    result = health(ollama, model='smollm2:135m', min_tokens_per_second=1000, num_predict=4)
    assert_failed(result, 'generated', 'tokens/s', 'below min_tokens_per_second 1000', 'nvidia-smi')
    assert result['generation']['tokens_per_second'] < 1000


def test_model_not_installed(health, ollama):
    assert_failed(health(ollama, model='qwen2.5:0.5b'), 'model qwen2.5:0.5b is not installed', 'ollama_model')


def test_embedding_model_cannot_generate(health, ollama):
    ollama.pull('all-minilm')
    assert_failed(health(ollama, model='all-minilm'), 'generation with all-minilm:latest failed', 'does not support generate')


def test_unloaded_right_away_with_require_gpu(health, start_ollama):
    ollama = start_ollama(env={'OLLAMA_DOUBLE_PROCESSOR': 'gpu'})
    ollama.pull('smollm2:135m')
    assert_failed(health(ollama, model='smollm2:135m', require_gpu=True, keep_alive='0'), 'is not loaded', 'keep_alive')


def test_gives_up_after_retries(health, closed_port):
    started = time.time()
    result = health(closed_port, retries=3, delay=0.1, timeout=1)
    assert_failed(result, 'Ollama did not answer at %s after 3 attempts' % closed_port, 'cannot reach Ollama', 'journalctl -u ollama')
    assert result['attempts'] == 3 and result['reachable'] is False
    assert time.time() - started < 5


def test_wait_timeout_bounds_the_wait(health, closed_port):
    result = health(closed_port, retries=1000, delay=0.2, wait_timeout=1)
    assert_failed(result, 'did not answer')
    assert 3 <= result['attempts'] <= 6


def test_waits_for_a_server_that_starts_late(health, stub, answers):
    stub.routes[('GET', '/api/version')] = answers.json(503, {'error': 'starting'})

    def start():
        time.sleep(0.5)
        stub.routes[('GET', '/api/version')] = answers.json(200, {'version': '0.12.3'})
        stub.routes[('GET', '/api/tags')] = answers.json(200, {'models': []})
    threading.Thread(target=start).start()
    result = health(stub, retries=50, delay=0.1)
    assert result['changed'] is False and result['version'] == '0.12.3'
    assert result['attempts'] > 1


def test_wrong_credentials_are_not_retried(health, stub, answers):
    stub.routes[('*', '*')] = answers.json(401, {'error': 'unauthorized'})
    result = health(stub, retries=10, delay=1, url_username='admin', url_password='not-the-password')
    assert_failed(result, '401 Unauthorized')
    assert result['attempts'] == 1


@pytest.mark.parametrize('args, fragment', [
    ({'require_gpu': True}, 'require_gpu is True but all of the following are missing: model'),
    ({'min_tokens_per_second': 5}, "missing parameter(s) required by 'min_tokens_per_second': model"),
    ({'version': '1', 'version_constraint': '>1'}, 'mutually exclusive'),
])
def test_argument_spec(health, closed_port, args, fragment):
    assert_failed(health(closed_port, **args), fragment)


def test_processor_column():
    assert ollama_health.processor(100, 0) == '100% CPU'
    assert ollama_health.processor(100, 100) == '100% GPU'
    assert ollama_health.processor(100, 48) == '52%/48% CPU/GPU'

# Copyright (c) 2025, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from ansible_collections.llmops.ollama.plugins.modules import ollama_info


def test_empty_server(run_module, ollama):
    result = run_module(ollama_info, {'url': ollama})
    assert result == {'changed': False, 'reachable': True, 'url': ollama, 'version': '0.32.15', 'models': [], 'running': []}


def test_models_and_running_models(run_module, start_ollama):
    ollama = start_ollama(env={'OLLAMA_DOUBLE_PROCESSOR': 'gpu'})
    ollama.pull('smollm2:135m')
    ollama.pull('all-minilm')
    ollama.load('smollm2:135m')
    for check in (False, True):
        result = run_module(ollama_info, {'url': ollama}, check=check)
        assert result['changed'] is False and result['reachable'] is True
        assert sorted(m['name'] for m in result['models']) == ['all-minilm:latest', 'smollm2:135m']
        for model in result['models']:
            assert set(model) == {'name', 'digest', 'size', 'modified_at', 'details'}
            assert len(model['digest']) == 64 and model['size'] > 0
        [running] = result['running']
        assert running['name'] == 'smollm2:135m'
        assert running['size_vram'] == running['size'] > 0
        assert running['expires_at'] and running['context_length'] > 0
    assert ollama.names() == ['all-minilm:latest', 'smollm2:135m']


def test_unreachable_is_not_a_failure(run_module, closed_port):
    result = run_module(ollama_info, {'url': closed_port, 'timeout': 2})
    assert result['failed'] is False if 'failed' in result else True
    assert result['reachable'] is False and result['changed'] is False
    assert result['error'].startswith('cannot reach Ollama at %s' % closed_port)
    assert 'version' not in result and 'models' not in result


def test_wrong_credentials_fail(run_module, stub, answers):
    stub.routes[('*', '*')] = answers.text(401, '<html>401 Authorization Required</html>')
    result = run_module(ollama_info, {'url': stub, 'api_token': 'not-the-token'})
    assert result['failed'] is True and result['reachable'] is True
    assert 'answered 401 Unauthorized' in result['msg'] and '\n' not in result['msg']
    assert stub.seen[0]['headers']['Authorization'] == 'Bearer not-the-token'


def test_not_an_ollama_api(run_module, stub):
    result = run_module(ollama_info, {'url': stub})
    assert result['failed'] is True
    assert 'does not point at an Ollama API' in result['msg']

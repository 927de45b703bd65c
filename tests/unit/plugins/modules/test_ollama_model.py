# Copyright (c) 2025, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ollama_model run for real against the Ollama double; every changing case four ways (check, apply, apply, check)."""

import json

import pytest

from ansible_collections.llmops.ollama.plugins.modules import ollama_model

SMOL = 'registry.ollama.ai/library/smollm2/135m'


@pytest.fixture
def model(run_module, ollama):
    """model(check=False, diff=False, **args): run ollama_model against the test's double."""
    def run(check=False, diff=False, **args):
        return run_module(ollama_model, dict(args, url=ollama), check=check, diff=diff)
    return run


def four_ways(run, **args):
    """check, apply, apply again, check again: changed must read True, True, False, False."""
    results = [run(check=True, diff=True, **args), run(diff=True, **args), run(diff=True, **args), run(check=True, diff=True, **args)]
    for result in results:
        assert not result.failed, result['msg']
    assert [r['changed'] for r in results] == [True, True, False, False], [r.get('msg') for r in results]
    return results


def test_present_four_ways(model, ollama):
    check, apply, again, check_again = four_ways(model, name='smollm2:135m')
    assert check['actions'] == ['pull smollm2:135m']
    assert check['diff'] == {'before': {'state': 'absent'}, 'after': {'state': 'present', 'digest': '(changes when applied)'}}
    assert 'digest' not in check
    assert apply['msg'] == 'pulled smollm2:135m'
    assert apply['actions'] == ['pull smollm2:135m']
    assert apply['name'] == 'smollm2:135m'
    assert apply['digest'] == ollama.digest('smollm2:135m') and len(apply['digest']) == 64
    assert apply['size'] == ollama.tags()[0]['size']
    assert apply['details']['family'] == 'llama'
    assert apply['modified_at']
    assert apply['diff'] == {'before': {'state': 'absent'}, 'after': {'state': 'present', 'digest': apply['digest'], 'size': apply['size']}}
    pull = apply['pull']
    assert pull['statuses'][0] == 'pulling manifest' and pull['statuses'][-1] == 'success'
    assert pull['layers'] >= 2 and pull['total_bytes'] == pull['completed_bytes'] > 0
    assert again['msg'] == 'smollm2:135m is installed' and again['actions'] == [] and 'pull' not in again
    assert again['digest'] == apply['digest']
    assert check_again['diff']['before'] == check_again['diff']['after']
    assert ollama.manifests() == [SMOL]


def test_name_normalisation_and_case(model, ollama):
    model(name='smollm2:135m')
    for spelling in ('SmolLM2:135M', 'library/smollm2:135m', 'registry.ollama.ai/library/smollm2:135m'):
        result = model(name=spelling)
        assert (result['changed'], result['name']) == (False, 'smollm2:135m')


def test_absent_four_ways(model, ollama):
    ollama.pull('smollm2:135m')
    ollama.pull('qwen2.5:0.5b')
    check, apply, again, check_again = four_ways(model, name='SMOLLM2:135m', state='absent')
    assert check['actions'] == ['delete smollm2:135m']
    assert check['msg'] == 'would remove smollm2:135m'
    assert check['diff']['after'] == {'state': 'absent'}
    assert apply['msg'] == 'removed smollm2:135m'
    assert apply['diff']['before']['state'] == 'present' and apply['diff']['after'] == {'state': 'absent'}
    assert again['msg'] == 'SMOLLM2:135m is not installed'
    assert ollama.names() == ['qwen2.5:0.5b']
    assert ollama.manifests() == ['registry.ollama.ai/library/qwen2.5/0.5b']


def test_latest_picks_up_a_new_revision(model, ollama, registry):
    first = model(name='smollm2', state='latest')
    assert first['changed'] and first['name'] == 'smollm2:latest'
    unchanged = model(name='smollm2', state='latest')
    assert unchanged['changed'] is False and unchanged['msg'] == 'smollm2:latest is up to date'
    assert unchanged['actions'] == [] and unchanged['pull']['statuses'][-1] == 'success'

    registry.configure(revision=2)
    check = model(check=True, name='smollm2', state='latest')
    assert check['changed'] is False and 'check mode cannot tell' in check['msg']
    apply = model(diff=True, name='smollm2', state='latest')
    assert apply['changed'] is True and apply['digest'] != first['digest']
    assert apply['diff']['before']['digest'] == first['digest'] and apply['diff']['after']['digest'] == apply['digest']
    again = model(name='smollm2', state='latest')
    assert again['changed'] is False and again['digest'] == apply['digest']
    assert model(check=True, name='smollm2', state='latest')['changed'] is False
    assert ollama.digest('smollm2:latest') == apply['digest']


def test_latest_on_a_missing_model_four_ways(model, ollama):
    four_ways(model, name='qwen2.5:0.5b', state='latest')
    assert ollama.names() == ['qwen2.5:0.5b']


def test_source_alias_four_ways(model, ollama, registry):
    source = '%s/library/smollm2:135m' % registry.hostport
    check, apply, again, check_again = four_ways(model, name='smollm2', source=source, insecure=True)
    assert check['actions'] == ['pull %s' % source, 'copy %s to smollm2:latest' % source, 'delete %s' % source]
    assert apply['actions'] == check['actions']
    assert apply['name'] == 'smollm2:latest' and apply['msg'] == 'pulled smollm2:latest from %s' % source
    # Listed once, under its usual name; the blobs stay with it.
    assert ollama.names() == ['smollm2:latest']
    assert ollama.manifests() == ['registry.ollama.ai/library/smollm2/latest']
    assert apply['digest'] == registry.manifest_digest('library/smollm2', '135m')
    assert again['msg'] == 'smollm2:latest is installed' and check_again['actions'] == []


def test_source_already_pulled_is_only_copied_and_kept(model, ollama, registry):
    source = '%s/library/qwen2.5:0.5b' % registry.hostport
    model(name=source, insecure=True)
    result = model(name='qwen', source=source, insecure=True)
    assert result['actions'] == ['copy %s to qwen:latest' % source]
    # Installed before the task: not this task's to remove.
    assert ollama.names() == [source, 'qwen:latest']


def test_source_latest_compares_with_the_registry_manifest(model, ollama, registry):
    source = '%s/library/smollm2:latest' % registry.hostport
    first = model(name='smol', source=source, insecure=True, state='latest')
    assert first['changed'] and ollama.names() == ['smol:latest']
    registry.clear_requests()
    for check in (True, False):
        unchanged = model(name='smol', source=source, insecure=True, state='latest', check=check)
        assert unchanged['changed'] is False and unchanged['actions'] == []
        assert unchanged['msg'] == 'smol:latest is up to date with %s' % source
    # Only the manifest was read: no blob crossed the network, no pull ran.
    assert [(r['method'], r['path']) for r in registry.requests()] == [('GET', '/v2/library/smollm2/manifests/latest')] * 2
    registry.configure(revision=2)
    would = model(name='smol', source=source, insecure=True, state='latest', check=True)
    assert would['changed'] and would['actions'] == ['pull %s' % source, 'copy %s to smol:latest' % source, 'delete %s' % source]
    updated = model(name='smol', source=source, insecure=True, state='latest')
    assert updated['changed'] and updated['digest'] != first['digest']
    assert updated['actions'] == would['actions']
    assert ollama.names() == ['smol:latest'] and ollama.digest('smol:latest') == updated['digest']
    assert updated['digest'] == registry.manifest_digest('library/smollm2', 'latest')


def test_source_latest_pulls_when_the_manifest_cannot_be_read(model, ollama, registry, monkeypatch):
    source = '%s/library/smollm2:135m' % registry.hostport
    model(name='smol', source=source, insecure=True)
    monkeypatch.setattr(ollama_model.OllamaModel, 'source_digest', lambda self, source: None)
    again = model(name='smol', source=source, insecure=True, state='latest')
    assert again['changed'] is False and again['msg'] == 'smol:latest is up to date'
    assert ollama.names() == ['smol:latest']


def test_corrupt_blob_from_the_source_names_model_and_digest(model, ollama, registry):
    source = '%s/library/smollm2:135m' % registry.hostport
    registry.configure(corrupt=True)
    result = model(name='smol', source=source, insecure=True)
    assert result.failed
    assert result['msg'].startswith('registry %s served a corrupt blob for %s (digest mismatch, file must be downloaded '
                                    'again: want sha256:' % (registry.hostport, source))
    assert ollama.names() == [] and ollama.manifests() == []


CUSTOM = {
    'name': 'support-bot',
    'from': 'smollm2:135m',
    'system': 'You answer briefly.',
    'parameters': {'temperature': 0.2, 'num_ctx': 2048, 'stop': ['<|im_end|>', '</s>']},
    'messages': [{'role': 'user', 'content': 'Who are you?'}, {'role': 'assistant', 'content': 'The support bot.'}],
    'license': ['Internal use only'],
}


def test_custom_model_four_ways(model, ollama):
    ollama.pull('smollm2:135m')
    check, apply, again, check_again = four_ways(model, **CUSTOM)
    assert check['actions'] == ['create support-bot:latest'] and check['differences'] == ['model']
    assert apply['msg'] == 'created support-bot:latest (model)'
    assert apply['pull']['statuses'][-1] == 'success'
    assert again['differences'] == [] and again['msg'] == 'support-bot:latest is up to date'
    assert ollama.names() == ['smollm2:135m', 'support-bot:latest']
    show = json.loads(_show(ollama, 'support-bot'))
    assert show['system'] == 'You answer briefly.'
    assert 'temperature' in show['parameters'] and '"</s>"' in show['parameters']
    assert show['messages'] == CUSTOM['messages']


def _show(ollama, name):
    import urllib.request
    request = urllib.request.Request(ollama + '/api/show', data=json.dumps({'model': name}).encode(), method='POST')
    with urllib.request.urlopen(request) as response:
        return response.read()


@pytest.mark.parametrize('change, difference', [
    ({'system': 'Something else.'}, 'system'),
    ({'parameters': {'temperature': 0.3, 'num_ctx': 2048, 'stop': ['<|im_end|>', '</s>']}}, 'parameters'),
    ({'parameters': {'temperature': 0.2, 'num_ctx': 2048, 'stop': ['</s>', '<|im_end|>']}}, 'parameters'),
    ({'parameters': {'temperature': 0.2, 'num_ctx': 2048}}, 'parameters'),  # stop falls back to the base's
    ({'messages': [{'role': 'user', 'content': 'Hi'}]}, 'messages'),
    ({'license': ['Other']}, 'license'),
    ({'template': '{{ .Prompt }}'}, 'template'),
    ({'from': 'qwen2.5:0.5b'}, 'weights'),
])
def test_custom_model_changes_four_ways(model, ollama, change, difference):
    ollama.pull('smollm2:135m')
    ollama.pull(change.get('from', 'smollm2:135m'))
    model(**CUSTOM)
    check, apply, again, check_again = four_ways(model, **dict(CUSTOM, **change))
    assert difference in check['differences'] and difference in apply['differences']
    assert difference in check['diff']['before'] and difference in check['diff']['after']
    assert again['differences'] == []


def test_dropping_an_option_falls_back_to_the_base(model, ollama):
    ollama.pull('smollm2:135m')
    model(**CUSTOM)
    plain = dict(name='support-bot')
    plain['from'] = 'smollm2:135m'
    result = model(**plain)
    assert result['changed'] and set(result['differences']) >= {'system', 'parameters', 'messages'}
    assert model(**plain)['changed'] is False


def test_custom_model_pulls_a_missing_base(model, ollama):
    check, apply, again, check_again = four_ways(model, **CUSTOM)
    assert check['actions'] == ['pull smollm2:135m', 'create support-bot:latest']
    assert apply['actions'] == check['actions']
    assert ollama.names() == ['smollm2:135m', 'support-bot:latest']


def test_custom_latest_refreshes_the_base(model, ollama, registry):
    # Revision 2 of the base only adds a temperature parameter: it must reach the derived model.
    args = dict(CUSTOM, state='latest', parameters={'num_ctx': 2048})
    args['from'] = 'smollm2:latest'
    first = model(**args)
    assert first['actions'] == ['pull smollm2:latest', 'create support-bot:latest']
    assert model(**args)['changed'] is False
    registry.configure(revision=2)
    assert model(check=True, **args)['changed'] is False
    updated = model(**args)
    assert updated['actions'] == ['pull smollm2:latest', 'create support-bot:latest']
    assert updated['differences'] == ['parameters']  # revision 2 adds a temperature to the base's parameters
    assert model(**args)['changed'] is False
    assert model(check=True, **args)['changed'] is False


MODELFILE = '''# the reviewer
FROM smollm2:135m
PARAMETER temperature 0.1
PARAMETER stop "<|im_end|>"
PARAMETER stop "<|im_start|>"
SYSTEM """You review code.
Be kind."""
MESSAGE user Review this.
MESSAGE assistant Looks good.
'''


def test_modelfile_content_four_ways(model, ollama):
    results = four_ways(model, name='reviewer:v2', modelfile_content=MODELFILE)
    assert results[1]['actions'] == ['pull smollm2:135m', 'create reviewer:v2']
    assert ollama.names() == ['reviewer:v2', 'smollm2:135m']


def test_modelfile_path_with_a_local_gguf_four_ways(model, ollama, tmp_path):
    from ollama_double import gguf
    weights = gguf.encode({'general.architecture': 'llama', 'general.parameter_count': 1000, 'general.file_type': 1,
                           'llama.context_length': 256, 'llama.embedding_length': 16, 'llama.block_count': 1}, b'\1' * 512)
    (tmp_path / 'weights.gguf').write_bytes(weights)
    (tmp_path / 'Modelfile').write_text('FROM ./weights.gguf\nSYSTEM local\nPARAMETER num_ctx 256\n')
    check, apply, again, check_again = four_ways(model, name='my-finetune', modelfile=str(tmp_path / 'Modelfile'))
    assert apply['actions'] == ['create my-finetune:latest']
    assert ollama.names() == ['my-finetune:latest']
    (tmp_path / 'Modelfile').write_text('FROM ./weights.gguf\nSYSTEM changed\nPARAMETER num_ctx 256\n')
    assert model(name='my-finetune', modelfile=str(tmp_path / 'Modelfile'))['differences'] == ['system']
    (tmp_path / 'weights.gguf').write_bytes(weights + b'\0')
    assert model(name='my-finetune', modelfile=str(tmp_path / 'Modelfile'))['differences'] == ['weights']


def test_progress_file(model, ollama, tmp_path):
    log = tmp_path / 'pull.log'
    model(name='smollm2:135m', progress_file=str(log))
    lines = log.read_text().splitlines()
    assert lines[0].endswith(' smollm2:135m pulling from registry.ollama.ai')
    assert any(' smollm2:135m pulling manifest' in line for line in lines)
    assert any('%)' in line for line in lines), lines
    assert lines[-2].endswith('success') and ' done in ' in lines[-1]
    model(name='smollm2:135m', progress_file=str(log))
    assert len(log.read_text().splitlines()) == len(lines), 'nothing pulled, nothing logged'


def test_check_mode_writes_no_progress_file(model, ollama, tmp_path):
    model(check=True, name='smollm2:135m', progress_file=str(tmp_path / 'pull.log'))
    assert not (tmp_path / 'pull.log').exists()


# -- failures: one clear line, and nothing half done on disk ------------------------------------------------------------

def assert_failed(result, *fragments):
    assert result.failed, result
    assert '\n' not in result['msg'], result['msg']
    for fragment in fragments:
        assert fragment in result['msg'], result['msg']


@pytest.mark.parametrize('args, fragments', [
    ({'name': 'llama3.2:'}, ["name: invalid model name 'llama3.2:': the tag part is empty", 'for example llama3.2:3b']),
    ({'name': 'bad name'}, ["model 'bad name' must start with"]),
    ({'name': 'm', 'source': 'na.me/m'}, ["source: invalid model name 'na.me/m'"]),
    ({'name': 'http://mirror:5000/library/m'}, ['uses plain http: set insecure=true']),
    ({'name': 'm', 'modelfile_content': 'FROM m\nBOGUS x\n'}, ['invalid modelfile_content: (line 2): command must be one of']),
    ({'name': 'm', 'modelfile_content': 'SYSTEM hi\n'}, ['invalid modelfile_content: no FROM line']),
    ({'name': 'm', 'modelfile_content': 'FROM m\nPARAMETER temprature 1\n'}, ["unknown parameter 'temprature'"]),
    ({'name': 'm', 'modelfile_content': 'FROM bad name!\n'}, ["FROM 'bad name!' is neither a file on the managed host nor a valid"]),
    ({'name': 'm', 'from': 'smollm2', 'parameters': {'num_ctx': 'big'}}, ['invalid model definition: invalid int value [big]']),
    ({'name': 'm', 'from': 'smollm2', 'parameters': {'system': 'x'}}, ["unknown parameter 'system'"]),
    ({'name': 'm', 'from': 'smollm2', 'adapters': ['/nonexistent/lora.gguf']}, ['ADAPTER /nonexistent/lora.gguf: no such file']),
    ({'name': 'm', 'modelfile': '/nonexistent/Modelfile'}, ['cannot read modelfile /nonexistent/Modelfile']),
])
def test_validation_happens_before_any_call(run_module, closed_port, args, fragments):
    # The URL is closed: these must fail on validation, before the module talks to any server.
    assert_failed(run_module(ollama_model, dict(args, url=closed_port)), *fragments)


@pytest.mark.parametrize('args, fragments', [
    ({'name': 'm', 'system': 'x'}, ['missing parameter(s) required by \'system\': from']),
    ({'name': 'm', 'modelfile_content': 'FROM x', 'source': 'y'}, ['mutually exclusive']),
    ({'name': 'm', 'modelfile_content': 'FROM x', 'system': 'y'}, ['mutually exclusive']),
    ({'name': 'm', 'url_username': 'u'}, ['url_username', 'url_password']),
    ({'name': 'm', 'url_username': 'admin', 'url_password': 'secret-password', 'api_token': 'secret-token'}, ['mutually exclusive']),
    ({'name': 'm', 'state': 'gone'}, ['value of state must be one of']),
])
def test_argument_spec(run_module, closed_port, args, fragments):
    assert_failed(run_module(ollama_model, dict(args, url=closed_port)), *fragments)


def test_model_missing_upstream(model, ollama):
    ollama.pull('qwen2.5:0.5b')
    before = ollama.tags()
    result = model(name='smollm2:no-such-tag')
    assert_failed(result, 'model smollm2:no-such-tag was not found on registry registry.ollama.ai',
                  'pull model manifest: file does not exist', 'check the name and tag')
    assert result['changed'] is False and result['actions'] == []
    assert ollama.tags() == before
    assert ollama.manifests() == ['registry.ollama.ai/library/qwen2.5/0.5b']


def test_unreachable_registry(model, ollama, closed_port):
    registry = closed_port.split('//')[1]
    result = model(name='%s/library/smollm2:135m' % registry, insecure=True)
    assert_failed(result, 'the Ollama server cannot reach registry %s' % registry,
                  'dial tcp %s: connect: connection refused' % registry, 'HTTPS_PROXY')
    assert result['changed'] is False
    assert ollama.manifests() == []


def test_custom_model_with_a_missing_base_changes_nothing(model, ollama):
    args = dict(CUSTOM)
    args['from'] = 'smollm2:no-such-tag'
    assert_failed(model(**args), 'model smollm2:no-such-tag was not found')
    assert ollama.manifests() == []


def test_unreachable_server(run_module, closed_port):
    result = run_module(ollama_model, dict(name='smollm2', url=closed_port, timeout=2))
    assert_failed(result, 'cannot reach Ollama at %s' % closed_port, 'systemctl status ollama', 'journalctl -u ollama')


@pytest.mark.parametrize('status, fragments', [
    (401, ['answered 401 Unauthorized', 'url_username/url_password or api_token']),
    (403, ['answered 403 Forbidden']),
    (503, ['is busy (503', 'retry later']),
])
def test_http_failures(run_module, stub, answers, status, fragments):
    stub.routes[('*', '*')] = answers.json(status, {'error': 'server busy, please try again.  maximum pending requests exceeded'})
    result = run_module(ollama_model, dict(name='smollm2', url=stub, url_username='admin', url_password='wrong'))
    assert_failed(result, *fragments)
    assert 'wrong' not in json.dumps(result), 'the password must never be shown'
    assert [s['path'] for s in stub.seen] == ['/api/tags'], 'nothing may be attempted after the first failure'


def test_pull_timeout_leaves_no_model(model, ollama, registry, tmp_path):
    registry.configure(rate=20000)
    log = tmp_path / 'pull.log'
    result = model(name='qwen2.5:0.5b', pull_timeout=1, progress_file=str(log))
    assert_failed(result, 'pulling qwen2.5:0.5b did not finish within pull_timeout=1s', 'resumes it on the next pull')
    assert ollama.manifests() == []
    assert log.read_text().splitlines()[-1].endswith('timed out')
    registry.configure(rate=0)
    assert model(name='qwen2.5:0.5b')['changed'] is True


def test_corrupt_download_leaves_no_model(model, ollama, registry):
    registry.configure(corrupt=True)
    assert_failed(model(name='qwen2.5:0.5b'), 'served a corrupt blob for qwen2.5:0.5b (digest mismatch')
    assert ollama.manifests() == []


def test_create_error_from_the_server(model, ollama, tmp_path):
    (tmp_path / 'weights.bin').write_bytes(b'not a gguf file')
    result = model(name='bot', modelfile_content='FROM %s\n' % (tmp_path / 'weights.bin'))
    assert_failed(result, 'creating bot:latest failed: supplied file was not in GGUF format')
    assert result['changed'] is False
    assert ollama.manifests() == []


def test_old_servers_get_a_modelfile(run_module, stub, answers):
    """Before v0.5.5 /api/create took a Modelfile text; the request must carry one."""
    stub.routes[('GET', '/api/version')] = answers.json(200, {'version': '0.5.4'})
    stub.routes[('GET', '/api/tags')] = answers.json(200, {'models': [{'name': 'smollm2:135m', 'digest': 'a' * 64}]})
    stub.routes[('POST', '/api/show')] = answers.json(200, {'modelfile': 'FROM /b/sha256-1\n', 'system': 's'})
    stub.routes[('POST', '/api/create')] = answers.ndjson(200, {'status': 'success'})
    args = dict(name='bot', system='Be brief.', parameters={'stop': ['a b']}, url=stub)
    args['from'] = 'smollm2:135m'
    result = run_module(ollama_model, args)
    assert result['changed'] is True, result
    create = [json.loads(s['body']) for s in stub.seen if s['path'] == '/api/create'][0]
    assert create == {'model': 'registry.ollama.ai/library/bot:latest', 'name': 'registry.ollama.ai/library/bot:latest',
                      'modelfile': 'FROM smollm2:135m\nSYSTEM Be brief.\nPARAMETER stop a b\n', 'stream': True}

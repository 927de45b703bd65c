# Copyright (c) 2025, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import base64
import time

import pytest

from ansible_collections.llmops.ollama.plugins.module_utils.ollama import (
    OllamaAuthError, OllamaClient, OllamaError, OllamaTimeout, OllamaUnreachable, parse_version, version_at_least, version_matches,
)


def test_version_tags_show_ps_against_the_double(ollama):
    client = OllamaClient(ollama + '/')
    assert client.url == ollama
    assert client.version() == '0.32.15'
    assert client.tags() == []
    assert client.ps() == []
    assert client.show('smollm2:135m') is None


def test_pull_streams_every_status(ollama):
    client = OllamaClient(ollama)
    seen = []
    last = client.pull('smollm2:135m', on_message=seen.append)
    assert last == {'status': 'success'}
    statuses = [m['status'] for m in seen]
    assert statuses[0] == 'pulling manifest'
    assert statuses[-3:] == ['verifying sha256 digest', 'writing manifest', 'success']
    assert any(m.get('digest') and m.get('total') for m in seen)
    assert [m['name'] for m in client.tags()] == ['smollm2:135m']
    assert client.show('SmolLM2:135M')['details']['family'] == 'llama'


def test_missing_model_is_a_stream_error(ollama):
    with pytest.raises(OllamaError) as exc:
        OllamaClient(ollama).pull('smollm2:does-not-exist')
    assert exc.value.msg == 'pull model manifest: file does not exist'
    assert ollama.manifests() == []


def test_invalid_name_before_output_gets_a_status(ollama):
    with pytest.raises(OllamaError) as exc:
        OllamaClient(ollama).pull('bad name!')
    assert exc.value.status == 400
    assert exc.value.msg == 'invalid model name'


def test_error_mid_stream_after_progress(ollama, registry):
    registry.configure(corrupt=True)
    seen = []
    with pytest.raises(OllamaError) as exc:
        OllamaClient(ollama).pull('qwen2.5:0.5b', on_message=seen.append)
    assert 'digest mismatch' in exc.value.msg
    assert seen and seen[0]['status'] == 'pulling manifest'
    assert ollama.manifests() == []


def test_pre_0_12_6_error_as_200_ndjson(stub, answers):
    stub.routes[('POST', '/api/pull')] = answers.ndjson(200, {'error': 'invalid model name', 'status': 400})
    with pytest.raises(OllamaError) as exc:
        OllamaClient(stub).pull('x')
    assert (exc.value.msg, exc.value.status) == ('invalid model name', 400)


def test_stream_sends_stream_true_and_json(stub, answers):
    stub.routes[('POST', '/api/create')] = answers.ndjson(200, {'status': 'writing manifest'}, {'status': 'success'})
    assert OllamaClient(stub).create({'model': 'm', 'from': 'x'}) == {'status': 'success'}
    import json
    assert json.loads(stub.seen[0]['body']) == {'model': 'm', 'from': 'x', 'stream': True}
    assert stub.seen[0]['headers']['Content-Type'] == 'application/json'
    assert stub.seen[0]['headers']['User-Agent'] == 'ansible-llmops.ollama'


@pytest.mark.parametrize('chunks, message', [
    ([], 'closed the stream without any answer'),
    ([b'not json\n'], "unexpected line in the /api/pull stream"),
    ([b'[1, 2]\n'], 'unexpected line in the /api/pull stream'),
])
def test_broken_streams(stub, chunks, message):
    stub.routes[('POST', '/api/pull')] = (200, {'Content-Type': 'application/x-ndjson'}, chunks)
    with pytest.raises(OllamaError) as exc:
        OllamaClient(stub).pull('x')
    assert message in str(exc.value)


def test_blank_lines_in_a_stream_are_skipped(stub):
    stub.routes[('POST', '/api/pull')] = (200, {}, [b'\n{"status":"a"}\n\n', b'{"status":"success"}\n'])
    seen = []
    assert OllamaClient(stub).pull('x', on_message=seen.append) == {'status': 'success'}
    assert seen == [{'status': 'a'}, {'status': 'success'}]


@pytest.mark.parametrize('status, body, kind, fragments', [
    (404, {'error': "model 'x' not found"}, OllamaError, ["model 'x' not found"]),
    (400, {'error': 'invalid model name'}, OllamaError, ['invalid model name']),
    (500, {'error': 'boom'}, OllamaError, ['boom']),
    (503, {'error': 'server busy, please try again.  maximum pending requests exceeded'}, OllamaError,
     ['is busy (503: server busy', 'OLLAMA_MAX_QUEUE']),
    (401, {'error': 'unauthorized'}, OllamaAuthError, ['401 Unauthorized (unauthorized)', 'url_username/url_password or api_token']),
    (403, {}, OllamaAuthError, ['403 Forbidden', 'OLLAMA_ORIGINS']),
    (404, '404 page not found', OllamaError, ['url does not point at an Ollama API']),
    (405, '405 method not allowed', OllamaError, ['url does not point at an Ollama API']),
    (502, '<html>bad gateway</html>', OllamaError, ['<html>bad gateway</html>']),
])
def test_http_errors(stub, answers, status, body, kind, fragments):
    stub.routes[('POST', '/api/show')] = answers.json(status, body) if isinstance(body, dict) else answers.text(status, body)
    with pytest.raises(kind) as exc:
        OllamaClient(stub).call('POST', '/api/show', {'model': 'x'})
    assert exc.value.status == status
    for fragment in fragments:
        assert fragment in str(exc.value)
    assert '\n' not in str(exc.value)


def test_openai_style_error_message(stub, answers):
    stub.routes[('POST', '/api/show')] = answers.json(400, {'error': {'message': 'bad', 'type': 'invalid_request_error'}})
    with pytest.raises(OllamaError) as exc:
        OllamaClient(stub).call('POST', '/api/show', {})
    assert exc.value.msg == 'bad'


def test_non_json_answer(stub, answers):
    stub.routes[('GET', '/api/version')] = answers.text(200, 'Ollama is running')
    with pytest.raises(OllamaError) as exc:
        OllamaClient(stub).version()
    assert 'did not answer JSON' in str(exc.value)


def test_unreachable_port(closed_port):
    with pytest.raises(OllamaUnreachable) as exc:
        OllamaClient(closed_port, timeout=2).version()
    message = str(exc.value)
    assert message.startswith('cannot reach Ollama at %s (' % closed_port)
    assert 'journalctl -u ollama' in message and '\n' not in message


def test_unresolvable_host():
    with pytest.raises(OllamaUnreachable):
        OllamaClient('http://ollama.invalid:11434', timeout=2).version()


def test_read_timeout(stub, answers):
    def slow(handler):
        time.sleep(1.5)
        return answers.json(200, {'version': '1'})
    stub.routes[('GET', '/api/version')] = slow
    with pytest.raises(OllamaUnreachable) as exc:
        OllamaClient(stub, timeout=0.5).version()
    assert 'did not answer GET /api/version within 0.5 s' in str(exc.value)


@pytest.mark.parametrize('deadline, kind', [(None, OllamaUnreachable), (3600, OllamaTimeout)])
def test_silent_stream(stub, deadline, kind):
    def stalls(handler):
        handler.send_response(200)
        handler.end_headers()
        handler.wfile.write(b'{"status":"pulling manifest"}\n')
        handler.wfile.flush()
        time.sleep(1.5)
        return 200, {}, []
    stub.routes[('POST', '/api/pull')] = stalls
    with pytest.raises(kind) as exc:
        OllamaClient(stub).pull('x', timeout=0.5, deadline=deadline and time.time() + deadline)
    assert '/api/pull' in str(exc.value)


def test_stream_deadline(stub, answers):
    stub.routes[('POST', '/api/pull')] = answers.ndjson(200, {'status': 'a'}, {'status': 'b'})
    with pytest.raises(OllamaTimeout):
        OllamaClient(stub).pull('x', deadline=time.time() - 1)


def test_basic_auth_and_bearer_headers(stub, answers):
    stub.routes[('GET', '/api/version')] = answers.json(200, {'version': '0.12.3'})
    OllamaClient(stub, url_username='admin', url_password='s3cret').version()
    assert stub.seen[-1]['headers']['Authorization'] == 'Basic ' + base64.b64encode(b'admin:s3cret').decode()
    OllamaClient(stub, api_token='tok').version()
    assert stub.seen[-1]['headers']['Authorization'] == 'Bearer tok'
    OllamaClient(stub).version()
    assert 'Authorization' not in stub.seen[-1]['headers']


def test_wrong_credentials_through_an_auth_proxy(stub, answers):
    """A stand-in for the collection's authenticating proxy: 401 unless the right bearer token comes."""
    def guarded(handler):
        if handler.headers.get('Authorization') != 'Bearer right':
            return 401, {'WWW-Authenticate': 'Bearer', 'Content-Type': 'text/html'}, [b'<html>401 Authorization Required</html>']
        return answers.json(200, {'version': '0.12.3'})
    stub.routes[('GET', '/api/version')] = guarded
    assert OllamaClient(stub, api_token='right').version() == '0.12.3'
    with pytest.raises(OllamaAuthError) as exc:
        OllamaClient(stub, api_token='wrong').version()
    assert '401 Unauthorized' in str(exc.value)


def test_delete_and_copy_have_empty_answers(ollama):
    client = OllamaClient(ollama)
    client.pull('smollm2:135m')
    assert client.copy('smollm2:135m', 'alias') is None
    assert ollama.names() == ['alias:latest', 'smollm2:135m']
    assert client.delete('alias') is None
    with pytest.raises(OllamaError) as exc:
        client.delete('alias')
    assert exc.value.status == 404
    with pytest.raises(OllamaError) as exc:
        client.copy('nope', 'x')
    assert (exc.value.status, exc.value.msg) == (404, 'model "nope" not found')


def test_blobs(ollama, tmp_path):
    import hashlib
    client = OllamaClient(ollama)
    path = tmp_path / 'blob'
    path.write_bytes(b'GGUF payload')
    digest = 'sha256:' + hashlib.sha256(b'GGUF payload').hexdigest()
    assert client.blob_exists(digest) is False
    client.upload_blob(digest, str(path), 12)
    assert client.blob_exists(digest) is True
    with pytest.raises(OllamaError) as exc:
        client.upload_blob('sha256:' + '0' * 64, str(path), 12)
    assert 'digest mismatch' in str(exc.value)


def test_generate(ollama):
    client = OllamaClient(ollama)
    client.pull('smollm2:135m')
    answer = client.generate({'model': 'smollm2:135m', 'prompt': 'hi', 'options': {'num_predict': 4}})
    assert answer['done'] is True and answer['eval_count'] == 4


@pytest.mark.parametrize('text, expected', [
    ('0.12.6', ((0, 12, 6), 1, '')),
    ('v0.5', ((0, 5, 0), 1, '')),
    ('0.33.0-rc2', ((0, 33, 0), 0, 'rc2')),
    ('1.2.3b', ((1, 2, 3), 1, '')),
])
def test_parse_version(text, expected):
    assert parse_version(text) == expected


def test_version_at_least():
    assert version_at_least('0.12.6', '0.12.6')
    assert not version_at_least('0.12.5', '0.12.6')
    assert version_at_least('0.0.0', '0.12.6'), 'development builds have every feature'
    assert not version_at_least('0.5.5-rc1', '0.5.5')


@pytest.mark.parametrize('version, constraint, result', [
    ('0.12.3', '>=0.12', True),
    ('0.11.11', '>=0.12', False),
    ('0.12.3', '>=0.12,<0.20', True),
    ('0.20.0', '>=0.12, <0.20', False),
    ('0.12.3', '0.12.3', True),
    ('0.12.3', '==0.12.3', True),
    ('0.12.3', '=0.12.4', False),
    ('0.12.3', '!=0.12.3', False),
    ('0.12.3', '>0.12', True),
    ('0.12.0', '<=0.12', True),
    ('0.13.0-rc1', '<0.13.0', True),
])
def test_version_matches(version, constraint, result):
    assert version_matches(version, constraint) is result


@pytest.mark.parametrize('constraint', ['', ',', '>=', '>=abc', 'latest'])
def test_bad_version_constraints(constraint):
    with pytest.raises(ValueError):
        version_matches('0.12.0', constraint)

# Copyright (c) 2025, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import pytest

from ansible_collections.llmops.ollama.plugins.module_utils.modelfile import (
    ModelfileError, create_request, expected_state, file_digest, format_parameters, model_state, parse_modelfile,
    parse_show_parameters, render_modelfile, state_differences,
)

FULL = '''# a comment line
FROM llama3.2:3b
PARAMETER temperature 0.7
PARAMETER num_ctx 4096
PARAMETER stop <|start_header_id|>
PARAMETER stop "<|eot_id|>"
parameter use_mmap false
SYSTEM """You are Mario.
Answer as Mario."""
TEMPLATE """{{ if .System }}<|system|>{{ .System }}{{ end }}{{ .Prompt }}"""
MESSAGE user Is Toronto in Canada?
MESSAGE assistant "yes: it is"
LICENSE """MIT
line two"""
license Apache-2.0
REQUIRES 0.14.0
RENDERER qwen3
PARSER qwen3
'''


def test_every_instruction():
    assert parse_modelfile(FULL) == [
        ('model', 'llama3.2:3b'),
        ('temperature', '0.7'),
        ('num_ctx', '4096'),
        ('stop', '<|start_header_id|>'),
        ('stop', '<|eot_id|>'),
        ('use_mmap', 'false'),
        ('system', 'You are Mario.\nAnswer as Mario.'),
        ('template', '{{ if .System }}<|system|>{{ .System }}{{ end }}{{ .Prompt }}'),
        ('message', 'user: Is Toronto in Canada?'),
        ('message', 'assistant: yes: it is'),
        ('license', 'MIT\nline two'),
        ('license', 'Apache-2.0'),
        ('requires', '0.14.0'),
        ('renderer', 'qwen3'),
        ('parser', 'qwen3'),
    ]


def test_create_request_like_the_cli(tmp_path):
    request, files = create_request(parse_modelfile(FULL), str(tmp_path))
    assert files == []
    assert request == {
        'from': 'llama3.2:3b',
        'parameters': {'temperature': 0.7, 'num_ctx': 4096, 'stop': ['<|start_header_id|>', '<|eot_id|>'], 'use_mmap': False},
        'system': 'You are Mario.\nAnswer as Mario.',
        'template': '{{ if .System }}<|system|>{{ .System }}{{ end }}{{ .Prompt }}',
        'messages': [{'role': 'user', 'content': 'Is Toronto in Canada?'}, {'role': 'assistant', 'content': 'yes: it is'}],
        'license': ['MIT\nline two', 'Apache-2.0'],
        'requires': '0.14.0',
        'renderer': 'qwen3',
        'parser': 'qwen3',
    }


@pytest.mark.parametrize('text, args', [
    ('FROM m\n', 'm'),
    ('from m', 'm'),  # no trailing newline
    ('\ufeffFROM m\n', 'm'),  # byte order mark
    ('FROM   m  \n', 'm'),
    ('FROM m\r\n', 'm'),
    ('\n\n  # indented comment\n\tFROM m\n# trailing comment', 'm'),
    ('FROM "m"\n', 'm'),
    ('FROM """m"""\n', 'm'),
])
def test_from_variants(text, args):
    assert parse_modelfile(text) == [('model', args)]


def test_values_keep_inner_spaces_tabs_and_quotes():
    commands = parse_modelfile('FROM m\nSYSTEM  say "hi"  to\tall \nTEMPLATE " padded "\nSYSTEM """a "quoted" word"""\n')
    assert commands[1:] == [('system', 'say "hi"  to\tall'), ('template', ' padded '), ('system', 'a "quoted" word')]


def test_multiline_triple_quotes_keep_blank_lines_and_hashes():
    text = 'FROM m\nTEMPLATE """\nline 1\n\n# not a comment\n  indented\n"""\n'
    assert parse_modelfile(text)[1] == ('template', '\nline 1\n\n# not a comment\n  indented\n')


@pytest.mark.parametrize('text, message', [
    ('', 'no FROM line'),
    ('# only a comment\n', 'no FROM line'),
    ('SYSTEM hi\n', 'no FROM line'),
    ('FROM m\nFOO bar\n', '(line 2): command must be one of "from", "license", "template", "system", "adapter", "draft", "renderer", '
                          '"parser", "parameter", "message", or "requires"'),
    ('FROM m\nSYS-TEM x\n', '(line 2): command must be one of'),
    ('FROM\n', '(line 2): command must be one of'),
    ('FROM m\nMESSAGE robot hello\n', '(line 2): message role must be one of "system", "user", or "assistant"'),
    ('FROM m\nMESSAGE User hello\n', 'message role must be one of'),
    ('FROM m\nSYSTEM """never closed\n', 'unexpected EOF'),
    ('FROM m\nSYSTEM "never closed\n', 'unexpected EOF'),
    ('FROM m\nPARAMETER temp-erature 1\n', 'unexpected EOF: temp'),
    ('FROM m\nPARAMETER', 'unexpected EOF'),
    ('FROM m\nMESSAGE user', 'unexpected EOF'),
])
def test_parse_errors(text, message):
    with pytest.raises(ModelfileError) as exc:
        parse_modelfile(text)
    assert message in str(exc.value)


@pytest.mark.parametrize('params, expected', [
    ({'temperature': '0.7'}, {'temperature': 0.7}),
    ({'temperature': 1}, {'temperature': 1.0}),
    ({'num_ctx': '8192'}, {'num_ctx': 8192}),
    ({'num_ctx': 8192.0}, {'num_ctx': 8192}),
    ({'seed': -1}, {'seed': -1}),
    ({'stop': 'x'}, {'stop': ['x']}),
    ({'stop': ['a', 'b']}, {'stop': ['a', 'b']}),
    ({'use_mmap': 'TRUE'}, {'use_mmap': True}),
    ({'use_mmap': '0'}, {'use_mmap': False}),
    ({'use_mmap': False}, {'use_mmap': False}),
    ({'mirostat': 2, 'top_k': 40}, {'top_k': 40}),  # deprecated: dropped like the CLI does
    ({'stop': []}, {}),
])
def test_format_parameters(params, expected):
    assert format_parameters(params) == expected


@pytest.mark.parametrize('params, message', [
    ({'temprature': 1}, "unknown parameter 'temprature'"),
    ({'num_ctx': 'lots'}, 'invalid int value [lots] for parameter num_ctx'),
    ({'num_ctx': '4.5'}, 'invalid int value'),
    ({'num_ctx': 4.5}, 'invalid int value'),
    ({'num_ctx': True}, 'invalid int value'),
    ({'temperature': 'hot'}, 'invalid float value [hot]'),
    ({'temperature': False}, 'invalid float value'),
    ({'use_mmap': 'yes'}, 'invalid bool value [yes]'),
])
def test_format_parameter_errors(params, message):
    with pytest.raises(ModelfileError) as exc:
        format_parameters(params)
    assert message in str(exc.value)


def test_from_a_local_gguf_and_adapter(tmp_path):
    weights = tmp_path / 'model.gguf'
    weights.write_bytes(b'GGUF' + b'\0' * 60)
    (tmp_path / 'lora').mkdir()
    adapter = tmp_path / 'lora' / 'adapter.gguf'
    adapter.write_bytes(b'GGUF-adapter')
    request, files = create_request(parse_modelfile('FROM ./model.gguf\nADAPTER lora/adapter.gguf\n'), str(tmp_path))
    assert request == {'files': {'model.gguf': file_digest(str(weights))}, 'adapters': {'adapter.gguf': file_digest(str(adapter))}}
    assert [(f.path, f.name, f.size) for f in files] == [(str(weights), 'model.gguf', 64), (str(adapter), 'adapter.gguf', 12)]
    assert files[0].digest.startswith('sha256:') and len(files[0].digest) == 71


def test_absolute_and_home_paths(tmp_path, monkeypatch):
    weights = tmp_path / 'w.gguf'
    weights.write_bytes(b'GGUF')
    monkeypatch.setenv('HOME', str(tmp_path))
    assert list(create_request([('model', str(weights))], None)[0]) == ['files']
    assert list(create_request([('model', '~/w.gguf')], '/nonexistent')[0]) == ['files']
    # Without a base directory a relative name is a model name, even if such a file exists in the cwd.
    monkeypatch.chdir(tmp_path)
    assert create_request([('model', 'w.gguf')], None)[0] == {'from': 'w.gguf'}


@pytest.mark.parametrize('commands, message', [
    ([('model', 'm'), ('adapter', 'missing.gguf')], 'ADAPTER missing.gguf: no such file on the managed host'),
    ([('model', 'm'), ('adapter', 'rel.gguf')], 'ADAPTER rel.gguf: give the absolute path'),
    ([('model', '.')], 'FROM . is a directory'),
    ([('model', 'm'), ('draft', 'd.gguf')], 'DRAFT is not supported'),
])
def test_create_request_errors(tmp_path, commands, message):
    base_dir = None if 'absolute' in message else str(tmp_path)
    with pytest.raises(ModelfileError) as exc:
        create_request(commands, base_dir)
    assert message in str(exc.value)


def test_render_modelfile_round_trips():
    request = {
        'from': 'smollm2:135m', 'system': 'two\nlines', 'template': '"quoted" start',
        'parameters': {'stop': ['a b', ' pad'], 'top_k': 5, 'use_mmap': True},
        'messages': [{'role': 'user', 'content': 'hi: there'}], 'license': ['MIT'],
    }
    text = render_modelfile(request)
    assert text.startswith('FROM smollm2:135m\n')
    again, files = create_request(parse_modelfile(text), None)
    assert files == []
    assert again == request


def test_render_modelfile_names_blobs_by_digest():
    text = render_modelfile({'files': {'w.gguf': 'sha256:' + 'a' * 64}, 'adapters': {'l.gguf': 'sha256:' + 'b' * 64}})
    assert text == 'FROM @sha256:%s\nADAPTER @sha256:%s\n' % ('a' * 64, 'b' * 64)


def test_parse_show_parameters():
    text = ('num_ctx                        4096\nstop                           "<|im_start|>"\n'
            'stop                           "say \\"hi\\""\ntemperature                    0.7\nuse_mmap                       true\n'
            'seed                           1e+06')
    assert parse_show_parameters(text) == {'num_ctx': [4096.0], 'stop': ['<|im_start|>', 'say "hi"'], 'temperature': [0.7],
                                           'use_mmap': [True], 'seed': [1e6]}
    assert parse_show_parameters('') == {}
    assert parse_show_parameters(None) == {}


SHOW = {
    'modelfile': '# Modelfile generated by "ollama show"\n# FROM base:latest\n\nFROM /m/blobs/sha256-%s\nSYSTEM hi\n' % ('1' * 64),
    'system': 'base system', 'template': '{{ .Prompt }}', 'license': 'Apache',
    'parameters': 'stop                           "<|end|>"', 'messages': [{'role': 'user', 'content': 'x', 'images': None}],
}


def test_model_state():
    state = model_state(SHOW)
    assert state == {'weights': ['sha256-' + '1' * 64], 'adapters': [], 'system': 'base system', 'template': '{{ .Prompt }}',
                     'parameters': {'stop': ['<|end|>']}, 'messages': [{'role': 'user', 'content': 'x'}], 'license': 'Apache'}
    assert model_state({'modelfile': 'not a modelfile'})['weights'] is None
    assert model_state({'license': ['a', 'b']})['license'] == 'a\nb'


def test_expected_state_inherits_replaces_merges_and_appends():
    base = model_state(SHOW)
    expected = expected_state({'from': 'base', 'system': 'new', 'parameters': {'temperature': 0.2}, 'license': ['MIT']}, base)
    assert expected['system'] == 'new'
    assert expected['template'] == '{{ .Prompt }}'
    assert expected['parameters'] == {'stop': ['<|end|>'], 'temperature': [0.2]}
    assert expected['license_tail'] == 'MIT'
    assert 'license' not in expected
    assert base['parameters'] == {'stop': ['<|end|>']}, 'the base state must not be modified'


def test_state_differences():
    base = model_state(SHOW)
    same = dict(base, system='new', parameters={'stop': ['<|end|>'], 'temperature': [0.2000000029802322]}, license='Apache\nMIT')
    request = {'from': 'base', 'system': 'new', 'parameters': {'temperature': 0.2}, 'license': ['MIT']}
    assert state_differences(same, expected_state(request, base)) == []
    # A server that replaces licenses instead of appending them also satisfies the request.
    assert state_differences(dict(same, license='MIT'), expected_state(request, base)) == []
    changed = dict(same, system='old', weights=['sha256-other'], parameters={'stop': ['<|end|>']}, license='Apache')
    assert state_differences(changed, expected_state(request, base)) == ['weights', 'system', 'license', 'parameters']
    # Extra parameters on the installed model count when the base is known...
    extra = dict(same, parameters=dict(same['parameters'], num_ctx=[8.0]))
    assert state_differences(extra, expected_state(request, base)) == ['parameters']
    # ...but not for a GGUF import, where the server adds its own defaults.
    gguf = {'files': {'w.gguf': 'sha256:' + '1' * 64}, 'parameters': {'temperature': 0.2}}
    assert state_differences(extra, expected_state(gguf, None), base_known=False) == []
    assert state_differences(dict(extra, weights=None), expected_state(gguf, None), base_known=False) == []
    assert state_differences(dict(extra, weights=['sha256-2']), expected_state(gguf, None), base_known=False) == ['weights']


def test_bool_and_number_comparison():
    base = model_state({'parameters': 'use_mmap                       false\nnum_ctx                        2048'})
    assert state_differences(base, expected_state({'parameters': {'use_mmap': False, 'num_ctx': 2048}}, base)) == []
    assert state_differences(base, expected_state({'parameters': {'use_mmap': True}}, base)) == ['parameters']

# Copyright (c) 2025, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import pytest

from ansible_collections.llmops.ollama.plugins.module_utils.model_name import InvalidModelName, ModelName, find_model


@pytest.mark.parametrize('text, parts, display', [
    ('llama3.2', ('registry.ollama.ai', 'library', 'llama3.2', 'latest'), 'llama3.2:latest'),
    ('llama3.2:3b', ('registry.ollama.ai', 'library', 'llama3.2', '3b'), 'llama3.2:3b'),
    ('ns/m:t', ('registry.ollama.ai', 'ns', 'm', 't'), 'ns/m:t'),
    ('myhost:5000/library/m:t', ('myhost:5000', 'library', 'm', 't'), 'myhost:5000/library/m:t'),
    # A ":" before the last "/" is a port, not a tag.
    ('host:5000/ns/m', ('host:5000', 'ns', 'm', 'latest'), 'host:5000/ns/m:latest'),
    ('registry.ollama.ai/library/qwen2.5:0.5b', ('registry.ollama.ai', 'library', 'qwen2.5', '0.5b'), 'qwen2.5:0.5b'),
    ('REGISTRY.OLLAMA.AI/Library/Llama3:Latest', ('REGISTRY.OLLAMA.AI', 'Library', 'Llama3', 'Latest'), 'Llama3:Latest'),
    ('mirror.local:5000/library/llama3.2:latest', ('mirror.local:5000', 'library', 'llama3.2', 'latest'),
     'mirror.local:5000/library/llama3.2:latest'),
    ('hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M', ('hf.co', 'bartowski', 'Llama-3.2-1B-Instruct-GGUF', 'Q4_K_M'),
     'hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M'),
    ('_x/_y:_z', ('registry.ollama.ai', '_x', '_y', '_z'), '_x/_y:_z'),
    ('m:' + 'a' * 80, ('registry.ollama.ai', 'library', 'm', 'a' * 80), 'm:' + 'a' * 80),
])
def test_parse_and_display(text, parts, display):
    name = ModelName.parse(text)
    assert name.parts() == parts
    assert name.display == display
    assert str(name) == display


def test_scheme_is_kept_for_insecure_checks():
    name = ModelName.parse('http://mirror.local:5000/library/m:t')
    assert name.scheme == 'http'
    assert name.parts() == ('mirror.local:5000', 'library', 'm', 't')
    assert ModelName.parse('https://h/ns/m').scheme == 'https'
    assert ModelName.parse('m').scheme == 'https'


def test_fullname_and_manifest_path():
    name = ModelName.parse('myhost:5000/team/m')
    assert name.fullname == 'myhost:5000/team/m:latest'
    assert name.manifest_path == 'manifests/myhost:5000/team/m/latest'
    assert repr(name) == "ModelName('myhost:5000/team/m:latest')"


@pytest.mark.parametrize('text, fragment', [
    ('', 'the name is empty'),
    ('llama3.2:', 'the tag part is empty'),
    ('/llama3', 'the namespace part is empty'),
    ('ns/', 'the model part is empty'),
    (':latest', 'the model part is empty'),
    ('/ns/m', 'the host part is empty'),
    ('-m', "model '-m' must start with"),
    ('.m', "model '.m' must start with"),
    ('m:-t', "tag '-t' must start with"),
    ('na.me/m', "namespace 'na.me'"),
    ('ns/m:t:u', "model 'm:t'"),
    ('m@sha256:abc', "'m@sha256'"),
    ('a/b/c/d', "host 'a/b'"),
    ('m with space', "model 'm with space'"),
    ('h' * 351 + '/ns/m', 'host'),
    ('ns/' + 'm' * 81, 'model'),
    ('n' * 81 + '/m', 'namespace'),
    ('m:' + 't' * 81, 'tag'),
    ('ftp://h/ns/m', "scheme 'ftp'"),
    ('mödel', "model 'mödel'"),
])
def test_invalid_names(text, fragment):
    with pytest.raises(InvalidModelName) as exc:
        ModelName.parse(text)
    assert fragment in str(exc.value)
    assert '\n' not in str(exc.value)


def test_non_string_is_invalid():
    with pytest.raises(InvalidModelName):
        ModelName.parse(None)


def test_host_allows_colon_and_dots_but_namespace_no_dot():
    assert ModelName.parse('my.host:8080/ns_1/m-1.2:t_1.0').host == 'my.host:8080'
    with pytest.raises(InvalidModelName):
        ModelName.parse('host/n.s/m')


def test_length_limits_are_inclusive():
    ModelName.parse('h' * 350 + '/' + 'n' * 80 + '/' + 'm' * 80 + ':' + 't' * 80)


def test_case_insensitive_matching():
    a = ModelName.parse('Llama3.2:3B')
    b = ModelName.parse('registry.ollama.ai/library/llama3.2:3b')
    assert a.matches(b)
    assert a.key() == b.key()
    assert not a.matches(ModelName.parse('llama3.2:1b'))
    assert not ModelName.parse('ns/m').matches(ModelName.parse('m'))


def test_find_model_uses_normalised_names():
    models = [{'name': 'smollm2:135m'}, {'name': 'Mirror:5000/library/Smol:latest'}, {'name': 'not a name'}, {'model': 'x/y:z'}]
    assert find_model(ModelName.parse('SmolLM2:135M'), models) == models[0]
    assert find_model(ModelName.parse('mirror:5000/library/smol'), models) == models[1]
    assert find_model(ModelName.parse('x/y:z'), models) == models[3]
    assert find_model(ModelName.parse('smollm2'), models) is None
    assert find_model(ModelName.parse('smollm2'), None) is None


def test_parse_bare_fills_defaults_without_validating():
    name = ModelName.parse_bare('a/b/c/d')
    assert name.parts() == ('a/b', 'c', 'd', 'latest')


@pytest.mark.parametrize('text', [
    'llama3.2', 'ns/m:t', 'host:5000/ns/m', 'm:', '/m', 'a/b/c/d', 'na.me/m', 'M:T', 'm:-t', 'h.o.s.t/n-s/m.o.d.e.l:t.a.g',
    'http://h:1/ns/m:t', 'ns/' + 'm' * 81, '_/_:_',
])
def test_agrees_with_the_double(text):
    """The double implements the same upstream rules independently: both must agree."""
    from ollama_double.names import Name
    theirs = Name.parse(text)
    try:
        mine = ModelName.parse(text)
    except InvalidModelName:
        assert not theirs.is_valid()
        return
    assert theirs.is_valid()
    assert mine.display == theirs.display_shortest()

# Copyright (c) 2026, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Quoting for the drop-in, compose.yaml and the secret environment file, and the checksum pin checks."""

import shlex

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.llmops.ollama.plugins.filter.ollama_settings_quoting import (
    ollama_checksum_errors, ollama_compose_quote, ollama_env_file_quote, ollama_systemd_quote)

TRICKY = 'http://user:p%40ss"w\\rd$HOME`x` 100%d \'q\' ${X}@proxy:3128'
HEX = 'a' * 64


def systemd_unquote(word):
    """systemd's reading of one double-quoted Environment= word: specifiers (%%), then C escapes."""
    assert word[0] == word[-1] == '"'
    text = word[1:-1].replace('%%', '\0')
    assert '%' not in text, 'an unescaped %% would be expanded as a specifier'
    out, i = [], 0
    while i < len(text):
        if text[i] == '\\':
            escapes = {'\\': '\\', '"': '"', 'n': '\n', 'r': '\r'}
            assert text[i + 1] in escapes, 'only \\\\, \\", \\n and \\r are written'
            out.append(escapes[text[i + 1]])
            i += 2
        else:
            assert text[i] not in '"\n\r', 'an unescaped quote or line break would end the word'
            out.append(text[i])
            i += 1
    return ''.join(out).replace('\0', '%')


@pytest.mark.parametrize('value', [TRICKY, '', 'plain', '%', '%%', '\\', '"', '\\"', 'a b\tc', 'ünïcode',
                                   'two\nlines', 'cr\r\nlf', '\\n is not a line break'])
def test_systemd_quote_round_trips(value):
    word = ollama_systemd_quote('NAME=' + value)
    assert systemd_unquote(word) == 'NAME=' + value


def test_systemd_quote_of_the_tricky_value():
    assert ollama_systemd_quote('A=%"\\$') == '"A=%%\\"\\\\$"'


@pytest.mark.parametrize('value', [TRICKY, '', '$', '$$', '${HOME}', '"', '\\', 'ünïcode', 'true', '123', 'null',
                                   'two\nlines\r\n'])
def test_compose_quote_is_a_yaml_string_with_dollars_doubled(value):
    quoted = ollama_compose_quote(value)
    parsed = yaml.safe_load('key: %s' % quoted)['key']
    assert isinstance(parsed, str)
    # Compose turns $$ back into $ when it interpolates.
    assert parsed.replace('$$', '$') == value
    assert '$' not in parsed.replace('$$', '')


@pytest.mark.parametrize('value', [TRICKY.replace("'", ''), '', '$x %y \\z "w"', 'a b'])
def test_env_file_quote_is_literal_in_single_quotes(value):
    quoted = ollama_env_file_quote(value)
    assert quoted == "'%s'" % value
    # A POSIX shell reads single quotes as systemd and compose do.
    assert shlex.split(quoted) == [value]


@pytest.mark.parametrize('quote, value', [
    (ollama_systemd_quote, 'A=nul\0'), (ollama_compose_quote, 'nul\0'),
    (ollama_env_file_quote, 'two\nlines'), (ollama_env_file_quote, 'cr\r'), (ollama_env_file_quote, "it's"),
])
def test_values_no_quoting_can_carry_are_refused_without_showing_them(quote, value):
    with pytest.raises(AnsibleFilterError) as exc:
        quote(value)
    assert value not in str(exc.value)


def test_valid_pins_have_no_errors():
    assert ollama_checksum_errors({}) == []
    assert ollama_checksum_errors({'0.32.15': {'amd64': 'sha256:' + HEX, 'arm64': HEX.upper()}, '0.31.2': {'amd64': HEX}}) == []


@pytest.mark.parametrize('pins, message', [
    ({'0.32.15': 'sha256:' + HEX}, "ollama_release_checksums['0.32.15'] must map architectures (amd64, arm64) to sha256:<64 hex digits>"),
    ({'0.32.15': {}}, "ollama_release_checksums['0.32.15'] must map architectures"),
    ({'0.32.15': {'x86_64': HEX}}, "ollama_release_checksums['0.32.15'] has architecture x86_64; Ollama ships amd64 and arm64"),
    ({'0.32.15': {'amd64': 'md5:abc'}}, "ollama_release_checksums['0.32.15']['amd64'] must be sha256:<64 hex digits>, got md5:abc"),
    ({'0.32.15': {'amd64': HEX[:-1]}}, "['amd64'] must be sha256:<64 hex digits>"),
    ({'0.32.15': {'amd64': None}}, "['amd64'] must be sha256:<64 hex digits>, got None"),
    (['0.32.15'], 'ollama_release_checksums must map versions to {amd64: sha256:<hex>, arm64: ...}, got list'),
])
def test_bad_pins_are_named(pins, message):
    errors = ollama_checksum_errors(pins)
    assert len(errors) == 1 and message in errors[0], errors

# Copyright (c) 2026, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The settings filters the ollama role validates its input with, and parent_directories."""

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.llmops.ollama.plugins.filter.ollama_settings import (
    ollama_environment, ollama_setting_names, ollama_settings_errors)
from ansible_collections.llmops.ollama.plugins.filter.parent_directories import parent_directories


def test_valid_settings_have_no_errors():
    settings = {
        'OLLAMA_HOST': '127.0.0.1:11434', 'OLLAMA_KEEP_ALIVE': '24h', 'OLLAMA_NUM_PARALLEL': 4,
        'OLLAMA_MAX_LOADED_MODELS': 2, 'OLLAMA_MAX_QUEUE': 512, 'OLLAMA_FLASH_ATTENTION': True,
        'OLLAMA_KV_CACHE_TYPE': 'q8_0', 'OLLAMA_CONTEXT_LENGTH': 8192, 'OLLAMA_MODELS': '/srv/ollama/models',
        'OLLAMA_ORIGINS': 'https://a.example,https://b.example', 'OLLAMA_DEBUG': '2', 'OLLAMA_LOAD_TIMEOUT': '10m',
        'CUDA_VISIBLE_DEVICES': '0,1', 'HTTPS_PROXY': 'http://proxy.example:3128',
    }
    assert ollama_settings_errors(settings, '0.32.15') == []


@pytest.mark.parametrize('host', ['0.0.0.0:11434', 'http://[::1]:11434', 'https://ollama.example', 'localhost', ':8080'])
def test_host_forms_upstream_accepts(host):
    assert ollama_settings_errors({'OLLAMA_HOST': host}, '0.32.15') == []


@pytest.mark.parametrize('keep_alive', ['5m', '1h30m', '-1', '0', 300, '-1m', '1.5h'])
def test_keep_alive_as_seconds_or_go_duration(keep_alive):
    assert ollama_settings_errors({'OLLAMA_KEEP_ALIVE': keep_alive}, '0.32.15') == []


@pytest.mark.parametrize('settings, message', [
    ({'OLLAMA_HOST': '0.0.0.0:99999'}, 'OLLAMA_HOST=0.0.0.0:99999 has port 99999, outside 1-65535'),
    ({'OLLAMA_HOST': 'ftp://x'}, 'OLLAMA_HOST=ftp://x must be [http[s]://]HOST[:PORT], like 127.0.0.1:11434'),
    ({'OLLAMA_KEEP_ALIVE': 'forever'}, 'OLLAMA_KEEP_ALIVE=forever must be a number of seconds or a Go duration'),
    ({'OLLAMA_NUM_PARALLEL': -1}, 'OLLAMA_NUM_PARALLEL=-1 must be a whole number >= 0'),
    ({'OLLAMA_NUM_PARALLEL': True}, 'OLLAMA_NUM_PARALLEL must not be a boolean'),
    ({'OLLAMA_FLASH_ATTENTION': 'yes'}, 'OLLAMA_FLASH_ATTENTION=yes must be true or false'),
    ({'OLLAMA_KV_CACHE_TYPE': 'q5'}, 'OLLAMA_KV_CACHE_TYPE=q5 must be one of f16, q8_0, q4_0'),
    ({'OLLAMA_MODELS': 'models'}, 'OLLAMA_MODELS=models must be an absolute path'),
    ({'OLLAMA_ORIGINS': 'a,,b'}, 'OLLAMA_ORIGINS=a,,b must be a comma-separated list without empty items'),
    ({'OLLAMA_KEEP_ALIVE': ['5m']}, "OLLAMA_KEEP_ALIVE must be a single value, got ['5m']"),
    ({'OLLAMA_HOTS': '1'}, 'OLLAMA_HOTS is not a setting Ollama reads: fix the name, or put it in ollama_extra_environment'),
    ({'OLLAMA_TMPDIR': '/tmp'}, 'OLLAMA_TMPDIR was removed in Ollama 0.5.2: drop it from ollama_settings'),
])
def test_bad_settings_say_what_is_wrong(settings, message):
    errors = ollama_settings_errors(settings, '0.32.15')
    assert len(errors) == 1 and errors[0].startswith(message)


def test_settings_follow_the_version_they_are_for():
    assert ollama_settings_errors({'OLLAMA_NEW_ENGINE': True}, '0.24.0') == []
    assert ollama_settings_errors({'OLLAMA_NEW_ENGINE': True}, '0.30.0') == [
        'OLLAMA_NEW_ENGINE was removed in Ollama 0.30.0 (installing 0.30.0): drop it']
    assert ollama_settings_errors({'OLLAMA_CONTEXT_LENGTH': 4096}, '0.5.12') == [
        'OLLAMA_CONTEXT_LENGTH needs Ollama 0.5.13 or newer (installing 0.5.12)']
    assert ollama_settings_errors({'OLLAMA_CONTEXT_LENGTH': 4096}, '0.33.0-rc2') == []


def test_every_problem_is_reported_at_once():
    errors = ollama_settings_errors({'OLLAMA_FOO': 1, 'OLLAMA_NUM_PARALLEL': 'x', 'OLLAMA_KV_CACHE_TYPE': 'q5'}, '0.32.15')
    assert [error.split('=')[0].split()[0] for error in errors] == ['OLLAMA_FOO', 'OLLAMA_KV_CACHE_TYPE', 'OLLAMA_NUM_PARALLEL']


@pytest.mark.parametrize('settings, version', [(['OLLAMA_HOST'], '0.32.15'), ({}, 'latest'), ({}, 'v1')])
def test_unusable_input_is_an_error(settings, version):
    with pytest.raises(AnsibleFilterError):
        ollama_settings_errors(settings, version)


def test_environment_renders_values_as_ollama_parses_them():
    assert ollama_environment({'OLLAMA_FLASH_ATTENTION': True, 'OLLAMA_NOPRUNE': False, 'OLLAMA_NUM_PARALLEL': 4}) == {
        'OLLAMA_FLASH_ATTENTION': 'true', 'OLLAMA_NOPRUNE': 'false', 'OLLAMA_NUM_PARALLEL': '4'}


def test_setting_names_cover_current_and_removed():
    names = ollama_setting_names()
    assert names == sorted(names)
    assert {'OLLAMA_HOST', 'OLLAMA_TMPDIR', 'CUDA_VISIBLE_DEVICES'} <= set(names)
    assert 'OLLAMA_DOUBLE_PROCESSOR' not in names


def test_parent_directories_outermost_first():
    assert parent_directories('/data/ai/models/') == ['/data', '/data/ai']
    assert parent_directories('/models') == []
    with pytest.raises(AnsibleFilterError):
        parent_directories('relative/path')


@pytest.mark.parametrize('origins', ['http://10.0.0.0/8', '10.0.0.0/8', 'https://a.example,http://192.168.1.0/24',
                                     'http://[fd00::]/8', 'fd00::/8'])
def test_origins_that_are_networks_are_refused(origins):
    errors = ollama_settings_errors({'OLLAMA_ORIGINS': origins}, '0.32.15')
    assert len(errors) == 1
    assert errors[0].startswith('OLLAMA_ORIGINS=%s has the network ' % origins)
    assert 'never as CIDR ranges' in errors[0]


@pytest.mark.parametrize('origins', ['http://10.0.0.5:3000', 'http://10.0.0.*', 'https://*.example.com',
                                     'http://[fd00::1]:8080', 'app://*,https://chat.example/'])
def test_origins_as_urls_and_wildcards_are_accepted(origins):
    assert ollama_settings_errors({'OLLAMA_ORIGINS': origins}, '0.32.15') == []


@pytest.mark.parametrize('flash, state', [(None, 'unset'), (False, 'off'), ('0', 'off'), ('false', 'off')])
@pytest.mark.parametrize('cache', ['q8_0', 'q4_0'])
def test_quantized_kv_cache_needs_flash_attention(cache, flash, state):
    settings = {'OLLAMA_KV_CACHE_TYPE': cache}
    if flash is not None:
        settings['OLLAMA_FLASH_ATTENTION'] = flash
    assert ollama_settings_errors(settings, '0.32.15') == [
        'OLLAMA_KV_CACHE_TYPE=%s quantizes the K/V cache only with flash attention on, and OLLAMA_FLASH_ATTENTION is %s '
        '(the cache would stay f16): set OLLAMA_FLASH_ATTENTION: true, or drop OLLAMA_KV_CACHE_TYPE' % (cache, state)]


@pytest.mark.parametrize('settings', [
    {'OLLAMA_KV_CACHE_TYPE': 'q4_0', 'OLLAMA_FLASH_ATTENTION': True},
    {'OLLAMA_KV_CACHE_TYPE': 'q8_0', 'OLLAMA_FLASH_ATTENTION': '1'},
    {'OLLAMA_KV_CACHE_TYPE': 'f16'},
    {'OLLAMA_FLASH_ATTENTION': False},
])
def test_kv_cache_with_flash_attention_or_unquantized_is_fine(settings):
    assert ollama_settings_errors(settings, '0.32.15') == []

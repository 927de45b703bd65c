# -*- coding: utf-8 -*-
# Copyright: llmops.ollama contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text

_GO_DURATION = re.compile(r'^[-+]?((\d+(\.\d*)?|\.\d+)(ns|us|\u00b5s|ms|s|m|h))+$|^0$')
_INTEGER = re.compile(r'^-?\d+$')
_HOST = re.compile(r'^(?:(?P<scheme>https?)://)?(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]*)(?::(?P<port>\d+))?/?$')
_GO_BOOLEANS = ('1', 't', 'T', 'TRUE', 'true', 'True', '0', 'f', 'F', 'FALSE', 'false', 'False')


def _version_tuple(version):
    match = re.match(r'^v?(\d+)\.(\d+)\.(\d+)', to_text(version))
    if not match:
        raise AnsibleFilterError('ollama version %r is not of the form X.Y.Z (like 0.32.15)' % (version,))
    return tuple(int(part) for part in match.groups())


def _check_host(value):
    match = _HOST.match(value)
    if not match:
        return 'must be [http[s]://]HOST[:PORT], like 127.0.0.1:11434'
    port = match.group('port')
    if port is not None and not 0 < int(port) < 65536:
        return 'has port %s, outside 1-65535' % port
    return None


def _check_duration(value):
    if _INTEGER.match(value) or _GO_DURATION.match(value):
        return None
    return 'must be a number of seconds or a Go duration like 5m, 24h or -1 (forever)'


def _check_count(value):
    if re.match(r'^\d+$', value):
        return None
    return 'must be a whole number >= 0'


def _check_bool(value):
    if value in _GO_BOOLEANS:
        return None
    return 'must be true or false'


def _check_path(value):
    if value.startswith('/'):
        return None
    return 'must be an absolute path'


def _check_choice(*choices):
    def check(value):
        if value in choices:
            return None
        return 'must be one of %s' % ', '.join(choices)
    return check


def _check_list(value):
    if all(item.strip() for item in value.split(',')):
        return None
    return 'must be a comma-separated list without empty items'


# A network such as 10.0.0.0/8 or fd00::/8, with or without a scheme in front.
_CIDR = re.compile(r'^(?:[a-z]+://)?[0-9A-Fa-f.:\[\]]+/\d{1,3}/?$')


def _check_origins(value):
    problem = _check_list(value)
    if problem:
        return problem
    networks = [item.strip() for item in value.split(',') if _CIDR.match(item.strip())]
    if networks:
        return ('has the network %s: Ollama matches origins as URLs with * wildcards, never as CIDR ranges, '
                'so it matches nothing; list origins such as http://10.0.0.5:3000 or http://10.0.0.*'
                % ', '.join(networks))
    return None


def _check_text(value):
    return None


# name: (check, first version that reads it, first version that no longer does)
SETTINGS = {
    'OLLAMA_HOST': (_check_host, None, None),
    'OLLAMA_ORIGINS': (_check_origins, None, None),
    'OLLAMA_MODELS': (_check_path, None, None),
    'OLLAMA_KEEP_ALIVE': (_check_duration, None, None),
    'OLLAMA_NUM_PARALLEL': (_check_count, None, None),
    'OLLAMA_MAX_LOADED_MODELS': (_check_count, None, None),
    'OLLAMA_MAX_QUEUE': (_check_count, None, None),
    'OLLAMA_FLASH_ATTENTION': (_check_bool, None, None),
    'OLLAMA_KV_CACHE_TYPE': (_check_choice('f16', 'q8_0', 'q4_0'), None, None),
    'OLLAMA_CONTEXT_LENGTH': (_check_count, (0, 5, 13), None),
    'OLLAMA_DEBUG': (_check_choice('0', '1', '2', 'true', 'false'), None, None),
    'OLLAMA_NOPRUNE': (_check_bool, None, None),
    'OLLAMA_SCHED_SPREAD': (_check_bool, None, None),
    'OLLAMA_GPU_OVERHEAD': (_check_count, None, None),
    'OLLAMA_LOAD_TIMEOUT': (_check_duration, None, None),
    'OLLAMA_NOHISTORY': (_check_bool, None, None),
    'OLLAMA_LLM_LIBRARY': (_check_text, None, None),
    'OLLAMA_MULTIUSER_CACHE': (_check_bool, None, (0, 30, 0)),
    'OLLAMA_NEW_ENGINE': (_check_bool, None, (0, 30, 0)),
    'OLLAMA_REMOTES': (_check_list, (0, 12, 0), None),
    'OLLAMA_NO_CLOUD': (_check_bool, (0, 16, 2), None),
    'OLLAMA_VULKAN': (_check_bool, (0, 12, 11), None),
    'OLLAMA_GO_TEMPLATE': (_check_bool, None, None),
    'OLLAMA_DEBUG_LOG_REQUESTS': (_check_bool, None, None),
    'OLLAMA_AUTH': (_check_bool, None, None),
    'OLLAMA_IGPU_ENABLE': (_check_bool, None, None),
    'OLLAMA_EDITOR': (_check_text, None, None),
    'OLLAMA_MAX_TRANSFER_STREAMS': (_check_count, None, None),
    'OLLAMA_EXPERIMENT': (_check_text, None, None),
    'CUDA_VISIBLE_DEVICES': (_check_text, None, None),
    'HIP_VISIBLE_DEVICES': (_check_text, None, None),
    'ROCR_VISIBLE_DEVICES': (_check_text, None, None),
    'GGML_VK_VISIBLE_DEVICES': (_check_text, None, None),
    'GPU_DEVICE_ORDINAL': (_check_text, None, None),
    'HSA_OVERRIDE_GFX_VERSION': (_check_text, None, None),
    'HTTPS_PROXY': (_check_text, None, None),
    'NO_PROXY': (_check_text, None, None),
}

# Gone before the oldest release this collection installs; named so the message can say so.
REMOVED = {
    'OLLAMA_RUNNERS_DIR': '0.3.11',
    'OLLAMA_TMPDIR': '0.5.2',
    'OLLAMA_MAX_VRAM': '0.7.0',
    'OLLAMA_INTEL_GPU': '0.12.11',
}


def setting_text(value):
    """Render a setting the way Ollama parses it: booleans as true/false, everything else as text."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return to_text(value)


def ollama_settings_errors(settings, version):
    if not isinstance(settings, dict):
        raise AnsibleFilterError('ollama settings must be a dict of OLLAMA_* names to values, got %s' % type(settings).__name__)
    release = _version_tuple(version)
    errors = []
    for name in sorted(settings):
        value = settings[name]
        if name in REMOVED:
            errors.append('%s was removed in Ollama %s: drop it from ollama_settings' % (name, REMOVED[name]))
            continue
        if name not in SETTINGS:
            errors.append('%s is not a setting Ollama reads: fix the name, or put it in ollama_extra_environment' % name)
            continue
        check, added, removed = SETTINGS[name]
        if added and release < added:
            errors.append('%s needs Ollama %s or newer (installing %s)' % (name, '.'.join(map(str, added)), version))
        elif removed and release >= removed:
            errors.append('%s was removed in Ollama %s (installing %s): drop it' % (name, '.'.join(map(str, removed)), version))
        if value is None or isinstance(value, (dict, list)):
            errors.append('%s must be a single value, got %r' % (name, value))
            continue
        if isinstance(value, bool) and check is not _check_bool:
            errors.append('%s must not be a boolean' % name)
            continue
        problem = check(setting_text(value).strip('"\''))
        if problem:
            errors.append('%s=%s %s' % (name, setting_text(value), problem))
    errors.extend(_kv_cache_errors(settings))
    return errors


def _kv_cache_errors(settings):
    """A quantized K/V cache needs flash attention, or Ollama silently keeps f16.

    Unset OLLAMA_FLASH_ATTENTION leaves flash attention to each model's default, so the setting would work for
    some models only; this is refused like an explicit false, so that what is configured is what runs.
    """
    cache = setting_text(settings.get('OLLAMA_KV_CACHE_TYPE', 'f16')).strip('"\'')
    flash = setting_text(settings.get('OLLAMA_FLASH_ATTENTION', '')).strip('"\'')
    if cache not in ('q8_0', 'q4_0') or flash in ('1', 't', 'T', 'TRUE', 'true', 'True'):
        return []
    return ['OLLAMA_KV_CACHE_TYPE=%s quantizes the K/V cache only with flash attention on, and OLLAMA_FLASH_ATTENTION is %s '
            '(the cache would stay f16): set OLLAMA_FLASH_ATTENTION: true, or drop OLLAMA_KV_CACHE_TYPE'
            % (cache, 'off' if flash else 'unset')]


def ollama_environment(settings):
    """The settings as systemd/compose environment values (all text, booleans as true/false)."""
    return dict((name, setting_text(value)) for name, value in settings.items())


def ollama_setting_names(unused_input=None):
    """Every setting name ollama_settings_errors knows, current and removed."""
    return sorted(set(SETTINGS) | set(REMOVED))


class FilterModule(object):
    def filters(self):
        return {
            'ollama_settings_errors': ollama_settings_errors,
            'ollama_environment': ollama_environment,
            'ollama_setting_names': ollama_setting_names,
        }

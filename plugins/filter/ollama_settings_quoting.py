# Copyright (c) 2026, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Quoting of server environment values for the files the ollama role writes, and checks of its checksum pins.

Each file format reads escapes differently; a value written unquoted or with the wrong escapes reaches the server
changed (systemd expands %, compose interpolates $), or breaks the file.
"""

from __future__ import annotations

import json
import re

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text

_SHA256 = re.compile(r'^(sha256:)?[0-9a-fA-F]{64}$')
RELEASE_ARCHES = ('amd64', 'arm64')


def _text(value, what, line_breaks=True):
    text = to_text(value)
    # Which value is not said: it may be a secret.
    if '\0' in text:
        raise AnsibleFilterError('%s cannot hold a NUL character' % what)
    if not line_breaks and ('\n' in text or '\r' in text):
        raise AnsibleFilterError('%s cannot hold a line break' % what)
    return text


def ollama_systemd_quote(assignment):
    """NAME=value as one quoted word of a systemd Environment= line: \\ and " escaped, % doubled, line breaks as C escapes."""
    text = _text(assignment, 'a systemd Environment= value')
    # systemd unquotes Environment= words with C unescaping, so \n and \r come back as line breaks.
    text = text.replace('\\', '\\\\').replace('"', '\\"').replace('%', '%%').replace('\n', '\\n').replace('\r', '\\r')
    return '"%s"' % text


def ollama_compose_quote(value):
    """A compose.yaml scalar: a JSON (hence YAML) double-quoted string with $ doubled against interpolation."""
    return json.dumps(_text(value, 'a compose environment value')).replace('$', '$$')


def ollama_env_file_quote(value):
    """A value of an environment file that both systemd (EnvironmentFile=) and compose (env_file) read literally."""
    # The two readers disagree on line breaks inside quotes, so a secret stays on one line.
    text = _text(value, 'an environment file value', line_breaks=False)
    if "'" in text:
        raise AnsibleFilterError("an environment file value cannot hold a single quote (percent-encode it in a URL: %27)")
    # Single quotes: no escapes, no $ or % expansion in either reader.
    return "'%s'" % text


def ollama_checksum_errors(checksums, variable='ollama_release_checksums'):
    """Problems of a {version: {arch: sha256}} pin dict, one message each; empty when it is valid."""
    if not isinstance(checksums, dict):
        return ['%s must map versions to {amd64: sha256:<hex>, arm64: ...}, got %s' % (variable, type(checksums).__name__)]
    errors = []
    for version in sorted(checksums, key=to_text):
        pins = checksums[version]
        where = "%s['%s']" % (variable, to_text(version))
        if not isinstance(pins, dict) or not pins:
            errors.append('%s must map architectures (%s) to sha256:<64 hex digits>' % (where, ', '.join(RELEASE_ARCHES)))
            continue
        for arch in sorted(pins, key=to_text):
            if arch not in RELEASE_ARCHES:
                errors.append('%s has architecture %s; Ollama ships %s' % (where, to_text(arch), ' and '.join(RELEASE_ARCHES)))
            elif not isinstance(pins[arch], str) or not _SHA256.match(pins[arch]):
                errors.append("%s['%s'] must be sha256:<64 hex digits>, got %s" % (where, arch, to_text(pins[arch])))
    return errors


class FilterModule(object):
    def filters(self):
        return {
            'ollama_systemd_quote': ollama_systemd_quote,
            'ollama_compose_quote': ollama_compose_quote,
            'ollama_env_file_quote': ollama_env_file_quote,
            'ollama_checksum_errors': ollama_checksum_errors,
        }

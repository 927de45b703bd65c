# Copyright (c) 2025, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Ollama model names, parsed, validated, matched and displayed as upstream's types/model/name.go does.

Internal to llmops.ollama, not a public API: it may change in any release (plugins/module_utils/README.md).
"""

import re

DEFAULT_SCHEME = 'https'
DEFAULT_HOST = 'registry.ollama.ai'
DEFAULT_NAMESPACE = 'library'
DEFAULT_TAG = 'latest'

# Upstream replaces a part that is present but empty ("m:", "/m") by a marker that never validates.
_MISSING = '!MISSING!'

# kind: (pattern, max length); every part is at least one character and starts with [A-Za-z0-9_].
_PARTS = (
    ('host', re.compile(r'[A-Za-z0-9_][A-Za-z0-9_.:-]*\Z'), 350),
    ('namespace', re.compile(r'[A-Za-z0-9_][A-Za-z0-9_-]*\Z'), 80),
    ('model', re.compile(r'[A-Za-z0-9_][A-Za-z0-9_.-]*\Z'), 80),
    ('tag', re.compile(r'[A-Za-z0-9_][A-Za-z0-9_.-]*\Z'), 80),
)

_RULES = {
    'host': 'letters, digits, "_", "-", "." and ":" (1-350 characters)',
    'namespace': 'letters, digits, "_" and "-", no "." (1-80 characters)',
    'model': 'letters, digits, "_", "-" and "." (1-80 characters)',
    'tag': 'letters, digits, "_", "-" and "." (1-80 characters)',
}


class InvalidModelName(ValueError):
    """Raised with a one-line explanation of which part of a model name is wrong."""


def _cut_last(text, sep):
    """Split at the last `sep`; a side left empty becomes the never-valid marker, as upstream's cutPromised."""
    i = text.rfind(sep)
    if i < 0:
        return text, None
    return text[:i] or _MISSING, text[i + len(sep):] or _MISSING


class ModelName:
    """A fully qualified model name: scheme, host, namespace, model and tag, case preserved."""

    __slots__ = ('scheme', 'host', 'namespace', 'model', 'tag')

    def __init__(self, host=DEFAULT_HOST, namespace=DEFAULT_NAMESPACE, model='', tag=DEFAULT_TAG, scheme=DEFAULT_SCHEME):
        self.scheme = scheme
        self.host = host
        self.namespace = namespace
        self.model = model
        self.tag = tag

    @classmethod
    def parse_bare(cls, text):
        """Split `[scheme://][host/][namespace/]model[:tag]` without validating; missing parts get defaults."""
        parts = {}
        rest = text
        # ":" is not allowed in a tag's path, so only a ":" after the last "/" starts a tag (host:port stays).
        if rest.rfind(':') > rest.rfind('/'):
            rest, parts['tag'] = _cut_last(rest, ':')
        rest, model = _cut_last(rest, '/')
        if model is None:
            parts['model'] = rest
        else:
            parts['model'] = model
            rest, namespace = _cut_last(rest, '/')
            if namespace is None:
                parts['namespace'] = rest
            else:
                parts['namespace'] = namespace
                scheme, sep, host = rest.partition('://')
                if sep:
                    parts['scheme'] = scheme
                    parts['host'] = host
                else:
                    parts['host'] = rest
        return cls(**parts)

    @classmethod
    def parse(cls, text):
        """Parse and validate; raises InvalidModelName naming the offending part and the rule it breaks."""
        if not isinstance(text, str) or not text:
            raise InvalidModelName('invalid model name %r: the name is empty' % (text,))
        name = cls.parse_bare(text)
        name._validate(text)
        if name.scheme not in ('http', 'https'):
            raise InvalidModelName('invalid model name %r: scheme %r must be http or https' % (text, name.scheme))
        return name

    @classmethod
    def from_parts(cls, host, namespace, model, tag):
        """A name from the four parts of a manifest path, validated as parse does: no part may be "." or ".." or hold a
        "/", so the name's manifest_path stays where it says."""
        name = cls(host=host, namespace=namespace, model=model, tag=tag)
        name._validate('/'.join((host, namespace, model, tag)))
        return name

    def _validate(self, text):
        for kind, pattern, max_len in _PARTS:
            value = getattr(self, kind)
            if value == _MISSING:
                raise InvalidModelName('invalid model name %r: the %s part is empty' % (text, kind))
            if not 1 <= len(value) <= max_len or not pattern.match(value):
                raise InvalidModelName('invalid model name %r: %s %r must start with a letter, digit or "_" and use only %s'
                                       % (text, kind, value, _RULES[kind]))

    def parts(self):
        return (self.host, self.namespace, self.model, self.tag)

    def key(self):
        """Identity for matching: upstream compares every part case-insensitively (ASCII only)."""
        return tuple(part.lower() for part in self.parts())

    def matches(self, other):
        return self.key() == other.key()

    @property
    def display(self):
        """The shortest form the API shows in `name`/`model`, always with a tag."""
        if self.host.lower() != DEFAULT_HOST:
            return '%s/%s/%s:%s' % self.parts()
        if self.namespace.lower() != DEFAULT_NAMESPACE:
            return '%s/%s:%s' % (self.namespace, self.model, self.tag)
        return '%s:%s' % (self.model, self.tag)

    @property
    def fullname(self):
        return '%s/%s/%s:%s' % self.parts()

    @property
    def manifest_path(self):
        """Where the store keeps this model's manifest, relative to the models directory."""
        return 'manifests/%s/%s/%s/%s' % self.parts()

    def __str__(self):
        return self.display

    def __repr__(self):
        return 'ModelName(%r)' % self.fullname


def find_model(name, models):
    """Return the entry of an /api/tags or /api/ps `models` list whose name matches `name`, or None."""
    for entry in models or []:
        try:
            candidate = ModelName.parse(entry.get('name') or entry.get('model') or '')
        except InvalidModelName:
            continue
        if candidate.matches(name):
            return entry
    return None

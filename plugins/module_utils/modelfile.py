# Copyright (c) 2025, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Modelfiles: parsed as upstream's parser/parser.go does, turned into the /api/create request the `ollama create` CLI sends.

Internal to llmops.ollama, not a public API: it may change in any release (plugins/module_utils/README.md).
"""

import hashlib
import json
import os

COMMANDS = ('from', 'license', 'template', 'system', 'adapter', 'draft', 'renderer', 'parser', 'parameter', 'message', 'requires')
MESSAGE_ROLES = ('system', 'user', 'assistant')

# api.Options and api.Runner fields by JSON type, as api.FormatParams converts them.
INT_PARAMETERS = ('num_ctx', 'num_batch', 'num_gpu', 'main_gpu', 'num_thread', 'num_keep', 'seed', 'num_predict', 'top_k', 'repeat_last_n')
FLOAT_PARAMETERS = ('top_p', 'min_p', 'typical_p', 'temperature', 'repeat_penalty', 'presence_penalty', 'frequency_penalty')
BOOL_PARAMETERS = ('use_mmap',)
LIST_PARAMETERS = ('stop',)
# Accepted by the CLI with a warning and dropped.
DEPRECATED_PARAMETERS = ('penalize_newline', 'low_vram', 'f16_kv', 'logits_all', 'vocab_only', 'use_mlock', 'mirostat', 'mirostat_tau',
                         'mirostat_eta')

_NIL, _NAME, _VALUE, _PARAMETER, _MESSAGE, _COMMENT = range(6)
_INVALID_COMMAND = 'command must be one of %s, or "%s"' % (', '.join('"%s"' % c for c in COMMANDS[:-1]), COMMANDS[-1])
_INVALID_ROLE = 'message role must be one of "system", "user", or "assistant"'


class ModelfileError(ValueError):
    """An invalid Modelfile or parameter, with upstream's wording and the line when known."""

    def __init__(self, msg, line=None):
        super(ModelfileError, self).__init__('(line %d): %s' % (line, msg) if line else msg)


class _UnexpectedEOF(Exception):
    pass


def _is_space(char):
    return char in ' \t'


def _is_newline(char):
    return char in '\r\n'


def _is_alpha(char):
    return 'a' <= char <= 'z' or 'A' <= char <= 'Z'


def _unquote(text):
    """Strip one level of \"\"\" or \" quotes; (None, False) while a quoted value is still open."""
    if text[:3] == '"""':
        if len(text) >= 6 and text[-3:] == '"""':
            return text[3:-3], True
        return None, False
    if text[:1] == '"':
        if len(text) >= 2 and text[-1] == '"':
            return text[1:-1], True
        return None, False
    return text, True


def _next_state(char, state):
    """The transition table of upstream's parseRuneForState: (next state, character to keep or None)."""
    if state == _NIL:
        if char == '#':
            return _COMMENT, None
        if _is_space(char) or _is_newline(char):
            return _NIL, None
        return _NAME, char
    if state == _NAME:
        if _is_alpha(char):
            return _NAME, char
        if _is_space(char):
            return _VALUE, None
        raise ValueError(_INVALID_COMMAND)
    if state == _VALUE:
        if _is_newline(char) or _is_space(char):
            return _NIL, char
        return _VALUE, char
    if state in (_PARAMETER, _MESSAGE):
        if _is_alpha(char) or state == _PARAMETER and (char.isdigit() and char.isascii() or char == '_'):
            return state, char
        if _is_space(char):
            return _VALUE, None
        raise _UnexpectedEOF()
    # _COMMENT
    return (_NIL, None) if _is_newline(char) else (_COMMENT, None)


def parse_modelfile(text):
    """Parse Modelfile text into a list of (command, argument) pairs; FROM becomes 'model', PARAMETER its parameter name.

    Commands are case-insensitive, values run to the end of the line unless quoted with \" or \"\"\" (which may span
    lines), `#` starts a comment line, and MESSAGE arguments become 'role: content'.
    """
    if text.startswith('\ufeff'):
        text = text[1:]
    commands = []
    state = _NIL
    buf = []
    name = role = None
    line = 1
    for char in text:
        if _is_newline(char):
            line += 1
        try:
            nxt, keep = _next_state(char, state)
        except _UnexpectedEOF:
            raise ModelfileError('unexpected EOF: %s' % ''.join(buf))
        except ValueError as e:
            raise ModelfileError(str(e), line)
        if nxt != state:
            word = ''.join(buf)
            if state == _NAME:
                lowered = word.lower()
                if lowered not in COMMANDS:
                    raise ModelfileError(_INVALID_COMMAND, line)
                if lowered == 'from':
                    name = 'model'
                elif lowered == 'parameter':
                    nxt = _PARAMETER
                else:
                    name = lowered
                    if lowered == 'message':
                        nxt = _MESSAGE
            elif state == _PARAMETER:
                name = word
            elif state == _MESSAGE:
                if word not in MESSAGE_ROLES:
                    raise ModelfileError(_INVALID_ROLE, line)
                role = word
            elif state == _VALUE:
                value, closed = _unquote(word.strip())
                if not closed or _is_space(char):
                    # Still inside the value: keep the space or newline verbatim.
                    buf.append(char)
                    continue
                if role is not None:
                    value = '%s: %s' % (role, value)
                    role = None
                commands.append((name, value))
            buf = []
            state = nxt
        if keep is not None and keep.isprintable():
            buf.append(keep)

    if state == _VALUE:
        value, closed = _unquote(''.join(buf).strip())
        if not closed:
            raise ModelfileError('unexpected EOF')
        if role is not None:
            value = '%s: %s' % (role, value)
        commands.append((name, value))
    elif state not in (_NIL, _COMMENT):
        raise ModelfileError('unexpected EOF')

    if not any(command == 'model' for command, dummy in commands):
        raise ModelfileError('no FROM line')
    return commands


def _parse_bool(value):
    """strconv.ParseBool."""
    if isinstance(value, bool):
        return value
    text = str(value)
    if text in ('1', 't', 'T', 'TRUE', 'true', 'True'):
        return True
    if text in ('0', 'f', 'F', 'FALSE', 'false', 'False'):
        return False
    raise ValueError(text)


def format_parameter(key, values):
    """Convert a parameter's raw values (strings from a Modelfile, or typed values from YAML) as api.FormatParams does.

    Returns None for deprecated parameters, which the CLI drops.
    """
    if key in DEPRECATED_PARAMETERS:
        return None
    first = values[0]
    try:
        if key in LIST_PARAMETERS:
            return [str(v) for v in values]
        if key in INT_PARAMETERS:
            if isinstance(first, bool) or isinstance(first, float) and not first.is_integer():
                raise ValueError(first)
            return int(str(first).strip()) if not isinstance(first, (int, float)) else int(first)
        if key in FLOAT_PARAMETERS:
            if isinstance(first, bool):
                raise ValueError(first)
            return float(first)
        if key in BOOL_PARAMETERS:
            return _parse_bool(first)
    except ValueError:
        kind = 'int' if key in INT_PARAMETERS else 'float' if key in FLOAT_PARAMETERS else 'bool'
        raise ModelfileError('invalid %s value [%s] for parameter %s' % (kind, ' '.join(str(v) for v in values), key))
    raise ModelfileError("unknown parameter '%s'" % key)


def format_parameters(params):
    """{name: value or list of values} -> the typed `parameters` object of /api/create."""
    out = {}
    for key, value in (params or {}).items():
        values = list(value) if isinstance(value, (list, tuple)) else [value]
        if not values:
            continue
        converted = format_parameter(key, values)
        if converted is not None:
            out[key] = converted
    return out


def _expand_path(path, base_dir):
    """Absolute path of a FROM/ADAPTER argument; with no base_dir only absolute (or ~) paths count, else None."""
    if path.startswith('~'):
        path = os.path.expanduser(path)
    if base_dir is None:
        return path if os.path.isabs(path) else None
    return os.path.abspath(os.path.join(base_dir, path))


def file_digest(path):
    sha = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1024 * 1024), b''):
            sha.update(chunk)
    return 'sha256:' + sha.hexdigest()


class LocalFile:
    """A file on the managed host that is uploaded as a blob before /api/create references it by digest."""

    def __init__(self, path):
        self.path = path
        self.name = os.path.basename(path)
        self.size = os.path.getsize(path)
        self.digest = file_digest(path)


def create_request(commands, base_dir):
    """Turn parsed commands into (request body without `model`, list of LocalFile to upload), as the CLI does.

    FROM names an existing local path (a GGUF file) or else a model; ADAPTER must be a local file. Relative paths are
    resolved from base_dir, or are not paths at all when base_dir is None.
    """
    request = {}
    files = []
    params = {}
    messages = []
    licenses = []
    for command, arg in commands:
        if command in ('model', 'adapter'):
            path = _expand_path(arg, base_dir)
            if command == 'model' and (path is None or not os.path.exists(path)):
                request['from'] = arg
                continue
            label = 'FROM' if command == 'model' else 'ADAPTER'
            if path is None:
                raise ModelfileError('%s %s: give the absolute path of the file on the managed host' % (label, arg))
            if os.path.isdir(path):
                raise ModelfileError('%s %s is a directory: only single GGUF files are supported here; import safetensors '
                                     'directories with `ollama create` on the host' % (label, arg))
            if not os.path.isfile(path):
                raise ModelfileError('%s %s: no such file on the managed host' % (label, arg))
            local = LocalFile(path)
            files.append(local)
            request.setdefault('files' if command == 'model' else 'adapters', {})[local.name] = local.digest
        elif command in ('template', 'system', 'renderer', 'parser', 'requires'):
            request[command] = arg
        elif command == 'license':
            licenses.append(arg)
        elif command == 'message':
            role, dummy, content = arg.partition(': ')
            messages.append({'role': role, 'content': content})
        elif command == 'draft':
            raise ModelfileError('DRAFT is not supported by this module; use `ollama create` on the host')
        else:
            params.setdefault(command, []).append(arg)
    parameters = format_parameters(params)
    if parameters:
        request['parameters'] = parameters
    if messages:
        request['messages'] = messages
    if licenses:
        request['license'] = licenses
    return request, files


def _quote(text):
    """Quote a value for a Modelfile so that parse_modelfile reads it back unchanged."""
    if '\n' in text or text != text.strip() or text.startswith('"') or not text:
        return '"""%s"""' % text
    return text


def render_modelfile(request):
    """The Modelfile text for servers older than v0.5.5, whose /api/create takes `modelfile`; blobs are named `@sha256:...`."""
    lines = []
    if request.get('from'):
        lines.append('FROM %s' % request['from'])
    for digest in (request.get('files') or {}).values():
        lines.append('FROM @%s' % digest)
    for digest in (request.get('adapters') or {}).values():
        lines.append('ADAPTER @%s' % digest)
    for key in ('template', 'system'):
        if key in request:
            lines.append('%s %s' % (key.upper(), _quote(request[key])))
    for key, value in sorted((request.get('parameters') or {}).items()):
        for item in value if isinstance(value, list) else [value]:
            text = json.dumps(item) if isinstance(item, bool) else str(item)
            lines.append('PARAMETER %s %s' % (key, _quote(text) if isinstance(item, str) else text))
    for message in request.get('messages') or []:
        lines.append('MESSAGE %s %s' % (message['role'], _quote(message['content'])))
    for text in request.get('license') or []:
        lines.append('LICENSE %s' % _quote(text))
    return '\n'.join(lines) + '\n'


def _go_unquote(text):
    """Decode a value printed with Go's %#v: a quoted string, or a number or bool."""
    if text.startswith('"'):
        try:
            return json.loads(text)
        except ValueError:
            return text[1:-1]
    if text in ('true', 'false'):
        return text == 'true'
    try:
        return float(text)
    except ValueError:
        return text


def parse_show_parameters(text):
    """The `parameters` string of /api/show (one `name value` per line, lists repeated) -> {name: [values]}."""
    out = {}
    for row in (text or '').splitlines():
        key, dummy, value = row.strip().partition(' ')
        if key:
            out.setdefault(key, []).append(_go_unquote(value.strip()))
    return out


def _blob_id(path_or_digest):
    """'/x/blobs/sha256-ab..' or 'sha256:ab..' -> 'sha256-ab..', so show's FROM paths compare with request digests."""
    return os.path.basename(path_or_digest.lstrip('@')).replace(':', '-')


def _license_text(value):
    if isinstance(value, list):
        return '\n'.join(v for v in value if v)
    return value or ''


def model_state(show):
    """The comparable content of an /api/show answer: weights and adapters (blob ids), system, template,
    parameters ({name: [values]}), messages and license.

    Weights and adapters come from the FROM/ADAPTER lines of the generated `modelfile`; None when it cannot be read.
    """
    weights = adapters = None
    try:
        commands = parse_modelfile(show.get('modelfile') or '')
    except ModelfileError:
        commands = None
    if commands is not None:
        weights = sorted(_blob_id(arg) for command, arg in commands if command == 'model')
        adapters = sorted(_blob_id(arg) for command, arg in commands if command == 'adapter')
    return {
        'weights': weights,
        'adapters': adapters,
        'system': show.get('system') or '',
        'template': show.get('template') or '',
        'parameters': parse_show_parameters(show.get('parameters')),
        'messages': [{'role': m.get('role'), 'content': m.get('content')} for m in show.get('messages') or []],
        'license': _license_text(show.get('license')),
    }


def expected_state(request, base):
    """What /api/create makes of `request`, as far as it can be predicted.

    `base` is model_state() of the `from` model, or None when the model comes from local files (GGUF): then only what
    the request sets is predictable. The server replaces template, system and messages when given, merges parameters
    over the base's, and appends licenses: requested licenses must be the model's last ones (`license_tail`).
    """
    expected = dict(base) if base else {}
    expected['parameters'] = dict(base['parameters']) if base else {}
    if request.get('files'):
        expected['weights'] = sorted(_blob_id(d) for d in request['files'].values())
    if request.get('adapters'):
        expected['adapters'] = sorted((expected.get('adapters') or []) + [_blob_id(d) for d in request['adapters'].values()])
    for key in ('system', 'template'):
        if request.get(key):
            expected[key] = request[key]
    if request.get('messages'):
        expected['messages'] = [{'role': m['role'], 'content': m['content']} for m in request['messages']]
    if request.get('license'):
        expected.pop('license', None)
        expected['license_tail'] = _license_text(request['license'])
    for key, value in (request.get('parameters') or {}).items():
        expected['parameters'][key] = list(value) if isinstance(value, list) else [value]
    return expected


def _same_value(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or str(a).lower() == str(b).lower()
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        # float32 round trips (0.7 -> 0.699999988) must not count as a change.
        return abs(a - b) <= 1e-6 * max(abs(a), abs(b), 1)
    return a == b


def _same_parameters(installed, expected, complete):
    keys = set(expected) | (set(installed) if complete else set())
    for key in keys:
        mine, theirs = installed.get(key, []), expected.get(key, [])
        if len(mine) != len(theirs) or not all(_same_value(a, b) for a, b in zip(mine, theirs)):
            return False
    return True


def state_differences(installed, expected, base_known=True):
    """Names of the fields in which an installed model_state() differs from expected_state(); [] means up to date."""
    differences = []
    for key in ('weights', 'adapters', 'system', 'template', 'messages', 'license'):
        if key not in expected or expected[key] is None or installed.get(key) is None:
            continue
        if installed[key] != expected[key]:
            differences.append(key)
    tail = expected.get('license_tail')
    if tail is not None and installed['license'] != tail and not installed['license'].endswith('\n' + tail):
        differences.append('license')
    if not _same_parameters(installed['parameters'], expected['parameters'], complete=base_known):
        differences.append('parameters')
    return differences

# Copyright (c) 2025, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Client for the Ollama HTTP API, shared by the llmops.ollama modules.

Only the standard library and ansible.module_utils.urls: the modules run on managed hosts without extra Python packages.

Internal to llmops.ollama, not a public API: it may change in any release (plugins/module_utils/README.md).
"""

import json
import re
import socket
import ssl
import time

from ansible.module_utils.common.text.converters import to_native, to_text
from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.six.moves.urllib.parse import unquote, urlsplit, urlunsplit
from ansible.module_utils.urls import Request

DEFAULT_URL = 'http://127.0.0.1:11434'
USER_AGENT = 'ansible-llmops.ollama'

# Where an operator looks when the server misbehaves, appended to failure messages.
LOG_HINT = '`journalctl -u ollama` (or `docker logs <container>`)'


def ollama_argument_spec():
    """Options every module of the collection takes (documented in the llmops.ollama.ollama doc fragment)."""
    return dict(
        url=dict(type='str', default=DEFAULT_URL),
        timeout=dict(type='float', default=30),
        validate_certs=dict(type='bool', default=True),
        url_username=dict(type='str', aliases=['username']),
        url_password=dict(type='str', no_log=True, aliases=['password']),
        api_token=dict(type='str', no_log=True),
    )


OLLAMA_MUTUALLY_EXCLUSIVE = [('api_token', 'url_username')]
OLLAMA_REQUIRED_TOGETHER = [('url_username', 'url_password')]


class OllamaError(Exception):
    """A failed API call; `str()` is the one-line message a task fails with."""

    def __init__(self, msg, status=None, path=None):
        super(OllamaError, self).__init__(msg)
        self.msg = msg
        self.status = status
        self.path = path


class OllamaUnreachable(OllamaError):
    """Nothing answered at the URL (refused, unresolvable, timed out): worth retrying while a server starts."""


class OllamaAuthError(OllamaError):
    """401/403: credentials missing or wrong; retrying does not help."""


class OllamaTimeout(OllamaError):
    """An operation ran past its time budget."""


_HOST_PORT = re.compile(r'(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]*)(:[0-9]*)?\Z')


def _userinfo(text):
    """The user:password part of a URL's text, or None. Users write passwords with "/", "?" or "#" in them unencoded:
    when what precedes the first of those is no host[:port] and an "@" follows, everything up to the last "@" is taken
    for the userinfo (too much is masked rather than a password shown)."""
    rest = text.partition('://')[2]
    if '@' not in rest:
        return None
    authority = re.split(r'[/?#]', rest, maxsplit=1)[0]
    if '@' in authority:
        return authority.rpartition('@')[0]
    if not _HOST_PORT.match(authority):
        return rest.rpartition('@')[0]
    return None


def redact_url(url):
    """`url` with any user:password@ in it replaced by ********@, for messages."""
    text = to_text(url)
    userinfo = _userinfo(text)
    if userinfo is None:
        return text
    scheme, unused_sep, rest = text.partition('://')
    return '%s://********@%s' % (scheme, rest[len(userinfo) + 1:])


def split_url(url):
    """(url without credentials, user, password) of an http(s) API URL; OllamaError for anything else.

    User and password come percent-decoded, as a browser sends them; both are None when the URL has none.
    """
    text = to_text(url).strip()
    try:
        parts = urlsplit(text)
        parts.port  # pylint: disable=pointless-statement
    except ValueError:
        # Not the parser's words: they quote the part it could not read, which may be a password.
        raise OllamaError('url %s is not a valid URL (check the host, the port, 1-65535, and any brackets): use '
                          'http://HOST:PORT or https://HOST[/PREFIX]' % redact_url(text))
    if parts.scheme.lower() not in ('http', 'https'):
        raise OllamaError('url %s is not an http:// or https:// URL: the modules only talk to the Ollama API over HTTP(S), '
                          'for example http://127.0.0.1:11434' % redact_url(text))
    if not parts.hostname:
        raise OllamaError('url %s has no host: use http://HOST:PORT, for example http://127.0.0.1:11434' % redact_url(text))
    user = password = None
    netloc = parts.netloc
    if '@' in netloc:
        credentials, netloc = netloc.rsplit('@', 1)
        user, sep, password = credentials.partition(':')
        user, password = unquote(user), unquote(password) if sep else None
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, '')).rstrip('/'), user, password


def parse_version(text):
    """'0.12.6' -> ((0, 12, 6), 1, ''); a pre-release ('0.33.0-rc2') sorts before its release."""
    core, sep, pre = to_text(text).strip().lstrip('v').partition('-')
    numbers = []
    for piece in core.split('.'):
        digits = ''
        for char in piece:
            if not char.isdigit():
                break
            digits += char
        numbers.append(int(digits or 0))
    while len(numbers) < 3:
        numbers.append(0)
    return tuple(numbers), 0 if sep else 1, pre


def version_at_least(version, minimum):
    """True when a server `version` has the API behaviour introduced in `minimum`; dev builds (0.0.0) are newest."""
    if parse_version(version)[0] == (0, 0, 0):
        return True
    return parse_version(version) >= parse_version(minimum)


_OPERATORS = (
    ('>=', lambda a, b: a >= b),
    ('<=', lambda a, b: a <= b),
    ('==', lambda a, b: a == b),
    ('!=', lambda a, b: a != b),
    ('>', lambda a, b: a > b),
    ('<', lambda a, b: a < b),
    ('=', lambda a, b: a == b),
)


def version_matches(version, constraint):
    """Check `version` against a constraint such as '>=0.12', '>=0.12,<0.20' or '0.12.3'; raises ValueError on nonsense."""
    clauses = [c.strip() for c in constraint.split(',') if c.strip()]
    if not clauses:
        raise ValueError('empty version constraint %r' % constraint)
    for clause in clauses:
        for operator, compare in _OPERATORS:
            if clause.startswith(operator):
                wanted = clause[len(operator):].strip()
                break
        else:
            operator, compare, wanted = '==', _OPERATORS[2][1], clause
        if not wanted or not wanted.lstrip('v')[:1].isdigit():
            raise ValueError('invalid version constraint %r: expected clauses like ">=0.12" or "<0.20,>=0.12"' % constraint)
        if not compare(parse_version(version), parse_version(wanted)):
            return False
    return True


def _error_text(body):
    """The `error` of an Ollama JSON error body, or the raw text (gin's `404 page not found` is plain text)."""
    text = to_text(body or b'', errors='surrogate_or_replace').strip()
    try:
        data = json.loads(text)
    except ValueError:
        return text
    if isinstance(data, dict) and data.get('error'):
        error = data['error']
        # The OpenAI-compatible endpoints nest the message.
        if isinstance(error, dict):
            return to_text(error.get('message') or error)
        return to_text(error)
    return text


class OllamaClient:
    """Calls the Ollama API at `url`; every failure surfaces as an OllamaError with a one-line message."""

    def __init__(self, url=DEFAULT_URL, timeout=30, validate_certs=True, url_username=None, url_password=None, api_token=None):
        # Credentials in the URL become basic auth, so that the URL in every message is free of them.
        self.url, user, password = split_url(url)
        if user is not None:
            if url_username or api_token:
                raise OllamaError('url %s carries credentials and %s is set too: give them in one place only'
                                  % (redact_url(url), 'url_username' if url_username else 'api_token'))
            url_username, url_password = user, password or ''
        self.timeout = timeout
        headers = {'Accept': 'application/json, application/x-ndjson'}
        if api_token:
            headers['Authorization'] = 'Bearer %s' % api_token
        self._request = Request(
            headers=headers, timeout=timeout, validate_certs=validate_certs, http_agent=USER_AGENT,
            url_username=url_username, url_password=url_password, force_basic_auth=bool(url_username),
            # Ollama never redirects; following one would drop the credentials on another host anyway.
            follow_redirects='none',
        )

    @classmethod
    def from_module(cls, module):
        """The client for a module's options; fails the module with one line on an unusable url.

        Credentials inside url join the module's no_log values, so that no result, message or invocation shows them.
        """
        p = module.params
        credentials = _userinfo(to_text(p['url']))
        if credentials:
            user, sep, password = credentials.partition(':')
            # A user alone (https://TOKEN@host) is the secret itself.
            module.no_log_values.update(value for value in (credentials, password, unquote(password)) if value)
            if not sep:
                module.no_log_values.update(value for value in (user, unquote(user)) if value)
        try:
            return cls(url=p['url'], timeout=p['timeout'], validate_certs=p['validate_certs'],
                       url_username=p['url_username'], url_password=p['url_password'], api_token=p['api_token'])
        except OllamaError as e:
            module.fail_json(msg=str(e))

    # -- transport -------------------------------------------------------------------------------------------------

    def _open(self, method, path, body=None, data=None, headers=None, timeout=None):
        url = self.url + path
        headers = dict(headers or {})
        if body is not None:
            data = json.dumps(body).encode('utf-8')
            headers['Content-Type'] = 'application/json'
        try:
            return self._request.open(method, url, data=data, headers=headers, timeout=timeout or self.timeout)
        except HTTPError as e:
            try:
                raw = e.read()
            except Exception:  # pylint: disable=broad-exception-caught
                raw = b''
            raise self._http_error(method, path, e.code, _error_text(raw) or to_native(e.reason))
        except URLError as e:
            reason = e.reason
            if isinstance(reason, ssl.SSLError):
                raise OllamaError('TLS error talking to Ollama at %s: %s; fix the certificate, or set validate_certs=false for a '
                                  'self-signed one' % (self.url, to_native(reason)), path=path)
            raise OllamaUnreachable('cannot reach Ollama at %s (%s): is the server running and listening there? Check '
                                    '`systemctl status ollama` and %s, or set url' % (self.url, to_native(reason), LOG_HINT), path=path)
        except (socket.timeout, TimeoutError) as e:
            raise OllamaUnreachable('Ollama at %s did not answer %s %s within %s s (%s): the server is overloaded or hung; check %s'
                                    % (self.url, method, path, timeout or self.timeout, to_native(e), LOG_HINT), path=path)
        except (ConnectionError, OSError) as e:
            raise OllamaUnreachable('cannot reach Ollama at %s (%s): is the server running and listening there? Check '
                                    '`systemctl status ollama` and %s, or set url' % (self.url, to_native(e), LOG_HINT), path=path)

    def _http_error(self, method, path, status, text):
        if status == 401:
            return OllamaAuthError('Ollama at %s answered 401 Unauthorized (%s): set url_username/url_password or api_token to the '
                                   'credentials the proxy in front of Ollama expects' % (self.url, text or 'no credentials accepted'),
                                   status=status, path=path)
        if status == 403:
            return OllamaAuthError('Ollama at %s answered 403 Forbidden (%s): the credentials are not allowed, or Ollama rejected the '
                                   'Host/Origin header (see OLLAMA_HOST and OLLAMA_ORIGINS)' % (self.url, text or 'access denied'),
                                   status=status, path=path)
        if status == 503:
            return OllamaError('Ollama at %s is busy (503: %s): retry later (retries/until on the task), or raise OLLAMA_MAX_QUEUE / '
                               'OLLAMA_NUM_PARALLEL' % (self.url, text), status=status, path=path)
        # gin's plain-text answers for unknown paths and methods: this is not Ollama, or not a version that has the call.
        if status == 405 or text == '404 page not found':
            return OllamaError('%s %s%s answered %s %r: url does not point at an Ollama API (or the server is too old for this call)'
                               % (method, self.url, path, status, text), status=status, path=path)
        return OllamaError(text or 'HTTP %s' % status, status=status, path=path)

    def _read(self, response, path):
        try:
            return response.read()
        except (socket.timeout, TimeoutError, ConnectionError, OSError) as e:
            raise OllamaUnreachable('lost the connection to Ollama at %s while reading %s (%s); check %s'
                                    % (self.url, path, to_native(e), LOG_HINT), path=path)
        finally:
            response.close()

    def call(self, method, path, body=None, timeout=None):
        """One request; returns the decoded JSON answer, or None for the empty bodies of delete and copy."""
        response = self._open(method, path, body=body, timeout=timeout)
        raw = self._read(response, path)
        if not raw.strip():
            return None
        try:
            return json.loads(to_text(raw, errors='surrogate_or_replace'))
        except ValueError:
            raise OllamaError('%s %s%s did not answer JSON (%r...): url does not point at an Ollama API'
                              % (method, self.url, path, to_text(raw[:60], errors='surrogate_or_replace')), path=path)

    def stream(self, path, body, on_message=None, deadline=None, timeout=None):
        """POST and read the NDJSON answer line by line; returns the last message.

        An `{"error": ...}` line raises OllamaError wherever it comes: before v0.12.6 even an error that happens before
        any output arrives as HTTP 200 with an NDJSON error line (sometimes carrying `status`). `deadline` (time.time())
        bounds the whole stream, while `timeout` bounds each read.
        """
        response = self._open('POST', path, body=dict(body, stream=True), timeout=timeout)
        last = None
        try:
            while True:
                if deadline is not None and time.time() > deadline:
                    raise OllamaTimeout('%s did not finish in time' % path, path=path)
                try:
                    line = response.readline()
                except (socket.timeout, TimeoutError) as e:
                    if deadline is not None:
                        # Silent for a whole read timeout while a deadline runs: report it as the deadline.
                        raise OllamaTimeout('%s did not finish in time (%s)' % (path, to_native(e)), path=path)
                    raise OllamaUnreachable('Ollama at %s stopped answering during %s (%s); check %s'
                                            % (self.url, path, to_native(e), LOG_HINT), path=path)
                except (ConnectionError, OSError) as e:
                    raise OllamaUnreachable('lost the stream from Ollama at %s during %s (%s); check %s'
                                            % (self.url, path, to_native(e), LOG_HINT), path=path)
                if not line:
                    break
                line = line.strip()
                if not line:
                    continue
                try:
                    message = json.loads(to_text(line, errors='surrogate_or_replace'))
                except ValueError:
                    raise OllamaError('unexpected line in the %s stream from %s: %r' % (path, self.url, to_text(line[:80])), path=path)
                if not isinstance(message, dict):
                    raise OllamaError('unexpected line in the %s stream from %s: %r' % (path, self.url, message), path=path)
                if message.get('error'):
                    raise OllamaError(to_text(message['error']), status=message.get('status'), path=path)
                last = message
                if on_message is not None:
                    on_message(message)
        finally:
            response.close()
        if last is None:
            raise OllamaError('%s%s closed the stream without any answer; check %s' % (self.url, path, LOG_HINT), path=path)
        return last

    # -- API -------------------------------------------------------------------------------------------------------

    def version(self):
        return to_text(self.call('GET', '/api/version').get('version', ''))

    def tags(self):
        return (self.call('GET', '/api/tags') or {}).get('models') or []

    def ps(self):
        return (self.call('GET', '/api/ps') or {}).get('models') or []

    def show(self, model):
        """/api/show of a model, or None when it is not installed."""
        try:
            return self.call('POST', '/api/show', {'model': model})
        except OllamaError as e:
            if e.status == 404:
                return None
            raise

    def delete(self, model):
        self.call('DELETE', '/api/delete', {'model': model})

    def copy(self, source, destination):
        self.call('POST', '/api/copy', {'source': source, 'destination': destination})

    def pull(self, model, insecure=False, on_message=None, deadline=None, timeout=None):
        # Always streamed: progress is visible, and `stream: false` answered differently before v0.7.0.
        return self.stream('/api/pull', {'model': model, 'insecure': insecure}, on_message=on_message, deadline=deadline, timeout=timeout)

    def create(self, body, on_message=None, deadline=None, timeout=None):
        return self.stream('/api/create', body, on_message=on_message, deadline=deadline, timeout=timeout)

    def blob_exists(self, digest):
        try:
            self._read(self._open('HEAD', '/api/blobs/%s' % digest), '/api/blobs')
        except OllamaError as e:
            if e.status == 404:
                return False
            raise
        return True

    def upload_blob(self, digest, path, size, timeout=None):
        with open(path, 'rb') as f:
            response = self._open('POST', '/api/blobs/%s' % digest, data=f, timeout=timeout,
                                  headers={'Content-Type': 'application/octet-stream', 'Content-Length': str(size)})
            self._read(response, '/api/blobs')

    def generate(self, body, timeout=None):
        return self.call('POST', '/api/generate', dict(body, stream=False), timeout=timeout)

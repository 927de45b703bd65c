# Copyright (c) 2025, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The url option: http(s) only, and credentials in it never shown."""

import base64
import contextlib
import io
import re

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.llmops.ollama.plugins.module_utils.ollama import OllamaClient, OllamaError, redact_url, split_url
from ansible_collections.llmops.ollama.plugins.modules import ollama_health, ollama_info, ollama_model

SECRET = 'Pa%24s:w0rd-7f3a'  # percent-encoded in the URL; decoded it is Pa$s:w0rd-7f3a
DECODED = 'Pa$s:w0rd-7f3a'


@pytest.mark.parametrize('url', [
    'file:///etc/passwd', 'ftp://mirror.example/ollama', 'gopher://host:70', 'unix:///run/ollama.sock',
    '127.0.0.1:11434', 'localhost:11434', '/api/tags', '',
])
def test_only_http_and_https(url):
    with pytest.raises(OllamaError) as exc:
        split_url(url)
    assert 'http://' in exc.value.msg and '\n' not in exc.value.msg


@pytest.mark.parametrize('url, clean, user, password', [
    ('http://127.0.0.1:11434/', 'http://127.0.0.1:11434', None, None),
    ('HTTPS://proxy.example/ollama/', 'https://proxy.example/ollama', None, None),
    ('https://alice:%s@proxy.example/ollama' % SECRET, 'https://proxy.example/ollama', 'alice', DECODED),
    ('http://t0ken@[::1]:8080', 'http://[::1]:8080', 't0ken', None),
    ('http://bob:@host', 'http://host', 'bob', ''),
])
def test_credentials_leave_the_url(url, clean, user, password):
    assert split_url(url) == (clean, user, password)


def test_bad_port_and_missing_host_say_so_without_the_secret():
    for url, words in (('http://u:%s@host:99999' % SECRET, 'not a valid URL'), ('http://u:%s@/x' % SECRET, 'has no host')):
        with pytest.raises(OllamaError) as exc:
            split_url(url)
        assert words in exc.value.msg
        assert SECRET not in exc.value.msg and DECODED not in exc.value.msg and '********@' in exc.value.msg


@pytest.mark.parametrize('url, shown', [
    ('https://alice:secret@proxy.example:8443/ollama', 'https://********@proxy.example:8443/ollama'),
    ('http://token@host', 'http://********@host'),
    ('http://host:11434/a@b', 'http://host:11434/a@b'),
    ('http://a:b@c@host/', 'http://********@host/'),
    ('no scheme at all', 'no scheme at all'),
    # Passwords written with "/", "#" or "?" unencoded: what precedes them is no host[:port].
    ('http://alice:pa/ss@host:11434/x', 'http://********@host:11434/x'),
    ('http://alice:pa#ss@host', 'http://********@host'),
    ('http://alice:pa?ss@host/', 'http://********@host/'),
    ('https://alice:s3/cr#t?x@proxy.example/ollama', 'https://********@proxy.example/ollama'),
])
def test_redact_url(url, shown):
    assert redact_url(url) == shown


@pytest.mark.parametrize('password', ['pa/ss0rd', 'pa#ss0rd', 'pa?ss0rd', 'pa/ss@w0rd'])
def test_a_password_with_url_delimiters_never_reaches_the_message(password):
    with pytest.raises(OllamaError) as exc:
        split_url('http://alice:%s@127.0.0.1:11434' % password)
    for piece in [password] + [part for part in re.split(r'[/#?@]', password) if len(part) > 2]:
        assert piece not in exc.value.msg, exc.value.msg
    assert '********@' in exc.value.msg


def test_url_credentials_are_sent_as_basic_auth(stub, answers):
    stub.routes[('GET', '/api/version')] = answers.json(200, {'version': '0.32.15'})
    client = OllamaClient(stub.replace('http://', 'http://alice:%s@' % SECRET))
    assert client.url == stub
    assert client.version() == '0.32.15'
    assert stub.seen[0]['headers']['Authorization'] == 'Basic ' + base64.b64encode(('alice:' + DECODED).encode()).decode()


def test_credentials_in_two_places_are_refused():
    with pytest.raises(OllamaError) as exc:
        OllamaClient('http://alice:%s@127.0.0.1:1' % SECRET, url_username='bob', url_password='x')
    assert 'url_username' in exc.value.msg and SECRET not in exc.value.msg


def run_raw(module, args):
    """main() as Ansible runs it, with the invocation injected; returns the raw JSON text it printed."""
    out = io.StringIO()
    with patch_module_args(dict(args, _ansible_inject_invocation=True)), contextlib.redirect_stdout(out):
        with pytest.raises(SystemExit):
            module.main()
    return out.getvalue()


@pytest.mark.parametrize('module, args', [
    (ollama_info, {}),
    (ollama_health, {'retries': 1, 'wait_timeout': 0}),
    (ollama_model, {'name': 'smollm2:135m'}),
])
@pytest.mark.parametrize('userinfo', ['alice:' + SECRET, 'alice:' + DECODED.replace('$', '%24').replace(':', '%3A'), SECRET])
def test_no_module_output_shows_url_credentials(module, args, userinfo, closed_port, stub, answers):
    stub.routes[('*', '*')] = answers.text(500, 'upstream says %s' % userinfo)
    for base in (closed_port, stub, 'file:///etc/passwd', 'http://host:99999'):
        url = base.replace('://', '://%s@' % userinfo, 1)
        raw = run_raw(module, dict(args, url=url, timeout=2))
        assert '"failed": true' in raw or '"reachable": false' in raw
        for secret in (SECRET, DECODED, userinfo):
            assert secret not in raw, (url, raw)


def test_file_url_is_refused_with_one_line(run_module):
    for module, args in ((ollama_info, {}), (ollama_health, {}), (ollama_model, {'name': 'smollm2:135m'})):
        result = run_module(module, dict(args, url='file:///etc/passwd'))
        assert result['failed'] is True
        assert result['msg'] == ('url file:///etc/passwd is not an http:// or https:// URL: the modules only talk to the '
                                 'Ollama API over HTTP(S), for example http://127.0.0.1:11434')

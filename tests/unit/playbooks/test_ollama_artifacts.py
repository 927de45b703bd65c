# Copyright (c) 2026, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ollama role's input checks on artifacts, secrets and origins: refused in one line before anything changes."""

import json

import pytest

PLAYBOOK = '''
- name: The ollama role's input checks
  hosts: all
  gather_facts: false
  tasks:
    - name: Run the ollama role's input checks
      ansible.builtin.include_role:
        name: llmops.ollama.ollama
        tasks_from: validate.yml
        public: true

    - name: Show what the role would pin
      ansible.builtin.debug:
        msg: "PINNED={{ _ollama_pinned_sha256 }} SECRETS={{ _ollama_secret_environment.keys() | sort | join(',') }}"
'''

HEX = '0123456789abcdef' * 4
MIRROR = 'http://mirror.example:8080/releases'


def run(run_playbook, **variables):
    return run_playbook(PLAYBOOK, 'debian12', extra_vars=variables)


def failure(result):
    """The one line the failing assert gave (the msg of the failed task)."""
    assert result.returncode != 0, result.stdout
    lines = [line for line in result.stdout.splitlines() if line.startswith('fatal: ')]
    assert lines, result.stdout
    return json.loads(lines[-1].split(' => ', 1)[1])['msg']


@pytest.mark.parametrize('variables, pinned', [
    ({}, ''),  # upstream over HTTPS: its sha256sum.txt is trusted
    ({'ollama_release_base_url': MIRROR, 'ollama_release_checksums': {'0.32.15': {'amd64': 'sha256:' + HEX.upper()}}}, HEX),
    ({'ollama_release_base_url': MIRROR, 'ollama_release_sha256': HEX}, HEX),
    ({'ollama_release_base_url': MIRROR, 'ollama_release_sha256': 'sha256:' + HEX,
      'ollama_release_checksums': {'0.32.15': {'amd64': 'sha256:' + 'f' * 64}}}, HEX),
    ({'ollama_release_base_url': 'https://mirror.example/releases'}, ''),
    ({'ollama_release_base_url': MIRROR, 'ollama_install_mode': 'compose'}, ''),
])
def test_pinned_or_https_releases_pass(run_playbook, variables, pinned):
    result = run(run_playbook, **variables)
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'PINNED=%s ' % pinned in result.stdout


@pytest.mark.parametrize('variables', [
    {'ollama_release_base_url': MIRROR},
    # A pin for another version or architecture does not cover this one.
    {'ollama_release_base_url': MIRROR, 'ollama_release_checksums': {'0.31.2': {'amd64': HEX}, '0.32.15': {'arm64': HEX}}},
])
def test_plain_http_mirror_without_a_pin_is_refused(run_playbook, variables):
    assert failure(run(run_playbook, **variables)) == (
        "ollama_release_base_url %s is not https://, so anyone on the way could swap the release and its sha256sum.txt: pin "
        "ollama_release_checksums['0.32.15']['amd64'] to the sha256 of ollama-linux-amd64.tar.zst from upstream's "
        "sha256sum.txt (or set ollama_release_sha256), or serve the mirror over https://." % MIRROR)


@pytest.mark.parametrize('variables, message', [
    ({'ollama_release_checksums': {'0.32.15': HEX}}, "ollama_release_checksums['0.32.15'] must map architectures"),
    ({'ollama_release_sha256': 'abc'}, 'ollama_release_sha256 must be sha256:<64 hex digits> (or the 64 digits), got abc'),
    ({'ollama_image_archive_checksum': 'md5:1'}, 'ollama_image_archive_checksum must be sha256:<64 hex digits>'),
    ({'ollama_image_digest': HEX}, 'ollama_image_digest must be sha256:<64 lowercase hex digits>, got ' + HEX),
])
def test_malformed_pins_are_named(run_playbook, variables, message):
    assert message in failure(run(run_playbook, **variables))


def test_image_archive_over_plain_http_needs_its_checksum(run_playbook):
    archive = 'http://mirror.example/ollama-0.32.15.tar'
    message = failure(run(run_playbook, ollama_install_mode='compose', ollama_image_archive=archive))
    assert message.startswith('ollama_image_archive %s is plain http://' % archive)
    assert 'ollama_image_archive_checksum' in message
    result = run(run_playbook, ollama_install_mode='compose', ollama_image_archive=archive, ollama_image_archive_checksum=HEX)
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize('origins', ['*', 'https://*.example.com', 'https://app.example.com,*'])
def test_wildcard_origins_are_refused_behind_the_proxy(run_playbook, origins):
    message = failure(run(run_playbook, ollama_settings={'OLLAMA_ORIGINS': origins}))
    assert message.startswith('ollama_settings: OLLAMA_ORIGINS=%s contains "*"' % origins)
    assert 'ollama_behind_proxy: false' in message
    result = run(run_playbook, ollama_settings={'OLLAMA_ORIGINS': origins}, ollama_behind_proxy=False)
    assert result.returncode == 0, result.stdout
    result = run(run_playbook, ollama_settings={'OLLAMA_ORIGINS': 'https://app.example.com'})
    assert result.returncode == 0, result.stdout


def test_proxy_variables_and_marked_names_are_secret(run_playbook):
    result = run(run_playbook, ollama_settings={'HTTPS_PROXY': 'http://u:p@proxy:3128', 'NO_PROXY': 'localhost'},
                 ollama_extra_environment={'http_proxy': 'http://u:p@proxy:3128', 'SITE_TOKEN': 't', 'OTHER': 'o'},
                 ollama_secret_setting_names=['SITE_TOKEN'])
    assert result.returncode == 0, result.stdout
    assert 'SECRETS=http_proxy,HTTPS_PROXY,SITE_TOKEN"' in result.stdout


@pytest.mark.parametrize('variables, message', [
    ({'ollama_extra_environment': {'NOTE': 'nul\x00-of-s3cret'}}, 'NOTE hold a NUL character'),
    ({'ollama_extra_environment': {'SITE_TOKEN': 'two\nlines-of-s3cret'}, 'ollama_secret_setting_names': ['SITE_TOKEN']},
     'SITE_TOKEN: a secret value cannot hold a line break'),
    ({'ollama_settings': {'HTTPS_PROXY': "http://u:it's-s3cret@proxy:3128"}},
     'HTTPS_PROXY: a secret value cannot hold a single quote; percent-encode it (%27 in a URL).'),
])
def test_values_that_cannot_be_written_are_refused_without_showing_them(run_playbook, variables, message):
    result = run(run_playbook, **variables)
    assert message in failure(result)
    assert 's3cret' not in result.stdout

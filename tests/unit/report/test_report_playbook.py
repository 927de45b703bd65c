# Copyright (c) 2026, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/report.yml against three local "hosts", each with its own Ollama double, and one that cannot be
reached: run in --check, it changes nothing, writes the JSON and HTML report, flags the drifted host's older
version, other digest, model on the CPU and expiring certificate, and lists the unreachable host. The page opens in Chromium (screenshot
in build/report/fleet-report-playbook.png). playbooks/tasks/last-converge.yml writes what the report reads.
"""

import glob
import json
import os
import re
import subprocess
import sys

import pytest

from .chromium import CHROMIUM, FleetPage, dump_dom, screenshot

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))


def collections_path():
    # In a checkout the collection is linked under .ansible/collections; ansible-test runs it in place, in a copy
    # without that link (a path that does not exist would let Ansible fall back to ~/.ansible/collections).
    parts = ROOT.split(os.sep)
    if parts[-3:-2] == ['ansible_collections']:
        return os.sep.join(parts[:-3])
    return os.path.join(ROOT, '.ansible', 'collections')


def ansible_env(tmp_path):
    return dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path(), ANSIBLE_NOCOLOR='1',
                ANSIBLE_RETRY_FILES_ENABLED='0', ANSIBLE_LOCAL_TEMP=str(tmp_path / 'tmp'),
                ANSIBLE_HOME=str(tmp_path / 'ansible-home'), ANSIBLE_HOST_KEY_CHECKING='0', PWD=str(tmp_path))


def playbook(tmp_path, inventory, path, *args):
    inventory_file = tmp_path / 'inventory.json'
    inventory_file.write_text(json.dumps(inventory))
    return subprocess.run([sys.executable, '-m', 'ansible.cli.playbook', '-i', str(inventory_file), path] + list(args),
                          env=ansible_env(tmp_path), cwd=str(tmp_path), capture_output=True, text=True, timeout=300,
                          check=False)


@pytest.fixture
def fleet(tmp_path, registry, start_ollama):
    """Inventory of local-a and local-b (as pinned), local-c (drifted) and gone-d (nothing listens there)."""
    doubles = {name: start_ollama(env=env, name=name) for name, env in (
        ('local-a', {'OLLAMA_DOUBLE_PROCESSOR': 'gpu'}), ('local-b', {'OLLAMA_DOUBLE_PROCESSOR': 'gpu'}),
        ('local-c', {'OLLAMA_DOUBLE_PROCESSOR': 'cpu', 'OLLAMA_DOUBLE_VERSION': '0.31.2'}))}
    doubles['local-a'].pull('smollm2:latest')
    doubles['local-b'].pull('smollm2:latest')
    registry.configure(revision=2)
    doubles['local-c'].pull('smollm2:latest')
    compose = tmp_path / 'compose'
    compose.mkdir()
    (compose / 'compose.yaml').write_text('services: {}\n')
    local = {'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable, 'ansible_become': False,
             'ollama_compose_project_dir': str(compose)}
    hosts = {name: dict(local, ollama_api_url=url, ollama_last_converge_file=str(tmp_path / 'etc' / name / 'last-converge.json'))
             for name, url in doubles.items()}
    for name, days in (('local-a', 400), ('local-c', 10)):
        tls = tmp_path / 'nginx' / name / 'tls'
        tls.mkdir(parents=True)
        subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', str(tls / 'selfsigned.key'),
                        '-out', str(tls / 'selfsigned.crt'), '-days', str(days), '-subj', '/CN=' + name],
                       check=True, capture_output=True)
        hosts[name]['nginx_proxy_config_dir'] = str(tmp_path / 'nginx' / name)
    hosts['gone-d'] = {'ansible_host': '127.0.0.1', 'ansible_port': 9, 'ansible_connection': 'ssh',
                       'ansible_user': 'nobody', 'ansible_become': False}
    group = {'ollama_version': '0.32.15', 'ollama_install_mode': 'compose', 'ollama_behind_proxy': False,
             'ollama_models': [{'name': 'smollm2'}], 'ollama_report_generate': True}
    return {'all': {'children': {'ollama_servers': {'hosts': hosts, 'vars': group}}}}


# report.yml uses community.crypto, which comes with the `ansible` package (the harness's venv, where the pytest
# step runs this); ansible-test's unit-test venv has ansible-core alone.
@pytest.mark.needs_ansible_package
def test_report_in_check_mode_flags_the_drifted_host(tmp_path, fleet):
    converge = tmp_path / 'converge.yml'
    converge.write_text('- hosts: ollama_servers:!gone-d\n  gather_facts: false\n  tasks:\n'
                        '    - ansible.builtin.include_tasks: %s/playbooks/tasks/last-converge.yml\n' % ROOT)
    result = playbook(tmp_path, fleet, str(converge), '--check')
    assert result.returncode == 0, result.stdout + result.stderr
    assert not (tmp_path / 'etc').exists()
    result = playbook(tmp_path, fleet, str(converge))
    assert result.returncode == 0, result.stdout + result.stderr
    recorded = json.loads((tmp_path / 'etc' / 'local-a' / 'last-converge.json').read_text())
    assert recorded['ollama_version'] == '0.32.15' and recorded['models'] == ['smollm2']
    assert re.match(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$', recorded['converged_at'])
    # A record of the run, not a change: a second converge stays at changed=0.
    result = playbook(tmp_path, fleet, str(converge))
    assert re.search(r'local-a\s+: ok=3\s+changed=0\s', result.stdout), result.stdout

    result = playbook(tmp_path, fleet, os.path.join(ROOT, 'playbooks', 'report.yml'), '--check')
    assert result.returncode == 0, result.stdout + result.stderr
    for name in ('local-a', 'local-b', 'local-c'):
        assert re.search(r'%s\s+: ok=\d+\s+changed=0\s+unreachable=0\s+failed=0' % name, result.stdout), result.stdout
    # By default under reports/ of the shell's working directory.
    [json_path] = glob.glob(str(tmp_path / 'reports' / 'fleet-*.json'))
    report = json.loads(open(json_path, encoding='utf-8').read())
    rows = {row['host']: row for row in report['hosts']}
    assert report['unreachable'] == ['gone-d'] and not rows['gone-d']['reachable']
    assert rows['local-a']['drift'] == [] and rows['local-b']['drift'] == []
    drift = {f['field']: f for f in rows['local-c']['drift']}
    assert set(drift) == {'ollama_version', 'model:smollm2:latest', 'loaded:smollm2:latest', 'certificate'}
    assert drift['certificate']['message'] == 'proxy certificate expires in 9 days'
    assert rows['local-a']['certificate']['days_left'] == 399
    assert rows['local-b']['certificate'] is None
    assert (drift['ollama_version']['value'], drift['ollama_version']['expected']) == ('0.31.2', '0.32.15')
    assert drift['model:smollm2:latest']['expected'] == rows['local-a']['models'][0]['digest']
    assert drift['loaded:smollm2:latest']['value'] == 0.0
    assert rows['local-a']['ollama_mode'] == 'compose'
    assert rows['local-a']['loaded'][0]['gpu_percent'] == 100.0
    assert rows['local-a']['tokens_per_second'] > 0
    assert rows['local-a']['last_converge']['ollama_version'] == '0.32.15'
    assert rows['local-a']['gpu_message'].startswith('no GPU')

    html_path = json_path[:-len('json')] + 'html'
    if CHROMIUM is None:
        pytest.skip('chromium is not installed (tests/harness/setup.sh installs it): the page was not opened')
    page = FleetPage(dump_dom(html_path))
    assert page.ready
    assert [host for host, unused in page.rows] == ['gone-d', 'local-a', 'local-b', 'local-c']
    assert page.drifted() == {'gone-d': set(), 'local-a': set(), 'local-b': set(),
                              'local-c': {'ollama_version', 'models', 'loaded', 'certificate'}}
    assert page.unreachable == ['gone-d']
    screenshot(html_path, os.path.join(ROOT, 'build', 'report', 'fleet-report-playbook.png'))

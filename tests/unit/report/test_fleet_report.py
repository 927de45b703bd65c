# Copyright (c) 2026, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""fleet_report: drift against the inventory's pins or the group's majority, from recorded facts."""

import copy
import json
import os

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.llmops.ollama.plugins.filter.fleet_report import fleet_report, fleet_report_html
from ansible_collections.llmops.ollama.plugins.module_utils.vram import parse_nvidia_smi, plan

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fleet_facts.json')


@pytest.fixture
def recorded():
    with open(FIXTURE, encoding='utf-8') as handle:
        return json.load(handle)


def build(recorded, **kwargs):
    return fleet_report(recorded['hosts'], recorded['pins'], generated_at=recorded['generated_at'], **kwargs)


def flags(report, host):
    return {f['field']: f for f in next(r for r in report['hosts'] if r['host'] == host)['drift']}


def test_pinned_version_differs(recorded):
    drift = flags(build(recorded), 'gpu-c')['ollama_version']
    assert (drift['value'], drift['expected'], drift['basis']) == ('0.31.2', '0.32.15', 'pin')


def test_version_against_the_majority_without_a_pin(recorded):
    for pin in recorded['pins'].values():
        del pin['ollama_version']
    report = build(recorded)
    assert flags(report, 'gpu-c')['ollama_version']['basis'] == 'majority'
    assert flags(report, 'gpu-c')['ollama_version']['expected'] == '0.32.15'
    assert 'ollama_version' not in flags(report, 'gpu-a')


def test_a_split_group_is_drift_on_every_host(recorded):
    for pin in recorded['pins'].values():
        del pin['ollama_version']
    recorded['hosts']['gpu-b']['ollama']['version'] = '0.33.0'
    report = build(recorded)
    for host in ('gpu-a', 'gpu-b', 'gpu-c'):
        drift = flags(report, host)['ollama_version']
        assert (drift['expected'], drift['basis']) == ('0.31.2 or 0.32.15 or 0.33.0', 'no-majority')


def test_digest_differs_from_the_majority(recorded):
    report = build(recorded)
    drift = flags(report, 'gpu-c')['model:support-bot:latest']
    assert (drift['value'], drift['expected'], drift['basis']) == (
        'cccc3333cccc3333cccc3333cccc3333', 'bbbb2222bbbb2222bbbb2222bbbb2222', 'majority')
    assert 'model:support-bot:latest' not in flags(report, 'gpu-a')
    assert 'model:smollm2:135m' not in flags(report, 'gpu-c')


def test_pinned_digest_wins_over_the_majority(recorded):
    for pin in recorded['pins'].values():
        pin['model_digests'] = {'support-bot': 'cccc3333cccc3333cccc3333cccc3333'}
    report = build(recorded)
    assert flags(report, 'gpu-a')['model:support-bot:latest']['basis'] == 'pin'
    assert 'model:support-bot:latest' not in flags(report, 'gpu-c')


def test_model_on_the_cpu(recorded):
    report = build(recorded)
    drift = flags(report, 'gpu-c')['loaded:smollm2:135m']
    assert drift['value'] == 0.0 and 'entirely on the CPU' in drift['message']
    assert 'loaded:smollm2:135m' not in flags(report, 'gpu-a')
    row = next(r for r in report['hosts'] if r['host'] == 'gpu-a')
    assert row['loaded'] == [{'name': 'smollm2:135m', 'size': 536870912, 'size_vram': 536870912, 'gpu_percent': 100.0}]
    assert report['summary']['models_on_cpu'] == 1


def test_partial_offload_is_flagged_with_its_share(recorded):
    recorded['hosts']['gpu-a']['ollama']['running'][0]['size_vram'] = 402653184
    assert flags(build(recorded), 'gpu-a')['loaded:smollm2:135m']['value'] == 75.0


def test_unreachable_host_is_listed_not_dropped(recorded):
    report = build(recorded)
    assert report['unreachable'] == ['gpu-d']
    row = next(r for r in report['hosts'] if r['host'] == 'gpu-d')
    assert not row['reachable'] and 'Connection refused' in row['error']
    assert report['summary'] == {'hosts': 4, 'reachable': 3, 'unreachable': 1, 'drifted': 2, 'gpus': 3,
                                 'models_on_cpu': 1, 'ollama_down': 0}


def test_unreachable_host_does_not_vote(recorded):
    for pin in recorded['pins'].values():
        del pin['ollama_version']
    recorded['hosts']['gpu-d'].update(copy.deepcopy(recorded['hosts']['gpu-c']), reachable=False)
    assert flags(build(recorded), 'gpu-c')['ollama_version']['expected'] == '0.32.15'


def test_hosts_as_pinned_have_no_drift_and_docker_absence_is_not_drift(recorded):
    report = build(recorded)
    assert flags(report, 'gpu-a') == {}
    assert set(flags(report, 'gpu-c')) == {'ollama_version', 'model:support-bot:latest', 'loaded:smollm2:135m'}


def test_driver_branch_pin(recorded):
    recorded['pins']['gpu-a']['nvidia_driver_branch'] = '580'
    drift = flags(build(recorded), 'gpu-a')['driver']
    assert (drift['value'], drift['expected']) == ('550', '580')


def test_certificate_expiring_soon_and_inactive_firewall(recorded):
    recorded['hosts']['gpu-a']['firewall'] = 'inactive'
    report = build(recorded)
    assert flags(report, 'gpu-b')['certificate']['message'] == 'proxy certificate expires in 18 days'
    assert flags(report, 'gpu-a')['firewall']['value'] == 'inactive'
    recorded['pins']['gpu-a']['behind_proxy'] = False
    assert 'firewall' not in flags(build(recorded), 'gpu-a')


def test_certificate_time_as_x509_certificate_info_returns_it(recorded):
    recorded['hosts']['gpu-b']['certificate']['not_after'] = '20261220100000Z'
    report = build(recorded)
    assert flags(report, 'gpu-b')['certificate']['message'] == 'proxy certificate expires in 18 days'
    assert next(r for r in report['hosts'] if r['host'] == 'gpu-b')['certificate']['days_left'] == 18


def test_missing_model_and_wrong_mode(recorded):
    recorded['pins']['gpu-a']['models'].append('nomic-embed-text')
    recorded['pins']['gpu-b']['ollama_install_mode'] = 'native'
    report = build(recorded)
    assert flags(report, 'gpu-a')['model:nomic-embed-text:latest']['value'] is None
    assert flags(report, 'gpu-b')['ollama_mode']['value'] == 'compose'


def test_ollama_down_is_one_flag(recorded):
    recorded['hosts']['gpu-a']['ollama'] = {'reachable': False, 'mode': 'native', 'error': 'cannot reach Ollama'}
    report = build(recorded)
    assert set(flags(report, 'gpu-a')) == {'ollama_version'}
    assert report['summary']['ollama_down'] == 1


def test_html_marks_drifted_cells_and_lists_unreachable(recorded):
    page = fleet_report_html(build(recorded))
    assert '<link' not in page and 'src=' not in page and '@import' not in page
    assert page.count('<tr data-host=') == 4
    assert '<tr data-host="gpu-d" class="unreachable">' in page


def test_bad_input_fails_with_one_line():
    with pytest.raises(AnsibleFilterError, match='dict of host names'):
        fleet_report(['gpu-a'])
    with pytest.raises(AnsibleFilterError, match='result of llmops.ollama.fleet_report'):
        fleet_report_html({})


def test_gpu_memory_plan_of_the_last_converge_is_shown(recorded):
    host = next(iter(h for h, f in recorded['hosts'].items() if f.get('reachable')))
    recorded['hosts'][host]['last_converge'] = {
        'converged_at': '2026-12-02T10:00:00Z',
        'vram_plan': {'settings': {'OLLAMA_NUM_PARALLEL': '4', 'OLLAMA_KV_CACHE_TYPE': 'q8_0'},
                      'reasons': ['24.0 GiB on 1 GPU: q8_0 KV cache fits 4 parallel requests at 8192 tokens']}}
    report = build(recorded)
    row = next(r for r in report['hosts'] if r['host'] == host)
    assert row['last_converge']['vram_plan']['settings']['OLLAMA_NUM_PARALLEL'] == '4'
    page = fleet_report_html(report)
    assert 'KV_CACHE_TYPE=q8_0 NUM_PARALLEL=4' in page
    assert 'title="24.0 GiB on 1 GPU: q8_0 KV cache fits 4 parallel requests at 8192 tokens"' in page


def test_gpu_memory_plan_shows_what_it_chose_apart_from_what_was_given(recorded):
    # The converge record as playbooks/tasks/last-converge.yml writes it: the role's plan, through JSON.
    vram_plan = json.loads(json.dumps(plan(
        parse_nvidia_smi('NVIDIA L4, GPU-1, 23034, 0, 8.9, 550.163.01\n'), [{'name': 'smollm2:135m'}],
        settings={'OLLAMA_NUM_PARALLEL': 2, 'OLLAMA_KV_CACHE_TYPE': 'q8_0', 'OLLAMA_KEEP_ALIVE': '24h'})))
    recorded['hosts']['gpu-a']['last_converge']['vram_plan'] = vram_plan
    report = build(recorded)
    row = next(r for r in report['hosts'] if r['host'] == 'gpu-a')
    assert row['last_converge']['vram_plan']['chosen'] == {
        'OLLAMA_NUM_PARALLEL': 'given in ollama_settings', 'OLLAMA_KV_CACHE_TYPE': 'given in ollama_settings',
        'OLLAMA_MAX_LOADED_MODELS': 'plan', 'OLLAMA_CONTEXT_LENGTH': 'plan', 'OLLAMA_FLASH_ATTENTION': 'plan'}
    page = fleet_report_html(report)
    cell = page.split('<td data-column="vram_plan"', 2)[1].split('</td>', 1)[0]
    assert cell == (
        ' data-sort="plan: CONTEXT_LENGTH=8192 FLASH_ATTENTION=true MAX_LOADED_MODELS=1; given in ollama_settings: '
        'KV_CACHE_TYPE=q8_0 NUM_PARALLEL=2"><span title="%s"><span class="planned">plan: CONTEXT_LENGTH=8192 '
        'FLASH_ATTENTION=true MAX_LOADED_MODELS=1</span><br><span class="given">given in ollama_settings: '
        'KV_CACHE_TYPE=q8_0 NUM_PARALLEL=2</span></span>' % '; '.join(vram_plan['reasons']))
    # The page's own data carries the same split for scripts.
    data = json.loads(page.split('<script type="application/json" id="report-data">', 1)[1].split('</script>', 1)[0])
    assert data['hosts'][0]['last_converge']['vram_plan']['chosen'] == vram_plan['chosen']
    assert '<link' not in page and 'src=' not in page


def test_gpu_memory_plan_with_every_setting_given(recorded):
    recorded['hosts']['gpu-a']['last_converge']['vram_plan'] = {
        'settings': {'OLLAMA_NUM_PARALLEL': 1}, 'chosen': {'OLLAMA_NUM_PARALLEL': 'given in ollama_settings'},
        'reasons': []}
    page = fleet_report_html(build(recorded))
    assert '<span class="given">given in ollama_settings: NUM_PARALLEL=1</span>' in page
    assert '<span class="planned">' not in page

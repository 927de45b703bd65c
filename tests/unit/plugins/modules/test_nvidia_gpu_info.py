# Copyright (c) 2026, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""nvidia_gpu_info against fake nvidia-smi commands."""

from ansible_collections.llmops.ollama.plugins.modules import nvidia_gpu_info

TWO_GPUS = ('NVIDIA RTX 6000 Ada Generation, GPU-11111111-2222-3333-4444-555555555555, 49140, 1, 8.9, 550.54.15\n'
            'NVIDIA RTX 6000 Ada Generation, GPU-66666666-7777-8888-9999-000000000000, 49140, 3, 8.9, 550.54.15\n')


def fake_smi(tmp_path, output, rc=0):
    script = tmp_path / 'nvidia-smi'
    script.write_text('#!/bin/sh\necho "$@" > %s\ncat <<"END"\n%sEND\nexit %d\n' % (tmp_path / 'args', output, rc))
    script.chmod(0o755)
    return str(script)


def test_reports_each_gpu_with_the_documented_query(run_module, tmp_path):
    smi = fake_smi(tmp_path, TWO_GPUS)
    result = run_module(nvidia_gpu_info, {'nvidia_smi': smi}, check=True)
    assert not result.failed and result['changed'] is False
    assert (tmp_path / 'args').read_text().split() == [
        '--query-gpu=name,uuid,memory.total,memory.used,compute_cap,driver_version', '--format=csv,noheader,nounits']
    assert [g['uuid'] for g in result['gpus']] == ['GPU-11111111-2222-3333-4444-555555555555',
                                                   'GPU-66666666-7777-8888-9999-000000000000']
    assert result['memory_total_mib'] == 98280
    assert result['message'] == '2 GPUs, 98280 MiB'


def test_no_nvidia_smi_is_an_empty_list(run_module, tmp_path):
    result = run_module(nvidia_gpu_info, {'nvidia_smi': str(tmp_path / 'absent')})
    assert not result.failed
    assert result['gpus'] == [] and result['memory_total_mib'] == 0
    assert result['message'].startswith('no GPU: ')


def test_driver_without_gpu_is_an_empty_list(run_module, tmp_path):
    smi = fake_smi(tmp_path, "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n", rc=9)
    result = run_module(nvidia_gpu_info, {'nvidia_smi': smi})
    assert result['gpus'] == []
    assert result['message'] == "no GPU: nvidia-smi exited 9: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."


def test_unexpected_output_fails(run_module, tmp_path):
    smi = fake_smi(tmp_path, 'garbage\n')
    result = run_module(nvidia_gpu_info, {'nvidia_smi': smi})
    assert result.failed
    assert "has 1 fields, expected 6" in result['msg']

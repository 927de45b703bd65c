# Copyright (c) 2026, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters over plugins/module_utils/vram.py: the GPU memory plan and its comparison with /api/ps."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.llmops.ollama.plugins.module_utils.vram import (
    VramError, canonical_name, compare, metadata_from_show, plan, select_gpus,
)


def _shown(results, tags):
    """{canonical name: metadata} from registered /api/show uri results and the /api/tags models."""
    sizes = dict((canonical_name(m.get('name', '')), m.get('size')) for m in tags or [])
    shown = {}
    for result in results or []:
        answer = result.get('json') if isinstance(result, dict) else None
        name = result.get('item') if isinstance(result, dict) else None
        if not isinstance(answer, dict) or not answer.get('model_info') or not isinstance(name, str):
            continue
        key = canonical_name(name)
        try:
            shown[key] = metadata_from_show(answer, sizes.get(key))
        except VramError:
            continue
        if not shown[key].get('size') or not shown[key].get('block_count'):
            del shown[key]
    return shown


def _reserved(install_mode, compose_gpus, compose_gpu_devices):
    """What the server's container reserves, as select_gpus reads it; a native server sees every GPU."""
    if install_mode != 'compose':
        return 'all'
    # auto reserves GPUs on a host with an NVIDIA GPU, as is any host where nvidia-smi lists one.
    if compose_gpus != 'auto' and not boolean(compose_gpus, strict=False):
        return 0
    return compose_gpu_devices


def vram_plan(models, gpus, headroom_percent=10, settings=None, context_length=8192, min_context_length=2048,
              max_parallel=4, shown=None, tags=None, environment=None, install_mode='native', compose_gpus='auto',
              compose_gpu_devices='all'):
    """The plan for the GPUs the server can use: environment is ollama_extra_environment, which wins over
    settings (ollama_settings) for CUDA_VISIBLE_DEVICES as it does in the server's environment."""
    visible = dict(settings or {}, **(environment or {})).get('CUDA_VISIBLE_DEVICES')
    try:
        used, left_out = select_gpus(gpus or [], _reserved(install_mode, compose_gpus, compose_gpu_devices), visible)
    except (VramError, ValueError) as e:
        raise AnsibleFilterError('GPUs of the Ollama server: %s' % e)
    try:
        return plan(used, models or [], headroom_percent=headroom_percent, settings=settings,
                    context_length=int(context_length), min_context_length=int(min_context_length),
                    max_parallel=int(max_parallel), shown=_shown(shown, tags), left_out=left_out)
    except (VramError, KeyError, TypeError, ValueError) as e:
        raise AnsibleFilterError('ollama_models vram: %s' % e)


def vram_gap(running, vram_plan_result):
    return compare(vram_plan_result or {}, running or [])


class FilterModule:

    def filters(self):
        return {'vram_plan': vram_plan, 'vram_gap': vram_gap}

#!/usr/bin/python
# Copyright (c) 2026, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r'''
module: nvidia_gpu_info
short_description: Report the NVIDIA GPUs of a host and their memory
version_added: 0.2.0
author:
  - llmops.ollama maintainers (@llmops)
description:
  - Runs C(nvidia-smi --query-gpu=name,uuid,memory.total,memory.used,compute_cap,driver_version --format=csv,noheader,nounits)
    and returns one entry per GPU.
  - A host without C(nvidia-smi), or whose C(nvidia-smi) finds no GPU, is not a failure. The module returns an empty
    RV(gpus) list and says why in RV(message).
  - The GPU memory plan of the ollama role (P(llmops.ollama.vram_plan#filter)) reads these facts.
options:
  nvidia_smi:
    description:
      - The C(nvidia-smi) command, a name looked up in C(PATH) or an absolute path.
    type: str
    default: nvidia-smi
extends_documentation_fragment:
  - llmops.ollama.attributes.read_only
  - llmops.ollama.attributes
requirements:
  - Nothing beyond Python on the managed host; C(nvidia-smi) comes with the NVIDIA driver.
seealso:
  - module: llmops.ollama.ollama_info
'''

EXAMPLES = r'''
- name: Look at the GPUs
  llmops.ollama.nvidia_gpu_info:
  register: gpu

- name: Show each GPU's memory
  ansible.builtin.debug:
    msg: "{{ item.name }} ({{ item.uuid }}): {{ item.memory_total_mib }} MiB, compute {{ item.compute_capability }}"
  loop: "{{ gpu.gpus }}"
'''

RETURN = r'''
gpus:
  description: One entry per GPU, in nvidia-smi's order; empty without a GPU.
  returned: always
  type: list
  elements: dict
  contains:
    index:
      description: Position in nvidia-smi's list (the CUDA device index by default).
      type: int
      sample: 0
    name:
      description: Product name.
      type: str
      sample: NVIDIA GeForce RTX 4090
    uuid:
      description: GPU UUID.
      type: str
      sample: GPU-5f2b2a1e-8c1f-4b7e-9f4e-2a9f0d1c3b4a
    memory_total_mib:
      description: Memory in MiB.
      type: int
      sample: 24564
    memory_used_mib:
      description: Memory in use now, in MiB.
      type: int
      sample: 1
    compute_capability:
      description: CUDA compute capability, or null when the driver does not report it.
      type: str
      sample: "8.9"
    driver_version:
      description: NVIDIA driver version.
      type: str
      sample: 550.54.15
memory_total_mib:
  description: Sum of RV(gpus[].memory_total_mib).
  returned: always
  type: int
  sample: 24564
message:
  description: What was found, or why no GPU is reported.
  returned: always
  type: str
  sample: 1 GPU, 24564 MiB
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.llmops.ollama.plugins.module_utils.vram import GPU_QUERY_FIELDS, VramError, parse_nvidia_smi


def main():
    module = AnsibleModule(argument_spec=dict(nvidia_smi=dict(type='str', default='nvidia-smi')), supports_check_mode=True)
    result = dict(changed=False, gpus=[], memory_total_mib=0)
    command = module.get_bin_path(module.params['nvidia_smi'])
    if command is None:
        module.exit_json(message='no GPU: %s not found (no NVIDIA driver)' % module.params['nvidia_smi'], **result)
    rc, out, err = module.run_command(
        [command, '--query-gpu=' + ','.join(GPU_QUERY_FIELDS), '--format=csv,noheader,nounits'])
    if rc != 0:
        # nvidia-smi fails this way when the driver is installed but no GPU is present or it is not loaded.
        detail = (err or out).strip().splitlines()
        module.exit_json(message='no GPU: nvidia-smi exited %d: %s' % (rc, detail[0] if detail else 'no output'), **result)
    try:
        result['gpus'] = parse_nvidia_smi(out)
    except VramError as e:
        module.fail_json(msg=str(e), **result)
    result['memory_total_mib'] = sum(gpu['memory_total_mib'] or 0 for gpu in result['gpus'])
    count = len(result['gpus'])
    result['message'] = ('%d GPU%s, %d MiB' % (count, '' if count == 1 else 's', result['memory_total_mib'])
                         if count else 'no GPU: nvidia-smi lists none')
    module.exit_json(**result)


if __name__ == '__main__':
    main()

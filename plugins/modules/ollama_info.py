#!/usr/bin/python
# Copyright (c) 2025, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r'''
module: ollama_info
short_description: Gather facts about an Ollama server
version_added: 0.1.0
author:
  - llmops.ollama maintainers (@llmops)
description:
  - Reports the version of an Ollama server, its installed models and the models loaded in memory.
  - A server that cannot be reached is not a failure. The module returns RV(reachable=false) and the reason in
    RV(error), so a play can branch on it. Wrong credentials and other API errors fail the task.
extends_documentation_fragment:
  - llmops.ollama.ollama
  - llmops.ollama.attributes.read_only
  - llmops.ollama.attributes.actiongroup_ollama
  - llmops.ollama.attributes
attributes:
  check_mode:
    support: full
    details: Never changes anything.
seealso:
  - module: llmops.ollama.ollama_model
  - module: llmops.ollama.ollama_health
'''

EXAMPLES = r'''
- name: Look at the Ollama server
  llmops.ollama.ollama_info:
  register: ollama

- name: Show what is installed and what runs on the GPU
  ansible.builtin.debug:
    msg: >-
      Ollama {{ ollama.version }}: {{ ollama.models | map(attribute='name') | join(', ') }};
      loaded: {{ ollama.running | map(attribute='name') | join(', ') or 'none' }}
  when: ollama.reachable

- name: Through an authenticating proxy
  llmops.ollama.ollama_info:
    url: https://ollama.example.com
    api_token: "{{ vault_ollama_token }}"
'''

RETURN = r'''
reachable:
  description: Whether the server answered.
  returned: always
  type: bool
  sample: true
error:
  description: Why the server could not be reached.
  returned: when RV(reachable) is false
  type: str
  sample: "cannot reach Ollama at http://127.0.0.1:11434 ([Errno 111] Connection refused): ..."
url:
  description: The API base URL used.
  returned: always
  type: str
  sample: http://127.0.0.1:11434
version:
  description: Server version (C(0.0.0) for a development build).
  returned: when RV(reachable) is true
  type: str
  sample: 0.12.3
models:
  description: Installed models, newest first, as C(/api/tags) lists them.
  returned: when RV(reachable) is true
  type: list
  elements: dict
  contains:
    name:
      description: Model name in its shortest form, with tag.
      type: str
      sample: llama3.2:latest
    digest:
      description: Digest of the manifest.
      type: str
      sample: a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72
    size:
      description: Size in bytes.
      type: int
      sample: 2019393189
    modified_at:
      description: When it was pulled or created.
      type: str
      sample: "2025-01-02T03:04:05.678901234+01:00"
    details:
      description: Format, family, parameter size and quantization.
      type: dict
      sample: {"format": "gguf", "family": "llama", "parameter_size": "3.2B", "quantization_level": "Q4_K_M"}
running:
  description: Models loaded in memory, as C(/api/ps) lists them.
  returned: when RV(reachable) is true
  type: list
  elements: dict
  contains:
    name:
      description: Model name.
      type: str
      sample: llama3.2:latest
    size:
      description: Memory the loaded model takes, in bytes.
      type: int
      sample: 3124012032
    size_vram:
      description: Part of RV(running[].size) in GPU memory; equal to it when fully offloaded, 0 on CPU only.
      type: int
      sample: 3124012032
    expires_at:
      description: When the model will be unloaded.
      type: str
      sample: "2025-01-02T03:09:05.678901234+01:00"
    context_length:
      description: Context window it was loaded with (Ollama 0.10.0 and later).
      type: int
      sample: 4096
    digest:
      description: Digest of the model's manifest.
      type: str
    details:
      description: As in RV(models[].details).
      type: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.llmops.ollama.plugins.module_utils.ollama import (
    OLLAMA_MUTUALLY_EXCLUSIVE, OLLAMA_REQUIRED_TOGETHER, OllamaClient, OllamaError, OllamaUnreachable, ollama_argument_spec,
)

MODEL_KEYS = ('name', 'digest', 'size', 'modified_at', 'details')
RUNNING_KEYS = ('name', 'digest', 'size', 'size_vram', 'expires_at', 'context_length', 'details')


def main():
    module = AnsibleModule(
        argument_spec=ollama_argument_spec(),
        supports_check_mode=True,
        mutually_exclusive=OLLAMA_MUTUALLY_EXCLUSIVE,
        required_together=OLLAMA_REQUIRED_TOGETHER,
    )
    client = OllamaClient.from_module(module)
    result = dict(changed=False, url=client.url)
    try:
        result['version'] = client.version()
        result['models'] = [dict((k, m.get(k)) for k in MODEL_KEYS if k in m) for m in client.tags()]
        result['running'] = [dict((k, m.get(k)) for k in RUNNING_KEYS if k in m) for m in client.ps()]
    except OllamaUnreachable as e:
        module.exit_json(reachable=False, error=str(e), **result)
    except OllamaError as e:
        module.fail_json(msg=str(e), reachable=True, **result)
    module.exit_json(reachable=True, **result)


if __name__ == '__main__':
    main()

#!/usr/bin/python
# Copyright (c) 2025, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r'''
module: ollama_store
short_description: List, verify, import and export the models of an Ollama models directory
version_added: 0.2.0
author:
  - llmops.ollama maintainers (@llmops)
description:
  - Works on the files of an Ollama models directory (C(manifests/<host>/<namespace>/<model>/<tag>),
    C(blobs/sha256-<hex>)), with no Ollama server needed. Used by the P(llmops.ollama.model_mirror#role) role and
    C(playbooks/model-bundle.yml).
  - O(operation=verify) checks that every manifest parses and every blob it names is there, has the size the manifest
    says and hashes to its digest; it fails naming each model and digest that is wrong.
  - O(operation=import) copies the models of another models directory or of a bundle into O(path). Only blobs that are
    missing are copied, each checked against its sha256 while written to a temporary file and renamed only when it
    matches; manifests are written last, so a failed import leaves no model that names an absent blob. New files get
    the owner and group of O(path), so the Ollama service using it can read and prune them. A model imported into the
    models directory of a running Ollama server appears in C(ollama list).
  - O(operation=export) writes the chosen models into one uncompressed tar file (a bundle) with a C(SHA256SUMS) member
    listing every file's sha256, and C(<dest>.sha256) beside it. Blobs are verified first.
extends_documentation_fragment:
  - llmops.ollama.attributes
attributes:
  idempotent:
    support: full
    details:
      - V(import) copies only missing blobs and manifests; V(export) leaves a bundle that already holds exactly these
        models alone.
options:
  path:
    description: The models directory (C(OLLAMA_MODELS)), for example C(/usr/share/ollama/.ollama/models).
    type: path
    required: true
  operation:
    description:
      - V(list) reports the models; V(verify) also checks every blob; V(import) copies models from O(src); V(export) writes
        a bundle to O(dest).
    type: str
    choices: [list, verify, import, export]
    default: list
  models:
    description:
      - Models to work on, as Ollama names them (C(llama3.2:3b), C(host:5000/library/m:t)); empty means all of them.
        A name that matches no model fails the task.
    type: list
    elements: str
    default: []
  src:
    description: With O(operation=import), another models directory or a bundle file on the managed host.
    type: path
  checksum:
    description:
      - With O(operation=import) from a bundle, the sha256 the whole bundle file must hash to (C(sha256:<hex>) or
        C(<hex>)), as O(operation=export) returned it in RV(bundle_sha256). The bundle is hashed before anything in it
        is read, and refused when it differs.
      - A bundle's own C(SHA256SUMS) and C(<file>.sha256) only show that it is intact; whoever can replace the bundle
        can replace them too. Pin the checksum where the bundle cannot change it (the inventory, the change request),
        carried apart from the bundle. C(playbooks/model-bundle.yml) requires it for an import.
    type: str
  dest:
    description:
      - With O(operation=export), the bundle file to write. It is left alone when it already holds exactly these models
        (same C(SHA256SUMS)).
    type: path
seealso:
  - module: llmops.ollama.ollama_model
'''

EXAMPLES = r'''
- name: Check every blob of the mirror's store
  llmops.ollama.ollama_store:
    path: /srv/model-mirror/models
    operation: verify

- name: Pack two models for removable media
  llmops.ollama.ollama_store:
    path: /usr/share/ollama/.ollama/models
    operation: export
    models: [llama3.2:3b, nomic-embed-text]
    dest: /media/usb/models.tar

- name: Install them on a host with no network (they appear in ollama list)
  llmops.ollama.ollama_store:
    path: /usr/share/ollama/.ollama/models
    operation: import
    src: /media/usb/models.tar
    # What the export returned as bundle_sha256, pinned in the inventory.
    checksum: sha256:0f8e5b6a8c37c1f1f2b0a1e6c4d7a2b9e3f4c5d6a7b8c9d0e1f2a3b4c5d6e7f8
'''

RETURN = r'''
models:
  description: The models worked on (for import, those of the source).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Name as Ollama shows it.
      type: str
    manifest:
      description: Path of its manifest in the models directory (as in a bundle's C(SHA256SUMS)).
      type: str
    digest:
      description: sha256 of the manifest, the digest C(/api/tags) shows.
      type: str
    size:
      description: Bytes of all its blobs.
      type: int
    blobs:
      description: Digests of its layers and config.
      type: list
      elements: str
  sample:
    - name: llama3.2:3b
      manifest: manifests/registry.ollama.ai/library/llama3.2/3b
      digest: a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72
      size: 2019393189
      blobs: [sha256:dde5aa3fc5ffc17176b5e8bdc82f587b24b2678c6c66101bf7da77af9f7ccdff]
copied_blobs:
  description: Digests of the blobs copied (or that would be, in check mode) by an import.
  returned: when O(operation=import)
  type: list
  elements: str
copied_bytes:
  description: Bytes of those blobs.
  returned: when O(operation=import)
  type: int
written_manifests:
  description: Models whose manifest was new or different and was written.
  returned: when O(operation=import)
  type: list
  elements: str
bundle_sha256:
  description: sha256 of the bundle file, also written to C(<dest>.sha256).
  returned: when O(operation=export) and a bundle exists after the task
  type: str
'''

import os
import re

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.llmops.ollama.plugins.module_utils.model_store import (
    Store, StoreError, bundle_sums, existing_sums, import_models, open_source, plan_import, select, sha256_file, write_bundle,
)


def run(module):
    p = module.params
    result = {'changed': False}
    store = Store(p['path'])
    if p['operation'] != 'import' and not os.path.isdir(p['path']):
        module.fail_json(msg='%s is not a directory: give the models directory (OLLAMA_MODELS) in path' % p['path'])
    checksum = (p['checksum'] or '').strip().lower()
    if checksum.startswith('sha256:'):
        checksum = checksum[len('sha256:'):]
    if p['checksum'] is not None and (p['operation'] != 'import' or not re.match(r'[0-9a-f]{64}\Z', checksum)):
        module.fail_json(msg='checksum must be the sha256 of a bundle to import (sha256:<64 hex digits>), got %r with '
                             'operation %s' % (p['checksum'], p['operation']))
    if p['operation'] == 'import':
        source = open_source(p['src'], checksum or None)
        try:
            models = select(source.models(), p['models'])
            if not os.path.isdir(p['path']):
                module.fail_json(msg='%s is not a directory: create the models directory first' % p['path'])
            missing, manifests = plan_import(store, models)
            if not module.check_mode:
                import_models(store, source, models, missing, manifests)
        finally:
            source.close()
        result.update(changed=bool(missing or manifests), copied_blobs=[d for d, unused in missing],
                      copied_bytes=sum(size for unused, size in missing),
                      written_manifests=[m.name.display for m in manifests])
    else:
        models = select(store.models(), p['models'])
    result['models'] = [m.summary() for m in models]
    if p['operation'] in ('verify', 'export'):
        problems = store.problems(models)
        if problems:
            module.fail_json(msg='; '.join(problems), problems=problems, **result)
    if p['operation'] == 'export':
        sums = bundle_sums(store, models)
        if existing_sums(p['dest']) == sums and os.path.isfile(p['dest'] + '.sha256'):
            result['bundle_sha256'] = sha256_file(p['dest'])
        else:
            result['changed'] = True
            if not module.check_mode:
                result['bundle_sha256'] = write_bundle(store, models, sums, p['dest'])
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            operation=dict(type='str', default='list', choices=['list', 'verify', 'import', 'export']),
            models=dict(type='list', elements='str', default=[]),
            src=dict(type='path'),
            checksum=dict(type='str'),
            dest=dict(type='path'),
        ),
        required_if=[('operation', 'import', ['src']), ('operation', 'export', ['dest'])],
        supports_check_mode=True,
    )
    try:
        result = run(module)
    except StoreError as e:
        module.fail_json(msg=to_native(e))
    except (IOError, OSError) as e:
        module.fail_json(msg='%s: %s' % (module.params['path'], to_native(e)))
    module.exit_json(**result)


if __name__ == '__main__':
    main()

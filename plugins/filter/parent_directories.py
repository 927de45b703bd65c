# -*- coding: utf-8 -*-
# Copyright: llmops.ollama contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: parent_directories
short_description: The parent directories of an absolute path, outermost first
version_added: 0.1.0
author: llmops.ollama contributors
description:
  - Lists every directory above an absolute path, without C(/) itself, so a role can make each one traversable
    for a service user (a models directory under C(/data/ai/models) needs C(/data) and C(/data/ai) to be).
options:
  _input:
    description: An absolute path.
    type: path
    required: true
"""

EXAMPLES = r"""
- name: Make the parents of the models directory traversable
  ansible.builtin.file:
    path: "{{ item }}"
    state: directory
    mode: o+x
  loop: "{{ '/data/ai/models' | llmops.ollama.parent_directories }}"
"""

RETURN = r"""
_value:
  description: The parents, like C(['/data', '/data/ai']) for C(/data/ai/models).
  type: list
  elements: str
"""

import posixpath

from ansible.errors import AnsibleFilterError


def parent_directories(path):
    if not isinstance(path, str) or not path.startswith('/'):
        raise AnsibleFilterError('parent_directories needs an absolute path, got %r' % (path,))
    parts = [part for part in posixpath.normpath(path).split('/') if part][:-1]
    return ['/' + '/'.join(parts[:depth]) for depth in range(1, len(parts) + 1)]


class FilterModule(object):
    def filters(self):
        return {'parent_directories': parent_directories}

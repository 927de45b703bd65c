# Copyright (c) 2025, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later


class ModuleDocFragment:

    # What each attribute means, said once for every module of the collection, with the usual support. A module's
    # own attributes: win over every fragment, and of two fragments the one listed first wins, so list
    # llmops.ollama.attributes after its variants (read_only, actiongroup_ollama).
    DOCUMENTATION = r'''
options: {}
attributes:
  check_mode:
    description: Can run in check mode and report what would change without changing the managed host.
    support: full
  diff_mode:
    description: Shows what changed (or, in check mode, what would change) when run with C(--diff).
    support: none
  idempotent:
    description:
      - Run twice in a row with the same arguments, outside check mode, the second run reports no change and changes
        nothing.
      - The molecule C(modules) scenario runs every case four ways (check, apply, apply again, check again) to hold the
        modules to it.
    support: full
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
    platforms: posix
'''

    # Modules that only read: check mode and a normal run do the same thing.
    READ_ONLY = r'''
options: {}
attributes:
  check_mode:
    support: full
    details: Only reads; runs the same in check mode.
  diff_mode:
    support: N/A
    details: Changes nothing, so there is nothing to show.
  idempotent:
    support: full
'''

    # Members of meta/runtime.yml's action group.
    ACTIONGROUP_OLLAMA = r'''
options: {}
attributes:
  action_group:
    description: Use C(group/llmops.ollama.ollama) in C(module_defaults) to set the connection options (O(url),
      O(api_token), ...) once for every module of the group.
    support: full
    membership:
      - llmops.ollama.ollama
'''

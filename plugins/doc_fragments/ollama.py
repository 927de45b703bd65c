# Copyright (c) 2025, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later


class ModuleDocFragment:

    # Connection options of every module that talks to the Ollama API.
    DOCUMENTATION = r'''
options:
  url:
    description:
      - Base URL of the Ollama API, as seen from the managed host.
      - A path prefix is kept, so an API published behind a reverse proxy under C(https://proxy.example.com/ollama) works.
      - Only C(http) and C(https) URLs are accepted; C(file://), C(ftp://) and the like fail before any request.
      - Credentials in the URL (C(https://user:password@proxy.example.com)) are sent as HTTP basic authentication and
        are replaced by C(********) in every message and result; O(url_username)/O(url_password) keep them out of the URL.
    type: str
    default: http://127.0.0.1:11434
  timeout:
    description:
      - Seconds to wait for each answer (and between two lines of a streamed answer) from the API.
    type: float
    default: 30
  validate_certs:
    description:
      - Verify the TLS certificate when O(url) uses C(https).
      - Set to V(false) only for a self-signed certificate on a trusted network.
    type: bool
    default: true
  url_username:
    description:
      - User for HTTP basic authentication, when a reverse proxy in front of Ollama requires it (Ollama itself has none).
    type: str
    aliases: [username]
  url_password:
    description:
      - Password for HTTP basic authentication.
    type: str
    aliases: [password]
  api_token:
    description:
      - Bearer token sent in an C(Authorization) header (C(Bearer <token>)), for a proxy that authenticates that way.
      - Mutually exclusive with O(url_username).
    type: str
requirements:
  - Nothing beyond Python on the managed host; the modules use Ansible's own HTTP helpers.
notes:
  - Failures give one line saying what is wrong and what to do, for example C(cannot reach Ollama at ...) or
    C(Ollama at ... answered 401 Unauthorized ...).
'''

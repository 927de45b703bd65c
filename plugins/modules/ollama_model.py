#!/usr/bin/python
# Copyright (c) 2025, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r'''
module: ollama_model
short_description: Manage the models of an Ollama server
version_added: 0.1.0
author:
  - llmops.ollama maintainers (@llmops)
description:
  - Pulls, updates, removes and creates models on an Ollama server through its HTTP API, idempotently.
  - Models from a registry are pulled with O(state=present) only when missing; O(state=latest) pulls again and reports
    a change only when the model's digest in C(/api/tags) changed.
  - Custom models are built with C(/api/create) from a Modelfile (O(modelfile) or O(modelfile_content)) or from O(from)
    with O(system), O(template), O(parameters), O(messages), O(license) and O(adapters). The model is created again only
    when the result would differ from the installed model; see O(from) for how that is decided.
  - O(source) pulls a model under another name, for example from a mirror registry, and exposes it under O(name)
    with C(/api/copy).
  - Everything is validated (name syntax, Modelfile, local files, server reachable, credentials) before anything changes.
    A failed pull, copy or create leaves no new model behind; Ollama keeps partially downloaded blobs and resumes them
    on the next pull.
extends_documentation_fragment:
  - llmops.ollama.ollama
  - llmops.ollama.attributes.actiongroup_ollama
  - llmops.ollama.attributes
attributes:
  check_mode:
    support: full
    details:
      - For O(state=latest) on an installed registry model, check mode cannot know whether the registry has a newer
        revision without downloading it, so it reports no change and says so in RV(msg).
  diff_mode:
    support: full
    details:
      - Shows digest and size before and after, and for custom models the fields that differ.
  idempotent:
    support: full
    details:
      - V(latest) reports a change only when the model's digest changed; a custom model is created again only when
        the result would differ.
options:
  name:
    description:
      - Model name, C([host/][namespace/]model[:tag]). The tag defaults to C(latest), the namespace to C(library) and
        the host to C(registry.ollama.ai), and names match installed models case-insensitively, as in Ollama itself.
      - A C(http://) prefix (plain-HTTP registry) needs O(insecure=true).
    type: str
    required: true
    aliases: [model]
  state:
    description:
      - V(present) pulls (or creates) the model when it is missing.
      - V(latest) pulls the model again and reports a change only when its digest changed; for a custom model it first
        updates the O(from) model, then creates the model again when the result would differ.
      - V(absent) removes the model. Blobs that other models share stay.
    type: str
    choices: [present, absent, latest]
    default: present
  source:
    description:
      - Pull this name instead of O(name), then copy it to O(name) with C(/api/copy), for example
        C(mirror.example.com:5000/library/llama3.2:latest) from a P(llmops.ollama.model_mirror#role) to serve it as
        C(llama3.2). The source-named copy is then deleted again, so C(/api/tags) lists the model once; the blobs stay,
        shared by O(name). A source-named model that was installed before the task is left alone.
      - With O(state=present) nothing is pulled while O(name) exists. With O(state=latest) the module first reads the
        source registry's manifest itself and compares its sha256 with the digest of O(name). When they are equal
        nothing is pulled (and check mode can tell); otherwise, or when the manifest cannot be read, O(source) is pulled
        again and O(name) is updated when its digest differs.
    type: str
  insecure:
    description:
      - Pull over plain HTTP from the registry in the name (Ollama's C(--insecure)). This does not disable TLS
        verification; it changes the scheme.
    type: bool
    default: false
  modelfile:
    description:
      - Path of a Modelfile on the managed host. Relative C(FROM) and C(ADAPTER) paths are resolved from its directory.
      - Parsed here as Ollama's parser does (C(FROM), C(PARAMETER), C(TEMPLATE), C(SYSTEM), C(MESSAGE), C(LICENSE),
        C(ADAPTER), C(REQUIRES), C(RENDERER), C(PARSER), comments and triple-quoted strings), and sent as the JSON
        request that C(ollama create) sends. C(FROM) naming a local GGUF file uploads it as a blob first.
    type: path
  modelfile_content:
    description:
      - The Modelfile text itself. Files it names (C(FROM) a GGUF file, C(ADAPTER)) must be given as absolute paths on the
        managed host; a relative C(FROM) is a model name.
    type: str
  from:
    description:
      - Model (or absolute path of a GGUF file on the managed host) the custom model is based on; pulled when missing.
      - The installed model is compared with the requested one through C(/api/show) of both the installed model and the
        O(from) model. The expected result is the O(from) model with O(system), O(template) and O(messages) replaced when
        given, O(parameters) merged over its parameters, and O(license) appended to its licenses; it differs when the
        weights (the C(FROM) blobs of the generated Modelfile), adapters, system, template, messages, license or
        parameters differ (numbers compared as numbers). When the model comes from a GGUF file, only the weights and the
        fields that are set are compared.
    type: str
  system:
    description: System prompt of the custom model.
    type: str
  template:
    description: Prompt template (Go template syntax) of the custom model.
    type: str
  parameters:
    description:
      - Model parameters such as C(temperature), C(num_ctx), C(top_p) or C(stop) (a list). Names and value types are
        checked as Ollama does; deprecated parameters are dropped.
    type: dict
  messages:
    description: Conversation to start every chat with.
    type: list
    elements: dict
    suboptions:
      role:
        description: Who says it.
        type: str
        required: true
        choices: [system, user, assistant]
      content:
        description: What is said.
        type: str
        required: true
  license:
    description: License texts, appended to those of the O(from) model.
    type: list
    elements: str
  adapters:
    description:
      - Paths of LoRA adapter files (GGUF) on the managed host, uploaded as blobs. Recent Ollama versions refuse adapters;
        the server's message is passed on.
    type: list
    elements: path
  pull_timeout:
    description:
      - Seconds one pull or create may take in total, and the longest silence tolerated while it runs.
      - Without it, a pull may take as long as it needs, but fails after 600 seconds (or O(timeout) if longer) without
        any progress line from the server.
      - When it runs out, the task fails and the server stops the download; partial downloads are kept and resumed by
        the next pull.
    type: int
  progress_file:
    description:
      - File on the managed host to which pull and create progress is appended, one line per status change and at most
        one per second during downloads (time, model, status, bytes, percent), so that C(tail -f) shows it.
      - Meant for long pulls run with C(async); see the examples.
    type: path
notes:
  - Pulls are always streamed, so the result is the same on servers before v0.7.0 (whose C(stream=false) pull
    answered differently), and errors that old servers send as an HTTP 200 stream line are reported like others.
  - Servers older than v0.5.5 get the old C(/api/create) request (a Modelfile text); newer ones the JSON fields.
  - "Many pulls across a fleet: run the task with C(async) and C(poll: 0), then wait with M(ansible.builtin.async_status).
    Every host pulls in parallel, Ollama downloads up to 16 parts of a blob at once, and O(progress_file) shows how far
    each host is."
seealso:
  - module: llmops.ollama.ollama_info
  - module: llmops.ollama.ollama_health
  - name: Ollama API
    description: The HTTP API these modules use.
    link: https://github.com/ollama/ollama/blob/main/docs/api.md
'''

EXAMPLES = r'''
- name: Make sure a model is installed
  llmops.ollama.ollama_model:
    name: llama3.2:3b

- name: Keep a model at the newest revision of its tag
  llmops.ollama.ollama_model:
    name: qwen2.5:0.5b
    state: latest

- name: Remove a model
  llmops.ollama.ollama_model:
    name: llama3.2:3b
    state: absent

- name: Pull from a mirror registry over plain HTTP and serve it under its short name
  llmops.ollama.ollama_model:
    name: llama3.2
    source: mirror.example.com:5000/library/llama3.2:latest
    insecure: true

- name: A custom model with its own system prompt and parameters
  llmops.ollama.ollama_model:
    name: support-bot
    from: llama3.2:3b
    system: You answer questions about our product, briefly.
    parameters:
      temperature: 0.2
      num_ctx: 8192
      stop: ["<|eot_id|>"]
    messages:
      - role: user
        content: Who are you?
      - role: assistant
        content: The support bot.

- name: A custom model from a Modelfile shipped with the playbook
  llmops.ollama.ollama_model:
    name: reviewer:v2
    modelfile_content: "{{ lookup('ansible.builtin.file', 'files/reviewer.Modelfile') }}"

- name: Import a GGUF file that is already on the host
  llmops.ollama.ollama_model:
    name: my-finetune
    modelfile: /srv/models/my-finetune/Modelfile

# Long pulls on many hosts at once: start them all, watch them, then wait for them.
# On any host: tail -f /var/log/ollama-pull.log
- name: Start the pulls in the background
  llmops.ollama.ollama_model:
    name: "{{ item }}"
    pull_timeout: 7200
    progress_file: /var/log/ollama-pull.log
  loop: "{{ ollama_models }}"
  async: 7200
  poll: 0
  register: ollama_pulls

- name: Wait for the pulls
  ansible.builtin.async_status:
    jid: "{{ item.ansible_job_id }}"
  loop: "{{ ollama_pulls.results }}"
  loop_control:
    label: "{{ item.item }}"
  register: ollama_pull_jobs
  until: ollama_pull_jobs.finished
  retries: 720
  delay: 10
'''

RETURN = r'''
name:
  description: The model as the API displays it (shortest form, with tag); the installed spelling when it differs in case.
  returned: always
  type: str
  sample: llama3.2:latest
digest:
  description: Digest of the model's manifest, as in C(/api/tags) (what C(ollama list) shows the first 12 characters of).
  returned: when the model is installed after the task
  type: str
  sample: a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72
size:
  description: Size of the model in bytes (all layers).
  returned: when the model is installed after the task
  type: int
  sample: 2019393189
details:
  description: The C(details) of the model in C(/api/tags).
  returned: when the model is installed after the task
  type: dict
  sample: {"format": "gguf", "family": "llama", "families": ["llama"], "parameter_size": "3.2B", "quantization_level": "Q4_K_M"}
modified_at:
  description: When the model was last pulled or created.
  returned: when the model is installed after the task
  type: str
  sample: "2025-01-02T03:04:05.678901234Z"
actions:
  description: The API calls that changed (or, in check mode, would change) something, in order.
  returned: always
  type: list
  elements: str
  sample: ["pull qwen2.5:0.5b"]
differences:
  description: For custom models, the fields in which the installed model differed from the requested one.
  returned: when the model is a custom model
  type: list
  elements: str
  sample: ["system", "parameters"]
pull:
  description: Summary of the pull or create stream.
  returned: when something was pulled or created
  type: dict
  contains:
    statuses:
      description: The distinct statuses the server reported, in order (per-layer download lines excluded).
      type: list
      elements: str
      sample: ["pulling manifest", "verifying sha256 digest", "writing manifest", "success"]
    layers:
      description: Number of blobs the pull went through.
      type: int
      sample: 5
    total_bytes:
      description: Sum of the sizes of those blobs.
      type: int
      sample: 2019393189
    completed_bytes:
      description: Bytes present at the end (downloaded now or already there).
      type: int
      sample: 2019393189
    seconds:
      description: Wall time of the stream.
      type: float
      sample: 42.1
msg:
  description: What was done, or why check mode could not tell.
  returned: always
  type: str
  sample: pulled llama3.2:latest
'''

import hashlib
import os
import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native
from ansible.module_utils.urls import open_url

from ansible_collections.llmops.ollama.plugins.module_utils.model_name import InvalidModelName, ModelName, find_model
from ansible_collections.llmops.ollama.plugins.module_utils.modelfile import (
    COMMANDS, ModelfileError, create_request, expected_state, model_state, parse_modelfile, render_modelfile, state_differences,
)
from ansible_collections.llmops.ollama.plugins.module_utils.ollama import (
    OLLAMA_MUTUALLY_EXCLUSIVE, OLLAMA_REQUIRED_TOGETHER, OllamaClient, OllamaError, OllamaTimeout, ollama_argument_spec,
    version_at_least,
)

CUSTOM_OPTIONS = ('from', 'system', 'template', 'parameters', 'messages', 'license', 'adapters')
# A pull prints a line every ~60 ms, but verifying a large blob's digest can be silent for minutes.
STREAM_READ_TIMEOUT = 600
# What Ollama sends in Accept for a manifest; its sha256 as served is the digest /api/tags shows.
MANIFEST_MEDIA_TYPE = 'application/vnd.docker.distribution.manifest.v2+json'


def _human(size):
    """Bytes in the decimal units the ollama CLI prints."""
    for unit in ('B', 'KB', 'MB', 'GB'):
        if size < 1000:
            return '%.1f %s' % (size, unit) if unit != 'B' else '%d B' % size
        size /= 1000.0
    return '%.1f TB' % size


class Progress:
    """Follows a pull or create stream: keeps a summary and appends readable lines to progress_file."""

    def __init__(self, label, handle=None):
        self.label = label
        self.handle = handle
        self.statuses = []
        self.layers = {}
        self.started = time.time()
        self._last_status = None
        self._last_write = 0.0

    def log(self, text):
        if self.handle is not None:
            self.handle.write('%s %s %s\n' % (time.strftime('%Y-%m-%dT%H:%M:%S%z'), self.label, text))
            self.handle.flush()
            self._last_write = time.time()

    def __call__(self, message):
        status = message.get('status', '')
        if message.get('digest'):
            self.layers[message['digest']] = (message.get('total', 0), message.get('completed', 0))
        elif status not in self.statuses:
            self.statuses.append(status)
        if self.handle is None or status == self._last_status and time.time() - self._last_write < 1:
            return
        self._last_status = status
        total = sum(t for t, c in self.layers.values())
        if message.get('digest') and total:
            done = sum(c for t, c in self.layers.values())
            self.log('%s %s/%s (%d%%)' % (status, _human(done), _human(total), 100 * done // total))
        else:
            self.log(status)

    def summary(self):
        return {
            'statuses': self.statuses,
            'layers': len(self.layers),
            'total_bytes': sum(t for t, c in self.layers.values()),
            'completed_bytes': sum(c for t, c in self.layers.values()),
            'seconds': round(time.time() - self.started, 3),
        }


class OllamaModel:

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.client = OllamaClient.from_module(module)
        self.actions = []
        self.result = {'changed': False, 'actions': self.actions}
        self.progress_handle = None
        self.pull_summary = None
        self.field_diff = {}
        pull_timeout = self.params['pull_timeout']
        self.deadline = time.time() + pull_timeout if pull_timeout else None
        self.stream_timeout = pull_timeout or max(self.params['timeout'], STREAM_READ_TIMEOUT)

    def fail(self, msg):
        # Steps that succeeded before the failure did change the host.
        self.result['changed'] = bool(self.actions) and not self.module.check_mode
        self.module.fail_json(msg=msg, **self.result)

    # -- validation, before anything changes -------------------------------------------------------------------------

    def parse_name(self, option):
        text = self.params[option]
        try:
            name = ModelName.parse(text)
        except InvalidModelName as e:
            self.fail('%s: %s; use [host/][namespace/]model[:tag], for example llama3.2:3b' % (option, e))
        if name.scheme == 'http' and not self.params['insecure']:
            self.fail('%s %r uses plain http: set insecure=true to pull from that registry over HTTP' % (option, text))
        return name

    def custom_request(self):
        """The /api/create request for a custom model and the local files it needs, or (None, []) for a registry model."""
        p = self.params
        text = p['modelfile_content']
        # Without a Modelfile path there is no directory to resolve relative paths from: only absolute ones are files.
        base_dir = None
        if p['modelfile']:
            try:
                with open(p['modelfile'], 'rb') as f:
                    text = f.read().decode('utf-8')
            except (IOError, OSError, UnicodeDecodeError) as e:
                self.fail('cannot read modelfile %s: %s' % (p['modelfile'], to_native(e)))
            base_dir = os.path.dirname(os.path.abspath(p['modelfile']))
        elif text is None and not p['from']:
            return None, []
        try:
            if text is None:
                # Only an absolute path in `from` names a file; anything else is a model name.
                request, files = create_request(self._inline_commands(), None)
            else:
                request, files = create_request(parse_modelfile(text), base_dir)
        except ModelfileError as e:
            what = 'modelfile' if p['modelfile'] else 'modelfile_content' if p['modelfile_content'] is not None else 'model definition'
            self.fail('invalid %s: %s' % (what, e))
        except (IOError, OSError) as e:
            self.fail('cannot read a file the model needs: %s' % to_native(e))
        if request.get('from'):
            try:
                ModelName.parse(request['from'])
            except InvalidModelName as e:
                self.fail('FROM %r is neither a file on the managed host nor a valid model name (%s)' % (request['from'], e))
        return request, files

    def _inline_commands(self):
        """Options from/system/... as parsed Modelfile commands, so that they get exactly the Modelfile's validation."""
        p = self.params
        commands = [('model', p['from'])]
        for key in ('system', 'template'):
            if p[key]:
                commands.append((key, p[key]))
        for key, value in (p['parameters'] or {}).items():
            if key in COMMANDS or key == 'model':
                raise ModelfileError("unknown parameter '%s'" % key)
            for item in value if isinstance(value, list) else [value]:
                commands.append((key, item))
        for message in p['messages'] or []:
            commands.append(('message', '%s: %s' % (message['role'], message['content'])))
        commands.extend(('license', text) for text in p['license'] or [])
        commands.extend(('adapter', path) for path in p['adapters'] or [])
        return commands

    # -- state of the server -----------------------------------------------------------------------------------------

    def installed(self, name):
        return find_model(name, self.client.tags())

    @staticmethod
    def snapshot(entry):
        if not entry:
            return {'state': 'absent'}
        return {'state': 'present', 'digest': entry.get('digest'), 'size': entry.get('size')}

    def open_progress(self, label):
        path = self.params['progress_file']
        if self.module.check_mode or not path:
            return Progress(label)
        if self.progress_handle is None:
            try:
                self.progress_handle = open(path, 'a')
            except (IOError, OSError) as e:
                self.fail('cannot write progress_file %s: %s' % (path, to_native(e)))
        return Progress(label, self.progress_handle)

    # -- changes -----------------------------------------------------------------------------------------------------

    def done(self, action):
        self.actions.append(action)

    def pull(self, text, name):
        if self.module.check_mode:
            return self.done('pull %s' % name.display)
        progress = self.open_progress(name.display)
        progress.log('pulling from %s' % name.host)
        try:
            self.client.pull(text, insecure=self.params['insecure'], on_message=progress, deadline=self.deadline, timeout=self.stream_timeout)
        except OllamaTimeout:
            progress.log('timed out')
            self.fail('pulling %s did not finish within pull_timeout=%ss; Ollama keeps the partial download and resumes it on '
                      'the next pull: raise pull_timeout, or run the task with async (see the module examples)'
                      % (name.display, self.params['pull_timeout']))
        except OllamaError as e:
            progress.log('failed: %s' % e)
            self.fail(self.pull_error(name, e))
        progress.log('done in %.1fs' % (time.time() - progress.started))
        self.pull_summary = progress.summary()
        self.done('pull %s' % name.display)

    def pull_error(self, name, error):
        text = error.msg
        if 'file does not exist' in text:
            return ('model %s was not found on registry %s (%s): check the name and tag (https://ollama.com/library for the '
                    'default registry), or set source/insecure for a mirror' % (name.display, name.host, text))
        if 'insecure protocol' in text or 'http: server gave HTTP response to HTTPS client' in text:
            return 'registry %s only speaks plain HTTP (%s): set insecure=true' % (name.host, text)
        if any(sign in text for sign in ('dial tcp', 'no such host', 'connection refused', 'i/o timeout', 'tls:', 'x509:')):
            return ('the Ollama server cannot reach registry %s (%s): check the registry name, DNS and the network or '
                    'HTTPS_PROXY of the Ollama service, or pull from a mirror with source/insecure' % (name.host, text))
        if 'pull model manifest: 401' in text or 'pull model manifest: 403' in text:
            return 'registry %s refused the pull of %s (%s): check the credentials the registry expects' % (name.host, name.display, text)
        if 'digest mismatch' in text:
            return ('registry %s served a corrupt blob for %s (%s): nothing was installed; repair the blob on the registry '
                    'or mirror (for llmops.ollama.model_mirror: run the role, whose verify step names it) and run again'
                    % (name.host, name.display, text))
        if 'pull model manifest' in text:
            return 'registry %s failed the pull of %s (%s): check the registry' % (name.host, name.display, text)
        if error.status in (401, 403, 503) or ' at http' in text:
            return text
        return 'pulling %s failed: %s; see %s for details' % (name.display, text, '`journalctl -u ollama`')

    def copy(self, source, name):
        if not self.module.check_mode:
            try:
                self.client.copy(source.fullname, name.fullname)
            except OllamaError as e:
                self.fail('copying %s to %s failed: %s' % (source.display, name.display, e))
        self.done('copy %s to %s' % (source.display, name.display))

    def delete(self, entry):
        if not self.module.check_mode:
            try:
                self.client.delete(entry['name'])
            except OllamaError as e:
                # Deleted meanwhile by someone else: the state wanted is reached.
                if e.status != 404:
                    self.fail('deleting %s failed: %s' % (entry['name'], e))
        self.done('delete %s' % entry['name'])

    def create(self, name, request, files):
        if self.module.check_mode:
            return self.done('create %s' % name.display)
        for local in files:
            try:
                if not self.client.blob_exists(local.digest):
                    self.client.upload_blob(local.digest, local.path, local.size, timeout=self.stream_timeout)
            except OllamaError as e:
                self.fail('uploading %s to Ollama failed: %s' % (local.path, e))
        body = dict(request, model=name.fullname)
        if not version_at_least(self.client.version(), '0.5.5'):
            # Before v0.5.5 /api/create took the Modelfile text and ignored the JSON fields.
            body = {'model': name.fullname, 'name': name.fullname, 'modelfile': render_modelfile(request)}
        progress = self.open_progress(name.display)
        progress.log('creating')
        try:
            self.client.create(body, on_message=progress, deadline=self.deadline, timeout=self.stream_timeout)
        except OllamaTimeout:
            self.fail('creating %s did not finish within pull_timeout=%ss' % (name.display, self.params['pull_timeout']))
        except OllamaError as e:
            progress.log('failed: %s' % e)
            self.fail('creating %s failed: %s' % (name.display, e))
        progress.log('done in %.1fs' % (time.time() - progress.started))
        self.pull_summary = progress.summary()
        self.done('create %s' % name.display)

    # -- the task ----------------------------------------------------------------------------------------------------

    def run(self):
        p = self.params
        name = self.parse_name('name')
        source = self.parse_name('source') if p['source'] else None
        request, files = (None, []) if p['state'] == 'absent' else self.custom_request()
        self.result['name'] = name.display

        try:
            before = self.installed(name)
            if p['state'] == 'absent':
                if before:
                    self.delete(before)
                    msg = '%s %s' % ('would remove' if self.module.check_mode else 'removed', before['name'])
                else:
                    msg = '%s is not installed' % name.display
            elif request is not None:
                msg = self.ensure_custom(name, request, files, before)
            else:
                msg = self.ensure_pulled(name, source, before)
            after = before if self.module.check_mode or not self.actions else self.installed(name)
        except OllamaError as e:
            self.fail(str(e))

        self.result['changed'] = bool(self.actions)
        self.result['msg'] = msg
        if self.pull_summary is not None:
            self.result['pull'] = self.pull_summary
        if after and not (self.module.check_mode and p['state'] == 'absent' and self.actions):
            self.result.update(name=after['name'], digest=after.get('digest'), size=after.get('size'),
                               details=after.get('details', {}), modified_at=after.get('modified_at'))
        if self.module._diff:
            self.result['diff'] = self.diff(before, after)
        if self.progress_handle is not None:
            self.progress_handle.close()
        self.module.exit_json(**self.result)

    def diff(self, before, after):
        old, new = self.snapshot(before), self.snapshot(after)
        if self.module.check_mode and self.actions:
            new = {'state': 'absent'} if self.params['state'] == 'absent' else dict(new, state='present', digest='(changes when applied)')
        for key, values in self.field_diff.items():
            old[key], new[key] = values
        return {'before': old, 'after': new}

    def ensure_pulled(self, name, source, before):
        latest = self.params['state'] == 'latest'
        if before and not latest:
            return '%s is installed' % name.display
        if source is not None:
            return self.ensure_from_source(name, source, before, latest)
        if before and self.module.check_mode:
            return ('%s is installed; check mode cannot tell whether %s has a newer revision without pulling it'
                    % (name.display, name.display))
        self.pull(self.params['name'], name)
        if self.module.check_mode:
            return 'would pull %s' % name.display
        after = self.installed(name)
        if before and after and after.get('digest') == before.get('digest'):
            # A re-pull that found nothing new still runs through every status: only the digest tells.
            self.actions[:] = []
            return '%s is up to date' % name.display
        return 'pulled %s' % name.display

    def ensure_from_source(self, name, source, before, latest):
        """Pull source, copy it to name, and remove the source-named copy this task made (the blobs stay, shared)."""
        remote = self.source_digest(source) if latest else None
        if before and remote is not None and remote == before.get('digest'):
            return '%s is up to date with %s' % (name.display, source.display)
        if before and remote is None and self.module.check_mode:
            return ('%s is installed; check mode cannot tell whether %s has a newer revision without pulling it'
                    % (name.display, source.display))
        source_entry = self.installed(source)
        made_source = source_entry is None
        if source_entry is None or latest and (remote is None or source_entry.get('digest') != remote):
            self.pull(self.params['source'], source)
            if not self.module.check_mode:
                source_entry = self.installed(source)
        if self.module.check_mode:
            self.copy(source, name)
            if made_source:
                self.delete({'name': source.display})
            return 'would pull %s from %s' % (name.display, source.display)
        if before is None or source_entry is None or source_entry.get('digest') != before.get('digest'):
            self.copy(source, name)
        if made_source and source_entry is not None:
            self.delete(source_entry)
        after = self.installed(name)
        if before and after and after.get('digest') == before.get('digest'):
            # Nothing new upstream: the temporary source-named copy is gone again, nothing changed.
            self.actions[:] = []
            return '%s is up to date' % name.display
        return 'pulled %s from %s' % (name.display, source.display)

    def source_digest(self, source):
        """sha256 of the source registry's manifest (the digest a pull would give), or None when it cannot be read."""
        scheme = 'http' if self.params['insecure'] else source.scheme
        url = '%s://%s/v2/%s/%s/manifests/%s' % (scheme, source.host, source.namespace, source.model, source.tag)
        try:
            response = open_url(url, headers={'Accept': MANIFEST_MEDIA_TYPE}, timeout=self.params['timeout'])
            return hashlib.sha256(response.read()).hexdigest()
        except Exception:  # pylint: disable=broad-except
            # Any failure (auth, TLS, a registry that needs the ollama client) falls back to pulling.
            return None

    def ensure_custom(self, name, request, files, before):
        base_name = None
        if request.get('from'):
            base_name = ModelName.parse(request['from'])
            base_entry = self.installed(base_name)
            # Check mode cannot tell whether the registry has a newer base, as for registry models.
            if base_entry is None or self.params['state'] == 'latest' and not self.module.check_mode:
                self.pull(request['from'], base_name)
                if base_entry is not None and not self.module.check_mode:
                    refreshed = self.installed(base_name)
                    if refreshed and refreshed.get('digest') == base_entry.get('digest'):
                        self.actions.pop()
        differences = self.differences(name, request, base_name, before)
        self.result['differences'] = differences
        if differences:
            self.create(name, request, files)
            return '%s %s (%s)' % ('would create' if self.module.check_mode else 'created', name.display, ', '.join(differences))
        return '%s is up to date' % name.display

    def differences(self, name, request, base_name, before):
        """Fields in which the installed model differs from what /api/create would make; ['model'] when not installed."""
        if before is None:
            return ['model']
        installed_show = self.client.show(before['name'])
        if installed_show is None:
            return ['model']
        base = None
        if base_name is not None:
            base_show = self.client.show(request['from'])
            if base_show is None:
                # Only in check mode: the base is pulled before comparing otherwise.
                return ['from']
            base = model_state(base_show)
        installed = model_state(installed_show)
        expected = expected_state(request, base)
        differences = state_differences(installed, expected, base_known=base is not None)
        self.field_diff = dict((key, (installed.get(key), expected.get(key, expected.get('license_tail')))) for key in differences)
        return differences


def main():
    argument_spec = ollama_argument_spec()
    argument_spec.update({
        'name': dict(type='str', required=True, aliases=['model']),
        'state': dict(type='str', default='present', choices=['present', 'absent', 'latest']),
        'source': dict(type='str'),
        'insecure': dict(type='bool', default=False),
        'modelfile': dict(type='path'),
        'modelfile_content': dict(type='str'),
        'from': dict(type='str'),
        'system': dict(type='str'),
        'template': dict(type='str'),
        'parameters': dict(type='dict'),
        'messages': dict(type='list', elements='dict', options=dict(
            role=dict(type='str', required=True, choices=['system', 'user', 'assistant']),
            content=dict(type='str', required=True),
        )),
        'license': dict(type='list', elements='str'),
        'adapters': dict(type='list', elements='path'),
        'pull_timeout': dict(type='int'),
        'progress_file': dict(type='path'),
    })
    definitions = ('modelfile', 'modelfile_content', 'from', 'source')
    module = AnsibleModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        mutually_exclusive=OLLAMA_MUTUALLY_EXCLUSIVE + [definitions]
        + [('modelfile', option) for option in CUSTOM_OPTIONS[1:]] + [('modelfile_content', option) for option in CUSTOM_OPTIONS[1:]],
        required_together=OLLAMA_REQUIRED_TOGETHER,
        required_by=dict((option, 'from') for option in CUSTOM_OPTIONS[1:]),
    )
    OllamaModel(module).run()


if __name__ == '__main__':
    main()

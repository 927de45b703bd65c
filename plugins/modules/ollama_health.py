#!/usr/bin/python
# Copyright (c) 2025, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r'''
module: ollama_health
short_description: Wait for an Ollama server and assert that it is healthy
version_added: 0.1.0
author:
  - llmops.ollama maintainers (@llmops)
description:
  - Waits until the Ollama API answers, then checks what an operator checks by hand on a GPU host, and fails with a
    message that says what is wrong and where to look.
  - Checks, each optional, in this order; the server version (O(version) or O(version_constraint)), installed models
    (O(models)), a short generation with O(model) reporting tokens per second (against O(min_tokens_per_second)), and
    that O(model) is loaded entirely in GPU memory (O(require_gpu)), which catches the silent fallback to CPU after a
    driver or container toolkit problem.
  - Never changes anything (the generation loads the model, as any request would), so C(changed) is always false.
extends_documentation_fragment:
  - llmops.ollama.ollama
  - llmops.ollama.attributes.read_only
  - llmops.ollama.attributes.actiongroup_ollama
  - llmops.ollama.attributes
attributes:
  check_mode:
    support: full
    details: Runs all checks, the generation included, since they change nothing.
options:
  wait_timeout:
    description:
      - Seconds to wait in total for the server to answer; this alone decides how long the module waits. V(0) tries once.
      - Each attempt's own timeout (O(timeout)) is cut to what is left of it.
    type: float
    default: 120
  delay:
    description: Seconds between two attempts.
    type: float
    default: 2
  retries:
    description:
      - Deprecated, use O(wait_timeout) alone. When set, the module also gives up after this many attempts, as it did
        by default before, which cut O(wait_timeout) short (30 attempts 2 s apart end after about a minute).
      - Removed in 1.0.0.
    type: int
  systemd_unit:
    description:
      - Systemd unit of the server, for example V(ollama), to watch while waiting, so that a server that cannot start
        fails the task at once instead of after O(wait_timeout).
      - The wait stops as soon as the unit is failed or stopped, waits to be restarted after its process exited, or was
        restarted since the first look (C(NRestarts) grows or C(MainPID) changes). The message then carries the error
        lines the server logged in that start (C(journalctl _SYSTEMD_INVOCATION_ID=...)), at most three, without the
        C(server config) line that lists the settings, and with credentials in URLs masked.
      - A server that runs but does not answer yet (loading, a cold GPU) is waited for until O(wait_timeout).
      - A check that fails after the server answered (the test generation of O(model) failed, or the server died
        during it) also carries the unit's error lines logged since the module started, and says when the unit was
        restarted or stopped meanwhile.
      - Needs C(systemctl) and C(journalctl) on the host where the module runs, so O(url) should be that host's server.
    type: str
  container:
    description:
      - Docker container of the server, for example V(ollama), to watch while waiting, as O(systemd_unit) does for a
        unit. The wait stops as soon as the container exited, is restarting or was restarted since the first look
        (C(RestartCount) grows or its start time changes), and the message carries the error lines of its C(docker logs)
        since that start.
      - A check that fails after the server answered carries the error lines the container logged since the module
        started, as for O(systemd_unit).
      - Needs the C(docker) CLI on the host where the module runs.
    type: str
  version:
    description: The exact version the server must report, for example C(0.12.3).
    type: str
  version_constraint:
    description:
      - Comma-separated comparisons the version must meet, for example C(>=0.12) or C(>=0.12,<0.20); operators
        C(>=), C(<=), C(>), C(<), C(==) and C(!=). Missing components count as 0, and a pre-release such as
        C(0.13.0-rc1) is older than C(0.13.0).
    type: str
  models:
    description:
      - Models that must be installed; names are normalised and matched case-insensitively as Ollama does, so
        C(llama3.2) means C(llama3.2:latest).
    type: list
    elements: str
    default: []
  model:
    description:
      - Model to load and run a short generation with. Its speed is reported in RV(generation).
      - It must be installed (use M(llmops.ollama.ollama_model) first).
    type: str
  prompt:
    description: Prompt for the generation.
    type: str
    default: Reply with one short sentence about the sky.
  num_predict:
    description: Maximum tokens to generate; a few dozen give a stable tokens-per-second figure.
    type: int
    default: 32
  keep_alive:
    description:
      - How long the model stays loaded after the check, as Ollama understands it (C(5m), C(1h), C(-1) for ever, C(0)
        to unload right away). The server default applies when omitted.
      - With O(require_gpu), use anything but C(0), since the offload is read after the generation.
    type: str
  min_tokens_per_second:
    description: Fail when the generation is slower than this (eval_count / eval_duration).
    type: float
  require_gpu:
    description:
      - Fail unless O(model) is loaded entirely in GPU memory (C(size_vram == size) in C(/api/ps)).
    type: bool
    default: false
seealso:
  - module: llmops.ollama.ollama_info
  - module: llmops.ollama.ollama_model
'''

EXAMPLES = r'''
- name: Wait for Ollama after a restart
  llmops.ollama.ollama_health:
    wait_timeout: 180

- name: Wait for the new version, failing at once when the service cannot start
  llmops.ollama.ollama_health:
    version: 0.12.3
    systemd_unit: ollama          # or container: ollama in Docker
    wait_timeout: 600             # a slow start (model load on a cold GPU) is still waited for
  register: ollama_started

- name: Assert version and models
  llmops.ollama.ollama_health:
    version_constraint: ">=0.12,<0.20"
    models:
      - llama3.2:3b
      - nomic-embed-text

- name: Assert that generation runs on the GPU, at a usable speed
  llmops.ollama.ollama_health:
    model: llama3.2:3b
    require_gpu: true
    min_tokens_per_second: 40
    keep_alive: 10m
  register: ollama_health

- name: Report the speed
  ansible.builtin.debug:
    msg: "{{ inventory_hostname }}: {{ ollama_health.generation.tokens_per_second }} tokens/s"
'''

RETURN = r'''
url:
  description: The API base URL used.
  returned: always
  type: str
  sample: http://127.0.0.1:11434
reachable:
  description: Whether the server answered.
  returned: always
  type: bool
  sample: true
attempts:
  description: How many attempts it took to reach the server.
  returned: always
  type: int
  sample: 1
elapsed:
  description: Seconds spent waiting for the server.
  returned: always
  type: float
  sample: 0.01
service:
  description: What watching O(systemd_unit) or O(container) found.
  returned: when O(systemd_unit) or O(container) is set and the server did not answer at the first attempt
  type: dict
  contains:
    name:
      description: The unit (with its C(.service) suffix) or the container.
      type: str
      sample: ollama.service
    state:
      description: Its state at the last look, as C(systemctl) (C(ActiveState (SubState))) or C(docker inspect) shows it.
      type: str
      sample: activating (auto-restart)
    failed:
      description: Whether it failed or restarted while the module waited (the task fails then).
      type: bool
      sample: true
    reason:
      description: How it failed, for example C(exited with status 1); empty when it did not.
      type: str
      sample: exited with status 1
    log:
      description: Error lines the server logged in the failed start, at most three, trimmed; empty when it did not fail.
      type: list
      elements: str
      sample: ["Error: unable to initialize inference backend: libggml-base.so: cannot open shared object file"]
version:
  description: Version the server reports.
  returned: when the server answered
  type: str
  sample: 0.12.3
models:
  description: Names of the installed models.
  returned: when the server answered
  type: list
  elements: str
  sample: ["llama3.2:3b", "nomic-embed-text:latest"]
missing_models:
  description: Models of O(models) that are not installed (the task fails when there are any).
  returned: when the server answered
  type: list
  elements: str
  sample: []
generation:
  description: Figures of the generation with O(model).
  returned: when O(model) is set
  type: dict
  contains:
    model:
      description: The model.
      type: str
      sample: llama3.2:3b
    eval_count:
      description: Tokens generated.
      type: int
      sample: 32
    eval_duration:
      description: Nanoseconds spent generating them.
      type: int
      sample: 251000000
    tokens_per_second:
      description: RV(generation.eval_count) / RV(generation.eval_duration) * 1e9, rounded to 0.01.
      type: float
      sample: 127.49
    load_duration:
      description: Nanoseconds spent loading the model.
      type: int
    total_duration:
      description: Nanoseconds for the whole request.
      type: int
    response:
      description: The generated text.
      type: str
gpu:
  description: Where O(model) is loaded, from C(/api/ps).
  returned: when O(model) is set and the model is still loaded after the generation
  type: dict
  contains:
    size:
      description: Memory the model takes, in bytes.
      type: int
    size_vram:
      description: Part of it in GPU memory.
      type: int
    percent:
      description: RV(gpu.size_vram) / RV(gpu.size) in percent, as C(ollama ps) shows it.
      type: int
      sample: 100
    processor:
      description: The PROCESSOR column of C(ollama ps).
      type: str
      sample: 100% GPU
'''

import json
import re
import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_text

from ansible_collections.llmops.ollama.plugins.module_utils.model_name import InvalidModelName, ModelName, find_model
from ansible_collections.llmops.ollama.plugins.module_utils.ollama import (
    LOG_HINT, OLLAMA_MUTUALLY_EXCLUSIVE, OLLAMA_REQUIRED_TOGETHER, OllamaClient, OllamaError, OllamaUnreachable,
    ollama_argument_spec, version_matches,
)

GPU_HINT = ('check the GPU with `nvidia-smi` and the GPU discovery lines in %s; a container needs `--gpus=all` and the NVIDIA '
            'container toolkit' % LOG_HINT)


def processor(size, size_vram):
    """The PROCESSOR column of `ollama ps`."""
    if not size_vram:
        return '100% CPU'
    if size_vram >= size:
        return '100% GPU'
    gpu = int(round(100.0 * size_vram / size))
    return '%d%%/%d%% CPU/GPU' % (100 - gpu, gpu)


# What a server prints when it cannot start: slog's ERROR and worse, Go's `Error:`, panics.
ERROR_LINE = re.compile(r'level=(ERROR|FATAL|PANIC)\b|^(Error|panic|fatal error)\b|\berror\b', re.IGNORECASE)
# Lines that echo the settings (Ollama's "server config" line lists every OLLAMA_* value).
SETTINGS_LINE = re.compile(r'server config|env="?map\[')
URL_CREDENTIALS = re.compile(r'(://)[^/@\s]+@')
LOG_LINES = 3
LOG_LINE_CHARS = 300


def error_lines(lines):
    """The last few error lines of a server log, settings lines dropped and credentials in URLs masked."""
    lines = [line.strip() for line in lines if line.strip() and not SETTINGS_LINE.search(line)]
    errors = [line for line in lines if ERROR_LINE.search(line)] or lines
    return [URL_CREDENTIALS.sub(r'\1***@', line)[:LOG_LINE_CHARS] for line in errors[-LOG_LINES:]]


class ServiceFailed(Exception):
    """The watched service cannot answer: stop waiting."""


class SystemdWatch:
    """A systemd unit that crashed, stopped or was restarted since the first look."""

    PROPERTIES = 'LoadState,ActiveState,SubState,NRestarts,MainPID,InvocationID,Result,ExecMainCode,ExecMainStatus'

    def __init__(self, module, unit):
        self.module = module
        self.name = unit if '.' in unit else unit + '.service'
        self.systemctl = module.get_bin_path('systemctl', required=True)
        self.first = None

    def show(self):
        rc, out, err = self.module.run_command([self.systemctl, 'show', '--property', self.PROPERTIES, self.name])
        if rc != 0:
            raise ServiceFailed('cannot read the state of %s: %s' % (self.name, (err or out).strip()))
        return dict(line.split('=', 1) for line in out.splitlines() if '=' in line)

    @staticmethod
    def how_it_ended(props):
        result, status = props.get('Result', ''), props.get('ExecMainStatus', '0')
        if result == 'oom-kill':
            return 'killed for lack of memory (oom-kill)'
        if result in ('signal', 'core-dump'):
            return 'killed by signal %s (%s)' % (status, result)
        if result == 'exit-code' or status not in ('', '0'):
            return 'exited with status %s' % status
        return 'ended (%s)' % (result or 'unknown')

    def look(self):
        """(state, why it failed or '')."""
        props = self.show()
        state = '%s (%s)' % (props.get('ActiveState'), props.get('SubState'))
        if props.get('LoadState') == 'not-found':
            return state, 'does not exist'
        if self.first is None:
            self.first = props
        restarts = int(props.get('NRestarts') or 0) - int(self.first.get('NRestarts') or 0)
        if props.get('ActiveState') == 'failed':
            return state, 'failed: its process %s' % self.how_it_ended(props)
        if props.get('ActiveState') == 'inactive':
            return state, 'is stopped'
        if props.get('SubState') == 'auto-restart':
            return state, 'is waiting to be restarted: its process %s' % self.how_it_ended(props)
        if restarts > 0:
            return state, 'was restarted by systemd %d time(s) while the module waited' % restarts
        if props.get('MainPID') not in ('0', self.first.get('MainPID')) and self.first.get('MainPID') != '0':
            return state, 'was restarted while the module waited (main PID %s, then %s)' % (self.first['MainPID'], props['MainPID'])
        return state, ''

    def log(self, since=None):
        """Error lines of the start the module saw first, else of the latest one; or of every start since a time."""
        journalctl = self.module.get_bin_path('journalctl')
        if journalctl is None:
            return []
        if since is not None:
            rc, out, dummy = self.module.run_command([journalctl, '--no-pager', '--quiet', '--output', 'cat',
                                                     '--since', '@%d' % int(since), '_SYSTEMD_UNIT=%s' % self.name])
            return error_lines(out.splitlines()) if rc == 0 else []
        ids = []
        for props in (self.first or {}, self.show()):
            if props.get('InvocationID') and props['InvocationID'] not in ids:
                ids.append(props['InvocationID'])
        for invocation in ids:
            rc, out, dummy = self.module.run_command([journalctl, '--no-pager', '--quiet', '--output', 'cat',
                                                     '_SYSTEMD_INVOCATION_ID=%s' % invocation])
            lines = error_lines(out.splitlines()) if rc == 0 else []
            if lines:
                return lines
        return []


class ContainerWatch:
    """A Docker container that exited, is restarting or was restarted since the first look."""

    def __init__(self, module, container):
        self.module = module
        self.name = container
        self.docker = module.get_bin_path('docker', required=True)
        self.first = None

    def inspect(self):
        rc, out, err = self.module.run_command([self.docker, 'inspect', '--type', 'container', '--format',
                                                '{{json .State}} {{.RestartCount}}', self.name])
        if rc != 0:
            return None
        state, dummy, count = out.strip().rpartition(' ')
        state = json.loads(state)
        state['RestartCount'] = int(count)
        return state

    def look(self):
        state = self.inspect()
        if state is None:
            return 'missing', 'does not exist'
        if self.first is None:
            self.first = state
        status, code = state.get('Status'), state.get('ExitCode')
        ended = 'killed for lack of memory (OOMKilled)' if state.get('OOMKilled') else 'exited with code %s' % code
        if status in ('exited', 'dead'):
            return status, 'stopped: its process %s%s' % (ended, ' (%s)' % state['Error'] if state.get('Error') else '')
        if status == 'restarting':
            return status, 'is restarting: its process %s' % ended
        if status == 'paused':
            return status, 'is paused'
        restarts = state['RestartCount'] - self.first['RestartCount']
        if restarts > 0:
            return status, 'was restarted by Docker %d time(s) while the module waited' % restarts
        if state.get('StartedAt') != self.first.get('StartedAt'):
            return status, 'was restarted while the module waited (started at %s, then %s)' % (
                self.first.get('StartedAt'), state.get('StartedAt'))
        return status, ''

    def log(self, since=None):
        """Error lines of `docker logs` since the start the module saw first, or since a time."""
        argv = [self.docker, 'logs', '--timestamps']
        started = (self.first or {}).get('StartedAt', '')
        if since is not None:
            argv += ['--since', '%d' % int(since)]
        elif started and not started.startswith('0001-'):
            argv += ['--since', started]
        rc, out, err = self.module.run_command(argv + [self.name])
        if rc != 0:
            return []
        # stdout and stderr come apart: the timestamps put them back in order.
        stamped = sorted(line for line in (out + '\n' + err).splitlines() if line.strip())
        return error_lines(line.split(' ', 1)[1] if ' ' in line else line for line in stamped)


class OllamaHealth:

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.client = OllamaClient.from_module(module)
        self.result = dict(changed=False, url=self.client.url, reachable=False, attempts=0, elapsed=0.0)
        self.started = time.time()
        self.watch = None
        if self.params['systemd_unit']:
            self.watch = SystemdWatch(module, self.params['systemd_unit'])
        elif self.params['container']:
            self.watch = ContainerWatch(module, self.params['container'])

    def fail(self, msg):
        self.module.fail_json(msg=msg, **self.result)

    def fail_with_service_log(self, msg):
        """A check failed after the server answered: add what the watched service did and logged since the start."""
        if self.watch is not None:
            try:
                state, why = self.watch.look()
            except ServiceFailed as failed:
                state, why = 'unknown', str(failed)
            lines = self.watch.log(since=self.started)
            self.result['service'] = dict(name=self.watch.name, state=state, failed=bool(why), reason=why, log=lines)
            if why:
                msg += '; meanwhile %s %s (state %s)' % (self.watch.name, why, state)
            msg += '; its log: %s' % (' | '.join(lines) if lines else 'no error lines')
        self.fail(msg)

    def watch_service(self, watch, elapsed):
        """Fail now when the watched service cannot answer any more, with its own error lines."""
        state, why = watch.look()
        self.result['service'] = dict(name=watch.name, state=state, failed=bool(why), reason=why, log=[])
        if not why:
            return
        self.result['elapsed'] = round(elapsed, 3)
        self.result['service']['log'] = lines = watch.log()
        self.fail('%s %s (state %s), so Ollama cannot answer at %s (waited %.1fs); its log: %s'
                  % (watch.name, why, state, self.client.url, elapsed, ' | '.join(lines) if lines else 'no error lines'))

    def wait(self):
        p = self.params
        watch = self.watch
        if watch is not None:
            # The first look is the start the module watches: a restart from here on counts, even after an answer.
            try:
                watch.look()
            except ServiceFailed:
                pass
        started = time.time()
        while True:
            self.result['attempts'] += 1
            left = p['wait_timeout'] - (time.time() - started)
            try:
                # Each attempt within what is left of wait_timeout, but long enough to reach a slow proxy.
                answer = self.client.call('GET', '/api/version', timeout=max(min(p['timeout'], left), min(p['timeout'], 5)))
            except OllamaError as e:
                # Starting servers refuse connections, and a loading one may answer 503; anything else is final.
                if not isinstance(e, OllamaUnreachable) and e.status != 503:
                    raise
                elapsed = time.time() - started
                if watch is not None:
                    try:
                        self.watch_service(watch, elapsed)
                    except ServiceFailed as failed:
                        self.fail('%s; Ollama did not answer at %s: %s' % (failed, self.client.url, e))
                out_of_attempts = p['retries'] is not None and self.result['attempts'] >= p['retries']
                if out_of_attempts or elapsed + p['delay'] > p['wait_timeout']:
                    self.result['elapsed'] = round(elapsed, 3)
                    self.fail('Ollama did not answer at %s after %d attempts in %.1fs: %s'
                              % (self.client.url, self.result['attempts'], elapsed, e))
                time.sleep(p['delay'])
                continue
            version = to_text((answer or {}).get('version', ''))
            self.result.update(reachable=True, version=version, elapsed=round(time.time() - started, 3))
            return version

    def check_version(self, version):
        p = self.params
        if p['version'] and version != p['version']:
            self.fail('Ollama at %s runs version %s, expected %s: install the pinned version (the llmops.ollama roles do) '
                      'and restart the service; see %s' % (self.client.url, version, p['version'], LOG_HINT))
        if p['version_constraint']:
            try:
                ok = version_matches(version, p['version_constraint'])
            except ValueError as e:
                self.fail(str(e))
            if not ok:
                self.fail('Ollama at %s runs version %s, which does not meet version_constraint %s: upgrade or downgrade it and '
                          'restart the service; see %s' % (self.client.url, version, p['version_constraint'], LOG_HINT))

    def check_models(self, installed):
        missing = []
        for text in self.params['models']:
            if find_model(ModelName.parse(text), installed) is None:
                missing.append(text)
        self.result['missing_models'] = missing
        if missing:
            self.fail('models missing on %s: %s (installed: %s); pull them with llmops.ollama.ollama_model'
                      % (self.client.url, ', '.join(missing), ', '.join(self.result['models']) or 'none'))

    def check_generation(self, name, installed):
        p = self.params
        entry = find_model(name, installed)
        if entry is None:
            self.fail('model %s is not installed on %s, so it cannot be test-run; pull it with llmops.ollama.ollama_model'
                      % (name.display, self.client.url))
        body = {'model': entry['name'], 'prompt': p['prompt'], 'options': {'num_predict': p['num_predict']}}
        if p['keep_alive'] is not None:
            # Ollama takes seconds as a JSON number ("-1" as a string is an invalid Go duration).
            try:
                body['keep_alive'] = float(p['keep_alive'])
            except ValueError:
                body['keep_alive'] = p['keep_alive']
        try:
            answer = self.client.generate(body, timeout=max(p['timeout'], 300))
        except OllamaError as e:
            self.fail_with_service_log('generation with %s failed on %s: %s' % (entry['name'], self.client.url, e)
                                       + ('' if self.watch else '; see %s' % LOG_HINT))
        count, duration = answer.get('eval_count') or 0, answer.get('eval_duration') or 0
        tps = round(count * 1e9 / duration, 2) if duration else 0.0
        self.result['generation'] = dict(
            model=entry['name'], eval_count=count, eval_duration=duration, tokens_per_second=tps,
            load_duration=answer.get('load_duration'), total_duration=answer.get('total_duration'), response=answer.get('response', ''),
        )
        if p['require_gpu']:
            self.check_gpu(name, entry['name'])
        if p['min_tokens_per_second'] is not None and tps < p['min_tokens_per_second']:
            where = self.result.get('gpu', {}).get('processor')
            self.fail('%s generated %.2f tokens/s on %s, below min_tokens_per_second %s%s: check GPU offload (require_gpu, `ollama ps`), '
                      'other processes on the GPU (`nvidia-smi`) and %s'
                      % (entry['name'], tps, self.client.url, p['min_tokens_per_second'], ' (running on %s)' % where if where else '',
                         LOG_HINT))

    def check_gpu(self, name, display):
        loaded = find_model(name, self.client.ps())
        if loaded is None:
            self.fail('%s is not loaded on %s after the generation, so its GPU offload cannot be read: do not set keep_alive to 0 '
                      'with require_gpu' % (display, self.client.url))
        size, vram = loaded.get('size') or 0, loaded.get('size_vram') or 0
        self.result['gpu'] = dict(size=size, size_vram=vram, percent=int(100 * vram // size) if size else 0,
                                  processor=processor(size, vram))
        if not vram:
            self.fail('%s runs on the CPU on %s (size_vram 0 of %d bytes): Ollama found no usable GPU; %s'
                      % (display, self.client.url, size, GPU_HINT))
        if vram < size:
            self.fail('%s is only partly in GPU memory on %s (%s, size_vram %d of %d bytes): it does not fit in free VRAM; check '
                      '`nvidia-smi` for other processes, or use a smaller model, quantization or num_ctx'
                      % (display, self.client.url, processor(size, vram), vram, size))

    def run(self):
        p = self.params
        try:
            names = [ModelName.parse(text) for text in p['models'] + ([p['model']] if p['model'] else [])]
        except InvalidModelName as e:
            self.fail(str(e))
        if p['version_constraint']:
            try:
                version_matches('0', p['version_constraint'])
            except ValueError as e:
                self.fail(str(e))
        try:
            version = self.wait()
            self.check_version(version)
            installed = self.client.tags()
            self.result['models'] = [m.get('name') for m in installed]
            self.check_models(installed)
            if p['model']:
                self.check_generation(names[-1], installed)
        except OllamaError as e:
            self.fail_with_service_log(str(e))
        self.module.exit_json(**self.result)


def main():
    argument_spec = ollama_argument_spec()
    argument_spec.update(
        wait_timeout=dict(type='float', default=120),
        delay=dict(type='float', default=2),
        retries=dict(type='int', removed_in_version='1.0.0', removed_from_collection='llmops.ollama'),
        systemd_unit=dict(type='str'),
        container=dict(type='str'),
        version=dict(type='str'),
        version_constraint=dict(type='str'),
        models=dict(type='list', elements='str', default=[]),
        model=dict(type='str'),
        prompt=dict(type='str', default='Reply with one short sentence about the sky.'),
        num_predict=dict(type='int', default=32),
        keep_alive=dict(type='str'),
        min_tokens_per_second=dict(type='float', no_log=False),
        require_gpu=dict(type='bool', default=False),
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        mutually_exclusive=OLLAMA_MUTUALLY_EXCLUSIVE + [('version', 'version_constraint'), ('systemd_unit', 'container')],
        required_together=OLLAMA_REQUIRED_TOGETHER,
        required_if=[('require_gpu', True, ['model'])],
        required_by={'min_tokens_per_second': 'model'},
    )
    OllamaHealth(module).run()


if __name__ == '__main__':
    main()

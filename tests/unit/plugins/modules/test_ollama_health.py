# Copyright (c) 2025, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import json
import threading
import time

import pytest

from ansible.module_utils import _internal as module_utils_internal
from ansible.module_utils.basic import AnsibleModule

from ansible_collections.llmops.ollama.plugins.modules import ollama_health


@pytest.fixture
def health(run_module):
    def run(url, check=False, **args):
        return run_module(ollama_health, dict(args, url=url), check=check)
    return run


def assert_failed(result, *fragments):
    assert result.get('failed') is True, result
    assert result.get('changed') is not True
    assert '\n' not in result['msg'], result['msg']
    for fragment in fragments:
        assert fragment in result['msg'], result['msg']


def test_healthy_server(health, ollama):
    for check in (False, True):
        result = health(ollama, check=check)
        assert result['changed'] is False and result['reachable'] is True
        assert result['attempts'] == 1 and result['version'] == '0.32.15'
        assert result['models'] == [] and result['missing_models'] == []
        assert 'generation' not in result and 'gpu' not in result


@pytest.mark.parametrize('args', [{'version': '0.32.15'}, {'version_constraint': '>=0.12'}, {'version_constraint': '>=0.30,<0.33'}])
def test_version_ok(health, ollama, args):
    assert health(ollama, **args)['changed'] is False


@pytest.mark.parametrize('args, fragments', [
    ({'version': '0.12.3'}, ['runs version 0.32.15, expected 0.12.3', 'journalctl -u ollama']),
    ({'version_constraint': '<0.30'}, ['runs version 0.32.15, which does not meet version_constraint <0.30']),
])
def test_version_mismatch(health, ollama, args, fragments):
    assert_failed(health(ollama, **args), *fragments)


def test_bad_constraint_fails_before_waiting(health, closed_port):
    result = health(closed_port, version_constraint='latest please')
    assert_failed(result, 'invalid version constraint')
    assert result['attempts'] == 0


def test_expected_models(health, ollama):
    ollama.pull('smollm2:135m')
    assert health(ollama, models=['SmolLM2:135m', 'registry.ollama.ai/library/smollm2:135m'])['missing_models'] == []
    result = health(ollama, models=['smollm2:135m', 'qwen2.5:0.5b', 'all-minilm'])
    assert_failed(result, 'models missing on %s: qwen2.5:0.5b, all-minilm (installed: smollm2:135m)' % ollama, 'ollama_model')
    assert result['missing_models'] == ['qwen2.5:0.5b', 'all-minilm']


def test_invalid_model_name(health, closed_port):
    assert_failed(health(closed_port, models=['bad name']), "invalid model name 'bad name'")


def test_generation_on_gpu(health, start_ollama):
    ollama = start_ollama(env={'OLLAMA_DOUBLE_PROCESSOR': 'gpu', 'OLLAMA_DOUBLE_TOKENS_PER_SECOND': '400'})
    ollama.pull('smollm2:135m')
    result = health(ollama, model='SmolLM2:135m', require_gpu=True, min_tokens_per_second=100, num_predict=8, keep_alive='10m')
    assert result['changed'] is False, result.get('msg')
    generation = result['generation']
    assert generation['model'] == 'smollm2:135m' and generation['eval_count'] == 8
    assert generation['tokens_per_second'] == round(generation['eval_count'] * 1e9 / generation['eval_duration'], 2)
    assert 300 < generation['tokens_per_second'] < 500
    assert result['gpu']['processor'] == '100% GPU' and result['gpu']['percent'] == 100
    assert result['gpu']['size_vram'] == result['gpu']['size'] > 0


def test_silent_cpu_fallback_is_caught(health, start_ollama):
    ollama = start_ollama(env={'OLLAMA_DOUBLE_PROCESSOR': 'cpu'})
    ollama.pull('smollm2:135m')
    result = health(ollama, model='smollm2:135m', require_gpu=True)
    assert_failed(result, 'smollm2:135m runs on the CPU', 'size_vram 0 of', 'nvidia-smi', 'journalctl -u ollama', 'docker logs')
    assert result['gpu']['processor'] == '100% CPU'
    # Without require_gpu the same server is healthy.
    assert health(ollama, model='smollm2:135m')['changed'] is False


def test_partial_offload(health, start_ollama):
    ollama = start_ollama(env={'OLLAMA_DOUBLE_PROCESSOR': '48'})
    ollama.pull('smollm2:135m')
    result = health(ollama, model='smollm2:135m', require_gpu=True)
    assert_failed(result, 'only partly in GPU memory', '52%/48% CPU/GPU', 'nvidia-smi')


def test_too_slow(health, start_ollama):
    ollama = start_ollama(env={'OLLAMA_DOUBLE_TOKENS_PER_SECOND': '50'})
    ollama.pull('smollm2:135m')
    result = health(ollama, model='smollm2:135m', min_tokens_per_second=1000, num_predict=4)
    assert_failed(result, 'generated', 'tokens/s', 'below min_tokens_per_second 1000', 'nvidia-smi')
    assert result['generation']['tokens_per_second'] < 1000


def test_model_not_installed(health, ollama):
    assert_failed(health(ollama, model='qwen2.5:0.5b'), 'model qwen2.5:0.5b is not installed', 'ollama_model')


def test_embedding_model_cannot_generate(health, ollama):
    ollama.pull('all-minilm')
    assert_failed(health(ollama, model='all-minilm'), 'generation with all-minilm:latest failed', 'does not support generate')


def test_unloaded_right_away_with_require_gpu(health, start_ollama):
    ollama = start_ollama(env={'OLLAMA_DOUBLE_PROCESSOR': 'gpu'})
    ollama.pull('smollm2:135m')
    assert_failed(health(ollama, model='smollm2:135m', require_gpu=True, keep_alive='0'), 'is not loaded', 'keep_alive')


def test_wait_timeout_alone_decides_how_long(health, closed_port):
    # The old default of 30 attempts gave up after 30 x delay (0.3 s here, plus the attempts), whatever wait_timeout said.
    result = health(closed_port, delay=0.01, wait_timeout=8, timeout=1)
    assert_failed(result, 'Ollama did not answer at %s' % closed_port, 'cannot reach Ollama', 'journalctl -u ollama')
    assert result['reachable'] is False and result['attempts'] > 1
    # Only the time decides: the last attempt is the one after which a further delay would pass wait_timeout.
    assert 7.99 <= result['elapsed'] <= 12
    assert not result.get('deprecations')


def test_wait_timeout_bounds_the_wait(health, closed_port):
    result = health(closed_port, delay=0.2, wait_timeout=1)
    assert_failed(result, 'did not answer')
    assert 3 <= result['attempts'] <= 6


def test_deprecated_retries_still_cap_the_attempts(health, closed_port, monkeypatch):
    # Once controller code is imported (other tests do), deprecations go to the display instead of the result.
    monkeypatch.setattr(module_utils_internal, 'is_controller', False)
    started = time.time()
    result = health(closed_port, retries=3, delay=0.1, timeout=1)
    assert_failed(result, 'Ollama did not answer at %s after 3 attempts' % closed_port)
    assert result['attempts'] == 3 and time.time() - started < 5
    assert "Param 'retries' is deprecated" in str(result['deprecations']) and "'version': '1.0.0'" in str(result['deprecations'])


class FakeHost:
    """systemctl, journalctl and docker as the module calls them: each look pops the next state (the last one stays)."""

    def __init__(self, states, journal=None, docker_logs=('', '')):
        self.states = list(states)
        self.journal = journal or {}
        self.docker_logs = docker_logs
        self.calls = []

    def state(self):
        return self.states.pop(0) if len(self.states) > 1 else self.states[0]

    def run_command(self, argv, **kwargs):
        self.calls.append(argv)
        tool = argv[0].rsplit('/', 1)[-1]
        if tool == 'systemctl':
            state = self.state()
            if state is None:
                return 1, '', 'Failed to connect to bus'
            return 0, ''.join('%s=%s\n' % item for item in sorted(state.items())), ''
        if tool == 'journalctl':
            invocation = argv[-1].split('=', 1)[1]
            return 0, ''.join(line + '\n' for line in self.journal.get(invocation, [])), ''
        if tool == 'docker' and argv[1] == 'inspect':
            state = self.state()
            if state is None:
                return 1, '', 'Error: No such object: ollama'
            restarts = state.pop('RestartCount', 0)
            return 0, '%s %d\n' % (json.dumps(state), restarts), ''
        if tool == 'docker' and argv[1] == 'logs':
            return 0, self.docker_logs[0], self.docker_logs[1]
        raise AssertionError('unexpected command %r' % argv)


@pytest.fixture
def fake_host(monkeypatch):
    def install(*states, **kwargs):
        host = FakeHost(states, **kwargs)
        # A bound method on the class is not bound again: the module's calls reach the fake host as they are.
        monkeypatch.setattr(AnsibleModule, 'run_command', host.run_command)
        monkeypatch.setattr(AnsibleModule, 'get_bin_path', lambda module, name, required=False, opt_dirs=None: '/usr/bin/' + name)
        return host
    return install


def unit(active='active', sub='running', restarts=0, pid=4242, invocation='inv1', result='success', status=0):
    return dict(LoadState='loaded', ActiveState=active, SubState=sub, NRestarts=restarts, MainPID=pid, InvocationID=invocation,
                Result=result, ExecMainCode=1 if status else 0, ExecMainStatus=status)


BROKEN_START = [
    'time=2026-01-01T00:00:00.000Z level=INFO source=routes.go:1615 msg="server config" '
    'env="map[HTTPS_PROXY:http://user:s3cret@proxy:3128 OLLAMA_ORIGINS:http://app.example]"',
    'time=2026-01-01T00:00:00.001Z level=INFO source=images.go:522 msg="total blobs: 3"',
    'time=2026-01-01T00:00:00.002Z level=ERROR source=server.go:112 msg="unable to initialize inference backend" '
    'error="libggml-base.so: cannot open shared object file"',
    'Error: unable to initialize inference backend: libggml-base.so: cannot open shared object file: No such file or directory',
]


def test_crashed_unit_fails_at_once_with_its_own_error(health, closed_port, fake_host):
    host = fake_host(unit('activating', 'auto-restart', pid=0, result='exit-code', status=1), journal={'inv1': BROKEN_START})
    result = health(closed_port, systemd_unit='ollama', delay=0.1, wait_timeout=60)
    assert_failed(result, 'ollama.service is waiting to be restarted: its process exited with status 1',
                  'Error: unable to initialize inference backend: libggml-base.so: cannot open shared object file')
    assert result['attempts'] == 1 and result['elapsed'] < 5
    assert result['service']['failed'] is True and result['service']['state'] == 'activating (auto-restart)'
    assert len(result['service']['log']) == 2 and 'level=ERROR' in result['service']['log'][0]
    # Settings are never echoed.
    assert 's3cret' not in result['msg'] and 'OLLAMA_ORIGINS' not in result['msg']
    assert ['/usr/bin/journalctl', '--no-pager', '--quiet', '--output', 'cat', '_SYSTEMD_INVOCATION_ID=inv1'] in host.calls


@pytest.mark.parametrize('states, fragment', [
    ([unit(), unit(restarts=1, pid=5151, invocation='inv2')], 'was restarted by systemd 1 time(s)'),
    ([unit(), unit(pid=5151)], 'was restarted while the module waited (main PID 4242, then 5151)'),
    ([unit(), unit('failed', 'failed', pid=0, result='signal', status=9)], 'failed: its process killed by signal 9'),
    ([unit(), unit('inactive', 'dead', pid=0)], 'ollama.service is stopped'),
])
def test_unit_that_restarts_or_stops_while_waiting(health, closed_port, fake_host, states, fragment):
    fake_host(*states, journal={'inv1': BROKEN_START[-1:], 'inv2': ['panic: runtime error']})
    result = health(closed_port, systemd_unit='ollama', delay=0.1, wait_timeout=60)
    assert_failed(result, fragment, 'its log: Error: unable to initialize inference backend')
    # The first look is taken before the first attempt, so the change is seen at once.
    assert result['attempts'] == 1


def test_unit_that_does_not_exist(health, closed_port, fake_host):
    fake_host(dict(LoadState='not-found', ActiveState='inactive', SubState='dead'))
    assert_failed(health(closed_port, systemd_unit='olama', wait_timeout=60), 'olama.service does not exist', 'no error lines')


def test_unreadable_unit_state(health, closed_port, fake_host):
    fake_host(None)
    assert_failed(health(closed_port, systemd_unit='ollama', wait_timeout=60), 'cannot read the state of ollama.service',
                  'Failed to connect to bus', 'Ollama did not answer at %s' % closed_port)


def test_running_unit_is_waited_for_until_it_answers(health, stub, answers, fake_host):
    stub.routes[('GET', '/api/version')] = answers.json(503, {'error': 'starting'})
    host = fake_host(unit())

    def start():
        time.sleep(1)
        stub.routes[('GET', '/api/version')] = answers.json(200, {'version': '0.12.3'})
        stub.routes[('GET', '/api/tags')] = answers.json(200, {'models': []})
    threading.Thread(target=start).start()
    result = health(stub, systemd_unit='ollama', delay=0.1, wait_timeout=30)
    assert result['changed'] is False and result['version'] == '0.12.3', result.get('msg')
    assert result['elapsed'] >= 1
    assert result['service'] == dict(name='ollama.service', state='active (running)', failed=False, reason='', log=[])
    assert not [argv for argv in host.calls if 'journalctl' in argv[0]]


def test_running_unit_that_never_answers_times_out(health, closed_port, fake_host):
    fake_host(unit())
    result = health(closed_port, systemd_unit='ollama', delay=0.1, wait_timeout=1)
    assert_failed(result, 'Ollama did not answer at %s' % closed_port)
    assert result['elapsed'] >= 0.9 and result['service']['failed'] is False


RUNNER_DIED = ('time=2026-01-01T00:00:09.000Z level=ERROR source=sched.go:478 msg="error loading llama server" '
               'error="llama runner process has terminated: cudaMalloc failed: out of memory"')


@pytest.mark.parametrize('states, meanwhile', [
    ([unit()], None),
    ([unit(), unit(restarts=1, pid=5151, invocation='inv2')], 'meanwhile ollama.service was restarted by systemd 1 time(s)'),
])
def test_generation_that_fails_after_the_server_answered_carries_the_units_log(health, start_ollama, fake_host, states, meanwhile):
    ollama = start_ollama(env={'OLLAMA_DOUBLE_FAIL_LOAD': 'cudaMalloc failed: out of memory'})
    ollama.pull('smollm2:135m')
    host = fake_host(*states, journal={'ollama.service': [BROKEN_START[0], RUNNER_DIED]})
    result = health(ollama, model='smollm2:135m', systemd_unit='ollama', delay=0.1, wait_timeout=60)
    assert_failed(result, 'generation with smollm2:135m failed on %s' % ollama, 'llama runner process has terminated',
                  'its log: ' + RUNNER_DIED)
    assert ('; meanwhile' in result['msg']) is bool(meanwhile) and (meanwhile or '') in result['msg']
    assert result['service']['log'] == [RUNNER_DIED] and 's3cret' not in result['msg']
    since = [argv for argv in host.calls if argv[0].endswith('journalctl')]
    assert len(since) == 1 and since[0][5] == '--since' and since[0][-1] == '_SYSTEMD_UNIT=ollama.service'
    assert abs(int(since[0][6][1:]) - time.time()) < 60


def test_generation_that_fails_in_a_container_carries_its_log_since_the_module_started(health, start_ollama, fake_host):
    ollama = start_ollama(env={'OLLAMA_DOUBLE_FAIL_LOAD': 'cudaMalloc failed: out of memory'})
    ollama.pull('smollm2:135m')
    host = fake_host(container(), docker_logs=('', '2026-01-01T10:00:09Z ' + RUNNER_DIED + '\n'))
    result = health(ollama, model='smollm2:135m', container='ollama', delay=0.1, wait_timeout=60)
    assert_failed(result, 'generation with smollm2:135m failed', 'its log: ' + RUNNER_DIED)
    logs = [argv for argv in host.calls if argv[1] == 'logs']
    assert len(logs) == 1 and logs[0][3] == '--since' and abs(int(logs[0][4]) - time.time()) < 60


def container(status='running', restarts=0, pid=777, started='2026-01-01T10:00:00.1Z', code=0, oom=False):
    return dict(Status=status, Pid=pid, ExitCode=code, OOMKilled=oom, Error='', StartedAt=started, RestartCount=restarts)


DOCKER_LOGS = (
    '2026-01-01T10:00:00.200Z ' + BROKEN_START[0] + '\n',
    '2026-01-01T10:00:00.300Z ' + BROKEN_START[2] + '\n2026-01-01T10:00:00.400Z ' + BROKEN_START[3] + '\n',
)


@pytest.mark.parametrize('states, fragment', [
    ([container('exited', pid=0, code=1)], 'ollama stopped: its process exited with code 1'),
    ([container('restarting', pid=0, code=1, restarts=2)], 'ollama is restarting: its process exited with code 1'),
    ([container(), container(restarts=1, pid=778, started='2026-01-01T10:00:05Z')], 'was restarted by Docker 1 time(s)'),
    ([container(), container(pid=778, started='2026-01-01T10:00:05Z')], 'was restarted while the module waited'),
    ([container('restarting', pid=0, code=137, oom=True)], 'killed for lack of memory'),
])
def test_container_that_cannot_start(health, closed_port, fake_host, states, fragment):
    host = fake_host(*states, docker_logs=DOCKER_LOGS)
    result = health(closed_port, container='ollama', delay=0.1, wait_timeout=60)
    assert_failed(result, fragment, 'its log: time=2026-01-01T00:00:00.002Z level=ERROR',
                  '| Error: unable to initialize inference backend')
    assert result['attempts'] <= 2 and 's3cret' not in result['msg']
    assert ['/usr/bin/docker', 'logs', '--timestamps', '--since', '2026-01-01T10:00:00.1Z', 'ollama'] in host.calls


def test_missing_container(health, closed_port, fake_host):
    fake_host(None)
    assert_failed(health(closed_port, container='ollama', wait_timeout=60), 'ollama does not exist')


def test_error_lines_are_few_short_and_without_secrets():
    lines = ['level=ERROR msg="pull from https://bob:hunter2@mirror.example/v2 failed"'] + ['Error: %d' % i for i in range(5)]
    assert ollama_health.error_lines(lines) == ['Error: 2', 'Error: 3', 'Error: 4']
    assert ollama_health.error_lines(lines[:1] + ['x' * 500]) == ['level=ERROR msg="pull from https://***@mirror.example/v2 failed"']
    # Without error lines, the last lines say what happened.
    assert ollama_health.error_lines(['starting', BROKEN_START[0], 'x' * 500]) == ['starting', 'x' * 300]


def test_waits_for_a_server_that_starts_late(health, stub, answers):
    stub.routes[('GET', '/api/version')] = answers.json(503, {'error': 'starting'})

    def start():
        time.sleep(0.5)
        stub.routes[('GET', '/api/version')] = answers.json(200, {'version': '0.12.3'})
        stub.routes[('GET', '/api/tags')] = answers.json(200, {'models': []})
    threading.Thread(target=start).start()
    result = health(stub, retries=50, delay=0.1)
    assert result['changed'] is False and result['version'] == '0.12.3'
    assert result['attempts'] > 1


def test_wrong_credentials_are_not_retried(health, stub, answers):
    stub.routes[('*', '*')] = answers.json(401, {'error': 'unauthorized'})
    result = health(stub, retries=10, delay=1, url_username='admin', url_password='not-the-password')
    assert_failed(result, '401 Unauthorized')
    assert result['attempts'] == 1


@pytest.mark.parametrize('args, fragment', [
    ({'require_gpu': True}, 'require_gpu is True but all of the following are missing: model'),
    ({'min_tokens_per_second': 5}, "missing parameter(s) required by 'min_tokens_per_second': model"),
    ({'version': '1', 'version_constraint': '>1'}, 'mutually exclusive'),
    ({'systemd_unit': 'ollama', 'container': 'ollama'}, 'parameters are mutually exclusive: systemd_unit|container'),
])
def test_argument_spec(health, closed_port, args, fragment):
    assert_failed(health(closed_port, **args), fragment)


def test_processor_column():
    assert ollama_health.processor(100, 0) == '100% CPU'
    assert ollama_health.processor(100, 100) == '100% GPU'
    assert ollama_health.processor(100, 48) == '52%/48% CPU/GPU'

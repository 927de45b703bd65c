# Copyright (c) 2025, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ollama_store on stores filled by the Ollama double; imports and exports four ways (check, apply, apply, check)."""

import hashlib
import io
import os
import tarfile

import pytest

from ansible_collections.llmops.ollama.plugins.modules import ollama_store


@pytest.fixture
def store(run_module):
    def run(check=False, **args):
        return run_module(ollama_store, args, check=check)
    return run


def four_ways(run, **args):
    results = [run(check=True, **args), run(**args), run(**args), run(check=True, **args)]
    for result in results:
        assert not result.failed, result['msg']
    assert [r['changed'] for r in results] == [True, True, False, False], [r.get('msg') for r in results]
    return results


def blob_files(models_dir):
    return sorted(os.listdir(os.path.join(models_dir, 'blobs')))


@pytest.fixture
def seed(start_ollama):
    seed = start_ollama(name='seed')
    seed.pull('smollm2:135m')
    seed.pull('qwen2.5:0.5b')
    return seed


def test_list_and_verify(store, seed):
    listed = store(path=seed.models_dir)
    assert sorted(m['name'] for m in listed['models']) == ['qwen2.5:0.5b', 'smollm2:135m']
    assert {m['name']: m['digest'] for m in listed['models']} == {n: seed.digest(n) for n in seed.names()}
    assert store(path=seed.models_dir, operation='verify', models=['smollm2:135m'])['changed'] is False


def test_verify_names_model_and_digest_of_a_corrupt_blob(store, seed):
    model = [m for m in store(path=seed.models_dir)['models'] if m['name'] == 'smollm2:135m'][0]
    digest = model['blobs'][0]
    path = os.path.join(seed.models_dir, 'blobs', digest.replace(':', '-'))
    with open(path, 'r+b') as f:
        first = f.read(1)
        f.seek(0)
        f.write(bytes([first[0] ^ 0xFF]))
    result = store(path=seed.models_dir, operation='verify')
    assert result.failed
    assert 'model smollm2:135m: blob %s is corrupt' % digest in result['msg']
    assert 'qwen2.5' not in result['msg']


def test_import_from_a_directory_four_ways(store, seed, start_ollama):
    target = start_ollama(name='target')
    check, apply, unused_again, unused_check_again = four_ways(
        store, path=target.models_dir, operation='import', src=seed.models_dir, models=['smollm2:135m'])
    assert check['copied_blobs'] == apply['copied_blobs'] and apply['copied_bytes'] > 0
    assert apply['written_manifests'] == ['smollm2:135m']
    # The running server lists it with the digest of the source.
    assert target.names() == ['smollm2:135m'] and target.digest('smollm2:135m') == seed.digest('smollm2:135m')
    assert not [f for f in blob_files(target.models_dir) if not f.startswith('sha256-') or len(f) != 71]


def test_import_copies_only_missing_blobs(store, seed, start_ollama):
    target = start_ollama(name='target')
    target.pull('smollm2:135m')
    result = store(path=target.models_dir, operation='import', src=seed.models_dir)
    smol_blobs = set([m for m in result['models'] if m['name'] == 'smollm2:135m'][0]['blobs'])
    assert result['copied_blobs'] and not smol_blobs & set(result['copied_blobs'])
    assert result['written_manifests'] == ['qwen2.5:0.5b']


def test_import_refuses_a_corrupt_blob_and_leaves_no_model(store, seed, start_ollama):
    target = start_ollama(name='target')
    model = [m for m in store(path=seed.models_dir)['models'] if m['name'] == 'smollm2:135m'][0]
    digest = model['blobs'][0]
    with open(os.path.join(seed.models_dir, 'blobs', digest.replace(':', '-')), 'r+b') as f:
        f.write(b'\0\0\0\0')
    result = store(path=target.models_dir, operation='import', src=seed.models_dir, models=['smollm2:135m'])
    assert result.failed
    assert result['msg'].startswith('model smollm2:135m: blob %s content hashes to sha256:' % digest)
    assert target.names() == [] and digest.replace(':', '-') not in blob_files(target.models_dir)
    assert not [f for f in blob_files(target.models_dir) if f.startswith('.')]


def test_export_and_import_a_bundle_four_ways(store, seed, start_ollama, tmp_path):
    bundle = str(tmp_path / 'models.tar')
    check, apply, again, unused = four_ways(store, path=seed.models_dir, operation='export', models=['qwen2.5:0.5b'], dest=bundle)
    assert 'bundle_sha256' not in check
    with open(bundle, 'rb') as f:
        assert hashlib.sha256(f.read()).hexdigest() == apply['bundle_sha256'] == again['bundle_sha256']
    with open(bundle + '.sha256') as f:
        assert f.read() == '%s  models.tar\n' % apply['bundle_sha256']
    with tarfile.open(bundle) as tar:
        names = tar.getnames()
        sums = tar.extractfile('SHA256SUMS').read().decode()
    assert names[0] == 'SHA256SUMS' and 'manifests/registry.ollama.ai/library/qwen2.5/0.5b' in names
    assert len(sums.splitlines()) == len(names) - 1
    target = start_ollama(name='offline')
    four_ways(store, path=target.models_dir, operation='import', src=bundle)
    assert target.names() == ['qwen2.5:0.5b'] and target.digest('qwen2.5:0.5b') == seed.digest('qwen2.5:0.5b')


def test_damaged_bundle_manifest_is_refused(store, seed, start_ollama, tmp_path):
    bundle = str(tmp_path / 'models.tar')
    store(path=seed.models_dir, operation='export', models=['qwen2.5:0.5b'], dest=bundle)
    manifest = os.path.join(seed.models_dir, 'manifests/registry.ollama.ai/library/qwen2.5/0.5b')
    raw = open(manifest, 'rb').read()
    with tarfile.open(bundle) as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar.getmembers()]
    with tarfile.open(bundle, 'w') as tar:
        for member, data in members:
            if member.name.startswith('manifests/'):
                data = raw + b' '
                member.size = len(data)
            tar.addfile(member, io.BytesIO(data))
    target = start_ollama(name='offline')
    result = store(path=target.models_dir, operation='import', src=bundle)
    assert result.failed and 'does not match SHA256SUMS' in result['msg'] and target.names() == []


@pytest.mark.parametrize('args, message', [
    ({'path': '/nonexistent', 'operation': 'verify'}, '/nonexistent is not a directory'),
    ({'path': '/tmp', 'operation': 'import'}, 'operation is import but all of the following are missing: src'),
    ({'path': '/tmp', 'operation': 'export'}, 'operation is export but all of the following are missing: dest'),
    ({'path': '/tmp', 'operation': 'import', 'src': '/nonexistent'}, 'import source /nonexistent does not exist'),
])
def test_bad_input(store, args, message):
    result = store(**args)
    assert result.failed and message in result['msg']


def test_unknown_model_is_named(store, seed):
    result = store(path=seed.models_dir, models=['llama3.2:3b'])
    assert result.failed and result['msg'].startswith('model llama3.2:3b is not in the store (it holds: ')


def rewrite_bundle(bundle, extra=()):
    """The bundle with extra (name, bytes) members added, each listed in its SHA256SUMS as a bundle's maker would."""
    with tarfile.open(bundle) as tar:
        members = [(m.name, tar.extractfile(m).read()) for m in tar.getmembers()]
    sums = dict(members)['SHA256SUMS'].decode() + ''.join(
        '%s  %s\n' % (hashlib.sha256(data).hexdigest(), name) for name, data in extra)
    with tarfile.open(bundle, 'w') as tar:
        for name, data in [('SHA256SUMS', sums.encode())] + [m for m in members if m[0] != 'SHA256SUMS'] + list(extra):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


@pytest.mark.parametrize('member', ['manifests/../../outside/x', 'manifests/registry.ollama.ai/library/../x',
                                    'manifests/registry.ollama.ai/library/m/t/extra', 'manifests/h/n/.m/t'])
def test_a_bundle_member_outside_the_manifests_is_refused_and_nothing_written(store, seed, start_ollama, tmp_path, member):
    bundle = str(tmp_path / 'models.tar')
    store(path=seed.models_dir, operation='export', models=['qwen2.5:0.5b'], dest=bundle)
    manifest = open(os.path.join(seed.models_dir, 'manifests/registry.ollama.ai/library/qwen2.5/0.5b'), 'rb').read()
    rewrite_bundle(bundle, [(member, manifest)])
    target = start_ollama(name='offline')
    before = sorted(os.listdir(os.path.dirname(target.models_dir)))
    result = store(path=target.models_dir, operation='import', src=bundle)
    assert result.failed and "member %r is not a manifest path" % member in result['msg'], result['msg']
    assert 'nothing was written' in result['msg']
    assert target.names() == [] and blob_files(target.models_dir) == []
    assert sorted(os.listdir(os.path.dirname(target.models_dir))) == before


def test_a_write_that_resolves_outside_the_store_is_refused(tmp_path):
    from ansible_collections.llmops.ollama.plugins.module_utils import model_store
    root = tmp_path / 'a' / 'b' / 'models'
    root.mkdir(parents=True)
    (root / 'manifests').symlink_to(tmp_path)  # a link planted inside the store
    with pytest.raises(model_store.StoreError, match='outside the store'):
        model_store.Store(str(root)).write_stream('manifests/h/n/m/t', io.BytesIO(b'{}'))
    with pytest.raises(model_store.StoreError, match='outside the store'):
        model_store.Store(str(root)).write_stream('blobs/../../PWNED', io.BytesIO(b'x'))
    assert not (tmp_path / 'a' / 'PWNED').exists() and not (tmp_path / 'h').exists()


def test_a_pinned_checksum_admits_the_bundle_four_ways_and_refuses_another(store, seed, start_ollama, tmp_path):
    bundle = str(tmp_path / 'models.tar')
    made = store(path=seed.models_dir, operation='export', models=['qwen2.5:0.5b'], dest=bundle)
    target = start_ollama(name='offline')
    four_ways(store, path=target.models_dir, operation='import', src=bundle, checksum='sha256:' + made['bundle_sha256'])
    assert target.names() == ['qwen2.5:0.5b']
    other = start_ollama(name='other')
    # A bundle replaced together with its own checksum files: intact, and not the one that was pinned.
    store(path=seed.models_dir, operation='export', models=['smollm2:135m'], dest=bundle)
    result = store(path=other.models_dir, operation='import', src=bundle, checksum=made['bundle_sha256'])
    assert result.failed and 'not the pinned sha256:%s' % made['bundle_sha256'] in result['msg']
    assert other.names() == [] and blob_files(other.models_dir) == []


@pytest.mark.parametrize('args', [{'operation': 'import', 'checksum': 'abc'}, {'operation': 'list', 'checksum': '0' * 64}])
def test_a_malformed_or_misplaced_checksum_fails_first(store, seed, args):
    result = store(path=seed.models_dir, src=seed.models_dir, **args)
    assert result.failed and result['msg'].startswith('checksum must be the sha256 of a bundle to import')


def test_export_does_not_follow_a_link_planted_at_its_checksum_file(store, seed, tmp_path):
    victim = tmp_path / 'victim'
    victim.write_text('keep me\n')
    bundle = tmp_path / 'models.tar'
    (tmp_path / 'models.tar.sha256').symlink_to(victim)
    result = store(path=seed.models_dir, operation='export', models=['qwen2.5:0.5b'], dest=str(bundle))
    assert not result.failed
    assert victim.read_text() == 'keep me\n'
    assert not os.path.islink(str(bundle) + '.sha256')
    assert open(str(bundle) + '.sha256').read() == '%s  models.tar\n' % result['bundle_sha256']

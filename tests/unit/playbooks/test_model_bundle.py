# Copyright (c) 2026, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/model-bundle.yml imports only the bundle whose checksum was pinned, and refuses any other before a host is touched."""

import hashlib
import io
import tarfile


def bundle(path, sums='x  blobs/sha256-x\n'):
    with tarfile.open(path, 'w') as tar:
        data = sums.encode()
        info = tarfile.TarInfo('SHA256SUMS')
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_bundle_other_than_the_pinned_one_is_refused_before_any_host(tmp_path, run_repo_playbook):
    tar = tmp_path / 'models.tar'
    pinned = bundle(tar)
    # Swapped on the way, with a checksum file of its own that matches it: intact, and not the one that was made.
    swapped = bundle(tar, sums='y  blobs/sha256-x\n')
    (tmp_path / 'models.tar.sha256').write_text('%s  models.tar\n' % swapped)
    # The import play targets a host that does not exist: only the controller's checks can run.
    result = run_repo_playbook('playbooks/model-bundle.yml', 'offline-host,',
                               {'bundle_action': 'import', 'bundle_hosts': 'offline-host', 'bundle_file': str(tar),
                                'bundle_sha256': 'sha256:' + pinned})
    assert result.returncode != 0
    assert '%s hashes to sha256:%s, not the pinned bundle_sha256 sha256:%s' % (tar, swapped, pinned) in result.stdout
    assert 'PLAY [Import a bundle]' not in result.stdout


def test_an_import_without_a_pinned_checksum_is_refused(tmp_path, run_repo_playbook):
    tar = tmp_path / 'models.tar'
    digest = bundle(tar)
    (tmp_path / 'models.tar.sha256').write_text('%s  models.tar\n' % digest)
    result = run_repo_playbook('playbooks/model-bundle.yml', 'offline-host,',
                               {'bundle_action': 'import', 'bundle_hosts': 'offline-host', 'bundle_file': str(tar)})
    assert result.returncode != 0
    assert 'model-bundle: an import needs bundle_sha256' in result.stdout
    assert 'PLAY [Import a bundle]' not in result.stdout

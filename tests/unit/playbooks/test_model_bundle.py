# Copyright (c) 2026, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/model-bundle.yml refuses a bundle that does not match its checksum file before any host is touched."""

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


def test_a_tampered_bundle_is_refused_before_any_host(tmp_path, run_repo_playbook):
    tar = tmp_path / 'models.tar'
    digest = bundle(tar)
    # Taken for the bundle, then the bundle changed on the way (one byte of the list).
    (tmp_path / 'models.tar.sha256').write_text('%s  models.tar\n' % digest)
    bundle(tar, sums='y  blobs/sha256-x\n')
    # The import play targets a host that does not exist: only the controller's checks can run.
    result = run_repo_playbook('playbooks/model-bundle.yml', 'offline-host,',
                               {'bundle_action': 'import', 'bundle_hosts': 'offline-host', 'bundle_file': str(tar)})
    assert result.returncode != 0
    assert '%s does not match %s.sha256: copy it again from the source' % (tar, tar) in result.stdout
    # The import play never started.
    assert 'PLAY [Import a bundle]' not in result.stdout

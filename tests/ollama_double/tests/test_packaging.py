"""Release tarballs and sha256sum.txt like upstream's; the packaged CLI runs from behind a symlink."""
import hashlib
import os
import subprocess
import sys
import tarfile

import pytest

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, HERE)

import build_artifacts  # noqa: E402


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    folder = tmp_path_factory.mktemp("releases")
    assert build_artifacts.main(["--out", str(folder)]) == 0
    return folder


def test_layout_and_checksums(out):
    for version, ext, unused_broken in build_artifacts.VERSIONS:
        folder = out / ("v" + version)
        assert sorted(os.listdir(folder)) == ["ollama-linux-amd64." + ext, "ollama-linux-arm64." + ext, "sha256sum.txt"]
        lines = (folder / "sha256sum.txt").read_text().splitlines()
        assert len(lines) == 2
        for line in lines:
            digest, name = line.split("  ./")
            assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest
    assert [v for v, e, unused_broken in build_artifacts.VERSIONS if e == "tgz"] == ["0.13.5"]
    with tarfile.open(out / "v0.13.5" / "ollama-linux-amd64.tgz") as tar:
        names = tar.getnames()
        assert "bin/ollama" in names and "lib/ollama/ollama_double/server.py" in names
        assert tar.getmember("bin/ollama").mode == 0o755 and tar.getmember("bin/ollama").mtime == build_artifacts.MTIME
    assert (out / "v0.32.15" / "ollama-linux-amd64.tar.zst").read_bytes()[:4] == b"\x28\xb5\x2f\xfd"


def test_reproducible(out, tmp_path):
    build_artifacts.main(["--out", str(tmp_path)])
    for version, unused_ext, unused_broken in build_artifacts.VERSIONS:
        assert (tmp_path / ("v" + version) / "sha256sum.txt").read_text() == (out / ("v" + version) / "sha256sum.txt").read_text()


def extract(out, version, ext, dest):
    dest.mkdir()
    archive = out / ("v" + version) / ("ollama-linux-amd64." + ext)
    subprocess.run(["tar", "-C", str(dest)] + (["-xzf"] if ext == "tgz" else ["--zstd", "-xf"]) + [str(archive)], check=True)
    return dest


@pytest.mark.parametrize("version,ext", [("0.13.5", "tgz"), ("0.31.2", "tar.zst")])
def test_extracted_binary_reports_baked_version(out, tmp_path, version, ext):
    root = extract(out, version, ext, tmp_path / "usr-local")
    link = tmp_path / "bin" / "ollama"
    link.parent.mkdir()
    link.symlink_to(root / "bin" / "ollama")
    env = dict(os.environ, OLLAMA_HOST="127.0.0.1:1", OLLAMA_DOUBLE_VERSION="9.9.9")
    res = subprocess.run([str(link), "-v"], env=env, capture_output=True, text=True, timeout=30, check=False)
    assert res.stdout == ("Warning: could not connect to a running Ollama instance\nWarning: client version is %s\n" % version)


def test_broken_version_fails_to_serve(out, tmp_path):
    root = extract(out, "0.33.0-rc2", "tar.zst", tmp_path / "x")
    env = dict(os.environ, OLLAMA_HOST="127.0.0.1:0", OLLAMA_MODELS=str(tmp_path / "m"))
    res = subprocess.run([str(root / "bin" / "ollama"), "serve"], env=env, capture_output=True, text=True, timeout=30, check=False)
    assert res.returncode == 1 and "Error: " in res.stderr

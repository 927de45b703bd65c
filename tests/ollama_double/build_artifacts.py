"""Package the Ollama double like upstream's releases (tarballs + sha256sum.txt) and, optionally, as images.

    build_artifacts.py --out DIR [--images] [--save]

DIR/v<ver>/ollama-linux-{amd64,arm64}.<tgz|tar.zst> and DIR/v<ver>/sha256sum.txt mirror
https://github.com/ollama/ollama/releases/download/v<ver>/<file>; --images builds ollama/ollama:<ver>
(and llmops/ollama-registry:latest) with the classic builder; --save also writes DIR/images/ollama-<ver>.tar.
Output is reproducible: fixed mtimes, owners and entry order, so checksums stay the same between runs.
"""
import argparse
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE = os.path.join(HERE, "ollama_double")
# (version, archive extension, serve fails to start): <=0.13.5 shipped .tgz, >=0.14.0 .tar.zst.
VERSIONS = (
    ("0.13.5", "tgz", False),
    ("0.31.2", "tar.zst", False),
    ("0.32.15", "tar.zst", False),
    ("0.33.0-rc2", "tar.zst", True),
)
LATEST = "0.32.15"
MTIME = 1766016000  # 2025-12-18, fixed so archives are byte-for-byte reproducible
SYSTEM_IMAGE = "llmops/debian12-systemd:latest"
BASE_IMAGE = "llmops/ollama-double-base:latest"
BASE_SCRIPT = os.path.join(HERE, "slim-base.sh")
REGISTRY_IMAGE = "llmops/ollama-registry:latest"
LABEL = "org.llmops.ollama-double.source"
# Python, a shell and a few coreutils from the test-host image, nothing else (slim-base.sh).
BASE_DOCKERFILE = """FROM {system} AS system
COPY slim-base.sh /
RUN sh /slim-base.sh
FROM scratch
COPY --from=system /slim/ /
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
LABEL {label}="{source}"
"""
DOCKERFILE = """FROM {base}
COPY usr/ /usr/
ENV OLLAMA_HOST=0.0.0.0:11434
EXPOSE 11434
LABEL {label}="{source}" org.opencontainers.image.version="{version}"
ENTRYPOINT ["/bin/ollama"]
CMD ["serve"]
"""
REGISTRY_DOCKERFILE = """FROM {base}
COPY usr/ /usr/
EXPOSE 5000
LABEL {label}="{source}"
ENTRYPOINT ["/bin/ollama", "registry"]
CMD ["--listen", "0.0.0.0:5000"]
"""


def tree(version, broken):
    """[(archive path, bytes, mode)] of one release: bin/ollama and lib/ollama/ollama_double/."""
    with open(os.path.join(HERE, "bin", "ollama"), "rb") as f:
        files = [("bin/ollama", f.read(), 0o755)]
    for fname in sorted(os.listdir(PACKAGE)):
        if fname.endswith(".py"):
            with open(os.path.join(PACKAGE, fname), "rb") as f:
                files.append(("lib/ollama/ollama_double/" + fname, f.read(), 0o644))
    build = json.dumps({"version": version, "broken": broken}, sort_keys=True).encode() + b"\n"
    files.append(("lib/ollama/ollama_double/build.json", build, 0o644))
    return sorted(files)


def tar_bytes(files):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        dirs = sorted({os.path.dirname(path)[:i] for path, unused_data, unused_mode in files for i in _prefixes(os.path.dirname(path))})
        for d in dirs:
            info = _info(d + "/", 0o755)
            info.type = tarfile.DIRTYPE
            tar.addfile(info)
        for path, data, mode in files:
            info = _info(path, mode)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _prefixes(path):
    return [i for i in range(1, len(path) + 1) if i == len(path) or path[i] == "/"]


def _info(name, mode):
    info = tarfile.TarInfo(name)
    info.mode, info.mtime, info.uid, info.gid, info.uname, info.gname = mode, MTIME, 0, 0, "root", "root"
    return info


def compress(raw, ext):
    if ext == "tgz":
        buf = io.BytesIO()
        with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, filename="") as gz:
            gz.write(raw)
        return buf.getvalue()
    return subprocess.run(["zstd", "-q", "-19", "-T1", "-c"], input=raw, stdout=subprocess.PIPE, check=True).stdout


def build_release(out, version, ext, broken):
    folder = os.path.join(out, "v" + version)
    os.makedirs(folder, exist_ok=True)
    data = compress(tar_bytes(tree(version, broken)), ext)
    lines = []
    for arch in ("amd64", "arm64"):
        fname = "ollama-linux-%s.%s" % (arch, ext)
        with open(os.path.join(folder, fname), "wb") as f:
            f.write(data)
        lines.append("%s  ./%s\n" % (hashlib.sha256(data).hexdigest(), fname))
    with open(os.path.join(folder, "sha256sum.txt"), "w") as f:
        f.writelines(sorted(lines, key=lambda line: line.split("  ./")[1]))
    return data


def _docker(*args, **kwargs):
    env = dict(os.environ, DOCKER_BUILDKIT="0")
    return subprocess.run(["docker"] + list(args), env=env, check=kwargs.get("check", True),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def build_image(tag, files, template, version):
    base = _docker("image", "inspect", "-f", "{{.Id}}", BASE_IMAGE).stdout.strip()
    source = hashlib.sha256(base.encode() + template.encode() + tar_bytes(files)).hexdigest()
    found = _docker("image", "inspect", "-f", '{{ index .Config.Labels "%s" }}' % LABEL, tag, check=False)
    if found.returncode == 0 and found.stdout.strip() == source:
        print("%s is up to date" % tag)
        return
    with tempfile.TemporaryDirectory() as ctx:
        for path, data, mode in files:
            target = os.path.join(ctx, "usr", path)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as f:
                f.write(data)
            os.chmod(target, mode)
        with open(os.path.join(ctx, "Dockerfile"), "w") as f:
            f.write(template.format(base=BASE_IMAGE, label=LABEL, source=source, version=version))
        _docker("build", "--pull=false", "-q", "-t", tag, ctx)
    print("built %s" % tag)


def build_base_image():
    """The double's base image, rebuilt when the test-host image or slim-base.sh changes."""
    system = _docker("image", "inspect", "-f", "{{.Id}}", SYSTEM_IMAGE).stdout.strip()
    with open(BASE_SCRIPT, "rb") as f:
        script = f.read()
    source = hashlib.sha256(system.encode() + script + BASE_DOCKERFILE.encode()).hexdigest()
    found = _docker("image", "inspect", "-f", '{{ index .Config.Labels "%s" }}' % LABEL, BASE_IMAGE, check=False)
    if found.returncode == 0 and found.stdout.strip() == source:
        print("%s is up to date" % BASE_IMAGE)
        return
    with tempfile.TemporaryDirectory() as ctx:
        shutil.copy(BASE_SCRIPT, os.path.join(ctx, "slim-base.sh"))
        with open(os.path.join(ctx, "Dockerfile"), "w") as f:
            f.write(BASE_DOCKERFILE.format(system=SYSTEM_IMAGE, label=LABEL, source=source))
        _docker("build", "--pull=false", "-q", "-t", BASE_IMAGE, ctx)
    print("built %s" % BASE_IMAGE)


def build_images(out, save):
    build_base_image()
    for version, unused_ext, broken in VERSIONS:
        tag = "ollama/ollama:%s" % version
        build_image(tag, tree(version, broken), DOCKERFILE, version)
        if version == LATEST:
            _docker("tag", tag, "ollama/ollama:latest")
            build_image(REGISTRY_IMAGE, tree(version, False), REGISTRY_DOCKERFILE, version)
        if save:
            os.makedirs(os.path.join(out, "images"), exist_ok=True)
            target = os.path.join(out, "images", "ollama-%s.tar" % version)
            _docker("save", "-o", target, tag)
            os.chmod(target, 0o644)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="directory for v<ver>/ release folders")
    parser.add_argument("--images", action="store_true", help="also build ollama/ollama:<ver> images")
    parser.add_argument("--save", action="store_true", help="with --images: docker save them into OUT/images/")
    args = parser.parse_args(argv)
    if shutil.which("zstd") is None:
        print("zstd is required for the .tar.zst assets", file=sys.stderr)
        return 1
    for version, ext, broken in VERSIONS:
        build_release(args.out, version, ext, broken)
        print("v%s/ollama-linux-amd64.%s" % (version, ext))
    if args.images:
        build_images(args.out, args.save)
    return 0


if __name__ == "__main__":
    sys.exit(main())

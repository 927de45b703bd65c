#!/bin/sh
# Run inside the Debian 12 test-host image by build_artifacts.py: copies what the Ollama double needs (Python's
# standard library, a shell, the coreutils its entry point and the tests call, and the shared libraries they
# load) into /slim, the root of the double's images. A sixth of the full image: copying and loading an image
# archive on a test host (nested Docker, vfs) then takes seconds.
set -eu
out=/slim
mkdir -p "$out/usr/bin" "$out/usr/lib" "$out/usr/lib64" "$out/usr/sbin" "$out/etc" "$out/root" "$out/tmp" "$out/var/tmp"
chmod 1777 "$out/tmp" "$out/var/tmp"
# Debian's merged /usr.
for dir in bin lib lib64 sbin; do ln -s "usr/$dir" "$out/$dir"; done

# One path: the file (or link) at its /usr location, and a link's target too.
copy() {
  real_dir=$(readlink -f "$(dirname "$1")")
  name=$(basename "$1")
  mkdir -p "$out$real_dir"
  cp -a "$real_dir/$name" "$out$real_dir/"
  if [ -L "$real_dir/$name" ]; then copy "$(readlink -f "$real_dir/$name")"; fi
}

python=/usr/lib/python3.11
rm -rf "$python/test" "$python/idlelib" "$python/tkinter" "$python/lib2to3" "$python/ensurepip" "$python/pydoc_data" \
       "$python/turtledemo"
find "$python" -name __pycache__ -prune -exec rm -rf {} +
mkdir -p "$out/usr/lib"
cp -a "$python" "$out/usr/lib/"
binaries="/usr/bin/dash /usr/bin/env /usr/bin/printenv /usr/bin/readlink /usr/bin/dirname /usr/bin/cat /usr/bin/python3.11"
for binary in $binaries; do copy "$binary"; done
ln -s dash "$out/usr/bin/sh"
ln -s python3.11 "$out/usr/bin/python3"
# Every shared library the binaries and Python's extension modules load.
for binary in $binaries "$python"/lib-dynload/*.so; do
  ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'
done | sort -u | while read -r lib; do copy "$lib"; done
cp -a /etc/passwd /etc/group /etc/nsswitch.conf "$out/etc/"
cp -aL /etc/ssl "$out/etc/" 2>/dev/null || true

#!/usr/bin/env bash
# Builds the Debian systemd test-host images from Debian's archive (no registry is reachable).
# An image is rebuilt only when its recipe (this script + the package list) changes: the recipe
# hash is the image tag, and `:latest` points at the current one.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
recipe_hash=$( (cat "$here/build-images.sh" "$here/images/debian.packages"; echo "$mirror") | sha256sum | cut -c1-12)
packages=$(grep -v '^#' "$here/images/debian.packages" | paste -sd, -)

build() {
  local release=$1 suite=$2 repo="llmops/${1}-systemd"
  if docker image inspect "$repo:$recipe_hash" >/dev/null 2>&1; then
    docker tag "$repo:$recipe_hash" "$repo:latest"
    echo "$repo:$recipe_hash is up to date"
    return
  fi
  local rootfs
  rootfs=$(mktemp -d "/var/tmp/${release}-rootfs.XXXXXX")
  trap 'rm -rf "$rootfs"' RETURN
  echo "building $repo:$recipe_hash (debootstrap $suite)"
  debootstrap --variant=minbase --include="$packages" "$suite" "$rootfs" "$mirror" >"/var/tmp/debootstrap-$release.log" 2>&1 \
    || { tail -20 "/var/tmp/debootstrap-$release.log"; exit 1; }
  echo "deb $mirror $suite main" > "$rootfs/etc/apt/sources.list"
  # A container has no consoles or kernel to configure: mask the units that would only fail.
  for unit in getty.target systemd-firstboot.service systemd-udevd.service systemd-modules-load.service \
              sys-kernel-config.mount sys-kernel-debug.mount sys-kernel-tracing.mount; do
    ln -sf /dev/null "$rootfs/etc/systemd/system/$unit"
  done
  printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' > "$rootfs/etc/apt/apt.conf.d/90-no-recommends"
  # Package lists stay, as on an installed host, so apt can install without an update first.
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb
  tar -C "$rootfs" -c . | docker import \
    --change 'CMD ["/sbin/init"]' --change 'ENV container=docker' \
    --change "LABEL org.llmops.recipe=$recipe_hash" - "$repo:$recipe_hash" >/dev/null
  docker tag "$repo:$recipe_hash" "$repo:latest"
  echo "built $repo:$recipe_hash"
}

# Both at once: debootstrap mostly waits for the archive and the disk.
pids=()
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(debian12 debian13)
for target in "${targets[@]}"; do
  case $target in
    debian12) build debian12 bookworm & ;;
    debian13) build debian13 trixie & ;;
    *) echo "unknown image $target (known: debian12 debian13)" >&2; exit 2 ;;
  esac
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
exit $status

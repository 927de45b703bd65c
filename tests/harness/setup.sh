#!/usr/bin/env bash
# Prepares this machine for the demo and the tests: system packages, a running Docker engine,
# the pinned Python environment, the collection tree Ansible loads, and the test-host images.
# Safe to re-run: every step is skipped when already done.
#   setup.sh            all the demo needs (make setup, make demo): packages, then the virtualenv and the images at once
#   setup.sh packages   Debian packages and the Docker engine; with `tests`, also what only the tests use
#   setup.sh venv       .venv from requirements.txt and the collection link
#   setup.sh images     the test-host images (needs the packages)
# run_tests.py runs the three parts as steps of their own, the virtualenv beside the other two.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

packages() {
  local apt_packages=(docker.io debootstrap zstd rsync make git openssl) missing=() pkg
  # chromium renders the fleet report headless in the tests; ansible-lint runs shellcheck. The demo needs neither.
  if [ "${1:-}" = tests ]; then apt_packages+=(shellcheck chromium); fi
  for pkg in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  if ((${#missing[@]})); then
    log "installing system packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  if ! docker info >/dev/null 2>&1; then
    log "starting the Docker engine"
    nohup /usr/sbin/dockerd >/var/log/dockerd.log 2>&1 &
    for _ in $(seq 120); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
    docker info >/dev/null 2>&1 || die "dockerd did not start: see /var/log/dockerd.log"
  fi
}

venv() {
  # The interpreter the virtualenv is built from: never the virtualenv's own (lib.sh puts it first on PATH).
  local python="" candidate requirements_hash
  for candidate in "$HOME"/.pyenv/versions/3.12*/bin/python3.12 /usr/local/bin/python3.12 /usr/bin/python3.12; do
    if [ -x "$candidate" ]; then python=$candidate; break; fi
  done
  [ -n "$python" ] || die "Python 3.12 is needed for ansible-core 2.21: install it (pyenv install 3.12) and re-run"

  requirements_hash=$(sha256sum "$REPO_ROOT/requirements.txt" | cut -d' ' -f1)
  if [ "$(cat "$VENV/.requirements.sha256" 2>/dev/null)" != "$requirements_hash" ]; then
    log "installing the Python environment into .venv"
    rm -rf "$VENV"
    "$python" -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check -r "$REPO_ROOT/requirements.txt"
    echo "$requirements_hash" > "$VENV/.requirements.sha256"
  fi

  # Ansible loads the collection from ansible_collections/llmops/ollama: point that at this checkout.
  mkdir -p "$COLLECTIONS_DIR/ansible_collections/llmops"
  ln -sfn ../../../.. "$COLLECTIONS_DIR/ansible_collections/llmops/ollama"
}

images() {
  log "test-host images"
  "$REPO_ROOT/tests/harness/build-images.sh"
}

case ${1:-all} in
  packages) packages "${2:-}" ;;
  venv) venv ;;
  images) images ;;
  all)
    packages
    # Independent, and each mostly waits for the network or the disk.
    venv > >(sed 's/^/[venv] /') 2>&1 &
    venv_pid=$!
    images_status=0
    images || images_status=$?
    wait "$venv_pid" || die "the Python environment could not be installed (output above, lines marked [venv])"
    [ "$images_status" -eq 0 ] || die "the test-host images could not be built"
    ;;
  *) die "usage: $0 [packages|venv|images]" ;;
esac

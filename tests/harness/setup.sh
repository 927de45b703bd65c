#!/usr/bin/env bash
# Prepares this machine for the demo and the tests: system packages, a running Docker engine,
# the pinned Python environment, the collection tree Ansible loads, and the test-host images.
# Safe to re-run: every step is skipped when already done.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

# chromium renders the fleet report headless in its tests.
apt_packages=(docker.io debootstrap zstd rsync make git shellcheck openssl chromium)
missing=()
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
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || die "dockerd did not start: see /var/log/dockerd.log"
fi

# The interpreter the virtualenv is built from: never the virtualenv's own (lib.sh puts it first on PATH).
python=""
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

log "test-host images"
"$REPO_ROOT/tests/harness/build-images.sh"

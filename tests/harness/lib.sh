# Shared environment of the harness scripts: source it, don't run it.
# shellcheck shell=bash
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export REPO_ROOT
VENV="$REPO_ROOT/.venv"
COLLECTIONS_DIR="$REPO_ROOT/.ansible/collections"
export PATH="$VENV/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$COLLECTIONS_DIR"
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=true
export ANSIBLE_FORCE_COLOR=${ANSIBLE_FORCE_COLOR:-0}
export ANSIBLE_NOCOLOR=${ANSIBLE_NOCOLOR:-1}
export PY_COLORS=0
export ANSIBLE_HOST_KEY_CHECKING=false
export MOLECULE_NO_LOG=false

# With the seconds since the script started: where a slow run spends its time shows in its log.
log() { printf '\n==> [%ss] %s\n' "$SECONDS" "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

#!/usr/bin/env bash
# Runs ansible-test (sanity, and units when asked) on a physical copy of the collection:
# ansible-test refuses a symlinked ansible_collections tree.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
mode=${1:-sanity}
shift || true

workdir="$REPO_ROOT/build/ansible-test/ansible_collections/llmops/ollama"
mkdir -p "$workdir"
rsync -a --delete --exclude /.venv --exclude /.ansible --exclude /.git --exclude /build --exclude /tests/output \
  --exclude __pycache__ --exclude .pytest_cache "$REPO_ROOT/" "$workdir/"
# ansible-test builds its per-test virtual environments with a bootstrap it would otherwise download.
pip_version=$(python - <<'PY'
from types import SimpleNamespace
from ansible_test._internal.python_requirements import get_venv_packages
print(get_venv_packages(SimpleNamespace(version='3.12'))['pip'])
PY
)
mkdir -p "$HOME/.ansible/test/cache"
cp "$REPO_ROOT/tests/harness/get_pip_offline.py" "$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"

cd "$workdir"
# ansible-test lists the files to check through git.
[ -d .git ] || git init -q
git add -A
case $mode in
  sanity) ansible-test sanity --venv --requirements --python 3.12 --color no "$@" ;;
  units)  ansible-test units --venv --requirements --python 3.12 --color no "$@" ;;
  *) die "usage: $0 sanity|units [ansible-test args]" ;;
esac
